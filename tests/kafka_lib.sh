#!/usr/bin/env bash
# Kafka helpers for behaviour tests, sourced after tests/lib.sh:
#   source "$(dirname "$0")/kafka_lib.sh"
# start_kafka_mock [N] starts tests/kafka_mock.c (evmtap_kafka_mock, next to $EVMTAP_BIN)
# with N brokers (default 3) on 127.0.0.1 and sets KAFKA_BROKERS (the bootstrap list);
# kafka_mock CMD sends it a command (down ID|all, up ID|all, rtt ID|all MS,
# error TOPIC|* ERR COUNT) and waits for its answer.
command -v kcat >/dev/null 2>&1 || fail "kcat not found: run scripts/setup"

start_kafka_mock() {
    local count=${1:-3} mock
    mock="${EVMTAP_KAFKA_MOCK:-$(dirname "$EVMTAP_BIN")/evmtap_kafka_mock}"
    [ -x "$mock" ] || fail "$mock not found: build the evmtap_kafka_mock target"
    KAFKA_MOCK_OUT="$EVMTAP_TEST_ROOT/kafka-mock.out"
    local fifo="$EVMTAP_TEST_ROOT/kafka-mock.in"
    mkfifo "$fifo"
    "$mock" "$count" <"$fifo" >"$KAFKA_MOCK_OUT" 2>"$EVMTAP_TEST_ROOT/kafka-mock.log" &
    KAFKA_MOCK_PID=$!
    register_pid "$KAFKA_MOCK_PID"
    exec {KAFKA_MOCK_FD}>"$fifo"
    wait_for 10 test -s "$KAFKA_MOCK_OUT" || fail "evmtap_kafka_mock did not start"
    KAFKA_BROKERS=$(head -n 1 "$KAFKA_MOCK_OUT")
    export KAFKA_BROKERS
}

# True once the mock's output has more than $1 lines.
kafka_mock_answered() { [ "$(wc -l <"$KAFKA_MOCK_OUT")" -gt "$1" ]; }

kafka_mock() {
    local before
    before=$(wc -l <"$KAFKA_MOCK_OUT")
    echo "$*" >&"$KAFKA_MOCK_FD"
    wait_for 5 kafka_mock_answered "$before" || fail "kafka mock: no answer to '$*'"
    tail -n 1 "$KAFKA_MOCK_OUT" | grep -q '^ok$' || fail "kafka mock: '$*': $(tail -n 1 "$KAFKA_MOCK_OUT")"
}
