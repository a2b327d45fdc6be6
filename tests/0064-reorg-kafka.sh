#!/usr/bin/env bash
# labels: short
# Reorgs through --sink kafka (librdkafka's mock cluster, read back by kcat): a reorg of
# depth 2 with replacement transactions while following (--receipts), then one of depth 3
# while evmtap is stopped. The reorged topic's messages are keyed by block number with the
# evmtap-chain-id and evmtap-schema headers; dropping the messages of orphaned hashes leaves
# the node's chain and every transaction once (tests/reorg_check.py over what kcat read);
# the checkpoint follows the deliveries onto the new branch (a restart walks nothing back).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
start_kafka_mock 3
# dump DIR: every anvil topic as kcat reads it, one NDJSON file per topic under DIR (reorg
# messages by depth and number, which tells this test's two reorgs apart: partitions do not
# keep the order across keys), and DIR/reorged.keys with each reorg message's key and headers.
dump() {
    python3 - "$KAFKA_BROKERS" "$1" "$EVMTAP_ROOT/tests" <<'PY'
import json, os, subprocess, sys
brokers, out, tests = sys.argv[1:4]
sys.path.insert(0, tests)
import kafka_check
meta = json.loads(subprocess.run(["kcat", "-b", brokers, "-L", "-J"], capture_output=True,
                                 check=True, timeout=60).stdout)
for topic in sorted(t["topic"] for t in meta["topics"] if t["topic"].startswith("anvil.")):
    messages = kafka_check.consume(brokers, topic)
    values = [json.loads(value) for _, _, value in messages]
    if topic.endswith(".reorged"):
        order = sorted(range(len(values)), key=lambda i: (values[i]["depth"], values[i]["number"]))
        messages, values = [messages[i] for i in order], [values[i] for i in order]
        with open(os.path.join(out, "reorged.keys"), "w") as keys:
            for key, headers, _ in messages:
                keys.write(f"{key} {headers.get('evmtap-chain-id')} {headers.get('evmtap-schema')}\n")
    os.makedirs(os.path.join(out, topic), exist_ok=True)
    with open(os.path.join(out, topic, "all.ndjson"), "w") as lines:
        for value in values:
            lines.write(json.dumps(value) + "\n")
PY
}
in_kafka() {
    kcat -b "$KAFKA_BROKERS" -C -t anvil.mined.blocks.metadata -o beginning -e -q -f '%s\n' 2>/dev/null \
        | grep -q "\"hash\":\"$1\""
}
follow() {
    "$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --receipts --workers 2 \
        --sink "kafka:$KAFKA_BROKERS" --data-dir "$work/k" 2>"$work/$1.log" &
    pid=$!
    register_pid "$pid"
}

for value in 1 2 3; do send_tx "$value"; done
: >"$work/expected.jsonl"
follow first
wait_for 30 in_kafka "$(node_hash latest)" || { tail -20 "$work/first.log" >&2; fail "the head not in Kafka within 30 s"; }
reorg_at 2 "$work/expected.jsonl" with
send_tx 4
wait_for 30 in_kafka "$(node_hash latest)" || { tail -20 "$work/first.log" >&2; fail "the new branch not in Kafka within 30 s"; }
stop_run "$pid" "$work/first.log"
reorg_at 3 "$work/expected.jsonl" with
send_tx 5
follow second
wait_for 30 in_kafka "$(node_hash latest)" || { tail -20 "$work/second.log" >&2; fail "the restart's branch not in Kafka within 30 s"; }
stop_run "$pid" "$work/second.log"
grep -q "walking back" "$work/second.log" || fail "the restart did not find the reorg"

mkdir -p "$work/read"
dump "$work/read"
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/read" \
    --chain anvil --to "$(node_number latest)" --expect "$work/expected.jsonl" \
    || fail "what Kafka holds, orphans dropped, is not the node's chain"
want=$(jq -r '"\(.number) 31337 mined.blocks.reorged/v1"' "$work/expected.jsonl" | sort)
[ "$(sort "$work/read/reorged.keys")" = "$want" ] \
    || fail "reorg messages' keys and headers: $(cat "$work/read/reorged.keys"), want $want"
pass "Kafka: reorgs while following and while stopped announced (keys, headers), the node's chain once orphans are dropped"

send_tx 6
follow third
wait_for 30 in_kafka "$(node_hash latest)" || { tail -20 "$work/third.log" >&2; fail "the third run's block not in Kafka"; }
stop_run "$pid" "$work/third.log"
grep -q "walking back" "$work/third.log" && fail "the third start walked back: the checkpoint kept an orphan"
pass "Kafka: the checkpoint followed the deliveries onto the new branch"
