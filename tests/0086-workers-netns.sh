#!/usr/bin/env bash
# labels: long
# Remote workers on three "hosts" (Linux network namespaces joined by veth pairs to a bridge
# in the coordinator's namespace), CURVE on, anvil beside the coordinator:
#   * without --curve-cert, a --listen off loopback is refused (exit 2, naming it);
#   * a worker whose key is not in --curve-authorized is refused and logged, never joins;
#   * worker 1 is killed with SIGKILL (and started again), worker 2's link is cut
#     (`ip link set down`, then up), worker 3 is frozen with SIGSTOP (then thawed): each
#     loss is noticed, its jobs re-queued, each comes back and joins again;
#   * every block 0..to of the anvil run is published exactly once (verify.py).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
[ "$(id -u)" -eq 0 ] || fail "needs root for ip netns"
command -v anvil >/dev/null || fail "anvil not found: run scripts/setup"

tag="evt$$"
coord="$tag-c"
namespaces=("$coord")
netns_cleanup() {
    local i
    for ((i = ${#EVMTAP_TEST_PIDS[@]} - 1; i >= 0; i--)); do
        kill -CONT "${EVMTAP_TEST_PIDS[$i]}" 2>/dev/null || true
        stop_pid "${EVMTAP_TEST_PIDS[$i]}" 5
    done
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'rc=$?; netns_cleanup; (exit $rc); cleanup' EXIT

ip netns add "$coord"
ip -n "$coord" link set lo up
ip -n "$coord" link add br0 type bridge
ip -n "$coord" addr add 10.77.0.1/24 dev br0
ip -n "$coord" link set br0 up
for n in 1 2 3; do
    ns="$tag-w$n"
    namespaces+=("$ns")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "${tag}a$n" type veth peer name "${tag}b$n"
    ip link set "${tag}a$n" netns "$coord"
    ip link set "${tag}b$n" netns "$ns"
    ip -n "$coord" link set "${tag}a$n" master br0 up
    ip -n "$ns" addr add "10.77.0.$((10 + n))/24" dev "${tag}b$n"
    ip -n "$ns" link set "${tag}b$n" up
done

ip netns exec "$coord" anvil --host 10.77.0.1 --port 8545 >"$work/anvil.log" 2>&1 &
register_pid $!
node=http://10.77.0.1:8545
in_coord() { ip netns exec "$coord" "$@"; }
wait_for 20 ip netns exec "$tag-w3" curl -sf -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$node" \
    || fail "anvil did not answer from another namespace"
to=799
in_coord curl -sf -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"anvil_mine","params":["0x320"]}' "$node" >/dev/null

mkdir -p "$work/certs" "$work/authorized"
for name in coordinator w1 w2 w3 intruder; do
    python3 "$EVMTAP_ROOT/tests/make_cert.py" "$work/certs/$name.key"
done
cp "$work/certs/w1.key" "$work/certs/w2.key" "$work/certs/w3.key" "$work/authorized/"

listen=tcp://10.77.0.1:5555
run_args=(run --rpc "$node" --key-rps 4 --workers 0 --listen "$listen" --from 0 --to "$to"
          --data-dir "$work/data")
rc=0; in_coord "$evmtap" "${run_args[@]}" 2>"$work/refused.log" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--curve-cert" "$work/refused.log" \
    || { cat "$work/refused.log" >&2; fail "a plain --listen off loopback was not refused (exit $rc)"; }

in_coord "$evmtap" "${run_args[@]}" --curve-cert "$work/certs/coordinator.key" \
    --curve-authorized "$work/authorized" 2>"$work/coordinator.log" &
coordinator=$!
register_pid "$coordinator"

start_worker() {    # start_worker N CERT LOG: sets WORKER_PID
    ip netns exec "$tag-w$1" "$evmtap" worker --connect "$listen" --workers 2 \
        --curve-cert "$work/certs/$2.key" --curve-server "$work/certs/coordinator.key" \
        2>>"$work/$3.log" &
    WORKER_PID=$!
    register_pid "$WORKER_PID"
}
published() { cat "$work"/data/topics/anvil.mined.blocks.metadata/*.ndjson 2>/dev/null | wc -l; }
published_past() { [ "$(published)" -gt "$1" ]; }
count() { grep -c "$1" "$work/coordinator.log" || true; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }

start_worker 1 intruder intruder; intruder=$WORKER_PID
wait_for 30 at_least "a worker was refused" 1 || { cat "$work/coordinator.log" >&2; fail "the intruder was not refused"; }
kill -TERM "$intruder"; wait "$intruder" 2>/dev/null || true
start_worker 1 w1 w1; w1=$WORKER_PID
start_worker 2 w2 w2; w2=$WORKER_PID
start_worker 3 w3 w3; w3=$WORKER_PID
wait_for 30 at_least "joined with" 3 || { cat "$work/coordinator.log" >&2; fail "three workers did not join"; }
at_least "joined with" 4 && fail "the intruder joined"
wait_for 60 published_past 60 || fail "no progress with three workers"

kill -KILL "$w1"; wait "$w1" 2>/dev/null || true
wait_for 30 at_least "silent for" 1 || fail "the killed worker was not noticed"
start_worker 1 w1 w1; w1=$WORKER_PID
wait_for 30 at_least "joined with" 4 || fail "worker 1 did not join again"
ip -n "$tag-w2" link set "${tag}b2" down
wait_for 30 at_least "silent for" 2 || fail "the cut link was not noticed"
kill -STOP "$w3"
wait_for 30 at_least "silent for" 3 || fail "the frozen worker was not noticed"
before=$(published)
wait_for 60 published_past "$((before + 30))" || fail "no progress after the losses"
ip -n "$tag-w2" link set "${tag}b2" up
wait_for 30 at_least "joined with" 5 || fail "worker 2 did not join again over its link"
kill -CONT "$w3"
wait_for 30 at_least "joined with" 6 || fail "worker 3 did not join again once thawed"

exited() { ! ps -o stat= -p "$1" | grep -qv Z; }
wait_for 90 exited "$coordinator" || fail "the coordinator did not finish within 90 s"
rc=0; wait "$coordinator" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$work/coordinator.log" >&2; fail "the coordinator exited $rc"; }
grep "re-queued\|joined\|refused" "$work/coordinator.log" | sed 's/^/    /' >&2
in_coord python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$node" --topics "$work/data/topics" \
    --chain anvil --from 0 --to "$to" --allow-extra transactionCount \
    || fail "the files differ from the node's blocks 0..$to"
pass "three hosts over CURVE, one killed, one cut off, one frozen, an intruder refused: every block 0..$to once"
