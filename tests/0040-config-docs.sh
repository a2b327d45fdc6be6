#!/usr/bin/env bash
# labels: short
# docs/config.md and the commands agree: every flag that a command's --help lists (`evmtap
# --help`, `evmtap run --help`, `evmtap backfill --help`,
# `evmtap keys --help`, `evmtap decode --help`, `evmtap ctl --help`, `evmtap cert --help`) is
# written in
# backquotes in docs/config.md, every flag written there in backquotes is listed by some
# --help, and the settings tables are the ones `evmtap run --help-config-md` prints from
# the settings table (src/app/settings.c).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
docs="$EVMTAP_ROOT/docs/config.md"

"$evmtap" --help >"$work/help-evmtap.txt" || fail "evmtap --help: exit $?"
for command in run backfill keys decode ctl cert worker; do
    "$evmtap" "$command" --help >"$work/help-$command.txt" || fail "evmtap $command --help: exit $?"
done
"$evmtap" run --help-config-md >"$work/tables.md" 2>"$work/tables.err" || {
    rc=$?; cat "$work/tables.err" >&2; fail "evmtap run --help-config-md: exit $rc"; }

# check.py DOCS TABLES HELP...: exit 0 when DOCS agrees with the helps and the tables.
cat >"$work/check.py" <<'PY'
import re
import sys

docs_path, tables_path, help_paths = sys.argv[1], sys.argv[2], sys.argv[3:]
FLAG = re.compile(r'(?<![\w-])--?[a-z][a-z0-9-]*')
failed = False


def complain(text):
    global failed
    failed = True
    print(text, file=sys.stderr)


# A help's flags are those of its usage lines and of its indented lines (the flag columns
# and their continuations); prose at the left margin only talks about flags.
listed = {}
for path in help_paths:
    for line in open(path, encoding='utf-8'):
        if line.startswith((' ', 'Usage:')):
            for flag in FLAG.findall(line):
                listed.setdefault(flag, path.rsplit('/', 1)[-1])

docs = open(docs_path, encoding='utf-8').read()
prose = re.sub(r'^```.*?^```', '', docs, flags=re.S | re.M)
written = set()
for span in re.findall(r'`([^`\n]+)`', prose):
    written.update(FLAG.findall(span))

for flag in sorted(set(listed) - written):
    complain(f'{flag} ({listed[flag]}) is not written in backquotes in docs/config.md')
for flag in sorted(written - set(listed)):
    complain(f'{flag} is written in docs/config.md but no command\'s --help lists it')


# The settings tables: every table whose header is the one the generator writes.
def tables(text):
    found, current = [], None
    for line in text.splitlines():
        if line == '| setting | flag | default | meaning |':
            current = [line]
            found.append(current)
        elif current is not None and line.startswith('|'):
            current.append(line)
        else:
            current = None
    return found


want = tables(open(tables_path, encoding='utf-8').read())
have = tables(docs)
if len(want) < 2:
    complain(f'evmtap run --help-config-md printed {len(want)} settings tables, not 2')
if len(want) != len(have):
    complain(f'docs/config.md has {len(have)} settings tables, the settings table {len(want)}')
for index, (generated, written_table) in enumerate(zip(want, have)):
    for line in sorted(set(generated) - set(written_table)):
        complain(f'table {index + 1}: docs/config.md lacks: {line}')
    for line in sorted(set(written_table) - set(generated)):
        complain(f'table {index + 1}: not from the settings table: {line}')
    if set(generated) == set(written_table) and generated != written_table:
        complain(f'table {index + 1}: rows in another order than the settings table')
sys.exit(1 if failed else 0)
PY
python3 "$work/check.py" "$docs" "$work/tables.md" "$work"/help-*.txt \
    || fail "docs/config.md and the commands disagree"
pass "every flag of every --help is in docs/config.md and back; its settings tables are generated"

# The check itself fails on a doc with a misspelt flag, or with a default of its own.
sed 's/`--secrets-dir DIR`/`--secret-dir DIR`/' "$docs" >"$work/wrong-flag.md"
sed 's/| `\/run\/secrets` |/| `\/var\/secrets` |/' "$docs" >"$work/wrong-default.md"
for wrong in wrong-flag wrong-default; do
    cmp -s "$docs" "$work/$wrong.md" && fail "$wrong: the edit did not change docs/config.md"
    if python3 "$work/check.py" "$work/$wrong.md" "$work/tables.md" "$work"/help-*.txt \
        2>"$work/$wrong.err"; then
        fail "$wrong: a wrong docs/config.md passed the check"
    fi
done
pass "a misspelt flag and a wrong default in docs/config.md are caught"
