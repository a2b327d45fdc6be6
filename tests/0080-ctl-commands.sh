#!/usr/bin/env bash
# labels: short
# evmtap ctl against a running evmtap run (anvil --block-time 1, traffic, --abis of an
# empty folder): STATUS and KEYS in text and --json; PAUSE stops new blocks while the node
# goes on, RESUME continues with no gap; SCALE changes the workers STATUS shows; RELOAD
# (and SIGHUP) takes an ABI added since; BACKFILL over the run's own blocks is refused (exit 1); usage errors exit 2;
# STOP drains and exits 0 as SIGTERM; the files then hold every block once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --block-time 1
work=$(tmpdir)
mkdir -p "$work/abis"
echo '{}' >"$work/abis/addresses.json"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 200 --txs-per-block 2 \
    --seed 5 --out "$work/sent.jsonl" >/dev/null 2>&1 &
register_pid $!
# Three keys (anvil takes the secret in the query string and ignores it) for two workers.
export EVMTAP_KEY_K1=secret-one-1111 EVMTAP_KEY_K2=secret-two-2222 EVMTAP_KEY_K3=secret-three-3333
"$evmtap" run --rpc "$ANVIL_URL/?key={key}" --keys k1,k2,k3 --from 0 --workers 2 \
    --abis "$work/abis" --data-dir "$work/data" 2>"$work/run.log" &
pid=$!
register_pid "$pid"
# The coordinator answers from its wait loop, which under ASan on a loaded machine may be
# busy for more than ctl's default 5 s (a decoder taking a reload, workers stopping).
ctl() { "$evmtap" ctl --data-dir "$work/data" --timeout 30 "$@" | tee -a "$work/ctl.out"; }
topics="$work/data/topics"

published() {
    python3 - "$topics/anvil.mined.blocks.metadata" <<'PY'
import json, os, sys
numbers = []
for name in sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else []:
    numbers += [json.loads(line)["number"] for line in open(os.path.join(sys.argv[1], name))]
print(max(numbers) if numbers else -1)
PY
}
published_past() { [ "$(published)" -gt "$1" ]; }
head_past() { [ "$(($(rpc "$ANVIL_URL" eth_blockNumber)))" -gt "$1" ]; }
local_workers() { [ "$(ctl --json STATUS | jq '.chains[0].workers.local')" = "$1" ]; }
leased_keys() { [ "$(ctl --json STATUS | jq '.chains[0].keys.leased')" = "$1" ]; }

wait_for 60 ctl STATUS || { cat "$work/run.log" >&2; fail "no answer to STATUS within 60 s"; }
wait_for 60 published_past 2 || fail "nothing published within 60 s"

# STATUS and KEYS, text and --json.
text=$(ctl STATUS) || fail "STATUS exited $?"
grep -q '^CHAIN .*HEAD .*PUBLISHED .*BEHIND .*BLOCKS/S .*WORKERS' <<<"$text" \
    || fail "STATUS text has no header: $text"
grep -q '^anvil .* 2+0 .* files ok$' <<<"$text" || fail "STATUS text: no anvil row: $text"
json=$(ctl --json STATUS) || fail "STATUS --json exited $?"
jq -e '.paused == false and (.chains | length) == 1 and .chains[0].chain == "anvil"
       and .chains[0].chainId == 31337 and .chains[0].workers.local == 2
       and .chains[0].workers.remote == 0 and (.chains[0].head | type) == "number"
       and (.chains[0].published | type) == "number" and .chains[0].behind >= 0
       and (.chains[0].blocks_per_s | type) == "number" and .chains[0].sink.kind == "files"
       and .chains[0].sink.state == "ok" and .chains[0].keys.configured == 3
       and ([.chains[0].keys | .leased, .cooling, .parked, .free] | add) == 3' <<<"$json" \
    >/dev/null || fail "STATUS --json: $json"
wait_for 20 leased_keys 2 || fail "STATUS: not 2 keys leased by 2 workers"
ctl KEYS | grep -q '^KEY .*PROVIDER .*STATE .*HOLDER' || fail "KEYS text has no header"
ctl KEYS | grep -q '^k1 .*127.0.0.1' || fail "KEYS text has no row of k1"
ctl --json KEYS | jq -e 'type == "array" and length == 3
    and (map(.key) | sort) == ["k1", "k2", "k3"]
    and (map(select(.state == "leased")) | length) == 2' >/dev/null || fail "KEYS --json"
pass "STATUS and KEYS, text and --json (2 of 3 keys leased)"

# PAUSE: the node goes 6 blocks past what was published, and no block comes but those in
# flight (at most the window: 2 workers x 2).
ctl PAUSE | grep -q '^paused' || fail "PAUSE did not say paused"
ctl --json STATUS | jq -e '.paused == true' >/dev/null || fail "STATUS does not say paused"
at_pause=$(published)
wait_for 60 head_past "$((at_pause + 10))" || fail "anvil did not go on"
after=$(published)
[ "$after" -le "$((at_pause + 4))" ] \
    || fail "paused at $at_pause, the files went on to $after while paused"
pass "PAUSE: published $at_pause, then $after while the node went past $((at_pause + 10))"
ctl --json RESUME | jq -e '.ok == true and .paused == false' >/dev/null || fail "RESUME --json"
resumed_head=$(($(rpc "$ANVIL_URL" eth_blockNumber)))
wait_for 60 published_past "$resumed_head" || fail "RESUME: nothing past $resumed_head in 60 s"
pass "RESUME: past block $resumed_head"

# SCALE: the worker count STATUS shows, and blocks go on after each change.
ctl SCALE 5 | grep -q '^5 fetch workers per chain' || fail "SCALE 5"
wait_for 20 local_workers 5 || fail "STATUS does not show 5 workers"
wait_for 20 leased_keys 3 || fail "STATUS: 5 workers do not lease the 3 keys"
mark=$(published)
wait_for 60 published_past "$((mark + 2))" || fail "nothing published after SCALE 5"
ctl --json SCALE 1 | jq -e '.ok == true and .workers == 1' >/dev/null || fail "SCALE 1 --json"
wait_for 20 local_workers 1 || fail "STATUS does not show 1 worker"
wait_for 20 leased_keys 1 || fail "SCALE 1: the stopped workers did not give their keys back"
mark=$(published)
wait_for 60 published_past "$((mark + 2))" || fail "nothing published after SCALE 1"
pass "SCALE 5 then 1: STATUS shows them, blocks go on"

# RELOAD: no ABI before it, so no call is decoded by one; after it, calls of the bound
# contracts are.
decoded_by_abi() {
    cat "$topics/anvil.mined.tx.3.contract_interaction.decoded/"*.ndjson 2>/dev/null \
        | jq -e -s 'map(select(.source // "" | startswith("abi:"))) | length > 0' >/dev/null
}
decoded_by_abi && fail "a call was decoded by an ABI before any ABI was there"
wait_for 30 grep -q '"deploy Factory"' "$work/sent.jsonl" || fail "no deployments sent"
test_contract_abis "$work/abis" "$work/sent.jsonl"
ctl RELOAD | grep -q '^reloaded' || fail "RELOAD"
wait_for 90 decoded_by_abi || fail "RELOAD: no call decoded by the new ABIs within 90 s"
pass "RELOAD: calls decoded by the ABIs added since the start"
kill -HUP "$pid"
wait_for 20 grep -q "SIGHUP: decoding sources reloaded" "$work/run.log" \
    || fail "SIGHUP did not reload"
kill -0 "$pid" || fail "SIGHUP stopped evmtap"
pass "SIGHUP reloads too"

# BACKFILL of blocks the run publishes itself (it started at 0) is refused (0083 runs
# one), and usage errors exit 2.
rc=0; ctl BACKFILL 1 2 2>"$work/backfill.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "BACKFILL refused: block 2 is the run's to publish" "$work/backfill.err" \
    || fail "BACKFILL: exit $rc: $(cat "$work/backfill.err")"
for args in "SCALE" "SCALE x" "SCALE 0" "BACKFILL 5 1" "BOGUS" "STATUS extra" "--timeout 0 STATUS"; do
    rc=0
    # shellcheck disable=SC2086
    ctl $args 2>/dev/null || rc=$?
    [ "$rc" -eq 2 ] || fail "ctl $args: exit $rc, want 2"
done
ctl --help | grep -q '^Usage: evmtap ctl' || fail "ctl --help"
pass "BACKFILL over the run's blocks refused with exit 1; usage errors exit 2"

# STOP: as SIGTERM, drained, exit 0; every block once.
ctl --json STOP | jq -e '.ok == true' >/dev/null || fail "STOP --json"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/run.log" >&2; fail "STOP: exit $rc, want 0"; }
grep -q "STOP asked" "$work/run.log" || fail "STOP not logged"
last=$(published)
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$topics" --chain anvil \
    --from 0 --to "$last" --allow-extra transactionCount \
    || fail "after PAUSE, RESUME, SCALE and STOP the files differ from the node"
pass "STOP: exit 0, blocks 0..$last each exactly once"
for secret in "$EVMTAP_KEY_K1" "$EVMTAP_KEY_K2" "$EVMTAP_KEY_K3"; do
    grep -q -- "$secret" "$work/ctl.out" "$work/run.log" && fail "a key's secret was printed"
done
pass "no secret in any ctl answer or log line"
