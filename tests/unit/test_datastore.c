// SPDX-License-Identifier: Apache-2.0
/*
 * The datastore on its own: what a change's scope holds, the diff the
 * handler gets, all-or-nothing writes, YANG Patch edit kinds, limits of
 * independent lists, and the journal (replay, a torn tail, a corrupt
 * record).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <zlib.h>
#include "datastore.h"
#include "test.h"

static const char *const modules[] = {"cubenet-core", "cubenet-router", "cubenet-pods", NULL};

/* A handler that records what it was given and fails on request. */
static struct {
	int validated, applied, committed, aborted;
	int fail_apply;
	size_t services_in_config, services_in_diff;
	char last_diff[4096];
} h;

static size_t count(const struct lyd_node *tree, const char *xpath)
{
	struct ly_set *set = NULL;
	size_t n = 0;

	if (tree && !lyd_find_xpath(tree, xpath, &set))
		n = set->count;
	ly_set_free(set, NULL);
	return n;
}

static int on_validate(void *arg, const struct ds_change *c, struct cn_error *err)
{
	(void)arg;
	(void)err;
	h.validated++;
	h.services_in_config = count(c->config, "/cubenet-pods:services/service");
	h.services_in_diff = count(c->diff, "/cubenet-pods:services/service");
	char *text = NULL;

	lyd_print_mem(&text, c->diff, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK);
	snprintf(h.last_diff, sizeof(h.last_diff), "%s", text ? text : "");
	free(text);
	return 0;
}

static int on_apply(void *arg, const struct ds_change *c, struct cn_error *err)
{
	(void)arg;
	(void)c;
	h.applied++;
	if (h.fail_apply)
		return cn_fail(err, CN_ERR_INVALID_VALUE, "", "refused by the test");
	return 0;
}

static void on_commit(void *arg, const struct ds_change *c)
{
	(void)arg;
	(void)c;
	h.committed++;
}

static void on_abort(void *arg, const struct ds_change *c)
{
	(void)arg;
	(void)c;
	h.aborted++;
}

static const struct ds_handler handler = {on_validate, on_apply, on_commit, on_abort};

static int open_ds(struct datastore *ds, const char *dir)
{
	struct cn_error err = {0};

	if (ds_init(ds, CUBENET_YANG_DIR, modules, dir, &err) ||
	    ds_independent_list(ds, "/cubenet-pods:services/service", &err) ||
	    ds_independent_list(ds, "/cubenet-router:routers/router/neighbor", &err)) {
		fprintf(stderr, "  datastore: %s\n", err.message);
		return -1;
	}
	ds->handler = &handler;
	return ds_restore(ds, &err);
}

static char *config_of(struct datastore *ds)
{
	struct cn_error err = {0};
	char *json = NULL;

	ds_get(ds, "", DS_CONTENT_CONFIG, 0, NULL, NULL, &json, &err);
	return json;
}

static int edit(struct datastore *ds, enum ds_edit_op op, const char *xpath, const char *body,
		struct cn_error *err)
{
	int created;
	char path[256];

	*err = (struct cn_error){0};
	return ds_edit(ds, op, xpath, body, &created, path, sizeof(path), err);
}

static char *service_json(int i, int endpoints)
{
	char *s = malloc(4096);
	int o = snprintf(s, 4096,
			 "{\"namespace\":\"t\",\"name\":\"s%d\",\"cluster-ip\":[\"10.96.%d.%d\"],"
			 "\"port\":[{\"port\":80,\"protocol\":\"tcp\",\"target-port\":8080}],"
			 "\"endpoint\":[",
			 i, i / 250, i % 250 + 1);

	for (int e = 0; e < endpoints; e++)
		o += snprintf(s + o, 4096 - (size_t)o, "%s{\"address\":\"10.1.%d.%d\"}",
			      e ? "," : "", i % 250, e + 1);
	snprintf(s + o, 4096 - (size_t)o, "]}");
	return s;
}

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/cubenet-ds-test-XXXXXX");
	return mkdtemp(dir);
}

static void rmdir_all(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
}

/* A thousand services; one endpoint more in one: the handler sees that one. */
TEST(a_change_costs_what_it_touches)
{
	struct datastore ds;
	struct cn_error err;
	size_t len = 0, cap = 1 << 20;
	char *body = malloc(cap);

	REQUIRE(open_ds(&ds, NULL) == 0, "open");
	len = (size_t)snprintf(body, cap, "{\"cubenet-pods:services\":{\"service\":[");
	for (int i = 0; i < 1000; i++) {
		char *s = service_json(i, 3);

		len += (size_t)snprintf(body + len, cap - len, "%s%s", i ? "," : "", s);
		free(s);
	}
	snprintf(body + len, cap - len, "]}}");
	CHECK_EQ(edit(&ds, DS_REPLACE, "/cubenet-pods:services", body, &err), 0);
	CHECK_EQ(h.services_in_config, 1000);
	CHECK_EQ(edit(&ds, DS_CREATE, "/cubenet-pods:services/service[namespace='t'][name='s500']",
		      "{\"cubenet-pods:endpoint\":[{\"address\":\"10.9.9.9\"}]}", &err),
		 0);
	CHECK_EQ(h.services_in_config, 1); /* the scope: one service */
	CHECK_EQ(h.services_in_diff, 1);
	CHECK(strstr(h.last_diff, "\"10.9.9.9\"") && strstr(h.last_diff, "\"create\""), "diff: %s",
	      h.last_diff);
	CHECK(!strstr(h.last_diff, "10.1."), "untouched endpoints in the diff: %s", h.last_diff);
	/* Uniqueness of keys is still checked against what is outside the scope. */
	CHECK(edit(&ds, DS_CREATE, "/cubenet-pods:services",
		   "{\"cubenet-pods:service\":[{\"namespace\":\"t\",\"name\":\"s7\","
		   "\"cluster-ip\":[\"10.0.0.1\"]}]}",
		   &err) < 0,
	      "created a service that exists");
	CHECK_EQ(err.tag, CN_ERR_DATA_EXISTS);
	free(body);
	ds_destroy(&ds);
}

TEST(a_failed_change_changes_nothing)
{
	struct datastore ds;
	struct cn_error err;
	char *before, *after, *s = service_json(1, 2), body[4200];

	REQUIRE(open_ds(&ds, NULL) == 0, "open");
	snprintf(body, sizeof(body), "{\"cubenet-pods:services\":{\"service\":[%s]}}", s);
	CHECK_EQ(edit(&ds, DS_MERGE, "", body, &err), 0);
	before = config_of(&ds);
	h.fail_apply = 1;
	h.aborted = 0;
	CHECK(edit(&ds, DS_DELETE, "/cubenet-pods:services/service[namespace='t'][name='s1']", NULL,
		   &err) < 0,
	      "apply failed but the write succeeded");
	h.fail_apply = 0;
	after = config_of(&ds);
	CHECK(before && after && !strcmp(before, after), "config changed: %s", after);
	/* Invalid data never reaches the handler. */
	h.validated = 0;
	CHECK(
	    edit(&ds, DS_MERGE, "",
		 "{\"cubenet-pods:services\":{\"service\":[{\"namespace\":\"t\",\"name\":\"x\"}]}}",
		 &err) < 0,
	    "a service without its cluster-ip");
	CHECK_EQ(err.tag, CN_ERR_INVALID_VALUE);
	CHECK_EQ(h.validated, 0);
	free(before);
	free(after);
	free(s);
	ds_destroy(&ds);
}

TEST(yang_patch_edits_are_one_transaction)
{
	struct datastore ds;
	struct cn_error err = {0};
	char *before;
	struct ds_edit e[3] = {
	    {.op = DS_CREATE_NODE,
	     .xpath = "/cubenet-pods:services/service[namespace='t'][name='a']",
	     .body = "{\"cubenet-pods:service\":[{\"namespace\":\"t\",\"name\":\"a\","
		     "\"cluster-ip\":[\"10.0.0.1\"]}]}"},
	    {.op = DS_REMOVE,
	     .xpath = "/cubenet-pods:services/service[namespace='t'][name='gone']"},
	    {.op = DS_MERGE_NODE,
	     .xpath = "/cubenet-pods:services/service[namespace='t'][name='b']",
	     .body = "{\"cubenet-pods:service\":[{\"namespace\":\"t\",\"name\":\"b\","
		     "\"cluster-ip\":[\"10.0.0.2\"]}]}"},
	};

	REQUIRE(open_ds(&ds, NULL) == 0, "open");
	CHECK_EQ(ds_write(&ds, e, 3, &err), 0); /* remove of nothing is fine */
	before = config_of(&ds);
	CHECK(before && strstr(before, "\"a\"") && strstr(before, "\"b\""), "%s", before);
	/* create of what exists fails, and takes the whole patch with it */
	e[1] = (struct ds_edit){.op = DS_DELETE,
				.xpath = "/cubenet-pods:services/service[namespace='t'][name='b']"};
	err = (struct cn_error){0};
	CHECK(ds_write(&ds, e, 2, &err) < 0, "created a second 'a'");
	CHECK_EQ(err.tag, CN_ERR_DATA_EXISTS);
	CHECK(e[0].failed && !e[1].failed, "the failed edit is named");
	char *after = config_of(&ds);

	CHECK(!strcmp(before, after), "half a patch applied: %s", after);
	free(before);
	free(after);
	ds_destroy(&ds);
}

TEST(independent_lists_keep_their_limits)
{
	struct datastore ds;
	struct cn_error err;
	size_t cap = 1 << 20, len;
	char *body = malloc(cap);

	REQUIRE(open_ds(&ds, NULL) == 0, "open");
	CHECK_EQ(edit(&ds, DS_MERGE, "",
		      "{\"cubenet-core:cubes\":{\"cube\":[{\"name\":\"r0\",\"type\":\"router\"}]},"
		      "\"cubenet-router:routers\":{\"router\":[{\"name\":\"r0\"}]}}",
		      &err),
		 0);
	/* 4,096 neighbours is the router's most (its map's size). */
	len = (size_t)snprintf(body, cap,
			       "{\"cubenet-router:router\":[{\"name\":\"r0\",\"neighbor\":[");
	for (int i = 0; i < 4096; i++)
		len +=
		    (size_t)snprintf(body + len, cap - len,
				     "%s{\"address\":\"10.%d.%d.1\",\"mac\":\"02:00:00:00:00:01\"}",
				     i ? "," : "", i / 256, i % 256);
	snprintf(body + len, cap - len, "]}]}");
	CHECK_EQ(edit(&ds, DS_MERGE, "/cubenet-router:routers/router[name='r0']", body, &err), 0);
	/* One more, alone in its change, still counts the 4,096 outside it. */
	CHECK(edit(&ds, DS_CREATE, "/cubenet-router:routers/router[name='r0']",
		   "{\"cubenet-router:neighbor\":[{\"address\":\"10.200.0.1\","
		   "\"mac\":\"02:00:00:00:00:02\"}]}",
		   &err) < 0,
	      "a 4,097th neighbour");
	CHECK_EQ(err.tag, CN_ERR_INVALID_VALUE);
	CHECK(strstr(err.message, "4096") != NULL, "message: %s", err.message);
	free(body);
	ds_destroy(&ds);
}

TEST(journal_replays_and_survives_a_torn_tail)
{
	char *dir = tmpdir(), path[128], *want = NULL, *got = NULL;
	struct datastore ds;
	struct cn_error err;

	REQUIRE(dir, "mkdtemp");
	REQUIRE(open_ds(&ds, dir) == 0, "open");
	for (int i = 0; i < 20; i++) {
		char *s = service_json(i, 2), body[4200];

		snprintf(body, sizeof(body), "{\"cubenet-pods:service\":[%s]}", s);
		CHECK_EQ(edit(&ds, DS_CREATE, "/cubenet-pods:services", body, &err), 0);
		free(s);
	}
	CHECK_EQ(edit(&ds, DS_DELETE, "/cubenet-pods:services/service[namespace='t'][name='s3']",
		      NULL, &err),
		 0);
	/* Back to a default: the journal says so (a delete of the explicit leaf). */
	CHECK_EQ(edit(&ds, DS_MERGE, "/cubenet-pods:services/service[namespace='t'][name='s4']",
		      "{\"cubenet-pods:service\":[{\"namespace\":\"t\",\"name\":\"s4\","
		      "\"session-affinity\":\"client-ip\"}]}",
		      &err),
		 0);
	want = config_of(&ds);
	CHECK_EQ(edit(&ds, DS_DELETE,
		      "/cubenet-pods:services/service[namespace='t'][name='s4']/session-affinity",
		      NULL, &err),
		 0);
	char *last = config_of(&ds);

	ds_destroy(&ds);
	REQUIRE(open_ds(&ds, dir) == 0, "reopen");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, last), "replayed config differs:\n%s\nvs\n%s", got, last);
	free(got);
	ds_destroy(&ds);

	/* A crash in the middle of the last record: it was never answered. */
	struct stat st;

	snprintf(path, sizeof(path), "%s/journal", dir);
	REQUIRE(stat(path, &st) == 0, "journal");
	REQUIRE(truncate(path, st.st_size - 7) == 0, "truncate");
	REQUIRE(open_ds(&ds, dir) == 0, "reopen after a torn write");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "torn tail not cut off:\n%s", got);
	free(got);
	/* And it keeps working from there. */
	CHECK_EQ(edit(&ds, DS_DELETE, "/cubenet-pods:services/service[namespace='t'][name='s5']",
		      NULL, &err),
		 0);
	ds_destroy(&ds);
	REQUIRE(open_ds(&ds, dir) == 0, "reopen after writing on");
	got = config_of(&ds);
	CHECK(got && !strstr(got, "\"s5\"") && strstr(got, "\"s6\""), "%s", got);
	free(got);
	ds_destroy(&ds);
	free(want);
	free(last);
	rmdir_all(dir);
}

TEST(a_corrupt_record_is_where_replay_stops)
{
	char *dir = tmpdir(), path[128], *got;
	struct datastore ds;
	struct cn_error err;
	int fd;

	REQUIRE(dir, "mkdtemp");
	REQUIRE(open_ds(&ds, dir) == 0, "open");
	for (int i = 0; i < 3; i++) {
		char *s = service_json(i, 1), body[4200];

		snprintf(body, sizeof(body), "{\"cubenet-pods:service\":[%s]}", s);
		CHECK_EQ(edit(&ds, DS_CREATE, "/cubenet-pods:services", body, &err), 0);
		free(s);
	}
	ds_destroy(&ds);
	/* Flip a byte inside the last record's body: its CRC no longer holds. */
	snprintf(path, sizeof(path), "%s/journal", dir);
	fd = open(path, O_RDWR);
	REQUIRE(fd >= 0, "open journal");
	off_t end = lseek(fd, 0, SEEK_END);

	CHECK_EQ(pwrite(fd, "Z", 1, end - 10), 1);
	close(fd);
	REQUIRE(open_ds(&ds, dir) == 0, "reopen");
	got = config_of(&ds);
	CHECK(got && strstr(got, "\"s1\"") && !strstr(got, "\"s2\""), "%s", got);
	free(got);
	ds_destroy(&ds);
	rmdir_all(dir);
}

/* The snapshot's first line: "cubenet-snapshot GEN [SCHEMA CRC]". */
static int snapshot_head(const char *dir, char *head, size_t size)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/snapshot", dir);
	f = fopen(path, "r");
	ok = f && fgets(head, (int)size, f);
	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

static int read_whole(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(*out = calloc(1, (size_t)len + 1)) || fread(*out, 1, (size_t)len, f) != (size_t)len) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int write_snapshot(const char *dir, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/snapshot", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A config saved under these very modules, intact, is restored without
 * validation; one of an older daemon, of other modules or edited by hand
 * is validated (and refused if invalid), then saved anew under these. */
TEST(a_saved_config_is_validated_unless_saved_under_these_modules)
{
	char *dir = tmpdir(), head[128], *want, *got;
	struct datastore ds;
	struct cn_error err;

	REQUIRE(dir, "mkdtemp");
	REQUIRE(open_ds(&ds, dir) == 0, "open");
	for (int i = 0; i < 3; i++) {
		char *s = service_json(i, 2), body[4200];

		snprintf(body, sizeof(body), "{\"cubenet-pods:service\":[%s]}", s);
		CHECK_EQ(edit(&ds, DS_CREATE, "/cubenet-pods:services", body, &err), 0);
		free(s);
	}
	CHECK_EQ(journal_snapshot(&ds.journal, ds.running, &err), 0);
	want = config_of(&ds);
	ds_destroy(&ds);

	REQUIRE(open_ds(&ds, dir) == 0, "reopen");
	CHECK(ds.journal.trusted, "saved by these modules, intact");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "restored without validation differs:\n%s", got);
	free(got);
	ds_destroy(&ds);

	/* An older daemon's header: validated, then stamped. */
	REQUIRE(snapshot_head(dir, head, sizeof(head)) == 0, "head");
	char path[128], *text;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/snapshot", dir);
	f = fopen(path, "r");
	REQUIRE(f, "snapshot");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 32);
	REQUIRE(text && fread(text, 1, (size_t)len, f) == (size_t)len, "read");
	fclose(f);
	char *body = strchr(text, '\n') + 1, *old = NULL;

	REQUIRE(asprintf(&old, "cubenet-snapshot 4\n%s", body) > 0, "old");
	REQUIRE(write_snapshot(dir, old) == 0, "write");
	REQUIRE(open_ds(&ds, dir) == 0, "reopen an older daemon's snapshot");
	CHECK(!ds.journal.trusted, "an older header is not trusted");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "validated config differs:\n%s", got);
	free(got);
	ds_destroy(&ds);
	REQUIRE(snapshot_head(dir, head, sizeof(head)) == 0, "head");
	CHECK(strcmp(head, "cubenet-snapshot 4\n") != 0, "stamped anew: %s", head);
	REQUIRE(open_ds(&ds, dir) == 0, "reopen");
	CHECK(ds.journal.trusted, "trusted once stamped");
	ds_destroy(&ds);

	/* Edited by hand into something invalid, the header kept: the CRC
	 * gives it away and validation refuses it. */
	REQUIRE(snapshot_head(dir, head, sizeof(head)) == 0, "head");
	char *bad = NULL;

	REQUIRE(asprintf(&bad,
			 "%s{\"cubenet-pods:node\":{\"node-port-range\":"
			 "{\"min\":32000,\"max\":31000}}}",
			 head) > 0,
		"bad");
	REQUIRE(write_snapshot(dir, bad) == 0, "write");
	CHECK(open_ds(&ds, dir) != 0, "an invalid snapshot restored");
	ds_destroy(&ds);
	free(bad);
	free(old);
	free(text);
	free(want);
	rmdir_all(dir);
}

/* The binary copy of the snapshot is used only when it is that very
 * snapshot's: a corrupt one, or one beside a snapshot edited by hand, is
 * passed over for the JSON. */
TEST(the_snapshot_cache_is_used_only_when_it_is_the_snapshots)
{
	char *dir = tmpdir(), path[128], *want, *got;
	struct datastore ds;
	struct cn_error err;
	struct stat st;

	REQUIRE(dir, "mkdtemp");
	REQUIRE(open_ds(&ds, dir) == 0, "open");
	for (int i = 0; i < 3; i++) {
		char *s = service_json(i, 2), body[4200];

		snprintf(body, sizeof(body), "{\"cubenet-pods:service\":[%s]}", s);
		CHECK_EQ(edit(&ds, DS_CREATE, "/cubenet-pods:services", body, &err), 0);
		free(s);
	}
	CHECK_EQ(journal_snapshot(&ds.journal, ds.running, &err), 0);
	want = config_of(&ds);
	ds_destroy(&ds);
	snprintf(path, sizeof(path), "%s/snapshot.lyb", dir);
	REQUIRE(stat(path, &st) == 0 && st.st_size > 64, "the cache is written");

	REQUIRE(open_ds(&ds, dir) == 0, "reopen from the cache");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "restored from the cache differs:\n%s", got);
	free(got);
	ds_destroy(&ds);

	/* The cache is what is read: a JSON that would not parse, stamped as
	 * sound, restores all the same. */
	char head0[128], *json = NULL, *stamped = NULL;
	uint64_t gen, schema;

	REQUIRE(snapshot_head(dir, head0, sizeof(head0)) == 0, "head");
	REQUIRE(sscanf(head0, "cubenet-snapshot %" SCNu64 " %" SCNx64, &gen, &schema) == 2, "%s",
		head0);
	snprintf(path, sizeof(path), "%s/snapshot", dir);
	REQUIRE(read_whole(path, &json) == 0, "read");
	const char *junk = "not JSON at all";

	REQUIRE(asprintf(&stamped, "cubenet-snapshot %" PRIu64 " %016" PRIx64 " %lx\n%s", gen,
			 schema, crc32(0, (const Bytef *)junk, (uInt)strlen(junk)), junk) > 0,
		"stamped");
	REQUIRE(write_snapshot(dir, stamped) == 0, "write");
	REQUIRE(open_ds(&ds, dir) == 0, "reopen with the cache and an unreadable JSON");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "the cache was not read:\n%s", got);
	free(got);
	ds_destroy(&ds);
	REQUIRE(write_snapshot(dir, json) == 0, "the JSON back");
	free(json);
	free(stamped);
	snprintf(path, sizeof(path), "%s/snapshot.lyb", dir);

	/* A byte of the cache flipped: its CRC fails, the JSON is read. */
	int fd = open(path, O_RDWR);

	REQUIRE(fd >= 0, "open cache");
	CHECK_EQ(pwrite(fd, "\x5a", 1, st.st_size - 5), 1);
	close(fd);
	REQUIRE(open_ds(&ds, dir) == 0, "reopen past a corrupt cache");
	got = config_of(&ds);
	CHECK(got && !strcmp(got, want), "restored past a corrupt cache differs:\n%s", got);
	free(got);
	CHECK(ds.journal.trusted, "the JSON is still trusted");
	/* A sound cache again, for what follows. */
	CHECK_EQ(journal_snapshot(&ds.journal, ds.running, &err), 0);
	ds_destroy(&ds);

	/* The JSON edited by hand (header kept, CRC now wrong): the edit wins
	 * over the sound cache, validated. */
	char head[128], *edited = NULL;

	REQUIRE(snapshot_head(dir, head, sizeof(head)) == 0, "head");
	REQUIRE(
	    asprintf(&edited, "%s{\"cubenet-pods:services\":{\"service\":[%s]}}", head,
		     "{\"namespace\":\"t\",\"name\":\"by-hand\",\"cluster-ip\":[\"10.96.9.9\"]}") >
		0,
	    "edited");
	REQUIRE(write_snapshot(dir, edited) == 0, "write");
	REQUIRE(open_ds(&ds, dir) == 0, "reopen a snapshot edited by hand");
	CHECK(!ds.journal.trusted, "an edited snapshot is not trusted");
	got = config_of(&ds);
	CHECK(got && strstr(got, "by-hand") && !strstr(got, "\"s1\""), "%s", got);
	free(got);
	ds_destroy(&ds);
	free(edited);
	free(want);
	rmdir_all(dir);
}

static const struct test_case cases[] = {
    TEST_ENTRY(a_change_costs_what_it_touches),
    TEST_ENTRY(a_failed_change_changes_nothing),
    TEST_ENTRY(yang_patch_edits_are_one_transaction),
    TEST_ENTRY(independent_lists_keep_their_limits),
    TEST_ENTRY(journal_replays_and_survives_a_torn_tail),
    TEST_ENTRY(a_corrupt_record_is_where_replay_stops),
    TEST_ENTRY(a_saved_config_is_validated_unless_saved_under_these_modules),
    TEST_ENTRY(the_snapshot_cache_is_used_only_when_it_is_the_snapshots),
};

int main(void)
{
	return test_run_all("datastore", cases, sizeof(cases) / sizeof(cases[0]));
}
