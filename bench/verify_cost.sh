#!/usr/bin/env bash
# bench/verify_cost.sh: what proving blocks costs end to end, in one run.
#   bench/verify_cost.sh [--blocks 50] [--txs-per-block 250] [--workers 4] [--reps 3]
#                        [--evmtap PATH]
# One anvil --no-mining chain of N blocks of K transactions (make_big_blocks.py), anvil on
# the first half of the CPUs and evmtap on the other (taskset, as bench/backfill.sh), so
# that the node's own CPU does not blur the client's. Then `evmtap backfill --from FIRST
# --to LAST --workers W` (fresh data dir each time) under /usr/bin/time, in four modes:
# with --receipts at --verify full and --verify off, and without receipts at --verify full
# (the header level) and off. R repetitions, the order of the modes alternated each time;
# medians of tx/s (wall time of the whole process) and of evmtap's CPU seconds (user +
# system). Ratios full/off for both (target: tx/s within 15 %, a ratio >= 0.85).
set -euo pipefail
source "$(dirname "$0")/lib.sh" verify_cost.sh
BLOCKS=50 PER_BLOCK=250 WORKERS=4 REPS=3
EVMTAP="$ROOT/build/release/evmtap"
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
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
[ -x /usr/bin/time ] || fail "/usr/bin/time not found: apt-get install time"

big_blocks "$BLOCKS" "$PER_BLOCK"

CLIENT=""
CPUS=$(nproc)
if ((CPUS >= 2)); then
    taskset -a -pc "0-$((CPUS / 2 - 1))" "$ANVIL_PID" >/dev/null
    CLIENT="taskset -c $((CPUS / 2))-$((CPUS - 1))"
fi

MODES=(receipts-full receipts-off block-full block-off)
# run MODE: one backfill; appends its tx/s and CPU seconds to $EVMTAP_TEST_ROOT/MODE.*.
run() {
    local mode=$1 dir args=() times
    case "$mode" in
        receipts-*) args+=(--receipts) ;;
    esac
    args+=(--verify "${mode#*-}")
    dir=$(tmpdir)
    $CLIENT /usr/bin/time -f '%e %U %S' -o "$dir/time" "$EVMTAP" backfill --rpc "$ANVIL_URL" \
        --from "$FIRST" --to "$LAST" --workers "$WORKERS" "${args[@]}" --data-dir "$dir/data" \
        2>"$dir/log" || { cat "$dir/log" >&2; fail "backfill $mode failed"; }
    grep -q '"verified":"' "$dir"/data/topics/*.mined.blocks.metadata/*.ndjson \
        || fail "backfill $mode: no \"verified\" in the block records"
    times=$(tail -n 1 "$dir/time")
    awk -v t="$TXS" -v e="${times%% *}" 'BEGIN { printf "%.0f\n", t / e }' >>"$EVMTAP_TEST_ROOT/$mode.tps"
    awk '{ printf "%.2f\n", $2 + $3 }' <<<"$times" >>"$EVMTAP_TEST_ROOT/$mode.cpu"
    rm -rf "$dir"
}
for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep % 2)); then order=("${MODES[@]}"); else order=(receipts-off receipts-full block-off block-full); fi
    for mode in "${order[@]}"; do run "$mode"; done
done

printf 'verification end to end: evmtap backfill, %d blocks of %d txs (%d), %d workers, %d reps, %s\n' \
    "$N" "$PER_BLOCK" "$TXS" "$WORKERS" "$REPS" "${CLIENT:-node and client sharing the CPUs}"
printf '  %-24s %9s %9s   %s\n' mode 'tx/s' 'CPU s' 'each (tx/s; CPU s)'
for mode in "${MODES[@]}"; do
    printf '  %-24s %9s %9s   %s; %s\n' "$mode" "$(median <"$EVMTAP_TEST_ROOT/$mode.tps")" \
        "$(median <"$EVMTAP_TEST_ROOT/$mode.cpu")" "$(paste -sd' ' "$EVMTAP_TEST_ROOT/$mode.tps")" \
        "$(paste -sd' ' "$EVMTAP_TEST_ROOT/$mode.cpu")"
done
for kind in receipts block; do
    awk -v k="$kind" -v a="$(median <"$EVMTAP_TEST_ROOT/$kind-full.tps")" \
        -v b="$(median <"$EVMTAP_TEST_ROOT/$kind-off.tps")" \
        -v c="$(median <"$EVMTAP_TEST_ROOT/$kind-full.cpu")" \
        -v d="$(median <"$EVMTAP_TEST_ROOT/$kind-off.cpu")" 'BEGIN {
        printf "  %s: tx/s full/off %.2f (target >= 0.85), CPU full/off %.2f\n", k, a / b, c / d }'
done
