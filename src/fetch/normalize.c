/*  normalize: turns JSON-RPC block and transaction objects into evmtap's JSON fields
    (DESIGN "JSON fields"). Each object is walked once, in the node's order; a field's
    rule comes from s_rule (a switch on the first letter), and every record is written
    by one reused jsonw writer. Fields the node leaves out that every record carries
    (`to`, `chainId`, `type`) go at the end. A field that a record needs, or that has a
    known form and does not have it, makes the whole block an error naming the field:
    the fetch is retried rather than half-published. */
#include "evmtap.h"
#include <cjson/cJSON.h>
#include "normalize_rule.h"
#include "normalize.h"
#include "block.h"
#include "hexutil.h"
#include "jsonw.h"

#define BIT(field) (1u << (field))


//  Lengths of "0x" hashes and addresses, without the NUL.

//  What a failed field said, for the error text.
typedef struct {
    const char *field;    //  a name from s_rule (so a safe constant), or NULL
    const char *why;
} failure_t;

//  The rule for a field name (see normalize_rule.h); static, so the hot paths inline it.
static rule_t
s_rule (const char *key)
{
// clang-format off
#define RULE(name, kind, field) \
    if (strcmp (key, name) == 0) return (rule_t) {kind, field}
    // clang-format on
    switch (key [0]) {
        case 'a':
            RULE ("address", KIND_HEX, FIELD_OTHER);
            break;
        case 'b':
            RULE ("blockNumber", KIND_NUMBER, FIELD_BLOCK_NUMBER);
            RULE ("blockHash", KIND_HEX, FIELD_BLOCK_HASH);
            RULE ("blockTimestamp", KIND_NUMBER, FIELD_OTHER);
            RULE ("baseFeePerGas", KIND_DECIMAL, FIELD_OTHER);
            RULE ("blobGasUsed", KIND_NUMBER, FIELD_OTHER);
            RULE ("blobGasPrice", KIND_DECIMAL, FIELD_OTHER);
            break;
        case 'c':
            RULE ("chainId", KIND_NUMBER, FIELD_CHAIN_ID);
            RULE ("cumulativeGasUsed", KIND_NUMBER, FIELD_OTHER);
            RULE ("contractAddress", KIND_HEX, FIELD_OTHER);
            break;
        case 'd':
            RULE ("data", KIND_HEX, FIELD_OTHER);
            RULE ("difficulty", KIND_DECIMAL, FIELD_OTHER);
            break;
        case 'e':
            RULE ("effectiveGasPrice", KIND_DECIMAL, FIELD_OTHER);
            RULE ("excessBlobGas", KIND_NUMBER, FIELD_OTHER);
            RULE ("extraData", KIND_HEX, FIELD_OTHER);
            break;
        case 'f':
            RULE ("from", KIND_HEX, FIELD_FROM);
            break;
        case 'g':
            RULE ("gas", KIND_NUMBER, FIELD_OTHER);
            RULE ("gasPrice", KIND_DECIMAL, FIELD_OTHER);
            RULE ("gasLimit", KIND_NUMBER, FIELD_OTHER);
            RULE ("gasUsed", KIND_NUMBER, FIELD_OTHER);
            break;
        case 'h':
            RULE ("hash", KIND_HEX, FIELD_HASH);
            break;
        case 'i':
            RULE ("input", KIND_HEX, FIELD_INPUT);
            break;
        case 'l':
            RULE ("logIndex", KIND_NUMBER, FIELD_OTHER);
            RULE ("logsBloom", KIND_HEX, FIELD_OTHER);
            //  OP-stack receipt fees
            RULE ("l1Fee", KIND_DECIMAL, FIELD_OTHER);
            RULE ("l1GasPrice", KIND_DECIMAL, FIELD_OTHER);
            RULE ("l1GasUsed", KIND_DECIMAL, FIELD_OTHER);
            RULE ("l1BlobBaseFee", KIND_DECIMAL, FIELD_OTHER);
            break;
        case 'm':
            RULE ("maxFeePerGas", KIND_DECIMAL, FIELD_OTHER);
            RULE ("maxPriorityFeePerGas", KIND_DECIMAL, FIELD_OTHER);
            RULE ("maxFeePerBlobGas", KIND_DECIMAL, FIELD_OTHER);
            RULE ("miner", KIND_HEX, FIELD_OTHER);
            RULE ("mixHash", KIND_HEX, FIELD_OTHER);
            RULE ("mint", KIND_DECIMAL, FIELD_OTHER);    //  OP-stack deposits
            break;
        case 'n':
            RULE ("nonce", KIND_NUMBER, FIELD_NONCE);
            RULE ("number", KIND_NUMBER, FIELD_NUMBER);
            break;
        case 'p':
            RULE ("parentHash", KIND_HEX, FIELD_PARENT_HASH);
            RULE ("parentBeaconBlockRoot", KIND_HEX, FIELD_OTHER);
            break;
        case 'r':
            RULE ("r", KIND_HEX, FIELD_OTHER);
            RULE ("receiptsRoot", KIND_HEX, FIELD_OTHER);
            RULE ("requestsHash", KIND_HEX, FIELD_OTHER);
            RULE ("root", KIND_HEX, FIELD_OTHER);
            break;
        case 's':
            RULE ("s", KIND_HEX, FIELD_OTHER);
            RULE ("size", KIND_NUMBER, FIELD_OTHER);
            RULE ("status", KIND_NUMBER, FIELD_OTHER);
            RULE ("stateRoot", KIND_HEX, FIELD_OTHER);
            RULE ("sha3Uncles", KIND_HEX, FIELD_OTHER);
            break;
        case 't':
            RULE ("to", KIND_HEX, FIELD_TO);
            RULE ("type", KIND_NUMBER, FIELD_TYPE);
            RULE ("timestamp", KIND_NUMBER, FIELD_TIMESTAMP);
            RULE ("transactionIndex", KIND_NUMBER, FIELD_OTHER);
            RULE ("transactions", KIND_PASS, FIELD_TRANSACTIONS);
            RULE ("transactionHash", KIND_HEX, FIELD_OTHER);
            RULE ("transactionsRoot", KIND_HEX, FIELD_OTHER);
            RULE ("transactionCount", KIND_NUMBER, FIELD_TRANSACTION_COUNT);
            RULE ("totalDifficulty", KIND_DECIMAL, FIELD_OTHER);
            break;
        case 'v':
            RULE ("value", KIND_DECIMAL, FIELD_OTHER);
            RULE ("v", KIND_HEX, FIELD_OTHER);
            break;
        case 'w':
            RULE ("withdrawalsRoot", KIND_HEX, FIELD_OTHER);
            break;
        case 'y':
            RULE ("yParity", KIND_HEX, FIELD_OTHER);
            break;
        default:
            break;
    }
#undef RULE
    return (rule_t) {KIND_PASS, FIELD_OTHER};
}

rule_t
normalize_rule (const char *key)
{
    return s_rule (key);
}

//  Reads a 53-bit quantity. Returns 0, or -1 with the reason.
static int
s_read_number (const cJSON *item, uint64_t *value, const char **why)
{
    if (!cJSON_IsString (item) || !item->valuestring) {
        *why = cJSON_IsNull (item) ? "is null" : "is not a hex string";
        return -1;
    }
    if (hex_to_u64 (item->valuestring, value) || *value > HEX_NUMBER_MAX) {
        *why = "is not a hex quantity of at most 53 bits";
        return -1;
    }
    return 0;
}

//  Checks that item is a 0x hex string of exactly len characters (a hash or an
//  address) and copies it into out (len + 1 bytes), lower-cased. Returns 0, or -1
//  with the reason.
static int
s_read_fixed_hex (const cJSON *item, size_t len, char *out, const char **why)
{
    if (!cJSON_IsString (item) || !item->valuestring) {
        *why = cJSON_IsNull (item) ? "is null" : "is not a hex string";
        return -1;
    }
    if (strlen (item->valuestring) != len || !hex_is_valid (item->valuestring)) {
        *why = len == HEX_HASH_LEN ? "is not a 32-byte hex hash" : "is not a 20-byte hex address";
        return -1;
    }
    hex_lower (item->valuestring, out);
    return 0;
}

//  The same, writing the value (its key is written) in the one pass that checks and
//  lower-cases it, then copying it from the writer into out.
static int
s_write_fixed_hex (jsonw_t *writer, const cJSON *item, size_t len, char *out, const char **why)
{
    if (!cJSON_IsString (item) || !item->valuestring) {
        *why = cJSON_IsNull (item) ? "is null" : "is not a hex string";
        return -1;
    }
    if (strlen (item->valuestring) != len || jsonw_hex (writer, item->valuestring, len)) {
        *why = len == HEX_HASH_LEN ? "is not a 32-byte hex hash" : "is not a 20-byte hex address";
        return -1;
    }
    //  The document now ends with the lower-cased string and its closing quote.
    memcpy (out, jsonw_data (writer) + jsonw_size (writer) - len - 1, len);
    out [len] = 0;
    return 0;
}

//  Writes the value of item by its kind (the key is written). Null stays null for
//  optional fields; the callers check fields that may not be null.
static int
s_write_value (jsonw_t *writer, kind_t kind, const cJSON *item, const char **why)
{
    if (kind == KIND_PASS) {
        if (cJSON_IsString (item) && item->valuestring)
            jsonw_string_lowerhex (writer, item->valuestring, strlen (item->valuestring));
        else
            jsonw_cjson_lowerhex (writer, item);
        return 0;
    }
    if (cJSON_IsNull (item)) {
        jsonw_null (writer);
        return 0;
    }
    if (!cJSON_IsString (item) || !item->valuestring) {
        *why = "is not a hex string";
        return -1;
    }
    const char *text = item->valuestring;
    if (kind == KIND_NUMBER) {
        uint64_t value;
        if (hex_to_u64 (text, &value) || value > HEX_NUMBER_MAX) {
            *why = "is not a hex quantity of at most 53 bits";
            return -1;
        }
        jsonw_u64 (writer, value);
    }
    else if (kind == KIND_DECIMAL) {
        char decimal [HEX_DECIMAL_MAX];
        if (hex_to_decimal (text, decimal, sizeof decimal)) {
            *why = "is not a hex quantity of at most 256 bits";
            return -1;
        }
        jsonw_string_len (writer, decimal, strlen (decimal));
    }
    else if (jsonw_hex (writer, text, strlen (text))) {
        *why = "is not 0x hex";
        return -1;
    }
    return 0;
}

int
normalize_value (jsonw_t *writer, const char *key, const cJSON *item, const char **why)
{
    return s_write_value (writer, s_rule (key).kind, item, why);
}

//  What a transaction said about its block, for the block's consistency check.
typedef struct {
    uint64_t block_number;
    char block_hash [BLOCK_HASH_SIZE];    //  "" when the node left it out or null
} tx_block_t;

//  Whether a member named key follows child in its object.
static bool
s_member_follows (const cJSON *child, const char *key)
{
    for (child = child->next; child; child = child->next)
        if (child->string && streq (child->string, key))
            return true;
    return false;
}

//  Normalizes one transaction object into out; the record's JSON is left in writer's
//  document (the caller copies it). With block_hash (the transaction came with its block),
//  a blockHash the node left out goes right after blockNumber, and a null one is replaced,
//  so that every record names its block. Returns 0, or -1 with the failure.
static int
s_write_tx (const cJSON *tx, uint64_t chain_id, const char *block_hash, jsonw_t *writer,
            block_tx_t *out, tx_block_t *block, failure_t *failure)
{
    memset (out, 0, sizeof *out);
    memset (block, 0, sizeof *block);
    if (!cJSON_IsObject (tx)) {
        failure->why = "is not an object";
        return -1;
    }
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    uint32_t seen = 0;
    for (const cJSON *child = tx->child; child; child = child->next) {
        const char *key = child->string;
        if (!key)
            continue;
        rule_t rule = s_rule (key);
        if (rule.field != FIELD_OTHER) {
            failure->field = key;
            if (seen & BIT (rule.field)) {
                failure->why = "appears twice";
                return -1;
            }
            seen |= BIT (rule.field);
            //  A null chainId or type (old Parity answers) counts as left out.
            if ((rule.field == FIELD_CHAIN_ID || rule.field == FIELD_TYPE)
                && cJSON_IsNull (child)) {
                seen &= ~BIT (rule.field);
                continue;
            }
        }
        jsonw_key (writer, key);
        switch (rule.field) {
            case FIELD_HASH:
                if (s_write_fixed_hex (writer, child, HEX_HASH_LEN, out->hash, &failure->why))
                    return -1;
                continue;
            case FIELD_FROM:
                if (s_write_fixed_hex (writer, child, HEX_ADDRESS_LEN, out->from, &failure->why))
                    return -1;
                continue;
            case FIELD_TO:
                if (cJSON_IsNull (child)) {
                    jsonw_null (writer);
                    continue;
                }
                if (s_write_fixed_hex (writer, child, HEX_ADDRESS_LEN, out->to, &failure->why))
                    return -1;
                continue;
            case FIELD_INPUT:
                if (!cJSON_IsString (child)) {
                    failure->why = cJSON_IsNull (child) ? "is null" : "is not a hex string";
                    return -1;
                }
                out->input_empty = strlen (child->valuestring) == 2;
                break;
            case FIELD_BLOCK_NUMBER:
                if (s_read_number (child, &block->block_number, &failure->why))
                    return -1;
                jsonw_u64 (writer, block->block_number);
                if (block_hash && !(seen & BIT (FIELD_BLOCK_HASH))
                    && !s_member_follows (child, "blockHash")) {
                    jsonw_key (writer, "blockHash");
                    jsonw_string (writer, block_hash);
                }
                continue;
            case FIELD_BLOCK_HASH:
                if (cJSON_IsNull (child) && block_hash) {
                    jsonw_string (writer, block_hash);
                    continue;
                }
                if (cJSON_IsNull (child))
                    break;
                if (s_write_fixed_hex (writer, child, HEX_HASH_LEN, block->block_hash,
                                       &failure->why))
                    return -1;
                continue;
            default:
                break;
        }
        if (s_write_value (writer, rule.kind, child, &failure->why)) {
            failure->field = key;
            return -1;
        }
    }
    static const field_t required [] = {FIELD_HASH, FIELD_FROM, FIELD_INPUT, FIELD_BLOCK_NUMBER};
    static const char *required_names [] = {"hash", "from", "input", "blockNumber"};
    for (size_t index = 0; index < sizeof required / sizeof required [0]; index++)
        if (!(seen & BIT (required [index]))) {
            failure->field = required_names [index];
            failure->why = "is missing";
            return -1;
        }
    if (!(seen & BIT (FIELD_TO))) {
        jsonw_key (writer, "to");
        jsonw_null (writer);
    }
    if (!(seen & BIT (FIELD_CHAIN_ID))) {
        jsonw_key (writer, "chainId");
        jsonw_u64 (writer, chain_id);
    }
    if (!(seen & BIT (FIELD_TYPE))) {
        jsonw_key (writer, "type");
        jsonw_u64 (writer, 0);
    }
    jsonw_object_end (writer);
    return 0;
}

//  Names a transaction in an error: its position in the block when known, and its
//  hash when the node gave a well-formed one.
static void
s_tx_error (const cJSON *tx, const block_header_t *header, long index, const failure_t *failure,
            char *err, size_t err_size)
{
    if (!err || err_size == 0)
        return;
    char hash [BLOCK_HASH_SIZE] = "";
    const cJSON *hash_item = cJSON_IsObject (tx) ? cJSON_GetObjectItemCaseSensitive (tx, "hash")
                                                 : NULL;
    if (cJSON_IsString (hash_item) && hash_item->valuestring
        && strlen (hash_item->valuestring) == HEX_HASH_LEN && hex_is_valid (hash_item->valuestring))
        hex_lower (hash_item->valuestring, hash);
    char where [96] = "";
    if (header)
        snprintf (where, sizeof where, "block %" PRIu64 " tx %ld", header->number, index);
    else
        snprintf (where, sizeof where, "tx");
    snprintf (err, err_size, "%s%s%s: %s%s%s%s", where, *hash ? " " : "", hash,
              failure->field ? "field '" : "", failure->field ? failure->field : "",
              failure->field ? "' " : "", failure->why ? failure->why : "is malformed");
}

int
normalize_tx (const cJSON *tx, uint64_t chain_id, jsonw_t *writer, block_tx_t *out, char *err,
              size_t err_size)
{
    assert (writer);
    assert (out);
    tx_block_t block;
    failure_t failure = {NULL, NULL};
    if (s_write_tx (tx, chain_id, NULL, writer, out, &block, &failure)) {
        s_tx_error (tx, NULL, -1, &failure, err, err_size);
        jsonw_reset (writer);
        return -1;
    }
    out->json_len = jsonw_size (writer);
    out->json = jsonw_strdup (writer);
    return 0;
}

//  Writes the block metadata (the block without its transactions, plus chainId and
//  transactionCount) and fills header. Returns the transactions array, or NULL with
//  the failure.
static const cJSON *
s_write_block_meta (const cJSON *block, uint64_t chain_id, jsonw_t *writer, block_header_t *header,
                    failure_t *failure)
{
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    uint32_t seen = 0;
    const cJSON *transactions = NULL;
    for (const cJSON *child = block->child; child; child = child->next) {
        const char *key = child->string;
        if (!key)
            continue;
        rule_t rule = s_rule (key);
        if (rule.field != FIELD_OTHER) {
            failure->field = key;
            if (seen & BIT (rule.field)) {
                failure->why = "appears twice";
                return NULL;
            }
            seen |= BIT (rule.field);
        }
        switch (rule.field) {
            case FIELD_TRANSACTIONS:
                transactions = child;
                continue;
            case FIELD_CHAIN_ID:
            case FIELD_TRANSACTION_COUNT:
                //  Written by us at the end: the chain's id and the real count.
                continue;
            default:
                break;
        }
        jsonw_key (writer, key);
        switch (rule.field) {
            case FIELD_NUMBER:
                if (s_read_number (child, &header->number, &failure->why))
                    return NULL;
                jsonw_u64 (writer, header->number);
                continue;
            case FIELD_TIMESTAMP:
                if (s_read_number (child, &header->timestamp, &failure->why))
                    return NULL;
                jsonw_u64 (writer, header->timestamp);
                continue;
            case FIELD_HASH:
                if (s_write_fixed_hex (writer, child, HEX_HASH_LEN, header->hash, &failure->why))
                    return NULL;
                continue;
            case FIELD_PARENT_HASH:
                if (s_write_fixed_hex (writer, child, HEX_HASH_LEN, header->parent_hash,
                                       &failure->why))
                    return NULL;
                continue;
            case FIELD_NONCE:
                //  The block nonce is 64-bit PoW data, not a counter: hex.
                rule.kind = KIND_HEX;
                break;
            default:
                break;
        }
        if (s_write_value (writer, rule.kind, child, &failure->why)) {
            failure->field = key;
            return NULL;
        }
    }
    static const field_t required [] = {FIELD_NUMBER, FIELD_HASH, FIELD_PARENT_HASH,
                                        FIELD_TIMESTAMP, FIELD_TRANSACTIONS};
    static const char *required_names [] = {"number", "hash", "parentHash", "timestamp",
                                            "transactions"};
    for (size_t index = 0; index < sizeof required / sizeof required [0]; index++)
        if (!(seen & BIT (required [index]))) {
            failure->field = required_names [index];
            failure->why = "is missing";
            return NULL;
        }
    failure->field = "transactions";
    if (!cJSON_IsArray (transactions)) {
        failure->why = "is not an array";
        return NULL;
    }
    int count = cJSON_GetArraySize (transactions);
    if (count < 0) {
        failure->why = "is too long";
        return NULL;
    }
    header->tx_count = (uint32_t) count;
    jsonw_key (writer, "chainId");
    jsonw_u64 (writer, chain_id);
    jsonw_key (writer, "transactionCount");
    jsonw_u64 (writer, header->tx_count);
    jsonw_object_end (writer);
    failure->field = NULL;
    return transactions;
}

//  Both entry points: with by_hash, `transactions` holds hashes and tx_objects the
//  transactions fetched for them; otherwise the transactions are in the block.
static int
s_normalize_block (const cJSON *block, const cJSON *const *tx_objects, size_t tx_object_count,
                   bool by_hash, uint64_t chain_id, block_header_t *header, block_body_t **body_p,
                   char *err, size_t err_size)
{
    assert (header);
    assert (body_p);
    memset (header, 0, sizeof *header);
    *body_p = NULL;
    if (!cJSON_IsObject (block)) {
        snprintf (err, err_size, "block: is not an object");
        return -1;
    }
    jsonw_t *writer = jsonw_new ();
    failure_t failure = {NULL, NULL};
    const cJSON *transactions = s_write_block_meta (block, chain_id, writer, header, &failure);
    if (!transactions) {
        snprintf (err, err_size, "block: field '%s' %s", failure.field, failure.why);
        jsonw_destroy (&writer);
        return -1;
    }
    if (by_hash && tx_object_count != header->tx_count) {
        snprintf (err, err_size,
                  "block %" PRIu64 ": %zu transactions fetched for %" PRIu32 " hashes",
                  header->number, tx_object_count, header->tx_count);
        jsonw_destroy (&writer);
        return -1;
    }
    block_body_t *body = block_body_new (header->tx_count);
    body->meta_len = jsonw_size (writer);
    body->meta_json = jsonw_strdup (writer);

    long index = 0;
    for (const cJSON *entry = transactions->child; entry; entry = entry->next, index++) {
        const cJSON *tx = entry;
        block_tx_t *out = &body->txs [index];
        failure = (failure_t) {NULL, NULL};
        char listed [BLOCK_HASH_SIZE];
        if (by_hash) {
            failure.field = "transactions";
            if (s_read_fixed_hex (entry, HEX_HASH_LEN, listed, &failure.why)) {
                s_tx_error (NULL, header, index, &failure, err, err_size);
                goto failed;
            }
            tx = tx_objects ? tx_objects [index] : NULL;
            failure.field = NULL;
            if (!tx) {
                failure.why = "was not fetched";
                s_tx_error (NULL, header, index, &failure, err, err_size);
                goto failed;
            }
        }
        tx_block_t tx_block;
        if (s_write_tx (tx, chain_id, header->hash, writer, out, &tx_block, &failure)) {
            s_tx_error (tx, header, index, &failure, err, err_size);
            goto failed;
        }
        //  A transaction of another block means a mixed-up answer.
        if (tx_block.block_number != header->number
            || (*tx_block.block_hash && strcmp (tx_block.block_hash, header->hash) != 0)) {
            failure = (failure_t) {tx_block.block_number != header->number ? "blockNumber"
                                                                           : "blockHash",
                                   "names another block"};
            s_tx_error (tx, header, index, &failure, err, err_size);
            goto failed;
        }
        if (by_hash && strcmp (listed, out->hash) != 0) {
            failure = (failure_t) {"hash", "differs from the block's list"};
            s_tx_error (tx, header, index, &failure, err, err_size);
            goto failed;
        }
        out->json_len = jsonw_size (writer);
        out->json = jsonw_strdup (writer);
    }
    jsonw_destroy (&writer);
    *body_p = body;
    return 0;

failed:
    jsonw_destroy (&writer);
    block_body_destroy (&body);
    return -1;
}

int
normalize_block (const cJSON *block, uint64_t chain_id, block_header_t *header,
                 block_body_t **body_p, char *err, size_t err_size)
{
    return s_normalize_block (block, NULL, 0, false, chain_id, header, body_p, err, err_size);
}

int
normalize_block_hashes (const cJSON *block, const cJSON *const *txs, size_t tx_count,
                        uint64_t chain_id, block_header_t *header, block_body_t **body_p, char *err,
                        size_t err_size)
{
    return s_normalize_block (block, txs, tx_count, true, chain_id, header, body_p, err, err_size);
}
