#!/usr/bin/env bash
# bench/backfill.sh: evmtap backfill on one anvil chain of big blocks, in one run.
#   bench/backfill.sh [--blocks 100] [--txs-per-block 250] [--workers 4] [--reps 3]
#                     [--hash-blocks 2] [--evmtap PATH]
# 1. Throughput: `evmtap backfill --from FIRST --to LAST --workers W` (fresh data dir each
#    time) against bench/fetch_only.py, which makes only the JSON-RPC calls
#    (eth_getBlockByNumber(n, true), W connections): the node's ceiling. Backfill as the
#    whole process's wall time, and marginal: (N - 1) blocks over the time beyond a one-block
#    backfill's (the fixed cost of a process: start, probes, ABIs, exit). Alternating which
#    goes first, R repetitions, medians; ratios backfill/fetch-only (target >= 1.0). Twice:
#    with the node on cores of its own (taskset: anvil on the first half of the CPUs, the
#    client on the rest), as a provider's node is never on the client's cores, so that the
#    ratio says how well the client keeps the node busy; then with node and client sharing
#    every core, where the ratio also weighs the client's CPU per block against the node's.
# 2. Under one key limited to 10 requests/s (tests/provider_emulator.py --budget 10, evmtap
#    --key-rps 10): blocks/s of `--fetch block` over all blocks against `--fetch hashes`
#    (the original mechanism: one request per transaction) over --hash-blocks blocks, from
#    each backfill's last progress line (rates from its first sample); ratio (target >= 200).
set -euo pipefail
source "$(dirname "$0")/lib.sh" backfill.sh
BLOCKS=100 PER_BLOCK=250 WORKERS=4 REPS=3 HASH_BLOCKS=2
EVMTAP="$ROOT/build/release/evmtap"
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --blocks) BLOCKS=$2; shift 2 ;;
        --txs-per-block) PER_BLOCK=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --hash-blocks) HASH_BLOCKS=$2; shift 2 ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -x "$EVMTAP" ] || fail "$EVMTAP not built: scripts/build release"

big_blocks "$BLOCKS" "$PER_BLOCK"

now_ms() { date +%s%3N; }

# 1. Throughput against the fetch-only client.
# backfill_ms TO: wall time of a backfill FIRST..TO, in ms.
backfill_ms() {
    local dir start end
    dir=$(tmpdir)
    start=$(now_ms)
    $CLIENT "$EVMTAP" backfill --rpc "$ANVIL_URL" --from "$FIRST" --to "$1" --workers "$WORKERS" \
        --data-dir "$dir/data" 2>"$dir/log" || { cat "$dir/log" >&2; fail "backfill failed"; }
    end=$(now_ms)
    rm -rf "$dir"
    echo $((end - start))
}
run_backfill() {
    local one all
    one=$(backfill_ms "$FIRST")
    all=$(backfill_ms "$LAST")
    awk -v n="$N" -v ms="$all" 'BEGIN { printf "%.2f\n", n * 1000 / ms }' \
        >>"$EVMTAP_TEST_ROOT/backfill.txt"
    awk -v n="$N" -v ms="$((all - one))" 'BEGIN { printf "%.2f\n", (n - 1) * 1000 / ms }' \
        >>"$EVMTAP_TEST_ROOT/marginal.txt"
}
run_fetch() {
    $CLIENT python3 "$HERE/fetch_only.py" --rpc "$ANVIL_URL" --from "$FIRST" --to "$LAST" \
        --workers "$WORKERS" | jq -r .blocks_per_s >>"$EVMTAP_TEST_ROOT/fetch.txt"
}
# throughput PLACEMENT: phase 1 under $CLIENT (a taskset prefix, or nothing).
throughput() {
    : >"$EVMTAP_TEST_ROOT/backfill.txt"
    : >"$EVMTAP_TEST_ROOT/fetch.txt"
    : >"$EVMTAP_TEST_ROOT/marginal.txt"
    for ((rep = 1; rep <= REPS; rep++)); do
        if ((rep % 2)); then run_backfill; run_fetch; else run_fetch; run_backfill; fi
    done
    BACKFILL_BPS=$(median <"$EVMTAP_TEST_ROOT/backfill.txt")
    MARGINAL_BPS=$(median <"$EVMTAP_TEST_ROOT/marginal.txt")
    FETCH_BPS=$(median <"$EVMTAP_TEST_ROOT/fetch.txt")
    printf 'throughput, %s, %d blocks of %d txs, %d workers, %d reps (medians, blocks/s):\n' \
        "$1" "$N" "$PER_BLOCK" "$WORKERS" "$REPS"
    printf '  evmtap backfill  %8.2f   (each: %s)\n' "$BACKFILL_BPS" "$(paste -sd' ' "$EVMTAP_TEST_ROOT/backfill.txt")"
    printf '    marginal       %8.2f   (each: %s)\n' "$MARGINAL_BPS" "$(paste -sd' ' "$EVMTAP_TEST_ROOT/marginal.txt")"
    printf '  fetch-only       %8.2f   (each: %s)\n' "$FETCH_BPS" "$(paste -sd' ' "$EVMTAP_TEST_ROOT/fetch.txt")"
    awk -v a="$BACKFILL_BPS" -v m="$MARGINAL_BPS" -v b="$FETCH_BPS" 'BEGIN {
        printf "  ratio backfill/fetch-only %.2f whole process, %.2f marginal (target >= 1.0)\n", a / b, m / b }'
}
CPUS=$(nproc)
if ((CPUS >= 2)); then
    NODE_CPUS="0-$((CPUS / 2 - 1))"
    CLIENT_CPUS="$((CPUS / 2))-$((CPUS - 1))"
    taskset -a -pc "$NODE_CPUS" "$ANVIL_PID" >/dev/null
    CLIENT="taskset -c $CLIENT_CPUS"
    throughput "node on CPUs $NODE_CPUS, client on CPUs $CLIENT_CPUS"
    taskset -a -pc "0-$((CPUS - 1))" "$ANVIL_PID" >/dev/null
fi
CLIENT=""
throughput "node and client sharing all $CPUS CPUs"

# 2. One key at 10 requests/s: --fetch block against --fetch hashes.
start_emulator() {
    local port_file="$EVMTAP_TEST_ROOT/emulator.port"
    python3 "$ROOT/tests/provider_emulator.py" --upstream "$ANVIL_URL" --port-file "$port_file" \
        --budget 10 >"$port_file.log" 2>&1 &
    register_pid $!
    wait_for 10 test -s "$port_file" || fail "provider_emulator.py did not start"
    EMU_URL="http://127.0.0.1:$(cat "$port_file")"
}
start_emulator
export EVMTAP_KEY_BENCH_KEY=benchSecret
# limited MODE TO: blocks/s of a backfill FIRST..TO under the key, from its last line.
limited() {
    local mode=$1 to=$2 dir line
    dir=$(tmpdir)
    "$EVMTAP" backfill --rpc "$EMU_URL/v3/{key}" --keys bench_key --key-rps 10 --workers 1 \
        --fetch "$mode" --from "$FIRST" --to "$to" --data-dir "$dir/data" \
        --progress-interval 60 2>"$dir/log" || { cat "$dir/log" >&2; fail "backfill --fetch $mode failed"; }
    line=$(grep '^backfill ' "$dir/log" | tail -n 1)
    log "--fetch $mode: $line"
    sed -E 's/.* ([0-9.]+) blocks\/s .*/\1/' <<<"$line"
}
BLOCK_BPS=$(limited block "$LAST")
HASH_BPS=$(limited hashes "$((FIRST + HASH_BLOCKS - 1))")
OVER=$(curl -sS --max-time 10 "$EMU_URL/stats" | jq .over_budget)
printf 'one key at 10 requests/s (provider emulator --budget 10, %s answers over budget):\n' "$OVER"
printf '  --fetch block   %8s blocks/s over %d blocks\n' "$BLOCK_BPS" "$N"
printf '  --fetch hashes  %8s blocks/s over %d blocks\n' "$HASH_BPS" "$HASH_BLOCKS"
awk -v a="$BLOCK_BPS" -v b="$HASH_BPS" 'BEGIN { printf "  ratio block/hashes %.0fx (target >= 200x)\n", a / b }'
