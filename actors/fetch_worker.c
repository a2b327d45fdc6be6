/*  fetch_worker: executes JSON-RPC jobs for one chain with one provider and (at most) one
    key at a time, within the key's budget per second. It asks its dispatcher for work with
    READY and answers each job with one result; transient failures (transport, HTTP 5xx,
    bad or truncated answers, error objects) are retried here with backoff and logged with
    the provider's name and key pseudo-name, never the URL. A job that still fails is
    answered RESULT_FAILED so the head poller can try again later: nothing is ever dropped.

    With a key pool (args->keypool) the worker leases its key: it takes the least used free
    key when it needs one, waits (saying so once) while none is free, renews the lease while
    it works, journals every request in the pool before sending it, and hands the key back
    after args->rotate_ms or rotate_requests, after 10 s without work, and when it leaves.
    A rate-limit answer (429, -32005, code 429) cools the key down for the provider's
    backoff_seconds (else exponentially, by the pool) and a quota answer (402, -33000) parks
    it; either way the worker moves to another key and the call is tried again without
    counting as a failed attempt. Budgets are in the provider's units (args->costs); a key
    whose daily budget would be exceeded is parked before it is. Without a pool the worker
    keeps the one key it was given (selftests, keyless nodes).

    Dispatcher protocol (DEALER to the dispatcher's ROUTER):
        -> READY                 when it can take a job: after connecting and after
                                 each result, once it holds a key (with a key pool)
        <- job frame             (proto/job.h)
        -> result frames         (proto/result.h), then READY again
    Pipe commands:
        $TERM                    leave, even in the middle of a request
*/
#include "actors.h"

//  Blocks' transaction hashes are fetched in batches of this many, this many at once.
#define HASH_BATCHES_IN_FLIGHT 8
//  A leased key goes back to the pool after this long without work.
#define KEY_IDLE_MS 10000
//  While no key is free, the pool is asked again this often.
#define KEY_WAIT_POLL_MS 250

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
    keypool_client_t *pool;   //  NULL without a pool
    bool holding;             //  lease is ours
    keypool_lease_t lease;
    const char *key_name;     //  the key in use for logs (borrowed from args), or NULL
    int64_t lease_ttl_ms;
    int64_t lease_deadline;   //  zclock_mono: stop using the key after this unless renewed
    int64_t renew_due;
    int64_t rotate_due;
    uint64_t lease_requests;  //  requests and units spent under this lease
    uint64_t lease_units;
    int64_t last_job;         //  zclock_mono of the last job's end
    bool waiting_logged;      //  "all keys busy" said since the last lease
    bool pool_down_logged;
    char **pool_keys;         //  "<provider>/<name>" for each args->key_names
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

void
fetch_worker_args_set_pool (fetch_worker_args_t *args, const char *keypool, const char *holder,
                            const cost_table_t *costs, uint64_t key_daily, int64_t rotate_ms,
                            uint64_t rotate_requests)
{
    args->keypool = strdup (keypool);
    args->holder = strdup (holder);
    args->costs = costs ? cost_table_dup (costs) : NULL;
    args->key_daily = key_daily;
    args->rotate_ms = rotate_ms;
    args->rotate_requests = rotate_requests;
}

void
fetch_worker_args_add_key (fetch_worker_args_t *args, const char *name, const char *url)
{
    args->key_names = (char **) realloc (args->key_names, (args->key_count + 1) * sizeof (char *));
    args->key_urls = (char **) realloc (args->key_urls, (args->key_count + 1) * sizeof (char *));
    assert (args->key_names && args->key_urls);
    args->key_names [args->key_count] = strdup (name);
    args->key_urls [args->key_count] = strdup (url);
    args->key_count++;
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
    for (size_t index = 0; index < args->key_count; index++) {
        free (args->key_names [index]);
        secrets_free (&args->key_urls [index]);
    }
    free (args->key_names);
    free (args->key_urls);
    free (args->keypool);
    free (args->holder);
    cost_table_destroy (&args->costs);
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
    self->scratch = jsonw_new ();
    self->key_name = args->key_name;
    if (args->keypool) {
        //  The client and bucket come with each lease.
        self->pool = keypool_client_new (args->keypool);
        self->pool_keys = (char **) calloc (args->key_count + 1, sizeof (char *));
        assert (self->pool_keys);
        for (size_t index = 0; index < args->key_count; index++)
            self->pool_keys [index] = zsys_sprintf ("%s/%s", args->provider,
                                                    args->key_names [index]);
        //  Long enough for a request in flight and two missed renewals.
        self->lease_ttl_ms = 2 * (int64_t) args->timeout_ms + 5000;
        if (self->lease_ttl_ms < 15000)
            self->lease_ttl_ms = 15000;
    }
    else {
        self->client = rpc_client_new (args->url, args->provider, args->timeout_ms);
        self->bucket = token_bucket_new (args->key_rps);
    }
    if (!self->dispatcher || (!self->client && !self->pool)) {
        zsys_error ("fetch_worker %s: cannot start (dispatcher %s)", args->provider,
                    args->dispatcher);
        zsock_destroy (&self->dispatcher);
        rpc_client_destroy (&self->client);
        token_bucket_destroy (&self->bucket);
        jsonw_destroy (&self->scratch);
        keypool_client_destroy (&self->pool);
        for (size_t index = 0; self->pool_keys && index < args->key_count; index++)
            free (self->pool_keys [index]);
        free (self->pool_keys);
        free (self);
        return NULL;
    }
    if (self->client)
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
    if (self->holding)
        keypool_client_release (self->pool, &self->lease, 0, 0);
    keypool_client_destroy (&self->pool);
    for (size_t index = 0; self->pool_keys && index < self->args->key_count; index++)
        free (self->pool_keys [index]);
    free (self->pool_keys);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dispatcher);
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
    jsonw_destroy (&self->scratch);
    s_args_destroy (&self->args);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The leased key

//  Hands the key back: cool_ms / park_ms as keypool_store_release. Returns the cool down
//  the pool applied.
static int64_t
s_key_release (self_t *self, int64_t cool_ms, int64_t park_ms)
{
    int64_t applied = keypool_client_release (self->pool, &self->lease, cool_ms, park_ms);
    self->holding = false;
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
    return applied;
}

//  Starts using a key the pool leased: a fresh connection with its secret, and an empty
//  bucket (the key's last holder may have spent its whole second).
static void
s_key_take (self_t *self, int64_t now)
{
    size_t index = 0;
    while (index < self->args->key_count && !streq (self->pool_keys [index], self->lease.key))
        index++;
    assert (index < self->args->key_count);    //  the pool only leases keys it was given
    self->key_name = self->args->key_names [index];
    self->client = rpc_client_new (self->args->key_urls [index], self->args->provider,
                                   self->args->timeout_ms);
    assert (self->client);
    rpc_client_set_abort (self->client, s_should_abort, self);
    self->bucket = token_bucket_new (self->args->key_rps);
    self->holding = true;
    self->lease_deadline = now + self->lease_ttl_ms - 1000;
    self->renew_due = now + self->lease_ttl_ms / 3;
    self->rotate_due = self->args->rotate_ms > 0 ? now + self->args->rotate_ms : INT64_MAX;
    self->lease_requests = self->lease_units = 0;
    zsys_debug ("fetch_worker %s: %s took key %s (last 24 h: %" PRIu64 " requests, %" PRIu64
                " units)", self->args->provider, self->args->holder, self->key_name,
                self->lease.requests_24h, self->lease.units_24h);
    if (self->waiting_logged)
        zsys_info ("fetch_worker %s: %s has key %s after waiting", self->args->provider,
                   self->args->holder, self->key_name);
    self->waiting_logged = self->pool_down_logged = false;
}

//  Makes sure the worker holds a key it may use for the next needed_ms: renews the lease
//  when due, rotates when due and may_rotate (between jobs only: a job never waits for a
//  key it gave up itself), leases another key when it has none (waiting while none is
//  free). Returns 0, or -1 when leaving.
static int
s_key_ensure (self_t *self, int64_t needed_ms, bool may_rotate)
{
    if (!self->pool)
        return 0;
    while (!self->terminated) {
        int64_t now = zclock_mono ();
        if (self->holding) {
            if (may_rotate
                && (now >= self->rotate_due
                    || (self->args->rotate_requests
                        && self->lease_requests >= self->args->rotate_requests))) {
                s_key_release (self, 0, 0);
                continue;
            }
            if (now >= self->renew_due) {
                int rc = keypool_client_renew (self->pool, &self->lease, self->lease_ttl_ms);
                if (rc == 0) {
                    self->lease_deadline = now + self->lease_ttl_ms - 1000;
                    self->renew_due = now + self->lease_ttl_ms / 3;
                }
                else
                if (rc == 1) {
                    zsys_warning ("fetch_worker %s: %s lost its lease on key %s (expired or "
                                  "taken): moving to another key", self->args->provider,
                                  self->args->holder, self->key_name);
                    self->holding = false;
                    rpc_client_destroy (&self->client);
                    token_bucket_destroy (&self->bucket);
                    continue;
                }
                else
                    self->renew_due = now + 1000;    //  the store is away: try again soon
            }
            if (self->lease_deadline - now > needed_ms)
                return 0;
            //  The lease may run out before the request ends, and nobody can renew it: stop
            //  using the key, since another worker may take it once it expires.
            zsys_warning ("fetch_worker %s: %s cannot renew its lease on key %s: not using it",
                          self->args->provider, self->args->holder, self->key_name);
            self->holding = false;
            rpc_client_destroy (&self->client);
            token_bucket_destroy (&self->bucket);
            continue;
        }
        keypool_busy_t busy;
        int rc = keypool_client_acquire (self->pool, self->args->holder, self->lease_ttl_ms,
                                         self->args->key_daily,
                                         self->args->costs && cost_table_daily_utc (self->args->costs),
                                         (const char **) self->pool_keys, self->args->key_count,
                                         &self->lease, &busy);
        if (rc == 0) {
            s_key_take (self, zclock_mono ());
            return 0;
        }
        int64_t wait = KEY_WAIT_POLL_MS;
        if (rc == 1 && !self->waiting_logged) {
            zsys_warning ("fetch_worker %s: %s waits for a free key: all %zu keys are busy (%d "
                          "leased, %d cooling down, %d parked); a key is never shared",
                          self->args->provider, self->args->holder, self->args->key_count,
                          busy.leased, busy.cooling, busy.parked);
            self->waiting_logged = true;
        }
        if (rc < 0) {
            if (!self->pool_down_logged)
                zsys_warning ("fetch_worker %s: %s waits for the key pool: %s",
                              self->args->provider, self->args->holder, self->lease.token);
            self->pool_down_logged = true;
            wait = 1000;
        }
        if (s_pause (self, wait))
            return -1;
    }
    return -1;
}

//  The time budget of one request: its timeout and a second of slack.
static int64_t
s_request_ms (self_t *self)
{
    return (int64_t) self->args->timeout_ms + 1000;
}

//  Before `calls` calls of method are sent: a key held, its daily and per-second budgets
//  taken in the provider's units, and the calls journaled. Returns 0, or -1 when leaving.
static int
s_spend (self_t *self, const char *method, uint64_t calls)
{
    uint64_t units = calls * (self->args->costs ? cost_table_units (self->args->costs, method) : 1);
    while (true) {
        if (s_key_ensure (self, s_request_ms (self) + 1000, false))
            return -1;
        if (!self->pool)
            return s_take_budget (self, (double) calls);
        bool utc = self->args->costs && cost_table_daily_utc (self->args->costs);
        uint64_t spent = (utc ? self->lease.units_today : self->lease.units_24h) + self->lease_units;
        if (self->args->key_daily && spent + units > self->args->key_daily) {
            //  Parked before the provider has to say so; the pool works out when it has room.
            int64_t now = zclock_time ();
            int64_t park = utc ? (now / 86400000 + 1) * 86400000 - now : 60000;
            zsys_warning ("fetch_worker %s: key %s: daily budget of %" PRIu64 " %s reached: "
                          "parked for %" PRId64 " s; moving to another key",
                          self->args->provider, self->key_name, self->args->key_daily,
                          cost_table_unit (self->args->costs), park / 1000);
            s_key_release (self, 0, park);
            continue;
        }
        if (s_take_budget (self, (double) units))
            return -1;
        if (!self->holding)
            continue;
        if (keypool_client_spend (self->pool, self->lease.key, method, calls, units)) {
            zsys_error ("fetch_worker %s: the key pool cannot journal requests: not sending",
                        self->args->provider);
            if (s_pause (self, 1000))
                return -1;
            continue;
        }
        self->lease_requests += calls;
        self->lease_units += units;
        return 0;
    }
}

//  A rate-limit or quota answer: the key cools down (the provider's backoff_seconds, else
//  exponentially) or is parked, and the worker will take another one.
static void
s_key_punish (self_t *self, const char *what, const jsonrpc_answer_t *answer)
{
    const char *key_name = self->key_name;
    if (answer->status == JSONRPC_RATE_LIMITED) {
        int64_t cool = answer->backoff_seconds > 0 ? (int64_t) (answer->backoff_seconds * 1000) : -1;
        if (cool == 0)
            cool = 1;
        int64_t applied = s_key_release (self, cool, 0);
        zsys_warning ("fetch_worker %s key %s: %s: rate_limited: %s: cooling down for %" PRId64
                      " ms, moving to another key", self->args->provider, key_name, what,
                      answer->message, applied);
    }
    else {
        int64_t now = zclock_time ();
        bool utc = self->args->costs && cost_table_daily_utc (self->args->costs);
        //  Infura's daily cap ends at 00:00 UTC; others do not say: an hour.
        int64_t park = utc ? (now / 86400000 + 1) * 86400000 - now : 3600000;
        s_key_release (self, 0, park);
        zsys_warning ("fetch_worker %s key %s: %s: quota_exceeded: %s: parked for %" PRId64
                      " s, moving to another key", self->args->provider, key_name, what,
                      answer->message, park / 1000);
    }
}

//  A rate-limit or quota answer with a pool: handled by moving to another key.
static bool
s_key_problem (self_t *self, const jsonrpc_answer_t *answer)
{
    return self->pool
           && (answer->status == JSONRPC_RATE_LIMITED || answer->status == JSONRPC_QUOTA_EXCEEDED);
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
    if ((answer->status == JSONRPC_RATE_LIMITED || answer->status == JSONRPC_QUOTA_EXCEEDED)
        && self->bucket)
        token_bucket_drain (self->bucket, zclock_mono ());
    int64_t backoff = s_backoff_ms (attempt, answer);
    zsys_warning ("fetch_worker %s%s%s: %s: %s: %s (attempt %d of %d, next in %" PRId64 " ms)",
                  self->args->provider, self->key_name ? " key " : "",
                  self->key_name ? self->key_name : "", what,
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
    memset (answer, 0, sizeof (*answer));
    int rc = 1;
    for (int attempt = 1; attempt <= self->args->attempts && rc == 1; attempt++) {
        if (s_spend (self, method, 1)) {
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
        if (rc == 1 && s_key_problem (self, answer)) {
            //  Not the provider failing: another key, and the attempt does not count.
            s_key_punish (self, what, answer);
            attempt--;
            continue;
        }
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
    //  A key's second holds at most key_rps calls: never send more than that at once, or
    //  the provider answers 429 to the whole group every time.
    size_t per_batch = JSONRPC_BATCH_MAX;
    size_t in_flight = HASH_BATCHES_IN_FLIGHT;
    if (self->args->key_rps > 0) {
        //  The budget is in units: so many calls of this method.
        uint64_t cost = self->args->costs
                        ? cost_table_units (self->args->costs, "eth_getTransactionByHash") : 1;
        double calls_per_second = cost ? self->args->key_rps / (double) cost : 1e9;
        size_t budget = calls_per_second >= 1 ? (size_t) calls_per_second : 1;
        per_batch = budget < JSONRPC_BATCH_MAX ? budget : JSONRPC_BATCH_MAX;
        in_flight = budget / per_batch;
        in_flight = in_flight < 1 ? 1
                    : in_flight > HASH_BATCHES_IN_FLIGHT ? HASH_BATCHES_IN_FLIGHT : in_flight;
    }
    size_t batches = (count + per_batch - 1) / per_batch;
    for (size_t first = 0; first < batches; first += in_flight) {
        size_t group = batches - first < in_flight ? batches - first : in_flight;
        jsonrpc_batch_t *batch [HASH_BATCHES_IN_FLIGHT];
        const char *bodies [HASH_BATCHES_IN_FLIGHT];
        size_t calls = 0;
        for (size_t index = 0; index < group; index++) {
            batch [index] = jsonrpc_batch_new ();
            size_t start = (first + index) * per_batch;
            for (size_t call = start; call < count && call < start + per_batch; call++) {
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
            if (s_spend (self, "eth_getTransactionByHash", calls)) {
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
                size_t start = (first + index) * per_batch;
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
            if (s_key_problem (self, &failure)) {
                s_key_punish (self, what, &failure);
                continue;
            }
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
            cJSON **docs = (cJSON **) calloc (count + 1, sizeof (cJSON *));
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
            if (fetched > 0) {
                //  The by-hash calls had their own attempts: do not repeat them all again.
                cJSON_Delete (doc);
                result->status = RESULT_FAILED;
                snprintf (result->error, sizeof (result->error), "%.40s: %.150s",
                          self->args->provider, error);
                return 0;
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

//  Tells the dispatcher this worker can take a job: with a key pool, once it holds a key,
//  so that no job waits in a worker that waits for a key while others could run it.
static void
s_ready (self_t *self)
{
    if (!self->terminated && s_key_ensure (self, s_request_ms (self) + 1000, true) == 0)
        zstr_send (self->dispatcher, "READY");
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
    s_ready (self);
    while (!self->terminated) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, self->holding ? 1000 : -1);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->dispatcher) {
            s_self_handle_job (self);
            self->last_job = zclock_mono ();
            s_ready (self);
        }
        else if (zpoller_terminated (self->poller))
            break;
        //  A key held without work is a key another worker may be waiting for.
        if (self->holding && zclock_mono () - self->last_job >= KEY_IDLE_MS)
            s_key_release (self, 0, 0);
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Selftest: the real actor against a fake node (test_http) serving a mainnet block, with
//  the test playing the dispatcher on a ROUTER socket.
#include "test_http.h"

#define S_TEST_ENDPOINT "inproc://fetch-worker-test"
#define S_TEST_SECRET "SECRET123"
#define S_TEST_BLOCK 17000000

//  How the fake node treats one request.
typedef enum {
    S_GOOD = 0,
    S_E500,          //  HTTP 500
    S_TRUNCATED,     //  half of a good answer, then the connection closes
    S_GARBAGE,       //  200 with a body that is not JSON
    S_E429,          //  Infura's rate limit with a 0.1 s backoff hint
    S_CLOSE,         //  the connection closes without an answer
    S_SLOW,          //  a good answer, 3 s late
} s_fault_t;

//  A node that knows one block. The test sets the plan only while no job is under way, so
//  the server thread and the test never touch it at once.
typedef struct {
    uint64_t number;
    cJSON *doc;                           //  the stored answer (owns everything below)
    const cJSON *txs;                     //  the block's transactions
    char *full;                           //  the block, JSON text
    char *hashes;                         //  the block with transactions as hashes
    s_fault_t plan [2];                   //  faults for the next two requests, in order
    int planned;
    int used;
    s_fault_t otherwise;                  //  for requests past the plan
} s_node_t;

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
        cJSON_AddItemToArray (hashes, cJSON_CreateString (
            cJSON_GetObjectItemCaseSensitive (tx, "hash")->valuestring));
    cJSON_ReplaceItemInObjectCaseSensitive (copy, "transactions", hashes);
    node->hashes = cJSON_PrintUnformatted (copy);
    cJSON_Delete (copy);
}

static void
s_node_clear (s_node_t *node)
{
    cJSON_Delete (node->doc);
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

//  The answer to one call: its result as JSON text (freed by the caller).
static char *
s_node_result (s_node_t *node, const cJSON *call)
{
    const char *method = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (call, "method"));
    const cJSON *params = cJSON_GetObjectItemCaseSensitive (call, "params");
    const char *first = cJSON_GetStringValue (cJSON_GetArrayItem (params, 0));
    if (method && streq (method, "eth_blockNumber"))
        return zsys_sprintf ("\"0x%" PRIx64 "\"", node->number);
    uint64_t number;
    if (method && streq (method, "eth_getBlockByNumber") && first
        && hex_to_u64 (first, &number) == 0 && number == node->number)
        return strdup (cJSON_IsTrue (cJSON_GetArrayItem (params, 1)) ? node->full
                                                                    : node->hashes);
    const cJSON *tx;
    if (method && streq (method, "eth_getTransactionByHash") && first)
        cJSON_ArrayForEach (tx, node->txs)
            if (strcasecmp (cJSON_GetObjectItemCaseSensitive (tx, "hash")->valuestring, first)
                == 0)
                return cJSON_PrintUnformatted (tx);
    return strdup ("null");
}

static char *
s_node_answer (s_node_t *node, const cJSON *call)
{
    char *result = s_node_result (node, call);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive (call, "id");
    char *answer = zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%" PRId64 ",\"result\":%s}",
                                 cJSON_IsNumber (id) ? (int64_t) id->valuedouble : 0, result);
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
    else
    if (fault == S_GARBAGE)
        test_http_reply (response, 200, "<html><body>502 Bad Gateway</body></html>");
    else
    if (fault == S_E429)
        test_http_reply (response, 429,
                         "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32005,\"message\":"
                         "\"project ID request rate exceeded\",\"data\":{\"see\":"
                         "\"https://infura.io/dashboard\",\"current_rps\":13.333,"
                         "\"allowed_rps\":10.0,\"backoff_seconds\":0.1}}}");
    else
    if (fault == S_CLOSE)
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
s_worker_new (zsock_t *router, int port, const char *provider, int attempts,
              zframe_t **identity_p)
{
    char url [128];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d/v3/" S_TEST_SECRET, port);
    fetch_worker_args_t *args =
        fetch_worker_args_new (S_TEST_ENDPOINT, url, provider, "key-a", 0, 10000);
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
    job_t job = {.id = number * 10 + (uint64_t) kind, .kind = kind, .number = number,
                 .chain_id = 1, .fetch_mode = mode};
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
    assert (streq (result->header.hash,
                   cJSON_GetObjectItemCaseSensitive (block, "hash")->valuestring));
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

    //  --fetch block: one call
    block_body_t *expected = s_block_job (router, identity, S_TEST_BLOCK, FETCH_BLOCK, &result);
    s_check_header (&result, &node);
    assert (result.requests == 1 && *result.error == 0);
    assert (expected->tx_count == tx_count && expected->meta_len > 0);
    for (size_t index = 0; index < tx_count; index++)
        assert (streq (expected->txs [index].hash,
                       cJSON_GetObjectItemCaseSensitive (cJSON_GetArrayItem (node.txs, (int) index),
                                                         "hash")->valuestring));

    //  --fetch hashes: the same records for 1 + tx_count calls
    block_body_t *body = s_block_job (router, identity, S_TEST_BLOCK, FETCH_HASHES, &result);
    s_check_header (&result, &node);
    assert (result.requests == 1 + tx_count);
    s_check_same_body (body, expected);
    block_body_destroy (&body);

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
            printf ("faults %d %d: %" PRIu64 " requests in %" PRId64 " ms\n",
                    faults [index].first, faults [index].second, result.requests, elapsed);
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
    //  worker moves to the other key and the block arrives; both requests are journaled.
    char dir [] = "/tmp/evmtap-fetch-worker-test-XXXXXX";
    assert (mkdtemp (dir));
    keypool_args_t pool_args = {.data_dir = dir, .endpoint = "inproc://fetch-worker-pool"};
    keypool_t *pool = keypool_new (&pool_args);
    assert (pool);
    fetch_worker_args_t *args = fetch_worker_args_new (S_TEST_ENDPOINT, "", "node-p", NULL, 0,
                                                       10000);
    char error [256];
    cost_table_t *costs = cost_table_new ("infura", error, sizeof (error));
    fetch_worker_args_set_pool (args, "inproc://fetch-worker-pool", "test:1:c/w0", costs, 0,
                                0, 0);
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
    msg = zmsg_recv (router);       //  its READY, once it holds a key
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
    assert (keypool_list (pool, &states, &count) == 0 && count == 2);
    for (size_t index = 0; index < count; index++) {
        if (verbose)
            printf ("%s: %s, %" PRIu64 " requests, %" PRIu64 " credits\n", states [index].key,
                    states [index].state, states [index].requests_24h, states [index].units_24h);
        assert (states [index].requests_24h == 1 && states [index].units_24h == 80);
    }
    free (states);
    zactor_destroy (&pooled);
    zframe_destroy (&pooled_identity);
    keypool_destroy (&pool);
    char command [128];
    snprintf (command, sizeof (command), "rm -rf %s", dir);
    assert (system (command) == 0);

    block_body_destroy (&expected);
    zframe_destroy (&identity);
    test_http_destroy (&server);
    s_node_clear (&node);
    zsock_destroy (&router);
    if (verbose)
        printf ("fetch_worker test: %" PRId64 " ms\n", zclock_mono () - test_started);
}
