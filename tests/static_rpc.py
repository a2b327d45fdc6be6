#!/usr/bin/env python3
"""static_rpc: a JSON-RPC node on loopback that serves stored mainnet answers, for evmtap's
behaviour tests (tests/0017-receipts-mainnet.sh).

It serves chain id 1 and the blocks of DATA (default $EVMTAP_SHARED_DATA/blocks/mainnet)
that have both a block file <n>.json (an eth_getBlockByNumber(n, true) answer) and a
receipts file receipts/<n>.json (an eth_getBlockReceipts(n) answer):

  eth_chainId                     "0x1"
  eth_blockNumber                 the highest block served
  eth_getBlockByNumber(n, full)   the stored block; full=false: transactions as hashes
  eth_getTransactionByHash(h)     the transaction from its block
  eth_getBlockReceipts(n)         the stored receipts, in transaction order as a node sends
                                  them (the file of 483920, from ethereum-etl's fixtures,
                                  holds them in the order 0, 2, 3, 1; --stored-order keeps it)
  eth_getTransactionReceipt(h)    the transaction's receipt from the same file
  test_counts                     the counters below (not counted itself)

A block or transaction it does not have is answered null, like a node; an unknown method
-32601, bad parameters -32602, a body that is not JSON -32700, an empty batch -32600.
Batches (JSON arrays) are answered as arrays, one answer per call.

  --no-block-receipts   eth_getBlockReceipts is an unknown method: -32601 "the method
                        eth_getBlockReceipts does not exist/is not available" (geth's words),
                        so a client has to ask eth_getTransactionReceipt per transaction
  --bad-receipts        the last receipt of each block names another block: its blockHash is
                        the block's parentHash (in both receipt methods)
  --blocks N,N          serve only these blocks (default: every block with both files)

Counters ({"http_requests", "batches", "calls", "methods": {m: calls},
"errors": {"m:code": n}}) are answered by test_counts and written to --counts-file when it
stops. It binds 127.0.0.1:--port (0: a free one), prints the port and writes it to
--port-file; it stops on SIGTERM or SIGINT, or after --lifetime seconds. Stdlib only.
"""

import argparse
import glob
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4 * 1024 * 1024       # larger requests are refused (413)
IDLE_SECONDS = 30                # an idle keep-alive connection is closed after this


class Chain:
    """The stored blocks and receipts, indexed by number and by transaction hash."""

    def __init__(self, data, only, bad_receipts, stored_order):
        self.blocks = {}         # number -> block object (full transactions)
        self.receipts = {}       # number -> list of receipts
        self.txs = {}            # lowercase hash -> transaction
        self.tx_receipts = {}    # lowercase hash -> receipt
        for path in sorted(glob.glob(os.path.join(data, "receipts", "*.json"))):
            name = os.path.basename(path)[:-len(".json")]
            block_path = os.path.join(data, name + ".json")
            if not name.isdigit() or not os.path.exists(block_path):
                continue
            number = int(name)
            if only and number not in only:
                continue
            block = json.load(open(block_path))["result"]
            receipts = json.load(open(path))["result"]
            if int(block["number"], 16) != number:
                raise SystemExit("%s holds block %s" % (block_path, block["number"]))
            if not stored_order:
                receipts.sort(key=lambda receipt: int(receipt["transactionIndex"], 16))
            if bad_receipts and receipts:
                receipts[-1] = dict(receipts[-1], blockHash=block["parentHash"])
            self.blocks[number] = block
            self.receipts[number] = receipts
            for tx in block["transactions"]:
                self.txs[tx["hash"].lower()] = tx
            for receipt in receipts:
                self.tx_receipts[receipt["transactionHash"].lower()] = receipt
        if only and set(only) - set(self.blocks):
            raise SystemExit("no block and receipts files for %s in %s"
                             % (sorted(set(only) - set(self.blocks)), data))
        if not self.blocks:
            raise SystemExit("no block with both a block and a receipts file in %s" % data)
        self.head = max(self.blocks)

    def number(self, tag):
        """A block parameter -> a number (None: not a block this chain knows)."""
        if tag in ("latest", "pending", "safe", "finalized"):
            return self.head
        if tag == "earliest":
            return 0
        if isinstance(tag, str) and tag.startswith("0x") and 2 < len(tag) <= 18:
            return int(tag, 16)
        raise ValueError("invalid block parameter %r" % (tag,))


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.http_requests = 0
        self.batches = 0
        self.calls = 0
        self.methods = {}
        self.errors = {}

    def request(self, is_batch):
        with self.lock:
            self.http_requests += 1
            self.batches += bool(is_batch)

    def call(self, method, error):
        with self.lock:
            self.calls += 1
            self.methods[method] = self.methods.get(method, 0) + 1
            if error is not None:
                key = "%s:%d" % (method, error["code"])
                self.errors[key] = self.errors.get(key, 0) + 1

    def snapshot(self):
        with self.lock:
            return {"http_requests": self.http_requests, "batches": self.batches,
                    "calls": self.calls, "methods": dict(self.methods),
                    "errors": dict(self.errors)}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, options, chain):
        super().__init__(address, Handler)
        self.options = options
        self.chain = chain
        self.counters = Counters()

    def answer(self, call):
        """One call -> its answer object (counted)."""
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return {"jsonrpc": "2.0", "id": None,
                    "error": {"code": -32600, "message": "invalid request"}}
        method, call_id = call["method"], call.get("id")
        params = call.get("params", [])
        if method == "test_counts":
            return {"jsonrpc": "2.0", "id": call_id, "result": self.counters.snapshot()}
        error = None
        result = None
        try:
            result = self.result(method, params if isinstance(params, list) else None)
        except LookupError:
            error = {"code": -32601,
                     "message": "the method %s does not exist/is not available" % method}
        except (ValueError, TypeError, IndexError) as problem:
            error = {"code": -32602, "message": "invalid argument: %s" % problem}
        self.counters.call(method, error)
        if error is not None:
            return {"jsonrpc": "2.0", "id": call_id, "error": error}
        return {"jsonrpc": "2.0", "id": call_id, "result": result}

    def result(self, method, params):
        """The result of a call; LookupError for an unknown method (eth_getBlockReceipts too
        with --no-block-receipts), ValueError for bad parameters."""
        chain = self.chain
        if params is None:
            raise ValueError("params is not an array")
        if method == "eth_chainId":
            return "0x1"
        if method == "net_version":
            return "1"
        if method == "eth_blockNumber":
            return hex(chain.head)
        if method == "eth_getBlockByNumber":
            number = chain.number(params[0])
            full = params[1] if len(params) > 1 else False
            if not isinstance(full, bool):
                raise ValueError("argument 1: not a boolean")
            block = chain.blocks.get(number)
            if block is None or full:
                return block
            return dict(block, transactions=[tx["hash"] for tx in block["transactions"]])
        if method == "eth_getBlockReceipts" and not self.options.no_block_receipts:
            return chain.receipts.get(chain.number(params[0]))
        if method in ("eth_getTransactionByHash", "eth_getTransactionReceipt"):
            if not isinstance(params[0], str) or len(params[0]) != 66:
                raise ValueError("argument 0: not a 32-byte hash")
            table = chain.txs if method == "eth_getTransactionByHash" else chain.tx_receipts
            return table.get(params[0].lower())
        raise LookupError(method)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server_version = "static_rpc/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.server.options.verbose:
            sys.stderr.write("static_rpc: %s\n" % (format % args))

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(413, b'{"error":"request too large or without Content-Length"}')
            return
        body = self.rfile.read(length)
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self._send(200, json.dumps({"jsonrpc": "2.0", "id": None, "error": {
                "code": -32700, "message": "parse error"}}).encode())
            return
        server = self.server
        if not (isinstance(document, dict) and document.get("method") == "test_counts"):
            server.counters.request(isinstance(document, list))
        if isinstance(document, list):
            if not document:
                answer = {"jsonrpc": "2.0", "id": None,
                          "error": {"code": -32600, "message": "empty batch"}}
            else:
                answer = [server.answer(call) for call in document]
        else:
            answer = server.answer(document)
        self._send(200, json.dumps(answer).encode())


def main(argv):
    default_data = os.path.join(os.environ.get("EVMTAP_SHARED_DATA", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")),
        "blocks", "mainnet")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=default_data, help="blocks/mainnet of the shared data")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--port-file", help="where to write the bound port")
    parser.add_argument("--counts-file", help="where to write the counters when it stops")
    parser.add_argument("--lifetime", type=float, default=300.0,
                        help="stop after this many seconds (default 300)")
    parser.add_argument("--blocks", default="", help="serve only these block numbers (N,N)")
    parser.add_argument("--no-block-receipts", action="store_true",
                        help="answer -32601 to eth_getBlockReceipts")
    parser.add_argument("--bad-receipts", action="store_true",
                        help="the last receipt of each block names the parent block")
    parser.add_argument("--stored-order", action="store_true",
                        help="eth_getBlockReceipts in the file's order, not by transactionIndex")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    options = parser.parse_args(argv)
    if options.lifetime <= 0:
        parser.error("--lifetime must be > 0")
    only = {int(n) for n in options.blocks.split(",") if n.strip()}
    chain = Chain(options.data, only, options.bad_receipts, options.stored_order)

    server = Server(("127.0.0.1", options.port), options, chain)
    port = server.server_address[1]
    if options.port_file:
        temporary = "%s.tmp.%d" % (options.port_file, os.getpid())
        with open(temporary, "w") as out:
            out.write("%d\n" % port)
        os.replace(temporary, options.port_file)
    print(port, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    signal.signal(signal.SIGINT, lambda signum, frame: done.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    if not done.wait(options.lifetime):
        sys.stderr.write("static_rpc: lifetime of %g s over, stopping\n" % options.lifetime)
    server.shutdown()
    server.server_close()
    if options.counts_file:
        with open(options.counts_file, "w") as out:
            json.dump(server.counters.snapshot(), out)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
