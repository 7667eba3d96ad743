// SPDX-License-Identifier: Apache-2.0
/*
 * Pinned cubes loaded again with other map sizes (what a daemon does when
 * a service outgrows its maps): every entry of a resized map is carried
 * into the new one, whatever its key size. A router's IPv6 routes (20-byte
 * keys) and IPv4 ones (8 bytes), on a bpffs of the test's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include "cube.h"
#include "cube_pin.h"
#include "harness.h"
#include "test.h"
#include "lib/abi/router.h"

#define N_ROUTES 3000u

static char root[] = "/tmp/cube-pin-XXXXXX";

static struct router_lpm6_key key6(uint32_t i)
{
	struct router_lpm6_key k = {.prefixlen = 64};

	k.addr[0] = 0xfd;
	k.addr[4] = (uint8_t)(i >> 8);
	k.addr[5] = (uint8_t)i;
	return k;
}

static struct router_lpm4_key key4(uint32_t i)
{
	return (struct router_lpm4_key){24, htonl(0x0a000000u | i << 8)};
}

/* The router cube, pinned under dir, its route maps max entries each. */
static struct cube *router_pinned(const struct cube_shared *shared, const char *dir,
				  uint32_t max_entries)
{
	struct cube *c = NULL;

	if (cube_open(&c, "router", CUBE_HOOK_TC, 1) ||
	    cube_set_map_size(c, "router_routes4", max_entries) ||
	    cube_set_map_size(c, "router_routes6", max_entries) ||
	    cube_load_pinned(c, shared, dir)) {
		cube_destroy(c);
		return NULL;
	}
	return c;
}

TEST(a_resized_map_keeps_every_entry_whatever_its_key_size)
{
	struct cube_shared shared;
	char dir[128];
	struct cube *c;

	snprintf(dir, sizeof(dir), "%s/cubes/router", root);
	REQUIRE(!cube_shared_open_pinned(&shared, root), "shared maps");
	c = router_pinned(&shared, dir, ROUTER_MAX_ROUTES);
	REQUIRE(c, "first load");
	for (uint32_t i = 0; i < N_ROUTES; i++) {
		struct router_lpm6_key k6 = key6(i);
		struct router_lpm4_key k4 = key4(i);
		struct router_route r = {.port = i % 7, .flags = ROUTER_ROUTE_F_GATEWAY};

		r.nexthop.ip4 = htonl(i);
		REQUIRE(
		    !bpf_map_update_elem(cube_map_fd(c, "router_routes6"), &k6, &r, BPF_ANY) &&
			!bpf_map_update_elem(cube_map_fd(c, "router_routes4"), &k4, &r, BPF_ANY),
		    "fill");
	}
	cube_destroy(c);

	c = router_pinned(&shared, dir, 2 * ROUTER_MAX_ROUTES);
	REQUIRE(c, "load with bigger maps");
	uint32_t missing6 = 0, missing4 = 0, wrong = 0;

	for (uint32_t i = 0; i < N_ROUTES; i++) {
		struct router_lpm6_key k6 = key6(i);
		struct router_lpm4_key k4 = key4(i);
		struct router_route r;

		if (bpf_map_lookup_elem(cube_map_fd(c, "router_routes6"), &k6, &r))
			missing6++;
		else
			wrong += r.port != i % 7 || r.nexthop.ip4 != htonl(i);
		if (bpf_map_lookup_elem(cube_map_fd(c, "router_routes4"), &k4, &r))
			missing4++;
		else
			wrong += r.port != i % 7 || r.nexthop.ip4 != htonl(i);
	}
	CHECK_EQ(missing6, 0);
	CHECK_EQ(missing4, 0);
	CHECK_EQ(wrong, 0);
	cube_destroy(c);
	cube_unpin_dir(dir);
	cube_shared_close(&shared);
}

static const struct test_case cases[] = {
    TEST_ENTRY(a_resized_map_keeps_every_entry_whatever_its_key_size),
};

int main(void)
{
	int rc;

	harness_init("cube_pin");
	if (!mkdtemp(root) || mount("bpf", root, "bpf", 0, NULL)) {
		printf("SKIP cube_pin: cannot mount a bpffs (needs root)\n");
		if (root[0])
			rmdir(root);
		return TEST_SKIP_CODE;
	}
	rc = test_run_all("cube_pin", cases, sizeof(cases) / sizeof(cases[0]));
	umount2(root, MNT_DETACH);
	rmdir(root);
	return rc;
}
