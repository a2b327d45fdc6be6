/*  fuzz_receipts: libFuzzer target for eth_getBlockReceipts answers, and for the log
    records made from them, as the fetch worker and the decoder actor handle them.

    Input: a whole JSON-RPC answer body, read as the fetch worker reads it (jsonrpc_parse,
    HTTP 200). Its result is joined onto a fixed body of three transactions of mainnet block
    18000000 (the seeds use that block's hash and its first three transaction hashes; the
    third transaction's JSON is the empty object). Besides the sanitizers, the target holds
    the join to receipts.h: on failure the body is as it was and err says why; on success
    each transaction's JSON is its old text with fields added before the closing brace and
    still valid JSON, each log record is valid JSON that names its transaction and place,
    the body packs and unpacks unchanged, and log_record_parse reads every record back
    (the decoder counts on it) into a decoded log and a token transfer that are valid JSON. */
#include "evmtap.h"
#include "fuzz_log_check.h"
#include "block.h"
#include "call_decoder.h"
#include "jsonrpc.h"
#include "log_record.h"
#include "receipts.h"

#define S_CHAIN_ID 1
#define S_BLOCK_NUMBER 18000000
#define S_BLOCK_HASH "0x95b198e154acbfc64109dfd22d8224fe927fd8dfdedfae01587674482ba4baf3"
#define S_TX_COUNT 3

static const char *s_tx_hashes [S_TX_COUNT] = {
    "0x16e199673891df518e25db2ef5320155da82a3dd71a677e7d84363251885d133",
    "0x6742cd57e6aefce4b96887bb3090371ac49414c6b45a21e43d9e41e0ea9ed5ab",
    "0x4efc4b40d36b9fc30e7ca452df3b6ab896a18a68d89d0901ce56834abf78010f",
};

//  Normalized transactions, shortened: one plain, one with nested values, one empty.
static const char *s_tx_texts [S_TX_COUNT] = {
    "{\"hash\":\"0x16e199673891df518e25db2ef5320155da82a3dd71a677e7d84363251885d133\","
    "\"blockNumber\":18000000,\"chainId\":1,"
    "\"to\":\"0xfd14567eaf9ba941cb8c8a94eec14831ca7fd1b4\",\"value\":\"0\",\"input\":\"0x\"}",
    "{\"hash\":\"0x6742cd57e6aefce4b96887bb3090371ac49414c6b45a21e43d9e41e0ea9ed5ab\","
    "\"chainId\":1,\"accessList\":[{\"address\":"
    "\"0xdac17f958d2ee523a2206206994597c13d831ec7\",\"storageKeys\":[]}]}",
    "{}",
};

static call_decoder_t *s_decoder;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_decoder = s_fuzz_decoder_new ();
    return 0;
}

static block_body_t *
s_body_new (block_header_t *header)
{
    memset (header, 0, sizeof *header);
    header->number = S_BLOCK_NUMBER;
    snprintf (header->hash, sizeof header->hash, "%s", S_BLOCK_HASH);
    header->tx_count = S_TX_COUNT;
    block_body_t *body = block_body_new (S_TX_COUNT);
    for (size_t index = 0; index < S_TX_COUNT; index++) {
        block_tx_t *tx = &body->txs [index];
        snprintf (tx->hash, sizeof tx->hash, "%s", s_tx_hashes [index]);
        tx->json = strdup (s_tx_texts [index]);
        tx->json_len = strlen (tx->json);
    }
    return body;
}

//  A number member of a record equal to value (both sides rounded to a double alike).
static void
s_check_number (const cJSON *record, const char *name, uint64_t value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (record, name);
    if (!cJSON_IsNumber (item) || item->valuedouble != (double) value)
        __builtin_trap ();
}

//  A joined transaction: the old text up to its closing brace, then nothing (no field to
//  add) or a comma (unless the object was empty) and the receipt's fields.
static void
s_check_tx (const block_tx_t *tx, const char *old)
{
    size_t old_len = strlen (old);
    if (!tx->json || strlen (tx->json) != tx->json_len || tx->json_len < old_len
        || memcmp (tx->json, old, old_len - 1) != 0 || tx->json [tx->json_len - 1] != '}')
        __builtin_trap ();
    if (tx->json_len > old_len && old_len > 2 && tx->json [old_len - 1] != ',')
        __builtin_trap ();
    s_fuzz_check_json (tx->json, tx->json_len);
}

//  One log record: valid JSON naming its transaction and place, and readable by the
//  decoder into valid records.
static void
s_check_log (const block_body_t *body, const block_log_t *log, log_record_t *record)
{
    if (log->tx_index >= body->tx_count)
        __builtin_trap ();
    s_fuzz_check_json (log->json, log->json_len);
    cJSON *json = cJSON_ParseWithLength (log->json, log->json_len);
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive (json, "hash");
    if (!cJSON_IsString (hash) || strcmp (hash->valuestring, body->txs [log->tx_index].hash))
        __builtin_trap ();
    s_check_number (json, "blockNumber", S_BLOCK_NUMBER);
    s_check_number (json, "chainId", S_CHAIN_ID);
    s_check_number (json, "transactionIndex", log->tx_index);
    s_check_number (json, "logIndex", log->log_index);
    cJSON_Delete (json);

    char err [256];
    if (log_record_parse (record, log->json, log->json_len, err, sizeof err)) {
        fprintf (stderr, "fuzz_receipts: %s: %.*s\n", err, (int) log->json_len, log->json);
        __builtin_trap ();
    }
    char *outputs = s_fuzz_log_outputs (record, s_decoder);
    zstr_free (&outputs);
}

//  What the worker does next: pack the body for the head poller, which must read it back.
static void
s_check_packing (const block_body_t *body)
{
    zframe_t *frame = block_body_encode (body);
    block_body_t *copy = NULL;
    if (block_body_decode (frame, &copy) != 0 || copy->tx_count != body->tx_count
        || copy->log_count != body->log_count)
        __builtin_trap ();
    for (size_t index = 0; index < body->tx_count; index++)
        if (copy->txs [index].json_len != body->txs [index].json_len
            || memcmp (copy->txs [index].json, body->txs [index].json, body->txs [index].json_len))
            __builtin_trap ();
    for (size_t index = 0; index < body->log_count; index++) {
        const block_log_t *log = &body->logs [index], *again = &copy->logs [index];
        if (again->tx_index != log->tx_index || again->log_index != log->log_index
            || again->json_len != log->json_len || memcmp (again->json, log->json, log->json_len))
            __builtin_trap ();
    }
    block_body_destroy (&copy);
    zframe_destroy (&frame);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cJSON *doc = NULL;
    jsonrpc_answer_t answer;
    if (jsonrpc_parse (200, (const char *) data, size, &doc, &answer) != JSONRPC_OK)
        return 0;

    block_header_t header;
    block_body_t *body = s_body_new (&header);
    char err [256];
    err [0] = 0;
    int rc = receipts_join_array (body, &header, S_CHAIN_ID, answer.result, err, sizeof err);
    if (rc == 0) {
        for (size_t index = 0; index < S_TX_COUNT; index++)
            s_check_tx (&body->txs [index], s_tx_texts [index]);
        if (body->log_count && !body->logs)
            __builtin_trap ();
        log_record_t *record = log_record_new ();
        for (size_t index = 0; index < body->log_count; index++) {
            //  In the block's order: by transaction.
            if (index && body->logs [index].tx_index < body->logs [index - 1].tx_index)
                __builtin_trap ();
            s_check_log (body, &body->logs [index], record);
        }
        log_record_destroy (&record);
        s_check_packing (body);
    }
    else {
        //  Refused: a reason, and the body exactly as the fetch made it.
        if (rc != -1 || !memchr (err, 0, sizeof err) || !err [0])
            __builtin_trap ();
        if (body->log_count || body->logs)
            __builtin_trap ();
        for (size_t index = 0; index < S_TX_COUNT; index++)
            if (!body->txs [index].json || strcmp (body->txs [index].json, s_tx_texts [index])
                || body->txs [index].json_len != strlen (s_tx_texts [index]))
                __builtin_trap ();
    }
    block_body_destroy (&body);
    cJSON_Delete (doc);
    return 0;
}
