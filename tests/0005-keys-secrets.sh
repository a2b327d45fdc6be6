#!/usr/bin/env bash
# labels: short
# Keys by pseudo-name, secrets from the environment and from a secrets directory (Docker
# secrets), put where the rpc URL says {key}; each worker holds its own key. Through a
# faulty provider that takes the key from the URL path like Infura, a run's every log line,
# data file and stdout record is searched for the secrets: none may appear.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 6 --txs-per-block 2 \
    --seed 9 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_badrpc "$ANVIL_URL" --fault-rate 0.3 --seed 4 --timeout-seconds 2 \
    --faults 500,429,truncated,garbage,rpcerror,timeout

secret_alpha="alphaS3cretValue0123456789abcdef"
secret_beta="betaS3cretValue9876543210fedcba"
mkdir -p "$work/secrets"
printf '%s\n' "$secret_beta" >"$work/secrets/beta-key"
args=(run --rpc "$BADRPC_URL/v3/{key}" --keys alpha,beta-key --workers 3 --key-rps 50
      --rpc-timeout 1 --secrets-dir "$work/secrets" --from 0 --to "$head")
EVMTAP_KEY_ALPHA="$secret_alpha" "$evmtap" "${args[@]}" --data-dir "$work/files" \
    2>"$work/files.log" || { cat "$work/files.log" >&2; fail "run with keys: exit $?"; }
EVMTAP_KEY_ALPHA="$secret_alpha" "$evmtap" "${args[@]}" --data-dir "$work/stdout" \
    --sink stdout >"$work/stdout.ndjson" 2>"$work/stdout.log" || fail "stdout run: exit $?"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/files/topics" \
    --chain anvil --from 0 --to "$head" --allow-extra transactionCount >/dev/null \
    || fail "records wrong with keys"
grep -q "3 workers asked for, 2 keys: running 2 workers" "$work/files.log" \
    || fail "surplus workers are not explained"

stats=$(curl -sS --max-time 5 "$BADRPC_URL/stats")
for secret in "$secret_alpha" "$secret_beta"; do
    [ "$(jq -r --arg k "$secret" '.keys[$k] // 0' <<<"$stats")" -gt 0 ] \
        || fail "the provider never saw one of the keys"
done
pass "both keys were used, one per worker"

# The search: logs, every file below the data dirs (LMDB included), stdout.
for secret in "$secret_alpha" "$secret_beta" "alphaS3cret" "betaS3cret"; do
    if grep -rqaF "$secret" "$work/files.log" "$work/stdout.log" "$work/stdout.ndjson" \
        "$work/files" "$work/stdout"; then
        fail "a secret appears in evmtap's output"
    fi
done
grep -q "key alpha" "$work/files.log" || fail "failures do not name the key's pseudo-name"
pass "no secret in logs, data files or stdout; failures name the pseudo-name"

# A key without a secret: exit 2 naming both places, and no other secret in the error.
rc=0
EVMTAP_KEY_ALPHA="$secret_alpha" "$evmtap" run --rpc "$BADRPC_URL/v3/{key}" \
    --keys alpha,gamma --workers 2 --secrets-dir "$work/secrets" --data-dir "$work/x" \
    2>"$work/missing.log" || rc=$?
[ "$rc" -eq 2 ] || fail "missing secret: exit $rc, want 2"
grep -q "EVMTAP_KEY_GAMMA" "$work/missing.log" && grep -q "$work/secrets/gamma" "$work/missing.log" \
    || fail "missing secret: the error does not name where it looked"
grep -qF "$secret_alpha" "$work/missing.log" && fail "missing secret: another secret leaked"
pass "a key without a secret is a usage error naming where it looked"
