#!/bin/sh
# Registers every connector of a folder with Kafka Connect's REST API: each NAME.json (a
# connector's config, whose "name" is NAME) is PUT to /connectors/NAME/config, which creates
# the connector or updates it in place, so running this again after an edit is safe. Waits
# for Connect to answer first (up to --wait seconds; Connect takes a while to start).
# Usage: register.sh [CONNECT_URL] [DIR] [WAIT_SECONDS]
#   defaults: http://connect:8083, this script's folder, 300
# The stack's connect-register service runs it; by hand, from a host that reaches Connect:
#   swarm/connect/register.sh http://127.0.0.1:8083
set -eu
url="${1:-http://connect:8083}"
dir="${2:-$(dirname "$0")}"
wait_seconds="${3:-300}"

waited=0
until curl -fsS -o /dev/null "$url/connectors"; do
    if [ "$waited" -ge "$wait_seconds" ]; then
        echo "register: Connect at $url did not answer within ${wait_seconds}s" >&2
        exit 1
    fi
    sleep 5
    waited=$((waited + 5))
done

count=0
for file in "$dir"/*.json; do
    [ -f "$file" ] || continue
    name="$(basename "$file" .json)"
    if ! answer="$(curl -fsS -X PUT -H 'Content-Type: application/json' \
                       --data-binary "@$file" "$url/connectors/$name/config")"; then
        echo "register: Connect refused $name ($file)" >&2
        exit 1
    fi
    echo "register: $name: ${answer%%,*}..."
    count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "register: no connector config (*.json) in $dir" >&2; exit 1; }
echo "register: $count connectors registered with $url"
