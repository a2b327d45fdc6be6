#!/usr/bin/env bash
# State watcher benchmark (issue 17): provider calls per block for V watched views, through
# Multicall3's aggregate3 (target 1) against batched eth_call (V), side by side in one run.
# Real components on loopback: anvil with Multicall3 at the canonical address
# (anvil_setCode), the test Pair, tests/provider_emulator.py counting every call by method.
#   bench/state_calls.sh [--views V] [--blocks B] [--bin DIR]
# Prints per way: blocks that fired the watcher, eth_call calls per block, every provider
# call per block (the fetch workers' eth_getBlockByNumber and the probes included), billed
# requests of the state watcher per block, and the ratio of the two ways.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" state_calls

views=20 blocks=10 bin="$ROOT/build/release"
while [ $# -gt 0 ]; do
    case $1 in
        --views) views=$2; shift 2 ;;
        --blocks) blocks=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n 2,9p "$0"; exit 0 ;;
        *) echo "bench/state_calls.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
bin=$(cd "$bin" && pwd)
evmtap="$bin/evmtap"
# shellcheck source=tests/keys_lib.sh disable=SC1091
source "$ROOT/tests/keys_lib.sh"
# shellcheck source=tests/state_lib.sh disable=SC1091
source "$ROOT/tests/state_lib.sh"
work=$(tmpdir)
export EVMTAP_KEY_BENCH=bench-secret

start_anvil "$(free_port)"
state_deploy "$work"
state_set_multicall
first=$(( $(rpc "$ANVIL_URL" eth_blockNumber) + 1 ))
for ((n = 1; n <= blocks; n++)); do
    state_send "swap $n" "$STATE_KEY0" "$PAIR" "swap(uint256,bool)" "$n" true
done
last=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

# measure NAME MULTICALL: one capture of first..last through a fresh emulator.
measure() {
    local name=$1 multicall=$2 n
    start_emulator "$ANVIL_URL"
    {
        printf 'chains\n    anvil\n        rpc = "%s/v3/{key}"\n        keys = bench\n' "$EMU_URL"
        printf '        from = %s\n        to = %s\n        multicall = %s\n' "$first" "$last" "$multicall"
        printf '        state\n            pair\n                address = %s\n' "$PAIR"
        printf '                abi = %s/abis/Pair.json\n' "$work"
        for ((n = 1; n <= views; n++)); do
            printf '                call = getAmountOut(%s, true)\n' "$n"
        done
    } >"$work/$name.cfg"
    "$evmtap" run --config "$work/$name.cfg" --data-dir "$work/$name" 2>"$work/$name.log" \
        || { tail -n 20 "$work/$name.log" >&2; echo "bench: $name: evmtap exited $?" >&2; exit 1; }
    emulator_stats >"$work/$name.stats"
    stop_pid "$EMU_PID"
    fired=$(cat "$work/$name"/topics/anvil.contract.state/*.ndjson | jq -s '[.[].blockNumber] | unique | length')
    records=$(cat "$work/$name"/topics/anvil.contract.state/*.ndjson | wc -l)
    jq -r --arg name "$name" --argjson fired "$fired" --argjson blocks "$(( last - first + 1 ))" \
        --argjson records "$records" '
        ([.keys[].methods["eth_call"] // 0] | add) as $calls |
        ([.keys[].methods | to_entries[].value] | add) as $all |
        ([.keys[].methods["eth_getCode"] // 0] | add) as $code |
        "\($name)\t\($fired)\t\($records)\t\($calls / $fired)\t\($code)\t\($all / $blocks)"' \
        "$work/$name.stats" >>"$work/table"
}

: >"$work/table"
measure multicall "$STATE_MULTICALL"
measure batched none
echo "== $views watched views on one contract, $(( last - first + 1 )) blocks, each touching it"
{
    printf 'way\tblocks fired\trecords\teth_call per block\teth_getCode\tall calls per block\n'
    cat "$work/table"
} | column -t -s "$(printf '\t')"
awk -F '\t' 'NR == 1 {m = $4} NR == 2 {b = $4} END {printf "batched / multicall: %.1fx the eth_call calls per block\n", b / m}' "$work/table"
