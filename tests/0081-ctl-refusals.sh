#!/usr/bin/env bash
# labels: short
# What is refused before any coordinator answers: ctl against nothing exits 1 at once (a
# data dir without a socket) or within --timeout (a tcp port nobody serves); a non-loopback
# tcp control endpoint without CURVE settings: run and backfill exit 2 naming the missing
# setting, ctl exits 2 naming its own; evmtap cert's usage; a data dir too long for an ipc
# path runs without the default socket.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

# Nothing at the data dir: exit 1, no wait.
rc=0; "$evmtap" ctl --data-dir "$work/none" STATUS 2>"$work/none.err" || rc=$?
[ "$rc" -eq 1 ] || fail "ctl on an empty data dir: exit $rc, want 1"
grep -q "no coordinator at ipc://$work/none/control" "$work/none.err" \
    || fail "ctl on an empty data dir: $(cat "$work/none.err")"
# A loopback port nobody serves: exit 1 once --timeout has passed.
rc=0; "$evmtap" ctl --endpoint "tcp://127.0.0.1:$(free_port)" --timeout 1 STATUS \
    2>"$work/port.err" || rc=$?
[ "$rc" -eq 1 ] || fail "ctl on a free port: exit $rc, want 1"
grep -q "no answer from tcp://127.0.0.1:.* within 1 s" "$work/port.err" \
    || fail "ctl on a free port: $(cat "$work/port.err")"
pass "ctl against nothing: exit 1 (at once on a data dir, after --timeout on a port)"

# Non-loopback tcp without CURVE: refused before anything starts, naming the setting.
endpoint="tcp://127.0.0.2:$(free_port)"
for command in run backfill; do
    range=(); [ "$command" = backfill ] && range=(--from 0 --to 1)
    rc=0; "$evmtap" "$command" "${range[@]}" --rpc http://127.0.0.1:1 --control "$endpoint" \
        --data-dir "$work/d-$command" 2>"$work/$command.err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$command --control $endpoint: exit $rc, want 2"
    grep -q -- "--control $endpoint is not loopback or ipc: it needs CURVE: give --curve-cert (curve_cert)" \
        "$work/$command.err" || fail "$command: $(cat "$work/$command.err")"
done
"$evmtap" cert new "$work/keys" coordinator >/dev/null || fail "cert new"
rc=0; "$evmtap" run --rpc http://127.0.0.1:1 --control "$endpoint" \
    --curve-cert "$work/keys/coordinator.key" --data-dir "$work/d2" 2>"$work/half.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "give --curve-authorized (curve_authorized)" "$work/half.err" \
    || fail "--curve-cert without --curve-authorized: exit $rc: $(cat "$work/half.err")"
# ctl refuses the same endpoint without its own CURVE options.
rc=0; "$evmtap" ctl --endpoint "$endpoint" STATUS 2>"$work/ctl.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "it needs CURVE: give --curve-cert" "$work/ctl.err" \
    || fail "ctl on $endpoint without CURVE: exit $rc: $(cat "$work/ctl.err")"
pass "non-loopback control without CURVE: exit 2 naming the setting (run, backfill, ctl)"

# evmtap cert: a pair, never overwritten; usage errors exit 2.
[ -s "$work/keys/coordinator.key" ] && [ -s "$work/keys/coordinator.key_secret" ] \
    || fail "cert new wrote no pair"
grep -q "secret-key" "$work/keys/coordinator.key" && fail "the public file holds the secret key"
rc=0; "$evmtap" cert new "$work/keys" coordinator 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "cert new over an existing pair: exit $rc, want 1"
rc=0; "$evmtap" cert new "$work/keys" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "cert new without NAME: exit $rc, want 2"
rc=0; "$evmtap" cert new "$work/keys" a/b 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "cert new a/b: exit $rc, want 2"
"$evmtap" cert --help | grep -q '^Usage: evmtap cert new DIR NAME' || fail "cert --help"
pass "cert new: a pair, never overwritten; usage errors exit 2"

# A data dir too long for an ipc socket path (but within the checkpoint's limit) still
# captures, without the default control socket, and says so.
start_anvil "$(free_port)"
long="$work/$(printf 'd%.0s' {1..120})"
"$evmtap" run --rpc "$ANVIL_URL" --from 0 --to 0 --data-dir "$long" 2>"$work/long.log" \
    || { tail -n 5 "$work/long.log" >&2; fail "a long data dir: run failed"; }
grep -q "control: no evmtap ctl socket (ipc://$long/control: longer than" "$work/long.log" \
    || fail "a long data dir: the missing socket is not said"
pass "a data dir too long for ipc: the capture goes on without the socket, and says so"
