#!/usr/bin/env bash
# labels: short
# Watchlists in a real capture (anvil, --receipts, --abis with a router-like ABI bound to
# an EOA, whose calls carry addresses in a tuple and an array): one alerts.watchlist record
# per (transaction, list, address) on every path: from, to (a native transfer), arg:to and
# transfer (a Token transfer), arg:params.recipient and arg:path[2] (nested), created (the
# Token's deployment); key <txhash>:<list>:<address>, the transaction's block number and
# hash, nothing else. Then, while it runs: a malformed list on SIGHUP is refused naming
# FILE:LINE and the old lists stay; a good one is taken, and the next block alerts on it
# (a transaction to the same address before the reload does not). Last, a malformed list
# at start exits 2 naming FILE:LINE, the shared USDT list (it mixes chains) too, and its
# EVM lines filtered as docs/topics.md says load.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
command -v cast >/dev/null || fail "cast not found: run scripts/setup"

start_anvil "$(free_port)"
work=$(tmpdir)
acct() { cast wallet address --mnemonic "test test test test test test test test test test test junk" \
    --mnemonic-index "$1"; }
deployer=$(acct 0)
sender=$(acct 5) receiver=$(acct 6) holder=$(acct 7) router=$(acct 8) late=$(acct 9)
recipient=0x00000000000000000000000000000000000000a1
hop=0x00000000000000000000000000000000000000b2
send() { cast send --async --rpc-url "$ANVIL_URL" --unlocked --from "$@"; }
receipt() { rpc "$ANVIL_URL" eth_getTransactionReceipt "[\"$1\"]" | jq -er "$2"; }

# The lists: the Token's address is CREATE's of the deployer's nonce 0.
token=$(cast compute-address "$deployer" --nonce 0 | awk '{print $NF}')
mkdir -p "$work/lists"
printf '# test list\n%s\n\n%s  # the receiver\n%s\n%s\n%s\n%s\n' "$sender" "${receiver^^}" \
    "$holder" "$recipient" "$hop" "$token" | sed 's/^0X/0x/' >"$work/lists/ofac.txt"
echo "0x00000000000000000000000000000000000000c3" >"$work/lists/second.list"

mkdir -p "$work/abis"
cp "$EVMTAP_ROOT/tests/contracts/artifacts/Token.json" "$work/abis/"
cat >"$work/abis/Router.json" <<'JSON'
[{"type":"function","name":"swap","stateMutability":"nonpayable","outputs":[],"inputs":[
  {"name":"params","type":"tuple","components":[{"name":"recipient","type":"address"},
                                                 {"name":"amount","type":"uint256"}]},
  {"name":"path","type":"address[]"}]}]
JSON
jq -n --arg t "${token,,}" --arg r "${router,,}" '{($t): "Token.json", ($r): "Router.json"}' \
    >"$work/abis/addresses.json"

declare -A tx
tx[deploy]=$(send "$deployer" --create "$(jq -r .bytecode "$work/abis/Token.json")" \
    "constructor(string,string,uint256)" Test TST 1000000)
tx[native]=$(send "$sender" "$receiver" --value 1)
tx[transfer]=$(send "$deployer" "$token" "transfer(address,uint256)" "$holder" 100)
tx[swap]=$(send "$deployer" "$router" "swap((address,uint256),address[])" "($recipient,5)" \
    "[0x00000000000000000000000000000000000000d4,0x00000000000000000000000000000000000000e5,$hop]")
tx[before]=$(send "$deployer" "$late" --value 1)
for name in "${!tx[@]}"; do
    wait_for 30 receipt "${tx[$name]}" .blockNumber || fail "$name was not mined"
done
[ "$(receipt "${tx[deploy]}" .contractAddress)" = "${token,,}" ] || fail "the Token is not at $token"

"$evmtap" run --rpc "$ANVIL_URL" --from 0 --receipts --abis "$work/abis" \
    --watchlist "$work/lists/ofac.txt" --watchlist "$work/lists/second.list" \
    --data-dir "$work/data" 2>"$work/run.log" &
run_pid=$!
register_pid "$run_pid"
alerts="$work/data/topics/anvil.alerts.watchlist"
natives="$work/data/topics/anvil.mined.tx.1.native_token_transfer"
published() { cat "$1"/*.ndjson 2>/dev/null | grep -q "$2"; }
wait_for 120 published "$natives" "${tx[before]}" \
    || { tail -n 20 "$work/run.log" >&2; fail "the first blocks were not published"; }
grep -q "watchlists: 2 lists, 7 addresses" "$work/run.log" || fail "no load line"

# A malformed list on SIGHUP: refused, named by FILE:LINE, the old lists stay.
printf '0x00000000000000000000000000000000000000c3\n%s\nnot an address\n' "$late" \
    >"$work/lists/second.list"
kill -HUP "$run_pid"
wait_for 60 grep -q "second.list:3: not an address" "$work/run.log" \
    || fail "the malformed list was not refused with FILE:LINE"
kill -0 "$run_pid" || fail "evmtap run stopped on SIGHUP"
printf '# late\n0x00000000000000000000000000000000000000c3\n%s\n' "$late" >"$work/lists/second.list"
kill -HUP "$run_pid"
wait_for 60 grep -q "watchlists reloaded: 2 lists, 8 addresses" "$work/run.log" \
    || fail "the good list was not reloaded"
tx[after]=$(send "$deployer" "$late" --value 1)
wait_for 30 receipt "${tx[after]}" .blockNumber || fail "after was not mined"
wait_for 120 published "$alerts" "${tx[after]}" \
    || { tail -n 20 "$work/run.log" >&2; fail "no alert on the reloaded list"; }
kill -TERM "$run_pid"
rc=0
wait "$run_pid" || rc=$?
[ "$rc" = 0 ] || fail "evmtap run exited $rc after SIGTERM"

python3 - "$alerts" "$ANVIL_URL" "${tx[deploy]}" "${tx[native]}" "${tx[transfer]}" "${tx[swap]}" \
    "${tx[after]}" "$deployer" "$sender" "$receiver" "$holder" "$recipient" "$hop" "$token" \
    "$late" <<'PY' || fail "the alerts differ from the expected ones"
import glob, json, sys, urllib.request
d, url, deploy, native, transfer, swap, after = sys.argv[1:8]
deployer, sender, receiver, holder, recipient, hop, token, late = (a.lower() for a in sys.argv[8:])
want = {
    (deploy, "ofac", token): ["created"],
    (native, "ofac", sender): ["from"],
    (native, "ofac", receiver): ["to"],
    (transfer, "ofac", holder): ["arg:to", "transfer"],
    (transfer, "ofac", token): ["to"],
    (swap, "ofac", recipient): ["arg:params.recipient"],
    (swap, "ofac", hop): ["arg:path[2]"],
    (after, "second", late): ["to"],
}
# The Token transfer's Transfer(0 -> deployer) at deployment and the deployer itself are
# on no list; the transaction "before" went to `late` before it was listed.
got = {}
for path in sorted(glob.glob(d + "/*.ndjson")):
    for line in open(path):
        record = json.loads(line)
        key = (record["hash"], record["list"], record["address"])
        assert key not in got, "two alerts for %s" % (key,)
        got[key] = record
assert set(got) == set(want), "alerts %s, want %s" % (sorted(got), sorted(want))
def rpc(method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))["result"]
for key, record in got.items():
    assert record["matchedIn"] == want[key], (key, record)
    receipt = rpc("eth_getTransactionReceipt", [key[0]])
    assert record["blockNumber"] == int(receipt["blockNumber"], 16), record
    assert record["blockHash"] == receipt["blockHash"].lower(), record
    assert record["chainId"] == 31337, record
    assert sorted(record) == sorted(["chainId", "hash", "blockNumber", "blockHash", "list",
                                     "address", "matchedIn"]), record
print("%d alerts as expected" % len(got))
PY
pass "one alert per (transaction, list, address) on every path; SIGHUP reloads, a bad list is refused"

# A malformed list at start: exit 2, FILE:LINE.
printf '%s\n\n0x123\n' "$sender" >"$work/lists/bad.txt"
rc=0
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 1 --watchlist "$work/lists/bad.txt" \
    --data-dir "$work/bad" 2>"$work/bad.log" || rc=$?
[ "$rc" = 2 ] || fail "a malformed list exited $rc, not 2"
grep -q "$work/lists/bad.txt:3: not an address" "$work/bad.log" || fail "no FILE:LINE: $(cat "$work/bad.log")"
usdt="$EVMTAP_SHARED_DATA/watchlists/ofac_sanctioned_addresses_USDT.txt"
rc=0
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 1 --watchlist "$usdt" --data-dir "$work/usdt" \
    2>"$work/usdt.log" || rc=$?
[ "$rc" = 2 ] && grep -q "ofac_sanctioned_addresses_USDT.txt:[0-9]*: not an address" "$work/usdt.log" \
    || fail "the raw USDT list exited $rc: $(tail -n 3 "$work/usdt.log")"
grep -E '^0x[0-9a-fA-F]{40}$' "$usdt" >"$work/lists/usdt_evm.txt"
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 1 --watchlist "$work/lists/usdt_evm.txt" \
    --data-dir "$work/usdt" 2>"$work/usdt.log" || fail "the filtered USDT list: $(tail -n 3 "$work/usdt.log")"
grep -q "watchlists: 1 lists, $(wc -l <"$work/lists/usdt_evm.txt") addresses" "$work/usdt.log" \
    || fail "the filtered USDT list: $(grep watchlists "$work/usdt.log")"
pass "malformed lists exit 2 naming FILE:LINE; the USDT list's EVM lines load"
