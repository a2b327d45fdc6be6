/*  dispatcher: hands a chain's jobs to its fetch workers, one job per worker at a time, in
    the order the head poller sent them, and returns every result to the head poller. The
    workers are local (in this process) and, with args->listen, remote: `evmtap worker`
    processes linked over worker_link.h, each taking as many jobs as it said READY for. It
    knows which worker or link holds each job: a link that leaves or stays silent for
    LINK_SILENCE_BEATS heartbeats (killed, frozen, its network cut) has its jobs re-queued
    at the front, and a job answered twice (re-queued, then both answered) reaches the head
    poller once: a result is passed on only while its job id is pending, from whoever.

    Head poller side (PAIR, bound at args->jobs):
        <- job frame                     queued until a worker is free
        -> result frames                 as the worker sent them (a send the head
                                         poller does not take is retried while the
                                         pipe is served, dropped on $TERM)
    Worker side (ROUTER, bound at args->workers):
        <- [identity] READY              the worker can take a job (it holds a key)
        <- [identity] result frames      the job is done; READY follows when the worker
                                         can take another (a worker waiting for a key
                                         must not hold a job meanwhile)
        -> [identity] job frame
    Link side (ROUTER, bound at args->listen, CURVE with args->auth): worker_link.h;
    lease messages of a link go to the key pool through a DEALER of its own, and back.
    Pipe commands:
        $TERM                            leave
        STATS                            -> STATS queued in_flight idle
        REQUEUE                          workers were stopped (`evmtap ctl SCALE`): every
                                         job in flight is queued again (a result
                                         that comes twice is passed on once), and a job sent to a worker that is gone
                                         is queued again too
        LINKS                            -> LINKS links remote_workers queued in_flight
                                            duplicates requeued port
    Main starts and stops it through the facade (dispatcher_t, dispatcher.h).
*/
#include "evmtap.h"
#include "dispatcher.h"
#include "actor_start.h"
#include <errno.h>
#include <inttypes.h>
#include "fetch_worker.h"
#include "job.h"
#include "lease.h"
#include "result.h"
#include "worker_link.h"

//  While the head poller takes no result, how often the dispatcher looks at its pipe.
#define DISPATCHER_SEND_RETRY_MS 100
//  The beat of every link, both ways (WELCOME tells the worker).
#define DISPATCHER_HEARTBEAT_MS 500

//  A job not yet answered.
typedef struct {
    zframe_t *job;      //  the job frame
    char owner [64];    //  who holds it: "L<hex>" a local worker, "R<hex>" a link; "" queued
} pending_t;

//  A remote `evmtap worker` process.
typedef struct {
    zframe_t *identity;
    char key [64];           //  "R<hex identity>"
    char worker_id [128];    //  what JOIN said, for the logs
    unsigned workers;        //  its fetch workers, as JOIN said
    zsock_t *pool;           //  DEALER to the key pool for its leases
    int64_t heard;           //  zclock_mono of its last message
    uint64_t seq;            //  our heartbeats to it
} link_t;

typedef struct {
    zsock_t *pipe;
    dispatcher_args_t *args;    //  until the actor signals its start only
    char *keypool;              //  args->keypool, NULL: leases are not relayed
    bool redis;                 //  args->redis
    int fetch_mode;             //  the chain's, which a worker must be able to run
    zsock_t *workers;           //  ROUTER
    zsock_t *jobs;              //  PAIR to the head poller
    zsock_t *links;             //  ROUTER for remote workers, NULL without --listen
    zsock_t *watch;             //  refusals of the links' CURVE, NULL without
    zframe_t *welcome;          //  what every joining link gets
    int port;                   //  bound by links
    zpoller_t *poller;
    zlist_t *queue;          //  job frames not yet handed out (some may be answered already)
    zlist_t *idle;           //  identities (zframe_t) of free local workers
    zlist_t *credits;        //  one link key (char *) per job a link said READY for
    zhashx_t *pending;       //  job id (decimal) -> pending_t
    zhashx_t *link_table;    //  link key -> link_t
    uint64_t duplicates;
    uint64_t requeued;
    int64_t beat_due;    //  zclock_mono
    bool terminated;
} self_t;

static void s_self_handle_pipe (self_t *self);

static void
s_pending_destroy (void **item)
{
    pending_t *pending = (pending_t *) *item;
    if (pending) {
        zframe_destroy (&pending->job);
        free (pending);
        *item = NULL;
    }
}

static void
s_link_destroy (void **item)
{
    link_t *link = (link_t *) *item;
    if (link) {
        zframe_destroy (&link->identity);
        zsock_destroy (&link->pool);
        free (link);
        *item = NULL;
    }
}

//  Binds the link socket, with CURVE when args->auth is given: the workers' public keys
//  in its authorised folder are the only ones let in, the others logged as refused.
static int
s_self_listen (self_t *self)
{
    dispatcher_args_t *args = self->args;
    self->links = zsock_new (ZMQ_ROUTER);
    assert (self->links);
    if (args->auth) {
        curve_auth_server (args->auth, self->links);
        self->watch = curve_auth_watch (self->links, "listen");
    }
    self->port = zsock_bind (self->links, "%s", args->listen);
    if (self->port < 0) {
        snprintf (args->error, sizeof (args->error), "cannot bind %s: %s", args->listen,
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    worker_link_t welcome = *args->welcome;
    welcome.heartbeat_ms = DISPATCHER_HEARTBEAT_MS;
    self->welcome = worker_link_encode (&welcome);
    self->fetch_mode = welcome.fetch_mode;
    self->redis = args->redis;
    self->keypool = args->keypool ? strdup (args->keypool) : NULL;
    return 0;
}

static self_t *
s_self_new (zsock_t *pipe, dispatcher_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->queue = zlist_new ();
    self->idle = zlist_new ();
    self->credits = zlist_new ();
    zlist_autofree (self->credits);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, s_pending_destroy);
    self->link_table = zhashx_new ();
    zhashx_set_destructor (self->link_table, s_link_destroy);
    self->workers = zsock_new (ZMQ_ROUTER);
    self->jobs = zsock_new (ZMQ_PAIR);
    self->poller = zpoller_new (self->pipe, self->workers, self->jobs, NULL);
    if (zsock_bind (self->workers, "%s", args->workers) < 0
        || zsock_bind (self->jobs, "%s", args->jobs) < 0) {
        snprintf (args->error, sizeof (args->error), "cannot bind %s or %s", args->workers,
                  args->jobs);
        return self;
    }
    zsock_set_sndtimeo (self->jobs, DISPATCHER_SEND_RETRY_MS);
    //  A job for a local worker that is gone (`ctl SCALE`) fails instead of vanishing.
    zsock_set_router_mandatory (self->workers, 1);
    if (args->listen) {
        if (s_self_listen (self))
            return self;
        zpoller_add (self->poller, self->links);
        if (self->watch)
            zpoller_add (self->poller, self->watch);
    }
    self->beat_due = zclock_mono () + DISPATCHER_HEARTBEAT_MS;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zframe_t *frame;
    while ((frame = (zframe_t *) zlist_pop (self->queue)))
        zframe_destroy (&frame);
    while ((frame = (zframe_t *) zlist_pop (self->idle)))
        zframe_destroy (&frame);
    zlist_destroy (&self->queue);
    zlist_destroy (&self->idle);
    zlist_destroy (&self->credits);
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->link_table);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->workers);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->watch);
    zsock_destroy (&self->links);
    zframe_destroy (&self->welcome);
    zstr_free (&self->keypool);
    free (self);
    *self_p = NULL;
}

static void
s_job_key (zframe_t *frame, char *key, size_t size)
{
    snprintf (key, size, "%" PRIu64, msg_first_u64 (frame));
}

//  The next queued job still pending (answered ones are dropped), or NULL.
static zframe_t *
s_self_next_job (self_t *self, pending_t **pending_p)
{
    zframe_t *job;
    while ((job = (zframe_t *) zlist_pop (self->queue))) {
        char key [32];
        s_job_key (job, key, sizeof (key));
        pending_t *pending = (pending_t *) zhashx_lookup (self->pending, key);
        if (pending && !*pending->owner) {
            *pending_p = pending;
            return job;
        }
        zframe_destroy (&job);
    }
    return NULL;
}

//  Hands out queued jobs while there are free workers, local ones first.
static void
s_dispatch (self_t *self)
{
    while (zlist_size (self->queue) && (zlist_size (self->idle) || zlist_size (self->credits))) {
        zframe_t *identity = NULL;
        char owner [64];
        if (zlist_size (self->idle)) {
            identity = (zframe_t *) zlist_pop (self->idle);
            char *hex = zframe_strhex (identity);
            snprintf (owner, sizeof (owner), "L%s", hex);
            free (hex);
        }
        else {
            char *key = (char *) zlist_pop (self->credits);
            link_t *link = (link_t *) zhashx_lookup (self->link_table, key);
            snprintf (owner, sizeof (owner), "%s", key);
            free (key);
            if (!link)
                continue;    //  a credit of a link gone since
            identity = zframe_dup (link->identity);
        }
        pending_t *pending = NULL;
        zframe_t *job = s_self_next_job (self, &pending);
        if (!job) {
            //  Only answered jobs were queued: the worker stays free.
            if (*owner == 'L')
                zlist_push (self->idle, identity);
            else {
                zlist_push (self->credits, owner);
                zframe_destroy (&identity);
            }
            break;
        }
        snprintf (pending->owner, sizeof (pending->owner), "%s", owner);
        zsock_t *socket = *owner == 'L' ? self->workers : self->links;
        if (zframe_send (&identity, socket, ZFRAME_MORE)) {
            //  A local worker stopped since it said READY: the job waits for another.
            zframe_destroy (&identity);
            *pending->owner = 0;
            zlist_push (self->queue, job);
            continue;
        }
        zframe_send (&job, socket, 0);
    }
}

//  Hands a result to the head poller. A PAIR send blocks while the head poller is gone
//  or not reading (it stopped first): the send is retried every DISPATCHER_SEND_RETRY_MS
//  while the pipe is served, and dropped once $TERM came, so that the dispatcher always
//  stops. Takes the message.
static void
s_self_send_result (self_t *self, zmsg_t **msg_p)
{
    while (zmsg_send (msg_p, self->jobs) != 0) {
        if (zmq_errno () != EAGAIN)
            break;    //  the context is terminating
        if (zsock_events (self->pipe) & ZMQ_POLLIN)
            s_self_handle_pipe (self);
        if (self->terminated)
            break;
    }
    zmsg_destroy (msg_p);
}

//  Passes a result on when its job is pending, else drops it (answered already). Takes msg.
static void
s_self_result (self_t *self, zmsg_t **msg_p)
{
    char key [32];
    s_job_key (zmsg_first (*msg_p), key, sizeof (key));
    if (!zhashx_lookup (self->pending, key)) {
        self->duplicates++;
        zmsg_destroy (msg_p);
        return;
    }
    zhashx_delete (self->pending, key);
    s_self_send_result (self, msg_p);
}

//  Takes back every job the owner holds, to be handed out first; owner "L" stands for
//  every local worker.
static size_t
s_self_requeue (self_t *self, const char *owner)
{
    size_t count = 0;
    bool locals = streq (owner, "L");
    for (pending_t *pending = (pending_t *) zhashx_first (self->pending); pending;
         pending = (pending_t *) zhashx_next (self->pending))
        if (locals ? *pending->owner == 'L' : streq (pending->owner, owner)) {
            *pending->owner = 0;
            zlist_push (self->queue, zframe_dup (pending->job));
            count++;
        }
    self->requeued += count;
    return count;
}

//  Forgets a link, its jobs re-queued. why is logged with its name.
static void
s_self_drop_link (self_t *self, link_t *link, const char *why)
{
    size_t jobs = s_self_requeue (self, link->key);
    zsys_warning ("dispatcher: worker %s %s: %zu of its jobs re-queued", link->worker_id, why,
                  jobs);
    if (link->pool)
        zpoller_remove (self->poller, link->pool);
    zhashx_delete (self->link_table, link->key);
    s_dispatch (self);
}

//  Sends a link message to the link identity (borrowed).
static void
s_self_send_link (self_t *self, zframe_t *identity, const worker_link_t *message)
{
    zframe_t *frame = zframe_dup (identity);
    zframe_send (&frame, self->links, ZFRAME_MORE);
    frame = worker_link_encode (message);
    zframe_send (&frame, self->links, 0);
}

static void
s_self_leave_link (self_t *self, zframe_t *identity, const char *reason)
{
    worker_link_t leave = {.type = MSG_TYPE_LINK_LEAVE};
    snprintf (leave.reason, sizeof (leave.reason), "%s", reason);
    s_self_send_link (self, identity, &leave);
}

static void
s_self_join (self_t *self, zframe_t *identity, const char *key, zframe_t *frame)
{
    worker_link_t join;
    if (worker_link_decode (frame, &join) != 0) {
        s_self_leave_link (self, identity, "malformed join");
        return;
    }
    const char *refusal = NULL;
    if (!(join.fetch_modes & LINK_FETCH_MODE_BIT (self->fetch_mode)))
        refusal = "the worker cannot run this chain's fetch mode";
    else if (join.redis && !self->redis)
        refusal = "the worker leases through Redis but the coordinator does not: give "
                  "both the same --redis, or neither";
    if (refusal) {
        zsys_error ("dispatcher: worker %s refused: %s", join.worker_id, refusal);
        s_self_leave_link (self, identity, refusal);
        worker_link_clear (&join);
        return;
    }
    link_t *old = (link_t *) zhashx_lookup (self->link_table, key);
    if (old)
        s_self_drop_link (self, old, "joined again");
    link_t *link = (link_t *) zmalloc (sizeof (link_t));
    assert (link);
    link->identity = zframe_dup (identity);
    snprintf (link->key, sizeof (link->key), "%s", key);
    snprintf (link->worker_id, sizeof (link->worker_id), "%s", join.worker_id);
    link->workers = join.workers;
    link->heard = zclock_mono ();
    if (!join.redis && self->keypool) {
        link->pool = zsock_new_dealer (self->keypool);
        assert (link->pool);
        zpoller_add (self->poller, link->pool);
    }
    zhashx_insert (self->link_table, key, link);
    zsys_info ("dispatcher: worker %s joined with %u fetch workers (evmtap %s)", join.worker_id,
               join.workers, join.version);
    worker_link_clear (&join);
    zframe_t *welcome = zframe_dup (identity);
    zframe_send (&welcome, self->links, ZFRAME_MORE);
    welcome = zframe_dup (self->welcome);
    zframe_send (&welcome, self->links, 0);
}

static void
s_self_handle_link (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->links);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    if (!identity || zmsg_size (msg) == 0) {
        zframe_destroy (&identity);
        zmsg_destroy (&msg);
        return;
    }
    char *hex = zframe_strhex (identity);
    char key [64];
    snprintf (key, sizeof (key), "R%s", hex);
    free (hex);
    int type = msg_type (zmsg_first (msg));
    link_t *link = (link_t *) zhashx_lookup (self->link_table, key);
    if (type == MSG_TYPE_LINK_JOIN)
        s_self_join (self, identity, key, zmsg_first (msg));
    else if (!link)
        //  A link dropped for its silence (frozen, cut) that speaks again: its jobs went
        //  elsewhere, so it must start over.
        s_self_leave_link (self, identity, "unknown link: join again");
    else {
        link->heard = zclock_mono ();
        worker_link_t message;
        if (type == MSG_TYPE_RESULT)
            s_self_result (self, &msg);
        else if (lease_table ((msg_type_t) type)) {
            if (link->pool)
                zmsg_send (&msg, link->pool);
        }
        else if (worker_link_decode (zmsg_first (msg), &message) != 0)
            zsys_error ("dispatcher: worker %s sent a malformed message", link->worker_id);
        else if (message.type == MSG_TYPE_LINK_READY) {
            for (uint32_t slot = 0; slot < message.slots; slot++)
                zlist_append (self->credits, link->key);
            s_dispatch (self);
        }
        else if (message.type == MSG_TYPE_LINK_LEAVE)
            s_self_drop_link (self, link, message.reason [0] ? message.reason : "left");
    }
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

//  A key pool answer for one of a link's workers.
static void
s_self_handle_pool (self_t *self, zsock_t *pool)
{
    zmsg_t *msg = zmsg_recv (pool);
    for (link_t *link = (link_t *) zhashx_first (self->link_table); link && msg;
         link = (link_t *) zhashx_next (self->link_table))
        if (link->pool == pool) {
            zframe_t *identity = zframe_dup (link->identity);
            zmsg_prepend (msg, &identity);
            zmsg_send (&msg, self->links);
        }
    zmsg_destroy (&msg);
}

//  Beats every link and drops those silent too long.
static void
s_self_beat (self_t *self)
{
    int64_t now = zclock_mono ();
    if (!self->links || now < self->beat_due)
        return;
    self->beat_due = now + DISPATCHER_HEARTBEAT_MS;
    zlist_t *silent = zlist_new ();
    for (link_t *link = (link_t *) zhashx_first (self->link_table); link;
         link = (link_t *) zhashx_next (self->link_table)) {
        if (now - link->heard > LINK_SILENCE_BEATS * DISPATCHER_HEARTBEAT_MS)
            zlist_append (silent, link);
        else {
            worker_link_t beat = {.type = MSG_TYPE_LINK_HEARTBEAT, .seq = ++link->seq};
            s_self_send_link (self, link->identity, &beat);
        }
    }
    for (link_t *link = (link_t *) zlist_first (silent); link;
         link = (link_t *) zlist_next (silent)) {
        char why [96];
        snprintf (why, sizeof (why), "silent for %" PRId64 " ms", now - link->heard);
        s_self_drop_link (self, link, why);
    }
    zlist_destroy (&silent);
}

static void
s_self_handle_worker (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->workers);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    if (!identity || zmsg_size (msg) == 0) {
        zframe_destroy (&identity);
        zmsg_destroy (&msg);
        return;
    }
    if (zframe_streq (zmsg_first (msg), "READY")) {
        zlist_append (self->idle, identity);
        s_dispatch (self);
    }
    else {
        s_self_result (self, &msg);
        zframe_destroy (&identity);
    }
    zmsg_destroy (&msg);
}

static void
s_self_handle_jobs (self_t *self)
{
    zframe_t *job = zframe_recv (self->jobs);
    if (!job)
        return;
    char key [32];
    s_job_key (job, key, sizeof (key));
    pending_t *pending = (pending_t *) zmalloc (sizeof (pending_t));
    assert (pending);
    pending->job = zframe_dup (job);
    zhashx_update (self->pending, key, pending);
    zlist_append (self->queue, job);
    s_dispatch (self);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "REQUEUE")) {
        s_self_requeue (self, "L");
        s_dispatch (self);
    }
    else if (streq (command, "STATS") || streq (command, "LINKS")) {
        size_t queued = 0;
        for (pending_t *pending = (pending_t *) zhashx_first (self->pending); pending;
             pending = (pending_t *) zhashx_next (self->pending))
            queued += !*pending->owner;
        size_t in_flight = zhashx_size (self->pending) - queued;
        if (streq (command, "STATS"))
            zstr_sendf (self->pipe, "STATS %zu %zu %zu", queued, in_flight,
                        zlist_size (self->idle));
        else {
            size_t remote_workers = 0;
            for (link_t *link = (link_t *) zhashx_first (self->link_table); link;
                 link = (link_t *) zhashx_next (self->link_table))
                remote_workers += link->workers;
            zstr_sendf (self->pipe, "LINKS %zu %zu %zu %zu %" PRIu64 " %" PRIu64 " %d",
                        zhashx_size (self->link_table), remote_workers, queued, in_flight,
                        self->duplicates, self->requeued, self->port > 0 ? self->port : 0);
        }
    }
    else
        zsys_error ("dispatcher: unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
dispatcher_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (dispatcher_args_t *) args);
    bool started = !*((dispatcher_args_t *) args)->error;
    zsock_signal (pipe, started ? 0 : 1);
    while (started && !self->terminated) {
        int timeout = self->links ? DISPATCHER_HEARTBEAT_MS : -1;
        void *which = zpoller_wait (self->poller, timeout);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->workers)
            s_self_handle_worker (self);
        else if (which == self->jobs)
            s_self_handle_jobs (self);
        else if (which && which == self->links)
            s_self_handle_link (self);
        else if (which && which == self->watch) {
            char endpoint [256];
            if (curve_auth_refused (self->watch, endpoint, sizeof (endpoint)))
                zsys_warning ("dispatcher: a worker was refused at %s: its public key is not "
                              "in --curve-authorized (or it is no CURVE client of this "
                              "certificate)",
                              endpoint);
        }
        else if (which)
            s_self_handle_pool (self, (zsock_t *) which);
        else if (zpoller_terminated (self->poller))
            break;
        s_self_beat (self);
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _dispatcher_t {
    zactor_t *actor;    //  the only one to use its pipe
};

dispatcher_t *
dispatcher_new (dispatcher_args_t *args)
{
    assert (args);
    //  A start that fails (a --listen port taken) says why in args->error.
    zactor_t *actor = actor_start (dispatcher_actor, args, args->error, sizeof (args->error),
                                   "dispatcher");
    if (!actor)
        return NULL;
    dispatcher_t *self = (dispatcher_t *) zmalloc (sizeof (dispatcher_t));
    assert (self);
    self->actor = actor;
    return self;
}

int
dispatcher_stats (dispatcher_t *self, dispatcher_stats_t *stats)
{
    assert (self && stats);
    memset (stats, 0, sizeof (*stats));
    zstr_send (self->actor, "LINKS");
    char *answer = zstr_recv (self->actor);
    int rc = answer
                     && sscanf (answer, "LINKS %zu %zu %zu %zu %" SCNu64 " %" SCNu64 " %d",
                                &stats->links, &stats->remote_workers, &stats->queued,
                                &stats->in_flight, &stats->duplicates, &stats->requeued,
                                &stats->port)
                            == 7
                 ? 0
                 : -1;
    zstr_free (&answer);
    return rc;
}

void
dispatcher_requeue (dispatcher_t *self)
{
    assert (self);
    zstr_send (self->actor, "REQUEUE");
}

void
dispatcher_destroy (dispatcher_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

//  REQUEUE: the job of a worker that left goes to the next worker that is READY, once.
static void
s_test_requeue (void)
{
    dispatcher_args_t args = {.workers = "inproc://dispatcher-test-workers-3",
                              .jobs = "inproc://dispatcher-test-jobs-3"};
    zactor_t *dispatcher = zactor_new (dispatcher_actor, &args);
    assert (dispatcher);
    zsock_t *head = zsock_new_pair (">inproc://dispatcher-test-jobs-3");
    zsock_t *gone = zsock_new_dealer (">inproc://dispatcher-test-workers-3");
    zsock_set_rcvtimeo (gone, 2000);
    zstr_send (gone, "READY");
    job_t job = {.id = 41, .kind = JOB_BLOCK, .number = 141};
    zframe_t *frame = job_encode (&job);
    zframe_send (&frame, head, 0);
    frame = zframe_recv (gone);
    assert (frame && job_decode (frame, &job) == 0 && job.id == 41);
    zframe_destroy (&frame);
    zsock_destroy (&gone);
    zstr_send (dispatcher, "REQUEUE");
    zsock_t *next = zsock_new_dealer (">inproc://dispatcher-test-workers-3");
    zsock_set_rcvtimeo (next, 2000);
    zstr_send (next, "READY");
    frame = zframe_recv (next);
    assert (frame && job_decode (frame, &job) == 0 && job.id == 41);
    zframe_destroy (&frame);
    //  Handed out once: nothing more in flight but the job at next.
    zstr_send (dispatcher, "STATS");
    char *stats = zstr_recv (dispatcher);
    assert (stats && streq (stats, "STATS 0 1 0"));
    zstr_free (&stats);
    zsock_destroy (&next);
    zsock_destroy (&head);
    zactor_destroy (&dispatcher);
}

//  Two fake workers and a fake head poller: every job is handed out once, results come
//  back to the head poller, and a busy worker gets no second job.
void
dispatcher_test (bool verbose)
{
    (void) verbose;
    dispatcher_args_t args = {.workers = "inproc://dispatcher-test-workers",
                              .jobs = "inproc://dispatcher-test-jobs"};
    zactor_t *dispatcher = zactor_new (dispatcher_actor, &args);
    assert (dispatcher);
    zsock_t *head = zsock_new_pair (">inproc://dispatcher-test-jobs");
    zsock_t *worker_a = zsock_new_dealer (">inproc://dispatcher-test-workers");
    zsock_t *worker_b = zsock_new_dealer (">inproc://dispatcher-test-workers");
    zsock_set_rcvtimeo (worker_a, 2000);
    zsock_set_rcvtimeo (worker_b, 2000);
    zsock_set_rcvtimeo (head, 2000);
    for (uint64_t id = 1; id <= 3; id++) {
        job_t job = {.id = id, .kind = JOB_BLOCK, .number = 100 + id};
        zframe_t *frame = job_encode (&job);
        zframe_send (&frame, head, 0);
    }
    zstr_send (worker_a, "READY");
    zstr_send (worker_b, "READY");
    job_t job_a, job_b;
    zframe_t *frame = zframe_recv (worker_a);
    assert (frame && job_decode (frame, &job_a) == 0);
    zframe_destroy (&frame);
    frame = zframe_recv (worker_b);
    assert (frame && job_decode (frame, &job_b) == 0);
    zframe_destroy (&frame);
    assert (job_a.id != job_b.id && job_a.id <= 2 && job_b.id <= 2);
    //  The third job may still be on its way to the dispatcher: ask until it is queued.
    char *stats = NULL;
    for (int attempt = 0; attempt < 100; attempt++) {
        zstr_free (&stats);
        zstr_send (dispatcher, "STATS");
        stats = zstr_recv (dispatcher);
        if (streq (stats, "STATS 1 2 0"))
            break;
        zclock_sleep (10);
    }
    assert (streq (stats, "STATS 1 2 0"));
    zstr_free (&stats);

    //  Worker a answers; its result reaches the head poller; it gets job 3 only once it
    //  says READY again.
    result_t result = {
        .job_id = job_a.id, .kind = JOB_BLOCK, .number = job_a.number, .status = RESULT_NOT_FOUND};
    zmsg_t *msg = result_encode (&result, NULL);
    zmsg_send (&msg, worker_a);
    msg = zmsg_recv (head);
    result_t copy;
    assert (msg && result_decode (msg, &copy) == 0 && copy.job_id == job_a.id);
    zmsg_destroy (&msg);
    zsock_set_rcvtimeo (worker_a, 100);
    frame = zframe_recv (worker_a);
    assert (frame == NULL);
    zsock_set_rcvtimeo (worker_a, 2000);
    zstr_send (worker_a, "READY");
    frame = zframe_recv (worker_a);
    assert (frame && job_decode (frame, &job_a) == 0 && job_a.id == 3);
    zframe_destroy (&frame);
    //  Worker b, still busy, has nothing more.
    zsock_set_rcvtimeo (worker_b, 100);
    frame = zframe_recv (worker_b);
    assert (frame == NULL);

    //  The head poller leaves (it stops first) while worker b still works: its result
    //  cannot be handed on, yet the dispatcher stops when told to.
    zsock_destroy (&head);
    result.job_id = job_b.id;
    result.number = job_b.number;
    msg = result_encode (&result, NULL);
    zmsg_send (&msg, worker_b);
    zclock_sleep (2 * DISPATCHER_SEND_RETRY_MS);
    int64_t stopping = zclock_mono ();
    zactor_destroy (&dispatcher);
    assert (zclock_mono () - stopping < 10 * DISPATCHER_SEND_RETRY_MS);
    zsock_destroy (&worker_a);
    zsock_destroy (&worker_b);

    //  The facades: a worker started with fetch_worker_new (no key pool: READY at once)
    //  becomes the idle worker of a dispatcher started with dispatcher_new.
    dispatcher_args_t facade_args = {.workers = "inproc://dispatcher-test-workers-2",
                                     .jobs = "inproc://dispatcher-test-jobs-2"};
    dispatcher_t *facade = dispatcher_new (&facade_args);
    assert (facade);
    fetch_worker_t *worker = fetch_worker_new (
        fetch_worker_args_new (facade_args.workers, "http://127.0.0.1:9", "test", 0, 1000));
    assert (worker);
    for (int attempt = 0; attempt < 100; attempt++) {
        zstr_free (&stats);
        zstr_send (facade->actor, "STATS");
        stats = zstr_recv (facade->actor);
        if (streq (stats, "STATS 0 0 1"))
            break;
        zclock_sleep (10);
    }
    assert (streq (stats, "STATS 0 0 1"));
    zstr_free (&stats);
    fetch_worker_destroy (&worker);
    fetch_worker_destroy (&worker);
    dispatcher_destroy (&facade);
    dispatcher_destroy (&facade);
    assert (!worker && !facade);
    s_test_requeue ();
}
