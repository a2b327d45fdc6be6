/*  log_record: the records of an event log (see log_record.h). The internal record was
    written by receipts_join, so its form is known; it is still checked field by field,
    since a malformed one must give a record with a reason, never a crash. */
#include "evmtap.h"
#include <cjson/cJSON.h>
#include "log_record.h"
#include "block.h"
#include "call_decoder.h"
#include "hexutil.h"
#include "jsonw.h"

#define LOG_TOPICS_MAX 4

//  Keccak-256 of "Transfer(address,address,uint256)": ERC-20 and ERC-721 share it.
#define TRANSFER_TOPIC "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

struct _log_record_t {
    cJSON *doc;          //  the record last parsed (owns the strings below)
    const char *hash;    //  its transaction
    uint64_t block_number;
    const char *block_hash;    //  its block's, so that a consumer drops an orphan's logs
    uint64_t chain_id;
    uint64_t tx_index;
    uint64_t log_index;
    const char *address;
    const char *topic_hex [LOG_TOPICS_MAX];
    uint8_t topics [LOG_TOPICS_MAX][32];
    size_t topic_count;
    const char *data_hex;
    uint8_t *data;
    size_t data_size;
    size_t data_capacity;
    jsonw_t *writer;
};

log_record_t *
log_record_new (void)
{
    log_record_t *self = (log_record_t *) zmalloc (sizeof (log_record_t));
    assert (self);
    self->writer = jsonw_new ();
    return self;
}

void
log_record_destroy (log_record_t **self_p)
{
    assert (self_p);
    log_record_t *self = *self_p;
    if (!self)
        return;
    cJSON_Delete (self->doc);
    free (self->data);
    jsonw_destroy (&self->writer);
    free (self);
    *self_p = NULL;
}

static const char *
s_hex_member (const cJSON *doc, const char *name, size_t len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (doc, name);
    if (!cJSON_IsString (item) || !item->valuestring || !hex_is_valid (item->valuestring))
        return NULL;
    size_t actual = strlen (item->valuestring);
    return (len ? actual == len : actual % 2 == 0) ? item->valuestring : NULL;
}

static int
s_number_member (const cJSON *doc, const char *name, uint64_t *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (doc, name);
    //  The record's numbers are exact in a double up to the bound normalize keeps.
    if (!cJSON_IsNumber (item) || item->valuedouble < 0
        || item->valuedouble > (double) HEX_NUMBER_MAX)
        return -1;
    *value = (uint64_t) item->valuedouble;
    return 0;
}

int
log_record_parse (log_record_t *self, const char *json, size_t len, char *err, size_t err_size)
{
    assert (self && json);
    cJSON_Delete (self->doc);
    self->doc = cJSON_ParseWithLength (json, len);
    self->hash = self->block_hash = self->address = self->data_hex = NULL;
    self->topic_count = self->data_size = 0;
    const cJSON *doc = self->doc;
    const char *bad = NULL;
    if (!cJSON_IsObject (doc))
        bad = "the record";
    else if (!(self->hash = s_hex_member (doc, "hash", HEX_HASH_LEN)))
        bad = "hash";
    else if (s_number_member (doc, "blockNumber", &self->block_number))
        bad = "blockNumber";
    else if (!(self->block_hash = s_hex_member (doc, "blockHash", HEX_HASH_LEN)))
        bad = "blockHash";
    else if (s_number_member (doc, "chainId", &self->chain_id))
        bad = "chainId";
    else if (s_number_member (doc, "transactionIndex", &self->tx_index))
        bad = "transactionIndex";
    else if (s_number_member (doc, "logIndex", &self->log_index))
        bad = "logIndex";
    else if (!(self->address = s_hex_member (doc, "address", HEX_ADDRESS_LEN)))
        bad = "address";
    else if (!(self->data_hex = s_hex_member (doc, "data", 0)))
        bad = "data";
    if (!bad) {
        const cJSON *topics = cJSON_GetObjectItemCaseSensitive (doc, "topics");
        if (!cJSON_IsArray (topics) || cJSON_GetArraySize (topics) > LOG_TOPICS_MAX)
            bad = "topics";
        for (const cJSON *topic = bad ? NULL : topics->child; topic; topic = topic->next) {
            const char *text = cJSON_IsString (topic) ? topic->valuestring : NULL;
            if (!text || strlen (text) != HEX_HASH_LEN
                || hex_decode (text, self->topics [self->topic_count], 32) != 32) {
                bad = "topics";
                break;
            }
            self->topic_hex [self->topic_count++] = text;
        }
    }
    if (!bad) {
        size_t size = (strlen (self->data_hex) - 2) / 2;
        if (size + 1 > self->data_capacity) {
            free (self->data);
            self->data_capacity = size + 1024;
            self->data = (uint8_t *) malloc (self->data_capacity);
            assert (self->data);
        }
        if (hex_decode (self->data_hex, self->data, self->data_capacity) != (int) size)
            bad = "data";
        self->data_size = size;
    }
    if (bad) {
        snprintf (err, err_size, "log record: %s is missing or malformed", bad);
        return -1;
    }
    return 0;
}

//  The fields every record of a log starts with.
static void
s_write_place (log_record_t *self)
{
    jsonw_t *writer = self->writer;
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    jsonw_key (writer, "hash");
    jsonw_string (writer, self->hash);
    jsonw_key (writer, "blockNumber");
    jsonw_u64 (writer, self->block_number);
    jsonw_key (writer, "blockHash");
    jsonw_string (writer, self->block_hash);
    jsonw_key (writer, "chainId");
    jsonw_u64 (writer, self->chain_id);
    jsonw_key (writer, "transactionIndex");
    jsonw_u64 (writer, self->tx_index);
    jsonw_key (writer, "logIndex");
    jsonw_u64 (writer, self->log_index);
}

char *
log_record_decoded (log_record_t *self, call_decoder_t *decoder, size_t *len,
                    call_decoding_t *decoding)
{
    assert (self && decoder && len);
    jsonw_t *writer = self->writer;
    s_write_place (self);
    call_decoding_t result;
    if (self->topic_count) {
        result = call_decoder_write_log (decoder, self->address,
                                         (const uint8_t (*) [32]) self->topics, self->topic_count,
                                         self->data, self->data_size, writer);
    }
    else {
        //  LOG0: an anonymous event with no topic at all names no event to look up.
        jsonw_key (writer, "address");
        jsonw_string (writer, self->address);
        jsonw_key (writer, "topic0");
        jsonw_null (writer);
        jsonw_key (writer, "decoding");
        jsonw_string (writer, "unknown_selector");
        jsonw_key (writer, "reason");
        jsonw_string (writer, "the log has no topics (an anonymous event)");
        result = CALL_UNKNOWN_SELECTOR;
    }
    if (result != CALL_DECODED) {
        //  Not decoded: the raw log goes along, for decoding later.
        jsonw_key (writer, "topics");
        jsonw_array_begin (writer);
        for (size_t index = 0; index < self->topic_count; index++)
            jsonw_string (writer, self->topic_hex [index]);
        jsonw_array_end (writer);
        jsonw_key (writer, "data");
        jsonw_string (writer, self->data_hex);
    }
    jsonw_object_end (writer);
    if (decoding)
        *decoding = result;
    *len = jsonw_size (writer);
    return jsonw_strdup (writer);
}

//  A topic that holds an address: twelve zero bytes, then the address.
static bool
s_address_topic (const uint8_t *topic)
{
    for (size_t index = 0; index < 12; index++)
        if (topic [index])
            return false;
    return true;
}

static void
s_write_address_topic (jsonw_t *writer, const char *topic_hex)
{
    char address [BLOCK_ADDRESS_SIZE] = "0x";
    memcpy (address + 2, topic_hex + 2 + 24, 40);
    address [42] = 0;
    jsonw_string (writer, address);
}

char *
log_record_transfer (log_record_t *self, size_t *len)
{
    assert (self && len);
    bool erc20 = self->topic_count == 3 && self->data_size == 32;
    bool erc721 = self->topic_count == 4 && self->data_size == 0;
    if ((!erc20 && !erc721) || strcmp (self->topic_hex [0], TRANSFER_TOPIC) != 0
        || !s_address_topic (self->topics [1]) || !s_address_topic (self->topics [2]))
        return NULL;
    char decimal [HEX_DECIMAL_MAX];
    int rc = hex_to_decimal (erc20 ? self->data_hex : self->topic_hex [3], decimal, sizeof decimal);
    assert (rc == 0);
    jsonw_t *writer = self->writer;
    s_write_place (self);
    jsonw_key (writer, "token");
    jsonw_string (writer, self->address);
    jsonw_key (writer, "standard");
    jsonw_string (writer, erc20 ? "erc20" : "erc721");
    jsonw_key (writer, "from");
    s_write_address_topic (writer, self->topic_hex [1]);
    jsonw_key (writer, "to");
    s_write_address_topic (writer, self->topic_hex [2]);
    jsonw_key (writer, erc20 ? "value" : "tokenId");
    jsonw_string (writer, decimal);
    jsonw_object_end (writer);
    *len = jsonw_size (writer);
    return jsonw_strdup (writer);
}

//  --------------------------------------------------------------------------
//  Selftest

#define S_HASH "0x1111111111111111111111111111111111111111111111111111111111111111"
#define S_BLOCK_HASH "0x2222222222222222222222222222222222222222222222222222222222222222"
#define S_FROM_TOPIC "0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define S_TO_TOPIC "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"

static char *
s_log (const char *topics, const char *data)
{
    return zsys_sprintf ("{\"hash\":\"" S_HASH "\",\"blockNumber\":7,\"blockHash\":\"" S_BLOCK_HASH
                         "\",\"chainId\":1,"
                         "\"transactionIndex\":2,\"logIndex\":9,"
                         "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                         "\"topics\":[%s],\"data\":\"%s\"}",
                         topics, data);
}

void
log_record_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-log-record-XXXXXX";
    assert (mkdtemp (dir));
    char *path = zsys_sprintf ("%s/token.json", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("[{\"type\":\"event\",\"name\":\"Transfer\",\"inputs\":["
           "{\"name\":\"from\",\"type\":\"address\",\"indexed\":true},"
           "{\"name\":\"to\",\"type\":\"address\",\"indexed\":true},"
           "{\"name\":\"value\",\"type\":\"uint256\",\"indexed\":false}]}]",
           file);
    fclose (file);
    char err [256];
    call_decoder_t *decoder = call_decoder_new (dir, NULL, NULL, err, sizeof err);
    assert (decoder);
    log_record_t *record = log_record_new ();

    //  An ERC-20 transfer of 1000: decoded, and a token transfer.
    char *text = s_log ("\"" TRANSFER_TOPIC "\",\"" S_FROM_TOPIC "\",\"" S_TO_TOPIC "\"",
                        "0x00000000000000000000000000000000000000000000000000000000000003e8");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == 0);
    size_t len;
    call_decoding_t decoding;
    char *out = log_record_decoded (record, decoder, &len, &decoding);
    assert (decoding == CALL_DECODED && len == strlen (out));
    assert (strstr (out, "{\"hash\":\"" S_HASH "\",\"blockNumber\":7,\"blockHash\":\"" S_BLOCK_HASH
                         "\",\"chainId\":1,"
                         "\"transactionIndex\":2,\"logIndex\":9,"
                         "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                         "\"topic0\":\"" TRANSFER_TOPIC "\",\"decoding\":\"decoded\","
                         "\"event\":\"Transfer\"")
            == out);
    assert (strstr (out, "\"value\":\"1000\""));
    assert (!strstr (out, "\"topics\""));
    zstr_free (&out);
    out = log_record_transfer (record, &len);
    assert (out
            && streq (out, "{\"hash\":\"" S_HASH
                           "\",\"blockNumber\":7,\"blockHash\":\"" S_BLOCK_HASH "\",\"chainId\":1,"
                           "\"transactionIndex\":2,\"logIndex\":9,"
                           "\"token\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                           "\"standard\":\"erc20\","
                           "\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
                           "\"to\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\","
                           "\"value\":\"1000\"}"));
    zstr_free (&out);
    zstr_free (&text);

    //  An ERC-721 transfer of token 2^256-1: the same topic0 with four topics. The ABI's
    //  event has three topics' room only, so it is bad_calldata with the raw log kept.
    text = s_log ("\"" TRANSFER_TOPIC "\",\"" S_FROM_TOPIC "\",\"" S_TO_TOPIC "\","
                  "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"",
                  "0x");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == 0);
    out = log_record_transfer (record, &len);
    assert (out && strstr (out, "\"standard\":\"erc721\""));
    assert (strstr (out,
                    "\"tokenId\":\"115792089237316195423570985008687907853269984665640564039457"
                    "584007913129639935\"}"));
    zstr_free (&out);
    out = log_record_decoded (record, decoder, &len, &decoding);
    assert (decoding == CALL_BAD_CALLDATA && strstr (out, "\"reason\""));
    assert (strstr (out, "\"topics\":[\"" TRANSFER_TOPIC "\"") && strstr (out, "\"data\":\"0x\"}"));
    zstr_free (&out);
    zstr_free (&text);

    //  Not transfers: dirty address topics, a value of the wrong size, another topic0.
    const char *not_transfers [][2] = {
        {"\"" TRANSFER_TOPIC
         "\",\"0x100000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266\",\"" S_TO_TOPIC
         "\"",
         "0x00000000000000000000000000000000000000000000000000000000000003e8"},
        {"\"" TRANSFER_TOPIC "\",\"" S_FROM_TOPIC "\",\"" S_TO_TOPIC "\"", "0x03e8"},
        {"\"" TRANSFER_TOPIC "\",\"" S_FROM_TOPIC "\"",
         "0x00000000000000000000000000000000000000000000000000000000000003e8"},
        {"\"" S_FROM_TOPIC "\",\"" S_FROM_TOPIC "\",\"" S_TO_TOPIC "\"",
         "0x00000000000000000000000000000000000000000000000000000000000003e8"},
    };
    for (size_t index = 0; index < sizeof not_transfers / sizeof not_transfers [0]; index++) {
        text = s_log (not_transfers [index][0], not_transfers [index][1]);
        assert (log_record_parse (record, text, strlen (text), err, sizeof err) == 0);
        assert (log_record_transfer (record, &len) == NULL);
        zstr_free (&text);
    }
    //  An unknown event, and an anonymous one without topics: the raw log goes along.
    text = s_log ("\"" S_FROM_TOPIC "\"", "0x01");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == 0);
    out = log_record_decoded (record, decoder, &len, &decoding);
    assert (decoding == CALL_UNKNOWN_SELECTOR);
    assert (strstr (out, "\"topics\":[\"" S_FROM_TOPIC "\"],\"data\":\"0x01\"}"));
    zstr_free (&out);
    zstr_free (&text);
    text = s_log ("", "0x");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == 0);
    out = log_record_decoded (record, decoder, &len, &decoding);
    assert (decoding == CALL_UNKNOWN_SELECTOR && strstr (out, "\"topic0\":null"));
    assert (strstr (out, "anonymous") && strstr (out, "\"topics\":[],\"data\":\"0x\"}"));
    assert (log_record_transfer (record, &len) == NULL);
    zstr_free (&out);
    zstr_free (&text);

    //  Malformed records name the field.
    const char *bad [][2] = {
        {"not json", "the record"},
        {"{\"hash\":\"0x11\"}", "hash"},
        {"{\"hash\":\"" S_HASH "\",\"blockNumber\":-1}", "blockNumber"},
        {"{\"hash\":\"" S_HASH "\",\"blockNumber\":1}", "blockHash"},
        {"{\"hash\":\"" S_HASH "\",\"blockNumber\":1,\"blockHash\":\"0x22\"}", "blockHash"},
        {"{\"hash\":\"" S_HASH "\",\"blockNumber\":1,\"blockHash\":\"" S_BLOCK_HASH "\","
         "\"chainId\":1,\"transactionIndex\":0,"
         "\"logIndex\":0,\"address\":\"0x01\"}",
         "address"},
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        assert (log_record_parse (record, bad [index][0], strlen (bad [index][0]), err, sizeof err)
                == -1);
        assert (strstr (err, bad [index][1]));
    }
    text = s_log ("\"" S_FROM_TOPIC "\",\"0x01\"", "0x");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == -1);
    assert (strstr (err, "topics"));
    zstr_free (&text);
    text = s_log ("", "0x0");
    assert (log_record_parse (record, text, strlen (text), err, sizeof err) == -1);
    assert (strstr (err, "data"));
    zstr_free (&text);

    log_record_destroy (&record);
    call_decoder_destroy (&decoder);
    unlink (path);
    zstr_free (&path);
    rmdir (dir);
}
