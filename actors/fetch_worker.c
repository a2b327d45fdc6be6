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
    keeps the one URL it was given (selftests, keyless nodes).

    With receipts (job->receipts) the block's receipts are joined onto it (src/receipts.c):
    with --fetch block, eth_getBlockReceipts goes in one JSON-RPC batch with the block; a
    node that answers -32601 gets batched eth_getTransactionReceipt calls instead, from then
    on. Receipts that do not fit the block (another fork) make the block be fetched again.

    Dispatcher protocol (DEALER to the dispatcher's ROUTER):
        -> READY                 when it can take a job: after connecting and after
                                 each result, once it holds a key (with a key pool)
        <- job frame             (proto/job.h)
        -> result frames         (proto/result.h), then READY again
    Pipe commands:
        $TERM                    leave, even in the middle of a request
*/
#include "evmtap.h"
#include "fetch_worker.h"
#include "block.h"
#include "cost_table.h"
#include "hexutil.h"
#include "job.h"
#include "jsonrpc.h"
#include "jsonw.h"
#include "keypool.h"
#include "keypool_store.h"
#include "normalize.h"
#include "receipts.h"
#include "result.h"
#include "rpc_client.h"
#include "secrets.h"
#include "token_bucket.h"

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
    const char *key_name;     //  the leased key for logs (borrowed from args), or NULL
    int64_t lease_ttl_ms;
    int64_t lease_deadline;   //  zclock_mono: stop using the key after this unless renewed
    int64_t renew_due;
    int64_t rotate_due;
    uint64_t lease_requests;  //  requests and units spent under this lease
    uint64_t lease_units;
    int64_t last_job;         //  zclock_mono of the last job's end
    bool waiting_logged;      //  "all keys busy" said since the last lease
    bool pool_down_logged;
    bool no_block_receipts;   //  the node answered -32601 to eth_getBlockReceipts
    char **pool_keys;         //  "<provider>/<name>" for each args->key_names
} self_t;

fetch_worker_args_t *
fetch_worker_args_new (const char *dispatcher, const char *url, const char *provider,
                       double key_rps, int timeout_ms)
{
    fetch_worker_args_t *args = (fetch_worker_args_t *) zmalloc (sizeof (fetch_worker_args_t));
    assert (args);
    args->dispatcher = strdup (dispatcher);
    args->url = strdup (url);
    args->provider = strdup (provider);
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

//  The units one call of method costs in the key's budgets: the cost table's, else one.
//  A cost table comes only with a pool (fetch_worker_args_set_pool).
static uint64_t
s_units (self_t *self, const char *method)
{
    return self->args->costs ? cost_table_units (self->args->costs, method) : 1;
}

//  Whether the keys' daily budgets reset at 00:00 UTC (Infura) rather than over a sliding
//  24 h.
static bool
s_daily_utc (self_t *self)
{
    return self->args->costs && cost_table_daily_utc (self->args->costs);
}

//  How long to park a key whose daily budget is spent: until the next 00:00 UTC when the
//  budgets reset then, else otherwise_ms (the provider does not say when).
static int64_t
s_park_ms (self_t *self, int64_t otherwise_ms)
{
    int64_t now = zclock_time ();
    return s_daily_utc (self) ? (now / 86400000 + 1) * 86400000 - now : otherwise_ms;
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

//  Stops using the key: its connection and bucket go (the pool is not told).
static void
s_key_drop (self_t *self)
{
    self->holding = false;
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
}

//  Hands the key back: cool_ms / park_ms as keypool_store_release. Returns the cool down
//  the pool applied.
static int64_t
s_key_release (self_t *self, int64_t cool_ms, int64_t park_ms)
{
    int64_t applied = keypool_client_release (self->pool, &self->lease, cool_ms, park_ms);
    s_key_drop (self);
    return applied;
}

//  The lease was granted or renewed at now: when it runs out for us, and when to renew it.
static void
s_lease_extended (self_t *self, int64_t now)
{
    self->lease_deadline = now + self->lease_ttl_ms - 1000;
    self->renew_due = now + self->lease_ttl_ms / 3;
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
    s_lease_extended (self, now);
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
                if (rc == 0)
                    s_lease_extended (self, now);
                else
                if (rc == 1) {
                    zsys_warning ("fetch_worker %s: %s lost its lease on key %s (expired or "
                                  "taken): moving to another key", self->args->provider,
                                  self->args->holder, self->key_name);
                    s_key_drop (self);
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
            s_key_drop (self);
            continue;
        }
        keypool_busy_t busy;
        int rc = keypool_client_acquire (self->pool, self->args->holder, self->lease_ttl_ms,
                                         self->args->key_daily, s_daily_utc (self),
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
    uint64_t units = calls * s_units (self, method);
    while (true) {
        if (s_key_ensure (self, s_request_ms (self) + 1000, false))
            return -1;
        if (!self->pool)
            return s_take_budget (self, (double) calls);
        uint64_t spent = (s_daily_utc (self) ? self->lease.units_today : self->lease.units_24h)
                         + self->lease_units;
        if (self->args->key_daily && spent + units > self->args->key_daily) {
            //  Parked before the provider has to say so; the pool works out when it has room.
            int64_t park = s_park_ms (self, 60000);
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
        //  Infura's daily cap ends at 00:00 UTC; others do not say: an hour.
        int64_t park = s_park_ms (self, 3600000);
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

//  JSON-RPC calls in one HTTP request (a batch when there are several), with retries. On
//  success *doc_p holds the parsed answer and answers [i].result points into it. A call
//  after the first may answer -32601 (not supported: the caller falls back); any other
//  failed call fails the request, which is tried again whole. Returns 0, 1 when every
//  attempt failed (answers [0] says why), -1 when leaving.
static int
s_call_many (self_t *self, const char *what, size_t count, const char *const *methods,
             const char *const *params, cJSON **doc_p, jsonrpc_answer_t *answers)
{
    assert (count >= 1);
    char *single = NULL;
    jsonrpc_batch_t *batch = NULL;
    if (count == 1)
        single = jsonrpc_request (1, methods [0], params [0]);
    else {
        batch = jsonrpc_batch_new ();
        for (size_t index = 0; index < count; index++)
            jsonrpc_batch_add (batch, methods [index], params [index]);
    }
    const char *bodies [1] = {single ? single : jsonrpc_batch_body (batch)};
    memset (answers, 0, count * sizeof (*answers));
    jsonrpc_answer_t failure;
    memset (&failure, 0, sizeof (failure));
    int rc = 1;
    for (int attempt = 1; attempt <= self->args->attempts && rc == 1; attempt++) {
        for (size_t index = 0; index < count && rc == 1; index++)
            if (s_spend (self, methods [index], 1))
                rc = -1;
        if (rc < 0)
            break;
        rpc_response_t response;
        memset (&response, 0, sizeof (response));
        self->requests += count;
        if (rpc_client_post (self->client, bodies, 1, &response)) {
            rc = -1;
            break;
        }
        memset (&failure, 0, sizeof (failure));
        if (response.transport_failed) {
            failure.status = JSONRPC_TRANSPORT;
            snprintf (failure.message, sizeof (failure.message), "%s", response.error);
        }
        else {
            jsonrpc_status_t status =
                single ? jsonrpc_parse (response.http_status, response.body, response.size,
                                        doc_p, &answers [0])
                       : jsonrpc_parse_batch (response.http_status, response.body, response.size,
                                              count, doc_p, answers);
            for (size_t index = 0; index < count && failure.status == JSONRPC_OK; index++)
                if (answers [index].status != JSONRPC_OK
                    && (index == 0 || answers [index].status != JSONRPC_NOT_SUPPORTED))
                    failure = answers [index];
            if (status != JSONRPC_OK && failure.status == JSONRPC_OK)
                failure = answers [0];
            if (failure.status == JSONRPC_OK)
                rc = 0;
            else {
                cJSON_Delete (*doc_p);
                *doc_p = NULL;
            }
        }
        rpc_response_clear (&response);
        if (rc == 1 && s_key_problem (self, &failure)) {
            //  Not the provider failing: another key, and the attempt does not count.
            s_key_punish (self, what, &failure);
            attempt--;
            continue;
        }
        //  A method the node does not have stays missing: the caller decides what next.
        if (rc == 1 && failure.status == JSONRPC_NOT_SUPPORTED)
            break;
        if (rc == 1 && s_after_failure (self, what, attempt, &failure))
            rc = -1;
    }
    if (rc == 1)
        answers [0] = failure;
    free (single);
    jsonrpc_batch_destroy (&batch);
    return rc;
}

//  Whether these calls fit in one second of the key's budget together: a batch reaches the
//  provider at one instant, so it counts them in the same second.
static bool
s_fits_one_second (self_t *self, const char *const *methods, size_t count)
{
    if (self->args->key_rps <= 0)
        return true;
    double units = 0;
    for (size_t index = 0; index < count; index++)
        units += (double) s_units (self, methods [index]);
    return units <= self->args->key_rps;
}

//  One JSON-RPC call with retries (see s_call_many).
static int
s_call (self_t *self, const char *what, const char *method, const char *params,
        cJSON **doc_p, jsonrpc_answer_t *answer)
{
    return s_call_many (self, what, 1, &method, &params, doc_p, answer);
}

static void
s_block_param (uint64_t number, bool full, char *params, size_t size)
{
    snprintf (params, size, "[\"0x%" PRIx64 "\",%s]", number, full ? "true" : "false");
}

//  One call of method per transaction hash, in batches: eth_getTransactionByHash for
//  --fetch hashes, eth_getTransactionReceipt for receipts from a node without
//  eth_getBlockReceipts. Fills results (borrowed from docs). Returns 0, 1 on failure
//  (reason in error), -1 when leaving.
static int
s_fetch_by_hash (self_t *self, uint64_t number, const char *method, const char *const *hashes,
                 size_t count, const cJSON **results, cJSON **docs, size_t *doc_count,
                 char *error, size_t error_size)
{
    //  A key's second holds at most key_rps calls: never send more than that at once, or
    //  the provider answers 429 to the whole group every time.
    size_t per_batch = JSONRPC_BATCH_MAX;
    size_t in_flight = HASH_BATCHES_IN_FLIGHT;
    if (self->args->key_rps > 0) {
        //  The budget is in units: so many calls of this method.
        uint64_t cost = s_units (self, method);
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
                char params [80];
                snprintf (params, sizeof (params), "[\"%.66s\"]", hashes [call]);
                jsonrpc_batch_add (batch [index], method, params);
                calls++;
            }
            bodies [index] = jsonrpc_batch_body (batch [index]);
        }
        int rc = 0;
        int attempt = 1;
        while (true) {
            if (s_spend (self, method, calls)) {
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
                        //  The node knows the block but not yet all of its transactions.
                        failure.status = JSONRPC_BAD_ANSWER;
                        snprintf (failure.message, sizeof (failure.message),
                                  "%s of transaction %zu of block %" PRIu64 " is null", method,
                                  start + call, number);
                    }
                    else
                        results [start + call] = answers [call].result;
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
            snprintf (what, sizeof (what), "block %" PRIu64 " %s", number, method);
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

//  The receipts of a fetched block, joined onto its body: eth_getBlockReceipts with
//  params (its answer in `fetched` when it came with the block), or one
//  eth_getTransactionReceipt per transaction (batched) from a node that answers -32601 to
//  it (remembered for the rest of the run). Returns 0, 1 when the calls failed after their
//  attempts, 2 when the receipts do not fit the block (another fork, not yet known: fetch
//  the block again), -1 when leaving; error says why.
static int
s_fetch_receipts (self_t *self, const job_t *job, const char *params,
                  const block_header_t *header, block_body_t *body,
                  const jsonrpc_answer_t *fetched, char *error, size_t error_size)
{
    if (!self->no_block_receipts) {
        char what [64];
        snprintf (what, sizeof (what), "eth_getBlockReceipts %" PRIu64, job->number);
        cJSON *doc = NULL;
        jsonrpc_answer_t answer;
        int rc = 0;
        if (fetched)
            answer = *fetched;
        else
            rc = s_call (self, what, "eth_getBlockReceipts", params, &doc, &answer);
        if (rc < 0)
            return -1;
        if (rc == 0 && answer.status == JSONRPC_OK) {
            rc = receipts_join_array (body, header, job->chain_id, answer.result, error,
                                      error_size) ? 2 : 0;
            cJSON_Delete (doc);
            return rc;
        }
        if (answer.status != JSONRPC_NOT_SUPPORTED) {
            snprintf (error, error_size, "%s: %s: %.120s", what, jsonrpc_status_name (answer.status),
                      answer.message);
            return 1;
        }
        zsys_notice ("fetch_worker %s: the node has no eth_getBlockReceipts (%s): receipts "
                     "by transaction from now on", self->args->provider, answer.message);
        self->no_block_receipts = true;
    }
    size_t count = body->tx_count;
    const cJSON **receipts = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
    const char **hashes = (const char **) calloc (count + 1, sizeof (char *));
    cJSON **docs = (cJSON **) calloc (count + 1, sizeof (cJSON *));
    assert (receipts && hashes && docs);
    for (size_t index = 0; index < count; index++)
        hashes [index] = body->txs [index].hash;
    size_t doc_count = 0;
    int rc = count ? s_fetch_by_hash (self, job->number, "eth_getTransactionReceipt", hashes,
                                      count, receipts, docs, &doc_count, error, error_size)
                   : 0;
    if (rc == 0 && receipts_join (body, header, job->chain_id, receipts, count, error,
                                  error_size))
        rc = 2;
    while (doc_count)
        cJSON_Delete (docs [--doc_count]);
    free (docs);
    free (hashes);
    free (receipts);
    return rc;
}

//  A job that failed after its calls' own attempts: RESULT_FAILED, "provider: error".
static void
s_result_failed (self_t *self, result_t *result, const char *error)
{
    result->status = RESULT_FAILED;
    snprintf (result->error, sizeof (result->error), "%.40s: %.150s", self->args->provider,
              error);
}

//  Fetches and normalizes one block. Returns 0 with the result filled (and *body_p when
//  found), -1 when leaving.
static int
s_fetch_block (self_t *self, const job_t *job, result_t *result, block_body_t **body_p)
{
    bool by_hash = job->fetch_mode == FETCH_HASHES;
    char params [64], receipts_params [64], what [80];
    s_block_param (job->number, !by_hash, params, sizeof (params));
    snprintf (receipts_params, sizeof (receipts_params), "[\"0x%" PRIx64 "\"]", job->number);
    const char *methods [2] = {"eth_getBlockByNumber", "eth_getBlockReceipts"};
    const char *all_params [2] = {params, receipts_params};
    for (int attempt = 1;; attempt++) {
        //  With receipts the block and its receipts go in one batch when the key's second
        //  holds both: one round trip; the join checks that they are of the same block.
        bool batched = job->receipts && !by_hash && !self->no_block_receipts
                       && s_fits_one_second (self, methods, 2);
        snprintf (what, sizeof (what), "eth_getBlockByNumber%s %" PRIu64,
                  batched ? "+eth_getBlockReceipts" : "", job->number);
        cJSON *doc = NULL;
        jsonrpc_answer_t answers [2];
        int rc = s_call_many (self, what, batched ? 2 : 1, methods, all_params, &doc, answers);
        jsonrpc_answer_t answer = answers [0];
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
            const cJSON *list = cJSON_GetObjectItemCaseSensitive (answer.result, "transactions");
            size_t count = cJSON_IsArray (list) ? (size_t) cJSON_GetArraySize (list) : 0;
            const cJSON **txs = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
            const char **hashes = (const char **) calloc (count + 1, sizeof (char *));
            cJSON **docs = (cJSON **) calloc (count + 1, sizeof (cJSON *));
            size_t doc_count = 0, index = 0;
            for (const cJSON *hash = count ? list->child : NULL; hash; hash = hash->next)
                hashes [index++] = cJSON_IsString (hash) ? hash->valuestring : "";
            int fetched = count ? s_fetch_by_hash (self, job->number, "eth_getTransactionByHash",
                                                   hashes, count, txs, docs, &doc_count, error,
                                                   sizeof (error))
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
            free (hashes);
            free (txs);
            if (fetched < 0) {
                cJSON_Delete (doc);
                return -1;
            }
            if (fetched > 0) {
                //  The by-hash calls had their own attempts: do not repeat them all again.
                cJSON_Delete (doc);
                s_result_failed (self, result, error);
                return 0;
            }
        }
        else
            normalized = normalize_block (answer.result, job->chain_id, &result->header, body_p,
                                          error, sizeof (error));
        if (normalized == 0 && result->header.number != job->number) {
            block_body_destroy (body_p);
            snprintf (error, sizeof (error), "asked for block %" PRIu64 ", got %" PRIu64,
                      job->number, result->header.number);
            normalized = -1;
        }
        if (normalized == 0 && job->receipts) {
            int fetched = s_fetch_receipts (self, job, receipts_params, &result->header, *body_p,
                                            batched ? &answers [1] : NULL, error,
                                            sizeof (error));
            cJSON_Delete (doc);
            doc = NULL;
            if (fetched < 0)
                return -1;
            if (fetched == 1) {
                block_body_destroy (body_p);
                s_result_failed (self, result, error);
                return 0;
            }
            if (fetched == 2) {
                block_body_destroy (body_p);
                normalized = -1;
            }
        }
        cJSON_Delete (doc);
        if (normalized == 0) {
            result->status = RESULT_OK;
            return 0;
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

