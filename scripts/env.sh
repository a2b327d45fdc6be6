#!/usr/bin/env bash
# Sourced by scripts and tests: where the repository, the shared data and the npm tools
# (anvil, cast, solc-js; installed by scripts/setup) are.
#   EVMTAP_ROOT          repository root
#   EVMTAP_TOOLS         tools cache (default $HOME/.cache/evmtap-tools)
#   EVMTAP_SHARED_DATA   real mainnet data (default $EVMTAP_ROOT/../shared/data)
# No `set -euo pipefail` here on purpose beyond what the caller has: this file is sourced.

EVMTAP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EVMTAP_TOOLS="${EVMTAP_TOOLS:-$HOME/.cache/evmtap-tools}"
EVMTAP_SHARED_DATA="${EVMTAP_SHARED_DATA:-$EVMTAP_ROOT/../shared/data}"
export EVMTAP_ROOT EVMTAP_TOOLS EVMTAP_SHARED_DATA

for _evmtap_bin in \
    "$EVMTAP_TOOLS/node_modules/@foundry-rs/anvil-linux-amd64/bin" \
    "$EVMTAP_TOOLS/node_modules/@foundry-rs/cast-linux-amd64/bin"; do
    case ":$PATH:" in
        *":$_evmtap_bin:"*) ;;
        *) PATH="$_evmtap_bin:$PATH" ;;
    esac
done
unset _evmtap_bin
export PATH
