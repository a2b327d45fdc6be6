#!/usr/bin/env bash
# labels: short
# A reorg while evmtap is stopped: the checkpointed block and the one below it are replaced
# (with replacement transactions, --receipts). On the next start evmtap warns, walks back to
# the common ancestor through the hashes the checkpoint keeps, announces both orphans, then
# publishes the new branch; the checkpoint then holds the new branch (a second restart
# announces nothing more and resumes after it). The same on stdout: the reorg lines come
# after the orphans' and before every line of the new branch.
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

# stdout: one stream, in order.
follow_stdout() {
    "$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --receipts --workers 2 \
        --data-dir "$work/s" --sink stdout >"$work/$1.out" 2>"$work/$1.log" &
    pid=$!
    register_pid "$pid"
    wait_for 30 grep -q "\"hash\":\"$(node_hash latest)\"" "$work/$1.out" \
        || { tail -20 "$work/$1.log" >&2; fail "stdout $1: the head not published within 30 s"; }
    stop_run "$pid" "$work/$1.log"
}
follow_stdout first-stdout
: >"$work/expected-stdout.jsonl"
reorg_at 3 "$work/expected-stdout.jsonl"
send_tx 8
follow_stdout second-stdout
cat "$work/first-stdout.out" "$work/second-stdout.out" >"$work/all.out"
python3 - "$work/all.out" "$work/expected-stdout.jsonl" <<'PY' || fail "stdout: the reorg lines are not between the orphans' and the new branch's"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
expected = [json.loads(line) for line in open(sys.argv[2])]
def at(topic, test):
    return [i for i, line in enumerate(lines) if line["topic"] == topic and test(line["value"])]
reorgs = at("anvil.mined.blocks.reorged", lambda v: True)
assert [lines[i]["value"]["orphanedHash"] for i in reorgs] == [e["orphanedHash"] for e in expected], reorgs
assert [lines[i]["key"] for i in reorgs] == [str(e["number"]) for e in expected]
orphans = {e["orphanedHash"] for e in expected}
new = {e["newHash"] for e in expected}
old_lines = [i for i, line in enumerate(lines) if (line["value"].get("blockHash") or line["value"].get("hash")) in orphans]
new_lines = [i for i, line in enumerate(lines) if (line["value"].get("blockHash") or line["value"].get("hash")) in new]
assert old_lines and new_lines, (old_lines, new_lines)
assert max(old_lines) < min(reorgs) and max(reorgs) < min(new_lines), (old_lines, reorgs, new_lines)
PY
pass "stdout: orphans, then the reorg lines, then the new branch"
