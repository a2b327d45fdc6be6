#!/usr/bin/env bash
# labels: short
# The sink's metrics with Kafka (librdkafka's mock cluster): the last block published is
# the head once delivered, every block handed to the producer has its delivery latency
# observed once (the histogram's count is the blocks published, of every chain the broker
# writes: anvil and the key pool's usage), the producer's queue drains to 0, and the bytes
# go under sink="kafka".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 6 --txs-per-block 2 \
    --seed 5 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_kafka_mock 3
start_evmtap_metrics run --rpc "$ANVIL_URL" --from 0 --sink "kafka:$KAFKA_BROKERS" \
    --data-dir "$work/data"
wait_metric 120 'evmtap_published_block{chain="anvil"}' "$head" \
    || fail "evmtap_published_block never reached $head: $(scrape | grep -v '^#' | head -30)"
pass "with Kafka, the last block published is the head ($head) once delivered"

# Delivered: every handed block observed once, the queue empty. Usage blocks keep coming,
# so the two are read from one scrape that shows nothing outstanding.
delivered_all() {
    scrape >"$work/scrape.txt"
    python3 - "$work/scrape.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def value(pattern):
    return sum(float(v) for v in re.findall(r"^" + pattern + r" (\S+)$", text, re.M))
blocks = value(r'evmtap_published_blocks_total\{chain="[^"]*"\}')
observed = value(r"evmtap_kafka_delivery_seconds_count")
queue = value(r"evmtap_kafka_queue_blocks")
sys.exit(0 if blocks > 0 and blocks == observed and queue == 0 else 1)
PY
}
wait_for 60 delivered_all || fail "deliveries never all observed: $(grep -E 'published_blocks_total|delivery_seconds_count|queue' "$work/scrape.txt")"
grep -qE '^evmtap_sink_written_bytes_total\{sink="kafka"\} [1-9]' "$work/scrape.txt" \
    || fail "no bytes under sink=\"kafka\""
grep -q '^evmtap_kafka_delivery_errors_total' "$work/scrape.txt" && fail "delivery errors on a healthy cluster"
pass "each block's delivery latency observed once, the queue drained, bytes under sink=kafka"
kill -TERM "$EVMTAP_PID"
rc=0; wait "$EVMTAP_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "evmtap exited $rc after SIGTERM"
