// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lb_fixture.h"
#include "lb_maps.h"

static int load_one(struct cube **out, const char *type, enum cube_hook hook, uint32_t id,
		    const struct cube_shared *shared, const uint32_t *miss)
{
	int err = cube_open(out, type, hook, id);

	if (!err && miss)
		err = cube_set_const(*out, "classifier_miss", miss, sizeof(*miss));
	if (!err)
		err = cube_load(*out, shared);
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
	if (!err)
		err = lb_chain_open(lb);
	if (err)
		lb_chain_destroy(lb);
	return err;
}

int lb_chain_open(struct lb_chain *lb)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(cube_map_fd(lb->maglev, "maglev_slots"), &info, &len))
		return -errno;
	return maglev_store_open(
	    &lb->store, cube_map_fd(lb->maglev, "maglev_services"),
	    cube_map_fd(lb->maglev, "maglev_slots"), cube_map_fd(lb->maglev, "maglev_backends"),
	    info.max_entries * MAGLEV_SLOTS_PER_ENTRY, MAGLEV_DEFAULT_SERVICES);
}

void lb_chain_destroy(struct lb_chain *lb)
{
	if (lb->store.rings)
		maglev_store_close(&lb->store);
	map_txn_free(&lb->txn);
	cube_destroy(lb->parser);
	cube_destroy(lb->classifier);
	cube_destroy(lb->maglev);
	cube_destroy(lb->l2rewrite);
	lb->parser = lb->classifier = lb->maglev = lb->l2rewrite = NULL;
}

/* Every write is its own committed transaction here. */
static int done(struct lb_chain *lb, int err)
{
	if (err) {
		map_txn_abort(&lb->txn);
		maglev_store_abort(&lb->store);
	} else {
		map_txn_commit(&lb->txn);
		maglev_store_commit(&lb->store);
	}
	return err;
}

int lb_add_vip(struct lb_chain *lb, union cube_addr vip, uint8_t family, uint16_t port,
	       uint8_t proto, uint16_t vlan, uint32_t service_id)
{
	struct classifier_key key = lb_vip_key(&vip, family, port, proto, vlan);
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
	return done(lb, maglev_store_set_flags(&lb->store, &lb->txn, service_id, flags, 0));
}

int lb_set_backend(struct lb_chain *lb, uint32_t backend_id, uint32_t state, const uint8_t mac[6],
		   const uint8_t *smac, uint8_t vlan_action, uint16_t vlan_id)
{
	struct l2rewrite_target t = lb_backend_target(mac, smac, vlan_action, vlan_id);
	struct maglev_backend b = {.state = state, .service_id = UINT32_MAX};

	if (backend_id < sizeof(lb->states) / sizeof(lb->states[0])) {
		lb->states[backend_id] = state;
		if (lb->owners[backend_id])
			b.service_id = lb->owners[backend_id] - 1; /* still that service's */
	}
	if (bpf_map_update_elem(cube_map_fd(lb->maglev, "maglev_backends"), &backend_id, &b,
				BPF_ANY) ||
	    bpf_map_update_elem(cube_map_fd(lb->l2rewrite, "l2rewrite_targets"), &backend_id, &t,
				BPF_ANY))
		return -errno;
	return 0;
}

int lb_install_ring(struct lb_chain *lb, uint32_t service_id, const uint32_t *ids,
		    const uint32_t *weights, size_t n, uint32_t size, uint32_t *table_out)
{
	struct maglev_backend_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	struct maglev_service desc = {0};
	uint32_t *table = NULL;
	int err = specs ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !err; i++) {
		char name[32];
		uint32_t state = ids[i] < sizeof(lb->states) / sizeof(lb->states[0])
				     ? lb->states[ids[i]]
				     : MAGLEV_BACKEND_ACTIVE;

		snprintf(name, sizeof(name), "be%u", ids[i]);
		lb_backend_spec(&specs[i], ids[i], name, weights ? weights[i] : 1);
		err = maglev_store_set_backend(&lb->store, &lb->txn, ids[i], service_id,
					       state ? state : MAGLEV_BACKEND_ACTIVE);
		if (ids[i] < sizeof(lb->owners) / sizeof(lb->owners[0]))
			lb->owners[ids[i]] = service_id + 1;
	}
	/* Keep the flags the service has. */
	if (!err) {
		struct maglev_service have;

		if (!bpf_map_lookup_elem(cube_map_fd(lb->maglev, "maglev_services"), &service_id,
					 &have))
			desc.flags = have.flags;
		err = maglev_store_build(specs, n, &size, &table);
	}
	if (!err && table_out)
		memcpy(table_out, table, size * sizeof(*table));
	if (!err)
		err = maglev_store_set_table(&lb->store, &lb->txn, service_id, &desc, table, size);
	free(specs);
	free(table);
	return done(lb, err);
}
