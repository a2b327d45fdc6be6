#!/usr/bin/env bash
# labels: short
# --receipts with the key pool, budgets in Alchemy compute units (eth_getBlockByNumber 20,
# eth_getBlockReceipts billed 20 but 500 against CU/s: never dearer than receipts by
# transaction, so the block and its receipts may go in one batch), through the provider
# emulator enforcing the same per-second budget in throughput units:
#   * a per-key second that holds both calls (1,300 CU/s): the block and its receipts go
#     in one batch (fewer HTTP requests than calls), no 429, no 1 s window over the budget
#     (in throughput units), and the usage topic counts exactly the calls the provider
#     received and the compute units it billed;
#   * a second that does not (510 CU/s, under the batch's 520): the calls go one by one (as
#     many HTTP requests as calls), still no 429 and no window over the budget.
# (Infura, where small blocks cost less by transaction: 0037-keys-receipts-cheapest.sh.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
costs="$EVMTAP_ROOT/config/costs/alchemy.cfg"

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 4 --txs-per-block 3 \
    --seed 2 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
export EVMTAP_KEY_KA=rcptSecretA EVMTAP_KEY_KB=rcptSecretB

# run_with BUDGET NAME TO: one run of blocks 0..TO, both keys, through a fresh emulator
# enforcing BUDGET throughput CU a second per key; leaves its stats in $work/NAME.stats.
run_with() {
    local budget=$1 name=$2 to=$3
    start_emulator "$ANVIL_URL" --costs "$costs" --budget "$budget" --mode alchemy
    "$evmtap" run --rpc "$EMU_URL/v2/{key}" --keys ka,kb --workers 2 --key-costs alchemy \
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
        || fail "$name: a key went over $budget CU in a 1 s window: $(jq -c '{over_budget, max_window}' "$work/$name.stats")"
    # The usage topic: exactly the calls the provider received and the units it billed
    # (what it accepted), per key.
    local usage="$work/$name/topics/evmtap.api_keys.usage" pair key secret
    for pair in ka:rcptSecretA kb:rcptSecretB; do
        key=${pair%%:*} secret=${pair#*:}
        jq -e -s --arg k "$key" --arg s "$secret" --slurpfile stats "$work/$name.stats" '
            ([.[] | select(.key == $k) | .requests] | add // 0) == ($stats[0].keys[$s].calls // 0)
            and ([.[] | select(.key == $k) | .units] | add // 0) == ($stats[0].keys[$s].units // 0)
            and ($stats[0].keys[$s].units // 0) == ($stats[0].keys[$s].accepted_units // 0)' \
            "$usage"/*.ndjson >/dev/null \
            || fail "$name: key $key: the usage topic differs from the provider's calls or billed units"
    done
}

run_with 1300 batched "$head"
calls=$(jq '[.keys[] | .calls] | add' "$work/batched.stats")
http=$(jq .requests "$work/batched.stats")
receipts=$(cat "$work"/batched/topics/evmtap.api_keys.usage/*.ndjson \
    | jq -s '[.[] | .methods.eth_getBlockReceipts // 0] | add')
[ "$receipts" -ge $((head + 1)) ] && [ $((http + head)) -le "$calls" ] \
    || fail "1,300 CU/s: $calls calls in $http HTTP requests, $receipts eth_getBlockReceipts for $((head + 1)) blocks: not batched"
pass "a second holds block + receipts: $calls calls in $http HTTP requests, no 429, usage exact"

run_with 510 single 6
calls=$(jq '[.keys[] | .calls] | add' "$work/single.stats")
http=$(jq .requests "$work/single.stats")
[ "$calls" = "$http" ] || fail "510 CU/s: $calls calls in $http HTTP requests: a batch over the budget"
pass "a second too small for both: one call per request ($calls), no 429, usage exact"
