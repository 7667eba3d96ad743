/* SPDX-License-Identifier: Apache-2.0 */
/* Where cubenetd serves its API unless told otherwise: the daemon listens
 * there and cubectl, the CNI plugin and the node agent call there. */
#ifndef CUBENET_CUBENETD_SOCKET_H
#define CUBENET_CUBENETD_SOCKET_H

#define CUBENETD_SOCKET "/run/cubenet/cubenetd.sock"

#endif
