/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One cubenetd per socket, state dir and bpffs dir. A second one would take
 * the socket (and unlink it on exit, leaving the first unreachable), save
 * over the first's config and collect its pins.
 */
#ifndef CUBENETD_INSTANCE_H
#define CUBENETD_INSTANCE_H

/*
 * Make the socket's directory and the state dir (0700) if missing and
 * insist that no one else can write them: what is created there as root
 * must not be swappable. Then take an exclusive lock on each of the three,
 * held until exit (the socket's on "<socket>.lock" beside it). 0, or -1
 * after saying why on stderr.
 */
int instance_claim(const char *socket_path, const char *state_dir, const char *bpffs);

#endif
