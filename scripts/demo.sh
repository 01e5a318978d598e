#!/usr/bin/env bash
# The main job, end to end on one machine (`make demo`):
#   1. a throwaway CA, broker certificate and client PKCS#12 in BUILD/demo/pki
#   2. a real mosquitto with mutual TLS on a free loopback port
#   3. bluetti-sim as an Elite 100 V2 connected to it (same client CA)
#   4. `bluetti check` (read grid block 1300, validate, time it) and a read of the
#      core, grid and battery groups
# Everything started here is stopped on exit, on failure and on Ctrl-C.
# BLUETTI_BINDIR=/usr/bin runs the installed programs instead of BUILD's (scripts/pkg-test.sh),
# BLUETTI_DEMO_DIR puts the PKI and logs elsewhere than BUILD/demo.
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
demo="${BLUETTI_DEMO_DIR:-$BUILD/demo}"
bin="${BLUETTI_BINDIR:-$BUILD}"
SN=2434000112345
PROFILE=EL100V2
sim_pid=""

cleanup() {
	local rc=$?
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	scripts/broker.sh stop "$demo" >/dev/null 2>&1 || true
	if [ $rc -ne 0 ]; then
		echo "demo FAILED (exit $rc); logs: $demo/mosquitto.log $demo/sim.log" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in "$bin/bluetti" "$bin/bluetti-sim"; do
	[ -x "$p" ] || { echo "demo: $p is not built (run make)" >&2; exit 1; }
done
echo "== programs: $bin ($("$bin/bluetti" --version))"

mkdir -p "$demo"
echo "== 1. throwaway PKI in $demo/pki"
scripts/pki.sh "$demo/pki" >/dev/null
echo "== 2. mosquitto with mutual TLS"
scripts/broker.sh stop "$demo" >/dev/null 2>&1 || true
scripts/broker.sh start "$demo" --pki "$demo/pki" >/dev/null
port=$(cat "$demo/port")
echo "   listening on localhost:$port"

conn=(--broker "localhost:$port" --cert "$demo/pki/client.pfx"
	--cert-password-file "$demo/pki/client.pass" --ca "$demo/pki/ca.pem")

echo "== 3. bluetti-sim as $PROFILE, serial $SN (SOC 65 %, charging from the grid)"
"$bin/bluetti-sim" "${conn[@]}" --profile "$PROFILE" --sn "$SN" --soc 65 >"$demo/sim.log" 2>&1 &
sim_pid=$!
# Wait until the simulated device answers (it subscribes right after connecting).
ready=0
for _ in $(seq 40); do
	kill -0 "$sim_pid" 2>/dev/null || { echo "bluetti-sim exited:" >&2; cat "$demo/sim.log" >&2; exit 1; }
	if "$bin/bluetti" read "${conn[@]}" --profile "$PROFILE" --sn "$SN" --block 1300 \
		--timeout 500 --retries 0 >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.25
done
[ $ready -eq 1 ] || { echo "demo: the simulated device never answered" >&2; exit 1; }

echo "== 4. bluetti check"
echo "   \$ bluetti check --profile $PROFILE --sn $SN --broker localhost:$port --cert ... --ca ..."
"$bin/bluetti" check "${conn[@]}" --profile "$PROFILE" --sn "$SN"
echo
echo "== 5. bluetti doctor (every step of the chain; the account steps need --account)"
rm -f "$demo/doctor.json"
XDG_STATE_HOME="$demo/state" "$bin/bluetti" doctor "${conn[@]}" --profile "$PROFILE" --sn "$SN" \
	--report "$demo/doctor.json"
echo
echo "== 6. bluetti read --group core,grid,battery"
"$bin/bluetti" read "${conn[@]}" --profile "$PROFILE" --sn "$SN" --group core,grid,battery
echo
echo "demo OK"
