#!/usr/bin/env python3
"""Traffic generator for evmtap tests: a known, seeded mix of transactions on an anvil node.

    python3 tests/traffic.py --rpc http://127.0.0.1:PORT --blocks N [--txs-per-block K]
                             [--seed S] [--mine] --out FILE

It uses anvil's unlocked dev accounts (eth_accounts + eth_sendTransaction) and runs N rounds
of K transactions. Round 1 deploys the test contracts (tests/contracts/artifacts/*.json); later
rounds mix native transfers (to dev accounts, fresh addresses, a contract's receive()),
token calls (transfer, approve, transferFrom), Counter calls with uint, string, bytes, array,
tuple and payable arguments, internal deployments through Factory, calls with data to an
EOA, calls with an unknown selector (they revert) and further deployments; transaction
types 0 (gasPrice), 1 (access list) and 2 (EIP-1559).

Blocks: with --mine (anvil started with --no-mining) each round is sent with explicit nonces
and then mined with evm_mine, so N rounds make N blocks of K transactions. Without --mine each
round waits for its receipts: under automining every transaction is its own block (N*K
blocks); with anvil --block-time the rounds follow the blocks.

--out gets one JSON line per sent transaction: {"hash", "kind", "what"}, where kind is what
the sender intended by DESIGN's classifier (to null -> contract_deployment, input 0x ->
native_token_transfer, otherwise contract_interaction). The script exits after every receipt
is in. The same seed on a fresh anvil gives the same transactions.

The functions (rpc, abi_encode, Sender, ...) are reused by bench/make_big_blocks.py.
"""

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACTS = os.path.join(HERE, "contracts", "artifacts")

GWEI = 10**9
ETHER = 10**18
UINT256_MAX = 2**256 - 1


# --- JSON-RPC ------------------------------------------------------------------------------

class RpcError(Exception):
    pass


class Rpc:
    """A small JSON-RPC client over urllib: single calls and batches."""

    def __init__(self, url, timeout=30):
        self.url = url
        self.timeout = timeout
        self.next_id = 1

    def _post(self, payload):
        data = json.dumps(payload).encode()
        req = urllib.request.Request(self.url, data=data,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.URLError as e:
            raise RpcError("%s: %s" % (self.url, e)) from e

    def call(self, method, *params):
        """Returns the result of one call; raises RpcError on an error answer."""
        self.next_id += 1
        answer = self._post({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                             "params": list(params)})
        if "error" in answer:
            raise RpcError("%s: %s" % (method, answer["error"]))
        return answer.get("result")

    def batch(self, calls, raise_errors=True):
        """Sends [(method, [params])...] as one batch; returns the results in order
        (an error answer is an RpcError raised, or returned when raise_errors is False)."""
        if not calls:
            return []
        payload = []
        for method, params in calls:
            self.next_id += 1
            payload.append({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                            "params": list(params)})
        answers = self._post(payload)
        if not isinstance(answers, list):
            raise RpcError("batch answer is not a list: %r" % (answers,))
        by_id = {a.get("id"): a for a in answers}
        results = []
        for req in payload:
            a = by_id.get(req["id"])
            if a is None:
                err = RpcError("%s: no answer in batch" % req["method"])
            elif "error" in a:
                err = RpcError("%s: %s" % (req["method"], a["error"]))
            else:
                results.append(a.get("result"))
                continue
            if raise_errors:
                raise err
            results.append(err)
        return results


# --- ABI encoding (the few types the test contracts use) ------------------------------------

def _is_dynamic(t):
    if isinstance(t, tuple):
        return any(_is_dynamic(c) for c in t)
    return t in ("string", "bytes") or t.endswith("[]")


def _word(n):
    return (n % 2**256).to_bytes(32, "big")


def _pad(b):
    return b + b"\0" * (-len(b) % 32)


def _encode_one(t, v):
    if isinstance(t, tuple):
        return abi_encode(list(t), list(v))
    if t.endswith("[]"):
        return _word(len(v)) + abi_encode([t[:-2]] * len(v), list(v))
    if t == "string":
        b = v.encode("utf-8")
        return _word(len(b)) + _pad(b)
    if t == "bytes":
        return _word(len(v)) + _pad(v)
    if t == "address":
        return _word(int(v, 16))
    if t == "bool":
        return _word(1 if v else 0)
    if t.startswith("uint") or t.startswith("int"):
        return _word(v)  # two's complement for negative ints through the modulo
    raise ValueError("abi_encode: type %r not supported" % (t,))


def abi_encode(types, values):
    """Standard ABI encoding of values; a tuple type is a Python tuple of component types."""
    heads, tails = [], []
    head_size = 32 * len(types)
    for t, v in zip(types, values):
        enc = _encode_one(t, v)
        if _is_dynamic(t):
            heads.append(None)
            tails.append(enc)
        else:
            heads.append(enc)
            tails.append(b"")
    out, tail, offset = b"", b"", head_size
    for h, tl in zip(heads, tails):
        if h is None:
            out += _word(offset)
            tail += tl
            offset += len(tl)
        else:
            out += h
    return out + tail


def load_artifact(name):
    with open(os.path.join(CONTRACTS, name + ".json")) as f:
        return json.load(f)


class Contract:
    """An artifact: calldata for its functions (selectors from solc's methodIdentifiers)."""

    def __init__(self, name):
        art = load_artifact(name)
        self.name = name
        self.bytecode = art["bytecode"]
        self.selectors = art["methodIdentifiers"]
        self.ctor_inputs = []
        for item in art["abi"]:
            if item["type"] == "constructor":
                self.ctor_inputs = [i["type"] for i in item["inputs"]]

    def deploy_data(self, *args):
        return self.bytecode + abi_encode(self.ctor_inputs, list(args)).hex()

    def calldata(self, signature, types, *args):
        return "0x" + self.selectors[signature] + abi_encode(types, list(args)).hex()


# --- sending --------------------------------------------------------------------------------

class Sender:
    """Sends transactions from anvil's unlocked accounts with explicit nonces and fees."""

    def __init__(self, rpc, rng):
        self.rpc = rpc
        self.rng = rng
        self.accounts = [a.lower() for a in rpc.call("eth_accounts")]
        self.chain_id = int(rpc.call("eth_chainId"), 16)
        counts = rpc.batch([("eth_getTransactionCount", [a, "pending"]) for a in self.accounts])
        self.nonces = {a: int(c, 16) for a, c in zip(self.accounts, counts)}
        self.price = {a: 40 * GWEI + rng.randrange(GWEI) for a in self.accounts}

    def _fees(self, sender, txtype):
        """Fee fields for a transaction type. A sender's effective tip must never rise with
        its nonce: anvil 1.7.1's block builder takes a higher-tip later nonce first and then
        silently drops the earlier ones ("nonce too high"). So every transaction pays one
        price P, legacy as gasPrice and EIP-1559 as maxFeePerGas = maxPriorityFeePerGas
        (both tip P - baseFee), and P falls a little with each transaction of the sender."""
        price = self.price[sender]
        self.price[sender] -= 1000 + self.rng.randrange(1000)
        if txtype == 0:
            return {"type": "0x0", "gasPrice": hex(price)}
        if txtype == 1:
            return {"type": "0x1", "gasPrice": hex(price)}
        return {"type": "0x2", "maxFeePerGas": hex(price), "maxPriorityFeePerGas": hex(price)}

    def build(self, sender, to, data, value, gas, txtype):
        """A transaction object for eth_sendTransaction; takes the sender's next nonce."""
        tx = {"from": sender, "value": hex(value), "input": data,
              "nonce": hex(self.nonces[sender])}
        self.nonces[sender] += 1
        if to is not None:
            tx["to"] = to
        tx.update(self._fees(sender, txtype))
        if txtype == 1:
            # An access list naming the target (or the sender for a deployment); it costs
            # intrinsic gas (2400 per address, 1900 per key): anvil silently drops a
            # transaction whose gas is below its intrinsic gas, after returning its hash.
            tx["accessList"] = [{"address": to or sender, "storageKeys": ["0x" + "00" * 31 + "01"]}]
            gas += 2400 + 1900
        tx["gas"] = hex(gas)
        return tx

    def send_all(self, txs):
        """Sends transaction objects in one batch; returns their hashes."""
        return [h.lower() for h in self.rpc.batch([("eth_sendTransaction", [tx]) for tx in txs])]


def wait_receipts(rpc, hashes, timeout=60.0, mine=False):
    """Waits until every hash has a receipt; returns {hash: receipt}. With mine, calls
    evm_mine (at most 3 more times) while some are missing. Fails fast when the node no
    longer knows a transaction: anvil drops invalid ones silently after returning the hash."""
    receipts = {}
    deadline = time.time() + timeout
    pending = list(hashes)
    extra_mines = 0
    unknown_since = {}
    while True:
        for i in range(0, len(pending), 200):
            chunk = pending[i:i + 200]
            for h, r in zip(chunk, rpc.batch([("eth_getTransactionReceipt", [h]) for h in chunk])):
                if r is not None:
                    receipts[h] = r
        pending = [h for h in pending if h not in receipts]
        if not pending:
            return receipts
        now = time.time()
        known = rpc.batch([("eth_getTransactionByHash", [h]) for h in pending[:200]])
        for h, tx in zip(pending, known):
            if tx is None:
                unknown_since.setdefault(h, now)
                if now - unknown_since[h] > 2.0:
                    raise RpcError("transaction %s was dropped by the node (%d of %d without "
                                   "a receipt)" % (h, len(pending), len(hashes)))
            else:
                unknown_since.pop(h, None)
        if now > deadline:
            raise RpcError("%d transactions without a receipt after %.0f s, e.g. %s"
                           % (len(pending), timeout, pending[0]))
        if mine and extra_mines < 3:
            rpc.call("evm_mine")
            extra_mines += 1
        else:
            time.sleep(0.1)


def kind_of(tx):
    """DESIGN's classifier on a transaction object as sent."""
    if tx.get("to") is None:
        return "contract_deployment"
    if tx.get("input", "0x") in ("0x", ""):
        return "native_token_transfer"
    return "contract_interaction"


# --- the traffic mix --------------------------------------------------------------------------

class Traffic:
    """The seeded mix: round 1 deploys the contracts, later rounds pick from MIX."""

    MIX = [  # (weight, method name)
        (20, "native_to_account"), (8, "native_to_fresh"), (3, "native_to_contract"),
        (2, "native_zero_to_self"), (12, "token_transfer"), (4, "token_approve"),
        (4, "token_transfer_from"), (6, "counter_set_number"), (4, "counter_increment"),
        (5, "counter_set_note"), (4, "counter_pay"), (3, "counter_add_all"),
        (3, "counter_set_point"), (3, "factory_create"), (2, "data_to_eoa"),
        (1, "unknown_selector"), (2, "deploy_child"), (1, "deploy_counter"),
    ]

    def __init__(self, sender, rng):
        self.s = sender
        self.rng = rng
        self.token = Contract("Token")
        self.counter = Contract("Counter")
        self.factory = Contract("Factory")
        self.child = Contract("Child")
        self.addr = {}            # contract name -> address, once deployed
        self.approved = set()     # spenders whose approval from the deployer is mined
        self.approving = set()    # approvals sent in the current round
        self.owner = sender.accounts[0]

    def txtype(self):
        r = self.rng.random()
        return 0 if r < 0.25 else 1 if r < 0.35 else 2

    def account(self, exclude=None):
        choices = [a for a in self.s.accounts if a != exclude]
        return self.rng.choice(choices)

    def fresh_address(self):
        return "0x" + bytes(self.rng.randrange(256) for _ in range(20)).hex()

    def tx(self, what, sender, to, data="0x", value=0, gas=150_000):
        tx = self.s.build(sender, to, data, value, gas, self.txtype())
        return what, tx

    # Round 1.
    def deployments(self):
        return [
            self.tx("deploy Token", self.owner, None,
                    self.token.deploy_data("Test Token", "TST", 10**9 * ETHER), gas=2_000_000),
            self.tx("deploy Counter", self.owner, None, self.counter.deploy_data(), gas=2_000_000),
            self.tx("deploy Factory", self.owner, None, self.factory.deploy_data(), gas=2_000_000),
        ]

    def after_round(self, sent, receipts):
        """Learns contract addresses and mined approvals from a round's receipts."""
        for (what, _tx), h in sent:
            r = receipts[h]
            if what.startswith("deploy ") and r.get("contractAddress"):
                name = what.split()[1]
                self.addr.setdefault(name, r["contractAddress"].lower())
        self.approved |= self.approving
        self.approving = set()

    # Later rounds: one method per kind of transaction.
    def native_to_account(self):
        a = self.account()
        return self.tx("native to account", a, self.account(exclude=a),
                       value=self.rng.randrange(1, 10**6) * 10**12, gas=21_000)

    def native_to_fresh(self):
        return self.tx("native to fresh address", self.account(), self.fresh_address(),
                       value=self.rng.randrange(1, 1000) * GWEI, gas=21_000)

    def native_to_contract(self):
        return self.tx("native to Counter.receive", self.account(), self.addr["Counter"],
                       value=self.rng.randrange(1, 1000) * GWEI, gas=60_000)

    def native_zero_to_self(self):
        a = self.account()
        return self.tx("zero native to self", a, a, value=0, gas=21_000)

    def token_transfer(self):
        to = self.rng.choice([self.account(exclude=self.owner), self.fresh_address()])
        data = self.token.calldata("transfer(address,uint256)", ["address", "uint256"],
                                   to, self.rng.randrange(1, 10**6) * 10**15)
        return self.tx("Token.transfer", self.owner, self.addr["Token"], data, gas=80_000)

    def token_approve(self):
        spender = self.account(exclude=self.owner)
        data = self.token.calldata("approve(address,uint256)", ["address", "uint256"],
                                   spender, UINT256_MAX)
        self.approving.add(spender)
        return self.tx("Token.approve", self.owner, self.addr["Token"], data, gas=80_000)

    def token_transfer_from(self):
        if not self.approved:
            return self.token_approve()
        spender = self.rng.choice(sorted(self.approved))
        data = self.token.calldata("transferFrom(address,address,uint256)",
                                   ["address", "address", "uint256"],
                                   self.owner, self.fresh_address(), self.rng.randrange(1, 1000) * ETHER)
        return self.tx("Token.transferFrom", spender, self.addr["Token"], data, gas=100_000)

    def counter_set_number(self):
        n = self.rng.choice([0, 1, 42, 2**64, UINT256_MAX, self.rng.randrange(2**256)])
        data = self.counter.calldata("setNumber(uint256)", ["uint256"], n)
        return self.tx("Counter.setNumber", self.account(), self.addr["Counter"], data, gas=80_000)

    def counter_increment(self):
        data = self.counter.calldata("increment()", [])
        # increment() overflows (and reverts) after setNumber(2**256-1): a real failed call.
        return self.tx("Counter.increment", self.account(), self.addr["Counter"], data, gas=80_000)

    def counter_set_note(self):
        note = self.rng.choice(["", "hello", "héllo wörld ✓", "x" * 40, "emoji 🦊", "tab\tquote\"nl\n"])
        blob = bytes(self.rng.randrange(256) for _ in range(self.rng.choice([0, 1, 31, 32, 33, 70])))
        data = self.counter.calldata("setNote(string,bytes)", ["string", "bytes"], note, blob)
        return self.tx("Counter.setNote", self.account(), self.addr["Counter"], data, gas=400_000)

    def counter_pay(self):
        memo = self.rng.choice(["", "rent", "payment #%d" % self.rng.randrange(1000)])
        data = self.counter.calldata("pay(string)", ["string"], memo)
        return self.tx("Counter.pay", self.account(), self.addr["Counter"], data,
                       value=self.rng.randrange(1, 10**6) * GWEI, gas=80_000)

    def counter_add_all(self):
        values = [self.rng.randrange(1000) for _ in range(self.rng.randrange(0, 6))]
        data = self.counter.calldata("addAll(uint256[],bool)", ["uint256[]", "bool"],
                                     values, True)
        return self.tx("Counter.addAll", self.account(), self.addr["Counter"], data, gas=100_000)

    def counter_set_point(self):
        p = (self.rng.randrange(-2**63, 2**63), self.rng.randrange(-1000, 1000),
             self.rng.choice(["origin", "", "p-%d" % self.rng.randrange(100)]))
        data = self.counter.calldata("setPoint((int64,int64,string))",
                                     [("int64", "int64", "string")], p)
        return self.tx("Counter.setPoint", self.account(), self.addr["Counter"], data, gas=80_000)

    def factory_create(self):
        data = self.factory.calldata("create(uint256)", ["uint256"], self.rng.randrange(2**32))
        return self.tx("Factory.create", self.account(), self.addr["Factory"], data, gas=300_000)

    def data_to_eoa(self):
        a = self.account()
        data = "0x" + b"a note to an EOA".hex()
        return self.tx("data to EOA", a, self.account(exclude=a), data, gas=50_000)

    def unknown_selector(self):
        return self.tx("unknown selector (reverts)", self.account(), self.addr["Token"],
                       "0xdeadbeef" + "00" * 32, gas=50_000)

    def deploy_child(self):
        a = self.account()
        return self.tx("deploy Child", a, None,
                       self.child.deploy_data(a, self.rng.randrange(2**32)), gas=400_000)

    def deploy_counter(self):
        return self.tx("deploy Counter", self.account(), None, self.counter.deploy_data(),
                       gas=2_000_000)

    def pick(self):
        total = sum(w for w, _ in self.MIX)
        r = self.rng.randrange(total)
        for w, name in self.MIX:
            if r < w:
                return getattr(self, name)()
            r -= w
        raise AssertionError("unreachable")


def run(rpc_url, rounds, per_round, seed, mine, out, timeout=60.0, log=sys.stderr):
    """Runs the traffic; returns the list of {"hash", "kind", "what"} written to out."""
    rpc = Rpc(rpc_url)
    rng = random.Random(seed)
    sender = Sender(rpc, rng)
    traffic = Traffic(sender, rng)
    first_block = int(rpc.call("eth_blockNumber"), 16) + 1
    records = []
    with open(out, "w") as f:
        for rnd in range(rounds):
            if rnd == 0:
                batch = traffic.deployments()
                while len(batch) < per_round:
                    batch.append(traffic.native_to_account())
            else:
                batch = [traffic.pick() for _ in range(per_round)]
            hashes = []
            # With automining, one transaction per request keeps the nonce order.
            if mine:
                hashes = sender.send_all([tx for _, tx in batch])
                rpc.call("evm_mine")
            else:
                for _, tx in batch:
                    hashes += sender.send_all([tx])
            receipts = wait_receipts(rpc, hashes, timeout=timeout, mine=mine)
            sent = list(zip(batch, hashes))
            traffic.after_round(sent, receipts)
            for (what, tx), h in sent:
                rec = {"hash": h, "kind": kind_of(tx), "what": what}
                records.append(rec)
                f.write(json.dumps(rec) + "\n")
            f.flush()    # a test may read the transactions sent so far while this runs
    last_block = int(rpc.call("eth_blockNumber"), 16)
    kinds = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print("traffic: %d txs in blocks %d..%d (%s)" % (
        len(records), first_block, last_block,
        ", ".join("%s %d" % kv for kv in sorted(kinds.items()))), file=log)
    return records


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rpc", required=True, help="anvil JSON-RPC URL")
    ap.add_argument("--blocks", type=int, required=True,
                    help="rounds; with --mine exactly this many blocks")
    ap.add_argument("--txs-per-block", type=int, default=3, help="transactions per round (3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mine", action="store_true",
                    help="anvil runs with --no-mining: mine each round with evm_mine")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for receipts")
    ap.add_argument("--out", required=True, help="JSON lines of sent transactions")
    args = ap.parse_args(argv)
    if args.blocks < 1 or args.txs_per_block < 1:
        ap.error("--blocks and --txs-per-block must be >= 1")
    try:
        run(args.rpc, args.blocks, args.txs_per_block, args.seed, args.mine, args.out,
            timeout=args.timeout)
    except RpcError as e:
        print("traffic: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
