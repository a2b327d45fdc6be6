#!/usr/bin/env bash
# labels: short
# A changed log is caught by the proof of the receipts: tests/edit_rpc.py in front of anvil
# changes the data of the first log in the first receipts answer of a block that has logs
# (tests/traffic.py's token transfers); the fetch worker says at warning that the block
# does not prove, naming receiptsRoot or logsBloom with the value given and the value its
# contents give, publishes nothing of that answer and fetches the block again: every block
# is published as anvil has it, "verified": "full".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 4 --txs-per-block 8 \
    --seed 69 --mine --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$head" -ge 4 ] || fail "traffic.py mined $head blocks, not 4"
target=""
for ((number = 1; number <= head; number++)); do
    logs=$(rpc "$ANVIL_URL" eth_getBlockReceipts "[\"$(printf '0x%x' "$number")\"]" \
        | jq '[.[].logs[]] | length')
    if [ "$logs" -gt 0 ]; then
        target=$number
        break
    fi
done
[ -n "$target" ] || fail "no block of 1..$head has a log"

start_edit_rpc "$ANVIL_URL" --edit "$target=log" --times 1
edit_url=$EDIT_URL

"$evmtap" run --rpc "$edit_url" --workers 2 --from 1 --to "$head" --receipts \
    --data-dir "$work/out" 2>"$work/run.log" \
    || { tail -n 20 "$work/run.log" >&2; fail "evmtap run exited $?"; }

[ "$(jq -r ".edited[\"$target\"] // 0" <<<"$(curl -s "$edit_url/stats")")" -gt 0 ] \
    || fail "block $target was never served edited"
grep -E "W:.*fetch_worker 127\.0\.0\.1:[0-9]+: block $target does not prove: (receiptsRoot|(receipts [0-9]+: )?logsBloom) is 0x[0-9a-f]+, (its|the block's) contents give 0x[0-9a-f]+: not published" \
    "$work/run.log" >/dev/null \
    || { grep "does not prove" "$work/run.log" >&2 || true
         fail "block $target: no warning naming receiptsRoot or logsBloom"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/out/topics" \
    --chain anvil --from 1 --to "$head" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount,blobGasPrice,contractAddress,cumulativeGasUsed,effectiveGasPrice,gasUsed,status,logsBloom \
    || fail "the published blocks are not anvil's"
levels=$(jq -r .verified "$work"/out/topics/anvil.mined.blocks.metadata/*.ndjson | sort -u)
[ "$levels" = full ] || fail "blocks published as verified: $levels"
pass "block $target's changed log caught (receipts proof), fetched again, published as anvil's"
