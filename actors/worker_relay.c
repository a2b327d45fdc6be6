/*  worker_relay: the worker side of a remote link. It joins the coordinator's dispatcher
    (DEALER to its --listen ROUTER, CURVE with a certificate) on behalf of the fetch workers
    of this process, and relays: their READY as LINK_READY, the coordinator's jobs to a free
    one (one job per worker that has said READY is taken ahead and waits here, so that the
    link's round trip does not idle a worker between jobs), their results back unchanged. Without a pool of their own (no --redis) their key
    pool clients talk to the relay too: their lease messages go to the coordinator's pool
    under ids of the relay's (two clients' ids may be the same), the answers back under
    theirs. Both sides beat every heartbeat_ms (WELCOME says); after LINK_SILENCE_BEATS
    beats without a word from the coordinator, or its LEAVE, the link is lost: the relay
    says so on its pipe and stops relaying, and the caller starts over.

    Pipe events (actor -> caller):
        WELCOME frame            joined: the coordinator's settings (worker_link.h)
        REFUSED reason           the coordinator said LEAVE before WELCOME
        LOST reason              the link is gone
    Pipe commands:
        $TERM                    say LEAVE and leave
*/
#include "evmtap.h"
#include "worker_relay.h"
#include "actor_start.h"
#include <inttypes.h>
#include "curve_auth.h"
#include "dispatcher.h"
#include "job.h"
#include "lease.h"
#include "result.h"
#include "worker_link.h"

//  The beat until WELCOME says the coordinator's.
#define RELAY_FIRST_BEAT_MS 500
//  How long a LEAVE may wait to go out when the relay stops.
#define RELAY_LINGER_MS 500

//  A lease request relayed, waiting for its answer.
typedef struct {
    zframe_t *identity;    //  the client's, on the pool socket
    uint64_t id;           //  the client's own id
} s_asked_t;

typedef struct {
    zsock_t *pipe;
    worker_relay_args_t *args;    //  until the actor signals its start only
    uint32_t worker_count;        //  args->worker_count
    zsock_t *coordinator;         //  DEALER
    zsock_t *workers;             //  ROUTER for the local fetch workers
    zsock_t *pool;                //  ROUTER for their key pool clients, NULL without
    zpoller_t *poller;
    zlist_t *idle;      //  identities of free local workers
    zlist_t *jobs;      //  jobs come while none was free (not expected)
    zhashx_t *asked;    //  relay id (decimal) -> s_asked_t
    zhashx_t *seen;     //  identities (hex) of the local workers that said READY
    uint64_t next_id;
    int64_t heartbeat_ms;
    int64_t heard;    //  zclock_mono of the coordinator's last message
    int64_t beat_due;
    uint64_t seq;
    bool welcomed;
    bool lost;
    bool terminated;
} self_t;

static void
s_asked_destroy (void **item)
{
    s_asked_t *asked = (s_asked_t *) *item;
    if (asked) {
        zframe_destroy (&asked->identity);
        free (asked);
        *item = NULL;
    }
}

static int
s_self_curve (self_t *self)
{
    worker_relay_args_t *args = self->args;
    return curve_auth_client (self->coordinator, args->curve_cert, args->curve_server, args->error,
                              sizeof (args->error));
}

static void
s_self_send (self_t *self, const worker_link_t *message)
{
    zframe_t *frame = worker_link_encode (message);
    if (zframe_send (&frame, self->coordinator, 0))
        zframe_destroy (&frame);    //  no link (a refused handshake ends it): nobody to tell
}

static self_t *
s_self_new (zsock_t *pipe, worker_relay_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->worker_count = args->worker_count;
    self->idle = zlist_new ();
    self->jobs = zlist_new ();
    self->asked = zhashx_new ();
    zhashx_set_destructor (self->asked, s_asked_destroy);
    self->seen = zhashx_new ();
    self->heartbeat_ms = RELAY_FIRST_BEAT_MS;
    self->coordinator = zsock_new (ZMQ_DEALER);
    self->workers = zsock_new (ZMQ_ROUTER);
    assert (self->coordinator && self->workers);
    zsock_set_linger (self->coordinator, RELAY_LINGER_MS);
    //  A send never waits: without a link (not up yet, or refused by CURVE, after which
    //  libzmq does not reconnect) the message is dropped, and the heartbeats tell.
    zsock_set_sndtimeo (self->coordinator, 0);
    self->poller = zpoller_new (self->pipe, self->coordinator, self->workers, NULL);
    if (args->curve_cert && s_self_curve (self))
        return self;
    if (zsock_bind (self->workers, "%s", args->workers) < 0) {
        snprintf (args->error, sizeof (args->error), "cannot bind %s", args->workers);
        return self;
    }
    if (args->pool) {
        self->pool = zsock_new (ZMQ_ROUTER);
        if (zsock_bind (self->pool, "%s", args->pool) < 0) {
            snprintf (args->error, sizeof (args->error), "cannot bind %s", args->pool);
            return self;
        }
        zpoller_add (self->poller, self->pool);
    }
    if (zsock_connect (self->coordinator, "%s", args->connect) < 0) {
        snprintf (args->error, sizeof (args->error), "cannot connect to %s", args->connect);
        return self;
    }
    worker_link_t join = {.type = MSG_TYPE_LINK_JOIN,
                          .worker_id = args->worker_id,
                          .version = EVMTAP_VERSION,
                          .workers = args->worker_count,
                          .fetch_modes = LINK_FETCH_MODE_BIT (FETCH_BLOCK)
                                         | LINK_FETCH_MODE_BIT (FETCH_HASHES),
                          .redis = args->pool == NULL};
    s_self_send (self, &join);
    self->heard = zclock_mono ();
    self->beat_due = self->heard + self->heartbeat_ms;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zframe_t *frame;
    while ((frame = (zframe_t *) zlist_pop (self->idle)))
        zframe_destroy (&frame);
    while ((frame = (zframe_t *) zlist_pop (self->jobs)))
        zframe_destroy (&frame);
    zlist_destroy (&self->idle);
    zlist_destroy (&self->jobs);
    zhashx_destroy (&self->asked);
    zhashx_destroy (&self->seen);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->workers);
    zsock_destroy (&self->pool);
    zsock_destroy (&self->coordinator);
    free (self);
    *self_p = NULL;
}

//  The link is gone: says so once, then relays nothing more.
static void
s_self_lose (self_t *self, const char *reason)
{
    if (self->lost)
        return;
    self->lost = true;
    zstr_sendx (self->pipe, self->welcomed ? "LOST" : "REFUSED", reason, NULL);
}

static void
s_self_give_job (self_t *self, zframe_t *job)
{
    zframe_t *identity = (zframe_t *) zlist_pop (self->idle);
    if (!identity) {
        zlist_append (self->jobs, job);
        return;
    }
    zframe_send (&identity, self->workers, ZFRAME_MORE);
    zframe_send (&job, self->workers, 0);
}

//  A lease message with its id replaced (the frame is borrowed), or NULL when malformed.
static zframe_t *
s_lease_with_id (zframe_t *frame, uint64_t id)
{
    lease_t lease;
    if (lease_decode (frame, &lease) != 0)
        return NULL;
    lease.id = id;
    zframe_t *copy = lease_encode (&lease);
    lease_clear (&lease);
    return copy;
}

static void
s_self_handle_coordinator (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->coordinator);
    if (!msg || self->lost) {
        zmsg_destroy (&msg);
        return;
    }
    self->heard = zclock_mono ();
    zframe_t *first = zmsg_first (msg);
    int type = msg_type (first);
    worker_link_t message;
    if (type == MSG_TYPE_JOB)
        s_self_give_job (self, zmsg_pop (msg));
    else if (lease_table ((msg_type_t) type) && self->pool) {
        char key [32];
        snprintf (key, sizeof (key), "%" PRIu64, lease_id (first));
        s_asked_t *asked = (s_asked_t *) zhashx_lookup (self->asked, key);
        zframe_t *answer = asked ? s_lease_with_id (first, asked->id) : NULL;
        if (answer) {
            zframe_t *identity = zframe_dup (asked->identity);
            zframe_send (&identity, self->pool, ZFRAME_MORE);
            zframe_send (&answer, self->pool, 0);
        }
        zhashx_delete (self->asked, key);
    }
    else if (worker_link_decode (first, &message) == 0) {
        if (message.type == MSG_TYPE_LINK_WELCOME && !self->welcomed) {
            self->welcomed = true;
            if (message.heartbeat_ms > 0)
                self->heartbeat_ms = message.heartbeat_ms;
            zstr_sendm (self->pipe, "WELCOME");
            zframe_t *copy = zframe_dup (first);
            zframe_send (&copy, self->pipe, 0);
        }
        else if (message.type == MSG_TYPE_LINK_LEAVE)
            s_self_lose (self, message.reason);
        worker_link_clear (&message);
    }
    zmsg_destroy (&msg);
}

static void
s_self_handle_workers (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->workers);
    zframe_t *identity = msg ? zmsg_pop (msg) : NULL;
    if (!identity || zmsg_size (msg) == 0 || self->lost) {
        zframe_destroy (&identity);
        zmsg_destroy (&msg);
        return;
    }
    if (zframe_streq (zmsg_first (msg), "READY")) {
        //  Every READY is a slot again: a waiting job it takes leaves room for the next.
        //  A worker's first READY (it holds a key) is worth one job more, which waits here:
        //  it hides the link's round trip between a result and the next job, and no job
        //  waits for a worker that never had a key.
        char *hex = zframe_strhex (identity);
        bool first_ready = !zhashx_lookup (self->seen, hex);
        if (first_ready)
            zhashx_insert (self->seen, hex, (void *) 1);
        zstr_free (&hex);
        zlist_append (self->idle, identity);
        zframe_t *job = (zframe_t *) zlist_pop (self->jobs);
        if (job)
            s_self_give_job (self, job);
        worker_link_t ready = {.type = MSG_TYPE_LINK_READY, .slots = first_ready ? 2 : 1};
        s_self_send (self, &ready);
    }
    else {
        zmsg_send (&msg, self->coordinator);
        zframe_destroy (&identity);
    }
    zmsg_destroy (&msg);
}

static void
s_self_handle_pool (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pool);
    zframe_t *identity = msg ? zmsg_pop (msg) : NULL;
    zframe_t *frame = msg ? zmsg_first (msg) : NULL;
    if (identity && frame && !self->lost) {
        uint64_t id = ++self->next_id;
        zframe_t *relayed = s_lease_with_id (frame, id);
        if (relayed) {
            s_asked_t *asked = (s_asked_t *) zmalloc (sizeof (s_asked_t));
            assert (asked);
            asked->identity = identity;
            identity = NULL;
            asked->id = lease_id (frame);
            char key [32];
            snprintf (key, sizeof (key), "%" PRIu64, id);
            zhashx_update (self->asked, key, asked);
            if (zframe_send (&relayed, self->coordinator, 0))
                zframe_destroy (&relayed);
        }
    }
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

static void
s_self_beat (self_t *self)
{
    int64_t now = zclock_mono ();
    if (self->lost || now < self->beat_due)
        return;
    self->beat_due = now + self->heartbeat_ms;
    //  Before WELCOME the caller's wait for it decides (a coordinator not up yet is no loss).
    if (self->welcomed && now - self->heard > LINK_SILENCE_BEATS * self->heartbeat_ms) {
        s_self_lose (self, "the coordinator is silent");
        return;
    }
    worker_link_t beat = {.type = MSG_TYPE_LINK_HEARTBEAT, .seq = ++self->seq};
    s_self_send (self, &beat);
}

void
worker_relay_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (worker_relay_args_t *) args);
    bool started = !*((worker_relay_args_t *) args)->error;
    zsock_signal (pipe, started ? 0 : 1);
    while (started && !self->terminated) {
        void *which = zpoller_wait (self->poller, (int) self->heartbeat_ms);
        if (which == self->pipe) {
            char *command = zstr_recv (self->pipe);
            self->terminated = !command || streq (command, "$TERM");
            zstr_free (&command);
        }
        else if (which == self->coordinator)
            s_self_handle_coordinator (self);
        else if (which == self->workers)
            s_self_handle_workers (self);
        else if (which && which == self->pool)
            s_self_handle_pool (self);
        else if (zpoller_terminated (self->poller))
            break;
        s_self_beat (self);
    }
    if (started && !self->lost) {
        worker_link_t leave = {.type = MSG_TYPE_LINK_LEAVE};
        snprintf (leave.reason, sizeof (leave.reason), "stopping");
        s_self_send (self, &leave);
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _worker_relay_t {
    zactor_t *actor;
    bool lost;
};

worker_relay_t *
worker_relay_new (worker_relay_args_t *args)
{
    assert (args);
    zactor_t *actor = actor_start (worker_relay_actor, args, args->error, sizeof (args->error),
                                   "worker relay");
    if (!actor)
        return NULL;
    worker_relay_t *self = (worker_relay_t *) zmalloc (sizeof (worker_relay_t));
    assert (self);
    self->actor = actor;
    return self;
}

int
worker_relay_welcome (worker_relay_t *self, int timeout_ms, worker_link_t *welcome)
{
    memset (welcome, 0, sizeof (*welcome));
    zpoller_t *poller = zpoller_new (self->actor, NULL);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (!which)
        return -1;
    zmsg_t *msg = zmsg_recv (self->actor);
    char *event = msg ? zmsg_popstr (msg) : NULL;
    int rc = -1;
    if (event && streq (event, "WELCOME") && zmsg_first (msg))
        rc = worker_link_decode (zmsg_first (msg), welcome) == 0 ? 0 : -1;
    else if (event) {
        char *reason = zmsg_popstr (msg);
        welcome->type = MSG_TYPE_LINK_LEAVE;
        snprintf (welcome->reason, sizeof (welcome->reason), "%s", reason ? reason : "");
        zstr_free (&reason);
        self->lost = true;
        rc = 1;
    }
    zstr_free (&event);
    zmsg_destroy (&msg);
    return rc;
}

bool
worker_relay_lost (worker_relay_t *self)
{
    while (!self->lost && (zsock_events (zactor_sock (self->actor)) & ZMQ_POLLIN)) {
        char *event = NULL, *reason = NULL;
        zstr_recvx (self->actor, &event, &reason, NULL);
        if (event && (streq (event, "LOST") || streq (event, "REFUSED"))) {
            zsys_warning ("evmtap worker: link lost: %s", reason ? reason : "");
            self->lost = true;
        }
        zstr_free (&event);
        zstr_free (&reason);
    }
    return self->lost;
}

zsock_t *
worker_relay_sock (worker_relay_t *self)
{
    return zactor_sock (self->actor);
}

void
worker_relay_destroy (worker_relay_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Receives one frame on sock within a generous bound, asserting it came.
static zmsg_t *
s_test_recv (zsock_t *sock)
{
    zsock_set_rcvtimeo (sock, 5000);
    zmsg_t *msg = zmsg_recv (sock);
    assert (msg);
    return msg;
}

//  STATS of a dispatcher until it says want (the relay's messages are on their way).
static void
s_test_wait_links (dispatcher_t *dispatcher, size_t links, uint64_t requeued)
{
    dispatcher_stats_t stats;
    for (int attempt = 0; attempt < 500; attempt++) {
        assert (dispatcher_stats (dispatcher, &stats) == 0);
        if (stats.links == links && stats.requeued == requeued)
            return;
        zclock_sleep (10);
    }
    assert (false);
}

//  A dispatcher listening, a relay joined to it, fake fetch workers and a fake key pool
//  behind both: a relay that leases through Redis is refused by a coordinator without;
//  jobs and results cross the link; two clients' lease requests of one id are told apart;
//  a relay that leaves has its job re-queued to a local worker, and the answer it may
//  still give is dropped as a duplicate.
void
worker_relay_test (bool verbose)
{
    (void) verbose;
    zsock_t *pool = zsock_new_router ("@inproc://relay-test-pool");
    zsock_t *head = NULL;
    worker_link_item_t rpc [] = {{"http://127.0.0.1:9/{key}"}};
    worker_link_item_t keys [] = {{"k1"}};
    worker_link_t welcome = {.type = MSG_TYPE_LINK_WELCOME,
                             .chain = "anvil",
                             .chain_id = 31337,
                             .rpc = rpc,
                             .rpc_count = 1,
                             .keys = keys,
                             .key_count = 1,
                             .key_costs = "requests"};
    dispatcher_args_t dispatcher_args = {.workers = "inproc://relay-test-local",
                                         .jobs = "inproc://relay-test-jobs",
                                         .listen = "inproc://relay-test-listen",
                                         .welcome = &welcome,
                                         .keypool = "inproc://relay-test-pool"};
    dispatcher_t *dispatcher = dispatcher_new (&dispatcher_args);
    assert (dispatcher);
    head = zsock_new_pair (">inproc://relay-test-jobs");

    //  Leasing through its own Redis, the relay is refused. Its workers' endpoint is its
    //  own: libzmq unbinds a closed socket's inproc name asynchronously, so the next
    //  relay could not always bind the same one at once.
    worker_relay_args_t args = {.connect = "inproc://relay-test-listen",
                                .workers = "inproc://relay-test-refused",
                                .worker_id = "test:1",
                                .worker_count = 1};
    worker_relay_t *relay = worker_relay_new (&args);
    assert (relay);
    worker_link_t answer;
    assert (worker_relay_welcome (relay, 5000, &answer) == 1);
    assert (strstr (answer.reason, "Redis"));
    assert (worker_relay_lost (relay));
    worker_relay_destroy (&relay);

    //  Through the coordinator's pool: welcomed with the chain's settings.
    args.pool = "inproc://relay-test-relayed-pool";
    args.workers = "inproc://relay-test-remote";
    relay = worker_relay_new (&args);
    assert (relay);
    assert (worker_relay_welcome (relay, 5000, &answer) == 0);
    assert (streq (answer.chain, "anvil") && answer.key_count == 1);
    assert (streq (answer.keys [0].text, "k1") && answer.heartbeat_ms > 0);
    worker_link_clear (&answer);
    s_test_wait_links (dispatcher, 1, 0);

    //  A fetch worker of the relay takes job 1 and answers it.
    zsock_t *remote = zsock_new_dealer (">inproc://relay-test-remote");
    zstr_send (remote, "READY");
    job_t job = {.id = 1, .kind = JOB_HEAD};
    zframe_t *frame = job_encode (&job);
    zframe_send (&frame, head, 0);
    zmsg_t *msg = s_test_recv (remote);
    job_t copy;
    assert (job_decode (zmsg_first (msg), &copy) == 0 && copy.id == 1);
    zmsg_destroy (&msg);
    result_t result = {.job_id = 1, .kind = JOB_HEAD, .status = RESULT_OK, .value = 77};
    msg = result_encode (&result, NULL);
    zmsg_send (&msg, remote);
    msg = s_test_recv (head);
    result_t got;
    assert (result_decode (msg, &got) == 0 && got.job_id == 1 && got.value == 77);
    zmsg_destroy (&msg);

    //  Two clients ask with the same id; each gets its own answer.
    zsock_t *client_a = zsock_new_dealer (">inproc://relay-test-relayed-pool");
    zsock_t *client_b = zsock_new_dealer (">inproc://relay-test-relayed-pool");
    lease_t renew = {.type = MSG_TYPE_LEASE_RENEW, .id = 9, .ttl_ms = 1000};
    snprintf (renew.key, sizeof (renew.key), "a");
    frame = lease_encode (&renew);
    zframe_send (&frame, client_a, 0);
    snprintf (renew.key, sizeof (renew.key), "b");
    frame = lease_encode (&renew);
    zframe_send (&frame, client_b, 0);
    for (int request = 0; request < 2; request++) {
        msg = s_test_recv (pool);
        zframe_t *identity = zmsg_pop (msg);
        lease_t asked;
        assert (lease_decode (zmsg_first (msg), &asked) == 0 && asked.id != 9);
        lease_t reply = {.type = MSG_TYPE_LEASE_ANSWER, .id = asked.id, .status = 0};
        snprintf (reply.reason, sizeof (reply.reason), "for %.8s", asked.key);
        lease_clear (&asked);
        zframe_send (&identity, pool, ZFRAME_MORE);
        frame = lease_encode (&reply);
        zframe_send (&frame, pool, 0);
        zmsg_destroy (&msg);
    }
    zsock_t *clients [] = {client_a, client_b};
    const char *reasons [] = {"for a", "for b"};
    for (int index = 0; index < 2; index++) {
        msg = s_test_recv (clients [index]);
        lease_t reply;
        assert (lease_decode (zmsg_first (msg), &reply) == 0 && reply.id == 9);
        assert (streq (reply.reason, reasons [index]));
        zmsg_destroy (&msg);
    }

    //  Job 2 goes to the relay's worker; the relay leaves: the job is re-queued and goes
    //  to a local worker, whose answer is passed on; the remote one, late, is dropped.
    zstr_send (remote, "READY");
    job.id = 2;
    frame = job_encode (&job);
    zframe_send (&frame, head, 0);
    msg = s_test_recv (remote);
    zmsg_destroy (&msg);
    worker_relay_destroy (&relay);
    s_test_wait_links (dispatcher, 0, 1);
    zsock_t *local = zsock_new_dealer (">inproc://relay-test-local");
    zstr_send (local, "READY");
    msg = s_test_recv (local);
    assert (job_decode (zmsg_first (msg), &copy) == 0 && copy.id == 2);
    zmsg_destroy (&msg);
    result.job_id = 2;
    msg = result_encode (&result, NULL);
    zmsg_send (&msg, local);
    msg = s_test_recv (head);
    assert (result_decode (msg, &got) == 0 && got.job_id == 2);
    zmsg_destroy (&msg);
    msg = result_encode (&result, NULL);
    zmsg_send (&msg, local);
    dispatcher_stats_t stats;
    for (int attempt = 0; attempt < 500; attempt++) {
        assert (dispatcher_stats (dispatcher, &stats) == 0);
        if (stats.duplicates == 1)
            break;
        zclock_sleep (10);
    }
    assert (stats.duplicates == 1 && stats.in_flight == 0 && stats.queued == 0);

    zsock_destroy (&local);
    zsock_destroy (&remote);
    zsock_destroy (&client_a);
    zsock_destroy (&client_b);
    zsock_destroy (&head);
    dispatcher_destroy (&dispatcher);
    zsock_destroy (&pool);
}
