#!/usr/bin/env bash
# labels: long
# The key pool inside one process (no Redis): 4 workers over 2 keys through the provider
# emulator with a per-key budget. The surplus workers wait for a free key and say so; the
# emulator sees no key used by two connections at once and no key over its budget in any
# 1 s window (one request of tolerance); keys rotate; every request is journaled and its
# count reaches the usage topic exactly (files sink); the capture is complete.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x12c"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
budget=25
start_emulator "$ANVIL_URL" --budget "$budget" --tolerance 1 \
    --costs "$EVMTAP_ROOT/config/costs/requests.cfg"

export EVMTAP_KEY_KA=secretKeyAlpha111 EVMTAP_KEY_KB=secretKeyBravo222
"$evmtap" run --rpc "$EMU_URL/v3/{key}" --keys ka,kb --workers 4 --key-rps "$budget" \
    --key-rotate 2 --from 0 --to "$head" --data-dir "$work/data" 2>"$work/run.log" \
    || { tail -n 30 "$work/run.log" >&2; fail "run exited $?"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$head" --allow-extra transactionCount >/dev/null \
    || fail "records wrong"
pass "blocks 0..$head complete with 4 workers over 2 keys"

grep -q "4 workers asked for, 2 keys: running 2 workers at a time; the other 2 wait" \
    "$work/run.log" || fail "the surplus workers are not explained at start"
grep -q "waits for a free key: all 2 keys are busy" "$work/run.log" \
    || fail "a waiting worker does not say why"
pass "surplus workers wait for a free key, with a clear log line"

stats=$(emulator_stats)
log "emulator: $(jq -c '{requests, over_budget, max_window, overlaps, clients}' <<<"$stats")"
[ "$(jq .overlaps <<<"$stats")" -eq 0 ] || fail "a key was used by two workers at once"
[ "$(jq .over_budget <<<"$stats")" -eq 0 ] || fail "a key went over its budget (429)"
jq -e --argjson b "$budget" '[.max_window[]] | max <= $b + 1' <<<"$stats" >/dev/null \
    || fail "a 1 s window held more than the budget + 1"
jq -e '[.clients[]] | min >= 2' <<<"$stats" >/dev/null || fail "keys did not rotate"
pass "no key shared, none over budget in any 1 s window, keys rotated"

# The usage topic counts exactly what the provider received, per key.
usage="$work/data/topics/evmtap.api_keys.usage"
[ -d "$usage" ] || fail "no usage topic"
for pair in ka:secretKeyAlpha111 kb:secretKeyBravo222; do
    name=${pair%%:*} secret=${pair#*:}
    journaled=$(cat "$usage"/*.ndjson | jq -s --arg k "$name" '[.[] | select(.key == $k) | .requests] | add // 0')
    received=$(jq --arg s "$secret" '.keys[$s].calls // 0' <<<"$stats")
    [ "$journaled" -eq "$received" ] || fail "key $name: usage topic $journaled, provider $received"
done
jq -e -s 'all(.[]; has("key") and has("provider") and has("minute") and has("host")
    and has("seq") and has("requests") and has("units") and has("methods"))' \
    "$usage"/*.ndjson >/dev/null || fail "a usage record lacks a field"
pass "usage topic equals the provider's counts per key"
