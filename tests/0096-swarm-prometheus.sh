#!/usr/bin/env bash
# labels: short swarm
# The stack's Prometheus and Alertmanager configs are valid to their own tools: `promtool
# check config` of swarm/prometheus/prometheus.yml with its rule_files pointed at the
# repository's swarm/prometheus/rules/*.yml (the folder the stack mounts on the directory
# rule_files names; promtool then checks every rules file there too, and `promtool check
# rules` once more on its own), and `amtool check-config` of swarm/alertmanager/
# alertmanager.yml, whose routes send critical and other alerts to a declared receiver.
# A broken copy of each is refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/swarm_lib.sh"
work=$(tmpdir)
command -v promtool >/dev/null 2>&1 || fail "promtool not found (Debian: prometheus; scripts/setup)"
command -v amtool >/dev/null 2>&1 || fail "amtool not found (Debian: prometheus-alertmanager; scripts/setup)"

swarm_stack_resolved "$work/stack.yml"
# rewrite.py IN OUT RULES_DIR STACK: OUT is IN with rule_files under RULES_DIR; exits 1 when
# the stack does not mount swarm/prometheus/rules on the folder of IN's rule_files.
cat >"$work/rewrite.py" <<'PY'
import os
import sys
import yaml
src, out, rules_dir, stack_path = sys.argv[1:]
config = yaml.safe_load(open(src))
stack = yaml.safe_load(open(stack_path))
mounts = {v["target"]: os.path.realpath(v["source"])
          for v in stack["services"]["prometheus"].get("volumes") or [] if v.get("type") == "bind"}
rewritten = []
for pattern in config.get("rule_files") or []:
    folder, name = os.path.split(pattern)
    if mounts.get(folder) != os.path.realpath(rules_dir):
        sys.exit("rule_files %s: the stack mounts %s there, not %s"
                 % (pattern, mounts.get(folder), rules_dir))
    rewritten.append(os.path.join(rules_dir, name))
if not rewritten:
    sys.exit("prometheus.yml has no rule_files")
config["rule_files"] = rewritten
yaml.safe_dump(config, open(out, "w"), sort_keys=False)
PY
"$SWARM_PYTHON" "$work/rewrite.py" "$SWARM/prometheus/prometheus.yml" "$work/prometheus.yml" \
    "$SWARM/prometheus/rules" "$work/stack.yml" || fail "prometheus.yml's rule_files (above)"
promtool check config "$work/prometheus.yml" >"$work/check.out" 2>&1 \
    || { cat "$work/check.out" >&2; fail "promtool check config refused prometheus.yml"; }
shopt -s nullglob
rules=("$SWARM"/prometheus/rules/*.yml)
shopt -u nullglob
if [ ${#rules[@]} -gt 0 ]; then
    promtool check rules "${rules[@]}" >"$work/rules.out" 2>&1 \
        || { cat "$work/rules.out" >&2; fail "promtool check rules refused swarm/prometheus/rules"; }
    for file in "${rules[@]}"; do
        grep -qF "$file" "$work/check.out" \
            || { cat "$work/check.out" >&2; fail "promtool check config did not check $file"; }
    done
    pass "promtool check config: prometheus.yml with its ${#rules[@]} rules files"
else
    log "swarm/prometheus/rules/ has no *.yml yet (the metrics work writes them): config only"
    pass "promtool check config: prometheus.yml"
fi

amtool check-config "$SWARM/alertmanager/alertmanager.yml" >"$work/am.out" 2>&1 \
    || { cat "$work/am.out" >&2; fail "amtool check-config refused alertmanager.yml"; }
for labels in "severity=critical chain=mainnet" "severity=warning key=api_key_1"; do
    # shellcheck disable=SC2086
    receiver=$(amtool config routes test --config.file="$SWARM/alertmanager/alertmanager.yml" $labels 2>/dev/null)
    [ "$receiver" = operators ] || fail "alerts with $labels go to '$receiver', not to operators"
done
pass "amtool check-config: alertmanager.yml; critical and warning alerts reach operators"

# Broken copies are refused: a scrape job without a name, a route to no receiver.
sed 's/job_name: node-exporter/job_nam: node-exporter/' "$work/prometheus.yml" >"$work/bad-prometheus.yml"
cmp -s "$work/prometheus.yml" "$work/bad-prometheus.yml" && fail "could not break prometheus.yml's copy"
if promtool check config "$work/bad-prometheus.yml" >/dev/null 2>&1; then
    fail "promtool accepted a broken prometheus.yml: this test cannot fail"
fi
sed 's/^  receiver: operators$/  receiver: nobody/' "$SWARM/alertmanager/alertmanager.yml" >"$work/bad-am.yml"
cmp -s "$SWARM/alertmanager/alertmanager.yml" "$work/bad-am.yml" && fail "could not break alertmanager.yml's copy"
if amtool check-config "$work/bad-am.yml" >/dev/null 2>&1; then
    fail "amtool accepted a route to an undeclared receiver: this test cannot fail"
fi
pass "broken copies of both are refused"
