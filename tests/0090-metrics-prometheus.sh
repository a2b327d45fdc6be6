#!/usr/bin/env bash
# labels: short
# Debian's prometheus scrapes a running evmtap (--metrics) that captures anvil through the
# provider emulator with two keys: the `up` series is 1, and evmtap's series hold what the
# files sink and the emulator show: the last block published and the head, the records
# per topic (the files' lines), the eth_getBlockByNumber calls per key (the emulator's
# count per secret, mapped to the key's pseudo-name), and what `evmtap ctl STATUS` says.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 8 --txs-per-block 3 \
    --seed 11 --out "$work/sent.jsonl" >/dev/null
# Blocks 12 s apart at the end, so that evmtap's head polls leave quiet moments.
rpc "$ANVIL_URL" anvil_mine '["0x4", "0xc"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
start_emulator "$ANVIL_URL"
export EVMTAP_KEY_MK1=MetricsSecretOne01 EVMTAP_KEY_MK2=MetricsSecretTwo02
start_evmtap_metrics run --rpc "$EMU_URL/v3/{key}" --keys mk1,mk2 --workers 2 --from 0 \
    --key-daily 1000000 --data-dir "$work/data"
wait_metric 120 'evmtap_published_block{chain="anvil"}' "$head" \
    || fail "evmtap_published_block never reached the head $head: $(scrape | grep -v '^#' | head -20)"
pass "evmtap serves /metrics while it follows the chain"

target=${METRICS_URL#http://}; target=${target%/metrics}
start_prometheus "$target"
wait_prom 60 "up{job=\"evmtap\",instance=\"$target\"}" 1 || fail "prometheus: up is not 1"
pass "prometheus scrapes evmtap: up is 1"

# The files sink's view: the last block and the records per topic.
topics="$work/data/topics"
last=$(cat "$topics"/anvil.mined.blocks.metadata/*.ndjson | jq -s 'map(.number) | max')
[ "$last" -eq "$head" ] || fail "the files end at block $last, not $head"
wait_prom 60 'evmtap_published_block{chain="anvil"}' "$head" \
    || fail "prometheus: evmtap_published_block is not $head"
wait_prom 60 'evmtap_head_block{chain="anvil"}' "$head" || fail "prometheus: evmtap_head_block is not $head"
wait_prom 60 'evmtap_blocks_behind{chain="anvil"}' 0 || fail "prometheus: evmtap_blocks_behind is not 0"
checked=0
# (The usage topic grows with every flush of the key pool: its records go on arriving.)
for dir in "$topics"/anvil.*/; do
    topic=$(basename "$dir")
    lines=$(cat "$dir"*.ndjson | wc -l)
    wait_prom 60 "evmtap_published_records_total{chain=\"anvil\",topic=\"$topic\"}" "$lines" \
        || fail "prometheus: $topic has $(prom_query "evmtap_published_records_total{chain=\"anvil\",topic=\"$topic\"}" || true) records, the files $lines"
    checked=$((checked + 1))
done
[ "$checked" -ge 3 ] || fail "only $checked topics in the files"
pass "prometheus has the files sink's last block ($head) and records of $checked topics"

# The emulator's count per key against evmtap's, over blocks mined while both run (the
# start-up probes' calls are the emulator's alone): both settle between head polls.
# A count is taken when nothing moved for half a second: the emulator's and evmtap's
# (whose updates wait up to 250 ms) alike.
counts() {
    local first second
    first=$(counts_once) || return 1
    sleep 0.5
    second=$(counts_once) || return 1
    [ "$first" = "$second" ] || return 1
    echo "$first"
}
# The emulator's eth_getBlockByNumber calls per key (by its secret) and evmtap's (by its
# name), as {"mk1": [emulator, evmtap], ...}; fails when the emulator's moved meanwhile.
counts_once() {
    emulator_stats >"$work/before.json"
    scrape >"$work/scrape.txt"
    emulator_stats >"$work/after.json"
    python3 - "$work/scrape.txt" "$work/before.json" "$work/after.json" <<'PY'
import json, re, sys
scrape = open(sys.argv[1]).read()
stats = [json.load(open(path)) for path in sys.argv[2:]]
out = {}
for secret, key in {"MetricsSecretOne01": "mk1", "MetricsSecretTwo02": "mk2"}.items():
    emulator = [s["keys"].get(secret, {}).get("methods", {}).get("eth_getBlockByNumber", 0)
                for s in stats]
    if emulator[0] != emulator[1]:
        sys.exit(1)
    evmtap = 0
    for line in scrape.splitlines():
        m = re.match(r'evmtap_requests_total\{(.*)\} (\S+)$', line)
        if m and f'key="{key}"' in m.group(1) and 'method="eth_getBlockByNumber"' in m.group(1):
            evmtap += int(float(m.group(2)))
    out[key] = [emulator[0], evmtap]
print(json.dumps(out, sort_keys=True))
PY
}
settled() { counts >"$work/base.json"; }
wait_for 60 settled || fail "the emulator's counts never settled"
base=$(cat "$work/base.json")
rpc "$ANVIL_URL" anvil_mine '["0x5", "0xc"]' >/dev/null
wait_metric 120 'evmtap_published_block{chain="anvil"}' "$((head + 5))" \
    || fail "the 5 blocks mined were not published"
deltas_match() {
    local now
    now=$(counts) || return 1
    python3 - "$base" "$now" <<'PY'
import json, sys
base, now = json.loads(sys.argv[1]), json.loads(sys.argv[2])
deltas = {k: (now[k][0] - base[k][0], now[k][1] - base[k][1]) for k in base}
total = sum(d[0] for d in deltas.values())
sys.exit(0 if total >= 5 and all(a == b for a, b in deltas.values()) else 1)
PY
}
wait_for 90 deltas_match || fail "evmtap_requests_total per key never matched the emulator's counts"
pass "evmtap_requests_total per key moves as the emulator's eth_getBlockByNumber calls"

# What `evmtap ctl STATUS` reports, prometheus has: the head, the last block published and
# the fetch workers.
"$evmtap" ctl --data-dir "$work/data" --json STATUS >"$work/status.json" \
    || fail "evmtap ctl STATUS"
status_of() { jq -e ".chains[] | select(.chain == \"anvil\") | $1" "$work/status.json"; }
status_head=$(status_of .head) && status_published=$(status_of .published) \
    && status_workers=$(status_of '.workers.local + .workers.remote') \
    || { cat "$work/status.json" >&2; fail "ctl STATUS has no head, published or workers"; }
[ "$status_published" -eq "$((head + 5))" ] || fail "ctl STATUS: published $status_published"
wait_prom 60 'evmtap_head_block{chain="anvil"}' "$status_head" \
    || fail "prometheus: evmtap_head_block is not ctl STATUS's head $status_head"
wait_prom 60 'evmtap_published_block{chain="anvil"}' "$status_published" \
    || fail "prometheus: evmtap_published_block is not ctl STATUS's $status_published"
wait_prom 60 'evmtap_workers_connected{chain="anvil"}' "$status_workers" \
    || fail "prometheus: evmtap_workers_connected is not ctl STATUS's $status_workers"
pass "prometheus's head, published block and workers are ctl STATUS's"

kill -TERM "$EVMTAP_PID"
rc=0; wait "$EVMTAP_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "evmtap exited $rc after SIGTERM"
pass "evmtap with --metrics drains and exits 0"
