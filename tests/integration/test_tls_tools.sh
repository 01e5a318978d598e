#!/usr/bin/env bash
# The programs against a broker that serves the weak PKI of scripts/pki.sh (RSA-1024 /
# SHA-1, like the Bluetti broker), run by with_brokers.sh:
#   bluetti check: refused with OpenSSL's defaults (hint names the knob), passes with
#     --tls-ciphers; an unknown CA is refused with what to do (--pin-broker), --pin-broker
#     records the key and later runs need no flag; a changed key is refused
#   bluetti-bridge: `ciphers =` in [upstream] (shown by --check-config, a bad string
#     refused), state published through the weak broker; without it the bridge logs why
#   test_tls_tools.sh BLUETTI BLUETTI_SIM BLUETTI_BRIDGE
set -uo pipefail
BLUETTI=$1 SIM=$2 BRIDGE=$3
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto_sub missing"; exit 77; }
W=$BLT_IT_DIR/tls-tools
mkdir -p "$W"
export XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/config HOME=$W/home
unset BLUETTI_MQTT_PASSWORD BLUETTI_CERT_PASSWORD
SN=2434000112345
LOW='DEFAULT:@SECLEVEL=0'
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
run() { # NAME CMD...: output in $W/NAME.out, status in $st
	local name=$1
	shift
	"$@" >"$W/$name.out" 2>&1
	st=$?
}
expect() { # NAME STATUS PATTERN
	if [ "$st" != "$2" ] || ! grep -q -- "$3" "$W/$1.out"; then
		fail "$1: status $st (want $2), output:"
		sed 's/^/    | /' "$W/$1.out" >&2
	else
		ok "$1"
	fi
}

UP=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/weak" --pki "$BLT_PKI" --cert weak-broker \
	--cafile weak-bundle --ciphers "$LOW" >/dev/null && cat "$BLT_IT_DIR/weak/port") ||
	{ echo "weak broker did not start" >&2; exit 1; }
DOWN=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/down" --plain >/dev/null &&
	cat "$BLT_IT_DIR/down/port") || { echo "downstream broker did not start" >&2; exit 1; }

XDG_STATE_HOME=$W/sim-state "$SIM" --broker "localhost:$UP" --cert "$BLT_PKI/weak-client.pfx" --tls-ciphers "$LOW" \
	--cert-password-file "$BLT_PKI/client.pass" --profile EL100V2 --sn "$SN" \
	--ready-file "$W/dev.ready" >"$W/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 250); do [ -e "$W/dev.ready" ] && break; sleep 0.02; done
[ -e "$W/dev.ready" ] || { cat "$W/dev.log" >&2; echo "device sim did not start" >&2; exit 1; }

CLI=(--broker "localhost:$UP" --cert-password-file "$BLT_PKI/client.pass" -p EL100V2 -s "$SN"
	--timeout 3000)
run weak_default "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/weakca-client.pfx"
expect weak_default 1 "too weak"
run weak_client "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/weak-client.pfx"
expect weak_client 1 "key too small"
run weak_ciphers "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/weak-client.pfx" --tls-ciphers "$LOW"
expect weak_ciphers 0 "1300"

# client.pfx carries the test CA, not the broker's: what to do, no pin written
run unknown_ca "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/client.pfx" --tls-ciphers "$LOW"
expect unknown_ca 1 "--pin-broker"
ls "$XDG_STATE_HOME"/bluetti/broker-* >/dev/null 2>&1 && fail "a pin was written without --pin-broker"
run pin_record "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/client.pfx" --tls-ciphers "$LOW" --pin-broker
expect pin_record 0 "1300"
PIN=$XDG_STATE_HOME/bluetti/broker-localhost_$UP.pin
if [ "$(stat -c %a "$PIN" 2>/dev/null)" = 600 ]; then ok "pin file 0600"; else fail "pin file $PIN mode"; fi
run pin_match "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/client.pfx" --tls-ciphers "$LOW"
expect pin_match 0 "1300"

# the broker's key changes: refused, both fingerprints and how to re-pin
sed -i 's/weak-broker\./weak-broker2./' "$BLT_IT_DIR/weak/mosquitto.conf"
"$BLT_SCRIPTS/broker.sh" restart "$BLT_IT_DIR/weak" || { echo "restart failed" >&2; exit 1; }
sleep 3 # the simulator reconnects with its backoff
run pin_changed "$BLUETTI" check "${CLI[@]}" --cert "$BLT_PKI/client.pfx" --tls-ciphers "$LOW"
expect pin_changed 1 "rm '$PIN'"
if grep -q "pinned sha256:$(awk '{print $2}' "$PIN")" "$W/pin_changed.out"; then ok "both fingerprints"
else fail "pinned fingerprint not in the message"; fi

# bridge: ciphers = in [upstream]
mkbridge() { # FILE [ciphers line]
	cat >"$1" <<EOF
[bridge]
log_level = info
[upstream]
host = localhost
port = $UP
tls = true
cert = $BLT_PKI/weakca-client.pfx
cert_password_file = $BLT_PKI/client.pass
$2
[homeassistant]
host = 127.0.0.1
port = $DOWN
tls = false
base_topic = bluetti
[device elite]
profile = EL100V2
sn = $SN
timeout = 3000
EOF
}
mkbridge "$W/bad.ini" "ciphers = NO-SUCH-CIPHER"
run bad_ciphers "$BRIDGE" --check-config -c "$W/bad.ini"
expect bad_ciphers 2 "not a cipher string OpenSSL accepts"
mkbridge "$W/weak.ini" "ciphers = $LOW"
run check_config "$BRIDGE" --check-config -c "$W/weak.ini"
expect check_config 0 "ciphers: $LOW"
mkbridge "$W/default.ini" ""
run check_default "$BRIDGE" --check-config -c "$W/default.ini"
expect check_default 0 "ciphers: OpenSSL's defaults"

"$BRIDGE" -c "$W/default.ini" >"$W/bridge-default.log" 2>&1 &
bpid=$!
pids+=($bpid)
for _ in $(seq 100); do grep -q "too weak" "$W/bridge-default.log" && break; sleep 0.1; done
if grep -q "too weak" "$W/bridge-default.log"; then ok "bridge without ciphers says why"
else tail -n 20 "$W/bridge-default.log" >&2; fail "bridge without ciphers"; fi
kill $bpid 2>/dev/null
wait $bpid 2>/dev/null

"$BRIDGE" -c "$W/weak.ini" >"$W/bridge.log" 2>&1 &
pids+=($!)
if mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/state -R -C 1 -W 30 >"$W/state.json" 2>&1 &&
	grep -q '"' "$W/state.json"; then ok "bridge state through the weak broker"
else cat "$W/state.json" >&2; tail -n 30 "$W/bridge.log" >&2; fail "no state with ciphers ="; fi

[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all passed"
