#!/usr/bin/env bash
# labels: short
# `evmtap run --receipts` over real mainnet blocks (shared data: 483920, 17000000, 18000000,
# the blocks with both a block and a receipts file; 483920's receipts out of order) served
# by tests/static_rpc.py, checked by tests/logs_check.py against the receipts read directly
# and against cast: receipt fields on every transaction record, one mined.logs.decoded
# record per log (raw when not decoded, values equal to cast when decoded, bound ABIs used),
# mined.token_transfers exactly as computed from the logs. Then a node without
# eth_getBlockReceipts: batched eth_getTransactionReceipt, byte-identical files. Then
# receipts that name another block: nothing of the block published, the mismatch logged,
# exit 3 on SIGTERM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
data="$EVMTAP_SHARED_DATA"
command -v cast >/dev/null || fail "cast not found: run scripts/setup"
[ -f "$data/blocks/mainnet/receipts/17000000.json" ] || fail "no shared data at $data"
work=$(tmpdir)
blocks=(483920 17000000 18000000)

# start_static NAME [STATIC_RPC ARGS...]: tests/static_rpc.py on 127.0.0.1; sets STATIC_URL.
start_static() {
    local name=$1
    shift
    python3 "$EVMTAP_ROOT/tests/static_rpc.py" --data "$data/blocks/mainnet" \
        --port-file "$work/$name.port" --lifetime 180 "$@" >"$work/$name.log" 2>&1 &
    register_pid $!
    wait_for 10 test -s "$work/$name.port" \
        || fail "static_rpc.py $name did not start: $(cat "$work/$name.log")"
    STATIC_URL="http://127.0.0.1:$(cat "$work/$name.port")"
}

# capture URL BLOCK DIR [EVMTAP ARGS...]: `evmtap run --receipts` of that one block into DIR
# (a run never skips a number, so each block has its own run); log in DIR.log.
capture() {
    local url=$1 block=$2 dir=$3 rc=0
    shift 3
    timeout 60 "$evmtap" run --rpc "$url" --from "$block" --to "$block" --receipts \
        --abis "$data/abis" --signatures "$data/signatures/function_signatures.tsv" \
        --event-signatures "$data/signatures/event_signatures_with_parameter_names.tsv" \
        --data-dir "$dir" "$@" 2>"$dir.log" || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 20 "$dir.log" >&2
        fail "evmtap run of block $block exited $rc"
    fi
}

# count JSON PATH: a number from a test_counts answer (0 when absent).
count() { jq -r "$2 // 0" <<<"$1"; }

# delta BEFORE AFTER PATH: how much a counter grew between two test_counts answers.
delta() { echo $(($(count "$2" "$3") - $(count "$1" "$3"))); }

# 1. Receipts from eth_getBlockReceipts, checked against the receipts files and cast. The
# stored answers as they are: 483920's lists its receipts out of block order (0, 2, 3, 1),
# which evmtap joins by transactionIndex.
start_static normal --stored-order
for block in "${blocks[@]}"; do
    capture "$STATIC_URL" "$block" "$work/normal-$block"
done
counts=$(rpc "$STATIC_URL" test_counts) || fail "static_rpc.py test_counts"
if [ "$(count "$counts" '.methods.eth_getBlockReceipts')" != "${#blocks[@]}" ] \
    || [ "$(count "$counts" '.methods.eth_getTransactionReceipt')" != 0 ]; then
    fail "expected one eth_getBlockReceipts per block and no eth_getTransactionReceipt: $counts"
fi
runs=()
for block in "${blocks[@]}"; do
    runs+=("$block=$work/normal-$block/topics")
done
python3 "$EVMTAP_ROOT/tests/logs_check.py" --data "$data" --cast "$(command -v cast)" \
    "${runs[@]}" || fail "published records differ from the receipts or from cast"
pass "receipt fields, decoded logs and token transfers equal to the receipts and cast"

# 2. A node without eth_getBlockReceipts (-32601): one eth_getTransactionReceipt per
#    transaction, in batches, and the same files byte for byte.
start_static fallback --no-block-receipts
for block in "${blocks[@]}"; do
    before=$(rpc "$STATIC_URL" test_counts) || fail "static_rpc.py test_counts"
    capture "$STATIC_URL" "$block" "$work/fallback-$block"
    after=$(rpc "$STATIC_URL" test_counts) || fail "static_rpc.py test_counts"
    txs=$(jq '.result.transactions | length' "$data/blocks/mainnet/$block.json")
    asked=$(delta "$before" "$after" '.methods.eth_getBlockReceipts')
    refused=$(delta "$before" "$after" '.errors["eth_getBlockReceipts:-32601"]')
    by_tx=$(delta "$before" "$after" '.methods.eth_getTransactionReceipt')
    batches=$(delta "$before" "$after" '.batches')
    if [ "$asked" -lt 1 ] || [ "$refused" != "$asked" ]; then
        fail "block $block: eth_getBlockReceipts asked $asked times, refused $refused"
    fi
    [ "$by_tx" = "$txs" ] \
        || fail "block $block: $by_tx eth_getTransactionReceipt calls for $txs transactions"
    [ "$batches" -ge 1 ] || fail "block $block: the receipts were not asked in batches"
    [ "$(grep -c "no eth_getBlockReceipts" "$work/fallback-$block.log")" -ge 1 ] \
        || fail "block $block: the log does not say the node has no eth_getBlockReceipts"
    diff -r -x .evmtap-id "$work/normal-$block/topics" "$work/fallback-$block/topics" >"$work/diff-$block" \
        || fail "block $block: the fallback's files differ: $(head -c 2000 "$work/diff-$block")"
    log "block $block: eth_getBlockReceipts refused $refused time(s)," \
        "$by_tx eth_getTransactionReceipt calls in $batches batch(es)"
done
pass "without eth_getBlockReceipts: one eth_getTransactionReceipt per transaction, identical files"

# 3. Receipts that do not fit: the last receipt of 17000000 names the parent block. evmtap
#    fetches the block again and again (it never publishes receipts of another block) until
#    SIGTERM, then exits 3 (blocks undelivered) with nothing of the block published.
start_static bad --bad-receipts --blocks 17000000
dir="$work/bad-17000000"
"$evmtap" run --rpc "$STATIC_URL" --from 17000000 --to 17000000 --receipts --rpc-timeout 2 \
    --drain-timeout 2 --abis "$data/abis" --data-dir "$dir" 2>"$dir.log" &
pid=$!
register_pid "$pid"
expected="block 17000000 receipt 101: field 'blockHash' names another block"
wait_for 30 grep -qF "$expected" "$dir.log" \
    || { tail -n 20 "$dir.log" >&2; fail "the log does not name the mismatch ($expected)"; }
# Asked again: at least two eth_getBlockReceipts, still nothing published.
asked_again() {
    local counts
    counts=$(rpc "$STATIC_URL" test_counts) || return 1
    [ "$(count "$counts" '.methods.eth_getBlockReceipts')" -ge 2 ]
}
wait_for 20 asked_again || fail "evmtap did not ask for the receipts again"
kill -0 "$pid" 2>/dev/null || fail "evmtap ended on its own with receipts of another block"
kill -TERM "$pid"
for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "evmtap did not stop within 15 s of SIGTERM"
rc=0
wait "$pid" || rc=$?
if [ "$rc" != 3 ]; then
    tail -n 20 "$dir.log" >&2
    fail "evmtap exited $rc after SIGTERM, expected 3 (blocks undelivered)"
fi
published=$(find "$dir" -path '*/topics/*' -name '*.ndjson' -size +0)
[ -z "$published" ] \
    || fail "records of block 17000000 published with receipts of another block: $published"
pass "receipts naming another block: nothing published, the mismatch logged, exit 3"
