# bench/lib.sh: sourced first by every bench script, with its name as argument. Gives the
# script tests/lib.sh's helpers (free ports, anvil, proxies, cleanup at exit) inside a
# private temporary root that is removed at exit, and sets HERE (bench/) and ROOT.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/evmtap-bench.XXXXXX")
export TMPDIR="$BENCH_TMP"
# shellcheck source=tests/lib.sh disable=SC1091
source "$ROOT/tests/lib.sh"
EVMTAP_TEST_DIRS+=("$BENCH_TMP")
EVMTAP_TEST_NAME=${1:?bench/lib.sh needs the bench name}

# Starts anvil --no-mining and builds BLOCKS blocks of PER_BLOCK transactions on it
# (make_big_blocks.py). Sets FIRST, LAST, N (their count) and TXS.
#   big_blocks BLOCKS PER_BLOCK
big_blocks() {
    local built
    start_anvil "$(free_port)" --no-mining
    log "anvil at $ANVIL_URL; building $1 blocks of $2 transactions"
    built=$(python3 "$HERE/make_big_blocks.py" --rpc "$ANVIL_URL" --blocks "$1" \
                --txs-per-block "$2" 2>"$EVMTAP_TEST_ROOT/make_big_blocks.log") \
        || { cat "$EVMTAP_TEST_ROOT/make_big_blocks.log" >&2; fail "make_big_blocks.py failed"; }
    FIRST=$(jq -r .first <<<"$built")
    LAST=$(jq -r .last <<<"$built")
    TXS=$(jq -r .txs <<<"$built")
    N=$((LAST - FIRST + 1))
    log "blocks $FIRST..$LAST, $TXS transactions"
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
