#!/usr/bin/env bash
# labels: short swarm
# The Kafka Connect connectors of swarm/connect/ agree with evmtap and the stack
# (tests/swarm_check.py connectors): each config is JSON named after its file, names only
# topics docs/topics.md documents, the Scylla sink maps every column of the usage table
# from the record's field of the same name, the S3 sink writes the raw chain topics to the
# bucket minio-init creates, and the secrets they read are mounted in Connect.
# swarm/connect/register.sh, run against a stand-in for Connect's REST API on loopback,
# PUTs each config byte for byte to /connectors/NAME/config, exits 1 naming the connector
# Connect refuses, and exits 1 when Connect never answers.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/swarm_lib.sh"
work=$(tmpdir)

swarm_stack_resolved "$work/stack.yml"
"$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" connectors "$SWARM/connect" \
    "$EVMTAP_ROOT/docs/topics.md" "$SWARM/scylla/evmtap.cql" "$work/stack.yml" \
    || fail "the connectors disagree with the docs or the stack (above)"
pass "both connectors parse and name documented topics, the usage table, the lake's bucket"

mkdir "$work/bad"
jq '.topics += ",mainnet.mined.tx.4.undocumented"' "$SWARM/connect/evmtap-raw-s3.json" \
    >"$work/bad/evmtap-raw-s3.json"
cp "$SWARM/connect/evmtap-usage-scylla.json" "$work/bad/"
if "$SWARM_PYTHON" "$EVMTAP_ROOT/tests/swarm_check.py" connectors "$work/bad" \
        "$EVMTAP_ROOT/docs/topics.md" "$SWARM/scylla/evmtap.cql" "$work/stack.yml" >/dev/null; then
    fail "swarm_check.py accepted an undocumented topic: this test cannot fail"
fi
pass "an undocumented topic is refused"

# connect.py PORT_FILE LOG REFUSE: Connect's REST API as far as register.sh uses it. GET
# /connectors answers [], PUT /connectors/NAME/config records NAME and the body in LOG
# (one JSON line each) and answers 201, or 400 for the connector named REFUSE.
cat >"$work/connect.py" <<'PY'
import http.server
import json
import sys

port_file, log_path, refuse = sys.argv[1:]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, []) if self.path == "/connectors" else self.answer(404, {})

    def do_PUT(self):
        parts = self.path.split("/")
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if len(parts) != 4 or parts[1] != "connectors" or parts[3] != "config":
            return self.answer(404, {"message": "no such path " + self.path})
        with open(log_path, "a") as log:
            log.write(json.dumps({"name": parts[2], "type": self.headers["Content-Type"],
                                  "body": body}) + "\n")
        if parts[2] == refuse:
            return self.answer(400, {"error_code": 400, "message": "refused"})
        self.answer(201, {"name": parts[2], "config": json.loads(body)})

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
PY
start_connect() {
    rm -f "$work/port"
    python3 "$work/connect.py" "$work/port" "$1" "$2" &
    register_pid $!
    wait_for 20 test -s "$work/port" || fail "the Connect stand-in did not start"
    CONNECT_URL="http://127.0.0.1:$(cat "$work/port")"
}

start_connect "$work/puts.log" none
sh "$SWARM/connect/register.sh" "$CONNECT_URL" "$SWARM/connect" 30 >"$work/register.out" \
    || { cat "$work/register.out" >&2; fail "register.sh failed against a Connect that accepts"; }
# check.py LOG DIR: every DIR/*.json was PUT once, byte for byte, as JSON.
cat >"$work/check.py" <<'PY'
import glob
import json
import os
import sys
puts = [json.loads(line) for line in open(sys.argv[1])]
files = sorted(glob.glob(os.path.join(sys.argv[2], "*.json")))
got = sorted((p["name"], p["body"], p["type"]) for p in puts)
want = sorted((os.path.basename(f)[:-5], open(f).read(), "application/json") for f in files)
if got != want:
    sys.exit("PUTs %s, files %s" % ([g[0] for g in got], [w[0] for w in want]))
PY
python3 "$work/check.py" "$work/puts.log" "$SWARM/connect" || fail "register.sh's PUTs (above)"
grep -q 'register: 2 connectors registered' "$work/register.out" \
    || { cat "$work/register.out" >&2; fail "register.sh did not say it registered 2"; }
pass "register.sh PUTs each config byte for byte to /connectors/NAME/config"

start_connect "$work/refused.log" evmtap-usage-scylla
if sh "$SWARM/connect/register.sh" "$CONNECT_URL" "$SWARM/connect" 30 >/dev/null 2>"$work/refused.err"; then
    fail "register.sh exited 0 although Connect refused evmtap-usage-scylla"
fi
grep -q 'Connect refused evmtap-usage-scylla' "$work/refused.err" \
    || { cat "$work/refused.err" >&2; fail "register.sh did not name the refused connector"; }
port=$(free_port)
if sh "$SWARM/connect/register.sh" "http://127.0.0.1:$port" "$SWARM/connect" 0 >/dev/null 2>"$work/down.err"; then
    fail "register.sh exited 0 with no Connect on port $port"
fi
grep -q 'did not answer within 0s' "$work/down.err" \
    || { cat "$work/down.err" >&2; fail "register.sh did not say Connect did not answer"; }
pass "register.sh exits 1 naming a refused connector, and when Connect never answers"
