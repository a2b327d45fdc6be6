#!/usr/bin/env bash
# labels: short
# promtool on everything Prometheus reads of evmtap's: `promtool check metrics` finds
# nothing in a live scrape (keys, a reorg, the files sink: most families have samples),
# `promtool check rules` passes on swarm/prometheus/rules and `promtool test rules` on
# swarm/prometheus/tests, and the
# Grafana provisioning is sound (the datasource the dashboards name exists and points at
# the stack's Prometheus; every dashboard file parses and has a uid of its own).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
command -v promtool >/dev/null 2>&1 || fail "promtool not found: run scripts/setup"
work=$(tmpdir)
rules="$EVMTAP_ROOT/swarm/prometheus/rules"
grafana="$EVMTAP_ROOT/swarm/grafana"

for file in "$rules"/*.yml; do
    promtool check rules "$file" >"$work/check.txt" 2>&1 || { cat "$work/check.txt" >&2; fail "promtool check rules $file"; }
done
# The tests live apart: Prometheus loads every rules/*.yml of the stack as rules.
(cd "$EVMTAP_ROOT/swarm/prometheus/tests" && for test in *_test.yml; do promtool test rules "$test"; done) >"$work/test.txt" 2>&1 \
    || { cat "$work/test.txt" >&2; fail "promtool test rules"; }
pass "promtool check rules and test rules pass on swarm/prometheus/rules"

python3 - "$grafana" <<'PY' || fail "the Grafana provisioning is not sound"
import glob, json, os, sys
root = sys.argv[1]
def yaml_values(path, key):
    return [line.split(":", 1)[1].strip() for line in open(path) if line.strip().startswith(key + ":")]
sources = glob.glob(os.path.join(root, "provisioning/datasources/*.yml"))
assert sources, "no datasource"
uids = [u for f in sources for u in yaml_values(f, "uid")]
urls = [u for f in sources for u in yaml_values(f, "url")]
assert "http://prometheus:9090" in urls, urls
assert glob.glob(os.path.join(root, "provisioning/dashboards/*.yml")), "no dashboard provider"
seen = set()
dashboards = sorted(glob.glob(os.path.join(root, "dashboards/*.json")))
assert len(dashboards) >= 4, dashboards
for path in dashboards:
    board = json.load(open(path))
    assert board["uid"] not in seen, board["uid"]
    seen.add(board["uid"])
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] in uids, (path, panel["title"])
        assert panel["targets"], (path, panel["title"])
PY
pass "grafana: the datasource, its provider and $(ls "$grafana"/dashboards/*.json | wc -l) dashboards are sound"

# A live scrape with samples in most families: two keys with budgets, a reorg, the files.
start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x8"]' >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
export EVMTAP_KEY_PK1=PromtoolSecret001 EVMTAP_KEY_PK2=PromtoolSecret002
start_emulator "$ANVIL_URL"
start_evmtap_metrics run --rpc "$EMU_URL/v3/{key}" --keys pk1,pk2 --workers 2 --from 0 \
    --key-daily 100000 --data-dir "$work/data"
wait_metric 120 'evmtap_published_block{chain="anvil"}' "$head" || fail "the head was not published"
reorg_at 2 "$work/expected.jsonl"
send_tx c
wait_metric 120 'evmtap_reorgs_total{chain="anvil"}' 1 || fail "no reorg counted"
scrape >"$work/scrape.txt"
promtool check metrics <"$work/scrape.txt" >"$work/lint.txt" 2>&1 || true
[ ! -s "$work/lint.txt" ] || { cat "$work/lint.txt" >&2; fail "promtool check metrics found problems"; }
grep -q '^evmtap_reorg_depth_blocks_bucket{chain="anvil",le="2"} 1$' "$work/scrape.txt" \
    || fail "the reorg's depth is not in its histogram: $(grep reorg_depth "$work/scrape.txt")"
grep -q '^evmtap_key_leases_total{key="pk1"}' "$work/scrape.txt" || fail "no lease counted for pk1"
pass "promtool check metrics finds nothing in a live scrape ($(grep -vc '^#' "$work/scrape.txt") samples)"
