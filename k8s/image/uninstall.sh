#!/bin/sh
# Take cubenet off this node: what cubenetd made (programs, TC filters,
# XDP attachments, pins, cubenet0 and its routes) and what the install step
# wrote (the CNI plugin, its conflist, IPAM state, cubenetd's state).
#
# cubenetd knows what it made and takes it down when its config goes, so
# this runs it (unless it is running already): with its state and pins it
# adopts the datapath the DaemonSet left, `cubenet-agent --uninstall`
# removes every config it holds through its API and then the CNI files,
# and the daemon stops. A pin left of anything but the maps all cubes
# share fails the run.
# In the node image as /usr/local/bin/cubenet-uninstall (see
# k8s/manifests/uninstall.yaml); paths from the environment:
#   CUBENET_SOCKET CUBENET_STATE_DIR CUBENET_BPFFS CUBENET_YANG_DIR
#   CNI_CONF_DIR CNI_BIN_DIR
set -eu
socket=${CUBENET_SOCKET:-/run/cubenet/cubenetd.sock}
state=${CUBENET_STATE_DIR:-/var/lib/cubenet}
bpffs=${CUBENET_BPFFS:-/sys/fs/bpf/cubenet}
conf=${CNI_CONF_DIR:-/host/etc/cni/net.d}
bin=${CNI_BIN_DIR:-/host/opt/cni/bin}

say() { echo "cubenet-uninstall: $*" >&2; }

pid=
if ! cubectl --socket "$socket" show -o json >/dev/null 2>&1; then
	mkdir -p "$(dirname "$socket")"
	rm -f "$socket"
	cubenetd --socket "$socket" --state-dir "$state" --bpffs "$bpffs" \
		${CUBENET_YANG_DIR:+--yang-dir "$CUBENET_YANG_DIR"} &
	pid=$!
	tries=0
	until cubectl --socket "$socket" show -o json >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ "$tries" -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
			say "cubenetd did not start"
			exit 1
		fi
		sleep 0.05
	done
fi
rc=0
cubenet-agent --uninstall --socket "$socket" --cni-conf-dir "$conf" --cni-bin-dir "$bin" \
	--ipam-dir "$state/ipam" || rc=1
if [ -n "$pid" ]; then
	kill "$pid"
	wait "$pid" || true
fi
rm -f "$socket"
if [ -d "$bpffs" ]; then
	# The maps every cube shares stay pinned while cubenetd runs, cubes or
	# none; with the daemon stopped and no cube left, they go too. A pin of
	# anything else means cubenetd kept part of a datapath: that fails.
	rm -rf "$bpffs/shared"
	left=$(find "$bpffs" -type f | head -n 20)
	if [ -n "$left" ]; then
		say "pins left under $bpffs:"
		echo "$left" >&2
		rc=1
	else
		rm -rf "$bpffs"
	fi
fi
if [ "$rc" -eq 0 ] && [ -d "$state" ]; then
	for f in "$state"/* "$state"/.[!.]*; do
		if [ -e "$f" ]; then rm -rf "$f"; fi
	done
fi
[ "$rc" -eq 0 ] && say "done: nothing of cubenet is left on this node"
exit "$rc"
