#!/usr/bin/env python3
"""Checks the contract.state records of an evmtap files sink against the node and cast.

    python3 tests/state_check.py --rpc URL --topics DIR --sent SENT --pair ADDR
        --lending ADDR --head N [--receipts] [--every N] [--out FILE]

SENT is tests/state_lib.sh's list of transactions. The records must be exactly these:

* the pair's three calls (getReserves, getAmountOut, checkBelow) at each block with a
  transaction to it (the swaps and the plain value transfer), triggers = that hash; the
  lending pool's three calls (healthOf, positionOf, totalDebt) at the deposit and the
  borrow and, with --receipts, at the poke through Poker (a log of the pool in a
  transaction to another contract); never at a deployment, never at the unrelated
  transfer; with --every N the pair_every watcher's getReserves at every block 0..head
  whose number is a multiple of N, triggers empty;
* each one: chainId 31337, blockNumber, blockHash = the node's hash of that block,
  contract, name, function, args, key <contract>:<block>:<function>; `outputs` equal to
  `cast call --block N` with the function's return types (values flattened in order,
  cast's "[1e18]" annotations dropped, addresses lowercased), or, when cast says the call
  reverts, `outputs` null and `error` holding the revert reason cast gives (where the
  contract has no code yet, `error` says so).

--out writes the records, sorted by key, one JSON line each, for comparing two runs.
Exit 0 when all hold, 1 with the problems listed.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify  # noqa: E402

TYPES = {
    "getReserves": "getReserves()(uint112,uint112,uint32)",
    "getAmountOut": "getAmountOut(uint256,bool)(uint256)",
    "checkBelow": "checkBelow(uint256)(uint256)",
    "healthOf": "healthOf(address)(uint256,uint256,bool)",
    "positionOf": "positionOf(address)((uint256,uint256))",
    "totalDebt": "totalDebt()(uint256)",
}
ARGS = {
    "getAmountOut": ["1000", "true"],
    "checkBelow": ["1000800"],
    "healthOf": ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8"],
    "positionOf": ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8"],
}
CALLS = {"pair": ["getReserves", "getAmountOut", "checkBelow"],
         "lending": ["healthOf", "positionOf", "totalDebt"],
         "pair_every": ["getReserves"]}


def flatten(value):
    if isinstance(value, dict):
        return [item for part in value.values() for item in flatten(part)]
    if isinstance(value, list):
        return [item for part in value for item in flatten(part)]
    return [str(value).lower()]


def cast_call(url, address, function, block):
    command = ["cast", "call", "--rpc-url", url, "--block", str(block), address,
               TYPES[function]] + ARGS.get(function, [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None, done.stderr.strip()
    text = re.sub(r"\s*\[[^\]]*\]", "", done.stdout)
    values = [v.strip().lower() for v in re.split(r"[\n,()]", text) if v.strip()]
    return values, None


def main():
    parser = argparse.ArgumentParser()
    for name in ("--rpc", "--topics", "--sent", "--pair", "--lending", "--out"):
        parser.add_argument(name)
    parser.add_argument("--head", type=int, required=True)
    parser.add_argument("--every", type=int, default=0)
    parser.add_argument("--receipts", action="store_true")
    args = parser.parse_args()
    pair, lending = args.pair.lower(), args.lending.lower()
    sent = [json.loads(line) for line in open(args.sent)]
    expected = {}
    for tx in sent:
        what = tx["what"]
        if what in ("swap 1000 0->1", "value to pair", "swap 500 1->0"):
            expected[("pair", tx["block"])] = [tx["hash"]]
        if what in ("deposit", "borrow") or (what == "poke via poker" and args.receipts):
            expected[("lending", tx["block"])] = [tx["hash"]]
    if args.every:
        for block in range(0, args.head + 1, args.every):
            expected[("pair_every", block)] = []
    contracts = {"pair": pair, "lending": lending, "pair_every": pair}

    records = []
    for path in sorted(glob.glob(os.path.join(args.topics, "anvil.contract.state", "*.ndjson"))):
        records += [json.loads(line) for line in open(path)]
    problems = []
    seen = {}
    for record in records:
        seen.setdefault((record["name"], record["blockNumber"]), []).append(record)
    if set(seen) != set(expected):
        problems.append("watchers fired at %s, expected %s" % (
            sorted(set(seen) - set(expected)), sorted(set(expected) - set(seen))))
    hashes = {}
    blocks = verify.rpc_batch(args.rpc, [("eth_getBlockByNumber", [hex(n), False])
                                         for n in sorted({b for _, b in seen})]) if seen else []
    for block in blocks:
        hashes[int(block["number"], 16)] = block["hash"]
    for (name, block), group in sorted(seen.items()):
        if [r["function"] for r in group] != CALLS[name]:
            problems.append("%s at %d: calls %s" % (name, block, [r["function"] for r in group]))
        for record in group:
            where = "%s %s at %d" % (name, record["function"], block)
            if record["chainId"] != 31337 or record["blockHash"] != hashes.get(block):
                problems.append(where + ": chainId or blockHash wrong: %s" % record)
            if record["contract"] != contracts[name]:
                problems.append(where + ": contract %s" % record["contract"])
            if record["triggers"] != expected.get((name, block), record["triggers"]):
                problems.append(where + ": triggers %s, expected %s" % (
                    record["triggers"], expected.get((name, block))))
            if flatten(record["args"]) != ARGS.get(record["function"], []):
                problems.append(where + ": args %s" % record["args"])
            values, error = cast_call(args.rpc, record["contract"], record["function"], block)
            if error is None:
                if record.get("error") or flatten(record["outputs"]) != values:
                    problems.append(where + ": outputs %s error %s, cast says %s" % (
                        record["outputs"], record.get("error"), values))
            elif "does not have any code" in error:
                if record.get("outputs") is not None \
                        or "no contract code at this block" not in record.get("error", ""):
                    problems.append(where + ": %s / %s, but no code there" % (
                        record.get("outputs"), record.get("error")))
            elif record.get("outputs") is not None or not record.get("error") \
                    or record["error"] not in error:
                problems.append(where + ": %s / %s, cast says %s" % (
                    record.get("outputs"), record.get("error"), error))
    if args.out:
        with open(args.out, "w") as out:
            for record in sorted(records, key=lambda r: (r["blockNumber"], r["name"],
                                                         r["function"])):
                out.write(json.dumps(record, sort_keys=True) + "\n")
    for problem in problems[:20]:
        print("PROBLEM: " + problem)
    errors = sum(1 for r in records if r.get("error"))
    print("state_check: %d records, %d with error, %d watcher firings, %d problems" % (
        len(records), errors, len(seen), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
