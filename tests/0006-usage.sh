#!/usr/bin/env bash
# labels: short
# The command line's contract: --help everywhere (exit 0), version, and usage or config
# errors that exit 2 and name the flag, or the file, line and setting.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

expect() {  # expect CODE PATTERN -- ARGS...: exit code and a line of stdout+stderr
    local code=$1 pattern=$2 rc=0
    shift 3
    "$evmtap" "$@" >"$work/out" 2>&1 || rc=$?
    [ "$rc" -eq "$code" ] || { cat "$work/out" >&2; fail "evmtap $*: exit $rc, want $code"; }
    grep -qE -- "$pattern" "$work/out" || { cat "$work/out" >&2; fail "evmtap $*: no /$pattern/"; }
}

expect 0 "evmtap run"             -- --help
expect 0 "evmtap run"             -- help
expect 0 "--rpc URL"              -- run --help
expect 0 "^evmtap [0-9]+\.[0-9]+" -- version
expect 2 "Usage"                  --
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 2 "unknown option --frobnicate"  -- run --frobnicate
expect 2 "--workers"              -- run --workers abc
expect 2 "--fetch"                -- run --fetch blocks
expect 2 "--to"                   -- run --from 10 --to 5
expect 2 "missing.cfg.*cannot open" -- run --config "$work/missing.cfg"
pass "help, version and flag errors"

cat >"$work/bad.cfg" <<'CFG'
evmtap
    data_dir = ./somewhere
chains
    anvil
        rpc = http://127.0.0.1:1
        workers = lots
CFG
expect 2 "bad.cfg:6: chains/anvil/workers" -- run --config "$work/bad.cfg"
printf 'evmtap\n\tsink = files\n' >"$work/tab.cfg"
expect 2 "tab.cfg:2:" -- run --config "$work/tab.cfg"
printf 'evmtap\n    colour = blue\n' >"$work/unknown.cfg"
expect 2 "unknown.cfg:2: .*colour" -- run --config "$work/unknown.cfg"
pass "config errors name file, line and setting"

# Values a setting cannot take are refused by name rather than ignored.
expect 2 "--kafka-compression" -- run --sink kafka:127.0.0.1:9092 --kafka-compression brotli
expect 2 "--metrics" -- run --metrics no-port-here
expect 2 "--listen" -- run --listen 'udp://127.0.0.1:9100'
pass "settings with values they cannot take are refused by name"
