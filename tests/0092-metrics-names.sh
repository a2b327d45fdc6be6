#!/usr/bin/env bash
# labels: short
# Every metric that a Grafana dashboard or an alert rule names is one evmtap serves: the
# names are taken from every query (dashboards' targets and templating, rules' exprs), and
# each must have its # TYPE line in a live /metrics (a histogram's _bucket, _sum and
# _count by its family). `up` is Prometheus' own.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/metrics_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)

start_anvil "$(free_port)"
start_evmtap_metrics run --rpc "$ANVIL_URL" --from 0 --data-dir "$work/data"
scrape >"$work/scrape.txt"

python3 - "$EVMTAP_ROOT/swarm" "$work/scrape.txt" >"$work/names.txt" <<'PY' || fail "$(cat "$work/names.txt")"
import glob, json, os, re, sys
swarm, scrape = sys.argv[1], open(sys.argv[2]).read()
served = set(re.findall(r"^# TYPE (\S+) ", scrape, re.M))
histograms = set(re.findall(r"^# TYPE (\S+) histogram", scrape, re.M))
queries = []
for path in glob.glob(os.path.join(swarm, "grafana/dashboards/*.json")):
    board = json.load(open(path))
    for panel in board["panels"]:
        queries += [(path, t["expr"]) for t in panel.get("targets", [])]
    for var in board.get("templating", {}).get("list", []):
        query = var.get("query")
        queries.append((path, query["query"] if isinstance(query, dict) else query or ""))
for path in glob.glob(os.path.join(swarm, "prometheus/rules/*.yml")):
    text = open(path).read()
    # An expr is one line, or a folded block (>) of the lines indented below it.
    for match in re.finditer(r"^(\s*)expr:\s*(>|\|)?\s*(.*)$", text, re.M):
        expr = match.group(3)
        if match.group(2):
            rest = text[match.end():].split("\n")
            for line in rest[1:]:
                if len(line) - len(line.lstrip()) <= len(match.group(1)):
                    break
                expr += " " + line.strip()
        queries.append((path, expr))
names, missing = set(), []
for path, query in queries:
    for name in re.findall(r"\b(evmtap_[a-z0-9_]+|up)\b", query):
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name != family and family not in histograms:
            family = name
        names.add(family)
        if family != "up" and family not in served:
            missing.append(f"{os.path.basename(path)}: {name}")
print("\n".join(sorted(set(missing))) if missing else " ".join(sorted(names)))
sys.exit(1 if missing or len(names) < 20 else 0)
PY
pass "the $(wc -w <"$work/names.txt") metrics the dashboards and rules name are all served"
