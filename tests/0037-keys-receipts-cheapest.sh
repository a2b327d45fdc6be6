#!/usr/bin/env bash
# labels: short
# --receipts fetched the cheapest way in billed units (DESIGN.md "API key pool"), through
# the provider emulator enforcing the real tables (config/costs/):
#   * Infura (eth_getTransactionReceipt 80 against eth_getBlockReceipts 1,000): blocks of 1,
#     3, 9 and 12 transactions get their receipts by transaction (12 x 80 = 960 < 1,000),
#     blocks of 13 (1,040) and 250 by eth_getBlockReceipts, the empty block 0 none; every
#     receipt joined to its transaction (the node's own receipts, verify.py); the usage
#     topic's units equal the emulator's bill, and two forced 429s are counted in requests
#     but not in billed credits;
#   * Alchemy (20 against 20 a transaction: never cheaper by transaction): the block and
#     eth_getBlockReceipts in one batch for every block, and no 1 s window over --key-rps in
#     throughput units (eth_getBlockReceipts counts 500 against CU/s).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

# Blocks of known sizes: traffic.py rounds of 3, 12 and 13 transactions, then a block of 250
# (bench/make_big_blocks.py, after its two setup blocks of 1 and 9).
start_anvil "$(free_port)" --no-mining
for size in 3 12 13; do
    python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 1 --txs-per-block "$size" \
        --seed "$size" --mine --out "$work/sent-$size.jsonl" >/dev/null
done
python3 "$EVMTAP_ROOT/bench/make_big_blocks.py" --rpc "$ANVIL_URL" --blocks 1 \
    --txs-per-block 250 >/dev/null 2>&1 || fail "make_big_blocks.py failed"
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
sizes=()
for ((n = 0; n <= head; n++)); do
    sizes+=( $(( $(rpc "$ANVIL_URL" eth_getBlockTransactionCountByNumber "[\"$(printf '0x%x' "$n")\"]") )) )
done
log "transactions per block 0..$head: ${sizes[*]}"
for size in 3 12 13 250; do
    [[ " ${sizes[*]} " == *" $size "* ]] || fail "no block of $size transactions: ${sizes[*]}"
done
# What the cheapest way asks for: a receipt per transaction below 13, else one call.
by_tx=0 by_block=0 small=0
for size in "${sizes[@]}"; do
    if [ "$size" -ge 13 ]; then by_block=$((by_block + 1))
    elif [ "$size" -gt 0 ]; then by_tx=$((by_tx + size)); small=$((small + 1)); fi
done

# run_capture NAME COSTS MODE BUDGET: blocks 0..head with --receipts through a fresh
# emulator enforcing BUDGET a second per key; stats in $work/NAME.stats.
run_capture() {
    local name=$1 costs=$2 mode=$3 budget=$4 path=v3
    [ "$mode" = alchemy ] && path=v2
    start_emulator "$ANVIL_URL" --costs "$EVMTAP_ROOT/config/costs/$costs.cfg" --mode "$mode" \
        --budget "$budget"
    if [ "$name" = infura ]; then
        emulator_force cheapSecretA 429 2    # the key's first answers, whichever call they meet
    fi
    "$evmtap" run --rpc "$EMU_URL/$path/{key}" --keys ka,kb --workers 2 --key-costs "$costs" \
        --key-rps "$budget" --receipts --from 0 --to "$head" --data-dir "$work/$name" \
        2>"$work/$name.log" \
        || { tail -n 20 "$work/$name.log" >&2; fail "$name: run exited $?"; }
    emulator_stats >"$work/$name.stats"
    stop_pid "$EMU_PID"
    python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/$name/topics" \
        --chain anvil --from 0 --to "$head" \
        --allow-extra transactionCount,status,gasUsed,cumulativeGasUsed,effectiveGasPrice,contractAddress,blobGasPrice,blobGasUsed \
        >"$work/$name.verify" 2>&1 || { tail -n 5 "$work/$name.verify" >&2; fail "$name: records lost or wrong"; }
    # Every transaction carries its own receipt's fields, as the node answers them.
    python3 - "$ANVIL_URL" "$work/$name/topics" <<'PY' || fail "$name: receipts joined wrong"
import glob, json, sys, urllib.request
url, topics = sys.argv[1:]
def rpc(method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))["result"]
seen = 0
for topic in ("native_token_transfer", "contract_deployment", "contract_interaction"):
    for path in glob.glob("%s/anvil.mined.tx.*.%s/*.ndjson" % (topics, topic)):
        for line in open(path):
            tx = json.loads(line)
            receipt = rpc("eth_getTransactionReceipt", [tx["hash"]])
            for field in ("gasUsed", "cumulativeGasUsed", "status"):
                if int(str(tx[field]), 0) != int(receipt[field], 16):
                    sys.exit("%s: %s %s, node %s" % (tx["hash"], field, tx[field], receipt[field]))
            seen += 1
print(seen)
PY
}

export EVMTAP_KEY_KA=cheapSecretA EVMTAP_KEY_KB=cheapSecretB
run_capture infura infura infura 4000
methods=$(jq -c '[.keys[] | .methods] | reduce .[] as $m ({}; reduce ($m | to_entries[]) as $e (.; .[$e.key] += $e.value))' "$work/infura.stats")
log "infura: methods received $methods"
# The forced 429s are answered whole; the call they met is tried again: its receipts
# calls count once more at most, so the counts are exact when the 429s met no receipts call.
tx_calls=$(jq '.eth_getTransactionReceipt // 0' <<<"$methods")
block_calls=$(jq '.eth_getBlockReceipts // 0' <<<"$methods")
[ "$tx_calls" -ge "$by_tx" ] && [ "$tx_calls" -le $((by_tx + 2 * 12)) ] \
    || fail "infura: $tx_calls eth_getTransactionReceipt, want $by_tx (blocks under 13 transactions)"
[ "$block_calls" -ge "$by_block" ] && [ "$block_calls" -le $((by_block + 2)) ] \
    || fail "infura: $block_calls eth_getBlockReceipts, want $by_block (blocks of 13 and more)"
for size in 3 12 13 250; do
    want=eth_getTransactionReceipt
    [ "$size" -ge 13 ] && want=eth_getBlockReceipts
    grep -qE "\(($size) transactions\): receipts by $want \(eth_getBlockReceipts 1000 credits, eth_getTransactionReceipt x $size: $((size * 80))\)" \
        "$work/infura.log" || fail "infura: the debug log does not say block of $size: $want"
done
grep -q "(0 transactions): receipts by none" "$work/infura.log" \
    || fail "infura: the empty block asked for receipts"
pass "infura: receipts by transaction for blocks of 1..12 ($by_tx calls), eth_getBlockReceipts for 13 and 250 ($by_block), none for the empty block"

# Usage: requests are every call received, 429-answered included; billed credits what the
# provider billed (it accepted them all but the two 429s, which cost nothing).
usage="$work/infura/topics/evmtap.api_keys.usage"
jq -e '[.keys[] | .rate_limited] | add == 2' "$work/infura.stats" >/dev/null \
    || fail "infura: the forced 429s were not met: $(jq -c .keys "$work/infura.stats")"
for pair in ka:cheapSecretA kb:cheapSecretB; do
    key=${pair%%:*} secret=${pair#*:}
    jq -e -s --arg k "$key" --arg s "$secret" --slurpfile stats "$work/infura.stats" '
        ($stats[0].keys[$s] // {calls: 0, units: 0, accepted_units: 0}) as $p
        | ([.[] | select(.key == $k) | .requests] | add // 0) == $p.calls
          and ([.[] | select(.key == $k) | .units] | add // 0) == $p.units
          and $p.units == $p.accepted_units' "$usage"/*.ndjson >/dev/null \
        || fail "infura: key $key: usage $(jq -s -c --arg k "$key" '[.[] | select(.key == $k) | {requests, units}]' "$usage"/*.ndjson), provider $(jq -c --arg s "$secret" '.keys[$s]' "$work/infura.stats")"
done
pass "infura: usage units equal the provider's bill; the 429s counted in requests, not in credits"

# Alchemy: one batch per block, the bucket in throughput units (a batch is 520).
run_capture alchemy alchemy alchemy 1100
jq -e --argjson blocks $((head + 1)) '
    ([.keys[] | .methods.eth_getTransactionReceipt // 0] | add) == 0
    and ([.keys[] | .methods.eth_getBlockReceipts // 0] | add) >= $blocks
    and .over_budget == 0 and ([.max_window[]] | max <= 1100)
    and ([.keys[] | .rate_limited] | add) == 0' "$work/alchemy.stats" >/dev/null \
    || fail "alchemy: not one batch per block, or a 1 s window over 1100 CU: $(jq -c '{keys, max_window, over_budget}' "$work/alchemy.stats")"
calls=$(jq '[.keys[] | .calls] | add' "$work/alchemy.stats")
http=$(jq .requests "$work/alchemy.stats")
[ $((http + head)) -le "$calls" ] || fail "alchemy: $calls calls in $http HTTP requests: not batched"
grep -q "receipts by eth_getBlockReceipts, in one batch with the block" "$work/alchemy.log" \
    || fail "alchemy: the debug log does not say the batch"
pass "alchemy: block and receipts in one batch ($calls calls, $http HTTP requests), no window over 1100 throughput CU"
