#!/usr/bin/env bash
# ctest install/no-libcurl: libcurl is loaded only for the Bluetti account
# (src/cloud/curl_dl.c). Checks that neither the library nor the programs need it at link
# time, that offline and device commands work when it cannot be loaded, and that the
# account commands then fail with a clear message and exit status 1 (not a crash).
# Usage: no_libcurl.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
t=$(mktemp -d "${TMPDIR:-/tmp}/blt-nocurl.XXXXXX")
trap 'rm -rf "$t"' EXIT
fail() { echo "install/no-libcurl: FAIL: $*" >&2; exit 1; }

for f in "$build/libbluetti.so" "$build/bluetti" "$build/bluetti-sim" "$build/bluetti-bridge"; do
	[ -e "$f" ] || continue
	! readelf -d "$f" | grep 'NEEDED.*libcurl' >/dev/null || fail "$(basename "$f") links libcurl"
done
# Unloadable stand-ins for every soname the loader tries.
: >"$t/libcurl.so.4"
: >"$t/libcurl-gnutls.so.4"
export LD_LIBRARY_PATH=$t XDG_STATE_HOME=$t/state HOME=$t XDG_CONFIG_HOME=$t/config
"$build/bluetti" blocks 1300 >/dev/null || fail "bluetti blocks without libcurl"
"$build/bluetti" decode --block 1300 --hex '01f4 fea2 ffff 04d2 0000 0038 0000 0000 0000 0000 0000 0000 0001 fea2 08fd fff0 017c' \
	>/dev/null || fail "bluetti decode without libcurl"
rc=0
BLUETTI_EMAIL=a@example.com BLUETTI_PASSWORD=x "$build/bluetti" login --api https://127.0.0.1:9 \
	</dev/null >"$t/out" 2>&1 || rc=$?
cat "$t/out"
[ $rc = 1 ] || fail "bluetti login without libcurl: exit $rc (expected 1)"
grep -q 'needs libcurl.*install it (Debian: apt install libcurl4)' "$t/out" || fail "no clear message"
! grep -q 'password\|BLUETTI_PASSWORD\|=x\b' "$t/out" || fail "a secret in the message"
echo "install/no-libcurl: OK"
