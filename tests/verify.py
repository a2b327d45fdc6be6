#!/usr/bin/env python3
"""Independent checker of evmtap's files sink against the node itself.

    python3 tests/verify.py --rpc URL --topics DIR --chain anvil --from A --to B
                            [--sent FILE] [--allow-extra FIELD,...] [--max-problems 20]

It fetches every block A..B with eth_getBlockByNumber(n, true) and checks the NDJSON files
DIR/<chain>.<topic>/<YYYY-MM-DD>.ndjson of the topics

    mined.blocks.metadata, mined.txs.hash.ids, mined.tx.1.native_token_transfer,
    mined.tx.2.contract_deployment, mined.tx.3.contract_interaction

against DESIGN.md ("Interfaces"), and of the records made from them

    mined.tx.3.contract_interaction.decoded, mined.logs.decoded, mined.token_transfers

(when present) only where they name their block:

* every record of every chain topic names its block by hash, so that a consumer drops an
  orphaned block's records by its hash alone: `hash` for a block, `blockHash` for every other
  record, equal to the node's hash of the block at the record's blockNumber (and, for the
  records made from a transaction or log, the block its transaction is in);

* every block A..B is in mined.blocks.metadata exactly once; every transaction of those
  blocks is exactly once in mined.txs.hash.ids and exactly once in the three tx topics, in
  the topic the classifier gives (to null or absent -> 2; input "0x" -> 1; else 3);
* no record for a block outside A..B or for a transaction the node does not have there;
* a tx record has every field of the node's transaction with the value converted by DESIGN's
  "JSON fields" rules (JSON numbers for the 53-bit fields, decimal strings for the other
  quantities, lowercase 0x hex for the rest, `type` 0 when absent, `to` null for a
  deployment), `chainId` = the chain's id and `blockHash` = its block's; no field the node does not have except those
  allowed (chainId, plus --allow-extra);
* a block record has at least number, hash, parentHash, timestamp and chainId, and every
  field it has equals the node's converted one (`transactions`, when present, is the list of
  the block's transaction hashes); a hash-id record has hash, blockHash and chainId, and every other
  field it has equals the transaction's converted one;
* a file's day (YYYY-MM-DD) is the UTC day of the block's timestamp; every line is one JSON
  object and every file ends with a newline;
* with --sent (tests/traffic.py output), every sent hash is in the topic of its intended kind.

Prints a summary; on problems prints the first 20 and exits 1. Exit 2 on usage errors or
when the node cannot be reached. Python 3 standard library only; the functions are meant to
be reused (fetch_blocks, load_topics, expected_tx, expected_block, check).
"""

import argparse
import datetime
import json
import os
import re
import sys
import urllib.error
import urllib.request

BLOCKS_TOPIC = "mined.blocks.metadata"
HASHES_TOPIC = "mined.txs.hash.ids"
TX_TOPICS = {
    "native_token_transfer": "mined.tx.1.native_token_transfer",
    "contract_deployment": "mined.tx.2.contract_deployment",
    "contract_interaction": "mined.tx.3.contract_interaction",
}
ALL_TOPICS = [BLOCKS_TOPIC, HASHES_TOPIC] + list(TX_TOPICS.values())
# Made by the decoder from the records above; their own fields are checked elsewhere
# (decode_check.py, logs_check.py), their place in the chain here.
DERIVED_TOPICS = [
    "mined.tx.3.contract_interaction.decoded", "mined.logs.decoded", "mined.token_transfers",
]
CHAIN_TOPICS = ALL_TOPICS + DERIVED_TOPICS

# DESIGN "JSON fields": integers that always fit in 53 bits are JSON numbers. blockTimestamp
# (a timestamp some nodes add to transactions) is counted with them.
NUMBER_FIELDS = {
    "number", "blockNumber", "timestamp", "blockTimestamp", "transactionIndex", "logIndex",
    "nonce", "gas", "gasLimit", "gasUsed", "cumulativeGasUsed", "blobGasUsed",
    "excessBlobGas", "size", "type", "status", "chainId",
}
# Every other quantity is a decimal string.
DECIMAL_FIELDS = {
    "value", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas",
    "baseFeePerGas", "effectiveGasPrice", "blobGasPrice", "difficulty", "totalDifficulty",
    "mint", "l1Fee", "l1GasPrice", "l1GasUsed", "l1BaseFeeScalar", "l1BlobBaseFee",
    "l1BlobBaseFeeScalar", "depositNonce", "depositReceiptVersion",
}
BLOCK_REQUIRED = ("number", "hash", "parentHash", "timestamp", "chainId")
HASH_ID_REQUIRED = ("hash", "blockHash", "chainId")

DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.ndjson$")
DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


# --- node -------------------------------------------------------------------------------------

class NodeError(Exception):
    pass


def rpc_batch(url, calls, timeout=60):
    """Sends [(method, params)] as one JSON-RPC batch; returns the results in order."""
    payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
               for i, (m, p) in enumerate(calls)]
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answers = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise NodeError("%s: %s" % (url, e)) from e
    if not isinstance(answers, list):
        raise NodeError("%s: batch answer is not a list: %.200r" % (url, answers))
    by_id = {a.get("id"): a for a in answers}
    results = []
    for i, (m, _) in enumerate(calls):
        a = by_id.get(i)
        if a is None or "error" in a:
            raise NodeError("%s: %s" % (m, a.get("error") if a else "no answer"))
        results.append(a.get("result"))
    return results


def chain_id(url):
    return int(rpc_batch(url, [("eth_chainId", [])])[0], 16)


def fetch_blocks(url, first, last, batch=50):
    """Returns {number: block with full transactions} for first..last (all must exist)."""
    blocks = {}
    for start in range(first, last + 1, batch):
        numbers = list(range(start, min(last, start + batch - 1) + 1))
        results = rpc_batch(url, [("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        for n, b in zip(numbers, results):
            if b is None:
                raise NodeError("block %d does not exist on the node" % n)
            blocks[n] = b
    return blocks


# --- DESIGN's conversion rules -------------------------------------------------------------

def classify(tx):
    """DESIGN's classifier: the kind of a node transaction."""
    if tx.get("to") is None:
        return "contract_deployment"
    if tx.get("input", tx.get("data")) in ("0x", ""):
        return "native_token_transfer"
    return "contract_interaction"


def _lower(value):
    """Lowercases every string inside a value (pass-through fields)."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [_lower(v) for v in value]
    if isinstance(value, dict):
        return {k: _lower(v) for k, v in value.items()}
    return value


def convert(field, value, in_block=False):
    """The value DESIGN expects in a record for a node field (hex JSON-RPC value)."""
    if value is None:
        return None
    if field == "nonce" and in_block:
        return value.lower()  # the block nonce is 64-bit: hex
    if field in NUMBER_FIELDS and isinstance(value, str):
        return int(value, 16)
    if field in DECIMAL_FIELDS and isinstance(value, str):
        return str(int(value, 16))
    return _lower(value)


def expected_tx(tx, chain, block=None):
    """The tx-topic record DESIGN expects for a node transaction; with its block, the
    block's hash as blockHash (also where the node leaves it out)."""
    exp = {k: convert(k, v) for k, v in tx.items()}
    exp.setdefault("type", 0)
    exp.setdefault("to", None)
    exp["chainId"] = chain
    if block is not None:
        exp["blockHash"] = block["hash"].lower()
    return exp


def expected_block(block, chain):
    """The block-metadata fields DESIGN expects (transactions as the list of hashes)."""
    exp = {k: convert(k, v, in_block=True) for k, v in block.items() if k != "transactions"}
    exp["transactions"] = [t["hash"].lower() if isinstance(t, dict) else t.lower()
                           for t in block.get("transactions", [])]
    exp["chainId"] = chain
    return exp


def utc_day(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")


def type_problem(field, value, in_block=False):
    """Checks a record value's JSON type by DESIGN; returns a message or None."""
    if value is None:
        return None
    if field == "nonce" and in_block:
        kind = "hex"
    elif field in NUMBER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            return "%s must be a JSON integer, is %s" % (field, json.dumps(value))
        return None
    elif field in DECIMAL_FIELDS:
        if not isinstance(value, str) or not DECIMAL.match(value):
            return "%s must be a decimal string, is %s" % (field, json.dumps(value))
        return None
    else:
        kind = "hex"
    if kind == "hex" and isinstance(value, str):
        if value != value.lower():
            return "%s must be lowercase, is %s" % (field, value)
    return None


# --- the files sink ------------------------------------------------------------------------

class Record:
    """One NDJSON line: where it is and what it says."""
    __slots__ = ("topic", "path", "line", "day", "value")

    def __init__(self, topic, path, line, day, value):
        self.topic, self.path, self.line, self.day, self.value = topic, path, line, day, value

    def where(self):
        return "%s:%d" % (self.path, self.line)


def load_topics(topics_dir, chain, topics=ALL_TOPICS, problems=None):
    """Reads DIR/<chain>.<topic>/*.ndjson; returns {topic: [Record]} and appends format
    problems (bad file names, bad JSON, blank lines, missing final newline) to problems."""
    if problems is None:
        problems = []
    out = {}
    for topic in topics:
        out[topic] = []
        tdir = os.path.join(topics_dir, "%s.%s" % (chain, topic))
        if not os.path.isdir(tdir):
            continue
        for name in sorted(os.listdir(tdir)):
            path = os.path.join(tdir, name)
            m = DAY_FILE.match(name)
            if not m:
                problems.append("%s: not a <YYYY-MM-DD>.ndjson file" % path)
                continue
            with open(path, "rb") as f:
                data = f.read()
            if data and not data.endswith(b"\n"):
                problems.append("%s: does not end with a newline (partial line)" % path)
            lines = data.split(b"\n")
            for i, raw in enumerate(lines, 1):
                if not raw.strip():
                    if i < len(lines):    # not the end after the final newline
                        problems.append("%s:%d: blank line" % (path, i))
                    continue
                try:
                    value = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as e:
                    problems.append("%s:%d: not JSON: %s" % (path, i, e))
                    continue
                if not isinstance(value, dict):
                    problems.append("%s:%d: not a JSON object" % (path, i))
                    continue
                out[topic].append(Record(topic, path, i, m.group(1), value))
    return out


# --- the checks -------------------------------------------------------------------------------

def _compare(rec, exp, fields, what, problems, in_block=False):
    for k in fields:
        got = rec.value.get(k)
        p = type_problem(k, got, in_block)
        if p:
            problems.append("%s: %s %s" % (rec.where(), what, p))
        elif got != exp[k] or type(got) is not type(exp[k]):
            problems.append("%s: %s field %s is %s, node says %s" % (
                rec.where(), what, k, json.dumps(got), json.dumps(exp[k])))


def check(blocks, records, chain, first, last, sent=None, allow_extra=(), name="anvil"):
    """Checks the records ({topic: [Record]}) against the node's blocks ({number: block})
    for first..last; chain is the chain id, name the topic prefix. Returns (problems,
    summary)."""
    problems = []
    full = lambda topic: "%s.%s" % (name, topic)
    allowed = {"chainId"} | set(allow_extra)
    txs = {}        # hash -> (tx, block)
    for n in range(first, last + 1):
        for tx in blocks[n]["transactions"]:
            txs[tx["hash"].lower()] = (tx, blocks[n])

    # Blocks.
    seen_blocks = {}
    for rec in records[BLOCKS_TOPIC]:
        v = rec.value
        num = v.get("number")
        if not isinstance(num, int) or isinstance(num, bool):
            problems.append("%s: block record without an integer number: %.120s"
                            % (rec.where(), json.dumps(v)))
            continue
        if num < first or num > last:
            problems.append("%s: block %d is outside %d..%d" % (rec.where(), num, first, last))
            continue
        if num in seen_blocks:
            problems.append("%s: block %d again (first at %s)"
                            % (rec.where(), num, seen_blocks[num].where()))
            continue
        seen_blocks[num] = rec
        exp = expected_block(blocks[num], chain)
        missing = [k for k in BLOCK_REQUIRED if k not in v]
        if missing:
            problems.append("%s: block %d lacks %s" % (rec.where(), num, ", ".join(missing)))
        if v.get("verified") not in ("full", "header", "none"):
            problems.append("%s: block %d: verified is %r, not full, header or none"
                            % (rec.where(), num, v.get("verified")))
        extra = sorted(k for k in v if k not in exp and k not in allowed and k != "verified")
        if extra:
            problems.append("%s: block %d has fields the node does not: %s"
                            % (rec.where(), num, ", ".join(extra)))
        _compare(rec, exp, [k for k in v if k in exp], "block %d" % num, problems,
                 in_block=True)
        day = utc_day(exp["timestamp"])
        if rec.day != day:
            problems.append("%s: block %d is in day file %s, its timestamp's UTC day is %s"
                            % (rec.where(), num, rec.day, day))
    for n in range(first, last + 1):
        if n not in seen_blocks:
            problems.append("block %d is missing from %s" % (n, full(BLOCKS_TOPIC)))

    # Hash ids.
    seen_ids = {}
    for rec in records[HASHES_TOPIC]:
        v = rec.value
        h = v.get("hash")
        if isinstance(h, str) and h != h.lower():
            problems.append("%s: hash id %s must be lowercase" % (rec.where(), h))
            continue
        if not isinstance(h, str) or h not in txs:
            problems.append("%s: hash id %s is not a transaction of blocks %d..%d"
                            % (rec.where(), json.dumps(h), first, last))
            continue
        if h in seen_ids:
            problems.append("%s: hash id %s again (first at %s)" % (rec.where(), h, seen_ids[h].where()))
            continue
        seen_ids[h] = rec
        tx, block = txs[h]
        exp = expected_tx(tx, chain, block)
        missing = [k for k in HASH_ID_REQUIRED if k not in v]
        if missing:
            problems.append("%s: hash id %s lacks %s" % (rec.where(), h, ", ".join(missing)))
        extra = sorted(k for k in v if k not in exp and k not in allowed)
        if extra:
            problems.append("%s: hash id %s has fields the node does not: %s"
                            % (rec.where(), h, ", ".join(extra)))
        _compare(rec, exp, [k for k in v if k in exp], "hash id %s" % h, problems)
        day = utc_day(int(block["timestamp"], 16))
        if rec.day != day:
            problems.append("%s: hash id %s is in day file %s, its block's UTC day is %s"
                            % (rec.where(), h, rec.day, day))

    # Transactions.
    seen_txs = {}
    per_topic = {}
    for kind, topic in TX_TOPICS.items():
        per_topic[topic] = 0
        for rec in records[topic]:
            v = rec.value
            h = v.get("hash")
            if isinstance(h, str) and h != h.lower():
                problems.append("%s: tx %s must be lowercase" % (rec.where(), h))
                continue
            if not isinstance(h, str) or h not in txs:
                problems.append("%s: tx %s is not a transaction of blocks %d..%d"
                                % (rec.where(), json.dumps(h), first, last))
                continue
            if h in seen_txs:
                problems.append("%s: tx %s again (first at %s)" % (rec.where(), h, seen_txs[h].where()))
                continue
            seen_txs[h] = rec
            per_topic[topic] += 1
            tx, block = txs[h]
            want = classify(tx)
            if want != kind:
                problems.append("%s: tx %s is in %s, the classifier says %s"
                                % (rec.where(), h, full(topic), full(TX_TOPICS[want])))
            exp = expected_tx(tx, chain, block)
            missing = sorted(k for k in exp if k not in v)
            if missing:
                problems.append("%s: tx %s lacks %s" % (rec.where(), h, ", ".join(missing)))
            extra = sorted(k for k in v if k not in exp and k not in allowed)
            if extra:
                problems.append("%s: tx %s has fields the node does not: %s"
                                % (rec.where(), h, ", ".join(extra)))
            _compare(rec, exp, [k for k in exp if k in v], "tx %s" % h, problems)
            day = utc_day(int(block["timestamp"], 16))
            if rec.day != day:
                problems.append("%s: tx %s is in day file %s, its block's UTC day is %s"
                                % (rec.where(), h, rec.day, day))
    for h, (tx, block) in txs.items():
        if h not in seen_txs:
            problems.append("tx %s (block %d) is in none of the tx topics (expected %s)"
                            % (h, int(block["number"], 16), full(TX_TOPICS[classify(tx)])))
        if h not in seen_ids:
            problems.append("tx %s (block %d) is missing from %s"
                            % (h, int(block["number"], 16), full(HASHES_TOPIC)))

    # The decoder's records: each names the block of its transaction.
    derived = 0
    for topic in DERIVED_TOPICS:
        for rec in records.get(topic, []):
            derived += 1
            v = rec.value
            num, bh, h = v.get("blockNumber"), v.get("blockHash"), v.get("hash")
            what = "%s record of tx %s" % (topic, json.dumps(h))
            if not isinstance(num, int) or isinstance(num, bool) or not first <= num <= last:
                problems.append("%s: %s has blockNumber %s, not one of %d..%d"
                                % (rec.where(), what, json.dumps(num), first, last))
                continue
            want = blocks[num]["hash"].lower()
            if "blockHash" not in v:
                problems.append("%s: %s lacks blockHash" % (rec.where(), what))
            elif bh != want:
                problems.append("%s: %s field blockHash is %s, node says %s (block %d)"
                                % (rec.where(), what, json.dumps(bh), json.dumps(want), num))
            if h not in txs or int(txs[h][1]["number"], 16) != num:
                problems.append("%s: %s is not a transaction of block %d"
                                % (rec.where(), what, num))

    # What the traffic generator meant to send.
    if sent is not None:
        for s in sent:
            h = s["hash"].lower()
            if h not in txs:
                problems.append("sent tx %s (%s) is not in blocks %d..%d"
                                % (h, s.get("what", s["kind"]), first, last))
                continue
            rec = seen_txs.get(h)
            if rec is not None and rec.topic != TX_TOPICS[s["kind"]]:
                problems.append("%s: sent tx %s (%s) was meant as %s"
                                % (rec.where(), h, s.get("what", ""), s["kind"]))

    summary = {"blocks": last - first + 1, "txs": len(txs),
               "block_records": len(records[BLOCKS_TOPIC]),
               "hash_ids": len(records[HASHES_TOPIC]), "derived": derived}
    summary.update({t: per_topic[t] for t in TX_TOPICS.values()})
    return problems, summary


def verify(rpc, topics_dir, chain_name, first, last, sent=None, allow_extra=()):
    """Everything main() does, for reuse: returns (problems, summary)."""
    cid = chain_id(rpc)
    blocks = fetch_blocks(rpc, first, last)
    problems = []
    records = load_topics(topics_dir, chain_name, topics=CHAIN_TOPICS, problems=problems)
    more, summary = check(blocks, records, cid, first, last, sent=sent, allow_extra=allow_extra,
                          name=chain_name)
    summary["chainId"] = cid
    return problems + more, summary


def load_sent(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rpc", required=True)
    ap.add_argument("--topics", required=True, help="the files sink directory")
    ap.add_argument("--chain", required=True, help="topic prefix, e.g. anvil")
    ap.add_argument("--from", dest="first", type=int, required=True)
    ap.add_argument("--to", dest="last", type=int, required=True)
    ap.add_argument("--sent", help="tests/traffic.py output")
    ap.add_argument("--allow-extra", default="",
                    help="comma-separated record fields allowed beyond the node's")
    ap.add_argument("--max-problems", type=int, default=20)
    args = ap.parse_args(argv)
    if args.first < 0 or args.last < args.first:
        ap.error("need 0 <= --from <= --to")
    if not os.path.isdir(args.topics):
        print("verify: %s is not a directory" % args.topics, file=sys.stderr)
        return 2
    sent = load_sent(args.sent) if args.sent else None
    allow = [f for f in args.allow_extra.split(",") if f]
    try:
        problems, s = verify(args.rpc, args.topics, args.chain, args.first, args.last,
                             sent=sent, allow_extra=allow)
    except NodeError as e:
        print("verify: node error: %s" % e, file=sys.stderr)
        return 2
    print("verify: chain %s (id %d) blocks %d..%d: %d blocks, %d txs; records: %d blocks, "
          "%d hash ids, tx.1 %d, tx.2 %d, tx.3 %d, decoded calls/logs/transfers %d%s" % (
              args.chain, s["chainId"], args.first, args.last, s["blocks"], s["txs"],
              s["block_records"], s["hash_ids"], s[TX_TOPICS["native_token_transfer"]],
              s[TX_TOPICS["contract_deployment"]], s[TX_TOPICS["contract_interaction"]],
              s["derived"],
              "; %d sent checked" % len(sent) if sent is not None else ""))
    if problems:
        print("verify: FAIL: %d problems" % len(problems))
        for p in problems[:args.max_problems]:
            print("  " + p)
        if len(problems) > args.max_problems:
            print("  ... and %d more" % (len(problems) - args.max_problems))
        return 1
    print("verify: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
