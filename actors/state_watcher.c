/*  state_watcher: sits between the decoder and the broker and runs the configured view calls
    of a block (DESIGN "state_watcher"). A watcher fires on a block when one of its
    transactions has the contract as `to` (a plain value transfer too; never its own
    creation, whose `to` is null) or, with receipts, when the contract emitted one of its
    logs (not in the transaction that created it); or every N blocks (blocks whose number
    is a multiple of N). The calls of every watcher fired go out as one eth_call of
    Multicall3's aggregate3 where the chain has its code (asked once per chain with
    eth_getCode), else as batched eth_call, each at the block by its hash (EIP-1898), so a
    reorg cannot mix two forks' states: the call of an orphaned block fails rather than
    answer from the new branch. One <chain>.contract.state record per call is added at the
    end of the block's batch (key <contract>:<block>:<function>): the outputs decoded by the
    function's ABI, or `error` with the revert reason. A provider that does not answer (or
    answers 5xx, garbage, a rate limit) is asked again with backoff until it does, as the
    fetch workers do; a call answered with another error (a node that does not know the
    block) is tried five times in all, with backoff, and then published with `error` naming
    the failure, so such a block is not held up for ever.

    With keys, every request is made under a lease of one of the chain's keys from the pool,
    journaled before it is sent, within the key's per-second budget (a key taken over starts
    with an empty budget), and handed back after it; a rate-limit answer cools the key down,
    a quota answer parks it, and the request goes again under another key.

    Other records, batches of chains without watchers and end-of-stream markers (FLUSH) pass
    unchanged and in order.

    Pipe commands:
        $TERM                   leave, even in the middle of a call
        STATS                   -> STATS batches fired calls requests errors multicall
                                   (multicall: 1 when the last chain probed has it)
    Main starts and stops it through the facade (state_watcher_t, state_watcher.h).
*/
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

//  Tries of a block's calls before the failure is published as their error.
#define STATE_ATTEMPTS 5

struct _state_chain_t {
    char *chain;       //  the batches' chain name
    char *url;         //  keyless provider URL, wiped on destroy
    char *provider;    //  host[:port] for logs
    int timeout_ms;
    char multicall [43];    //  the Multicall3 address, "" for none
    int multicall_state;    //  -1 not asked yet, 0 no code there, 1 code
    state_watch_t *watches;
    size_t watch_count;
    char *keypool;    //  NULL: no keys
    char *holder;
    const cost_table_t *costs;    //  borrowed
    uint64_t key_daily;
    double key_rps;
    char **key_names;
    char **key_urls;    //  with secrets, wiped on destroy
    size_t key_count;
    key_lease_t *lease;    //  the actor's, made on first use
};

state_chain_t *
state_chain_new (const char *chain, const char *url, const char *provider, int timeout_ms,
                 const char *multicall)
{
    assert (chain && url && provider);
    state_chain_t *self = (state_chain_t *) zmalloc (sizeof (state_chain_t));
    assert (self);
    self->chain = strdup (chain);
    self->url = strdup (url);
    self->provider = strdup (provider);
    assert (self->chain && self->url && self->provider);
    self->timeout_ms = timeout_ms;
    const char *address = multicall ? multicall : MULTICALL_ADDRESS;
    assert (strlen (address) < sizeof (self->multicall));
    hex_lower (address, self->multicall);
    self->multicall_state = *self->multicall ? -1 : 0;
    return self;
}

void
state_chain_destroy (state_chain_t **self_p)
{
    assert (self_p);
    state_chain_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->watch_count; index++) {
        state_watch_t *watch = &self->watches [index];
        free (watch->name);
        for (size_t call = 0; call < watch->call_count; call++)
            state_call_destroy (&watch->calls [call]);
        free (watch->calls);
    }
    free (self->watches);
    for (size_t index = 0; index < self->key_count; index++) {
        free (self->key_names [index]);
        secrets_free (&self->key_urls [index]);
    }
    free (self->key_names);
    free (self->key_urls);
    key_lease_destroy (&self->lease);
    free (self->chain);
    secrets_free (&self->url);
    free (self->provider);
    free (self->keypool);
    free (self->holder);
    free (self);
    *self_p = NULL;
}

void
state_chain_add_watch (state_chain_t *self, state_watch_t *watch)
{
    self->watches = (state_watch_t *) realloc (self->watches,
                                               (self->watch_count + 1) * sizeof (state_watch_t));
    assert (self->watches);
    state_watch_t *copy = &self->watches [self->watch_count++];
    *copy = *watch;
    copy->name = strdup (watch->name);
    assert (copy->name);
    hex_lower (watch->address, copy->address);
    copy->calls = (state_call_t **) malloc ((watch->call_count + 1) * sizeof (state_call_t *));
    assert (copy->calls);
    memcpy (copy->calls, watch->calls, watch->call_count * sizeof (state_call_t *));
    watch->calls = NULL;
    watch->call_count = 0;
}

void
state_chain_set_pool (state_chain_t *self, const char *keypool, const char *holder,
                      const cost_table_t *costs, uint64_t key_daily, double key_rps)
{
    self->keypool = strdup (keypool);
    self->holder = strdup (holder);
    assert (self->keypool && self->holder);
    self->costs = costs;
    self->key_daily = key_daily;
    self->key_rps = key_rps;
}

void
state_chain_add_key (state_chain_t *self, const char *name, const char *url)
{
    self->key_names = (char **) realloc (self->key_names, (self->key_count + 1) * sizeof (char *));
    self->key_urls = (char **) realloc (self->key_urls, (self->key_count + 1) * sizeof (char *));
    assert (self->key_names && self->key_urls);
    self->key_names [self->key_count] = strdup (name);
    self->key_urls [self->key_count] = strdup (url);
    assert (self->key_names [self->key_count] && self->key_urls [self->key_count]);
    self->key_count++;
}

size_t
state_chain_watch_count (state_chain_t *self)
{
    return self->watch_count;
}

//  --------------------------------------------------------------------------
//  The actor

typedef struct {
    zsock_t *pipe;
    stage_t *stage;    //  batches from the decoder in, to the broker out
    state_chain_t **chains;
    size_t chain_count;
    keypool_client_t *pool;    //  made when a chain has keys
    bool terminated;
    uint64_t batches;
    uint64_t fired;       //  watchers fired
    uint64_t calls;       //  records made
    uint64_t requests;    //  JSON-RPC calls sent (a batch of k counts k)
    uint64_t errors;      //  records with error
    int multicall;        //  the last probe's outcome
} self_t;

//  One call to make for a block: whose and which, and what came back.
typedef struct {
    state_watch_t *watch;
    state_call_t *call;
    zlistx_t *triggers;    //  borrowed: the watcher's transaction hashes
    bool answered;         //  success or revert known
    bool success;
    uint8_t *data;    //  the result or revert data (owned)
    size_t size;
    char error [256];    //  when not success: the reason
} s_job_t;

static void s_self_handle_pipe (self_t *self);

static bool
s_should_abort (void *arg)
{
    self_t *self = (self_t *) arg;
    if (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_self_handle_pipe (self);
    return self->terminated;
}

//  Waits ms, serving the pipe. Returns -1 when told to leave.
static int
s_pause (self_t *self, int64_t ms)
{
    int64_t until = zclock_mono () + ms;
    while (!s_should_abort (self) && zclock_mono () < until)
        zclock_sleep (20);
    return self->terminated ? -1 : 0;
}

//  What one attempt of s_request spends: the lease and where its calls are journaled.
typedef struct {
    keypool_lease_t granted;
    const char *url;         //  the chain's, or the leased key's
    const char *key_name;    //  NULL without a key pool
    char journal_key [KEYPOOL_KEY_SIZE + 64];
    uint64_t units;    //  journaled for the attempt
    uint64_t minute;
} s_attempt_t;

//  Leases one of the chain's keys for count calls of method, journals them and waits for
//  the key's per-second budget. 0 with attempt set, 1 to try again (no key now, or the
//  pool did not answer: paused already), -1 when told to leave.
static int
s_attempt_lease (self_t *self, state_chain_t *chain, const char *method, size_t count,
                 s_attempt_t *attempt)
{
    if (!chain->lease)
        chain->lease = key_lease_new (chain->provider, (const char *const *) chain->key_names,
                                      chain->key_count, chain->timeout_ms, chain->costs);
    if (!self->pool)
        self->pool = keypool_client_new (chain->keypool);
    key_lease_t *lease = chain->lease;
    keypool_busy_t busy;
    size_t index;
    if (keypool_client_acquire (self->pool, chain->holder, key_lease_ttl_ms (lease),
                                chain->key_daily, key_lease_daily_utc (lease),
                                key_lease_keys (lease), key_lease_count (lease), &attempt->granted,
                                &busy))
        return s_pause (self, 250) ? -1 : 1;
    if (key_lease_take (lease, &attempt->granted, zclock_mono (), &index)) {
        keypool_client_release (self->pool, &attempt->granted, 0, 0);
        return s_pause (self, 250) ? -1 : 1;
    }
    snprintf (attempt->journal_key, sizeof (attempt->journal_key), "%s",
              key_lease_journal_key (lease));
    key_lease_drop (lease);
    attempt->units = key_lease_units (lease, method) * count;
    if (keypool_client_spend_minute (self->pool, attempt->journal_key, method, count,
                                     attempt->units, &attempt->minute)) {
        keypool_client_release (self->pool, &attempt->granted, 0, 0);
        return s_pause (self, 1000) ? -1 : 1;
    }
    attempt->url = chain->key_urls [index];
    attempt->key_name = chain->key_names [index];
    //  A key taken over has an empty per-second budget: it fills at key_rps.
    if (chain->key_rps > 0) {
        uint64_t throughput = chain->costs ? cost_table_throughput (chain->costs, method) * count
                                           : count;
        if (s_pause (self, (int64_t) (1000.0 * (double) throughput / chain->key_rps))) {
            keypool_client_release (self->pool, &attempt->granted, 0, 0);
            return -1;
        }
    }
    return 0;
}

//  Posts body and parses the answer (a batch of count calls when batch): its status, a
//  call of the batch refused for the rate standing for the whole.
static jsonrpc_status_t
s_attempt_post (self_t *self, state_chain_t *chain, const char *url, const char *body, size_t count,
                bool batch, cJSON **doc_p, jsonrpc_answer_t *answers)
{
    rpc_client_t *client = rpc_client_new (url, chain->provider, chain->timeout_ms);
    rpc_client_set_abort (client, s_should_abort, self);
    const char *bodies [1] = {body};
    rpc_response_t response;
    memset (&response, 0, sizeof (response));
    int posted = rpc_client_post (client, bodies, 1, &response);
    rpc_client_destroy (&client);
    self->requests += count;
    jsonrpc_status_t status = JSONRPC_TRANSPORT;
    jsonrpc_answer_t single;
    *doc_p = NULL;
    if (posted == 0 && batch)
        status = jsonrpc_parse_batch (response.http_status, response.body, response.size, count,
                                      doc_p, answers);
    else if (posted == 0) {
        status = jsonrpc_parse (response.http_status, response.body, response.size, doc_p, &single);
        answers [0] = single;
    }
    else
        snprintf (answers [0].message, sizeof (answers [0].message), "%s", response.error);
    rpc_response_clear (&response);
    for (size_t index = 0; status == JSONRPC_OK && batch && index < count; index++)
        if (answers [index].status == JSONRPC_RATE_LIMITED
            || answers [index].status == JSONRPC_QUOTA_EXCEEDED)
            status = answers [index].status;
    return status;
}

//  Hands the attempt's key back: what the provider did not bill is refunded, a rate limit
//  cools the key down, a quota answer parks it.
static void
s_attempt_settle (self_t *self, state_chain_t *chain, const char *method, size_t count,
                  s_attempt_t *attempt, jsonrpc_status_t status, const jsonrpc_answer_t *answers)
{
    bool refused = status == JSONRPC_RATE_LIMITED || status == JSONRPC_QUOTA_EXCEEDED;
    uint64_t billed = refused && chain->costs
                          ? cost_table_answer_units (chain->costs, method,
                                                     status == JSONRPC_RATE_LIMITED ? 429 : 402)
                                * count
                          : attempt->units;
    if (billed < attempt->units)
        keypool_client_refund (self->pool, attempt->journal_key, method, attempt->minute,
                               attempt->units - billed);
    int64_t cool = status == JSONRPC_RATE_LIMITED ? key_lease_cool_ms (answers [0].backoff_seconds)
                                                  : 0;
    int64_t park = status == JSONRPC_QUOTA_EXCEEDED
                       ? key_lease_quota_park_ms (chain->lease, zclock_time ())
                       : 0;
    keypool_client_release (self->pool, &attempt->granted, cool, park);
}

//  Posts body (count calls of method) under a lease of one of the chain's keys, or to
//  its URL, and parses it (a batch when batch). Retries transport failures, HTTP errors,
//  bad answers and rate-limit or quota answers (under another key) with backoff, until an
//  answer whose calls each have a result or an error object. Returns 0 with *doc_p (free
//  with cJSON_Delete) and answers set, or -1 when told to leave.
static int
s_request (self_t *self, state_chain_t *chain, const char *method, const char *body, size_t count,
           bool batch, cJSON **doc_p, jsonrpc_answer_t *answers)
{
    backoff_t backoff;
    backoff_init (&backoff, 250, 8000);
    while (!self->terminated) {
        s_attempt_t attempt = {.url = chain->url, .units = count};
        if (chain->keypool) {
            int leased = s_attempt_lease (self, chain, method, count, &attempt);
            if (leased < 0)
                return -1;
            if (leased > 0)
                continue;
        }
        jsonrpc_status_t status = s_attempt_post (self, chain, attempt.url, body, count, batch,
                                                  doc_p, answers);
        if (chain->keypool)
            s_attempt_settle (self, chain, method, count, &attempt, status, answers);
        if (status == JSONRPC_OK || status == JSONRPC_RPC_ERROR || status == JSONRPC_NOT_SUPPORTED)
            return 0;
        cJSON_Delete (*doc_p);
        *doc_p = NULL;
        if (self->terminated)
            break;
        int64_t wait = status == JSONRPC_RATE_LIMITED || status == JSONRPC_QUOTA_EXCEEDED
                           ? 0
                           : backoff_next (&backoff);
        zsys_warning ("state %s: %s%s%s: %s: %s: %s (again in %" PRId64 " ms)", chain->chain,
                      chain->provider, attempt.key_name ? " key " : "",
                      attempt.key_name ? attempt.key_name : "", method,
                      jsonrpc_status_name (status), answers [0].message, wait);
        if (s_pause (self, wait))
            return -1;
    }
    return -1;
}

//  The error object of the call with id in a batch answer's document, or NULL.
static const cJSON *
s_error_object (const cJSON *doc, int64_t id)
{
    if (cJSON_IsObject (doc))
        return cJSON_GetObjectItemCaseSensitive (doc, "error");
    const cJSON *item;
    cJSON_ArrayForEach (item, doc) {
        const cJSON *item_id = cJSON_GetObjectItemCaseSensitive (item, "id");
        if (cJSON_IsNumber (item_id) && (int64_t) item_id->valuedouble == id)
            return cJSON_GetObjectItemCaseSensitive (item, "error");
    }
    return NULL;
}

//  Decodes a 0x hex text into a heap buffer. Returns its size, or -1 when not hex.
static int64_t
s_hex_bytes (const char *text, uint8_t **out)
{
    size_t len = text ? strlen (text) : 0;
    *out = (uint8_t *) malloc (len / 2 + 1);
    assert (*out);
    int size = len >= 2 && strncmp (text, "0x", 2) == 0 ? hex_decode (text, *out, len / 2 + 1) : -1;
    if (size < 0) {
        free (*out);
        *out = NULL;
    }
    return size;
}

//  Takes one call's answer: a result, a revert (an error object of code 3 or saying
//  "revert", with its data), or another error (left unanswered, its message kept).
static void
s_take_answer (s_job_t *job, const jsonrpc_answer_t *answer, const cJSON *doc, int64_t id)
{
    if (answer->status == JSONRPC_OK) {
        int64_t size = cJSON_IsString (answer->result)
                           ? s_hex_bytes (answer->result->valuestring, &job->data)
                           : -1;
        if (size < 0) {
            snprintf (job->error, sizeof (job->error), "eth_call: the result is not hex data");
            return;
        }
        job->size = (size_t) size;
        job->answered = job->success = true;
        return;
    }
    snprintf (job->error, sizeof (job->error), "eth_call: %s", answer->message);
    const cJSON *error = s_error_object (doc, id);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive (error, "message");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (error, "data");
    bool reverted = answer->status == JSONRPC_RPC_ERROR
                    && (answer->code == 3
                        || (cJSON_IsString (message) && strstr (message->valuestring, "revert")));
    if (!reverted)
        return;
    job->answered = true;
    int64_t size = cJSON_IsString (data) ? s_hex_bytes (data->valuestring, &job->data) : -1;
    job->size = size > 0 ? (size_t) size : 0;
    state_call_revert_reason (job->data, job->size, job->error, sizeof (job->error));
}

//  "{"to":"0x..","data":"0x.."},{"blockHash":"0x.."}" of one eth_call: a heap string.
static char *
s_call_params (const char *to, const uint8_t *data, size_t size, const char *block_hash)
{
    char *hex = (char *) malloc (2 * size + 3);
    assert (hex);
    hex_encode (data, size, hex);
    char *params = zsys_sprintf ("[{\"to\":\"%s\",\"data\":\"%s\"},{\"blockHash\":\"%s\"}]", to,
                                 hex, block_hash);
    free (hex);
    assert (params);
    return params;
}

//  The jobs' calls as batched eth_call (JSONRPC_BATCH_MAX a request). Returns -1 when told
//  to leave.
static int
s_call_batched (self_t *self, state_chain_t *chain, s_job_t *jobs, size_t count,
                const char *block_hash)
{
    for (size_t first = 0; first < count; first += JSONRPC_BATCH_MAX) {
        size_t part = count - first < JSONRPC_BATCH_MAX ? count - first : JSONRPC_BATCH_MAX;
        jsonrpc_batch_t *batch = jsonrpc_batch_new ();
        for (size_t index = 0; index < part; index++) {
            size_t size;
            const uint8_t *data = state_call_data (jobs [first + index].call, &size);
            char *params = s_call_params (jobs [first + index].watch->address, data, size,
                                          block_hash);
            jsonrpc_batch_add (batch, "eth_call", params);
            free (params);
        }
        jsonrpc_answer_t answers [JSONRPC_BATCH_MAX];
        memset (answers, 0, sizeof (answers));
        cJSON *doc = NULL;
        int rc = s_request (self, chain, "eth_call", jsonrpc_batch_body (batch), part, true, &doc,
                            answers);
        jsonrpc_batch_destroy (&batch);
        if (rc)
            return -1;
        for (size_t index = 0; index < part; index++)
            if (!jobs [first + index].answered)
                s_take_answer (&jobs [first + index], &answers [index], doc, (int64_t) index);
        cJSON_Delete (doc);
    }
    return 0;
}

//  The jobs' calls as one aggregate3. Returns 0 (the jobs answered, or a reason kept when
//  the aggregate failed as a whole: the caller falls back), or -1 when told to leave.
static int
s_call_multicall (self_t *self, state_chain_t *chain, s_job_t *jobs, size_t count,
                  const char *block_hash)
{
    multicall_call_t *calls = (multicall_call_t *) calloc (count, sizeof (multicall_call_t));
    assert (calls);
    for (size_t index = 0; index < count; index++) {
        calls [index].data = state_call_data (jobs [index].call, &calls [index].size);
        hex_decode (jobs [index].watch->address, calls [index].target, 20);
    }
    size_t size;
    uint8_t *data = multicall_encode (calls, count, &size);
    char *params = s_call_params (chain->multicall, data, size, block_hash);
    free (data);
    char *body = jsonrpc_request (1, "eth_call", params);
    free (params);
    jsonrpc_answer_t answer;
    memset (&answer, 0, sizeof (answer));
    cJSON *doc = NULL;
    int rc = s_request (self, chain, "eth_call", body, 1, false, &doc, &answer);
    free (body);
    if (rc) {
        free (calls);
        return -1;
    }
    s_job_t whole;
    memset (&whole, 0, sizeof (whole));
    s_take_answer (&whole, &answer, doc, 1);
    cJSON_Delete (doc);
    multicall_result_t *results = (multicall_result_t *) calloc (count,
                                                                 sizeof (multicall_result_t));
    assert (results);
    char err [160] = "";
    if (whole.success
        && multicall_decode (whole.data, whole.size, count, results, err, sizeof (err)) == 0)
        for (size_t index = 0; index < count; index++) {
            s_job_t *job = &jobs [index];
            job->answered = true;
            job->success = results [index].success;
            job->size = results [index].size;
            job->data = (uint8_t *) malloc (job->size + 1);
            assert (job->data);
            if (job->size)
                memcpy (job->data, results [index].data, job->size);
            if (!job->success)
                state_call_revert_reason (job->data, job->size, job->error, sizeof (job->error));
        }
    else
        zsys_warning ("state %s: %s: Multicall3 at %s: %s: batched eth_call for this block",
                      chain->chain, chain->provider, chain->multicall, *err ? err : whole.error);
    free (whole.data);
    free (results);
    free (calls);
    return 0;
}

//  Whether the chain's Multicall3 address has code, asked once (at the latest block).
//  Returns -1 when told to leave.
static int
s_probe_multicall (self_t *self, state_chain_t *chain)
{
    char *params = zsys_sprintf ("[\"%s\",\"latest\"]", chain->multicall);
    char *body = jsonrpc_request (1, "eth_getCode", params);
    zstr_free (&params);
    jsonrpc_answer_t answer;
    memset (&answer, 0, sizeof (answer));
    cJSON *doc = NULL;
    int rc = s_request (self, chain, "eth_getCode", body, 1, false, &doc, &answer);
    free (body);
    if (rc)
        return -1;
    chain->multicall_state = answer.status == JSONRPC_OK && cJSON_IsString (answer.result)
                             && strlen (answer.result->valuestring) > 2;
    cJSON_Delete (doc);
    self->multicall = chain->multicall_state;
    zsys_info ("state %s: %s: %s", chain->chain, chain->provider,
               chain->multicall_state ? "Multicall3 found: one eth_call per block"
                                      : "no Multicall3 code: batched eth_call");
    return 0;
}

//  The record of one call: DESIGN's "State".
static char *
s_record (batch_t *batch, s_job_t *job, size_t *len)
{
    jsonw_t *writer = jsonw_new ();
    jsonw_object_begin (writer);
    jsonw_key (writer, "chainId");
    jsonw_u64 (writer, batch_chain_id (batch));
    jsonw_key (writer, "blockNumber");
    jsonw_u64 (writer, batch_number (batch));
    jsonw_key (writer, "blockHash");
    jsonw_string (writer, batch_hash (batch));
    jsonw_key (writer, "contract");
    jsonw_string (writer, job->watch->address);
    jsonw_key (writer, "name");
    jsonw_string (writer, job->watch->name);
    jsonw_key (writer, "function");
    jsonw_string (writer, state_call_function (job->call));
    jsonw_key (writer, "args");
    const char *args = state_call_args (job->call);
    jsonw_raw (writer, args, strlen (args));
    jsonw_key (writer, "triggers");
    jsonw_array_begin (writer);
    for (const char *hash = (const char *) zlistx_first (job->triggers); hash;
         hash = (const char *) zlistx_next (job->triggers))
        jsonw_string (writer, hash);
    jsonw_array_end (writer);
    char reason [256] = "";
    jsonw_t *outputs = NULL;
    if (job->success && job->size == 0)
        //  What an account without code answers (before the contract's creation, say).
        snprintf (reason, sizeof (reason),
                  "returned no data: no contract code at this block, or not this ABI");
    else if (job->success) {
        outputs = jsonw_new ();
        char err [200];
        if (state_call_outputs (job->call, job->data, job->size, outputs, err, sizeof (err))) {
            snprintf (reason, sizeof (reason), "outputs: %s", err);
            jsonw_destroy (&outputs);
        }
    }
    else
        snprintf (reason, sizeof (reason), "%s", job->error);
    if (outputs) {
        jsonw_key (writer, "outputs");
        jsonw_raw (writer, jsonw_data (outputs), jsonw_size (outputs));
        jsonw_destroy (&outputs);
    }
    else {
        jsonw_key (writer, "outputs");
        jsonw_null (writer);
        jsonw_key (writer, "error");
        jsonw_string (writer, reason);
    }
    jsonw_object_end (writer);
    *len = jsonw_size (writer);
    char *text = jsonw_strdup (writer);
    jsonw_destroy (&writer);
    return text;
}

static bool
s_ends_with (const char *topic, const char *suffix)
{
    size_t len = strlen (topic), suffix_len = strlen (suffix);
    return len > suffix_len && streq (topic + len - suffix_len, suffix);
}

//  A string member of a record's JSON text, lowercase, into out; "" when absent or null.
static void
s_member (const batch_record_t *record, const char *name, char *out, size_t size)
{
    const char *keys [1] = {name};
    const char *value = NULL;
    size_t len = 0;
    *out = 0;
    if (jsonw_members (record->value, record->value_len, keys, 1, &value, &len) || !value || len < 2
        || value [0] != '"' || len - 2 >= size)
        return;
    memcpy (out, value + 1, len - 2);
    out [len - 2] = 0;
    hex_lower (out, out);
}

static void *
s_string_dup (const void *item)
{
    char *copy = strdup ((const char *) item);
    assert (copy);
    return copy;
}

static void
s_string_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  Adds hash to a watcher's triggers once.
static void
s_trigger (zlistx_t *triggers, const char *hash)
{
    for (const char *known = (const char *) zlistx_first (triggers); known;
         known = (const char *) zlistx_next (triggers))
        if (streq (known, hash))
            return;
    zlistx_add_end (triggers, (void *) hash);
}

//  Each watcher's triggers in the batch: the transactions to it, and those in which it
//  emitted a log but for its own creation.
static void
s_find_triggers (state_chain_t *chain, batch_t *batch, zlistx_t **triggers)
{
    for (size_t index = 0; index < batch_size (batch); index++) {
        const batch_record_t *record = batch_record (batch, index);
        const char *field = s_ends_with (record->topic, "." TOPIC_NATIVE_TRANSFER)
                                    || s_ends_with (record->topic, "." TOPIC_INTERACTION)
                                ? "to"
                            : s_ends_with (record->topic, "." TOPIC_LOGS_DECODED) ? "address"
                                                                                  : NULL;
        if (!field)
            continue;
        char address [64], hash [80];
        s_member (record, field, address, sizeof (address));
        s_member (record, "hash", hash, sizeof (hash));
        if (!*hash)
            continue;
        for (size_t watch = 0; watch < chain->watch_count; watch++) {
            if (chain->watches [watch].every || !streq (address, chain->watches [watch].address))
                continue;
            bool created = false;
            //  A log of the transaction that deployed the contract is its creation.
            for (size_t other = 0; !streq (field, "to") && other < batch_size (batch); other++) {
                const batch_record_t *deployment = batch_record (batch, other);
                char created_address [64];
                if (!s_ends_with (deployment->topic, "." TOPIC_DEPLOYMENT)
                    || !streq (deployment->key, hash))
                    continue;
                s_member (deployment, "contractAddress", created_address, sizeof (created_address));
                created = streq (created_address, address);
            }
            if (!created)
                s_trigger (triggers [watch], hash);
        }
    }
}

//  Runs the calls the batch fires and adds their records to it. Returns -1 when told to
//  leave.
static int
s_watch_batch (self_t *self, state_chain_t *chain, batch_t *batch)
{
    zlistx_t **triggers = (zlistx_t **) calloc (chain->watch_count, sizeof (zlistx_t *));
    assert (triggers);
    size_t job_count = 0;
    for (size_t watch = 0; watch < chain->watch_count; watch++) {
        triggers [watch] = zlistx_new ();
        zlistx_set_duplicator (triggers [watch], s_string_dup);
        zlistx_set_destructor (triggers [watch], s_string_free);
    }
    s_find_triggers (chain, batch, triggers);
    s_job_t *jobs = NULL;
    for (size_t watch = 0; watch < chain->watch_count; watch++) {
        state_watch_t *watcher = &chain->watches [watch];
        bool fired = watcher->every ? batch_number (batch) % watcher->every == 0
                                    : zlistx_size (triggers [watch]) > 0;
        if (!fired)
            continue;
        self->fired++;
        jobs = (s_job_t *) realloc (jobs, (job_count + watcher->call_count) * sizeof (s_job_t));
        assert (jobs);
        for (size_t call = 0; call < watcher->call_count; call++) {
            s_job_t *job = &jobs [job_count++];
            memset (job, 0, sizeof (*job));
            job->watch = watcher;
            job->call = watcher->calls [call];
            job->triggers = triggers [watch];
        }
    }
    int rc = 0;
    if (job_count && chain->multicall_state < 0)
        rc = s_probe_multicall (self, chain);
    for (int attempt = 0; rc == 0 && job_count && attempt < STATE_ATTEMPTS; attempt++) {
        size_t left = 0;
        for (size_t index = 0; index < job_count; index++)
            left += !jobs [index].answered;
        if (!left)
            break;
        if (attempt && s_pause (self, 500 << attempt)) {
            rc = -1;
            break;
        }
        //  Every try asks again only what is not answered yet.
        s_job_t *pending = (s_job_t *) calloc (left, sizeof (s_job_t));
        assert (pending);
        size_t *where = (size_t *) calloc (left, sizeof (size_t));
        assert (where);
        for (size_t index = 0, next = 0; index < job_count; index++)
            if (!jobs [index].answered) {
                where [next] = index;
                pending [next++] = jobs [index];
            }
        if (chain->multicall_state == 1)
            rc = s_call_multicall (self, chain, pending, left, batch_hash (batch));
        bool aggregated = true;
        for (size_t index = 0; index < left; index++)
            aggregated &= pending [index].answered;
        if (rc == 0 && !aggregated)
            rc = s_call_batched (self, chain, pending, left, batch_hash (batch));
        for (size_t index = 0; index < left; index++)
            jobs [where [index]] = pending [index];
        free (pending);
        free (where);
    }
    for (size_t index = 0; rc == 0 && index < job_count; index++) {
        s_job_t *job = &jobs [index];
        size_t len;
        char *record = s_record (batch, job, &len);
        char *topic = zsys_sprintf ("%.*s." TOPIC_CONTRACT_STATE,
                                    topics_chain_len (batch_chain (batch)), batch_chain (batch));
        char *key = zsys_sprintf ("%s:%" PRIu64 ":%s", job->watch->address, batch_number (batch),
                                  state_call_function (job->call));
        batch_add (batch, topic, key, record, len);
        zstr_free (&topic);
        zstr_free (&key);
        self->calls++;
        self->errors += !job->success;
    }
    for (size_t index = 0; index < job_count; index++)
        free (jobs [index].data);
    free (jobs);
    for (size_t watch = 0; watch < chain->watch_count; watch++)
        zlistx_destroy (&triggers [watch]);
    free (triggers);
    return rc;
}

static void
s_self_handle_batches (self_t *self)
{
    zframe_t *frame = zframe_recv (stage_input (self->stage));
    if (!frame)
        return;
    batch_t *batch = NULL;
    if (msg_type (frame) == MSG_TYPE_FLUSH || batch_decode (frame, &batch) != 0) {
        zframe_send (&frame, stage_output (self->stage), 0);
        return;
    }
    state_chain_t *chain = NULL;
    //  A backfill stream's blocks are its chain's (topics.h).
    size_t chain_len = (size_t) topics_chain_len (batch_chain (batch));
    for (size_t index = 0; index < self->chain_count && !chain; index++)
        if (strlen (self->chains [index]->chain) == chain_len
            && strncmp (self->chains [index]->chain, batch_chain (batch), chain_len) == 0)
            chain = self->chains [index];
    if (!chain || !chain->watch_count) {
        batch_destroy (&batch);
        zframe_send (&frame, stage_output (self->stage), 0);
        return;
    }
    zframe_destroy (&frame);
    self->batches++;
    if (s_watch_batch (self, chain, batch) == 0) {
        frame = batch_encode (batch);
        zframe_send (&frame, stage_output (self->stage), 0);
    }
    batch_destroy (&batch);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "STATS"))
        zstr_sendf (
            self->pipe, "STATS %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d",
            self->batches, self->fired, self->calls, self->requests, self->errors, self->multicall);
    else
        zsys_error ("state_watcher: unknown pipe command '%s'", command);
    zstr_free (&command);
}

static self_t *
s_self_new (zsock_t *pipe, state_watcher_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->chains = args->chains;
    self->chain_count = args->chain_count;
    self->multicall = -1;
    self->stage = stage_new ("state_watcher", pipe, args->endpoint, args->broker);
    if (!self->stage) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    stage_destroy (&self->stage);
    keypool_client_destroy (&self->pool);
    free (self);
    *self_p = NULL;
}

void
state_watcher_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (state_watcher_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    while (self && !self->terminated) {
        zsock_t *which = stage_wait (self->stage);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which)
            s_self_handle_batches (self);
        else
            break;
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _state_watcher_t {
    zactor_t *actor;    //  the only one to use its pipe
};

state_watcher_t *
state_watcher_new (state_watcher_args_t *args)
{
    assert (args);
    zactor_t *actor = zactor_new (state_watcher_actor, args);
    if (!actor)
        return NULL;
    state_watcher_t *self = (state_watcher_t *) zmalloc (sizeof (state_watcher_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
state_watcher_destroy (state_watcher_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

zsock_t *
state_watcher_socket (state_watcher_t *self)
{
    assert (self);
    return zactor_sock (self->actor);
}
