#!/usr/bin/env bash
# labels: short
# A reorg deeper than the window of 256 block hashes: 300 blocks published, then the last
# 260 replaced while evmtap is stopped. The next start walks back through the whole window
# and stops with exit 1 and one message naming the chain, the block at the window's bottom
# and how to recover; nothing is announced as reorged and nothing more is published.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
rpc "$ANVIL_URL" anvil_mine '["0x12c"]' >/dev/null
rc=0
"$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --to 300 --workers 4 \
    --data-dir "$work/d" 2>"$work/first.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$work/first.log" >&2; fail "first run: exit $rc"; }
orphan=$(node_hash 45)
rpc "$ANVIL_URL" anvil_reorg '[260, []]' >/dev/null || fail "anvil_reorg 260"
rpc "$ANVIL_URL" anvil_mine '["0x1"]' >/dev/null
# The node's new branch in place: block 301 on the new block 300, which is not the old one.
settled() {
    [ "$(node_number latest)" -eq 301 ] \
        && [ "$(rpc "$ANVIL_URL" eth_getBlockByNumber '["0x12d", false]' | jq -r .parentHash)" = "$(node_hash 300)" ] \
        && [ "$(node_hash 45)" != "$orphan" ]
}
wait_for 30 settled || fail "anvil's reorg of 260 blocks did not settle within 30 s"
before=$(cat "$work/d"/topics/anvil.mined.blocks.metadata/*.ndjson | wc -l)

rc=0
timeout 120 "$evmtap" run --rpc "$ANVIL_URL" --chain anvil --workers 4 \
    --data-dir "$work/d" 2>"$work/second.log" || rc=$?
[ "$rc" -eq 1 ] || { tail -20 "$work/second.log" >&2; fail "a reorg deeper than the window: exit $rc, want 1"; }
grep "evmtap run: chain anvil: a reorg deeper than the 256 published blocks" "$work/second.log" \
    | grep "block 45 was published as $orphan" | grep -q "fresh --data-dir" \
    || { cat "$work/second.log" >&2; fail "the error does not name the chain, the block and the recovery"; }
[ "$(reorg_records "$work/d")" -eq 0 ] || fail "reorg records were published"
after=$(cat "$work/d"/topics/anvil.mined.blocks.metadata/*.ndjson | wc -l)
[ "$after" -eq "$before" ] || fail "$((after - before)) blocks published after the failed walk"
pass "a reorg of 260 blocks: exit 1 naming the chain, block 45 and the recovery; nothing published"
