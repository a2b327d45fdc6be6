# labels: short
# The chain's identity under a fixed --chain name: a data dir of a chain id 31337 node is
# refused (exit 2, both named) with a node of chain id 1 or of another genesis; a node of
# the same genesis without the checkpointed block (fewer blocks) exits 1 naming the block,
# both hashes and the recovery, and publishes nothing. One whose blocks were mined otherwise
# (same genesis, another block 5) is a reorg while evmtap was down: walked back to block 0,
# blocks 1..5 announced as orphans, then its own chain (on a copy of the data dir). The
# first node is still followed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

genesis_time=1700000000
work=$(tmpdir)
# Starts an anvil of that genesis time and the extra arguments, mines $1 blocks $2 s apart;
# prints its URL.
anvil_with() {
    local blocks=$1 interval=$2
    shift 2
    start_anvil "$(free_port)" "$@" >/dev/null
    rpc "$ANVIL_URL" anvil_mine "[\"0x$(printf %x "$blocks")\", \"0x$(printf %x "$interval")\"]" >/dev/null
}
blocks_file() { cat "$work/d/topics/anvil.mined.blocks.metadata/"*.ndjson | wc -l; }
# Runs evmtap on the data dir; sets rc and leaves its log in $work/$1.log.
run_on() {
    local name=$1 url=$2 to=$3 dir=${4:-$work/d}
    rc=0
    "$evmtap" run --rpc "$url" --chain anvil --from 0 --to "$to" --data-dir "$dir" \
        2>"$work/$name.log" || rc=$?
}

anvil_with 5 1 --timestamp "$genesis_time"
first=$ANVIL_URL
run_on first "$first" 5
[ "$rc" -eq 0 ] || { cat "$work/first.log" >&2; fail "first run: exit $rc"; }
[ "$(blocks_file)" -eq 6 ] || fail "first run: $(blocks_file) blocks, want 6"
genesis=$(rpc "$first" eth_getBlockByNumber '["0x0", false]' | jq -r .hash)
hash5=$(rpc "$first" eth_getBlockByNumber '["0x5", false]' | jq -r .hash)
pass "blocks 0..5 of chain id 31337 published"

anvil_with 8 1 --timestamp "$genesis_time" --chain-id 1
run_on chain-id "$ANVIL_URL" 8
[ "$rc" -eq 2 ] || { cat "$work/chain-id.log" >&2; fail "another chain id: exit $rc, want 2"; }
grep -q "chain id 1, but this data dir holds chain id 31337" "$work/chain-id.log" \
    || { cat "$work/chain-id.log" >&2; fail "the refusal does not name both chain ids"; }
pass "a node of chain id 1 under the name anvil refused with exit 2"

anvil_with 8 1 --timestamp "$((genesis_time + 100))"
other_genesis=$(rpc "$ANVIL_URL" eth_getBlockByNumber '["0x0", false]' | jq -r .hash)
run_on genesis "$ANVIL_URL" 8
[ "$rc" -eq 2 ] || { cat "$work/genesis.log" >&2; fail "another genesis: exit $rc, want 2"; }
grep -q "$other_genesis" "$work/genesis.log" && grep -q "$genesis" "$work/genesis.log" \
    || { cat "$work/genesis.log" >&2; fail "the refusal does not name both genesis hashes"; }
pass "a node of another genesis under the name anvil refused with exit 2"

anvil_with 8 7 --timestamp "$genesis_time"
fresh=$ANVIL_URL
fresh5=$(rpc "$fresh" eth_getBlockByNumber '["0x5", false]' | jq -r .hash)
[ "$fresh5" != "$hash5" ] || fail "the fresh anvil's block 5 is the first one's: test setup"
cp -r "$work/d" "$work/d-fresh"
run_on fresh "$fresh" 8 "$work/d-fresh"
[ "$rc" -eq 0 ] || { cat "$work/fresh.log" >&2; fail "a chain of the same genesis mined otherwise: exit $rc, want 0"; }
grep "block 5 checkpointed with hash $hash5" "$work/fresh.log" | grep "$fresh5" | grep -q "walking back" \
    || { cat "$work/fresh.log" >&2; fail "the warning does not name the block, both hashes and the walk"; }
reorged=$(cat "$work/d-fresh/topics/anvil.mined.blocks.reorged/"*.ndjson | jq -c '[.number, .depth]' | tr -d '\n')
[ "$reorged" = "[1,5][2,5][3,5][4,5][5,5]" ] || fail "reorg records $reorged, want blocks 1..5 of depth 5"
python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$fresh" --topics "$work/d-fresh/topics" \
    --chain anvil --to 8 || fail "the orphans dropped, the files are not the fresh chain's"
pass "a chain whose block 5 differs: a reorg of depth 5 walked back at start, its own chain published"

anvil_with 2 1 --timestamp "$genesis_time"
run_on short "$ANVIL_URL" 8
[ "$rc" -eq 1 ] || { cat "$work/short.log" >&2; fail "a chain without the checkpointed block: exit $rc, want 1"; }
grep -q "block 5 checkpointed with hash $hash5, but provider .* has no such block" "$work/short.log" \
    || { cat "$work/short.log" >&2; fail "the error does not say the block is missing"; }
[ "$(blocks_file)" -eq 6 ] || fail "refused runs published: $(blocks_file) blocks, want 6"
pass "a chain without block 5: exit 1, nothing published"

rpc "$first" anvil_mine '["0x2", "0x1"]' >/dev/null
run_on again "$first" 7
[ "$rc" -eq 0 ] || { cat "$work/again.log" >&2; fail "the first node again: exit $rc"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$first" --topics "$work/d/topics" \
    --chain anvil --from 0 --to 7 --allow-extra transactionCount \
    || fail "the files differ from the first node"
pass "the first node followed again: blocks 0..7 exactly once"
