#!/usr/bin/env bash
# Scale figures for bluetti-bridge (issue 8): N simulated devices, each polled every 5 s
# (core group only: block 100; every other group switched off), through a real mosquitto
# with mutual TLS upstream and a plain one downstream.
#
#   bench/scale.sh [-b BUILD_DIR] [-d SECONDS] [-w WARMUP_SECONDS] N [N ...]
#
# For each N: start both brokers (scripts/broker.sh), ceil(N/1000) bluetti-sim processes
# (--count <= 1000 each), generate the bridge INI for N devices, start bluetti-bridge with
# --stats, wait until every device is online, warm up, restart the round-trip histogram
# (SIGUSR1), then measure for SECONDS: reads per second sustained, CPU time of the bridge
# process only (utime + stime from /proc/<pid>/stat) per read and as % of one core,
# resident memory (VmRSS, VmHWM from /proc/<pid>/status), memory per device and p50/p99
# read round trip (publish -> reply, measured by the client, from the --stats file).
# Prints one table row per N (markdown) and leaves the raw files in the work dir (-k).
# Defaults: BUILD_DIR build, SECONDS 60, WARMUP 15.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
DUR=60
WARM=15
KEEP=0
while getopts "b:d:w:k" o; do
	case $o in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	d) DUR=$OPTARG ;;
	w) WARM=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '2,17p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
SIM=$BUILD/bluetti-sim
BRIDGE=$BUILD/bluetti-bridge
for b in "$SIM" "$BRIDGE"; do
	[ -x "$b" ] || { echo "scale.sh: $b missing (build it first)" >&2; exit 1; }
done
TICK=$(getconf CLK_TCK)
SN0=2616100000000

work=$(mktemp -d "${TMPDIR:-/tmp}/blt-scale.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for d in "$work"/*/; do
		[ -f "$d/mosquitto.pid" ] && "$ROOT/scripts/broker.sh" stop "$d" >/dev/null 2>&1
	done
	[ "$KEEP" = 1 ] && echo "scale.sh: files kept in $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/pki.sh" "$work/pki" >/dev/null

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
jget() { # jget FILE key  (flat numeric keys and rtt_us.<k>)
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2].split(".")
for p in k: d=d[p]
print(d)' "$1" "$2"
}

printf '| devices | reads/s | bridge CPU %% of one core | CPU µs/read | VmRSS MB | VmHWM MB | KB/device | RTT p50 ms | RTT p99 ms | timeouts |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'

for N in "$@"; do
	d=$work/n$N
	mkdir -p "$d"
	"$ROOT/scripts/broker.sh" start "$d/up" --pki "$work/pki" >/dev/null
	"$ROOT/scripts/broker.sh" start "$d/down" --plain >/dev/null
	up=$(cat "$d/up/port")
	down=$(cat "$d/down/port")

	# simulators, 1000 devices per process
	left=$N
	k=0
	spids=()
	while [ "$left" -gt 0 ]; do
		c=$((left > 1000 ? 1000 : left))
		"$SIM" --broker "localhost:$up" --cert "$work/pki/client.pfx" \
			--cert-password-file "$work/pki/client.pass" --ca "$work/pki/ca.pem" \
			--profile AP300 --sn $((SN0 + k * 1000)) --count "$c" \
			--ready-file "$d/sim$k.ready" >"$d/sim$k.log" 2>&1 &
		spids+=($!)
		pids+=($!)
		left=$((left - c))
		k=$((k + 1))
	done
	for i in $(seq 0 $((k - 1))); do
		for _ in $(seq 600); do [ -f "$d/sim$i.ready" ] && break; sleep 0.1; done
		[ -f "$d/sim$i.ready" ] || { echo "scale.sh: simulator $i not ready" >&2; tail "$d/sim$i.log" >&2; exit 1; }
	done

	{
		printf '[bridge]\nlog_level = warn\noffline_after = 3\nbackoff_max = 60\n\n'
		printf '[upstream]\nhost = localhost\nport = %s\ncert = %s\ncert_password_file = %s\nca = %s\n\n' \
			"$up" "$work/pki/client.pfx" "$work/pki/client.pass" "$work/pki/ca.pem"
		printf '[homeassistant]\nhost = 127.0.0.1\nport = %s\nclient_id = bridge-scale\n\n' "$down"
		for i in $(seq 0 $((N - 1))); do
			printf '[device d%s]\nprofile = AP300\nsn = %s\ntimeout = 3000\n' "$i" $((SN0 + i))
			printf 'poll_core = 5\npoll_grid = 0\npoll_battery = 0\npoll_cells = 0\npoll_inverter = 0\npoll_settings = 0\n\n'
		done
	} >"$d/bridge.ini"

	"$BRIDGE" -c "$d/bridge.ini" --stats "$d/stats.json" >"$d/bridge.log" 2>&1 &
	bp=$!
	pids+=($bp)
	# wait until every device is online (startup: subscriptions, discovery documents)
	online=0
	for _ in $(seq $((600 + N / 5))); do
		if [ -f "$d/stats.json" ]; then
			online=$(jget "$d/stats.json" online)
			[ "$online" -ge "$N" ] && break
		fi
		kill -0 "$bp" 2>/dev/null || { echo "scale.sh: bridge exited" >&2; tail "$d/bridge.log" >&2; exit 1; }
		sleep 0.2
	done
	[ "$online" -ge "$N" ] || echo "scale.sh: N=$N: only $online devices online" >&2
	rss_start=$(status_kb "$bp" VmRSS)
	sleep "$WARM"
	kill -USR1 "$bp"
	sleep 1.2 # the stats file is rewritten every second
	c0=$(cpu_ticks "$bp")
	r0=$(jget "$d/stats.json" replies)
	t0=$(jget "$d/stats.json" timeouts)
	s0=$(date +%s.%N)
	sleep "$DUR"
	sleep 1.2
	c1=$(cpu_ticks "$bp")
	s1=$(date +%s.%N)
	r1=$(jget "$d/stats.json" replies)
	t1=$(jget "$d/stats.json" timeouts)
	p50=$(jget "$d/stats.json" rtt_us.p50)
	p99=$(jget "$d/stats.json" rtt_us.p99)
	rss=$(status_kb "$bp" VmRSS)
	hwm=$(status_kb "$bp" VmHWM)
	cp "$d/stats.json" "$d/stats.final.json"
	python3 - "$N" "$c0" "$c1" "$s0" "$s1" "$r0" "$r1" "$t0" "$t1" "$p50" "$p99" "$rss" "$hwm" "$TICK" <<'EOF'
import sys
N, c0, c1 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s0, s1 = float(sys.argv[4]), float(sys.argv[5])
r0, r1, t0, t1 = (int(x) for x in sys.argv[6:10])
p50, p99, rss, hwm, tick = (int(x) for x in sys.argv[10:15])
el = s1 - s0
reads = r1 - r0
cpu_s = (c1 - c0) / tick
rate = reads / el
print("| %d | %.1f | %.2f %% | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %d |" % (
    N, rate, 100 * cpu_s / el, ("%.0f" % (1e6 * cpu_s / reads)) if reads else "-",
    rss / 1024, hwm / 1024, rss / N, p50 / 1000, p99 / 1000, t1 - t0))
EOF
	echo "rss_after_start_kb=$rss_start rss_kb=$rss hwm_kb=$hwm cpu_ticks=$((c1 - c0)) reads=$((r1 - r0))" >"$d/summary.txt"
	kill "$bp" 2>/dev/null || true
	wait "$bp" 2>/dev/null || true
	for p in "${spids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	"$ROOT/scripts/broker.sh" stop "$d/up" >/dev/null
	"$ROOT/scripts/broker.sh" stop "$d/down" >/dev/null
done
