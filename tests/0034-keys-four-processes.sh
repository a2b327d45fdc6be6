#!/usr/bin/env bash
# labels: long
# Four independent `evmtap run` processes, four workers each, over six keys and one Redis,
# for about two minutes, through the provider emulator (20 requests per key per second).
# Redis is stopped mid-run (SHUTDOWN SAVE), while requests are in flight, until the
# processes have noticed and journaled 10 s more without it, and restarted from its dump.
#   * the emulator sees no key used by two workers at overlapping times, and no key over
#     its budget in any sliding 1 s window (one request of tolerance, zero 429s);
#   * after the clean stop, Redis's 24 h totals equal the emulator's counts exactly, key by
#     key, although Redis was away;
#   * then a fifth process is SIGKILLed mid-run and started again on its data dir: Redis
#     counts at least what the emulator received, and at most the requests in flight more.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x5dc"]' >/dev/null    # 1500 blocks
to=1399
budget=20
start_redis "$(free_port)" "$work"
start_emulator "$ANVIL_URL" --budget "$budget" --tolerance 1
keys=k1,k2,k3,k4,k5,k6
for index in 1 2 3 4 5 6; do export "EVMTAP_KEY_K$index=fourProcSecret$index"; done
run_args=(run --rpc "$EMU_URL/v3/{key}" --keys "$keys" --workers 4 --key-rps "$budget"
          --redis "$REDIS_URL" --rpc-timeout 2 --key-rotate 5 --from 0 --to "$to")

# Redis's and the emulator's counts per key, as "name redis emulator" lines.
compare() {
    local pool stats
    pool=$(pool_json 2>/dev/null)
    stats=$(emulator_stats)
    for index in 1 2 3 4 5 6; do
        echo "k$index $(jq --arg k "k$index" '[.[] | select(.key == $k) | .requests_24h] | add // 0' <<<"$pool") \
$(jq --arg s "fourProcSecret$index" '.keys[$s].calls // 0' <<<"$stats")"
    done
}

started=$(date +%s)
pids=()
for p in 1 2 3 4; do
    "$evmtap" "${run_args[@]}" --data-dir "$work/p$p" 2>"$work/p$p.log" &
    pids+=($!)
    register_pid "${pids[-1]}"
done
sleep 12
# The outage must meet requests in flight, so that usage is journaled while Redis is away:
# wait (at most 30 s) until the emulator's count moves within half a second.
for attempt in $(seq 60); do
    before=$(emulator_stats | jq .requests)
    sleep 0.5
    [ "$(emulator_stats | jq .requests)" -gt "$before" ] && break
done
log "stopping Redis"
stop_redis_saving
outage_started=$(date +%s)
# The workers holding leases go on (a lease outlives a failed renewal for a while), so the
# first flush after the stop meets the outage; then 10 s more of journaling without Redis.
wait_for 30 grep -q "usage stays in the journal until the store is back" "$work"/p*.log \
    || fail "the Redis outage was not noticed within 30 s"
sleep 10
start_redis "$REDIS_PORT" "$work"
log "Redis is back after $(( $(date +%s) - outage_started )) s"
for p in 1 2 3 4; do
    rc=0; wait "${pids[$((p - 1))]}" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 20 "$work/p$p.log" >&2; fail "process $p exited $rc"; }
done
log "four processes done in $(( $(date +%s) - started )) s"
grep -q "the store is back: journaled usage is flushed" "$work"/p*.log \
    || fail "no process flushed its journal once Redis was back"

stats=$(emulator_stats)
log "emulator: $(jq -c '{requests, over_budget, max_window, overlaps, overlap_examples}' <<<"$stats")"
[ "$(jq .overlaps <<<"$stats")" -eq 0 ] || fail "a key was used by two workers at overlapping times"
[ "$(jq .over_budget <<<"$stats")" -eq 0 ] || fail "a key went over budget (the emulator said 429)"
jq -e --argjson b "$budget" '[.max_window[]] | max <= $b + 1' <<<"$stats" >/dev/null \
    || fail "a 1 s window held more than the budget + 1"
pass "16 workers in 4 processes over 6 keys: no key shared, none over budget in any 1 s window"

compare >"$work/counts-clean.txt"
cat "$work/counts-clean.txt" >&2
while read -r name counted received; do
    [ "$counted" -eq "$received" ] || fail "key $name: Redis $counted, emulator $received"
done <"$work/counts-clean.txt"
pass "Redis's 24 h totals equal the emulator's exactly, after a Redis outage"

# SIGKILL: journaled before sent, so Redis never counts fewer; at most the requests in
# flight (4 workers) more.
"$evmtap" "${run_args[@]}" --data-dir "$work/p5" 2>"$work/p5.log" &
pid=$!
register_pid "$pid"
sleep 8
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
before=$(emulator_stats | jq '[.keys[].calls] | add')
# The restart flushes what the killed process journaled (and makes one probe of its own).
timeout 60 "$evmtap" "${run_args[@]}" --to 0 --data-dir "$work/p5" 2>"$work/p5-again.log" || true
compare >"$work/counts-kill.txt"
cat "$work/counts-kill.txt" >&2
extra=0
while read -r name counted received; do
    [ "$counted" -ge "$received" ] || fail "key $name: Redis $counted < emulator $received after SIGKILL"
    extra=$((extra + counted - received))
done <"$work/counts-kill.txt"
[ "$extra" -le 4 ] || fail "Redis counts $extra more than the emulator: more than the 4 in flight"
pass "after SIGKILL Redis counts $extra more than the emulator (at most the 4 in flight), never fewer"
log "whole test: $(( $(date +%s) - started )) s"
