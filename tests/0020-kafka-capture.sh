#!/usr/bin/env bash
# labels: short
# --sink kafka against librdkafka's mock cluster (tests/kafka_mock.c), read back by kcat:
# every block, transaction, decoded log and token transfer (--receipts) of an anvil run
# exactly once per key, the key DESIGN gives it (<txhash>:<logIndex> for logs), the headers
# evmtap-chain-id and evmtap-schema, values byte-equal to the files sink's; the
# same with --format msgpack (decoded by tests/kafka_check.py, not by evmtap). The mock has
# no CreateTopics: evmtap says so and goes on. A second run resumes after the checkpoint
# and publishes nothing again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
start_kafka_mock 3
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 12 --txs-per-block 3 \
    --seed 7 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

# With receipts, so the log and token transfer topics (keys <txhash>:<logIndex>) go too.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --receipts --data-dir "$work/files" \
    2>"$work/files.log" || { cat "$work/files.log" >&2; fail "files sink exited $?"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/files/topics" \
    --chain anvil --from 0 --to "$head" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount,status,gasUsed,cumulativeGasUsed,effectiveGasPrice,contractAddress,blobGasUsed,blobGasPrice \
    >/dev/null || fail "files sink differs from the node"
[ -s "$(ls "$work"/files/topics/anvil.mined.token_transfers/*.ndjson)" ] \
    || fail "the traffic made no token transfer to check"

# JSON values, on a chain named jsonrun so the msgpack run gets topics of its own.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain anvil --sink "kafka:$KAFKA_BROKERS" \
    --receipts --data-dir "$work/kafka" 2>"$work/kafka.log" \
    || { cat "$work/kafka.log" >&2; fail "--sink kafka exited $?"; }
grep -q "does not offer CreateTopics" "$work/kafka.log" \
    || { cat "$work/kafka.log" >&2; fail "the mock cluster's missing CreateTopics was not reported"; }
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" --files "$work/files/topics" \
    --chain-id 31337 || fail "Kafka differs from the files sink"
pass "--sink kafka --receipts: blocks 0..$head once per key (logs and transfers too), headers, values equal to the files sink"

# Nothing to do a second time: the checkpoint moved with the deliveries.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --sink "kafka:$KAFKA_BROKERS" \
    --receipts --data-dir "$work/kafka" 2>"$work/kafka2.log" || fail "second run exited $?"
grep -q "resuming after block $head" "$work/kafka2.log" || { cat "$work/kafka2.log" >&2; fail "no resume from the checkpoint"; }
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" --files "$work/files/topics" \
    --chain-id 31337 >/dev/null || fail "a second run published again"
pass "the checkpoint follows delivery: a second run publishes nothing"

# msgpack values: the files sink's records under another prefix, for topics of their own.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain packed --data-dir "$work/files-packed" \
    2>/dev/null || fail "files sink (packed) exited $?"
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --chain packed --format msgpack \
    --sink "kafka:$KAFKA_BROKERS" --kafka-compression zstd --data-dir "$work/kafka-packed" \
    2>"$work/packed.log" || { cat "$work/packed.log" >&2; fail "--format msgpack exited $?"; }
python3 "$EVMTAP_ROOT/tests/kafka_check.py" --brokers "$KAFKA_BROKERS" \
    --files "$work/files-packed/topics" --chain-id 31337 --msgpack \
    || fail "msgpack values differ from the files sink"
pass "--format msgpack: the same objects, key order kept"
