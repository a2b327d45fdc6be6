#!/usr/bin/env python3
"""edit_rpc: a JSON-RPC proxy that edits the answers for chosen blocks, for the tests of
block proofs (src/verify): answers that still parse but are not what the block holds.

  --edit N=KIND (repeatable) edits every eth_getBlockByNumber / eth_getBlockReceipts /
  eth_getTransactionReceipt answer for block N (single calls and batches):
    value      the first transaction's value plus one
    drop       the last transaction dropped (and its receipt)
    reorder    the first two transactions swapped
    header     the block's gasUsed plus one
    log        the first log's data changed (its first byte's lowest bit)
    nolog      the first log removed from its receipt
    l2type     the last transaction's type made 0x7e (an L2's deposit type, which evmtap
               cannot encode: the block can only be partly proven)
  --times N: only the first N answers of a block are edited (then it answers truthfully,
  like a node that caught up); 0 (the default): every one.
  --always-edit: every block (N is ignored) is edited with the first KIND.

GET /stats answers {"edited": {"N": answers edited}}. It binds 127.0.0.1:0 and writes the
port to --port-file. Stdlib only; exits 0 on SIGTERM.
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from badrpc import Upstream  # noqa: E402

BLOCK_METHODS = ("eth_getBlockByNumber", "eth_getBlockReceipts", "eth_getTransactionReceipt")


def plus_one(hex_value):
    return hex(int(hex_value, 16) + 1)


def edit_block(block, kind):
    txs = block.get("transactions") or []
    if kind == "value" and txs and isinstance(txs[0], dict):
        txs[0]["value"] = plus_one(txs[0]["value"])
    elif kind == "drop" and txs:
        txs.pop()
    elif kind == "reorder" and len(txs) > 1:
        txs[0], txs[1] = txs[1], txs[0]
    elif kind == "header":
        block["gasUsed"] = plus_one(block["gasUsed"])
    elif kind == "l2type" and txs and isinstance(txs[-1], dict):
        txs[-1]["type"] = "0x7e"


def edit_receipts(receipts, kind):
    if kind == "drop" and receipts:
        receipts.pop()
    with_logs = [r for r in receipts if r.get("logs")]
    if kind == "log" and with_logs:
        log = with_logs[0]["logs"][0]
        data = log["data"]
        # The first byte's lowest bit flipped (an empty data gains a byte).
        log["data"] = "0x01" if data == "0x" else "0x%02x%s" % (int(data[2:4], 16) ^ 1, data[4:])
    elif kind == "nolog" and with_logs:
        with_logs[0]["logs"].pop(0)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options):
        super().__init__(("127.0.0.1", 0), Handler)
        self.upstream = Upstream(options.upstream)
        self.edits = dict(options.edit)
        self.always = options.always_edit
        self.times = options.times
        self.edited = {}
        self.lock = threading.Lock()
        self.receipt_blocks = {}    # tx hash -> block number, from the blocks served


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with self.server.lock:
            self._send(json.dumps({"edited": self.server.edited}).encode())

    def _kind(self, number):
        if self.server.always:
            return next(iter(self.server.edits.values()))
        return self.server.edits.get(number)

    def _edit(self, call, answer):
        method = call.get("method")
        result = answer.get("result") if isinstance(answer, dict) else None
        if method not in BLOCK_METHODS or result is None:
            return
        if method == "eth_getTransactionReceipt":
            number, receipts = int(result["blockNumber"], 16), None
            kind = self._kind(number)
            if kind in ("log", "nolog"):
                receipts = [result]
        elif method == "eth_getBlockReceipts":
            number = int(call["params"][0], 16)
            kind, receipts = self._kind(number), result
        else:
            number = int(result["number"], 16)
            kind, receipts = self._kind(number), None
        with self.server.lock:
            done = self.server.edited.get(str(number), 0)
        if kind is None or (self.server.times and done >= self.server.times):
            return
        if receipts is not None:
            before = json.dumps(receipts)
            edit_receipts(receipts, kind)
            changed = json.dumps(receipts) != before
        elif method == "eth_getBlockByNumber":
            before = json.dumps(result)
            edit_block(result, kind)
            changed = json.dumps(result) != before
        else:
            changed = False
        if changed:
            with self.server.lock:
                self.server.edited[str(number)] = self.server.edited.get(str(number), 0) + 1

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, answer_body = self.server.upstream.post(body)
        try:
            calls, answers = json.loads(body), json.loads(answer_body)
        except ValueError:
            self._send(answer_body)
            return
        if isinstance(calls, list) and isinstance(answers, list):
            by_id = {answer.get("id"): answer for answer in answers}
            for call in calls:
                if call.get("id") in by_id:
                    self._edit(call, by_id[call.get("id")])
        elif isinstance(calls, dict) and isinstance(answers, dict):
            self._edit(calls, answers)
        self._send(json.dumps(answers).encode())


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--edit", action="append", default=[],
                        type=lambda text: (int(text.split("=")[0]), text.split("=")[1]))
    parser.add_argument("--always-edit", action="store_true")
    parser.add_argument("--times", type=int, default=0)
    options = parser.parse_args(argv)
    server = Server(options)
    temporary = "%s.tmp" % options.port_file
    with open(temporary, "w") as file:
        file.write("%d\n" % server.server_address[1])
    os.replace(temporary, options.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    while not done.wait(0.5):
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
