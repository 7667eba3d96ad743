/* SPDX-License-Identifier: Apache-2.0 */
/* Driving the registered services (service.h) from the datastore. */
#ifndef CUBENETD_SERVICE_REGISTRY_H
#define CUBENETD_SERVICE_REGISTRY_H

#include "datastore.h"
#include "runtime.h"

/* The datastore's handler; its arg is the runtime. */
extern const struct ds_handler service_handler;

/* The YANG modules the datastore loads: the core's, then each service's;
 * NULL-terminated, for free(). NULL if out of memory. */
const char **services_modules(void);
/* Tell the datastore every service's independent lists. */
int services_declare(struct datastore *ds, struct cn_error *err);
/* Services' own threads and sockets; after the restore. */
int services_start(struct runtime *rt, struct cn_error *err);
void services_stop(struct runtime *rt);

#endif
