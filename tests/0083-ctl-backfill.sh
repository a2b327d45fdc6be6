#!/usr/bin/env bash
# labels: short
# `evmtap ctl BACKFILL A B` inside a running coordinator: the run follows the head from
# block 40 while the backfill publishes 0..39 beside it, to the same topics and data dir
# (its own checkpoint stream, anvil@0-39). STATUS shows it while it runs; a coordinator
# stopped in the middle and started again resumes it with the same command (no gap, no
# duplicate); done, the same command says so; a range that reaches the run's own blocks
# or an earlier range's is refused (exit 1). In the end every block 0..head is in the files exactly once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 60 --txs-per-block 2 \
    --seed 83 --mine --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
[ "$head" -ge 60 ] || fail "traffic.py mined $head blocks, not 60"

# Four keys at 3 requests a second each: two for the run's workers, two for the
# backfill's (a worker leases a key of the chain like any other); the backfill takes
# seconds, so that it can be stopped in the middle.
export EVMTAP_KEY_B1=backfillSecret1 EVMTAP_KEY_B2=backfillSecret2 EVMTAP_KEY_B3=backfillSecret3 \
    EVMTAP_KEY_B4=backfillSecret4
start_run() {    # start_run LOG [FLAGS...]: sets RUN_PID
    "$evmtap" run --rpc "$ANVIL_URL/?key={key}" --keys b1,b2,b3,b4 --key-rps 3 --workers 2 \
        --data-dir "$work/data" "${@:2}" 2>"$work/$1" &
    RUN_PID=$!
    register_pid "$RUN_PID"
}
ctl() { "$evmtap" ctl --data-dir "$work/data" --timeout 30 "$@"; }
numbers() {    # every block number in the files, one a line
    cat "$work"/data/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | jq .number
}
published_max() { [ "$(numbers | sort -n | tail -n 1)" = "$1" ]; }
backfilled_past() { [ "$(numbers | awk '$1 < 40' | wc -l)" -gt "$1" ]; }
backfill_running() { ctl --json STATUS | jq -e '.chains[0].backfill != null' >/dev/null; }
backfill_ended() { ctl --json STATUS | jq -e '.chains[0].backfill == null' >/dev/null; }
stop_run() {
    kill -TERM "$RUN_PID"
    local rc=0
    wait "$RUN_PID" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 20 "$work/$1" >&2; fail "the run exited $rc on SIGTERM"; }
}

start_run run1.log --from 40
wait_for 60 published_max "$head" || { tail -n 20 "$work/run1.log" >&2; fail "the run did not reach $head"; }
ctl BACKFILL 0 39 >"$work/ctl1.out" || fail "BACKFILL 0 39 exited $?"
grep -q '^backfill started: blocks 0 to 39 (stream anvil@0-39)$' "$work/ctl1.out" \
    || fail "BACKFILL 0 39: $(cat "$work/ctl1.out")"
ctl --json STATUS >"$work/status.json"
jq -e '.chains[0].backfill | .stream == "anvil@0-39" and .from == 0 and .to == 39
       and (.next | type) == "number"' "$work/status.json" >/dev/null \
    || fail "STATUS --json shows no backfill: $(cat "$work/status.json")"
ctl STATUS | grep -q '^  backfill anvil@0-39: next block [0-9]* of 0\.\.39$' \
    || fail "STATUS text shows no backfill"
pass "BACKFILL 0 39 starts beside the head; STATUS shows it"

wait_for 60 backfilled_past 8 || fail "the backfill published nothing within 60 s"
stop_run run1.log
backfilled=$(numbers | awk '$1 < 40' | wc -l)
[ "$backfilled" -lt 40 ] || fail "the backfill was done before the stop: the test cannot see a resume"

start_run run2.log
wait_for 60 ctl STATUS >/dev/null || fail "the coordinator did not answer again"
ctl BACKFILL 0 39 >"$work/ctl2.out" || fail "BACKFILL 0 39 again exited $?"
grep -q '^backfill resumed: blocks [0-9]* to 39 (stream anvil@0-39)$' "$work/ctl2.out" \
    || fail "BACKFILL 0 39 after the restart: $(cat "$work/ctl2.out")"
wait_for 90 backfill_ended \
    || fail "the backfill did not end within 90 s"
grep -q "control: backfill anvil@0-39 done at block 39" "$work/run2.log" \
    || { tail -n 20 "$work/run2.log" >&2; fail "the log does not say the backfill is done"; }
pass "stopped after $backfilled blocks and resumed by the same command"

ctl BACKFILL 0 39 | grep -q '^backfill anvil@0-39 is published already (up to block 39)$' \
    || fail "BACKFILL 0 39 once done"
ctl --json BACKFILL 0 39 | jq -e '.ok == true and .started == false
    and .message == "anvil@0-39 is published already (up to block 39)"' >/dev/null \
    || fail "BACKFILL 0 39 --json once done"
rc=0; ctl BACKFILL 30 "$head" 2>"$work/refused.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "is the run's to publish" "$work/refused.err" \
    || fail "BACKFILL over the run's own blocks: exit $rc, $(cat "$work/refused.err")"
rc=0; ctl BACKFILL 30 45 2>"$work/overlap.err" || rc=$?
[ "$rc" -eq 1 ] || fail "BACKFILL 30 45: exit $rc"
rc=0; ctl BACKFILL 30 35 2>"$work/overlap.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "blocks 30..35 are anvil@0-39's" "$work/overlap.err" \
    || fail "BACKFILL inside a finished range: exit $rc, $(cat "$work/overlap.err")"
pass "a finished range is said so; one that reaches the run's blocks or another range's is refused (exit 1)"

stop_run run2.log
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$head" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount \
    || fail "the files are not blocks 0..$head exactly once"
pass "every block 0..$head once: the backfill's and the run's, in one data dir"
