#!/usr/bin/env bash
# labels: short
# --receipts against anvil with tests/traffic.py's mix (token transfers and approvals,
# Counter events with strings, bytes and tuples, Factory creations, reverted calls), the
# test contracts' ABIs bound by addresses.json. Checked against the node's own
# eth_getTransactionReceipt answers (evmtap asks eth_getBlockReceipts) and cast:
#   * every transaction record carries its receipt's status, gasUsed, cumulativeGasUsed,
#     effectiveGasPrice and contractAddress, and no logs or logsBloom;
#   * mined.logs.decoded has one record per log, keys <txhash>:<logIndex> in block order;
#     every log of a bound contract is decoded by its ABI, the event's topic0 is cast's
#     `sig-event` of its signature, non-indexed arguments equal `cast decode-abi`'s and
#     indexed ones the topics;
#   * mined.token_transfers equals the ERC-20 Transfer logs computed here from the receipts;
#   * transactions, decoded logs and token transfers carry the node's blockHash;
#   * --fetch hashes --receipts writes byte-identical files, and so does a node that answers
#     -32601 to eth_getBlockReceipts (tests/badrpc.py --refuse): receipts by transaction.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 12 --txs-per-block 5 \
    --seed 11 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
test_contract_abis "$work/abis" "$work/sent.jsonl"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --receipts --abis "$work/abis" \
    --data-dir "$work/block" 2>"$work/block.log" \
    || { tail -n 20 "$work/block.log" >&2; fail "evmtap run --receipts exited $?"; }

python3 - "$ANVIL_URL" "$work/block/topics" "$work/sent.jsonl" "$work/abis" "$(command -v cast)" <<'PY' \
    || fail "receipt fields, decoded logs or token transfers differ from the node and cast"
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["EVMTAP_ROOT"], "tests"))
from decode_check import plain  # noqa: E402
from logs_check import cast_decode  # noqa: E402
import verify  # noqa: E402

url, topics, sent_path, abis, cast = sys.argv[1:]
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
LOGS, TRANSFERS = "mined.logs.decoded", "mined.token_transfers"
problems = []

loaded = verify.load_topics(topics, "anvil", list(verify.TX_TOPICS.values()) + [LOGS, TRANSFERS],
                            problems)
def records(topic):
    return [record.value for record in loaded[topic]]

txs = {}
for topic in verify.TX_TOPICS.values():
    for record in records(topic):
        txs[record["hash"]] = record
sent = [json.loads(line) for line in open(sent_path)]
receipts = dict(zip((s["hash"] for s in sent), verify.rpc_batch(
    url, [("eth_getTransactionReceipt", [s["hash"]]) for s in sent], timeout=10)))

# Receipt fields on every transaction.
reverted = 0
for hash, receipt in receipts.items():
    tx = txs.get(hash)
    if tx is None:
        problems.append("%s: no transaction record" % hash)
        continue
    want = {"status": int(receipt["status"], 16), "gasUsed": int(receipt["gasUsed"], 16),
            "cumulativeGasUsed": int(receipt["cumulativeGasUsed"], 16),
            "effectiveGasPrice": str(int(receipt["effectiveGasPrice"], 16)),
            "contractAddress": receipt["contractAddress"] and receipt["contractAddress"].lower(),
            "blockHash": receipt["blockHash"].lower()}
    for field, value in want.items():
        if tx.get(field, "absent") != value:
            problems.append("%s: %s %r, the node %r" % (hash, field, tx.get(field, "absent"), value))
    for field in ("logs", "logsBloom", "transactionHash"):
        if field in tx:
            problems.append("%s: carries the receipt's %s" % (hash, field))
    reverted += want["status"] == 0
if not reverted:
    problems.append("the traffic made no reverted transaction to check status 0 with")

# One decoded record per log, in block order.
logs = sorted((log for r in receipts.values() for log in r["logs"]),
              key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))
decoded = records(LOGS)
keys = ["%s:%d" % (log["transactionHash"], int(log["logIndex"], 16)) for log in logs]
got = ["%s:%d" % (d["hash"], d["logIndex"]) for d in decoded]
if keys != got:
    problems.append("decoded log keys differ: %d logs, %d records" % (len(keys), len(got)))
for log, record in zip(logs, decoded):
    if record.get("blockHash") != log["blockHash"].lower():
        problems.append("log %s:%d: blockHash %s, the node %s" % (
            record["hash"], record["logIndex"], record.get("blockHash"), log["blockHash"]))

# Bound contracts' logs decode by their ABI; their events' topics are cast's.
addresses = json.load(open(os.path.join(abis, "addresses.json")))
events = {}
for address, name in addresses.items():
    for entry in json.load(open(os.path.join(abis, name)))["abi"]:
        if entry.get("type") == "event":
            signature = "%s(%s)" % (entry["name"], ",".join(i["type"] for i in entry["inputs"]))
            topic = subprocess.run([cast, "sig-event", signature], check=True,
                                   capture_output=True, text=True).stdout.strip().lower()
            events[(address, topic)] = (name, entry)
checked = 0
for log, record in zip(logs, decoded):
    address, topic0 = log["address"].lower(), log["topics"][0].lower()
    if (address, topic0) not in events:
        continue
    name, entry = events[(address, topic0)]
    where = "log %s:%d" % (record["hash"], record["logIndex"])
    if record["decoding"] != "decoded" or record["source"] != "abi:" + name \
            or record["event"] != entry["name"] or record["topic0"] != topic0:
        problems.append("%s: %s" % (where, json.dumps(record)[:300]))
        continue
    inputs = [i for i in entry["inputs"] if not i["indexed"]]
    if inputs:
        types = [i["type"] for i in inputs]
        theirs = cast_decode(cast, types, log["data"])
        ours = [plain(record["args"][i["name"]]) for i in inputs]
        if theirs != ours:
            problems.append("%s: f(%s): evmtap %s, cast %s" % (where, ",".join(types), ours, theirs))
    for position, param in enumerate(i for i in entry["inputs"] if i["indexed"]):
        topic = log["topics"][position + 1].lower()
        want = "0x" + topic[-40:] if param["type"] == "address" else \
            str(int(topic, 16)) if param["type"].startswith("uint") else topic
        if record["args"][param["name"]] != want:
            problems.append("%s: indexed %s %r, topic says %r"
                            % (where, param["name"], record["args"][param["name"]], want))
    checked += 1
if not checked:
    problems.append("no log of a bound contract to check")

# Token transfers, computed from the receipts.
want = []
for log in logs:
    t = [x.lower() for x in log["topics"]]
    if t and t[0] == TRANSFER and len(t) == 3 and len(log["data"]) == 66:
        want.append({"hash": log["transactionHash"], "blockHash": log["blockHash"].lower(),
                     "logIndex": int(log["logIndex"], 16),
                     "token": log["address"].lower(), "standard": "erc20",
                     "from": "0x" + t[1][-40:], "to": "0x" + t[2][-40:],
                     "value": str(int(log["data"], 16))})
transfers = [{k: r.get(k) for k in ("hash", "blockHash", "logIndex", "token", "standard", "from",
                                    "to", "value")}
             for r in records(TRANSFERS)]
if transfers != want or not want:
    problems.append("token transfers: %d records, %d Transfer logs" % (len(transfers), len(want)))

for p in problems[:20]:
    print(p, file=sys.stderr)
print("%d transactions (%d reverted), %d logs (%d of bound contracts checked against cast), "
      "%d token transfers" % (len(receipts), reverted, len(logs), checked, len(transfers)))
sys.exit(1 if problems else 0)
PY
pass "receipt fields, one decoded log per log (ABI decoding equal to cast), token transfers"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --receipts --fetch hashes \
    --abis "$work/abis" --data-dir "$work/hashes" 2>"$work/hashes.log" \
    || fail "evmtap run --receipts --fetch hashes exited $?"
diff -r -x .evmtap-id "$work/block/topics" "$work/hashes/topics" >/dev/null \
    || fail "--fetch hashes --receipts wrote other records than --fetch block --receipts"
pass "--fetch hashes --receipts: the same files"

# A node without eth_getBlockReceipts (-32601): each worker says so once and asks
# eth_getTransactionReceipt in batches instead; the files are the same.
start_badrpc "$ANVIL_URL" --fault-rate 0 --refuse eth_getBlockReceipts
"$evmtap" run --rpc "$BADRPC_URL" --from 0 --to "$head" --receipts --workers 2 \
    --abis "$work/abis" --data-dir "$work/fallback" 2>"$work/fallback.log" \
    || { tail -n 20 "$work/fallback.log" >&2; fail "evmtap run through a node without eth_getBlockReceipts exited $?"; }
diff -r -x .evmtap-id "$work/block/topics" "$work/fallback/topics" >/dev/null \
    || fail "the eth_getTransactionReceipt fallback wrote other records"
stats=$(curl -sS --max-time 5 "$BADRPC_URL/stats")
refused=$(jq '.methods.eth_getBlockReceipts // 0' <<<"$stats")
by_tx=$(jq '.methods.eth_getTransactionReceipt // 0' <<<"$stats")
txs=$(wc -l <"$work/sent.jsonl")
said=$(grep -c "no eth_getBlockReceipts" "$work/fallback.log" || true)
[ "$refused" -ge 1 ] && [ "$refused" -le 2 ] && [ "$by_tx" = "$txs" ] && [ "$said" = "$refused" ] \
    || fail "fallback: $refused eth_getBlockReceipts refused, $by_tx eth_getTransactionReceipt for $txs transactions, said $said times"
pass "no eth_getBlockReceipts: $refused refused (one per worker), $by_tx eth_getTransactionReceipt, the same files"
