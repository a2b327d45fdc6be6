#!/usr/bin/env bash
# labels: short
# Usage errors of remote workers, each exit 2 naming what is wrong, before any node is
# asked: --workers 0 without --listen; --listen with two chains; --listen off loopback
# without --curve-authorized; `evmtap worker` without --connect, off loopback without its
# certificates, and with a bad --workers or --metrics. Then, with a node: a --listen port
# another process holds ends the run with exit 1 naming the endpoint (never a coordinator
# that nobody can join), and so does a worker's --metrics port (exit 2).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

expect_usage() {    # expect_usage TEXT ARGS...: exit 2 and TEXT on stderr
    local text=$1 rc=0
    shift
    timeout 30 "$evmtap" "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" -eq 2 ] && grep -qF -- "$text" "$work/err" \
        || { cat "$work/err" >&2; fail "evmtap $*: exit $rc, not 2 with '$text'"; }
}
touch "$work/cert.key" "$work/cert.key_secret"
mkdir -p "$work/authorized"
cat >"$work/two.cfg" <<'CFG'
chains
    one
        rpc = http://127.0.0.1:9
    two
        rpc = http://127.0.0.1:10
CFG

expect_usage "--workers 0 needs --listen" run --rpc http://127.0.0.1:9 --workers 0 \
    --data-dir "$work/d1"
expect_usage "--listen serves one chain" run --config "$work/two.cfg" \
    --listen tcp://127.0.0.1:5555 --data-dir "$work/d2"
expect_usage "--curve-cert" run --rpc http://127.0.0.1:9 --listen tcp://10.1.2.3:5555 \
    --data-dir "$work/d3"
expect_usage "--curve-authorized" run --rpc http://127.0.0.1:9 --listen tcp://10.1.2.3:5555 \
    --curve-cert "$work/cert.key" --data-dir "$work/d4"
expect_usage "--connect tcp://HOST:PORT is required" worker --workers 2
expect_usage "needs CURVE: --curve-cert" worker --connect tcp://10.1.2.3:5555
expect_usage "needs CURVE: --curve-server" worker --connect tcp://10.1.2.3:5555 \
    --curve-cert "$work/cert.key"
expect_usage "--workers: a number from 1 to 256" worker --connect tcp://127.0.0.1:5555 \
    --workers 0
expect_usage "--metrics: HOST:PORT" worker --connect tcp://127.0.0.1:5555 --metrics nowhere
"$evmtap" worker --help | grep -q -- "--connect ENDPOINT" || fail "evmtap worker --help"
pass "remote workers' usage errors: exit 2, each named"

start_anvil "$(free_port)"
taken=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(120)' "$taken" &
register_pid $!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$taken" || fail "could not hold port $taken"
rc=0
timeout 60 "$evmtap" run --rpc "$ANVIL_URL" --listen "tcp://127.0.0.1:$taken" \
    --data-dir "$work/d5" >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" -eq 1 ] && grep -qF "cannot bind tcp://127.0.0.1:$taken" "$work/err" \
    || { cat "$work/err" >&2; fail "--listen on a taken port: exit $rc, not 1 naming it"; }
expect_usage "--metrics 127.0.0.1:$taken" worker --connect tcp://127.0.0.1:5555 \
    --metrics "127.0.0.1:$taken"
pass "a --listen or worker --metrics port held by another process: refused, named"
