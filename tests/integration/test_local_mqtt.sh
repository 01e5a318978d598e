#!/usr/bin/env bash
# Open MQTT (LOCAL.md §2) end to end through a real mosquitto that requires passwords (run
# by with_brokers.sh): bluetti-sim --local-mqtt logs in as the device does (client id =
# username = <model><13-digit SN>, the configured secret), pushes block 11000 every report
# cycle + 1 s, answers bare RTU frames at QoS 0 and drops malformed ones; the CLI reads
# several blocks over it with its own timeout and retry (requests dropped by the device)
# and `watch` shows the pushed IoT block and the device alive.
#   test_local_mqtt.sh BLUETTI BLUETTI_SIM
set -uo pipefail
BLUETTI=$1 SIM=$2
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_SCRIPTS:?}"
W=$BLT_IT_DIR/lmqtt
mkdir -p "$W"
SN=2434000112345
DEV_USER=EL100V2$SN # 13 digits already
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
wait_file() { for _ in $(seq "${2:-250}"); do [ -e "$1" ] && return 0; sleep 0.02; done; return 1; }
stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# the owner's broker: passwords required; the device's account and the owner's
B=$BLT_IT_DIR/lmqtt-broker
"$BLT_SCRIPTS/broker.sh" start "$B" --plain --passwd "$DEV_USER:dev-s3cret" >/dev/null ||
	{ echo "broker did not start" >&2; exit 1; }
mosquitto_passwd -b "$B/passwd" owner owner-pw >/dev/null
"$BLT_SCRIPTS/broker.sh" restart "$B" || { echo "broker did not restart" >&2; exit 1; }
PORT=$(cat "$B/port")
printf 'dev-s3cret\n' >"$W/dev.pass"
printf 'wrong\n' >"$W/wrong.pass"
printf 'owner-pw\n' >"$W/owner.pass"
chmod 600 "$W"/*.pass
OWNER=(-h 127.0.0.1 -p "$PORT" -u owner -P owner-pw)

# --- a wrong secret: the broker refuses the login, the device retries later ---------------
"$SIM" --local-mqtt "127.0.0.1:$PORT" --sn "$SN" --password-file "$W/wrong.pass" \
	--ready-file "$W/wrong.ready" >"$W/wrong.sim" 2>&1 &
wp=$!
sleep 1.5
stop_pid $wp
if [ ! -e "$W/wrong.ready" ] && grep -q 'refused' "$W/wrong.sim" &&
	grep -q '(0 logins' "$W/wrong.sim"; then
	ok "wrong secret: login refused, never online"
else
	fail "wrong secret"; sed 's/^/    | /' "$W/wrong.sim" >&2
fi

# --- the device ---------------------------------------------------------------------------
mosquitto_sub "${OWNER[@]}" -t "PUB/EL100V2/$SN" -F '%U %l %x' >"$W/pub.txt" 2>"$W/sub.err" &
subpid=$!
pids+=($subpid)
sleep 0.3
"$SIM" --local-mqtt "127.0.0.1:$PORT" --profile EL100V2 --sn "$SN" \
	--password-file "$W/dev.pass" --report-cycle 1 --drop 0.3 --seed 7 -v \
	--ready-file "$W/dev.ready" >"$W/dev.sim" 2>&1 &
simpid=$!
pids+=($simpid)
wait_file "$W/dev.ready" || { fail "device never online"; sed 's/^/    | /' "$W/dev.sim" >&2; exit 1; }
ok "device online with its own credentials"
grep -q "as $DEV_USER (p2, c1, k50, u'$DEV_USER')" "$B/mosquitto.log" &&
	ok "client id = username = $DEV_USER, MQTT 3.1.1, clean session, keep-alive 50" ||
	fail "device identity on the broker: $(grep "$DEV_USER" "$B/mosquitto.log" | head -2)"

# a malformed request (bad CRC) and a PUBLIC/<model>/POWER message: no reply
mosquitto_pub "${OWNER[@]}" -t "SUB/EL100V2/$SN" -m "$(printf '\x00\x03\x00\x64\x00\x3e\x00\x00')"
mosquitto_pub "${OWNER[@]}" -t "PUBLIC/EL100V2/POWER" -m "on"

# --- reads over it: bare RTU, slave 0, QoS 0; our timeout and retry cover the drops -------
LM=(--transport local-mqtt --broker "127.0.0.1:$PORT" --username owner
	--password-file "$W/owner.pass" --profile EL100V2 --sn "$SN")
"$BLUETTI" read "${LM[@]}" --block 100,1300,6000 --timeout 1500 \
	--retries 4 --json >"$W/read.json" 2>"$W/read.err"
st=$?
if [ $st = 0 ] && python3 - "$W/read.json" <<'EOF'; then
import json, sys
blocks = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        o = json.loads(line)
        blocks[o.get("block")] = o
assert set(blocks) >= {100, 1300, 6000}, blocks.keys()
assert blocks[100]["values"]["device_serial"] == "2434000112345", blocks[100]["values"]
assert blocks[100]["values"]["soc"] > 0
EOF
	ok "read of blocks 100, 1300, 6000 over Open MQTT"
else
	fail "read (status $st)"; sed 's/^/    | /' "$W/read.err" >&2; head -c 600 "$W/read.json" >&2
fi

# watch shows the device's pushes of block 11000 as they come, the safety code hidden
timeout -s INT 5 "$BLUETTI" watch "${LM[@]}" --block 100 -i 2 --timeout 1500 --retries 4 \
	>"$W/watch.out" 2>"$W/watch.err"
npush=$(grep -c " 11000 (push) iot_model=EL100V2 iot_serial=$SN safety_code=\*\*\* " "$W/watch.out")
nread=$(grep -c ' 100 pack_voltage=' "$W/watch.out")
if [ "$npush" -ge 2 ] && [ "$nread" -ge 1 ]; then
	ok "watch: $nread reads of block 100 and $npush pushes of block 11000 (safety code hidden)"
else
	fail "watch ($npush pushes, $nread reads)"; cat "$W/watch.out" "$W/watch.err" >&2
fi
grep -q "$(python3 -c 'print(format((7 ^ 0x5afe) * 2654435761 % 10**12))')" "$W/watch.out" &&
	fail "watch printed the safety code"
stop_pid $simpid
stop_pid $subpid
# pushes: 209 bytes, 00 10 2a f8 00 64 c8, CRC good, the IoT model string; 2 s apart
if python3 - "$W/pub.txt" <<'EOF'; then
import sys
def crc(b):
    c = 0xFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c
times = []
for line in open(sys.argv[1]):
    t, n, h = line.split()
    b = bytes.fromhex(h)
    if b[:2] != b"\x00\x10":
        continue
    assert int(n) == 209 and len(b) == 209, (n, len(b))
    assert b[:7] == bytes.fromhex("00102af80064c8"), b[:7].hex()
    assert crc(b[:-2]) == b[-2] | b[-1] << 8, "push CRC"
    model = b[7:19]
    swapped = bytes(x for i in range(0, 12, 2) for x in (model[i + 1], model[i]))
    assert swapped.rstrip(b"\0") == b"EL100V2", swapped
    times.append(float(t))
assert len(times) >= 3, times
gaps = [b - a for a, b in zip(times, times[1:])]
assert all(1.5 <= g <= 2.8 for g in gaps), gaps
EOF
	ok "pushes of block 11000 every report cycle + 1 s, 209 bytes, CRC good"
else
	fail "pushes"; cut -c1-90 "$W/pub.txt" >&2
fi
if grep -Eq 'stopping \([0-9]+ logins, [0-9]+ requests, [0-9]+ replies, 1 invalid, [1-9][0-9]* dropped, 0 unanswered, [0-9]+ pushes, 1 on PUBLIC/EL100V2/POWER\)' "$W/dev.sim"; then
	ok "malformed request dropped silently, requests dropped (--drop) retried, POWER logged"
else
	fail "device counters: $(grep stopping "$W/dev.sim")"
fi

# --- liveness: a device that drops every request but pushes is online -------------------
"$SIM" --local-mqtt "127.0.0.1:$PORT" --sn "$SN" --password-file "$W/dev.pass" \
	--report-cycle 1 --drop 1 --ready-file "$W/mute.ready" >"$W/mute.sim" 2>&1 &
mutepid=$!
pids+=($mutepid)
wait_file "$W/mute.ready" || fail "mute device never online"
timeout -s INT 6 "$BLUETTI" watch "${LM[@]}" --block 100 -i 1 --timeout 800 --retries 0 \
	>"$W/mute.out" 2>"$W/mute.err"
stop_pid $mutepid
if grep -q 'unanswered, but the device pushed block 11000 [0-9]* s ago: it is online' "$W/mute.err" &&
	grep -q ' 11000 (push) ' "$W/mute.out" && ! grep -q ' 100 pack_voltage=' "$W/mute.out"; then
	ok "no reply, but pushes: watch says the device is online"
else
	fail "liveness from pushes"; cat "$W/mute.out" "$W/mute.err" >&2
fi

# --- usage -------------------------------------------------------------------------------
"$BLUETTI" read --transport local-mqtt --profile EL100V2 --sn "$SN" -b 100 >/dev/null 2>"$W/usage.err"
[ $? = 2 ] && grep -q 'needs --broker' "$W/usage.err" && ok "local-mqtt without --broker: usage" ||
	fail "usage: $(cat "$W/usage.err")"

[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all ok"
