#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries a binary loads, one per line,
# sorted: the runtime stage of swarm/Dockerfile installs exactly these, so a library added
# to the build (a new pkg-config dependency) needs no edit here.
# Usage: swarm/runtime-packages.sh BINARY
set -euo pipefail
bin="${1:?usage: swarm/runtime-packages.sh BINARY}"
[ -x "$bin" ] || { echo "runtime-packages: $bin is not an executable" >&2; exit 2; }

# The package that owns a file; Debian 12 merged /lib into /usr/lib, and dpkg knows each
# file by the path its package ships, so both spellings are asked.
owner() {
    local path="$1" real
    real="$(readlink -f "$path")"
    for candidate in "$path" "$real" "/usr${path#/usr}" "/usr${real#/usr}" "${path#/usr}" "${real#/usr}"; do
        if out="$(dpkg-query -S "$candidate" 2>/dev/null)"; then
            printf '%s\n' "${out%%: *}" | cut -d: -f1 | head -n 1
            return 0
        fi
    done
    echo "runtime-packages: no Debian package owns $path" >&2
    return 1
}

libs="$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')"
[ -n "$libs" ] || { echo "runtime-packages: ldd found no shared library in $bin" >&2; exit 1; }
while read -r lib; do
    owner "$lib"
done <<<"$libs" | sort -u
