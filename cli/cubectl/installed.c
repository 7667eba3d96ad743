// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "installed.h"

void installed_yang_dirs(char *out, size_t size)
{
	char exe[PATH_MAX], build[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	out[0] = '\0';
	if (len <= 0)
		return;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	if (realpath(CUBECTL_BUILD_DIR, build) && strcmp(build, exe) == 0)
		snprintf(out, size, "%s", CUBECTL_SOURCE_YANG_DIRS);
	else
		snprintf(out, size, "%s/%s", exe, CUBECTL_YANG_FROM_BIN);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The module names of one folder's NAME[@REVISION].yang files, added to
 * names once each. The standard modules are libyang's own. */
static int list_folder(const char *dir, char (*names)[INSTALLED_NAME_MAX], size_t max, size_t *n,
		       struct cli_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return cli_fail(err, EXIT_FAILED, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), name_len;
		const char *at;
		int seen = 0;

		if (len <= 5 || strcmp(e->d_name + len - 5, ".yang") || e->d_name[0] == '.')
			continue;
		at = memchr(e->d_name, '@', len - 5);
		name_len = at ? (size_t)(at - e->d_name) : len - 5;
		if (name_len >= INSTALLED_NAME_MAX || !strncmp(e->d_name, "ietf-", 5))
			continue;
		for (size_t i = 0; i < *n && !seen; i++)
			seen =
			    strlen(names[i]) == name_len && !strncmp(names[i], e->d_name, name_len);
		if (seen)
			continue;
		if (*n == max) {
			closedir(d);
			return cli_fail(err, EXIT_FAILED, "%s: more than %zu modules", dir, max);
		}
		snprintf(names[(*n)++], INSTALLED_NAME_MAX, "%.*s", (int)name_len, e->d_name);
	}
	closedir(d);
	return 0;
}

int installed_load(struct ly_ctx **ctx, const char *dirs, char (*names)[INSTALLED_NAME_MAX],
		   size_t max, size_t *n, struct cli_error *err)
{
	char *copy = strdup(dirs), *save = NULL;
	int rc = -1;

	*ctx = NULL;
	*n = 0;
	if (!copy)
		return cli_fail(err, EXIT_FAILED, "out of memory");
	if (!dirs[0]) {
		cli_fail(err, EXIT_FAILED, "cannot tell where cubectl is installed");
		goto cleanup;
	}
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
		if (list_folder(dir, names, max, n, err))
			goto cleanup;
	if (*n == 0) {
		cli_fail(err, EXIT_FAILED, "no YANG modules in %s", dirs);
		goto cleanup;
	}
	qsort(names, *n, INSTALLED_NAME_MAX, by_name);
	/* Imports are found in the same folders, never in the working one. */
	if (ly_ctx_new(dirs, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, ctx)) {
		cli_fail(err, EXIT_FAILED, "cannot read YANG modules from %s", dirs);
		goto cleanup;
	}
	for (size_t i = 0; i < *n; i++) {
		if (!ly_ctx_load_module(*ctx, names[i], NULL, NULL)) {
			cli_fail(err, EXIT_FAILED, "cannot load module %s from %s: %s", names[i],
				 dirs, ly_errmsg(*ctx));
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	if (rc && *ctx) {
		ly_ctx_destroy(*ctx);
		*ctx = NULL;
	}
	free(copy);
	return rc;
}
