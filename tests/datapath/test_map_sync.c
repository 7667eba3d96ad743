// SPDX-License-Identifier: Apache-2.0
/* map_sync: a map ends up holding exactly the wanted entries. */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "map_sync.h"
#include "test.h"

static uint32_t count(int fd)
{
	uint32_t key, next, n = 0;

	for (int rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     key = next, rc = bpf_map_get_next_key(fd, &key, &next))
		n++;
	return n;
}

TEST(sync_adds_updates_and_removes)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sync_test", 4, 8, 4096, NULL);
	uint32_t keys[3000];
	uint64_t vals[3000], v;

	REQUIRE(fd >= 0, "map");
	for (uint32_t i = 0; i < 3000; i++) {
		keys[i] = i * 7919u; /* unsorted on purpose */
		vals[i] = i;
	}
	CHECK_EQ(map_sync(fd, keys, vals, 3000, 4, 8), 0);
	CHECK_EQ(count(fd), 3000);
	/* Keep every third, change their values, add 100 new. */
	uint32_t k2[1100];
	uint64_t v2[1100];
	size_t n = 0;

	for (uint32_t i = 0; i < 3000; i += 3, n++) {
		k2[n] = keys[i];
		v2[n] = 1000000 + i;
	}
	for (uint32_t i = 0; i < 100; i++, n++) {
		k2[n] = 0xf0000000u + i;
		v2[n] = i;
	}
	CHECK_EQ(map_sync(fd, k2, v2, n, 4, 8), 0);
	CHECK_EQ(count(fd), n);
	for (size_t i = 0; i < n; i++) {
		CHECK(bpf_map_lookup_elem(fd, &k2[i], &v) == 0, "key %u missing", k2[i]);
		CHECK_EQ(v, v2[i]);
	}
	CHECK(bpf_map_lookup_elem(fd, &keys[1], &v) != 0, "stale key kept");
	CHECK_EQ(map_sync(fd, NULL, NULL, 0, 4, 8), 0);
	CHECK_EQ(count(fd), 0);
	close(fd);
}

static const struct test_case cases[] = {
    TEST_ENTRY(sync_adds_updates_and_removes),
};

int main(void)
{
	harness_init("map_sync");
	return test_run_all("map_sync", cases, sizeof(cases) / sizeof(cases[0]));
}
