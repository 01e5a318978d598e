#!/usr/bin/env bash
# bluetti doctor end to end (run by with_brokers.sh): a real mutual-TLS mosquitto,
# bluetti-sim devices (one answering, one --silent) and the simulated cloud.
#   - everything right: every step PASS (account steps SKIP without --account), exit 0,
#     the --report file is new, 0600, and refuses to overwrite
#   - wrong CA: the tls line FAILs (naming --pin-broker / --ca), exit 1
#   - silent device: read-1 and read-100 FAIL with the offline hint, exit 1
#   - --account through bluetti-sim --cloud: every step PASS, exit 0; the report holds no
#     password, token, TOTP key, PFX password, PFX bytes or MQTT username
#   test_doctor.sh BLUETTI BLUETTI_SIM
set -uo pipefail
BLUETTI=$1 SIM=$2
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
W=$BLT_IT_DIR/doctor
mkdir -p "$W"
export XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/config HOME=$W/home
unset BLUETTI_PASSWORD BLUETTI_TOTP_KEY BLUETTI_API BLUETTI_API_CA BLUETTI_EMAIL \
	BLUETTI_MQTT_PASSWORD BLUETTI_CERT_PASSWORD
EMAIL=owner@example.com
SN=2434000112345
QUIET_SN=2434000199999
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
show() { sed 's/^/    | /' "$W/$1.out" >&2; }
# expect NAME STATUS REGEX... : exit status and lines (grep -E) of the output
expect() {
	local name=$1 want=$2 bad=0
	shift 2
	[ "$st" = "$want" ] || bad=1
	for re in "$@"; do grep -Eq -- "$re" "$W/$name.out" || { bad=1; echo "  missing: $re" >&2; }; done
	if [ $bad = 0 ]; then ok "$name"; else fail "$name: status $st (want $want)"; show "$name"; fi
}

PORT=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/doc-broker" --pki "$BLT_PKI" >/dev/null &&
	cat "$BLT_IT_DIR/doc-broker/port") || { echo "broker did not start" >&2; exit 1; }
CONN=(--broker "localhost:$PORT" --cert "$BLT_PKI/client.pfx"
	--cert-password-file "$BLT_PKI/client.pass")
start_sim() { # NAME SN [options]
	local name=$1 sn=$2
	shift 2
	"$SIM" "${CONN[@]}" --ca "$BLT_PKI/ca.pem" --profile EL100V2 --sn "$sn" \
		--ready-file "$W/$name.ready" "$@" >"$W/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 250); do [ -e "$W/$name.ready" ] && break; sleep 0.02; done
	[ -e "$W/$name.ready" ] || { cat "$W/$name.log" >&2; echo "sim $name did not start" >&2; exit 1; }
}
start_sim dev "$SN"
start_sim quiet "$QUIET_SN" --silent
SHORT_SN=$((SN + 7))
start_sim short "$SHORT_SN" --max-read 100:85 --local-access modbus-tcp

# 1. all good
run good "$BLUETTI" doctor "${CONN[@]}" --ca "$BLT_PKI/ca.pem" -p EL100V2 -s "$SN" \
	--report "$W/good.json"
expect good 0 '^PASS  config ' '^PASS  certificate .*CA inside' '^PASS  broker-tcp ' \
	'^PASS  tls .*verified' '^PASS  mqtt-connect .*CONNACK 0' '^PASS  subscribe ' \
	'^PASS  read-1 .*protocol version 2000' "^PASS  read-100 .*model EL100V2, serial $SN" \
	'^PASS  round-trip ' '^SKIP  token ' '0 failed' \
	'^PASS  local-access +Modbus TCP and Open MQTT: not in this firmware.*; Bluetooth encrypted'
grep -q '^FAIL' "$W/good.out" && fail "good: a FAIL line"
if [ "$(stat -c %a "$W/good.json" 2>/dev/null)" = 600 ] && grep -q '"summary":{"pass":10,"fail":0' "$W/good.json" &&
	grep -q '"dir":"in"' "$W/good.json"; then ok "report 0600 with frames"; else fail "report"; fi
if command -v python3 >/dev/null; then
	python3 -m json.tool "$W/good.json" >/dev/null && ok "report is JSON" || fail "report is not JSON"
fi
run again "$BLUETTI" doctor "${CONN[@]}" -p EL100V2 -s "$SN" --report "$W/good.json"
expect again 1 'File exists'
ln -s "$W/elsewhere" "$W/link.json"
run link "$BLUETTI" doctor "${CONN[@]}" -p EL100V2 -s "$SN" --report "$W/link.json"
expect link 1 'report'
[ -e "$W/elsewhere" ] && fail "report followed a symlink"

# 2. wrong CA: the broker cannot be verified
run wrongca "$BLUETTI" doctor "${CONN[@]}" --ca "$BLT_PKI/other-ca.pem" -p EL100V2 -s "$SN"
expect wrongca 1 '^PASS  broker-tcp ' '^FAIL  tls .*not trusted.*--pin-broker' \
	'^SKIP  mqtt-connect ' '^SKIP  read-1 '

# 3. a silent device
run silent "$BLUETTI" doctor "${CONN[@]}" --ca "$BLT_PKI/ca.pem" -p EL100V2 -s "$QUIET_SN" \
	--timeout 800
expect silent 1 '^PASS  mqtt-connect ' '^PASS  subscribe ' '^FAIL  read-1 .*hint: device offline' \
	'^FAIL  read-100 ' '^SKIP  round-trip ' '^SKIP  local-access .*no reply'

# 3b. a unit that refuses the full block 100 read (Elite 200 V2, EVIDENCE.md §3)
run short "$BLUETTI" doctor "${CONN[@]}" --ca "$BLT_PKI/ca.pem" -p EL100V2 -s "$SHORT_SN"
expect short 0 "^PASS  read-100 .*serial $SHORT_SN.*answers 85 \\(found by shortening" \
	'^PASS  local-access +Modbus TCP on \(port 502, unauthenticated on the LAN\); Open MQTT off'

# 4. --account through the simulated cloud
printf 'correct horse\n' >"$W/pw"
printf 'TESTKEY12345\n' >"$W/key"
mkdir -p "$XDG_CONFIG_HOME/bluetti" "$HOME"
printf '[account]\ntotp_key = TESTKEY12345\n' >"$XDG_CONFIG_HOME/bluetti/config"
"$SIM" --cloud --ca-cert "$BLT_PKI/ca.pem" --ca-key "$BLT_PKI/ca.key" \
	--account "$EMAIL" --account-password-file "$W/pw" --totp-key-file "$W/key" \
	--device "EL100V2:$SN" --broker-address "localhost:$PORT" --ready-file "$W/cloud.ready" \
	>"$W/cloud.log" 2>&1 &
pids+=($!)
for _ in $(seq 250); do [ -s "$W/cloud.ready" ] && break; sleep 0.02; done
[ -s "$W/cloud.ready" ] || { cat "$W/cloud.log" >&2; echo "cloud sim did not start" >&2; exit 1; }
API=https://localhost:$(cat "$W/cloud.ready")
run login "$BLUETTI" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect login 0 ''
run account "$BLUETTI" doctor --account --sn "EL100V2$SN" --report "$W/account.json"
expect account 0 '^PASS  config .*o\*\*\*@example.com' '^PASS  totp-key ' \
	"^PASS  gateway .*$API" '^PASS  clock ' '^PASS  token ' "^PASS  device .*topic serial $SN" \
	'^PASS  tls .*level 0 \(DEFAULT:@SECLEVEL=0\)' '^PASS  read-100 ' '0 failed'

# the secrets of this run never reach the report (nor the output)
STORE=$XDG_STATE_HOME/bluetti
token=$(sed -n 's/^token=//p' "$STORE/session")
pfxpass=$(head -n1 "$STORE/client.pass")
pfxhex=$(od -An -tx1 -v -j 40 -N 24 "$STORE/client.pfx" | tr -d ' \n')
pfxb64=$(base64 -w0 "$STORE/client.pfx" | cut -c 40-72)
part0=${token%%.*}
rest=${token#*.}
part1=${rest%%.*}
leaks=0
for secret in "correct horse" "TESTKEY12345" "$token" "$pfxpass" "$pfxhex" "$pfxb64" \
	"$part0" "$part1" "$EMAIL"; do
	[ -n "$secret" ] || { fail "empty secret in the test"; continue; }
	for f in "$W/account.json" "$W/account.out" "$W/good.json"; do
		if grep -qiF -- "$secret" "$f"; then
			fail "secret found in $(basename "$f"): ${secret:0:6}..."
			leaks=1
		fi
	done
done
[ $leaks = 0 ] && ok "no secret in the report or the output"
grep -q '"frames":\[{' "$W/account.json" && ok "account report has frames" || fail "account report frames"

[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all passed"
