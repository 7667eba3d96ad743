// SPDX-License-Identifier: Apache-2.0
/* RESTCONF data resource identifiers (RFC 8040 3.5.3) to libyang paths, and
 * every way one can be wrong. */
#include <libyang/libyang.h>
#include "restconf_path.h"
#include "test.h"

static struct ly_ctx *ctx;

static const char *const modules[] = {"cubenet-core", "cubenet-pods", "cubenet-router", NULL};

static void expect(const char *uri, const char *want)
{
	const struct lysc_node *snode = NULL;
	struct cn_error err = {0};
	char out[1024];
	int rc = restconf_path_to_xpath(ctx, uri, out, sizeof(out), &snode, &err);

	CHECK(rc == 0, "'%s' refused: %s", uri, err.message);
	if (!rc)
		CHECK(!strcmp(out, want), "'%s' -> '%s', not '%s'", uri, out, want);
}

static void refused(const char *uri, enum cn_err_tag tag)
{
	const struct lysc_node *snode = NULL;
	struct cn_error err = {0};
	char out[1024];

	CHECK(restconf_path_to_xpath(ctx, uri, out, sizeof(out), &snode, &err) < 0,
	      "'%s' accepted as '%s'", uri, out);
	CHECK(err.tag == tag, "'%s': tag %d, not %d (%s)", uri, err.tag, tag, err.message);
}

TEST(paths)
{
	expect("", "");
	expect("cubenet-core:cubes", "/cubenet-core:cubes");
	expect("cubenet-core:cubes/cube=r0/port=1",
	       "/cubenet-core:cubes/cube[name='r0']/port[id='1']");
	expect("cubenet-pods:services/service=team-a,web",
	       "/cubenet-pods:services/service[namespace='team-a'][name='web']");
	/* Percent-encoded key values: the comma and the slash are data. */
	expect("cubenet-pods:services/service=a%2Cb,c%2Fd",
	       "/cubenet-pods:services/service[namespace='a,b'][name='c/d']");
	/* A quote in a value picks the other quote. */
	expect("cubenet-pods:services/service=o'k,x",
	       "/cubenet-pods:services/service[namespace=\"o'k\"][name='x']");
	expect(
	    "cubenet-pods:services/service=a,b/endpoint=10.0.0.1",
	    "/cubenet-pods:services/service[namespace='a'][name='b']/endpoint[address='10.0.0.1']");
	expect("cubenet-pods:services/service=a,b/cluster-ip=10.96.0.1",
	       "/cubenet-pods:services/service[namespace='a'][name='b']/cluster-ip[.='10.96.0.1']");
}

TEST(bad_paths)
{
	refused("nomodule:cubes", CN_ERR_DATA_MISSING);
	refused("cubes", CN_ERR_MALFORMED); /* the first segment names its module */
	refused("cubenet-core:nothing", CN_ERR_DATA_MISSING);
	refused("cubenet-core:cubes/cube=r0/nothing", CN_ERR_DATA_MISSING);
	refused("cubenet-core:cubes=x", CN_ERR_MALFORMED); /* not a list */
	refused("cubenet-core:cubes/cube=g3%00anything", CN_ERR_MALFORMED);
	refused("cubenet-core:cubes/cube=%4", CN_ERR_MALFORMED);
	refused("cubenet-core:cubes/cube=%zz", CN_ERR_MALFORMED);
	refused("cubenet-core:cubes/cube=%ff%fe", CN_ERR_MALFORMED);	    /* not UTF-8 */
	refused("cubenet-core:cubes/cube=%ed%a0%80", CN_ERR_MALFORMED);	    /* a surrogate */
	refused("cubenet-pods:services/service=o'k\",x", CN_ERR_MALFORMED); /* both quotes */
	refused("cubenet-core:reset-counters", CN_ERR_DATA_MISSING);	    /* an RPC, not data */
}

int main(void)
{
	static const struct test_case cases[] = {TEST_ENTRY(paths), TEST_ENTRY(bad_paths)};

	if (ly_ctx_new(CUBENET_YANG_DIR, 0, &ctx))
		return 1;
	ly_log_options(LY_LOSTORE);
	for (const char *const *m = modules; *m; m++)
		if (!ly_ctx_load_module(ctx, *m, NULL, NULL))
			return 1;
	int rc = test_run_all("restconf_path", cases, sizeof(cases) / sizeof(cases[0]));

	ly_ctx_destroy(ctx);
	return rc;
}
