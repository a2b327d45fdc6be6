#!/usr/bin/env bash
# labels: short
# Blocks of a live node proven against their own headers (src/verify, through
# tests/verify_block.c: the fetch worker does not call it yet). anvil --no-mining:
#   * tests/traffic.py's mix mined three rounds at a time (types 0, 1 and 2, deployments,
#     token transfers and events: receipts with logs), a block of one transaction of each
#     of the types 0 (EIP-155), 1, 2 and 4 (set-code, an authorization signed by cast), and
#     a blob transaction (type 3) alone: every block from 1 to the head, with its
#     eth_getBlockReceipts answer, proves "full";
#     anvil 1.7.1 builds transactionsRoot over a blob transaction's network form (blobs,
#     commitments and proofs, which it returns with the transaction; mainnet block
#     19900000 proves the consensus form is what a real root holds): its block proves
#     "full" over that form (network_form), and without the sidecar fails transactionsRoot.
#   * edits of the answers are each caught and named: a log's data (receiptsRoot), a
#     dropped transaction (transactionsRoot), the set-code authorization's nonce (hash of
#     that transaction), a header field (hash); receipts in another order still prove.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
verify_block="$(dirname "$evmtap")/evmtap_verify_block"
[ -x "$verify_block" ] || fail "$verify_block not found: build the evmtap_verify_block target"
command -v cast >/dev/null || fail "cast not found: run scripts/setup"

start_anvil "$(free_port)" --no-mining
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 3 --txs-per-block 8 \
    --seed 60 --mine --out "$work/sent.jsonl" >/dev/null

# anvil's first dev account (its documented default mnemonic): cast signs with it.
key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
sender=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
to=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
nonce=$(( $(cast nonce --rpc-url "$ANVIL_URL" "$sender") ))
send() {
    cast send --rpc-url "$ANVIL_URL" --private-key "$key" --async --nonce "$nonce" "$@" "$to" \
        >>"$work/cast.log" 2>&1 || { tail -n 5 "$work/cast.log" >&2; fail "cast send $* failed"; }
    nonce=$((nonce + 1))
}
mine() { rpc "$ANVIL_URL" evm_mine >/dev/null; }
send --legacy --value 1 --gas-limit 21000
send --legacy --gas-price 2000000000 --gas-limit 30000 --value 2 --access-list \
    "[{\"address\":\"$to\",\"storageKeys\":[\"0x$(printf '%064d' 1)\"]}]"
send --value 3 --gas-limit 21000
send --gas-limit 100000 --auth 0x5fbdb2315678afecb367f032d93f642f64180aa3
mine
mixed=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
# The authorization is the sender's own (cast signs it for nonce + 1): it moved the nonce on.
nonce=$(( $(cast nonce --rpc-url "$ANVIL_URL" "$sender") ))
printf 'evmtap verification test blob\n' >"$work/blob.txt"
send --gas-limit 21000 --blob --eip4844 --path "$work/blob.txt"
mine
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
blob_block=$head

# fetch N: the block and receipts answers of block N into $work/N.block and $work/N.receipts.
fetch() {
    local hex
    hex=$(printf '0x%x' "$1")
    rpc "$ANVIL_URL" eth_getBlockByNumber "[\"$hex\", true]" >"$work/$1.block"
    rpc "$ANVIL_URL" eth_getBlockReceipts "[\"$hex\"]" >"$work/$1.receipts"
}
# verdict FILE...: the verifier's JSON line (its exit code is in the line's rc).
verdict() { "$verify_block" "$@" || true; }

types=""
for ((number = 1; number <= head; number++)); do
    fetch "$number"
    types="$types $(jq -r '[.transactions[].type] | join(" ")' "$work/$number.block")"
    line=$(verdict "$work/$number.block" "$work/$number.receipts")
    if [ "$number" -eq "$blob_block" ]; then
        [ "$(jq -r '"\(.rc) \(.verified) \(.network_form)"' <<<"$line")" = "ok full true" ] \
            || fail "block $number (blob): expected a proof over the network form, got $line"
        # Without the sidecar (as a real chain's node answers) the same root is refused.
        jq '(.transactions[] | select(.type == "0x3")) |= del(.blobs, .commitments, .proofs)' \
            "$work/$number.block" >"$work/blob-bare.block"
        line=$(verdict "$work/blob-bare.block" "$work/$number.receipts")
        [ "$(jq -r '.rc + " " + .field' <<<"$line")" = "mismatch transactionsRoot" ] \
            || fail "block $number (blob) without its sidecar: expected a mismatch, got $line"
        continue
    fi
    [ "$(jq -r '.rc + " " + .verified' <<<"$line")" = "ok full" ] \
        || fail "block $number does not prove: $line"
done
for type in 0x0 0x1 0x2 0x3 0x4; do
    grep -qw -- "$type" <<<"$types" || fail "no transaction of type $type was mined"
done
logs=$(jq -s '[.[][].logs | length] | add' "$work"/*.receipts)
[ "$logs" -gt 0 ] || fail "no receipt has logs"

# expect_caught NAME FIELD LIST INDEX BLOCK RECEIPTS: the edited answers fail on that field.
expect_caught() {
    local name=$1 want="$2 $3 $4" line
    line=$(verdict "$5" "$6")
    [ "$(jq -r '"\(.rc) \(.field) \(.list) \(.index)"' <<<"$line")" = "mismatch $want" ] \
        || fail "$name: expected a mismatch on $want, got $line"
}
with_logs=0
for ((number = head; number >= 1; number--)); do
    [ "$(jq '[.[].logs | length] | add' "$work/$number.receipts")" -gt 0 ] && with_logs=$number
done
jq '(first(.[] | select(.logs | length > 0)) | .logs[0].data) = "0x01"' \
    "$work/$with_logs.receipts" >"$work/edited.receipts"
expect_caught "a log's data" receiptsRoot "" -1 "$work/$with_logs.block" "$work/edited.receipts"
jq 'del(.transactions[1])' "$work/$mixed.block" >"$work/edited.block"
expect_caught "a dropped transaction" transactionsRoot "" -1 "$work/edited.block" \
    "$work/$mixed.receipts"
index=$(jq '[.transactions[].type] | index("0x4")' "$work/$mixed.block")
jq ".transactions[$index].authorizationList[0].nonce = \"0x99\"" "$work/$mixed.block" \
    >"$work/edited.block"
expect_caught "an authorization's nonce" hash transactions "$index" "$work/edited.block" \
    "$work/$mixed.receipts"
jq '.gasUsed = "0x1"' "$work/$mixed.block" >"$work/edited.block"
expect_caught "a header field" hash "" -1 "$work/edited.block" "$work/$mixed.receipts"
jq 'reverse' "$work/$mixed.receipts" >"$work/edited.receipts"
line=$(verdict "$work/$mixed.block" "$work/edited.receipts")
[ "$(jq -r .rc <<<"$line")" = ok ] || fail "receipts in reverse order: $line"

pass "blocks 1..$head proven (types$(tr ' ' '\n' <<<"$types" | sort -u | tr '\n' ' ')$logs logs); anvil's blob root proven over the network form; edits caught"
