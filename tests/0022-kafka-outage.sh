#!/usr/bin/env bash
# labels: long
# Following a live anvil (--block-time 1, traffic) into the mock cluster with a small
# producer queue (100 messages, 512 KB) and a 20 s message timeout; every broker goes down
# for 60 s mid-run, then up. While down: evmtap keeps running, says the cluster is down and
# that deliveries timed out (they are produced again), its RSS (VmRSS, sampled every second)
# stays bounded. Once up: it catches up by itself and SIGTERM drains with exit 0.
# Deduplicated by key, Kafka then holds every record the files sink has for the same blocks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
OUTAGE=${KAFKA_OUTAGE_SECONDS:-60}

start_anvil "$(free_port)" --block-time 1
start_kafka_mock 3
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks $((OUTAGE + 60)) \
    --txs-per-block 3 --seed 5 --out "$work/sent.jsonl" >/dev/null 2>&1 &
traffic=$!
register_pid "$traffic"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --sink "kafka:$KAFKA_BROKERS" --data-dir "$work/kafka" \
    --kafka-queue-messages 100 --kafka-queue-kbytes 512 --kafka-message-timeout-ms 20000 \
    --drain-timeout 20 2>"$work/kafka.log" &
pid=$!
register_pid "$pid"
( while kill -0 "$pid" 2>/dev/null; do
      echo "$(date +%s) $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
      sleep 1
  done ) >"$work/rss.txt" 2>/dev/null &
register_pid $!

blocks_in_kafka() {
    kcat -b "$KAFKA_BROKERS" -C -t anvil.mined.blocks.metadata -o beginning -e -q -f '%k\n' 2>/dev/null \
        | sort -n | tail -n 1
}
kafka_past() { [ "$(blocks_in_kafka || echo -1)" -ge "$1" ]; }
wait_for 30 kafka_past 5 || { tail -n 20 "$work/kafka.log" >&2; fail "nothing delivered within 30 s"; }
sleep 5
before_rss=$(awk '$2 != "" {print $2}' "$work/rss.txt" | sort -n | tail -n 1)

kafka_mock down all
log "cluster down for $OUTAGE s at block $(( $(rpc "$ANVIL_URL" eth_blockNumber) ))"
sleep "$OUTAGE"
kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/kafka.log" >&2; fail "evmtap died while the cluster was down"; }
grep -q "no broker of .* answers" "$work/kafka.log" || fail "the outage was not reported"
grep -q "failed: Local: Message timed out; produced again" "$work/kafka.log" \
    || fail "no delivery timed out and was produced again during the outage"
up_head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
kafka_mock up all
log "cluster up at block $up_head"
wait_for 90 kafka_past "$up_head" || { tail -n 20 "$work/kafka.log" >&2; fail "no catch-up to block $up_head within 90 s"; }
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/kafka.log" >&2; fail "SIGTERM after the outage: exit $rc"; }

max_rss=$(awk '$2 != "" {print $2}' "$work/rss.txt" | sort -n | tail -n 1)
log "VmRSS: $before_rss kB before the outage, at most $max_rss kB"
[ $((max_rss - before_rss)) -le 65536 ] || fail "RSS grew by $((max_rss - before_rss)) kB during the outage"
pass "cluster down $OUTAGE s: evmtap waited, RSS $before_rss -> at most $max_rss kB"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$up_head" --data-dir "$work/files" 2>/dev/null \
    || fail "files sink exited $?"
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" --files "$work/files/topics" \
    --chain-id 31337 --to "$up_head" --duplicates-ok || fail "records lost in the outage"
pass "blocks 0..$up_head all in Kafka after the outage, nothing lost"
