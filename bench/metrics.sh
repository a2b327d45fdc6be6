#!/usr/bin/env bash
# bench/metrics.sh: the cost of --metrics, in one run. The same backfill of anvil's big
# blocks (bench/make_big_blocks.py) without --metrics, and with --metrics and a scrape of
# /metrics every second for the whole backfill, alternating which goes first, R reps, each
# from a fresh data dir; transactions per second of wall time (the whole process) and per
# CPU second (user + system, less sensitive to a busy machine), and the medians' ratios
# with/without (target >= 0.97: within 3 %).
#   bench/metrics.sh [--blocks 60] [--txs-per-block 250] [--workers 4] [--reps 5]
#                    [--evmtap PATH]
set -euo pipefail
source "$(dirname "$0")/lib.sh" metrics.sh
BLOCKS=60 PER_BLOCK=250 WORKERS=4 REPS=5
EVMTAP="$ROOT/build/release/evmtap"
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --blocks) BLOCKS=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -x "$EVMTAP" ] || fail "$EVMTAP not built: scripts/build release"

big_blocks "$BLOCKS" "$PER_BLOCK"

now_ms() { date +%s%3N; }

# backfill_tps [--metrics]: "wall cpu": transactions per second of wall time and per CPU
# second of one backfill FIRST..LAST; with --metrics, /metrics is scraped every second
# while it runs (the scrapes are counted).
backfill_tps() {
    local dir start end pid scraper="" port
    dir=$(tmpdir)
    local extra=()
    if [ "${1:-}" = --metrics ]; then
        port=$(free_port)
        extra=(--metrics "127.0.0.1:$port")
        (while true; do
             curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >/dev/null && echo >>"$dir/scrapes"
             sleep 1
         done) &
        scraper=$!
    fi
    start=$(now_ms)
    /usr/bin/time -f '%U %S' -o "$dir/cpu" \
        "$EVMTAP" backfill --rpc "$ANVIL_URL" --from "$FIRST" --to "$LAST" --workers "$WORKERS" \
        --data-dir "$dir/data" "${extra[@]}" 2>"$dir/log" || { cat "$dir/log" >&2; fail "backfill failed"; }
    end=$(now_ms)
    if [ -n "$scraper" ]; then
        kill "$scraper" 2>/dev/null || true
        wait "$scraper" 2>/dev/null || true
        log "with --metrics: $(wc -l <"$dir/scrapes" 2>/dev/null || echo 0) scrapes in $((end - start)) ms"
    fi
    awk -v n="$TXS" -v ms="$((end - start))" '{ printf "%.1f %.1f\n", n * 1000 / ms, n / ($1 + $2) }' \
        "$dir/cpu"
    rm -rf "$dir"
}
: >"$EVMTAP_TEST_ROOT/off.txt"
: >"$EVMTAP_TEST_ROOT/on.txt"
for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2)); then
        backfill_tps >>"$EVMTAP_TEST_ROOT/off.txt"
        backfill_tps --metrics >>"$EVMTAP_TEST_ROOT/on.txt"
    else
        backfill_tps --metrics >>"$EVMTAP_TEST_ROOT/on.txt"
        backfill_tps >>"$EVMTAP_TEST_ROOT/off.txt"
    fi
done
OFF=$(cut -d' ' -f1 "$EVMTAP_TEST_ROOT/off.txt" | median)
ON=$(cut -d' ' -f1 "$EVMTAP_TEST_ROOT/on.txt" | median)
OFF_CPU=$(cut -d' ' -f2 "$EVMTAP_TEST_ROOT/off.txt" | median)
ON_CPU=$(cut -d' ' -f2 "$EVMTAP_TEST_ROOT/on.txt" | median)
printf 'backfill of %d blocks, %d txs, %d workers, %d reps (medians):\n' \
    "$((LAST - FIRST + 1))" "$TXS" "$WORKERS" "$REPS"
printf '                                   tx/s   tx/CPU-s\n'
printf '  without --metrics              %8.1f %10.1f   (each: %s)\n' "$OFF" "$OFF_CPU" \
    "$(paste -sd',' "$EVMTAP_TEST_ROOT/off.txt")"
printf '  --metrics, a scrape each second %7.1f %10.1f   (each: %s)\n' "$ON" "$ON_CPU" \
    "$(paste -sd',' "$EVMTAP_TEST_ROOT/on.txt")"
awk -v a="$ON" -v b="$OFF" -v c="$ON_CPU" -v d="$OFF_CPU" 'BEGIN {
    printf "  ratio with/without %.3f wall, %.3f CPU (target >= 0.97)\n", a / b, c / d }'
