#!/usr/bin/env bash
# labels: short
# A provider that answers badly on purpose (tests/badrpc.py in front of anvil): HTTP 500,
# Infura's 429, timeouts, truncated bodies, garbage, JSON-RPC error objects, a null block
# that is not there yet, empty bodies. evmtap retries with backoff, names the provider and
# the cause in its log, and loses nothing: the files equal the node's blocks exactly once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 8 --txs-per-block 3 \
    --seed 11 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_badrpc "$ANVIL_URL" --fault-rate 0.35 --seed 5 --timeout-seconds 3 \
    --faults 500,429,timeout,truncated,garbage,rpcerror,null,empty

for mode in block hashes; do
    "$evmtap" run --rpc "$BADRPC_URL" --from 0 --to "$head" --fetch "$mode" --workers 3 \
        --rpc-timeout 1 --data-dir "$work/$mode" 2>"$work/$mode.log" \
        || { tail -n 30 "$work/$mode.log" >&2; fail "--fetch $mode through faults exited $?"; }
    python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/$mode/topics" \
        --chain anvil --from 0 --to "$head" --sent "$work/sent.jsonl" \
        --allow-extra transactionCount || fail "--fetch $mode: records lost or wrong"
    pass "--fetch $mode: blocks 0..$head complete through a faulty provider"
done

stats=$(curl -sS --max-time 5 "$BADRPC_URL/stats")
log "provider saw: $(jq -c '{requests, calls, faults}' <<<"$stats")"
for fault in 500 429 timeout truncated garbage rpcerror empty; do
    [ "$(jq -r --arg f "$fault" '.faults[$f] // 0' <<<"$stats")" -gt 0 ] \
        || fail "the run never met fault $fault: raise the rate or the traffic"
done
# Every cause is named in the log with the provider, never more than host and port.
logs="$work/block.log $work/hashes.log"
provider="${BADRPC_URL#http://}"
for cause in http_error rate_limited transport bad_answer rpc_error; do
    grep -h "$provider" $logs | grep "$cause" >/dev/null || fail "no '$cause' line naming $provider"
done
pass "each kind of bad answer is logged with the provider's name and its cause"

# A provider that is down at the start: retried until it comes up, then captured.
port=$(free_port)
"$evmtap" run --rpc "http://127.0.0.1:$port" --from 0 --to 3 --data-dir "$work/late" \
    2>"$work/late.log" &
pid=$!
register_pid "$pid"
sleep 2
kill -0 "$pid" 2>/dev/null || fail "evmtap gave up on a provider that is down at start"
grep -q "127.0.0.1:$port" "$work/late.log" || fail "the unreachable provider is not named"
start_anvil "$port"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 3 --txs-per-block 1 \
    --seed 2 --out "$work/late-sent.jsonl" >/dev/null
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/late.log" >&2; fail "late provider: exit $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/late/topics" \
    --chain anvil --from 0 --to 3 --allow-extra transactionCount >/dev/null \
    || fail "late provider: records wrong"
pass "a provider down at start is retried, then captured completely"
