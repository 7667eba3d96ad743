/* SPDX-License-Identifier: Apache-2.0 */
/* YAML in and out through libyaml, as JSON values (jansson): -f files may
 * be YAML or JSON (JSON is YAML), and -o yaml prints data as YAML. */
#ifndef CUBECTL_YAML_H
#define CUBECTL_YAML_H

#include <stdio.h>
#include <jansson.h>
#include "cli_error.h"

/* The document in a file as JSON; NULL with the reason in err. */
json_t *yaml_load_file(const char *path, struct cli_error *err);
int yaml_print(FILE *out, const json_t *value);

#endif
