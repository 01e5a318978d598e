#!/usr/bin/env bash
# Run one integration test program with a scratch dir and the test PKI, and stop every
# broker it started (scripts/broker.sh start $BLT_IT_DIR/<name>) on exit, even on failure.
#   with_brokers.sh PROGRAM [ARGS...]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPTS=$(cd "$HERE/../../scripts" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/blt-it.XXXXXX")
cleanup() {
	for d in "$tmp"/*/; do
		[ -f "$d/mosquitto.pid" ] && "$SCRIPTS/broker.sh" stop "$d"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# A shared PKI (made once per build tree) keeps the tests quick; pki.sh is idempotent.
PKI=${BLT_PKI:-$tmp/pki}
"$SCRIPTS/pki.sh" "$PKI" || exit 1
export BLT_IT_DIR=$tmp BLT_PKI=$PKI BLT_SCRIPTS=$SCRIPTS
"$@"
