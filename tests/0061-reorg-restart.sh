#!/usr/bin/env bash
# labels: short
# A reorg while evmtap is stopped: the checkpointed block and the one below it are replaced
# (with replacement transactions, --receipts). On the next start evmtap warns, walks back to
# the common ancestor through the hashes the checkpoint keeps, announces both orphans, then
# publishes the new branch; the checkpoint then holds the new branch (a second restart
# announces nothing more and resumes after it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
for value in 1 2 3 4 5; do send_tx "$value"; done
follow() {
    "$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --receipts --workers 2 \
        --data-dir "$work/d" 2>"$work/$1.log" &
    pid=$!
    register_pid "$pid"
    wait_for 30 published "$work/d" "$(node_hash latest)" \
        || { tail -20 "$work/$1.log" >&2; fail "$1: the head not published within 30 s"; }
    stop_run "$pid" "$work/$1.log"
}
follow first
checkpointed=$(node_hash latest)
: >"$work/expected.jsonl"
reorg_at 2 "$work/expected.jsonl" with
send_tx 6
follow second
grep "checkpointed with hash $checkpointed" "$work/second.log" | grep -q "walking back" \
    || { cat "$work/second.log" >&2; fail "the restart did not say it found the reorg"; }
[ "$(reorg_records "$work/d")" -eq 2 ] || fail "$(reorg_records "$work/d") reorg records, want 2"
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/d/topics" \
    --chain anvil --to "$(node_number latest)" --expect "$work/expected.jsonl" \
    || fail "the files, orphans dropped, are not the node's chain"
pass "a reorg while stopped: found at start, both orphans announced, the new branch published"

send_tx 7
follow third
grep -q "walking back" "$work/third.log" && fail "the third start walked back: the checkpoint kept an orphan"
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/d/topics" \
    --chain anvil --to "$(node_number latest)" --expect "$work/expected.jsonl" \
    || fail "after the third start, the files are not the node's chain"
pass "the checkpoint holds the new branch: resumed after it without a walk"
