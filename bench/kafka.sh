#!/usr/bin/env bash
# Benchmark: the Kafka sink (prints figures, asserts nothing).
#
#   bench/kafka.sh [--build DIR] [--count N] [--duration D] [--txs-per-block K]
#
# 1. Throughput: evmtap_kafka_bench feeds N batches (default 3000) made from the recorded
#    mainnet blocks (../shared/data/blocks/mainnet, normalized and classified as evmtap
#    does) to a broker actor producing into librdkafka's mock cluster (evmtap_kafka_mock,
#    3 brokers on loopback), JSON then msgpack values; the clock stops at FLUSHED: every
#    message delivered and checkpointed. Prints messages/s and MB/s.
# 2. Latency at the head: anvil --block-time 1 with traffic (K transactions per round,
#    default 3), evmtap run --sink kafka --verbose for D seconds (default 60). A watcher
#    polls anvil (eth_blockNumber every 10 ms) for when each block appears; evmtap logs
#    when the delivery report of a block's last message arrives. Prints p50/p99/max of
#    the delay after the first 5 blocks (target: p99 <= 250 ms).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" kafka_bench

BUILD="$ROOT/build/release"
COUNT=3000
DURATION=60
PER_BLOCK=3
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --build) BUILD=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
export EVMTAP_BIN="$BUILD/evmtap"
for tool in evmtap evmtap_kafka_mock evmtap_kafka_bench; do
    [ -x "$BUILD/$tool" ] || fail "$BUILD/$tool not found: run scripts/build release"
done
# shellcheck source=tests/kafka_lib.sh disable=SC1091
source "$ROOT/tests/kafka_lib.sh"
BLOCKS="$EVMTAP_SHARED_DATA/blocks/mainnet"      # set by scripts/env.sh (through lib.sh)
WORK=$(tmpdir)

start_kafka_mock 3
echo "== throughput into the mock cluster ($COUNT mainnet blocks, 3 brokers, loopback)"
"$BUILD/evmtap_kafka_bench" --brokers "$KAFKA_BROKERS" --blocks "$BLOCKS" --count "$COUNT" \
    --data-dir "$WORK/bench-json" 2>"$WORK/bench-json.log"
"$BUILD/evmtap_kafka_bench" --brokers "$KAFKA_BROKERS" --blocks "$BLOCKS" --count "$COUNT" \
    --format msgpack --data-dir "$WORK/bench-msgpack" 2>"$WORK/bench-msgpack.log"

echo "== latency at the head (anvil --block-time 1, $DURATION s)"
start_anvil "$(free_port)" --block-time 1
python3 "$ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks $((DURATION + 20)) \
    --txs-per-block "$PER_BLOCK" --out "$WORK/traffic.jsonl" >/dev/null 2>&1 &
register_pid $!
python3 - "$ANVIL_URL" "$WORK/appear.txt" <<'PY' &
import json, sys, time, urllib.request
url, out = sys.argv[1], open(sys.argv[2], "w", buffering=1)
seen = -1
while True:
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        number = int(json.load(urllib.request.urlopen(req, timeout=2))["result"], 16)
        now = time.time()
        for n in range(seen + 1, number + 1):
            out.write(f"{n} {now * 1000:.1f} {1 if n < number else 0}\n")
        seen = max(seen, number)
    except Exception:
        pass
    time.sleep(0.01)
PY
register_pid $!
sleep 1
"$EVMTAP_BIN" run --rpc "$ANVIL_URL" --sink "kafka:$KAFKA_BROKERS" --verbose \
    --data-dir "$WORK/head" 2>"$WORK/head.log" &
pid=$!
register_pid "$pid"
sleep "$DURATION"
kill -TERM "$pid"
wait "$pid" || true
python3 - "$WORK/appear.txt" "$WORK/head.log" <<'PY'
import re, statistics, sys
appear = {}
for line in open(sys.argv[1]):
    n, t, skipped = line.split()
    if skipped == "0":
        appear.setdefault(int(n), float(t))
delays = []
for line in open(sys.argv[2]):
    m = re.search(r"kafka: \S+ block (\d+) delivered: (\d+) messages, at (\d+) ms", line)
    if m and int(m.group(1)) in appear:
        delays.append((int(m.group(1)), int(m.group(3)) - appear[int(m.group(1))]))
delays = [d for n, d in sorted(delays)[5:]]
if len(delays) < 5:
    print("latency: too few blocks measured"); sys.exit(0)
delays.sort()
p = lambda q: delays[min(len(delays) - 1, int(round(q * (len(delays) - 1))))]
print(f"latency node -> last delivery report: {len(delays)} blocks, p50 {p(0.5):.0f} ms, "
      f"p99 {p(0.99):.0f} ms, max {delays[-1]:.0f} ms (target p99 <= 250 ms)")
PY
