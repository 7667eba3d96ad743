#!/bin/bash
# Run a command of this project inside a brand-new Debian 12 root, so that
# nothing installed on this machine by hand can stand in for an install step.
#
#   scripts/fresh-root.sh scripts/test.sh        # the README's test command
#   scripts/fresh-root.sh demo/run.sh            # the demo
#   scripts/fresh-root.sh bash                   # a shell in the new root
#
# The root is a copy of a minimal debootstrap (plus what a new machine of
# ours starts with: gcc, make, cmake, git, python3) with /proc, /sys (bpffs
# included) and /dev bound in; the project arrives as a clean clone of its
# committed HEAD. Downloads and expensive builds are kept in caches outside
# the clone, under $CUBENET_CACHE (default /var/cache/cubenet), and bound in:
#   base/      the pristine debootstrap, copied for every run
#   apt/       apt's package downloads (.debs only: apt-get still installs
#              every package inside the root, every run)
#   kube/ ...  builds the tests need (the kube-apiserver), at the same path
# Each cache is rebuilt from nothing when absent. FRESH_ROOT_KEEP=1 keeps
# the root after the run (its path is printed).
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: needs root (chroot, mounts)" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: scripts/fresh-root.sh COMMAND [ARGS...]" >&2; exit 2; }

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cache=${CUBENET_CACHE:-/var/cache/cubenet}
base=$cache/base/bookworm
root=$(mktemp -d /var/tmp/cubenet-root.XXXXXX)
# What a new machine of ours has before any project command runs.
image_basics=ca-certificates,git,gcc,make,cmake,python3,procps,iproute2,sudo

archive() { # the Debian archive this machine's apt uses
	local sources=/etc/apt/sources.list.d/debian.sources url
	url=$(awk '/^URIs:/ {print $2; exit}' "$sources" 2>/dev/null || true)
	[ -n "$url" ] || url=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$url" ] || { echo "fresh-root: no Debian archive in apt's sources" >&2; exit 2; }
	echo "$url"
}

make_base() {
	command -v debootstrap >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			debootstrap >/dev/null
	}
	local tmp=$base.partial log=$cache/base/debootstrap.log
	rm -rf "$tmp"
	mkdir -p "$tmp" "$cache/apt"
	echo "fresh-root: debootstrap bookworm (once; log in $log)"
	# --cache-dir keeps the base's own .debs for the next time the base goes.
	debootstrap --variant=minbase --include="$image_basics" --cache-dir="$cache/apt" \
		bookworm "$tmp" "$(archive)" >"$log" 2>&1 ||
		{ echo "fresh-root: debootstrap failed, see $log" >&2; tail -5 "$log" >&2; exit 2; }
	# The same archive sections as this machine (updates, security).
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/"
		rm -f "$tmp/etc/apt/sources.list"
	fi
	# apt must keep what it downloads in the bound cache, not delete it.
	rm -f "$tmp/etc/apt/apt.conf.d/docker-clean"
	echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' \
		>"$tmp/etc/apt/apt.conf.d/10keep-downloads"
	mv "$tmp" "$base"
}

cleanup() {
	local rc=$?
	if [ -n "${FRESH_ROOT_KEEP:-}" ]; then
		echo "fresh-root: kept $root"
	elif findmnt -rn -o TARGET | grep -q "^$root"; then
		# Never delete through a mount that is still there (the caches).
		echo "fresh-root: $root still has mounts; left in place" >&2
	else
		rm -rf --one-file-system "$root"
	fi
	exit "$rc"
}
trap cleanup EXIT

[ -x "$base/bin/bash" ] || make_base
cp -a "$base/." "$root/"
git clone -q "$repo" "$root/src/cubenet"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root$cache"

# The root becomes / of a mount namespace of its own (pivot_root, not
# chroot: a container runtime inside joins its containers' namespaces at
# their /, which under a chroot would be this machine's). Every mount made
# here goes with that namespace, once whatever the command left running in
# it is ended below. (Not a PID namespace: the benchmarks pin the kernel's
# NAPI threads, which only this machine's PID namespace shows.)
inside='
set -e
mount --make-rprivate /
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
for d in sys dev; do mount --rbind "/$d" "$R/$d"; mount --make-rslave "$R/$d"; done
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
chmod 1777 "$R/tmp"
mount --bind "$C/apt" "$R/var/cache/apt/archives"
mount --bind "$C" "$R$C"
mkdir -p "$R/.old-root"
cd "$R"
pivot_root . .old-root
umount -l /.old-root
rmdir /.old-root
exec /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI="$CI" CUBENET_CACHE="$C" \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c "cd /src/cubenet && exec \"\$@\"" fresh-root "$@"
'
echo "fresh-root: running '$*' in a new Debian 12 root ($root)"
set +e
R=$root C=$cache CI=${CI:-} unshare --mount -- bash -c "$inside" inside "$@" &
child=$!
# The child's namespace once unshare has made it (never this one's).
own=$(readlink /proc/self/ns/mnt)
ns=$own
while [ "$ns" = "$own" ] && kill -0 "$child" 2>/dev/null; do
	sleep 0.05
	ns=$(readlink "/proc/$child/ns/mnt" 2>/dev/null || echo "$own")
done
wait "$child"
rc=$?
set -e
if [ "$ns" != "$own" ]; then
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] && kill -9 "$pid" 2>/dev/null
	done
fi
sleep 0.2 # the namespace, and its mounts, go with its last process
echo "fresh-root: '$*' exited $rc"
exit $rc
