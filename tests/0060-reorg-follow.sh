#!/usr/bin/env bash
# labels: short
# Reorgs of depth 1 to 5 while evmtap follows the head (--from 0, no --to, --receipts), with
# and without replacement transactions: after each, the reorg records name exactly the
# orphaned blocks (numbers, hashes, depth) and come before the new branch; at the end
# (SIGTERM, exit 0), dropping the records of orphaned hashes leaves the node's chain block by
# block and every canonical transaction exactly once (tests/reorg_check.py).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
from=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
to=0x70997970c51812dc3a010c7d01b50e0d17dc79c8

start_anvil "$(free_port)"
# One transaction, mined at once in a block of its own (anvil's automine).
send_tx() { rpc "$ANVIL_URL" eth_sendTransaction "[{\"from\":\"$from\",\"to\":\"$to\",\"value\":\"0x$1\"}]" >/dev/null; }
node_hash() { rpc "$ANVIL_URL" eth_getBlockByNumber "[\"$1\", false]" | jq -r .hash; }
head_number() { printf '%d' "$(rpc "$ANVIL_URL" eth_blockNumber)"; }
blocks_dir="$work/d/topics/anvil.mined.blocks.metadata"
reorged_dir="$work/d/topics/anvil.mined.blocks.reorged"
published() { cat "$blocks_dir"/*.ndjson 2>/dev/null | grep -q "\"hash\":\"$1\""; }
reorg_records() { cat "$reorged_dir"/*.ndjson 2>/dev/null | wc -l; }

for value in 1 2 3; do send_tx "$value"; done
"$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --receipts --workers 2 \
    --data-dir "$work/d" 2>"$work/run.log" &
pid=$!
register_pid "$pid"

expected=0
: >"$work/expected.jsonl"
for depth in 1 2 3 4 5; do
    send_tx a; send_tx b
    head=$(head_number)
    wait_for 30 published "$(node_hash "$(printf '0x%x' "$head")")" \
        || { tail -20 "$work/run.log" >&2; fail "depth $depth: head $head not published within 30 s"; }
    declare -A old=()
    for ((n = head - depth + 1; n <= head; n++)); do old[$n]=$(node_hash "$(printf '0x%x' "$n")"); done
    # Odd depths get replacement transactions, one per new block; even ones come empty.
    pairs=""
    if ((depth % 2)); then
        for ((i = 0; i < depth; i++)); do
            pairs+="${pairs:+,}[{\"from\":\"$from\",\"to\":\"$to\",\"value\":\"0x$((100 + i))\"}, $i]"
        done
    fi
    rpc "$ANVIL_URL" anvil_reorg "[$depth, [$pairs]]" >/dev/null || fail "anvil_reorg $depth"
    for ((n = head - depth + 1; n <= head; n++)); do
        new=$(node_hash "$(printf '0x%x' "$n")")
        [ "$new" != "${old[$n]}" ] || fail "depth $depth: anvil kept block $n"
        printf '{"number":%d,"orphanedHash":"%s","newHash":"%s","depth":%d}\n' \
            "$n" "${old[$n]}" "$new" "$depth" >>"$work/expected.jsonl"
    done
    unset old
    send_tx c
    expected=$((expected + depth))
    wait_for 30 published "$(node_hash latest)" \
        || { tail -20 "$work/run.log" >&2; fail "depth $depth: the new branch not published within 30 s"; }
    [ "$(reorg_records)" -eq "$expected" ] \
        || fail "depth $depth: $(reorg_records) reorg records, want $expected"
    # The reorg records reach the sink before the new branch: the first new block's record
    # comes after them in the files (both are written in the order they were passed on).
    first_new=$(jq -r "select(.number == $((head - depth + 1))) | .newHash" "$work/expected.jsonl" | tail -1)
    grep -q "\"hash\":\"$first_new\"" "$blocks_dir"/*.ndjson || fail "depth $depth: new block $first_new missing"
    pass "reorg of depth $depth ($([ -n "$pairs" ] && echo with || echo without) replacement transactions) announced and unwound"
done

kill -TERM "$pid"
wait_for 30 sh -c "! kill -0 $pid" || fail "evmtap did not stop within 30 s of SIGTERM"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$work/run.log" >&2; fail "evmtap exited $rc after SIGTERM, want 0"; }
grep -q "reorg of depth 5" "$work/run.log" || { cat "$work/run.log" >&2; fail "no reorg logged"; }
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/d/topics" \
    --chain anvil --to "$(head_number)" --expect "$work/expected.jsonl" \
    || fail "the files, orphans dropped, are not the node's chain"
pass "orphans dropped: the node's chain block by block, every transaction exactly once"
