#!/usr/bin/env bash
# labels: short
# No secret in /metrics: three keys (two from the environment, one a Docker-style secret
# file) go through the provider emulator, which forces 429s and a 402 on them so that
# every per-key family has samples (requests by status, cool-downs, parks, leases, units);
# every scrape taken while it runs, and every label value Prometheus stored from them,
# is searched for each secret.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x20"]' >/dev/null
start_emulator "$ANVIL_URL"
secrets=(ScrapeSecretAlpha01 ScrapeSecretBravo02 ScrapeSecretCharlie3)
export EVMTAP_KEY_SA=${secrets[0]} EVMTAP_KEY_SB=${secrets[1]}
mkdir -p "$work/secrets"
printf '%s\n' "${secrets[2]}" >"$work/secrets/sc"
start_evmtap_metrics run --rpc "$EMU_URL/v3/{key}" --keys sa,sb,sc --workers 2 --from 0 \
    --key-daily 100000 --key-rotate 1 --secrets-dir "$work/secrets" --data-dir "$work/data"
target=${METRICS_URL#http://}; target=${target%/metrics}
start_prometheus "$target"
# Forced once the start-up probes are done, so that the fetch workers get them.
wait_for 60 metric_value 'evmtap_published_block{chain="anvil"}' || fail "nothing published"
emulator_force "${secrets[0]}" 429 2
emulator_force "${secrets[1]}" 402 1
rpc "$ANVIL_URL" anvil_mine '["0x20"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
: >"$work/scrapes.txt"
has_all() {
    scrape >>"$work/scrapes.txt"
    grep -q "^evmtap_published_block{chain=\"anvil\"} $head$" "$work/scrapes.txt" \
        && grep -q 'status="rate_limited"' "$work/scrapes.txt" \
        && grep -q 'status="quota_exceeded"' "$work/scrapes.txt" \
        && grep -q '^evmtap_key_cooldowns_total{key="sa"}' "$work/scrapes.txt" \
        && grep -q '^evmtap_key_parks_total{key="sb"}' "$work/scrapes.txt" \
        && grep -q '^evmtap_key_leases_total{key="sc"}' "$work/scrapes.txt"
}
wait_for 120 has_all || fail "the scrapes never showed the 429s, the 402, the leases and the head: $(grep -v '^#' "$work/scrapes.txt" | sort -u | grep -E 'status|key_' | head -30)"
wait_prom 60 "up{instance=\"$target\"}" 1 || fail "prometheus: up is not 1"
# What Prometheus stored: every label's values.
for label in $(curl -sf --max-time 10 "$PROM_URL/api/v1/labels" | jq -r '.data[]'); do
    curl -sf --max-time 10 "$PROM_URL/api/v1/label/$label/values" >>"$work/stored.txt"
done
grep -q '"sa"' "$work/stored.txt" || fail "prometheus stored no key label"
for secret in "${secrets[@]}"; do
    ! grep -qF "$secret" "$work/scrapes.txt" || fail "a scrape holds the secret $secret"
    ! grep -qF "$secret" "$work/stored.txt" || fail "prometheus stored the secret $secret"
    ! grep -qF "$secret" "$EVMTAP_TEST_ROOT/evmtap-metrics.log" || fail "the log holds the secret $secret"
done
pass "no secret in $(grep -c '^# TYPE evmtap_build_info' "$work/scrapes.txt") scrapes, in prometheus' labels or the log"
