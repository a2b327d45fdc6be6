#!/usr/bin/env bash
# labels: short
# A block that never proves is never published, nor anything after it, and is fetched
# again for ever: tests/edit_rpc.py in front of anvil edits every answer for block 3 (its
# first transaction's value); blocks 1 and 2 are published, then evmtap keeps asking for
# block 3 (named at warning each time) until SIGTERM, and exits 3 (blocks undelivered)
# with no record of block 3 or later in any topic.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 5 --txs-per-block 4 \
    --seed 67 --mine --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$head" -ge 5 ] || fail "traffic.py mined $head blocks, not 5"

start_edit_rpc "$ANVIL_URL" --edit 3=value
edit_url=$EDIT_URL

"$evmtap" run --rpc "$edit_url" --workers 2 --from 1 --to "$head" --receipts \
    --rpc-timeout 2 --drain-timeout 2 --data-dir "$work/out" 2>"$work/run.log" &
pid=$!
register_pid "$pid"

# The numbers of the block records published, in order, on one line.
published_blocks() {
    cat "$work"/out/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null \
        | jq -r '.number' | sort -n | tr '\n' ' '
}
only_1_2_published() { [ "$(published_blocks)" = "1 2 " ]; }
edited_times() { jq -r '.edited["3"] // 0' <<<"$(curl -s "$edit_url/stats")"; }
refused_again() {
    [ "$(grep -c "block 3 does not prove: transactions [0-9]*: hash is" "$work/run.log")" -ge 3 ] \
        && [ "$(edited_times)" -ge 3 ]
}
wait_for 60 refused_again \
    || { tail -n 20 "$work/run.log" >&2; fail "block 3 was not refused and asked again 3 times"; }
wait_for 30 only_1_2_published \
    || fail "blocks published before the unproven one: $(published_blocks), want 1 2"
kill -0 "$pid" 2>/dev/null || fail "evmtap ended on its own with block 3 unproven"

kill -TERM "$pid"
for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "evmtap did not stop within 30 s of SIGTERM"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 3 ] || { tail -n 20 "$work/run.log" >&2; fail "exit $rc after SIGTERM, want 3"; }

[ "$(published_blocks)" = "1 2 " ] || fail "blocks published: $(published_blocks), want 1 2"
# No record of any topic belongs to block 3 or later (block records by number, the others
# by blockNumber).
late=$(cat "$work"/out/topics/*/*.ndjson | jq -c 'select((.blockNumber // .number) >= 3)' \
    | head -n 3)
[ -z "$late" ] || fail "records of block 3 or later published: $late"
pass "block 3 refused $(edited_times) times, never published nor anything after it; SIGTERM exit 3"
