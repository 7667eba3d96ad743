// SPDX-License-Identifier: Apache-2.0
/* Dense ids: O(1) allocation, a grace period before reuse, transactions. */
#include <errno.h>
#include <time.h>
#include "id_pool.h"
#include "test.h"

static void wait_grace(void)
{
	struct timespec ts = {0, (long)ID_POOL_GRACE_NS + 5000000};

	nanosleep(&ts, NULL);
}

TEST(dense_and_bounded)
{
	struct id_pool p;
	uint32_t id;

	REQUIRE(id_pool_init(&p, 4) == 0, "init");
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(id_pool_alloc(&p, &id), 0);
		CHECK_EQ(id, i);
	}
	CHECK_EQ(id_pool_alloc(&p, &id), -ENOSPC);
	id_pool_commit(&p);
	CHECK_EQ(p.n_used, 4);
	id_pool_free_all(&p);
}

TEST(freed_ids_wait_out_their_grace)
{
	struct id_pool p;
	uint32_t id;

	REQUIRE(id_pool_init(&p, 8) == 0, "init");
	for (uint32_t i = 0; i < 3; i++)
		id_pool_alloc(&p, &id);
	id_pool_commit(&p);
	CHECK_EQ(id_pool_release(&p, 1), 0);
	CHECK(id_pool_is_used(&p, 1), "released ids are freed only at commit");
	id_pool_commit(&p);
	CHECK(!id_pool_is_used(&p, 1), "freed at commit");
	/* Within the grace period a new id comes from the top, not 1. */
	CHECK_EQ(id_pool_alloc(&p, &id), 0);
	CHECK_EQ(id, 3);
	id_pool_commit(&p);
	wait_grace();
	CHECK_EQ(id_pool_alloc(&p, &id), 0);
	CHECK_EQ(id, 1);
	CHECK_EQ(id_pool_release(&p, 7), -ENOENT); /* never held */
	id_pool_free_all(&p);
}

TEST(abort_gives_back_and_keeps)
{
	struct id_pool p;
	uint32_t id;

	REQUIRE(id_pool_init(&p, 8) == 0, "init");
	id_pool_alloc(&p, &id); /* 0 */
	id_pool_commit(&p);
	id_pool_alloc(&p, &id); /* 1, taken by a change that fails */
	CHECK_EQ(id_pool_release(&p, 0), 0);
	id_pool_abort(&p);
	CHECK(id_pool_is_used(&p, 0), "a release the change made is undone");
	CHECK(!id_pool_is_used(&p, 1), "an id the change took is free again");
	CHECK_EQ(p.n_used, 1);
	/* ...but not at once: the datapath may have seen it. */
	CHECK_EQ(id_pool_alloc(&p, &id), 0);
	CHECK_EQ(id, 2);
	id_pool_free_all(&p);
}

TEST(reserve_adopts_what_a_datapath_holds)
{
	struct id_pool p;
	uint32_t id;

	REQUIRE(id_pool_init(&p, 16) == 0, "init");
	CHECK_EQ(id_pool_reserve(&p, 5), 0);
	CHECK_EQ(id_pool_reserve(&p, 2), 0); /* below top: out of order is fine */
	CHECK_EQ(id_pool_reserve(&p, 5), -EEXIST);
	CHECK_EQ(id_pool_reserve(&p, 16), -ERANGE);
	CHECK_EQ(p.n_used, 2);
	/* The gaps wait out a grace period, as if just freed. */
	CHECK_EQ(id_pool_alloc(&p, &id), 0);
	CHECK_EQ(id, 6);
	id_pool_commit(&p);
	wait_grace();
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(id_pool_alloc(&p, &id), 0);
		CHECK(id != 2 && id != 5 && id != 6, "handed out a held id %u", id);
	}
	id_pool_free_all(&p);
}

static const struct test_case cases[] = {
    TEST_ENTRY(dense_and_bounded),
    TEST_ENTRY(freed_ids_wait_out_their_grace),
    TEST_ENTRY(abort_gives_back_and_keeps),
    TEST_ENTRY(reserve_adopts_what_a_datapath_holds),
};

int main(void)
{
	return test_run_all("id_pool", cases, sizeof(cases) / sizeof(cases[0]));
}
