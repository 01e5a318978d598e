#!/usr/bin/env bash
# Debian packages, end to end (`make packages`; docs/install.md):
#   1. build bluetti, libbluetti0, libbluetti-dev, bluetti-sim with dpkg-buildpackage -b
#      from a copy of the working tree in BUILD/pkg/src (the .debs land in BUILD/pkg/)
#   2. lintian: no errors
#   3. install them with apt-get (as root; sudo otherwise) and check the installation:
#      the bluetti system user, /etc/bluetti root:bluetti 0750 with the conffile
#      bridge.ini 0640, the unit installed but not enabled
#   4. the demo (scripts/demo.sh) against the installed /usr/bin programs, the installed
#      bluetti-bridge --version/--check-config, and a tiny program built against the
#      installed library through `pkg-config --cflags --libs bluetti`
#   5. purge them and check that nothing they installed is left
# Usage: scripts/pkg-test.sh [BUILD_DIR] [--build-only | --reuse]
# Needs debhelper, lintian, dpkg-dev (scripts/deps.sh --packages installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BUILD=build
only_build=0
reuse=0
for a in "$@"; do
	case $a in
	--build-only) only_build=1 ;;
	--reuse) reuse=1 ;; # take the .debs already in BUILD/pkg (while working on this script)
	*) BUILD=$a ;;
	esac
done
mkdir -p "$BUILD"
out=$(cd "$BUILD" && pwd)/pkg
PKGS=(bluetti libbluetti0 libbluetti-dev bluetti-sim)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)
fail() { echo "pkg-test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
t0=$(date +%s)

step "1. dpkg-buildpackage -us -uc -b (log: $out/build.log)"
if [ $reuse = 0 ]; then
	rm -rf "$out"
	mkdir -p "$out/src"
	git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$out/src"
	# The git part of the version, as a build from the checkout would report it.
	cmake -DSRC="$root" -DOUT="$out/version.h" -DVERSION=0 -DEXTRA= -P cmake/version-gen.cmake
	extra=$(sed -n 's/.*"0+\(.*\)".*/\1/p' "$out/version.h")
	(cd "$out/src" && BLT_VERSION_EXTRA=${extra:--} dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
		{ tail -40 "$out/build.log"; fail "dpkg-buildpackage"; }
fi
debs=()
for p in "${PKGS[@]}"; do
	f=$(ls "$out"/${p}_*.deb 2>/dev/null | head -1)
	[ -n "$f" ] || fail "no $p package built"
	debs+=("$f")
done
ls -l "${debs[@]}" | awk '{print "   " $5, $9}'

step "2. lintian (errors fail)"
lrc=0
lintian --fail-on error "$out"/*.changes >"$out/lintian.log" 2>&1 || lrc=$?
grep -v '^running with root' "$out/lintian.log" | sed 's/^/   /' || true
[ $lrc = 0 ] || fail "lintian reported errors"
echo "   no errors ($(grep -c '^W:' "$out/lintian.log" || true) warnings, $(grep -c '^I:' "$out/lintian.log" || true) infos)"
[ $only_build = 1 ] && { echo "packages built in $out"; exit 0; }

step "3. install"
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep installed >/dev/null; then
		echo "   $p is installed already: purging it first"
		"${APT[@]}" purge "$p" >/dev/null
	fi
done
"${APT[@]}" install "${debs[@]}" >"$out/install.log" 2>&1 || { cat "$out/install.log"; fail "apt-get install"; }
installed=1
cleanup() {
	local rc=$?
	if [ "${installed:-0}" = 1 ]; then
		echo "   (purging the packages after a failure)" >&2
		"${APT[@]}" purge "${PKGS[@]}" >/dev/null 2>&1 || true
	fi
	exit $rc
}
trap cleanup EXIT
getent passwd bluetti >/dev/null || fail "no bluetti system user"
[ "$(getent passwd bluetti | cut -d: -f7)" = /usr/sbin/nologin ] || fail "bluetti user has a login shell"
[ "$(stat -c '%U:%G %a' /etc/bluetti)" = "root:bluetti 750" ] || fail "/etc/bluetti is $(stat -c '%U:%G %a' /etc/bluetti)"
[ "$(stat -c '%U:%G %a' /etc/bluetti/bridge.ini)" = "root:bluetti 640" ] ||
	fail "/etc/bluetti/bridge.ini is $(stat -c '%U:%G %a' /etc/bluetti/bridge.ini)"
dpkg-query -W -f='${Conffiles}\n' bluetti | grep '^ /etc/bluetti/bridge.ini ' >/dev/null || fail "bridge.ini is not a conffile"
unit=/lib/systemd/system/bluetti-bridge.service
[ -f $unit ] || fail "no $unit"
grep -qx 'ExecStart=/usr/bin/bluetti-bridge -c /etc/bluetti/bridge.ini' $unit || fail "ExecStart in $unit"
! ls /etc/systemd/system/*.wants/bluetti-bridge.service >/dev/null 2>&1 || fail "the unit was enabled"
echo "   user bluetti, /etc/bluetti root:bluetti 0750, conffile bridge.ini 0640, unit installed, not enabled"

step "4. the installed programs"
for p in bluetti bluetti-bridge bluetti-sim; do
	[ "$(command -v $p)" = /usr/bin/$p ] || fail "$p is not /usr/bin/$p"
	echo "   $(/usr/bin/$p --version)"
done
man -w bluetti bluetti-bridge bluetti-sim >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man pages not found"
BLUETTI_BINDIR=/usr/bin BLUETTI_DEMO_DIR="$out/demo" scripts/demo.sh "$BUILD" >"$out/demo.log" 2>&1 ||
	{ cat "$out/demo.log"; fail "demo against /usr/bin"; }
grep -q '^demo OK' "$out/demo.log" || fail "demo did not finish"
grep -q "programs: /usr/bin" "$out/demo.log" || fail "demo did not use /usr/bin"
echo "   demo against /usr/bin/bluetti and /usr/bin/bluetti-sim: OK"
# The bridge as the unit runs it: a configuration for the demo's device, checked offline.
cfg=$out/bridge.ini
cat >"$cfg" <<INI
[upstream]
host = localhost
port = 8883
tls = true
cert = $out/demo/pki/client.pfx
cert_password_file = $out/demo/pki/client.pass
ca = $out/demo/pki/ca.pem
[homeassistant]
host = localhost
port = 1883
tls = false
[device demo]
name = Demo
profile = EL100V2
sn = 2434000112345
INI
/usr/bin/bluetti-bridge -c "$cfg" --check-config >"$out/check-config.log" 2>&1 ||
	{ cat "$out/check-config.log"; fail "installed bluetti-bridge --check-config"; }
echo "   bluetti-bridge --check-config: OK"
cc -Wall -Wextra -Werror -o "$out/tiny" tests/install/tiny.c $(pkg-config --cflags --libs bluetti)
ldd "$out/tiny" >"$out/tiny.ldd"
grep -Eq "libbluetti.so.0 => (/usr)?/lib/[^ ]*/libbluetti.so.0 " "$out/tiny.ldd" || { cat "$out/tiny.ldd"; fail "tiny does not use the installed library"; }
echo "   $("$out/tiny")"

step "5. purge"
"${APT[@]}" purge "${PKGS[@]}" >"$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail "apt-get purge"; }
installed=0
left=""
for d in "${debs[@]}"; do
	while read -r path; do
		path=${path#.}
		[ -z "$path" ] && continue
		if [ -e "$path" ] || [ -L "$path" ]; then
			# Directories shared with other packages (/usr/bin, /etc ...) stay, of course.
			[ -d "$path" ] && [ ! -L "$path" ] && dpkg -S "$path" >/dev/null 2>&1 && continue
			[ -d "$path" ] && [ ! -L "$path" ] && [ "$(ls -A "$path")" ] && continue
			left="$left $path"
		fi
	done < <(dpkg-deb --fsys-tarfile "$d" | tar -t)
done
[ -z "$left" ] || fail "left after purge:$left"
[ ! -e /etc/bluetti ] || fail "/etc/bluetti left after purge"
! dpkg-statoverride --list | grep /etc/bluetti >/dev/null || fail "statoverrides left"
for p in "${PKGS[@]}"; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "installed\|config-files" >/dev/null || fail "$p still known to dpkg"
done
! ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep bluetti >/dev/null || fail "systemd helper state left"
echo "   nothing left (the system user bluetti stays, as for every Debian system user)"
echo "pkg-test OK ($(( $(date +%s) - t0 )) s)"
