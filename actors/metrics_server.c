/*  metrics_server: the metrics actor. It owns the registry (src/util/metrics.h): it
    declares every family evmtap serves, so that each has its # TYPE line from the start,
    applies the updates the other actors send, and serves the registry as Prometheus text
    at http://HOST:PORT/metrics (libmicrohttpd). Nothing but this actor touches the
    registry: the HTTP thread asks for the text over a socket of its own (REQ, used only by
    that thread while the daemon runs), and the actor renders it between updates.

    Updates on the PULL socket (bound on args->endpoint): MSG_TYPE_METRIC batches
    (proto/metric.h). An update of an unknown metric or a malformed label set is dropped
    and logged once per name (it can only come from a bug). Blocks behind are derived here,
    per chain, from the head and the last published block.

    Pipe commands:
        $TERM               stop the HTTP daemon, leave
        PORT                -> the TCP port served, as text
    Start: signals 0 when serving; on failure fills args->error, logs it, signals 1. */
#include "evmtap.h"
#include "metrics_server.h"
#include "actor_start.h"
#include <microhttpd.h>
#include <netdb.h>
#include "metric.h"
#include "metrics.h"
#include "msg.h"

//  How long the HTTP thread waits for the actor's text before answering 503.
#define METRICS_SCRAPE_TIMEOUT_MS 5000

struct _metrics_server_t {
    zactor_t *actor;
};

typedef struct {
    const char *name;
    metrics_type_t type;
    const char *help;
    const double *bounds;
    size_t bound_count;
} s_family_t;

static const double s_request_bounds [] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1,    2.5,   5,    10,  30};
static const double s_depth_bounds [] = {1, 2, 3, 5, 10, 20, 50, 100, 256};
static const double s_delivery_bounds [] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10,  60};
#define S_BOUNDS(array) array, sizeof (array) / sizeof (array [0])

//  Every family evmtap serves (docs/metrics.md says the same, with the labels).
static const s_family_t s_families [] = {
    {METRIC_BUILD_INFO, METRICS_GAUGE, "Always 1; the version label says which evmtap runs.", NULL,
     0},
    {METRIC_HEAD_BLOCK, METRICS_GAUGE, "The highest block the node is known to have.", NULL, 0},
    {METRIC_PUBLISHED_BLOCK, METRICS_GAUGE, "The last block published (checkpointed).", NULL, 0},
    {METRIC_BLOCKS_BEHIND, METRICS_GAUGE, "Blocks the last published block is behind the head.",
     NULL, 0},
    {METRIC_PUBLISHED_BLOCKS, METRICS_COUNTER, "Blocks published (checkpointed) since start.", NULL,
     0},
    {METRIC_PUBLISHED_RECORDS, METRICS_COUNTER, "Records written to the sink, by topic.", NULL, 0},
    {METRIC_REORGS, METRICS_COUNTER, "Reorgs walked back (orphaned blocks announced).", NULL, 0},
    {METRIC_REORG_DEPTH, METRICS_HISTOGRAM, "Depth of each reorg, in blocks.",
     S_BOUNDS (s_depth_bounds)},
    {METRIC_VERIFY_FAILURES, METRICS_COUNTER,
     "Fetched blocks that failed verification, by the field that differs.", NULL, 0},
    {METRIC_PARTLY_PROVEN, METRICS_COUNTER,
     "Blocks published only partly proven (a part evmtap cannot prove).", NULL, 0},
    {METRIC_WORKERS, METRICS_GAUGE, "Fetch workers connected to the chain's dispatcher.", NULL, 0},
    {METRIC_JOBS_QUEUED, METRICS_GAUGE, "Jobs waiting for a free fetch worker.", NULL, 0},
    {METRIC_JOBS_IN_FLIGHT, METRICS_GAUGE, "Jobs a fetch worker holds.", NULL, 0},
    {METRIC_JOBS_REQUEUED, METRICS_COUNTER, "Jobs re-queued after their worker was lost.", NULL, 0},
    {METRIC_REQUESTS, METRICS_COUNTER,
     "JSON-RPC calls by provider host, key, method and outcome (a batch of k counts k).", NULL, 0},
    {METRIC_REQUEST_SECONDS, METRICS_HISTOGRAM, "Duration of HTTP requests to providers.",
     S_BOUNDS (s_request_bounds)},
    {METRIC_UNITS_BILLED, METRICS_COUNTER, "Units billed by the provider, in its own units.", NULL,
     0},
    {METRIC_UNITS_LEFT, METRICS_GAUGE, "Units left of the key's daily budget.", NULL, 0},
    {METRIC_DAILY_BUDGET, METRICS_GAUGE, "The key's daily budget in units.", NULL, 0},
    {METRIC_LEASES, METRICS_COUNTER, "Leases granted on the key.", NULL, 0},
    {METRIC_COOLDOWNS, METRICS_COUNTER, "Cool-downs of the key after a rate-limit answer.", NULL,
     0},
    {METRIC_PARKS, METRICS_COUNTER, "Parks of the key: its daily budget spent.", NULL, 0},
    {METRIC_SINK_BYTES, METRICS_COUNTER, "Bytes written to the sink.", NULL, 0},
    {METRIC_SINK_FAILED, METRICS_GAUGE, "1 once the sink failed: nothing more is written.", NULL,
     0},
    {METRIC_KAFKA_QUEUE, METRICS_GAUGE, "Blocks handed to Kafka and not all delivered yet.", NULL,
     0},
    {METRIC_KAFKA_ERRORS, METRICS_COUNTER, "Kafka deliveries that failed (and were retried).", NULL,
     0},
    {METRIC_KAFKA_SECONDS, METRICS_HISTOGRAM,
     "From a block handed to the producer to its last message delivered.",
     S_BOUNDS (s_delivery_bounds)},
};

typedef struct {
    zsock_t *pipe;
    zsock_t *pull;          //  updates
    zsock_t *scrape;        //  REP: the HTTP thread's requests for the text
    zsock_t *client;        //  REQ to scrape: @locality the HTTP thread while daemon runs
    metrics_t *registry;    //  @locality this actor
    zhashx_t *dropped;      //  names of bad updates logged already
    struct MHD_Daemon *daemon;
    int port;
    bool terminated;
} self_t;

//  The HTTP thread: GET /metrics is the registry's text, asked of the actor.
static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void) version, (void) upload_data, (void) upload_data_size;
    static int first_call;
    if (*state == NULL) {    //  headers only so far: answer once the request is whole
        *state = &first_call;
        return MHD_YES;
    }
    zsock_t *client = (zsock_t *) cls;
    unsigned int status = MHD_HTTP_OK;
    char *text = NULL;
    if (!streq (method, "GET") && !streq (method, "HEAD"))
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    else if (!streq (url, "/metrics"))
        status = MHD_HTTP_NOT_FOUND;
    else if (zstr_send (client, "SCRAPE") != 0 || !(text = zstr_recv (client)))
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
    const char *body = text                                    ? text
                       : status == MHD_HTTP_NOT_FOUND          ? "only /metrics is served\n"
                       : status == MHD_HTTP_METHOD_NOT_ALLOWED ? "GET or HEAD only\n"
                                                               : "busy, try again\n";
    struct MHD_Response *response = text ? MHD_create_response_from_buffer (strlen (text), text,
                                                                            MHD_RESPMEM_MUST_FREE)
                                         : MHD_create_response_from_buffer (
                                             strlen (body), (void *) body, MHD_RESPMEM_PERSISTENT);
    if (!response) {
        zstr_free (&text);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type",
                             text ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  Starts the daemon on HOST:PORT. 0 or -1 (args->error says why).
static int
s_self_listen (self_t *self, metrics_server_args_t *args)
{
    char host [256];
    const char *colon = strrchr (args->listen, ':');
    size_t host_len = colon ? (size_t) (colon - args->listen) : 0;
    if (!colon || host_len == 0 || host_len >= sizeof (host)) {
        snprintf (args->error, sizeof (args->error), "--metrics %s: not HOST:PORT", args->listen);
        return -1;
    }
    memcpy (host, args->listen, host_len);
    host [host_len] = 0;
    if (host [0] == '[' && host_len > 2 && host [host_len - 1] == ']') {
        memmove (host, host + 1, host_len - 2);
        host [host_len - 2] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (host, colon + 1, &hints, &found);
    if (rc != 0) {
        snprintf (args->error, sizeof (args->error), "--metrics %s: %s", args->listen,
                  gai_strerror (rc));
        return -1;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (found->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t) atoi (colon + 1), NULL, NULL, s_answer, self->client,
        MHD_OPTION_SOCK_ADDR, found->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64, MHD_OPTION_END);
    freeaddrinfo (found);
    if (!self->daemon) {
        snprintf (args->error, sizeof (args->error), "--metrics %s: cannot listen there (%s)",
                  args->listen, strerror (errno));
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    return 0;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    //  The daemon's thread ends here, and with it the client's use there.
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    zsock_destroy (&self->client);
    zsock_destroy (&self->scrape);
    zsock_destroy (&self->pull);
    metrics_destroy (&self->registry);
    zhashx_destroy (&self->dropped);
    free (self);
    *self_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, metrics_server_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->registry = metrics_new ();
    self->dropped = zhashx_new ();
    assert (self->dropped);
    for (size_t index = 0; index < sizeof (s_families) / sizeof (s_families [0]); index++) {
        const s_family_t *family = &s_families [index];
        int rc = metrics_declare (self->registry, family->name, family->type, family->help,
                                  family->bounds, family->bound_count);
        assert (rc == 0);
    }
    char labels [64];
    metrics_labels (labels, sizeof (labels), "version", EVMTAP_VERSION, NULL);
    metrics_set (self->registry, METRIC_BUILD_INFO, labels, 1);
    const char *endpoint = args->endpoint ? args->endpoint : METRICS_SERVER_ENDPOINT;
    self->pull = zsock_new (ZMQ_PULL);
    self->scrape = zsock_new (ZMQ_REP);
    self->client = zsock_new (ZMQ_REQ);
    assert (self->pull && self->scrape && self->client);
    char scrape [64];
    snprintf (scrape, sizeof (scrape), "inproc://evmtap-metrics-scrape-%p", (void *) self);
    if (zsock_bind (self->pull, "%s", endpoint) < 0
        || zsock_bind (self->scrape, "%s", scrape) < 0) {
        snprintf (args->error, sizeof (args->error), "metrics: cannot bind %s: %s", endpoint,
                  zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    //  A scrape that timed out leaves the REQ free for the next (late answers skipped).
    zsock_set_req_relaxed (self->client, 1);
    zsock_set_req_correlate (self->client, 1);
    zsock_set_rcvtimeo (self->client, METRICS_SCRAPE_TIMEOUT_MS);
    zsock_set_sndtimeo (self->client, METRICS_SCRAPE_TIMEOUT_MS);
    zsock_connect (self->client, "%s", scrape);
    if (s_self_listen (self, args)) {
        s_self_destroy (&self);
        return NULL;
    }
    return self;
}

//  Blocks behind for the chain labels name, once its head and published block are known.
static void
s_self_derive_behind (self_t *self, const char *labels)
{
    double head, published;
    if (metrics_get (self->registry, METRIC_HEAD_BLOCK, labels, &head) == 0
        && metrics_get (self->registry, METRIC_PUBLISHED_BLOCK, labels, &published) == 0)
        metrics_set (self->registry, METRIC_BLOCKS_BEHIND, labels,
                     head > published ? head - published : 0);
}

static void
s_self_apply (self_t *self, const metric_row_t *row)
{
    double value = (double) row->value / 1e6;
    int rc = row->op == METRIC_SET ? metrics_set (self->registry, row->name, row->labels, value)
             : row->op == METRIC_ADD
                 ? metrics_add (self->registry, row->name, row->labels, value)
                 : metrics_observe (self->registry, row->name, row->labels, value);
    if (rc != 0 && !zhashx_lookup (self->dropped, row->name)) {
        zhashx_insert (self->dropped, row->name, (void *) 1);
        zsys_error ("metrics: update of %s {%s} dropped: unknown metric, wrong type or bad labels",
                    row->name, row->labels);
    }
    if (rc == 0 && row->op == METRIC_SET
        && (streq (row->name, METRIC_HEAD_BLOCK) || streq (row->name, METRIC_PUBLISHED_BLOCK)))
        s_self_derive_behind (self, row->labels);
}

static void
s_self_handle_pull (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pull);
    if (!msg)
        return;
    zframe_t *frame = zmsg_first (msg);
    metric_batch_t *batch = NULL;
    if (zmsg_size (msg) == 1 && msg_type (frame) == MSG_TYPE_METRIC
        && metric_batch_decode (frame, &batch) == 0) {
        for (size_t index = 0; index < metric_batch_size (batch); index++)
            s_self_apply (self, metric_batch_row (batch, index));
        metric_batch_destroy (&batch);
    }
    else
        zsys_error ("metrics: malformed update dropped (%zu bytes)",
                    frame ? zframe_size (frame) : 0);
    zmsg_destroy (&msg);
}

static void
s_self_handle_scrape (self_t *self)
{
    char *request = zstr_recv (self->scrape);
    if (!request)
        return;
    zstr_free (&request);
    char *text = metrics_render (self->registry);
    zstr_send (self->scrape, text);
    zstr_free (&text);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "PORT"))
        zstr_sendf (self->pipe, "%d", self->port);
    else
        zsys_error ("metrics: unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
metrics_server_actor (zsock_t *pipe, void *args)
{
    metrics_server_args_t *server_args = (metrics_server_args_t *) args;
    server_args->error [0] = 0;
    self_t *self = s_self_new (pipe, server_args);
    if (!self) {
        zsys_error ("metrics: cannot start: %s", server_args->error);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, self->pull, self->scrape, NULL);
    assert (poller);
    while (!self->terminated) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe)
            s_self_handle_pipe (self);
        else if (which == self->pull)
            s_self_handle_pull (self);
        else if (which == self->scrape)
            s_self_handle_scrape (self);
        else if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

metrics_server_t *
metrics_server_new (metrics_server_args_t *args)
{
    zactor_t *actor = actor_start (metrics_server_actor, args, args->error, sizeof (args->error),
                                   "metrics");
    if (!actor)
        return NULL;
    metrics_server_t *self = (metrics_server_t *) zmalloc (sizeof (metrics_server_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
metrics_server_destroy (metrics_server_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

int
metrics_server_port (metrics_server_t *self)
{
    zstr_send (self->actor, "PORT");
    char *text = zstr_recv (self->actor);
    int port = text ? atoi (text) : 0;
    zstr_free (&text);
    return port;
}

//  --------------------------------------------------------------------------
//  Selftest

#include <curl/curl.h>

static size_t
s_test_write (char *data, size_t size, size_t count, void *chunk)
{
    zchunk_extend ((zchunk_t *) chunk, data, size * count);
    return size * count;
}

//  GET http://127.0.0.1:port<path>: the body (yours) and the HTTP status.
static char *
s_test_get (int port, const char *path, long *status)
{
    CURL *curl = curl_easy_init ();
    assert (curl);
    char url [128];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d%s", port, path);
    zchunk_t *chunk = zchunk_new (NULL, 0);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_test_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, chunk);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform (curl);
    assert (rc == CURLE_OK);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup (curl);
    char *text = (char *) zmalloc (zchunk_size (chunk) + 1);
    memcpy (text, zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    return text;
}

//  Scrapes until the text holds line (the updates are asynchronous), a bounded wait.
static char *
s_test_scrape_until (int port, const char *line)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        long status = 0;
        char *text = s_test_get (port, "/metrics", &status);
        assert (status == 200);
        if (strstr (text, line))
            return text;
        zstr_free (&text);
        zclock_sleep (20);
    }
    assert (!"the scrape never showed the update");
    return NULL;
}

void
metrics_server_test (bool verbose)
{
    if (verbose)
        printf (" * metrics_server: ");
    metrics_server_args_t args = {.listen = "127.0.0.1:0", .endpoint = "inproc://metrics-test"};
    metrics_server_t *server = metrics_server_new (&args);
    assert (server);
    int port = metrics_server_port (server);
    assert (port > 0);

    //  Every family is there from the start, by its # TYPE line.
    long status = 0;
    char *text = s_test_get (port, "/metrics", &status);
    assert (status == 200);
    for (size_t index = 0; index < sizeof (s_families) / sizeof (s_families [0]); index++) {
        char type [200];
        snprintf (type, sizeof (type), "# TYPE %s ", s_families [index].name);
        assert (strstr (text, type));
    }
    assert (strstr (text, "evmtap_build_info{version=\"" EVMTAP_VERSION "\"} 1\n"));
    zstr_free (&text);
    text = s_test_get (port, "/other", &status);
    assert (status == 404);
    zstr_free (&text);

    zsock_t *push = zsock_new_push (">inproc://metrics-test");
    assert (push);
    metric_batch_t *batch = metric_batch_new ();
    metric_batch_put (batch, METRIC_SET, METRIC_HEAD_BLOCK, "chain=\"t\"", 120);
    metric_batch_put (batch, METRIC_SET, METRIC_PUBLISHED_BLOCK, "chain=\"t\"", 100);
    metric_batch_put (batch, METRIC_ADD, METRIC_PUBLISHED_BLOCKS, "chain=\"t\"", 3);
    metric_batch_put (batch, METRIC_OBSERVE, METRIC_REQUEST_SECONDS,
                      "provider=\"p\",key=\"k\",method=\"m\"", 0.02);
    //  Dropped (logged once): an unknown metric, a counter going down.
    metric_batch_put (batch, METRIC_ADD, "evmtap_no_such_total", "", 1);
    metric_batch_put (batch, METRIC_ADD, METRIC_REORGS, "chain=\"t\"", -1);
    metric_batch_send (batch, push);
    text = s_test_scrape_until (port, "evmtap_blocks_behind{chain=\"t\"} 20\n");
    assert (strstr (text, "evmtap_published_blocks_total{chain=\"t\"} 3\n"));
    assert (strstr (text, "evmtap_request_duration_seconds_bucket{provider=\"p\",key=\"k\","
                          "method=\"m\",le=\"0.025\"} 1\n"));
    assert (!strstr (text, "evmtap_no_such_total") && !strstr (text, "evmtap_reorgs_total{"));
    zstr_free (&text);
    //  A head that moved on: the lag follows.
    metric_batch_put (batch, METRIC_SET, METRIC_HEAD_BLOCK, "chain=\"t\"", 125);
    metric_batch_send (batch, push);
    text = s_test_scrape_until (port, "evmtap_blocks_behind{chain=\"t\"} 25\n");
    zstr_free (&text);
    //  A frame of another type is dropped, and the actor goes on.
    zstr_send (push, "not a metric");
    metric_batch_put (batch, METRIC_ADD, METRIC_REORGS, "chain=\"t\"", 1);
    metric_batch_send (batch, push);
    text = s_test_scrape_until (port, "evmtap_reorgs_total{chain=\"t\"} 1\n");
    zstr_free (&text);

    //  A port taken: the start fails, saying where.
    char taken [32];
    snprintf (taken, sizeof (taken), "127.0.0.1:%d", port);
    metrics_server_args_t again = {.listen = taken, .endpoint = "inproc://metrics-test-2"};
    assert (metrics_server_new (&again) == NULL);
    assert (strstr (again.error, taken));
    metrics_server_args_t bad = {.listen = "nohost", .endpoint = "inproc://metrics-test-3"};
    assert (metrics_server_new (&bad) == NULL && strstr (bad.error, "HOST:PORT"));

    metric_batch_destroy (&batch);
    zsock_destroy (&push);
    metrics_server_destroy (&server);
    metrics_server_destroy (&server);
    if (verbose)
        printf ("OK\n");
}
