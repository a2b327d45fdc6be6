#!/usr/bin/env python3
"""fetch_only: the node's ceiling for bench/backfill.sh: only the JSON-RPC calls of a
backfill in `--fetch block` mode, eth_getBlockByNumber(n, true) for every block of a range,
from W threads (one keep-alive connection each, as evmtap's workers), each answer read whole
and nothing else done with it. Prints one JSON line: {"blocks", "seconds", "blocks_per_s",
"bytes"}.

    python3 bench/fetch_only.py --rpc http://127.0.0.1:PORT --from A --to B --workers W
"""

import argparse
import http.client
import json
import threading
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--from", dest="first", type=int, required=True)
    parser.add_argument("--to", dest="last", type=int, required=True)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.rpc)
    numbers = list(range(args.first, args.last + 1))
    lock = threading.Lock()
    totals = {"bytes": 0, "errors": 0}

    def worker():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        while True:
            with lock:
                if not numbers:
                    break
                number = numbers.pop(0)
            body = json.dumps({"jsonrpc": "2.0", "id": number, "method": "eth_getBlockByNumber",
                               "params": [hex(number), True]})
            connection.request("POST", url.path or "/", body=body,
                               headers={"Content-Type": "application/json"})
            answer = connection.getresponse().read()
            with lock:
                totals["bytes"] += len(answer)
                totals["errors"] += answer.find(b'"result"') < 0
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    blocks = args.last - args.first + 1
    if totals["errors"]:
        raise SystemExit("fetch_only: %d answers without a result" % totals["errors"])
    print(json.dumps({"blocks": blocks, "seconds": round(seconds, 3),
                      "blocks_per_s": round(blocks / seconds, 2), "bytes": totals["bytes"]}))


if __name__ == "__main__":
    main()
