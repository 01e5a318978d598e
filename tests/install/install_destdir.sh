#!/usr/bin/env bash
# ctest install/destdir: install every component of a built tree into a throwaway DESTDIR
# with prefix /usr/local, check the layout (programs, libbluetti.so.0 with its SONAME and
# only versioned blt_* symbols, libbluetti.a, headers, bluetti.pc, man pages, the unit with
# the installed path, the configuration), build tests/install/tiny.c through
# `pkg-config --cflags --libs bluetti` against it (shared, then --static) and run it, run the
# installed programs' --version, then uninstall and check that nothing but the kept
# configuration is left.
# Usage: install_destdir.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/blt-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/root
prefix=/usr/local
fail() { echo "install/destdir: FAIL: $*" >&2; exit 1; }

# A copy of the build tree's install scripts would not help: cmake --install writes
# install_manifest_<component>.txt next to them, so use our own build-dir-less manifest.
for c in bluetti lib dev sim; do
	DESTDIR=$dest cmake --install "$build" --prefix "$prefix" --component "$c" >"$work/install-$c.log"
	mv "$build/install_manifest_$c.txt" "$work/manifest_$c.txt"
done
P=$dest$prefix
pc=$(find "$P" -name bluetti.pc)
[ -n "$pc" ] || fail "bluetti.pc not installed"
libdir=$(sed -n 's/^libdir=//p' "$pc" | sed "s|\${prefix}|$prefix|")
L=$dest$libdir

for f in bin/bluetti bin/bluetti-sim share/man/man1/bluetti.1 share/man/man1/bluetti-sim.1 \
	include/bluetti/bluetti.h include/bluetti/version.h include/bluetti/client.h \
	share/doc/bluetti/examples/bridge.example.ini etc/bluetti/bridge.ini; do
	[ -e "$P/$f" ] || fail "$prefix/$f not installed"
done
if [ -x "$build/bluetti-bridge" ]; then
	[ -x "$P/bin/bluetti-bridge" ] || fail "bluetti-bridge not installed"
	[ -e "$P/share/man/man1/bluetti-bridge.1" ] || fail "bluetti-bridge.1 not installed"
fi
[ -e "$L/libbluetti.a" ] || fail "libbluetti.a not in $libdir"
real=$(readlink -f "$L/libbluetti.so")
[ "$(readlink "$L/libbluetti.so")" = libbluetti.so.0 ] || fail "libbluetti.so -> $(readlink "$L/libbluetti.so")"
[ -e "$L/libbluetti.so.0" ] || fail "libbluetti.so.0 missing"

# SONAME, symbol versions, nothing but blt_* exported.
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libbluetti.so.0 ] || fail "SONAME is '$soname'"
syms=$(readelf --wide --dyn-syms "$real" | awk '$7 != "UND" && $5 == "GLOBAL" {print $8}' | sort -u)
n=$(echo "$syms" | grep -c . || true)
[ "$n" -gt 50 ] || fail "only $n exported symbols"
bad=$(echo "$syms" | grep -v '^BLUETTI_0$' | grep -v '^blt_[a-z0-9_]*@@BLUETTI_0$' || true)
[ -z "$bad" ] || fail "exported without the blt_ prefix or the BLUETTI_0 version: $(echo $bad | head -c 300)"
echo "libbluetti.so.0: SONAME $soname, $n exported symbols, all blt_*@@BLUETTI_0"

# The unit carries the installed paths; the configuration is where the unit looks.
unit=$(find "$P" -name bluetti-bridge.service)
[ -n "$unit" ] || fail "unit not installed"
grep -qx "ExecStart=$prefix/bin/bluetti-bridge -c $prefix/etc/bluetti/bridge.ini" "$unit" ||
	fail "unit ExecStart: $(grep ^ExecStart= "$unit")"
! grep -q @ "$unit" || fail "unsubstituted @VAR@ in the unit"

# A library user's program through pkg-config (shared, then static).
# The DESTDIR tree stands in for the prefix: relocate with --define-variable.
export PKG_CONFIG_PATH=$L/pkgconfig
pkg-config() { command pkg-config --define-variable=prefix="$P" "$@"; }
pkg-config --exists bluetti || fail "pkg-config does not find bluetti"
[ "$(pkg-config --variable=libdir bluetti)" = "$L" ] || fail "libdir not relative to the prefix"
ver=$(pkg-config --modversion bluetti)
flags=$(pkg-config --cflags --libs bluetti)
echo "pkg-config --cflags --libs bluetti: $flags"
cc -Wall -Wextra -Werror ${BLT_EXTRA_CFLAGS:-} -o "$work/tiny" "$src/tests/install/tiny.c" $flags
readelf -d "$work/tiny" | grep 'NEEDED.*libbluetti.so.0' >/dev/null || fail "tiny does not need libbluetti.so.0"
out=$(LD_LIBRARY_PATH=$L "$work/tiny") || fail "tiny (shared) failed"
echo "tiny (shared): $out"
case $out in "libbluetti $ver"*) ;; *) fail "tiny reports another version than bluetti.pc ($ver)" ;; esac
ldd_out=$(LD_LIBRARY_PATH=$L ldd "$work/tiny")
echo "$ldd_out" | grep "libbluetti.so.0 => $L/libbluetti.so.0" >/dev/null || fail "tiny did not load the installed library"
if grep -q '^Requires.private:.*libcurl' "$pc"; then
	echo "tiny (static): skipped, libbluetti links libcurl (Debian has no static libcurl deps)"
else
cc -Wall -Wextra -Werror ${BLT_EXTRA_CFLAGS:-} -o "$work/tiny-static" "$src/tests/install/tiny.c" \
	$(pkg-config --cflags bluetti) -Wl,-Bstatic $(pkg-config --libs-only-L bluetti) -lbluetti -Wl,-Bdynamic \
	$(pkg-config --static --libs bluetti | sed 's/-lbluetti//')
! readelf -d "$work/tiny-static" | grep libbluetti >/dev/null || fail "tiny-static needs libbluetti.so"
echo "tiny (static): $("$work/tiny-static")"
fi

# The installed programs run and agree on the version.
for p in bluetti bluetti-sim bluetti-bridge; do
	[ -x "$P/bin/$p" ] || continue
	v=$("$P/bin/$p" --version)
	case $v in "$p $ver"*) echo "$v" ;; *) fail "$p --version: '$v' (expected $ver...)" ;; esac
done
"$P/bin/bluetti" blocks 1300 >/dev/null || fail "installed bluetti blocks 1300"
if command -v groff >/dev/null; then
	for m in "$P"/share/man/man1/*.1; do
		w=$(groff -man -Tutf8 -ww -z "$m" 2>&1) || fail "groff $m"
		[ -z "$w" ] || fail "groff warnings in $(basename "$m"): $w"
	done
fi

# Reinstalling keeps an edited configuration.
echo "# edited" >>"$P/etc/bluetti/bridge.ini"
DESTDIR=$dest cmake --install "$build" --prefix "$prefix" --component bluetti >/dev/null
rm -f "$build/install_manifest_bluetti.txt"
grep -q '^# edited' "$P/etc/bluetti/bridge.ini" || fail "reinstall overwrote bridge.ini"

# Uninstall from the manifests (what `make uninstall` does): only the configuration stays.
mkdir -p "$work/m"
cp "$work"/manifest_*.txt "$work/m/"
for f in "$work"/m/manifest_*.txt; do mv "$f" "$work/m/install_$(basename "$f")"; done
DESTDIR=$dest cmake -DBLT_BIN="$work/m" -P "$src/cmake/uninstall.cmake" >"$work/uninstall.log"
left=$(cd "$dest" && find . -type f -o -type l | sort)
[ "$left" = "./usr/local/etc/bluetti/bridge.ini" ] || fail "left after uninstall: $left"
[ ! -e "$P/include/bluetti" ] || fail "include/bluetti left after uninstall"
echo "install/destdir: OK ($ver)"
