#!/bin/bash
# Build kube-apiserver, kube-controller-manager and kubectl from Debian's
# `kubernetes` source package, for the node agent's tests, into a cache
# outside the clone:
#   ${CUBENET_CACHE:-/var/cache/cubenet}/kube/<source-version>-<patch-id>/bin/
# Idempotent: when that directory holds the binaries built for this key, it
# only prints it. The last line on stdout is always the bin directory.
#
# Debian ships no kube-apiserver; its source package is the full v1.20.2 tree
# with vendor/. One patch is required: the vendored reflect2 1.0.1 (and the
# json-iterator built on it) crashes under go >= 1.18 while iterating maps;
# Debian's fixed versions replace them. kubectl is built from the same patched
# tree because Debian's kubernetes-client carries the same vendored copy.
set -euo pipefail

cache_root=${CUBENET_CACHE:-/var/cache/cubenet}/kube
commands=(kube-apiserver kube-controller-manager kubectl)
# Debian packages whose sources replace the vendored copies.
fixed_sources=(
	golang-github-modern-go-reflect2-dev:github.com/modern-go/reflect2
	golang-github-json-iterator-go-dev:github.com/json-iterator/go
)
gocode=/usr/share/gocode/src

log() { echo "kube-build: $*" >&2; }
die() {
	log "$*"
	exit 1
}

for tool in go rsync jq apt-get dpkg-source flock sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is missing; run scripts/deps.sh"
done

# The version to build is what the archive offers for kubernetes-client (its
# Source field names the source package and, after a binNMU, its version).
source_version() {
	local fields src ver
	fields=$(apt-cache show --no-all-versions kubernetes-client 2>/dev/null) || return 1
	ver=$(sed -n 's/^Version: //p' <<<"$fields")
	src=$(sed -n 's/^Source: //p' <<<"$fields")
	[ -n "$ver" ] || return 1
	if [[ "$src" =~ \((.*)\) ]]; then
		ver=${BASH_REMATCH[1]}
	fi
	echo "$ver"
}

# The patch is identified by what it puts into the tree and what is built.
patch_id() {
	local entry pkg dir
	{
		echo "commands ${commands[*]}"
		echo "go $(go env GOVERSION)"
		for entry in "${fixed_sources[@]}"; do
			pkg=${entry%%:*}
			dir=${entry#*:}
			[ -d "$gocode/$dir" ] || die "$gocode/$dir is missing; install $pkg (scripts/deps.sh)"
			echo "$dir"
			(cd "$gocode/$dir" && find . -type f ! -name '*_test.go' -print0 |
				sort -z | xargs -0 sha256sum)
		done
	} | sha256sum | cut -c1-12
}

version=$(source_version) ||
	die "apt knows no kubernetes-client; run apt-get update (scripts/deps.sh does)"
key="$version-$(patch_id)"
out="$cache_root/$key"
bin="$out/bin"

built() {
	local c
	[ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] || return 1
	for c in "${commands[@]}"; do
		[ -x "$bin/$c" ] || return 1
	done
}

mkdir -p "$cache_root"
# One build at a time; a second caller waits and then finds it done.
exec 9>"$cache_root/.lock"
flock 9

if built; then
	echo "$bin"
	exit 0
fi

log "building ${commands[*]} $key (first time: several minutes)"
start=$(date +%s)

# Source lists of our own: a deb-src copy of the machine's Debian entries, with
# private lists, so the system's apt configuration stays as it is.
apt_dir="$cache_root/apt"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/archives/partial"
system_sources=/etc/apt/sources.list.d/debian.sources
[ -f "$system_sources" ] || die "$system_sources is missing: no Debian archive to take sources from"
sed 's/^Types:.*/Types: deb-src/' "$system_sources" >"$apt_dir/sources.list.d/debian-src.sources"
apt_opts=(
	-o "Dir::Etc::SourceList=/dev/null"
	-o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Sandbox::User=root"
)

# The downloaded source is kept, so a rebuild needs no network.
src_dir="$cache_root/source/$version"
if ! ls "$src_dir"/kubernetes_*.dsc >/dev/null 2>&1; then
	download=$(mktemp -d "$cache_root/download.XXXXXX")
	trap 'rm -rf "$download"' EXIT
	chmod 755 "$download" # apt's sandbox user writes here
	apt-get "${apt_opts[@]}" -qq update
	(cd "$download" && apt-get "${apt_opts[@]}" -qq source --download-only "kubernetes=$version") >&2
	mkdir -p "$(dirname "$src_dir")"
	rm -rf "$src_dir"
	mv "$download" "$src_dir"
	trap - EXIT
fi

# A fixed tree path keeps Go's build cache valid across rebuilds (its keys
# include package directories).
tree="$cache_root/build"
rm -rf "$tree"
trap 'rm -rf "$tree"' EXIT
dpkg-source -q --no-copy -x "$src_dir"/kubernetes_*.dsc "$tree" >&2

for entry in "${fixed_sources[@]}"; do
	dir=${entry#*:}
	[ -d "$tree/vendor/$dir" ] || die "vendor/$dir is not in the tree: the patch does not apply"
	rsync -a --delete --exclude '*_test.go' "$gocode/$dir/" "$tree/vendor/$dir/"
done

# The kube build keeps its Go cache inside the tree; point it at the cache.
mkdir -p "$cache_root/go-build" "$tree/_output/local/go"
ln -s "$cache_root/go-build" "$tree/_output/local/go/cache"

what=$(printf 'cmd/%s ' "${commands[@]}")
(cd "$tree" && env HOME="$tree" CGO_ENABLED=0 make WHAT="${what% }") >&2

rm -rf "$out"
mkdir -p "$bin"
for c in "${commands[@]}"; do
	cp "$tree/_output/bin/$c" "$bin/$c"
done
echo "$key" >"$out/key"
rm -rf "$tree"
trap - EXIT
log "built in $(($(date +%s) - start)) s"
echo "$bin"
