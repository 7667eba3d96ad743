// SPDX-License-Identifier: Apache-2.0
/*
 * The registered services, and the datastore's handler that drives them
 * and the runtime through each change:
 *
 *   validate: services' validate, then runtime_begin (compose, references)
 *   apply:    runtime_load, services' apply, runtime_attach
 *   commit:   services' commit, runtime_commit
 *   abort:    services' abort (newest first), runtime_abort
 */
#include <stdlib.h>
#include <string.h>
#include "runtime.h"
#include "service.h"
#include "service_registry.h"

/* The linker gathers every CUBENET_SERVICE() into this section. */
extern const struct service *const __start_cubenet_services[];
extern const struct service *const __stop_cubenet_services[];

size_t service_count(void)
{
	return (size_t)(__stop_cubenet_services - __start_cubenet_services);
}

const struct service *service_at(size_t i)
{
	return i < service_count() ? __start_cubenet_services[i] : NULL;
}

const struct service *service_find(const char *name)
{
	for (size_t i = 0; i < service_count(); i++)
		if (!strcmp(service_at(i)->name, name) || !strcmp(service_at(i)->module, name))
			return service_at(i);
	return NULL;
}

/* Whether the diff holds data of module (or it is a restore). */
static int touches(const struct ds_change *c, const char *module)
{
	if (c->restore)
		return 1;
	for (const struct lyd_node *n = c->diff; n; n = n->next)
		if (!strcmp(lyd_owner_module(n)->name, module))
			return 1;
	return 0;
}

/* User cubes of a service's type that this change (re)loads need it too. */
static int needs(struct runtime *rt, const struct service *s, const struct ds_change *c)
{
	if (touches(c, s->module))
		return 1;
	for (size_t i = 0; s->cube_type && rt->want && i < rt->want->n_cubes; i++)
		if (rt->want->cubes[i].fresh && !strcmp(rt->want->cubes[i].type, s->cube_type))
			return 1;
	return 0;
}

static int on_validate(void *arg, const struct ds_change *c, struct cn_error *err)
{
	struct runtime *rt = arg;

	for (size_t i = 0; i < service_count(); i++) {
		const struct service *s = service_at(i);

		if (s->validate && touches(c, s->module) && s->validate(rt, c, err))
			goto abort;
	}
	rt->restoring = c->restore;
	if (runtime_begin(rt, c->config, err))
		goto abort;
	return 0;
abort:
	/* Validation keeps work-in-progress (the pods a change adds): drop it. */
	for (size_t i = 0; i < service_count(); i++)
		if (service_at(i)->abort && touches(c, service_at(i)->module))
			service_at(i)->abort(rt, c);
	runtime_abort(rt);
	return -1;
}

static void abort_all(struct runtime *rt, const struct ds_change *c)
{
	for (size_t i = service_count(); i-- > 0;) {
		const struct service *s = service_at(i);

		if (s->abort && needs(rt, s, c))
			s->abort(rt, c);
	}
	runtime_abort(rt);
}

static int on_apply(void *arg, const struct ds_change *c, struct cn_error *err)
{
	struct runtime *rt = arg;

	if (runtime_load(rt, err))
		goto abort;
	for (size_t i = 0; i < service_count(); i++) {
		const struct service *s = service_at(i);

		if (s->apply && needs(rt, s, c) && s->apply(rt, c, err))
			goto abort;
	}
	if (runtime_attach(rt, err))
		goto abort;
	return 0;
abort:
	abort_all(rt, c);
	return -1;
}

static void on_commit(void *arg, const struct ds_change *c)
{
	struct runtime *rt = arg;

	for (size_t i = 0; i < service_count(); i++) {
		const struct service *s = service_at(i);

		if (s->commit && needs(rt, s, c))
			s->commit(rt, c);
	}
	runtime_commit(rt);
	rt->restoring = 0;
}

static void on_abort(void *arg, const struct ds_change *c)
{
	abort_all(arg, c);
	((struct runtime *)arg)->restoring = 0;
}

const struct ds_handler service_handler = {
    .validate = on_validate,
    .apply = on_apply,
    .commit = on_commit,
    .abort = on_abort,
};

const char **services_modules(void)
{
	const char **m = calloc(service_count() + 2, sizeof(*m));

	if (!m)
		return NULL;
	m[0] = "cubenet-core";
	for (size_t i = 0; i < service_count(); i++)
		m[i + 1] = service_at(i)->module;
	return m;
}

int services_declare(struct datastore *ds, struct cn_error *err)
{
	for (size_t i = 0; i < service_count(); i++)
		for (const char *const *l = service_at(i)->independent; l && *l; l++)
			if (ds_independent_list(ds, *l, err))
				return -1;
	return 0;
}

int services_start(struct runtime *rt, struct cn_error *err)
{
	for (size_t i = 0; i < service_count(); i++)
		if (service_at(i)->start && service_at(i)->start(rt, err))
			return -1;
	return 0;
}

void services_stop(struct runtime *rt)
{
	for (size_t i = service_count(); i-- > 0;)
		if (service_at(i)->stop)
			service_at(i)->stop(rt);
}
