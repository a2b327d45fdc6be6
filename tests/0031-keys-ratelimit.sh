#!/usr/bin/env bash
# labels: short
# Every rate-limit answer through the provider emulator and a shared pool in Redis:
# Infura's 429 (-32005 with backoff_seconds), Alchemy's 429 (code 429, no hint), a bare HTTP
# 429, and 402 / -33000. Each cools the key down (the hint, else exponentially) or parks it,
# the worker moves to another key, and the capture is complete: nothing dropped. Redis
# counts exactly the requests the provider received, 429s included, and exactly the credits
# it billed: what it accepted (429 and 402 are not billed). Then a daily budget in Infura
# credits parks keys before the provider has to say so.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x78"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_redis
start_emulator "$ANVIL_URL" --costs "$EVMTAP_ROOT/config/costs/infura.cfg"
export EVMTAP_KEY_KA=rlSecretA EVMTAP_KEY_KB=rlSecretB EVMTAP_KEY_KC=rlSecretC
# 400 credits a second per key: 5 blocks a second, time to meet the answers forced once
# the workers run (after the probe's eth_chainId).
"$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys ka,kb,kc --workers 2 --key-costs infura \
    --key-rps 400 --redis "$REDIS_URL" --from 0 --to "$head" --data-dir "$work/data" \
    2>"$work/run.log" &
pid=$!
register_pid "$pid"
wait_for 20 bash -c "[ \$(curl -sS $EMU_URL/stats | jq '[.keys[].accepted_units] | add') -ge 165 ]" \
    || fail "the run did not start"
emulator_force rlSecretA 429 2
emulator_force rlSecretB alchemy429 1
emulator_force rlSecretB http429 1
emulator_force rlSecretC 402 1
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/run.log" >&2; fail "run exited $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$head" --allow-extra transactionCount >/dev/null \
    || fail "records lost or wrong after rate limits"
pass "blocks 0..$head complete through 429s and a 402"

stats=$(emulator_stats)
log "emulator: $(jq -c '.keys' <<<"$stats")"
[ "$(jq '[.keys[].rate_limited] | add' <<<"$stats")" -eq 4 ] || fail "not every 429 was met"
[ "$(jq '[.keys[].quota] | add' <<<"$stats")" -eq 1 ] || fail "the 402 was not met"
grep -q "key ka: .*rate_limited: .*cooling down for 1000 ms, moving to another key" "$work/run.log" \
    || fail "Infura's backoff_seconds is not the cool down"
grep -q "key kb: .*rate_limited: .*cooling down for 1000 ms" "$work/run.log" \
    && grep -q "key kb: .*rate_limited: .*cooling down for 2000 ms" "$work/run.log" \
    || fail "429s without a hint do not cool down exponentially (1 s, then 2 s)"
grep -q "key kc: .*quota_exceeded: .*parked for" "$work/run.log" || fail "402 does not park"
pass "429 cools down (hint, else exponential), 402 parks, the worker moves on"

pool=$(pool_json)
log "pool: $pool"
[ "$(jq -r '.[] | select(.key == "kc") | .state' <<<"$pool")" = parked ] \
    || fail "kc is not shown parked"
for pair in ka:rlSecretA kb:rlSecretB kc:rlSecretC; do
    name=${pair%%:*} secret=${pair#*:}
    counted=$(jq --arg k "$name" '.[] | select(.key == $k) | .requests_24h' <<<"$pool")
    units=$(jq --arg k "$name" '.[] | select(.key == $k) | .units_24h' <<<"$pool")
    received=$(jq --arg s "$secret" '.keys[$s].calls' <<<"$stats")
    received_units=$(jq --arg s "$secret" '.keys[$s].units' <<<"$stats")
    accepted_units=$(jq --arg s "$secret" '.keys[$s].accepted_units' <<<"$stats")
    [ "$counted" -eq "$received" ] && [ "$units" -eq "$accepted_units" ] \
        && [ "$units" -eq "$received_units" ] \
        || fail "key $name: Redis $counted requests / $units credits, provider $received / billed $received_units (accepted $accepted_units)"
done
pass "Redis's 24 h requests equal the provider's, 429s and 402 included; its credits the accepted ones"

# A daily budget of 10 requests' worth of credits per key: keys are parked by evmtap
# before the provider would refuse them, and the run still ends (3 keys, 22 requests).
export EVMTAP_KEY_KD=dSecretD EVMTAP_KEY_KE=dSecretE EVMTAP_KEY_KF=dSecretF
"$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys kd,ke,kf --workers 2 --key-costs infura \
    --key-daily 800 --redis "$REDIS_URL" --from 0 --to 20 --data-dir "$work/daily" \
    2>"$work/daily.log" || { tail -n 30 "$work/daily.log" >&2; fail "daily run exited $?"; }
grep -q "daily budget of 800 credits reached: parked for" "$work/daily.log" \
    || fail "no key was parked at its daily budget"
pool=$(pool_json)
jq -e '[.[] | select(.key == "kd" or .key == "ke" or .key == "kf") | .units_24h] | max <= 800' \
    <<<"$pool" >/dev/null || fail "a key went past its daily budget: $pool"
jq -e '[.[] | select(.state == "parked")] | length >= 2' <<<"$pool" >/dev/null \
    || fail "parked keys are not shown"
[ "$(jq '[.keys[].quota] | add' <<<"$(emulator_stats)")" -eq 1 ] \
    || fail "the provider had to refuse a key for its daily budget"
pass "a daily budget in credits parks keys before the provider refuses them"
