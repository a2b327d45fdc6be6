/*  fetch_worker: executes JSON-RPC jobs for one chain with one provider and (at most) one
    key, within the key's budget per second. It asks its dispatcher for work with READY and
    answers each job with one result; transient failures (transport, HTTP 5xx, 429, bad or
    truncated answers, error objects) are retried here with backoff and logged with the
    provider's name and key pseudo-name, never the URL. A job that still fails is answered
    RESULT_FAILED so the head poller can try again later: nothing is ever dropped.

    Dispatcher protocol (DEALER to the dispatcher's ROUTER):
        -> READY                 once, after connecting
        <- job frame             (proto/job.h)
        -> result frames         (proto/result.h); counts as ready for the next job
    Pipe commands:
        $TERM                    leave, even in the middle of a request
*/
#include "actors.h"

//  Blocks' transaction hashes are fetched in batches of this many, this many at once.
#define HASH_BATCHES_IN_FLIGHT 8

typedef struct {
    zsock_t *pipe;
    zsock_t *dispatcher;
    zpoller_t *poller;
    fetch_worker_args_t *args;
    rpc_client_t *client;
    token_bucket_t *bucket;
    jsonw_t *scratch;
    bool terminated;
    uint64_t requests;        //  JSON-RPC calls of the job under way
} self_t;

fetch_worker_args_t *
fetch_worker_args_new (const char *dispatcher, const char *url, const char *provider,
                       const char *key_name, double key_rps, int timeout_ms)
{
    fetch_worker_args_t *args = (fetch_worker_args_t *) zmalloc (sizeof (fetch_worker_args_t));
    assert (args);
    args->dispatcher = strdup (dispatcher);
    args->url = strdup (url);
    args->provider = strdup (provider);
    args->key_name = key_name ? strdup (key_name) : NULL;
    args->key_rps = key_rps;
    args->timeout_ms = timeout_ms;
    args->attempts = 5;
    return args;
}

static void
s_args_destroy (fetch_worker_args_t **args_p)
{
    fetch_worker_args_t *args = *args_p;
    if (!args)
        return;
    free (args->dispatcher);
    secrets_free (&args->url);
    free (args->provider);
    free (args->key_name);
    free (args);
    *args_p = NULL;
}

//  Reads a pipe command; only $TERM exists.
static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
        zsys_error ("fetch_worker: unknown pipe command '%s'", command);
    zstr_free (&command);
}

static bool
s_should_abort (void *arg)
{
    self_t *self = (self_t *) arg;
    if (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_self_handle_pipe (self);
    return self->terminated;
}

//  Waits ms milliseconds, or less when told to leave. Returns -1 when leaving.
static int
s_pause (self_t *self, int64_t ms)
{
    int64_t until = zclock_mono () + ms;
    while (!self->terminated) {
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            return 0;
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, (int) (left > 100 ? 100 : left));
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (zpoller_terminated (self->poller))
            self->terminated = true;
    }
    return -1;
}

//  Takes budget for `units` calls from the key's bucket, waiting as long as needed.
static int
s_take_budget (self_t *self, double units)
{
    while (true) {
        int64_t wait = token_bucket_take (self->bucket, units, zclock_mono ());
        if (wait == 0)
            return 0;
        if (s_pause (self, wait))
            return -1;
    }
}

static self_t *
s_self_new (zsock_t *pipe, fetch_worker_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->dispatcher = zsock_new_dealer (args->dispatcher);
    self->client = rpc_client_new (args->url, args->provider, args->timeout_ms);
    self->bucket = token_bucket_new (args->key_rps);
    self->scratch = jsonw_new ();
    if (!self->dispatcher || !self->client) {
        zsys_error ("fetch_worker %s: cannot start (dispatcher %s)", args->provider,
                    args->dispatcher);
        zsock_destroy (&self->dispatcher);
        rpc_client_destroy (&self->client);
        token_bucket_destroy (&self->bucket);
        jsonw_destroy (&self->scratch);
        free (self);
        return NULL;
    }
    rpc_client_set_abort (self->client, s_should_abort, self);
    self->poller = zpoller_new (self->pipe, self->dispatcher, NULL);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dispatcher);
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
    jsonw_destroy (&self->scratch);
    s_args_destroy (&self->args);
    free (self);
    *self_p = NULL;
}

//  How long to wait before attempt number `attempt` (1-based) after a failure: the
//  provider's hint when it gave one, else 250 ms doubling up to 8 s.
static int64_t
s_backoff_ms (int attempt, const jsonrpc_answer_t *answer)
{
    if (answer && answer->backoff_seconds > 0)
        return (int64_t) (answer->backoff_seconds * 1000);
    int64_t backoff = 250LL << (attempt > 5 ? 5 : attempt - 1);
    return backoff > 8000 ? 8000 : backoff;
}

//  Logs one failed attempt and waits before the next one. Returns -1 when leaving.
static int
s_after_failure (self_t *self, const char *what, int attempt, const jsonrpc_answer_t *answer)
{
    if (answer->status == JSONRPC_RATE_LIMITED || answer->status == JSONRPC_QUOTA_EXCEEDED)
        token_bucket_drain (self->bucket, zclock_mono ());
    int64_t backoff = s_backoff_ms (attempt, answer);
    zsys_warning ("fetch_worker %s%s%s: %s: %s: %s (attempt %d of %d, next in %" PRId64 " ms)",
                  self->args->provider, self->args->key_name ? " key " : "",
                  self->args->key_name ? self->args->key_name : "", what,
                  jsonrpc_status_name (answer->status), answer->message, attempt,
                  self->args->attempts, attempt < self->args->attempts ? backoff : 0);
    if (attempt >= self->args->attempts)
        return 0;
    return s_pause (self, backoff);
}

//  One JSON-RPC call with retries. On success *doc_p holds the parsed answer and
//  answer->result points into it. Returns 0, 1 when every attempt failed (answer says why),
//  -1 when leaving.
static int
s_call (self_t *self, const char *what, const char *method, const char *params,
        cJSON **doc_p, jsonrpc_answer_t *answer)
{
    char *body = jsonrpc_request (1, method, params);
    int rc = 1;
    for (int attempt = 1; attempt <= self->args->attempts && rc == 1; attempt++) {
        if (s_take_budget (self, 1)) {
            rc = -1;
            break;
        }
        rpc_response_t response;
        memset (&response, 0, sizeof (response));
        const char *bodies [1] = {body};
        self->requests++;
        if (rpc_client_post (self->client, bodies, 1, &response)) {
            rc = -1;
            break;
        }
        if (response.transport_failed) {
            memset (answer, 0, sizeof (*answer));
            answer->status = JSONRPC_TRANSPORT;
            snprintf (answer->message, sizeof (answer->message), "%s", response.error);
        }
        else if (jsonrpc_parse (response.http_status, response.body, response.size, doc_p,
                                answer)
                 == JSONRPC_OK)
            rc = 0;
        rpc_response_clear (&response);
        if (rc == 1 && s_after_failure (self, what, attempt, answer))
            rc = -1;
    }
    free (body);
    return rc;
}

static void
s_block_param (uint64_t number, bool full, char *params, size_t size)
{
    snprintf (params, size, "[\"0x%" PRIx64 "\",%s]", number, full ? "true" : "false");
}

//  --fetch hashes: the transactions of a block whose `transactions` holds hashes, by
//  eth_getTransactionByHash in batches. Fills txs (borrowed from docs). Returns 0, 1 on
//  failure (reason in error), -1 when leaving.
static int
s_fetch_by_hash (self_t *self, uint64_t number, const cJSON *hashes, const cJSON **txs,
                 cJSON **docs, size_t *doc_count, char *error, size_t error_size)
{
    size_t count = (size_t) cJSON_GetArraySize (hashes);
    size_t batches = (count + JSONRPC_BATCH_MAX - 1) / JSONRPC_BATCH_MAX;
    for (size_t first = 0; first < batches; first += HASH_BATCHES_IN_FLIGHT) {
        size_t group = batches - first < HASH_BATCHES_IN_FLIGHT ? batches - first
                                                                : HASH_BATCHES_IN_FLIGHT;
        jsonrpc_batch_t *batch [HASH_BATCHES_IN_FLIGHT];
        const char *bodies [HASH_BATCHES_IN_FLIGHT];
        size_t calls = 0;
        for (size_t index = 0; index < group; index++) {
            batch [index] = jsonrpc_batch_new ();
            size_t start = (first + index) * JSONRPC_BATCH_MAX;
            for (size_t call = start; call < count && call < start + JSONRPC_BATCH_MAX; call++) {
                const cJSON *hash = cJSON_GetArrayItem (hashes, (int) call);
                char params [80];
                snprintf (params, sizeof (params), "[\"%.66s\"]",
                          cJSON_IsString (hash) ? hash->valuestring : "");
                jsonrpc_batch_add (batch [index], "eth_getTransactionByHash", params);
                calls++;
            }
            bodies [index] = jsonrpc_batch_body (batch [index]);
        }
        int rc = 0;
        int attempt = 1;
        while (true) {
            if (s_take_budget (self, (double) calls)) {
                rc = -1;
                break;
            }
            rpc_response_t responses [HASH_BATCHES_IN_FLIGHT];
            memset (responses, 0, sizeof (responses));
            self->requests += calls;
            if (rpc_client_post (self->client, bodies, group, responses)) {
                rc = -1;
                break;
            }
            jsonrpc_answer_t failure = {.status = JSONRPC_OK};
            size_t group_docs = *doc_count;
            for (size_t index = 0; index < group && failure.status == JSONRPC_OK; index++) {
                size_t start = (first + index) * JSONRPC_BATCH_MAX;
                size_t n = jsonrpc_batch_count (batch [index]);
                jsonrpc_answer_t answers [JSONRPC_BATCH_MAX];
                cJSON *doc = NULL;
                if (responses [index].transport_failed) {
                    failure.status = JSONRPC_TRANSPORT;
                    snprintf (failure.message, sizeof (failure.message), "%s",
                              responses [index].error);
                    break;
                }
                jsonrpc_status_t status =
                    jsonrpc_parse_batch (responses [index].http_status, responses [index].body,
                                         responses [index].size, n, &doc, answers);
                docs [(*doc_count)++] = doc;
                for (size_t call = 0; call < n && failure.status == JSONRPC_OK; call++) {
                    if (status != JSONRPC_OK || answers [call].status != JSONRPC_OK)
                        failure = answers [call];
                    else if (cJSON_IsNull (answers [call].result)) {
                        //  The node knows the block but not yet one of its transactions.
                        failure.status = JSONRPC_BAD_ANSWER;
                        snprintf (failure.message, sizeof (failure.message),
                                  "transaction %zu of block %" PRIu64 " is null", start + call,
                                  number);
                    }
                    else
                        txs [start + call] = answers [call].result;
                }
            }
            for (size_t index = 0; index < group; index++)
                rpc_response_clear (&responses [index]);
            if (failure.status == JSONRPC_OK)
                break;
            //  Throw away this group's answers and try the whole group again.
            while (*doc_count > group_docs)
                cJSON_Delete (docs [--*doc_count]);
            char what [64];
            snprintf (what, sizeof (what), "block %" PRIu64 " transactions by hash", number);
            if (s_after_failure (self, what, attempt, &failure)) {
                rc = -1;
                break;
            }
            if (attempt++ >= self->args->attempts) {
                snprintf (error, error_size, "%s: %s", jsonrpc_status_name (failure.status),
                          failure.message);
                rc = 1;
                break;
            }
        }
        for (size_t index = 0; index < group; index++)
            jsonrpc_batch_destroy (&batch [index]);
        if (rc)
            return rc;
    }
    return 0;
}

//  Fetches and normalizes one block. Returns 0 with the result filled (and *body_p when
//  found), -1 when leaving.
static int
s_fetch_block (self_t *self, const job_t *job, result_t *result, block_body_t **body_p)
{
    bool by_hash = job->fetch_mode == FETCH_HASHES;
    char params [64], what [64];
    s_block_param (job->number, !by_hash, params, sizeof (params));
    snprintf (what, sizeof (what), "eth_getBlockByNumber %" PRIu64, job->number);
    for (int attempt = 1;; attempt++) {
        cJSON *doc = NULL;
        jsonrpc_answer_t answer;
        int rc = s_call (self, what, "eth_getBlockByNumber", params, &doc, &answer);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            result->status = RESULT_FAILED;
            snprintf (result->error, sizeof (result->error), "%s: %s: %s", self->args->provider,
                      jsonrpc_status_name (answer.status), answer.message);
            return 0;
        }
        if (cJSON_IsNull (answer.result)) {
            cJSON_Delete (doc);
            result->status = RESULT_NOT_FOUND;
            return 0;
        }
        char error [200] = "";
        int normalized;
        if (by_hash) {
            const cJSON *hashes = cJSON_GetObjectItemCaseSensitive (answer.result, "transactions");
            size_t count = cJSON_IsArray (hashes) ? (size_t) cJSON_GetArraySize (hashes) : 0;
            const cJSON **txs = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
            cJSON **docs = (cJSON **) calloc (count / JSONRPC_BATCH_MAX + 2, sizeof (cJSON *));
            size_t doc_count = 0;
            int fetched = count ? s_fetch_by_hash (self, job->number, hashes, txs, docs,
                                                   &doc_count, error, sizeof (error))
                                : 0;
            if (fetched == 0)
                normalized = normalize_block_hashes (answer.result, txs, count, job->chain_id,
                                                     &result->header, body_p, error,
                                                     sizeof (error));
            else
                normalized = fetched;
            while (doc_count)
                cJSON_Delete (docs [--doc_count]);
            free (docs);
            free (txs);
            if (fetched < 0) {
                cJSON_Delete (doc);
                return -1;
            }
        }
        else
            normalized = normalize_block (answer.result, job->chain_id, &result->header, body_p,
                                          error, sizeof (error));
        cJSON_Delete (doc);
        if (normalized == 0) {
            if (result->header.number != job->number) {
                block_body_destroy (body_p);
                snprintf (error, sizeof (error), "asked for block %" PRIu64 ", got %" PRIu64,
                          job->number, result->header.number);
            }
            else {
                result->status = RESULT_OK;
                return 0;
            }
        }
        //  A block we could not use is retried like any other bad answer.
        jsonrpc_answer_t bad = {.status = JSONRPC_BAD_ANSWER};
        snprintf (bad.message, sizeof (bad.message), "%.150s", error);
        if (s_after_failure (self, what, attempt, &bad))
            return -1;
        if (attempt >= self->args->attempts) {
            result->status = RESULT_FAILED;
            snprintf (result->error, sizeof (result->error), "%.40s: bad_answer: %.140s",
                      self->args->provider, error);
            return 0;
        }
    }
}

//  eth_blockNumber. Returns 0 with the result filled, -1 when leaving.
static int
s_fetch_head (self_t *self, result_t *result)
{
    cJSON *doc = NULL;
    jsonrpc_answer_t answer;
    int rc = s_call (self, "eth_blockNumber", "eth_blockNumber", "[]", &doc, &answer);
    if (rc < 0)
        return -1;
    if (rc == 0 && cJSON_IsString (answer.result)
        && hex_to_u64 (answer.result->valuestring, &result->value) == 0)
        result->status = RESULT_OK;
    else {
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%s: eth_blockNumber: %s",
                  self->args->provider, rc ? answer.message : "result is not a quantity");
    }
    cJSON_Delete (doc);
    return 0;
}

static void
s_self_handle_job (self_t *self)
{
    zframe_t *frame = zframe_recv (self->dispatcher);
    job_t job;
    if (!frame || job_decode (frame, &job)) {
        zsys_error ("fetch_worker %s: malformed job from the dispatcher", self->args->provider);
        zframe_destroy (&frame);
        return;
    }
    zframe_destroy (&frame);
    result_t result;
    memset (&result, 0, sizeof (result));
    result.job_id = job.id;
    result.kind = job.kind;
    result.number = job.number;
    block_body_t *body = NULL;
    self->requests = 0;
    int rc = job.kind == JOB_HEAD ? s_fetch_head (self, &result)
                                  : s_fetch_block (self, &job, &result, &body);
    if (rc == 0) {
        result.requests = self->requests;
        zmsg_t *msg = result_encode (&result, body);
        zmsg_send (&msg, self->dispatcher);
    }
    block_body_destroy (&body);
}

void
fetch_worker_actor (zsock_t *pipe, void *args)
{
    fetch_worker_args_t *worker_args = (fetch_worker_args_t *) args;
    self_t *self = s_self_new (pipe, worker_args);
    if (!self) {
        s_args_destroy (&worker_args);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    zstr_send (self->dispatcher, "READY");
    while (!self->terminated) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->dispatcher)
            s_self_handle_job (self);
        else if (zpoller_terminated (self->poller))
            break;
    }
    s_self_destroy (&self);
}

void
fetch_worker_test (bool verbose)
{
    (void) verbose;
}
