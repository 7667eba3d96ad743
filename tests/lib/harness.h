/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running cubes for real with BPF_PROG_TEST_RUN: load instances that share
 * one node's maps, wire them, feed crafted frames, read back the verdict,
 * the frame, the metadata and the counters.
 */
#ifndef CUBENET_TEST_HARNESS_H
#define CUBENET_TEST_HARNESS_H

#include "cube.h"
#include "pkt.h"
#include "lib/abi/meta.h"
#include "lib/abi/slowpath.h"

extern struct cube_shared harness_shared;

/* Root, BPF and a pinned CPU, or SKIP. Call first in main(). */
void harness_init(const char *suite);

/* Open, configure (optional hook), load; NULL on failure (reported). */
typedef int (*harness_setup_fn)(struct cube *cube, void *arg);
struct cube *harness_cube(const char *type, enum cube_hook hook, harness_setup_fn setup, void *arg);

struct run_result {
	int err;	 /* from bpf_prog_test_run_opts */
	uint32_t retval; /* the program's return code */
	uint8_t out[PKT_MAX];
	uint32_t out_len;
};

int harness_run(const struct cube *cube, const void *frame, size_t len, struct run_result *res);
/* Time one run repeated n times; returns mean ns per run or 0. */
uint32_t harness_time(const struct cube *cube, const void *frame, size_t len, uint32_t repeat);

/* The metadata left on this CPU by the last run. */
int harness_meta(struct cube_meta *meta);
void harness_meta_clear(void);
int harness_meta_set(const struct cube_meta *meta);

/* Next slow-path record, or -ENOENT if the ring is empty. */
int harness_slowpath_next(struct cube_slowpath_hdr *rec);

struct cube_stats harness_stats(const struct cube *cube);

/* Verdict codes as the hook spells them. */
uint32_t hook_ret_pass(enum cube_hook hook);
uint32_t hook_ret_drop(enum cube_hook hook);
uint32_t hook_ret_tx(enum cube_hook hook);
uint32_t hook_ret_redirect(enum cube_hook hook);
const char *hook_name(enum cube_hook hook);

/* Run every case once per hook, with *hook set for each pass; the exit code. */
struct test_case;
int harness_run_hooks(const char *suite, const struct test_case *cases, size_t n,
		      enum cube_hook *hook);

#endif
