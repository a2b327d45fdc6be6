#!/usr/bin/env bash
# labels: short
# Following a live anvil (--block-time 1) under traffic: stopped by SIGTERM (drains, exit
# 0), restarted (resumes after the checkpoint), killed by SIGKILL mid-run, restarted with
# --to: the files hold every block from 0 to --to exactly once, no gap, no duplicate.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --block-time 1
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 30 --txs-per-block 2 \
    --seed 3 --out "$work/sent.jsonl" >/dev/null 2>&1 &
register_pid $!
args=(run --rpc "$ANVIL_URL" --from 0 --workers 2 --data-dir "$work/data")

checkpoint() {
    python3 - "$work/data/topics/anvil.mined.blocks.metadata" <<'PY'
import json, os, sys
numbers = []
for name in sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else []:
    numbers += [json.loads(line)["number"] for line in open(os.path.join(sys.argv[1], name))]
print(max(numbers) if numbers else -1)
PY
}
# True once the files hold a block above $1.
published_past() { [ "$(checkpoint)" -gt "$1" ]; }

# 1. SIGTERM: drains and exits 0.
"$evmtap" "${args[@]}" 2>"$work/run1.log" &
pid=$!
register_pid "$pid"
wait_for 20 published_past 0 || fail "nothing published within 20 s"
sleep 3
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/run1.log" >&2; fail "SIGTERM: exit $rc, want 0"; }
first=$(checkpoint)
pass "SIGTERM drained with exit 0 at block $first"

# 2. Restart, then SIGKILL in the middle of the run.
"$evmtap" "${args[@]}" 2>"$work/run2.log" &
pid=$!
register_pid "$pid"
wait_for 20 published_past "$((first + 2))" || fail "restart made no progress"
grep -q "resuming after block" "$work/run2.log" || fail "restart did not resume from the checkpoint"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pass "SIGKILL after block $(checkpoint)"

# 3. Restart with --to: every block 0..to exactly once, fields equal to the node's.
sleep 2
to=$(( $(rpc "$ANVIL_URL" eth_blockNumber) + 2 ))
"$evmtap" "${args[@]}" --to "$to" 2>"$work/run3.log" || { cat "$work/run3.log" >&2; fail "final run failed"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount \
    || fail "after SIGTERM and SIGKILL restarts the files differ from the node"
pass "blocks 0..$to exactly once after SIGTERM, SIGKILL and restarts"

# 4. Nothing left to do: --to already published exits 0 at once.
"$evmtap" "${args[@]}" --to "$to" 2>"$work/run4.log" || fail "a run with nothing to do failed"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount >/dev/null \
    || fail "a run with nothing to do changed the files"
pass "a run past --to publishes nothing again"
