#!/usr/bin/env bash
# labels: long
# Remote workers leasing through Redis (`evmtap worker --redis`) beside two local workers of
# a coordinator on the same Redis, through the key-checking provider emulator:
#   * a worker that brings --redis to a coordinator without one is refused (exit 2, naming
#     Redis): two arbiters could lease one key twice;
#   * with both on one Redis: no key in flight twice across the local and remote workers,
#     the remote workers' leases are in Redis under their own holder names, a worker that
#     leaves has its jobs re-queued, and every block 0..to is published once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
to=399
rpc "$ANVIL_URL" anvil_mine '["0x190"]' >/dev/null    # 400 blocks
budget=5
start_emulator "$ANVIL_URL" --budget "$budget" --tolerance 1
start_redis "$(free_port)" "$work"
for index in 1 2 3 4 5 6; do export "EVMTAP_KEY_R$index=redisLinkSecret$index"; done
run_args=(run --rpc "$EMU_URL/v3/{key}" --keys r1,r2,r3,r4,r5,r6 --key-rps "$budget"
          --rpc-timeout 2 --from 0 --to "$to")

# 1. A coordinator without Redis refuses a worker with one.
port=$(free_port)
"$evmtap" "${run_args[@]}" --workers 1 --listen "tcp://127.0.0.1:$port" \
    --data-dir "$work/plain" 2>"$work/plain.log" &
plain=$!
register_pid "$plain"
rc=0
timeout 60 "$evmtap" worker --connect "tcp://127.0.0.1:$port" --redis "$REDIS_URL" \
    --data-dir "$work/refused-worker" 2>"$work/refused.log" || rc=$?
[ "$rc" -eq 2 ] && grep -q "refused: .*Redis" "$work/refused.log" \
    || { cat "$work/refused.log" >&2; fail "a worker with --redis was not refused by a coordinator without (exit $rc)"; }
stop_pid "$plain" 15

# 2. Coordinator and workers on one Redis.
port=$(free_port)
"$evmtap" "${run_args[@]}" --workers 2 --redis "$REDIS_URL" --listen "tcp://127.0.0.1:$port" \
    --data-dir "$work/data" 2>"$work/coordinator.log" &
coordinator=$!
register_pid "$coordinator"
pids=()
for name in a b; do
    "$evmtap" worker --connect "tcp://127.0.0.1:$port" --workers 2 --redis "$REDIS_URL" \
        --data-dir "$work/worker-$name" 2>"$work/$name.log" &
    pids+=($!)
    register_pid "${pids[-1]}"
done
joined() { [ "$(grep -c "joined with" "$work/coordinator.log")" -ge "$1" ]; }
published() { cat "$work"/data/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | wc -l; }
published_past() { [ "$(published)" -gt "$1" ]; }
remote_holders() { pool_json | jq -e '[.[] | select(.holder | test("/r[0-9]+$"))] | length > 0'; }
wait_for 30 joined 2 || { cat "$work/coordinator.log" >&2; fail "the workers did not join"; }
wait_for 60 remote_holders || fail "no remote worker holds a lease in Redis"
wait_for 60 published_past 100 || fail "no progress"
kill -TERM "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
wait_for 30 grep -q "worker .* stopping" "$work/coordinator.log" || fail "the leaving worker was not noticed"

exited() { ! ps -o stat= -p "$1" | grep -qv Z; }
wait_for 120 exited "$coordinator" || fail "the coordinator did not finish within 120 s"
rc=0; wait "$coordinator" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/coordinator.log" >&2; fail "the coordinator exited $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount \
    || fail "the files differ from the node's blocks 0..$to"
stats=$(emulator_stats)
log "emulator: $(jq -c '{requests, over_budget, overlaps, clients}' <<<"$stats")"
[ "$(jq .overlaps <<<"$stats")" -eq 0 ] || fail "a key was in flight twice at the same time"
pass "a worker's Redis refused by a coordinator without; on one Redis, local and remote workers never shared a key; every block 0..$to once"
