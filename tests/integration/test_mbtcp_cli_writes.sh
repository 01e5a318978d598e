#!/usr/bin/env bash
# bluetti set / get / write-register --transport modbus-tcp against bluetti-sim --modbus-tcp
# (run by with_brokers.sh for its scratch directory):
#   - a gated write with read-back; the frame names the public alias 57001, the device
#     echoes 2011; the audit line says ok; get shows the new value;
#   - busy (--busy-once): the read and the write answered with exception 06 are each sent
#     once more, and the write succeeds;
#   - denied: 57026 (the alias of 2013, power-off) and 2013 are refused before anything
#     is sent: the simulator never sees a connection;
#   - the client never sends a multi-register read across a hole (the sim's counters).
#   test_mbtcp_cli_writes.sh BLUETTI BLUETTI_SIM
set -uo pipefail
BLUETTI=$1 SIM=$2
W=${BLT_IT_DIR:?run through with_brokers.sh}/mbtcp-writes
mkdir -p "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

start_sim() { # NAME [options]; sets PORT and SIMPID
	local name=$1
	shift
	rm -f "$W/$name.port"
	"$SIM" --modbus-tcp 0 --ready-file "$W/$name.port" -v "$@" >"$W/$name.log" 2>&1 &
	SIMPID=$!
	pids+=($SIMPID)
	for _ in $(seq 50); do
		[ -s "$W/$name.port" ] && { PORT=$(cat "$W/$name.port"); return 0; }
		sleep 0.1
	done
	echo "bluetti-sim --modbus-tcp did not start" >&2
	cat "$W/$name.log" >&2
	exit 1
}
stop_sim() { kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; }

# --- gated write, get, busy --------------------------------------------------------------
start_sim dev --profile EL100V2 --busy-once
M=(--transport modbus-tcp --host "127.0.0.1:$PORT" --request-gap 0 --profile EL100V2)
"$BLUETTI" set ac_output off "${M[@]}" --verify-interval 200 >"$W/set.out" 2>"$W/set.err"
st=$?
if [ $st = 0 ] && grep -q 'result=ok' "$W/set.err" && grep -q 'reg=2011 old=1(on) new=0(off)' "$W/set.err"; then
	ok "set ac_output off over Modbus TCP: echo of 2011 accepted, read back"
else
	fail "set (status $st)"; cat "$W/set.out" "$W/set.err" >&2
fi
"$BLUETTI" get ac_output dc_output "${M[@]}" --json >"$W/get.json" 2>"$W/get.err"
grep -q '"ac_output"' "$W/get.json" && grep -q '"value":0' "$W/get.json" &&
	ok "get over Modbus TCP shows the new value" || { fail "get"; cat "$W/get.json" "$W/get.err" >&2; }
"$BLUETTI" set ac_output on "${M[@]}" --dry-run >"$W/dry.out" 2>&1
grep -q '01 06 de a9 00 01' "$W/dry.out" && ok "dry run: FC06 to public 57001" ||
	{ fail "dry run frame"; cat "$W/dry.out" >&2; }
stop_sim
log=$W/dev.log
grep -q 'read 57001 x1: busy once' "$log" && grep -q 'write 57001 = 0: busy once' "$log" &&
	grep -q 'write 57001 = 0 -> internal 2011, echo names the internal register' "$log" &&
	ok "busy read and busy write each sent once more" || { fail "busy"; cat "$log" >&2; }
[ "$(grep -c 'busy once' "$log")" = 2 ] && ok "exactly two busy answers" || fail "busy count"
if grep -q 'no reply' "$log" || ! grep -Eq 'stopping \([0-9]+ requests, [0-9]+ replies, 0 unanswered\)' "$log"; then
	fail "a request met silence"; grep -E 'no reply|stopping' "$log" >&2
else
	ok "no request met silence (no multi-register read across a hole)"
fi

# --- denied: nothing reaches the device --------------------------------------------------
start_sim deny --profile EL100V2
M=(--transport modbus-tcp --host "127.0.0.1:$PORT" --request-gap 0 --profile EL100V2)
"$BLUETTI" write-register 57026 1 "${M[@]}" >"$W/deny.out" 2>&1
st1=$?
"$BLUETTI" write-register 2013 1 "${M[@]}" >>"$W/deny.out" 2>&1
st2=$?
"$BLUETTI" write-register 57026 1 "${M[@]}" --i-know --any-profile >>"$W/deny.out" 2>&1
st3=$?
sleep 0.3
stop_sim
if [ $st1 = 2 ] && [ $st2 = 2 ] && [ $st3 = 2 ] &&
	grep -q 'alias of 2013, which is never written' "$W/deny.out" &&
	[ "$(grep -c 'result=denied' "$W/deny.out")" = 3 ]; then
	ok "57026 and 2013 refused (exit 2, audited)"
else
	fail "denied writes ($st1 $st2 $st3)"; cat "$W/deny.out" >&2
fi
if grep -Eq 'connected|tid ' "$W/deny.log" || ! grep -q 'stopping (0 requests' "$W/deny.log"; then
	fail "the device saw something of a denied write"; cat "$W/deny.log" >&2
else
	ok "denied writes: the device never saw a connection"
fi

[ $fails = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all ok"
