/*  keypool: the key pool actor, its facade and its workers' client (see keypool.h). */
#include "keypool.h"
#include "actor_start.h"
#include <inttypes.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "block_msg.h"
#include "jsonw.h"
#include "keypool_store.h"
#include "lease.h"
#include "metric.h"
#include "metrics.h"
#include "msg.h"
#include "usage_journal.h"

//  Leases travel as proto messages, whose texts hold what the store's do.
static_assert (LEASE_KEY_SIZE == KEYPOOL_KEY_SIZE, "a pool key fits a lease message");
static_assert (LEASE_TOKEN_SIZE == KEYPOOL_TOKEN_SIZE, "a token fits a lease message");

//  Applied journal entries kept for republishing after a restart.
#define S_KEEP_APPLIED 2000

struct _keypool_t {
    zactor_t *actor;
};

struct _keypool_client_t {
    zsock_t *dealer;    //  @locality the worker that made the client
    uint64_t next_id;
};

typedef struct {
    zsock_t *pipe;
    zsock_t *router;             //  workers
    zsock_t *broker;             //  PUSH of usage batches, NULL without a broker
    keypool_store_t *store;      //  @locality this actor
    usage_journal_t *journal;    //  @locality this actor
    char host [128];             //  usage records' host: hostname/journal id
    int flush_interval_ms;
    int64_t flush_due;          //  zclock_mono
    uint64_t apply_cursor;      //  entries up to this one are in the store
    bool publishing;            //  main said from where
    uint64_t publish_cursor;    //  entries up to this one went to the broker
    bool store_down_logged;
    bool terminated;
    zsock_t *metrics;           //  PUSH to the metrics actor (args->metrics), or NULL
    metric_batch_t *updates;    //  leases, cool-downs, parks, units left: sent each flush
    zhashx_t *budgeted;         //  names of the keys with a daily budget (units left known)
} self_t;

//  --------------------------------------------------------------------------
//  Flushing

//  The usage topic's record of one key (a name) in an entry: its lines over every provider
//  host (journal keys "<provider>/<name>"), methods summed by name, the hosts listed.
static char *
s_usage_record (self_t *self, const usage_entry_t *entry, const char *key, const char *minute,
                size_t *size)
{
    zhashx_t *methods = zhashx_new ();    //  method -> requests, in the lines' order
    zlistx_t *order = zlistx_new ();
    zlistx_t *hosts = zlistx_new ();
    zlistx_set_destructor (hosts, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (hosts, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (hosts, (zlistx_comparator_fn *) strcmp);
    uint64_t *counts = (uint64_t *) calloc (entry->count + 1, sizeof (uint64_t));
    assert (methods && order && hosts && counts);
    //  Units are a delta: a refund's own entry (calls of this minute whose answers came
    //  after it was sealed) has no requests and units below zero.
    uint64_t requests = 0;
    int64_t units = 0;
    for (size_t line = 0; line < entry->count; line++) {
        char provider [KEYPOOL_KEY_SIZE];
        const usage_line_t *usage = &entry->lines [line];
        if (!streq (keypool_key_split (usage->key, provider, sizeof (provider)), key))
            continue;
        if (*provider && !zlistx_find (hosts, provider))
            zlistx_add_end (hosts, provider);
        requests += usage->requests;
        units += usage->units;
        if (usage->requests == 0)
            continue;
        uint64_t *count = (uint64_t *) zhashx_lookup (methods, usage->method);
        if (!count) {
            count = &counts [line];
            zhashx_insert (methods, usage->method, count);
            zlistx_add_end (order, (void *) usage->method);
        }
        *count += usage->requests;
    }
    zlistx_sort (hosts);
    zchunk_t *joined = zchunk_new (NULL, 0);
    for (const char *host = (const char *) zlistx_first (hosts); host;
         host = (const char *) zlistx_next (hosts)) {
        if (zchunk_size (joined))
            zchunk_extend (joined, ",", 1);
        zchunk_extend (joined, host, strlen (host));
    }
    jsonw_t *jsonw = jsonw_new ();
    jsonw_object_begin (jsonw);
    jsonw_key (jsonw, "key");
    jsonw_string (jsonw, key);
    jsonw_key (jsonw, "provider");
    jsonw_string_len (jsonw, (const char *) zchunk_data (joined), zchunk_size (joined));
    jsonw_key (jsonw, "minute");
    jsonw_string (jsonw, minute);
    jsonw_key (jsonw, "host");
    jsonw_string (jsonw, self->host);
    jsonw_key (jsonw, "seq");
    jsonw_u64 (jsonw, entry->seq);
    jsonw_key (jsonw, "requests");
    jsonw_u64 (jsonw, requests);
    jsonw_key (jsonw, "units");
    jsonw_i64 (jsonw, units);
    jsonw_key (jsonw, "methods");
    jsonw_object_begin (jsonw);
    for (const char *method = (const char *) zlistx_first (order); method;
         method = (const char *) zlistx_next (order)) {
        jsonw_key (jsonw, method);
        jsonw_u64 (jsonw, *(uint64_t *) zhashx_lookup (methods, method));
    }
    jsonw_object_end (jsonw);
    jsonw_object_end (jsonw);
    *size = jsonw_size (jsonw);
    char *value = jsonw_strdup (jsonw);
    jsonw_destroy (&jsonw);
    zchunk_destroy (&joined);
    free (counts);
    zlistx_destroy (&hosts);
    zlistx_destroy (&order);
    zhashx_destroy (&methods);
    return value;
}

//  The usage topic's records of one entry: one per key (a key is its name, whatever
//  provider host its calls went to), so that `<key>:<host>:<seq>` names one record.
static void
s_publish (self_t *self, const usage_entry_t *entry)
{
    batch_t *batch = batch_new (KEYPOOL_USAGE_CHAIN, 0, entry->seq, "", entry->minute * 60);
    char minute [32];
    time_t when = (time_t) (entry->minute * 60);
    struct tm tm;
    gmtime_r (&when, &tm);
    strftime (minute, sizeof (minute), "%Y-%m-%dT%H:%M:00Z", &tm);
    zlistx_t *keys = zlistx_new ();
    zlistx_set_destructor (keys, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (keys, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    for (size_t line = 0; line < entry->count; line++) {
        char provider [KEYPOOL_KEY_SIZE];
        const char *key = keypool_key_split (entry->lines [line].key, provider, sizeof (provider));
        if (!zlistx_find (keys, (void *) key))
            zlistx_add_end (keys, (void *) key);
    }
    for (const char *key = (const char *) zlistx_first (keys); key;
         key = (const char *) zlistx_next (keys)) {
        size_t value_len;
        char *value = s_usage_record (self, entry, key, minute, &value_len);
        char record_key [400];
        snprintf (record_key, sizeof (record_key), "%s:%s:%" PRIu64, key, self->host, entry->seq);
        batch_add (batch, KEYPOOL_USAGE_TOPIC, record_key, value, value_len);
    }
    zlistx_destroy (&keys);
    zframe_t *frame = batch_encode (batch);
    zframe_send (&frame, self->broker, 0);
    batch_destroy (&batch);
}

//  Seals the journal, applies what the store lacks in order, publishes what the broker
//  lacks.
static void
s_flush (self_t *self)
{
    self->flush_due = zclock_mono () + self->flush_interval_ms;
    usage_journal_seal (self->journal);
    usage_entry_t entry;
    while (usage_journal_entry (self->journal, self->apply_cursor, &entry) == 0) {
        if (!entry.applied) {
            if (keypool_store_apply (self->store, usage_journal_id (self->journal), &entry)) {
                if (!self->store_down_logged)
                    zsys_warning ("keypool: usage stays in the journal until the store is "
                                  "back: %s",
                                  keypool_store_error (self->store));
                self->store_down_logged = true;
                usage_entry_clear (&entry);
                break;
            }
            if (self->store_down_logged)
                zsys_info ("keypool: the store is back: journaled usage is flushed");
            self->store_down_logged = false;
            usage_journal_applied (self->journal, entry.seq, S_KEEP_APPLIED);
        }
        self->apply_cursor = entry.seq;
        usage_entry_clear (&entry);
    }
    while (self->publishing && self->broker
           && usage_journal_entry (self->journal, self->publish_cursor, &entry) == 0) {
        s_publish (self, &entry);
        self->publish_cursor = entry.seq;
        usage_entry_clear (&entry);
    }
}

//  The requests journaled but not yet in the store.
static uint64_t
s_unapplied (self_t *self)
{
    uint64_t pending = 0, unapplied = 0;
    usage_journal_totals (self->journal, &pending, &unapplied);
    return pending + unapplied;
}

//  --------------------------------------------------------------------------
//  Worker requests

//  ACQUIRE: the least used free key among the request's, or why none is free.
static void
s_acquire (self_t *self, const lease_t *request, lease_t *answer)
{
    keypool_lease_t lease;
    keypool_busy_t busy;
    int rc = keypool_store_acquire (self->store, request->keys, request->key_count, request->holder,
                                    request->ttl_ms, request->daily, request->daily_utc, &lease,
                                    &busy);
    if (rc == 0) {
        answer->type = MSG_TYPE_LEASE_GRANTED;
        memcpy (answer->key, lease.key, sizeof (answer->key));
        memcpy (answer->token, lease.token, sizeof (answer->token));
        answer->requests_24h = lease.requests_24h;
        answer->units_24h = lease.units_24h;
        answer->units_today = lease.units_today;
    }
    else if (rc == 1) {
        answer->type = MSG_TYPE_LEASE_BUSY;
        answer->leased = busy.leased;
        answer->cooling = busy.cooling;
        answer->parked = busy.parked;
        answer->soonest_ms = busy.soonest_ms;
    }
    else {
        answer->status = -1;
        snprintf (answer->reason, sizeof (answer->reason), "%s", keypool_store_error (self->store));
    }
}

//  The metric label set of a key, by its name or its journal key (<provider>/<name>).
static void
s_key_labels (const char *key, char *labels, size_t size)
{
    char provider [KEYPOOL_KEY_SIZE];
    if (metrics_labels (labels, size, "key", keypool_key_split (key, provider, sizeof (provider)),
                        NULL))
        snprintf (labels, size, "key=\"(too long)\"");
}

//  What a request answered changes in the key's metrics.
static void
s_metric_request (self_t *self, const lease_t *request, const lease_t *answer)
{
    if (!self->updates)
        return;
    char labels [KEYPOOL_KEY_SIZE + 16];
    if (answer->type == MSG_TYPE_LEASE_GRANTED) {
        s_key_labels (answer->key, labels, sizeof (labels));
        metric_batch_put (self->updates, METRIC_ADD, METRIC_LEASES, labels, 1);
        if (request->daily) {
            zhashx_update (self->budgeted, answer->key, (void *) 1);
            metric_batch_put (self->updates, METRIC_SET, METRIC_DAILY_BUDGET, labels,
                              (double) request->daily);
            metric_batch_put (self->updates, METRIC_SET, METRIC_UNITS_LEFT, labels,
                              request->daily > answer->units_today
                                  ? (double) (request->daily - answer->units_today)
                                  : 0);
        }
        return;
    }
    if (answer->status < 0)
        return;
    s_key_labels (request->key, labels, sizeof (labels));
    if (request->type == MSG_TYPE_LEASE_RELEASE && request->cool_ms)
        metric_batch_put (self->updates, METRIC_ADD, METRIC_COOLDOWNS, labels, 1);
    else if (request->type == MSG_TYPE_LEASE_RELEASE && request->park_ms > 0)
        metric_batch_put (self->updates, METRIC_ADD, METRIC_PARKS, labels, 1);
    else if (request->type == MSG_TYPE_LEASE_SPEND || request->type == MSG_TYPE_LEASE_REFUND) {
        char provider [KEYPOOL_KEY_SIZE];
        if (zhashx_lookup (self->budgeted,
                           keypool_key_split (request->key, provider, sizeof (provider))))
            metric_batch_put (self->updates, METRIC_ADD, METRIC_UNITS_LEFT, labels,
                              request->type == MSG_TYPE_LEASE_SPEND ? -(double) request->units
                                                                    : (double) request->units);
    }
}

//  A worker's request, answered on the ROUTER: [identity, request] -> [identity, answer].
static void
s_handle_worker (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *frame = zmsg_pop (msg);
    lease_t request;
    int rc = lease_decode (frame, &request);
    if (rc == 0 && zmsg_size (msg)) {
        lease_clear (&request);    //  a request is one frame
        rc = -2;
    }
    lease_t answer = {.type = MSG_TYPE_LEASE_ANSWER, .id = request.id};
    if (rc == 0 && request.type == MSG_TYPE_LEASE_ACQUIRE)
        s_acquire (self, &request, &answer);
    else if (rc == 0 && request.type == MSG_TYPE_LEASE_RENEW)
        answer.status = keypool_store_renew (self->store, request.key, request.token,
                                             request.ttl_ms);
    else if (rc == 0 && request.type == MSG_TYPE_LEASE_RELEASE) {
        //  The key's usage reaches the store before the key is free again, so that its
        //  next holder, here or in another process, starts from its true count.
        s_flush (self);
        answer.status = keypool_store_release (self->store, request.key, request.token,
                                               request.cool_ms, request.park_ms);
    }
    else if (rc == 0 && request.type == MSG_TYPE_LEASE_SPEND) {
        //  The minute goes back to the worker: its refund, if any, goes in the same one.
        uint64_t minute = (uint64_t) zclock_time () / 60000;
        answer.status = usage_journal_spend (self->journal, request.key, minute, request.method,
                                             request.requests, request.units)
                            ? -1
                            : (int64_t) minute;
    }
    else if (rc == 0 && request.type == MSG_TYPE_LEASE_REFUND)
        answer.status = usage_journal_refund (self->journal, request.key, request.minute,
                                              request.method, request.units);
    else {
        //  Answered when it names its id, so that the worker need not wait for nothing.
        answer.id = lease_id (frame);
        answer.status = -1;
        snprintf (answer.reason, sizeof (answer.reason), "malformed request");
        zsys_error ("keypool: malformed request (%zu bytes, type %d)",
                    frame ? zframe_size (frame) : 0, msg_type (frame));
    }
    if (rc == 0)
        s_metric_request (self, &request, &answer);
    if (identity && answer.id) {
        zframe_t *reply = lease_encode (&answer);
        zframe_send (&identity, self->router, ZFRAME_MORE);
        zframe_send (&reply, self->router, 0);
    }
    if (rc == 0)
        lease_clear (&request);
    zframe_destroy (&identity);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
}

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "FLUSH")) {
        s_flush (self);
        zstr_sendf (self->pipe, "FLUSHED %" PRIu64, s_unapplied (self));
    }
    else if (streq (command, "PUBLISH-FROM")) {
        char *after = zmsg_popstr (msg);
        self->publishing = true;
        self->publish_cursor = after ? strtoull (after, NULL, 10) : 0;
        zstr_free (&after);
    }
    else if (streq (command, "LIST")) {
        keypool_key_state_t *states = NULL;
        size_t count = 0;
        int rc = keypool_store_list (self->store, &states, &count);
        zframe_t *frame = zframe_new (states, rc ? 0 : count * sizeof (*states));
        zsock_send (self->pipe, "if", rc, frame);
        zframe_destroy (&frame);
        free (states);
    }
    else
        zsys_error ("keypool: unknown pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_actor (zsock_t *pipe, void *args_arg)
{
    keypool_args_t *args = (keypool_args_t *) args_arg;
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->flush_interval_ms = args->flush_interval_ms > 0 ? args->flush_interval_ms : 1000;
    self->store = keypool_store_new (args->redis, args->error, sizeof (args->error));
    if (self->store)
        self->journal = usage_journal_open (args->data_dir, args->error, sizeof (args->error));
    const char *endpoint = args->endpoint ? args->endpoint : KEYPOOL_ENDPOINT;
    if (self->journal) {
        self->router = zsock_new (ZMQ_ROUTER);
        if (zsock_bind (self->router, "%s", endpoint) < 0)
            snprintf (args->error, sizeof (args->error), "keypool: cannot bind %s", endpoint);
    }
    if (*args->error) {
        zsys_error ("keypool: %s", args->error);
        zsock_destroy (&self->router);
        usage_journal_destroy (&self->journal);
        keypool_store_destroy (&self->store);
        free (self);
        zsock_signal (pipe, 1);
        return;
    }
    char hostname [64] = "localhost";
    gethostname (hostname, sizeof (hostname) - 1);
    snprintf (self->host, sizeof (self->host), "%s/%.8s", hostname,
              usage_journal_id (self->journal));
    if (args->broker) {
        self->broker = zsock_new (ZMQ_PUSH);
        zsock_set_linger (self->broker, 2000);
        zsock_connect (self->broker, "%s", args->broker);
    }
    if (args->metrics) {
        self->metrics = zsock_new_push (args->metrics);
        self->updates = metric_batch_new ();
        self->budgeted = zhashx_new ();
        assert (self->metrics && self->updates && self->budgeted);
    }
    //  What an earlier run journaled goes out first.
    s_flush (self);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->router, NULL);
    while (!self->terminated) {
        int64_t wait = self->flush_due - zclock_mono ();
        zsock_t *which = (zsock_t *) zpoller_wait (poller, wait < 0 ? 0 : (int) wait);
        if (which == pipe)
            s_handle_pipe (self);
        else if (which == self->router)
            s_handle_worker (self);
        else if (zpoller_terminated (poller))
            break;
        if (zclock_mono () >= self->flush_due) {
            s_flush (self);
            if (self->updates)
                metric_batch_send (self->updates, self->metrics);
        }
    }
    s_flush (self);
    uint64_t left = s_unapplied (self);
    if (left)
        zsys_warning ("keypool: %" PRIu64 " requests stay journaled for the next start (%s)", left,
                      keypool_store_error (self->store));
    if (self->broker && self->publishing) {
        zframe_t *frame = flush_msg_encode (KEYPOOL_USAGE_CHAIN);
        zframe_send (&frame, self->broker, 0);
    }
    zpoller_destroy (&poller);
    if (self->updates)
        metric_batch_send (self->updates, self->metrics);
    metric_batch_destroy (&self->updates);
    zhashx_destroy (&self->budgeted);
    zsock_destroy (&self->metrics);
    zsock_destroy (&self->broker);
    zsock_destroy (&self->router);
    usage_journal_destroy (&self->journal);
    keypool_store_destroy (&self->store);
    free (self);
}

//  --------------------------------------------------------------------------
//  Facade

keypool_t *
keypool_new (keypool_args_t *args)
{
    zactor_t *actor = actor_start (s_actor, args, args->error, sizeof (args->error), "keypool");
    if (!actor)
        return NULL;
    keypool_t *self = (keypool_t *) zmalloc (sizeof (keypool_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
keypool_destroy (keypool_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

int64_t
keypool_flush (keypool_t *self)
{
    zstr_send (self->actor, "FLUSH");
    char *reply = zstr_recv (self->actor);
    int64_t left = reply && strncmp (reply, "FLUSHED ", 8) == 0 ? atoll (reply + 8) : -1;
    zstr_free (&reply);
    return left;
}

void
keypool_publish_from (keypool_t *self, uint64_t after)
{
    char text [32];
    snprintf (text, sizeof (text), "%" PRIu64, after);
    zstr_sendx (self->actor, "PUBLISH-FROM", text, NULL);
}

int
keypool_list (keypool_t *self, keypool_key_state_t **states, size_t *count)
{
    zstr_send (self->actor, "LIST");
    int rc = -1;
    zframe_t *frame = NULL;
    *states = NULL;
    *count = 0;
    if (zsock_recv (self->actor, "if", &rc, &frame) || rc) {
        zframe_destroy (&frame);
        return -1;
    }
    *count = zframe_size (frame) / sizeof (keypool_key_state_t);
    *states = (keypool_key_state_t *) malloc (zframe_size (frame) + 1);
    assert (*states);
    memcpy (*states, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    return 0;
}

//  --------------------------------------------------------------------------
//  Client

keypool_client_t *
keypool_client_new (const char *endpoint)
{
    keypool_client_t *self = (keypool_client_t *) zmalloc (sizeof (keypool_client_t));
    assert (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_rcvtimeo (self->dealer, 5000);
    if (zsock_connect (self->dealer, "%s", endpoint ? endpoint : KEYPOOL_ENDPOINT)) {
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    return self;
}

void
keypool_client_destroy (keypool_client_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zsock_destroy (&(*self_p)->dealer);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Sends a request and waits for its answer: a GRANTED, BUSY or ANSWER with the request's
//  id (they own no strings). -1 when the pool did not answer within 5 s; the answers of
//  earlier, timed-out requests are skipped.
static int
s_request (keypool_client_t *self, lease_t *request, lease_t *answer)
{
    request->id = ++self->next_id;
    zframe_t *frame = lease_encode (request);
    zframe_send (&frame, self->dealer, 0);
    while (true) {
        frame = zframe_recv (self->dealer);
        if (!frame)
            return -1;
        int rc = lease_decode (frame, answer);
        zframe_destroy (&frame);
        if (rc == 0 && answer->id == request->id
            && (answer->type == MSG_TYPE_LEASE_GRANTED || answer->type == MSG_TYPE_LEASE_BUSY
                || answer->type == MSG_TYPE_LEASE_ANSWER))
            return 0;
        if (rc == 0)
            lease_clear (answer);
    }
}

//  What an answer says for verbs that return a number: its status, -1 for anything else.
static int64_t
s_status (const lease_t *answer)
{
    return answer->type == MSG_TYPE_LEASE_ANSWER ? answer->status : -1;
}

//  A RENEW or RELEASE of the given lease.
static lease_t
s_lease_request (msg_type_t type, const keypool_lease_t *lease)
{
    lease_t request = {.type = type};
    memcpy (request.key, lease->key, sizeof (request.key));
    memcpy (request.token, lease->token, sizeof (request.token));
    return request;
}

int
keypool_client_acquire (keypool_client_t *self, const char *holder, int64_t ttl_ms, uint64_t daily,
                        bool daily_utc, const char **keys, size_t count, keypool_lease_t *lease,
                        keypool_busy_t *busy)
{
    memset (lease, 0, sizeof (*lease));
    memset (busy, 0, sizeof (*busy));
    busy->soonest_ms = -1;
    lease_t request = {.type = MSG_TYPE_LEASE_ACQUIRE,
                       .holder = holder,
                       .ttl_ms = ttl_ms,
                       .daily = daily,
                       .daily_utc = daily_utc,
                       .keys = keys,
                       .key_count = count};
    lease_t answer;
    if (s_request (self, &request, &answer)) {
        snprintf (lease->token, sizeof (lease->token), "the key pool did not answer");
        return -1;
    }
    if (answer.type == MSG_TYPE_LEASE_GRANTED) {
        memcpy (lease->key, answer.key, sizeof (lease->key));
        memcpy (lease->token, answer.token, sizeof (lease->token));
        lease->requests_24h = answer.requests_24h;
        lease->units_24h = answer.units_24h;
        lease->units_today = answer.units_today;
        return 0;
    }
    if (answer.type == MSG_TYPE_LEASE_BUSY) {
        busy->leased = answer.leased;
        busy->cooling = answer.cooling;
        busy->parked = answer.parked;
        busy->soonest_ms = answer.soonest_ms;
        return 1;
    }
    snprintf (lease->token, sizeof (lease->token), "%s", answer.reason);
    return -1;
}

int
keypool_client_renew (keypool_client_t *self, const keypool_lease_t *lease, int64_t ttl_ms)
{
    lease_t request = s_lease_request (MSG_TYPE_LEASE_RENEW, lease);
    request.ttl_ms = ttl_ms;
    lease_t answer;
    return s_request (self, &request, &answer) ? -1 : (int) s_status (&answer);
}

int64_t
keypool_client_release (keypool_client_t *self, const keypool_lease_t *lease, int64_t cool_ms,
                        int64_t park_ms)
{
    lease_t request = s_lease_request (MSG_TYPE_LEASE_RELEASE, lease);
    request.cool_ms = cool_ms;
    request.park_ms = park_ms;
    lease_t answer;
    return s_request (self, &request, &answer) ? -1 : s_status (&answer);
}

int
keypool_client_spend_minute (keypool_client_t *self, const char *key, const char *method,
                             uint64_t requests, uint64_t units, uint64_t *minute)
{
    lease_t request = {
        .type = MSG_TYPE_LEASE_SPEND, .method = method, .requests = requests, .units = units};
    assert (strlen (key) < sizeof (request.key));    //  a leased key
    strcpy (request.key, key);
    lease_t answer;
    if (s_request (self, &request, &answer) || s_status (&answer) < 0)
        return -1;
    *minute = (uint64_t) answer.status;
    return 0;
}

int
keypool_client_spend (keypool_client_t *self, const char *key, const char *method,
                      uint64_t requests, uint64_t units)
{
    uint64_t minute;
    return keypool_client_spend_minute (self, key, method, requests, units, &minute);
}

int
keypool_client_refund (keypool_client_t *self, const char *key, const char *method, uint64_t minute,
                       uint64_t units)
{
    lease_t request = {
        .type = MSG_TYPE_LEASE_REFUND, .method = method, .minute = minute, .units = units};
    assert (strlen (key) < sizeof (request.key));
    strcpy (request.key, key);
    lease_t answer;
    return s_request (self, &request, &answer) == 0 && s_status (&answer) == 0 ? 0 : -1;
}

//  --------------------------------------------------------------------------
//  Selftest: the actor with its journal in a temporary directory, in memory and on a real
//  redis-server, workers played by clients, the broker by a PULL socket.
#include <signal.h>
#include <sys/wait.h>

//  Removes a test's temporary directory with everything in it.
static void
s_remove_dir (const char *path)
{
    zdir_t *dir = zdir_new (path, NULL);
    assert (dir);
    zdir_remove (dir, true);
    zdir_destroy (&dir);
}

//  Requests no client would send: each is logged and, when its id can be read, answered
//  at once with -1 "malformed request" (the worker would otherwise wait 5 s for nothing).
static void
s_test_malformed (const char *endpoint)
{
    zsock_t *dealer = zsock_new_dealer (endpoint);
    assert (dealer);
    zsock_set_rcvtimeo (dealer, 2000);
    //  A RENEW whose ttl is a text, an answer sent as a request, a request of two frames.
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_LEASE_RENEW, 4);
    msg_write_u64 (&writer, 77);
    msg_write_str (&writer, "node:1/k1");
    msg_write_str (&writer, "token");
    msg_write_str (&writer, "soon");
    zframe_t *frame = msg_writer_frame (&writer);
    zframe_send (&frame, dealer, 0);
    lease_t request = {.type = MSG_TYPE_LEASE_ANSWER, .id = 78};
    frame = lease_encode (&request);
    zframe_send (&frame, dealer, 0);
    request = (lease_t) {.type = MSG_TYPE_LEASE_RENEW, .id = 79, .ttl_ms = 5000};
    frame = lease_encode (&request);
    zframe_t *cut = zframe_new (zframe_data (frame), zframe_size (frame) - 1);
    zframe_send (&frame, dealer, ZFRAME_MORE);
    zstr_send (dealer, "extra");
    for (uint64_t id = 77; id <= 79; id++) {
        frame = zframe_recv (dealer);
        lease_t answer;
        assert (frame && lease_decode (frame, &answer) == 0);
        assert (answer.type == MSG_TYPE_LEASE_ANSWER && answer.id == id);
        assert (answer.status == -1 && streq (answer.reason, "malformed request"));
        zframe_destroy (&frame);
    }
    //  No id to answer to (a frame cut short, text): logged only; the pool goes on.
    zframe_send (&cut, dealer, 0);
    zstr_send (dealer, "RENEW");
    zsock_set_rcvtimeo (dealer, 200);
    frame = zframe_recv (dealer);
    assert (frame == NULL);
    zsock_destroy (&dealer);
}

static void
s_test_pool (const char *redis, bool verbose)
{
    char dir [] = "/tmp/evmtap-keypool-test-XXXXXX";
    assert (mkdtemp (dir));
    //  Endpoints of their own per backend: an inproc endpoint of a closed socket is
    //  unbound asynchronously, so the second run could not bind the first one's at once.
    char endpoint [64], broker [80];
    snprintf (endpoint, sizeof (endpoint), "inproc://keypool-test-%s", redis ? "redis" : "memory");
    snprintf (broker, sizeof (broker), "%s-broker", endpoint);
    zsock_t *pull = zsock_new_pull (broker);
    assert (pull);
    keypool_args_t args = {.redis = redis,
                           .data_dir = dir,
                           .endpoint = endpoint,
                           .broker = broker,
                           .flush_interval_ms = 100};
    keypool_t *pool = keypool_new (&args);
    assert (pool);
    keypool_client_t *one = keypool_client_new (endpoint);
    keypool_client_t *two = keypool_client_new (endpoint);
    assert (one && two);
    //  Keys by name; calls journaled by "<provider>/<name>"
    const char *keys [2] = {"k1", "k2"};
    keypool_lease_t lease, other, none;
    keypool_busy_t busy;
    assert (keypool_client_acquire (one, "h:1:c/w0", 5000, 0, false, keys, 2, &lease, &busy) == 0);
    assert (keypool_client_acquire (two, "h:1:c/w1", 5000, 0, false, keys, 2, &other, &busy) == 0);
    assert (!streq (lease.key, other.key));
    assert (keypool_client_acquire (two, "h:1:c/w2", 5000, 0, false, keys, 2, &none, &busy) == 1);
    assert (busy.leased == 2);
    //  Journaled before sent; flushed to the store
    char journal_key [KEYPOOL_KEY_SIZE + 8], other_journal_key [KEYPOOL_KEY_SIZE + 8];
    snprintf (journal_key, sizeof (journal_key), "node:1/%s", lease.key);
    snprintf (other_journal_key, sizeof (other_journal_key), "node:1/%s", other.key);
    for (int index = 0; index < 10; index++)
        assert (keypool_client_spend (one, journal_key, "eth_getBlockByNumber", 1, 80) == 0);
    assert (keypool_client_spend (two, other_journal_key, "eth_blockNumber", 3, 240) == 0);
    //  The same key through another provider host: counted as one key, both hosts listed
    snprintf (other_journal_key, sizeof (other_journal_key), "node:0/%s", other.key);
    assert (keypool_client_spend (two, other_journal_key, "eth_blockNumber", 2, 160) == 0);
    //  A call answered 429: journaled at its full cost, then refunded in its own minute
    uint64_t minute = 0;
    assert (keypool_client_spend_minute (one, journal_key, "eth_getBlockReceipts", 1, 1000, &minute)
            == 0);
    assert (minute && minute <= (uint64_t) zclock_time () / 60000);
    assert (keypool_client_refund (one, journal_key, "eth_getBlockReceipts", minute, 1000) == 0);
    assert (keypool_flush (pool) == 0);
    keypool_key_state_t *states;
    size_t count;
    assert (keypool_list (pool, &states, &count) == 0 && count == 2);
    for (size_t index = 0; index < count; index++) {
        bool mine = streq (states [index].key, lease.key);
        assert (streq (states [index].state, "leased"));
        assert (states [index].requests_24h == (mine ? 11u : 5u));
        assert (states [index].units_24h == (mine ? 800u : 400u));
        assert (streq (states [index].holder, mine ? "h:1:c/w0" : "h:1:c/w1"));
        assert (streq (states [index].providers, mine ? "node:1" : "node:0,node:1"));
    }
    free (states);
    assert (keypool_client_renew (one, &lease, 5000) == 0);
    assert (keypool_client_renew (two, &lease, 5000) == 0);    //  the token decides, not the client
    keypool_lease_t forged = lease;
    snprintf (forged.token, sizeof (forged.token), "forged|1");
    assert (keypool_client_renew (two, &forged, 5000) == 1);
    s_test_malformed (endpoint);
    //  429 with a hint: cooled for it; the least used free key is the other one then
    assert (keypool_client_release (one, &lease, 300, 0) == 300);
    assert (keypool_client_release (two, &other, 0, 0) == 0);
    assert (keypool_client_acquire (one, "h:1:c/w0", 5000, 0, false, keys, 2, &lease, &busy) == 0);
    assert (streq (lease.key, other.key));
    zclock_sleep (350);
    assert (keypool_client_release (one, &lease, 0, 0) == 0);
    assert (keypool_client_acquire (one, "h:1:c/w0", 5000, 0, false, keys, 2, &lease, &busy) == 0);
    assert (lease.units_24h == 400);    //  the least used
    //  Published once main says from where: one record per key, the minute's day
    keypool_publish_from (pool, 0);
    assert (keypool_flush (pool) == 0);
    zsock_set_rcvtimeo (pull, 2000);
    zframe_t *frame = zframe_recv (pull);
    assert (frame);
    batch_t *batch = NULL;
    assert (batch_decode (frame, &batch) == 0);
    zframe_destroy (&frame);
    assert (streq (batch_chain (batch), KEYPOOL_USAGE_CHAIN) && batch_number (batch) == 1);
    assert (batch_size (batch) == 2 && batch_timestamp (batch) % 60 == 0);
    uint64_t requests = 0;
    for (size_t index = 0; index < batch_size (batch); index++) {
        const batch_record_t *record = batch_record (batch, index);
        assert (streq (record->topic, KEYPOOL_USAGE_TOPIC));
        cJSON *value = cJSON_Parse (record->value);
        assert (value);
        requests += (uint64_t) cJSON_GetObjectItem (value, "requests")->valuedouble;
        bool first = cJSON_GetObjectItem (value, "units")->valuedouble == 800;
        assert (first || cJSON_GetObjectItem (value, "units")->valuedouble == 400);
        assert (streq (cJSON_GetObjectItem (value, "provider")->valuestring,
                       first ? "node:1" : "node:0,node:1"));
        //  The refunded call is a request of its method, at no units
        cJSON *methods = cJSON_GetObjectItem (value, "methods");
        assert (cJSON_GetArraySize (methods) == (first ? 2 : 1));
        assert (cJSON_GetObjectItem (methods, first ? "eth_getBlockByNumber" : "eth_blockNumber")
                    ->valuedouble
                == (first ? 10 : 5));
        assert (!first || cJSON_GetObjectItem (methods, "eth_getBlockReceipts")->valuedouble == 1);
        if (verbose)
            printf ("%s %s\n", record->key, record->value);
        cJSON_Delete (value);
    }
    assert (requests == 16);
    batch_destroy (&batch);
    keypool_client_destroy (&one);
    keypool_client_destroy (&two);
    keypool_destroy (&pool);
    zsock_destroy (&pull);
    s_remove_dir (dir);
}

//  Two pools (two processes) over one Redis; Redis away and back: nothing lost, nothing
//  counted twice.
static void
s_test_shared (int port, pid_t *pid_p, bool verbose)
{
    char url [64];
    snprintf (url, sizeof (url), "redis://127.0.0.1:%d", port);
    char dir [] = "/tmp/evmtap-keypool-test-XXXXXX";
    assert (mkdtemp (dir));
    keypool_args_t args = {
        .redis = url, .data_dir = dir, .endpoint = "inproc://keypool-a", .flush_interval_ms = 50};
    keypool_t *pool = keypool_new (&args);
    assert (pool);
    keypool_client_t *client = keypool_client_new ("inproc://keypool-a");
    const char *keys [1] = {"solo"};
    keypool_lease_t lease, none;
    keypool_busy_t busy;
    assert (keypool_client_acquire (client, "A", 5000, 0, false, keys, 1, &lease, &busy) == 0);
    for (int index = 0; index < 5; index++)
        assert (keypool_client_spend (client, "node:2/solo", "m", 1, 1) == 0);
    assert (keypool_flush (pool) == 0);
    //  Redis goes away: spending goes on, journaled
    kill (*pid_p, SIGKILL);
    waitpid (*pid_p, NULL, 0);
    for (int index = 0; index < 7; index++)
        assert (keypool_client_spend (client, "node:2/solo", "m", 1, 1) == 0);
    assert (keypool_flush (pool) == 7);
    assert (keypool_client_renew (client, &lease, 5000) == -1);
    //  Back, empty, on the same port: the journal catches up; the first five stay counted
    //  only where they were (this Redis lost them), the seven arrive once
    int same_port = port;
    *pid_p = (pid_t) keypool_store_test_redis (&same_port);
    assert (*pid_p);
    zclock_sleep (1100);    //  the store tries again after a second
    assert (keypool_flush (pool) == 0);
    keypool_key_state_t *states;
    size_t count;
    assert (keypool_list (pool, &states, &count) == 0 && count == 1);
    assert (states [0].requests_24h == 7 && streq (states [0].state, "free"));
    free (states);
    //  The lease was lost with Redis's memory: renewing says so
    assert (keypool_client_renew (client, &lease, 5000) == 1);
    assert (keypool_client_acquire (client, "B", 5000, 0, false, keys, 1, &lease, &busy) == 0);
    assert (keypool_client_acquire (client, "C", 5000, 0, false, keys, 1, &none, &busy) == 1);
    keypool_client_destroy (&client);
    keypool_destroy (&pool);
    //  A restart with the same journal sends nothing twice. On another endpoint: libzmq
    //  unbinds an inproc endpoint of a closed socket asynchronously, so binding the same
    //  one at once may fail ("cannot bind"), which is not what this test is about.
    args.endpoint = "inproc://keypool-a-again";
    pool = keypool_new (&args);
    assert (pool && keypool_flush (pool) == 0);
    assert (keypool_list (pool, &states, &count) == 0 && count == 1);
    assert (states [0].requests_24h == 7);
    free (states);
    keypool_destroy (&pool);
    s_remove_dir (dir);
    if (verbose)
        printf ("shared pool survived a Redis restart\n");
}

void
keypool_test (bool verbose)
{
    s_test_pool (NULL, verbose);
    int port = 0;
    pid_t pid = (pid_t) keypool_store_test_redis (&port);
    if (!pid)
        return;
    char url [64];
    snprintf (url, sizeof (url), "redis://127.0.0.1:%d", port);
    s_test_pool (url, verbose);
    s_test_shared (port, &pid, verbose);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}
