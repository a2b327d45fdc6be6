# labels: short
# One data dir reached by different paths (relative, absolute from another directory,
# through a symlink, relative again), killed by SIGKILL after each, then moved with mv: the
# files hold every block exactly once. A files dir other than the one the checkpoint's
# sizes are of is refused with exit 2, naming both, and nothing is cut.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"

start_anvil "$(free_port)" --block-time 1
work=$(tmpdir)
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 40 --txs-per-block 2 \
    --seed 5 --out "$work/sent.jsonl" >/dev/null 2>&1 &
register_pid $!
mkdir "$work/elsewhere"
ln -s "$work/d" "$work/link"

# The highest block number in the files under $1.
published() {
    python3 - "$1/topics/anvil.mined.blocks.metadata" <<'PY'
import json, os, sys
numbers = []
for name in sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else []:
    numbers += [json.loads(line)["number"] for line in open(os.path.join(sys.argv[1], name))]
print(max(numbers) if numbers else -1)
PY
}
published_past() { [ "$(published "$1")" -gt "$2" ]; }

# Runs evmtap from directory $1 on data dir $2 until the files hold a few blocks more, then
# kills it with SIGKILL.
run_and_kill() {
    local cwd=$1 data=$2 before pid
    before=$(published "$work/d")
    (cd "$cwd" && exec "$evmtap" run --rpc "$ANVIL_URL" --from 0 --workers 2 --data-dir "$data") \
        2>>"$work/runs.log" &
    pid=$!
    register_pid "$pid"
    wait_for 30 published_past "$work/d" "$((before + 2))" \
        || { tail -n 20 "$work/runs.log" >&2; fail "no progress on --data-dir $data from $cwd"; }
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    pass "--data-dir $data from $cwd: killed after block $(published "$work/d")"
}

run_and_kill "$work" d
run_and_kill / "$work/d"
run_and_kill "$work/elsewhere" ../link
run_and_kill "$work" ./d

# A different files dir under this checkpoint: refused, naming both directories.
rc=0
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --data-dir "$work/d" --sink "files:$work/elsewhere" \
    --to 1 2>"$work/other.log" || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/other.log" >&2; fail "another files dir: exit $rc, want 2"; }
grep -q "$work/elsewhere (id none)" "$work/other.log" && grep -q "$work/d/topics (id " "$work/other.log" \
    || { cat "$work/other.log" >&2; fail "the refusal does not name both directories"; }
[ -z "$(ls -A "$work/elsewhere")" ] || fail "the refused files dir was written to"
pass "another files dir under the checkpoint refused with exit 2"

# Moved: resumes exactly, every block 0..to once.
mv "$work/d" "$work/moved"
to=$(( $(rpc "$ANVIL_URL" eth_blockNumber) + 2 ))
(cd "$work" && "$evmtap" run --rpc "$ANVIL_URL" --from 0 --workers 2 --data-dir moved --to "$to") \
    2>"$work/moved.log" || { cat "$work/moved.log" >&2; fail "the run on the moved data dir failed"; }
grep -q "resuming after block" "$work/moved.log" || fail "the moved data dir did not resume"
python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --topics "$work/moved/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount \
    || fail "after runs by four paths, SIGKILLs and a move the files differ from the node"
pass "blocks 0..$to exactly once by relative, absolute and symlinked paths and after mv"
