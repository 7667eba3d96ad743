// SPDX-License-Identifier: Apache-2.0
/*
 * The L2DSR chain as one program: the same four cube sources, compiled
 * into one object where forwarding out of a port is a direct call of the
 * next stage instead of a tail call. Everything else (metadata slot,
 * counters, maps) stays as in the cubes, so the difference measured
 * against the chain is what the tail calls cost.
 *
 * Stages are included last to first, so each can call the one after it.
 */
#include "lib/chain.h"

#undef CUBE_ENTRY
#define CUBE_ENTRY(name) static __always_inline int name(CUBE_CTX *ctx)

/* l2rewrite: out of its port = transmit back. */
#undef cube_out
#define cube_out(ctx, st, port) cube_tx(ctx, st)
#include "l2rewrite.bpf.c"

#undef cube_out
#define cube_out(ctx, st, port) cube_l2rewrite(ctx)
#include "maglev.bpf.c"

#undef cube_out
#define cube_out(ctx, st, port) ((port) == CLASSIFIER_PORT_HIT ? cube_maglev(ctx) : cube_pass(st))
#include "classifier.bpf.c"

#undef cube_out
#define cube_out(ctx, st, port) cube_classifier(ctx)
#include "parser.bpf.c"

SEC("xdp.frags")
int mono_l2dsr(struct xdp_md *ctx)
{
	return cube_parser(ctx);
}
