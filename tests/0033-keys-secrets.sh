#!/usr/bin/env bash
# labels: long
# Known secrets through the whole key pool: three keys leased from Redis by two processes
# (one writing files, one stdout) through a provider that also fails on purpose. Every log
# line, every data file (topics, checkpoint and usage journal LMDB), stdout, every
# `evmtap keys` answer (text and JSON) and everything in Redis (its keys, its values and its
# saved dump) is searched for the secrets. (/metrics does not exist in this build yet.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 6 --txs-per-block 2 \
    --seed 7 --out "$work/sent.jsonl" >/dev/null
rpc "$ANVIL_URL" anvil_mine '["0x3c"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_redis
start_emulator "$ANVIL_URL" --fault-rate 0.15 --faults 500,timeout,truncated \
    --timeout-seconds 2 --budget 30 --tolerance 1
emulator_force "PoolSecretBravo0002" 429 1

secrets=(PoolSecretAlpha0001 PoolSecretBravo0002 PoolSecretCharlie03)
export EVMTAP_KEY_SA=${secrets[0]} EVMTAP_KEY_SB=${secrets[1]}
mkdir -p "$work/secrets"
printf '%s\n' "${secrets[2]}" >"$work/secrets/sc"
args=(run --rpc "$EMU_URL/v3/{key}" --keys sa,sb,sc --workers 4 --key-rps 30 --redis "$REDIS_URL"
      --rpc-timeout 1 --key-rotate 2 --secrets-dir "$work/secrets" --from 0 --to "$head")
"$evmtap" "${args[@]}" --data-dir "$work/files" 2>"$work/files.log" &
files_pid=$!
register_pid "$files_pid"
"$evmtap" "${args[@]}" --data-dir "$work/stdout" --sink stdout >"$work/stdout.ndjson" \
    2>"$work/stdout.log" &
stdout_pid=$!
register_pid "$stdout_pid"
sleep 2
"$evmtap" keys --redis "$REDIS_URL" >"$work/keys-during.txt" 2>&1
"$evmtap" keys --redis "$REDIS_URL" --json >"$work/keys-during.json" 2>&1
rc=0; wait "$files_pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/files.log" >&2; fail "files run: exit $rc"; }
rc=0; wait "$stdout_pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/stdout.log" >&2; fail "stdout run: exit $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/files/topics" \
    --chain anvil --from 0 --to "$head" --sent "$work/sent.jsonl" \
    --allow-extra transactionCount >/dev/null || fail "records wrong"
grep -q '"leased"' "$work/keys-during.json" || fail "evmtap keys showed no leased key mid-run"
pass "two processes share the pool through faults; evmtap keys shows the leases"

"$evmtap" keys --redis "$REDIS_URL" >"$work/keys-after.txt" 2>&1
"$evmtap" keys --redis "$REDIS_URL" --json >"$work/keys-after.json" 2>&1
"$evmtap" keys --help >"$work/keys-help.txt"
redis-cli -p "$REDIS_PORT" --scan >"$work/redis-keys.txt"
while read -r name; do
    case "$(redis-cli -p "$REDIS_PORT" type "$name")" in
        string) redis-cli -p "$REDIS_PORT" get "$name" ;;
        hash) redis-cli -p "$REDIS_PORT" hgetall "$name" ;;
        set) redis-cli -p "$REDIS_PORT" smembers "$name" ;;
        zset) redis-cli -p "$REDIS_PORT" zrange "$name" 0 -1 ;;
    esac
done <"$work/redis-keys.txt" >"$work/redis-values.txt"
redis-cli -p "$REDIS_PORT" save >/dev/null
[ -s "$work/redis-keys.txt" ] && [ -s "$REDIS_DIR/dump.rdb" ] || fail "nothing in Redis to search"
[ -d "$work/files/journal" ] || fail "no usage journal to search"
grep -q "evmtap.api_keys.usage" "$work/stdout.ndjson" || fail "no usage records on stdout"

for secret in "${secrets[@]}" PoolSecret; do
    if grep -rqaF "$secret" "$work/files.log" "$work/stdout.log" "$work/stdout.ndjson" \
        "$work/files" "$work/stdout" "$work"/keys-*.txt "$work"/keys-*.json \
        "$work/redis-keys.txt" "$work/redis-values.txt" "$REDIS_DIR/dump.rdb"; then
        fail "a secret appears in evmtap's output, data or Redis"
    fi
done
pass "no secret in logs, data files, journal, stdout, evmtap keys or Redis"
