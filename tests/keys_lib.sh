#!/usr/bin/env bash
# Helpers for the key pool tests (tests/00NN-keys-*.sh), sourced after tests/lib.sh.

# Starts redis-server on a free loopback port with its files in DIR (default: a fresh
# temporary directory). Sets REDIS_PORT, REDIS_URL, REDIS_PID, REDIS_DIR.
#   start_redis [PORT] [DIR]
start_redis() {
    REDIS_PORT=${1:-$(free_port)}
    REDIS_DIR=${2:-$(tmpdir)}
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$REDIS_DIR" --dbfilename dump.rdb >"$REDIS_DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    register_pid "$REDIS_PID"
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    wait_for 10 redis-cli -p "$REDIS_PORT" ping || fail "redis-server did not start"
    export REDIS_PORT REDIS_URL REDIS_PID REDIS_DIR
}

# Stops Redis saving its data (SHUTDOWN SAVE works even with --save ''), so that a restart
# on the same port and directory finds it again.
stop_redis_saving() {
    redis-cli -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || true
    wait "$REDIS_PID" 2>/dev/null || true
}

# Starts tests/provider_emulator.py in front of UPSTREAM. Sets EMU_URL and EMU_PID.
#   start_emulator UPSTREAM [EMULATOR ARGS...]
start_emulator() {
    local upstream=$1 port_file
    shift
    port_file="$EVMTAP_TEST_ROOT/emulator-$RANDOM.port"
    python3 "$EVMTAP_ROOT/tests/provider_emulator.py" --upstream "$upstream" \
        --port-file "$port_file" "$@" >"$port_file.log" 2>&1 &
    EMU_PID=$!
    register_pid "$EMU_PID"
    wait_for 10 test -s "$port_file" || fail "provider_emulator.py did not start"
    EMU_URL="http://127.0.0.1:$(cat "$port_file")"
    export EMU_URL EMU_PID
}

emulator_stats() { curl -sS --max-time 10 "$EMU_URL/stats"; }

# Forces KEY's next COUNT answers: emulator_force KEY ANSWER COUNT
emulator_force() {
    curl -sS --max-time 5 -d "{\"key\":\"$1\",\"answer\":\"$2\",\"count\":$3}" \
        "$EMU_URL/control" >/dev/null
}

# The pool's view as JSON (evmtap keys --json).
pool_json() { "$evmtap" keys --redis "$REDIS_URL" --json; }
