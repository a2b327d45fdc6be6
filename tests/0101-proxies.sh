#!/usr/bin/env bash
# labels: short
# Proxies decoded with their implementation's ABI (anvil, the test contracts of
# tests/contracts/Proxy1967.sol): --abis binds the Token (v1) and TokenV2 implementations
# and, to another ABI, one proxy's own address. A call to the EIP-1967 proxy and to an
# EIP-1167 clone of v1 decodes with Token.json and says "via": v1; the proxy bound itself
# decodes without via (its own binding wins). After upgradeTo(v2) (Upgraded, with
# --receipts) a call of v2's mint through the proxy decodes with TokenV2.json, via v2. The
# answers are kept in <data-dir>/proxies. Without receipts, --proxy-refresh 1 finds the
# upgrade by asking again, and --proxy-refresh 0 does not (no via on the mint).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
command -v cast >/dev/null || fail "cast not found: run scripts/setup"

start_anvil "$(free_port)"
work=$(tmpdir)
artifacts="$EVMTAP_ROOT/tests/contracts/artifacts"
deployer=$(cast wallet address --mnemonic "test test test test test test test test test test test junk")
spender=0x00000000000000000000000000000000000000a1
send() { cast send --rpc-url "$ANVIL_URL" --unlocked --from "$deployer" --json "$@"; }
deploy() {
    local name=$1
    shift
    send --create "$(jq -r .bytecode "$artifacts/$name.json")" "$@" | jq -er .contractAddress
}
v1=$(deploy Token "constructor(string,string,uint256)" Test TST 1000)
v2=$(deploy TokenV2)
proxy=$(deploy Proxy1967 "constructor(address)" "$v1")
bound=$(deploy Proxy1967 "constructor(address)" "$v1")
cloner=$(deploy Cloner)
clone=$(send "$cloner" "clone(address)" "$v1" | jq -er '.logs[0].data' | sed 's/^0x000000000000000000000000/0x/')
[ "$(cast code --rpc-url "$ANVIL_URL" "$clone" | cut -c1-22)" = 0x363d3d373d3d3d363d73 ] \
    || fail "the clone at $clone is not an EIP-1167 proxy"

declare -A tx
tx[proxy]=$(send "$proxy" "approve(address,uint256)" "$spender" 5 | jq -er .transactionHash)
tx[clone]=$(send "$clone" "approve(address,uint256)" "$spender" 6 | jq -er .transactionHash)
tx[bound]=$(send "$bound" "approve(address,uint256)" "$spender" 7 | jq -er .transactionHash)
send "$proxy" "upgradeTo(address)" "$v2" >/dev/null
tx[mint]=$(send "$proxy" "mint(address,uint256)" "$spender" 8 | jq -er .transactionHash)
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))

mkdir -p "$work/abis"
cp "$artifacts/Token.json" "$artifacts/TokenV2.json" "$artifacts/Counter.json" "$work/abis/"
jq -n --arg a "${v1,,}" --arg b "${v2,,}" --arg c "${bound,,}" \
    '{($a): "Token.json", ($b): "TokenV2.json", ($c): "Counter.json"}' >"$work/abis/addresses.json"

capture() {
    local name=$1
    shift
    "$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --abis "$work/abis" \
        --data-dir "$work/$name" "$@" 2>"$work/$name.log" \
        || { tail -n 20 "$work/$name.log" >&2; fail "evmtap run ($name) exited $?"; }
}
check() {
    python3 - "$work/$1/topics/anvil.mined.tx.3.contract_interaction.decoded" "$2" \
        "${tx[proxy]}" "${tx[clone]}" "${tx[bound]}" "${tx[mint]}" "${v1,,}" "${v2,,}" <<'PY'
import glob, json, sys
d, mode, proxy, clone, bound, mint, v1, v2 = sys.argv[1:]
records = {}
for path in glob.glob(d + "/*.ndjson"):
    for line in open(path):
        record = json.loads(line)
        records[record["hash"]] = record
def expect(hash, function, source, via):
    record = records[hash]
    assert record["decoding"] == "decoded" and record["function"] == function \
        and record["source"] == source and record.get("via") == via, (mode, record)
expect(proxy, "approve", "abi:Token.json", v1)
expect(clone, "approve", "abi:Token.json", v1)
expect(bound, "approve", "abi:Token.json", None)
if mode == "upgraded":
    expect(mint, "mint", "abi:TokenV2.json", v2)
else:
    #  Still v1 as far as evmtap knows: no via (v2's ABI may decode it as an unbound one).
    assert "via" not in records[mint], records[mint]
print(mode, "ok")
PY
}
capture receipts --receipts
check receipts upgraded || fail "with receipts: proxies not decoded through their implementation"
[ -s "$work/receipts/proxies/data.mdb" ] || fail "no proxy store in the data dir"
capture refresh --proxy-refresh 1
check refresh upgraded || fail "--proxy-refresh 1 did not find the upgrade"
capture stale --proxy-refresh 0
check stale stale || fail "--proxy-refresh 0 without receipts still found the upgrade"
pass "EIP-1967 and EIP-1167 proxies decode via their implementation; upgrades by event and refresh"
