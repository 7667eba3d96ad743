// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include "test.h"

int test_failures;

int test_run_all(const char *suite, const struct test_case *cases, size_t n)
{
	unsigned int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		test_failures = 0;
		cases[i].fn();
		if (test_failures) {
			failed++;
			printf("FAIL %s.%s (%d checks)\n", suite, cases[i].name, test_failures);
		} else {
			passed++;
			printf("ok   %s.%s\n", suite, cases[i].name);
		}
		fflush(stdout);
	}
	printf("%s: %u passed, %u failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

void test_skip(const char *suite, const char *why)
{
	printf("\n*** SKIP %s: %s ***\n\n", suite, why);
	exit(TEST_SKIP_CODE);
}
