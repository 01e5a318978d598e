#!/usr/bin/env bash
# Memory footprint of bluetti-bridge with one device and of the CLI's read (issue 15).
#
#   bench/footprint.sh [-b BUILD_DIR | -p BINDIR] [-w SECONDS] [-f] [-k]
#
# Starts a throwaway PKI, mosquitto with mutual TLS upstream and a plain one downstream
# (scripts/broker.sh), bluetti-sim as one Elite 100 V2, then:
#  - bluetti-bridge with that one device (default polling): after SECONDS (default 20),
#    /proc/<pid>/status (VmRSS, RssAnon, RssFile, VmHWM) and /proc/<pid>/smaps_rollup
#    (Pss, Private_Dirty, Shared_Clean), and the file-backed resident memory per mapped
#    file from /proc/<pid>/smaps;
#  - bluetti watch (core, grid and battery groups, every second) sampled the same way
#    during its third round: the steady state of a read;
#  - bluetti read of the same groups: /proc/<pid>/status sampled every millisecond until it
#    exits (the last sample: VmRSS, RssAnon, RssFile, VmHWM).
# -p BINDIR measures installed programs (e.g. /usr/bin) instead of BUILD_DIR's.
# -f also measures the floor of any OpenSSL client (bench/tls_floor.c: PKCS#12, mutual-TLS
#    handshake, MQTT CONNECT, nothing else) built against the shared libssl/libcrypto and
#    statically (libssl.a, libcrypto.a, libc.a, --gc-sections), with its size.
# Prints markdown tables (docs/performance.md, "Footprint"); -k keeps the smaps files.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=$ROOT/build
WAIT=20
KEEP=0
FLOOR=0
while getopts "b:p:w:fk" o; do
	case $o in
	b | p) BIN=$(cd "$OPTARG" && pwd) ;;
	w) WAIT=$OPTARG ;;
	k) KEEP=1 ;;
	f) FLOOR=1 ;;
	*) sed -n '2,22p' "$0" >&2; exit 2 ;;
	esac
done
for b in bluetti bluetti-sim bluetti-bridge; do
	[ -x "$BIN/$b" ] || { echo "footprint.sh: $BIN/$b missing (build it first)" >&2; exit 1; }
done
SN=2434000112345
work=$(mktemp -d "${TMPDIR:-/tmp}/blt-footprint.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for d in up down; do "$ROOT/scripts/broker.sh" stop "$work/$d" >/dev/null 2>&1 || true; done
	[ "$KEEP" = 1 ] && echo "footprint.sh: files kept in $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/pki.sh" "$work/pki" >/dev/null
"$ROOT/scripts/broker.sh" start "$work/up" --pki "$work/pki" >/dev/null
"$ROOT/scripts/broker.sh" start "$work/down" --plain >/dev/null
up=$(cat "$work/up/port")
down=$(cat "$work/down/port")
conn=(--broker "localhost:$up" --cert "$work/pki/client.pfx"
	--cert-password-file "$work/pki/client.pass" --ca "$work/pki/ca.pem")
"$BIN/bluetti-sim" "${conn[@]}" --profile EL100V2 --sn $SN --ready-file "$work/sim.ready" \
	>"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/sim.ready" ] && break; sleep 0.1; done
[ -f "$work/sim.ready" ] || { echo "footprint.sh: simulator not ready" >&2; cat "$work/sim.log" >&2; exit 1; }

# sample PID LABEL: one table row
kb() { awk -v k="$2:" '$1 == k { s += $2 } END { printf "%.2f", s / 1024 }' "$1"; }
sample() {
	local pid=$1 label=$2
	cp "/proc/$pid/status" "$work/status"
	cp "/proc/$pid/smaps_rollup" "$work/rollup"
	cp "/proc/$pid/smaps" "$work/smaps.$label"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
		"$(kb "$work/status" VmRSS)" "$(kb "$work/status" RssAnon)" "$(kb "$work/status" RssFile)" \
		"$(kb "$work/rollup" Pss)" "$(kb "$work/rollup" Private_Dirty)" \
		"$(kb "$work/rollup" Shared_Clean)" "$(kb "$work/status" VmHWM)"
}
# by_file LABEL: resident file-backed memory per mapped file, largest first
by_file() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { f = ($6 ~ /^\//) ? $6 : "" } f != "" && $1 == "Rss:" { r[f] += $2 }
		END { for (f in r) if (r[f] >= 8) printf "%d %s\n", r[f], f }' "$work/smaps.$1" |
		sort -rn | awk '{ n = split($2, p, "/"); printf "%s %.2f MB; ", p[n], $1 / 1024 }'
	echo
}

cat >"$work/bridge.ini" <<INI
[bridge]
log_level = warn
[upstream]
host = localhost
port = $up
cert = $work/pki/client.pfx
cert_password_file = $work/pki/client.pass
ca = $work/pki/ca.pem
[homeassistant]
host = 127.0.0.1
port = $down
[device one]
profile = EL100V2
sn = $SN
INI

echo "| process | VmRSS MB | RssAnon MB | RssFile MB | Pss MB | Private_Dirty MB | Shared_Clean MB | VmHWM MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
"$BIN/bluetti-bridge" -c "$work/bridge.ini" >"$work/bridge.log" 2>&1 &
bp=$!
pids+=($bp)
sleep "$WAIT"
kill -0 $bp 2>/dev/null || { echo "footprint.sh: bridge exited" >&2; cat "$work/bridge.log" >&2; exit 1; }
grep -q . "$work/bridge.log" && { echo "footprint.sh: bridge log:" >&2; tail -5 "$work/bridge.log" >&2; }
sample $bp "bluetti-bridge, 1 device, after ${WAIT} s"
kill $bp
wait $bp 2>/dev/null || true

"$BIN/bluetti" watch "${conn[@]}" --profile EL100V2 --sn $SN --group core,grid,battery \
	--interval 1 --count 5 >"$work/watch.log" 2>&1 &
wp=$!
pids+=($wp)
sleep 2.5
kill -0 $wp 2>/dev/null || { echo "footprint.sh: bluetti watch exited" >&2; cat "$work/watch.log" >&2; exit 1; }
sample $wp "bluetti watch (core, grid, battery), 3rd round"
wait $wp || { echo "footprint.sh: bluetti watch failed" >&2; cat "$work/watch.log" >&2; exit 1; }

# The CLI's read: VmHWM (and VmRSS, RssAnon, RssFile at that moment) sampled every
# millisecond until the process exits; the last sample is within a millisecond of the end.
peak=$(python3 - "$BIN/bluetti" read "${conn[@]}" --profile EL100V2 --sn $SN --group core,grid,battery <<'PY'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
last = None
while p.poll() is None:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        if "VmHWM" in st:
            last = st
    except OSError:
        pass
    time.sleep(0.001)
if p.returncode != 0 or not last:
    sys.exit("bluetti read failed")
mb = lambda k: "%.2f" % (int(last[k].split()[0]) / 1024)
print(" | ".join([mb("VmRSS"), mb("RssAnon"), mb("RssFile"), "", "", "", mb("VmHWM")]))
PY
)
echo "| bluetti read (core, grid, battery), last sample before exit | $peak |"
if [ "$FLOOR" = 1 ]; then
	cc -std=c11 -O2 -o "$work/floor-shared" "$ROOT/bench/tls_floor.c" -lssl -lcrypto
	cc -std=c11 -O2 -static -ffunction-sections -fdata-sections -Wl,--gc-sections \
		-o "$work/floor-static" "$ROOT/bench/tls_floor.c" -lssl -lcrypto -lpthread 2>"$work/floor.log" ||
		{ cat "$work/floor.log" >&2; exit 1; }
	for v in shared static; do
		f=$("$work/floor-$v" "$work/pki/client.pfx" "$work/pki/client.pass" "$work/pki/ca.pem" "$up" |
			awk -F' [|] ' '{ print $1 " | " $2 " | " $3 " |  |  |  | " $4 }')
		echo "| OpenSSL floor (bench/tls_floor.c), $v, $(stat -c %s "$work/floor-$v") bytes | $f |"
	done
fi
echo
echo "File-backed resident memory of the bridge by file: $(by_file "bluetti-bridge, 1 device, after ${WAIT} s")"
echo
echo "Shared objects mapped by the bridge: $(grep -c '^[0-9a-f].*\.so' "$work/smaps.bluetti-bridge, 1 device, after ${WAIT} s" | tr -d ' ') mappings of $(awk '/^[0-9a-f]+-/ && $6 ~ /\.so/ { print $6 }' "$work/smaps.bluetti-bridge, 1 device, after ${WAIT} s" | sort -u | wc -l) files"
