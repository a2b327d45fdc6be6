#!/usr/bin/env bash
# labels: short
# A failing sink ends the process: the files sink on a 2 MB tmpfs that the chain's records
# overflow exits 1 within --drain-timeout, naming the file and "No space left on device",
# and leaves no partial line; on a larger tmpfs (the same files) the restart publishes every
# block exactly once. `--sink stdout | head -1` exits 1 within seconds ("stdout: Broken
# pipe"), five times in a row. The state store (LMDB) on a full tmpfs: exit 1, naming it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
[ "$(id -u)" -eq 0 ] || { log "skipped: mounting a tmpfs needs root"; exit 0; }

work=$(tmpdir)
mnt="$work/mnt"
mkdir -p "$mnt"
# The tmpfs goes before lib.sh's cleanup, which then sees the test's own exit status.
unmount_and_cleanup() {
    local rc=$?
    set +e
    mountpoint -q "$mnt" && umount "$mnt"
    (exit "$rc")
    cleanup
}
trap unmount_and_cleanup EXIT
mount -t tmpfs -o size=2m tmpfs "$mnt"

start_anvil "$(free_port)" --no-mining
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 60 --txs-per-block 40 --mine \
    --seed 53 --out "$work/sent.jsonl" >/dev/null
head=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
args=(run --rpc "$ANVIL_URL" --from 0 --to "$head" --workers 2 --drain-timeout 5
      --data-dir "$work/data" --sink "files:$mnt")

# No line of the topic files may be cut short: each one is a whole JSON object. The root's
# identity file (.evmtap-id, see docs) is no topic file.
whole_lines() {
    python3 - "$1" <<'PY'
import json, os, sys
for root, _, names in os.walk(sys.argv[1]):
    for name in names:
        if name.startswith("."):
            continue
        data = open(os.path.join(root, name), "rb").read()
        if data and not data.endswith(b"\n"):
            sys.exit("%s ends in a partial line" % os.path.join(root, name))
        for line in data.splitlines():
            json.loads(line)
PY
}

# 1. The tmpfs fills up: exit 1 within the drain timeout (bounded by `timeout`), one line
#    naming the file and the OS error.
rc=0
timeout -k 5 60 "$evmtap" "${args[@]}" 2>"$work/run1.log" || rc=$?
[ "$rc" -eq 1 ] || { tail -n 20 "$work/run1.log" >&2; fail "full tmpfs: exit $rc, want 1"; }
grep -E "$mnt/[^ ]+\.ndjson: No space left on device" "$work/run1.log" >/dev/null \
    || { tail -n 20 "$work/run1.log" >&2; fail "no line names the file and 'No space left on device'"; }
whole_lines "$mnt" || fail "a partial line stays in the files after the failure"
pass "full tmpfs: exit 1, $(grep -m1 -oE "$mnt/[^ ]+: No space left on device" "$work/run1.log")"

# 2. The same files on a larger tmpfs: the restart publishes every block exactly once.
mkdir -p "$work/copy"
cp -a "$mnt/." "$work/copy/"
umount "$mnt"
mount -t tmpfs -o size=64m tmpfs "$mnt"
cp -a "$work/copy/." "$mnt/"
timeout -k 5 60 "$evmtap" "${args[@]}" 2>"$work/run2.log" \
    || { tail -n 20 "$work/run2.log" >&2; fail "restart on the larger tmpfs failed"; }
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$mnt" --chain anvil \
    --from 0 --to "$head" --sent "$work/sent.jsonl" --allow-extra transactionCount \
    || fail "after the failure and a restart the files differ from the node"
whole_lines "$mnt" || fail "a partial line after the restart"
pass "restart on a larger tmpfs: blocks 0..$head exactly once, no partial line"

# 3. stdout closed by its reader: exit 1 within seconds, "stdout: Broken pipe".
for try in 1 2 3 4 5; do
    rm -rf "$work/stdout-data"
    set +o pipefail
    timeout -k 5 30 bash -c '"$@" 2>"'"$work/stdout.log"'"; echo $? >"'"$work/stdout.rc"'"' _ \
        "$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --sink stdout \
        --data-dir "$work/stdout-data" | head -1 >/dev/null
    set -o pipefail
    [ -s "$work/stdout.rc" ] || fail "stdout into head -1 (try $try): no exit within 30 s"
    rc=$(cat "$work/stdout.rc")
    [ "$rc" -eq 1 ] || { tail -n 20 "$work/stdout.log" >&2; fail "stdout into head -1 (try $try): exit $rc, want 1"; }
    grep -q "stdout: Broken pipe" "$work/stdout.log" \
        || { tail -n 20 "$work/stdout.log" >&2; fail "stdout into head -1 (try $try): no 'stdout: Broken pipe'"; }
    rm -f "$work/stdout.rc"
done
pass "stdout into head -1: exit 1 with 'stdout: Broken pipe', 5 times out of 5"

# 3b. Following the head (no --to) from a small last block, which fits in the pipe: the
#     run still ends once the reader leaves.
rpc "$ANVIL_URL" evm_mine >/dev/null
rm -rf "$work/stdout-data"
set +o pipefail
timeout -k 5 30 bash -c '"$@" 2>"'"$work/stdout.log"'"; echo $? >"'"$work/stdout.rc"'"' _ \
    "$evmtap" run --rpc "$ANVIL_URL" --from "$((head + 1))" --sink stdout \
    --data-dir "$work/stdout-data" | head -1 >/dev/null
set -o pipefail
[ -s "$work/stdout.rc" ] || fail "idle stdout into head -1: no exit within 30 s"
rc=$(cat "$work/stdout.rc")
[ "$rc" -eq 1 ] && grep -q "stdout: Broken pipe" "$work/stdout.log" \
    || { tail -n 20 "$work/stdout.log" >&2; fail "idle stdout into head -1: exit $rc, want 1 and 'stdout: Broken pipe'"; }
pass "following the head, stdout into head -1: exit 1 with 'stdout: Broken pipe'"

# 4. LMDB cannot write (its data dir on a full tmpfs): exit 1, the line names the store.
umount "$mnt"
mount -t tmpfs -o size=1m tmpfs "$mnt"
timeout -k 5 30 "$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 0 --sink stdout \
    --data-dir "$mnt/data" >/dev/null 2>"$work/lmdb0.log" \
    || { tail -n 20 "$work/lmdb0.log" >&2; fail "the first run on the small tmpfs failed"; }
free_kb=$(df -k --output=avail "$mnt" | tail -1)
dd if=/dev/zero of="$mnt/filler" bs=4k count=$(( (free_kb - 8) / 4 )) 2>/dev/null || true
rc=0
timeout -k 5 60 "$evmtap" run --rpc "$ANVIL_URL" --from 0 --to "$head" --sink stdout \
    --drain-timeout 5 --data-dir "$mnt/data" >/dev/null 2>"$work/lmdb.log" || rc=$?
[ "$rc" -eq 1 ] || { tail -n 20 "$work/lmdb.log" >&2; fail "full state store: exit $rc, want 1"; }
grep -E "$mnt/data/[a-z]+: mdb_[a-z_]+: " "$work/lmdb.log" >/dev/null \
    || { tail -n 20 "$work/lmdb.log" >&2; fail "no line names the LMDB environment and its error"; }
pass "full state store: exit 1, $(grep -m1 -oE "$mnt/data/[a-z]+: mdb_[a-z_]+: .*" "$work/lmdb.log")"
