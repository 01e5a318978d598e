#!/usr/bin/env bash
# bluetti-bridge serving a cloud, a Modbus TCP and a local-MQTT device at once, and a SIGHUP
# reload that keeps every unchanged connection (run by with_brokers.sh):
#   upstream broker (mutual TLS) + bluetti-sim AP300 "cloud" through it;
#   bluetti-sim --modbus-tcp AP300 "lan" (one connection, >= 1 s between requests);
#   bluetti-sim --local-mqtt AP300 "own" on the Home Assistant broker (the device's own
#   MQTT client: bare RTU, QoS 0, the periodic 11000 push);
#   the Home Assistant broker (plain) watched with mosquitto_sub.
# Checked: the devices online with complete state (every key announced by the device
# discovery document, the default form, in the state document, values read), each device
# document naming the bridge's own device as via_device; the bridge device shows both transports; a reload changing only
# the Modbus TCP device's section reconnects that device (the simulator sees a new client)
# and neither broker connection (the brokers see no new bridge client); a reload changing
# only the cloud device's section restarts that device on the kept upstream connection and
# leaves the Modbus TCP connection alone.
#   test_bridge_lan.sh BLUETTI_SIM BLUETTI_BRIDGE
set -uo pipefail
SIM=$1 BRIDGE=$2
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto_sub missing"; exit 77; }
PY=/usr/bin/python3
W=$BLT_IT_DIR/bridge-lan
mkdir -p "$W"
SN_C=2616113480001
SN_T=2616113480002
SN_L=2616113480003
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
wait_file() { # FILE: up to 5 s
	for _ in $(seq 250); do [ -s "$1" ] && return 0; sleep 0.02; done
	return 1
}
count() { # FILE PATTERN: matching lines (0 if none)
	local n
	n=$(grep -c -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

UP=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/up" --pki "$BLT_PKI" >/dev/null &&
	cat "$BLT_IT_DIR/up/port") || { echo "upstream broker did not start" >&2; exit 1; }
DOWN=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/down" --plain >/dev/null &&
	cat "$BLT_IT_DIR/down/port") || { echo "downstream broker did not start" >&2; exit 1; }

"$SIM" --broker "localhost:$UP" --cert "$BLT_PKI/client.pfx" \
	--cert-password-file "$BLT_PKI/client.pass" --ca "$BLT_PKI/ca.pem" \
	--profile AP300 --sn "$SN_C" --ready-file "$W/cloud.ready" >"$W/cloud.log" 2>&1 &
pids+=($!)
wait_file "$W/cloud.ready" || { cat "$W/cloud.log" >&2; echo "cloud sim did not start" >&2; exit 1; }
"$SIM" --modbus-tcp 0 --profile AP300 --sn "$SN_T" --ready-file "$W/tcp.port" -v \
	>"$W/tcp.log" 2>&1 &
pids+=($!)
wait_file "$W/tcp.port" || { cat "$W/tcp.log" >&2; echo "modbus-tcp sim did not start" >&2; exit 1; }
TCP=$(cat "$W/tcp.port")

# a device whose own MQTT client ("Open MQTT", LOCAL.md §2) uses the owner's broker (here
# the Home Assistant one): bare RTU frames, QoS 0, SUB/<model>/<sn> / PUB/<model>/<sn>, and
# its block-11000 push every report cycle
"$SIM" --local-mqtt "127.0.0.1:$DOWN" --profile AP300 --sn "$SN_L" --report-cycle 4 \
	--ready-file "$W/own.ready" >"$W/own.log" 2>&1 &
pids+=($!)
wait_file "$W/own.ready" || { cat "$W/own.log" >&2; echo "local-mqtt sim did not start" >&2; exit 1; }

# everything the bridge publishes, retained or not, one line per message
mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t '#' -v >"$W/down.txt" 2>/dev/null &
pids+=($!)

write_config() { # CLOUD_NAME TCP_NAME
	cat >"$W/bridge.ini" <<EOT
[bridge]
log_level = debug
[upstream]
host = localhost
port = $UP
cert = $BLT_PKI/client.pfx
cert_password_file = $BLT_PKI/client.pass
ca = $BLT_PKI/ca.pem
client_id = lan-test-up
[homeassistant]
host = 127.0.0.1
port = $DOWN
client_id = lan-test-ha
[device cloud]
name = $1
profile = AP300
sn = $SN_C
poll_core = 2
poll_grid = 4
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 0
[device lan]
name = $2
profile = AP300
sn = $SN_T
transport = modbus-tcp
host = 127.0.0.1:$TCP
poll_grid = 0
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 0
[device own]
name = Own MQTT unit
profile = AP300
sn = $SN_L
transport = local-mqtt
poll_core = 2
poll_grid = 0
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 0
EOT
}
write_config "Cloud unit" "LAN unit"
"$BRIDGE" --check-config -c "$W/bridge.ini" >"$W/check.out" 2>&1 &&
	grep -q "modbus tcp: 127.0.0.1:$TCP unit 1" "$W/check.out" && ok "check-config" ||
	{ sed 's/^/    | /' "$W/check.out" >&2; fail "check-config"; }
"$BRIDGE" -c "$W/bridge.ini" >"$W/bridge.log" 2>&1 &
BPID=$!
pids+=($BPID)

# complete state: every announced key of the device in its last state document, values read
complete() { # ID SN MIN_VALUES
	"$PY" - "$W/down.txt" "$1" "$2" "$3" <<'PYEOF'
import json, sys
path, dev, sn, need = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
keys, state, devdoc = set(), None, None
for line in open(path, errors="replace"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    parts = topic.split("/")
    # per-entity documents (sub-devices) and the device document (the station, default form)
    if topic.startswith("homeassistant/") and len(parts) == 5 and parts[2] == "bluetti_" + sn and payload:
        keys.add(parts[3])
    if topic == "homeassistant/device/bluetti_%s/config" % sn and payload:
        devdoc = json.loads(payload)
    # its sub-devices' documents (battery pack, nodes): their entities are in the state too
    if topic.startswith("homeassistant/device/bluetti_%s_" % sn) and payload:
        keys |= set(json.loads(payload).get("cmps", {}))
    if topic == "bluetti/%s/state" % dev and payload:
        state = json.loads(payload)
if devdoc is None or devdoc.get("dev", {}).get("via_device") != "bluetti_bridge_bluetti":
    print("%s: no device document linked to the bridge device" % dev)
    sys.exit(1)
keys |= set(devdoc.get("cmps", {}))
if not keys or state is None:
    print("%s: %d keys announced, state %s" % (dev, len(keys), "none" if state is None else "seen"))
    sys.exit(1)
missing = sorted(keys - set(state))
values = [k for k, v in state.items() if v is not None]
print("%s: %d announced, %d in the state, %d with values, missing %s" % (dev, len(keys), len(state), len(values), missing[:5]))
sys.exit(0 if not missing and len(values) >= need else 1)
PYEOF
}
wait_complete() { # ID SN MIN_VALUES SECONDS
	for _ in $(seq "$4"); do complete "$1" "$2" "$3" >"$W/complete.out" && return 0; sleep 1; done
	cat "$W/complete.out" >&2
	return 1
}
if wait_complete cloud "$SN_C" 20 30; then ok "cloud device: complete state ($(cat "$W/complete.out"))"; else
	tail -n 30 "$W/bridge.log" >&2; fail "cloud device state"; fi
if wait_complete lan "$SN_T" 10 60; then ok "modbus-tcp device: complete state ($(cat "$W/complete.out"))"; else
	tail -n 40 "$W/bridge.log" >&2; fail "modbus-tcp device state"; fi
grep -aq '^bluetti/lan/availability online' "$W/down.txt" && ok "modbus-tcp device online" ||
	fail "modbus-tcp device not online"
if wait_complete own "$SN_L" 10 30; then ok "local-mqtt device: complete state ($(cat "$W/complete.out"))"; else
	tail -n 30 "$W/bridge.log" >&2; fail "local-mqtt device state"; fi
info=$(grep -a '^bluetti/bridge/info ' "$W/down.txt" | tail -n 1)
case $info in *'"cloud":"ON"'*'"modbus_tcp":"ON","local_mqtt":"ON"'*) ok "bridge device: cloud, modbus tcp and local mqtt connected" ;;
*) fail "bridge device state: $info" ;; esac
# each device's discovery document went out once (after its first round), not again
for sn in "$SN_C" "$SN_T" "$SN_L"; do
	n=$(grep -ac "^homeassistant/device/bluetti_$sn/config {" "$W/down.txt")
	[ "$n" = 1 ] && ok "device document of $sn published once" ||
		fail "device document of $sn published $n times"
done
# one connection at a time, and only one so far
[ "$(count "$W/tcp.log" "connected")" = 1 ] && ok "one Modbus TCP connection" ||
	fail "Modbus TCP connections: $(count "$W/tcp.log" "connected")"

up_conn() { count "$BLT_IT_DIR/up/mosquitto.log" "as lan-test-up ("; }
ha_conn() { count "$BLT_IT_DIR/down/mosquitto.log" "as lan-test-ha ("; }
lan_conn() { count "$BLT_IT_DIR/down/mosquitto.log" "as lan-test-ha-lan ("; }
lan0=$(lan_conn)
up0=$(up_conn) ha0=$(ha_conn) tcp0=$(count "$W/tcp.log" "connected")
[ "$up0" = 1 ] && [ "$ha0" = 1 ] || fail "broker connections before the reload: up $up0, ha $ha0"

# reload 1: only the Modbus TCP device's section changed
write_config "Cloud unit" "LAN unit renamed"
kill -HUP "$BPID"
for _ in $(seq 100); do
	grep -q "reloaded:" "$W/bridge.log" && break
	sleep 0.1
done
for _ in $(seq 100); do
	[ "$(count "$W/tcp.log" "connected")" -gt "$tcp0" ] && break
	sleep 0.1
done
sleep 2
grep -q "lan: section changed; restarting it" "$W/bridge.log" && ok "reload 1: lan restarted" ||
	fail "reload 1: lan not restarted"
grep -q "cloud: section changed" "$W/bridge.log" && fail "reload 1: cloud restarted" ||
	ok "reload 1: cloud kept"
[ "$(count "$W/tcp.log" "connected")" -gt "$tcp0" ] && ok "reload 1: the changed device reconnected" ||
	fail "reload 1: no new Modbus TCP connection"
[ "$(up_conn)" = "$up0" ] && ok "reload 1: upstream connection kept" ||
	fail "reload 1: upstream reconnected ($up0 -> $(up_conn))"
[ "$(ha_conn)" = "$ha0" ] && ok "reload 1: Home Assistant connection kept" ||
	fail "reload 1: Home Assistant reconnected ($ha0 -> $(ha_conn))"
[ "$lan0" = 1 ] && [ "$(lan_conn)" = "$lan0" ] && ok "reload 1: local-mqtt connection kept" ||
	fail "reload 1: local-mqtt connections $lan0 -> $(lan_conn)"
if wait_complete lan "$SN_T" 10 60 &&
	grep -aq 'bluetti_'"$SN_T"'/.*"LAN unit renamed"' "$W/down.txt"; then
	ok "reload 1: lan back with its new name"; else fail "reload 1: lan state after the reload"; fi

# reload 2: only the cloud device's section changed
tcp1=$(count "$W/tcp.log" "connected")
write_config "Cloud unit renamed" "LAN unit renamed"
kill -HUP "$BPID"
for _ in $(seq 100); do
	[ "$(count "$W/bridge.log" "reloaded:")" = 2 ] && break
	sleep 0.1
done
sleep 3
grep -q "cloud: section changed; restarting it" "$W/bridge.log" && ok "reload 2: cloud restarted" ||
	fail "reload 2: cloud not restarted"
[ "$(count "$W/tcp.log" "connected")" = "$tcp1" ] && ok "reload 2: Modbus TCP connection kept" ||
	fail "reload 2: Modbus TCP reconnected"
[ "$(up_conn)" = "$up0" ] && ok "reload 2: upstream connection kept" ||
	fail "reload 2: upstream reconnected ($up0 -> $(up_conn))"
if wait_complete cloud "$SN_C" 20 30 &&
	grep -aq 'bluetti_'"$SN_C"'/.*"Cloud unit renamed"' "$W/down.txt"; then
	ok "reload 2: cloud back with its new name"; else fail "reload 2: cloud state after the reload"; fi

kill "$BPID" 2>/dev/null
wait "$BPID" 2>/dev/null
rc=$?
# exit 0 after SIGTERM (under AddressSanitizer also: no leak, no memory error)
[ $rc = 0 ] && ok "bridge stopped cleanly" || { fail "bridge exit status $rc"; grep -A20 "Sanitizer" "$W/bridge.log" | head -40 >&2; }
"$BLT_SCRIPTS/broker.sh" stop "$BLT_IT_DIR/up"
"$BLT_SCRIPTS/broker.sh" stop "$BLT_IT_DIR/down"
[ $fails = 0 ] || { tail -n 40 "$W/bridge.log" >&2; exit 1; }
exit 0
