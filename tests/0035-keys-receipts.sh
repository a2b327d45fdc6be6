#!/usr/bin/env bash
# labels: short
# --receipts with the key pool, budgets in Infura credits (eth_getBlockByNumber 80,
# eth_getBlockReceipts 1000), through the provider emulator enforcing the same budget:
#   * a per-key second that holds both calls (2,500 credits): the block and its receipts go
#     in one batch (fewer HTTP requests than calls), no 429, no 1 s window over the budget,
#     and the usage topic counts exactly the calls and credits the provider received;
#   * a second that does not (1,050 credits): the calls go one by one (as many HTTP
#     requests as calls), still no 429 and no window over the budget.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
costs="$EVMTAP_ROOT/config/costs/infura.cfg"

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 4 --txs-per-block 3 \
    --seed 2 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
export EVMTAP_KEY_KA=rcptSecretA EVMTAP_KEY_KB=rcptSecretB

# run_with BUDGET NAME TO: one run of blocks 0..TO, both keys, through a fresh emulator
# enforcing BUDGET credits a second per key; leaves its stats in $work/NAME.stats.
run_with() {
    local budget=$1 name=$2 to=$3
    start_emulator "$ANVIL_URL" --costs "$costs" --budget "$budget"
    "$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys ka,kb --workers 2 --key-costs infura \
        --key-rps "$budget" --receipts --from 0 --to "$to" --data-dir "$work/$name" \
        2>"$work/$name.log" || { tail -n 20 "$work/$name.log" >&2; fail "$name: run exited $?"; }
    emulator_stats >"$work/$name.stats"
    stop_pid "$EMU_PID"
    local blocks logs
    blocks=$(cat "$work/$name"/topics/anvil.mined.blocks.metadata/*.ndjson | wc -l)
    [ "$blocks" = $((to + 1)) ] || fail "$name: $blocks blocks published, want $((to + 1))"
    logs=$( (cat "$work/$name"/topics/anvil.mined.logs.decoded/*.ndjson 2>/dev/null || true) | wc -l)
    [ "$logs" -gt 0 ] || fail "$name: no decoded log published"
    jq -e --argjson b "$budget" '.over_budget == 0 and ([.max_window[]] | max <= $b)
        and ([.keys[] | .rate_limited] | add) == 0' "$work/$name.stats" >/dev/null \
        || fail "$name: a key went over $budget credits in a 1 s window: $(jq -c '{over_budget, max_window}' "$work/$name.stats")"
    # The usage topic: exactly the calls and credits the provider received, per key.
    local usage="$work/$name/topics/evmtap.api_keys.usage" pair key secret
    for pair in ka:rcptSecretA kb:rcptSecretB; do
        key=${pair%%:*} secret=${pair#*:}
        jq -e -s --arg k "$key" --arg s "$secret" --slurpfile stats "$work/$name.stats" '
            ([.[] | select(.key == $k) | .requests] | add // 0) == ($stats[0].keys[$s].calls // 0)
            and ([.[] | select(.key == $k) | .units] | add // 0) == ($stats[0].keys[$s].units // 0)' \
            "$usage"/*.ndjson >/dev/null \
            || fail "$name: key $key: the usage topic differs from the provider's calls or credits"
    done
}

run_with 2500 batched "$head"
calls=$(jq '[.keys[] | .calls] | add' "$work/batched.stats")
http=$(jq .requests "$work/batched.stats")
receipts=$(cat "$work"/batched/topics/evmtap.api_keys.usage/*.ndjson \
    | jq -s '[.[] | .methods.eth_getBlockReceipts // 0] | add')
[ "$receipts" -ge $((head + 1)) ] && [ $((http + head)) -le "$calls" ] \
    || fail "2,500 credits: $calls calls in $http HTTP requests, $receipts eth_getBlockReceipts for $((head + 1)) blocks: not batched"
pass "a second holds block + receipts: $calls calls in $http HTTP requests, no 429, usage exact"

run_with 1050 single 6
calls=$(jq '[.keys[] | .calls] | add' "$work/single.stats")
http=$(jq .requests "$work/single.stats")
[ "$calls" = "$http" ] || fail "1,050 credits: $calls calls in $http HTTP requests: a batch over the budget"
pass "a second too small for both: one call per request ($calls), no 429, usage exact"
