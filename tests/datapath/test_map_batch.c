// SPDX-License-Identifier: Apache-2.0
/* Batched map reads and transactional writes on real kernel maps. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "map_batch.h"
#include "map_txn.h"
#include "test.h"

#define N 50000u

static int filled_array(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "batch_test", 4, 8, N, NULL);
	struct map_batch b;

	if (fd < 0)
		return fd;
	map_batch_init(&b, fd, 4, 8);
	for (uint32_t i = 0; i < N; i++) {
		uint64_t v = (uint64_t)i * 3 + 1;

		if (map_batch_add(&b, &i, &v))
			return -1;
	}
	int e = map_batch_flush(&b);

	map_batch_free(&b);
	return e ? e : fd;
}

TEST(read_array_from_the_start_from_inside_and_past_the_end)
{
	int fd = filled_array();
	uint64_t *v = calloc(N, sizeof(*v));

	REQUIRE(fd >= 0 && v, "map");
	CHECK_EQ(map_batch_read_array(fd, 0, N, 8, v), 0);
	for (uint32_t i = 0; i < N; i++)
		if (v[i] != (uint64_t)i * 3 + 1) {
			CHECK(0, "value %u: %llu", i, (unsigned long long)v[i]);
			break;
		}
	/* From inside: the first value read is key 12345's. */
	CHECK_EQ(map_batch_read_array(fd, 12345, 100, 8, v), 0);
	CHECK_EQ(v[0], 12345ull * 3 + 1);
	CHECK_EQ(v[99], 12444ull * 3 + 1);
	/* The last key alone, then beyond what the array holds. */
	CHECK_EQ(map_batch_read_array(fd, N - 1, 1, 8, v), 0);
	CHECK_EQ(v[0], (N - 1) * 3ull + 1);
	CHECK_EQ(map_batch_read_array(fd, N - 10, 20, 8, v), -ENOENT);
	free(v);
	close(fd);
}

TEST(txn_leaves_equal_entries_unwritten_and_undoes_the_rest)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "txn_test", 4, 8, 64, NULL);
	struct map_txn t = {0};
	uint32_t k1 = 1, k2 = 2;
	uint64_t one = 1, two = 2, v;

	REQUIRE(fd >= 0, "map");
	REQUIRE(bpf_map_update_elem(fd, &k1, &one, BPF_ANY) == 0, "seed");
	CHECK_EQ(map_txn_update(&t, fd, &k1, 4, &one, 8), 0);
	CHECK_EQ(t.n_writes, 0);
	CHECK_EQ(t.len, 0);
	CHECK_EQ(map_txn_update(&t, fd, &k1, 4, &two, 8), 0);
	CHECK_EQ(map_txn_update(&t, fd, &k2, 4, &two, 8), 0);
	CHECK_EQ(t.n_writes, 2);
	CHECK_EQ(map_txn_abort(&t), 0);
	CHECK(bpf_map_lookup_elem(fd, &k1, &v) == 0 && v == 1, "k1 back to 1");
	CHECK(bpf_map_lookup_elem(fd, &k2, &v) != 0 && errno == ENOENT, "k2 gone again");
	map_txn_free(&t);
	close(fd);
}

static const struct test_case cases[] = {
    TEST_ENTRY(read_array_from_the_start_from_inside_and_past_the_end),
    TEST_ENTRY(txn_leaves_equal_entries_unwritten_and_undoes_the_rest),
};

int main(void)
{
	harness_init("map_batch");
	return test_run_all("map_batch", cases, sizeof(cases) / sizeof(cases[0]));
}
