#!/usr/bin/env bash
# `bluetti read` of one block as a whole process (issue 17): wall time and CPU time per
# run, TLS connect on loopback included, against bluetti-sim and a local mosquitto with
# mutual TLS (scripts/pki.sh, scripts/broker.sh), as `make demo` does. Beside it the
# floors every run pays before any of our code: an empty C program, and
# `bluetti --version` (process start and dynamic loading of the same libraries).
# Prints figures; asserts nothing. Target: <= 10 ms wall and <= 10 ms CPU per read.
#
#   bench/read.sh [-b BUILD] [-n RUNS] [-k BLOCK] [--stock]
#     --stock   broker without set_tcp_nodelay (mosquitto's default, as brokers we do not
#               configure)
#
# Wall: median and 90th percentile of single runs. CPU: user + system time of all runs
# (the shell's `times` for its children) divided by RUNS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build
RUNS=50
BLOCK=100
STOCK=
while [ $# -gt 0 ]; do
	case "$1" in
	-b) BUILD=$2; shift 2 ;;
	-n) RUNS=$2; shift 2 ;;
	-k) BLOCK=$2; shift 2 ;;
	--stock) STOCK=--stock; shift ;;
	*) sed -n '2,15p' "$0" >&2; exit 2 ;;
	esac
done
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bluetti
SIM=$BUILD/bluetti-sim
for p in "$BIN" "$SIM"; do
	[ -x "$p" ] || { echo "read.sh: $p is not built (run make)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/bluetti-read-bench.XXXXXX)
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	"$ROOT/scripts/broker.sh" stop "$work" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/pki.sh" "$work/pki" >/dev/null
"$ROOT/scripts/broker.sh" start "$work" --pki "$work/pki" $STOCK >/dev/null
port=$(cat "$work/port")
SN=2434000112345
conn=(--broker "localhost:$port" --cert "$work/pki/client.pfx"
	--cert-password-file "$work/pki/client.pass" --ca "$work/pki/ca.pem")
"$SIM" "${conn[@]}" --profile EL100V2 --sn "$SN" --soc 65 >"$work/sim.log" 2>&1 &
sim_pid=$!
read_once() {
	XDG_STATE_HOME="$work/state" "$BIN" read "${conn[@]}" --profile EL100V2 --sn "$SN" \
		--block "$BLOCK" "$@" >/dev/null
}
ok=0
for _ in $(seq 40); do
	if read_once --timeout 500 --retries 0 2>/dev/null; then ok=1; break; fi
	sleep 0.25
done
[ $ok = 1 ] || { echo "read.sh: the simulator never answered" >&2; cat "$work/sim.log" >&2; exit 1; }

printf 'int main(void){return 0;}\n' >"$work/empty.c"
cc -O2 -o "$work/empty" "$work/empty.c"

# children CPU (user + sys) in ms, from this shell's `times` (second line); `times` runs in
# this shell (a command substitution would report a subshell's children)
children_ms() {
	times >"$work/times"
	sed -n 2p "$work/times" | awk '{
		split($1, u, /[ms]/); split($2, s, /[ms]/);
		printf "%.3f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }'
}

# measure NAME CMD...: RUNS runs; prints a table row
measure() {
	local name=$1 c0 c1 t0 t1 i
	shift
	: >"$work/wall"
	"$@" >/dev/null || { echo "read.sh: $name failed" >&2; exit 1; } # warm-up (page cache)
	children_ms >"$work/c0"
	for i in $(seq "$RUNS"); do
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null || { echo "read.sh: $name failed" >&2; exit 1; }
		t1=${EPOCHREALTIME/./}
		echo $((t1 - t0)) >>"$work/wall"
	done
	children_ms >"$work/c1"
	c0=$(cat "$work/c0")
	c1=$(cat "$work/c1")
	sort -n "$work/wall" | awk -v name="$name" -v runs="$RUNS" -v cpu="$(echo "$c0 $c1" | awk '{print $2 - $1}')" '
		{ w[NR] = $1 }
		END { printf "| %s | %d | %.2f | %.2f | %.2f |\n", name, runs,
			w[int((NR + 1) / 2)] / 1000, w[int(NR * 0.9 + 0.5)] / 1000, cpu / runs }'
}

echo "bluetti read --block $BLOCK, $RUNS runs each, broker ${STOCK:-with set_tcp_nodelay} on localhost:$port"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| what | runs | wall median ms | wall p90 ms | CPU ms/run |"
echo "|---|---:|---:|---:|---:|"
measure "empty C program" "$work/empty"
measure "bluetti --version (start + dynamic loading)" "$BIN" --version
measure "bluetti read --block $BLOCK (TLS connect, subscribe, read, print)" read_once
echo
echo "target: <= 10 ms wall and <= 10 ms CPU per read"
