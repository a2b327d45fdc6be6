#!/usr/bin/env python3
"""provider_emulator: a rate-limited JSON-RPC provider on loopback, for the key pool tests.

A proxy in front of an upstream node (anvil) that takes the key from the URL path like
Infura (/v3/<key>) or Alchemy (/v2/<key>) and applies a provider's rules per key:

  * every request it receives is counted per key (429 and 402 answers included), in calls
    (each call of a batch, and per method) and billed in units of a cost table (--costs,
    config/costs/*.cfg, the format evmtap reads): `units` is the provider's real bill, by the
    table's error rules (Infura: 429 and 402 free, another 4xx 5, a 5xx 0; a call whose
    answer never left, a timeout, or was cut short costs the method's units), and
    `accepted_units` what the answers it let through were billed;
  * --budget U: a key whose accepted throughput units (`throughput.METHOD`, else the billed
    ones) in the last second (sliding, exact) plus the request's would exceed U +
    --tolerance is answered 429: Infura's body (-32005 with
    data.backoff_seconds = --backoff-seconds, or no hint when it is negative), or with
    --mode alchemy Alchemy's (code 429);
  * --daily U: past U accepted units a key is answered 402 with -33000;
  * POST /control {"key": K, "answer": "429"|"alchemy429"|"http429"|"402", "count": N}
    forces the key's next N answers;
  * --fault-rate / --faults 500,timeout,truncated inject transport faults (seeded);
  * every request is recorded (key, client address, arrival, end), and GET /stats answers
    {"requests", "keys": {K: {"calls", "units", "accepted_units", "rate_limited",
    "quota", "methods": {M: calls}}}, "over_budget", "max_window": {K: throughput units},
    "overlaps", "overlap_examples",
    "clients": {K: count}}, where an overlap is two requests for one key from different
    connections in flight at the same time (a worker sends one request at a time).

With --also HOST=URL (repeatable) it answers on the same port of another loopback address
too, forwarding there to another upstream: one provider account (one set of keys and
budgets) serving several networks, each on its own host, as Infura and Alchemy do.

Usage: provider_emulator.py --upstream URL --port-file FILE [--costs FILE] [--budget U]
       [--daily U] [--tolerance U] [--mode infura|alchemy] [--backoff-seconds S]
       [--also 127.0.0.2=URL] ...
Stdlib only; keys are never logged.
"""

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from badrpc import Upstream  # noqa: E402  (the same keep-alive upstream client)

KEY_PATH = re.compile(r"^/v[0-9]+/([^/?#]+)")
ALCHEMY_429 = {"code": 429, "message": "Your app has exceeded its compute units per second "
               "capacity. If you have retries enabled, you can safely ignore this message. If "
               "not, check out https://docs.alchemy.com/reference/throughput"}
QUOTA_402 = {"code": -33000, "message": "daily request count exceeded, request rate limited"}


class Costs:
    """A cost table (config/costs/*.cfg): billed units per method, throughput units where
    listed, and what an answer with an HTTP status is billed (error.CODE / error.4xx)."""

    def __init__(self, path):
        self.billed, self.throughput, self.errors, self.default = {}, {}, {}, 1
        for line in open(path) if path else []:
            line = line.split("#", 1)[0].strip()
            if "=" not in line:
                continue
            name, value = (part.strip() for part in line.split("=", 1))
            if name in ("name", "unit", "daily_reset"):
                continue
            if name == "default":
                self.default = int(value)
            elif name.startswith("throughput."):
                self.throughput[name[len("throughput."):]] = int(value)
            elif name.startswith("error."):
                self.errors[name[len("error."):]] = value
            else:
                self.billed[name] = int(value)

    def units(self, method):
        return self.billed.get(method, self.default)

    def throughput_units(self, method):
        return self.throughput.get(method, self.units(method))

    def answer_units(self, method, status):
        """Billed units of a call answered with HTTP status (None: no answer, billed whole)."""
        if status is None or 200 <= status < 300:
            return self.units(method)
        rule = self.errors.get(str(status), self.errors.get("%dxx" % (status // 100)))
        return self.units(method) if rule in (None, "method") else int(rule)


class Key:
    def __init__(self):
        self.calls = 0
        self.units = 0
        self.accepted_units = 0
        self.methods = {}
        self.rate_limited = 0
        self.quota = 0
        self.window = []        # (arrival, units) accepted in the last second
        self.forced = []        # answers forced by /control


class State:
    def __init__(self, options):
        self.options = options
        self.lock = threading.Lock()
        self.keys = {}
        self.records = []       # [key, client, start, end, units accepted]
        self.requests = 0
        self.over_budget = 0
        self.costs = Costs(options.costs)
        self.random = random.Random(options.seed)

    def admit(self, key, client, methods, now):
        """Counts a request; returns (answer, record, fault) with answer None to proxy it."""
        options, costs = self.options, self.costs
        billed = sum(costs.units(m) for m in methods)
        throughput = sum(costs.throughput_units(m) for m in methods)
        with self.lock:
            self.requests += 1
            state = self.keys.setdefault(key, Key())
            state.calls += len(methods)
            for method in methods:
                state.methods[method] = state.methods.get(method, 0) + 1
            while state.window and state.window[0][0] <= now - 1.0:
                state.window.pop(0)
            answer = state.forced.pop(0) if state.forced else None
            if answer is None and options.daily and state.accepted_units + billed > options.daily:
                answer = "402"
            if answer is None and options.budget:
                used = sum(u for _, u in state.window)
                if used + throughput > options.budget + options.tolerance:
                    answer = "alchemy429" if options.mode == "alchemy" else "429"
                    self.over_budget += 1
            if answer in ("429", "alchemy429", "http429"):
                state.rate_limited += 1
            elif answer == "402":
                state.quota += 1
            record = [key, client, now, now, 0]
            if answer is None:
                state.accepted_units += billed
                state.window.append((now, throughput))
                record[4] = throughput
            self.records.append(record)
            fault = None
            if answer is None and options.fault_rate and self.random.random() < options.fault_rate:
                fault = self.random.choice(options.faults)
            # The bill by the HTTP status the request is answered with; a timeout or a cut
            # answer was served as far as the provider knows.
            status = {"429": 429, "alchemy429": 429, "http429": 429, "402": 402}.get(answer)
            if answer is None:
                status = 500 if fault == "500" else 200
            state.units += sum(costs.answer_units(m, status) for m in methods)
            return answer, record, fault

    def stats(self):
        with self.lock:
            records = [list(r) for r in self.records]
            keys = {k: {"calls": v.calls, "units": v.units, "accepted_units": v.accepted_units,
                        "rate_limited": v.rate_limited, "quota": v.quota,
                        "methods": dict(v.methods)}
                    for k, v in self.keys.items()}
            requests, over_budget = self.requests, self.over_budget
        by_key = {}
        for record in records:
            by_key.setdefault(record[0], []).append(record)
        overlaps, examples, max_window, clients = 0, [], {}, {}
        for key, items in by_key.items():
            items.sort(key=lambda r: r[2])
            clients[key] = len({r[1] for r in items})
            latest = None      # the record in flight that ends last
            for record in items:
                if latest and record[2] < latest[3] and record[1] != latest[1]:
                    overlaps += 1
                    if len(examples) < 5:
                        examples.append({"key": key[:4] + "...", "first": latest[2],
                                         "first_end": latest[3], "second": record[2]})
                if latest is None or record[3] > latest[3]:
                    latest = record
            accepted = [(r[2], r[4]) for r in items if r[4]]
            best, total, first = 0, 0, 0
            for index, (arrival, units) in enumerate(accepted):
                total += units
                while accepted[first][0] <= arrival - 1.0:
                    total -= accepted[first][1]
                    first += 1
                best = max(best, total)
            max_window[key] = best
        return {"requests": requests, "keys": keys, "over_budget": over_budget,
                "max_window": max_window, "overlaps": overlaps,
                "overlap_examples": examples, "clients": clients}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120

    def log_message(self, format, *args):  # noqa: A002 - quiet: paths hold keys
        pass

    def _send(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status, document):
        self._send(status, json.dumps(document).encode())

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/stats":
            self._json(200, self.server.state.stats())
        elif path == "/health":
            self._send(200, b"ok\n", "text/plain")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _read(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length)

    def do_POST(self):
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        body = self._read()
        if path == "/control":
            order = json.loads(body)
            with state.lock:
                key = state.keys.setdefault(order["key"], Key())
                key.forced.extend([order["answer"]] * int(order.get("count", 1)))
            self._json(200, {"ok": True})
            return
        match = KEY_PATH.match(path)
        key = urllib.parse.unquote(match.group(1)) if match else "-"
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        calls = document if isinstance(document, list) else [document]
        methods = [c.get("method", "?") if isinstance(c, dict) else "?" for c in calls]
        client = "%s:%d" % self.client_address[:2]
        answer, record, fault = state.admit(key, client, methods, time.monotonic())
        call_id = calls[0].get("id") if isinstance(calls[0], dict) else None
        try:
            if answer == "429":
                error = {"code": -32005, "message": "project ID request rate exceeded",
                         "data": {"see": "https://infura.io/dashboard",
                                  "current_rps": 13.333, "allowed_rps": 10.0}}
                if self.server.options.backoff_seconds >= 0:
                    error["data"]["backoff_seconds"] = self.server.options.backoff_seconds
                self._json(429, {"jsonrpc": "2.0", "id": call_id, "error": error})
            elif answer == "alchemy429":
                self._json(429, {"jsonrpc": "2.0", "id": call_id, "error": ALCHEMY_429})
            elif answer == "http429":
                self._send(429, b"Too Many Requests\n", "text/plain")
            elif answer == "402":
                self._json(402, {"jsonrpc": "2.0", "id": call_id, "error": QUOTA_402})
            elif fault == "500":
                self._send(500, b"Internal Server Error\n", "text/plain")
            elif fault == "timeout":
                time.sleep(self.server.options.timeout_seconds)
                self.close_connection = True
            else:
                status, reply = self.server.upstream.post(body)
                if fault == "truncated":
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply[:len(reply) // 2])
                    self.close_connection = True
                else:
                    self._send(status, reply)
        finally:
            with state.lock:
                record[3] = time.monotonic()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv):
    parser = argparse.ArgumentParser(description="rate-limited provider emulator for tests")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--costs", default="")
    parser.add_argument("--budget", type=float, default=0)
    parser.add_argument("--tolerance", type=float, default=0)
    parser.add_argument("--daily", type=float, default=0)
    parser.add_argument("--mode", choices=("infura", "alchemy"), default="infura")
    parser.add_argument("--backoff-seconds", type=float, default=1.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default="500,timeout,truncated")
    parser.add_argument("--timeout-seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--also", action="append", default=[], metavar="HOST=URL")
    options = parser.parse_args(argv)
    options.faults = [f for f in options.faults.split(",") if f]
    state = State(options)
    server = Server(("127.0.0.1", 0), Handler)
    servers = [server]
    routes = [(server, options.upstream)]
    for also in options.also:
        host, _, upstream = also.partition("=")
        if not host.startswith("127.") or not upstream:
            parser.error("--also %s: a loopback address 127.x.y.z and an upstream URL" % also)
        other = Server((host, server.server_address[1]), Handler)
        servers.append(other)
        routes.append((other, upstream))
    for each, upstream in routes:
        each.options = options
        each.state = state
        each.upstream = Upstream(upstream)
    temporary = options.port_file + ".tmp"
    with open(temporary, "w") as file:
        file.write("%d\n" % server.server_address[1])
    os.replace(temporary, options.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    for each in servers:
        threading.Thread(target=each.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    while not done.wait(0.5):
        pass
    for each in servers:
        each.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
