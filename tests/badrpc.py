#!/usr/bin/env python3
"""badrpc: a misbehaving JSON-RPC provider on loopback, for evmtap's behaviour tests.

It proxies JSON-RPC POSTs to an upstream node (anvil), except that with probability
--fault-rate (deterministic for a given --seed and request order) it answers a request
with one of the --faults instead:

  500        HTTP 500 with a text body
  429        HTTP 429 with Infura's rate-limit body (JSON-RPC -32005, backoff_seconds)
  timeout    no answer for --timeout-seconds, then the connection is closed
  truncated  half of the real answer under a Content-Length of the whole, then close
  garbage    HTTP 200 with an HTML page
  rpcerror   HTTP 200 with a JSON-RPC error -32000 for every call
  null       the real answer with null results for block queries ("not there yet");
             only chosen for requests that hold a block query
  empty      HTTP 200 with an empty body

The key is taken from the path like Infura (/v3/<key>) or Alchemy (/v2/<key>) and
counted per key. GET /stats answers JSON:
  {"requests": N, "calls": N, "methods": {...}, "faults": {...}, "keys": {...},
   "upstream_errors": N}
requests counts HTTP POSTs, calls counts JSON-RPC calls (each call of a batch), keys
counts calls per key. Keys appear nowhere else (no logging of paths).

Usage:
  python3 tests/badrpc.py --upstream http://127.0.0.1:PORT --port-file FILE
      [--fault-rate R] [--faults 500,429,...] [--seed N] [--timeout-seconds S]
      [--refuse METHOD,...]

--refuse answers the calls of these methods with JSON-RPC -32601 (method not found), like a
node that lacks them (e.g. eth_getBlockReceipts); in a batch, the other calls go upstream.

It binds 127.0.0.1:0 and writes the chosen port to --port-file. Stdlib only; exits 0 on
SIGTERM or SIGINT.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("500", "429", "timeout", "truncated", "garbage", "rpcerror", "null", "empty")
BLOCK_QUERIES = frozenset((
    "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getBlockReceipts",
    "eth_getTransactionReceipt", "eth_getTransactionByHash",
    "eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionByBlockHashAndIndex",
))
MAX_BODY = 32 * 1024 * 1024      # a request larger than this is refused (413)
MAX_CONNECTIONS = 256            # connections served at once; more are closed at once
IDLE_SECONDS = 120               # an idle keep-alive connection is closed after this
UPSTREAM_TIMEOUT = 60
KEY_PATH = re.compile(r"^/v[0-9]+/([^/?#]+)")
INFURA_429 = {
    "code": -32005,
    "message": "project ID request rate exceeded",
    "data": {"see": "https://infura.io/dashboard", "current_rps": 13.333,
             "allowed_rps": 10.0, "backoff_seconds": 1.0},
}
GARBAGE = (b"<html><head><title>502 Bad Gateway</title></head>"
           b"<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n")


class Stats:
    """Counters shared by every handler thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.calls = 0
        self.methods = {}
        self.faults = {}
        self.keys = {}
        self.upstream_errors = 0

    def count_request(self, key, methods):
        with self.lock:
            self.requests += 1
            self.calls += len(methods)
            for method in methods:
                self.methods[method] = self.methods.get(method, 0) + 1
            if key is not None:
                self.keys[key] = self.keys.get(key, 0) + len(methods)

    def count_fault(self, fault):
        with self.lock:
            self.faults[fault] = self.faults.get(fault, 0) + 1

    def count_upstream_error(self):
        with self.lock:
            self.upstream_errors += 1

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "calls": self.calls,
                    "methods": dict(self.methods), "faults": dict(self.faults),
                    "keys": dict(self.keys), "upstream_errors": self.upstream_errors}


class Upstream:
    """One keep-alive HTTP connection to the upstream per handler thread."""

    def __init__(self, url):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("--upstream must be an http(s) URL")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.path = parsed.path or "/"
        if parsed.query:
            self.path += "?" + parsed.query
        self.local = threading.local()

    def _connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            cls = (http.client.HTTPSConnection if self.scheme == "https"
                   else http.client.HTTPConnection)
            connection = cls(self.host, self.port, timeout=UPSTREAM_TIMEOUT)
            self.local.connection = connection
        return connection

    def post(self, body):
        """Returns (status, body bytes); raises OSError or HTTPException on failure."""
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request("POST", self.path, body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, options):
        super().__init__(address, Handler)
        self.options = options
        self.stats = Stats()
        self.upstream = Upstream(options.upstream)
        self.random = random.Random(options.seed)
        self.random_lock = threading.Lock()
        self.stopping = threading.Event()
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):
        # Bounded: beyond MAX_CONNECTIONS live connections, new ones are closed at once.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def choose_fault(self, has_block_query):
        """The fault for the next request, or None; one draw per request keeps runs
        with the same seed and the same request order identical."""
        options = self.options
        with self.random_lock:
            draw = self.random.random()
            pick = self.random.random()
        if draw >= options.fault_rate:
            return None
        faults = [fault for fault in options.faults if fault != "null" or has_block_query]
        if not faults:
            return None
        return faults[int(pick * len(faults)) % len(faults)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server_version = "badrpc/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        # Quiet: request lines hold the key in their path.
        if self.server.options.verbose:
            sys.stderr.write("badrpc: %s\n" % (format % args).replace(self.path, "<path>"))

    def _send(self, status, body, content_type="application/json", close=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _send_json(self, status, document):
        self._send(status, json.dumps(document).encode())

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/stats":
            self._send_json(200, self.server.stats.snapshot())
        elif path == "/health":
            self._send(200, b"ok\n", "text/plain")
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_POST(self):
        server = self.server
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(411, b"Content-Length required\n", "text/plain", close=True)
            return
        if length < 0 or length > MAX_BODY:
            self._send(413, b"request too large\n", "text/plain", close=True)
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return

        match = KEY_PATH.match(urllib.parse.urlsplit(self.path).path)
        key = urllib.parse.unquote(match.group(1)) if match else None
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            document = None
        calls = document if isinstance(document, list) else [document]
        methods = []
        for call in calls:
            method = call.get("method") if isinstance(call, dict) else None
            methods.append(method if isinstance(method, str) else "<invalid>")
        server.stats.count_request(key, methods)

        fault = server.choose_fault(any(m in BLOCK_QUERIES for m in methods))
        if fault is not None:
            server.stats.count_fault(fault)
        if fault == "500":
            self._send(500, b"Internal Server Error\n", "text/plain")
        elif fault == "429":
            call_id = calls[0].get("id") if not isinstance(document, list) and \
                isinstance(calls[0], dict) else None
            self._send_json(429, {"jsonrpc": "2.0", "id": call_id, "error": INFURA_429})
        elif fault == "timeout":
            server.stopping.wait(server.options.timeout_seconds)
            self.close_connection = True
        elif fault == "garbage":
            self._send(200, GARBAGE, "text/html")
        elif fault == "empty":
            self._send(200, b"")
        elif fault == "rpcerror":
            errors = [{"jsonrpc": "2.0",
                       "id": call.get("id") if isinstance(call, dict) else None,
                       "error": {"code": -32000, "message": "internal error (badrpc)"}}
                      for call in calls]
            self._send_json(200, errors if isinstance(document, list) else errors[0])
        elif any(m in server.options.refuse for m in methods):
            self._refuse(document, calls, methods)
        else:
            self._proxy(body, fault)

    def _refuse(self, document, calls, methods):
        """A node without some methods (as older nodes lack eth_getBlockReceipts): their
        calls get -32601, the others of a batch go upstream."""
        refuse = self.server.options.refuse
        errors = [{"jsonrpc": "2.0", "id": call.get("id"),
                   "error": {"code": -32601,
                             "message": "the method %s does not exist/is not available" % m}}
                  for call, m in zip(calls, methods) if m in refuse]
        if not isinstance(document, list):
            self._send_json(200, errors[0])
            return
        forward = [call for call, m in zip(calls, methods) if m not in refuse]
        answers = []
        if forward:
            try:
                status, answer = self.server.upstream.post(json.dumps(forward).encode())
                answers = json.loads(answer)
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.server.stats.count_upstream_error()
                self._send(502, ("upstream: %s\n" % type(error).__name__).encode(), "text/plain")
                return
        self._send_json(200, (answers if isinstance(answers, list) else [answers]) + errors)

    def _proxy(self, body, fault):
        try:
            status, answer = self.server.upstream.post(body)
        except (OSError, http.client.HTTPException) as error:
            self.server.stats.count_upstream_error()
            self._send(502, ("upstream: %s\n" % type(error).__name__).encode(), "text/plain")
            return
        if fault == "null":
            answer = self._null_block_results(body, answer)
        if fault == "truncated":
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer[:len(answer) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, answer)

    @staticmethod
    def _null_block_results(request_body, answer):
        """The upstream's answer with null results for the block queries."""
        try:
            request = json.loads(request_body)
            document = json.loads(answer)
        except (ValueError, UnicodeDecodeError):
            return answer
        requests = request if isinstance(request, list) else [request]
        block_ids = {json.dumps(call.get("id")) for call in requests
                     if isinstance(call, dict) and call.get("method") in BLOCK_QUERIES}
        results = document if isinstance(document, list) else [document]
        for result in results:
            if isinstance(result, dict) and "result" in result \
                    and json.dumps(result.get("id")) in block_ids:
                result["result"] = None
        return json.dumps(document).encode()


def parse_options(argv):
    parser = argparse.ArgumentParser(description="misbehaving JSON-RPC proxy for tests")
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the node")
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="probability that a request gets a fault (0..1)")
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help="comma-separated faults to choose from: " + ",".join(FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout-seconds", type=float, default=30.0,
                        help="how long the timeout fault holds a request")
    parser.add_argument("--verbose", action="store_true", help="log requests (paths blanked)")
    parser.add_argument("--refuse", default="", type=lambda text: set(filter(None, text.split(","))),
                        help="methods answered with -32601 (in batches too)")
    options = parser.parse_args(argv)
    if not 0.0 <= options.fault_rate <= 1.0:
        parser.error("--fault-rate must be within 0..1")
    if options.timeout_seconds < 0:
        parser.error("--timeout-seconds must be >= 0")
    options.faults = [fault.strip() for fault in options.faults.split(",") if fault.strip()]
    unknown = [fault for fault in options.faults if fault not in FAULTS]
    if unknown:
        parser.error("unknown faults: %s (known: %s)" % (",".join(unknown), ",".join(FAULTS)))
    try:
        Upstream(options.upstream)
    except ValueError as error:
        parser.error(str(error))
    return options


def main(argv):
    options = parse_options(argv)
    server = Server(("127.0.0.1", 0), options)
    port = server.server_address[1]
    temporary = "%s.tmp.%d" % (options.port_file, os.getpid())
    with open(temporary, "w") as file:
        file.write("%d\n" % port)
    os.replace(temporary, options.port_file)

    done = threading.Event()

    def stop(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    while not done.wait(0.5):
        pass
    server.stopping.set()      # wakes requests held by the timeout fault
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
