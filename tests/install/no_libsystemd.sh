#!/usr/bin/env bash
# ctest install/no-libsystemd: sd-bus (libsystemd) is loaded only for Bluetooth LE
# (src/transport/sdbus_dl.c). Checks that neither the library nor bluetti / bluetti-bridge
# need it at link time (bluetti-sim, whose --ble peripheral uses sd-bus itself, may), that
# offline commands work when it cannot be loaded, and that a BLE command then fails with a
# clear message and exit status 1 (not a crash).
# Usage: no_libsystemd.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
t=$(mktemp -d "${TMPDIR:-/tmp}/blt-nosystemd.XXXXXX")
trap 'rm -rf "$t"' EXIT
fail() { echo "install/no-libsystemd: FAIL: $*" >&2; exit 1; }

for f in "$build/libbluetti.so" "$build/bluetti" "$build/bluetti-bridge"; do
	[ -e "$f" ] || continue
	! readelf -d "$f" | grep 'NEEDED.*libsystemd' >/dev/null || fail "$(basename "$f") links libsystemd"
done
# An unloadable stand-in for the soname the loader tries.
: >"$t/libsystemd.so.0"
export LD_LIBRARY_PATH=$t HOME=$t XDG_STATE_HOME=$t/state XDG_CONFIG_HOME=$t/config
"$build/bluetti" blocks 1300 >/dev/null || fail "bluetti blocks without libsystemd"
rc=0
"$build/bluetti" scan --duration 1 </dev/null >"$t/out" 2>&1 || rc=$?
cat "$t/out"
[ $rc = 1 ] || fail "bluetti scan without libsystemd: exit $rc (expected 1)"
grep -q 'needs sd-bus from libsystemd.*install it (Debian: apt install libsystemd0)' "$t/out" ||
	fail "no clear message"
echo "install/no-libsystemd: OK"
