#!/usr/bin/env bash
# Offline CLI behaviour: decode (hex, frame, stdin, JSON), errors and exit codes,
# blocks, profiles. Usage: cli_offline.sh BLUETTI TESTDATA
set -u
BLUETTI=$1
DATA=$2
fails=0
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run EXPECTED_STATUS ARGS... ; captures stdout/stderr
run() {
	local want=$1; shift
	"$BLUETTI" "$@" >"$out" 2>"$err"
	local got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: bluetti $* -> exit $got, want $want"; sed 's/^/  stderr: /' "$err" | head -5
		fails=$((fails + 1)); return 1
	fi
	return 0
}
has() { # has FILE PATTERN
	if ! grep -qF -- "$2" "$1"; then
		echo "FAIL: expected '$2' in output of the last command:"; sed 's/^/  | /' "$1" | head -20
		fails=$((fails + 1))
	fi
}
lines() { # lines FILE N: exactly N lines
	local n; n=$(wc -l <"$1")
	[ "$n" -eq "$2" ] || { echo "FAIL: expected $2 line(s), got $n"; fails=$((fails + 1)); }
}

HEX1300='01f4 fea2 ffff 04d2 0000 0038 0000 0000 0000 0000 0000 0000 0001 fea2 08fd fff0 017c 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000'
# AP300 block 6000, real capture (PROTOCOL.md §7.1), V2 envelope
FRAME6000='01f80f00000000b40000 0003 44 0000 0001 0001 14c1 0000 005f 0019 0000 0022 0000 0000 0000 0000 0003 0000 0000 0003 4e84 4e84 b2be 0066 b2be 0066 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 c39a'

# --- decode: register data
run 0 decode --block 1300 --hex "$HEX1300" && {
	has "$out" "frequency: 50.0 Hz"
	has "$out" "grid_power: -350 W"
	has "$out" "charge_energy: 123.4 kWh"
	has "$out" "phase_count: 1"
	has "$out" "phase_0_voltage: 230.1 V"
	has "$out" "phase_0_current: -1.6 A"
	has "$out" "phase_0_apparent: 380 VA"
}
# JSON: one object on one line with the promised keys
run 0 decode --block 1300 --hex "$HEX1300" --json && {
	lines "$out" 1
	has "$out" '{"block":1300,"name":"INV_GRID_INFO","values":{'
	has "$out" '"frequency":50.0'
	has "$out" '"units":{'
	has "$out" '"missing":['
}
# stdin
echo "$HEX1300" | "$BLUETTI" decode --block 1300 - >"$out" 2>"$err" || { echo "FAIL: stdin decode"; fails=$((fails+1)); }
has "$out" "phase_0_voltage: 230.1 V"

# --- decode: a whole captured MQTT payload (envelope + RTU, CRC checked)
run 0 decode --block 6000 --frame "$FRAME6000" && {
	has "$out" "soc: 95"
	has "$out" "voltage: 53.13 V"
}
if [ -f "$DATA/frames/ap300_block100.hex" ]; then
	run 0 decode --block 100 --frame "$(cat "$DATA/frames/ap300_block100.hex")" && {
		has "$out" "device_model: AP300"
		has "$out" "device_serial: 2616113487436"
	}
fi

# --- errors name the problem
BADCRC=${FRAME6000%c39a}c39b
run 1 decode --block 6000 --frame "$BADCRC" && has "$err" "CRC"
run 1 decode --block 6000 --frame "${FRAME6000:0:61}" && has "$err" "truncated"
run 1 decode --block 100 --frame '01 83 02 c0 f1' && has "$err" "illegal data address"
run 1 decode --block 4242 --hex '0000' && has "$err" "unknown block 4242"
run 1 decode --block 1300 --hex '01f4 f' && has "$err" "odd number of hex digits"
# required field missing (frequency needs 2 bytes; phase count at byte 25)
run 1 decode --block 1300 --hex '01f4' && has "$err" "truncated"
# usage errors
run 2 decode --hex '00'
run 2 decode --block 1300
run 2 decode --block abc --hex '00'
run 2 frobnicate
run 2 decode --block 1300 --hex 0000 --profile NOPE

# --- catalog and profiles
run 0 blocks && { has "$out" "1300"; has "$out" "INV_GRID_INFO"; }
run 0 blocks 1300 && { has "$out" "phase_%u_voltage"; has "$out" "frequency"; }
run 0 blocks 1300 --json && has "$out" '"id":1300'
run 1 blocks 4242
run 0 profiles && { has "$out" "EL100V2"; has "$out" "v2"; has "$out" "PUB/{model}/{sn}"; }
run 0 --help && has "$out" "decode"
run 0 decode --help && has "$out" "--frame"
run 0 read --help && has "$out" "--cert-password-file"

if [ $fails -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "cli offline: all passed"
