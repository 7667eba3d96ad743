/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer, always NUL-terminated. */
#ifndef CUBENET_AGENT_BUF_H
#define CUBENET_AGENT_BUF_H

#include <stdlib.h>
#include <string.h>

struct buf {
	char *data;
	size_t len, cap;
};

/* 0, or -1 when memory ran out (the buffer is unchanged). */
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Drop the first n bytes. */
static inline void buf_consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	if (b->data)
		b->data[b->len] = '\0';
}

static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static inline void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

#endif
