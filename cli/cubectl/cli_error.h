/* SPDX-License-Identifier: Apache-2.0 */
/* cubectl's errors as values: a message and the exit code it ends with. */
#ifndef CUBECTL_CLI_ERROR_H
#define CUBECTL_CLI_ERROR_H

/* Exit codes, documented in cubectl(1). */
enum cubectl_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,      /* the daemon refused or failed the request */
	EXIT_USAGE = 2,	      /* bad command line, or a value the schema rejects */
	EXIT_NOT_FOUND = 3,   /* no such instance or entry */
	EXIT_CONFLICT = 4,    /* it exists already */
	EXIT_UNREACHABLE = 5, /* no daemon answered */
	EXIT_DENIED = 6,      /* the token was missing or wrong */
};

struct cli_error {
	int code; /* enum cubectl_exit */
	char msg[1024];
};

/* Record the error (the first one wins) and return -1. */
int cli_fail(struct cli_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
