#!/usr/bin/env bash
# Helpers for the metrics tests (tests/009N-metrics-*.sh), sourced after tests/lib.sh.

# Starts `evmtap run ARGS... --metrics 127.0.0.1:PORT` in the background, logging to
# $EVMTAP_TEST_ROOT/evmtap-metrics.log, and waits (60 s) until /metrics answers. Sets
# METRICS_URL, EVMTAP_PID.
#   start_evmtap_metrics ARGS...
start_evmtap_metrics() {
    local port
    port=$(free_port)
    "$evmtap" "$@" --metrics "127.0.0.1:$port" 2>"$EVMTAP_TEST_ROOT/evmtap-metrics.log" &
    EVMTAP_PID=$!
    register_pid "$EVMTAP_PID"
    METRICS_URL="http://127.0.0.1:$port/metrics"
    if ! wait_for 60 curl -sf --max-time 10 "$METRICS_URL"; then
        tail -n 20 "$EVMTAP_TEST_ROOT/evmtap-metrics.log" >&2 || true
        fail "evmtap did not serve $METRICS_URL within 60 s"
    fi
    export METRICS_URL EVMTAP_PID
}

# Prints the live scrape.
scrape() { curl -sf --max-time 10 "$METRICS_URL"; }

# Prints the value of one series of the live scrape, by its exact name{labels} text
# (nothing, status 1, when it is not there).
#   metric_value 'evmtap_published_block{chain="anvil"}'
metric_value() {
    scrape | awk -v series="$1" '$1 == series { print $2; found = 1 } END { exit !found }'
}

# Waits (TIMEOUT s) until metric_value SERIES prints VALUE.
#   wait_metric TIMEOUT SERIES VALUE
wait_metric() {
    local timeout=$1 series=$2 value=$3
    # shellcheck disable=SC2016
    wait_for "$timeout" bash -c '[ "$(curl -sf --max-time 10 "$1" | awk -v s="$2" '"'"'$1 == s { print $2 }'"'"')" = "$3" ]' \
        _ "$METRICS_URL" "$series" "$value"
}

# Starts Debian's prometheus on a free loopback port, scraping TARGET (host:port) every
# second as job "evmtap", with its data in a temporary directory. Sets PROM_URL, PROM_PID.
#   start_prometheus TARGET
start_prometheus() {
    local target=$1 dir port
    command -v prometheus >/dev/null 2>&1 || fail "prometheus not found: run scripts/setup"
    dir=$(tmpdir)
    port=$(free_port)
    cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: evmtap
    static_configs:
      - targets: ["$target"]
YML
    promtool check config "$dir/prometheus.yml" >/dev/null || fail "promtool check config failed"
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
    PROM_PID=$!
    register_pid "$PROM_PID"
    PROM_URL="http://127.0.0.1:$port"
    if ! wait_for 60 curl -sf --max-time 10 "$PROM_URL/-/ready"; then
        tail -n 20 "$dir/prometheus.log" >&2 || true
        fail "prometheus did not get ready on $PROM_URL within 60 s"
    fi
    export PROM_URL PROM_PID
}

# Prints the value of an instant query's only sample (nothing, status 1, when there is
# no sample or more than one).
#   prom_query 'up{job="evmtap"}'
prom_query() {
    curl -sf --max-time 10 --get --data-urlencode "query=$1" "$PROM_URL/api/v1/query" \
        | jq -er 'if (.data.result | length) == 1 then .data.result[0].value[1] else error("samples: \(.data.result | length)") end'
}

# Waits (TIMEOUT s) until prom_query EXPR prints VALUE.
#   wait_prom TIMEOUT EXPR VALUE
wait_prom() {
    local timeout=$1 expr=$2 value=$3 deadline
    deadline=$(($(date +%s) + timeout))
    while [ "$(prom_query "$expr" 2>/dev/null || true)" != "$value" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}
