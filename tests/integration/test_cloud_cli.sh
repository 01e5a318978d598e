#!/usr/bin/env bash
# Account commands end to end against the simulated cloud (run by with_brokers.sh).
#   test_cloud_cli.sh cli   DRIVER BLUETTI BLUETTI_SIM   login / devices / logout, failures,
#                                                        store permissions, token renewal
#   test_cloud_cli.sh connect DRIVER BLUETTI BLUETTI_SIM account_connection() + conn_open()
#                                                        to a real mutual-TLS mosquitto with
#                                                        the certificate the cloud issued
#   test_cloud_cli.sh check DRIVER BLUETTI BLUETTI_SIM   `bluetti check --account --sn SN`
#                                                        through a real mutual-TLS mosquitto
#                                                        with the issued certificate (exit 77
#                                                        = skipped until `check --account`
#                                                        is wired into bluetti)
# DRIVER is test_cloud_driver (sim-cloud | login | logout | devices).
set -uo pipefail
MODE=$1 DRIVER=$2 BLUETTI=$3 SIM=$4
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
W=$BLT_IT_DIR/cloud-$MODE
mkdir -p "$W"
export XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/config HOME=$W/home
unset BLUETTI_PASSWORD BLUETTI_TOTP_KEY BLUETTI_API BLUETTI_API_CA BLUETTI_EMAIL
STORE=$XDG_STATE_HOME/bluetti
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

printf 'correct horse\n' >"$W/pw"
printf 'wrong horse\n' >"$W/badpw"
printf 'TESTKEY12345\n' >"$W/key"
mkdir -p "$XDG_CONFIG_HOME/bluetti" "$HOME"
printf '# bluetti config\n[account]\ntotp_key = TESTKEY12345\n' >"$XDG_CONFIG_HOME/bluetti/config"

# start_cloud NAME [options...] -> sets API
start_cloud() {
	local name=$1
	shift
	rm -f "$W/$name.ready"
	local keyarg=(--totp-key-file "$W/key")
	[ -n "${NOKEY:-}" ] && keyarg=()
	"$DRIVER" sim-cloud --ca-cert "$BLT_PKI/ca.pem" --ca-key "$BLT_PKI/ca.key" \
		--account "$EMAIL" --account-password-file "$W/pw" "${keyarg[@]}" \
		--device "EL100V2:$SN" --ready-file "$W/$name.ready" "$@" >"$W/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 250); do [ -s "$W/$name.ready" ] && break; sleep 0.02; done
	[ -s "$W/$name.ready" ] || { cat "$W/$name.log" >&2; echo "cloud sim $name did not start" >&2; exit 1; }
	API=https://localhost:$(head -1 "$W/$name.ready")
	# the sim's other data centres, if any (--region-listen): eu=URL,us=URL
	REGIONS=$(awk 'NR > 1 { printf "%s%s=https://localhost:%s", (n++ ? "," : ""), $1, $2 }' \
		"$W/$name.ready")
}
count() { grep -c -- "$2" "$1" || true; }

# run NAME CMD... : output in $W/NAME.out, status in $st
run() {
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
mode_of() { stat -c %a "$1"; }

if [ "$MODE" = check ] || [ "$MODE" = connect ]; then
	# (the help in a variable: grep -q closing the pipe early would fail it under pipefail)
	if [ "$MODE" = check ] && ! grep -q -- "--account" <<<"$("$BLUETTI" check --help 2>&1)"; then
		echo "SKIP: bluetti check has no --account yet (the lead wires account_connection)"
		exit 77
	fi
	BPORT=$(
		"$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/cloud-broker" --pki "$BLT_PKI" >/dev/null &&
			cat "$BLT_IT_DIR/cloud-broker/port"
	) || { echo "broker did not start" >&2; exit 1; }
	# the second device is an Elite 200 V2: cloud model "Elite 200 V2" (spaces), topics
	# PUB/Elite 200 V2/<subSn>; the device records carry an iotConnSecret (rmt: password)
	SN2=2437000154321
	printf 'RecordSecret42\n' >"$W/conn.secret"
	start_cloud check --broker-address "localhost:$BPORT" --device "Elite 200 V2:$SN2" \
		--conn-secret-file "$W/conn.secret"
	for d in "EL100V2:$SN" "ELITE200V2:$SN2"; do
		rm -f "$W/dev.ready"
		"$SIM" --broker "localhost:$BPORT" --cert "$BLT_PKI/client.pfx" \
			--cert-password-file "$BLT_PKI/client.pass" --ca "$BLT_PKI/ca.pem" \
			--profile "${d%%:*}" --sn "${d#*:}" --ready-file "$W/dev.ready" >"$W/dev-${d%%:*}.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 250); do [ -e "$W/dev.ready" ] && break; sleep 0.02; done
		[ -e "$W/dev.ready" ] || { cat "$W/dev-${d%%:*}.log" >&2; echo "device sim did not start" >&2; exit 1; }
	done
	run login "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
		--api-ca "$BLT_PKI/ca.pem"
	expect login 0 "logged in as $EMAIL"
	if [ "$MODE" = connect ]; then
		# account_connection + conn_open: broker from the device list, issued PFX
		run connect "$DRIVER" connect "$SN"
		expect connect 0 "connected to localhost:$BPORT with the account certificate; model EL100V2, topic serial $SN"
		grep -q "static rmt: password" "$W/connect.out" && ok "rmt: password from the device record" ||
			fail "the record's iotConnSecret was not used"
		grep -rq "RecordSecret42" "$W"/*.out && fail "the broker secret was printed"
		run connect_e200 "$DRIVER" connect "$SN2"
		expect connect_e200 0 "model Elite 200 V2, topic serial $SN2"
		run connect_full "$DRIVER" connect "EL100V2$SN"
		expect connect_full 0 "topic serial $SN"
		run connect_unknown "$DRIVER" connect NOPE
		expect connect_unknown 1 "not in this account"
	else
		run check "$BLUETTI" check --account --sn "$SN"
		expect check 0 ""
		# model code with spaces end to end: profile from the alias table, topics
		# PUB/Elite 200 V2/<sn> through the real broker
		run check_e200 "$BLUETTI" check -v --account --sn "$SN2"
		expect check_e200 0 ""
		grep -q "PUB/Elite 200 V2/$SN2" "$W/check_e200.out" &&
			ok "topics with spaces" || fail "no PUB/Elite 200 V2/$SN2 topic seen"
		run read_e200 "$BLUETTI" read --model "Elite 200 V2" --account --sn "$SN2" --block 100
		expect read_e200 0 ""
		# watch: the account session's credentials hook installed for the reconnects
		run watch "$BLUETTI" watch --account --sn "$SN" --block 100 --count 1
		expect watch 0 ""
		run bad_model "$BLUETTI" read --account --sn "$SN2" --model "Elite/200" --block 100
		expect bad_model 2 "not usable in topics"
	fi
	# the broker saw the account's username (tid:<token part 1>)
	if grep -q "u'tid:" "$BLT_IT_DIR/cloud-broker/mosquitto.log"; then ok "broker saw tid: user"; else
		fail "broker log has no tid: username"; fi
	"$BLT_SCRIPTS/broker.sh" stop "$BLT_IT_DIR/cloud-broker"
	[ $fails = 0 ] || exit 1
	exit 0
fi

start_cloud main

# --- login -------------------------------------------------------------------------
# no key configured: the built-in one, which this simulator (another key) refuses; the
# error names the TOTP key as the likely cause and how to override it
run nokey env XDG_CONFIG_HOME="$W/empty" "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" \
	--api "$API" --api-ca "$BLT_PKI/ca.pem"
expect nokey 1 "likely cause: the TOTP key"
grep -q "BLUETTI_TOTP_KEY" "$W/nokey.out" || fail "refused-certificate message does not say how to override the key"

run http "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "${API/https/http}"
expect http 1 "not an https:// URL"
grep -q "passOpen" "$W/http.out" || fail "http refusal does not say why"

run argvpw "$DRIVER" login --email "$EMAIL" "correct horse"
expect argvpw 2 "password-file"

run badpw "$DRIVER" login --email "$EMAIL" --password-file "$W/badpw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect badpw 1 "wrong password"
run noacct "$DRIVER" login --email nobody@example.com --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect noacct 1 "does not exist"
run noca "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "$API"
expect noca 1 "TLS"
run closed "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api https://127.0.0.1:1 \
	--api-ca "$BLT_PKI/ca.pem"
expect closed 1 "network error"

ln -sfn "$BLT_PKI" "$W/pki-link"
cd "$W" || exit 1
run login env BLUETTI_PASSWORD="correct horse" "$DRIVER" login --email "$EMAIL" --api "$API" \
	--api-ca "pki-link/ca.pem"
expect login 0 "logged in as $EMAIL (user id 1000001, global data centre)"
[ "$(mode_of "$STORE")" = 700 ] || fail "store dir mode $(mode_of "$STORE")"
for f in session client.pfx client.pass; do
	[ "$(mode_of "$STORE/$f")" = 600 ] || fail "$f mode $(mode_of "$STORE/$f")"
done
grep -q "correct horse" "$STORE"/* && fail "the account password was stored"
grep -rq "correct horse" "$W"/*.out && fail "the account password was printed"
openssl pkcs12 -in "$STORE/client.pfx" -passin "file:$STORE/client.pass" -nokeys 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | grep -q "bluetti-cloud-user-1000001" ||
	fail "stored PFX does not open with the stored password"
ok "store modes, PFX + password"

# --api-ca is saved as an absolute path: later commands work from any directory
grep -q "^api_ca=/" "$STORE/session" && ok "api_ca saved absolute" || fail "api_ca not absolute: $(grep '^api_ca' "$STORE/session")"
cd / || exit 1

# --- devices -----------------------------------------------------------------------
run devices "$DRIVER" devices
expect devices 0 "EL100V2${SN}"
# columns aligned by characters: the name has a 'Ü' (two bytes)
python3 - "$W/devices.out" <<'PY' && ok "devices columns aligned by characters" || fail "devices columns not aligned"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head = lines[0]
row = [l for l in lines if "\u00dc" in l][0]
assert row[head.index("MODEL"):].startswith("EL100V2 "), (row, head)
assert row[head.index("ONLINE"):].startswith("yes "), (row, head)
PY
grep -q "$SN" "$W/devices.out" || fail "devices: no sub-serial"
run devjson "$DRIVER" devices --json
expect devjson 0 "\"sn\": \"EL100V2${SN}\""
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["online"] is True and d[0]["model"]=="EL100V2" and d[0]["broker"]' \
		"$W/devjson.out" && ok "devices --json parses" || fail "devices --json is not the expected JSON"
fi

# --- permissions ---------------------------------------------------------------------
chmod 644 "$STORE/session"
run perm "$DRIVER" devices
expect perm 1 "chmod 600"
chmod 600 "$STORE/session"
chmod 755 "$STORE"
run permdir "$DRIVER" devices
expect permdir 1 "chmod 700"
chmod 700 "$STORE"

# --- token expiry ------------------------------------------------------------------
start_cloud ttl --token-ttl 2
run login2 env BLUETTI_PASSWORD="correct horse" "$DRIVER" login --email "$EMAIL" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect login2 0 "logged in"
tok1=$(grep '^token=' "$STORE/session")
sleep 2.5
run expired "$DRIVER" devices
expect expired 1 "token expired"
run renewed env BLUETTI_PASSWORD="correct horse" "$DRIVER" devices
expect renewed 0 "EL100V2${SN}"
tok2=$(grep '^token=' "$STORE/session")
[ "$tok1" != "$tok2" ] && ok "renewed token saved" || fail "renewed token not saved"

# --- logout --------------------------------------------------------------------------
run logout "$DRIVER" logout
expect logout 0 "logged out"
[ -e "$STORE" ] && fail "store still exists after logout"
run after "$DRIVER" devices
expect after 1 "not logged in"
run logout2 "$DRIVER" logout
expect logout2 0 "not logged in"

# --- data centres: an EU account (805 on gw), remembered in the store ------------------
start_cloud eu --account-region eu --region-listen eu=127.0.0.1:0 --region-listen us=127.0.0.1:0
export BLUETTI_API_REGIONS=$REGIONS
run login_eu "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect login_eu 0 "eu data centre"
grep -q "^region=eu$" "$STORE/session" && ok "region stored" || fail "region not stored"
run devices_eu "$DRIVER" devices
expect devices_eu 0 "EL100V2${SN}"
[ "$(count "$W/eu.log" "/accessToken -> code 0")" = 1 ] && ok "one login for the EU account" ||
	fail "EU logins: $(count "$W/eu.log" "/accessToken -> code 0")"
[ "$(count "$W/eu.log" "code 805")" = 1 ] && ok "805 only once (then the stored data centre)" ||
	fail "EU 805s: $(count "$W/eu.log" "code 805")"
run region_us "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem" --region us
expect region_us 1 "region auto"
run region_bad "$DRIVER" devices --region mars
expect region_bad 2 "auto, eu, us or global"

# --- persistent 805: exactly one login per command, then a clear error ---------------
start_cloud always --always-805 --region-listen eu=127.0.0.1:0 --region-listen us=127.0.0.1:0
export BLUETTI_API_REGIONS=$REGIONS
run login_805 "$DRIVER" login --email "$EMAIL" --password-file "$W/pw" --api "$API" \
	--api-ca "$BLT_PKI/ca.pem"
expect login_805 1 "no data centre accepts"
[ "$(count "$W/always.log" "/accessToken -> code 0")" = 1 ] && ok "persistent 805: one login" ||
	fail "persistent 805 logins: $(count "$W/always.log" "/accessToken -> code 0")"
# a cached login (the EU one) whose gateways now all answer 805, with the password at hand:
# one renewing login, then the clear error
sed -i -e "s|^api=.*|api=$API|" -e "s|^api_dc=.*|api_dc=|" -e "s|^region=.*|region=|" "$STORE/session"
run devices_805 env BLUETTI_PASSWORD="correct horse" "$DRIVER" devices
expect devices_805 1 "805"
[ "$(count "$W/always.log" "/accessToken -> code 0")" = 2 ] && ok "persistent 805: one login for devices" ||
	fail "persistent 805 logins after devices: $(count "$W/always.log" "/accessToken -> code 0")"
unset BLUETTI_API_REGIONS
"$DRIVER" logout >/dev/null

# --- the built-in TOTP key: nothing configured on either side ------------------------
NOKEY=1 start_cloud builtin
run login_builtin env XDG_CONFIG_HOME="$W/empty" "$DRIVER" login --email "$EMAIL" \
	--password-file "$W/pw" --api "$API" --api-ca "$BLT_PKI/ca.pem"
expect login_builtin 0 "client certificate"
"$DRIVER" logout >/dev/null

[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all account CLI checks passed"
