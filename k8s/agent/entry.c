// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>
#include "entry.h"

const char *const node_parts[NODE_PARTS] = {"uplink",	       "address",    "address6",
					    "node-port-range", "masquerade", "tunnel"};

/* The keys of the model's lists (cubenet-pods.yang). */
static const char *const *list_keys(const char *list)
{
	static const char *const by_address[] = {"address", NULL};
	static const char *const by_port[] = {"port", "protocol", NULL};
	static const char *const by_name[] = {"namespace", "name", NULL};

	if (strcmp(list, "endpoint") == 0)
		return by_address;
	if (strcmp(list, "port") == 0 || strcmp(list, "target-port") == 0)
		return by_port;
	if (strcmp(list, "service") == 0)
		return by_name;
	return NULL;
}

static const char *const *sort_keys;

static int scalar_cmp(const json_t *a, const json_t *b)
{
	if (json_is_string(a) && json_is_string(b))
		return strcmp(json_string_value(a), json_string_value(b));
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) < json_integer_value(b)   ? -1
		       : json_integer_value(a) > json_integer_value(b) ? 1
								       : 0;
	return json_typeof(a) - json_typeof(b);
}

static int element_cmp(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;

	if (!sort_keys)
		return scalar_cmp(a, b);
	for (const char *const *k = sort_keys; *k; k++) {
		int d = scalar_cmp(json_object_get(a, *k), json_object_get(b, *k));

		if (d)
			return d;
	}
	return 0;
}

static void sort_array(json_t *array, const char *const *keys)
{
	size_t n = json_array_size(array);
	json_t **items = n ? malloc(n * sizeof(*items)) : NULL;

	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(array, i));
	sort_keys = keys;
	qsort(items, n, sizeof(*items), element_cmp);
	sort_keys = NULL;
	json_array_clear(array);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, items[i]);
	free(items);
}

static void set_default(json_t *obj, const char *key, json_t *value)
{
	if (!json_object_get(obj, key))
		json_object_set_new(obj, key, value);
	else
		json_decref(value);
}

/* Every array below obj sorted, recursively. */
static void sort_all(json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (json_is_array(v)) {
			size_t i;
			json_t *e;

			json_array_foreach(v, i, e) if (json_is_object(e)) sort_all(e);
			sort_array(v, list_keys(key));
		} else if (json_is_object(v)) {
			sort_all(v);
		}
	}
}

void entry_normalize(json_t *entry)
{
	size_t i;
	json_t *ep;

	set_default(entry, "session-affinity", json_string("none"));
	set_default(entry, "session-affinity-timeout", json_integer(10800));
	set_default(entry, "external-traffic-policy", json_string("cluster"));
	set_default(entry, "internal-traffic-policy", json_string("cluster"));
	set_default(entry, "port", json_array());
	set_default(entry, "endpoint", json_array());
	json_array_foreach(json_object_get(entry, "endpoint"), i, ep)
	{
		set_default(ep, "ready", json_true());
		set_default(ep, "serving", json_true());
		set_default(ep, "terminating", json_false());
		set_default(ep, "local", json_false());
		if (json_array_size(json_object_get(ep, "target-port")) == 0)
			json_object_del(ep, "target-port");
	}
	sort_all(entry);
}

json_t *node_normalize(const json_t *node)
{
	json_t *out = json_object();

	for (int i = 0; i < NODE_PARTS; i++) {
		json_t *v = json_object_get(node, node_parts[i]);

		if (v)
			json_object_set_new(out, node_parts[i], json_deep_copy(v));
	}
	if (json_object_get(out, "node-port-range")) {
		json_t *r = json_object_get(out, "node-port-range");

		set_default(r, "min", json_integer(30000));
		set_default(r, "max", json_integer(32767));
	}
	/* A container without presence: absent is its defaults. */
	set_default(out, "tunnel", json_object());
	set_default(json_object_get(out, "tunnel"), "mode", json_string("vxlan"));
	set_default(json_object_get(out, "tunnel"), "vni", json_integer(1));
	set_default(json_object_get(out, "tunnel"), "port", json_integer(8472));
	sort_all(out);
	return out;
}

static int array_within(const char *name, const json_t *old, const json_t *now)
{
	const char *const *keys = list_keys(name);
	size_t i, j;
	json_t *a, *b;

	json_array_foreach(old, i, a)
	{
		int found = 0;

		json_array_foreach(now, j, b)
		{
			int same = 1;

			if (!keys) {
				same = json_equal(a, b);
			} else {
				for (const char *const *k = keys; *k && same; k++)
					same = json_equal(json_object_get(a, *k),
							  json_object_get(b, *k));
				same = same && entry_within(a, b);
			}
			if (same) {
				found = 1;
				break;
			}
		}
		if (!found)
			return 0;
	}
	return 1;
}

int entry_within(const json_t *old, const json_t *now)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)old, key, v)
	{
		json_t *w = json_object_get(now, key);

		if (!w)
			return 0;
		if (json_is_array(v) && !array_within(key, v, w))
			return 0;
		if (json_is_object(v) && !entry_within(v, w))
			return 0;
	}
	return 1;
}
