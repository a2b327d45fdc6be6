#!/usr/bin/env bash
# labels: short
# The Kafka sink when things go wrong (mock cluster, tests/kafka_mock.c; kcat reads back):
# 1. no cluster at the address: a clear error, retries, no crash; SIGTERM then exits 3
#    after --drain-timeout (work left undone), nothing checkpointed;
# 2. every broker down at start, up 4 s later: the run finishes by itself, nothing lost;
# 3. SIGKILL while deliveries lag (300 ms RTT), then a restart: it resumes from the first
#    block not fully delivered; deduplicated by key, Kafka holds every record of the files
#    sink, none missing (at-least-once, stable keys, no gap).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --no-mining
start_kafka_mock 3
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 40 --txs-per-block 4 --mine \
    --seed 11 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

# 1. Nobody listens at the address.
nobody="127.0.0.1:$(free_port)"
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --sink "kafka:$nobody" --drain-timeout 2 \
    --data-dir "$work/nobody" 2>"$work/nobody.log" &
pid=$!
register_pid "$pid"
wait_for 15 grep -q "no broker of $nobody answers" "$work/nobody.log" \
    || { cat "$work/nobody.log" >&2; fail "no clear error when the cluster is unreachable"; }
sleep 2
kill -0 "$pid" 2>/dev/null || fail "evmtap died while the cluster was unreachable"
started=$(date +%s)
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 3 ] || { tail -n 20 "$work/nobody.log" >&2; fail "SIGTERM with the cluster unreachable: exit $rc, want 3"; }
[ $(( $(date +%s) - started )) -le 8 ] || fail "SIGTERM took more than 8 s with a 2 s drain timeout"
grep -q "resuming after" "$work/nobody.log" && fail "a checkpoint existed before the run"
pass "unreachable cluster: clear error, retries, no crash, SIGTERM exit 3"

# 2. Every broker down at start, up 4 s later.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain down --data-dir "$work/files-down" \
    2>/dev/null || fail "files sink exited $?"
kafka_mock down all
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain down --sink "kafka:$KAFKA_BROKERS" \
    --data-dir "$work/down" 2>"$work/down.log" &
pid=$!
register_pid "$pid"
sleep 4
kill -0 "$pid" 2>/dev/null || { cat "$work/down.log" >&2; fail "evmtap ended while the cluster was down"; }
kafka_mock up all
wait_for 60 bash -c "! kill -0 $pid 2>/dev/null" || fail "no end within 60 s after the cluster came up"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/down.log" >&2; fail "cluster down at start: exit $rc"; }
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" --files "$work/files-down/topics" \
    --chain-id 31337 --duplicates-ok || fail "cluster down at start: Kafka differs from the files sink"
pass "cluster down at start then up: every record delivered"

# 3. SIGKILL while deliveries lag, then a restart.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain crash --data-dir "$work/files-crash" \
    2>/dev/null || fail "files sink exited $?"
# Fetching throttled to 5 blocks/s (one worker, --key-rps 5), so that the kill comes in the
# middle of the run however fast the machine delivers.
kafka_mock rtt all 300
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain crash --sink "kafka:$KAFKA_BROKERS" \
    --kafka-linger-ms 0 --workers 1 --key-rps 5 --data-dir "$work/crash" 2>"$work/crash1.log" &
pid=$!
register_pid "$pid"
sleep 5
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
kafka_mock rtt all 0
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain crash --sink "kafka:$KAFKA_BROKERS" \
    --data-dir "$work/crash" 2>"$work/crash2.log" || { tail -n 20 "$work/crash2.log" >&2; fail "restart after SIGKILL exited $?"; }
resumed=$(sed -n 's/.*resuming after block \([0-9]*\).*/\1/p' "$work/crash2.log" | head -n 1)
log "killed with blocks up to ${resumed:-none} checkpointed, of 0..$head"
[ -n "$resumed" ] || fail "the kill came before any block was delivered: nothing tested"
[ "$resumed" -lt "$head" ] || fail "the kill came after every block was delivered: nothing tested"
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" --files "$work/files-crash/topics" \
    --chain-id 31337 --duplicates-ok || fail "after SIGKILL and restart Kafka differs from the files sink"
pass "SIGKILL mid-run and restart: every block and transaction present, no gap"
