#!/usr/bin/env bash
# labels: short
# One process follows two anvil nodes of different chain ids from one config file: each
# chain gets its own head poller, workers, topic prefix and checkpoint, and both are
# captured completely. Chain flags are refused when the file has several chains.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)" --chain-id 31337
url_a=$ANVIL_URL
start_anvil "$(free_port)" --chain-id 4242 --block-time 1
url_b=$ANVIL_URL
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$url_a" --blocks 6 --txs-per-block 2 \
    --seed 1 --out "$work/sent-a.jsonl" >/dev/null
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$url_b" --blocks 4 --txs-per-block 2 \
    --seed 2 --out "$work/sent-b.jsonl" >/dev/null
head_a=$(( $(rpc "$url_a" eth_blockNumber) ))
head_b=$(( $(rpc "$url_b" eth_blockNumber) + 3 ))   # chain b goes on while we follow it

cat >"$work/two.cfg" <<CFG
evmtap
    data_dir = $work/data
    sink = files
    drain_timeout = 10
chains
    anvil
        chain_id = 31337
        rpc = $url_a
        workers = 2
        from = 0
        to = $head_a
    side
        chain_id = 4242
        rpc = $url_b
        workers = 3
        from = 0
        to = $head_b
        fetch = hashes
CFG
"$evmtap" run --config "$work/two.cfg" 2>"$work/run.log" \
    || { cat "$work/run.log" >&2; fail "two chains: exit $?"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_a" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$head_a" --sent "$work/sent-a.jsonl" \
    --allow-extra transactionCount || fail "chain anvil"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$url_b" --topics "$work/data/topics" \
    --chain side --from 0 --to "$head_b" --sent "$work/sent-b.jsonl" \
    --allow-extra transactionCount || fail "chain side"
ls "$work/data/topics" | grep -v '^anvil\.\|^side\.' >/dev/null && fail "a topic without a chain prefix"
pass "two chains in one process, each complete under its own prefix"

# A chain whose node reports another chain id is refused, naming the chain.
sed 's/chain_id = 4242/chain_id = 5/' "$work/two.cfg" >"$work/wrong.cfg"
rc=0; "$evmtap" run --config "$work/wrong.cfg" 2>"$work/wrong.log" || rc=$?
[ "$rc" -eq 2 ] || fail "wrong chain id: exit $rc, want 2"
grep -q "chain side.*4242.*not the 5" "$work/wrong.log" || fail "wrong chain id not explained"
# Chain flags do not apply to a file with two chains.
rc=0; "$evmtap" run --config "$work/two.cfg" --from 3 2>"$work/flags.log" || rc=$?
[ "$rc" -eq 2 ] || fail "--from with two chains: exit $rc, want 2"
pass "a wrong chain id and chain flags with two chains are usage errors"
