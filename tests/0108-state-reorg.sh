#!/usr/bin/env bash
# labels: short
# State records through a reorg, while evmtap follows the head (Multicall3 at the canonical
# address, --receipts): the last two blocks of tests/state_lib.sh's traffic (an unrelated
# transfer, a swap on the pair) are replaced by anvil_reorg with a block holding another
# swap. The orphaned swap's block had its contract.state records; the consumer's rule of
# docs/topics.md ("Consuming reorgs": drop every record whose blockHash is a reorg record's
# orphanedHash) leaves only records of the node's chain, each equal to cast call --block
# at its block; the new branch's swap fires the pair with the new transaction as trigger.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
source "$(dirname "$0")/state_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
state_deploy "$work"
state_set_multicall
state_traffic
STATE_CHAIN_EXTRA="        receipts = true
        workers = 2"
state_config "$work/state.cfg"
"$evmtap" run --config "$work/state.cfg" --abis "$work/abis" --data-dir "$work/d" \
    2>"$work/run.log" &
pid=$!
register_pid "$pid"
wait_for 60 published "$work/d" "$(node_hash latest)" \
    || { tail -20 "$work/run.log" >&2; fail "the head was not published within 60 s"; }

orphan=$(jq -r 'select(.what == "swap 500 1->0") | .block' "$STATE_SENT")
orphan_hash=$(node_hash "$orphan")
grep -q "\"blockHash\":\"$orphan_hash\"" "$work"/d/topics/anvil.contract.state/*.ndjson \
    || fail "the swap's block $orphan has no state record before the reorg"
swap=$(cast calldata "swap(uint256,bool)" 777 true)
rpc "$ANVIL_URL" anvil_reorg \
    "[2, [[{\"from\":\"$reorg_from\",\"to\":\"$PAIR\",\"data\":\"$swap\",\"gas\":\"0x30000\"}, 1]]]" \
    >/dev/null || fail "anvil_reorg"
[ "$(node_hash "$orphan")" != "$orphan_hash" ] || fail "anvil_reorg kept block $orphan"
send_tx c
wait_for 60 published "$work/d" "$(node_hash latest)" \
    || { tail -20 "$work/run.log" >&2; fail "the new branch was not published within 60 s"; }
stop_run "$pid" "$work/run.log"
[ "$(reorg_records "$work/d")" -eq 2 ] || fail "$(reorg_records "$work/d") reorg records, want 2"

python3 - "$ANVIL_URL" "$work/d/topics" "$PAIR" "$orphan" <<'PY' || fail "state records after the reorg"
import glob, json, os, sys
sys.path.insert(0, os.path.join(os.environ["EVMTAP_ROOT"], "tests"))
import state_check, verify  # noqa: E402

url, topics, pair, orphan = sys.argv[1], sys.argv[2], sys.argv[3].lower(), int(sys.argv[4])
def read(topic):
    return [json.loads(line) for path in sorted(glob.glob(os.path.join(topics, "anvil." + topic, "*.ndjson")))
            for line in open(path)]
orphans = {r["orphanedHash"] for r in read("mined.blocks.reorged")}
records = read("contract.state")
kept = [r for r in records if r["blockHash"] not in orphans]
dropped = len(records) - len(kept)
problems = []
if dropped != 3:
    problems.append("%d records of orphaned blocks, want the orphaned swap's 3" % dropped)
canonical = {n: b["hash"] for n, b in ((int(b["number"], 16), b) for b in verify.rpc_batch(
    url, [("eth_getBlockByNumber", [hex(r["blockNumber"]), False]) for r in kept]))}
for r in kept:
    if canonical[r["blockNumber"]] != r["blockHash"]:
        problems.append("kept a record of a block not on the node's chain: %s" % r)
        continue
    values, error = state_check.cast_call(url, r["contract"], r["function"], r["blockNumber"])
    if error is None and state_check.flatten(r["outputs"]) != values:
        problems.append("%s %s at %d: %s, cast says %s" % (r["name"], r["function"], r["blockNumber"], r["outputs"], values))
    if error is not None and (r.get("outputs") is not None or r.get("error", "") not in error):
        problems.append("%s %s at %d: %s, cast says %s" % (r["name"], r["function"], r["blockNumber"], r.get("error"), error))
new_swap = [r for r in kept if r["blockNumber"] == orphan and r["contract"] == pair]
block = verify.rpc_batch(url, [("eth_getBlockByNumber", [hex(orphan), True])])[0]
if [r["function"] for r in new_swap] != ["getReserves", "getAmountOut", "checkBelow"] \
        or any(r["triggers"] != [block["transactions"][0]["hash"]] for r in new_swap):
    problems.append("the new branch's swap at %d: %s" % (orphan, new_swap))
for p in problems:
    print("PROBLEM: " + p)
print("state after reorg: %d records, %d dropped as orphans', %d problems" % (len(records), dropped, len(problems)))
sys.exit(1 if problems else 0)
PY
pass "after dropping the orphans' records, every state record is the node's chain's and equals cast call"
