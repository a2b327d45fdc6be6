#!/usr/bin/env python3
"""kafka_check: reads back what evmtap wrote to Kafka with kcat (the independent consumer)
and compares it with a files-sink capture of the same blocks.

    python3 tests/kafka_check.py --brokers LIST --files DIR --chain-id ID [--to N]
                                 [--msgpack] [--duplicates-ok]

For every topic directory in DIR (the files sink's <topic>/<day>.ndjson), the Kafka topic of
the same name is read from the beginning to its end (kcat -C -e). Checks:
  * every message has the headers evmtap-chain-id=ID and evmtap-schema=<topic without
    the chain prefix>/v1, and the key DESIGN gives it (blocks: number, txs: hash), taken
    from the value;
  * deduplicated by key, the messages are exactly the files' records (blocks above --to
    are ignored on both sides): nothing lost, nothing extra; values byte-equal to the
    files' lines (JSON) or, with --msgpack, decoding to the same object with the same key
    order;
  * without --duplicates-ok, each key appears once.
Prints a summary line; exits 1 with the reasons on failure. Python standard library only
(msgpack is decoded here, independently of evmtap's encoder).
"""

import argparse
import json
import os
import struct
import subprocess
import sys


def unpack(data, pos=0):
    """Decodes one msgpack object at pos: (object, next pos). Maps keep their order."""
    b = data[pos]
    pos += 1
    if b <= 0x7f:
        return b, pos
    if b >= 0xe0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8f or b in (0xde, 0xdf):
        if b <= 0x8f:
            n = b & 0x0f
        elif b == 0xde:
            n, = struct.unpack_from(">H", data, pos); pos += 2
        else:
            n, = struct.unpack_from(">I", data, pos); pos += 4
        out = {}
        for _ in range(n):
            k, pos = unpack(data, pos)
            v, pos = unpack(data, pos)
            out[k] = v
        return out, pos
    if 0x90 <= b <= 0x9f or b in (0xdc, 0xdd):
        if b <= 0x9f:
            n = b & 0x0f
        elif b == 0xdc:
            n, = struct.unpack_from(">H", data, pos); pos += 2
        else:
            n, = struct.unpack_from(">I", data, pos); pos += 4
        out = []
        for _ in range(n):
            v, pos = unpack(data, pos)
            out.append(v)
        return out, pos
    if 0xa0 <= b <= 0xbf or b in (0xd9, 0xda, 0xdb):
        if b <= 0xbf:
            n = b & 0x1f
        else:
            size = {0xd9: 1, 0xda: 2, 0xdb: 4}[b]
            n = int.from_bytes(data[pos:pos + size], "big"); pos += size
        return data[pos:pos + n].decode("utf-8"), pos + n
    if b == 0xc0:
        return None, pos
    if b == 0xc2:
        return False, pos
    if b == 0xc3:
        return True, pos
    if b == 0xcb:
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    fmt = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
           0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q"}.get(b)
    if fmt:
        return struct.unpack_from(fmt, data, pos)[0], pos + struct.calcsize(fmt)
    raise ValueError(f"msgpack type 0x{b:02x} not expected at {pos - 1}")


def consume(brokers, topic):
    """Every message of topic: [(key, headers dict, value bytes)], through kcat."""
    fmt = "%k\t%h\t%S\t%s\n"
    out = subprocess.run(["kcat", "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e",
                          "-q", "-f", fmt], capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"kcat {topic}: {out.stderr.decode(errors='replace')[:400]}")
    data, pos, messages = out.stdout, 0, []
    while pos < len(data):
        tab = data.index(b"\t", pos)
        key = data[pos:tab].decode()
        pos = tab + 1
        tab = data.index(b"\t", pos)
        headers = dict(h.split("=", 1) for h in data[pos:tab].decode().split(",") if h)
        pos = tab + 1
        tab = data.index(b"\t", pos)
        size = int(data[pos:tab])
        pos = tab + 1
        messages.append((key, headers, data[pos:pos + size]))
        pos += size + 1
    return messages


def derive_key(bare, value):
    """DESIGN's key of a message from its value: block number, tx hash, <txhash>:<logIndex>."""
    if "blocks" in bare:
        return str(value["number"])
    if bare.startswith(("mined.logs", "mined.token_transfers")):
        return "%s:%d" % (value["hash"], value["logIndex"])
    return value["hash"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--files", required=True)
    parser.add_argument("--chain-id", required=True)
    parser.add_argument("--to", type=int)
    parser.add_argument("--msgpack", action="store_true")
    parser.add_argument("--duplicates-ok", action="store_true")
    args = parser.parse_args()

    problems, total, duplicates, topics = [], 0, 0, 0
    for topic in sorted(t for t in os.listdir(args.files) if not t.startswith(".")):
        prefix, _, bare = topic.partition(".")
        files = {}
        for name in sorted(os.listdir(os.path.join(args.files, topic))):
            for line in open(os.path.join(args.files, topic, name), "rb"):
                line = line.rstrip(b"\n")
                value = json.loads(line)
                number = value.get("number", value.get("blockNumber"))
                if args.to is not None and number > args.to:
                    continue
                key = derive_key(bare, value)
                files[key] = line
        kafka = {}
        for key, headers, raw in consume(args.brokers, topic):
            total += 1
            want = {"evmtap-chain-id": args.chain_id, "evmtap-schema": f"{bare}/v1"}
            if headers != want:
                problems.append(f"{topic} {key}: headers {headers}, want {want}")
            value = unpack(raw)[0] if args.msgpack else json.loads(raw)
            number = value.get("number", value.get("blockNumber"))
            if args.to is not None and number > args.to:
                continue
            derived = derive_key(bare, value)
            if key != derived:
                problems.append(f"{topic}: key {key} for a value of key {derived}")
            if key in kafka:
                duplicates += 1
                if not args.duplicates_ok:
                    problems.append(f"{topic} {key}: more than once")
                if kafka[key] != raw:
                    problems.append(f"{topic} {key}: two different values")
            kafka[key] = raw
        topics += 1
        for key in files.keys() - kafka.keys():
            problems.append(f"{topic} {key}: in the files, not in Kafka (lost)")
        for key in kafka.keys() - files.keys():
            problems.append(f"{topic} {key}: in Kafka, not in the files")
        for key in files.keys() & kafka.keys():
            if args.msgpack:
                a = unpack(kafka[key])[0]
                b = json.loads(files[key])
                if a != b or json.dumps(a) != json.dumps(b):
                    problems.append(f"{topic} {key}: msgpack value differs from the files")
            elif kafka[key] != files[key]:
                problems.append(f"{topic} {key}: value differs from the files")
    if topics == 0:
        problems.append(f"no topic in {args.files}")
    for problem in problems[:30]:
        print("kafka_check: " + problem, file=sys.stderr)
    if problems:
        print(f"kafka_check: {len(problems)} problems", file=sys.stderr)
        return 1
    print(f"kafka_check: {topics} topics, {total} messages read back, {duplicates} duplicates "
          f"(dropped by key), equal to the files sink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
