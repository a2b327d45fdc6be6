#!/usr/bin/env bash
# Key pool benchmark (issue 6): lease latency, usage skew across keys, budget use under
# saturation. Real components on loopback: redis-server, anvil, tests/provider_emulator.py.
#   bench/keypool.sh [--seconds N] [--keys M] [--rps R] [--rotate S] [--bin DIR]
# DIR holds evmtap and evmtap_selftest (default build/release of the repository). Prints:
#   * lease acquire / renew p50 and p99 against loopback Redis (keypool_store's own code);
#   * usage skew: max/min requests per key after the run (target <= 1.1);
#   * budget used: requests the pool got accepted per second in the steady part of the run
#     over M x R (target >= 0.95 with zero 429s from the emulator), with 2 processes x M
#     workers saturating M keys.
set -euo pipefail
# shellcheck source=bench/lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh" keypool

seconds=60 keys=6 rps=10 rotate=60 bin="$ROOT/build/release"
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --keys) keys=$2; shift 2 ;;
        --rps) rps=$2; shift 2 ;;
        --rotate) rotate=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n 2,10p "$0"; exit 0 ;;
        *) echo "bench/keypool.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
bin=$(cd "$bin" && pwd)
EVMTAP_BIN="$bin/evmtap"
export EVMTAP_BIN EVMTAP_SOURCE="$ROOT" EVMTAP_KEEP_TMP=0
# shellcheck source=tests/keys_lib.sh disable=SC1091
source "$ROOT/tests/keys_lib.sh"
evmtap="$EVMTAP_BIN"
work=$(tmpdir)

echo "== lease latency (loopback Redis)"
EVMTAP_BENCH=1 "$bin/evmtap_selftest" keypool_store 2>/dev/null \
    | grep "lease acquire"

echo "== saturation: 2 processes x $keys workers over $keys keys at $rps requests/s each, ${seconds} s"
start_anvil "$(free_port)"
blocks=$(( keys * rps * (seconds + 20) ))
for ((mined = 0; mined < blocks; mined += 300)); do
    rpc "$ANVIL_URL" anvil_mine '["0x12c"]' >/dev/null
done
start_redis
start_emulator "$ANVIL_URL" --budget "$rps" --tolerance 1
names=""
for index in $(seq 1 "$keys"); do
    names="$names${names:+,}b$index"
    export "EVMTAP_KEY_B$index=benchSecret$index"
done
pids=()
for p in 1 2; do
    "$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys "$names" --workers "$keys" --key-rps "$rps" \
        --redis "$REDIS_URL" --key-rotate "$rotate" --from 0 --to "$blocks" --data-dir "$work/p$p" \
        2>"$work/p$p.log" &
    pids+=($!)
    register_pid "${pids[-1]}"
done
sleep 5
first=$(emulator_stats | jq '[.keys[].calls] | add')
t0=$(date +%s.%N)
sleep "$seconds"
last=$(emulator_stats | jq '[.keys[].calls] | add')
t1=$(date +%s.%N)
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || echo "a run ended early (exit below)"; done
for pid in "${pids[@]}"; do wait "$pid" || true; done
stats=$(emulator_stats)
python3 - "$first" "$last" "$t0" "$t1" "$keys" "$rps" <<PY
import json, sys
first, last, t0, t1, keys, rps = map(float, sys.argv[1:])
stats = json.loads('''$stats''')
calls = [v["calls"] for v in stats["keys"].values()]
rate = (last - first) / (t1 - t0)
print("budget used: %.0f requests/s of %d configured: %.3f (429s from the emulator: %d, "
      "max in a 1 s window: %d)" % (rate, keys * rps, rate / (keys * rps),
      sum(v["rate_limited"] for v in stats["keys"].values()), max(stats["max_window"].values())))
print("usage skew: max/min requests per key %.3f (%d..%d over %d keys); overlaps %d"
      % (max(calls) / min(calls), min(calls), max(calls), len(calls), stats["overlaps"]))
PY
