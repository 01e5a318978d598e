#!/usr/bin/env bash
# Cross build for ARM boards (Raspberry Pi, routers) with Debian's cross toolchains and the
# target's Debian -dev packages, then the unit tests and the offline CLI tests under qemu-user.
#   scripts/cross.sh arm64|armhf [--deps] [--sysroot] [--no-test]
#   (`make cross-arm64`, `make cross-armhf`, `make cross` for both; docs/install.md)
# --deps: install what the build needs (gcc-<triplet>, qemu-user, and the target's
#   libc6-dev and -dev packages); needs root or sudo.
# Multiarch (default): the target's -dev packages are installed on the host as
#   libssl-dev:arm64 ... (dpkg --add-architecture). dpkg requires the host's and the target's
#   copies of a library to have the same version, which fails when the mirror's index of the
#   target is older than the host's (bookworm-security armhf in 2026-11).
# --sysroot: the target's packages, with all their dependencies, are downloaded with a private
#   apt state (the host's sources, APT::Architecture=ARCH, nothing installed, dpkg untouched)
#   and unpacked into build-<arch>/sysroot; the compiler, pkg-config and qemu (-L) use that.
# Builds into build-<arch>/ with cmake/toolchain-debian-cross.cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=${1:-}
shift || true
deps=0 test=1 sysroot=0
for a in "$@"; do
	case $a in
	--deps) deps=1 ;;
	--sysroot) sysroot=1 ;;
	--no-test) test=0 ;;
	*) echo "cross.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
case $arch in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm ;;
*) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
JOBS=${JOBS:-2}
build=build-$arch
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
TARGET_DEV=(libc6-dev libssl-dev libmosquitto-dev libcjson-dev libinih-dev libcurl4-openssl-dev
	libmicrohttpd-dev libcmocka-dev libsystemd-dev)

if [ $deps = 1 ]; then
	pk=(gcc-$triplet qemu-user cmake pkg-config)
	[ $sysroot = 1 ] || for p in "${TARGET_DEV[@]}"; do pk+=("$p:$arch"); done
	missing=()
	for p in "${pk[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "ok installed" >/dev/null || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== installing for $arch: ${missing[*]}"
		added=0
		if [ $sysroot = 0 ] && ! dpkg --print-foreign-architectures | grep -x "$arch" >/dev/null; then
			$SUDO dpkg --add-architecture "$arch"
			added=1
		fi
		if ! $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600; then
			# A broken index of the new architecture would break every later
			# `apt-get update` on this machine: take the architecture back out.
			[ $added = 1 ] && $SUDO dpkg --remove-architecture "$arch"
			echo "cross.sh: apt-get update failed for $arch (mirror?); nothing installed" >&2
			exit 1
		fi
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
			--no-install-recommends "${missing[@]}" >/dev/null
	fi
fi
command -v "$triplet-gcc" >/dev/null || { echo "cross.sh: $triplet-gcc missing (run with --deps)" >&2; exit 1; }

# The target's packages and their dependencies, unpacked into build-<arch>/sysroot (once;
# again when the package list changes). apt runs with a state directory of its own.
sysroot_dir=$root/$build/sysroot
make_sysroot() {
	local a=$root/$build/apt want="$arch ${TARGET_DEV[*]}"
	[ -f "$sysroot_dir/.blt-packages" ] && [ "$(cat "$sysroot_dir/.blt-packages")" = "$want" ] && return 0
	echo "== sysroot for $arch: downloading ${TARGET_DEV[*]} and their dependencies"
	rm -rf "$sysroot_dir" "$a"
	mkdir -p "$a/lists/partial" "$a/archives/partial" "$sysroot_dir"
	: >"$a/status"
	local o=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o "Dir::State=$a"
		-o "Dir::State::Lists=$a/lists" -o "Dir::State::status=$a/status" -o "Dir::Cache=$a"
		-o "Dir::Cache::archives=$a/archives" -o APT::Install-Recommends=false)
	# An index that fails (a mirror caught mid-sync) is reported and left out; the packages
	# then come from the indexes that did load.
	apt-get "${o[@]}" update -qq 2>"$a/update.err" ||
		{ echo "   warning: apt-get update for $arch reported errors (using the indexes that loaded):"; grep '^E:' "$a/update.err" | sed 's/^/   /'; }
	apt-get "${o[@]}" install -y -qq --download-only "${TARGET_DEV[@]}" >"$a/install.log" 2>&1 ||
		{ cat "$a/install.log" >&2; echo "cross.sh: cannot download the $arch packages" >&2; exit 1; }
	for d in "$a"/archives/*.deb; do dpkg-deb -x "$d" "$sysroot_dir"; done
	# Absolute symbolic links (libfoo.so -> /lib/...) must point into the sysroot.
	find "$sysroot_dir" -type l -lname '/*' -print0 | while IFS= read -r -d '' l; do
		ln -sfn "$sysroot_dir$(readlink "$l")" "$l"
	done
	echo "   $(ls "$a"/archives/*.deb | wc -l) packages, $(du -sm "$sysroot_dir" | cut -f1) MB"
	echo "$want" >"$sysroot_dir/.blt-packages"
}
cmake_sysroot=()
qemu_l=()
if [ $sysroot = 1 ]; then
	mkdir -p "$build"
	make_sysroot
	cmake_sysroot=(-DBLT_CROSS_SYSROOT="$sysroot_dir")
	qemu_l=(-L "$sysroot_dir")
fi

mkdir -p "$build"
echo "== configure $build ($triplet)"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-debian-cross.cmake" \
	-DBLT_CROSS_TRIPLET=$triplet "${cmake_sysroot[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$build/configure.log" 2>&1 ||
	{ cat "$build/configure.log"; exit 1; }
grep -i "warning" -A2 "$build/configure.log" || true
echo "== build"
cmake --build "$build" -j "$JOBS" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
for f in bluetti bluetti-bridge bluetti-sim libbluetti.so.0; do
	[ -e "$build/$f" ] && echo "   $f: $(file -b "$build/$f" | cut -d, -f1-2), $(stat -c %s "$build/$f") bytes"
done
[ $test = 1 ] || exit 0

command -v $qemu >/dev/null || { echo "cross.sh: $qemu missing (qemu-user; run with --deps)" >&2; exit 1; }
echo "== unit tests under $qemu"
(cd "$build" && ctest -L unit --output-on-failure -j "$JOBS" --timeout 600)
echo "== offline CLI tests under $qemu"
wrap=$root/$build/bluetti-under-qemu
printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$qemu" "${qemu_l[*]}" "$root/$build/bluetti" >"$wrap"
chmod +x "$wrap"
"$wrap" --version
bash tests/cli/cli_offline.sh "$wrap" "$root/tests/data"
echo "cross $arch OK"
