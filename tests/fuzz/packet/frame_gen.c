// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include "frame_gen.h"

struct reader {
	const uint8_t *p;
	size_t n;
};

/* The description's next byte; zeros once it runs out. */
static uint8_t u8(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t u16(struct reader *r)
{
	uint16_t hi = u8(r);

	return (uint16_t)(hi << 8 | u8(r));
}

struct frame {
	uint8_t *buf;
	size_t len, max;
};

/* Append n bytes (NULL: zeros); what does not fit is left out. */
static size_t put(struct frame *f, const void *src, size_t n)
{
	size_t at = f->len;

	if (n > f->max - f->len)
		n = f->max - f->len;
	if (src)
		memcpy(f->buf + f->len, src, n);
	else
		memset(f->buf + f->len, 0, n);
	f->len += n;
	return at;
}

static size_t put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	return put(f, b, 2);
}

static void set16(struct frame *f, size_t at, uint16_t v)
{
	if (at + 2 <= f->len) {
		f->buf[at] = (uint8_t)(v >> 8);
		f->buf[at + 1] = (uint8_t)v;
	}
}

static void set8(struct frame *f, size_t at, uint8_t v)
{
	if (at < f->len)
		f->buf[at] = v;
}

static uint8_t pick_proto(struct reader *r, int family)
{
	static const uint8_t common[] = {6, 17, 6, 17, 1, 58, 47, 132};
	uint8_t b = u8(r);

	if (b % 16 == 15)
		return u8(r); /* any protocol */
	if (b % 16 >= sizeof(common))
		return family == 4 ? 1 : 58;
	return common[b % sizeof(common)];
}

static void put_addr(struct frame *f, struct reader *r, const union cube_addr *hits, size_t n,
		     size_t bytes)
{
	uint8_t b = u8(r), a[16];

	if (n && b % 4 < 2) {
		put(f, hits[u8(r) % n].bytes, bytes);
		return;
	}
	for (size_t i = 0; i < bytes; i++)
		a[i] = u8(r);
	put(f, a, bytes);
}

static uint16_t pick_port(struct reader *r, const struct frame_targets *t)
{
	uint8_t b = u8(r);

	if (t->n_ports && b % 4 < 2)
		return t->ports[u8(r) % t->n_ports];
	return u16(r);
}

/* The L4 header and payload; returns their length. */
static size_t put_l4(struct frame *f, struct reader *r, const struct frame_targets *t,
		     uint8_t proto)
{
	size_t start = f->len, payload = u8(r) % 64, at;

	switch (proto) {
	case 6: { /* TCP: a data offset of 5, or with options */
		uint8_t words = u8(r) % 8 == 0 ? 5 + u8(r) % 11 : 5;

		put16(f, u16(r));
		put16(f, pick_port(r, t));
		put(f, NULL, 8);
		at = put(f, NULL, 2);
		set8(f, at, (uint8_t)(words << 4));
		set8(f, at + 1, u8(r));
		put(f, NULL, 6 + (words - 5) * 4u);
		break;
	}
	case 17: /* UDP: the length of what follows, mostly */
		put16(f, u16(r));
		put16(f, pick_port(r, t));
		at = put16(f, (uint16_t)(8 + payload));
		put(f, NULL, 2);
		if (u8(r) % 8 == 0)
			set16(f, at, u16(r));
		break;
	case 1:
	case 58: { /* ICMP, ICMPv6: echo of either, or another type */
		static const uint8_t types[] = {8, 0, 128, 129, 3, 135, 136, 11};
		uint8_t b = u8(r), type = b % 9 == 8 ? u8(r) : types[b % 8], code = u8(r);

		put(f, (uint8_t[]){type, code, 0, 0}, 4);
		put16(f, u16(r));
		put16(f, u16(r));
		break;
	}
	default:
		break;
	}
	for (size_t i = 0; i < payload; i++)
		put(f, (uint8_t[]){u8(r)}, 1);
	return f->len - start;
}

static void put_ipv4(struct frame *f, struct reader *r, const struct frame_targets *t)
{
	uint8_t words = u8(r) % 4 == 0 ? u8(r) % 11 : 0, proto = pick_proto(r, 4);
	uint16_t frag = u8(r) % 4 == 0 ? u16(r) : 0x4000; /* else DF only */
	size_t ip = put(f, NULL, 2), len;

	set8(f, ip, (uint8_t)(0x45 + words));
	put16(f, 0); /* total length, below */
	put16(f, u16(r));
	put16(f, frag);
	put(f, (uint8_t[]){64, proto, 0, 0}, 4);
	put_addr(f, r, NULL, 0, 4);
	put_addr(f, r, t->v4, t->n_v4, 4);
	put(f, NULL, words * 4u);
	len = f->len - ip;
	len += put_l4(f, r, t, proto);
	set16(f, ip + 2, u8(r) % 8 == 0 ? u16(r) : (uint16_t)len);
}

static void put_ipv6(struct frame *f, struct reader *r, const struct frame_targets *t)
{
	static const uint8_t ext[] = {0, 43, 60, 44, 51, 0, 60, 44};
	size_t ip = put(f, (uint8_t[]){0x60, 0, 0, 0}, 4), next_at, n_ext = u8(r) % 9;
	uint8_t proto = pick_proto(r, 6);

	put16(f, 0); /* payload length, below */
	next_at = put(f, NULL, 1);
	put(f, (uint8_t[]){64}, 1);
	put_addr(f, r, NULL, 0, 16);
	put_addr(f, r, t->v6, t->n_v6, 16);
	for (size_t i = 0; i < n_ext; i++) {
		uint8_t type = ext[u8(r) % sizeof(ext)], b = u8(r);
		/* Mostly short; sometimes long, up to the deepest offsets. */
		uint8_t units = b % 8 == 0 ? u8(r) : b % 3;
		size_t at, hlen;

		set8(f, next_at, type);
		hlen = type == 44   ? 8
		       : type == 51 ? ((size_t)units + 2) * 4
				    : ((size_t)units + 1) * 8;
		at = put(f, NULL, hlen);
		next_at = at;
		set8(f, at + 1, type == 44 ? 0 : units);
		if (type == 44 && u8(r) % 3 == 0)
			set16(f, at + 2, u16(r)); /* offset and M */
	}
	set8(f, next_at, proto);
	put_l4(f, r, t, proto);
	set16(f, ip + 4, u8(r) % 8 == 0 ? u16(r) : (uint16_t)(f->len - ip - 40));
}

size_t frame_gen(const uint8_t *desc, size_t size, const struct frame_targets *t, uint8_t *out,
		 size_t max)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	struct reader r = {desc, size};
	struct frame f = {out, 0, max};
	size_t type_at, tags = u8(&r) % 5;
	uint8_t kind;

	put(&f, macs, sizeof(macs));
	type_at = put(&f, NULL, 2);
	for (size_t i = 0; i < tags && i < 3; i++) {
		set16(&f, type_at, u8(&r) % 2 ? 0x88a8 : 0x8100);
		put16(&f, u16(&r)); /* PCP, DEI, VID */
		type_at = put(&f, NULL, 2);
	}
	kind = u8(&r) % 8;
	if (kind < 3) {
		set16(&f, type_at, 0x0800);
		put_ipv4(&f, &r, t);
	} else if (kind < 6) {
		set16(&f, type_at, 0x86dd);
		put_ipv6(&f, &r, t);
	} else if (kind == 6) {
		set16(&f, type_at, 0x0806);
		put(&f, (uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
		put(&f, NULL, 20);
	} else {
		set16(&f, type_at, u16(&r));
		put(&f, NULL, u8(&r));
	}
	/* Damage: a few bytes overwritten, the frame cut short. */
	for (uint8_t n = u8(&r) % 4 == 0 ? u8(&r) % 4 : 0; n && f.len; n--) {
		size_t at = u16(&r) % f.len;

		f.buf[at] = u8(&r);
	}
	if (u8(&r) % 6 == 0)
		f.len = u16(&r) % (f.len + 1);
	return f.len;
}
