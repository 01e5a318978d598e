#!/usr/bin/env bash
# bluetti local status against bluetti-sim through a real mutual-TLS mosquitto (run by
# with_brokers.sh): a firmware without the registers, Modbus TCP on, Open MQTT on; the
# words, the JSON, and that no credential register (13600-13741, 22069-) is ever read.
#   test_local_status.sh BLUETTI BLUETTI_SIM
set -uo pipefail
BLUETTI=$1 SIM=$2
: "${BLT_IT_DIR:?run through with_brokers.sh}" "${BLT_PKI:?}" "${BLT_SCRIPTS:?}"
W=$BLT_IT_DIR/local
mkdir -p "$W"
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

PORT=$("$BLT_SCRIPTS/broker.sh" start "$BLT_IT_DIR/local-broker" --pki "$BLT_PKI" >/dev/null &&
	cat "$BLT_IT_DIR/local-broker/port") || { echo "broker did not start" >&2; exit 1; }
CONN=(--broker "localhost:$PORT" --cert "$BLT_PKI/client.pfx"
	--cert-password-file "$BLT_PKI/client.pass" --ca "$BLT_PKI/ca.pem")

n=0
check() { # MODE EXPECTED-REGEX... (text), then JSON checks by the caller
	local mode=$1 sn=$((SN + n))
	shift
	n=$((n + 1))
	"$SIM" "${CONN[@]}" --profile EL100V2 --sn "$sn" --local-access "$mode" -v \
		--ready-file "$W/$mode.ready" >"$W/$mode.sim" 2>&1 &
	pids+=($!)
	for _ in $(seq 250); do [ -e "$W/$mode.ready" ] && break; sleep 0.02; done
	"$BLUETTI" local status "${CONN[@]}" --profile EL100V2 --sn "$sn" >"$W/$mode.out" 2>&1
	local st=$? bad=0
	[ $st = 0 ] || bad=1
	for re in "$@"; do grep -Eq -- "$re" "$W/$mode.out" || { bad=1; echo "  missing: $re" >&2; }; done
	"$BLUETTI" local status "${CONN[@]}" --profile EL100V2 --sn "$sn" --json >"$W/$mode.json" 2>&1 || bad=1
	if [ $bad = 0 ]; then ok "$mode"; else fail "$mode (status $st)"; sed 's/^/    | /' "$W/$mode.out" >&2; fi
	# never a read of the Wi-Fi credentials (13600-13741) or the Open MQTT secret (22069-)
	if grep -E 'read (136[0-9][0-9]|137[0-3][0-9]|1374[01]|2[2-9][0-9]{3}) ' "$W/$mode.sim" |
		grep -Ev 'read (13742|22005) ' | grep -q .; then
		fail "$mode: a credential register was read"
	else
		ok "$mode: only 1, 13742 and 22005 read"
	fi
}

check none 'Modbus TCP +not in this firmware' 'Open MQTT +not in this firmware' \
	'Bluetooth +encrypted'
grep -q '"modbus_tcp":{"present":false' "$W/none.json" && ok "none: JSON" || fail "none: JSON"
check modbus-tcp 'Modbus TCP +on, port 502' 'unauthenticated' 'Open MQTT +off'
grep -q '"modbus_tcp":{"present":true,"state":"on","tls":"off","port":502}' "$W/modbus-tcp.json" &&
	ok "modbus-tcp: JSON" || fail "modbus-tcp: JSON"
check mqtt 'Modbus TCP +off' 'Open MQTT +on, server 192.168.1.10:1883, push every 60 s'
grep -q '"server":"192.168.1.10:1883"' "$W/mqtt.json" && ok "mqtt: JSON" || fail "mqtt: JSON"

# usage: enable/disable are not there yet, and say so
"$BLUETTI" local enable modbus-tcp >/dev/null 2>"$W/enable.err"
[ $? = 2 ] && grep -q 'not implemented yet' "$W/enable.err" && ok "enable: usage" || fail "enable: usage"
[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
