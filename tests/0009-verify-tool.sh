#!/usr/bin/env bash
# labels: tool
# Test of the test tool: tests/verify.py must pass on a correct files sink and fail, with
# the right message, on each kind of damage. The "correct" sink is written here by a tiny
# writer of its own (not verify.py's conversion) from real anvil blocks made by
# tests/traffic.py; the blocks straddle a UTC midnight so that two day files exist.
set -euo pipefail
# shellcheck source=tests/lib.sh disable=SC1091
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"

work=$(tmpdir)
port=$(free_port)
midnight=$(( ($(date +%s) / 86400 + 1) * 86400 ))
start_anvil "$port" --no-mining --timestamp $((midnight - 1000))

# Blocks 1..3 before midnight, 4..6 after.
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 3 --txs-per-block 12 \
    --seed 11 --mine --out "$work/sent1.jsonl" 2>/dev/null || fail "traffic (part 1) failed"
rpc "$ANVIL_URL" evm_setNextBlockTimestamp "[$((midnight + 5))]" >/dev/null
python3 "$EVMTAP_ROOT/tests/traffic.py" --rpc "$ANVIL_URL" --blocks 3 --txs-per-block 12 \
    --seed 12 --mine --out "$work/sent2.jsonl" 2>/dev/null || fail "traffic (part 2) failed"
cat "$work/sent1.jsonl" "$work/sent2.jsonl" > "$work/sent.jsonl"
last=$(printf '%d' "$(rpc "$ANVIL_URL" eth_blockNumber)")
[ "$last" -eq 6 ] || fail "expected 6 blocks, anvil has $last"

# The fixture writer: DESIGN's JSON rules written out independently of verify.py.
python3 - "$ANVIL_URL" "$work/good" 1 "$last" <<'EOF'
import json, os, sys, urllib.request, datetime
url, out, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def call(method, *params):
    req = urllib.request.Request(url, data=json.dumps({"jsonrpc": "2.0", "id": 1,
        "method": method, "params": list(params)}).encode(), headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())["result"]
chain = int(call("eth_chainId"), 16)
NUM = "number blockNumber timestamp blockTimestamp transactionIndex gas gasLimit gasUsed size type blobGasUsed excessBlobGas".split()
DEC = "value gasPrice maxFeePerGas maxPriorityFeePerGas baseFeePerGas difficulty totalDifficulty".split()
def conv(k, v, block):
    if v is None: return None
    if k == "nonce": return v if block else int(v, 16)
    if k in NUM or k == "chainId": return int(v, 16)
    if k in DEC: return str(int(v, 16))
    return low(v)
def low(v):  # lowercase hex strings, also inside accessList and withdrawals (not the keys)
    if isinstance(v, str): return v.lower()
    if isinstance(v, list): return [low(x) for x in v]
    if isinstance(v, dict): return {k: low(x) for k, x in v.items()}
    return v
def put(topic, day, rec):
    d = os.path.join(out, "anvil." + topic)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, day + ".ndjson"), "a") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
for n in range(first, last + 1):
    b = call("eth_getBlockByNumber", hex(n), True)
    day = datetime.datetime.utcfromtimestamp(int(b["timestamp"], 16)).strftime("%Y-%m-%d")
    meta = {k: conv(k, v, True) for k, v in b.items() if k != "transactions"}
    meta["transactions"] = [t["hash"] for t in b["transactions"]]
    meta["chainId"] = chain
    meta["verified"] = "header"  # no receipts in this fixture: header and transactions proven
    put("mined.blocks.metadata", day, meta)
    for t in b["transactions"]:
        rec = {k: conv(k, v, False) for k, v in t.items()}
        rec.setdefault("type", 0); rec.setdefault("to", None); rec["chainId"] = chain
        put("mined.txs.hash.ids", day, {"hash": rec["hash"], "blockNumber": n,
                                        "blockHash": b["hash"], "chainId": chain})
        topic = ("mined.tx.2.contract_deployment" if rec["to"] is None else
                 "mined.tx.1.native_token_transfer" if rec["input"] == "0x" else
                 "mined.tx.3.contract_interaction")
        put(topic, day, rec)
EOF
ndays=$(find "$work/good/anvil.mined.blocks.metadata" -name "*.ndjson" | wc -l)
[ "$ndays" -eq 2 ] || fail "fixture should span 2 UTC days, spans $ndays"

verify() { python3 "$EVMTAP_ROOT/tests/verify.py" --rpc "$ANVIL_URL" --chain anvil "$@"; }

out=$(verify --topics "$work/good" --from 1 --to "$last" --sent "$work/sent.jsonl") \
    || { echo "$out"; fail "verify rejects the correct fixture"; }
pass "correct fixture: ${out//$'\n'/ | }"

# Each damage: NAME EXPECTED-MESSAGE PYTHON-MUTATION [extra verify args]. The mutation runs
# with `d` = a copy of the fixture, `files(topic)` = its day files, `lines(f)`/`write(f, l)`.
n_damage=0
damage() {
    local name=$1 expect=$2 code=$3
    shift 3
    local d="$work/bad-$n_damage"
    n_damage=$((n_damage + 1))
    cp -r "$work/good" "$d"
    cp "$work/sent.jsonl" "$d.sent"
    python3 - "$d" <<EOF || fail "$name: mutation failed"
import json, os, sys, glob
d = sys.argv[1]
sent = d + ".sent"
def files(topic): return sorted(glob.glob(os.path.join(d, "anvil." + topic, "*.ndjson")))
def lines(f): return open(f).read().splitlines(True)
def write(f, ls): open(f, "w").write("".join(ls))
def edit(topic, fn, index=0):
    f = files(topic)[0]; ls = lines(f); r = json.loads(ls[index]); fn(r)
    ls[index] = json.dumps(r) + "\n"; write(f, ls)
def first(topic, pred):
    for f in files(topic):
        for i, l in enumerate(lines(f)):
            if pred(json.loads(l)): return f, i
    raise SystemExit("no record matches in " + topic)
$code
EOF
    local out rc=0
    out=$(verify --topics "$d" "$@" 2>&1) || rc=$?
    if [ "$rc" -ne 1 ]; then
        echo "$out"
        fail "$name: verify exited $rc, expected 1"
    fi
    if ! grep -qF -- "$expect" <<<"$out"; then
        echo "$out"
        fail "$name: verify did not say '$expect'"
    fi
    pass "$name -> $(grep -F -m1 -- "$expect" <<<"$out" | sed 's/^ *//' | cut -c1-150)"
}

T1=mined.tx.1.native_token_transfer
T2=mined.tx.2.contract_deployment
T3=mined.tx.3.contract_interaction
B=mined.blocks.metadata
H=mined.txs.hash.ids
R=(--from 1 --to "$last")

damage "deleted tx record" "is in none of the tx topics" \
    "f = files('$T3')[0]; ls = lines(f); write(f, ls[1:])" "${R[@]}"
damage "duplicated block" "again (first at" \
    "f = files('$B')[0]; ls = lines(f); write(f, ls + ls[:1])" "${R[@]}"
damage "duplicated tx in another topic" "again (first at" \
    "f = files('$T1')[0]; g = files('$T3')[0]; write(g, lines(g) + lines(f)[:1])" "${R[@]}"
damage "altered value" "field value is" \
    "edit('$T1', lambda r: r.update(value=str(int(r['value']) + 1)))" "${R[@]}"
damage "value as a number" "value must be a decimal string" \
    "edit('$T1', lambda r: r.update(value=int(r['value'])))" "${R[@]}"
damage "gas as a string" "gas must be a JSON integer" \
    "edit('$T3', lambda r: r.update(gas=str(r['gas'])))" "${R[@]}"
damage "nonce as hex" "nonce must be a JSON integer" \
    "edit('$T3', lambda r: r.update(nonce=hex(r['nonce'])))" "${R[@]}"
damage "uppercase address" "from must be lowercase" \
    "edit('$T3', lambda r: r.update({'from': '0x' + r['from'][2:].upper()}))" "${R[@]}"
damage "missing chainId" "lacks chainId" \
    "edit('$T1', lambda r: r.pop('chainId'))" "${R[@]}"
damage "wrong chainId" "field chainId is" \
    "edit('$T2', lambda r: r.update(chainId=1))" "${R[@]}"
damage "deployment without to" "lacks to" \
    "edit('$T2', lambda r: r.pop('to'))" "${R[@]}"
damage "extra field" "fields the node does not: decoded" \
    "edit('$T3', lambda r: r.update(decoded=True))" "${R[@]}"
damage "tx in the wrong topic" "the classifier says" \
    "f = files('$T1')[0]; ls = lines(f); write(f, ls[1:]); g = files('$T3')[0]; write(g, lines(g) + ls[:1])" "${R[@]}"
damage "deployment as interaction" "the classifier says anvil.$T2" \
    "f = files('$T2')[0]; ls = lines(f); write(f, ls[1:]); g = files('$T3')[0]; write(g, lines(g) + ls[:1])" "${R[@]}"
damage "tx in the wrong day file" "in day file" \
    "fs = files('$T1'); a, b = lines(fs[0]), lines(fs[1]); write(fs[0], a[1:]); write(fs[1], b + a[:1])" "${R[@]}"
damage "block in the wrong day file" "in day file" \
    "fs = files('$B'); a, b = lines(fs[0]), lines(fs[1]); write(fs[0], a[:-1]); write(fs[1], a[-1:] + b)" "${R[@]}"
damage "missing block" "block 2 is missing" \
    "f, i = first('$B', lambda r: r['number'] == 2); ls = lines(f); del ls[i]; write(f, ls)" "${R[@]}"
damage "block hash altered" "field hash is" \
    "edit('$B', lambda r: r.update(hash='0x' + '11' * 32))" "${R[@]}"
damage "block nonce as a number" "field nonce is" \
    "edit('$B', lambda r: r.update(nonce=0))" "${R[@]}"
damage "hash id without blockHash" "lacks blockHash" \
    "edit('$H', lambda r: r.pop('blockHash'))" "${R[@]}"
damage "hash id of another block's hash" "field blockHash is" \
    "edit('$H', lambda r: r.update(blockHash='0x' + '11' * 32))" "${R[@]}"
damage "tx without blockHash" "lacks blockHash" \
    "edit('$T1', lambda r: r.pop('blockHash'))" "${R[@]}"
damage "tx of another block's hash" "field blockHash is" \
    "edit('$T3', lambda r: r.update(blockHash='0x' + '11' * 32))" "${R[@]}"
# The decoder's records: one of each, made from a real interaction, names another hash, none,
# or another block.
for topic in "$T3.decoded" mined.logs.decoded mined.token_transfers; do
    damage "$topic of another block's hash" "field blockHash is" \
        "f = files('$T3')[0]; r = json.loads(lines(f)[0]); os.makedirs(os.path.join(d, 'anvil.$topic')); write(os.path.join(d, 'anvil.$topic', os.path.basename(f)), [json.dumps({'hash': r['hash'], 'blockNumber': r['blockNumber'], 'blockHash': '0x' + '11' * 32, 'chainId': r['chainId']}) + '\\n'])" "${R[@]}"
    damage "$topic without blockHash" "lacks blockHash" \
        "f = files('$T3')[0]; r = json.loads(lines(f)[0]); os.makedirs(os.path.join(d, 'anvil.$topic')); write(os.path.join(d, 'anvil.$topic', os.path.basename(f)), [json.dumps({'hash': r['hash'], 'blockNumber': r['blockNumber'], 'chainId': r['chainId']}) + '\\n'])" "${R[@]}"
    damage "$topic of another block" "is not a transaction of block" \
        "f = files('$T3')[0]; r = json.loads(lines(f)[0]); n = r['blockNumber'] % $last + 1; b = json.loads(next(l for g in files('$B') for l in lines(g) if json.loads(l)['number'] == n)); os.makedirs(os.path.join(d, 'anvil.$topic')); write(os.path.join(d, 'anvil.$topic', os.path.basename(f)), [json.dumps({'hash': r['hash'], 'blockNumber': n, 'blockHash': b['hash'], 'chainId': r['chainId']}) + '\\n'])" "${R[@]}"
done
damage "missing hash id" "is missing from anvil.$H" \
    "f = files('$H')[0]; ls = lines(f); write(f, ls[:-1])" "${R[@]}"
damage "unknown tx" "is not a transaction of blocks" \
    "edit('$T1', lambda r: r.update(hash='0x' + 'ab' * 32))" "${R[@]}"
damage "block outside the range" "is outside 1..$((last - 1))" \
    "pass" --from 1 --to $((last - 1))
damage "partial last line" "does not end with a newline" \
    "f = files('$T3')[-1]; open(f, 'a').write('{\"hash\": \"0x')" "${R[@]}"
damage "stray file" "not a <YYYY-MM-DD>.ndjson file" \
    "open(os.path.join(d, 'anvil.$T1', 'tmp.ndjson.part'), 'w').write('')" "${R[@]}"
damage "sent with another intent" "was meant as contract_interaction" \
    "ls = [json.loads(l) for l in open(sent)]; x = next(s for s in ls if s['kind'] == 'native_token_transfer'); x['kind'] = 'contract_interaction'; open(sent, 'w').write(''.join(json.dumps(s) + '\n' for s in ls))" \
    "${R[@]}" --sent "$work/bad-$n_damage.sent"
damage "empty sink" "block 1 is missing" \
    "import shutil; [shutil.rmtree(p) for p in glob.glob(os.path.join(d, 'anvil.*'))]" "${R[@]}"

pass "verify.py: 1 correct fixture accepted, $n_damage damaged ones rejected"
