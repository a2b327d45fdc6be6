/*  chain_rlp: each consensus form is a table of fields in their RLP order, read from the
    JSON object by name; a field's kind says how its hex becomes RLP (a quantity loses its
    leading zeros, data keeps its bytes, an address or hash its fixed length). */
#include "evmtap.h"
#include "chain_rlp.h"
#include "hexutil.h"
#include "keccak.h"
#include "chain_samples.h"
#include "log_bloom.h"

typedef enum {
    S_UINT,       //  quantity: minimal big-endian integer
    S_DATA,       //  byte string of any length
    S_ADDRESS,    //  20 bytes
    S_HASH,       //  32 bytes
    S_NONCE,      //  the header's 8-byte nonce
    S_BLOOM,      //  256 bytes
    S_TO,         //  20 bytes, or the empty string when null or absent (a deployment)
    S_PARITY,     //  yParity, or v where the node gives only that
    S_ACCESS,     //  access list: [[address, [storage keys]] ...]
    S_HASHES,     //  list of 32-byte hashes (blobVersionedHashes)
    S_AUTHS,      //  authorization list (EIP-7702)
} s_kind_t;

typedef struct {
    const char *name;    //  the JSON-RPC name
    s_kind_t kind;
} s_field_t;

//  The most fields a table has (a set-code transaction's 13).
#define S_MAX_FIELDS 16

#define S_END        \
    {                \
        NULL, S_UINT \
    }

static const s_field_t s_header_fields [] = {{"parentHash", S_HASH},       {"sha3Uncles", S_HASH},
                                             {"miner", S_ADDRESS},         {"stateRoot", S_HASH},
                                             {"transactionsRoot", S_HASH}, {"receiptsRoot", S_HASH},
                                             {"logsBloom", S_BLOOM},       {"difficulty", S_UINT},
                                             {"number", S_UINT},           {"gasLimit", S_UINT},
                                             {"gasUsed", S_UINT},          {"timestamp", S_UINT},
                                             {"extraData", S_DATA},        {"mixHash", S_HASH},
                                             {"nonce", S_NONCE},           S_END};

//  Appended by London, Shanghai, Cancun (three) and Prague: each present only after all
//  before it.
static const s_field_t s_header_forks [] = {{"baseFeePerGas", S_UINT},
                                            {"withdrawalsRoot", S_HASH},
                                            {"blobGasUsed", S_UINT},
                                            {"excessBlobGas", S_UINT},
                                            {"parentBeaconBlockRoot", S_HASH},
                                            {"requestsHash", S_HASH},
                                            S_END};

static const s_field_t s_legacy_fields [] = {
    {"nonce", S_UINT}, {"gasPrice", S_UINT}, {"gas", S_UINT}, {"to", S_TO},  {"value", S_UINT},
    {"input", S_DATA}, {"v", S_UINT},        {"r", S_UINT},   {"s", S_UINT}, S_END};

//  EIP-2930.
static const s_field_t s_access_list_fields [] = {
    {"chainId", S_UINT},   {"nonce", S_UINT}, {"gasPrice", S_UINT}, {"gas", S_UINT},
    {"to", S_TO},          {"value", S_UINT}, {"input", S_DATA},    {"accessList", S_ACCESS},
    {"yParity", S_PARITY}, {"r", S_UINT},     {"s", S_UINT},        S_END};

//  EIP-1559.
static const s_field_t s_dynamic_fee_fields [] = {{"chainId", S_UINT},
                                                  {"nonce", S_UINT},
                                                  {"maxPriorityFeePerGas", S_UINT},
                                                  {"maxFeePerGas", S_UINT},
                                                  {"gas", S_UINT},
                                                  {"to", S_TO},
                                                  {"value", S_UINT},
                                                  {"input", S_DATA},
                                                  {"accessList", S_ACCESS},
                                                  {"yParity", S_PARITY},
                                                  {"r", S_UINT},
                                                  {"s", S_UINT},
                                                  S_END};

//  EIP-4844: no deployment, so `to` is an address.
static const s_field_t s_blob_fields [] = {{"chainId", S_UINT},
                                           {"nonce", S_UINT},
                                           {"maxPriorityFeePerGas", S_UINT},
                                           {"maxFeePerGas", S_UINT},
                                           {"gas", S_UINT},
                                           {"to", S_ADDRESS},
                                           {"value", S_UINT},
                                           {"input", S_DATA},
                                           {"accessList", S_ACCESS},
                                           {"maxFeePerBlobGas", S_UINT},
                                           {"blobVersionedHashes", S_HASHES},
                                           {"yParity", S_PARITY},
                                           {"r", S_UINT},
                                           {"s", S_UINT},
                                           S_END};

//  EIP-7702.
static const s_field_t s_set_code_fields [] = {{"chainId", S_UINT},
                                               {"nonce", S_UINT},
                                               {"maxPriorityFeePerGas", S_UINT},
                                               {"maxFeePerGas", S_UINT},
                                               {"gas", S_UINT},
                                               {"to", S_ADDRESS},
                                               {"value", S_UINT},
                                               {"input", S_DATA},
                                               {"accessList", S_ACCESS},
                                               {"authorizationList", S_AUTHS},
                                               {"yParity", S_PARITY},
                                               {"r", S_UINT},
                                               {"s", S_UINT},
                                               S_END};

static const s_field_t s_authorization_fields [] = {{"chainId", S_UINT},
                                                    {"address", S_ADDRESS},
                                                    {"nonce", S_UINT},
                                                    {"yParity", S_PARITY},
                                                    {"r", S_UINT},
                                                    {"s", S_UINT},
                                                    S_END};

static const s_field_t s_withdrawal_fields [] = {{"index", S_UINT},
                                                 {"validatorIndex", S_UINT},
                                                 {"address", S_ADDRESS},
                                                 {"amount", S_UINT},
                                                 S_END};

static chain_rlp_rc_t
s_fail (char *err, size_t err_size, chain_rlp_rc_t rc, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (err, err_size, format, args);
    va_end (args);
    return rc;
}

//  A member that is a string, or NULL.
static const char *
s_string (const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, name);
    return cJSON_IsString (item) ? item->valuestring : NULL;
}

//  Appends a list of 32-byte hashes (storage keys, blob versioned hashes); -1 when item is
//  not an array of them.
static int
s_add_hashes (rlp_t *rlp, const cJSON *item)
{
    if (!cJSON_IsArray (item))
        return -1;
    rlp_list_begin (rlp);
    int rc = 0;
    const cJSON *hash;
    cJSON_ArrayForEach (hash, item)
        if (rc == 0)
            rc = rlp_add_hex_data (rlp, cJSON_IsString (hash) ? hash->valuestring : NULL, 32);
    rlp_list_end (rlp);
    return rc;
}

static int s_add_fields (rlp_t *rlp, const cJSON *object, const s_field_t *fields, char *err,
                         size_t err_size);

//  Appends one field, item (NULL when object has none); -1 with err naming it when it is
//  absent or malformed.
static int
s_add_field (rlp_t *rlp, const cJSON *object, const s_field_t *field, const cJSON *item, char *err,
             size_t err_size)
{
    const char *text = cJSON_IsString (item) ? item->valuestring : NULL;
    int rc = -1;
    switch (field->kind) {
        case S_UINT:
            rc = rlp_add_hex_uint (rlp, text);
            break;
        case S_DATA:
            //  Some nodes name a transaction's calldata `data`.
            if (!item && streq (field->name, "input"))
                text = s_string (object, "data");
            rc = rlp_add_hex_data (rlp, text, 0);
            break;
        case S_ADDRESS:
            rc = rlp_add_hex_data (rlp, text, 20);
            break;
        case S_HASH:
            rc = rlp_add_hex_data (rlp, text, 32);
            break;
        case S_NONCE:
            rc = rlp_add_hex_data (rlp, text, 8);
            break;
        case S_BLOOM:
            rc = rlp_add_hex_data (rlp, text, CHAIN_BLOOM_SIZE);
            break;
        case S_TO:
            if (!item || cJSON_IsNull (item)) {
                rlp_add_bytes (rlp, NULL, 0);
                rc = 0;
            }
            else
                rc = rlp_add_hex_data (rlp, text, 20);
            break;
        case S_PARITY:
            if (!item)
                text = s_string (object, "v");
            rc = rlp_add_hex_uint (rlp, text);
            break;
        case S_HASHES:
            rc = s_add_hashes (rlp, item);
            break;
        case S_ACCESS:
            if (!cJSON_IsArray (item))
                break;
            rlp_list_begin (rlp);
            rc = 0;
            const cJSON *entry;
            cJSON_ArrayForEach (entry, item) {
                const cJSON *keys = cJSON_GetObjectItemCaseSensitive (entry, "storageKeys");
                if (rc || !cJSON_IsArray (keys)) {
                    rc = -1;
                    break;
                }
                rlp_list_begin (rlp);
                rc = rlp_add_hex_data (rlp, s_string (entry, "address"), 20);
                if (rc == 0)
                    rc = s_add_hashes (rlp, keys);
                rlp_list_end (rlp);
            }
            rlp_list_end (rlp);
            break;
        case S_AUTHS:
            if (!cJSON_IsArray (item))
                break;
            rlp_list_begin (rlp);
            rc = 0;
            const cJSON *authorization;
            cJSON_ArrayForEach (authorization, item)
                if (rc == 0)
                    rc = s_add_fields (rlp, authorization, s_authorization_fields, err, err_size);
            rlp_list_end (rlp);
            if (rc)
                return -1;
            break;
    }
    if (rc)
        snprintf (err, err_size, "%s is %s", field->name,
                  item ? "not what its type says" : "missing");
    return rc;
}

//  Appends the fields of the table, in order, as one list.
static int
s_add_fields (rlp_t *rlp, const cJSON *object, const s_field_t *fields, char *err, size_t err_size)
{
    if (!cJSON_IsObject (object)) {
        snprintf (err, err_size, "not an object");
        return -1;
    }
    //  The members the fields name, in one walk over the object, each the first of its
    //  name as cJSON_GetObjectItemCaseSensitive finds it: a transaction has some twenty
    //  members, and a lookup per field compared most of them with each name (a third of
    //  a block's proof, keccak aside).
    const cJSON *found [S_MAX_FIELDS] = {NULL};
    size_t count = 0;
    while (fields [count].name)
        count++;
    assert (count <= S_MAX_FIELDS);
    for (const cJSON *child = object->child; child; child = child->next) {
        const char *name = child->string;
        for (size_t index = 0; name && index < count; index++)
            if (!found [index] && fields [index].name [0] == name [0]
                && streq (fields [index].name, name)) {
                found [index] = child;
                break;
            }
    }
    rlp_list_begin (rlp);
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < count; index++)
        rc = s_add_field (rlp, object, &fields [index], found [index], err, err_size);
    rlp_list_end (rlp);
    return rc;
}

chain_rlp_rc_t
chain_rlp_header (rlp_t *rlp, const cJSON *block, char *err, size_t err_size)
{
    rlp_reset (rlp);
    if (!cJSON_IsObject (block))
        return s_fail (err, err_size, CHAIN_RLP_MALFORMED, "the block is not an object");
    rlp_list_begin (rlp);
    int rc = 0;
    for (const s_field_t *field = s_header_fields; rc == 0 && field->name; field++)
        rc = s_add_field (rlp, block, field, cJSON_GetObjectItemCaseSensitive (block, field->name),
                          err, err_size);
    const s_field_t *missing = NULL;
    for (const s_field_t *field = s_header_forks; rc == 0 && field->name; field++) {
        if (!cJSON_GetObjectItemCaseSensitive (block, field->name)) {
            if (!missing)
                missing = field;
        }
        else if (missing) {
            rc = -1;
            snprintf (err, err_size, "%s is there without %s, which comes before it", field->name,
                      missing->name);
        }
        else
            rc = s_add_field (rlp, block, field,
                              cJSON_GetObjectItemCaseSensitive (block, field->name), err, err_size);
    }
    rlp_list_end (rlp);
    return rc ? CHAIN_RLP_MALFORMED : CHAIN_RLP_OK;
}

//  Resets rlp for a typed object (a transaction, a receipt): reads its type (none, as
//  nodes before Berlin write it, is legacy: 0) and writes the type byte of a typed one.
static chain_rlp_rc_t
s_begin_typed (rlp_t *rlp, const cJSON *object, const char *what, uint64_t *type, char *err,
               size_t err_size)
{
    rlp_reset (rlp);
    if (!cJSON_IsObject (object))
        return s_fail (err, err_size, CHAIN_RLP_MALFORMED, "the %s is not an object", what);
    *type = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, "type");
    if (item && (!cJSON_IsString (item) || hex_to_u64 (item->valuestring, type)))
        return s_fail (err, err_size, CHAIN_RLP_MALFORMED, "type is not a hex quantity");
    if (*type > 4)
        return s_fail (err, err_size, CHAIN_RLP_UNKNOWN, "type 0x%llx is not one evmtap knows",
                       (unsigned long long) *type);
    if (*type) {
        uint8_t byte = (uint8_t) *type;
        rlp_add_raw (rlp, &byte, 1);
    }
    return CHAIN_RLP_OK;
}

chain_rlp_rc_t
chain_rlp_transaction (rlp_t *rlp, const cJSON *tx, char *err, size_t err_size)
{
    static const s_field_t *tables [] = {s_legacy_fields, s_access_list_fields,
                                         s_dynamic_fee_fields, s_blob_fields, s_set_code_fields};
    uint64_t type;
    chain_rlp_rc_t rc = s_begin_typed (rlp, tx, "transaction", &type, err, err_size);
    if (rc != CHAIN_RLP_OK)
        return rc;
    return s_add_fields (rlp, tx, tables [type], err, err_size) ? CHAIN_RLP_MALFORMED
                                                                : CHAIN_RLP_OK;
}

//  Appends a list of 0x-hex strings of size bytes each; -1 when one is not.
static int
s_add_data_list (rlp_t *rlp, const cJSON *list, size_t size)
{
    if (!cJSON_IsArray (list))
        return -1;
    rlp_list_begin (rlp);
    int rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, list)
        if (rc == 0
            && rlp_add_hex_data (rlp, cJSON_IsString (item) ? item->valuestring : NULL, size))
            rc = -1;
    rlp_list_end (rlp);
    return rc;
}

chain_rlp_rc_t
chain_rlp_blob_network (rlp_t *rlp, const cJSON *tx, char *err, size_t err_size)
{
    uint64_t type;
    chain_rlp_rc_t rc = s_begin_typed (rlp, tx, "transaction", &type, err, err_size);
    if (rc != CHAIN_RLP_OK)
        return rc;
    if (type != 3 || !cJSON_GetObjectItemCaseSensitive (tx, "blobs"))
        return s_fail (err, err_size, CHAIN_RLP_UNKNOWN, "not a blob transaction with its blobs");
    rlp_list_begin (rlp);
    if (s_add_fields (rlp, tx, s_blob_fields, err, err_size))
        return CHAIN_RLP_MALFORMED;
    //  A blob is 4096 field elements of 32 bytes; a KZG commitment or proof 48 bytes.
    if (s_add_data_list (rlp, cJSON_GetObjectItemCaseSensitive (tx, "blobs"), 131072)
        || s_add_data_list (rlp, cJSON_GetObjectItemCaseSensitive (tx, "commitments"), 48)
        || s_add_data_list (rlp, cJSON_GetObjectItemCaseSensitive (tx, "proofs"), 48))
        return s_fail (err, err_size, CHAIN_RLP_MALFORMED,
                       "blobs, commitments or proofs are not what their type says");
    rlp_list_end (rlp);
    return CHAIN_RLP_OK;
}

chain_rlp_rc_t
chain_rlp_withdrawal (rlp_t *rlp, const cJSON *withdrawal, char *err, size_t err_size)
{
    rlp_reset (rlp);
    return s_add_fields (rlp, withdrawal, s_withdrawal_fields, err, err_size) ? CHAIN_RLP_MALFORMED
                                                                              : CHAIN_RLP_OK;
}

//  Appends [[address, [topics], data] ...].
static int
s_add_logs (rlp_t *rlp, const cJSON *logs, char *err, size_t err_size)
{
    rlp_list_begin (rlp);
    int rc = 0;
    size_t index = 0;
    const cJSON *log;
    cJSON_ArrayForEach (log, logs) {
        const cJSON *topics = cJSON_GetObjectItemCaseSensitive (log, "topics");
        rlp_list_begin (rlp);
        if (rlp_add_hex_data (rlp, s_string (log, "address"), 20))
            rc = -1;
        rlp_list_begin (rlp);
        const cJSON *topic;
        if (!cJSON_IsArray (topics))
            rc = -1;
        cJSON_ArrayForEach (topic, topics)
            if (rlp_add_hex_data (rlp, cJSON_IsString (topic) ? topic->valuestring : NULL, 32))
                rc = -1;
        rlp_list_end (rlp);
        if (rlp_add_hex_data (rlp, s_string (log, "data"), 0))
            rc = -1;
        rlp_list_end (rlp);
        if (rc) {
            snprintf (err, err_size, "log %zu has a malformed address, topics or data", index);
            break;
        }
        index++;
    }
    rlp_list_end (rlp);
    return rc;
}

chain_rlp_rc_t
chain_rlp_receipt (rlp_t *rlp, const cJSON *receipt, char *err, size_t err_size)
{
    uint64_t type;
    chain_rlp_rc_t typed = s_begin_typed (rlp, receipt, "receipt", &type, err, err_size);
    if (typed != CHAIN_RLP_OK)
        return typed;
    rlp_list_begin (rlp);
    //  Before Byzantium the receipt held the state root after the transaction; since, a
    //  status (1 success, 0 the empty string).
    const char *root = s_string (receipt, "root");
    int rc = 0;
    if (root && strlen (root) == HEX_HASH_LEN) {
        if (rlp_add_hex_data (rlp, root, 32))
            rc = s_fail (err, err_size, -1, "root is not a hash");
    }
    else if (rlp_add_hex_uint (rlp, s_string (receipt, "status")))
        rc = s_fail (err, err_size, -1, "status is missing or not a hex quantity");
    static const s_field_t gas = {"cumulativeGasUsed", S_UINT}, bloom = {"logsBloom", S_BLOOM};
    if (rc == 0)
        rc = s_add_field (rlp, receipt, &gas, cJSON_GetObjectItemCaseSensitive (receipt, gas.name),
                          err, err_size);
    if (rc == 0)
        rc = s_add_field (rlp, receipt, &bloom,
                          cJSON_GetObjectItemCaseSensitive (receipt, bloom.name), err, err_size);
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive (receipt, "logs");
    if (rc == 0 && !cJSON_IsArray (logs))
        rc = s_fail (err, err_size, -1, "logs is %s", logs ? "not an array" : "missing");
    if (rc == 0)
        rc = s_add_logs (rlp, logs, err, err_size);
    rlp_list_end (rlp);
    return rc ? CHAIN_RLP_MALFORMED : CHAIN_RLP_OK;
}


//  --------------------------------------------------------------------------
//  Selftest

//  What the stored answers held, so that the test can say it covered every kind.
typedef struct {
    size_t by_type [5];    //  transactions by type
    size_t untyped;        //  transactions written without a type (before Berlin)
    size_t pre_eip155;     //  legacy ones signed with v 27/28
    size_t eip155;         //  legacy ones signed with v = chainId * 2 + 35/36
    size_t receipts_by_type [5];
    size_t receipts_root;    //  receipts with a pre-Byzantium state root
    size_t logs;
    log_bloom_t *blooms;    //  the blooms of the receipts' logs
} s_seen_t;

static void
s_check_tx (rlp_t *rlp, const cJSON *tx, s_seen_t *seen, const char *where)
{
    char err [160] = "";
    if (chain_rlp_transaction (rlp, tx, err, sizeof (err)) != CHAIN_RLP_OK) {
        fprintf (stderr, "chain_rlp: %s: %s\n", where, err);
        assert (false);
    }
    uint8_t hash [KECCAK256_SIZE];
    char hex [HEX_HASH_LEN + 1];
    keccak256 (rlp_data (rlp), rlp_size (rlp), hash);
    hex_encode (hash, sizeof (hash), hex);
    if (strcmp (hex, s_string (tx, "hash"))) {
        fprintf (stderr, "chain_rlp: %s: transaction %s hashes to %s\n", where,
                 s_string (tx, "hash"), hex);
        assert (false);
    }
    uint64_t type = 0, v = 0;
    if (s_string (tx, "type"))
        assert (hex_to_u64 (s_string (tx, "type"), &type) == 0);
    else
        seen->untyped++;
    assert (type < 5);
    seen->by_type [type]++;
    if (type == 0) {
        assert (hex_to_u64 (s_string (tx, "v"), &v) == 0);
        if (v == 27 || v == 28)
            seen->pre_eip155++;
        else
            seen->eip155++;
    }
}

static void
s_check_receipt (rlp_t *rlp, const cJSON *receipt, s_seen_t *seen, const char *where)
{

    char err [160] = "";
    if (chain_rlp_receipt (rlp, receipt, err, sizeof (err)) != CHAIN_RLP_OK) {
        fprintf (stderr, "chain_rlp: %s: %s\n", where, err);
        assert (false);
    }
    uint8_t bloom [CHAIN_BLOOM_SIZE];
    memset (bloom, 0, sizeof (bloom));
    assert (log_bloom_add_logs (seen->blooms, receipt, bloom, err, sizeof (err)) == 0);
    char hex [2 * CHAIN_BLOOM_SIZE + 3];
    hex_encode (bloom, sizeof (bloom), hex);
    if (strcmp (hex, s_string (receipt, "logsBloom"))) {
        fprintf (stderr, "chain_rlp: %s: receipt of %s: logs give bloom %s\n", where,
                 s_string (receipt, "transactionHash"), hex);
        assert (false);
    }
    uint64_t type = 0;
    if (s_string (receipt, "type"))
        assert (hex_to_u64 (s_string (receipt, "type"), &type) == 0 && type < 5);
    seen->receipts_by_type [type]++;
    if (s_string (receipt, "root"))
        seen->receipts_root++;
    seen->logs += (size_t) cJSON_GetArraySize (cJSON_GetObjectItem (receipt, "logs"));
}

//  Every answer of a folder: blocks (their transactions), receipt arrays, or single
//  transactions or receipts.
static void
s_check_folder (rlp_t *rlp, const char *folder, bool receipts, s_seen_t *seen)
{
    zlist_t *names = chain_samples_list (folder, false);
    assert (names && zlist_size (names) > 0);
    for (const char *name = (const char *) zlist_first (names); name;
         name = (const char *) zlist_next (names)) {
        if (streq (name, "genesis.json") || streq (name, "forkenv.json"))
            continue;
        char *relative = zsys_sprintf ("%s/%s", folder, name);
        cJSON *doc = chain_samples_load (relative);
        const cJSON *result = chain_samples_result (doc);
        assert (result);
        const cJSON *items = cJSON_IsObject (result)
                                 ? cJSON_GetObjectItemCaseSensitive (result, "transactions")
                                 : result;
        if (!items)
            items = result;
        if (cJSON_IsObject (items)) {
            if (receipts)
                s_check_receipt (rlp, items, seen, relative);
            else
                s_check_tx (rlp, items, seen, relative);
        }
        const cJSON *item;
        if (cJSON_IsArray (items))
            cJSON_ArrayForEach (item, items) {
                if (receipts)
                    s_check_receipt (rlp, item, seen, relative);
                else
                    s_check_tx (rlp, item, seen, relative);
            }
        cJSON_Delete (doc);
        zstr_free (&relative);
    }
    zlist_destroy (&names);
}

static void
s_expect_hex (rlp_t *rlp, const char *expected)
{
    char *hex = (char *) zmalloc (2 * rlp_size (rlp) + 3);
    hex_encode (rlp_data (rlp), rlp_size (rlp), hex);
    if (strcmp (hex, expected)) {
        fprintf (stderr, "chain_rlp: %s, expected %s\n", hex, expected);
        assert (false);
    }
    free (hex);
}

void
chain_rlp_test (bool verbose)
{
    rlp_t *rlp = rlp_new ();
    char err [160];

    //  EIP-155's own example: the signed transaction, byte for byte, and its hash.
    cJSON *tx = cJSON_Parse (
        "{\"nonce\":\"0x9\",\"gasPrice\":\"0x4a817c800\",\"gas\":\"0x5208\","
        "\"to\":\"0x3535353535353535353535353535353535353535\",\"value\":\"0xde0b6b3a7640000\","
        "\"input\":\"0x\",\"v\":\"0x25\","
        "\"r\":\"0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276\","
        "\"s\":\"0x67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83\","
        "\"hash\":\"0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788\"}");
    assert (chain_rlp_transaction (rlp, tx, err, sizeof (err)) == CHAIN_RLP_OK);
    s_expect_hex (rlp,
                  "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0"
                  "b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e159062"
                  "0aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    s_seen_t seen;
    memset (&seen, 0, sizeof (seen));
    seen.blooms = log_bloom_new ();
    s_check_tx (rlp, tx, &seen, "EIP-155");

    //  Refusals name the field; a type evmtap does not know is not malformed.
    cJSON_ReplaceItemInObject (tx, "gas", cJSON_CreateString ("0xzz"));
    assert (chain_rlp_transaction (rlp, tx, err, sizeof (err)) == CHAIN_RLP_MALFORMED);
    assert (streq (err, "gas is not what its type says"));
    cJSON_DeleteItemFromObject (tx, "gas");
    assert (chain_rlp_transaction (rlp, tx, err, sizeof (err)) == CHAIN_RLP_MALFORMED);
    assert (streq (err, "gas is missing"));
    cJSON_AddStringToObject (tx, "type", "0x7e");
    assert (chain_rlp_transaction (rlp, tx, err, sizeof (err)) == CHAIN_RLP_UNKNOWN);
    assert (streq (err, "type 0x7e is not one evmtap knows"));
    cJSON_ReplaceItemInObject (tx, "type", cJSON_CreateString ("0x2"));
    assert (chain_rlp_transaction (rlp, tx, err, sizeof (err)) == CHAIN_RLP_MALFORMED);
    assert (streq (err, "chainId is missing"));
    cJSON_Delete (tx);
    assert (chain_rlp_transaction (rlp, NULL, err, sizeof (err)) == CHAIN_RLP_MALFORMED);

    //  A header's fork fields come in their order or not at all.
    cJSON *doc = chain_samples_load ("testchain-hive/54.json");
    cJSON *block = chain_samples_result (doc);
    assert (chain_rlp_header (rlp, block, err, sizeof (err)) == CHAIN_RLP_OK);
    cJSON_DeleteItemFromObject (block, "excessBlobGas");
    assert (chain_rlp_header (rlp, block, err, sizeof (err)) == CHAIN_RLP_MALFORMED);
    assert (streq (err, "parentBeaconBlockRoot is there without excessBlobGas, which comes "
                        "before it"));
    cJSON_Delete (doc);

    //  Every transaction of the shared data hashes to its own hash: the blocks of every
    //  era, and the single answers (the hive chain's of types 0 to 4).
    s_check_folder (rlp, "mainnet", false, &seen);
    s_check_folder (rlp, "mainnet/transactions", false, &seen);
    s_check_folder (rlp, "testchain-hive", false, &seen);
    s_check_folder (rlp, "testchain-hive/transactions", false, &seen);
    for (size_t type = 0; type < 5; type++)
        assert (seen.by_type [type] > 0);
    assert (seen.untyped > 0 && seen.pre_eip155 > 0 && seen.eip155 > 1);

    //  Every receipt encodes, and its logs give its own logsBloom.
    s_check_folder (rlp, "mainnet/receipts", true, &seen);
    s_check_folder (rlp, "mainnet/tx_receipts", true, &seen);
    s_check_folder (rlp, "testchain-hive/receipts", true, &seen);
    s_check_folder (rlp, "testchain-hive/tx_receipts", true, &seen);
    for (size_t type = 0; type < 5; type++)
        assert (seen.receipts_by_type [type] > 0);
    assert (seen.receipts_root > 0 && seen.logs > 1000);
    if (verbose)
        printf ("\n  transactions by type %zu %zu %zu %zu %zu (untyped %zu, v 27/28 %zu, "
                "EIP-155 %zu); receipts by type %zu %zu %zu %zu %zu (state root %zu), %zu logs\n",
                seen.by_type [0], seen.by_type [1], seen.by_type [2], seen.by_type [3],
                seen.by_type [4], seen.untyped, seen.pre_eip155, seen.eip155,
                seen.receipts_by_type [0], seen.receipts_by_type [1], seen.receipts_by_type [2],
                seen.receipts_by_type [3], seen.receipts_by_type [4], seen.receipts_root,
                seen.logs);
    log_bloom_destroy (&seen.blooms);
    rlp_destroy (&rlp);
}
