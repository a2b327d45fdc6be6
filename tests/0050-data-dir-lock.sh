#!/usr/bin/env bash
# labels: short
# Checks at start (issue 11): a second `evmtap run` on a data dir in use exits 2 at once,
# naming the dir and the holder's pid, and the first one publishes every block once; a data
# dir path too long for LMDB's keys, --to behind the head without --from, an --rpc port out
# of range and a --chain-id refusal are usage errors (exit 2) named in their message.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --block-time 1
rpc "$ANVIL_URL" anvil_mine '["0x28"]' >/dev/null
work=$(tmpdir)

last_block() {
    cat "$work/data/topics/anvil.mined.blocks.metadata"/*.ndjson 2>/dev/null \
        | jq -s 'map(.number) | max // -1'
}
published_past() { [ "$(last_block)" -gt "$1" ]; }

# 1. Two processes on one data dir, 0.3 s apart: the second leaves at once.
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --workers 2 --data-dir "$work/data" \
    2>"$work/first.log" &
first=$!
register_pid "$first"
sleep 0.3
# The first one holds the lock by now (its pid is in the lock file): wait for that on a
# slow machine rather than race it.
wait_for 10 grep -qx "$first run" "$work/data/lock" || fail "pid $first took no lock in 10 s"
rc=0
timeout 10 "$evmtap" run --rpc "$ANVIL_URL" --from 0 --workers 2 --data-dir "$work/data" \
    2>"$work/second.log" || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/second.log" >&2; fail "second process: exit $rc, want 2"; }
grep -q "data dir $work/data is in use by pid $first" "$work/second.log" \
    || { cat "$work/second.log" >&2; fail "the refusal does not name the dir and pid $first"; }
pass "a second process on the data dir exits 2 naming pid $first"
wait_for 30 published_past 45 || fail "the first process published nothing past 45 in 30 s"
kill -TERM "$first"
rc=0; wait "$first" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$work/first.log" >&2; fail "first process: exit $rc, want 0"; }
dups=$(cat "$work/data/topics"/*/*.ndjson | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups duplicate lines in the topic files"
blocks=$(cat "$work/data/topics/anvil.mined.blocks.metadata"/*.ndjson | wc -l)
[ "$blocks" -eq $(($(last_block) + 1)) ] || fail "$blocks blocks for 0..$(last_block)"
pass "the first process published blocks 0..$(last_block) once each"

# Runs evmtap with its arguments (bounded), wants exit 2 and every other word in the message.
#   want_usage_error NAME 'WORD1|WORD2' ARGS...
want_usage_error() {
    local name=$1 words=$2 rc=0 word
    shift 2
    timeout 20 "$evmtap" "$@" >"$work/$name.out" 2>"$work/$name.log" || rc=$?
    [ "$rc" -eq 2 ] || { tail -n 20 "$work/$name.log" >&2; fail "$name: exit $rc, want 2"; }
    IFS='|' read -ra list <<<"$words"
    for word in "${list[@]}"; do
        grep -qF -- "$word" "$work/$name.log" \
            || { cat "$work/$name.log" >&2; fail "$name: the message does not say '$word'"; }
    done
    pass "$name: exit 2, $(grep -m 1 "evmtap run:" "$work/$name.log")"
}

# 2. A data dir path beyond what the checkpoint's LMDB keys can hold, refused before
#    anything is made.
long="$work/$(printf 'd%.0s' {1..200})/$(printf 'e%.0s' {1..200})"
want_usage_error long-path '--data-dir|at most 381|511' run --rpc "$ANVIL_URL" --from 0 --to 3 \
    --data-dir "$long"
[ ! -e "$long" ] || fail "long-path: the data dir was made"

# 3. --to behind the head, without --from: nothing to publish, said at once.
head=$(($(rpc "$ANVIL_URL" eth_blockNumber)))
want_usage_error to-behind "--to 30 is behind the head|give --from" run --rpc "$ANVIL_URL" \
    --to 30 --data-dir "$work/behind"

# 4. A provider port out of range is a usage error, not retried for ever.
want_usage_error bad-port '--rpc|http://127.0.0.1:99999/|port' run \
    --rpc http://127.0.0.1:99999/ --data-dir "$work/port"

# 5. The --chain-id refusal names the chain (by --chain-id's default name, or --chain).
want_usage_error chain-id 'chain mainnet: |31337|not the 1 configured' run --rpc "$ANVIL_URL" \
    --chain-id 1 --data-dir "$work/id1"
want_usage_error chain-id-named 'chain main: ' run --rpc "$ANVIL_URL" --chain-id 1 --chain main \
    --data-dir "$work/id2"
log "head was $head"
