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
api() { # METHOD PATH [BODY]
	curl -sS --fail-with-body --unix-socket "$SOCK" -X "$1" \
		-H 'Content-Type: application/yang-data+json' "http://localhost/restconf/data$2" \
		${3:+-d "$3"}
}

step "configuring the lb through the API: PUT /restconf/data/cubenet-lb:lbs"
backends_json=
for i in "${!BACKENDS[@]}"; do
	backends_json+="${backends_json:+,}{\"name\": \"${BACKENDS[$i]}\", \"mac\": \"02:77:00:00:01:0$((i + 1))\", \"address\": \"10.77.0.1$((i + 1))\", \"weight\": ${WEIGHTS[$i]}}"
done
config="{\"cubenet-lb:lbs\": {\"lb\": [{\"name\": \"lb0\", \"netdev\": \"eth0\",
  \"vip\": [{\"address\": \"$VIP\", \"port\": 80, \"protocol\": \"tcp\", \"backend\": [$backends_json]}]}]}}"
echo "$config" | python3 -m json.tool | sed 's/^/  /'
api PUT /cubenet-lb:lbs "$config"
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

step "the daemon's counters: GET /restconf/data/cubenet-lb:lbs"
api GET /cubenet-lb:lbs | python3 -c '
import json, sys
lb = json.load(sys.stdin)["cubenet-lb:lbs"]["lb"][0]
st = lb["statistics"]
print("  chain: %s packets in, %s forwarded to backends, %s not for a VIP (to the stack)"
      % (st["rx-packets"], st["forwarded"], st["not-for-a-vip"]))
for d in st.get("drop", []):
    print("  dropped (%s): %s" % (d["reason"], d["packets"]))
for vip in lb["vip"]:
    print("  VIP %s:%s/%s: %s packets, %s bytes" % (vip["address"], vip["port"], vip["protocol"],
          vip["statistics"]["packets"], vip["statistics"]["bytes"]))
    print("    %-10s %6s %9s %12s" % ("backend", "weight", "packets", "bytes"))
    for b in vip["backend"]:
        print("    %-10s %6s %9s %12s" % (b["name"], b["weight"], b["statistics"]["packets"],
              b["statistics"]["bytes"]))
'

step "removing the lb through the API: DELETE /restconf/data/cubenet-lb:lbs"
api DELETE /cubenet-lb:lbs
if ip -n "$NS_LB" link show eth0 | grep -q prog/xdp; then
	echo "  the chain is still attached"
	exit 1
fi
echo "  detached; the lb node's eth0 is back to the kernel stack alone"
[ "$failed" -eq 0 ]
