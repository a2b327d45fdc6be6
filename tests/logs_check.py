#!/usr/bin/env python3
"""Checks what `evmtap run --receipts` published for real mainnet blocks against the stored
receipts, read here directly, and against cast (tests/0017-receipts-mainnet.sh runs it).

    python3 tests/logs_check.py --data SHARED_DATA --cast CAST [--chain mainnet]
        BLOCK=TOPICS_DIR [BLOCK=TOPICS_DIR ...]

TOPICS_DIR holds one run's <chain>.<topic>/<day>.ndjson files for that block alone, read
once with tests/verify.py's load_topics (one JSON object a line, files named by their day,
ending with a newline). Checks:

  transactions  every transaction of the block in exactly one of the three tx topics (by
                the documented rule: verify.classify), each with its receipt's own fields by
                the value rules (verify.convert: status, gasUsed, cumulativeGasUsed,
                blobGasUsed numbers; effectiveGasPrice, blobGasPrice decimal strings;
                contractAddress, root lowercase) and of the same JSON type, blockHash,
                from and transactionIndex equal to the receipt's; no logs, logsBloom or
                transactionHash, and no field that neither the transaction nor the receipt has
                (but chainId, type, to).
  blocks        every record of every topic names the block by hash: `hash` in the block
                record, `blockHash` (equal to the stored block's hash) in every other.
  logs          mined.logs.decoded: one record per log, in the block's log order, with its
                place (hash, blockNumber, blockHash, transactionIndex, logIndex, address,
                topic0). Not decoded: the
                raw topics and data, lowercase; unknown_selector only when no ABI event and
                no line of the event signature file has the topic0, bad_calldata only when
                some has. Decoded: topic0 is the Keccak-256 of the signature (computed here),
                the event is in the source named (abi:<file> or the signature file), keys by
                the parameter names; non-indexed values equal to `cast decode-abi --input`,
                indexed static values equal to the topics decoded here (and in range),
                indexed dynamic ones equal to the topic; trailing bytes of static events.
                A log of an address bound in abis/addresses.json whose ABI has the event
                must be decoded from that ABI.
  transfers     mined.token_transfers equal, record for record and in order, to the set
                computed here: topic0 Transfer, 3 topics and 32 bytes of data (erc20) or 4
                topics and no data (erc721), topics 1 and 2 zero-padded addresses.
Prints counts per block and in total (transactions, logs, decoded share, transfers per
standard); exits 1 with the differences listed.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abi_vectors import normalize, parse_type, split_top  # noqa: E402
from decode_check import plain  # noqa: E402
import verify  # noqa: E402  (the topics, the classifier, the value rules, the NDJSON reader)

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
LOGS_TOPIC = "mined.logs.decoded"
TRANSFERS_TOPIC = "mined.token_transfers"
# Receipt fields that repeat the transaction or the block, or go elsewhere: not joined.
RECEIPT_SKIPPED = {"transactionHash", "transactionIndex", "blockHash", "blockNumber",
                   "blockTimestamp", "from", "to", "type", "logs", "logsBloom"}
# Static values of cast decodings sent together in one call (one argv string each).
BATCH_LOGS = 40


# --- Keccak-256 (the original padding, as Ethereum uses), independent of evmtap's C ---------

_RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
       0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
       0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
       0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
       0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56],
        [27, 20, 39, 8, 14]]
_MASK = (1 << 64) - 1


def _rol(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _permute(lanes):
    for rc in _RC:
        c = [lanes[x][0] ^ lanes[x][1] ^ lanes[x][2] ^ lanes[x][3] ^ lanes[x][4]
             for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rol(lanes[x][y] ^ d[x], _ROT[x][y])
        lanes = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)]
                 for x in range(5)]
        lanes[0][0] ^= rc
    return lanes


def keccak256(data):
    rate = 136
    padded = bytearray(data) + b"\x01" + bytes((-len(data) - 1) % rate)
    padded[-1] |= 0x80
    lanes = [[0] * 5 for _ in range(5)]
    for start in range(0, len(padded), rate):
        block = padded[start:start + rate]
        for i in range(rate // 8):
            lanes[i % 5][i // 5] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        lanes = _permute(lanes)
    out = b"".join(lanes[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return "0x" + out.hex()


# --- events: from the ABIs and from the signature file --------------------------------------

def canonical_type(text):
    """A type as written (ABI or signature file) -> its canonical form."""
    suffix = ""
    while text.endswith("]"):
        at = text.rindex("[")
        suffix = text[at:] + suffix
        text = text[:at]
    if text.startswith("("):
        text = "(" + ",".join(canonical_type(param_words(part)[0])
                              for part in split_top(text[1:-1])) + ")"
    elif text in ("uint", "int"):
        text += "256"
    elif text == "byte":
        text = "bytes1"
    return text + suffix


def param_words(text):
    """"(uint256 a,address b)[] indexed c" -> (type text, indexed, name)."""
    text = text.strip()
    if text.startswith("("):
        depth = 0
        for end, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                break
        end += 1
        while end < len(text) and text[end] == "[":
            end = text.index("]", end) + 1
        type_text, rest = text[:end], text[end:].split()
    else:
        words = text.split()
        type_text, rest = words[0], words[1:]
    indexed = "indexed" in rest
    names = [word for word in rest if word != "indexed"]
    return type_text, indexed, names[-1] if names else ""


def abi_param_type(param):
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_param_type(c) for c in param["components"]) + ")" + kind[5:]
    return canonical_type(kind)


class Event:
    """One candidate event: name, canonical types, names, indexed marks (None: unmarked)."""

    def __init__(self, name, types, names, indexed, source):
        self.name, self.types, self.names, self.indexed = name, types, names, indexed
        self.source = source
        self.signature = "%s(%s)" % (name, ",".join(types))
        self._topic0 = None

    @property
    def topic0(self):
        """Keccak-256 of the signature, computed when first asked (the file has 9,000)."""
        if self._topic0 is None:
            self._topic0 = keccak256(self.signature.encode())
        return self._topic0

    def indexed_for(self, topic_count):
        """The indexed marks this event decodes with, given the topics after topic0:
        its own, or for an unmarked signature-file line the first ones (evmtap's guess)."""
        if self.indexed is None:
            return [index < topic_count for index in range(len(self.types))]
        return self.indexed

    def keys(self):
        """The record's argument keys: the name, argN when unnamed or repeated."""
        return [name if name and name not in self.names[:index] else "arg%d" % index
                for index, name in enumerate(self.names)]


def load_abi_events(abis):
    """{file: [Event]} for every ABI file of the folder."""
    events = {}
    for path in sorted(glob.glob(os.path.join(abis, "*.json"))):
        name = os.path.basename(path)
        if name == "addresses.json":
            continue
        events[name] = []
        for entry in json.load(open(path)):
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            inputs = entry.get("inputs", [])
            events[name].append(Event(entry["name"], [abi_param_type(p) for p in inputs],
                                      [p.get("name", "") for p in inputs],
                                      [bool(p.get("indexed")) for p in inputs],
                                      "abi:" + name))
    return events


def load_signature_events(path):
    """{topic0: [Event]} from a `0x<topic0><TAB>sig;sig` file."""
    table = {}
    for line in open(path):
        line = line.rstrip("\n")
        if not line or "\t" not in line:
            continue
        topic0, signatures = line.split("\t", 1)
        for text in signatures.split(";"):
            name, params = text[:text.index("(")], text[text.index("(") + 1:-1]
            parts = [param_words(p) for p in split_top(params)] if params else []
            marked = any(indexed for _, indexed, _ in parts)
            event = Event(name, [canonical_type(t) for t, _, _ in parts],
                          [n for _, _, n in parts],
                          [indexed for _, indexed, _ in parts] if marked else None, "4byte")
            table.setdefault(topic0.lower(), []).append(event)
    return table


# --- values --------------------------------------------------------------------------------

def is_static(t):
    if t[0] == "tuple":
        return all(is_static(c) for c in t[1])
    if t[0] == "array":
        return t[2] is not None and is_static(t[1])
    return t[1] not in ("bytes", "string")


def head_words(t):
    if t[0] == "tuple":
        return sum(head_words(c) for c in t[1])
    if t[0] == "array":
        return t[2] * head_words(t[1])
    return 1


def topic_value(type_text, topic):
    """An indexed static value from its topic, as the value rules write it; None when the
    word is out of range for the type (Solidity's decoder refuses it)."""
    word = int(topic, 16)
    if type_text == "address":
        return "0x" + topic[-40:] if word >> 160 == 0 else None
    if type_text == "bool":
        return {0: False, 1: True}.get(word)
    if type_text.startswith("uint"):
        return str(word) if word >> int(type_text[4:] or 256) == 0 else None
    if type_text.startswith("int"):
        bits = int(type_text[3:] or 256)
        value = word - (1 << 256) if word >> 255 else word
        return str(value) if -(1 << (bits - 1)) <= value < (1 << (bits - 1)) else None
    if type_text.startswith("bytes"):
        size = int(type_text[5:])
        return topic[:2 + 2 * size] if topic[2 + 2 * size:] == "0" * (64 - 2 * size) else None
    raise ValueError(type_text)


def cast_decode(cast, types, data):
    """cast decode-abi --input "f(types)" data --json, normalized; None when cast refuses."""
    if not types:
        return []
    signature = "f(%s)" % ",".join(types)
    proc = subprocess.run([cast, "decode-abi", "--input", signature, data, "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    params = parse_type("(%s)" % ",".join(types))[1]
    return [normalize(t, v) for t, v in zip(params, json.loads(proc.stdout))]


# --- one block -----------------------------------------------------------------------------

class Checker:
    def __init__(self, args):
        self.args = args
        self.problems = []
        self.abi_events = load_abi_events(os.path.join(args.data, "abis"))
        self.sig_events = load_signature_events(args.event_signatures)
        self.addresses = json.load(open(os.path.join(args.data, "abis", "addresses.json")))
        self.abi_topics = {e.topic0 for events in self.abi_events.values() for e in events}
        self.pending = []        # static decodings for cast: (what, types, data, expected)
        self.cast_calls = 0
        self.total = {"transactions": 0, "logs": 0, "decoded": 0, "unknown_selector": 0,
                      "bad_calldata": 0, "erc20": 0, "erc721": 0, "cast_values": 0,
                      "bound": 0}

    def problem(self, text):
        self.problems.append(text)

    def block(self, number, topics_dir):
        data = self.args.data
        block = json.load(open(os.path.join(data, "blocks", "mainnet", "%d.json" % number)))
        block = block["result"]
        receipts = json.load(open(os.path.join(data, "blocks", "mainnet", "receipts",
                                               "%d.json" % number)))["result"]
        # A node's eth_getBlockReceipts is in transaction order; the block's log order too.
        receipts = sorted(receipts, key=lambda r: int(r["transactionIndex"], 16))
        where = "block %d" % number
        published = self.read(where, topics_dir)
        every = [record for records in published.values() for record in records]
        if not every:
            self.problem("%s: nothing published in %s" % (where, topics_dir))
        block_hash = block["hash"].lower()
        for record in every:
            value = record.value
            if value.get("blockNumber", value.get("number")) != number:
                self.problem("%s: %s holds a record of block %s" % (
                    where, record.path, value.get("blockNumber", value.get("number"))))
            # Every record names its block by hash (a block record as `hash`).
            key = "hash" if record.topic == verify.BLOCKS_TOPIC else "blockHash"
            if value.get(key) != block_hash:
                self.problem("%s: %s:%d: %s %s, the block's %s" % (
                    where, record.path, record.line, key, value.get(key), block_hash))
        counts = {"transactions": len(block["transactions"])}
        self.transactions(where, block, receipts, published)
        counts.update(self.logs(where, number, receipts,
                                [record.value for record in published[LOGS_TOPIC]]))
        counts.update(self.transfers(where, number, receipts,
                                     [record.value for record in published[TRANSFERS_TOPIC]]))
        for key, value in counts.items():
            self.total[key] = self.total.get(key, 0) + value
        return counts

    def read(self, where, topics_dir):
        """Every record of one run, each file read once by verify.load_topics: {topic:
        [verify.Record]} for each <chain>.<topic> folder of topics_dir (the topics checked
        here always, empty when absent). A line that is not one JSON object (blank lines
        too), a file not named <YYYY-MM-DD>.ndjson or without a final newline, a folder of
        no topic of the chain: differences."""
        prefix = self.args.chain + "."
        folders = []
        if os.path.isdir(topics_dir):
            folders = sorted(name for name in os.listdir(topics_dir) if not name.startswith(".")
                             and os.path.isdir(os.path.join(topics_dir, name)))
        others = [name for name in folders if not name.startswith(prefix)]
        if others:
            self.problem("%s: folders of no %s topic in %s: %s" % (
                where, self.args.chain, topics_dir, ", ".join(others)))
        topics = {name[len(prefix):] for name in folders if name.startswith(prefix)}
        topics |= set(verify.TX_TOPICS.values()) | {LOGS_TOPIC, TRANSFERS_TOPIC}
        problems = []
        published = verify.load_topics(topics_dir, self.args.chain, sorted(topics), problems)
        for text in problems:
            self.problem("%s: %s" % (where, text))
        return published

    # --- a. receipt fields on transactions ---

    def transactions(self, where, block, receipts, published):
        records = {}
        for topic in verify.TX_TOPICS.values():
            for record in (r.value for r in published[topic]):
                if record["hash"] in records:
                    self.problem("%s: transaction %s published twice" % (where, record["hash"]))
                records[record["hash"]] = (topic, record)
        txs = {tx["hash"].lower(): tx for tx in block["transactions"]}
        if set(records) != set(txs):
            self.problem("%s: tx records %d, block transactions %d (%d missing, %d extra)" % (
                where, len(records), len(txs), len(set(txs) - set(records)),
                len(set(records) - set(txs))))
        if len(receipts) != len(txs):
            self.problem("%s: %d receipts for %d transactions in the data" % (
                where, len(receipts), len(txs)))
        for receipt in receipts:
            tx_hash = receipt["transactionHash"].lower()
            if tx_hash not in records:
                continue
            topic, record = records[tx_hash]
            tx = txs[tx_hash]
            what = "%s tx %s" % (where, tx_hash)
            expected_topic = verify.TX_TOPICS[verify.classify(tx)]
            if topic != expected_topic:
                self.problem("%s: in %s, expected %s" % (what, topic, expected_topic))
            for key, value in receipt.items():
                if key in RECEIPT_SKIPPED:
                    continue
                expected = verify.convert(key, value)
                if key not in record:
                    self.problem("%s: receipt field %s missing" % (what, key))
                elif record[key] != expected or type(record[key]) is not type(expected):
                    self.problem("%s: %s is %s, receipt says %s" % (
                        what, key, json.dumps(record[key]), json.dumps(expected)))
            for key in ("logs", "logsBloom", "transactionHash"):
                if key in record:
                    self.problem("%s: carries the receipt's %s" % (what, key))
            if record.get("blockHash") != receipt["blockHash"].lower():
                self.problem("%s: blockHash %s, receipt %s" % (what, record.get("blockHash"),
                                                               receipt["blockHash"]))
            if record.get("transactionIndex") != int(receipt["transactionIndex"], 16):
                self.problem("%s: transactionIndex differs from the receipt's" % what)
            if "from" in receipt and record.get("from") != receipt["from"].lower():
                self.problem("%s: from %s, receipt %s" % (what, record.get("from"),
                                                          receipt["from"]))
            extra = set(record) - set(tx) - set(receipt) - {"chainId", "type", "to"}
            if extra:
                self.problem("%s: fields neither the transaction nor the receipt has: %s"
                             % (what, sorted(extra)))

    # --- b. decoded logs ---

    def logs(self, where, number, receipts, records):
        logs = [(int(r["transactionIndex"], 16), r["transactionHash"].lower(), log)
                for r in receipts for log in r["logs"]]
        counts = {"logs": len(logs), "decoded": 0, "unknown_selector": 0, "bad_calldata": 0}
        keys = ["%s:%d" % (r["hash"], r["logIndex"]) for r in records]
        expected_keys = ["%s:%d" % (tx_hash, int(log["logIndex"], 16))
                         for _, tx_hash, log in logs]
        if keys != expected_keys:
            self.problem("%s: %d decoded-log records, %d logs; keys differ from the block's "
                         "log order (first difference at %s)" % (
                             where, len(keys), len(expected_keys),
                             next((i for i, (a, b) in enumerate(zip(keys, expected_keys))
                                   if a != b), min(len(keys), len(expected_keys)))))
        by_key = dict(zip(keys, records))
        for key, (tx_index, _, log) in zip(expected_keys, logs):
            record = by_key.get(key)
            if record is None:
                continue
            decoding = record.get("decoding")
            counts[decoding] = counts.get(decoding, 0) + 1
            self.log(where + " log " + key, number, tx_index, log, record)
        return counts

    def log(self, what, number, tx_index, log, record):
        topics = [t.lower() for t in log["topics"]]
        data = log["data"].lower()
        address = log["address"].lower()
        topic0 = topics[0] if topics else None
        place = {"transactionIndex": tx_index, "address": address, "topic0": topic0,
                 "chainId": 1, "blockNumber": number, "blockHash": log["blockHash"].lower()}
        for key, value in place.items():
            if record.get(key) != value:
                self.problem("%s: %s %s, the log's %s" % (what, key, record.get(key), value))
        bound_file = self.addresses.get(address)
        bound = [e for e in self.abi_events.get(bound_file, []) if e.topic0 == topic0]
        decoding = record.get("decoding")
        self.total["bound"] += bool(bound)
        if bound and (decoding != "decoded" or record.get("source") != "abi:" + bound_file):
            self.problem("%s: %s emitted %s of its ABI %s: %s, source %s" % (
                what, address, bound[0].signature, bound_file, decoding, record.get("source")))
        if decoding != "decoded":
            if record.get("topics") != topics or record.get("data") != data:
                self.problem("%s: %s without the raw log (topics %s, data %.40s)" % (
                    what, decoding, record.get("topics"), record.get("data")))
            if "args" in record or not record.get("reason"):
                self.problem("%s: %s with args or without a reason" % (what, decoding))
            known = topic0 is not None and (topic0 in self.abi_topics
                                            or topic0 in self.sig_events)
            if decoding == "unknown_selector" and known:
                self.problem("%s: unknown_selector, but topic0 %s is known" % (what, topic0))
            elif decoding == "bad_calldata" and not known:
                self.problem("%s: bad_calldata for an unknown topic0 %s" % (what, topic0))
            elif decoding == "bad_calldata":
                self.none_fits(what, topics, data)
            elif decoding not in ("unknown_selector", "bad_calldata"):
                self.problem("%s: decoding %s" % (what, decoding))
            return
        for key in ("topics", "data", "reason"):
            if key in record:
                self.problem("%s: decoded, with %s" % (what, key))
        self.decoded(what, topics, data, record)

    def none_fits(self, what, topics, data):
        """bad_calldata: no candidate of the ABIs or the signature file may fit the topics
        (indexed count, static topics in range) with data cast decodes."""
        candidates = [e for events in self.abi_events.values() for e in events
                      if e.topic0 == topics[0]] + self.sig_events.get(topics[0], [])
        for event in candidates:
            indexed = event.indexed_for(len(topics) - 1)
            if sum(indexed) != len(topics) - 1:
                continue
            pairs = [(t, i) for t, i in zip(event.types, indexed)]
            topic_values = [topic_value(t, topic) for (t, i), topic
                            in zip([p for p in pairs if p[1]], topics[1:])
                            if is_static(parse_type(t)) and parse_type(t)[0] == "elem"]
            if None in topic_values:
                continue
            if self.cast([t for t, i in pairs if not i], data) is not None:
                self.problem("%s: bad_calldata, but %s (%s) fits: cast decodes it" % (
                    what, event.signature, event.source))

    def decoded(self, what, topics, data, record):
        signature, source, args = record.get("signature"), record.get("source"), record["args"]
        if keccak256(signature.encode()) != topics[0]:
            self.problem("%s: topic0 %s is not the hash of %s" % (what, topics[0], signature))
            return
        if record.get("event") != signature[:signature.index("(")]:
            self.problem("%s: event %s for %s" % (what, record.get("event"), signature))
        if source == "4byte":
            events = self.sig_events.get(topics[0], [])
        elif source.startswith("abi:"):
            events = self.abi_events.get(source[4:], [])
        else:
            events = []
        fits = [e for e in events if e.signature == signature
                and sum(e.indexed_for(len(topics) - 1)) == len(topics) - 1
                and e.keys() == list(args)]
        if not fits:
            self.problem("%s: no %s in %s with %d indexed parameters and keys %s" % (
                what, signature, source, len(topics) - 1, list(args)))
            return
        if len({tuple(e.indexed_for(len(topics) - 1)) for e in fits}) > 1:
            # Two readings of the same signature, names and topic count: evmtap may pick
            # either; the values must match the one it picked (tried in order here).
            self.problem("%s: %d readings of %s in %s, not resolved here" % (
                what, len(fits), signature, source))
            return
        event = fits[0]
        indexed = event.indexed_for(len(topics) - 1)
        values = list(args.values())
        topic = 1
        plain_types, plain_values = [], []
        for type_text, is_indexed, key, value in zip(event.types, indexed, event.keys(), values):
            t = parse_type(type_text)
            if is_indexed:
                if is_static(t) and t[0] == "elem":
                    expected = topic_value(type_text, topics[topic])
                    if expected is None:
                        self.problem("%s: %s decoded, but topic %d is out of range for %s" % (
                            what, signature, topic, type_text))
                else:
                    expected = topics[topic]
                if value != expected:
                    self.problem("%s: %s %s (indexed) %s, topic gives %s" % (
                        what, signature, key, json.dumps(value), json.dumps(expected)))
                topic += 1
            else:
                plain_types.append(type_text)
                plain_values.append(plain(value))
        parsed = [parse_type(t) for t in plain_types]
        if all(is_static(t) for t in parsed):
            size = 64 * sum(head_words(t) for t in parsed)
            if len(data) - 2 < size:
                self.problem("%s: %s decoded from %d bytes of data, needs %d" % (
                    what, signature, (len(data) - 2) // 2, size // 2))
                return
            if record.get("trailing") != "0x" + data[2 + size:]:
                self.problem("%s: trailing %s, data after %d bytes: 0x%s" % (
                    what, record.get("trailing"), size // 2, data[2 + size:]))
            if plain_types:
                self.pending.append((what + " " + signature, plain_types, data[2:2 + size],
                                     plain_values))
        else:
            self.compare(what + " " + signature, plain_values, self.cast(plain_types, data),
                         plain_types)

    def cast(self, types, data):
        self.cast_calls += 1
        return cast_decode(self.args.cast, types, data)

    def compare(self, what, ours, theirs, types):
        if theirs is None:
            self.problem("%s: cast cannot decode (%s)" % (what, ",".join(types)))
            return
        self.total["cast_values"] += len(theirs)
        if len(ours) != len(theirs):
            self.problem("%s: %d non-indexed values, cast %d" % (what, len(ours), len(theirs)))
        for index, (a, b) in enumerate(zip(ours, theirs)):
            if a != b:
                self.problem("%s: non-indexed value %d (%s): evmtap %s, cast %s" % (
                    what, index, types[index], json.dumps(a)[:200], json.dumps(b)[:200]))

    def flush_static(self):
        """The static decodings, BATCH_LOGS per cast call: the encoding of static values is
        their words in order, so f(types of all) over the concatenated data decodes each
        log's values in its place. A batch cast refuses is decoded log by log."""
        pending, self.pending = self.pending, []
        for start in range(0, len(pending), BATCH_LOGS):
            batch = pending[start:start + BATCH_LOGS]
            types = [t for _, log_types, _, _ in batch for t in log_types]
            values = self.cast(types, "0x" + "".join(data for _, _, data, _ in batch))
            if values is None:
                for what, log_types, data, ours in batch:
                    self.compare(what, ours, self.cast(log_types, "0x" + data), log_types)
                continue
            at = 0
            for what, log_types, _, ours in batch:
                self.compare(what, ours, values[at:at + len(log_types)], log_types)
                at += len(log_types)

    # --- c. token transfers ---

    def transfers(self, where, number, receipts, records):
        expected = []
        for receipt in receipts:
            for log in receipt["logs"]:
                topics = [t.lower() for t in log["topics"]]
                data = log["data"].lower()
                if not topics or topics[0] != TRANSFER_TOPIC:
                    continue
                if len(topics) == 3 and len(data) == 66:
                    standard, field, amount = "erc20", "value", int(data, 16)
                elif len(topics) == 4 and data == "0x":
                    standard, field, amount = "erc721", "tokenId", int(topics[3], 16)
                else:
                    continue
                if topics[1][2:26] != "0" * 24 or topics[2][2:26] != "0" * 24:
                    continue
                expected.append({
                    "hash": receipt["transactionHash"].lower(),
                    "blockNumber": number, "blockHash": receipt["blockHash"].lower(),
                    "chainId": 1, "transactionIndex": int(receipt["transactionIndex"], 16),
                    "logIndex": int(log["logIndex"], 16), "token": log["address"].lower(),
                    "standard": standard, "from": "0x" + topics[1][26:],
                    "to": "0x" + topics[2][26:], field: str(amount)})
        if len(records) != len(expected):
            self.problem("%s: %d token transfer records, %d transfers in the receipts" % (
                where, len(records), len(expected)))
        for index, (ours, theirs) in enumerate(zip(records, expected)):
            if ours != theirs or list(ours) != list(theirs):
                self.problem("%s: transfer %d: %s, expected %s" % (
                    where, index, json.dumps(ours), json.dumps(theirs)))
        return {"erc20": sum(e["standard"] == "erc20" for e in expected),
                "erc721": sum(e["standard"] == "erc721" for e in expected)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="the shared data folder")
    ap.add_argument("--cast", required=True)
    ap.add_argument("--chain", default="mainnet")
    ap.add_argument("--event-signatures",
                    help="the --event-signatures file evmtap ran with (default: the shared "
                         "event_signatures_with_parameter_names.tsv)")
    ap.add_argument("runs", nargs="+", metavar="BLOCK=TOPICS_DIR")
    args = ap.parse_args()
    if not args.event_signatures:
        args.event_signatures = os.path.join(args.data, "signatures",
                                             "event_signatures_with_parameter_names.tsv")
    if keccak256(b"Transfer(address,address,uint256)") != TRANSFER_TOPIC:
        sys.exit("logs_check: keccak256 is broken")
    checker = Checker(args)
    for run in args.runs:
        number, topics_dir = run.split("=", 1)
        counts = checker.block(int(number), topics_dir)
        checker.flush_static()
        print("block %s: %d transactions, %d logs: %d decoded, %d unknown_selector, "
              "%d bad_calldata; token transfers: %d erc20, %d erc721" % (
                  number, counts["transactions"], counts["logs"], counts["decoded"],
                  counts["unknown_selector"], counts["bad_calldata"], counts["erc20"],
                  counts["erc721"]))
    total = checker.total
    share = 100.0 * total["decoded"] / total["logs"] if total["logs"] else 0.0
    print("total: %d transactions, %d logs, %d decoded (%.1f %%), %d unknown_selector, "
          "%d bad_calldata; token transfers: %d erc20, %d erc721; %d non-indexed values "
          "equal to cast in %d cast calls; %d logs of contracts bound in addresses.json "
          "decoded by their ABI" % (
              total["transactions"], total["logs"], total["decoded"], share,
              total["unknown_selector"], total["bad_calldata"], total["erc20"],
              total["erc721"], total["cast_values"], checker.cast_calls, total["bound"]))
    for text in checker.problems[:30]:
        print("DIFF " + text[:600], file=sys.stderr)
    if checker.problems:
        print("logs_check: %d differences" % len(checker.problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
