/*  fetch_worker_calls: a fetch worker's JSON-RPC calls (fetch_worker.c says what the
    worker does). The leased key (taken, kept, rotated, cooled down, parked, released),
    each call journaled at its bound before it is sent and refunded what its answer was not
    billed, the key's budget per second, retries with backoff, one call per transaction
    hash in batches, and the calls' metrics. */
#include "evmtap.h"
#include "fetch_worker_self.h"

bool
fetch_worker_should_abort (void *arg)
{
    self_t *self = (self_t *) arg;
    if (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        fetch_worker_handle_pipe (self);
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
            fetch_worker_handle_pipe (self);
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

const cost_table_t *
fetch_worker_costs (self_t *self)
{
    return self->pool ? self->args->costs : NULL;
}

//  The most one call of method can be billed: what is journaled before it is sent.
static uint64_t
s_bound (self_t *self, const char *method)
{
    return fetch_worker_costs (self) ? cost_table_bound (fetch_worker_costs (self), method) : 1;
}

//  The units one call of method takes from the key's budget per second.
static uint64_t
s_throughput (self_t *self, const char *method)
{
    return fetch_worker_costs (self) ? cost_table_throughput (fetch_worker_costs (self), method)
                                     : 1;
}

bool
fetch_worker_holding (self_t *self)
{
    return self->lease && key_lease_held (self->lease);
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

void
fetch_worker_metric_chain_put (self_t *self, const char *name, const char *field, double value)
{
    char labels [METRIC_LABELS_MAX];
    const char *chain = self->args->chain ? self->args->chain : "";
    int rc = field ? metrics_labels (labels, sizeof (labels), "chain", chain, "field", field, NULL)
                   : metrics_labels (labels, sizeof (labels), "chain", chain, NULL);
    if (self->updates && rc == 0)
        metric_batch_put (self->updates, METRIC_ADD, name, labels, value);
}

void
fetch_worker_metric_send (self_t *self)
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

int64_t
fetch_worker_key_release (self_t *self, int64_t cool_ms, int64_t park_ms)
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
    rpc_client_set_abort (self->client, fetch_worker_should_abort, self);
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
        fetch_worker_key_release (self, 0, 0);
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

int
fetch_worker_key_ensure (self_t *self, int64_t needed_ms, bool may_rotate)
{
    if (!self->pool)
        return 0;
    while (!self->terminated) {
        if (fetch_worker_holding (self)) {
            if (s_key_keep (self, needed_ms, may_rotate))
                return 0;
        }
        else {
            if (s_key_acquire (self))
                return -1;
            if (fetch_worker_holding (self))
                return 0;
        }
    }
    return -1;
}

int64_t
fetch_worker_request_ms (self_t *self)
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
        if (fetch_worker_key_ensure (self, fetch_worker_request_ms (self) + 1000, false))
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
            fetch_worker_key_release (self, 0, park);
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
        //  The lease lasts the request and a second more (fetch_worker_key_ensure), and the
        //  wait is at most about a second: the journaled calls go under the key they were
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
        int64_t applied = fetch_worker_key_release (self,
                                                    key_lease_cool_ms (answer->backoff_seconds), 0);
        zsys_warning ("fetch_worker %s key %s: %s: rate_limited: %s: cooling down for %" PRId64
                      " ms, moving to another key",
                      self->args->provider, key_name, what, answer->message, applied);
    }
    else {
        int64_t park = key_lease_quota_park_ms (self->lease, zclock_time ());
        fetch_worker_key_release (self, 0, park);
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


void
fetch_worker_attempts_init (fetch_attempts_t *attempts, const char *what)
{
    attempts->what = what;
    attempts->attempt = 1;
    backoff_init (&attempts->backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
}

bool
fetch_worker_try_again (self_t *self, fetch_attempts_t *attempts, const jsonrpc_answer_t *failure)
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
static fetch_outcome_t
s_gave_up (self_t *self)
{
    return self->terminated ? FETCH_LEAVING : FETCH_FAILED;
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

fetch_outcome_t
fetch_worker_call_many (self_t *self, const char *what, size_t count, const char *const *methods,
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
    fetch_attempts_t attempts;
    fetch_worker_attempts_init (&attempts, what);
    fetch_outcome_t outcome = FETCH_DONE;
    while (true) {
        rpc_response_t response;
        if (s_send (self, methods, count, 1, bodies, 1, &response)) {
            outcome = FETCH_LEAVING;
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
            || !fetch_worker_try_again (self, &attempts, &answers [0])) {
            outcome = s_gave_up (self);
            break;
        }
    }
    free (single);
    jsonrpc_batch_destroy (&batch);
    return outcome;
}

bool
fetch_worker_fits_one_second (self_t *self, const char *const *methods, size_t count)
{
    if (self->args->key_rps <= 0)
        return true;
    double units = 0;
    for (size_t index = 0; index < count; index++)
        units += (double) s_throughput (self, methods [index]);
    return units <= self->args->key_rps;
}

fetch_outcome_t
fetch_worker_call (self_t *self, const char *what, const char *method, const char *params,
                   cJSON **doc_p, jsonrpc_answer_t *answer)
{
    return fetch_worker_call_many (self, what, 1, &method, &params, doc_p, answer);
}

//  --------------------------------------------------------------------------
//  One call per transaction hash

hash_calls_t *
fetch_worker_hash_calls_new (self_t *self, const char *method, const job_t *job, size_t count)
{
    //  The budget is in throughput units: so many calls of this method.
    uint64_t cost = s_throughput (self, method);
    double calls_per_second = self->args->key_rps > 0 && cost ? self->args->key_rps / (double) cost
                                                              : 0;
    return hash_calls_new (method, job->number, count, calls_per_second);
}

//  Sends the group of calls under way until each of its calls has its result: a failed
//  call fails the whole group, which is tried again whole. Returns FETCH_DONE, FETCH_FAILED
//  (reason in error) or FETCH_LEAVING.
static fetch_outcome_t
s_group_fetch (self_t *self, hash_calls_t *calls, const char *what, char *error, size_t error_size)
{
    const char *method = hash_calls_method (calls);
    fetch_attempts_t attempts;
    fetch_worker_attempts_init (&attempts, what);
    while (true) {
        size_t count;
        const char **bodies = hash_calls_bodies (calls, &count);
        rpc_response_t responses [HASH_CALLS_IN_FLIGHT];
        if (s_send (self, &method, 1, hash_calls_group_calls (calls), bodies, count, responses))
            return FETCH_LEAVING;
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
            return FETCH_DONE;
        //  Throw away this group's answers and try the whole group again.
        hash_calls_drop_group (calls);
        if (!fetch_worker_try_again (self, &attempts, &failure)) {
            snprintf (error, error_size, "%s: %s", jsonrpc_status_name (failure.status),
                      failure.message);
            return s_gave_up (self);
        }
    }
}

fetch_outcome_t
fetch_worker_fetch_by_hash (self_t *self, hash_calls_t *calls, const job_t *job, char *error,
                            size_t error_size)
{
    char what [64];
    snprintf (what, sizeof (what), "block %" PRIu64 " %s", job->number, hash_calls_method (calls));
    fetch_outcome_t outcome = FETCH_DONE;
    while (outcome == FETCH_DONE && hash_calls_next_group (calls))
        outcome = s_group_fetch (self, calls, what, error, error_size);
    return outcome;
}
