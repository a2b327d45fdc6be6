#!/usr/bin/env bash
# labels: short
# --delivery finalized never publishes an orphan: reorgs of depth 1 to 5 at the head while
# two runs follow (--from 0), one under the node's `finalized` block (anvil: 64 below the
# head), one 6 deep (--confirmations 6). Each publishes exactly the node's chain up to its
# limit, announces no reorg, and costs one request per block plus one per limit poll
# (--finality-poll 0.5; a minute by default), none per block.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reorg_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
for value in 1 2 3; do send_tx "$value"; done
rpc "$ANVIL_URL" anvil_mine '["0x46"]' >/dev/null
started=$SECONDS
"$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --delivery finalized --finality-poll 0.5 \
    --workers 2 --data-dir "$work/tag" 2>"$work/tag.log" &
tag_pid=$!
register_pid "$tag_pid"
"$evmtap" run --rpc "$ANVIL_URL" --chain anvil --from 0 --delivery finalized --confirmations 6 \
    --finality-poll 0.5 --workers 2 --data-dir "$work/deep" 2>"$work/deep.log" &
deep_pid=$!
register_pid "$deep_pid"

: >"$work/orphans.jsonl"
for depth in 1 2 3 4 5; do
    send_tx a; send_tx b
    with=$( ((depth % 2)) && echo with || echo without)
    reorg_at "$depth" "$work/orphans.jsonl" "$with"
    send_tx c
    deep_limit=$(($(node_number latest) - 6))
    wait_for 30 published "$work/tag" "$(node_hash finalized)" \
        || { tail -20 "$work/tag.log" >&2; fail "depth $depth: the finalized block not published within 30 s"; }
    wait_for 30 published "$work/deep" "$(node_hash "$deep_limit")" \
        || { tail -20 "$work/deep.log" >&2; fail "depth $depth: block $deep_limit not published 6 deep within 30 s"; }
done
# Past the reorged blocks: the finalized block moves over them.
rpc "$ANVIL_URL" anvil_mine '["0x46"]' >/dev/null
wait_for 30 published "$work/tag" "$(node_hash finalized)" \
    || { tail -20 "$work/tag.log" >&2; fail "the finalized block not published within 30 s"; }
tag_to=$(node_number finalized)
deep_to=$(($(node_number latest) - 6))
wait_for 30 published "$work/deep" "$(node_hash "$deep_to")" \
    || { tail -20 "$work/deep.log" >&2; fail "block $deep_to not published within 30 s"; }
stop_run "$tag_pid" "$work/tag.log"
stop_run "$deep_pid" "$work/deep.log"
elapsed=$((SECONDS - started + 1))

for run in tag deep; do
    to=$tag_to; [ "$run" = deep ] && to=$deep_to
    python3 "$EVMTAP_ROOT/tests/reorg_check.py" --rpc "$ANVIL_URL" --topics "$work/$run/topics" \
        --chain anvil --to "$to" --no-reorgs || fail "$run: not exactly the node's chain to $to"
    while read -r line; do
        grep -q "$(jq -r .orphanedHash <<<"$line")" "$work/$run"/topics/*/*.ndjson \
            && fail "$run: orphan $(jq -c . <<<"$line") published"
    done <"$work/orphans.jsonl"
    # "end anvil: P blocks published, next N, head H, R requests (...)"
    end=$(grep -o 'end anvil: [0-9]* blocks published, .*, [0-9]* requests' "$work/$run.log" | tail -1)
    blocks=$(sed -E 's/end anvil: ([0-9]+) blocks.*/\1/' <<<"$end")
    requests=$(sed -E 's/.*, ([0-9]+) requests/\1/' <<<"$end")
    polls=$((requests - blocks))
    [ "$blocks" -ge "$((to + 1))" ] || fail "$run: $blocks blocks published, want $((to + 1))"
    [ "$polls" -le $((elapsed * 2 + 4)) ] \
        || fail "$run: $requests requests for $blocks blocks: $polls beyond one per block in $elapsed s (polls every 0.5 s)"
    pass "$run: blocks 0..$to exactly, no orphan among 15 at the head, $requests requests for $blocks blocks"
done
grep -q "the node serves no finalized block" "$work/tag.log" && fail "anvil's finalized tag was not used"
pass "finalized delivery: no orphan published, one request per block and one per limit poll"
