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
    counting as a failed attempt. Budgets are in the provider's units (args->costs): the
    per-second one in throughput units, the daily one and the journal in billed units. A
    call is journaled at the most it may be billed before it is sent, and what its answer
    was not billed (a 429, Infura's 402) is refunded once it is read, so that a crash never
    under-counts. A key whose daily budget would be exceeded is parked before it is. The leasing rules are
    src/keys/key_lease.c's; this actor does the talking to the pool. Without a pool the
    worker keeps the one URL it was given (selftests, keyless nodes).

    With receipts (job->receipts) the block's receipts are joined onto it
    (src/fetch/receipts.c), fetched the cheapest way in billed units (src/keys/receipts_cost.c):
    where eth_getTransactionReceipt per transaction never costs less (Alchemy, plain
    requests), eth_getBlockReceipts goes in one JSON-RPC batch with the block; where it can
    (Infura: a block of fewer than 13 transactions), the block comes first and its receipts
    after it, the cheaper way for its transaction count (none for an empty block). A node
    that answers -32601 gets batched eth_getTransactionReceipt calls, from then on. Receipts that do not fit the block (another fork) make the
    block be fetched again.

    With args->metrics each call's outcome (by provider, key, method and status), the
    duration of each HTTP request and the units billed go to the metrics actor, at most
    every FETCH_METRICS_MS (proto/metric.h).

    Dispatcher protocol (DEALER to the dispatcher's ROUTER):
        -> READY                 when it can take a job: after connecting and after
                                 each result, once it holds a key (with a key pool)
        <- job frame             (proto/job.h)
        -> result frames         (proto/result.h), then READY again
        <- proxy query           (proto/proxy_query.h: the decoder's lookups)
        -> proxy answer          then READY again
    Pipe commands:
        $TERM                    leave, even in the middle of a request
*/
#include "evmtap.h"
#include "fetch_worker.h"
#include "backoff.h"
#include "block_proof.h"
#include "block.h"
#include "cost_table.h"
#include "hash_calls.h"
#include "hexutil.h"
#include "job.h"
#include "jsonrpc.h"
#include "key_lease.h"
#include "keypool.h"
#include "keypool_store.h"
#include "metric.h"
#include "metrics.h"
#include "normalize.h"
#include "proxy_probe.h"
#include "proxy_query.h"
#include "receipts.h"
#include "receipts_cost.h"
#include "receipts_strategy.h"
#include "result.h"
#include "rpc_client.h"
#include "secrets.h"
#include "spend_ledger.h"
#include "token_bucket.h"

//  A leased key goes back to the pool after this long without work.
#define KEY_IDLE_MS 10000
//  While no key is free, the pool is asked again this often.
#define KEY_WAIT_POLL_MS 250
//  A failed attempt waits this long before the next, doubled each time up to the cap,
//  unless the provider says how long.
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 8000
//  Metric updates wait at most this long, so that a call costs no message of its own.
#define FETCH_METRICS_MS 250

//  How an exchange of a job, or a part of it, ended.
typedef enum {
    S_DONE,         //  it has what it asked for
    S_FAILED,       //  failed after its attempts, or the node lacks the method: reason given
    S_BAD_BLOCK,    //  no sound block, or receipts that do not fit it: fetch it again
    S_UNPROVEN,     //  the block does not prove against its header: another key, again
    S_LEAVING,      //  told to leave: stop at once
} s_outcome_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *dispatcher;
    zpoller_t *poller;
    fetch_worker_args_t *args;
    rpc_client_t *client;      //  the provider, with the leased key's secret (with a pool)
    token_bucket_t *bucket;    //  the key's budget per second
    bool terminated;
    uint64_t requests;                //  JSON-RPC calls of the job under way
    keypool_client_t *pool;           //  NULL without a pool
    key_lease_t *lease;               //  the keys and the lease held, NULL without a pool
    int64_t last_job;                 //  zclock_mono of the last job's end
    bool waiting_logged;              //  "all keys busy" said since the last lease
    bool pool_down_logged;            //  "waits for the key pool" said since the last lease
    receipts_strategy_t *receipts;    //  how a block's receipts are fetched
    block_proof_t *proof;             //  proves each block fetched, at args->verify
    bool network_form_said;           //  a root over blob network forms was said
    spend_ledger_t *spent;            //  what the request under way journaled, per method
    zsock_t *metrics;                 //  PUSH to the metrics actor (args->metrics), or NULL
    metric_batch_t *updates;          //  calls, durations and units not sent yet
    int64_t metrics_due;              //  zclock_mono time they go
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
    free (args->metrics);
    free (args->chain);
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

//  The key's cost table; NULL without a pool (one unit a call).
static const cost_table_t *
s_costs (self_t *self)
{
    return self->pool ? self->args->costs : NULL;
}

//  The most one call of method can be billed: what is journaled before it is sent.
static uint64_t
s_bound (self_t *self, const char *method)
{
    return s_costs (self) ? cost_table_bound (s_costs (self), method) : 1;
}

//  The units one call of method takes from the key's budget per second.
static uint64_t
s_throughput (self_t *self, const char *method)
{
    return s_costs (self) ? cost_table_throughput (s_costs (self), method) : 1;
}

//  Whether the worker holds a leased key.
static bool
s_holding (self_t *self)
{
    return self->lease && key_lease_held (self->lease);
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    if (s_holding (self))
        keypool_client_release (self->pool, key_lease_held (self->lease), 0, 0);
    keypool_client_destroy (&self->pool);
    key_lease_destroy (&self->lease);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dispatcher);
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
    spend_ledger_destroy (&self->spent);
    receipts_strategy_destroy (&self->receipts);
    block_proof_destroy (&self->proof);
    s_args_destroy (&self->args);
    metric_batch_send (self->updates, self->metrics);
    metric_batch_destroy (&self->updates);
    zsock_destroy (&self->metrics);
    free (self);
    *self_p = NULL;
}

//  Takes args over: on failure they are destroyed with the rest.
static self_t *
s_self_new (zsock_t *pipe, fetch_worker_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->dispatcher = zsock_new_dealer (args->dispatcher);
    //  Only with a pool are calls journaled and billed in the table's units.
    self->spent = spend_ledger_new (args->keypool ? args->costs : NULL);
    self->receipts = receipts_strategy_new (args->keypool ? args->costs : NULL);
    self->proof = block_proof_new ((block_proof_mode_t) args->verify);
    if (args->keypool) {
        //  The client and bucket come with each lease.
        self->pool = keypool_client_new (args->keypool);
        self->lease = key_lease_new (args->provider, (const char *const *) args->key_names,
                                     args->key_count, args->timeout_ms, args->costs);
        key_lease_set_budget (self->lease, args->key_daily, args->rotate_ms, args->rotate_requests);
    }
    else {
        self->client = rpc_client_new (args->url, args->provider, args->timeout_ms);
        self->bucket = token_bucket_new (args->key_rps);
    }
    if (!self->dispatcher || (!self->client && !self->pool)) {
        zsys_error ("fetch_worker %s: cannot start (dispatcher %s)", args->provider,
                    args->dispatcher);
        s_self_destroy (&self);
        return NULL;
    }
    if (self->client)
        rpc_client_set_abort (self->client, s_should_abort, self);
    self->poller = zpoller_new (self->pipe, self->dispatcher, NULL);
    if (args->metrics) {
        self->metrics = zsock_new_push (args->metrics);
        self->updates = metric_batch_new ();
        assert (self->metrics && self->updates);
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Metrics

//  The label set of the provider and the key held (or "none" without a pool), then the
//  given pairs (NULL-terminated). 0, or -1 when it does not fit.
static int
s_metric_labels (self_t *self, char *labels, size_t size, const char *method, const char *status)
{
    const char *key = self->lease && key_lease_name (self->lease) ? key_lease_name (self->lease)
                                                                  : "none";
    return status ? metrics_labels (labels, size, "provider", self->args->provider, "key", key,
                                    "method", method, "status", status, NULL)
           : method
               ? metrics_labels (labels, size, "provider", self->args->provider, "key", key,
                                 "method", method, NULL)
               : metrics_labels (labels, size, "provider", self->args->provider, "key", key, NULL);
}

static void
s_metric_put (self_t *self, metric_op_t op, const char *name, const char *method,
              const char *status, double value)
{
    char labels [METRIC_LABELS_MAX];
    if (self->updates && s_metric_labels (self, labels, sizeof (labels), method, status) == 0)
        metric_batch_put (self->updates, op, name, labels, value);
}

//  A chain's figure, labelled chain (and field when given): the proofs'.
static void
s_metric_chain_put (self_t *self, const char *name, const char *field, double value)
{
    char labels [METRIC_LABELS_MAX];
    const char *chain = self->args->chain ? self->args->chain : "";
    int rc = field ? metrics_labels (labels, sizeof (labels), "chain", chain, "field", field, NULL)
                   : metrics_labels (labels, sizeof (labels), "chain", chain, NULL);
    if (self->updates && rc == 0)
        metric_batch_put (self->updates, METRIC_ADD, name, labels, value);
}

//  Sends the updates once due.
static void
s_metric_send (self_t *self)
{
    if (self->updates && zclock_mono () >= self->metrics_due) {
        metric_batch_send (self->updates, self->metrics);
        self->metrics_due = zclock_mono () + FETCH_METRICS_MS;
    }
}

//  --------------------------------------------------------------------------
//  The leased key

//  Stops using the key: its connection and bucket go (the pool is not told).
static void
s_key_drop (self_t *self)
{
    key_lease_drop (self->lease);
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
}

//  Hands the key back: cool_ms / park_ms as keypool_store_release. Returns the cool down
//  the pool applied.
static int64_t
s_key_release (self_t *self, int64_t cool_ms, int64_t park_ms)
{
    int64_t applied = keypool_client_release (self->pool, key_lease_held (self->lease), cool_ms,
                                              park_ms);
    s_key_drop (self);
    return applied;
}

//  Starts using a key the pool leased at now: a fresh connection with its secret, and an
//  empty bucket (the key's last holder may have spent its whole second). Returns -1, the
//  lease handed back, when the pool leased a key this worker was not given.
static int
s_key_take (self_t *self, const keypool_lease_t *lease, int64_t now)
{
    size_t index;
    if (key_lease_take (self->lease, lease, now, &index)) {
        zsys_error ("fetch_worker %s: the key pool leased %s, which %s was not given: "
                    "handing it back",
                    self->args->provider, lease->key, self->args->holder);
        keypool_client_release (self->pool, lease, 0, 0);
        return -1;
    }
    const char *key_name = key_lease_name (self->lease);
    self->client = rpc_client_new (self->args->key_urls [index], self->args->provider,
                                   self->args->timeout_ms);
    assert (self->client);
    rpc_client_set_abort (self->client, s_should_abort, self);
    self->bucket = token_bucket_new (self->args->key_rps);
    zsys_debug (
        "fetch_worker %s: %s took key %s (last 24 h: %" PRIu64 " requests, %" PRIu64 " units)",
        self->args->provider, self->args->holder, key_name, lease->requests_24h, lease->units_24h);
    if (self->waiting_logged)
        zsys_info ("fetch_worker %s: %s has key %s after waiting", self->args->provider,
                   self->args->holder, key_name);
    self->waiting_logged = self->pool_down_logged = false;
    return 0;
}

//  With a key held: hands it back when rotation is due and may_rotate, renews the lease
//  when due, and stops using the key when the lease could run out within needed_ms.
//  Returns whether the worker still holds a key it may use.
static bool
s_key_keep (self_t *self, int64_t needed_ms, bool may_rotate)
{
    int64_t now = zclock_mono ();
    if (may_rotate && key_lease_rotate_due (self->lease, now)) {
        s_key_release (self, 0, 0);
        return false;
    }
    if (key_lease_renew_due (self->lease, now)) {
        int rc = keypool_client_renew (self->pool, key_lease_held (self->lease),
                                       key_lease_ttl_ms (self->lease));
        if (rc == 0)
            key_lease_renewed (self->lease, now);
        else if (rc == 1) {
            zsys_warning ("fetch_worker %s: %s lost its lease on key %s (expired or taken): "
                          "moving to another key",
                          self->args->provider, self->args->holder, key_lease_name (self->lease));
            s_key_drop (self);
            return false;
        }
        else
            key_lease_renew_later (self->lease, now);    //  the store is away: try again soon
    }
    if (key_lease_lasts (self->lease, now, needed_ms))
        return true;
    //  The lease may run out before the request ends, and nobody can renew it: stop using
    //  the key, since another worker may take it once it expires.
    zsys_warning ("fetch_worker %s: %s cannot renew its lease on key %s: not using it",
                  self->args->provider, self->args->holder, key_lease_name (self->lease));
    s_key_drop (self);
    return false;
}

//  Leases a key when one is free; else says once why not and waits a little. Returns 0,
//  holding a key or not, or -1 when leaving.
static int
s_key_acquire (self_t *self)
{
    keypool_lease_t lease;
    keypool_busy_t busy;
    int rc = keypool_client_acquire (
        self->pool, self->args->holder, key_lease_ttl_ms (self->lease),
        key_lease_daily (self->lease), key_lease_daily_utc (self->lease),
        key_lease_keys (self->lease), key_lease_count (self->lease), &lease, &busy);
    if (rc == 0 && s_key_take (self, &lease, zclock_mono ()) == 0)
        return 0;
    int64_t wait = KEY_WAIT_POLL_MS;
    if (rc == 1 && !self->waiting_logged) {
        zsys_warning ("fetch_worker %s: %s waits for a free key: all %zu keys are busy (%d "
                      "leased, %d cooling down, %d parked); a key is never shared",
                      self->args->provider, self->args->holder, self->args->key_count, busy.leased,
                      busy.cooling, busy.parked);
        self->waiting_logged = true;
    }
    if (rc < 0) {
        if (!self->pool_down_logged)
            zsys_warning ("fetch_worker %s: %s waits for the key pool: %s", self->args->provider,
                          self->args->holder, lease.token);
        self->pool_down_logged = true;
        wait = 1000;
    }
    return s_pause (self, wait);
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
        if (s_holding (self)) {
            if (s_key_keep (self, needed_ms, may_rotate))
                return 0;
        }
        else {
            if (s_key_acquire (self))
                return -1;
            if (s_holding (self))
                return 0;
        }
    }
    return -1;
}

//  The time budget of one request: its timeout and a second of slack.
static int64_t
s_request_ms (self_t *self)
{
    return (int64_t) self->args->timeout_ms + 1000;
}

//  Before `calls` calls of method are sent: a key held, its daily budget checked, the
//  calls journaled, and then its per-second budget taken in the provider's units, last, so
//  that the bucket books them when they leave (a journal round trip before the send would
//  let the provider see two calls closer together than the bucket did). Returns 0, or -1
//  when leaving.
static int
s_spend (self_t *self, const char *method, uint64_t calls)
{
    uint64_t units = calls * s_bound (self, method);
    while (true) {
        if (s_key_ensure (self, s_request_ms (self) + 1000, false))
            return -1;
        if (!self->pool)
            return s_take_budget (self, (double) calls);
        int64_t park = key_lease_budget_park_ms (self->lease, units, zclock_time ());
        if (park) {
            //  Parked before the provider has to say so; the pool works out when it has room.
            zsys_warning ("fetch_worker %s: key %s: daily budget of %" PRIu64 " %s reached: "
                          "parked for %" PRId64 " s; moving to another key",
                          self->args->provider, key_lease_name (self->lease), self->args->key_daily,
                          cost_table_unit (self->args->costs), park / 1000);
            s_key_release (self, 0, park);
            continue;
        }
        const char *key = key_lease_journal_key (self->lease);
        uint64_t minute;
        if (keypool_client_spend_minute (self->pool, key, method, calls, units, &minute)) {
            zsys_error ("fetch_worker %s: the key pool cannot journal requests: not sending",
                        self->args->provider);
            if (s_pause (self, 1000))
                return -1;
            continue;
        }
        key_lease_spent (self->lease, calls, units);
        spend_ledger_journaled (self->spent, key, minute, method, units);
        //  The lease lasts the request and a second more (s_key_ensure), and the wait is
        //  at most about a second: the journaled calls go under the key they were
        //  journaled for.
        return s_take_budget (self, (double) (calls * s_throughput (self, method)));
    }
}

//  A rate-limit or quota answer: the key cools down (the provider's backoff_seconds, else
//  exponentially) or is parked, and the worker will take another one.
static void
s_key_punish (self_t *self, const char *what, const jsonrpc_answer_t *answer)
{
    const char *key_name = key_lease_name (self->lease);
    if (answer->status == JSONRPC_RATE_LIMITED) {
        int64_t applied = s_key_release (self, key_lease_cool_ms (answer->backoff_seconds), 0);
        zsys_warning ("fetch_worker %s key %s: %s: rate_limited: %s: cooling down for %" PRId64
                      " ms, moving to another key",
                      self->args->provider, key_name, what, answer->message, applied);
    }
    else {
        int64_t park = key_lease_quota_park_ms (self->lease, zclock_time ());
        s_key_release (self, 0, park);
        zsys_warning ("fetch_worker %s key %s: %s: quota_exceeded: %s: parked for %" PRId64
                      " s, moving to another key",
                      self->args->provider, key_name, what, answer->message, park / 1000);
    }
}

//  A rate-limit or quota answer with a pool: handled by moving to another key.
static bool
s_key_problem (self_t *self, const jsonrpc_answer_t *answer)
{
    return self->pool
           && (answer->status == JSONRPC_RATE_LIMITED || answer->status == JSONRPC_QUOTA_EXCEEDED);
}

//  --------------------------------------------------------------------------
//  Exchanges with the provider: send, read the answer, try again

//  The attempts at one exchange (a call, a group of batches, a block): which one is under
//  way and how long to wait after it fails.
typedef struct {
    const char *what;     //  names the exchange in logs
    int attempt;          //  the one under way, from 1
    backoff_t backoff;    //  the waits between them
} s_attempts_t;

static void
s_attempts_init (s_attempts_t *attempts, const char *what)
{
    attempts->what = what;
    attempts->attempt = 1;
    backoff_init (&attempts->backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
}

//  After a failed attempt, whether to make another: a rate-limit or quota answer with a
//  pool moves the worker to another key and does not count; any other failure is logged
//  and, unless it was the last attempt, waited for (the provider's hint, else the
//  backoff). False when no attempt is left or when leaving (self->terminated says which).
static bool
s_try_again (self_t *self, s_attempts_t *attempts, const jsonrpc_answer_t *failure)
{
    if (s_key_problem (self, failure)) {
        //  Not the provider failing: another key, and the attempt does not count.
        s_key_punish (self, attempts->what, failure);
        return true;
    }
    if ((failure->status == JSONRPC_RATE_LIMITED || failure->status == JSONRPC_QUOTA_EXCEEDED)
        && self->bucket)
        token_bucket_drain (self->bucket, zclock_mono ());
    int64_t wait = backoff_next (&attempts->backoff);
    if (failure->backoff_seconds > 0)
        wait = (int64_t) (failure->backoff_seconds * 1000);
    bool last = attempts->attempt >= self->args->attempts;
    const char *key_name = self->lease ? key_lease_name (self->lease) : NULL;
    zsys_warning ("fetch_worker %s%s%s: %s: %s: %s (attempt %d of %d, next in %" PRId64 " ms)",
                  self->args->provider, key_name ? " key " : "", key_name ? key_name : "",
                  attempts->what, jsonrpc_status_name (failure->status), failure->message,
                  attempts->attempt, self->args->attempts, last ? 0 : wait);
    if (last)
        return false;
    attempts->attempt++;
    return s_pause (self, wait) == 0;
}

//  What an exchange that will not be tried again comes to: failed, unless leaving.
static s_outcome_t
s_gave_up (self_t *self)
{
    return self->terminated ? S_LEAVING : S_FAILED;
}

//  Sends bodies [0..count) at once, once `calls` calls of each of methods
//  [0..method_count) are spent: the responses in responses (the caller clears them).
//  Returns 0, or -1 when leaving.
static int
s_send (self_t *self, const char *const *methods, size_t method_count, uint64_t calls,
        const char **bodies, size_t count, rpc_response_t *responses)
{
    spend_ledger_clear (self->spent);
    for (size_t index = 0; index < method_count; index++)
        if (s_spend (self, methods [index], calls))
            return -1;
    memset (responses, 0, count * sizeof (*responses));
    self->requests += method_count * calls;
    int64_t sent = zclock_usecs ();
    int rc = rpc_client_post (self->client, bodies, count, responses);
    for (size_t index = 0; rc == 0 && index < count; index++)
        s_metric_put (self, METRIC_OBSERVE, METRIC_REQUEST_SECONDS, methods [0], NULL,
                      (double) (zclock_usecs () - sent) / 1e6);
    return rc ? -1 : 0;
}

//  Reads the response to a body of n calls (one call unless batch): each call's answer in
//  answers, whose results point into *doc_p (NULL when the answer was unusable). A
//  transport failure fails every call.
static void
s_read (const rpc_response_t *response, bool batch, size_t n, cJSON **doc_p,
        jsonrpc_answer_t *answers)
{
    *doc_p = NULL;
    if (response->transport_failed)
        for (size_t index = 0; index < n; index++) {
            memset (&answers [index], 0, sizeof (answers [index]));
            answers [index].status = JSONRPC_TRANSPORT;
            snprintf (answers [index].message, sizeof (answers [index].message), "%s",
                      response->error);
        }
    else if (batch)
        jsonrpc_parse_batch (response->http_status, response->body, response->size, n, doc_p,
                             answers);
    else
        jsonrpc_parse (response->http_status, response->body, response->size, doc_p, &answers [0]);
}

//  The HTTP status a call's answer is billed as: a rate-limit or quota answer inside an
//  HTTP 200 (one call of a batch) counts as the 429 or 402 it means; 0 when no answer
//  came, which is billed in full (the provider may have served it).
static int
s_billed_status (const rpc_response_t *response, const jsonrpc_answer_t *answer)
{
    if (response->transport_failed)
        return 0;
    if (answer->status == JSONRPC_RATE_LIMITED)
        return 429;
    if (answer->status == JSONRPC_QUOTA_EXCEEDED)
        return 402;
    return response->http_status;
}

//  Bills answers [0..count) to calls of method against what the request journaled.
static void
s_bill (self_t *self, const char *method, const rpc_response_t *response,
        const jsonrpc_answer_t *answers, size_t count)
{
    for (size_t call = 0; call < count; call++)
        for (size_t call = 0; call < count; call++) {
            s_metric_put (self, METRIC_ADD, METRIC_REQUESTS, method,
                          jsonrpc_status_name (answers [call].status), 1);
            spend_ledger_bill (self->spent, method, s_billed_status (response, &answers [call]));
        }
}

//  Once the request's answers are read: refunds what each method journaled beyond what
//  its answers cost. A refund the pool cannot take leaves the higher count, the safe side.
static void
s_settle (self_t *self)
{
    for (size_t index = 0; index < spend_ledger_count (self->spent); index++) {
        const char *key, *method;
        uint64_t minute;
        uint64_t refund = spend_ledger_refund (self->spent, index, &key, &method, &minute);
        s_metric_put (self, METRIC_ADD, METRIC_UNITS_BILLED, NULL, NULL,
                      (double) spend_ledger_billed (self->spent, index));
        if (refund && keypool_client_refund (self->pool, key, method, minute, refund))
            zsys_warning ("fetch_worker %s: the key pool cannot take back %" PRIu64
                          " units of %s not billed: the journal counts them",
                          self->args->provider, refund, method);
    }
    spend_ledger_clear (self->spent);
}

//  JSON-RPC calls in one HTTP request (a batch when there are several), with retries. On
//  success *doc_p holds the parsed answer and answers [i].result points into it. A call
//  after the first may answer -32601 (not supported: the caller falls back); any other
//  failed call fails the request, which is tried again whole. Returns S_DONE, S_FAILED
//  when every attempt failed or the first call is not supported (answers [0] says why),
//  or S_LEAVING.
static s_outcome_t
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
    s_attempts_t attempts;
    s_attempts_init (&attempts, what);
    s_outcome_t outcome = S_DONE;
    while (true) {
        rpc_response_t response;
        if (s_send (self, methods, count, 1, bodies, 1, &response)) {
            outcome = S_LEAVING;
            break;
        }
        s_read (&response, batch != NULL, count, doc_p, answers);
        for (size_t index = 0; index < count; index++)
            s_bill (self, methods [index], &response, &answers [index], 1);
        s_settle (self);
        rpc_response_clear (&response);
        size_t failed = 0;
        while (failed < count
               && (answers [failed].status == JSONRPC_OK
                   || (failed > 0 && answers [failed].status == JSONRPC_NOT_SUPPORTED)))
            failed++;
        if (failed == count)
            break;
        cJSON_Delete (*doc_p);
        *doc_p = NULL;
        answers [0] = answers [failed];
        //  A method the node does not have stays missing: the caller decides what next.
        if (answers [0].status == JSONRPC_NOT_SUPPORTED
            || !s_try_again (self, &attempts, &answers [0])) {
            outcome = s_gave_up (self);
            break;
        }
    }
    free (single);
    jsonrpc_batch_destroy (&batch);
    return outcome;
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
        units += (double) s_throughput (self, methods [index]);
    return units <= self->args->key_rps;
}

//  One JSON-RPC call with retries (see s_call_many).
static s_outcome_t
s_call (self_t *self, const char *what, const char *method, const char *params, cJSON **doc_p,
        jsonrpc_answer_t *answer)
{
    return s_call_many (self, what, 1, &method, &params, doc_p, answer);
}

//  --------------------------------------------------------------------------
//  One call per transaction hash

//  Calls of method for count hashes of a job's block, no more at once than the key's
//  second holds.
static hash_calls_t *
s_hash_calls_new (self_t *self, const char *method, const job_t *job, size_t count)
{
    //  The budget is in throughput units: so many calls of this method.
    uint64_t cost = s_throughput (self, method);
    double calls_per_second = self->args->key_rps > 0 && cost ? self->args->key_rps / (double) cost
                                                              : 0;
    return hash_calls_new (method, job->number, count, calls_per_second);
}

//  Sends the group of calls under way until each of its calls has its result: a failed
//  call fails the whole group, which is tried again whole. Returns S_DONE, S_FAILED
//  (reason in error) or S_LEAVING.
static s_outcome_t
s_group_fetch (self_t *self, hash_calls_t *calls, const char *what, char *error, size_t error_size)
{
    const char *method = hash_calls_method (calls);
    s_attempts_t attempts;
    s_attempts_init (&attempts, what);
    while (true) {
        size_t count;
        const char **bodies = hash_calls_bodies (calls, &count);
        rpc_response_t responses [HASH_CALLS_IN_FLIGHT];
        if (s_send (self, &method, 1, hash_calls_group_calls (calls), bodies, count, responses))
            return S_LEAVING;
        jsonrpc_answer_t failure;
        int rc = 0;
        //  Every batch is read, also after one failed, to bill each call as answered.
        for (size_t index = 0; index < count; index++) {
            size_t size = hash_calls_batch_size (calls, index);
            jsonrpc_answer_t answers [JSONRPC_BATCH_MAX];
            cJSON *doc;
            s_read (&responses [index], true, size, &doc, answers);
            s_bill (self, method, &responses [index], answers, size);
            if (rc == 0)
                rc = hash_calls_take (calls, index, doc, answers, &failure);
            else
                cJSON_Delete (doc);
        }
        s_settle (self);
        for (size_t index = 0; index < count; index++)
            rpc_response_clear (&responses [index]);
        if (rc == 0)
            return S_DONE;
        //  Throw away this group's answers and try the whole group again.
        hash_calls_drop_group (calls);
        if (!s_try_again (self, &attempts, &failure)) {
            snprintf (error, error_size, "%s: %s", jsonrpc_status_name (failure.status),
                      failure.message);
            return s_gave_up (self);
        }
    }
}

//  Fetches the results of calls, a group at a time. Returns S_DONE, S_FAILED (reason in
//  error) or S_LEAVING.
static s_outcome_t
s_fetch_by_hash (self_t *self, hash_calls_t *calls, const job_t *job, char *error,
                 size_t error_size)
{
    char what [64];
    snprintf (what, sizeof (what), "block %" PRIu64 " %s", job->number, hash_calls_method (calls));
    s_outcome_t outcome = S_DONE;
    while (outcome == S_DONE && hash_calls_next_group (calls))
        outcome = s_group_fetch (self, calls, what, error, error_size);
    return outcome;
}

//  --------------------------------------------------------------------------
//  Jobs

//  The answers a block's proof reads, kept until it is made.
typedef struct {
    hash_calls_t *txs;              //  --fetch hashes: the transactions fetched by hash
    cJSON *receipts_doc;            //  eth_getBlockReceipts' answer when it came alone
    const cJSON *receipts;          //  its array (in it, or in the block's batch answer)
    hash_calls_t *receipt_calls;    //  or the receipts fetched per transaction
} s_fetched_t;

static void
s_fetched_clear (s_fetched_t *fetched)
{
    hash_calls_destroy (&fetched->txs);
    cJSON_Delete (fetched->receipts_doc);
    hash_calls_destroy (&fetched->receipt_calls);
    memset (fetched, 0, sizeof (*fetched));
}

//  The receipts of a fetched block, joined onto its body: eth_getBlockReceipts with
//  params (its answer in `fetched` when it came with the block), or, when the block came
//  alone, the cheapest way for its transaction count in billed units (receipts_cost:
//  nothing for an empty block, one eth_getTransactionReceipt per transaction when that
//  costs less), or per transaction from a node that answers -32601 to eth_getBlockReceipts
//  (remembered for the rest of the run). Returns S_DONE, S_FAILED when the calls failed
//  after their attempts, S_BAD_BLOCK when the receipts do not fit the block (another fork,
//  not yet known), or S_LEAVING; error says why.
static s_outcome_t
s_fetch_receipts (self_t *self, const job_t *job, const char *params, const block_header_t *header,
                  block_body_t *body, const jsonrpc_answer_t *fetched, s_fetched_t *kept,
                  char *error, size_t error_size)
{
    receipts_choice_t choice;
    receipts_way_t way = receipts_strategy_way (self->receipts, body->tx_count, fetched != NULL,
                                                &choice);
    if (choice.by_block || choice.by_tx)
        zsys_debug ("fetch_worker %s: block %" PRIu64 " (%zu transactions): receipts by %s "
                    "(eth_getBlockReceipts %" PRIu64 " %s, eth_getTransactionReceipt x %zu: "
                    "%" PRIu64 ")",
                    self->args->provider, job->number, body->tx_count,
                    fetched ? "eth_getBlockReceipts, in one batch with the block"
                            : receipts_way_name (way),
                    choice.by_block, s_costs (self) ? cost_table_unit (s_costs (self)) : "requests",
                    body->tx_count, choice.by_tx);
    if (way == RECEIPTS_WAY_NONE)
        return receipts_join (body, header, job->chain_id, NULL, 0, error, error_size) ? S_BAD_BLOCK
                                                                                       : S_DONE;
    bool by_tx = way == RECEIPTS_WAY_BY_TX;
    if (!by_tx) {
        char what [64];
        snprintf (what, sizeof (what), "eth_getBlockReceipts %" PRIu64, job->number);
        cJSON *doc = NULL;
        jsonrpc_answer_t answer;
        s_outcome_t outcome = S_DONE;
        if (fetched)
            answer = *fetched;
        else
            outcome = s_call (self, what, "eth_getBlockReceipts", params, &doc, &answer);
        if (outcome == S_LEAVING)
            return outcome;
        if (outcome == S_DONE && answer.status == JSONRPC_OK) {
            outcome = receipts_join_array (body, header, job->chain_id, answer.result, error,
                                           error_size)
                          ? S_BAD_BLOCK
                          : S_DONE;
            kept->receipts_doc = doc;
            kept->receipts = answer.result;
            return outcome;
        }
        if (answer.status != JSONRPC_NOT_SUPPORTED) {
            snprintf (error, error_size, "%s: %s: %.120s", what,
                      jsonrpc_status_name (answer.status), answer.message);
            return S_FAILED;
        }
        zsys_notice ("fetch_worker %s: the node has no eth_getBlockReceipts (%s): receipts "
                     "by transaction from now on",
                     self->args->provider, answer.message);
        receipts_strategy_no_block_receipts (self->receipts);
    }
    hash_calls_t *calls = s_hash_calls_new (self, "eth_getTransactionReceipt", job, body->tx_count);
    for (size_t index = 0; index < body->tx_count; index++)
        hash_calls_set_hash (calls, index, body->txs [index].hash);
    s_outcome_t outcome = s_fetch_by_hash (self, calls, job, error, error_size);
    if (outcome == S_DONE
        && receipts_join (body, header, job->chain_id, hash_calls_results (calls), body->tx_count,
                          error, error_size))
        outcome = S_BAD_BLOCK;
    kept->receipt_calls = calls;
    return outcome;
}

//  The block of a job from its answer, its transactions fetched by hash with --fetch
//  hashes, checked to be the block asked for. Returns S_DONE with the header and *body_p,
//  S_BAD_BLOCK, S_FAILED when the calls by hash failed after their attempts (error says
//  why), or S_LEAVING.
static s_outcome_t
s_block_body (self_t *self, const job_t *job, const cJSON *block, block_header_t *header,
              block_body_t **body_p, s_fetched_t *kept, char *error, size_t error_size)
{
    s_outcome_t outcome = S_DONE;
    if (job->fetch_mode == FETCH_HASHES) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive (block, "transactions");
        size_t count = cJSON_IsArray (list) ? (size_t) cJSON_GetArraySize (list) : 0;
        hash_calls_t *calls = s_hash_calls_new (self, "eth_getTransactionByHash", job, count);
        size_t index = 0;
        for (const cJSON *hash = count ? list->child : NULL; hash; hash = hash->next)
            hash_calls_set_hash (calls, index++, cJSON_IsString (hash) ? hash->valuestring : "");
        outcome = s_fetch_by_hash (self, calls, job, error, error_size);
        if (outcome == S_DONE
            && normalize_block_hashes (block, hash_calls_results (calls), count, job->chain_id,
                                       header, body_p, error, error_size))
            outcome = S_BAD_BLOCK;
        kept->txs = calls;
    }
    else if (normalize_block (block, job->chain_id, header, body_p, error, error_size))
        outcome = S_BAD_BLOCK;
    if (outcome == S_DONE && header->number != job->number) {
        block_body_destroy (body_p);
        snprintf (error, error_size, "asked for block %" PRIu64 ", got %" PRIu64, job->number,
                  header->number);
        outcome = S_BAD_BLOCK;
    }
    return outcome;
}

//  Adds "verified": level to the block record, after the fields evmtap adds.
static void
s_mark_verified (block_body_t *body, const char *level)
{
    assert (body->meta_len >= 2 && body->meta_json [body->meta_len - 1] == '}');
    char field [32];
    int size = snprintf (field, sizeof (field), ",\"verified\":\"%s\"}", level);
    body->meta_json = (char *) realloc (body->meta_json, body->meta_len + (size_t) size);
    assert (body->meta_json);
    memcpy (body->meta_json + body->meta_len - 1, field, (size_t) size + 1);
    body->meta_len += (size_t) size - 1;
}

//  Proves the block as fetched against its own header (here, so that proofs run in
//  parallel across workers): S_DONE with the record marked, or S_UNPROVEN (said at warning
//  with the field, the value given and the value computed; error says which field). A
//  block proven only in part is published, and why goes in result->error (the head
//  poller says it once per chain).
static s_outcome_t
s_prove (self_t *self, const job_t *job, const cJSON *block, const s_fetched_t *kept,
         block_body_t *body, result_t *result, char *error, size_t error_size)
{
    size_t tx_count = kept->txs ? body->tx_count : 0;
    size_t receipt_count = kept->receipt_calls ? body->tx_count : 0;
    //  A block without transactions has no receipts to ask for by hash: they are the empty
    //  list, which its receiptsRoot proves as eth_getBlockReceipts' [] does.
    cJSON *no_receipts = job->receipts && !kept->receipts && !kept->receipt_calls
                                 && body->tx_count == 0
                             ? cJSON_CreateArray ()
                             : NULL;
    block_check_t check;
    const char *level;
    block_proof_verdict_t verdict = block_proof_check (
        self->proof, block, kept->txs ? hash_calls_results (kept->txs) : NULL, tx_count,
        no_receipts ? no_receipts : kept->receipts,
        kept->receipt_calls ? hash_calls_results (kept->receipt_calls) : NULL, receipt_count,
        &check, &level);
    cJSON_Delete (no_receipts);
    const char *key_name = self->lease ? key_lease_name (self->lease) : NULL;
    if (verdict == BLOCK_PROOF_REFETCH) {
        zsys_warning ("fetch_worker %s%s%s: block %" PRIu64 " does not prove: %s: not published, "
                      "fetched again",
                      self->args->provider, key_name ? " key " : "", key_name ? key_name : "",
                      job->number, check.reason);
        snprintf (error, error_size, "block %" PRIu64 " does not prove (%s%s%s)", job->number,
                  check.list, check.list [0] ? " " : "", check.field);
        //  A field of an item is named with its list (transactions.hash): the label keeps
        //  a few values, never an index or a hash.
        char field [64];
        snprintf (field, sizeof (field), "%s%s%s", check.list, check.list [0] ? "." : "",
                  check.field [0] ? check.field : "malformed");
        s_metric_chain_put (self, METRIC_VERIFY_FAILURES, field, 1);
        return S_UNPROVEN;
    }
    if (verdict == BLOCK_PROOF_PARTIAL)
        s_metric_chain_put (self, METRIC_PARTLY_PROVEN, NULL, 1);
    if (verdict == BLOCK_PROOF_PARTIAL)
        snprintf (result->error, sizeof (result->error),
                  "from %.40s: %.120s: published as \"verified\": \"%s\"", self->args->provider,
                  check.reason, level);
    if (check.network_form && !self->network_form_said) {
        zsys_notice ("fetch_worker %s: block %" PRIu64 ": its transactionsRoot is over its blob "
                     "transactions' network form (blobs, commitments and proofs), as anvil "
                     "builds it: proven over that form (said once per worker)",
                     self->args->provider, job->number);
        self->network_form_said = true;
    }
    s_mark_verified (body, level);
    return S_DONE;
}

//  One try at a job's block: the block (and its receipts in the same batch when both fit
//  in the key's second), its transactions by hash with --fetch hashes, its receipts when
//  asked for. Returns S_DONE with the result filled (found, not found, or failed after the
//  calls' own attempts), S_BAD_BLOCK (error says why) or S_LEAVING.
static s_outcome_t
s_block_try (self_t *self, const job_t *job, char *what, size_t what_size, result_t *result,
             block_body_t **body_p, char *error, size_t error_size)
{
    bool by_hash = job->fetch_mode == FETCH_HASHES;
    char params [64], receipts_params [64];
    snprintf (params, sizeof (params), "[\"0x%" PRIx64 "\",%s]", job->number,
              by_hash ? "false" : "true");
    snprintf (receipts_params, sizeof (receipts_params), "[\"0x%" PRIx64 "\"]", job->number);
    const char *methods [2] = {"eth_getBlockByNumber", "eth_getBlockReceipts"};
    const char *all_params [2] = {params, receipts_params};
    //  With receipts the block and its receipts go in one batch when the key's second holds
    //  both and no block is cheaper by transaction under the key's table: one round trip;
    //  the join checks that they are of the same block. Otherwise the block comes first,
    //  and its transaction count says how to fetch its receipts.
    bool batched = job->receipts
                   && receipts_strategy_batched (self->receipts, by_hash,
                                                 s_fits_one_second (self, methods, 2));
    snprintf (what, what_size, "eth_getBlockByNumber%s %" PRIu64,
              batched ? "+eth_getBlockReceipts" : "", job->number);
    cJSON *doc = NULL;
    jsonrpc_answer_t answers [2];
    s_outcome_t outcome = s_call_many (self, what, batched ? 2 : 1, methods, all_params, &doc,
                                       answers);
    if (outcome == S_LEAVING)
        return outcome;
    if (outcome == S_FAILED) {
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%s: %s: %s", self->args->provider,
                  jsonrpc_status_name (answers [0].status), answers [0].message);
        return S_DONE;
    }
    if (cJSON_IsNull (answers [0].result)) {
        cJSON_Delete (doc);
        result->status = RESULT_NOT_FOUND;
        return S_DONE;
    }
    s_fetched_t kept = {NULL, NULL, NULL, NULL};
    outcome = s_block_body (self, job, answers [0].result, &result->header, body_p, &kept, error,
                            error_size);
    if (outcome == S_DONE && job->receipts)
        outcome = s_fetch_receipts (self, job, receipts_params, &result->header, *body_p,
                                    batched ? &answers [1] : NULL, &kept, error, error_size);
    if (outcome == S_DONE)
        outcome = s_prove (self, job, answers [0].result, &kept, *body_p, result, error,
                           error_size);
    s_fetched_clear (&kept);
    cJSON_Delete (doc);
    if (outcome == S_DONE)
        result->status = RESULT_OK;
    if (outcome == S_FAILED || outcome == S_BAD_BLOCK || outcome == S_UNPROVEN)
        block_body_destroy (body_p);
    if (outcome == S_FAILED) {
        //  The calls had their own attempts: do not repeat them all again.
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%.40s: %.150s", self->args->provider,
                  error);
        outcome = S_DONE;
    }
    return outcome;
}

//  Fetches and normalizes one block: a block that does not hold together, or whose
//  receipts do not fit it, is fetched again like any other bad answer. Returns 0 with the
//  result filled (and *body_p when found), -1 when leaving.
static int
s_fetch_block (self_t *self, const job_t *job, result_t *result, block_body_t **body_p)
{
    char what [80] = "";
    s_attempts_t attempts;
    s_attempts_init (&attempts, what);
    while (true) {
        char error [200] = "";
        s_outcome_t outcome = s_block_try (self, job, what, sizeof (what), result, body_p, error,
                                           sizeof (error));
        if (outcome != S_BAD_BLOCK && outcome != S_UNPROVEN)
            return outcome == S_LEAVING ? -1 : 0;
        //  An answer that does not prove comes from the node behind the provider, not
        //  from the key: another key (the least used free one) may reach another node.
        if (outcome == S_UNPROVEN && s_holding (self))
            s_key_release (self, 0, 0);
        jsonrpc_answer_t bad = {.status = JSONRPC_BAD_ANSWER};
        snprintf (bad.message, sizeof (bad.message), "%.150s", error);
        if (!s_try_again (self, &attempts, &bad)) {
            if (self->terminated)
                return -1;
            result->status = RESULT_FAILED;
            snprintf (result->error, sizeof (result->error), "%.40s: bad_answer: %.140s",
                      self->args->provider, error);
            return 0;
        }
    }
}

//  eth_blockNumber (JOB_HEAD), or the number of the node's `finalized` block
//  (JOB_FINALIZED: RESULT_NOT_FOUND when the node answers that tag with an error or null).
//  Returns 0 with the result filled, -1 when leaving.
static int
s_fetch_head (self_t *self, const job_t *job, result_t *result)
{
    bool finalized = job->kind == JOB_FINALIZED;
    const char *method = finalized ? "eth_getBlockByNumber" : "eth_blockNumber";
    cJSON *doc = NULL;
    jsonrpc_answer_t answer;
    s_outcome_t outcome = s_call (self, finalized ? "finalized block" : method, method,
                                  finalized ? "[\"finalized\",false]" : "[]", &doc, &answer);
    if (outcome == S_LEAVING)
        return -1;
    const cJSON *number = answer.result;
    if (finalized && outcome == S_DONE)
        number = cJSON_IsObject (answer.result) ? cJSON_GetObjectItem (answer.result, "number")
                                                : NULL;
    if (outcome == S_DONE && cJSON_IsString (number)
        && hex_to_u64 (number->valuestring, &result->value) == 0)
        result->status = RESULT_OK;
    else if (finalized
             && (outcome == S_DONE || answer.status == JSONRPC_RPC_ERROR
                 || answer.status == JSONRPC_NOT_SUPPORTED))
        result->status = RESULT_NOT_FOUND;
    else {
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%s: %s: %s", self->args->provider, method,
                  outcome == S_FAILED ? answer.message : "result is not a quantity");
    }
    cJSON_Delete (doc);
    return 0;
}

//  Answers a proxy query (src/fetch/proxy_probe.h): the implementation behind the
//  address at the block, "" when it is no proxy. Returns 0, -1 when leaving.
static int
s_answer_proxy (self_t *self, const proxy_query_t *query)
{
    proxy_answer_t answer = {.id = query->id, .status = RESULT_OK};
    const char *methods [PROXY_PROBE_CALLS];
    char *params [PROXY_PROBE_CALLS];
    proxy_probe_calls (query->address, query->number, methods, params);
    cJSON *doc = NULL;
    jsonrpc_answer_t answers [PROXY_PROBE_CALLS];
    s_outcome_t outcome = s_call_many (self, "proxy slots", PROXY_PROBE_CALLS, methods,
                                       (const char *const *) params, &doc, answers);
    proxy_probe_params_free (params);
    proxy_probe_t found = PROXY_MALFORMED;
    char why [160] = "malformed answers";
    if (outcome == S_FAILED)
        snprintf (why, sizeof (why), "%s", answers [0].message);
    if (outcome == S_DONE) {
        const cJSON *results [PROXY_PROBE_CALLS];
        for (size_t index = 0; index < PROXY_PROBE_CALLS; index++)
            results [index] = answers [index].result;
        found = proxy_probe_read (results, answer.implementation);
    }
    cJSON_Delete (doc);
    doc = NULL;
    if (found == PROXY_BEACON) {
        char *call = proxy_probe_beacon_params (answer.implementation, query->number);
        jsonrpc_answer_t reply;
        outcome = s_call (self, "beacon implementation", "eth_call", call, &doc, &reply);
        zstr_free (&call);
        found = outcome == S_DONE ? proxy_probe_read_beacon (reply.result, answer.implementation)
                                  : PROXY_MALFORMED;
        if (outcome == S_FAILED)
            snprintf (why, sizeof (why), "%s", reply.message);
        cJSON_Delete (doc);
    }
    if (outcome == S_LEAVING)
        return -1;
    if (found != PROXY_FOUND)
        answer.implementation [0] = 0;
    if (found == PROXY_MALFORMED) {
        answer.status = RESULT_FAILED;
        snprintf (answer.error, sizeof (answer.error), "%.40s: proxy %.42s: %.100s",
                  self->args->provider, query->address, why);
    }
    answer.requests = self->requests;
    zframe_t *frame = proxy_answer_encode (&answer);
    zframe_send (&frame, self->dispatcher, 0);
    return 0;
}

static void
s_self_handle_job (self_t *self)
{
    zframe_t *frame = zframe_recv (self->dispatcher);
    proxy_query_t query;
    if (frame && msg_type (frame) == MSG_TYPE_PROXY_QUERY) {
        int rc = proxy_query_decode (frame, &query);
        zframe_destroy (&frame);
        self->requests = 0;
        if (rc == 0)
            s_answer_proxy (self, &query);
        else
            zsys_error ("fetch_worker %s: malformed proxy query", self->args->provider);
        return;
    }
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
    int rc = job.kind == JOB_BLOCK ? s_fetch_block (self, &job, &result, &body)
                                   : s_fetch_head (self, &job, &result);
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
    self_t *self = s_self_new (pipe, (fetch_worker_args_t *) args);
    if (!self) {
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    s_ready (self);
    while (!self->terminated) {
        int wait = s_holding (self) ? 1000 : -1;
        if (self->updates && metric_batch_size (self->updates))
            wait = FETCH_METRICS_MS;
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, wait);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->dispatcher) {
            s_self_handle_job (self);
            self->last_job = zclock_mono ();
            s_ready (self);
        }
        else if (zpoller_terminated (self->poller))
            break;
        s_metric_send (self);
        //  A key held without work is a key another worker may be waiting for.
        if (s_holding (self) && zclock_mono () - self->last_job >= KEY_IDLE_MS)
            s_key_release (self, 0, 0);
    }
    s_self_destroy (&self);
}
