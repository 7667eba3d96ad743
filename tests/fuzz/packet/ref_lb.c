// SPDX-License-Identifier: Apache-2.0
/*
 * The L2DSR chain's rules:
 *
 *  classifier: an IP packet's (destination, protocol, destination port or 0
 *  without L4) against the VIPs: the exact port and the packet's outer VID
 *  first, then the exact port on any VLAN, then the VIP's every-port entry
 *  the same two ways; a VID is tried only if some VIP has one, the
 *  every-port entry only if some VIP has one. Anything else (not IP, no
 *  VIP) is passed to the kernel untouched.
 *  maglev: the flow hash (or the source address's hash for client
 *  affinity) modulo the ring's size picks the slot of the VIP's table.
 *  l2rewrite: the backend's VLAN action on the outer tag (set: rewrite its
 *  VID keeping priority and DEI, or push a tag if there is none; pop: take
 *  it off), then its destination MAC (and source MAC, if it has one), then
 *  transmit.
 *
 * Where the hooks differ: TC keeps a pushed tag out of band, and after a
 * pop holds the next tag out of band (the kernel's skb_vlan_pop), so
 * neither is in the bytes a TC test run gives back.
 *
 * The metadata the chain leaves describes the frame it sends (abi/meta.h):
 * the service and backend chosen, the outer VID and where the outer tag is
 * (in the data, or out of band on TC), whether a second tag follows, and
 * the offsets and length moved by what moved in the data.
 */
#include <arpa/inet.h>
#include <string.h>
#include "ref_lb.h"
#include "ref_parse.h"
#include "lib/hash.h"
#include "lib/abi/classifier.h"
#include "lib/abi/l2rewrite.h"
#include "lib/abi/maglev.h"

static int is_tpid(const uint8_t *p)
{
	return (p[0] == 0x81 && p[1] == 0x00) || (p[0] == 0x88 && p[1] == 0xa8);
}

static const struct ref_vip *lookup(const struct ref_lb_config *cfg, const struct cube_meta *m,
				    uint16_t port, uint16_t vlan)
{
	for (size_t i = 0; i < cfg->n_vips; i++) {
		const struct ref_vip *v = &cfg->vips[i];

		if (v->family == m->ip_version && v->proto == m->l4_proto && v->port == port &&
		    v->vlan == vlan && !memcmp(&v->addr, &m->daddr, sizeof(v->addr)))
			return v;
	}
	return NULL;
}

static const struct ref_vip *classify(const struct ref_lb_config *cfg, const struct cube_meta *m)
{
	uint16_t port = (m->flags & CUBE_META_F_L4) ? ntohs(m->dport) : 0;
	int vlans = (cfg->classifier_flags & CLASSIFIER_CFG_VLAN_KEYS) && m->vlan_id;
	const struct ref_vip *v = NULL;

	for (int wide = 0; wide < 2 && !v; wide++) {
		uint16_t p = wide ? 0 : port;

		if (wide && (!port || !(cfg->classifier_flags & CLASSIFIER_CFG_WILDCARD_PORT)))
			break;
		if (vlans)
			v = lookup(cfg, m, p, m->vlan_id);
		if (!v)
			v = lookup(cfg, m, p, 0);
	}
	return v;
}

static const struct ref_backend *backend(const struct ref_lb_config *cfg, uint32_t id)
{
	for (size_t i = 0; i < cfg->n_backends; i++)
		if (cfg->backends[i].id == id)
			return &cfg->backends[i];
	return NULL;
}

/* Remove n bytes at off. */
static void cut(struct ref_lb_result *res, size_t off, size_t n)
{
	memmove(res->out + off, res->out + off + n, res->out_len - off - n);
	res->out_len -= n;
}

static void rewrite(const struct ref_backend *b, enum cube_hook hook, struct ref_lb_result *res)
{
	uint8_t *f = res->out;
	struct cube_meta *m = &res->meta;
	size_t before = res->out_len;
	int tagged = is_tpid(f + 12), moved;

	switch (b->vlan_action) {
	case L2REWRITE_VLAN_SET:
		if (tagged) {
			f[14] = (uint8_t)((f[14] & 0xf0) | (b->vlan_id >> 8 & 0x0f));
			f[15] = (uint8_t)b->vlan_id;
		} else if (hook == CUBE_HOOK_XDP) {
			memmove(f + 16, f + 12, res->out_len - 12);
			f[12] = 0x81;
			f[13] = 0x00;
			f[14] = (uint8_t)(b->vlan_id >> 8 & 0x0f);
			f[15] = (uint8_t)b->vlan_id;
			res->out_len += 4;
		} else {
			m->flags |= CUBE_META_F_VLAN_HWACCEL;
		}
		m->flags |= CUBE_META_F_VLAN;
		m->vlan_id = b->vlan_id;
		break;
	case L2REWRITE_VLAN_POP:
		if (!tagged)
			break;
		cut(res, 12, 4);
		if (m->flags & CUBE_META_F_QINQ) {
			/* The inner tag is the outer one now. */
			m->flags &= (uint16_t)~CUBE_META_F_QINQ;
			m->vlan_id = m->vlan_inner;
			m->vlan_inner = 0;
		} else {
			m->flags &= (uint16_t)~CUBE_META_F_VLAN;
			m->vlan_id = 0;
		}
		if (hook == CUBE_HOOK_TC && is_tpid(f + 12)) {
			cut(res, 12, 4);
			m->flags |= CUBE_META_F_VLAN_HWACCEL;
		}
		break;
	default:
		break;
	}
	moved = (int)res->out_len - (int)before;
	m->l3_off = (uint16_t)(m->l3_off + moved);
	m->l4_off = (uint16_t)(m->l4_off + moved);
	m->pkt_len = (uint32_t)((int)m->pkt_len + moved);
	memcpy(f, b->mac, 6);
	if (b->smac)
		memcpy(f + 6, b->smac, 6);
}

void ref_lb(const struct ref_lb_config *cfg, enum cube_hook hook, const uint8_t *frame, size_t len,
	    uint32_t ifindex, struct ref_lb_result *res)
{
	struct cube_meta m;
	const struct ref_vip *v;
	const struct ref_backend *b;
	uint32_t hash;

	memset(res, 0, sizeof(*res));
	memcpy(res->out, frame, len);
	res->out_len = len;
	res->backend_id = CUBE_NO_BACKEND;
	res->reason = ref_parse(frame, len, ifindex, &res->meta);
	m = res->meta;
	if (res->reason) {
		res->verdict = REF_LB_DROP;
		return;
	}
	v = m.ip_version ? classify(cfg, &m) : NULL;
	if (!v) {
		res->verdict = REF_LB_PASS;
		return;
	}
	res->service_id = v->service_id;
	hash = (v->flags & MAGLEV_SVC_F_HASH_SRC) ? cube_source_hash(m.ip_version, &m.saddr)
						  : m.flow_hash;
	res->backend_id = v->ring[hash % v->ring_size];
	b = backend(cfg, res->backend_id);
	if (!b) {
		/* The fixture gives every ring slot a backend of the VIP. */
		res->verdict = REF_LB_DROP;
		res->reason = CUBE_DROP_NO_L2_TARGET;
		return;
	}
	res->meta.service_id = res->service_id;
	res->meta.backend_id = res->backend_id;
	res->meta.flags |= CUBE_META_F_BACKEND;
	rewrite(b, hook, res);
	res->verdict = REF_LB_TX;
}
