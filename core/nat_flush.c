// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "nat_flush.h"
#include "lib/abi/nat.h"

/* Entries read per batch lookup. */
#define FLUSH_BATCH 4096

struct key_list {
	struct nat_tuple *keys;
	size_t n, cap;
};

static int key_list_add(struct key_list *l, const struct nat_tuple *key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct nat_tuple *keys = realloc(l->keys, cap * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		l->keys = keys;
		l->cap = cap;
	}
	l->keys[l->n++] = *key;
	return 0;
}

static int addr_eq(const union cube_addr *a, const union cube_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int addr_zero(const union cube_addr *a)
{
	static const union cube_addr zero;

	return addr_eq(a, &zero);
}

static int is_port_proto(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* The address and port match the filter's (port 0 in it: any). */
static int matches(const union cube_addr *addr, uint16_t port_be, const union cube_addr *want,
		   uint16_t want_port, uint8_t proto)
{
	if (!addr_eq(addr, want))
		return 0;
	return !want_port || !is_port_proto(proto) || ntohs(port_be) == want_port;
}

static int service_matches(const struct nat_flush_filter *f, const union cube_addr *addr,
			   uint16_t port_be)
{
	if (addr_zero(&f->service_addr))
		return 1;
	return matches(addr, port_be, &f->service_addr, f->service_port, f->proto);
}

/*
 * Sort one entry. An original direction rewritten to the endpoint, with
 * its destination changed (DNAT), goes with its reply's key; a reply
 * direction from the endpoint whose source is changed back goes with its
 * original's key.
 */
static int classify(const struct nat_tuple *k, const struct nat_conn *v,
		    const struct nat_flush_filter *f, struct key_list *orig, struct key_list *reply)
{
	int err;

	if (k->family != f->family || k->proto != f->proto)
		return 0;
	if (!(v->flags & NAT_CONN_F_REPLY)) {
		int dnat = !addr_eq(&v->rewrite.daddr, &k->daddr) || v->rewrite.dport != k->dport;

		if (!dnat ||
		    !matches(&v->rewrite.daddr, v->rewrite.dport, &f->addr, f->port, k->proto) ||
		    !service_matches(f, &k->daddr, k->dport))
			return 0;
		err = key_list_add(orig, k);
		return err ? err : key_list_add(reply, &v->twin);
	}
	int undone = !addr_eq(&v->rewrite.saddr, &k->saddr) || v->rewrite.sport != k->sport;

	if (!undone || !matches(&k->saddr, k->sport, &f->addr, f->port, k->proto) ||
	    !service_matches(f, &v->rewrite.saddr, v->rewrite.sport))
		return 0;
	err = key_list_add(orig, &v->twin);
	return err ? err : key_list_add(reply, k);
}

/* Delete every key of l; one already gone (deleted as the other side's
 * twin, or taken by the LRU) is skipped. */
static int delete_all(int fd, const struct key_list *l, uint32_t *deleted)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;

	while (done < l->n) {
		__u32 count = (__u32)(l->n - done);
		int err = bpf_map_delete_batch(fd, l->keys + done, &count, &opts);

		*deleted += count;
		done += count;
		if (!err)
			break;
		if (errno != ENOENT)
			return -errno;
		done++; /* the key that was gone */
	}
	return 0;
}

static int check_table(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if ((info.type != BPF_MAP_TYPE_LRU_HASH && info.type != BPF_MAP_TYPE_HASH) ||
	    info.key_size != sizeof(struct nat_tuple) || info.value_size != sizeof(struct nat_conn))
		return -EINVAL;
	return 0;
}

static int filter_ok(const struct nat_flush_filter *f)
{
	const union cube_addr *a[2] = {&f->addr, &f->service_addr};

	if ((f->family != CUBE_AF_INET && f->family != CUBE_AF_INET6) || !f->proto ||
	    addr_zero(&f->addr))
		return 0;
	for (int i = 0; i < 2 && f->family == CUBE_AF_INET; i++)
		if (a[i]->ip6[1] || a[i]->ip6[2] || a[i]->ip6[3])
			return 0; /* an IPv4 address has nothing past its first word */
	return 1;
}

int nat_flush_endpoint(int conns_fd, const struct nat_flush_filter *f, uint32_t *deleted)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct key_list orig = {0}, reply = {0};
	struct nat_tuple *keys = NULL;
	struct nat_conn *vals = NULL;
	uint32_t n_deleted = 0, token = 0;
	int err, first = 1;

	if (conns_fd < 0)
		return -EBADF;
	if (!f || !filter_ok(f))
		return -EINVAL;
	err = check_table(conns_fd);
	if (err)
		return err;
	keys = calloc(FLUSH_BATCH, sizeof(*keys));
	vals = calloc(FLUSH_BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Collect first, delete after: deleting while walking skips entries. */
	for (;;) {
		__u32 count = FLUSH_BATCH;
		int rc = bpf_map_lookup_batch(conns_fd, first ? NULL : &token, &token, keys, vals,
					      &count, &opts);
		int end = rc && errno == ENOENT;

		if (rc && !end) {
			err = -errno;
			goto cleanup;
		}
		first = 0;
		for (__u32 i = 0; i < count; i++) {
			err = classify(&keys[i], &vals[i], f, &orig, &reply);
			if (err)
				goto cleanup;
		}
		if (end)
			break;
	}
	err = delete_all(conns_fd, &orig, &n_deleted);
	if (!err)
		err = delete_all(conns_fd, &reply, &n_deleted);
cleanup:
	if (deleted)
		*deleted = n_deleted;
	free(orig.keys);
	free(reply.keys);
	free(keys);
	free(vals);
	return err;
}
