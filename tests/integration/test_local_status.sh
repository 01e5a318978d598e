#!/usr/bin/env bash
# bluetti local status / enable / disable against bluetti-sim through a real mutual-TLS
# mosquitto (run by with_brokers.sh): a firmware without the registers, Modbus TCP on, Open
# MQTT on; the words, the JSON, and that no credential register (13600-13741, 22069-) is
# ever read; then enable/disable through the write gate (refusal, dry run, audit).
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

# local enable / disable against a unit whose paths are off: refused without the
# confirmation, a dry run writes nothing, enable and disable change what status says, each
# write audited; the unit's broker must be named to enable Open MQTT.
start_sim() { # NAME MODE
	"$SIM" "${CONN[@]}" --profile EL100V2 --sn "$2" --local-access "$3" -v \
		--ready-file "$W/$1.ready" >"$W/$1.sim" 2>&1 &
	pids+=($!)
	for _ in $(seq 250); do [ -e "$W/$1.ready" ] && break; sleep 0.02; done
}
status_has() { # SN REGEX
	"$BLUETTI" local status "${CONN[@]}" --profile EL100V2 --sn "$1" >"$W/st.out" 2>&1 &&
		grep -Eq -- "$2" "$W/st.out"
}
writes_seen() { grep -Ec 'write 137[0-9]{2} ' "$1"; }
SNE=$((SN + 10))
start_sim en "$SNE" off
LOCAL=(local "${CONN[@]}" --profile EL100V2 --sn "$SNE" --verify-interval 50)

"$BLUETTI" "${LOCAL[0]}" enable modbus-tcp "${LOCAL[@]:1}" >"$W/refuse.out" 2>"$W/refuse.err"
st=$?
if [ $st = 2 ] && grep -q 'result=denied' "$W/refuse.err" &&
	grep -q -- '--i-understand-lan-exposure' "$W/refuse.err" &&
	grep -q 'unauthenticated' "$W/refuse.err" && [ "$(writes_seen "$W/en.sim")" = 0 ] &&
	status_has "$SNE" 'Modbus TCP +off'; then
	ok "enable without confirmation: refused, audited, nothing written"
else
	fail "enable without confirmation (status $st)"; sed 's/^/    | /' "$W/refuse.err" >&2
fi

"$BLUETTI" "${LOCAL[0]}" enable modbus-tcp "${LOCAL[@]:1}" --dry-run \
	--i-understand-lan-exposure >"$W/dry.out" 2>"$W/dry.err"
st=$?
if [ $st = 0 ] && grep -q 'register 13745 = 502 ' "$W/dry.out" &&
	grep -q 'register 13744 = 8(off)' "$W/dry.out" &&
	grep -q 'register 13744 = 1(on)' "$W/dry.out" &&
	grep -q '00 06 35 b1 01 f6 56 26' "$W/dry.out" &&
	[ "$(grep -c 'result=dry-run' "$W/dry.err")" = 3 ] &&
	[ "$(writes_seen "$W/en.sim")" = 0 ] && status_has "$SNE" 'Modbus TCP +off'; then
	ok "enable --dry-run: the three writes shown, nothing written"
else
	fail "enable --dry-run (status $st)"; sed 's/^/    | /' "$W/dry.out" "$W/dry.err" >&2
fi

rm -f "$W/audit.log"
"$BLUETTI" "${LOCAL[0]}" enable modbus-tcp "${LOCAL[@]:1}" --i-understand-lan-exposure \
	--port 1502 --audit-log "$W/audit.log" >"$W/enable.out" 2>"$W/enable.err"
st=$?
if [ $st = 0 ] && grep -q 'Modbus TCP is now on, port 1502, TLS off' "$W/enable.out" &&
	[ "$(grep -c 'result=ok' "$W/audit.log")" = 3 ] &&
	grep -q 'modbus_tcp reg=13744 old=2(off) new=1(on) result=ok' "$W/audit.log" &&
	[ "$(stat -c %a "$W/audit.log")" = 600 ] && [ "$(writes_seen "$W/en.sim")" = 3 ] &&
	status_has "$SNE" 'Modbus TCP +on, port 1502' && grep -q 'unauthenticated' "$W/st.out"; then
	ok "enable modbus-tcp: written, read back, audited; status says on"
else
	fail "enable modbus-tcp (status $st)"; sed 's/^/    | /' "$W/enable.out" "$W/enable.err" >&2
fi

"$BLUETTI" "${LOCAL[0]}" disable modbus-tcp "${LOCAL[@]:1}" --i-understand-lan-exposure \
	--audit-log "$W/audit.log" >"$W/disable.out" 2>"$W/disable.err"
st=$?
if [ $st = 0 ] && grep -q 'Modbus TCP is now off, port 1502' "$W/disable.out" &&
	grep -q 'modbus_tcp reg=13744 old=1(on) new=2(off) result=ok' "$W/audit.log" &&
	status_has "$SNE" 'Modbus TCP +off, port 1502' && ! grep -q 'WARNING' "$W/disable.err"; then
	ok "disable modbus-tcp: status says off"
else
	fail "disable modbus-tcp (status $st)"; sed 's/^/    | /' "$W/disable.out" "$W/disable.err" >&2
fi

# Open MQTT: the unit's broker (the firmware default here) must be the one named
"$BLUETTI" "${LOCAL[0]}" enable mqtt "${LOCAL[@]:1}" --i-understand-lan-exposure \
	--server 192.168.1.10:1883 >"$W/mq-wrong.out" 2>"$W/mq-wrong.err"
st=$?
n_before=$(writes_seen "$W/en.sim")
if [ $st = 1 ] && grep -q "server is 'dev-iot.poweroak.ltd:18083'" "$W/mq-wrong.err" &&
	grep -q 'nothing written' "$W/mq-wrong.err" && [ "$n_before" = 4 ] &&
	status_has "$SNE" 'Open MQTT +off'; then
	ok "enable mqtt towards another server: refused, nothing written"
else
	fail "enable mqtt, wrong server (status $st, $n_before writes)"
	sed 's/^/    | /' "$W/mq-wrong.err" >&2
fi
"$BLUETTI" "${LOCAL[0]}" enable mqtt "${LOCAL[@]:1}" >/dev/null 2>"$W/mq-usage.err"
[ $? = 2 ] && grep -q -- '--server HOST:PORT is required' "$W/mq-usage.err" &&
	ok "enable mqtt without --server: usage" || fail "enable mqtt without --server"

SNM=$((SN + 11))
start_sim enm "$SNM" mqtt
LOCALM=(local "${CONN[@]}" --profile EL100V2 --sn "$SNM" --verify-interval 50)
"$BLUETTI" "${LOCALM[0]}" disable mqtt "${LOCALM[@]:1}" --i-understand-lan-exposure \
	>"$W/mq-off.out" 2>"$W/mq-off.err" && status_has "$SNM" 'Open MQTT +off' &&
	grep -q 'open_mqtt reg=13742 old=1(on) new=2(off) result=ok' "$W/mq-off.err" &&
	ok "disable mqtt" || { fail "disable mqtt"; sed 's/^/    | /' "$W/mq-off.err" >&2; }
"$BLUETTI" "${LOCALM[0]}" enable mqtt "${LOCALM[@]:1}" --i-understand-lan-exposure \
	--server 192.168.1.10:1883 --report-cycle 30 >"$W/mq-on.out" 2>"$W/mq-on.err"
st=$?
if [ $st = 0 ] && grep -q 'Open MQTT is now on (push on, control on)' "$W/mq-on.out" &&
	[ "$(grep -c 'result=ok' "$W/mq-on.err")" = 4 ] && grep -q 'WARNING: Open MQTT' "$W/mq-on.err" &&
	status_has "$SNM" 'Open MQTT +on, server 192.168.1.10:1883, push every 30 s'; then
	ok "enable mqtt: status says on, push every 30 s"
else
	fail "enable mqtt (status $st)"; sed 's/^/    | /' "$W/mq-on.out" "$W/mq-on.err" >&2
fi
# the writes never touched a credential register
if grep -hE 'write (136[0-9][0-9]|137[0-3][0-9]|1374[01]|2[0-9]{4}) ' "$W/en.sim" "$W/enm.sim" | grep -q .; then
	fail "a write outside 13742-13745"
else
	ok "writes only to 13742-13745"
fi
"$BLUETTI" local enable >/dev/null 2>"$W/enable-usage.err"
[ $? = 2 ] && grep -q 'expected modbus-tcp or mqtt' "$W/enable-usage.err" &&
	ok "enable: usage" || fail "enable: usage"
[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
