#!/usr/bin/env bash
# labels: short
# evmtap backfill of a few thousand anvil blocks (some with transactions) under keys with
# a per-second budget, killed twice with SIGKILL once the files hold a random-ish
# number of blocks, and started again with the same command: the third start resumes and
# exits 0, every block and transaction is in the files exactly once (tests/verify.py against
# the node). Started once more it says the range is done, exits 0 and changes nothing. A
# backfill on the data dir of a running `evmtap run` is refused (exit 2) naming the run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 15 --txs-per-block 3 \
    --seed 7 --out "$work/sent.jsonl" >/dev/null 2>&1 || fail "traffic.py failed"
# In steps: one call of thousands can outlast rpc's 10 s on a busy machine.
for _ in 1 2 3 4 5 6; do
    rpc "$ANVIL_URL" anvil_mine '["0x1f4"]' >/dev/null || fail "anvil_mine failed"
done
to=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$to" -ge 3000 ] || fail "anvil is at block $to, want 3000 or more"

# Keys in the URL (anvil ignores the query); three keys at 200 requests/s each make the
# backfill last seconds, so that the kills land in its middle.
export EVMTAP_KEY_BF1=bfSecret1 EVMTAP_KEY_BF2=bfSecret2 EVMTAP_KEY_BF3=bfSecret3
args=(backfill --rpc "$ANVIL_URL/?key={key}" --keys bf1,bf2,bf3 --key-rps 200 --workers 3
      --from 0 --to "$to" --data-dir "$work/data" --progress-interval 1)
blocks_dir="$work/data/topics/anvil.mined.blocks.metadata"

# Lines in the blocks topic (after a SIGKILL, some may be past the checkpoint: the next
# start cuts them).
published() { cat "$blocks_dir"/*.ndjson 2>/dev/null | wc -l; }
published_at_least() { [ "$(published)" -ge "$1" ]; }

threshold=0
for kill in 1 2; do
    threshold=$((threshold + 300 + RANDOM % 700))
    "$evmtap" "${args[@]}" 2>"$work/run$kill.log" &
    pid=$!
    register_pid "$pid"
    wait_for 60 published_at_least "$threshold" \
        || { cat "$work/run$kill.log" >&2; fail "start $kill: fewer than $threshold blocks in 60 s"; }
    sleep "0.$((RANDOM % 4))"
    kill -0 "$pid" 2>/dev/null \
        || { cat "$work/run$kill.log" >&2; fail "start $kill ended before its SIGKILL"; }
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    log "SIGKILL $kill with $(published) lines in the blocks topic"
    if [ "$kill" -eq 2 ]; then
        grep -q "resuming after block" "$work/run2.log" \
            || { cat "$work/run2.log" >&2; fail "the second start did not resume"; }
    fi
done
pass "killed twice with SIGKILL mid-backfill (after about $threshold blocks)"

rc=0
"$evmtap" "${args[@]}" 2>"$work/run3.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/run3.log" >&2; fail "the third start: exit $rc, want 0"; }
grep -q "resuming after block" "$work/run3.log" || fail "the third start did not resume"
total=$((to + 1))
first_line=$(grep -m1 '^backfill anvil: ' "$work/run3.log")
last_line=$(grep '^backfill anvil: ' "$work/run3.log" | tail -n 1)
[[ "$first_line" =~ ^backfill\ anvil:\ ([0-9]+)/$total\  ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] \
    || fail "the third start's progress does not start with the blocks done: $first_line"
[[ "$last_line" == "backfill anvil: $total/$total 100% "* ]] \
    || fail "the third start's progress does not end at $total/$total 100%: $last_line"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount \
    || fail "after two SIGKILLs and restarts the files differ from the node"
pass "blocks 0..$to and their transactions exactly once after two SIGKILLs, exit 0"

# Finished: said so, exit 0 at once, nothing written.
sums=$(cd "$work/data/topics" && find . -type f -name '*.ndjson' -exec md5sum {} + | sort)
rc=0
timeout 30 "$evmtap" "${args[@]}" 2>"$work/run4.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/run4.log" >&2; fail "a finished backfill: exit $rc, want 0"; }
grep -q "blocks 0..$to are done already" "$work/run4.log" \
    || { cat "$work/run4.log" >&2; fail "a finished backfill does not say so"; }
grep -q '^backfill anvil: ' "$work/run4.log" && fail "a finished backfill started fetching"
[ "$sums" = "$(cd "$work/data/topics" && find . -type f -name '*.ndjson' -exec md5sum {} + | sort)" ] \
    || fail "a finished backfill changed the files"
pass "a finished backfill says so, exits 0 and writes nothing"

# A data dir in use by a run: refused, naming the run and where a backfill goes.
"$evmtap" run --rpc "$ANVIL_URL" --data-dir "$work/head" 2>"$work/head.log" &
head_pid=$!
register_pid "$head_pid"
wait_for 20 grep -qx "$head_pid run" "$work/head/lock" || fail "the run took no lock in 20 s"
rc=0
timeout 30 "$evmtap" backfill --rpc "$ANVIL_URL" --from 0 --to 10 --data-dir "$work/head" \
    2>"$work/busy.log" || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/busy.log" >&2; fail "a backfill on a run's data dir: exit $rc, want 2"; }
grep -q "in use by pid $head_pid, an evmtap run .*its own --data-dir" "$work/busy.log" \
    || { cat "$work/busy.log" >&2; fail "the refusal does not name the run and --data-dir"; }
stop_pid "$head_pid"
pass "a backfill on the data dir of a running evmtap run exits 2 naming it"
