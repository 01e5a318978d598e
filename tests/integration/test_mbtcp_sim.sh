#!/usr/bin/env bash
# bluetti-sim --modbus-tcp against an independent Modbus TCP client (pymodbus):
#   test_mbtcp_sim.sh BLUETTI_SIM [BLUETTI]
# With BLUETTI, also `bluetti read/check --transport modbus-tcp` against the simulator.
# Exit 77 (skipped) if /usr/bin/python3 has no pymodbus (Debian: python3-pymodbus).
set -uo pipefail
SIM=$1 BLUETTI=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
W=${BLT_IT_DIR:-$(mktemp -d)}/mbtcp
mkdir -p "$W"
PY=/usr/bin/python3
"$PY" -c 'import pymodbus' 2>/dev/null || { echo "python3-pymodbus missing: skipped"; exit 77; }
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

start_sim() { # NAME [options]; sets PORT (not in a subshell: the pid must reach cleanup)
	local name=$1
	shift
	rm -f "$W/$name.port"
	"$SIM" --modbus-tcp 0 --ready-file "$W/$name.port" -v "$@" >"$W/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		[ -s "$W/$name.port" ] && { PORT=$(cat "$W/$name.port"); return 0; }
		sleep 0.1
	done
	echo "FAIL: bluetti-sim --modbus-tcp did not start:" >&2
	cat "$W/$name.log" >&2
	return 1
}

rc=0
start_sim dev --profile EL100V2 --soc 60 || exit 1
"$PY" "$HERE/mbtcp_peer.py" behaviour "$PORT" || rc=1
grep -q 'no reply' "$W/dev.log" || { echo "FAIL: the sim log names no silent request"; rc=1; }

if [ -n "$BLUETTI" ]; then
	start_sim cli --profile EL100V2 --soc 60 || exit 1
	T=(--transport modbus-tcp --host "127.0.0.1:$PORT" --request-gap 0 --profile EL100V2)
	"$BLUETTI" read "${T[@]}" --block 1300,6000 --json --all >"$W/cli.json" 2>"$W/cli.err"
	st=$?
	if [ $st = 0 ] && grep -q '"frequency":' "$W/cli.json" && grep -q '"voltage":' "$W/cli.json" &&
		grep -q '"reason":"not_delivered"' "$W/cli.json"; then
		echo "ok: bluetti read --transport modbus-tcp (mapped values, the rest not delivered)"
	else
		echo "FAIL: bluetti read --transport modbus-tcp (status $st)"; cat "$W/cli.err" "$W/cli.json"; rc=1
	fi
	if "$BLUETTI" check "${T[@]}" >"$W/check.out" 2>&1; then
		echo "ok: bluetti check --transport modbus-tcp"
	else
		echo "FAIL: bluetti check --transport modbus-tcp"; cat "$W/check.out"; rc=1
	fi
	"$BLUETTI" read --transport modbus-tcp --block 100 --profile EL100V2 >/dev/null 2>"$W/nohost.err"
	[ $? = 2 ] && grep -q 'needs --host' "$W/nohost.err" && echo "ok: --host required" ||
		{ echo "FAIL: --host not required"; rc=1; }
fi

start_sim fragile --fragile 3 || exit 1
"$PY" "$HERE/mbtcp_peer.py" fragile "$PORT" 3 || rc=1

# usage errors are exit 2 with a message
"$SIM" --modbus-tcp 70000 >/dev/null 2>"$W/usage.err"
[ $? -eq 2 ] && grep -q 'expected a port' "$W/usage.err" || { echo "FAIL: bad port not refused"; rc=1; }
[ $rc -eq 0 ] || { echo "--- sim log"; tail -40 "$W/dev.log"; }
exit $rc
