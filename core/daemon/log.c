// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum cn_log_level threshold = CN_LOG_INFO;
static const char *const names[] = {"error", "warning", "info", "debug"};

int cn_log_set_level(const char *name)
{
	for (int i = 0; i <= CN_LOG_DEBUG; i++)
		if (!strcmp(name, names[i])) {
			threshold = (enum cn_log_level)i;
			return 0;
		}
	return -1;
}

int cn_log_enabled(enum cn_log_level level)
{
	return level <= threshold;
}

static void emit(enum cn_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int head =
	    snprintf(line, sizeof(line), "cubenetd: %s%s", level == CN_LOG_INFO ? "" : names[level],
		     level == CN_LOG_INFO ? "" : ": ");
	int n = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	size_t len = (size_t)head + (n < 0 ? 0 : (size_t)n);

	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	while (len > (size_t)head && line[len - 1] == '\n')
		len--;
	for (size_t i = (size_t)head; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			line[i] = '?';
	line[len++] = '\n';
	/* One write: lines of concurrent threads do not interleave. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void cn_log(enum cn_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!cn_log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
}

static int from_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char text[900];

	(void)level;
	if (!cn_log_enabled(CN_LOG_DEBUG))
		return 0;
	vsnprintf(text, sizeof(text), fmt, ap);
	cn_log(CN_LOG_DEBUG, "libbpf: %s", text);
	return 0;
}

void cn_log_take_libbpf(void)
{
	libbpf_set_print(from_libbpf);
}
