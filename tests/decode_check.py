#!/usr/bin/env python3
"""Checks `evmtap decode` against cast (tests/0014-decode.sh runs it).

    python3 tests/decode_check.py --evmtap BIN --cast CAST --data SHARED_DATA MODE

MODE fresh:   fresh random calldata from `cast calldata` for nested types, decoded by evmtap
              with a signature file made by `cast sig`, compared value by value with
              `cast decode-calldata --json`.
MODE mainnet: every contract call in blocks/mainnet to an address of abis/addresses.json,
              decoded with --abis and --to (the first call to each; the ABI file with --abi
              for the others); each must decode, and its arguments must equal
              cast's decoding with the same signature. Plus every 8th other contract call with
              the 4-byte file: decoded ones compared with cast the same way.
Exits 1 with the first differences listed.
"""

import argparse
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abi_vectors import parse_type, normalize, rand_value, top_arg  # noqa: E402


def plain(value):
    """evmtap's value with named tuples (objects) turned into arrays, as cast writes them."""
    if isinstance(value, dict):
        return [plain(v) for v in value.values()]
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def run_decode(evmtap, args):
    proc = subprocess.run([evmtap, "decode"] + args, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit("evmtap decode %s: exit %d: %s" % (" ".join(args)[:200], proc.returncode,
                                                           proc.stderr))
    lines = proc.stdout.splitlines()
    if len(lines) != 1:
        raise SystemExit("evmtap decode printed %d lines" % len(lines))
    record = json.loads(lines[0])
    if (proc.returncode == 0) != (record["decoding"] == "decoded"):
        raise SystemExit("exit %d with decoding %s" % (proc.returncode, record["decoding"]))
    return record


def cast_values(cast, signature, calldata):
    if signature.endswith("()"):
        return []       # cast says "no data was decoded" for a call without arguments
    proc = subprocess.run([cast, "decode-calldata", signature, calldata, "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    params = parse_type(signature[signature.index("("):])
    return [normalize(t, v) for t, v in zip(params[1], json.loads(proc.stdout))]


def compare(cast, record, calldata, problems, what):
    theirs = cast_values(cast, record["signature"], calldata)
    ours = plain(record["args"])
    if theirs is None:
        problems.append("%s: cast cannot decode %s" % (what, record["signature"]))
    elif theirs != ours:
        for index, (a, b) in enumerate(zip(ours, theirs)):
            if a != b:
                problems.append("%s: %s argument %d: evmtap %s, cast %s"
                                % (what, record["signature"], index, json.dumps(a)[:200],
                                   json.dumps(b)[:200]))
        if len(ours) != len(theirs):
            problems.append("%s: %d arguments, cast %d" % (what, len(ours), len(theirs)))


FRESH = [
    "swap(uint256,(address,bytes)[])",
    "multi((bool,(address,bytes[]))[2],string,int72[])",
    "deep(((uint8,string)[],bytes32)[],uint256[][])",
    "mix(address[3],bytes,(uint256,(uint256,(uint256,string)))[],bool)",
]


def fresh(args):
    rng = random.Random(os.getpid())
    problems = []
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for signature in FRESH:
            selector = subprocess.run([args.cast, "sig", signature], check=True,
                                      capture_output=True, text=True).stdout.strip()
            sigs = os.path.join(tmp, "sigs.tsv")
            with open(sigs, "w") as out:
                out.write("%s\t%s\n" % (selector, signature))
            params = parse_type(signature[signature.index("("):])
            for _ in range(3):
                values = rand_value(params, rng)
                argv = [top_arg(t, v) for t, v in zip(params[1], values)]
                calldata = subprocess.run([args.cast, "calldata", signature] + argv, check=True,
                                          capture_output=True, text=True).stdout.strip()
                record = run_decode(args.evmtap, ["--signatures", sigs, calldata])
                if record["decoding"] != "decoded" or record["signature"] != signature:
                    problems.append("%s: %s" % (signature, record))
                    continue
                if record["source"] != "4byte" or record["trailing"] != "0x":
                    problems.append("%s: source %s trailing %s" % (signature, record["source"],
                                                                 record["trailing"]))
                compare(args.cast, record, calldata, problems, "fresh")
                count += 1
    return count, problems


def mainnet(args):
    addresses = json.load(open(os.path.join(args.data, "abis", "addresses.json")))
    sigs = os.path.join(args.data, "signatures", "function_signatures.tsv")
    problems = []
    known = others = decoded_others = 0
    sample = 0
    bound = set()
    for path in sorted(glob.glob(os.path.join(args.data, "blocks", "mainnet", "*.json"))):
        block = json.load(open(path)).get("result") or {}
        for tx in block.get("transactions", []):
            to, data = tx.get("to"), tx.get("input", "0x")
            if not to or data == "0x":
                continue
            what = "block %s tx %s" % (os.path.basename(path), tx["hash"])
            if to.lower() in addresses:
                # The folder (addresses.json picks the ABI) for the first call to each
                # contract; the ABI file alone for the others, which loads far faster.
                if to.lower() in bound:
                    source = ["--abi", os.path.join(args.data, "abis", addresses[to.lower()])]
                else:
                    source = ["--abis", os.path.join(args.data, "abis")]
                    bound.add(to.lower())
                record = run_decode(args.evmtap, source + ["--to", to, data])
                known += 1
                if record["decoding"] != "decoded":
                    problems.append("%s: to %s: %s" % (what, to, record))
                    continue
                if record["source"] != "abi:" + addresses[to.lower()]:
                    problems.append("%s: source %s, expected abi:%s" % (what, record["source"],
                                                                       addresses[to.lower()]))
                compare(args.cast, record, data, problems, what)
            else:
                sample += 1
                if sample % 8:
                    continue
                others += 1
                record = run_decode(args.evmtap, ["--signatures", sigs, "--to", to, data])
                if record["decoding"] == "decoded":
                    decoded_others += 1
                    compare(args.cast, record, data, problems, what)
    print("mainnet: %d calls to contracts with an ABI, all decoded and equal to cast; "
          "%d other calls sampled, %d decoded by the 4-byte file" % (known, others, decoded_others))
    return known, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evmtap", required=True)
    ap.add_argument("--cast", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("mode", choices=["fresh", "mainnet"])
    args = ap.parse_args()
    count, problems = fresh(args) if args.mode == "fresh" else mainnet(args)
    for problem in problems[:20]:
        print("DIFF " + problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("%s: %d decodings agree with cast" % (args.mode, count))


if __name__ == "__main__":
    main()
