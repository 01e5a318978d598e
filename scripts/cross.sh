#!/usr/bin/env bash
# Cross build for ARM boards (Raspberry Pi, routers) with Debian's cross toolchains and
# multiarch -dev packages, then the unit tests and the offline CLI tests under qemu-user.
#   scripts/cross.sh arm64|armhf [--deps] [--no-test]
#   (`make cross-arm64`, `make cross-armhf`, `make cross` for both; docs/install.md)
# --deps: add the foreign architecture to dpkg and install what the build needs
# (gcc-<triplet>, libc6-dev and the -dev packages of the target architecture, qemu-user);
# needs root or sudo. Builds into build-<arch>/ with cmake/toolchain-debian-cross.cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=${1:-}
shift || true
deps=0 test=1
for a in "$@"; do
	case $a in
	--deps) deps=1 ;;
	--no-test) test=0 ;;
	*) echo "cross.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
case $arch in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm ;;
*) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
JOBS=${JOBS:-2}
build=build-$arch
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
TARGET_DEV=(libc6-dev libssl-dev libmosquitto-dev libcjson-dev libinih-dev libcurl4-openssl-dev
	libmicrohttpd-dev libcmocka-dev libsystemd-dev)

if [ $deps = 1 ]; then
	pk=(gcc-$triplet qemu-user cmake pkg-config)
	for p in "${TARGET_DEV[@]}"; do pk+=("$p:$arch"); done
	missing=()
	for p in "${pk[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "ok installed" >/dev/null || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== installing for $arch: ${missing[*]}"
		added=0
		if ! dpkg --print-foreign-architectures | grep -x "$arch" >/dev/null; then
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

mkdir -p "$build"
echo "== configure $build ($triplet)"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-debian-cross.cmake" \
	-DBLT_CROSS_TRIPLET=$triplet -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
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
printf '#!/bin/sh\nexec %s %s "$@"\n' "$qemu" "$root/$build/bluetti" >"$wrap"
chmod +x "$wrap"
"$wrap" --version
bash tests/cli/cli_offline.sh "$wrap" "$root/tests/data"
echo "cross $arch OK"
