#!/bin/bash
# Build the node image the DaemonSet runs (k8s/manifests/cubenet.yaml) from
# this tree's build, with buildah and no base image: cubenetd, cubectl, the
# node agent, the CNI plugin and host-local, the shared libraries they load
# (as ldd finds them here), the YANG modules, the uninstall step
# (uninstall.sh, for k8s/manifests/uninstall.yaml), and a static busybox for
# the install and uninstall steps.
#
#   k8s/image/build.sh [IMAGE]            # default cubenet/cubenet:dev
#
# buildah's global options (--root, --runroot) can be passed in BUILDAH_OPTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${1:-cubenet/cubenet:dev}
read -r -a B <<<"buildah ${BUILDAH_OPTS:-}"

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

put() { # SOURCE DEST [MODE]
	install -D -m "${3:-0755}" "$1" "$root$2"
}
libs() { # every shared library a binary loads, at the same path
	ldd "$1" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

put build/cubenetd /usr/local/sbin/cubenetd
put build/cubectl /usr/local/bin/cubectl
put build/cubenet-agent /usr/local/bin/cubenet-agent
put k8s/image/uninstall.sh /usr/local/bin/cubenet-uninstall
put build/cni/cubenet /usr/local/lib/cubenet/cni/cubenet
put /usr/lib/cni/host-local /usr/local/lib/cubenet/cni/host-local
for bin in build/cubenetd build/cubectl build/cubenet-agent build/cni/cubenet; do
	libs "$bin"
done
for y in services/*/*.yang; do
	put "$y" "/usr/local/share/cubenet/yang/$(basename "$y")" 0644
done
put /bin/busybox /bin/busybox
for tool in sh cp chmod mv sed cat ls rm mkdir dirname find head sleep touch; do
	ln -s busybox "$root/bin/$tool"
done
mkdir -p "$root/tmp" "$root/run/cubenet" "$root/var/lib/cubenet"

ctr=$("${B[@]}" from scratch)
"${B[@]}" copy "$ctr" "$root" / >/dev/null
"${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/bin \
	--entrypoint '["/usr/local/sbin/cubenetd"]' \
	--cmd '["--yang-dir", "/usr/local/share/cubenet/yang"]' "$ctr"
"${B[@]}" commit -q "$ctr" "$IMAGE" >/dev/null
"${B[@]}" rm "$ctr" >/dev/null
echo "$IMAGE"
