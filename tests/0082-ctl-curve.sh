#!/usr/bin/env bash
# labels: short
# The control socket on a non-loopback address (127.0.0.2) with CURVE: an operator whose
# public key is in --curve-authorized is answered; a stranger's key is refused (ctl exits
# 1) and the coordinator logs the refusal, as is the coordinator's own key when it is not
# in the folder; STOP over CURVE exits 0.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --block-time 1
work=$(tmpdir)
for name in coordinator operator stranger; do
    "$evmtap" cert new "$work/keys" "$name" >/dev/null || fail "cert new $name"
done
mkdir -p "$work/authorized"
cp "$work/keys/operator.key" "$work/authorized/"
endpoint="tcp://127.0.0.2:$(free_port)"
"$evmtap" run --rpc "$ANVIL_URL" --workers 1 --control "$endpoint" \
    --curve-cert "$work/keys/coordinator.key" --curve-authorized "$work/authorized" \
    --data-dir "$work/data" 2>"$work/run.log" &
pid=$!
register_pid "$pid"
as() {
    local who=$1
    shift
    "$evmtap" ctl --endpoint "$endpoint" --curve-cert "$work/keys/$who.key" \
        --curve-server "$work/keys/coordinator.key" "$@"
}
wait_for 60 as operator --timeout 2 STATUS \
    || { tail -n 20 "$work/run.log" >&2; fail "the operator got no answer within 60 s"; }
grep -q "control: evmtap ctl at $endpoint (CURVE)" "$work/run.log" || fail "CURVE not logged"
as operator --json STATUS | jq -e '.chains[0].chain == "anvil"' >/dev/null \
    || fail "operator STATUS --json"
pass "an authorised operator is answered over CURVE on $endpoint"

rc=0; as stranger --timeout 2 STATUS 2>"$work/stranger.err" || rc=$?
[ "$rc" -eq 1 ] || fail "the stranger: exit $rc, want 1"
wait_for 20 grep -q "control: a client was refused at tcp://127.0.0.2" "$work/run.log" \
    || fail "the refusal is not logged"
# Not even the coordinator's own public key, without being authorised, gets in.
rc=0; as coordinator --timeout 2 STATUS 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "an unauthorised coordinator key: exit $rc, want 1"
pass "a key not in --curve-authorized: refused (exit 1) and logged"

as operator STOP >/dev/null || fail "operator STOP"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "STOP over CURVE: exit $rc, want 0"
pass "STOP over CURVE: exit 0"
