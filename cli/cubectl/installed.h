/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YANG modules installed with cubectl, read when no daemon answers:
 * PREFIX/share/cubenet/yang beside an installed cubectl, the services'
 * source folders for the cubectl of a build tree.
 */
#ifndef CUBECTL_INSTALLED_H
#define CUBECTL_INSTALLED_H

#include <stddef.h>
#include <libyang/libyang.h>
#include "cli_error.h"

#define INSTALLED_NAME_MAX 64

/* Where this cubectl's modules are: a colon-separated list of folders. */
void installed_yang_dirs(char *out, size_t size);

/* A new context with every module (NAME.yang or NAME@REVISION.yang) of the
 * folders in dirs, their names in names[0..*n), sorted. 0, or -1 with err
 * saying why. */
int installed_load(struct ly_ctx **ctx, const char *dirs, char (*names)[INSTALLED_NAME_MAX],
		   size_t max, size_t *n, struct cli_error *err);

#endif
