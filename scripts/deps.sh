#!/bin/bash
# Install what cubenet needs to build, test and run, from Debian's archive.
# Idempotent: does nothing (and needs no network) when all is installed.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config clang llvm libclang-rt-14-dev
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libyang2-dev libyang2-tools libmicrohttpd-dev libjansson-dev
	libnl-3-dev libnl-route-3-dev
	libcurl4-openssl-dev libyaml-dev python3-yaml
	containernetworking-plugins podman containerd runc busybox-static buildah
	python3-grpcio python3-grpc-tools python3-setuptools
	iproute2 iputils-ping ethtool iptables curl python3 tcpdump bc gnuplot-nox groff-base
	golang-go rsync jq dpkg-dev openssl etcd-server etcd-client
	golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "cubenet: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "cubenet: run as root (apt-get, BPF and namespaces need it)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs for pinned state; present on most systems, mounted here if not.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
