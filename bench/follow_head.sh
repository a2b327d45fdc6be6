#!/usr/bin/env bash
# Benchmark: following the head (prints figures, asserts nothing).
#
#   bench/follow_head.sh [--duration D] [--block-time S] [--txs-per-block K] [--workers W]
#                        [--fetch block|hashes] [--receipts] [--per-block] [--evmtap PATH]
#
# Starts anvil --block-time S (default 1) on 127.0.0.1 and a steady stream of transactions
# (tests/traffic.py, K per round, default 3: a few per block), then evmtap `run` from the
# current head through tests/badrpc.py --fault-rate 0 (a pure counting proxy: chain id,
# head, every poll counted by the provider) for D seconds (default 60), then SIGTERM
# (exit 0 expected). Meanwhile bench/head_watch.py polls anvil directly (eth_blockNumber
# every 10 ms: when each block appears at the node), the files sink's
# <chain>.mined.blocks.metadata file every 5 ms (when each block is written) and the
# proxy's /stats every 20 ms. Prints provider calls per block (whole run and steady
# state after the first 10 blocks), evmtap's own count and early head polls, latency
# percentiles, and what the original mechanism would have cost for the same blocks.
# --receipts runs evmtap with --receipts (the block's receipts in the same batch).
# --per-block adds one line per block (for investigating).
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" follow_head

DURATION=60
BLOCK_TIME=1
PER_BLOCK=3
WORKERS=4
FETCH=block
RECEIPTS=()
PER_BLOCK_REPORT=
EVMTAP="$ROOT/build/release/evmtap"

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --block-time) BLOCK_TIME=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --fetch) FETCH=$2; shift 2 ;;
        --receipts) RECEIPTS=(--receipts); shift ;;
        --per-block) PER_BLOCK_REPORT=--per-block; shift ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -x "$EVMTAP" ] || fail "$EVMTAP not found: run scripts/build release"

start_anvil "$(free_port)" --block-time "$BLOCK_TIME"
start_badrpc "$ANVIL_URL" --fault-rate 0
WORK=$(tmpdir)

# Enough rounds for the whole run (each round waits for its receipts: about one block).
ROUNDS=$(python3 -c "import math; print(int(math.ceil(($DURATION + 30) / $BLOCK_TIME)) + 10)")
python3 "$ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks "$ROUNDS" \
    --txs-per-block "$PER_BLOCK" --out "$WORK/traffic.jsonl" >"$WORK/traffic.log" 2>&1 &
register_pid $!
TRAFFIC_PID=$!
# Let the traffic start and a few blocks pass: evmtap starts from a moving chain.
# (traffic.py buffers its --out file, so the transaction count of a block tells.)
has_txs() { [ "$(rpc "$ANVIL_URL" eth_getBlockTransactionCountByNumber '["latest"]')" != 0x0 ]; }
wait_for 30 has_txs || { cat "$WORK/traffic.log" >&2; fail "no traffic reached a block"; }
kill -0 "$TRAFFIC_PID" 2>/dev/null || { cat "$WORK/traffic.log" >&2; fail "traffic.py ended"; }
sleep "$BLOCK_TIME"

python3 "$HERE/head_watch.py" watch --node "$ANVIL_URL" --topics "$WORK/data/topics" \
    --proxy "$BADRPC_URL" --out "$WORK/watch.json" --ready "$WORK/watch.ready" &
WATCH_PID=$!
register_pid "$WATCH_PID"
wait_for 10 test -e "$WORK/watch.ready" || fail "head_watch.py did not start"

START_HEAD=$(rpc "$ANVIL_URL" eth_blockNumber)
log "anvil head $((START_HEAD)), evmtap --fetch $FETCH following for $DURATION s"
"$EVMTAP" run --rpc "$BADRPC_URL" --fetch "$FETCH" "${RECEIPTS[@]}" --workers "$WORKERS" \
    --data-dir "$WORK/data" 2>"$WORK/evmtap.stderr" &
EVMTAP_PID=$!
register_pid "$EVMTAP_PID"
sleep "$DURATION"
T0=$(date +%s%N)
kill -TERM "$EVMTAP_PID"
set +e
# Bounded: --drain-timeout is 10 s; cleanup kills it later if it is stuck.
for ((i = 0; i < 300; i++)); do kill -0 "$EVMTAP_PID" 2>/dev/null || break; sleep 0.05; done
wait "$EVMTAP_PID"
RC=$?
set -e
T1=$(date +%s%N)
sleep 0.2
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || true
stop_pid "$TRAFFIC_PID" 5

log "evmtap exit code after SIGTERM: $RC (0 expected), stopped in $(( (T1 - T0) / 1000000 )) ms"
grep -E '^[EW]:' "$WORK/evmtap.stderr" | head -n 20 >&2 || true
grep 'end ' "$WORK/evmtap.stderr" >&2 || true
python3 "$HERE/head_watch.py" report --watch "$WORK/watch.json" \
    --stderr "$WORK/evmtap.stderr" --interval-hint "$BLOCK_TIME" $PER_BLOCK_REPORT "${RECEIPTS[@]}"
echo "evmtap --fetch $FETCH ${RECEIPTS[*]} --workers $WORKERS, $DURATION s; exit code after SIGTERM: $RC"
if [ "${EVMTAP_KEEP_TMP:-0}" = 1 ]; then
    log "evmtap stderr: $WORK/evmtap.stderr, samples: $WORK/watch.json"
fi
