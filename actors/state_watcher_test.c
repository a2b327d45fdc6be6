/*  state_watcher_test: the selftest of the state watcher (state_watcher.c), kept apart so
    each file stays small: a provider played by test_http (no Multicall3 code: batched
    eth_call), the watcher between a fake decoder and a fake broker. */
#include "evmtap.h"
#include "state_watcher.h"
#include <inttypes.h>
#include "backoff.h"
#include "batch.h"
#include "block_msg.h"
#include "hexutil.h"
#include "jsonrpc.h"
#include "jsonw.h"
#include "key_lease.h"
#include "keypool.h"
#include "msg.h"
#include "multicall.h"
#include "rpc_client.h"
#include "secrets.h"
#include "stage.h"
#include "test_http.h"
#include "topics.h"

static void
s_test_provider (const test_http_request_t *request, test_http_response_t *response, void *arg)
{
    int *rate_limits = (int *) arg;    //  eth_call batches still to answer with HTTP 429
    if (strstr (request->body, "eth_getCode")) {
        test_http_reply (response, 200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x\"}");
        return;
    }
    if (*rate_limits > 0) {
        (*rate_limits)--;
        test_http_reply (response, 429,
                         "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
                         "-32005,\"message\":\"rate limited\"}}");
        return;
    }
    //  Batched eth_call: getReserves answers (7, 257, 9), checkBelow (0x0b..) reverts.
    assert (request->body [0] == '[' && strstr (request->body, "\"blockHash\":\"0x09\""));
    const char *reserves = "0x0000000000000000000000000000000000000000000000000000000000000007"
                           "0000000000000000000000000000000000000000000000000000000000000101"
                           "0000000000000000000000000000000000000000000000000000000000000009";
    const char *revert = "0x08c379a0"
                         "0000000000000000000000000000000000000000000000000000000000000020"
                         "0000000000000000000000000000000000000000000000000000000000000008"
                         "746f6f2068696768000000000000000000000000000000000000000000000000";
    cJSON *calls = cJSON_Parse (request->body);
    assert (calls);
    char *body = strdup ("[");
    const cJSON *call;
    cJSON_ArrayForEach (call, calls) {
        int id = (int) cJSON_GetObjectItem (call, "id")->valuedouble;
        const char *data = cJSON_GetObjectItem (
                               cJSON_GetArrayItem (cJSON_GetObjectItem (call, "params"), 0), "data")
                               ->valuestring;
        char *answer = strncmp (data, "0x0902f1ac", 10) == 0
                           ? zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":\"%s\"}", id,
                                           reserves)
                           : zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%d,\"error\":{\"code\":3,"
                                           "\"message\":\"execution reverted\",\"data\":\"%s\"}}",
                                           id, revert);
        char *joined = zsys_sprintf ("%s%s%s", body, strlen (body) > 1 ? "," : "", answer);
        zstr_free (&answer);
        free (body);
        body = joined;
    }
    cJSON_Delete (calls);
    char *closed = zsys_sprintf ("%s]", body);
    free (body);
    body = closed;
    test_http_reply (response, 200, body);
    zstr_free (&body);
}

void
state_watcher_test (bool verbose)
{
    (void) verbose;
    const char *json =
        "[{\"type\":\"function\",\"name\":\"getReserves\",\"inputs\":[],\"outputs\":["
        "{\"name\":\"_reserve0\",\"type\":\"uint112\"},{\"name\":\"_reserve1\",\"type\":"
        "\"uint112\"},{\"name\":\"_blockTimestampLast\",\"type\":\"uint32\"}]},"
        "{\"type\":\"function\",\"name\":\"checkBelow\",\"inputs\":[{\"name\":\"limit\","
        "\"type\":\"uint256\"}],\"outputs\":[{\"name\":\"\",\"type\":\"uint256\"}]}]";
    char err [256];
    abi_t *abi = abi_parse (json, strlen (json), err, sizeof (err));
    assert (abi);
    //  The first batch is refused for the rate: it goes again, and counts again.
    int rate_limits = 1;
    test_http_t *http = test_http_new (s_test_provider, &rate_limits);
    assert (http);
    char *url = zsys_sprintf ("http://127.0.0.1:%d", test_http_port (http));
    state_chain_t *chain = state_chain_new ("anvil", url, "127.0.0.1", 5000, NULL);
    zstr_free (&url);
    state_call_t *calls [2] = {state_call_new (abi, "getReserves()", err, sizeof (err)),
                               state_call_new (abi, "checkBelow(5)", err, sizeof (err))};
    assert (calls [0] && calls [1]);
    state_watch_t watch = {.name = "pair",
                           .address = "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                           .calls = calls,
                           .call_count = 2};
    state_chain_add_watch (chain, &watch);
    assert (!watch.calls && state_chain_watch_count (chain) == 1);
    //  A second watcher of the same contract, every 3 blocks: block 9 fires it, with no
    //  triggers.
    state_call_t *every_calls [1] = {state_call_new (abi, "getReserves()", err, sizeof (err))};
    state_watch_t every = {.name = "every3",
                           .address = "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                           .calls = every_calls,
                           .call_count = 1,
                           .every = 3};
    state_chain_add_watch (chain, &every);
    //  A watcher of a contract created in the block, whose log there is its creation.
    state_call_t *new_calls [1] = {state_call_new (abi, "getReserves()", err, sizeof (err))};
    state_watch_t created = {.name = "created",
                             .address = "0x00000000000000000000000000000000000000cc",
                             .calls = new_calls,
                             .call_count = 1};
    state_chain_add_watch (chain, &created);
    abi_destroy (&abi);

    zsock_t *broker = zsock_new_pull ("@inproc://state-watcher-test-broker");
    zsock_set_rcvtimeo (broker, 10000);
    state_chain_t *chains [1] = {chain};
    state_watcher_args_t args = {"inproc://state-watcher-test",
                                 ">inproc://state-watcher-test-broker", chains, 1};
    state_watcher_t *watcher = state_watcher_new (&args);
    assert (watcher);
    zsock_t *decoder = zsock_new_push (">inproc://state-watcher-test");

    batch_t *batch = batch_new ("anvil", 31337, 9, "0x09", 1714521600);
    const char *transfer =
        "{\"hash\":\"0xAA\",\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
        "\"input\":\"0x\"}";
    const char *log = "{\"hash\":\"0xbb\",\"logIndex\":0,"
                      "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\"}";
    const char *deployment = "{\"hash\":\"0xcc\",\"to\":null,"
                             "\"contractAddress\":\"0x00000000000000000000000000000000000000cc\"}";
    const char *own_log = "{\"hash\":\"0xcc\",\"logIndex\":1,"
                          "\"address\":\"0x00000000000000000000000000000000000000cc\"}";
    batch_add (batch, "anvil.mined.tx.1.native_token_transfer", "0xaa", strdup (transfer),
               strlen (transfer));
    batch_add (batch, "anvil.mined.tx.2.contract_deployment", "0xcc", strdup (deployment),
               strlen (deployment));
    batch_add (batch, "anvil.mined.logs.decoded", "0xbb:0", strdup (log), strlen (log));
    batch_add (batch, "anvil.mined.logs.decoded", "0xcc:1", strdup (own_log), strlen (own_log));
    zframe_t *frame = batch_encode (batch);
    batch_destroy (&batch);
    zframe_send (&frame, decoder, 0);
    //  Another chain's batch passes as it is.
    batch = batch_new ("other", 1, 10, "0x0a", 1714521600);
    batch_add (batch, "other.mined.tx.1.native_token_transfer", "0xdd", strdup (transfer),
               strlen (transfer));
    frame = batch_encode (batch);
    batch_destroy (&batch);
    zframe_send (&frame, decoder, 0);
    frame = flush_msg_encode ("anvil");
    zframe_send (&frame, decoder, 0);

    frame = zframe_recv (broker);
    assert (frame && batch_decode (frame, &batch) == 0);
    zframe_destroy (&frame);
    assert (batch_size (batch) == 4 + 3);
    const batch_record_t *record = batch_record (batch, 4);
    assert (streq (record->topic, "anvil.contract.state"));
    assert (streq (record->key, "0x5fbdb2315678afecb367f032d93f642f64180aa3:9:getReserves"));
    assert (streq (record->value,
                   "{\"chainId\":31337,\"blockNumber\":9,\"blockHash\":\"0x09\","
                   "\"contract\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"name\":\"pair\","
                   "\"function\":\"getReserves\",\"args\":{},\"triggers\":[\"0xaa\",\"0xbb\"],"
                   "\"outputs\":{\"_reserve0\":\"7\",\"_reserve1\":\"257\","
                   "\"_blockTimestampLast\":\"9\"}}"));
    record = batch_record (batch, 5);
    assert (streq (record->key, "0x5fbdb2315678afecb367f032d93f642f64180aa3:9:checkBelow"));
    assert (strstr (record->value, "\"args\":{\"limit\":\"5\"}"));
    assert (strstr (record->value, "\"outputs\":null,\"error\":\"too high\""));
    record = batch_record (batch, 6);
    assert (strstr (record->value, "\"name\":\"every3\"")
            && strstr (record->value, "\"triggers\":[]"));
    batch_destroy (&batch);
    frame = zframe_recv (broker);
    assert (frame && batch_decode (frame, &batch) == 0 && batch_size (batch) == 1);
    zframe_destroy (&frame);
    batch_destroy (&batch);
    frame = zframe_recv (broker);
    assert (frame && msg_type (frame) == MSG_TYPE_FLUSH);
    zframe_destroy (&frame);
    //  eth_getCode once, then one batch of 3 calls (a batch of k is k requests), twice.
    zstr_send (state_watcher_socket (watcher), "STATS");
    char *stats = zstr_recv (state_watcher_socket (watcher));
    assert (streq (stats, "STATS 1 2 3 7 1 0"));
    zstr_free (&stats);
    assert (test_http_requests (http) == 3 && rate_limits == 0);

    zsock_destroy (&decoder);
    state_watcher_destroy (&watcher);
    state_watcher_destroy (&watcher);
    zsock_destroy (&broker);
    state_chain_destroy (&chain);
    state_chain_destroy (&chain);
    test_http_destroy (&http);
}
