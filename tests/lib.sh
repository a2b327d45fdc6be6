#!/usr/bin/env bash
# Helpers for behaviour tests (bash). Source it first thing in a test:
#   source "$(dirname "$0")/lib.sh"
# It sources scripts/env.sh (anvil and cast on PATH), installs `trap cleanup EXIT` that
# stops every process the test started (start_anvil, register_pid) with bounded waits and
# removes every directory made by tmpdir. Everything listens on 127.0.0.1 only.
set -euo pipefail

# shellcheck source=scripts/env.sh disable=SC1091
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/env.sh"

EVMTAP_TEST_PIDS=()   # processes to stop on exit, in start order
EVMTAP_TEST_DIRS=()   # directories to remove on exit
EVMTAP_TEST_NAME="$(basename "${0:-test}")"

# Prints a message on stderr, prefixed with the test's name.
log() { printf '%s: %s\n' "$EVMTAP_TEST_NAME" "$*" >&2; }

# Ends the test as failed.
fail() {
    printf 'FAIL: %s: %s\n' "$EVMTAP_TEST_NAME" "$*" >&2
    exit 1
}

# Reports a passed check (does not exit).
pass() { printf 'PASS: %s: %s\n' "$EVMTAP_TEST_NAME" "$*"; }

# Registers a background process to be stopped by cleanup.
register_pid() { EVMTAP_TEST_PIDS+=("$1"); }

# Stops one process: SIGTERM, up to $2 seconds (default 5), then SIGKILL.
stop_pid() {
    local pid=$1 timeout=${2:-5} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Stops every registered process (newest first) and removes the temporary directories.
cleanup() {
    local rc=$? i
    trap - EXIT
    set +e
    for ((i = ${#EVMTAP_TEST_PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${EVMTAP_TEST_PIDS[$i]}" 5
    done
    if [ "${EVMTAP_KEEP_TMP:-0}" != 1 ]; then
        for d in "${EVMTAP_TEST_DIRS[@]}"; do
            rm -rf -- "$d"
        done
    elif [ ${#EVMTAP_TEST_DIRS[@]} -gt 0 ]; then
        log "kept ${EVMTAP_TEST_DIRS[*]}"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The root temporary directory of this test, removed at exit (EVMTAP_KEEP_TMP=1 keeps it).
EVMTAP_TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/evmtap-test.XXXXXX")
EVMTAP_TEST_DIRS+=("$EVMTAP_TEST_ROOT")

# Makes a fresh temporary directory (inside the test's root, so removed at exit even when
# called in a subshell as `dir=$(tmpdir)`) and prints its path.
tmpdir() {
    mktemp -d "$EVMTAP_TEST_ROOT/tmp.XXXXXX"
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Calls a JSON-RPC method and prints its result with jq: a string raw (0x7a69), anything
# else as compact JSON; returns 1 (and logs it) on an error answer or no answer.
#   rpc URL METHOD [PARAMS_JSON]      e.g. rpc "$ANVIL_URL" eth_getBlockByNumber '["0x1", false]'
rpc() {
    local url=$1 method=$2 params=${3:-[]} answer
    answer=$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" "$url") \
        || { log "rpc $method: no answer from $url"; return 1; }
    if [ "$(jq -r 'has("error")' <<<"$answer")" = true ]; then
        log "rpc $method: $(jq -c .error <<<"$answer")"
        return 1
    fi
    jq -cr '.result' <<<"$answer"
}

# Polls CMD every 0.2 s until it succeeds or TIMEOUT seconds pass (then returns 1).
#   wait_for TIMEOUT CMD [ARGS...]    e.g. wait_for 10 test -s "$dir/out.ndjson"
wait_for() {
    local timeout=$1 deadline
    shift
    deadline=$(($(date +%s) + timeout))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.2
    done
}

# Starts anvil in the background on 127.0.0.1:PORT and waits (up to 20 s) until it answers.
# Sets ANVIL_URL, ANVIL_PID and ANVIL_LOG. Extra arguments go to anvil (e.g. --no-mining,
# --block-time 1, --timestamp N).
#   start_anvil PORT [ANVIL ARGS...]
start_anvil() {
    local port=$1
    shift
    command -v anvil >/dev/null 2>&1 || fail "anvil not found: run scripts/setup"
    ANVIL_LOG="$EVMTAP_TEST_ROOT/anvil-$port.log"
    anvil --host 127.0.0.1 --port "$port" "$@" >"$ANVIL_LOG" 2>&1 &
    ANVIL_PID=$!
    register_pid "$ANVIL_PID"
    ANVIL_URL="http://127.0.0.1:$port"
    if ! wait_for 20 rpc "$ANVIL_URL" eth_blockNumber; then
        tail -n 20 "$ANVIL_LOG" >&2 || true
        fail "anvil did not answer on $ANVIL_URL within 20 s"
    fi
    export ANVIL_URL ANVIL_PID ANVIL_LOG
}

# Starts tests/badrpc.py in front of UPSTREAM and waits until it answers. Sets BADRPC_URL
# (http://127.0.0.1:PORT) and BADRPC_PID. Extra arguments go to badrpc.py.
#   start_badrpc UPSTREAM [BADRPC ARGS...]
start_badrpc() {
    local upstream=$1 port_file
    shift
    port_file="$EVMTAP_TEST_ROOT/badrpc-$RANDOM.port"
    python3 "$EVMTAP_ROOT/tests/badrpc.py" --upstream "$upstream" --port-file "$port_file" \
        "$@" >"$port_file.log" 2>&1 &
    BADRPC_PID=$!
    register_pid "$BADRPC_PID"
    wait_for 10 test -s "$port_file" || fail "badrpc.py did not start (log: $port_file.log)"
    BADRPC_URL="http://127.0.0.1:$(cat "$port_file")"
    export BADRPC_URL BADRPC_PID
}

# Starts tests/edit_rpc.py (answers edited for chosen blocks) in front of UPSTREAM and waits
# until it listens. Sets EDIT_URL (http://127.0.0.1:PORT). Extra arguments go to edit_rpc.py.
#   start_edit_rpc UPSTREAM [EDIT_RPC ARGS...]
start_edit_rpc() {
    local upstream=$1 port_file
    shift
    port_file="$EVMTAP_TEST_ROOT/edit_rpc-$RANDOM.port"
    python3 "$EVMTAP_ROOT/tests/edit_rpc.py" --upstream "$upstream" --port-file "$port_file" \
        "$@" >"$port_file.log" 2>&1 &
    register_pid $!
    wait_for 10 test -s "$port_file" || fail "edit_rpc.py did not start (log: $port_file.log)"
    EDIT_URL="http://127.0.0.1:$(cat "$port_file")"
    export EDIT_URL
}

# test_contract_abis DIR SENT: DIR gets the test contracts' ABIs and an addresses.json that
# binds the first deployment of Token, Counter and Factory (from tests/traffic.py's SENT
# file, addresses from their receipts) to them, as `--abis DIR` takes it.
test_contract_abis() {
    local dir=$1 sent=$2 name hash address
    mkdir -p "$dir"
    cp "$EVMTAP_ROOT"/tests/contracts/artifacts/*.json "$dir/"
    echo '{}' >"$dir/addresses.json"
    for name in Token Counter Factory; do
        hash=$(jq -r --arg w "deploy $name" 'select(.what == $w) | .hash' "$sent" | head -n 1)
        address=$(rpc "$ANVIL_URL" eth_getTransactionReceipt "[\"$hash\"]" | jq -r .contractAddress)
        jq --arg a "${address,,}" --arg f "$name.json" '. + {($a): $f}' "$dir/addresses.json" \
            >"$dir/addresses.tmp" && mv "$dir/addresses.tmp" "$dir/addresses.json"
    done
}
