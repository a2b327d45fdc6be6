#!/usr/bin/env bash
# labels: long
# A key parked by its daily budget (sliding 24 h, in requests) is released the moment its
# window has room again, and used again. Before the run, Redis is seeded with a whole day's
# budget spent by key ka in one minute of yesterday, chosen so that it leaves the 24 h
# window 12 to 72 s from now. While ka is parked the capture goes on with kb, the emulator
# sees no request with ka and the second worker waits; once the minute has left the window
# (`evmtap keys` shows its 24 h units below the budget) ka is free within seconds, the
# waiting worker takes it and the emulator counts requests with it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
daily=1000

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x5dc"]' >/dev/null    # 1500 blocks: work for minutes at 5/s
start_redis
start_emulator "$ANVIL_URL"    # one unit a call, like --key-costs requests
export EVMTAP_KEY_KA=parkSecretA EVMTAP_KEY_KB=parkSecretB
pool_key=ka    # a key is its name in the pool, whatever provider host it is used with

now_ms() { date +%s%3N; }
# A key's field in `evmtap keys --json`: key_field NAME [FIELD] (default: state)
key_field() { pool_json 2>>"$work/keys.log" | jq -r --arg k "$1" ".[] | select(.key == \$k) | .${2:-state}"; }
# Calls the emulator received with a secret.
calls_of() { emulator_stats | jq --arg s "$1" '.keys[$s].calls // 0'; }
# True when key NAME's state is (or, with "!", is not) STATE: key_is NAME [!] STATE
key_is() {
    local state
    state=$(key_field "$1")
    if [ "$2" = "!" ]; then [ "$state" != "$3" ]; else [ "$state" = "$2" ]; fi
}
ka_used() { [ "$(calls_of parkSecretA)" -gt 0 ]; }
sleep_until_ms() {
    local left=$(($1 - $(now_ms)))
    [ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# The minute ka spent its budget in: the one that leaves the window at the first minute
# boundary at least 12 s away (usage keeps minute m while now's minute < m + 1440).
release_minute=$(($(now_ms) / 60000 + 1))
[ $((release_minute * 60000 - $(now_ms))) -ge 12000 ] || release_minute=$((release_minute + 1))
seeded=$((release_minute - 1440))
release_ms=$((release_minute * 60000))
# The layout of keypool_store.c / usage_journal.c: hash r:<minute> u:<minute> and sums
# sr su, a zset of the minutes held, the set of pool keys.
redis-cli -p "$REDIS_PORT" HSET "evmtap:usage:$pool_key" "r:$seeded" "$daily" \
    "u:$seeded" "$daily" sr "$daily" su "$daily" >/dev/null
redis-cli -p "$REDIS_PORT" ZADD "evmtap:minutes:$pool_key" "$seeded" "$seeded" >/dev/null
redis-cli -p "$REDIS_PORT" SADD evmtap:keys "$pool_key" >/dev/null
[ "$(key_field ka units_24h)" = "$daily" ] || fail "the seeded usage is not counted: $(pool_json)"
log "ka spent $daily requests in minute $seeded: room again at $(date -u -d "@$((release_ms / 1000))" "+%F %T") UTC, in $(((release_ms - $(now_ms)) / 1000)) s"

"$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys ka,kb --workers 2 --key-rps 5 \
    --key-daily "$daily" --redis "$REDIS_URL" --from 0 --data-dir "$work/data" \
    --drain-timeout 2 2>"$work/run.log" &
pid=$!
register_pid "$pid"
wait_for 10 key_is ka parked \
    || { tail -n 20 "$work/run.log" >&2; fail "ka is not parked at start: $(pool_json)"; }
wait_for 10 grep -q "waits for a free key: all 2 keys are busy (1 leased, 0 cooling down, 1 parked)" \
    "$work/run.log" || { tail -n 20 "$work/run.log" >&2; fail "no worker waits while ka is parked"; }
pass "ka over its daily budget is parked at start, the second worker waits"

# Just before the minute leaves the window: still parked, until the moment it leaves (+-1 s),
# never used, and the run went on.
sleep_until_ms $((release_ms - 1500))
kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/run.log" >&2; fail "evmtap exited"; }
[ "$(key_field ka state)" = parked ] || fail "ka was released too early: $(pool_json)"
park_end_ms=$(($(now_ms) + $(redis-cli -p "$REDIS_PORT" PTTL "evmtap:park:$pool_key")))
[ "$park_end_ms" -ge $((release_ms - 1000)) ] && [ "$park_end_ms" -le $((release_ms + 1000)) ] \
    || fail "ka's park ends at $(date -u -d "@$((park_end_ms / 1000))" "+%F %T") UTC, not when its window has room ($(date -u -d "@$((release_ms / 1000))" "+%F %T") UTC)"
[ "$(calls_of parkSecretA)" -eq 0 ] || fail "ka was used while parked: $(emulator_stats | jq -c .keys)"
[ "$(calls_of parkSecretB)" -gt 0 ] || fail "the run made no progress with kb"
pass "ka stays parked until its window has room and is never used meanwhile; kb carries the run ($(calls_of parkSecretB) calls)"

# Once the minute has left the window, ka is free (or already leased) within 10 s.
sleep_until_ms "$release_ms"
if ! wait_for 10 key_is ka ! parked; then
    fail "ka still parked $((($(now_ms) - release_ms) / 1000)) s after minute $seeded left its 24 h window (units_24h $(key_field ka units_24h), daily $daily; park ends in $(redis-cli -p "$REDIS_PORT" PTTL "evmtap:park:$pool_key") ms)"
fi
freed_ms=$(($(now_ms) - release_ms))
wait_for 10 ka_used \
    || { tail -n 20 "$work/run.log" >&2; fail "ka was released but not used again: $(pool_json)"; }
wait_for 5 grep -q "has key ka after waiting" "$work/run.log" \
    || { tail -n 20 "$work/run.log" >&2; fail "the log does not say the waiting worker took ka"; }
pass "ka is free ${freed_ms} ms after its window has room, then used again ($(calls_of parkSecretA) calls)"

kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/run.log" >&2; fail "evmtap exited"; }
stop_pid "$pid" 10
