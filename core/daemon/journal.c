// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "journal.h"

#define SNAPSHOT	"snapshot"
/* The snapshot again in libyang's binary format, read three times faster
 * than the JSON: used at start when it is of the same generation and
 * modules as the snapshot and both are intact, else ignored. */
#define SNAPSHOT_CACHE	"snapshot.lyb"
#define JOURNAL		"journal"
#define LEGACY_CONFIG	"running.json" /* a whole config, from before the journal */
/* Fold the journal into a snapshot once it is this much larger than the
 * snapshot (and past a floor, so a small config does not snapshot often). */
#define SNAPSHOT_RATIO	4
#define SNAPSHOT_FLOOR	(1u << 20)
#define RECORD_HDR_MAX	96
#define DIFF_PARSE_OPTS (LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE)

static int fail_errno(struct cn_error *err, const char *what, const char *path, int e)
{
	return cn_fail(err, e == ENOSPC ? CN_ERR_NO_SPACE : CN_ERR_OPERATION_FAILED, "",
		       "cannot %s %s: %s", what, path, strerror(e));
}

static void path_of(const struct journal *j, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", j->dir, name);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		e = -errno;
	close(fd);
	return e;
}

/* Write temp, fsync, rename, fsync the directory. */
static int replace_file(const char *path, const char *head, const char *body, size_t body_len)
{
	char tmp[300];
	int fd, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	e = write_all(fd, head, strlen(head));
	if (!e && body_len)
		e = write_all(fd, body, body_len);
	if (!e && fsync(fd))
		e = -errno;
	close(fd);
	if (!e && rename(tmp, path))
		e = -errno;
	if (e) {
		unlink(tmp);
		return e;
	}
	char dir[300];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	return fsync_dir(dir);
}

static char *read_file(const char *path, size_t *len, int *e)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*e = 0;
	if (fd < 0) {
		*e = -errno;
		return NULL;
	}
	if (fstat(fd, &st) || !(buf = malloc((size_t)st.st_size + 1))) {
		*e = errno ? -errno : -ENOMEM;
		close(fd);
		return NULL;
	}
	size_t off = 0;

	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

static int parse_config(const struct ly_ctx *ctx, const char *text, struct lyd_node **tree)
{
	struct ly_in *in = NULL;
	LY_ERR rc;

	*tree = NULL;
	if (!*text)
		return 0;
	if (ly_in_new_memory(text, &in))
		return -1;
	rc = lyd_parse_data(ctx, NULL, in, LYD_JSON, DIFF_PARSE_OPTS, 0, tree);
	ly_in_free(in, 0);
	return rc ? -1 : 0;
}

/* The binary copy of a trusted snapshot, if it is that snapshot's: 0 with
 * *config set, or -1 (then the JSON is read). */
static int load_cache(const struct journal *j, const struct ly_ctx *ctx, struct lyd_node **config)
{
	char path[300];
	size_t len = 0;
	int e;
	char *text;

	path_of(j, SNAPSHOT_CACHE, path, sizeof(path));
	text = read_file(path, &len, &e);
	if (!text)
		return -1;
	char *nl = memchr(text, '\n', len);
	uint64_t gen = 0, schema = 0;
	unsigned long crc = 0;
	int ok = nl && sscanf(text, "cubenet-snapshot-lyb %" SCNu64 " %" SCNx64 " %lx", &gen,
			      &schema, &crc) == 3;
	size_t body = ok ? len - (size_t)(nl + 1 - text) : 0;

	ok = ok && gen == j->snapshot_generation && schema == j->schema && body &&
	     crc == crc32(0, (const Bytef *)(nl + 1), (uInt)body) &&
	     lyd_parse_data_mem(ctx, nl + 1, LYD_LYB, DIFF_PARSE_OPTS, 0, config) == LY_SUCCESS;
	free(text);
	if (!ok) {
		lyd_free_all(*config);
		*config = NULL;
	}
	return ok ? 0 : -1;
}

static int load_snapshot(struct journal *j, const struct ly_ctx *ctx, struct lyd_node **config,
			 struct cn_error *err)
{
	char path[300];
	size_t len = 0;
	int e;
	char *text;

	path_of(j, SNAPSHOT, path, sizeof(path));
	text = read_file(path, &len, &e);
	if (!text && e == -ENOENT) {
		/* No snapshot: records alone are not known to be of these
		 * modules (see journal_open). An older daemon's whole config is
		 * taken over as generation 0, and validated. */
		j->trusted = 0;
		path_of(j, LEGACY_CONFIG, path, sizeof(path));
		text = read_file(path, &len, &e);
		if (!text)
			return e == -ENOENT ? 0 : fail_errno(err, "read", path, -e);
		j->snapshot_bytes = len;
		e = parse_config(ctx, text, config);
		free(text);
		return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, path, "cannot parse %s", path) : 0;
	}
	if (!text)
		return fail_errno(err, "read", path, -e);
	char *nl = strchr(text, '\n');

	uint64_t schema = 0;
	unsigned long crc = 0;
	int fields = nl ? sscanf(text, "cubenet-snapshot %" SCNu64 " %" SCNx64 " %lx",
				 &j->snapshot_generation, &schema, &crc)
			: 0;

	if (fields < 1) {
		free(text);
		return cn_fail(err, CN_ERR_OPERATION_FAILED, path, "%s is not a snapshot", path);
	}
	/* A snapshot of an older daemon, of other modules or edited by hand
	 * is validated again. */
	j->trusted =
	    fields == 3 && schema == j->schema &&
	    crc == crc32(0, (const Bytef *)(nl + 1), (uInt)(len - (size_t)(nl + 1 - text)));
	j->snapshot_bytes = len;
	j->generation = j->snapshot_generation;
	if (j->trusted && !load_cache(j, ctx, config)) {
		free(text);
		return 0;
	}
	e = parse_config(ctx, nl + 1, config);
	free(text);
	return e ? cn_fail(err, CN_ERR_OPERATION_FAILED, path, "cannot parse %s", path) : 0;
}

/*
 * A non-presence container whose last child went is implicit again; a
 * record made after that creates it anew, which libyang, finding the
 * implicit one, would add a second time. The implicit one goes first.
 */
static void drop_implicit_created(struct lyd_node **tree, const struct lyd_node *diff)
{
	for (const struct lyd_node *top = diff; top; top = top->next) {
		const struct lyd_node *n;

		LYD_TREE_DFS_BEGIN(top, n)
		{
			struct lyd_meta *m = lyd_find_meta(n->meta, NULL, "yang:operation");
			const char *op = m ? lyd_get_meta_value(m) : NULL;

			if (op && !strcmp(op, "create") && n->schema &&
			    n->schema->nodetype == LYS_CONTAINER) {
				char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
				struct lyd_node *have = NULL;

				if (path && *tree &&
				    lyd_find_path(*tree, path, 0, &have) == LY_SUCCESS &&
				    (have->flags & LYD_DEFAULT)) {
					if (have == *tree)
						*tree = (*tree)->next;
					lyd_free_tree(have);
				}
				free(path);
			}
			LYD_TREE_DFS_END(top, n);
		}
	}
}

/* Apply the journal's records above the snapshot; cut a torn tail off. */
static int replay(struct journal *j, const struct ly_ctx *ctx, struct lyd_node **config,
		  struct cn_error *err)
{
	char path[300];
	size_t len = 0, off = 0;
	int e;
	char *text;

	path_of(j, JOURNAL, path, sizeof(path));
	text = read_file(path, &len, &e);
	if (!text)
		return e == -ENOENT ? 0 : fail_errno(err, "read", path, -e);
	while (off < len) {
		uint64_t gen;
		unsigned long body_len, crc;
		int hdr = 0;
		char *rec = text + off;

		if (sscanf(rec, "cubenet-diff %" SCNu64 " %lu %lx\n%n", &gen, &body_len, &crc,
			   &hdr) != 3 ||
		    !hdr || hdr > RECORD_HDR_MAX || body_len > len - off - (size_t)hdr - 1 ||
		    rec[hdr + body_len] != '\n' ||
		    crc32(0, (const Bytef *)rec + hdr, (uInt)body_len) != crc)
			break; /* torn or corrupt: the rest was never acknowledged */
		if (gen > j->generation) {
			struct lyd_node *diff = NULL;

			rec[hdr + body_len] = '\0';
			if (!parse_config(ctx, rec + hdr, &diff))
				drop_implicit_created(config, diff);
			if (!diff || lyd_diff_apply_all(config, diff)) {
				lyd_free_all(diff);
				free(text);
				const struct ly_err_item *e = ly_err_first(ctx);

				cn_fail(err, CN_ERR_OPERATION_FAILED, path,
					"journal record %" PRIu64 " does not apply: %s", gen,
					e && e->msg ? e->msg : "?");
				ly_err_clean((struct ly_ctx *)ctx, NULL);
				return -1;
			}
			lyd_free_all(diff);
			j->generation = gen;
		}
		off += (size_t)hdr + body_len + 1;
	}
	free(text);
	if (off < len && truncate(path, (off_t)off))
		return fail_errno(err, "truncate", path, errno);
	j->journal_bytes = off;
	return 0;
}

int journal_open(struct journal *j, const char *dir, const struct ly_ctx *ctx, uint64_t schema,
		 struct lyd_node **config, struct cn_error *err)
{
	char path[300], copy[sizeof(j->dir)];

	snprintf(copy, sizeof(copy), "%s", dir); /* dir may be j->dir itself */
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->schema = schema;
	snprintf(j->dir, sizeof(j->dir), "%s", copy);
	*config = NULL;
	/* Snapshot and records hold explicit data only; the caller's
	 * validation adds the defaults back. */
	if (load_snapshot(j, ctx, config, err) || replay(j, ctx, config, err)) {
		lyd_free_all(*config);
		*config = NULL;
		return -1;
	}
	path_of(j, JOURNAL, path, sizeof(path));
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		lyd_free_all(*config);
		*config = NULL;
		return fail_errno(err, "open", path, errno);
	}
	/* Nothing saved at all: an empty snapshot stamped with this schema,
	 * so the records to come follow a snapshot of theirs. */
	if (!*config && !j->generation && !j->journal_bytes && !j->snapshot_bytes) {
		struct cn_error ignored;

		j->trusted = !journal_snapshot(j, NULL, &ignored);
	}
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

int journal_append(struct journal *j, const struct lyd_node *diff, struct cn_error *err)
{
	char hdr[RECORD_HDR_MAX], path[300];
	char *body = NULL;
	size_t len;
	int e;

	if (lyd_print_mem(&body, diff, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot print a diff");
	len = body ? strlen(body) : 0;
	snprintf(hdr, sizeof(hdr), "cubenet-diff %" PRIu64 " %zu %lx\n", j->generation + 1, len,
		 crc32(0, (const Bytef *)(body ? body : ""), (uInt)len));
	e = write_all(j->fd, hdr, strlen(hdr));
	if (!e && len)
		e = write_all(j->fd, body, len);
	if (!e)
		e = write_all(j->fd, "\n", 1);
	if (!e && fdatasync(j->fd))
		e = -errno;
	free(body);
	path_of(j, JOURNAL, path, sizeof(path));
	if (e) {
		/* Nothing of this record may stay behind for restore to find. */
		if (ftruncate(j->fd, (off_t)j->journal_bytes) == 0)
			fdatasync(j->fd);
		return fail_errno(err, "append to", path, -e);
	}
	j->journal_bytes += strlen(hdr) + len + 1;
	j->generation++;
	return 0;
}

int journal_wants_snapshot(const struct journal *j)
{
	return j->journal_bytes > SNAPSHOT_FLOOR &&
	       j->journal_bytes > SNAPSHOT_RATIO * j->snapshot_bytes;
}

/* The binary copy of the snapshot just saved; without one (printing or
 * writing failed) the next start reads the JSON. */
static void save_cache(const struct journal *j, const struct lyd_node *config)
{
	char head[96], path[300];
	char *body = NULL;
	int len = 0;

	path_of(j, SNAPSHOT_CACHE, path, sizeof(path));
	if (config && !lyd_print_mem(&body, config, LYD_LYB, LYD_PRINT_WITHSIBLINGS))
		len = lyd_lyb_data_length(body);
	if (len <= 0) {
		unlink(path);
		free(body);
		return;
	}
	snprintf(head, sizeof(head), "cubenet-snapshot-lyb %" PRIu64 " %016" PRIx64 " %lx\n",
		 j->generation, j->schema, crc32(0, (const Bytef *)body, (uInt)len));
	if (replace_file(path, head, body, (size_t)len))
		unlink(path);
	free(body);
}

int journal_snapshot(struct journal *j, const struct lyd_node *config, struct cn_error *err)
{
	char head[96], path[300];
	char *body = NULL;
	size_t len;
	int e;

	if (config && lyd_print_mem(&body, config, LYD_JSON, LYD_PRINT_WITHSIBLINGS))
		return cn_fail(err, CN_ERR_OPERATION_FAILED, "", "cannot print the config");
	len = body ? strlen(body) : 0;
	snprintf(head, sizeof(head), "cubenet-snapshot %" PRIu64 " %016" PRIx64 " %lx\n",
		 j->generation, j->schema, crc32(0, (const Bytef *)(body ? body : ""), (uInt)len));
	path_of(j, SNAPSHOT, path, sizeof(path));
	e = replace_file(path, head, body, len);
	free(body);
	if (e)
		return fail_errno(err, "save the config to", path, -e);
	save_cache(j, config);
	j->snapshot_generation = j->generation;
	j->snapshot_bytes = strlen(head) + len;
	/* Every record is in the snapshot now: start the journal afresh. */
	path_of(j, JOURNAL, path, sizeof(path));
	e = replace_file(path, "", NULL, 0);
	if (!e) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

		if (fd < 0) {
			e = -errno;
		} else {
			close(j->fd);
			j->fd = fd;
			j->journal_bytes = 0;
		}
	}
	path_of(j, LEGACY_CONFIG, path, sizeof(path));
	unlink(path);
	/* A failure here leaves records the snapshot already holds: restore
	 * skips them by generation. */
	return e ? fail_errno(err, "reset the journal in", j->dir, -e) : 0;
}
