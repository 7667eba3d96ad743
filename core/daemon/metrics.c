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

/* One family header, then a sample per cube whose counters could be read. */
#define FAMILY(t, name, help) text_add(t, "# HELP " name " " help "\n# TYPE " name " counter\n")

char *runtime_metrics(struct runtime *rt)
{
	struct cube_stats *st = calloc(rt->n_cubes ? rt->n_cubes : 1, sizeof(*st));
	int *ok = calloc(rt->n_cubes ? rt->n_cubes : 1, sizeof(*ok));
	struct text t = {0};

	if (!st || !ok)
		goto out;
	/* Each cube's per-CPU counters are read once, then rendered by family. */
	for (size_t i = 0; i < rt->n_cubes; i++)
		ok[i] = !cube_read_stats(rt->cubes[i].cube, &st[i]);

	FAMILY(&t, "cubenet_cube_rx_packets_total", "Packets a cube received.");
	for (size_t i = 0; i < rt->n_cubes; i++)
		if (ok[i])
			text_add(&t,
				 "cubenet_cube_rx_packets_total{cube=\"%s\",type=\"%s\"} %llu\n",
				 rt->cubes[i].name, rt->cubes[i].cube->type->name,
				 (unsigned long long)st[i].rx_packets);
	FAMILY(&t, "cubenet_cube_rx_bytes_total", "Bytes a cube received.");
	for (size_t i = 0; i < rt->n_cubes; i++)
		if (ok[i])
			text_add(&t, "cubenet_cube_rx_bytes_total{cube=\"%s\"} %llu\n",
				 rt->cubes[i].name, (unsigned long long)st[i].rx_bytes);
	FAMILY(&t, "cubenet_cube_verdict_packets_total", "Packets per verdict.");
	for (size_t i = 0; i < rt->n_cubes; i++)
		for (int v = 0; ok[i] && v < CUBE_VERDICT_MAX; v++)
			text_add(
			    &t,
			    "cubenet_cube_verdict_packets_total{cube=\"%s\",verdict=\"%s\"} %llu\n",
			    rt->cubes[i].name, cube_verdict_name(v),
			    (unsigned long long)st[i].verdict[v]);
	FAMILY(&t, "cubenet_cube_port_packets_total", "Packets forwarded out of a port.");
	for (size_t i = 0; i < rt->n_cubes; i++)
		for (int p = 0; ok[i] && p < CUBE_MAX_PORTS; p++)
			if (st[i].port_out[p] || rt->cubes[i].ports[p].kind)
				text_add(&t,
					 "cubenet_cube_port_packets_total{cube=\"%s\",port=\"%d\"} "
					 "%llu\n",
					 rt->cubes[i].name, p,
					 (unsigned long long)st[i].port_out[p]);
	FAMILY(&t, "cubenet_cube_drop_packets_total", "Drops per documented reason.");
	for (size_t i = 0; i < rt->n_cubes; i++)
		for (int r = 1; ok[i] && r < CUBE_DROP_MAX; r++)
			if (st[i].drop[r])
				text_add(&t,
					 "cubenet_cube_drop_packets_total{cube=\"%s\",reason=\"%"
					 "s\"} %llu\n",
					 rt->cubes[i].name, cube_drop_reason_name(r),
					 (unsigned long long)st[i].drop[r]);
	text_add(&t, "# HELP cubenet_attachment_applied Whether a chain is on its netdev (0: the "
		     "netdev is missing, retried).\n# TYPE cubenet_attachment_applied gauge\n");
	for (size_t i = 0; i < rt->live.n_attachments; i++)
		text_add(
		    &t, "cubenet_attachment_applied{netdev=\"%s\",mode=\"%s\",cube=\"%s\"} %d\n",
		    rt->live.attachments[i].netdev, attach_mode_name(rt->live.attachments[i].mode),
		    rt->live.attachments[i].cube, rt->live.attachments[i].applied);
	for (size_t i = 0; i < service_count(); i++)
		if (service_at(i)->metrics) {
			char *more = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&more, &len);

			if (!f)
				continue;
			service_at(i)->metrics(rt, f);
			fclose(f);
			if (more)
				text_add(&t, "%s", more);
			free(more);
		}
out:
	free(st);
	free(ok);
	return t.buf;
}
