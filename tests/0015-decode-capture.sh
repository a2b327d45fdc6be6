#!/usr/bin/env bash
# labels: short
# The decoder actor in a real capture: anvil with tests/traffic.py's mix, `evmtap run` with
# --abis (the test contracts' ABIs, bound to their deployed addresses by addresses.json):
# exactly one anvil.mined.tx.3.contract_interaction.decoded record per contract interaction,
# same key, right function and source for calls to the test contracts, unknown_selector for
# calls with data to an EOA and with an unknown selector. Then without --abis: the shipped
# config/abis decode the token calls (ERC-20) and report the rest as unknown_selector.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)"
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 20 --txs-per-block 5 \
    --seed 3 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

test_contract_abis "$work/abis" "$work/sent.jsonl"

check() {
    local topics=$1 mode=$2
    python3 - "$topics" "$work/sent.jsonl" "$mode" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["EVMTAP_ROOT"], "tests"))
import verify  # noqa: E402
topics, sent_path, mode = sys.argv[1:]
CALLS = "mined.tx.3.contract_interaction"
DECODED = CALLS + ".decoded"
problems = []
loaded = verify.load_topics(topics, "anvil", [CALLS, DECODED], problems)
assert not problems, problems[:5]
calls, decoded = ([record.value for record in loaded[topic]] for topic in (CALLS, DECODED))
sent = {s["hash"]: s["what"] for s in map(json.loads, open(sent_path))}
assert calls, "no contract interactions captured"
assert [c["hash"] for c in calls] == [d["hash"] for d in decoded], \
    "decoded records do not match the interactions one to one, in order"
kinds = {}
for call, record in zip(calls, decoded):
    assert record["blockNumber"] == call["blockNumber"] and record["chainId"] == 31337, record
    assert record["blockHash"] == call["blockHash"] and len(record["blockHash"]) == 66, record
    assert record["to"] == call["to"], record
    what = sent.get(call["hash"], "")
    if what.startswith(("Token.", "Counter.", "Factory.")) and mode == "abis":
        contract, function = what.split(".")
        assert record["decoding"] == "decoded", (what, record)
        assert record["function"] == function, (what, record)
        assert record["source"] == "abi:%s.json" % contract, (what, record)
    elif what.startswith("Token.") and mode == "default":
        assert record["decoding"] == "decoded" and record["source"] == "abi:ERC20.json", record
    elif what in ("data to EOA", "unknown selector (reverts)") or mode == "default":
        assert record["decoding"] == "unknown_selector", (what, record)
        assert "reason" in record and "args" not in record, record
    kinds[record["decoding"]] = kinds.get(record["decoding"], 0) + 1
if mode == "abis":
    assert kinds.get("unknown_selector"), "the traffic made no call with an unknown selector"
print("%d interactions, %d decoded records: %s" % (len(calls), len(decoded), kinds))
PY
}

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --abis "$work/abis" \
    --data-dir "$work/abis-run" 2>"$work/abis-run.log" \
    || { tail -n 20 "$work/abis-run.log" >&2; fail "evmtap run --abis exited $?"; }
check "$work/abis-run/topics" abis || fail "decoded records with --abis"
pass "--abis: one decoded record per contract interaction, by the bound ABIs"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --data-dir "$work/default-run" \
    2>"$work/default-run.log" || fail "evmtap run without --abis exited $?"
check "$work/default-run/topics" default || fail "decoded records with config/abis"
pass "no --abis: config/abis decodes the ERC-20 calls, the rest unknown_selector"

# A malformed ABI is a usage error naming the file, before anything is fetched.
printf '[{"type":"function",' >"$work/abis/Broken.json"
rc=0; "$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 1 --abis "$work/abis" \
    --data-dir "$work/broken-run" 2>"$work/broken.log" || rc=$?
[ "$rc" = 2 ] && grep -q "Broken.json: not valid JSON" "$work/broken.log" \
    || fail "malformed ABI: exit $rc, $(cat "$work/broken.log")"
pass "malformed ABI in --abis: exit 2 naming the file"
