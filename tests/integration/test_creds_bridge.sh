#!/usr/bin/env bash
# bluetti-bridge with `[upstream] account =` end to end (run by with_brokers.sh):
#   simulated cloud (bluetti-sim --cloud) -> `bluetti login` -> bridge with only the
#   account and a device serial -> state published on the Home Assistant broker; then the
#   upstream broker restarts and the bridge reconnects (credentials from the hook, a new
#   login on the broker) and keeps publishing. Nothing secret in the bridge's log.
#   test_creds_bridge.sh BLUETTI BLUETTI_SIM BLUETTI_BRIDGE
set -uo pipefail
BLUETTI=$1 SIM=$2 BRIDGE=$3
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto_sub missing"; exit 77; }
W=$BLT_IT_DIR/creds-bridge
mkdir -p "$W"
export XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/config HOME=$W/home
unset BLUETTI_PASSWORD BLUETTI_TOTP_KEY BLUETTI_API BLUETTI_API_CA BLUETTI_EMAIL \
	BLUETTI_MQTT_PASSWORD BLUETTI_CERT_PASSWORD
EMAIL=owner@example.com
SN=2434000112345
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

printf 'correct horse\n' >"$W/pw"
printf 'TESTKEY12345\n' >"$W/key"
mkdir -p "$XDG_CONFIG_HOME/bluetti" "$HOME"
printf '[account]\ntotp_key = TESTKEY12345\n' >"$XDG_CONFIG_HOME/bluetti/config"

UP=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/up" --pki "$BLT_PKI" >/dev/null &&
	cat "$BLT_IT_DIR/up/port") || { echo "upstream broker did not start" >&2; exit 1; }
DOWN=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/down" --plain >/dev/null &&
	cat "$BLT_IT_DIR/down/port") || { echo "downstream broker did not start" >&2; exit 1; }

"$SIM" --cloud --ca-cert "$BLT_PKI/ca.pem" --ca-key "$BLT_PKI/ca.key" \
	--account "$EMAIL" --account-password-file "$W/pw" --totp-key-file "$W/key" \
	--device "EL100V2:$SN" --broker-address "localhost:$UP" --ready-file "$W/cloud.ready" \
	>"$W/cloud.log" 2>&1 &
pids+=($!)
wait_file "$W/cloud.ready" || { cat "$W/cloud.log" >&2; echo "cloud sim did not start" >&2; exit 1; }
API=https://localhost:$(cat "$W/cloud.ready")

"$SIM" --broker "localhost:$UP" --cert "$BLT_PKI/client.pfx" \
	--cert-password-file "$BLT_PKI/client.pass" --ca "$BLT_PKI/ca.pem" \
	--profile EL100V2 --sn "$SN" --ready-file "$W/dev.ready" >"$W/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 250); do [ -e "$W/dev.ready" ] && break; sleep 0.02; done
[ -e "$W/dev.ready" ] || { cat "$W/dev.log" >&2; echo "device sim did not start" >&2; exit 1; }

if "$BLUETTI" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem" >"$W/login.out" 2>&1; then ok "login"; else
	cat "$W/login.out" >&2; fail "bluetti login"; exit 1; fi

cat >"$W/bridge.ini" <<EOF
[bridge]
log_level = debug
[upstream]
account = $EMAIL
ca = $BLT_PKI/ca.pem
reconnect_delay = 1
[homeassistant]
host = 127.0.0.1
port = $DOWN
[device elite]
sn = EL100V2$SN
poll_core = 1
poll_grid = 0
poll_battery = 0
poll_cells = 0
poll_inverter = 0
poll_settings = 0
EOF

# --check-config makes no network connection: the account's cached login is checked, the
# device list is read when the bridge starts (the simulated cloud sees no request)
reqs_before=$(wc -l <"$W/cloud.log")
if "$BRIDGE" --check-config -c "$W/bridge.ini" >"$W/check.out" 2>&1 &&
	grep -q "account: $EMAIL" "$W/check.out" &&
	grep -q "sn EL100V2$SN: model, profile and topic serial from the account" "$W/check.out" &&
	[ "$(wc -l <"$W/cloud.log")" = "$reqs_before" ]; then ok "check-config with account (offline)"; else
	sed 's/^/    | /' "$W/check.out" >&2; fail "check-config with account"; fi

# a serial the account does not have: a clear error naming what it has, at the start
sed "s/^sn = .*/sn = NOPE123/" "$W/bridge.ini" >"$W/bad.ini"
"$BRIDGE" -c "$W/bad.ini" >"$W/bad.out" 2>&1
rc=$?
if [ $rc = 2 ] &&
	grep -q "NOPE123 is not a device of the account $EMAIL (it has: EL100V2$SN)" "$W/bad.out"; then
	ok "unknown serial refused at the start"; else sed 's/^/    | /' "$W/bad.out" >&2; fail "unknown serial (exit $rc)"; fi

"$BRIDGE" -c "$W/bridge.ini" >"$W/bridge.log" 2>&1 &
BPID=$!
pids+=($BPID)

state_once() { # NAME: one fresh (not retained) state document within 30 s
	mosquitto_sub -h 127.0.0.1 -p "$DOWN" -t bluetti/elite/state -R -C 1 -W 30 >"$W/$1.json" 2>&1
}
if state_once state1 && grep -q '"' "$W/state1.json"; then ok "state published"; else
	cat "$W/state1.json" >&2; tail -n 30 "$W/bridge.log" >&2; fail "no state before restart"; fi

ups_before=$(grep -c "upstream broker: connected" "$W/bridge.log")
"$BLT_SCRIPTS/broker.sh" restart "$BLT_IT_DIR/up" || fail "upstream restart"
if state_once state2 && grep -q '"' "$W/state2.json"; then ok "state published after restart"; else
	cat "$W/state2.json" >&2; tail -n 40 "$W/bridge.log" >&2; fail "no state after restart"; fi
ups_after=$(grep -c "upstream broker: connected" "$W/bridge.log")
[ "$ups_after" -gt "$ups_before" ] && ok "bridge reconnected upstream" ||
	fail "no upstream reconnect in the bridge log ($ups_before -> $ups_after)"
# the restarted broker saw the bridge log in again with the account's user name
if grep -q "u'tid:" "$BLT_IT_DIR/up/mosquitto.log"; then ok "new broker login as tid:"; else
	fail "restarted broker saw no tid: login"; fi

# no secret in the bridge's log: the token (and so its parts) and the PFX password
TOKEN=$(sed -n 's/^token=//p' "$XDG_STATE_HOME/bluetti/session")
P1=$(printf '%s' "$TOKEN" | cut -d. -f2)
[ -n "$P1" ] || fail "no token in the store"
if grep -qF -- "$P1" "$W/bridge.log" || grep -qF -- "$(cat "$XDG_STATE_HOME/bluetti/client.pass")" "$W/bridge.log"; then
	fail "a secret is in the bridge log"; else ok "no secret in the bridge log"; fi

kill "$BPID" 2>/dev/null
wait "$BPID" 2>/dev/null
"$BLT_SCRIPTS/broker.sh" stop "$BLT_IT_DIR/up"
"$BLT_SCRIPTS/broker.sh" stop "$BLT_IT_DIR/down"
[ $fails = 0 ] || exit 1
exit 0
