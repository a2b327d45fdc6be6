#!/usr/bin/env python3
"""Builds a chain of big blocks (~250 transactions each) on an anvil node, for benchmarks.

    anvil --host 127.0.0.1 --port 8545 --no-mining &
    python3 bench/make_big_blocks.py --rpc http://127.0.0.1:8545 --blocks 20 \
        [--txs-per-block 250] [--senders 10] [--deployments-per-block 1] [--seed 1]

Setup (two blocks): the deployer deploys the test Token (tests/contracts/artifacts), then
hands tokens to every sender. Then each big block: K transactions with explicit nonces from
several dev accounts, round robin (native transfers to dev accounts and fresh addresses,
Token.transfer calls, and D Child deployments), sent as one JSON-RPC batch of
eth_sendTransaction, then evm_mine; the block must hold exactly those K transactions.

Prints progress on stderr and one JSON line on stdout:
{"first": A, "last": B, "blocks": N, "txs": N*K, "setup": [S1, S2], "seconds": T}
where A..B are the big blocks. Python 3 standard library only.
"""

import argparse
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import traffic  # noqa: E402  (Rpc, Sender, Contract, wait_receipts)

ETHER = 10**18


def log(msg):
    print("make_big_blocks: " + msg, file=sys.stderr, flush=True)


def mine_exactly(rpc, hashes):
    """Mines one block and checks it holds exactly these transactions; returns its number."""
    rpc.call("evm_mine")
    block = rpc.call("eth_getBlockByNumber", "latest", False)
    got = [h.lower() for h in block["transactions"]]
    if sorted(got) != sorted(hashes):
        missing = len(set(hashes) - set(got))
        raise traffic.RpcError("block %d has %d transactions, expected %d (%d missing): the "
                               "block gas limit or a dropped transaction?"
                               % (int(block["number"], 16), len(got), len(hashes), missing))
    return int(block["number"], 16)


def build(rpc_url, blocks, per_block, n_senders, deployments, seed):
    rpc = traffic.Rpc(rpc_url, timeout=120)
    rng = random.Random(seed)
    if rpc.call("anvil_getAutomine"):
        log("anvil is automining: switching it off (evm_setAutomine false)")
        rpc.call("evm_setAutomine", False)
    sender = traffic.Sender(rpc, rng)
    senders = sender.accounts[:n_senders]
    owner = senders[0]
    token = traffic.Contract("Token")
    child = traffic.Contract("Child")
    t0 = time.time()

    # Setup block 1: the token.
    tx = sender.build(owner, None, token.deploy_data("Bench Token", "BNCH", 10**12 * ETHER),
                      0, 2_000_000, 2)
    hashes = sender.send_all([tx])
    setup1 = mine_exactly(rpc, hashes)
    receipt = traffic.wait_receipts(rpc, hashes)[hashes[0]]
    token_addr = receipt["contractAddress"].lower()

    # Setup block 2: every sender gets tokens.
    txs = [sender.build(owner, token_addr,
                        token.calldata("transfer(address,uint256)", ["address", "uint256"],
                                       s, 10**9 * ETHER), 0, 80_000, 2)
           for s in senders[1:]]
    hashes = sender.send_all(txs)
    setup2 = mine_exactly(rpc, hashes) if txs else setup1
    log("setup blocks %d..%d: Token at %s" % (setup1, setup2, token_addr))

    # The big blocks.
    first = last = None
    t1 = time.time()
    for b in range(blocks):
        txs = []
        for i in range(per_block):
            s = senders[(b * per_block + i) % len(senders)]
            txtype = 0 if rng.random() < 0.2 else 2
            if i < deployments:
                txs.append(sender.build(s, None, child.deploy_data(s, b * per_block + i),
                                        0, 400_000, txtype))
            elif rng.random() < 0.5:
                to = (rng.choice(sender.accounts) if rng.random() < 0.5 else
                      "0x" + bytes(rng.randrange(256) for _ in range(20)).hex())
                txs.append(sender.build(s, to, "0x", rng.randrange(1, 10**6) * 10**9,
                                        21_000, txtype))
            else:
                to = "0x" + bytes(rng.randrange(256) for _ in range(20)).hex()
                data = token.calldata("transfer(address,uint256)", ["address", "uint256"],
                                      to, rng.randrange(1, 10**6) * 10**12)
                txs.append(sender.build(s, token_addr, data, 0, 70_000, txtype))
        hashes = sender.send_all(txs)
        n = mine_exactly(rpc, hashes)
        first = n if first is None else first
        last = n
        if (b + 1) % 5 == 0 or b + 1 == blocks:
            log("%d/%d blocks (%d txs each), %.1f s" % (b + 1, blocks, per_block, time.time() - t1))
    # Every transaction of the last block has a receipt (the node finished executing).
    traffic.wait_receipts(rpc, hashes, timeout=60)
    return {"first": first, "last": last, "blocks": blocks, "txs": blocks * per_block,
            "setup": [setup1, setup2], "seconds": round(time.time() - t0, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rpc", default="http://127.0.0.1:8545")
    ap.add_argument("--blocks", type=int, required=True)
    ap.add_argument("--txs-per-block", type=int, default=250)
    ap.add_argument("--senders", type=int, default=10, help="dev accounts sending (10)")
    ap.add_argument("--deployments-per-block", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.blocks < 1 or args.txs_per_block < 1 or args.senders < 1:
        ap.error("--blocks, --txs-per-block and --senders must be >= 1")
    try:
        result = build(args.rpc, args.blocks, args.txs_per_block, args.senders,
                       min(args.deployments_per_block, args.txs_per_block), args.seed)
    except traffic.RpcError as e:
        log("error: %s" % e)
        return 1
    log("big blocks %d..%d: %d blocks x %d txs in %.1f s"
        % (result["first"], result["last"], result["blocks"], args.txs_per_block,
           result["seconds"]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
