#!/bin/bash
# Throughput (Mpps) of the wire ceiling, cubenet's L2DSR chain, the same
# cubes built as one program, and iptables DNAT at several frame sizes, with the live-frames generator (build/xdp-bench).
# Makes its own three namespaces and removes them, also on failure.
#   sudo benchmarks/xdp_bench.sh [SECONDS]
#   sudo benchmarks/xdp_bench.sh --quick   # one frame size, 1 s: a smoke run
#
#   gen: g0 <-> dut: d0 [XDP DUT, or stack + DNAT] d1 <-> snk: s0
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="60 124 252 508 1020 1276 1514"
SECONDS_PER_POINT=${1:-3}
if [ "${1:-}" = "--quick" ]; then
	SIZES=60
	SECONDS_PER_POINT=1
fi
T=cnb$$
cleanup() { for n in gen dut snk; do ip netns del "$T-$n" 2>/dev/null || true; done; }
trap cleanup EXIT
for n in gen dut snk; do
	ip netns add "$T-$n"
	ip -n "$T-$n" link set lo up
done
ip -n "$T-gen" link add g0 type veth peer name d0 netns "$T-dut"
ip -n "$T-dut" link add d1 type veth peer name s0 netns "$T-snk"
ip -n "$T-gen" link set g0 up
ip -n "$T-dut" link set d0 up
ip -n "$T-dut" link set d1 up
ip -n "$T-snk" link set s0 up
# The kube-proxy way: DNAT the VIP to a backend behind d1, through the stack.
ip -n "$T-dut" addr add 10.100.9.1/24 dev d0
ip -n "$T-dut" addr add 10.201.0.1/24 dev d1
ip -n "$T-snk" addr add 10.201.0.2/24 dev s0
s0_mac=$(ip -n "$T-snk" -j link show s0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip -n "$T-dut" neigh add 10.201.0.2 lladdr "$s0_mac" dev d1 nud permanent
ip netns exec "$T-dut" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.d0.rp_filter=0
ip netns exec "$T-dut" iptables -t nat -A PREROUTING -d 10.100.0.1 -p udp --dport 80 \
	-j DNAT --to-destination 10.201.0.2

echo "| frame (B) | ceiling | chain | monolithic | iptables DNAT | chain / ceiling | chain / monolithic | chain / DNAT |"
echo "|---|---|---|---|---|---|---|---|"
for len in $SIZES; do
	c=$(build/xdp-bench "$T-gen" "$T-dut" ceiling "$len" "$SECONDS_PER_POINT")
	l=$(build/xdp-bench "$T-gen" "$T-dut" chain "$len" "$SECONDS_PER_POINT")
	m=$(build/xdp-bench "$T-gen" "$T-dut" mono "$len" "$SECONDS_PER_POINT")
	d=$(build/xdp-bench "$T-gen" "$T-dut" dnat "$len" "$SECONDS_PER_POINT" "$T-snk")
	python3 - "$c" "$l" "$m" "$d" <<'PY'
import json, sys
c, l, m, d = (json.loads(a)["delivered_mpps"] for a in sys.argv[1:])
size = json.loads(sys.argv[1])["frame_len"]
print(f"| {size} | {c:.2f} | {l:.2f} | {m:.2f} | {d:.2f} | {l / c:.0%} | {l / m:.0%} | "
      f"{l / d:.1f}x |")
PY
done
