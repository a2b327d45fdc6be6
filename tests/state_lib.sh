#!/usr/bin/env bash
# Helpers of the state watcher tests (0105..0109), sourced after lib.sh: the test contracts
# of tests/contracts (Pair, Lending, Poker, Multicall3) deployed on anvil by cast, traffic
# that touches them in every way the touch rule knows, and the config file that watches
# them.

# anvil's first two accounts (its well-known test keys, not secrets).
STATE_KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
STATE_KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
STATE_USER=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
STATE_MULTICALL=0xca11bde05977b3631167028862be2a173976ca11

# Sends one transaction (cast send ARGS..., anvil mines it at once) and appends
# {"what", "hash", "block"} to $STATE_SENT.
#   state_send WHAT KEY CAST_SEND_ARGS...
state_send() {
    local what=$1 key=$2 receipt
    shift 2
    receipt=$(cast send --rpc-url "$ANVIL_URL" --private-key "$key" --json "$@") \
        || fail "cast send for $what failed"
    jq -c --arg w "$what" --argjson b "$(( $(jq -r .blockNumber <<<"$receipt") ))" \
        '{what: $w, hash: .transactionHash, block: $b, status: .status,
          contract: .contractAddress}' <<<"$receipt" >>"$STATE_SENT"
}

# The address a deployment of $STATE_SENT made.
state_address() { jq -r --arg w "deploy $1" 'select(.what == $w) | .contract' "$STATE_SENT"; }

# Deploys Pair (reserves 1000000, 2000000), Lending and Poker into $1/sent.jsonl, and copies
# their ABIs to $1/abis. Sets PAIR, LENDING, POKER.
state_deploy() {
    local dir=$1 artifacts="$EVMTAP_ROOT/tests/contracts/artifacts" args
    STATE_SENT="$dir/sent.jsonl"
    : >"$STATE_SENT"
    mkdir -p "$dir/abis"
    for name in Pair Lending Poker Multicall3; do
        jq '.abi' "$artifacts/$name.json" >"$dir/abis/$name.json"
    done
    args=$(cast abi-encode "c(uint112,uint112)" 1000000 2000000)
    state_send "deploy Pair" "$STATE_KEY0" --create "$(jq -r .bytecode "$artifacts/Pair.json")${args#0x}"
    state_send "deploy Lending" "$STATE_KEY0" --create "$(jq -r .bytecode "$artifacts/Lending.json")"
    state_send "deploy Poker" "$STATE_KEY0" --create "$(jq -r .bytecode "$artifacts/Poker.json")"
    PAIR=$(state_address Pair)
    LENDING=$(state_address Lending)
    POKER=$(state_address Poker)
    export PAIR LENDING POKER STATE_SENT
}

# Puts Multicall3's runtime code at the canonical address (deployed once elsewhere, then
# copied with anvil_setCode, as the chains that have it got it by one deployment).
state_set_multicall() {
    local artifacts="$EVMTAP_ROOT/tests/contracts/artifacts" receipt address code
    receipt=$(cast send --rpc-url "$ANVIL_URL" --private-key "$STATE_KEY0" --json \
        --create "$(jq -r .bytecode "$artifacts/Multicall3.json")") || fail "deploy Multicall3"
    address=$(jq -r .contractAddress <<<"$receipt")
    code=$(cast code --rpc-url "$ANVIL_URL" "$address")
    rpc "$ANVIL_URL" anvil_setCode "[\"$STATE_MULTICALL\", \"$code\"]" >/dev/null \
        || fail "anvil_setCode at $STATE_MULTICALL"
}

# The traffic, one transaction a block: a swap (to and log), a plain value transfer to the
# pair, a deposit and a borrow on Lending, a poke of Lending from Poker (a log of Lending in
# a transaction to Poker), a transfer between accounts (touches nothing), a swap back.
state_traffic() {
    state_send "swap 1000 0->1" "$STATE_KEY0" "$PAIR" "swap(uint256,bool)" 1000 true
    state_send "value to pair" "$STATE_KEY0" "$PAIR" --value 1ether
    state_send "deposit" "$STATE_KEY1" "$LENDING" "deposit()" --value 10ether
    state_send "borrow" "$STATE_KEY1" "$LENDING" "borrow(uint256)" 3000000000000000000
    state_send "poke via poker" "$STATE_KEY0" "$POKER" "pokeFrom(address,uint256)" "$LENDING" 7
    state_send "unrelated" "$STATE_KEY0" 0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc --value 1
    state_send "swap 500 1->0" "$STATE_KEY0" "$PAIR" "swap(uint256,bool)" 500 false
}

# Writes the config file $1 for anvil at $ANVIL_URL: the pair (touch), the lending pool
# (touch) and, when $2 is given, a watcher of the pair every $2 blocks. Extra chain
# settings come from $STATE_CHAIN_EXTRA (lines).
state_config() {
    local file=$1 every=${2:-} abis
    abis=$(dirname "$STATE_SENT")/abis
    {
        echo "chains"
        echo "    anvil"
        echo "        rpc = \"$ANVIL_URL\""
        echo "        from = 0"
        [ -z "${STATE_CHAIN_EXTRA:-}" ] || printf '%s\n' "$STATE_CHAIN_EXTRA"
        echo "        state"
        echo "            pair"
        echo "                address = $PAIR"
        echo "                abi = $abis/Pair.json"
        echo "                call = getReserves()"
        echo "                call = getAmountOut(1000, true)"
        echo "                call = checkBelow(1000800)"
        echo "            lending"
        echo "                address = $LENDING"
        echo "                abi = Lending.json"
        echo "                call = healthOf($STATE_USER)"
        echo "                call = positionOf($STATE_USER)"
        echo "                call = totalDebt()"
        echo "                trigger = touch"
        if [ -n "$every" ]; then
            echo "            pair_every"
            echo "                address = $PAIR"
            echo "                abi = Pair.json"
            echo "                call = getReserves()"
            echo "                trigger = every $every"
        fi
    } >"$file"
}
