// SPDX-License-Identifier: Apache-2.0
/* A test cube that rejects every packet the parser hands it, so the tests
 * can drive lib/reject.h over any frame. */
#include "lib/chain.h"
#include "lib/reject.h"

CUBE_ENTRY(cube_reject_test)
{
	struct cube_stats *st = cube_stats_get();
	struct cube_meta *meta = cube_meta_get();

	if (!meta)
		return cube_drop(st, CUBE_DROP_NO_META);
	cube_count_rx(st, meta->pkt_len);
	return cube_reject(ctx, st, meta);
}
