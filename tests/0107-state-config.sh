#!/usr/bin/env bash
# labels: short
# State watcher mistakes in the config file are refused with exit 2 before anything
# starts (no node is asked: the rpc URL points at a closed port), each naming the file, the
# line and the setting: a function the ABI does not have, a literal that does not fit its
# type, an ABI that cannot be read, no ABI at all, a bad trigger, a bad address, a bad
# --multicall. A good config over the same closed port gets past the checks (it then waits
# for the node and is stopped by SIGTERM).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
port=$(free_port)
jq '.abi' "$EVMTAP_ROOT/tests/contracts/artifacts/Pair.json" >"$work/Pair.json"
pair=0x5fbdb2315678afecb367f032d93f642f64180aa3

# config FILE LINES...: a chain whose one watcher has the lines given (line 6 on).
config() {
    local file=$1
    shift
    {
        printf 'chains\n    anvil\n        rpc = "http://127.0.0.1:%s"\n' "$port"
        printf '        state\n            pair\n'
        printf '                %s\n' "$@"
    } >"$file"
}

# refused EXPECTED LINES...: evmtap run exits 2 and its message holds EXPECTED.
refused() {
    local expected=$1 rc=0
    shift
    config "$work/bad.cfg" "$@"
    timeout 60 "$evmtap" run --config "$work/bad.cfg" --data-dir "$work/data" \
        >"$work/out.txt" 2>"$work/err.txt" || rc=$?
    [ "$rc" -eq 2 ] || { cat "$work/err.txt" >&2; fail "exit $rc, not 2, for: $*"; }
    grep -qF -- "$expected" "$work/err.txt" \
        || { cat "$work/err.txt" >&2; fail "the message lacks '$expected'"; }
}

refused "bad.cfg:8: chains/anvil/state/pair/call: the ABI has no function getReservez" \
    "address = $pair" "abi = Pair.json" "call = getReservez()"
refused "bad.cfg:9: chains/anvil/state/pair/call: argument 2 of getAmountOut(uint256,bool): \"yes\" is not a bool" \
    "address = $pair" "abi = Pair.json" "call = getReserves()" "call = getAmountOut(1, yes)"
refused "bad.cfg:8: chains/anvil/state/pair/call: argument 1 of checkBelow(uint256): \"-1\" is negative" \
    "address = $pair" "abi = Pair.json" "call = checkBelow(-1)"
refused "bad.cfg:5: chains/anvil/state/pair: abi: missing.json" \
    "address = $pair" "abi = missing.json" "call = getReserves()"
refused "bad.cfg:5: chains/anvil/state/pair: no abi = FILE" \
    "address = $pair" "call = getReserves()"
refused "bad.cfg:8: chains/anvil/state/pair/trigger: \"every\" is not touch or every N" \
    "address = $pair" "call = getReserves()" "trigger = every"
refused "bad.cfg:6: chains/anvil/state/pair/address: \"0x5fbd\" is not a contract address" \
    "address = 0x5fbd" "call = getReserves()"
refused "bad.cfg:5: chains/anvil/state/pair: needs at least one call" "address = $pair"
pass "every mistake refused with exit 2, naming file, line and setting"

rc=0
timeout 60 "$evmtap" run --config "$work/bad.cfg" --multicall 0x12 --data-dir "$work/data" \
    2>"$work/err.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--multicall: "0x12" is not a contract address (0x and 40 hex digits) or none' \
    "$work/err.txt" || { cat "$work/err.txt" >&2; fail "--multicall 0x12: exit $rc"; }
pass "--multicall refuses what is not an address or none"

# The good config passes every check: evmtap then waits for the node (closed port).
config "$work/good.cfg" "address = $pair" "abi = $work/Pair.json" "call = getReserves()" \
    "call = getAmountOut(1000, true)" "trigger = every 5"
"$evmtap" run --config "$work/good.cfg" --data-dir "$work/good" 2>"$work/good.log" &
pid=$!
register_pid "$pid"
wait_for 60 grep -q "eth_chainId" "$work/good.log" || { cat "$work/good.log" >&2; fail "the good config did not reach the node"; }
stop_pid "$pid" 30
pass "a good config gets past the checks"
