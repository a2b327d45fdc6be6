#!/usr/bin/env bash
# The layers of the build (util <- proto <- fetch, decode, keys, sink <- actors <- app) are
# kept by the compiler: a header of a higher or a sibling layer is not on a lower layer's
# include path. For each pair CMakeLists.txt lists (layers/probes.txt: LAYER ok|up HEADER),
# this compiles probe.c including HEADER with LAYER's include path (layers/LAYER.include):
# an "ok" pair must compile, an "up" pair must fail with "No such file".
# Usage: check.sh BUILD_DIR/layers CC
set -uo pipefail
dir=${1:?usage: check.sh BUILD_DIR/layers CC}
cc=${2:?usage: check.sh BUILD_DIR/layers CC}
probe="$(dirname "$0")/probe.c"
[ -s "$dir/probes.txt" ] || { echo "layers: $dir/probes.txt missing (configure the build)" >&2; exit 1; }
bad=0
checked=0
while read -r layer kind header; do
    [ -n "$layer" ] || continue
    checked=$((checked + 1))
    includes=()
    while read -r path; do
        [ -n "$path" ] && includes+=("-I$path")
    done <"$dir/$layer.include"
    log=$("$cc" -std=c11 -fsyntax-only "${includes[@]}" -DPROBE_HEADER="\"$header\"" "$probe" 2>&1)
    rc=$?
    if [ "$kind" = ok ] && [ "$rc" -ne 0 ]; then
        echo "layers: $layer cannot include $header, which it may use:" >&2
        echo "$log" | tail -n 5 >&2
        bad=$((bad + 1))
    elif [ "$kind" = up ] && { [ "$rc" -eq 0 ] || ! grep -q "$header: No such file" <<<"$log"; }; then
        echo "layers: $layer can include $header, a header of a layer above or beside it" >&2
        bad=$((bad + 1))
    fi
done <"$dir/probes.txt"
echo "layers: $checked includes probed, $bad wrong"
[ "$bad" -eq 0 ] && [ "$checked" -gt 0 ]
