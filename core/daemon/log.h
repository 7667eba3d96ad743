/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubenetd's log: one line per thing done or failed, on stderr, at or above
 * the level chosen with --log-level. libbpf's own messages (the kernel's
 * refusals it relays, its notes on loading) are details the daemon's own
 * lines already sum up: they go out at debug.
 */
#ifndef CUBENETD_LOG_H
#define CUBENETD_LOG_H

enum cn_log_level { CN_LOG_ERROR, CN_LOG_WARNING, CN_LOG_INFO, CN_LOG_DEBUG };

/* "error", "warning", "info" or "debug"; 0, or -1 for anything else. */
int cn_log_set_level(const char *name);
int cn_log_enabled(enum cn_log_level level);
/* One line; bytes that are not printable ASCII (a hostile request's path
 * or value) are written as '?', so a line cannot forge another. */
void cn_log(enum cn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* libbpf's messages through cn_log, at debug. */
void cn_log_take_libbpf(void);

#endif
