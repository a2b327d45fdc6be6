#!/usr/bin/env bash
# Helpers for the swarm/ tests (0095-0099), sourced after lib.sh.
#   SWARM          the repository's swarm/ folder
#   SWARM_PYTHON   a python3 that has PyYAML (Debian's python3-yaml, scripts/setup)
#   swarm_stack_resolved OUT [STACK]   `docker stack config` of STACK (default
#                                      swarm/stack.yml) into OUT, or fail with its words
SWARM="$EVMTAP_ROOT/swarm"
SWARM_PYTHON=python3
if ! python3 -c 'import yaml' 2>/dev/null; then
    SWARM_PYTHON=/usr/bin/python3
    "$SWARM_PYTHON" -c 'import yaml' 2>/dev/null \
        || fail "no python3 with PyYAML (Debian: python3-yaml; scripts/setup installs it)"
fi

swarm_stack_resolved() {
    local out=$1 stack=${2:-$SWARM/stack.yml}
    command -v docker >/dev/null 2>&1 || fail "the docker CLI is not on PATH"
    if ! docker stack config -c "$stack" >"$out" 2>"$out.err"; then
        cat "$out.err" >&2
        fail "docker stack config -c $stack refused it"
    fi
}
