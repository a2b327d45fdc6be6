#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries a binary loads, one per line,
# sorted: the runtime stage of swarm/Dockerfile installs exactly these, so a library added
# to the build (a new pkg-config dependency) needs no edit here.
# Usage: swarm/runtime-packages.sh BINARY
set -euo pipefail
bin="${1:?usage: swarm/runtime-packages.sh BINARY}"
[ -x "$bin" ] || { echo "runtime-packages: $bin is not an executable" >&2; exit 2; }

# Debian 12 merged /lib into /usr/lib, and dpkg knows each file by the path its package
# ships: every spelling of each library (as ldd names it, resolved, with and without /usr)
# is asked in one dpkg-query call, which reads the package database once.
libs="$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')"
[ -n "$libs" ] || { echo "runtime-packages: ldd found no shared library in $bin" >&2; exit 1; }
spellings() {
    local path="$1" real
    real="$(readlink -f "$path")"
    printf '%s\n' "$path" "$real" "/usr${path#/usr}" "/usr${real#/usr}" "${path#/usr}" "${real#/usr}" \
        | sort -u
}
declare -A owner
while read -r lib; do
    mapfile -t candidates < <(spellings "$lib")
    for candidate in "${candidates[@]}"; do owner["$candidate"]=""; done
done <<<"$libs"
while IFS= read -r line; do
    package="${line%%: *}"
    owner["${line#*: }"]="${package%%:*}"
done < <(dpkg-query -S "${!owner[@]}" 2>/dev/null || true)

while read -r lib; do
    found=""
    while read -r candidate; do
        [ -n "${owner[$candidate]}" ] && { found="${owner[$candidate]}"; break; }
    done < <(spellings "$lib")
    [ -n "$found" ] || { echo "runtime-packages: no Debian package owns $lib" >&2; exit 1; }
    printf '%s\n' "$found"
done <<<"$libs" | sort -u
