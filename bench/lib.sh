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
