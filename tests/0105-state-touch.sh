#!/usr/bin/env bash
# labels: short
# State watchers on anvil, batched eth_call (anvil has no Multicall3 code): a pair and a
# lending pool of tests/contracts watched with `trigger = touch`, --receipts. Traffic
# (tests/state_lib.sh) touches them by a swap, a plain value transfer, a deposit, a borrow
# and a log of the pool in a transaction to another contract; a deployment and an
# unrelated transfer touch nothing. tests/state_check.py holds every contract.state
# record to cast call --block at its block (a reverting view gives `error` with cast's
# reason) and the firings to exactly the touching blocks, each with its transaction hash.
# Without --receipts the poke through Poker (a log only) fires nothing, as documented.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/state_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
state_deploy "$work"
state_traffic
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

STATE_CHAIN_EXTRA="        receipts = true
        to = $head"
state_config "$work/state.cfg"
"$evmtap" run --config "$work/state.cfg" --abis "$work/abis" --data-dir "$work/receipts" \
    2>"$work/receipts.log" || { tail -n 20 "$work/receipts.log" >&2; fail "evmtap run exited $?"; }
grep -q "no Multicall3 code: batched eth_call" "$work/receipts.log" \
    || fail "the log does not say that anvil has no Multicall3"
python3 "$EVMTAP_ROOT/tests/state_check.py" --rpc "$ANVIL_URL" --topics "$work/receipts/topics" \
    --sent "$STATE_SENT" --pair "$PAIR" --lending "$LENDING" --head "$head" --receipts \
    || fail "contract.state records differ from cast call or fire at the wrong blocks"
grep -q '"error":"reserve0 above limit"' "$work"/receipts/topics/anvil.contract.state/*.ndjson \
    || fail "no record of the reverting view"
pass "touch by to, value transfer and log; records equal cast call --block; revert reasons"

STATE_CHAIN_EXTRA="        to = $head"
state_config "$work/plain.cfg"
"$evmtap" run --config "$work/plain.cfg" --abis "$work/abis" --data-dir "$work/plain" \
    2>"$work/plain.log" || { tail -n 20 "$work/plain.log" >&2; fail "evmtap run exited $?"; }
python3 "$EVMTAP_ROOT/tests/state_check.py" --rpc "$ANVIL_URL" --topics "$work/plain/topics" \
    --sent "$STATE_SENT" --pair "$PAIR" --lending "$LENDING" --head "$head" \
    || fail "without --receipts: records differ"
pass "without --receipts a log alone touches nothing"
