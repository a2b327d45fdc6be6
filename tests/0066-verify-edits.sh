#!/usr/bin/env bash
# labels: short
# Answers edited in flight (tests/edit_rpc.py in front of anvil) are never published: the
# fetch worker proves each block against its own header, says at warning which field
# differs (with the block, the provider and the field's JSON-RPC name), and fetches the
# block again; the proxy edits each block's first answer only (a node that caught up), so
# the block fetched again is published as anvil has it, "verified": "full". One block per edit: a transaction's value, a dropped
# transaction, two transactions swapped, a header field, a removed log (a changed log: 0065).
# Then the same edits once more, to a run with --metrics: evmtap_verification_failures_total
# counts each failure once by its field.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 6 --txs-per-block 8 \
    --seed 66 --mine --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$head" -ge 6 ] || fail "traffic.py mined $head blocks, not 6"

start_edit_rpc "$ANVIL_URL" --edit 1=value --edit 2=drop --edit 3=reorder --edit 4=header \
    --edit 6=nolog --times 1
edit_url=$EDIT_URL

"$evmtap" run --rpc "$edit_url" --workers 2 --from 1 --to "$head" \
    --receipts --data-dir "$work/out" 2>"$work/run.log" \
    || { tail -n 20 "$work/run.log" >&2; fail "evmtap run exited $?"; }

python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/out/topics" \
    --chain anvil --from 1 --to "$head" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount,blobGasPrice,contractAddress,cumulativeGasUsed,effectiveGasPrice,gasUsed,status,logsBloom \
    || fail "the published blocks are not anvil's"
levels=$(jq -r .verified "$work"/out/topics/anvil.mined.blocks.metadata/*.ndjson | sort -u)
[ "$levels" = full ] || fail "blocks published as verified: $levels"

# Each edited block was served edited at least once, caught and named.
edited=$(curl -s "$edit_url/stats")
for pair in 1:"transactions [0-9]+: hash is" 4:"hash is" 6:"receiptsRoot is"; do
    number=${pair%%:*} field=${pair#*:}
    [ "$(jq -r ".edited[\"$number\"] // 0" <<<"$edited")" -gt 0 ] \
        || fail "block $number was never served edited: $edited"
    grep -E "W:.*fetch_worker 127\.0\.0\.1:[0-9]+: block $number does not prove: $field 0x[0-9a-f]+, (its|the block's) contents give 0x[0-9a-f]+: not published" \
        "$work/run.log" >/dev/null \
        || { grep "does not prove" "$work/run.log" >&2 || true; fail "block $number: no warning naming '$field'"; }
done
# A dropped or moved transaction: refused (by the proof, or
# before it by the receipts join, which checks that the receipts fit the block) and
# fetched again.
for number in 2 3; do
    [ "$(jq -r ".edited[\"$number\"] // 0" <<<"$edited")" -gt 0 ] \
        || fail "block $number was never served edited: $edited"
    grep -E "W:.*fetch_worker .*(block $number does not prove|[a-zA-Z+]+ $number: bad_answer)" \
        "$work/run.log" >/dev/null || fail "block $number: edited answer not refused"
done
pass "5 edits caught, named and fetched again; blocks 1..$head published as anvil's, verified full"

start_edit_rpc "$ANVIL_URL" --edit 1=value --edit 4=header --edit 6=nolog --times 1
start_evmtap_metrics run --rpc "$EDIT_URL" --workers 2 --from 1 --receipts \
    --data-dir "$work/again"
for field in transactions.hash hash receiptsRoot; do
    wait_metric 60 "evmtap_verification_failures_total{chain=\"anvil\",field=\"$field\"}" 1 \
        || fail "evmtap_verification_failures_total{field=\"$field\"} is not 1: $(scrape | grep verification_failures || true)"
done
kill -TERM "$EVMTAP_PID"
rc=0; wait "$EVMTAP_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "the run with --metrics exited $rc"
pass "evmtap_verification_failures_total: each edit once, by its field"
