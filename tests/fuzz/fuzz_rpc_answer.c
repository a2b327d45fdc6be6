/*  fuzz_rpc_answer: libFuzzer target for everything a JSON-RPC provider sends back.

    Input layout: byte 0 picks the HTTP status (mostly 200, sometimes 429, 402, 5xx, 0 or
    any value 100..355), byte 1 the call count of a batch (1..JSONRPC_BATCH_MAX), the rest
    is the body. The body goes through jsonrpc_parse, jsonrpc_parse_id and
    jsonrpc_parse_batch; every result that is an object goes through normalize_block and
    normalize_block_hashes (chain id 1), as the fetch worker does. Besides the sanitizers,
    the target checks the promises of jsonrpc.h: a result exactly when OK, a document
    exactly when OK, a NUL-terminated message. */
#include "evmtap.h"
#include "block.h"
#include "jsonrpc.h"
#include "normalize.h"

#define S_CHAIN_ID 1

//  Statuses a provider or a proxy really answers with; anything else comes from the byte.
static const int s_statuses [] = {200, 200, 200, 200, 429, 402, 500, 503, 0, 404, 401, 200};

static int
s_status (uint8_t byte)
{
    size_t known = sizeof (s_statuses) / sizeof (s_statuses [0]);
    if (byte < 0x80)
        return s_statuses [byte % known];
    return 100 + (byte - 0x80) * 2;    //  100..354: odd and unknown statuses too
}

//  A header field must be NUL-terminated within its array.
static void
s_check_string (const char *text, size_t size)
{
    if (!memchr (text, 0, size))
        __builtin_trap ();
}

//  Runs both normalizers on one result and checks what they promise.
static void
s_normalize (const cJSON *result)
{
    if (!cJSON_IsObject (result))
        return;
    char err [256];
    block_header_t header;
    block_body_t *body = NULL;
    err [0] = 0;
    if (normalize_block (result, S_CHAIN_ID, &header, &body, err, sizeof err) == 0) {
        if (!body || body->tx_count != header.tx_count || !body->meta_json)
            __builtin_trap ();
        s_check_string (header.hash, sizeof header.hash);
        s_check_string (header.parent_hash, sizeof header.parent_hash);
        for (size_t index = 0; index < body->tx_count; index++) {
            const block_tx_t *tx = &body->txs [index];
            s_check_string (tx->hash, sizeof tx->hash);
            s_check_string (tx->from, sizeof tx->from);
            s_check_string (tx->to, sizeof tx->to);
            if (!tx->json || strlen (tx->json) != tx->json_len)
                __builtin_trap ();
        }
        if (strlen (body->meta_json) != body->meta_len)
            __builtin_trap ();
        //  What the worker does next: pack the body for the head poller.
        zframe_t *frame = block_body_encode (body);
        block_body_t *copy = NULL;
        if (block_body_decode (frame, &copy) != 0)
            __builtin_trap ();
        block_body_destroy (&copy);
        zframe_destroy (&frame);
    }
    else {
        if (body || !memchr (err, 0, sizeof err))
            __builtin_trap ();
    }
    block_body_destroy (&body);

    //  --fetch hashes before the transactions came: none fetched, and none at all.
    const cJSON *transactions = cJSON_GetObjectItemCaseSensitive (result, "transactions");
    size_t listed = cJSON_IsArray (transactions) ? (size_t) cJSON_GetArraySize (transactions) : 0;
    normalize_block_hashes (result, NULL, 0, S_CHAIN_ID, &header, &body, err, sizeof err);
    block_body_destroy (&body);
    normalize_block_hashes (result, NULL, listed, S_CHAIN_ID, &header, &body, err, sizeof err);
    block_body_destroy (&body);
}

//  What jsonrpc.h promises about one answer.
static void
s_check_answer (jsonrpc_status_t status, const jsonrpc_answer_t *answer)
{
    if (!memchr (answer->message, 0, sizeof answer->message))
        __builtin_trap ();
    if ((status == JSONRPC_OK) != (answer->result != NULL))
        __builtin_trap ();
    if (strcmp (jsonrpc_status_name (status), "unknown") == 0)
        __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int http_status = s_status (data [0]);
    size_t count = 1 + data [1] % JSONRPC_BATCH_MAX;
    const char *body = (const char *) data + 2;
    size_t body_size = size - 2;

    cJSON *doc = NULL;
    jsonrpc_answer_t answer;
    jsonrpc_status_t status = jsonrpc_parse (http_status, body, body_size, &doc, &answer);
    s_check_answer (status, &answer);
    if ((status == JSONRPC_OK) != (doc != NULL))
        __builtin_trap ();
    if (status == JSONRPC_OK)
        s_normalize (answer.result);
    cJSON_Delete (doc);

    doc = NULL;
    status = jsonrpc_parse_id (http_status, body, body_size, 1, &doc, &answer);
    s_check_answer (status, &answer);
    if ((status == JSONRPC_OK) != (doc != NULL))
        __builtin_trap ();
    cJSON_Delete (doc);

    doc = NULL;
    jsonrpc_answer_t answers [JSONRPC_BATCH_MAX];
    status = jsonrpc_parse_batch (http_status, body, body_size, count, &doc, answers);
    if (status == JSONRPC_OK) {
        for (size_t index = 0; index < count; index++) {
            s_check_answer (answers [index].status, &answers [index]);
            if (answers [index].status == JSONRPC_OK)
                s_normalize (answers [index].result);
        }
    }
    else {
        //  A spoiled envelope: no document, and its status copied into every answer.
        if (doc)
            __builtin_trap ();
        for (size_t index = 0; index < count; index++)
            if (answers [index].status != status || answers [index].result)
                __builtin_trap ();
    }
    cJSON_Delete (doc);
    return 0;
}
