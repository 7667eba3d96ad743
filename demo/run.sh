#!/bin/bash
# cubenet demo: an L2DSR load balancer in XDP, configured through cubenetd's
# RESTCONF API, with real TCP traffic.
#
#   client ──┐                        ┌── backend be1 (VIP on lo)
#            ├── L2 segment (bridge) ─┼── backend be2 (VIP on lo)
#   lb ──────┘   10.77.0.0/24         └── backend be3 (VIP on lo, weight 2)
#
# cubenetd runs on the lb node; one PUT of the cubenet-lb config makes it
# compose parser -> classifier -> maglev -> l2rewrite and attach it to the
# node's eth0 in native XDP. The client sends to the VIP through the lb node;
# the chain rewrites the destination MAC to the chosen backend and transmits
# the frame back onto the segment; the backend answers the client directly
# (direct server return).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-300}
VIP=10.77.1.100
TAG=cn$$
NS_FAB=$TAG-fab NS_CLI=$TAG-cli NS_LB=$TAG-lb
BACKENDS=(be1 be2 be3)
WEIGHTS=(1 1 2)
DAEMON_PID=
RUN=/tmp/$TAG
SOCK=$RUN/cubenetd.sock
BPFFS=/sys/fs/bpf/cubenet-demo-$$

scripts/deps.sh
scripts/build.sh >/dev/null

cleanup() {
	set +e
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	for ns in "$NS_FAB" "$NS_CLI" "$NS_LB" "${BACKENDS[@]/#/$TAG-}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$RUN" "$BPFFS"
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

step "starting cubenetd on the lb node"
mkdir -p "$RUN"
# nsenter keeps the mounts (unlike ip netns exec), so pins land in /sys/fs/bpf.
nsenter --net="/run/netns/$NS_LB" build/cubenetd --socket "$SOCK" --state-dir "$RUN/state" \
	--bpffs "$BPFFS" >"$RUN/cubenetd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	[ -S "$SOCK" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$RUN/cubenetd.log"; exit 1; }
	sleep 0.05
done
cubectl() {
	printf '  $ cubectl %s\n' "$*"
	build/cubectl --socket "$SOCK" --cache-dir "$RUN/cache" "$@" | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

step "configuring the lb with cubectl (it drives the daemon's RESTCONF API)"
{
	echo "netdev: eth0"
	echo "vip:"
	echo "  - {address: $VIP, port: 80, protocol: tcp, table-size: 65537}"
} >"$RUN/lb0.yaml"
cat "$RUN/lb0.yaml" | sed 's/^/    /'
cubectl lb add lb0 -f "$RUN/lb0.yaml"
for i in "${!BACKENDS[@]}"; do
	cubectl lb0 vip "$VIP" 80 tcp backend add "${BACKENDS[$i]}" \
		"mac=02:77:00:00:01:0$((i + 1))" "address=10.77.0.1$((i + 1))" "weight=${WEIGHTS[$i]}"
done
ip -n "$NS_LB" link show eth0 | sed -n 's/^ *prog\/xdp/  attached in native XDP: prog\/xdp/p'
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

step "the daemon's counters"
cubectl lb0

step "removing the lb"
cubectl del lb0
if ip -n "$NS_LB" link show eth0 | grep -q prog/xdp; then
	echo "  the chain is still attached"
	exit 1
fi
echo "  detached; the lb node's eth0 is back to the kernel stack alone"
[ "$failed" -eq 0 ]
