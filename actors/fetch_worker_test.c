/*  fetch_worker_test: the real fetch worker actor against a fake node (test_http) serving a
    mainnet block, with the test playing the dispatcher on a ROUTER socket: both fetch
    modes, faults of every kind (5xx, truncated, garbage, 429 with a hint, closed, slow),
    receipts (eth_getBlockReceipts and the by-transaction fallback), and no secret in any
    result or log. */
#include "evmtap.h"
#include "test_http.h"
#include "block.h"
#include "cost_table.h"
#include "fetch_worker.h"
#include "hexutil.h"
#include "job.h"
#include "jsonrpc.h"
#include "keypool.h"
#include "keypool_store.h"
#include "result.h"

#define S_TEST_ENDPOINT "inproc://fetch-worker-test"
#define S_TEST_SECRET "SECRET123"
#define S_TEST_BLOCK 17000000

//  How the fake node treats one request.
typedef enum {
    S_GOOD = 0,
    S_E500,         //  HTTP 500
    S_TRUNCATED,    //  half of a good answer, then the connection closes
    S_GARBAGE,      //  200 with a body that is not JSON
    S_E429,         //  Infura's rate limit with a 0.1 s backoff hint
    S_CLOSE,        //  the connection closes without an answer
    S_SLOW,         //  a good answer, 3 s late
} s_fault_t;

//  A node that knows one block. The test sets the plan only while no job is under way, so
//  the server thread and the test never touch it at once.
typedef struct {
    uint64_t number;
    cJSON *doc;            //  the stored answer (owns everything below)
    const cJSON *txs;      //  the block's transactions
    char *full;            //  the block, JSON text
    char *hashes;          //  the block with transactions as hashes
    s_fault_t plan [2];    //  faults for the next two requests, in order
    int planned;
    int used;
    s_fault_t otherwise;       //  for requests past the plan
    cJSON *receipts_doc;       //  the block's eth_getBlockReceipts answer
    const cJSON *receipts;     //  its result
    bool no_block_receipts;    //  answer -32601 to eth_getBlockReceipts
    bool short_receipts;       //  leave the first receipt out
    bool finalized;            //  serve the `finalized` tag (number - 2)
} s_node_t;

//  Added to a fetch mode in the test's jobs: with receipts.
#define S_RECEIPTS 0x10

static void
s_node_load (s_node_t *node, const char *file)
{
    char path [512];
    snprintf (path, sizeof (path), "%s/blocks/mainnet/%s", evmtap_shared_data (), file);
    zchunk_t *chunk = zchunk_slurp (path, 0);
    assert (chunk);
    node->doc = cJSON_ParseWithLength ((const char *) zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    assert (node->doc);
    cJSON *block = cJSON_GetObjectItemCaseSensitive (node->doc, "result");
    const cJSON *number = cJSON_GetObjectItemCaseSensitive (block, "number");
    assert (cJSON_IsString (number) && hex_to_u64 (number->valuestring, &node->number) == 0);
    node->txs = cJSON_GetObjectItemCaseSensitive (block, "transactions");
    node->full = cJSON_PrintUnformatted (block);
    cJSON *copy = cJSON_Duplicate (block, true);
    cJSON *hashes = cJSON_CreateArray ();
    const cJSON *tx;
    cJSON_ArrayForEach (tx, node->txs)
        cJSON_AddItemToArray (
            hashes,
            cJSON_CreateString (cJSON_GetObjectItemCaseSensitive (tx, "hash")->valuestring));
    cJSON_ReplaceItemInObjectCaseSensitive (copy, "transactions", hashes);
    node->hashes = cJSON_PrintUnformatted (copy);
    cJSON_Delete (copy);
    snprintf (path, sizeof (path), "%s/blocks/mainnet/receipts/%s", evmtap_shared_data (), file);
    chunk = zchunk_slurp (path, 0);
    assert (chunk);
    node->receipts_doc = cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                                zchunk_size (chunk));
    zchunk_destroy (&chunk);
    node->receipts = cJSON_GetObjectItemCaseSensitive (node->receipts_doc, "result");
    assert (cJSON_GetArraySize (node->receipts) == cJSON_GetArraySize (node->txs));
}

static void
s_node_clear (s_node_t *node)
{
    cJSON_Delete (node->doc);
    cJSON_Delete (node->receipts_doc);
    cJSON_free (node->full);
    cJSON_free (node->hashes);
    memset (node, 0, sizeof (*node));
}

//  Sets how the node treats its next two requests, and every one after them.
static void
s_node_plan (s_node_t *node, s_fault_t first, s_fault_t second, s_fault_t otherwise)
{
    node->plan [0] = first;
    node->plan [1] = second;
    node->planned = 2;
    node->used = 0;
    node->otherwise = otherwise;
}

//  The answer to one call: its result as JSON text (freed by the caller), or NULL for a
//  method the node does not have.
static char *
s_node_result (s_node_t *node, const cJSON *call)
{
    const char *method = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (call, "method"));
    const cJSON *params = cJSON_GetObjectItemCaseSensitive (call, "params");
    const char *first = cJSON_GetStringValue (cJSON_GetArrayItem (params, 0));
    if (method && streq (method, "eth_blockNumber"))
        return zsys_sprintf ("\"0x%" PRIx64 "\"", node->number);
    if (method && streq (method, "eth_getBlockByNumber") && first && streq (first, "finalized"))
        return node->finalized ? zsys_sprintf ("{\"number\":\"0x%" PRIx64 "\"}", node->number - 2)
                               : strdup ("null");
    uint64_t number;
    if (method && streq (method, "eth_getBlockByNumber") && first
        && hex_to_u64 (first, &number) == 0 && number == node->number)
        return strdup (cJSON_IsTrue (cJSON_GetArrayItem (params, 1)) ? node->full : node->hashes);
    if (method && streq (method, "eth_getBlockReceipts")) {
        if (node->no_block_receipts)
            return NULL;
        if (!first || hex_to_u64 (first, &number) || number != node->number)
            return strdup ("null");
        cJSON *copy = cJSON_Duplicate (node->receipts, true);
        if (node->short_receipts)
            cJSON_DeleteItemFromArray (copy, 0);
        char *text = cJSON_PrintUnformatted (copy);
        cJSON_Delete (copy);
        return text;
    }
    const cJSON *receipt;
    if (method && streq (method, "eth_getTransactionReceipt") && first)
        cJSON_ArrayForEach (receipt, node->receipts)
            if (strcasecmp (
                    cJSON_GetObjectItemCaseSensitive (receipt, "transactionHash")->valuestring,
                    first)
                == 0)
                return cJSON_PrintUnformatted (receipt);
    const cJSON *tx;
    if (method && streq (method, "eth_getTransactionByHash") && first)
        cJSON_ArrayForEach (tx, node->txs)
            if (strcasecmp (cJSON_GetObjectItemCaseSensitive (tx, "hash")->valuestring, first) == 0)
                return cJSON_PrintUnformatted (tx);
    return strdup ("null");
}

static char *
s_node_answer (s_node_t *node, const cJSON *call)
{
    char *result = s_node_result (node, call);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive (call, "id");
    int64_t number = cJSON_IsNumber (id) ? (int64_t) id->valuedouble : 0;
    if (!result)
        return zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%" PRId64 ",\"error\":{\"code\":"
                             "-32601,\"message\":\"the method does not exist/is not "
                             "available\"}}",
                             number);
    char *answer = zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%" PRId64 ",\"result\":%s}", number,
                                 result);
    free (result);
    return answer;
}

static void
s_node_handle (const test_http_request_t *request, test_http_response_t *response, void *arg)
{
    s_node_t *node = (s_node_t *) arg;
    s_fault_t fault = node->used < node->planned ? node->plan [node->used] : node->otherwise;
    node->used++;
    if (fault == S_E500)
        test_http_reply (response, 500, "Internal Server Error");
    else if (fault == S_GARBAGE)
        test_http_reply (response, 200, "<html><body>502 Bad Gateway</body></html>");
    else if (fault == S_E429)
        test_http_reply (response, 429,
                         "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32005,\"message\":"
                         "\"project ID request rate exceeded\",\"data\":{\"see\":"
                         "\"https://infura.io/dashboard\",\"current_rps\":13.333,"
                         "\"allowed_rps\":10.0,\"backoff_seconds\":0.1}}}");
    else if (fault == S_CLOSE)
        response->fault = TEST_HTTP_CLOSE;
    if (fault != S_GOOD && fault != S_TRUNCATED && fault != S_SLOW)
        return;
    cJSON *call = cJSON_ParseWithLength (request->body, request->body_size);
    if (cJSON_IsArray (call)) {
        //  A batch: answers in reverse order, as nodes may
        size_t length = 1;
        char *answer = (char *) malloc (3);
        assert (answer);
        answer [0] = '[';
        for (int index = cJSON_GetArraySize (call) - 1; index >= 0; index--) {
            char *one = s_node_answer (node, cJSON_GetArrayItem (call, index));
            size_t more = strlen (one);
            answer = (char *) realloc (answer, length + more + 3);
            assert (answer);
            if (length > 1)
                answer [length++] = ',';
            memcpy (answer + length, one, more);
            length += more;
            free (one);
        }
        answer [length++] = ']';
        answer [length] = 0;
        response->body = answer;
    }
    else
        response->body = s_node_answer (node, call);
    cJSON_Delete (call);
    response->fault = fault == S_TRUNCATED ? TEST_HTTP_TRUNCATE : TEST_HTTP_ANSWER;
    response->delay_ms = fault == S_SLOW ? 3000 : 0;
}

//  Starts a worker for the node at port and takes its READY.
static zactor_t *
s_worker_new (zsock_t *router, int port, const char *provider, int attempts, zframe_t **identity_p)
{
    char url [128];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d/v3/" S_TEST_SECRET, port);
    fetch_worker_args_t *args = fetch_worker_args_new (S_TEST_ENDPOINT, url, provider, 0, 10000);
    args->attempts = attempts;
    zactor_t *worker = zactor_new (fetch_worker_actor, args);
    assert (worker);
    zmsg_t *msg = zmsg_recv (router);
    assert (msg && zmsg_size (msg) == 2);
    *identity_p = zmsg_pop (msg);
    char *ready = zmsg_popstr (msg);
    assert (ready && streq (ready, "READY"));
    zstr_free (&ready);
    zmsg_destroy (&msg);
    return worker;
}

static void
s_send_job (zsock_t *router, zframe_t *identity, job_kind_t kind, uint64_t number, int mode)
{
    job_t job = {.id = number * 10 + (uint64_t) kind,
                 .kind = kind,
                 .number = number,
                 .chain_id = 1,
                 .fetch_mode = mode & ~S_RECEIPTS,
                 .receipts = (mode & S_RECEIPTS) != 0};
    zframe_t *frame = zframe_dup (identity);
    zframe_send (&frame, router, ZFRAME_MORE);
    frame = job_encode (&job);
    zframe_send (&frame, router, 0);
}

//  Receives one worker's result; returns its body (NULL when there is none).
static block_body_t *
s_recv_result (zsock_t *router, zframe_t *identity, result_t *result)
{
    //  Several workers at once (identity NULL): their READYs may come before a result.
    zmsg_t *msg = zmsg_recv (router);
    while (!identity && msg && zmsg_size (msg) == 2 && zframe_streq (zmsg_last (msg), "READY")) {
        zmsg_destroy (&msg);
        msg = zmsg_recv (router);
    }
    assert (msg);
    zframe_t *from = zmsg_pop (msg);
    assert (identity == NULL || zframe_eq (from, identity));
    //  One worker: every result is followed by its READY for the next job.
    if (identity) {
        zmsg_t *ready = zmsg_recv (router);
        assert (ready && zmsg_size (ready) == 2);
        assert (zframe_eq (zmsg_first (ready), from));
        assert (zframe_streq (zmsg_last (ready), "READY"));
        zmsg_destroy (&ready);
    }
    zframe_destroy (&from);
    assert (result_decode (msg, result) == 0);
    assert (result->job_id == result->number * 10 + (uint64_t) result->kind);
    block_body_t *body = NULL;
    zframe_t *frame = zmsg_pop (msg);
    if (frame)
        assert (block_body_decode (frame, &body) == 0 && body);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return body;
}

//  One block job; checks what every answer shares and returns the body.
static block_body_t *
s_block_job (zsock_t *router, zframe_t *identity, uint64_t number, int mode, result_t *result)
{
    s_send_job (router, identity, JOB_BLOCK, number, mode);
    block_body_t *body = s_recv_result (router, identity, result);
    assert (result->kind == JOB_BLOCK && result->number == number);
    assert ((body != NULL) == (result->status == RESULT_OK));
    return body;
}

static void
s_check_header (const result_t *result, const s_node_t *node)
{
    const cJSON *block = cJSON_GetObjectItemCaseSensitive (node->doc, "result");
    uint64_t timestamp = 0;
    hex_to_u64 (cJSON_GetObjectItemCaseSensitive (block, "timestamp")->valuestring, &timestamp);
    assert (result->status == RESULT_OK && result->header.number == node->number);
    assert (
        streq (result->header.hash, cJSON_GetObjectItemCaseSensitive (block, "hash")->valuestring));
    assert (streq (result->header.parent_hash,
                   cJSON_GetObjectItemCaseSensitive (block, "parentHash")->valuestring));
    assert (result->header.timestamp == timestamp && timestamp == 1680911891);
    assert (result->header.tx_count == (uint32_t) cJSON_GetArraySize (node->txs));
}

//  A block fetched both ways holds the very same records.
static void
s_check_same_body (const block_body_t *body, const block_body_t *expected)
{
    assert (body->tx_count == expected->tx_count);
    assert (body->meta_len == expected->meta_len
            && memcmp (body->meta_json, expected->meta_json, body->meta_len) == 0);
    for (size_t index = 0; index < body->tx_count; index++) {
        const block_tx_t *tx = &body->txs [index], *want = &expected->txs [index];
        assert (streq (tx->hash, want->hash) && streq (tx->from, want->from));
        assert (streq (tx->to, want->to) && tx->input_empty == want->input_empty);
        assert (tx->json_len == want->json_len && memcmp (tx->json, want->json, tx->json_len) == 0);
    }
}

//  Each transaction carries its receipt's fields; the logs are the receipts' logs, in order.
static void
s_check_receipts (const block_body_t *body, const s_node_t *node)
{
    size_t logs = 0;
    const cJSON *receipt;
    cJSON_ArrayForEach (receipt, node->receipts)
        logs += (size_t) cJSON_GetArraySize (cJSON_GetObjectItemCaseSensitive (receipt, "logs"));
    assert (logs > 100 && body->log_count == logs);
    for (size_t index = 0; index < body->tx_count; index++) {
        cJSON *tx = cJSON_Parse (body->txs [index].json);
        assert (tx);
        const cJSON *expected = cJSON_GetArrayItem (node->receipts, (int) index);
        uint64_t gas_used;
        hex_to_u64 (cJSON_GetObjectItemCaseSensitive (expected, "gasUsed")->valuestring, &gas_used);
        assert (cJSON_GetObjectItemCaseSensitive (tx, "gasUsed")->valuedouble == (double) gas_used);
        assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (tx, "status")));
        assert (cJSON_IsString (cJSON_GetObjectItemCaseSensitive (tx, "effectiveGasPrice")));
        assert (!cJSON_GetObjectItemCaseSensitive (tx, "logs"));
        cJSON_Delete (tx);
    }
    for (size_t index = 0; index < body->log_count; index++) {
        assert (body->logs [index].log_index == index);
        assert (index == 0 || body->logs [index].tx_index >= body->logs [index - 1].tx_index);
    }
}

void
fetch_worker_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    int64_t test_started = zclock_mono ();
    zsock_t *router = zsock_new_router ("@" S_TEST_ENDPOINT);
    assert (router);
    zsock_set_rcvtimeo (router, 5000);
    s_node_t node = {0};
    s_node_load (&node, "17000000.json");
    assert (node.number == S_TEST_BLOCK);
    size_t tx_count = (size_t) cJSON_GetArraySize (node.txs);
    assert (tx_count > JSONRPC_BATCH_MAX * 2);    //  three batches by hash
    test_http_t *server = test_http_new (s_node_handle, &node);
    assert (server);
    zframe_t *identity;
    zactor_t *worker = s_worker_new (router, test_http_port (server), "node-a", 3, &identity);
    result_t result;

    //  JOB_HEAD
    s_send_job (router, identity, JOB_HEAD, 0, FETCH_BLOCK);
    assert (s_recv_result (router, identity, &result) == NULL);
    assert (result.kind == JOB_HEAD && result.status == RESULT_OK);
    assert (result.value == S_TEST_BLOCK && result.requests == 1);

    //  JOB_FINALIZED: the number of the node's `finalized` block, NOT_FOUND without one
    s_send_job (router, identity, JOB_FINALIZED, 0, FETCH_BLOCK);
    assert (s_recv_result (router, identity, &result) == NULL);
    assert (result.kind == JOB_FINALIZED && result.status == RESULT_NOT_FOUND);
    node.finalized = true;
    s_send_job (router, identity, JOB_FINALIZED, 0, FETCH_BLOCK);
    assert (s_recv_result (router, identity, &result) == NULL);
    assert (result.status == RESULT_OK && result.value == S_TEST_BLOCK - 2 && result.requests == 1);

    //  --fetch block: one call
    block_body_t *expected = s_block_job (router, identity, S_TEST_BLOCK, FETCH_BLOCK, &result);
    s_check_header (&result, &node);
    assert (result.requests == 1 && *result.error == 0);
    assert (expected->tx_count == tx_count && expected->meta_len > 0);
    for (size_t index = 0; index < tx_count; index++)
        assert (streq (
            expected->txs [index].hash,
            cJSON_GetObjectItemCaseSensitive (cJSON_GetArrayItem (node.txs, (int) index), "hash")
                ->valuestring));

    //  --fetch hashes: the same records for 1 + tx_count calls
    block_body_t *body = s_block_job (router, identity, S_TEST_BLOCK, FETCH_HASHES, &result);
    s_check_header (&result, &node);
    assert (result.requests == 1 + tx_count);
    s_check_same_body (body, expected);
    block_body_destroy (&body);

    //  --receipts: one more call, eth_getBlockReceipts
    block_body_t *with_receipts = s_block_job (router, identity, S_TEST_BLOCK,
                                               FETCH_BLOCK | S_RECEIPTS, &result);
    s_check_header (&result, &node);
    assert (result.requests == 2);
    s_check_receipts (with_receipts, &node);
    //  Receipts that do not fit the block: the block is fetched again, then given up
    node.short_receipts = true;
    body = s_block_job (router, identity, S_TEST_BLOCK, FETCH_BLOCK | S_RECEIPTS, &result);
    assert (result.status == RESULT_FAILED && result.requests == 6);
    assert (strstr (result.error, "receipts for"));
    node.short_receipts = false;
    //  A node without eth_getBlockReceipts (-32601, not retried): receipts by transaction
    //  in batches, the same records; and no eth_getBlockReceipts asked again
    node.no_block_receipts = true;
    body = s_block_job (router, identity, S_TEST_BLOCK, FETCH_HASHES | S_RECEIPTS, &result);
    assert (result.status == RESULT_OK && result.requests == 1 + tx_count + 1 + tx_count);
    s_check_same_body (body, with_receipts);
    assert (body->log_count == with_receipts->log_count);
    for (size_t index = 0; index < body->log_count; index++)
        assert (streq (body->logs [index].json, with_receipts->logs [index].json));
    block_body_destroy (&body);
    body = s_block_job (router, identity, S_TEST_BLOCK, FETCH_BLOCK | S_RECEIPTS, &result);
    assert (result.status == RESULT_OK && result.requests == 1 + tx_count);
    s_check_same_body (body, with_receipts);
    block_body_destroy (&body);
    //  A fresh worker asks block and receipts in one batch; the refused receipts make it
    //  fall back at once, with the block it already has
    zframe_t *fresh_identity;
    zactor_t *fresh = s_worker_new (router, test_http_port (server), "node-a", 3, &fresh_identity);
    body = s_block_job (router, fresh_identity, S_TEST_BLOCK, FETCH_BLOCK | S_RECEIPTS, &result);
    assert (result.status == RESULT_OK && result.requests == 2 + tx_count);
    s_check_same_body (body, with_receipts);
    block_body_destroy (&body);
    zactor_destroy (&fresh);
    zframe_destroy (&fresh_identity);
    block_body_destroy (&with_receipts);
    node.no_block_receipts = false;

    //  A block the node does not have yet, both ways
    body = s_block_job (router, identity, S_TEST_BLOCK + 1, FETCH_BLOCK, &result);
    assert (result.status == RESULT_NOT_FOUND && result.requests == 1);
    body = s_block_job (router, identity, S_TEST_BLOCK + 1, FETCH_HASHES, &result);
    assert (result.status == RESULT_NOT_FOUND && result.requests == 1);

    //  Faults once (or twice) then good: the block arrives, every attempt is counted
    struct {
        s_fault_t first, second;
        int mode;
        uint64_t requests;
    } faults [] = {
        {S_E500, S_GOOD, FETCH_BLOCK, 2},
        {S_TRUNCATED, S_GOOD, FETCH_BLOCK, 2},
        {S_GARBAGE, S_GOOD, FETCH_BLOCK, 2},
        {S_E429, S_GOOD, FETCH_BLOCK, 2},
        {S_TRUNCATED, S_GARBAGE, FETCH_BLOCK, 3},
        //  One failed batch of the block's transactions: the whole group is asked again
        {S_GOOD, S_E500, FETCH_HASHES, 1 + 2 * tx_count},
        {S_TRUNCATED, S_GOOD, FETCH_HASHES, 2 + tx_count},
    };
    int64_t backoff_elapsed = 0;    //  of the first fault with the default backoff
    for (size_t index = 0; index < sizeof (faults) / sizeof (faults [0]); index++) {
        s_node_plan (&node, faults [index].first, faults [index].second, S_GOOD);
        int64_t started = zclock_mono ();
        body = s_block_job (router, identity, S_TEST_BLOCK, faults [index].mode, &result);
        int64_t elapsed = zclock_mono () - started;
        if (verbose)
            printf ("faults %d %d: %" PRIu64 " requests in %" PRId64 " ms\n", faults [index].first,
                    faults [index].second, result.requests, elapsed);
        s_check_header (&result, &node);
        assert (result.requests == faults [index].requests);
        s_check_same_body (body, expected);
        block_body_destroy (&body);
        //  The provider's hint (0.1 s) replaces the 250 ms backoff
        if (faults [index].first == S_E429)
            assert (elapsed >= 100 && elapsed < backoff_elapsed);
        else {
            assert (elapsed >= 250);
            if (!backoff_elapsed)
                backoff_elapsed = elapsed;
        }
    }
    s_node_plan (&node, S_GOOD, S_GOOD, S_GOOD);

    //  Nodes that always fail, three at once: RESULT_FAILED naming the provider, never the
    //  URL's path with its secret
    s_node_t broken = {0}, closing = {0};
    s_node_plan (&broken, S_E500, S_E500, S_E500);
    s_node_plan (&closing, S_CLOSE, S_CLOSE, S_CLOSE);
    test_http_t *broken_server = test_http_new (s_node_handle, &broken);
    test_http_t *closing_server = test_http_new (s_node_handle, &closing);
    assert (broken_server && closing_server);
    //  The port of a server just gone: nobody listens there
    test_http_t *gone_server = test_http_new (s_node_handle, &closing);
    assert (gone_server);
    const char *providers [3] = {"node-broken", "node-closing", "node-refused"};
    int ports [3] = {test_http_port (broken_server), test_http_port (closing_server),
                     test_http_port (gone_server)};
    test_http_destroy (&gone_server);
    zactor_t *failing [3];
    zframe_t *identities [3];
    for (int index = 0; index < 3; index++)
        failing [index] = s_worker_new (router, ports [index], providers [index], 3,
                                        &identities [index]);
    int64_t started = zclock_mono ();
    for (int index = 0; index < 3; index++)
        s_send_job (router, identities [index], JOB_BLOCK, S_TEST_BLOCK, FETCH_BLOCK);
    bool seen [3] = {false, false, false};
    for (int index = 0; index < 3; index++) {
        assert (s_recv_result (router, NULL, &result) == NULL);
        if (verbose)
            printf ("failed: %s\n", result.error);
        assert (result.status == RESULT_FAILED && result.requests == 3);
        assert (strstr (result.error, S_TEST_SECRET) == NULL);
        assert (strstr (result.error, "/v3") == NULL);
        for (int which = 0; which < 3; which++)
            if (strncmp (result.error, providers [which], strlen (providers [which])) == 0)
                seen [which] = true;
    }
    assert (seen [0] && seen [1] && seen [2]);
    assert (zclock_mono () - started >= 750);    //  250 + 500 ms between the attempts
    assert (test_http_requests (broken_server) == 3 && test_http_requests (closing_server) == 3);
    for (int index = 0; index < 3; index++) {
        zactor_destroy (&failing [index]);
        zframe_destroy (&identities [index]);
    }
    //  Their last READYs are of no more use.
    zsock_set_rcvtimeo (router, 100);
    zmsg_t *stale;
    while ((stale = zmsg_recv (router))) {
        assert (zmsg_size (stale) == 2 && zframe_streq (zmsg_last (stale), "READY"));
        zmsg_destroy (&stale);
    }
    zsock_set_rcvtimeo (router, 5000);
    test_http_destroy (&broken_server);
    test_http_destroy (&closing_server);

    //  $TERM while a slow request is in flight: the worker leaves at once
    s_node_plan (&node, S_SLOW, S_SLOW, S_SLOW);
    int requests = test_http_requests (server);
    s_send_job (router, identity, JOB_BLOCK, S_TEST_BLOCK, FETCH_BLOCK);
    while (test_http_requests (server) == requests)
        zclock_sleep (5);
    zclock_sleep (50);
    started = zclock_mono ();
    zactor_destroy (&worker);
    if (verbose)
        printf ("left in %" PRId64 " ms\n", zclock_mono () - started);
    assert (zclock_mono () - started < 1000);
    zsock_set_rcvtimeo (router, 0);
    zmsg_t *msg = zmsg_recv (router);
    assert (msg == NULL);    //  and answers nothing for the job it dropped

    //  With a key pool: Infura's 429 on the first key cools it down for the hint, the
    //  worker moves to the other key and the block arrives; both requests are journaled,
    //  and the 429 is refunded: a request counted, no credits billed.
    char dir [] = "/tmp/evmtap-fetch-worker-test-XXXXXX";
    assert (mkdtemp (dir));
    keypool_args_t pool_args = {.data_dir = dir, .endpoint = "inproc://fetch-worker-pool"};
    keypool_t *pool = keypool_new (&pool_args);
    assert (pool);
    fetch_worker_args_t *args = fetch_worker_args_new (S_TEST_ENDPOINT, "", "node-p", 0, 10000);
    char error [256];
    cost_table_t *costs = cost_table_new ("infura", error, sizeof (error));
    fetch_worker_args_set_pool (args, "inproc://fetch-worker-pool", "test:1:c/w0", costs, 0, 0, 0);
    cost_table_destroy (&costs);
    const char *names [2] = {"ka", "kb"};
    for (int index = 0; index < 2; index++) {
        char url [128];
        snprintf (url, sizeof (url), "http://127.0.0.1:%d/v3/%s%d", test_http_port (server),
                  S_TEST_SECRET, index);
        fetch_worker_args_add_key (args, names [index], url);
    }
    zactor_t *pooled = zactor_new (fetch_worker_actor, args);
    assert (pooled);
    zsock_set_rcvtimeo (router, 5000);
    msg = zmsg_recv (router);    //  its READY, once it holds a key
    assert (msg && zmsg_size (msg) == 2);
    zframe_t *pooled_identity = zmsg_pop (msg);
    zmsg_destroy (&msg);
    s_node_plan (&node, S_E429, S_GOOD, S_GOOD);
    body = s_block_job (router, pooled_identity, S_TEST_BLOCK, FETCH_BLOCK, &result);
    s_check_header (&result, &node);
    assert (result.requests == 2);
    s_check_same_body (body, expected);
    block_body_destroy (&body);
    assert (keypool_flush (pool) == 0);
    keypool_key_state_t *states;
    size_t count;
    uint64_t billed = 0;
    assert (keypool_list (pool, &states, &count) == 0 && count == 2);
    for (size_t index = 0; index < count; index++) {
        if (verbose)
            printf ("%s: %s, %" PRIu64 " requests, %" PRIu64 " credits\n", states [index].key,
                    states [index].state, states [index].requests_24h, states [index].units_24h);
        assert (states [index].requests_24h == 1);
        billed += states [index].units_24h;
    }
    assert (billed == 80);
    free (states);
    zactor_destroy (&pooled);
    zframe_destroy (&pooled_identity);
    keypool_destroy (&pool);
    zdir_t *journal_dir = zdir_new (dir, NULL);
    assert (journal_dir);
    zdir_remove (journal_dir, true);
    zdir_destroy (&journal_dir);
    assert (!zsys_file_exists (dir));

    block_body_destroy (&expected);
    zframe_destroy (&identity);
    test_http_destroy (&server);
    s_node_clear (&node);
    zsock_destroy (&router);
    if (verbose)
        printf ("fetch_worker test: %" PRId64 " ms\n", zclock_mono () - test_started);
}
