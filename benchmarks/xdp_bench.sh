#!/bin/bash
# Throughput of the wire ceiling and of cubenet's L2DSR chain at several
# frame sizes, with the live-frames generator (build/xdp-bench). Makes its
# own two namespaces and removes them, also on failure.
#   sudo benchmarks/xdp_bench.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_POINT=${1:-3}
T=cnb$$
cleanup() { ip netns del "$T-gen" 2>/dev/null || true; ip netns del "$T-dut" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$T-gen"
ip netns add "$T-dut"
ip -n "$T-gen" link add g0 type veth peer name d0 netns "$T-dut"
ip -n "$T-gen" link set g0 up
ip -n "$T-dut" link set d0 up
echo "| frame (B) | ceiling Mpps | chain Mpps | chain / ceiling |"
echo "|---|---|---|---|"
for len in 60 124 252 508 1020 1276 1514; do
	c=$(build/xdp-bench "$T-gen" "$T-dut" ceiling "$len" "$SECONDS_PER_POINT")
	l=$(build/xdp-bench "$T-gen" "$T-dut" chain "$len" "$SECONDS_PER_POINT")
	python3 - "$c" "$l" <<'PY'
import json, sys
c, l = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {c['frame_len']} | {c['delivered_mpps']:.2f} | {l['delivered_mpps']:.2f} | "
      f"{l['delivered_mpps'] / c['delivered_mpps']:.0%} |")
PY
done
