/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's log: one line per event on stderr, "LEVEL message", with the
 * object's namespace/name in the message when there is one. */
#ifndef CUBENET_AGENT_LOG_H
#define CUBENET_AGENT_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void agent_log(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) agent_log(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  agent_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)  agent_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) agent_log(LOG_DEBUG, __VA_ARGS__)

#endif
