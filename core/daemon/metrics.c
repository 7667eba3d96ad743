// SPDX-License-Identifier: Apache-2.0
/* The runtime's counters in Prometheus text exposition format (/metrics). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "runtime.h"

struct text {
	char *buf;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
		char *b = realloc(t->buf, cap);

		if (!b)
			return;
		t->buf = b;
		t->cap = cap;
	}
}

char *runtime_metrics(struct runtime *rt)
{
	struct text t = {0};

	text_add(&t, "# HELP cubenet_cube_rx_packets_total Packets a cube received.\n"
		     "# TYPE cubenet_cube_rx_packets_total counter\n");
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;

		if (!cube_read_stats(rt->cubes[i].cube, &st))
			text_add(&t,
				 "cubenet_cube_rx_packets_total{cube=\"%s\",type=\"%s\"} %llu\n",
				 rt->cubes[i].name, rt->cubes[i].cube->type->name,
				 (unsigned long long)st.rx_packets);
	}
	text_add(&t, "# HELP cubenet_cube_rx_bytes_total Bytes a cube received.\n"
		     "# TYPE cubenet_cube_rx_bytes_total counter\n");
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;

		if (!cube_read_stats(rt->cubes[i].cube, &st))
			text_add(&t, "cubenet_cube_rx_bytes_total{cube=\"%s\"} %llu\n",
				 rt->cubes[i].name, (unsigned long long)st.rx_bytes);
	}
	text_add(&t, "# HELP cubenet_cube_verdict_packets_total Packets per verdict.\n"
		     "# TYPE cubenet_cube_verdict_packets_total counter\n");
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;

		if (cube_read_stats(rt->cubes[i].cube, &st))
			continue;
		for (int v = 0; v < CUBE_VERDICT_MAX; v++)
			text_add(&t,
				 "cubenet_cube_verdict_packets_total{cube=\"%s\",verdict=\"%s\"} "
				 "%llu\n",
				 rt->cubes[i].name, cube_verdict_name(v),
				 (unsigned long long)st.verdict[v]);
	}
	text_add(&t, "# HELP cubenet_cube_port_packets_total Packets forwarded out of a port.\n"
		     "# TYPE cubenet_cube_port_packets_total counter\n");
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;

		if (cube_read_stats(rt->cubes[i].cube, &st))
			continue;
		for (int p = 0; p < CUBE_MAX_PORTS; p++)
			if (st.port_out[p] || rt->cubes[i].ports[p].kind)
				text_add(&t,
					 "cubenet_cube_port_packets_total{cube=\"%s\",port=\"%d\"} "
					 "%llu\n",
					 rt->cubes[i].name, p, (unsigned long long)st.port_out[p]);
	}
	text_add(&t, "# HELP cubenet_cube_drop_packets_total Drops per documented reason.\n"
		     "# TYPE cubenet_cube_drop_packets_total counter\n");
	for (size_t i = 0; i < rt->n_cubes; i++) {
		struct cube_stats st;

		if (cube_read_stats(rt->cubes[i].cube, &st))
			continue;
		for (int r = 1; r < CUBE_DROP_MAX; r++)
			if (st.drop[r])
				text_add(
				    &t,
				    "cubenet_cube_drop_packets_total{cube=\"%s\",reason=\"%s\"} "
				    "%llu\n",
				    rt->cubes[i].name, cube_drop_reason_name(r),
				    (unsigned long long)st.drop[r]);
	}
	return t.buf;
}
