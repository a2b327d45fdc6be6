#!/usr/bin/env bash
# labels: short swarm
# swarm/Dockerfile builds the way a developer does (no engine runs here, so this reads the
# file): Debian 12, a build stage running the repository's scripts/setup (--no-tools: the
# same apt packages, no npm tools) and `scripts/build release`, whose binary the runtime
# stage takes; the runtime stage installs the packages swarm/runtime-packages.sh finds for
# that binary (run here on the test's binary: it names the packages of evmtap's libraries),
# runs as a non-root user, has `evmtap` as ENTRYPOINT and a HEALTHCHECK probing /metrics
# on the port the stack's evmtap services serve it on. The .dockerignore keeps host builds
# and git out of the context, and leaves what the build needs (CMake configures a copy of
# the context). `scripts/setup --no-tools` installs no npm tool, shown with a
# stand-in dpkg-query and npm. (hadolint is not packaged by Debian 12: not run.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/swarm_lib.sh"
evmtap="${EVMTAP_BIN:?EVMTAP_BIN is set by ctest}"
work=$(tmpdir)
dockerfile="$SWARM/Dockerfile"

# stages.py DOCKERFILE OUTDIR: writes OUTDIR/<n>-<name> with each stage's instructions,
# continuation lines joined, and OUTDIR/args with the ARG lines before the first FROM.
cat >"$work/stages.py" <<'PY'
import os
import re
import sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
stages, current, args = [], None, []
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word = line.split()[0].upper()
    if word == "FROM":
        name = line.split()[-1] if " AS " in line.upper() else str(len(stages))
        current = [line]
        stages.append((name, current))
    elif current is None:
        args.append(line)
    else:
        current.append(line)
for i, (name, lines) in enumerate(stages):
    open(os.path.join(sys.argv[2], "%d-%s" % (i, name)), "w").write("\n".join(lines) + "\n")
open(os.path.join(sys.argv[2], "args"), "w").write("\n".join(args) + "\n")
PY
mkdir "$work/stages"
python3 "$work/stages.py" "$dockerfile" "$work/stages"
build="$work/stages/0-build"
runtime=$(find "$work/stages" -name '[0-9]-*' | sort | tail -n 1)
[ -f "$build" ] || fail "the first stage of $dockerfile is not named build"
[ "$runtime" != "$build" ] || fail "$dockerfile has one stage: no runtime stage"

grep -qE '^ARG DEBIAN_IMAGE=debian:bookworm(-slim)?$' "$work/stages/args" \
    || fail "the base image (ARG DEBIAN_IMAGE) is not Debian 12 (bookworm)"
grep -qx 'FROM ${DEBIAN_IMAGE} AS build' "$build" || fail "the build stage is not FROM \${DEBIAN_IMAGE}"
grep -qE '^FROM \$\{DEBIAN_IMAGE\} AS ' "$runtime" || fail "the runtime stage is not FROM \${DEBIAN_IMAGE}"
pass "two stages, both Debian 12"

# The build stage runs the developer's steps, in order, and nothing instead of them.
grep -qx 'RUN scripts/setup --no-tools' "$build" || fail "the build stage does not RUN scripts/setup --no-tools"
grep -qE '^RUN scripts/build release( |$)' "$build" || fail "the build stage does not RUN scripts/build release"
[ "$(grep -n 'scripts/setup' "$build" | tail -n 1 | cut -d: -f1)" -lt \
  "$(grep -n 'scripts/build release' "$build" | cut -d: -f1)" ] || fail "scripts/build runs before scripts/setup"
if grep -E '^RUN .*(apt-get|cmake|make|gcc|cc )' "$build" | grep -v 'swarm/runtime-packages.sh'; then
    fail "the build stage installs or compiles by itself, not through scripts/setup and scripts/build"
fi
grep -q 'swarm/runtime-packages.sh build/release/evmtap' "$build" \
    || fail "the build stage does not list the runtime packages of build/release/evmtap"
grep -qx 'COPY --from=build /src/build/release/evmtap /usr/local/bin/evmtap' "$runtime" \
    || fail "the runtime stage does not take scripts/build release's binary"
"$EVMTAP_ROOT/scripts/build" --help | grep -q 'release  build/release' \
    || fail "scripts/build release no longer builds build/release"
pass "the build stage runs scripts/setup --no-tools, then scripts/build release"

user=$(grep -E '^USER ' "$runtime" | tail -n 1 | awk '{print $2}')
[ -n "$user" ] || fail "the runtime stage sets no USER"
case "$user" in root|0|0:*|root:*) fail "the runtime stage runs as $user" ;; esac
grep -qE "^RUN useradd .*\\b$user\$" "$runtime" || fail "USER $user is not created by useradd"
grep -qx 'ENTRYPOINT \["evmtap"\]' "$runtime" || fail "the ENTRYPOINT is not [\"evmtap\"]"
health=$(grep -E '^HEALTHCHECK ' "$runtime") || fail "the runtime stage has no HEALTHCHECK"
grep -q '/metrics' <<<"$health" || fail "the HEALTHCHECK does not probe /metrics: $health"
port=$(grep -E '^ENV EVMTAP_METRICS_PORT=' "$runtime" | cut -d= -f2)
[ -n "$port" ] || fail "the runtime stage does not set EVMTAP_METRICS_PORT for the HEALTHCHECK"
grep -q 'EVMTAP_METRICS_PORT' <<<"$health" || fail "the HEALTHCHECK ignores EVMTAP_METRICS_PORT"
swarm_stack_resolved "$work/stack.yml"
"$SWARM_PYTHON" - "$work/stack.yml" "$port" <<'PY' || fail "the stack's --metrics and the HEALTHCHECK disagree"
import sys
import yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
evmtap = {n: s["command"] for n, s in services.items()
          if (s.get("command") or [None])[0] in ("run", "worker")}
for name, command in evmtap.items():
    value = command[command.index("--metrics") + 1] if "--metrics" in command else None
    if value != "0.0.0.0:" + sys.argv[2]:
        sys.exit("service %s: --metrics %s, the HEALTHCHECK probes port %s" % (name, value, sys.argv[2]))
PY
pass "runs as $user, ENTRYPOINT evmtap, HEALTHCHECK on /metrics port $port as the stack serves it"

for pattern in .git build; do
    grep -qx "$pattern" "$EVMTAP_ROOT/.dockerignore" || fail ".dockerignore does not exclude $pattern"
done
# context.py ROOT DOCKERIGNORE OUT: copies into OUT what `docker build` would send from ROOT
# (a path goes when no pattern matches it or a folder above it; `**/` matches any depth).
cat >"$work/context.py" <<'PY'
import fnmatch
import os
import shutil
import sys
root, ignore_file, out = sys.argv[1:]
patterns = [l.strip() for l in open(ignore_file) if l.strip() and not l.startswith("#")]


def ignored(rel):
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for pattern in patterns:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and any(
                    fnmatch.fnmatchcase("/".join(parts[j:i]), pattern[3:]) for j in range(i)):
                return True
    return False


for folder, dirs, files in os.walk(root):
    rel_folder = os.path.relpath(folder, root)
    dirs[:] = [d for d in dirs if not ignored(os.path.normpath(os.path.join(rel_folder, d)))]
    for name in files:
        rel = os.path.normpath(os.path.join(rel_folder, name))
        if not ignored(rel):
            os.makedirs(os.path.join(out, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(root, rel), os.path.join(out, rel))
PY
python3 "$work/context.py" "$EVMTAP_ROOT" "$EVMTAP_ROOT/.dockerignore" "$work/context"
for path in .git build; do
    [ ! -e "$work/context/$path" ] || fail "the build context holds $path"
done
for path in scripts/setup scripts/build swarm/runtime-packages.sh CMakeLists.txt config/costs; do
    [ -e "$work/context/$path" ] || fail "the build context lacks $path (.dockerignore)"
done
cmake -S "$work/context" -B "$work/context/build/release" -DCMAKE_BUILD_TYPE=Release \
    >"$work/cmake.out" 2>&1 || { cat "$work/cmake.out" >&2; fail "CMake cannot configure the build context"; }
pass ".dockerignore keeps .git and build/ out of the context, which CMake configures"

"$SWARM/runtime-packages.sh" "$evmtap" >"$work/packages.txt" 2>"$work/packages.err" \
    || { cat "$work/packages.err" >&2; fail "runtime-packages.sh failed on $evmtap"; }
for package in libczmq4 libzmq5 libcurl4 libcjson1 libnettle8 liblmdb0 libmsgpackc2 librdkafka1 libhiredis0.14; do
    grep -qx "$package" "$work/packages.txt" \
        || { cat "$work/packages.txt" >&2; fail "runtime-packages.sh does not list $package"; }
done
pass "runtime-packages.sh lists the packages of evmtap's libraries ($(wc -l <"$work/packages.txt") packages)"

# scripts/setup --no-tools with every package "installed" (a stand-in dpkg-query) must not
# call npm or node; without --no-tools it does (so the stand-ins see the difference).
mkdir "$work/bin"
cat >"$work/bin/dpkg-query" <<'SH'
#!/bin/sh
printf 'install ok installed'
SH
for tool in npm node; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$tool" "$work/calls.log" >"$work/bin/$tool"
done
chmod +x "$work/bin/"*
PATH="$work/bin:$PATH" EVMTAP_TOOLS="$work/tools" HOME="$work" \
    bash "$EVMTAP_ROOT/scripts/setup" --no-tools >"$work/setup.out" 2>&1 \
    || { cat "$work/setup.out" >&2; fail "scripts/setup --no-tools failed with every package present"; }
[ ! -s "$work/calls.log" ] || fail "scripts/setup --no-tools called: $(cat "$work/calls.log")"
if PATH="$work/bin:$PATH" EVMTAP_TOOLS="$work/tools" HOME="$work" \
        bash "$EVMTAP_ROOT/scripts/setup" >/dev/null 2>&1; then
    fail "scripts/setup succeeded with an npm that fails: the stand-ins prove nothing"
fi
[ -s "$work/calls.log" ] || fail "scripts/setup without --no-tools called neither npm nor node"
pass "scripts/setup --no-tools installs the apt packages only"
