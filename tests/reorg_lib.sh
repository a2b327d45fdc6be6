# Helpers of the reorg tests (0060-0063), after lib.sh and start_anvil: transactions from
# anvil's first dev account, the node's hashes, and what evmtap published in DIR/topics.
reorg_from=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
reorg_to=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
# One transaction of VALUE (hex), mined at once in a block of its own (anvil's automine).
send_tx() {
    rpc "$ANVIL_URL" eth_sendTransaction \
        "[{\"from\":\"$reorg_from\",\"to\":\"$reorg_to\",\"value\":\"0x$1\"}]" >/dev/null
}
# The node's hash of block N (decimal) or of a tag.
node_hash() {
    local at=$1
    [[ "$at" =~ ^[0-9]+$ ]] && at=$(printf '0x%x' "$at")
    rpc "$ANVIL_URL" eth_getBlockByNumber "[\"$at\", false]" | jq -r .hash
}
node_number() { printf '%d' "$(rpc "$ANVIL_URL" eth_getBlockByNumber "[\"$1\", false]" | jq -r .number)"; }
# published DIR HASH: a block record of that hash is in DIR's files sink.
published() { cat "$1"/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | grep -q "\"hash\":\"$2\""; }
reorg_records() { cat "$1"/topics/anvil.mined.blocks.reorged/*.ndjson 2>/dev/null | wc -l; }
# reorg_at DEPTH EXPECTED [with]: anvil_reorg of the last DEPTH blocks ("with": a replacement
# transaction in each new block); appends the reorg records it must produce to EXPECTED.
reorg_at() {
    local depth=$1 expected=$2 pairs="" head n i
    head=$(node_number latest)
    declare -A old=()
    for ((n = head - depth + 1; n <= head; n++)); do old[$n]=$(node_hash "$n"); done
    if [ "${3:-}" = with ]; then
        for ((i = 0; i < depth; i++)); do
            pairs+="${pairs:+,}[{\"from\":\"$reorg_from\",\"to\":\"$reorg_to\",\"value\":\"0x$((100 + i))\"}, $i]"
        done
    fi
    rpc "$ANVIL_URL" anvil_reorg "[$depth, [$pairs]]" >/dev/null || fail "anvil_reorg $depth"
    for ((n = head - depth + 1; n <= head; n++)); do
        new=$(node_hash "$n")
        [ "$new" != "${old[$n]}" ] || fail "anvil_reorg $depth kept block $n"
        printf '{"number":%d,"orphanedHash":"%s","newHash":"%s","depth":%d}\n' \
            "$n" "${old[$n]}" "$new" "$depth" >>"$expected"
    done
}
# stop_run PID LOG: SIGTERM, and exit 0 within 30 s.
stop_run() {
    local pid=$1 log=$2 rc=0
    kill -TERM "$pid"
    wait_for 30 sh -c "! kill -0 $pid" || fail "evmtap did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || { tail -20 "$log" >&2; fail "evmtap exited $rc after SIGTERM, want 0"; }
}
