#!/usr/bin/env bash
# labels: short
# evmtap backfill's progress on stderr. Without a terminal: plain lines, at the start, every
# --progress-interval and at the end, whose figures parse (done/total, percent, blocks/s,
# req/s, units/s, ETA or the time taken), never go back, agree with each other, and end at
# total/total 100%; no carriage return or escape. On a pty (util-linux `script`): a bar
# redrawn in place (carriage returns, erase to end of line) that ends at total/total 100%
# on its own line, and no plain lines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
command -v script >/dev/null 2>&1 || fail "script (util-linux) not found"

start_anvil "$(free_port)"
work=$(tmpdir)
for _ in 1 2 3 4; do
    rpc "$ANVIL_URL" anvil_mine '["0x1f4"]' >/dev/null || fail "anvil_mine failed"
done
to=$(( $(rpc "$ANVIL_URL" eth_blockNumber) ))
total=$((to + 1))
# Two keys at 200 requests/s each: a few seconds, so that lines come between start and end;
# units are the key pool's (one per request in the default cost table).
export EVMTAP_KEY_PG1=pgSecret1 EVMTAP_KEY_PG2=pgSecret2
args=(backfill --rpc "$ANVIL_URL/?key={key}" --keys pg1,pg2 --key-rps 200 --workers 2
      --from 0 --to "$to" --progress-interval 0.5)

# 1. No terminal: plain lines.
"$evmtap" "${args[@]}" --data-dir "$work/plain" 2>"$work/plain.log" </dev/null \
    || { cat "$work/plain.log" >&2; fail "backfill without a terminal failed"; }
python3 - "$work/plain.log" "$total" <<'PY' || fail "the plain progress lines are wrong"
import re, sys
path, total = sys.argv[1], int(sys.argv[2])
text = open(path, encoding='utf-8', newline='').read()
if '\r' in text or '\033' in text:
    sys.exit('a carriage return or an escape without a terminal')
LINE = re.compile(r'^backfill anvil: (\d+)/(\d+) (\d+)% ([\d.]+) blocks/s ([\d.]+) req/s '
                  r'([\d.]+) units/s (ETA (-|\d+[smhd][\dsmh]*)|done in \d+[smhd][\dsmh]*)$')
lines = [l for l in text.splitlines() if l.startswith('backfill ')]
rows = []
for line in lines:
    m = LINE.match(line)
    if not m:
        sys.exit('does not parse: %r' % line)
    rows.append(m)
if len(rows) < 3:
    sys.exit('%d progress lines, want the start, some between and the end' % len(rows))
done = [int(m.group(1)) for m in rows]
for m in rows:
    d, t, pct = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if t != total or pct != d * 100 // t:
        sys.exit('figures disagree: %s' % m.group(0))
if done != sorted(done):
    sys.exit('done went back: %s' % done)
if done[0] != 0 or not rows[0].group(0).endswith('ETA -'):
    sys.exit('the first line is not the start: %s' % rows[0].group(0))
last = rows[-1].group(0)
if not last.startswith('backfill anvil: %d/%d 100%% ' % (total, total)) or 'done in' not in last:
    sys.exit('the last line is not the end: %s' % last)
middle = [m for m in rows[1:-1] if 0 < int(m.group(1)) < total]
if not middle:
    sys.exit('no line between the start and the end')
for m in middle:
    if not m.group(7).startswith('ETA ') or m.group(8) == '-':
        sys.exit('a line in the middle without an ETA: %s' % m.group(0))
for index, name in ((4, 'blocks/s'), (5, 'req/s'), (6, 'units/s')):
    if float(rows[-1].group(index)) <= 0:
        sys.exit('the end has no %s: %s' % (name, last))
print('%d plain lines, last: %s' % (len(rows), last))
PY
pass "plain lines without a terminal: they parse, agree, never go back, end at $total/$total 100%"

# 2. A terminal: the bar.
script -qfec "$(printf '%q ' "$evmtap" "${args[@]}" --data-dir "$work/tty")" /dev/null \
    >"$work/tty.log" 2>&1 </dev/null || { cat "$work/tty.log" >&2; fail "backfill on a pty failed"; }
python3 - "$work/tty.log" "$total" <<'PY' || fail "the bar on a terminal is wrong"
import re, sys
path, total = sys.argv[1], int(sys.argv[2])
text = open(path, encoding='utf-8', errors='replace', newline='').read()
if re.search(r'(^|\n)backfill anvil: ', text):
    sys.exit('plain lines on a terminal')
BAR = re.compile(r'\rbackfill anvil \[([#.]{24})\] (\d+)/(\d+) (\d+)% [^\r\n\033]*\033\[K')
bars = BAR.findall(text)
if len(bars) < 3:
    sys.exit('%d bars drawn, want the start, redraws and the end' % len(bars))
done = [int(b[1]) for b in bars]
if done != sorted(done) or any(int(b[2]) != total for b in bars):
    sys.exit('bars out of order or of another total: %s' % done)
for cells, d, t, pct in bars:
    if cells.count('#') != int(d) * 24 // int(t) or int(pct) != int(d) * 100 // int(t):
        sys.exit('a bar disagrees with its figures: [%s] %s/%s %s%%' % (cells, d, t, pct))
end = re.search(r'\rbackfill anvil \[#{24}\] %d/%d 100%% [^\r\n]*done in [^\r\n]*\033\[K\r?\n'
                % (total, total), text)
if not end:
    sys.exit('no final bar at %d/%d 100%% ending its line' % (total, total))
print('%d bars, redrawn in place' % len(bars))
PY
pass "a bar redrawn in place on a terminal, ending at $total/$total 100% on its own line"
