#!/usr/bin/env bash
# labels: short
# `evmtap decode` against cast: fresh calldata of nested dynamic types compared value by
# value with cast's decoding; every mainnet call (shared data) to a contract with a known ABI
# decoded and equal to cast, and a sample of the others through the 4-byte file; hostile
# input (short, truncated, offsets outside, 2^255 lengths, huge arrays, invalid UTF-8,
# malformed ABI JSON) gives the documented decoding, reason and exit code, also under ASan.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
data="$EVMTAP_SHARED_DATA"
command -v cast >/dev/null || fail "cast not found: run scripts/setup"
work=$(tmpdir)

python3 "$EVMTAP_ROOT/tests/decode_check.py" --evmtap "$evmtap" --cast "$(command -v cast)" \
    --data "$data" fresh || fail "fresh cast calldata decoded differently"
pass "fresh cast calldata: every argument equal to cast's decoding"
python3 "$EVMTAP_ROOT/tests/decode_check.py" --evmtap "$evmtap" --cast "$(command -v cast)" \
    --data "$data" mainnet || fail "mainnet calls decoded differently from cast"
pass "mainnet calls with known ABIs decoded, equal to cast"

# Hostile input, against an ABI of one function per shape.
cat >"$work/hostile.json" <<'JSON'
[{"type":"function","name":"fb","inputs":[{"name":"b","type":"bytes"}]},
 {"type":"function","name":"fa","inputs":[{"name":"a","type":"uint256[]"}]},
 {"type":"function","name":"fs","inputs":[{"name":"s","type":"string"}]},
 {"type":"function","name":"ft","inputs":[{"name":"t","type":"tuple[]","components":[
   {"name":"n","type":"uint256"},{"name":"d","type":"bytes"}]}]}]
JSON
printf '[{"type":"function","name":"f","inputs":[{"type":"uint7"}]}]' >"$work/bad-type.json"
printf '[{"type":"function",' >"$work/truncated.json"
fb=$(cast sig 'fb(bytes)'); fa=$(cast sig 'fa(uint256[])'); fs=$(cast sig 'fs(string)')
ft=$(cast sig 'ft((uint256,bytes)[])')
w() { printf '%064x' "$1"; }
W2_255=8000000000000000000000000000000000000000000000000000000000000000

# expect BIN EXIT DECODING REASON_PART ARGS...: runs decode and checks the line and the exit.
expect() {
    local bin=$1 want_rc=$2 want_decoding=$3 want_reason=$4 rc=0 out
    shift 4
    out=$("$bin" decode --abi "$work/hostile.json" "$@" 2>"$work/stderr") || rc=$?
    [ "$rc" = "$want_rc" ] || fail "decode $*: exit $rc, expected $want_rc ($(cat "$work/stderr"))"
    [ "$want_rc" = 2 ] && return 0
    [ "$(jq -r .decoding <<<"$out")" = "$want_decoding" ] \
        || fail "decode $*: $out, expected $want_decoding"
    if [ -n "$want_reason" ]; then
        jq -r '.reason // .args | tostring' <<<"$out" | grep -qF -- "$want_reason" \
            || fail "decode $*: $out lacks '$want_reason'"
    fi
}

hostile() {
    local bin=$1
    expect "$bin" 1 bad_calldata "input of 0 bytes is shorter than a selector" 0x
    expect "$bin" 1 bad_calldata "input of 3 bytes is shorter than a selector" 0xa9059c
    expect "$bin" 1 bad_calldata "past the end of the data" "$fb$(w 32)"
    expect "$bin" 1 bad_calldata "offset 4096 at byte 0 is larger than the 32 bytes" "$fb$(w 4096)"
    expect "$bin" 1 bad_calldata "length 57896044618658097711785492504343953926634992332820282019728792003956564819968" \
        "$fb$(w 32)$W2_255"
    expect "$bin" 1 bad_calldata "array length 18446744073709551615" "$fa$(w 32)$(printf '%048x' 0)ffffffffffffffff"
    expect "$bin" 1 bad_calldata "array length 1000000" "$fa$(w 32)$(w 1000000)$(w 1)"
    expect "$bin" 1 bad_calldata "argument t: offset" "$ft$(w 32)$(w 1)$(w 999)"
    expect "$bin" 1 unknown_selector "no function with this selector" 0x12345678
    # Invalid UTF-8 (0xff) becomes U+FFFD; trailing bytes are reported, not refused.
    expect "$bin" 0 decoded '{"s":"�A"}' "$fs$(w 32)$(w 2)ff41$(w 0 | cut -c5-)"
    out=$("$bin" decode --abi "$work/hostile.json" "$fb$(w 32)$(w 1)ab$(w 0 | cut -c3-)beef")
    [ "$(jq -r .trailing <<<"$out")" = 0xbeef ] || fail "trailing: $out"
    # Usage errors: exit 2 and a reason naming the file or the argument.
    expect "$bin" 2 "" "" 0xzz
    expect "$bin" 2 "" "" 0xabc
    expect "$bin" 2 "" "" --to 0x12 "$fb"
    rc=0; "$bin" decode --abi "$work/truncated.json" 0x12345678 2>"$work/stderr" || rc=$?
    [ "$rc" = 2 ] && grep -q "truncated.json: not valid JSON" "$work/stderr" \
        || fail "malformed ABI JSON: exit $rc, $(cat "$work/stderr")"
    rc=0; "$bin" decode --abi "$work/bad-type.json" 0x12345678 2>"$work/stderr" || rc=$?
    [ "$rc" = 2 ] && grep -q 'bad-type.json: f: parameter 0: type "uint7"' "$work/stderr" \
        || fail "ABI with a bad type: exit $rc, $(cat "$work/stderr")"
    rc=0; "$bin" decode --abi x --abis y 0x 2>/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "--abi with --abis: exit $rc"
    "$bin" decode --help | grep -q -- "--log TOPIC0" || fail "decode --help"
    # An event: ERC-20 Transfer with two indexed addresses.
    out=$("$bin" decode --abi "$data/abis/ERC20.json" \
        --log "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef,0x$(w 1),0x$(w 2)" \
        "0x$(w 1000)")
    [ "$(jq -c .args <<<"$out")" = '{"from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002","value":"1000"}' ] \
        || fail "log: $out"
}

hostile "$evmtap"
pass "hostile input: documented decoding, reason and exit code"

asan="$EVMTAP_ROOT/build/asan/evmtap"
if [ -x "$asan" ] && [ "$asan" != "$evmtap" ] && "$asan" decode --help >/dev/null 2>&1; then
    hostile "$asan"
    pass "hostile input under ASan: no report"
else
    log "no ASan build with decode at $asan: skipped there (EVMTAP_BIN may be the ASan build)"
fi
