#!/usr/bin/env bash
# labels: short
# One key is one key across chains and provider hosts (an Infura or Alchemy key serves every
# network; its throughput and quota are shared by all of them). Two anvil chains of
# different ids sit behind one provider emulator that answers for both on one port of two
# loopback hosts (127.0.0.1 for chain alpha, 127.0.0.2 for chain beta), one account of keys
# and budgets, in Infura credits:
#   * one process, no Redis, both chains in one config file naming the same two keys
#     (declared once in its keys section), two workers per chain: the emulator sees no key
#     in flight twice at once, no 1 s window over the budget, no 429; the usage topic has one
#     record per key and entry, naming the hosts, and counts exactly the calls and credits
#     the emulator received (keys rotate every second, so they move between the chains);
#   * two processes through Redis, one per chain (so their URLs differ by host), the keys
#     given by flags: the same, and `evmtap keys` lists one row per key with its hosts and
#     the emulator's credits;
#   * a config giving one key two budgets is refused (exit 2) naming both lines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
costs="$EVMTAP_ROOT/config/costs/infura.cfg"
budget=400    # credits a second per key: 5 eth_getBlockByNumber a second

start_anvil "$(free_port)" --chain-id 31337
url_alpha=$ANVIL_URL
start_anvil "$(free_port)" --chain-id 4242
url_beta=$ANVIL_URL
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$url_alpha" --blocks 3 --txs-per-block 2 \
    --seed 1 --out "$work/sent-alpha.jsonl" >/dev/null
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$url_beta" --blocks 3 --txs-per-block 2 \
    --seed 2 --out "$work/sent-beta.jsonl" >/dev/null
rpc "$url_alpha" anvil_mine '["0xa"]' >/dev/null
rpc "$url_beta" anvil_mine '["0xa"]' >/dev/null
head_alpha=$(( $(rpc "$url_alpha" eth_blockNumber) ))
head_beta=$(( $(rpc "$url_beta" eth_blockNumber) ))
export EVMTAP_KEY_KA=sharedSecretAlpha EVMTAP_KEY_KB=sharedSecretBravo

# check_emulator NAME: no key in flight twice, no window over the budget, no 429.
check_emulator() {
    local stats
    stats=$(emulator_stats)
    log "$1: emulator: $(jq -c '{requests, over_budget, max_window, overlaps, clients}' <<<"$stats")"
    [ "$(jq .overlaps <<<"$stats")" -eq 0 ] \
        || fail "$1: a key was in flight twice at once: $(jq -c .overlap_examples <<<"$stats")"
    jq -e --argjson b "$budget" '.over_budget == 0 and ([.max_window[]] | max <= $b)
        and ([.keys[] | .rate_limited] | add) == 0' <<<"$stats" >/dev/null \
        || fail "$1: a key went over $budget credits in a 1 s window: $(jq -c '{over_budget, max_window}' <<<"$stats")"
    jq -e '[.keys | keys[]] | sort == ["sharedSecretAlpha", "sharedSecretBravo"]' <<<"$stats" \
        >/dev/null || fail "$1: the emulator saw other keys: $(jq -c '.keys | keys' <<<"$stats")"
    emulator_stats >"$work/$1.stats"
}

# check_usage NAME DIR...: the usage topics of DIRs count per key exactly the calls and
# credits the emulator received, one record per key and journal entry, naming the hosts.
check_usage() {
    local name=$1 pair key secret
    shift
    local files=()
    for dir in "$@"; do files+=("$dir"/topics/evmtap.api_keys.usage/*.ndjson); done
    for pair in ka:sharedSecretAlpha kb:sharedSecretBravo; do
        key=${pair%%:*} secret=${pair#*:}
        jq -e -s --arg k "$key" --arg s "$secret" --slurpfile stats "$work/$name.stats" '
            ([.[] | select(.key == $k) | .requests] | add // 0) == ($stats[0].keys[$s].calls // -1)
            and ([.[] | select(.key == $k) | .units] | add // 0) == ($stats[0].keys[$s].accepted_units // -1)' \
            "${files[@]}" >/dev/null \
            || fail "$name: key $key: the usage topic differs from the provider's calls or credits"
    done
    # Which key served which chain is the pool's choice; between them, both hosts.
    jq -e -s --arg a "$alpha_host" --arg b "$beta_host" '
        [.[] | .provider | split(",")[]] | unique == ([$a, $b] | sort)' \
        "${files[@]}" >/dev/null || fail "$name: the usage records do not name the two hosts"
    jq -e -s 'group_by([.key, .host, .seq]) | all(length == 1)' "${files[@]}" >/dev/null \
        || fail "$name: two usage records of one key in one journal entry"
}

# One process, both chains, the keys declared once.
start_emulator "$url_alpha" --also "127.0.0.2=$url_beta" --costs "$costs" --budget "$budget"
port=${EMU_URL##*:}
alpha_host="127.0.0.1:$port" beta_host="127.0.0.2:$port"
cat >"$work/one.cfg" <<CFG
evmtap
    data_dir = $work/one
keys
    ka
        costs = infura
        rps = $budget
        rotate = 1
    kb
        costs = infura
        rps = $budget
        rotate = 1
chains
    alpha
        chain_id = 31337
        rpc = "http://$alpha_host/v3/{key}"
        keys = ka, kb
        workers = 2
        from = 0
        to = $head_alpha
    beta
        chain_id = 4242
        rpc = "http://$beta_host/v3/{key}"
        keys = ka, kb
        workers = 2
        from = 0
        to = $head_beta
CFG
"$evmtap" run --config "$work/one.cfg" 2>"$work/one.log" \
    || { tail -n 30 "$work/one.log" >&2; fail "one process: exit $?"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_alpha" --topics "$work/one/topics" \
    --chain alpha --from 0 --to "$head_alpha" --sent "$work/sent-alpha.jsonl" \
    --allow-extra transactionCount >/dev/null || fail "one process: chain alpha"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_beta" --topics "$work/one/topics" \
    --chain beta --from 0 --to "$head_beta" --sent "$work/sent-beta.jsonl" \
    --allow-extra transactionCount >/dev/null || fail "one process: chain beta"
check_emulator one
stop_pid "$EMU_PID"
check_usage one "$work/one"
pass "one process, two chains on two hosts, two shared keys: never in flight twice, within budget, usage exact"

# Two processes through Redis, one chain each: their URLs differ by host.
start_redis
start_emulator "$url_alpha" --also "127.0.0.2=$url_beta" --costs "$costs" --budget "$budget"
port=${EMU_URL##*:}
alpha_host="127.0.0.1:$port" beta_host="127.0.0.2:$port"
"$evmtap" run --chain alpha --chain-id 31337 --rpc "http://$alpha_host/v3/{key}" --keys ka,kb \
    --workers 2 --key-costs infura --key-rps "$budget" --key-rotate 1 --redis "$REDIS_URL" \
    --from 0 --to "$head_alpha" --data-dir "$work/two-alpha" 2>"$work/two-alpha.log" &
pid_alpha=$!
register_pid "$pid_alpha"
"$evmtap" run --chain beta --chain-id 4242 --rpc "http://$beta_host/v3/{key}" --keys ka,kb \
    --workers 2 --key-costs infura --key-rps "$budget" --key-rotate 1 --redis "$REDIS_URL" \
    --from 0 --to "$head_beta" --data-dir "$work/two-beta" 2>"$work/two-beta.log" &
pid_beta=$!
register_pid "$pid_beta"
rc=0; wait "$pid_alpha" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/two-alpha.log" >&2; fail "process alpha: exit $rc"; }
rc=0; wait "$pid_beta" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/two-beta.log" >&2; fail "process beta: exit $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_alpha" --topics "$work/two-alpha/topics" \
    --chain alpha --from 0 --to "$head_alpha" --allow-extra transactionCount >/dev/null \
    || fail "two processes: chain alpha"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_beta" --topics "$work/two-beta/topics" \
    --chain beta --from 0 --to "$head_beta" --allow-extra transactionCount >/dev/null \
    || fail "two processes: chain beta"
check_emulator two
stop_pid "$EMU_PID"
check_usage two "$work/two-alpha" "$work/two-beta"
# A pool key of an earlier version ("<provider host>/<name>") is not listed as a key.
redis-cli -p "$REDIS_PORT" SADD evmtap:keys "$alpha_host/ka" >/dev/null
redis-cli -p "$REDIS_PORT" HSET "evmtap:usage:$alpha_host/ka" sr 7 su 560 >/dev/null
pool=$(pool_json)
log "pool: $pool"
jq -e --arg a "$alpha_host" --arg b "$beta_host" '[.[] | .key] == ["ka", "kb"]
    and ([.[] | .provider | split(",")[]] | unique == ([$a, $b] | sort))' \
    <<<"$pool" >/dev/null || fail "evmtap keys does not list one row per key with its hosts"
for pair in ka:sharedSecretAlpha kb:sharedSecretBravo; do
    key=${pair%%:*} secret=${pair#*:}
    units=$(jq --arg k "$key" '.[] | select(.key == $k) | .units_24h' <<<"$pool")
    want=$(jq --arg s "$secret" '.keys[$s].accepted_units' "$work/two.stats")
    [ "$units" = "$want" ] || fail "evmtap keys: $key has $units credits in 24 h, the provider $want"
done
"$evmtap" keys --redis "$REDIS_URL" >"$work/keys.txt"
[ "$(grep -c '^k[ab] ' "$work/keys.txt")" -eq 2 ] || fail "evmtap keys prints a key twice: $(cat "$work/keys.txt")"
pass "two processes, one per host, through Redis: never in flight twice, within budget; evmtap keys: one row per key"

# One key, two budgets: refused, naming both lines.
sed 's/^    beta$/    beta/; s/^        to = '"$head_beta"'$/        to = '"$head_beta"'\n        key_rps = 100/' \
    "$work/one.cfg" >"$work/bad.cfg"
rc=0; "$evmtap" run --config "$work/bad.cfg" 2>"$work/bad.log" || rc=$?
[ "$rc" -eq 2 ] || fail "a key with two budgets: exit $rc, want 2"
line_key=$(grep -n "^        rps = $budget" "$work/bad.cfg" | head -n 1 | cut -d: -f1)
line_chain=$(grep -n "^        key_rps = 100" "$work/bad.cfg" | cut -d: -f1)
grep -q "key ka: rps is $budget at $work/bad.cfg:$line_key (keys/ka rps) but 100 at $work/bad.cfg:$line_chain (chains/beta key_rps)" \
    "$work/bad.log" || fail "the error does not name both lines: $(cat "$work/bad.log")"
if grep -q "sharedSecret" "$work"/*.log "$work/keys.txt"; then fail "a secret in a log"; fi
pass "a key given two budgets is refused, naming both lines"
