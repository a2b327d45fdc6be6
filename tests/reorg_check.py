#!/usr/bin/env python3
"""Checks a files sink after reorgs against the node, as a consumer reads it.

    python3 tests/reorg_check.py --rpc URL --topics DIR --chain anvil --to N
                                 [--expect FILE] [--no-reorgs]

The consumer's rule (docs/topics.md "Reorgs"): drop every record whose block hash (blocks:
`hash`, other records: `blockHash`) is the `orphanedHash` of a mined.blocks.reorged record.
What is left must be the node's chain 0..N:

* mined.blocks.metadata: every number 0..N exactly once, with the node's hash;
* the three transaction topics: every transaction of the node's blocks 0..N exactly once
  (by hash), in a record whose blockHash is its block's, and no other transaction;
* every record of the other chain topics carries blockHash, and once the orphans are
  dropped it is the node's hash at its blockNumber;
* every orphanedHash was published as a block (the announcement names a real orphan) and is
  not the node's hash at its number; every newHash is the node's, or orphaned later; the
  records of one reorg are `depth` consecutive numbers, each with that depth;
* --expect FILE (JSON lines {number, orphanedHash, newHash, depth}): the reorg records are
  exactly those; --no-reorgs: there is none, and no orphan was published.

Prints a summary; exits 1 with the problems. Python 3 standard library only.
"""

import argparse
import glob
import json
import os
import sys
import urllib.request

TX_TOPICS = ["mined.tx.1.native_token_transfer", "mined.tx.2.contract_deployment",
             "mined.tx.3.contract_interaction"]


def rpc(url, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["result"]


def load(topics, chain):
    """{topic suffix: [records in file order]} for every topic directory of the chain."""
    records = {}
    for path in sorted(glob.glob(os.path.join(topics, chain + ".*"))):
        suffix = os.path.basename(path)[len(chain) + 1:]
        for day in sorted(glob.glob(os.path.join(path, "*.ndjson"))):
            with open(day) as lines:
                records.setdefault(suffix, []).extend(json.loads(line) for line in lines)
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--topics", required=True)
    parser.add_argument("--chain", required=True)
    parser.add_argument("--to", type=int, required=True)
    parser.add_argument("--expect")
    parser.add_argument("--no-reorgs", action="store_true")
    args = parser.parse_args()
    problems = []
    node = [rpc(args.rpc, "eth_getBlockByNumber", [hex(n), True]) for n in range(args.to + 1)]
    node_hash = {n: block["hash"] for n, block in enumerate(node)}
    records = load(args.topics, args.chain)
    reorgs = records.get("mined.blocks.reorged", [])
    orphaned = {r["orphanedHash"] for r in reorgs}

    blocks = records.get("mined.blocks.metadata", [])
    published_hashes = {b["hash"] for b in blocks}
    canonical = [b for b in blocks if b["hash"] not in orphaned]
    seen = {}
    for block in canonical:
        seen.setdefault(block["number"], []).append(block["hash"])
    for number in range(args.to + 1):
        hashes = seen.pop(number, [])
        if hashes != [node_hash[number]]:
            problems.append(f"block {number}: published {hashes} once orphans dropped, node has "
                            f"{node_hash[number]}")
    for number, hashes in sorted(seen.items()):
        problems.append(f"block {number} past --to {args.to} published: {hashes}")

    want = {}
    for block in node:
        for tx in block["transactions"]:
            want[tx["hash"]] = block["hash"]
    got = {}
    for topic in TX_TOPICS:
        for tx in records.get(topic, []):
            if tx.get("blockHash") in orphaned:
                continue
            got.setdefault(tx["hash"], []).append(tx.get("blockHash"))
    for tx_hash, block_hash in want.items():
        if got.pop(tx_hash, []) != [block_hash]:
            problems.append(f"transaction {tx_hash} of block {block_hash}: not exactly once")
    for tx_hash, block_hashes in got.items():
        problems.append(f"transaction {tx_hash} is not the node's (blocks {block_hashes})")
    for topic, items in records.items():
        for record in items:
            block_hash, number = record.get("blockHash"), record.get("blockNumber")
            if topic not in ("mined.blocks.metadata", "mined.blocks.reorged") and not block_hash:
                problems.append(f"{topic}: a record without blockHash: {json.dumps(record)[:120]}")
                continue
            if (block_hash and isinstance(number, int) and block_hash not in orphaned
                    and number <= args.to and node_hash[number] != block_hash):
                problems.append(f"{topic}: a record of block {number} {block_hash} survives "
                                f"the orphans' drop")

    index = 0
    while index < len(reorgs):
        depth = reorgs[index]["depth"]
        group = reorgs[index:index + depth]
        numbers = [r["number"] for r in group]
        if (len(group) != depth or any(r["depth"] != depth for r in group)
                or numbers != list(range(numbers[0], numbers[0] + depth))):
            problems.append(f"reorg records from {index}: {numbers} do not make one reorg of "
                            f"depth {depth}")
        index += max(depth, 1)
    for record in reorgs:
        number = record["number"]
        if record["orphanedHash"] not in published_hashes:
            problems.append(f"reorg of block {number}: orphan {record['orphanedHash']} was never "
                            "published")
        if number <= args.to and record["orphanedHash"] == node_hash[number]:
            problems.append(f"reorg of block {number}: the orphan is the node's block")
        if record["newHash"] not in orphaned and (number > args.to
                                                  or record["newHash"] != node_hash[number]):
            problems.append(f"reorg of block {number}: newHash {record['newHash']} is not the "
                            "node's")
    if args.expect:
        with open(args.expect) as lines:
            expected = sorted(tuple(sorted(json.loads(line).items())) for line in lines if line.strip())
        actual = sorted(tuple(sorted((k, r[k]) for k in ("number", "orphanedHash", "newHash",
                                                         "depth"))) for r in reorgs)
        if actual != expected:
            problems.append(f"reorg records {actual} are not the expected {expected}")
    if args.no_reorgs and (reorgs or len(blocks) != len(canonical) or len(blocks) != args.to + 1):
        problems.append(f"{len(reorgs)} reorg records and {len(blocks)} block records for "
                        f"{args.to + 1} blocks: an orphan was published")
    print(f"reorg_check: blocks 0..{args.to}: {len(blocks)} block records, {len(reorgs)} reorg "
          f"records, {len(want)} transactions")
    for problem in problems[:20]:
        print("  " + problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
