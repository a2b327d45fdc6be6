#!/usr/bin/env bash
# labels: short
# State watchers through Multicall3 and through batched eth_call give the same records,
# the calls leased under the key pool like any provider call. Multicall3 (tests/contracts,
# an aggregate3 of its published interface) is put at the canonical address with
# anvil_setCode; the same traffic is then captured three times through
# tests/provider_emulator.py (keys in the URL, calls counted per method):
#   * default multicall: one eth_getCode, then one eth_call per block that fires watchers
#     (block 0, older than Multicall3's code, falls back to batched eth_call);
#   * multicall = none: no eth_getCode, one eth_call per view call (a batch of k is k);
#   * a Multicall3 address with no code: eth_getCode says so once, then batched eth_call.
# All three runs' contract.state records are equal, byte for byte once sorted, and equal to
# cast call --block (tests/state_check.py), with an `every 4` watcher beside the touch ones;
# no key is ever used by two holders at once (the emulator's overlaps), and no secret is
# written anywhere.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/keys_lib.sh"
source "$(dirname "$0")/state_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
state_deploy "$work"
state_set_multicall
state_traffic
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
export EVMTAP_KEY_KA=secret-ka-0106 EVMTAP_KEY_KB=secret-kb-0106

# run NAME MULTICALL_LINE: one capture through a fresh emulator; its stats in NAME.stats.
run() {
    local name=$1 multicall=$2
    start_emulator "$ANVIL_URL"
    local rpc_url=$ANVIL_URL
    ANVIL_URL="$EMU_URL/v3/{key}"
    STATE_CHAIN_EXTRA="        receipts = true
        to = $head
        keys = ka, kb
        workers = 2
$multicall"
    state_config "$work/$name.cfg" 4
    ANVIL_URL=$rpc_url
    "$evmtap" run --config "$work/$name.cfg" --abis "$work/abis" --data-dir "$work/$name" \
        2>"$work/$name.log" || { tail -n 20 "$work/$name.log" >&2; fail "$name: evmtap run exited $?"; }
    emulator_stats >"$work/$name.stats"
    stop_pid "$EMU_PID"
    python3 "$EVMTAP_ROOT/tests/state_check.py" --rpc "$ANVIL_URL" --topics "$work/$name/topics" \
        --sent "$STATE_SENT" --pair "$PAIR" --lending "$LENDING" --head "$head" --receipts \
        --every 4 --out "$work/$name.records" || fail "$name: records differ from cast call"
    if grep -rq "secret-k[ab]-0106" "$work/$name" "$work/$name.log"; then
        fail "$name: a key's secret was written"
    fi
}
calls() { jq "[.keys[].methods[\"$2\"] // 0] | add" "$work/$1.stats"; }

run multicall ""
run batched "        multicall = none"
run nocode "        multicall = 0x00000000000000000000000000000000000c0de0"

# Blocks that fire watchers, and view calls made, from the records.
blocks=$(jq -s '[.[].blockNumber] | unique | length' "$work/multicall.records")
views=$(wc -l <"$work/multicall.records")
log "$blocks blocks fired watchers, $views view calls"
grep -q "Multicall3 found" "$work/multicall.log" || fail "multicall: the log does not say so"
[ "$(calls multicall eth_getCode)" -eq 1 ] || fail "multicall: $(calls multicall eth_getCode) eth_getCode"
# Block 0 (the every-4 watcher) is older than Multicall3's code: its aggregate3 answers
# nothing, and that block's calls go again batched.
fallbacks=$(grep -c "batched eth_call for this block" "$work/multicall.log" || true)
[ "$fallbacks" -eq 1 ] || fail "multicall: $fallbacks blocks fell back to batched eth_call, not 1"
[ "$(calls multicall eth_call)" -eq $(( blocks + 1 )) ] \
    || fail "multicall: $(calls multicall eth_call) eth_call for $blocks blocks and a fallback"
pass "Multicall3: one eth_call per block ($blocks blocks, $views views), one eth_getCode"
pass "a block older than Multicall3's code falls back to batched eth_call"

[ "$(calls batched eth_getCode)" -eq 0 ] || fail "batched: eth_getCode asked"
[ "$(calls batched eth_call)" -eq "$views" ] \
    || fail "batched: $(calls batched eth_call) eth_call for $views views"
grep -q "no Multicall3 code" "$work/nocode.log" || fail "nocode: the log does not say so"
[ "$(calls nocode eth_getCode)" -eq 1 ] && [ "$(calls nocode eth_call)" -eq "$views" ] \
    || fail "nocode: $(calls nocode eth_getCode) eth_getCode, $(calls nocode eth_call) eth_call"
pass "batched eth_call: one call per view ($views), eth_getCode only when an address is set"

for name in multicall batched nocode; do
    [ "$(jq .overlaps "$work/$name.stats")" -eq 0 ] \
        || fail "$name: a key was used by two holders at once: $(jq -c .overlap_examples "$work/$name.stats")"
done
pass "the state watcher's calls never share a key with a fetch worker (no overlap)"

cmp "$work/multicall.records" "$work/batched.records" || fail "multicall and batched records differ"
cmp "$work/multicall.records" "$work/nocode.records" || fail "multicall and nocode records differ"
pass "the three ways give the same records"
