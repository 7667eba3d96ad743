// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "lb_chain.h"
#include "maglev.h"
#include "maglev_map.h"

static int load_one(struct cube **out, const char *type, enum cube_hook hook, uint32_t id,
		    const struct cube_shared *shared, const uint32_t *miss_verdict)
{
	int err = cube_open(out, type, hook, id);

	if (err)
		return err;
	if (miss_verdict)
		err = cube_set_const(*out, "classifier_miss", miss_verdict, sizeof(*miss_verdict));
	if (!err)
		err = cube_load(*out, shared);
	if (err) {
		cube_destroy(*out);
		*out = NULL;
	}
	return err;
}

int lb_chain_build(struct lb_chain *lb, enum cube_hook hook, uint32_t miss_verdict,
		   const struct cube_shared *shared, uint32_t first_id)
{
	int err;

	memset(lb, 0, sizeof(*lb));
	lb->hook = hook;
	err = load_one(&lb->parser, "parser", hook, first_id, shared, NULL);
	if (!err)
		err = load_one(&lb->classifier, "classifier", hook, first_id + 1, shared,
			       &miss_verdict);
	if (!err)
		err = load_one(&lb->maglev, "maglev", hook, first_id + 2, shared, NULL);
	if (!err)
		err = load_one(&lb->l2rewrite, "l2rewrite", hook, first_id + 3, shared, NULL);
	/* Wire back to front, so no cube is reachable before what follows it. */
	if (!err)
		err = cube_connect_port(lb->l2rewrite, L2REWRITE_PORT_OUT, CUBE_PORT_TX, 0);
	if (!err)
		err = cube_connect_cube(lb->maglev, MAGLEV_PORT_OUT, lb->l2rewrite);
	if (!err)
		err = cube_connect_cube(lb->classifier, CLASSIFIER_PORT_HIT, lb->maglev);
	if (!err)
		err = cube_connect_cube(lb->parser, 0, lb->classifier);
	if (err)
		lb_chain_destroy(lb);
	return err;
}

void lb_chain_destroy(struct lb_chain *lb)
{
	cube_destroy(lb->parser);
	cube_destroy(lb->classifier);
	cube_destroy(lb->maglev);
	cube_destroy(lb->l2rewrite);
	lb->parser = lb->classifier = lb->maglev = lb->l2rewrite = NULL;
}

int lb_add_vip(struct lb_chain *lb, union cube_addr vip, uint8_t family, uint16_t port,
	       uint8_t proto, uint16_t vlan, uint32_t service_id)
{
	struct classifier_key key = {
	    .vip = vip, .port = htons(port), .proto = proto, .family = family, .vlan_id = vlan};
	struct classifier_value val = {.service_id = service_id};

	return bpf_map_update_elem(cube_map_fd(lb->classifier, "classifier_services"), &key, &val,
				   BPF_ANY)
		   ? -errno
		   : 0;
}

int lb_set_cfg(struct lb_chain *lb, uint32_t classifier_flags)
{
	struct classifier_cfg cfg = {.flags = classifier_flags};
	uint32_t zero = 0;

	return bpf_map_update_elem(cube_map_fd(lb->classifier, "classifier_cfg"), &zero, &cfg,
				   BPF_ANY)
		   ? -errno
		   : 0;
}

int lb_set_service(struct lb_chain *lb, uint32_t service_id, uint32_t flags)
{
	struct maglev_service svc = {.flags = flags};

	return bpf_map_update_elem(cube_map_fd(lb->maglev, "maglev_services"), &service_id, &svc,
				   BPF_ANY)
		   ? -errno
		   : 0;
}

int lb_set_backend(struct lb_chain *lb, uint32_t backend_id, uint32_t state, const uint8_t mac[6],
		   const uint8_t *smac, uint8_t vlan_action, uint16_t vlan_id)
{
	struct maglev_backend b = {.state = state};
	struct l2rewrite_target t = {
	    .vlan_id = vlan_id, .vlan_action = vlan_action, .flags = L2REWRITE_F_VALID};

	memcpy(t.dmac, mac, sizeof(t.dmac));
	if (smac) {
		memcpy(t.smac, smac, sizeof(t.smac));
		t.flags |= L2REWRITE_F_SET_SMAC;
	}
	if (bpf_map_update_elem(cube_map_fd(lb->maglev, "maglev_backends"), &backend_id, &b,
				BPF_ANY))
		return -errno;
	if (bpf_map_update_elem(cube_map_fd(lb->l2rewrite, "l2rewrite_targets"), &backend_id, &t,
				BPF_ANY))
		return -errno;
	return 0;
}

int lb_install_ring(struct lb_chain *lb, uint32_t service_id, const uint32_t *ids,
		    const uint32_t *weights, size_t n, uint32_t size, uint32_t *table_out)
{
	struct maglev_backend_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	uint32_t *table = calloc(size ? size : 1, sizeof(*table));
	int err = -ENOMEM;

	if (!specs || !table)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		specs[i].id = ids[i];
		specs[i].weight = weights ? weights[i] : 1;
		specs[i].key_len =
		    (size_t)snprintf((char *)specs[i].key, MAGLEV_KEY_MAX, "backend-%u", ids[i]);
	}
	err = maglev_build(specs, n, size, table);
	if (err)
		goto cleanup;
	if (table_out)
		memcpy(table_out, table, size * sizeof(*table));
	err = maglev_ring_install(cube_map_fd(lb->maglev, "maglev_rings"), service_id, table, size);
cleanup:
	free(specs);
	free(table);
	return err;
}
