#!/usr/bin/env bash
# Benchmark: the coordinator's memory with remote workers (prints figures, asserts nothing).
#
#   bench/workers_rss.sh [--duration D] [--remotes R] [--per-remote K] [--evmtap PATH]
#
# Starts anvil --block-time 1 on 127.0.0.1, then, for D seconds each (default 30), side by
# side: a coordinator `evmtap run --listen --workers 0` following the head with R
# (default 8) `evmtap worker --workers K` processes (default 2) joined to it, and a plain
# `evmtap run --workers R*K` with its workers in process. Samples each coordinator's VmRSS
# every 0.5 s; prints the peak and the last sample of each, the ratio, and the blocks each
# published.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" workers_rss

DURATION=30
REMOTES=8
PER_REMOTE=2
EVMTAP="$ROOT/build/release/evmtap"
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --duration) DURATION=$2; shift 2 ;;
        --remotes) REMOTES=$2; shift 2 ;;
        --per-remote) PER_REMOTE=$2; shift 2 ;;
        --evmtap) EVMTAP=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
work=$(tmpdir)
start_anvil "$(free_port)" --block-time 1

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# follow NAME PID: samples PID for DURATION seconds; prints "peak last" in kB.
follow() {
    local pid=$2 peak=0 last=0 deadline=$(($(date +%s) + DURATION))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        last=$(rss_kb "$pid")
        [ "$last" -gt "$peak" ] && peak=$last
        sleep 0.5
    done
    echo "$peak $last"
}
blocks() { cat "$1"/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | wc -l; }

port=$(free_port)
"$EVMTAP" run --rpc "$ANVIL_URL" --workers 0 --listen "tcp://127.0.0.1:$port" \
    --data-dir "$work/remote" 2>"$work/remote.log" &
coordinator=$!
register_pid "$coordinator"
for index in $(seq "$REMOTES"); do
    "$EVMTAP" worker --connect "tcp://127.0.0.1:$port" --workers "$PER_REMOTE" \
        2>"$work/worker$index.log" &
    register_pid $!
done
joined() { [ "$(grep -c "joined with" "$work/remote.log")" -ge "$REMOTES" ]; }
wait_for 30 joined || { tail "$work/remote.log" >&2; fail "the remote workers did not join"; }
read -r remote_peak remote_last < <(follow remote "$coordinator")
remote_blocks=$(blocks "$work/remote")
stop_pid "$coordinator" 15

"$EVMTAP" run --rpc "$ANVIL_URL" --workers "$((REMOTES * PER_REMOTE))" \
    --data-dir "$work/local" 2>"$work/local.log" &
local_pid=$!
register_pid "$local_pid"
read -r local_peak local_last < <(follow local "$local_pid")
local_blocks=$(blocks "$work/local")

mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }
printf '%-44s %10s %10s %8s\n' "coordinator, ${DURATION} s following the head" "peak MB" "last MB" "blocks"
printf '%-44s %10s %10s %8s\n' "$REMOTES remote workers x $PER_REMOTE (--workers 0)" \
    "$(mb "$remote_peak")" "$(mb "$remote_last")" "$remote_blocks"
printf '%-44s %10s %10s %8s\n' "$((REMOTES * PER_REMOTE)) workers in process" \
    "$(mb "$local_peak")" "$(mb "$local_last")" "$local_blocks"
awk -v r="$remote_peak" -v l="$local_peak" 'BEGIN {printf "peak ratio remote/in process: %.2f\n", r / l}'
