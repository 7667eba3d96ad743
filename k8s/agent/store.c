// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reflector.h"
#include "store.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define HOSTNAME_LABEL	   "kubernetes.io/hostname"

void store_init(struct store *s, const char *node_name)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < KIND_COUNT; k++)
		s->objects[k] = json_object();
	s->slices_of = json_object();
	s->dirty = json_object();
	s->node_name = node_name;
}

void store_free(struct store *s)
{
	for (int k = 0; k < KIND_COUNT; k++)
		json_decref(s->objects[k]);
	json_decref(s->slices_of);
	json_decref(s->dirty);
}

/* Copy src[key] into dst when present. */
static void keep(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v && !json_is_null(v))
		json_object_set(dst, key, v);
}

static json_t *prune_meta(json_t *obj, const char *label)
{
	json_t *meta = json_object_get(obj, "metadata"), *out = json_object();
	json_t *labels = json_object_get(meta, "labels");

	keep(out, meta, "namespace");
	keep(out, meta, "name");
	if (label && json_object_get(labels, label)) {
		json_t *l = json_object();

		keep(l, labels, label);
		json_object_set_new(out, "labels", l);
	}
	return out;
}

json_t *store_prune(enum kind kind, json_t *obj)
{
	json_t *out = json_object();

	switch (kind) {
	case KIND_SERVICE: {
		static const char *const spec_fields[] = {
		    "type",
		    "clusterIP",
		    "clusterIPs",
		    "externalIPs",
		    "ports",
		    "sessionAffinity",
		    "sessionAffinityConfig",
		    "externalTrafficPolicy",
		    "internalTrafficPolicy",
		    "healthCheckNodePort",
		    "publishNotReadyAddresses",
		    "loadBalancerSourceRanges",
		};
		json_t *spec = json_object_get(obj, "spec"), *ps = json_object();
		json_t *lb = json_object_get(json_object_get(obj, "status"), "loadBalancer");

		json_object_set_new(out, "metadata", prune_meta(obj, NULL));
		for (size_t i = 0; i < sizeof(spec_fields) / sizeof(*spec_fields); i++)
			keep(ps, spec, spec_fields[i]);
		json_object_set_new(out, "spec", ps);
		if (lb)
			json_object_set_new(out, "status", json_pack("{sO}", "loadBalancer", lb));
		break;
	}
	case KIND_SLICE: {
		json_t *eps = json_object_get(obj, "endpoints"), *pe = json_array(), *ep;
		size_t i;

		json_object_set_new(out, "metadata", prune_meta(obj, SERVICE_NAME_LABEL));
		keep(out, obj, "addressType");
		keep(out, obj, "ports");
		json_array_foreach(eps, i, ep)
		{
			json_t *e = json_object(), *topo = json_object_get(ep, "topology");

			keep(e, ep, "addresses");
			keep(e, ep, "conditions");
			keep(e, ep, "nodeName");
			keep(e, ep, "zone");
			if (json_object_get(topo, HOSTNAME_LABEL)) {
				json_t *t = json_object();

				keep(t, topo, HOSTNAME_LABEL);
				json_object_set_new(e, "topology", t);
			}
			json_array_append_new(pe, e);
		}
		json_object_set_new(out, "endpoints", pe);
		break;
	}
	case KIND_NODE: {
		json_t *spec = json_object_get(obj, "spec"), *ps = json_object();
		json_t *status = json_object_get(obj, "status"), *pst = json_object();

		json_object_set_new(out, "metadata", prune_meta(obj, HOSTNAME_LABEL));
		keep(ps, spec, "podCIDR");
		keep(ps, spec, "podCIDRs");
		keep(pst, status, "addresses");
		json_object_set_new(out, "spec", ps);
		json_object_set_new(out, "status", pst);
		break;
	}
	default:
		break;
	}
	return out;
}

static int as_text(enum kind kind)
{
	return kind != KIND_NODE;
}

/* What the store keeps of a pruned object (a new reference). */
static json_t *stored(enum kind kind, json_t *obj)
{
	char *text;
	json_t *out;

	if (!as_text(kind))
		return json_incref(obj);
	text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	out = text ? json_string(text) : NULL;
	free(text);
	return out;
}

static json_t *tree(enum kind kind, json_t *kept)
{
	if (!kept)
		return NULL;
	return as_text(kind) ? json_loads(json_string_value(kept), 0, NULL) : json_incref(kept);
}

json_t *store_get(struct store *s, enum kind kind, const char *key)
{
	return tree(kind, json_object_get(s->objects[kind], key));
}

void store_mark(struct store *s, const char *service_key)
{
	if (!json_object_size(s->dirty) && !s->nodes_changed)
		s->first_change = monotonic_seconds();
	json_object_set_new(s->dirty, service_key, json_true());
}

/* The service a slice belongs to, "" when it names none. */
static void slice_service(json_t *slice, char *out, size_t size)
{
	json_t *meta = json_object_get(slice, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *svc =
	    json_string_value(json_object_get(json_object_get(meta, "labels"), SERVICE_NAME_LABEL));

	if (ns && svc && *svc)
		snprintf(out, size, "%s/%s", ns, svc);
	else
		snprintf(out, size, "%s", "");
}

static void index_slice(struct store *s, const char *key, json_t *slice, int add)
{
	char svc[512];
	json_t *set;

	slice_service(slice, svc, sizeof(svc));
	if (!svc[0])
		return;
	store_mark(s, svc);
	set = json_object_get(s->slices_of, svc);
	if (add) {
		if (!set) {
			set = json_object();
			json_object_set_new(s->slices_of, svc, set);
		}
		json_object_set_new(set, key, json_true());
	} else if (set) {
		json_object_del(set, key);
		if (!json_object_size(set))
			json_object_del(s->slices_of, svc);
	}
}

/* What about this node reaches every service: its name's hostname label
 * (the v1beta1 endpoints' topology names it). */
static int own_node_identity_changed(json_t *old, json_t *now)
{
	json_t *a = json_object_get(json_object_get(json_object_get(old, "metadata"), "labels"),
				    HOSTNAME_LABEL);
	json_t *b = json_object_get(json_object_get(json_object_get(now, "metadata"), "labels"),
				    HOSTNAME_LABEL);

	return !old || !now || !json_equal(a, b);
}

static void changed(struct store *s, enum kind kind, const char *key, json_t *old, json_t *now)
{
	switch (kind) {
	case KIND_SERVICE:
		store_mark(s, key);
		break;
	case KIND_SLICE:
		if (old)
			index_slice(s, key, old, 0);
		if (now)
			index_slice(s, key, now, 1);
		break;
	case KIND_NODE:
		if (!json_object_size(s->dirty) && !s->nodes_changed)
			s->first_change = monotonic_seconds();
		s->nodes_changed = 1;
		if (s->node_name && strcmp(key, s->node_name) == 0 &&
		    own_node_identity_changed(old, now))
			store_mark_all(s);
		break;
	default:
		break;
	}
}

void store_event(struct store *s, enum kind kind, enum event_type type, const char *key,
		 json_t *obj)
{
	json_t *old = json_object_get(s->objects[kind], key), *was, *keep;

	if (type == EV_DELETED) {
		if (!old)
			return;
		was = tree(kind, old);
		json_object_del(s->objects[kind], key);
		changed(s, kind, key, was, NULL);
		json_decref(was);
		return;
	}
	keep = stored(kind, obj);
	if (old && json_equal(old, keep)) {
		json_decref(keep); /* nothing the agent reads changed */
		return;
	}
	was = tree(kind, old);
	json_object_set_new(s->objects[kind], key, keep);
	changed(s, kind, key, was, obj);
	json_decref(was);
}

void store_replace(struct store *s, enum kind kind, json_t *objects)
{
	json_t *old = s->objects[kind], *now = json_object(), *v;
	const char *key;

	json_object_foreach(old, key, v)
	{
		if (!json_object_get(objects, key)) {
			json_t *was = tree(kind, v);

			changed(s, kind, key, was, NULL);
			json_decref(was);
		}
	}
	json_object_foreach(objects, key, v)
	{
		json_t *keep = stored(kind, v), *had = json_object_get(old, key);

		if (!had || !json_equal(had, keep)) {
			json_t *was = tree(kind, had);

			changed(s, kind, key, was, v);
			json_decref(was);
		}
		json_object_set_new(now, key, keep);
	}
	s->objects[kind] = now;
	json_decref(old);
	json_decref(objects);
}

static int by_name(const void *a, const void *b)
{
	char ka[512], kb[512];

	object_key(*(json_t *const *)a, ka, sizeof(ka));
	object_key(*(json_t *const *)b, kb, sizeof(kb));
	return strcmp(ka, kb);
}

json_t *store_slices(struct store *s, const char *service_key)
{
	json_t *set = json_object_get(s->slices_of, service_key), *v, *out = json_array();
	const char *key;
	size_t n = json_object_size(set), i = 0;
	json_t **list = n ? calloc(n, sizeof(*list)) : NULL;

	json_object_foreach(set, key, v)
	{
		json_t *slice = store_get(s, KIND_SLICE, key);

		if (slice && list)
			list[i++] = slice;
		else
			json_decref(slice);
	}
	if (i) /* list may be NULL, which qsort may not take */
		qsort(list, i, sizeof(*list), by_name);
	for (size_t j = 0; j < i; j++)
		json_array_append_new(out, list[j]);
	free(list);
	return out;
}

void store_mark_all(struct store *s)
{
	const char *key;
	json_t *v;

	json_object_foreach(s->objects[KIND_SERVICE], key, v) store_mark(s, key);
	json_object_foreach(s->slices_of, key, v) store_mark(s, key);
}
