#!/usr/bin/env bash
# Bluetooth LE end to end, no radio: a private dbus-daemon, bluetti-sim --ble serving a
# BlueZ imitation (org.bluez) on it, and the real `bluetti` CLI with the real BLE transport
# (sd-bus) pointed at it through DBUS_SYSTEM_BUS_ADDRESS. The simulator signs with its own
# generated key; the CLI accepts it through the test-only --ble-test-key.
#   test_ble_sim.sh BLUETTI BLUETTI_SIM BUS_CONF [BLUETTI_BRIDGE]
# Checks: scan; every block of every group of the EL100V2 profile; a gated write read back;
# each fault switch ends in a successful retry or a clear error, never a hang; with
# BLUETTI_BRIDGE, the bridge over Bluetooth alone (no upstream broker) publishes state to a
# Home Assistant broker, applies a command through the gate and survives the device
# dropping off and coming back.
set -uo pipefail
BLUETTI=$1
SIM=$2
CONF=$3
BRIDGE=${4:-}
SCRIPTS=$(cd "$(dirname "$0")/../../scripts" && pwd)
command -v dbus-daemon >/dev/null || { echo "SKIP: dbus-daemon not installed"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/blt-ble.XXXXXX")
bus_pid=
sim_pid=
stop_sim() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null
		wait "$sim_pid" 2>/dev/null
		sim_pid=
	fi
}
bridge_pid=
cloudsim_pid=
cleanup() {
	[ -n "$bridge_pid" ] && kill "$bridge_pid" 2>/dev/null && wait "$bridge_pid" 2>/dev/null
	[ -d "$tmp/down" ] && "$SCRIPTS/broker.sh" stop "$tmp/down" >/dev/null 2>&1
	[ -d "$tmp/up" ] && "$SCRIPTS/broker.sh" stop "$tmp/up" >/dev/null 2>&1
	[ -n "$cloudsim_pid" ] && kill "$cloudsim_pid" 2>/dev/null
	stop_sim
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
	[ -n "${BLT_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

dbus-daemon --config-file="$CONF" --address="unix:path=$tmp/bus" --nofork \
	--print-pid=1 >"$tmp/bus.pid" 2>"$tmp/bus.log" &
bus_pid=$!
for _ in $(seq 50); do [ -S "$tmp/bus" ] && break; sleep 0.1; done
[ -S "$tmp/bus" ] || { echo "FAIL: dbus-daemon did not start"; cat "$tmp/bus.log"; exit 1; }
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus"

ADDR=C0:FF:EE:00:00:01
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

start_sim() { # start_sim [sim options...]
	stop_sim
	rm -f "$tmp/ready"
	"$SIM" --ble --address "$ADDR" --key-out "$tmp/key" --key-file "$tmp/device.key" \
		--ready-file "$tmp/ready" -v "$@" \
		2>"$tmp/sim.log" &
	sim_pid=$!
	for _ in $(seq 100); do [ -f "$tmp/ready" ] && return 0; sleep 0.05; done
	echo "FAIL: simulator not ready"; cat "$tmp/sim.log"; exit 1
}

# bl NAME TIMEOUT_S bluetti-args... : run the CLI over BLE, never longer than TIMEOUT_S
bl() {
	local name=$1 limit=$2
	shift 2
	timeout -k 2 "$limit" "$BLUETTI" "$@" --transport ble --address "$ADDR" \
		--ble-test-key "$tmp/key" -p EL100V2 >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && fail "$name: hung (killed after ${limit}s)"
	return $rc
}

sessions() { grep -c "handshake .* complete" "$tmp/sim.log"; }

# --- scan ---------------------------------------------------------------------------------
start_sim
timeout 20 "$BLUETTI" scan --duration 1 >"$tmp/scan.out" 2>&1 || fail "scan: $(cat "$tmp/scan.out")"
grep -q "$ADDR .*yes .*EL100V2 .*EL100V2 .*EL100V22434000112345" "$tmp/scan.out" ||
	fail "scan did not list the simulator: $(cat "$tmp/scan.out")"
timeout 20 "$BLUETTI" scan --duration 1 --json | grep -q '"encrypted": true' ||
	fail "scan --json"

# --- every block of every group, one persistent connection per command --------------------
for g in core grid battery cells inverter settings; do
	if ! bl "read-$g" 30 read --group "$g" --json; then
		fail "read --group $g: $(cat "$tmp/read-$g.err")"
	fi
done
for b in 100 1300 6000 6100 6300 1100 1200 1400 1500 2000 2200; do
	grep -q "\"block\": *$b\b\|\"$b\"\|block $b\|\"id\": *$b" "$tmp"/read-*.out ||
		fail "block $b not in any group read"
done
grep -q '"soc"\|battery_soc\|"state_of_charge"' "$tmp/read-core.out" "$tmp/read-battery.out" ||
	fail "no state of charge decoded"
bl read-1300 20 read --block 1300 || fail "read 1300: $(cat "$tmp/read-1300.err")"
grep -q "phase_0_voltage: 2[0-9][0-9]" "$tmp/read-1300.out" || fail "1300 not decoded"

# --- a gated write, read back over the same link --------------------------------------------
bl set-on 30 set dc_output on || fail "set dc_output on: $(cat "$tmp/set-on.err")"
bl get 30 get dc_output || fail "get: $(cat "$tmp/get.err")"
grep -q "on" "$tmp/get.out" || fail "dc_output did not read back on: $(cat "$tmp/get.out")"
bl set-off 30 set dc_output off || fail "set dc_output off: $(cat "$tmp/set-off.err")"
# the gate still refuses what is not allowed, over BLE as over the cloud
if bl set-bad 30 write-register 2013 1; then fail "power-off register written over BLE"; fi
grep -qi "denied\|refus\|not allowed\|deny" "$tmp/set-bad.err" ||
	fail "write-register 2013 without a clear refusal: $(cat "$tmp/set-bad.err")"
stop_sim

# --- faults: a successful retry ...------------------------------------------------------------
for fault in bad-checksum short-sig drop-step:1 drop-step:4 drop-step:6 short-secret; do
	start_sim --fault "$fault"
	if bl "fault-$fault" 60 read --block 1300; then
		grep -q "phase_0_voltage" "$tmp/fault-$fault.out" || fail "$fault: no data"
		n=$(grep -c "^bluetti-sim --ble: connected" "$tmp/sim.log")
		[ "$n" -ge 2 ] || fail "$fault: expected a retry on a new connection, saw $n"
	else
		fail "$fault: no successful retry: $(cat "$tmp/fault-$fault.err")"
	fi
	stop_sim
done

# --- ... or a clear error ---------------------------------------------------------------------
start_sim --fault out-of-range
t0=$(date +%s)
if bl out-of-range 30 read --block 1300 --ble-connect-timeout 2000; then
	fail "out of range: read succeeded"
fi
grep -q "not found" "$tmp/out-of-range.err" ||
	fail "out of range: unclear error: $(cat "$tmp/out-of-range.err")"
[ $(($(date +%s) - t0)) -le 10 ] || fail "out of range: took more than 10 s"
stop_sim

# the device drops the link before answering: the request fails with a clear error or the
# client's retry succeeds after the reconnect; never a hang
start_sim --fault disconnect-after:0
if bl disconnect 60 read --block 1300 --retries 3 --timeout 8000; then
	grep -q "phase_0_voltage" "$tmp/disconnect.out" || fail "disconnect: no data"
else
	grep -qi "disconnect\|timed out\|no reply" "$tmp/disconnect.err" ||
		fail "disconnect: unclear error: $(cat "$tmp/disconnect.err")"
fi
stop_sim

# a device we cannot verify (the real K2 instead of the simulator's key): a clear error
start_sim
timeout -k 2 40 "$BLUETTI" read --block 1300 --transport ble --address "$ADDR" -p EL100V2 \
	>"$tmp/k2.out" 2>"$tmp/k2.err"
rc=$?
[ $rc -eq 124 ] && fail "K2 mismatch: hung"
[ $rc -ne 0 ] || fail "K2 mismatch: a device with an unknown key was accepted"
grep -q "signature" "$tmp/k2.err" || fail "K2 mismatch: unclear error: $(cat "$tmp/k2.err")"
stop_sim

# --- the bridge over Bluetooth ---------------------------------------------------------------
if [ -n "$BRIDGE" ] && command -v mosquitto_sub >/dev/null && command -v mosquitto >/dev/null; then
	DOWN=$("$SCRIPTS/broker.sh" start "$tmp/down" --plain >/dev/null && cat "$tmp/down/port") ||
		{ echo "FAIL: downstream broker did not start"; exit 1; }
	start_sim
	cat >"$tmp/bridge.ini" <<EOF
[bridge]
log_level = debug
[homeassistant]
host = 127.0.0.1
port = $DOWN
discovery = entity
[device elite]
profile = EL100V2
sn = 2434000112345
transport = ble
address = $ADDR
ble_test_key = $tmp/key
controls = true
poll_core = 1
poll_grid = 2
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 2
EOF
	"$BRIDGE" --check-config -c "$tmp/bridge.ini" >"$tmp/check.out" 2>&1 &&
		grep -q "upstream: none" "$tmp/check.out" && grep -q "bluetooth: $ADDR" "$tmp/check.out" ||
		fail "bridge --check-config: $(cat "$tmp/check.out")"
	"$BRIDGE" -c "$tmp/bridge.ini" >"$tmp/bridge.log" 2>&1 &
	bridge_pid=$!
	state_once() { # NAME: a fresh (not retained) state document with data, within 30 s
		timeout 35 mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/state -R -W 30 \
			2>&1 | grep -m1 '"soc":[0-9]' >"$tmp/$1.json"
	}
	if state_once st1 && grep -q '"soc"' "$tmp/st1.json"; then :; else
		fail "bridge over BLE: no state ($(tail -5 "$tmp/bridge.log"))"; fi
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/availability -C 1 -W 8 \
		>"$tmp/avail.txt" 2>&1
	grep -q online "$tmp/avail.txt" || fail "bridge over BLE: availability $(cat "$tmp/avail.txt")"
	# a Home Assistant command through the gate, over Bluetooth
	mosquitto_pub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/set/dc_output -m ON
	ok_cmd=
	for _ in $(seq 20); do
		grep -q "dc_output.*result=ok" "$tmp/bridge.log" && ok_cmd=1 && break
		sleep 0.5
	done
	[ -n "$ok_cmd" ] ||
		fail "bridge over BLE: dc_output command not applied ($(grep -i dc_output "$tmp/bridge.log" | tail -3))"
	# the device drops off (simulator stopped) and comes back: state flows again
	stop_sim
	sleep 3
	start_sim
	if state_once st2 && grep -q '"soc"' "$tmp/st2.json"; then :; else
		fail "bridge over BLE: no state after the device came back ($(tail -5 "$tmp/bridge.log"))"; fi
	n=$(grep -c "session established" "$tmp/bridge.log")
	[ "$n" -ge 2 ] || fail "bridge over BLE: expected a reconnect, saw $n sessions"
	kill "$bridge_pid" 2>/dev/null
	wait "$bridge_pid" 2>/dev/null
	bridge_pid=
	stop_sim
fi

# --- the bridge with transport = auto: Bluetooth, failover to the cloud, and back -----------
if [ -n "$BRIDGE" ] && command -v mosquitto_sub >/dev/null && command -v mosquitto >/dev/null; then
	UPP=$("$SCRIPTS/broker.sh" start "$tmp/up" --plain >/dev/null && cat "$tmp/up/port") ||
		{ echo "FAIL: upstream broker did not start"; exit 1; }
	[ -n "${DOWN:-}" ] || DOWN=$("$SCRIPTS/broker.sh" start "$tmp/down" --plain >/dev/null &&
		cat "$tmp/down/port")
	"$SIM" --broker "127.0.0.1:$UPP" --plain --profile EL100V2 --sn 2434000112345 \
		--ready-file "$tmp/cloud.ready" >"$tmp/cloudsim.log" 2>&1 &
	cloudsim_pid=$!
	for _ in $(seq 100); do [ -e "$tmp/cloud.ready" ] && break; sleep 0.05; done
	start_sim
	cat >"$tmp/auto.ini" <<EOF
[bridge]
log_level = debug
[upstream]
host = 127.0.0.1
port = $UPP
tls = false
[homeassistant]
host = 127.0.0.1
port = $DOWN
discovery = entity
[device elite]
profile = EL100V2
sn = 2434000112345
transport = auto
address = $ADDR
ble_test_key = $tmp/key
poll_core = 1
poll_grid = 1
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 0
EOF
	"$BRIDGE" -c "$tmp/auto.ini" >"$tmp/auto.log" 2>&1 &
	bridge_pid=$!
	link_state() { # NAME LINK SECONDS: a fresh state with data over LINK
		timeout $(($3 + 5)) mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/state -R \
			-W "$3" 2>&1 | grep -m1 "\"soc\":[0-9].*\"link\":\"$2\"\|\"link\":\"$2\".*\"soc\":[0-9]" \
			>"$tmp/$1.json"
	}
	link_state au1 bluetooth 30 || fail "auto: no state over bluetooth ($(tail -3 "$tmp/auto.log"))"
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t homeassistant/sensor/bluetti_2434000112345/link/config \
		-C 1 -W 8 2>&1 | grep -q '"entity_category":"diagnostic"' || fail "auto: no link entity"
	sleep 2
	disco_before=$(grep -c "discovery documents" "$tmp/auto.log")
	stop_sim # out of Bluetooth range: the cloud takes over
	link_state au2 cloud 30 || fail "auto: no failover to the cloud ($(grep -v libmosq "$tmp/auto.log" | tail -3))"
	start_sim # back in range
	link_state au3 bluetooth 90 || fail "auto: not back on bluetooth ($(grep -v libmosq "$tmp/auto.log" | tail -3))"
	disco_after=$(grep -c "discovery documents" "$tmp/auto.log")
	[ "$disco_after" = "$disco_before" ] ||
		fail "auto: discovery republished on a path switch ($disco_before -> $disco_after)"
	grep -q "now over the cloud" "$tmp/auto.log" && grep -q "now over bluetooth" "$tmp/auto.log" ||
		fail "auto: path switches not logged"
	kill "$bridge_pid" 2>/dev/null
	wait "$bridge_pid" 2>/dev/null
	bridge_pid=
	kill "$cloudsim_pid" 2>/dev/null
	wait "$cloudsim_pid" 2>/dev/null
	stop_sim
	"$SCRIPTS/broker.sh" stop "$tmp/up" >/dev/null 2>&1
fi

if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed; last simulator log:"
	tail -20 "$tmp/sim.log"
	exit 1
fi
echo "ok: scan, all groups, gated write, 6 retried faults, out of range, disconnect, K2 mismatch${BRIDGE:+, bridge over BLE, bridge auto failover}"
