#!/usr/bin/env bash
# Debian packages the build, tests, demo and fuzzing need.
#   scripts/deps.sh --check   exit 0 if all are installed, 1 otherwise (prints the missing)
#   scripts/deps.sh           install the missing ones (apt-get update + install -y)
#   scripts/deps.sh --packages [--check]   the same, with the Debian packaging tools
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang clang-format
  libssl-dev openssl
  libmosquitto-dev mosquitto mosquitto-clients
  libcjson-dev libinih-dev libcurl4-openssl-dev libmicrohttpd-dev
  libcmocka-dev valgrind
  python3-pymodbus
  libsystemd-dev dbus
)
# --packages: also what `make packages` needs (Debian package build and lint).
if [ "${1:-}" = "--packages" ]; then
  PKGS+=(debhelper lintian dpkg-dev fakeroot)
  shift
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then echo "missing packages: ${missing[*]}"; exit 1; fi
  exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then echo "all build dependencies are installed"; exit 0; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
