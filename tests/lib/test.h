/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small test runner: TEST() cases registered in a table, CHECK macros that
 * record a failure and carry on, and the plain closing line
 * "N passed, N failed". A test that cannot run here (no root, no BPF) exits
 * TEST_SKIP_CODE after saying SKIP loudly; ctest reports it as skipped.
 */
#ifndef CUBENET_TEST_H
#define CUBENET_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SKIP_CODE 77

extern int test_failures; /* in the current case */

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_failures++;                                                           \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                   \
		if (_a != _b) {                                                                    \
			test_failures++;                                                           \
			fprintf(stderr, "  %s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",  \
				__FILE__, __LINE__, #a, #b, _a, _b);                               \
		}                                                                                  \
	} while (0)

/* Compare buffers; on mismatch, print the first differing offset. */
#define CHECK_MEM(a, b, len)                                                                       \
	do {                                                                                       \
		const uint8_t *_x = (const void *)(a), *_y = (const void *)(b);                    \
		size_t _n = (len);                                                                 \
		for (size_t _i = 0; _i < _n; _i++) {                                               \
			if (_x[_i] != _y[_i]) {                                                    \
				test_failures++;                                                   \
				fprintf(stderr,                                                    \
					"  %s:%d: %s and %s differ at byte %zu: %02x != %02x\n",   \
					__FILE__, __LINE__, #a, #b, _i, _x[_i], _y[_i]);           \
				break;                                                             \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* Stop the current case: the rest depends on this. cond is evaluated once,
 * as it may consume something (a slow-path record). */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_failures++;                                                           \
			fprintf(stderr, "  %s:%d: REQUIRE(%s) failed: ", __FILE__, __LINE__,       \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			return;                                                                    \
		}                                                                                  \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void name(void)
#define TEST_ENTRY(name)                                                                           \
	{                                                                                          \
#name, name                                                                        \
	}

/* Runs the cases, prints the closing line, returns the exit code. */
int test_run_all(const char *suite, const struct test_case *cases, size_t n);
/* Print why the suite cannot run and exit with TEST_SKIP_CODE. */
void test_skip(const char *suite, const char *why) __attribute__((noreturn));

#endif
