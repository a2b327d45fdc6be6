/*  receipts: the join of receipts onto a normalized block (see receipts.h). The new texts
    are built aside and swapped in only when every receipt and log checked out, so a
    failed join leaves the body as the fetch made it. */
#include "evmtap.h"
#include <cjson/cJSON.h>
#include <strings.h>
#include "receipts.h"
#include "block.h"
#include "hexutil.h"
#include "jsonw.h"
#include "normalize.h"

//  A receipt has a dozen fields; far more means an answer not worth joining.
#define RECEIPT_FIELDS_MAX 64
//  LOG0..LOG4: an event log has at most four topics.
#define LOG_TOPICS_MAX 4

//  Receipt fields that repeat the transaction or the block, or that go elsewhere (logs
//  become log records; the bloom filter is derived from them): not joined.
static bool
s_skipped (const char *key)
{
    static const char *names [] = {"transactionHash",
                                   "transactionIndex",
                                   "blockHash",
                                   "blockNumber",
                                   "blockTimestamp",
                                   "from",
                                   "to",
                                   "type",
                                   "logs",
                                   "logsBloom"};
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++)
        if (streq (key, names [index]))
            return true;
    return false;
}

//  A fixed-length 0x hex string equal to expected (lowercase), in any case.
static bool
s_names (const cJSON *item, const char *expected)
{
    return cJSON_IsString (item) && item->valuestring
           && strcasecmp (item->valuestring, expected) == 0;
}

static bool
s_fixed_hex (const cJSON *item, size_t len)
{
    return cJSON_IsString (item) && item->valuestring && strlen (item->valuestring) == len
           && hex_is_valid (item->valuestring);
}

//  Where a check failed, for the error text.
typedef struct {
    size_t tx;    //  transaction index in the block
    long log;     //  index in the receipt's logs, -1 for the receipt itself
    const char *field;
    const char *why;
} s_failure_t;

//  Checks that an optional field, when present, names this block or transaction.
static int
s_check_names (const cJSON *object, const char *field, const char *expected, s_failure_t *failure)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, field);
    if (!item || cJSON_IsNull (item) || s_names (item, expected))
        return 0;
    failure->field = field;
    failure->why = "names another one";
    return -1;
}

static int
s_check_number (const cJSON *object, const char *field, uint64_t expected, s_failure_t *failure)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, field);
    uint64_t value;
    if (!item || cJSON_IsNull (item))
        return 0;
    if (cJSON_IsString (item) && hex_to_u64 (item->valuestring, &value) == 0 && value == expected)
        return 0;
    failure->field = field;
    failure->why = "names another one";
    return -1;
}

//  Writes one log's record: what the decoder needs, and where the log sits.
static int
s_write_log (jsonw_t *writer, const cJSON *log, const block_header_t *header, uint64_t chain_id,
             size_t tx_index, const char *tx_hash, block_log_t *out, s_failure_t *failure)
{
    if (!cJSON_IsObject (log)) {
        failure->why = "is not an object";
        return -1;
    }
    const cJSON *address = cJSON_GetObjectItemCaseSensitive (log, "address");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive (log, "topics");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (log, "data");
    const cJSON *log_index = cJSON_GetObjectItemCaseSensitive (log, "logIndex");
    failure->field = "address";
    if (!s_fixed_hex (address, HEX_ADDRESS_LEN)) {
        failure->why = "is not a 20-byte hex address";
        return -1;
    }
    failure->field = "logIndex";
    if (!cJSON_IsString (log_index) || hex_to_u64 (log_index->valuestring, &out->log_index)
        || out->log_index > HEX_NUMBER_MAX) {
        failure->why = "is not a hex quantity of at most 53 bits";
        return -1;
    }
    failure->field = "topics";
    int topic_count = cJSON_GetArraySize (topics);
    if (!cJSON_IsArray (topics) || topic_count > LOG_TOPICS_MAX) {
        failure->why = "is not an array of at most 4 topics";
        return -1;
    }
    for (const cJSON *topic = topics->child; topic; topic = topic->next)
        if (!s_fixed_hex (topic, HEX_HASH_LEN)) {
            failure->why = "holds a topic that is not a 32-byte hex hash";
            return -1;
        }
    failure->field = "data";
    if (!cJSON_IsString (data) || !data->valuestring || !hex_is_valid (data->valuestring)
        || strlen (data->valuestring) % 2) {
        failure->why = "is not 0x hex of whole bytes";
        return -1;
    }
    if (s_check_names (log, "transactionHash", tx_hash, failure)
        || s_check_names (log, "blockHash", header->hash, failure)
        || s_check_number (log, "blockNumber", header->number, failure)
        || s_check_number (log, "transactionIndex", tx_index, failure))
        return -1;
    failure->field = NULL;

    jsonw_reset (writer);
    jsonw_object_begin (writer);
    jsonw_key (writer, "hash");
    jsonw_string (writer, tx_hash);
    jsonw_key (writer, "blockNumber");
    jsonw_u64 (writer, header->number);
    jsonw_key (writer, "blockHash");
    jsonw_string (writer, header->hash);
    jsonw_key (writer, "chainId");
    jsonw_u64 (writer, chain_id);
    jsonw_key (writer, "transactionIndex");
    jsonw_u64 (writer, tx_index);
    jsonw_key (writer, "logIndex");
    jsonw_u64 (writer, out->log_index);
    jsonw_key (writer, "address");
    jsonw_hex (writer, address->valuestring, HEX_ADDRESS_LEN);
    jsonw_key (writer, "topics");
    jsonw_array_begin (writer);
    for (const cJSON *topic = topics->child; topic; topic = topic->next)
        jsonw_hex (writer, topic->valuestring, HEX_HASH_LEN);
    jsonw_array_end (writer);
    jsonw_key (writer, "data");
    jsonw_hex (writer, data->valuestring, strlen (data->valuestring));
    jsonw_object_end (writer);
    out->tx_index = (uint32_t) tx_index;
    out->json_len = jsonw_size (writer);
    out->json = jsonw_strdup (writer);
    return 0;
}

//  The transaction's JSON with the receipt's fields added before its closing brace.
static char *
s_join_text (const block_tx_t *tx, jsonw_t *fields, size_t *len)
{
    const char *extra = jsonw_data (fields);
    size_t extra_len = jsonw_size (fields);
    assert (tx->json_len >= 2 && tx->json [tx->json_len - 1] == '}');
    assert (extra_len >= 2 && extra [0] == '{');
    bool empty_tx = tx->json_len == 2, no_fields = extra_len == 2;
    size_t size = no_fields ? tx->json_len : tx->json_len - 1 + !empty_tx + extra_len - 1;
    char *text = (char *) malloc (size + 1);
    assert (text);
    if (no_fields)
        memcpy (text, tx->json, tx->json_len);
    else {
        size_t at = tx->json_len - 1;
        memcpy (text, tx->json, at);
        if (!empty_tx)
            text [at++] = ',';
        memcpy (text + at, extra + 1, extra_len - 1);
    }
    text [size] = 0;
    *len = size;
    return text;
}

//  Checks one receipt and writes its own fields into fields (an object). Returns 0, or
//  -1 with the failure.
static int
s_write_receipt (jsonw_t *fields, const cJSON *receipt, const block_header_t *header,
                 size_t tx_index, const block_tx_t *tx, s_failure_t *failure)
{
    if (!cJSON_IsObject (receipt)) {
        failure->why = cJSON_IsNull (receipt) ? "is null (not known to the node yet)"
                                              : "is not an object";
        return -1;
    }
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive (receipt, "transactionHash");
    failure->field = "transactionHash";
    if (!s_names (hash, tx->hash)) {
        failure->why = hash ? "names another transaction" : "is missing";
        return -1;
    }
    const cJSON *block_hash = cJSON_GetObjectItemCaseSensitive (receipt, "blockHash");
    failure->field = "blockHash";
    if (!s_names (block_hash, header->hash)) {
        failure->why = block_hash ? "names another block" : "is missing";
        return -1;
    }
    if (s_check_number (receipt, "blockNumber", header->number, failure)
        || s_check_number (receipt, "transactionIndex", tx_index, failure))
        return -1;
    //  The receipt's own fields; one the transaction already has (an L2's extra field in
    //  both) or one the receipt repeats stays as it was: a key appears once in a record.
    const char *names [RECEIPT_FIELDS_MAX];
    const cJSON *items [RECEIPT_FIELDS_MAX];
    size_t count = 0;
    for (const cJSON *child = receipt->child; child; child = child->next) {
        if (!child->string || s_skipped (child->string))
            continue;
        if (count == RECEIPT_FIELDS_MAX) {
            failure->why = "has too many fields";
            return -1;
        }
        names [count] = child->string;
        items [count++] = child;
    }
    const char *present [RECEIPT_FIELDS_MAX];
    size_t lens [RECEIPT_FIELDS_MAX];
    if (jsonw_members (tx->json, tx->json_len, names, count, present, lens))
        for (size_t index = 0; index < count; index++)
            present [index] = NULL;
    jsonw_reset (fields);
    jsonw_object_begin (fields);
    for (size_t index = 0; index < count; index++) {
        bool repeated = present [index] != NULL;
        for (size_t earlier = 0; earlier < index && !repeated; earlier++)
            repeated = streq (names [earlier], names [index]);
        if (repeated)
            continue;
        jsonw_key (fields, names [index]);
        if (normalize_value (fields, names [index], items [index], &failure->why)) {
            failure->field = names [index];
            return -1;
        }
    }
    jsonw_object_end (fields);
    failure->field = NULL;
    return 0;
}

//  One receipt per transaction, or the answer is of no use.
static int
s_check_count (const block_body_t *body, const block_header_t *header, size_t count, char *err,
               size_t err_size)
{
    if (count == body->tx_count)
        return 0;
    snprintf (err, err_size, "block %" PRIu64 ": %zu receipts for %zu transactions", header->number,
              count, body->tx_count);
    return -1;
}

int
receipts_join (block_body_t *body, const block_header_t *header, uint64_t chain_id,
               const cJSON *const *receipts, size_t count, char *err, size_t err_size)
{
    assert (body);
    assert (header);
    if (s_check_count (body, header, count, err, err_size))
        return -1;
    size_t log_total = 0;
    for (size_t index = 0; index < count; index++) {
        const cJSON *logs = cJSON_IsObject (receipts [index])
                                ? cJSON_GetObjectItemCaseSensitive (receipts [index], "logs")
                                : NULL;
        log_total += cJSON_IsArray (logs) ? (size_t) cJSON_GetArraySize (logs) : 0;
    }
    char **texts = (char **) calloc (count + 1, sizeof (char *));
    size_t *lengths = (size_t *) calloc (count + 1, sizeof (size_t));
    block_log_t *logs = (block_log_t *) calloc (log_total + 1, sizeof (block_log_t));
    assert (texts && lengths && logs);
    jsonw_t *fields = jsonw_new ();
    jsonw_t *writer = jsonw_new ();
    s_failure_t failure = {0, -1, NULL, NULL};
    size_t log_count = 0;
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        failure = (s_failure_t) {index, -1, NULL, NULL};
        const cJSON *receipt = receipts [index];
        if (s_write_receipt (fields, receipt, header, index, &body->txs [index], &failure)) {
            rc = -1;
            break;
        }
        const cJSON *receipt_logs = cJSON_GetObjectItemCaseSensitive (receipt, "logs");
        if (receipt_logs && !cJSON_IsNull (receipt_logs) && !cJSON_IsArray (receipt_logs)) {
            failure.field = "logs";
            failure.why = "is not an array";
            rc = -1;
            break;
        }
        long position = 0;
        for (const cJSON *log = receipt_logs ? receipt_logs->child : NULL; log;
             log = log->next, position++) {
            failure.log = position;
            if (s_write_log (writer, log, header, chain_id, index, body->txs [index].hash,
                             &logs [log_count], &failure)) {
                rc = -1;
                break;
            }
            log_count++;
        }
        if (rc == 0)
            texts [index] = s_join_text (&body->txs [index], fields, &lengths [index]);
    }
    jsonw_destroy (&fields);
    jsonw_destroy (&writer);
    if (rc == 0) {
        for (size_t index = 0; index < count; index++) {
            free (body->txs [index].json);
            body->txs [index].json = texts [index];
            body->txs [index].json_len = lengths [index];
        }
        block_body_set_logs (body, 0);
        body->logs = logs;
        body->log_count = log_count;
    }
    else {
        if (failure.log >= 0)
            snprintf (err, err_size, "block %" PRIu64 " receipt %zu log %ld: field '%s' %s",
                      header->number, failure.tx, failure.log, failure.field ? failure.field : "",
                      failure.why);
        else
            snprintf (err, err_size, "block %" PRIu64 " receipt %zu: %s%s%s%s", header->number,
                      failure.tx, failure.field ? "field '" : "",
                      failure.field ? failure.field : "", failure.field ? "' " : "", failure.why);
        for (size_t index = 0; index < count; index++)
            free (texts [index]);
        for (size_t index = 0; index < log_count; index++)
            free (logs [index].json);
        free (logs);
    }
    free (texts);
    free (lengths);
    return rc;
}

int
receipts_join_array (block_body_t *body, const block_header_t *header, uint64_t chain_id,
                     const cJSON *array, char *err, size_t err_size)
{
    if (!cJSON_IsArray (array)) {
        snprintf (err, err_size, "block %" PRIu64 ": the receipts are %s", header->number,
                  cJSON_IsNull (array) ? "null (block not known to the node)" : "not an array");
        return -1;
    }
    //  Receipts go to their transactions by transactionIndex: not every source lists them
    //  in block order (the stored answer of mainnet block 483920 does not). The join then
    //  checks each one's transactionHash.
    size_t count = (size_t) cJSON_GetArraySize (array);
    if (s_check_count (body, header, count, err, err_size))
        return -1;
    const cJSON **receipts = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
    assert (receipts);
    size_t position = 0;
    for (const cJSON *item = array->child; item; item = item->next, position++) {
        const cJSON *index_item = cJSON_IsObject (item)
                                      ? cJSON_GetObjectItemCaseSensitive (item, "transactionIndex")
                                      : NULL;
        uint64_t index = position;
        if (cJSON_IsString (index_item) && hex_to_u64 (index_item->valuestring, &index) == 0
            && index < count && !receipts [index])
            receipts [index] = item;
        else if (index_item && !cJSON_IsNull (index_item)) {
            snprintf (err, err_size,
                      "block %" PRIu64 " receipt %zu: field 'transactionIndex' "
                      "is not a free transaction position",
                      header->number, position);
            free (receipts);
            return -1;
        }
        else if (position < count && !receipts [position])
            receipts [position] = item;
    }
    int rc = receipts_join (body, header, chain_id, receipts, count, err, err_size);
    free (receipts);
    return rc;
}

//  A two-transaction block: the first with two logs, the second a deployment without.
static block_body_t *
s_sample (block_header_t *header)
{
    memset (header, 0, sizeof *header);
    header->number = 7;
    snprintf (header->hash, sizeof header->hash, "0x%064d", 7);
    header->tx_count = 2;
    block_body_t *body = block_body_new (2);
    snprintf (body->txs [0].hash, sizeof body->txs [0].hash, "0x%064d", 1);
    snprintf (body->txs [1].hash, sizeof body->txs [1].hash, "0x%064d", 2);
    body->txs [0].json = zsys_sprintf ("{\"hash\":\"%s\",\"chainId\":1,\"depositNonce\":\"0x1\","
                                       "\"nested\":{\"status\":2}}",
                                       body->txs [0].hash);
    body->txs [0].json_len = strlen (body->txs [0].json);
    body->txs [1].json = strdup ("{}");
    body->txs [1].json_len = 2;
    return body;
}

static char *
s_receipts_text (const char *first_hash, const char *log_data)
{
    return zsys_sprintf (
        "[{\"transactionHash\":\"%s\",\"transactionIndex\":\"0x0\",\"blockHash\":\"0x%064d\","
        "\"blockNumber\":\"0x7\",\"from\":\"0x01\",\"status\":\"0x1\",\"gasUsed\":\"0x5208\","
        "\"cumulativeGasUsed\":\"0x5208\",\"effectiveGasPrice\":\"0x3B9ACA00\","
        "\"contractAddress\":null,\"logsBloom\":\"0x00\",\"type\":\"0x2\",\"depositNonce\":\"0x9\","
        "\"gasUsed\":\"0x1\",\"logs\":["
        "{\"address\":\"0xA0B86991C6218B36C1D19D4A2E9EB0CE3606EB48\",\"topics\":["
        "\"0xDDF252AD1BE2C89B69C2B068FC378DAA952BA7F163C4A11628F55A4DF523B3EF\"],"
        "\"data\":\"%s\",\"logIndex\":\"0x0\",\"transactionHash\":\"%s\",\"blockNumber\":\"0x7\"},"
        "{\"address\":\"0x0000000000000000000000000000000000000001\",\"topics\":[],"
        "\"data\":\"0x\",\"logIndex\":\"0x1\"}]},"
        "{\"transactionHash\":\"0x%064d\",\"transactionIndex\":\"0x1\",\"status\":\"0x0\","
        "\"blockHash\":\"0x%064d\","
        "\"contractAddress\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",\"logs\":[]}]",
        first_hash, 7, log_data, first_hash, 2, 7);
}

//  Joins a good answer and checks the texts; then every kind of mismatch is refused with
//  the body untouched.
void
receipts_test (bool verbose)
{
    (void) verbose;
    block_header_t header;
    block_body_t *body = s_sample (&header);
    char err [256];
    char *hash = strdup (body->txs [0].hash);
    char *text = s_receipts_text (hash, "0x00FF");
    cJSON *array = cJSON_Parse (text);
    assert (array);
    assert (receipts_join_array (body, &header, 1, array, err, sizeof err) == 0);
    char *expected = zsys_sprintf (
        "{\"hash\":\"%s\",\"chainId\":1,\"depositNonce\":\"0x1\",\"nested\":{\"status\":2},"
        "\"status\":1,\"gasUsed\":21000,"
        "\"cumulativeGasUsed\":21000,\"effectiveGasPrice\":\"1000000000\","
        "\"contractAddress\":null}",
        hash);
    assert (streq (body->txs [0].json, expected) && body->txs [0].json_len == strlen (expected));
    zstr_free (&expected);
    assert (streq (body->txs [1].json, "{\"status\":0,\"contractAddress\":"
                                       "\"0x5fbdb2315678afecb367f032d93f642f64180aa3\"}"));
    assert (body->log_count == 2);
    assert (body->logs [0].tx_index == 0 && body->logs [0].log_index == 0);
    expected = zsys_sprintf (
        "{\"hash\":\"%s\",\"blockNumber\":7,\"blockHash\":\"0x%064d\",\"chainId\":1,"
        "\"transactionIndex\":0,\"logIndex\":0,"
        "\"address\":\"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\",\"topics\":["
        "\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\"],"
        "\"data\":\"0x00ff\"}",
        hash, 7);
    assert (streq (body->logs [0].json, expected));
    zstr_free (&expected);
    assert (body->logs [1].log_index == 1 && strstr (body->logs [1].json, "\"topics\":[]"));
    cJSON_Delete (array);

    //  Receipts out of block order go to their transactions by transactionIndex: the same.
    block_header_t reordered_header;
    block_body_t *reordered = s_sample (&reordered_header);
    array = cJSON_Parse (text);
    cJSON *first = cJSON_DetachItemFromArray (array, 0);
    cJSON_AddItemToArray (array, first);
    assert (receipts_join_array (reordered, &reordered_header, 1, array, err, sizeof err) == 0);
    assert (reordered->log_count == body->log_count);
    for (size_t index = 0; index < body->tx_count; index++)
        assert (streq (reordered->txs [index].json, body->txs [index].json));
    for (size_t index = 0; index < body->log_count; index++)
        assert (streq (reordered->logs [index].json, body->logs [index].json));
    block_body_destroy (&reordered);
    cJSON_Delete (array);
    zstr_free (&text);
    block_body_destroy (&body);

    //  Each of these is refused, naming the place, and leaves the body as it was.
    struct {
        const char *from, *to, *message;
    } cases [] = {
        {"\"blockNumber\":\"0x7\",\"from\"", "\"blockNumber\":\"0x8\",\"from\"",
         "receipt 0: field 'blockNumber' names another one"},
        {"\"status\":\"0x0\",\"blockHash\":\"0x0", "\"status\":\"0x0\",\"blockHash\":\"0x1",
         "receipt 1: field 'blockHash' names another block"},
        {"\"data\":\"0x00FF\"", "\"data\":\"0x00F\"", "receipt 0 log 0: field 'data' is not"},
        {"\"topics\":[]", "\"topics\":[1]", "receipt 0 log 1: field 'topics' holds a topic"},
        {"\"address\":\"0x0000000000000000000000000000000000000001\"", "\"address\":null",
         "receipt 0 log 1: field 'address' is not"},
        {"\"logIndex\":\"0x1\"", "\"logIndex\":7", "log 1: field 'logIndex' is not"},
        {"\"logIndex\":\"0x1\"", "\"logIndex\":\"0x20000000000000\"",
         "log 1: field 'logIndex' is not"},
        {"\"gasUsed\":\"0x5208\"", "\"gasUsed\":\"0xzz\"", "receipt 0: field 'gasUsed' is not"},
        {"\"logs\":[]", "\"logs\":{}", "receipt 1: field 'logs' is not an array"},
        {"\"transactionIndex\":\"0x0\"", "\"transactionIndex\":\"0x1\"",
         "receipt 1: field 'transactionIndex' is not a free transaction position"},
        {"\"transactionIndex\":\"0x0\"", "\"transactionIndex\":\"0x2\"",
         "receipt 0: field 'transactionIndex' is not a free transaction position"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        body = s_sample (&header);
        text = s_receipts_text (hash, "0x00FF");
        char *at = strstr (text, cases [index].from);
        assert (at);
        char *changed = zsys_sprintf ("%.*s%s%s", (int) (at - text), text, cases [index].to,
                                      at + strlen (cases [index].from));
        array = cJSON_Parse (changed);
        assert (array);
        err [0] = 0;
        assert (receipts_join_array (body, &header, 1, array, err, sizeof err) == -1);
        if (!strstr (err, cases [index].message))
            zsys_error ("receipts_test: case %zu said '%s'", index, err);
        assert (strstr (err, cases [index].message));
        assert (body->log_count == 0 && streq (body->txs [1].json, "{}"));
        cJSON_Delete (array);
        zstr_free (&changed);
        zstr_free (&text);
        block_body_destroy (&body);
    }
    //  Another transaction's receipt, a missing receipt, null, a wrong count.
    body = s_sample (&header);
    text = s_receipts_text ("0x1111111111111111111111111111111111111111111111111111111111111111",
                            "0x");
    array = cJSON_Parse (text);
    assert (receipts_join_array (body, &header, 1, array, err, sizeof err) == -1);
    assert (strstr (err, "receipt 0: field 'transactionHash' names another transaction"));
    cJSON_DeleteItemFromArray (array, 1);
    assert (receipts_join_array (body, &header, 1, array, err, sizeof err) == -1);
    assert (strstr (err, "1 receipts for 2 transactions"));
    cJSON *null = cJSON_CreateNull ();
    assert (receipts_join_array (body, &header, 1, null, err, sizeof err) == -1);
    assert (strstr (err, "null"));
    const cJSON *missing [2] = {NULL, NULL};
    assert (receipts_join (body, &header, 1, missing, 2, err, sizeof err) == -1);
    assert (strstr (err, "receipt 0: is not an object"));
    cJSON_Delete (null);
    cJSON_Delete (array);
    zstr_free (&text);
    block_body_destroy (&body);
    free (hash);
}
