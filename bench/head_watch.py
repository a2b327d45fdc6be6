#!/usr/bin/env python3
"""head_watch: measures evmtap's latency at the head, for bench/follow_head.sh.

    python3 bench/head_watch.py watch --node URL --topics DIR [--chain anvil] [--proxy URL]
                                      --out FILE
    python3 bench/head_watch.py report --watch FILE --stderr EVMTAP_STDERR [--skip 10]
                                       [--interval-hint S]

watch: until SIGTERM or SIGINT, three threads sample, all on the wall clock (time.time()):
  * the node (anvil, directly): eth_blockNumber every 10 ms; the first time a number is
    seen is the block's appearance at the node (numbers skipped between two polls get the
    same time and are flagged);
  * the files sink: DIR/<chain>.mined.blocks.metadata/*.ndjson every 5 ms; the first time
    a block's line is there is its written time (the broker writes a block's records
    together and commits, i.e. flushes, when idle);
  * the counting proxy (tests/badrpc.py, optional): GET /stats every 20 ms, kept when the
    counts change, so calls can be attributed to the blocks written around them.
On exit writes one JSON object to --out.

report: prints the figures from that file and evmtap's stderr (its end line). Python 3
standard library only.
"""

import argparse
import glob
import json
import os
import re
import signal
import statistics
import sys
import threading
import time
import urllib.request

sys.dont_write_bytecode = True


def post(url, method, params=None, timeout=2.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())["result"]


class Watch:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.appear = {}        # number -> wall time first seen at the node
        self.skipped = set()    # numbers first seen together with a later one
        self.node_polls = 0
        self.node_errors = 0
        self.written = {}       # number -> wall time its metadata line was seen
        self.meta = {}          # number -> {"timestamp", "transactionCount"}
        self.proxy = []         # [t, calls, requests, {method: n}] when changed
        self.proxy_errors = 0

    def node_loop(self):
        last = None
        while not self.stop.is_set():
            t_sent = time.time()
            try:
                n = int(post(self.args.node, "eth_blockNumber"), 16)
            except Exception:   # noqa: BLE001 - keep sampling; counted
                self.node_errors += 1
                n = None
            t = time.time()
            self.node_polls += 1
            if n is not None:
                with self.lock:
                    if last is None:
                        self.appear[n] = None        # there before we looked
                    else:
                        for k in range(last + 1, n + 1):
                            # The midpoint of the answered request: the block was there
                            # by t and (at best) not at the previous poll.
                            self.appear[k] = (t_sent + t) / 2
                            if k != n:
                                self.skipped.add(k)
                    last = n if last is None or n > last else last
            self.stop.wait(max(0.0, 0.010 - (time.time() - t_sent)))

    def files_loop(self):
        offsets = {}
        pattern = os.path.join(self.args.topics, self.args.chain + ".mined.blocks.metadata",
                               "*.ndjson")
        partial = {}
        while not self.stop.is_set():
            t0 = time.time()
            for path in glob.glob(pattern):
                try:
                    with open(path, "rb") as f:
                        f.seek(offsets.get(path, 0))
                        data = f.read()
                except OSError:
                    continue
                if not data:
                    continue
                t = time.time()
                offsets[path] = offsets.get(path, 0) + len(data)
                data = partial.pop(path, b"") + data
                lines = data.split(b"\n")
                if lines[-1]:
                    partial[path] = lines[-1]
                for line in lines[:-1]:
                    if not line.strip():
                        continue
                    rec = json.loads(line)
                    with self.lock:
                        self.written.setdefault(rec["number"], t)
                        self.meta[rec["number"]] = {
                            "timestamp": rec["timestamp"],
                            "transactionCount": rec.get("transactionCount", 0)}
            self.stop.wait(max(0.0, 0.005 - (time.time() - t0)))

    def proxy_loop(self):
        last = None
        while not self.stop.is_set():
            t0 = time.time()
            try:
                with urllib.request.urlopen(self.args.proxy + "/stats", timeout=2) as r:
                    s = json.loads(r.read())
                key = (s["calls"], s["requests"])
                if key != last:
                    with self.lock:
                        self.proxy.append([time.time(), s["calls"], s["requests"],
                                           s.get("methods", {})])
                    last = key
            except Exception:   # noqa: BLE001
                self.proxy_errors += 1
            self.stop.wait(max(0.0, 0.020 - (time.time() - t0)))

    def run(self):
        threads = [threading.Thread(target=self.node_loop, daemon=True),
                   threading.Thread(target=self.files_loop, daemon=True)]
        if self.args.proxy:
            threads.append(threading.Thread(target=self.proxy_loop, daemon=True))
        for th in threads:
            th.start()
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        if self.args.ready:
            open(self.args.ready, "w").close()
        while not self.stop.is_set():
            self.stop.wait(0.2)
        # One last look at the files: the drain may have written the last blocks.
        time.sleep(0.05)
        for th in threads:
            th.join(timeout=3)
        with self.lock:
            out = {"appear": {str(k): v for k, v in self.appear.items()},
                   "skipped": sorted(self.skipped), "node_polls": self.node_polls,
                   "node_errors": self.node_errors,
                   "written": {str(k): v for k, v in self.written.items()},
                   "meta": {str(k): v for k, v in self.meta.items()},
                   "proxy": self.proxy, "proxy_errors": self.proxy_errors}
        with open(self.args.out + ".tmp", "w") as f:
            json.dump(out, f)
        os.replace(self.args.out + ".tmp", self.args.out)


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def dist(name, values, unit="ms"):
    if not values:
        return "%-44s (no data)" % name
    return "%-44s n=%-4d p50 %6.0f  p90 %6.0f  p99 %6.0f  max %6.0f %s" % (
        name, len(values), pct(values, 50), pct(values, 90), pct(values, 99), max(values),
        unit)


def calls_at(proxy, t):
    """Provider calls counted by time t (the last sample at or before t)."""
    calls = 0
    for sample in proxy:
        if sample[0] <= t:
            calls = sample[1]
        else:
            break
    return calls


def report(args):
    w = json.load(open(args.watch))
    appear = {int(k): v for k, v in w["appear"].items()}
    written = {int(k): v for k, v in w["written"].items()}
    meta = {int(k): v for k, v in w["meta"].items()}
    skipped = set(w["skipped"])
    proxy = w["proxy"]
    end = None
    for line in open(args.stderr, errors="replace"):
        m = re.search(r"end (\S+): (\d+) blocks published, next (\d+), head (\d+), (\d+) "
                      r"requests \(([\d.]+) per block, (\d+) early head polls\)", line)
        if m:
            end = {"blocks": int(m.group(2)), "next": int(m.group(3)),
                   "head": int(m.group(4)), "requests": int(m.group(5)),
                   "misses": int(m.group(7))}
    numbers = sorted(written)
    if not numbers:
        print("follow_head: no block written")
        return 1
    first, last = numbers[0], numbers[-1]
    missing = [n for n in range(first, last + 1) if n not in written]
    final = proxy[-1] if proxy else None
    total_calls = final[1] if final else 0
    total_http = final[2] if final else 0
    methods = final[3] if final else {}
    blocks = len(numbers)

    print()
    print("follow head: blocks %d..%d written (%d blocks, %d missing in between), "
          "anvil --block-time %s" % (first, last, blocks, len(missing), args.interval_hint))
    ts = [meta[n]["timestamp"] for n in numbers]
    deltas = [b - a for a, b in zip(ts, ts[1:])]
    interval = statistics.median(deltas) if deltas else float(args.interval_hint or 1)
    txs = [meta[n]["transactionCount"] for n in numbers]
    mean_txs = sum(txs) / len(txs)
    print("  observed: median timestamp interval %.1f s, %.2f transactions per block "
          "(min %d, max %d)" % (interval, mean_txs, min(txs), max(txs)))

    print("Requests")
    if final:
        print("  provider (proxy) total: %d calls in %d HTTP requests for %d blocks: "
              "%.3f calls per block, %.3f HTTP per block" % (
                  total_calls, total_http, blocks, total_calls / blocks, total_http / blocks))
        print("    by method: %s" % ", ".join("%s %d" % kv for kv in sorted(methods.items())))
    steady_calls = None
    if final and blocks > args.skip + 2:
        a, b = numbers[args.skip], numbers[-1]
        # Calls between the written times of blocks a and b fetch blocks a+1..b.
        ca, cb = calls_at(proxy, written[a]), calls_at(proxy, written[b])
        steady_calls = (cb - ca) / (b - a)
        print("  provider, steady state (blocks %d..%d, after the first %d): %.3f calls "
              "per block" % (a + 1, b, args.skip, steady_calls))
    if end:
        print("  evmtap's own count: %d requests for %d blocks = %.3f per block, "
              "%d early head polls (%.3f per block)" % (
                  end["requests"], end["blocks"], end["requests"] / max(1, end["blocks"]),
                  end["misses"], end["misses"] / max(1, end["blocks"])))
    else:
        print("  evmtap's end line not found in its stderr")
    # With receipts the original system would also have asked one receipt per transaction.
    receipts = mean_txs if args.receipts else 0
    original = mean_txs + 1 + interval + receipts
    shown = steady_calls if steady_calls is not None else (total_calls / blocks if final else 0)
    print("  original mechanism (a poll every second + block + one get_transaction per "
          "hash%s): %.2f + 1 + %.1f%s = %.2f requests per block; ratio original/evmtap %.1fx"
          % (" + one receipt per hash" if args.receipts else "", mean_txs, interval,
             " + %.2f" % receipts if args.receipts else "", original,
             original / shown if shown else float("nan")))
    print("  target: --fetch block%s <= %s requests per block while following the head: "
          "measured %.3f (steady state), %.3f (whole run, start and drain included)"
          % (" --receipts" if args.receipts else "", "2.2" if args.receipts else "1.2", shown,
             total_calls / blocks if final else float("nan")))

    print("Latency (ms; node appearance polled every 10 ms, files every 5 ms)")
    la = [(written[n] - appear[n]) * 1000 for n in numbers
          if appear.get(n) is not None and n not in skipped]
    lb = [(written[n] - meta[n]["timestamp"]) * 1000 for n in numbers]
    print("  " + dist("(a) written - appearance at the node", la))
    print("  " + dist("(b) written - block timestamp", lb))
    print("  " + dist("    appearance at the node - block timestamp",
                      [(appear[n] - meta[n]["timestamp"]) * 1000 for n in numbers
                       if appear.get(n) is not None and n not in skipped]))
    if len(la) > args.skip + 2:
        print("  " + dist("(a) after the first %d blocks" % args.skip,
                          [(written[n] - appear[n]) * 1000 for n in numbers[args.skip:]
                           if appear.get(n) is not None and n not in skipped]))
    print("  (b) uses whole-second timestamps: it includes the part of a second anvil spends "
          "between the timestamp and the block's appearance.")
    if skipped & set(numbers):
        print("  note: %d blocks appeared together with the next one between two node polls "
              "(left out of (a))" % len(skipped & set(numbers)))
    if args.per_block:
        print("Per block: number txs appear-ts(ms) written-appear(ms) calls-since-previous")
        prev_calls = calls_at(proxy, written[first]) if proxy else 0
        for n in numbers:
            c = calls_at(proxy, written[n]) if proxy else 0
            ap = appear.get(n)
            print("  %6d %4d %8s %8s %4d" % (
                n, meta[n]["transactionCount"],
                "%.0f" % ((ap - meta[n]["timestamp"]) * 1000) if ap else "-",
                "%.0f" % ((written[n] - ap) * 1000) if ap else "-", c - prev_calls))
            prev_calls = c
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch")
    w.add_argument("--node", required=True)
    w.add_argument("--topics", required=True, help="the files sink's directory")
    w.add_argument("--chain", default="anvil")
    w.add_argument("--proxy", help="badrpc.py base URL (GET /stats)")
    w.add_argument("--out", required=True)
    w.add_argument("--ready", help="file created once sampling started")
    r = sub.add_parser("report")
    r.add_argument("--watch", required=True)
    r.add_argument("--stderr", required=True)
    r.add_argument("--skip", type=int, default=10, help="learning blocks left out (10)")
    r.add_argument("--interval-hint", default="?")
    r.add_argument("--receipts", action="store_true", help="evmtap ran with --receipts")
    r.add_argument("--per-block", action="store_true", help="print one line per block")
    args = ap.parse_args(argv)
    if args.cmd == "watch":
        Watch(args).run()
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
