#!/usr/bin/env bash
# Benchmark: what --receipts costs, and the fallback for nodes without eth_getBlockReceipts
# (prints figures, asserts nothing).
#
#   bench/receipts.sh [--blocks N] [--txs-per-block K] [--reps R] [--evmtap PATH]
#
# Starts anvil --no-mining on 127.0.0.1 and mines N blocks of K transactions of
# tests/traffic.py's mix (token transfers, contract events, deployments: blocks with logs).
# Then, R times each, alternating the order, `evmtap run --from FIRST --to LAST` in four ways:
#   plain      --fetch block                      (no receipts)
#   receipts   --fetch block --receipts           (eth_getBlockReceipts: one more call)
#   fallback   --fetch block --receipts through a node without eth_getBlockReceipts
#              (tests/badrpc.py --refuse: batched eth_getTransactionReceipt per transaction)
#   original   --fetch hashes --receipts through the same node: the original system's way
#              (block, then every transaction and every receipt by hash)
# Each run goes through tests/badrpc.py --fault-rate 0 (a counting proxy): provider calls and
# HTTP requests per block; wall time from start to exit. Medians, and ratios to `receipts`.
# Defaults: N=20, K=30, R=3.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" receipts

BLOCKS=20
PER_BLOCK=30
REPS=3
EVMTAP="$ROOT/build/release/evmtap"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --blocks) BLOCKS=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -x "$EVMTAP" ] || fail "$EVMTAP not found: run scripts/build release"

start_anvil "$(free_port)" --no-mining
log "anvil at $ANVIL_URL; mining $BLOCKS blocks of $PER_BLOCK transactions"
python3 "$ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks "$BLOCKS" \
    --txs-per-block "$PER_BLOCK" --mine --seed 5 --out "$EVMTAP_TEST_ROOT/sent.jsonl" >/dev/null
LAST=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
FIRST=$(( LAST - BLOCKS + 1 ))
start_badrpc "$ANVIL_URL" --fault-rate 0
PLAIN_URL=$BADRPC_URL
start_badrpc "$ANVIL_URL" --fault-rate 0 --refuse eth_getBlockReceipts
REFUSING_URL=$BADRPC_URL

RESULTS="$EVMTAP_TEST_ROOT/results.tsv"
: >"$RESULTS"

# run_one WAY REP: one evmtap run through the counting proxy; appends
# way, rep, wall_ms, requests, calls, logs written.
run_one() {
    local way=$1 rep=$2 url=$PLAIN_URL dir before after t0 t1 logs
    local args=(--fetch block)
    case $way in
        receipts) args+=(--receipts) ;;
        fallback) args+=(--receipts); url=$REFUSING_URL ;;
        original) args=(--fetch hashes --receipts); url=$REFUSING_URL ;;
    esac
    dir=$(tmpdir)
    before=$(curl -sS --max-time 5 "$url/stats")
    t0=$(date +%s%N)
    "$EVMTAP" run --rpc "$url" --from "$FIRST" --to "$LAST" "${args[@]}" \
        --data-dir "$dir/data" 2>"$dir/stderr" || { tail -n 20 "$dir/stderr" >&2; fail "$way exited $?"; }
    t1=$(date +%s%N)
    after=$(curl -sS --max-time 5 "$url/stats")
    logs=$( (cat "$dir"/data/topics/anvil.mined.logs.decoded/*.ndjson 2>/dev/null || true) | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$way" "$rep" "$(( (t1 - t0) / 1000000 ))" \
        "$(( $(jq .requests <<<"$after") - $(jq .requests <<<"$before") ))" \
        "$(( $(jq .calls <<<"$after") - $(jq .calls <<<"$before") ))" "$logs" >>"$RESULTS"
    rm -rf "$dir"
}

for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2)); then order="plain receipts fallback original"
    else order="original fallback receipts plain"; fi
    for way in $order; do
        run_one "$way" "$rep"
    done
    log "rep $rep/$REPS done"
done

python3 - "$RESULTS" "$BLOCKS" "$PER_BLOCK" "$REPS" <<'EOF'
import statistics
import sys

path, blocks, per_block, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
fig = {}
for way in ("plain", "receipts", "fallback", "original"):
    sel = [r for r in rows if r[0] == way]
    med = lambda i: statistics.median(float(r[i]) for r in sel)
    fig[way] = {"ms": med(2), "http": med(3) / blocks, "calls": med(4) / blocks,
                "logs": med(5) / blocks, "walls": [int(r[2]) for r in sel]}
print()
print("receipts: %d blocks of %d transactions, median of %s runs each, through a counting proxy"
      % (blocks, per_block, reps))
print("%-9s %11s %10s %9s %9s  %s" % ("way", "calls/block", "HTTP/block", "logs/blk", "ms/block",
                                      "wall ms per run"))
for way, f in fig.items():
    print("%-9s %11.2f %10.2f %9.1f %9.1f  %s" % (way, f["calls"], f["http"], f["logs"],
                                                  f["ms"] / blocks, f["walls"]))
r = fig["receipts"]
for way in ("plain", "fallback", "original"):
    f = fig[way]
    print("ratio %s/receipts: calls %.2fx, HTTP %.2fx, wall %.2fx"
          % (way, f["calls"] / r["calls"], f["http"] / r["http"], f["ms"] / r["ms"]))
print("calls include eth_chainId and eth_blockNumber at start; the fallback and original ways "
      "include one refused eth_getBlockReceipts per worker.")
EOF
