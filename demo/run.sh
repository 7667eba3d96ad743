#!/bin/bash
# cubenet demo: an L2DSR load balancer in XDP, with real TCP traffic.
#
#   client ──┐                        ┌── backend be1 (VIP on lo)
#            ├── L2 segment (bridge) ─┼── backend be2 (VIP on lo)
#   lb ──────┘   10.77.0.0/24         └── backend be3 (VIP on lo, weight 2)
#
# The client sends to the VIP through the lb node; cubenet's chain
# (parser -> classifier -> maglev -> l2rewrite) rewrites the destination MAC
# to the chosen backend and transmits the frame back onto the segment; the
# backend answers the client directly (direct server return).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-300}
VIP=10.77.1.100
TAG=cn$$
NS_FAB=$TAG-fab NS_CLI=$TAG-cli NS_LB=$TAG-lb
BACKENDS=(be1 be2 be3)
WEIGHTS=(1 1 2)
LB_PID=

scripts/deps.sh
scripts/build.sh >/dev/null

cleanup() {
	set +e
	[ -n "$LB_PID" ] && kill "$LB_PID" 2>/dev/null && wait "$LB_PID" 2>/dev/null
	for ns in "$NS_FAB" "$NS_CLI" "$NS_LB" "${BACKENDS[@]/#/$TAG-}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

# host NAME IP MAC: a namespace with one veth onto the bridge.
host() {
	local name=$1 ip=$2 mac=$3 ns=$TAG-$1
	ip netns add "$ns"
	ip link add eth0 netns "$ns" address "$mac" type veth peer name "$name" netns "$NS_FAB"
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$NS_FAB" link set "$name" master br0 up
	# Finish checksums in software, as a real NIC would on the wire: a veth
	# otherwise hands on partial checksums that do not survive an XDP hop.
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
}

step "building the topology (namespaces prefixed $TAG-)"
ip netns add "$NS_FAB"
ip -n "$NS_FAB" link add br0 type bridge
ip -n "$NS_FAB" link set br0 up
host cli 10.77.0.10 02:77:00:00:00:10
host lb 10.77.0.2 02:77:00:00:00:02
for i in "${!BACKENDS[@]}"; do
	b=${BACKENDS[$i]}
	host "$b" "10.77.0.1$((i + 1))" "02:77:00:00:01:0$((i + 1))"
	ns=$TAG-$b
	# The VIP lives on loopback; the backend must not answer ARP for it.
	ip -n "$ns" addr add "$VIP/32" dev lo
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	mkdir -p "/tmp/$TAG/$b"
	echo "$b" >"/tmp/$TAG/$b/index.html"
	ip netns exec "$ns" python3 -m http.server 80 --bind "$VIP" --directory "/tmp/$TAG/$b" \
		>/dev/null 2>&1 &
done
# The client reaches the VIP through the lb node.
ip -n "$NS_CLI" route add "$VIP/32" via 10.77.0.2
# Native XDP_TX on a veth reaches the peer only if the peer runs XDP too.
ip -n "$NS_FAB" link set dev lb xdpdrv obj build/pass.bpf.o sec xdp

step "starting cubenet's L2DSR chain on the lb node"
backend_args=()
for i in "${!BACKENDS[@]}"; do
	backend_args+=("${BACKENDS[$i]}=02:77:00:00:01:0$((i + 1))@${WEIGHTS[$i]}")
done
ip netns exec "$NS_LB" build/cubenet-lb-demo eth0 "$VIP" 80 tcp "${backend_args[@]}" \
	>"/tmp/$TAG/lb.out" 2>&1 &
LB_PID=$!
for _ in $(seq 50); do
	grep -q attached "/tmp/$TAG/lb.out" 2>/dev/null && break
	kill -0 "$LB_PID" 2>/dev/null || { cat "/tmp/$TAG/lb.out"; exit 1; }
	sleep 0.1
done
cat "/tmp/$TAG/lb.out"
for b in "${BACKENDS[@]}"; do # wait for the web servers
	for _ in $(seq 50); do
		ip netns exec "$TAG-$b" bash -c "exec 3<>/dev/tcp/$VIP/80" 2>/dev/null && break
		sleep 0.1
	done
done

step "$CONNECTIONS HTTP requests from the client to http://$VIP/ (one TCP connection each)"
declare -A answers=()
failed=0
for _ in $(seq "$CONNECTIONS"); do
	if who=$(ip netns exec "$NS_CLI" curl -s --max-time 2 "http://$VIP/"); then
		answers[$who]=$((${answers[$who]:-0} + 1))
	else
		failed=$((failed + 1))
	fi
done
printf '  %-10s %6s %9s %7s\n' backend weight answered share
for i in "${!BACKENDS[@]}"; do
	b=${BACKENDS[$i]}
	n=${answers[$b]:-0}
	printf '  %-10s %6s %9d %6.1f%%\n' "$b" "${WEIGHTS[$i]}" "$n" "$(echo "scale=1; 100*$n/$CONNECTIONS" | bc 2>/dev/null || echo 0)"
done
echo "  failed: $failed"

step "direct server return: replies bypass the lb node"
lb_rx=$(ip netns exec "$NS_LB" cat /sys/class/net/eth0/statistics/rx_packets)
cli_rx=$(ip netns exec "$NS_CLI" cat /sys/class/net/eth0/statistics/rx_packets)
echo "  client received $cli_rx packets; the lb node received $lb_rx (requests only)"

kill -INT "$LB_PID"
wait "$LB_PID" || true
LB_PID=
sed -n '/LB datapath/,$p' "/tmp/$TAG/lb.out"
rm -rf "/tmp/$TAG"
[ "$failed" -eq 0 ]
