#!/usr/bin/env bash
# labels: short swarm
# The Scylla table that Kafka Connect fills from evmtap.api_keys.usage
# (swarm/scylla/evmtap.cql) has exactly the usage record's fields of docs/topics.md as its
# columns, and its primary key holds the parts of the record's Kafka key (key, host, seq),
# so a record delivered twice overwrites its own row. A table missing a field is refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/swarm_lib.sh"
work=$(tmpdir)
cql="$SWARM/scylla/evmtap.cql"
topics="$EVMTAP_ROOT/docs/topics.md"

"$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" usage-table "$cql" "$topics" \
    || fail "the usage table's columns are not the usage record's fields (above)"
pass "the usage table's columns are the usage record's documented fields"

key=$(tr '\n' ' ' <"$cql" | grep -o 'PRIMARY KEY *([^;]*)' | head -n 1)
for part in '"key"' host seq minute; do
    grep -qF "$part" <<<"$key" || fail "the primary key ($key) lacks $part"
done
grep -q 'CREATE KEYSPACE IF NOT EXISTS evmtap' "$cql" || fail "$cql creates no keyspace evmtap"
pass "the primary key is (key, minute, host, seq); the keyspace is created if absent"

# A table without `units` is refused, and so is a field documented but not in the table.
grep -v '^    units bigint,$' "$cql" >"$work/bad.cql"
cmp -s "$cql" "$work/bad.cql" && fail "could not break the CQL's copy"
if "$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" usage-table "$work/bad.cql" "$topics" \
        >/dev/null; then
    fail "swarm_check.py accepted a usage table without units: this test cannot fail"
fi
sed '/^| `methods` |/a | `region` | string | a field the table lacks |' "$topics" >"$work/topics.md"
cmp -s "$topics" "$work/topics.md" && fail "could not add a field to docs/topics.md's copy"
if "$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" usage-table "$cql" "$work/topics.md" \
        >/dev/null; then
    fail "swarm_check.py accepted a documented field the table lacks: this test cannot fail"
fi
pass "a missing column and an undocumented one are refused"
