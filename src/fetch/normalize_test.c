/*  normalize_test: the selftest of normalize (normalize.c), kept apart so each file stays
    small. It runs every block and transaction of the shared test data through the public
    calls and checks each output field against the node's object with the module's own
    rules (normalize_rule.h), then feeds hostile variants that must fail naming the field. */
#include "evmtap.h"
#include "normalize_rule.h"
#include <glob.h>
#include "block.h"
#include "hexutil.h"
#include "jsonw.h"
#include "normalize.h"

#define TEST_HIVE_CHAIN_ID 3503995874084926ull

//  The JSON document in a file of the shared test data.
static cJSON *
s_test_load (const char *path)
{
    zchunk_t *chunk = zchunk_slurp (path, 0);
    if (!chunk) {
        fprintf (stderr, "normalize: cannot open %s\n", path);
        assert (false);
    }
    assert (zchunk_size (chunk) > 0);
    cJSON *root = cJSON_ParseWithLength ((const char *) zchunk_data (chunk), zchunk_size (chunk));
    assert (root);
    zchunk_destroy (&chunk);
    return root;
}

//  The quantity of a decimal string as minimal lowercase hex ("0x0" for zero), by
//  multiplying up bytes: independent of the hexutil division it checks.
static void
s_test_decimal_to_hex (const char *decimal, char *out)
{
    uint8_t bytes [40] = {0};
    assert (*decimal);
    for (const char *digit = decimal; *digit; digit++) {
        assert (*digit >= '0' && *digit <= '9');
        unsigned carry = (unsigned) (*digit - '0');
        for (int index = 39; index >= 0; index--) {
            unsigned value = bytes [index] * 10u + carry;
            bytes [index] = (uint8_t) value;
            carry = value >> 8;
        }
        assert (carry == 0);
    }
    char full [83];
    hex_encode (bytes, sizeof bytes, full);
    const char *digits = full + 2;
    while (*digits == '0' && digits [1])
        digits++;
    snprintf (out, 83, "0x%s", digits);
}

//  The minimal lowercase form of a hex quantity, to compare with the above.
static void
s_test_minimal_hex (const char *hex, char *out)
{
    const char *digits = hex + 2;
    while (*digits == '0' && digits [1])
        digits++;
    snprintf (out, 83, "0x%s", digits);
    hex_lower (out, out);
}

//  Every 0x string in a normalized record is lowercase.
static void
s_test_lowercase (const cJSON *item)
{
    if (cJSON_IsString (item) && strncmp (item->valuestring, "0x", 2) == 0
        && hex_is_valid (item->valuestring))
        for (const char *scan = item->valuestring; *scan; scan++)
            assert (!(*scan >= 'A' && *scan <= 'F'));
    for (const cJSON *child = item->child; child; child = child->next)
        s_test_lowercase (child);
}

//  Checks an output record field by field against the node's object.
static void
s_test_fields (const cJSON *source, const cJSON *record, bool is_block)
{
    for (const cJSON *child = source->child; child; child = child->next) {
        const char *key = child->string;
        rule_t rule = normalize_rule (key);
        if (is_block && (rule.field == FIELD_TRANSACTIONS || rule.field == FIELD_CHAIN_ID))
            continue;
        if (is_block && rule.field == FIELD_NONCE)
            rule.kind = KIND_HEX;
        const cJSON *out = cJSON_GetObjectItemCaseSensitive (record, key);
        assert (out);
        if (cJSON_IsNull (child)) {
            //  null chainId and type are replaced; everything else stays null
            if (rule.field != FIELD_CHAIN_ID && rule.field != FIELD_TYPE)
                assert (cJSON_IsNull (out));
            continue;
        }
        char expected [83], got [83];
        switch (rule.kind) {
            case KIND_NUMBER: {
                uint64_t value;
                assert (hex_to_u64 (child->valuestring, &value) == 0);
                assert (cJSON_IsNumber (out) && out->valuedouble == (double) value);
                break;
            }
            case KIND_DECIMAL:
                assert (cJSON_IsString (out));
                s_test_decimal_to_hex (out->valuestring, got);
                s_test_minimal_hex (child->valuestring, expected);
                assert (streq (got, expected));
                break;
            case KIND_HEX:
                assert (cJSON_IsString (out));
                assert (strlen (out->valuestring) == strlen (child->valuestring));
                assert (strcasecmp (out->valuestring, child->valuestring) == 0);
                break;
            case KIND_PASS:
                assert (out->type == child->type);
                if (cJSON_IsArray (child))
                    assert (cJSON_GetArraySize (out) == cJSON_GetArraySize (child));
                break;
        }
    }
}

typedef struct {
    size_t blocks;
    size_t txs;
    size_t deployments;
    size_t native;
    size_t untyped;
} test_counts_t;

//  A record's blockHash, which every transaction taken from its block carries.
static const char *
s_test_block_hash (const cJSON *record)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (record, "blockHash");
    assert (cJSON_IsString (item));
    return item->valuestring;
}

//  Normalizes one block both ways (full objects, and hashes plus fetched objects),
//  checks every record, and returns the body for block-specific checks.
static block_body_t *
s_test_block (const cJSON *block, uint64_t chain_id, block_header_t *header, test_counts_t *counts,
              bool verbose)
{
    char err [256] = "";
    block_body_t *body = NULL;
    if (normalize_block (block, chain_id, header, &body, err, sizeof err)) {
        fprintf (stderr, "normalize_block: %s\n", err);
        assert (false);
    }
    const cJSON *transactions = cJSON_GetObjectItemCaseSensitive (block, "transactions");
    size_t count = (size_t) cJSON_GetArraySize (transactions);
    uint64_t number;
    assert (hex_to_u64 (cJSON_GetObjectItemCaseSensitive (block, "number")->valuestring, &number)
            == 0);
    assert (header->number == number);
    assert (header->tx_count == count && body->tx_count == count);
    assert (strcasecmp (header->hash, cJSON_GetObjectItemCaseSensitive (block, "hash")->valuestring)
            == 0);
    assert (strcasecmp (header->parent_hash,
                        cJSON_GetObjectItemCaseSensitive (block, "parentHash")->valuestring)
            == 0);
    if (verbose)
        printf ("\n   block %" PRIu64 ": %zu txs", header->number, count);

    //  Metadata: the block without transactions, plus chainId and transactionCount
    assert (body->meta_json && strlen (body->meta_json) == body->meta_len);
    cJSON *meta = cJSON_ParseWithLength (body->meta_json, body->meta_len);
    assert (cJSON_IsObject (meta));
    assert (!cJSON_GetObjectItemCaseSensitive (meta, "transactions"));
    assert (cJSON_GetObjectItemCaseSensitive (meta, "chainId")->valuedouble == (double) chain_id);
    assert (cJSON_GetObjectItemCaseSensitive (meta, "transactionCount")->valuedouble
            == (double) count);
    assert (cJSON_GetObjectItemCaseSensitive (meta, "timestamp")->valuedouble
            == (double) header->timestamp);
    assert (cJSON_IsString (cJSON_GetObjectItemCaseSensitive (meta, "nonce")));
    s_test_fields (block, meta, true);
    s_test_lowercase (meta);
    cJSON_Delete (meta);

    //  Transactions, in the block's order
    const cJSON *source = transactions->child;
    for (size_t index = 0; index < count; index++, source = source->next) {
        block_tx_t *tx = &body->txs [index];
        assert (tx->json && strlen (tx->json) == tx->json_len);
        cJSON *record = cJSON_ParseWithLength (tx->json, tx->json_len);
        assert (cJSON_IsObject (record));
        //  The node's order is kept: same first key
        assert (streq (record->child->string, source->child->string));
        s_test_fields (source, record, false);
        s_test_lowercase (record);
        assert (
            strcasecmp (tx->hash, cJSON_GetObjectItemCaseSensitive (source, "hash")->valuestring)
            == 0);
        assert (
            strcasecmp (tx->from, cJSON_GetObjectItemCaseSensitive (source, "from")->valuestring)
            == 0);
        assert (streq (cJSON_GetObjectItemCaseSensitive (record, "hash")->valuestring, tx->hash));
        //  Classification inputs
        const cJSON *source_to = cJSON_GetObjectItemCaseSensitive (source, "to");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive (record, "to");
        assert (to);
        if (!source_to || cJSON_IsNull (source_to)) {
            assert (cJSON_IsNull (to) && streq (tx->to, ""));
            counts->deployments++;
        }
        else {
            assert (streq (to->valuestring, tx->to) && strlen (tx->to) == BLOCK_ADDRESS_SIZE - 1);
            if (tx->input_empty)
                counts->native++;
        }
        const char *input = cJSON_GetObjectItemCaseSensitive (source, "input")->valuestring;
        assert (tx->input_empty == streq (input, "0x"));
        //  chainId: the tx's own, else the chain's; type 0 when the node left it out
        const cJSON *source_chain = cJSON_GetObjectItemCaseSensitive (source, "chainId");
        const cJSON *chain = cJSON_GetObjectItemCaseSensitive (record, "chainId");
        assert (cJSON_IsNumber (chain));
        if (cJSON_IsString (source_chain)) {
            uint64_t own;
            assert (hex_to_u64 (source_chain->valuestring, &own) == 0);
            assert (chain->valuedouble == (double) own);
        }
        else
            assert (chain->valuedouble == (double) chain_id);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive (record, "type");
        assert (cJSON_IsNumber (type));
        if (!cJSON_GetObjectItemCaseSensitive (source, "type")) {
            assert (type->valuedouble == 0);
            counts->untyped++;
        }
        assert (cJSON_GetObjectItemCaseSensitive (record, "blockNumber")->valuedouble
                == (double) header->number);
        assert (streq (s_test_block_hash (record), header->hash));
        cJSON_Delete (record);
    }
    counts->blocks++;
    counts->txs += count;

    //  --fetch hashes: the same block as a hash list plus the objects gives the same
    cJSON *hashes_block = cJSON_Duplicate (block, true);
    cJSON *hashes = cJSON_CreateArray ();
    const cJSON **objects = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
    assert (objects);
    source = transactions->child;
    for (size_t index = 0; index < count; index++, source = source->next) {
        cJSON_AddItemToArray (
            hashes,
            cJSON_CreateString (cJSON_GetObjectItemCaseSensitive (source, "hash")->valuestring));
        objects [index] = source;
    }
    cJSON_ReplaceItemInObjectCaseSensitive (hashes_block, "transactions", hashes);
    block_header_t hashes_header;
    block_body_t *hashes_body = NULL;
    if (normalize_block_hashes (hashes_block, objects, count, chain_id, &hashes_header,
                                &hashes_body, err, sizeof err)) {
        fprintf (stderr, "normalize_block_hashes: %s\n", err);
        assert (false);
    }
    assert (memcmp (&hashes_header, header, sizeof *header) == 0);
    assert (streq (hashes_body->meta_json, body->meta_json));
    for (size_t index = 0; index < count; index++) {
        assert (streq (hashes_body->txs [index].json, body->txs [index].json));
        assert (streq (hashes_body->txs [index].to, body->txs [index].to));
    }
    block_body_destroy (&hashes_body);
    //  A count that does not match, a missing object, objects out of order
    assert (normalize_block_hashes (hashes_block, objects, count + 1, chain_id, &hashes_header,
                                    &hashes_body, err, sizeof err)
            == -1);
    assert (hashes_body == NULL && strstr (err, "fetched"));
    if (count >= 2) {
        const cJSON *first = objects [0];
        objects [0] = NULL;
        assert (normalize_block_hashes (hashes_block, objects, count, chain_id, &hashes_header,
                                        &hashes_body, err, sizeof err)
                == -1);
        assert (hashes_body == NULL && strstr (err, "not fetched"));
        objects [0] = objects [1];
        objects [1] = first;
        assert (normalize_block_hashes (hashes_block, objects, count, chain_id, &hashes_header,
                                        &hashes_body, err, sizeof err)
                == -1);
        assert (hashes_body == NULL && strstr (err, "differs from the block's list"));
        assert (strstr (err, "tx 0"));
    }
    free (objects);
    cJSON_Delete (hashes_block);
    return body;
}

//  A normalized record as parsed JSON, for looking at single fields.
static cJSON *
s_test_record (block_body_t *body, size_t index)
{
    assert (index < body->tx_count);
    cJSON *record = cJSON_Parse (body->txs [index].json);
    assert (record);
    return record;
}

static const char *
s_test_string (const cJSON *record, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (record, key);
    assert (cJSON_IsString (item));
    return item->valuestring;
}

//  normalize_tx of text (a tx object) with one member set to value (JSON text), or
//  removed when value is NULL. Returns normalize_tx's answer; a record is checked.
static int
s_test_mutated_tx (const char *text, const char *key, const char *value, jsonw_t *writer, char *err,
                   size_t err_size, cJSON **record_p)
{
    cJSON *tx = cJSON_Parse (text);
    assert (tx);
    if (key) {
        cJSON_DeleteItemFromObjectCaseSensitive (tx, key);
        if (value) {
            cJSON *item = cJSON_Parse (value);
            assert (item);
            cJSON_AddItemToObject (tx, key, item);
        }
    }
    block_tx_t out;
    memset (&out, 0x55, sizeof out);
    *err = 0;
    int rc = normalize_tx (tx, 1, writer, &out, err, err_size);
    if (rc == 0) {
        cJSON *record = cJSON_ParseWithLength (out.json, out.json_len);
        assert (cJSON_IsObject (record));
        s_test_lowercase (record);
        if (record_p)
            *record_p = record;
        else
            cJSON_Delete (record);
        free (out.json);
    }
    else {
        assert (out.json == NULL);
        assert (*err);
    }
    cJSON_Delete (tx);
    return rc;
}

void
normalize_test (bool verbose)
{
    char path [512];
    char err [256];
    block_header_t header;
    block_body_t *body = NULL;
    test_counts_t counts = {0};

    //  The rule table says what DESIGN "JSON fields" says
    const char *numbers [] = {"number",      "blockNumber",
                              "timestamp",   "transactionIndex",
                              "logIndex",    "nonce",
                              "gas",         "gasLimit",
                              "gasUsed",     "cumulativeGasUsed",
                              "blobGasUsed", "excessBlobGas",
                              "size",        "type",
                              "status",      "chainId"};
    const char *decimals [] = {"value",
                               "gasPrice",
                               "maxFeePerGas",
                               "maxPriorityFeePerGas",
                               "maxFeePerBlobGas",
                               "baseFeePerGas",
                               "effectiveGasPrice",
                               "blobGasPrice",
                               "difficulty",
                               "totalDifficulty"};
    const char *hexes [] = {"hash",      "from",       "to",        "input",     "data",
                            "v",         "r",          "s",         "yParity",   "logsBloom",
                            "extraData", "parentHash", "blockHash", "stateRoot", "miner"};
    const char *passed [] = {"accessList",
                             "authorizationList",
                             "withdrawals",
                             "blobVersionedHashes",
                             "uncles",
                             "author",
                             "",
                             "x",
                             "zzz",
                             "Hash",
                             "values"};
    for (size_t index = 0; index < sizeof numbers / sizeof numbers [0]; index++)
        assert (normalize_rule (numbers [index]).kind == KIND_NUMBER);
    for (size_t index = 0; index < sizeof decimals / sizeof decimals [0]; index++)
        assert (normalize_rule (decimals [index]).kind == KIND_DECIMAL);
    for (size_t index = 0; index < sizeof hexes / sizeof hexes [0]; index++)
        assert (normalize_rule (hexes [index]).kind == KIND_HEX);
    for (size_t index = 0; index < sizeof passed / sizeof passed [0]; index++)
        assert (normalize_rule (passed [index]).kind == KIND_PASS);

    //  Every mainnet block
    snprintf (path, sizeof path, "%s/blocks/mainnet/*.json", evmtap_shared_data ());
    glob_t files;
    assert (glob (path, 0, NULL, &files) == 0);
    assert (files.gl_pathc == 19);
    for (size_t file = 0; file < files.gl_pathc; file++) {
        cJSON *root = s_test_load (files.gl_pathv [file]);
        const cJSON *block = cJSON_GetObjectItemCaseSensitive (root, "result");
        body = s_test_block (block, 1, &header, &counts, verbose);
        //  Known blocks, values checked by hand with Python's int(x, 16)
        const char *name = strrchr (files.gl_pathv [file], '/') + 1;
        assert (header.number == strtoull (name, NULL, 10));
        cJSON *meta = cJSON_Parse (body->meta_json);
        if (header.number == 19900000) {
            assert (streq (s_test_string (meta, "baseFeePerGas"), "2885257840"));
            assert (cJSON_GetObjectItem (meta, "blobGasUsed")->valuedouble == 786432);
            assert (streq (s_test_string (meta, "nonce"), "0x0000000000000000"));
            assert (cJSON_GetArraySize (cJSON_GetObjectItem (meta, "withdrawals")) == 16);
            assert (header.timestamp == 0x6649346f);
            assert (streq (header.hash,
                           "0x746f3774ca35da17a8942103daf825eb4ebaa8b675888fd869e1e98c8ce69a12"));
            cJSON *blob = s_test_record (body, 47);
            assert (streq (s_test_string (blob, "hash"),
                           "0x82092adfe5583e2e2a12cd573cc400d347e186ce7049163e0d96599957f81f29"));
            assert (cJSON_GetObjectItem (blob, "type")->valuedouble == 3);
            assert (streq (s_test_string (blob, "maxFeePerBlobGas"), "1000000000"));
            assert (cJSON_GetArraySize (cJSON_GetObjectItem (blob, "blobVersionedHashes")) == 6);
            assert (cJSON_GetObjectItem (blob, "chainId")->valuedouble == 1);
            cJSON_Delete (blob);
            cJSON *first = s_test_record (body, 0);
            assert (streq (s_test_string (first, "gasPrice"), "2885257840"));
            cJSON_Delete (first);
        }
        if (header.number == 14151203) {
            assert (streq (s_test_string (meta, "totalDifficulty"), "40782121735316837311795"));
            assert (streq (s_test_string (meta, "difficulty"), "12842713496199915"));
        }
        if (header.number == 0) {
            assert (body->tx_count == 0 && header.tx_count == 0);
            assert (streq (s_test_string (meta, "nonce"), "0x0000000000000042"));
            assert (streq (s_test_string (meta, "totalDifficulty"), "17179869184"));
        }
        for (size_t index = 0; index < body->tx_count; index++) {
            const char *hash = body->txs [index].hash;
            const char *expected = NULL;
            if (streq (hash, "0xc173b771ce6c50eff46c7f6024e0e747f6c306767a27cabb8d8e3017b421b250"))
                expected = "1999900000000000000000";
            if (streq (hash, "0xc48e047f03aeded321c3f0c9d5591e5d1edf6b72971a1e04e4fc9294445aee5d"))
                expected = "620489983353899409988";
            if (streq (hash, "0x52001b82c8104b88e91480063ba8294cc65302371789ec59b1367c2c1778d9a4"))
                expected = "214603330360000000000";
            if (streq (hash,
                       "0x99f1097abd8f33a68f0ed63d60de5f3e7e2a3e0579b90d5f46a4f201c658b46d")) {
                //  Parity answer: chainId null (the chain's is used), no type, creates null
                expected = "110000000000000000000";
                cJSON *record = s_test_record (body, index);
                assert (cJSON_GetObjectItem (record, "chainId")->valuedouble == 1);
                assert (cJSON_GetObjectItem (record, "type")->valuedouble == 0);
                assert (cJSON_IsNull (cJSON_GetObjectItem (record, "creates")));
                assert (streq (s_test_string (record, "standardV"), "0x0"));
                cJSON_Delete (record);
            }
            if (expected) {
                cJSON *record = s_test_record (body, index);
                assert (streq (s_test_string (record, "value"), expected));
                cJSON_Delete (record);
            }
        }
        cJSON_Delete (meta);
        block_body_destroy (&body);
        cJSON_Delete (root);
    }
    globfree (&files);
    //  The data's README: 1,077 transactions, 399 native, 3 deployments; 8 without type
    assert (counts.blocks == 19);
    assert (counts.txs == 1077);
    assert (counts.native == 399);
    assert (counts.deployments == 3);
    assert (counts.untyped == 8);

    //  The hive test chain: its own chain id; block 1 has no tx chainId at all
    memset (&counts, 0, sizeof counts);
    const char *hive_blocks [] = {"1", "54"};
    for (size_t index = 0; index < 2; index++) {
        snprintf (path, sizeof path, "%s/blocks/testchain-hive/%s.json", evmtap_shared_data (),
                  hive_blocks [index]);
        cJSON *root = s_test_load (path);
        body = s_test_block (cJSON_GetObjectItem (root, "result"), TEST_HIVE_CHAIN_ID, &header,
                             &counts, verbose);
        cJSON *record = s_test_record (body, 0);
        assert (cJSON_GetObjectItem (record, "chainId")->valuedouble
                == (double) TEST_HIVE_CHAIN_ID);
        cJSON_Delete (record);
        block_body_destroy (&body);
        cJSON_Delete (root);
    }
    assert (counts.txs == 8 && counts.deployments == 7);

    //  Single hive transactions of every envelope type
    jsonw_t *writer = jsonw_new ();
    snprintf (path, sizeof path, "%s/blocks/testchain-hive/transactions/*.json",
              evmtap_shared_data ());
    assert (glob (path, 0, NULL, &files) == 0);
    assert (files.gl_pathc >= 7);
    for (size_t file = 0; file < files.gl_pathc; file++) {
        cJSON *root = s_test_load (files.gl_pathv [file]);
        const cJSON *tx = cJSON_GetObjectItem (root, "result");
        block_tx_t out;
        if (normalize_tx (tx, 1, writer, &out, err, sizeof err)) {
            fprintf (stderr, "%s: %s\n", files.gl_pathv [file], err);
            assert (false);
        }
        cJSON *record = cJSON_ParseWithLength (out.json, out.json_len);
        assert (record);
        s_test_fields (tx, record, false);
        s_test_lowercase (record);
        //  Their own chainId wins over the argument; legacy ones have none
        double chain = cJSON_GetObjectItem (record, "chainId")->valuedouble;
        if (cJSON_IsString (cJSON_GetObjectItem (tx, "chainId")))
            assert (chain == (double) TEST_HIVE_CHAIN_ID);
        else
            assert (chain == 1);
        if (strstr (files.gl_pathv [file], "legacy-create")) {
            assert (cJSON_IsNull (cJSON_GetObjectItem (record, "to")) && streq (out.to, ""));
            assert (!out.input_empty);
        }
        if (strstr (files.gl_pathv [file], "setcode")) {
            cJSON *list = cJSON_GetObjectItem (record, "authorizationList");
            assert (cJSON_GetArraySize (list) == 1);
            cJSON *entry = cJSON_GetArrayItem (list, 0);
            assert (streq (s_test_string (entry, "address"),
                           "0x8c2319620d7c348bb4e2b2a0b230c81f310e9561"));
            assert (cJSON_GetObjectItem (record, "type")->valuedouble == 4);
            assert (out.input_empty);
        }
        if (strstr (files.gl_pathv [file], "blob-tx")) {
            assert (streq (s_test_string (record, "maxFeePerBlobGas"), "131072"));
            assert (streq (s_test_string (record, "value"), "3"));
            cJSON *access = cJSON_GetArrayItem (cJSON_GetObjectItem (record, "accessList"), 0);
            assert (cJSON_GetArraySize (cJSON_GetObjectItem (access, "storageKeys")) == 2);
        }
        cJSON_Delete (record);
        free (out.json);
        cJSON_Delete (root);
    }
    globfree (&files);

    //  Hostile transactions: a valid one (upper-case hex, no type, no chainId) altered
    const char *good =
        "{\"blockHash\":\"0x80E911B62F552F563A2544DFEF5EB39EC8863D9082C998CA6B657F76E19DE38E\","
        "\"blockNumber\":\"0x1\",\"from\":\"0x7435ED30A8B4AEB0877CEF0C6E8CFFE834EB865F\","
        "\"gas\":\"0x13a54\",\"gasPrice\":\"0x1\",\"hash\":"
        "\"0xC1D605C6612A5FE84DC95810030BFE5B1D327652B381BC695E28F50D13B2B09E\","
        "\"input\":\"0xAB\",\"nonce\":\"0x0\",\"to\":\"0x7DCD17433742F4C0CA53122AB541D0BA67FC27DF\","
        "\"transactionIndex\":\"0x0\",\"value\":\"0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFF\",\"v\":\"0x1C\",\"r\":\"0x1\",\"s\":\"0x2\","
        "\"note\":\"caf\\u00e9 \\\"x\\\"\",\"accessList\":[{\"address\":\"0xAB\"}]}";
    cJSON *record = NULL;
    assert (s_test_mutated_tx (good, NULL, NULL, writer, err, sizeof err, &record) == 0);
    assert (streq (s_test_string (record, "hash"),
                   "0xc1d605c6612a5fe84dc95810030bfe5b1d327652b381bc695e28f50d13b2b09e"));
    assert (streq (s_test_string (record, "input"), "0xab"));
    assert (streq (s_test_string (record, "v"), "0x1c"));
    assert (streq (s_test_string (record, "note"), "caf\xc3\xa9 \"x\""));
    assert (
        streq (s_test_string (record, "value"),
               "115792089237316195423570985008687907853269984665640564039457584007913129639935"));
    assert (
        streq (s_test_string (cJSON_GetArrayItem (cJSON_GetObjectItem (record, "accessList"), 0),
                              "address"),
               "0xab"));
    assert (cJSON_GetObjectItem (record, "type")->valuedouble == 0);
    assert (cJSON_GetObjectItem (record, "chainId")->valuedouble == 1);
    assert (cJSON_GetObjectItem (record, "gas")->valuedouble == 0x13a54);
    //  The added fields come last, the node's in its order
    assert (streq (record->child->string, "blockHash"));
    cJSON_Delete (record);

    //  Each case: field, new value (NULL removes it), whether it is accepted
    struct {
        const char *key;
        const char *value;
        bool ok;
    } cases [] = {
        {"hash", NULL, false},
        {"from", NULL, false},
        {"input", NULL, false},
        {"blockNumber", NULL, false},
        {"blockNumber", "null", false},
        {"to", NULL, true},
        {"to", "null", true},
        {"to", "\"\"", false},
        {"to", "\"0x12\"", false},
        {"to", "1", false},
        {"hash", "\"0xc1d6\"", false},
        {"hash", "12", false},
        {"hash", "null", false},
        {"from", "{}", false},
        {"input", "[]", false},
        {"input", "\"0xzz\"", false},
        {"input", "\"0x\"", true},
        {"input", "\"ab\"", false},
        {"gas", "\"0x1fffffffffffff\"", true},
        {"gas", "\"0x20000000000000\"", false},
        {"gas", "\"0x\"", false},
        {"gas", "21000", false},
        {"gas", "null", true},
        {"nonce", "\"0xffffffffffffffffff\"", false},
        {"value", "\"0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"", false},
        {"value", "1", false},
        {"value", "\"1000\"", false},
        {"value", "null", true},
        {"chainId", "null", true},
        {"chainId", "\"0x89\"", true},
        {"chainId", "true", false},
        {"type", "\"0x2\"", true},
        {"type", "null", true},
        {"type", "[1]", false},
        {"v", "\"0xg\"", false},
        {"blockHash", "\"0x01\"", false},
        {"blockHash", "null", true},
        {"extra", "\"\\u0001\xff\xfe\"", true},
        {"extra", "{\"a\":[1,2.5,\"0xAA\"]}", true},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        int rc = s_test_mutated_tx (good, cases [index].key, cases [index].value, writer, err,
                                    sizeof err, NULL);
        if (rc != (cases [index].ok ? 0 : -1)) {
            fprintf (stderr, "case %s=%s: rc=%d %s\n", cases [index].key,
                     cases [index].value ? cases [index].value : "(removed)", rc, err);
            assert (false);
        }
        //  The error names the field, and the tx when its hash is good
        if (rc) {
            assert (strstr (err, cases [index].key));
            if (!streq (cases [index].key, "hash"))
                assert (strstr (
                    err, "0xc1d605c6612a5fe84dc95810030bfe5b1d327652b381bc695e28f50d13b2b09e"));
        }
        if (verbose && rc)
            printf ("\n   %s", err);
    }
    //  A chainId of its own, type given
    assert (s_test_mutated_tx (good, "chainId", "\"0x89\"", writer, err, sizeof err, &record) == 0);
    assert (cJSON_GetObjectItem (record, "chainId")->valuedouble == 137);
    cJSON_Delete (record);
    //  A removed `to` comes back as null; the record is a deployment
    assert (s_test_mutated_tx (good, "to", NULL, writer, err, sizeof err, &record) == 0);
    assert (cJSON_IsNull (cJSON_GetObjectItem (record, "to")));
    cJSON_Delete (record);
    //  Not objects at all; duplicated fields
    block_tx_t out;
    const char *not_objects [] = {"[]", "\"tx\"", "1", "null", "true"};
    for (size_t index = 0; index < sizeof not_objects / sizeof not_objects [0]; index++) {
        cJSON *item = cJSON_Parse (not_objects [index]);
        assert (normalize_tx (item, 1, writer, &out, err, sizeof err) == -1);
        assert (out.json == NULL && strstr (err, "not an object"));
        cJSON_Delete (item);
    }
    assert (normalize_tx (NULL, 1, writer, &out, err, sizeof err) == -1);
    cJSON *twice = cJSON_Parse (good);
    cJSON_AddItemToObject (twice, "chainId", cJSON_CreateString ("0x1"));
    cJSON_AddItemToObject (twice, "chainId", cJSON_CreateString ("0x2"));
    assert (normalize_tx (twice, 1, writer, &out, err, sizeof err) == -1);
    assert (strstr (err, "chainId") && strstr (err, "twice"));
    cJSON_Delete (twice);
    //  A tiny error buffer truncates, and none at all is allowed
    assert (s_test_mutated_tx (good, "from", NULL, writer, err, 8, NULL) == -1);
    assert (strlen (err) == 7);
    cJSON *tx = cJSON_Parse ("{}");
    assert (normalize_tx (tx, 1, writer, &out, NULL, 0) == -1);
    cJSON_Delete (tx);

    //  Every field of real transactions and blocks replaced by each wrong type: an
    //  error naming that field, or a valid record; never a crash.
    const char *wrong [] = {
        "1",
        "null",
        "true",
        "{}",
        "[]",
        "\"\"",
        "\"0x\"",
        "\"zz\"",
        "\"0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"",
        "\"\\u0001\xff\"",
        "[{\"a\":null}]"};
    snprintf (path, sizeof path, "%s/blocks/mainnet/19900000.json", evmtap_shared_data ());
    cJSON *root = s_test_load (path);
    cJSON *block = cJSON_GetObjectItem (root, "result");
    cJSON *samples [] = {cJSON_GetArrayItem (cJSON_GetObjectItem (block, "transactions"), 47),
                         cJSON_GetArrayItem (cJSON_GetObjectItem (block, "transactions"), 0)};
    for (size_t sample = 0; sample < 2; sample++) {
        char *text = cJSON_PrintUnformatted (samples [sample]);
        for (const cJSON *field = samples [sample]->child; field; field = field->next)
            for (size_t index = 0; index < sizeof wrong / sizeof wrong [0]; index++)
                if (s_test_mutated_tx (text, field->string, wrong [index], writer, err, sizeof err,
                                       NULL))
                    assert (strstr (err, field->string));
        free (text);
    }
    //  Blocks: the same for each field of a small block (its transactions trimmed)
    snprintf (path, sizeof path, "%s/blocks/mainnet/2000004.json", evmtap_shared_data ());
    cJSON *small_root = s_test_load (path);
    cJSON *small = cJSON_GetObjectItem (small_root, "result");
    for (const cJSON *field = small->child; field; field = field->next)
        for (size_t index = 0; index < sizeof wrong / sizeof wrong [0]; index++) {
            cJSON *copy = cJSON_Duplicate (small, true);
            cJSON_ReplaceItemInObjectCaseSensitive (copy, field->string,
                                                    cJSON_Parse (wrong [index]));
            if (normalize_block (copy, 1, &header, &body, err, sizeof err) == 0) {
                cJSON *meta = cJSON_Parse (body->meta_json);
                assert (meta);
                cJSON_Delete (meta);
                for (size_t tx_index = 0; tx_index < body->tx_count; tx_index++)
                    assert (body->txs [tx_index].json);
                block_body_destroy (&body);
            }
            else {
                assert (body == NULL);
                //  A wrong transaction list is named by its first bad entry
                assert (strstr (err, field->string)
                        || (streq (field->string, "transactions") && strstr (err, " tx 0")));
            }
            cJSON_Delete (copy);
        }
    //  Named block cases
    struct {
        const char *key;
        const char *value;
        const char *error;
    } block_cases [] = {
        {"number", NULL, "'number' is missing"},
        {"hash", NULL, "'hash' is missing"},
        {"parentHash", NULL, "'parentHash' is missing"},
        {"timestamp", NULL, "'timestamp' is missing"},
        {"transactions", NULL, "'transactions' is missing"},
        {"transactions", "{}", "'transactions' is not an array"},
        {"transactions", "\"0x\"", "'transactions' is not an array"},
        {"transactions", "[\"0xc1d605c6612a5fe84dc95810030bfe5b1d327652b381bc695e28f50d13b2b09e\"]",
         "tx 0: is not an object"},
        {"transactions", "[1]", "tx 0: is not an object"},
        {"number", "\"0x20000000000000\"", "'number' is not a hex quantity"},
        {"number", "\"0x1e8485\"", "'blockNumber' names another block"},
        {"hash", "\"0x746f3774ca35da17a8942103daf825eb4ebaa8b675888fd869e1e98c8ce69a12\"",
         "'blockHash' names another block"},
        {"hash", "\"0x746f\"", "'hash' is not a 32-byte hex hash"},
        {"gasLimit", "\"0xzz\"", "'gasLimit' is not a hex quantity"},
        {"nonce", "\"nonce\"", "'nonce' is not 0x hex"},
    };
    for (size_t index = 0; index < sizeof block_cases / sizeof block_cases [0]; index++) {
        cJSON *copy = cJSON_Duplicate (small, true);
        cJSON_DeleteItemFromObjectCaseSensitive (copy, block_cases [index].key);
        if (block_cases [index].value)
            cJSON_AddItemToObject (copy, block_cases [index].key,
                                   cJSON_Parse (block_cases [index].value));
        int rc = normalize_block (copy, 1, &header, &body, err, sizeof err);
        if (rc != -1 || !strstr (err, block_cases [index].error)) {
            fprintf (stderr, "block case %zu: rc=%d %s\n", index, rc, err);
            assert (false);
        }
        assert (body == NULL);
        if (verbose)
            printf ("\n   %s", err);
        cJSON_Delete (copy);
    }
    //  A bad transaction deep in the block names block, position and hash
    cJSON *copy = cJSON_Duplicate (small, true);
    cJSON *third = cJSON_GetArrayItem (cJSON_GetObjectItem (copy, "transactions"), 2);
    cJSON_ReplaceItemInObjectCaseSensitive (third, "from", cJSON_CreateNumber (1));
    assert (normalize_block (copy, 1, &header, &body, err, sizeof err) == -1);
    assert (strstr (err, "block 2000004 tx 2 0x") && strstr (err, "field 'from'"));
    cJSON_Delete (copy);
    //  Transactions whose node left blockHash out, or said null, take the block's, right
    //  after blockNumber; in hashes mode too
    copy = cJSON_Duplicate (small, true);
    cJSON *listed = cJSON_GetObjectItem (copy, "transactions");
    cJSON_DeleteItemFromObjectCaseSensitive (cJSON_GetArrayItem (listed, 0), "blockHash");
    cJSON_ReplaceItemInObjectCaseSensitive (cJSON_GetArrayItem (listed, 1), "blockHash",
                                            cJSON_CreateNull ());
    const cJSON *fetched [] = {cJSON_GetArrayItem (listed, 0), cJSON_GetArrayItem (listed, 1)};
    cJSON *hash_list = cJSON_CreateArray ();
    for (size_t index = 0; index < 2; index++)
        cJSON_AddItemToArray (
            hash_list,
            cJSON_CreateString (
                cJSON_GetObjectItemCaseSensitive (fetched [index], "hash")->valuestring));
    cJSON *by_hash = cJSON_Duplicate (copy, true);
    cJSON_ReplaceItemInObjectCaseSensitive (by_hash, "transactions", hash_list);
    for (int mode = 0; mode < 2; mode++) {
        assert (
            (mode ? normalize_block_hashes (by_hash, fetched, 2, 1, &header, &body, err, sizeof err)
                  : normalize_block (copy, 1, &header, &body, err, sizeof err))
            == 0);
        for (size_t index = 0; index < 2; index++) {
            cJSON *record = s_test_record (body, index);
            assert (streq (s_test_block_hash (record), header.hash));
            if (index == 0)
                assert (
                    streq (cJSON_GetObjectItem (record, "blockNumber")->next->string, "blockHash"));
            cJSON_Delete (record);
        }
        block_body_destroy (&body);
    }
    cJSON_Delete (by_hash);
    cJSON_Delete (copy);
    //  The node's own chainId and transactionCount give way to ours
    copy = cJSON_Duplicate (small, true);
    cJSON_AddItemToObject (copy, "chainId", cJSON_CreateString ("0x5"));
    cJSON_AddItemToObject (copy, "transactionCount", cJSON_CreateString ("0x99"));
    assert (normalize_block (copy, 1, &header, &body, err, sizeof err) == 0);
    cJSON *meta = cJSON_Parse (body->meta_json);
    assert (cJSON_GetObjectItem (meta, "chainId")->valuedouble == 1);
    assert (cJSON_GetObjectItem (meta, "transactionCount")->valuedouble == 4);
    assert (cJSON_GetArraySize (meta) == cJSON_GetArraySize (small) + 1);
    cJSON_Delete (meta);
    block_body_destroy (&body);
    cJSON_Delete (copy);
    assert (normalize_block (NULL, 1, &header, &body, err, sizeof err) == -1);
    cJSON *array = cJSON_CreateArray ();
    assert (normalize_block (array, 1, &header, &body, err, sizeof err) == -1);
    assert (normalize_block_hashes (array, NULL, 0, 1, &header, &body, err, sizeof err) == -1);
    cJSON_Delete (array);
    //  Hashes mode: an entry of the hash list that is no hash
    copy = cJSON_Duplicate (small, true);
    cJSON_ReplaceItemInObjectCaseSensitive (copy, "transactions", cJSON_Parse ("[\"0x12\"]"));
    const cJSON *one [] = {cJSON_GetArrayItem (cJSON_GetObjectItem (small, "transactions"), 0)};
    assert (normalize_block_hashes (copy, one, 1, 1, &header, &body, err, sizeof err) == -1);
    assert (strstr (err, "tx 0") && strstr (err, "'transactions'"));
    cJSON_Delete (copy);

    cJSON_Delete (small_root);
    cJSON_Delete (root);
    jsonw_destroy (&writer);
}
