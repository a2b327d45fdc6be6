#!/usr/bin/env bash
# labels: short
# Reorgs of depth 1 to 5 while evmtap follows the head (--from 0, no --to, --receipts), with
# (odd depths) and without (even) replacement transactions, the deepest two orphaning
# blocks of contract traffic (tests/traffic.py: deployments, calls, logs, token transfers):
# after each, the reorg records name exactly the orphaned blocks (numbers, hashes, depth);
# at the end (SIGTERM, exit 0),
# dropping the records of orphaned hashes leaves the node's chain block by block and every
# canonical transaction exactly once (tests/reorg_check.py).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 2 --txs-per-block 2 \
    --seed 1 --out "$work/sent-1.jsonl" >/dev/null
"$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --receipts --workers 2 \
    --data-dir "$work/d" 2>"$work/run.log" &
pid=$!
register_pid "$pid"

expected=0
: >"$work/expected.jsonl"
for depth in 1 2 3 4 5; do
    if ((depth >= 4)); then
        python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 2 --txs-per-block 2 \
            --seed "$depth" --out "$work/sent-$depth.jsonl" >/dev/null
    else
        send_tx a; send_tx b
    fi
    wait_for 30 published "$work/d" "$(node_hash latest)" \
        || { tail -20 "$work/run.log" >&2; fail "depth $depth: the head not published within 30 s"; }
    with=$( ((depth % 2)) && echo with || echo without)
    reorg_at "$depth" "$work/expected.jsonl" "$with"
    send_tx c
    expected=$((expected + depth))
    wait_for 30 published "$work/d" "$(node_hash latest)" \
        || { tail -20 "$work/run.log" >&2; fail "depth $depth: the new branch not published within 30 s"; }
    [ "$(reorg_records "$work/d")" -eq "$expected" ] \
        || fail "depth $depth: $(reorg_records "$work/d") reorg records, want $expected"
    pass "reorg of depth $depth ($with replacement transactions) announced and unwound"
done

stop_run "$pid" "$work/run.log"
grep -q "reorg of depth 5" "$work/run.log" || { cat "$work/run.log" >&2; fail "no reorg logged"; }
for topic in mined.logs.decoded mined.token_transfers mined.tx.3.contract_interaction.decoded; do
    [ -s "$(ls "$work/d/topics/anvil.$topic/"*.ndjson)" ] || fail "the traffic made no $topic record"
done
orphaned_logs=$(jq -r .orphanedHash "$work/expected.jsonl" | grep -c -F -f - "$work/d/topics/anvil.mined.logs.decoded/"*.ndjson || true)
[ "$orphaned_logs" -gt 0 ] || fail "no decoded log of an orphaned block: the test does not test dropping them"
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/d/topics" \
    --chain anvil --to "$(node_number latest)" --expect "$work/expected.jsonl" \
    || fail "the files, orphans dropped, are not the node's chain"
pass "orphans dropped: the node's chain block by block, every transaction exactly once"
