#!/usr/bin/env bash
# labels: short swarm
# swarm/stack.yml is a stack `docker stack deploy` takes: `docker stack config` (the docker
# CLI's own schema check, interpolation and merges; no engine needed) accepts it, and its
# parts agree (tests/swarm_check.py stack): every secret, config, volume and network a
# service uses is declared, config files exist, evmtap's keys are mounted where
# src/keys/secrets.c looks, the CURVE files are mounted, addresses name services, the
# three KRaft voters are the brokers, Prometheus scrapes what exists. Both checks are shown
# to refuse a broken copy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/swarm_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

swarm_stack_resolved "$work/stack.yml"
pass "docker stack config accepts swarm/stack.yml"
"$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" stack "$work/stack.yml" "$SWARM" \
    || fail "swarm/stack.yml's parts disagree (above)"
pass "services, secrets, configs, keys, brokers and scrape targets agree"
"$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" flags "$work/stack.yml" "$evmtap" \
    || fail "the stack passes evmtap flags its commands do not have (above)"
pass "every flag the stack passes to evmtap run and evmtap worker is one of theirs"

# The registry and tag of the stack's own images come from the environment, as the
# README's deploy steps set them.
EVMTAP_REGISTRY=registry.example:5000 EVMTAP_TAG=t1 \
    docker stack config -c "$SWARM/stack.yml" >"$work/tagged.yml"
[ "$(grep -c '^    image: registry.example:5000/evmtap:t1$' "$work/tagged.yml")" -eq 2 ] \
    || fail "the coordinator and the workers do not both run EVMTAP_REGISTRY/evmtap:EVMTAP_TAG"
grep -q '^    image: registry.example:5000/evmtap-connect:t1$' "$work/tagged.yml" \
    || fail "Connect does not run EVMTAP_REGISTRY/evmtap-connect:EVMTAP_TAG"
pass "EVMTAP_REGISTRY and EVMTAP_TAG choose the images of evmtap and Connect"

# A misspelt property is refused by docker's schema check.
cp -r "$SWARM" "$work/swarm"
sed 's/^    stop_grace_period: 30s$/    stop_grace_periods: 30s/' "$SWARM/stack.yml" >"$work/swarm/stack.yml"
cmp -s "$SWARM/stack.yml" "$work/swarm/stack.yml" && fail "could not break the stack's copy"
if docker stack config -c "$work/swarm/stack.yml" >/dev/null 2>&1; then
    fail "docker stack config accepted a misspelt property: this test cannot fail"
fi
# A key secret that is not mounted is found by swarm_check.py (docker does not look).
"$SWARM_PYTHON" - "$SWARM/stack.yml" "$work/swarm/stack.yml" <<'PY'
import sys
import yaml
stack = yaml.safe_load(open(sys.argv[1]))
worker = stack["services"]["worker"]
worker["secrets"] = [s for s in worker["secrets"] if s["source"] != "api_key_2"]
yaml.safe_dump(stack, open(sys.argv[2], "w"))
PY
swarm_stack_resolved "$work/broken.yml" "$work/swarm/stack.yml"
if "$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" stack "$work/broken.yml" "$work/swarm" \
        >"$work/broken.out"; then
    fail "swarm_check.py accepted a worker without the api_key_2 secret"
fi
grep -q 'worker: key api_key_2 is not mounted' "$work/broken.out" \
    || { cat "$work/broken.out" >&2; fail "swarm_check.py did not name the missing secret"; }
pass "a misspelt property and a missing key secret are refused"

# A flag the worker does not have (the coordinator's --curve-authorized) is found.
"$SWARM_PYTHON" - "$work/stack.yml" "$work/badflag.yml" <<'PY'
import sys
import yaml
stack = yaml.safe_load(open(sys.argv[1]))
command = stack["services"]["worker"]["command"]
command[command.index("--curve-server")] = "--curve-authorized"
yaml.safe_dump(stack, open(sys.argv[2], "w"))
PY
if "$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" flags "$work/badflag.yml" "$evmtap" \
        >"$work/badflag.out"; then
    fail "swarm_check.py accepted evmtap worker --curve-authorized"
fi
grep -q 'service worker: evmtap worker has no flag --curve-authorized' "$work/badflag.out" \
    || { cat "$work/badflag.out" >&2; fail "swarm_check.py did not name the worker's bad flag"; }
pass "a flag its command does not have is refused"
