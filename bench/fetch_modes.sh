#!/usr/bin/env bash
# Benchmark: --fetch block against --fetch hashes on big blocks (prints figures, asserts nothing).
#
#   bench/fetch_modes.sh [--blocks N] [--txs-per-block K] [--workers W] [--reps R]
#                        [--evmtap PATH]
#
# Starts anvil --no-mining on 127.0.0.1, builds N blocks of K transactions with
# bench/make_big_blocks.py, then runs `evmtap run --from FIRST --to LAST` R times per mode,
# alternating the modes (block first on odd repetitions, hashes first on even ones), each
# run with a fresh --data-dir:
#   * once through tests/badrpc.py --fault-rate 0 (a pure counting proxy): HTTP requests and
#     JSON-RPC calls seen by the provider, read from GET /stats before and after the run;
#   * once directly against anvil, under /usr/bin/time -v: wall time and peak RSS (the
#     Python proxy is far slower than evmtap, so time through it would measure the proxy).
# Prints medians per mode and the ratios hashes/block. Defaults: N=20, K=250, W=4, R=3.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" fetch_modes

BLOCKS=20
PER_BLOCK=250
WORKERS=4
REPS=3
EVMTAP="$ROOT/build/release/evmtap"
RUN_TIMEOUT=300            # seconds, per evmtap run

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --blocks) BLOCKS=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -x "$EVMTAP" ] || fail "$EVMTAP not found: run scripts/build release"
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (Debian package 'time') for peak RSS"
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq time >/dev/null
    else
        sudo apt-get install -y -qq time >/dev/null
    fi
fi

big_blocks "$BLOCKS" "$PER_BLOCK"
start_badrpc "$ANVIL_URL" --fault-rate 0

# mode rep via wall_ms rss_kb requests calls evmtap_requests evmtap_cpu_ms anvil_cpu_ms
RESULTS="$EVMTAP_TEST_ROOT/results.tsv"
: >"$RESULTS"
TICK=$(getconf CLK_TCK)

# CPU time of anvil so far, ms (utime + stime from /proc).
anvil_cpu_ms() {
    awk -v tick="$TICK" '{ print int(($14 + $15) * 1000 / tick) }' "/proc/$ANVIL_PID/stat"
}

# run_one MODE REP VIA URL [TO]: one evmtap run; appends a line to $RESULTS. VIA "base"
# is a one-block run (--to FIRST) that measures the fixed cost of a run (start, exit).
run_one() {
    local mode=$1 rep=$2 via=$3 url=$4 to=${5:-$LAST} dir err t0 t1 rc before after c0 c1
    dir=$(tmpdir)
    err="$dir/stderr"
    before=$(curl -sS --max-time 5 "$BADRPC_URL/stats")
    c0=$(anvil_cpu_ms)
    t0=$(date +%s%N)
    set +e
    timeout "$RUN_TIMEOUT" /usr/bin/time -v "$EVMTAP" run --rpc "$url" --from "$FIRST" \
        --to "$to" --fetch "$mode" --workers "$WORKERS" --data-dir "$dir/data" 2>"$err"
    rc=$?
    set -e
    t1=$(date +%s%N)
    c1=$(anvil_cpu_ms)
    after=$(curl -sS --max-time 5 "$BADRPC_URL/stats")
    if [ "$rc" != 0 ]; then
        tail -n 20 "$err" >&2
        fail "evmtap --fetch $mode ($via) exited $rc"
    fi
    local got
    got=$(wc -l <"$dir/data/topics/anvil.mined.txs.hash.ids/"*.ndjson)
    [ "$via" = base ] || [ "$got" = "$TXS" ] || log "warning: $mode ($via) wrote $got transactions, expected $TXS"
    local rss evreq cpu
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$err")
    cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 }
                      END { printf "%d", s * 1000 }' "$err")
    evreq=$(sed -n 's/.* \([0-9][0-9]*\) requests (.*/\1/p' "$err" | tail -n 1)
    local requests calls
    requests=$(( $(jq .requests <<<"$after") - $(jq .requests <<<"$before") ))
    calls=$(( $(jq .calls <<<"$after") - $(jq .calls <<<"$before") ))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$rep" "$via" \
        "$(( (t1 - t0) / 1000000 ))" "${rss:-0}" "$requests" "$calls" "${evreq:-0}" \
        "${cpu:-0}" "$((c1 - c0))" >>"$RESULTS"
    rm -rf "$dir"
}

for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2)); then order="block hashes"; else order="hashes block"; fi
    for mode in $order; do
        run_one "$mode" "$rep" base "$ANVIL_URL" "$FIRST"
        run_one "$mode" "$rep" direct "$ANVIL_URL"
        run_one "$mode" "$rep" proxy "$BADRPC_URL"
        log "rep $rep/$REPS $mode: $(tail -n 3 "$RESULTS" | cut -f3-10 | tr '\t\n' ' ;')"
    done
done

python3 - "$RESULTS" "$BLOCKS" "$TXS" "$WORKERS" "$REPS" <<'EOF'
import statistics
import sys

path, blocks, txs, workers, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
fig = {}
for mode in ("block", "hashes"):
    sel = lambda via: [r for r in rows if r[0] == mode and r[2] == via]
    direct, proxy, base = sel("direct"), sel("proxy"), sel("base")
    wall = med(direct, 3)
    # Marginal time: the run minus the one-block run of the same repetition, per extra block.
    marginal = statistics.median(
        (float(d[3]) - float(b[3])) / (blocks - 1) for d, b in zip(direct, base)) \
        if blocks > 1 else float("nan")
    fig[mode] = {
        "calls": med(proxy, 6) / blocks, "http": med(proxy, 5) / blocks,
        "evmtap": med(proxy, 7) / blocks, "ms": wall / blocks, "marginal": marginal,
        "txs": txs / (wall / 1000.0), "rss": med(direct, 4) / 1024.0,
        "cpu": med(direct, 8) / blocks, "anvil_cpu": med(direct, 9) / blocks,
        "base": med(base, 3),
        "walls": [int(r[3]) for r in direct], "proxy_walls": [int(r[3]) for r in proxy],
    }
print()
print("fetch modes: %d blocks, %d txs (%d per block), --workers %s, median of %s runs each"
      % (blocks, txs, txs // blocks, workers, reps))
print("%-7s %6s %5s %11s %10s %8s %8s %9s %6s %9s %9s %7s" % (
    "mode", "blocks", "txs", "calls/block", "HTTP/block", "evmtap/b", "ms/block",
    "marg ms/b", "tx/s", "evmtap", "anvil", "RSS"))
print("%-7s %6s %5s %11s %10s %8s %8s %9s %6s %9s %9s %7s" % (
    "", "", "", "(provider)", "(provider)", "(own)", "(wall)", "(wall)", "(wall)",
    "CPU ms/b", "CPU ms/b", "MiB"))
for mode in ("block", "hashes"):
    f = fig[mode]
    print("%-7s %6d %5d %11.2f %10.2f %8.2f %8.1f %9.1f %6.0f %9.1f %9.1f %7.1f" % (
        mode, blocks, txs, f["calls"], f["http"], f["evmtap"], f["ms"], f["marginal"],
        f["txs"], f["cpu"], f["anvil_cpu"], f["rss"]))
b, h = fig["block"], fig["hashes"]
r = lambda k: h[k] / b[k] if b[k] else float("nan")
print("ratio hashes/block: provider calls %.1fx, HTTP requests %.1fx, wall time %.2fx "
      "(marginal %.2fx), evmtap CPU %.2fx, anvil CPU %.2fx, peak RSS %.2fx"
      % (r("calls"), r("http"), r("ms"), r("marginal"), r("cpu"), r("anvil_cpu"), r("rss")))
print("direct wall times (ms): block %s, hashes %s; one-block runs (fixed cost): block %.0f, "
      "hashes %.0f; through the proxy: block %s, hashes %s"
      % (b["walls"], h["walls"], b["base"], h["base"], b["proxy_walls"], h["proxy_walls"]))
print("calls/block, HTTP/block: seen by the provider (proxy runs), each call of a batch "
      "counted, eth_chainId and eth_blockNumber at start included; evmtap/b: evmtap's own "
      "count (without eth_chainId). ms/block, tx/s, CPU, RSS: direct runs, whole process "
      "from start to exit; marg ms/b: (run - one-block run) / (blocks - 1).")
EOF
