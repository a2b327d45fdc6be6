#!/usr/bin/env bash
# labels: short
# The block record's "verified" says what --verify proved, run by run over the same anvil
# blocks (tests/traffic.py's mix, token transfers: receipts with logs), through
# tests/edit_rpc.py, which changes a log's data in every receipts answer of block 2 (a lie
# only a proof of the receipts sees):
#   --verify off --receipts       every block "none", block 2 published as edited;
#   --verify header --receipts    every block "header", block 2 published as edited (its
#                                 receipts are not proven at that level);
#   --verify full, no --receipts  every block "header" (nothing to prove the receipts by);
#   --verify full --receipts      straight from anvil, every block "full".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 4 --txs-per-block 8 \
    --seed 68 --mine --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$head" -ge 4 ] || fail "traffic.py mined $head blocks, not 4"
[ "$(rpc "$ANVIL_URL" eth_getBlockReceipts '["0x2"]' | jq '[.[].logs[]] | length')" -gt 0 ] \
    || fail "block 2 has no logs to edit"

start_edit_rpc "$ANVIL_URL" --edit 2=log
edit_url=$EDIT_URL

# run NAME URL ARGS...: evmtap run over blocks 1..head into $work/NAME; prints the levels
# the block records say (one a line, each once), after checking that every block is there
# and that none was refused.
run() {
    local name=$1 url=$2
    shift 2
    timeout 300 "$evmtap" run --rpc "$url" --workers 2 --from 1 --to "$head" "$@" \
        --data-dir "$work/$name" 2>"$work/$name.log" \
        || { tail -n 20 "$work/$name.log" >&2; fail "$name: evmtap run exited $?"; }
    ! grep "does not prove" "$work/$name.log" >&2 || fail "$name: a block was refused"
    local records=("$work/$name"/topics/anvil.mined.blocks.metadata/*.ndjson)
    [ "$(jq -s 'map(.number) | sort | . == [range(1; '"$head"' + 1)]' "${records[@]}")" = true ] \
        || fail "$name: blocks published: $(jq -c .number "${records[@]}" | tr '\n' ' ')"
    jq -r .verified "${records[@]}" | sort -u
}
# logs NAME N: the mined.logs.decoded records of block N as run NAME published them.
logs() {
    jq -c "select(.blockNumber == $2)" "$work/$1"/topics/anvil.mined.logs.decoded/*.ndjson | sort
}
# edited NAME: block 2's logs as NAME published them are not anvil's (the full run's, from
# anvil itself), while block 1's are the same.
edited() {
    [ -n "$(logs full 2)" ] && [ "$(logs "$1" 1)" = "$(logs full 1)" ] \
        && [ "$(logs "$1" 2)" != "$(logs full 2)" ]
}

[ "$(run off "$edit_url" --verify off --receipts)" = none ] || fail "--verify off: not all none"
[ "$(jq -r '.edited["2"] // 0' <<<"$(curl -s "$edit_url/stats")")" -gt 0 ] \
    || fail "block 2's receipts were never served edited"

[ "$(run header "$edit_url" --verify header --receipts)" = header ] \
    || fail "--verify header --receipts: not all header"

[ "$(run no-receipts "$edit_url" --verify full)" = header ] \
    || fail "--verify full without --receipts: not all header"

[ "$(run full "$ANVIL_URL" --verify full --receipts)" = full ] \
    || fail "--verify full --receipts: not all full"
# A transaction type evmtap cannot encode (an L2's) in every block: each is published as
# "header", and said once for the chain, not once per worker.
start_edit_rpc "$ANVIL_URL" --always-edit --edit 0=l2type
[ "$(run l2 "$EDIT_URL" --workers 4 --receipts)" = header ] \
    || fail "type 0x7e: not all header"
said=$(grep -c "can only be partly proven" "$work/l2.log") || true
[ "$said" = 1 ] || { grep "partly proven" "$work/l2.log" >&2 || true
                     fail "'can only be partly proven' said $said times, want once"; }
grep -E "N:.*head_poller anvil: block [0-9]+ can only be partly proven, from 127\.0\.0\.1:[0-9]+: .*type 0x7e" \
    "$work/l2.log" >/dev/null || fail "the notice does not name the chain, provider and type"

edited off || fail "--verify off: block 2's logs not published as edited"
edited header || fail "--verify header: block 2's logs not published as edited"
pass "verified: off none, header header, full without receipts header, full with receipts full"
