// SPDX-License-Identifier: Apache-2.0
/* The services this daemon serves. */
#include <stddef.h>
#include "service.h"

const struct service *const services[] = {
    &router_service,
    &nat_service,
    &lb_service,
    &pods_service,
    NULL,
};

const char *service_state_dir = "/var/lib/cubenet";
