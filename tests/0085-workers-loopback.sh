#!/usr/bin/env bash
# labels: long
# Remote fetch workers on loopback (`evmtap run --listen`, `evmtap worker --connect`), keys
# leased through the coordinator's own pool (no Redis), one local worker beside them,
# through the key-checking provider emulator:
#   * worker A joins at once, B late; C is killed with SIGKILL, B frozen with SIGSTOP (its
#     heartbeats stop), D leaves with SIGTERM: the coordinator logs each loss and
#     re-queues what it held; B, thawed, finds its link lost and joins again;
#   * the emulator sees no key in flight twice, across the local and the remote workers;
#   * every block 0..to is published exactly once, with the node's fields (verify.py);
#   * worker A serves its own /metrics (`evmtap worker --metrics`): its requests by key,
#     never a secret.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
to=899
rpc "$ANVIL_URL" anvil_mine '["0x384"]' >/dev/null    # 900 blocks
budget=6
start_emulator "$ANVIL_URL" --budget "$budget" --tolerance 1
for index in 1 2 3 4 5 6 7 8; do export "EVMTAP_KEY_K$index=loopSecret$index"; done
port=$(free_port)
listen="tcp://127.0.0.1:$port"

"$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys k1,k2,k3,k4,k5,k6,k7,k8 --key-rps "$budget" \
    --workers 1 --listen "$listen" --rpc-timeout 2 --from 0 --to "$to" \
    --data-dir "$work/data" 2>"$work/coordinator.log" &
coordinator=$!
register_pid "$coordinator"

start_worker() {    # start_worker NAME N [FLAGS...]: sets WORKER_PID
    "$evmtap" worker --connect "$listen" --workers "$2" "${@:3}" 2>"$work/$1.log" &
    WORKER_PID=$!
    register_pid "$WORKER_PID"
}
published() {    # the blocks in the files so far
    cat "$work"/data/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | wc -l
}
published_past() { [ "$(published)" -gt "$1" ]; }
joined() { [ "$(grep -c "joined with" "$work/coordinator.log")" -ge "$1" ]; }
silent() { [ "$(grep -c "silent for" "$work/coordinator.log")" -ge "$1" ]; }

metrics_port=$(free_port)
start_worker a 2 --metrics "127.0.0.1:$metrics_port"; a=$WORKER_PID
start_worker c 2; c=$WORKER_PID
start_worker d 1; d=$WORKER_PID
wait_for 30 joined 3 || { cat "$work/coordinator.log" >&2; fail "three workers did not join"; }
wait_for 60 published_past 40 || fail "no progress with three remote workers"
a_requests() {    # worker A's successful calls through the emulator, by its /metrics
    curl -sf --max-time 10 "http://127.0.0.1:$metrics_port/metrics" >"$work/a.metrics" || return 1
    awk '$1 ~ /^evmtap_requests_total\{/ && $1 ~ /status="ok"/ && $1 ~ /key="k[1-8]"/ { n += $2 }
         END { exit !(n > 0) }' "$work/a.metrics"
}
wait_for 30 a_requests || { cat "$work/a.metrics" >&2; fail "worker A's /metrics counts no request by key"; }
! grep -q "loopSecret" "$work/a.metrics" || fail "worker A's /metrics shows a key's secret"
pass "evmtap worker --metrics: its requests by key pseudo-name, no secret"
start_worker b 2; b=$WORKER_PID
wait_for 30 joined 4 || fail "the late worker did not join"
wait_for 60 published_past 120 || fail "no progress with four remote workers"

kill -KILL "$c"
wait "$c" 2>/dev/null || true
wait_for 30 grep -q "worker .* silent for" "$work/coordinator.log" \
    || fail "the killed worker was not noticed"
kill -STOP "$b"
wait_for 30 silent 2 \
    || fail "the frozen worker was not noticed"
kill -TERM "$d"
wait "$d" 2>/dev/null || true
wait_for 30 grep -q "worker .* stopping" "$work/coordinator.log" \
    || fail "the leaving worker was not noticed"
before=$(published)
wait_for 60 published_past "$((before + 40))" || fail "no progress after the losses"
kill -CONT "$b"
wait_for 30 grep -q "link lost" "$work/b.log" \
    || fail "the thawed worker did not find its link lost"
wait_for 30 joined 5 || fail "the thawed worker did not join again"

exited() { ! ps -o stat= -p "$1" | grep -qv Z; }    # gone, or a zombie to wait for
wait_for 90 exited "$coordinator" || fail "the coordinator did not finish within 90 s"
rc=0; wait "$coordinator" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/coordinator.log" >&2; fail "the coordinator exited $rc"; }
grep "re-queued\|joined" "$work/coordinator.log" | sed 's/^/    /' >&2
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount \
    || fail "the files differ from the node's blocks 0..$to"
stats=$(emulator_stats)
log "emulator: $(jq -c '{requests, over_budget, overlaps, overlap_examples, clients}' <<<"$stats")"
[ "$(jq .overlaps <<<"$stats")" -eq 0 ] || fail "a key was in flight twice at the same time"
[ "$(jq '[.clients[]] | max' <<<"$stats")" -ge 2 ] || fail "no key moved between workers"
pass "remote workers joined late, killed, frozen, left and came back: every block 0..$to once, no key in flight twice"
