/*  dispatcher: hands a chain's jobs to its fetch workers, one job per worker at a time, in
    the order the head poller sent them, and returns every result to the head poller. It
    knows which job each worker holds, so the jobs in flight can be counted (and, with
    remote workers, re-queued).

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
    Pipe commands:
        $TERM                            leave
        STATS                            -> STATS queued in_flight idle
    Main starts and stops it through the facade (dispatcher_t, dispatcher.h).
*/
#include "evmtap.h"
#include "dispatcher.h"
#include <errno.h>
#include "fetch_worker.h"
#include "job.h"
#include "result.h"

//  While the head poller takes no result, how often the dispatcher looks at its pipe.
#define DISPATCHER_SEND_RETRY_MS 100

typedef struct {
    zsock_t *pipe;
    zsock_t *workers;    //  ROUTER
    zsock_t *jobs;       //  PAIR to the head poller
    zpoller_t *poller;
    zlist_t *queue;         //  job frames not yet handed out
    zlist_t *idle;          //  identities (zframe_t) of free workers
    zhashx_t *in_flight;    //  worker identity (hex) -> job frame it holds
    bool terminated;
} self_t;

static void s_self_handle_pipe (self_t *self);

static void
s_frame_destroy (void **item)
{
    zframe_destroy ((zframe_t **) item);
}

static self_t *
s_self_new (zsock_t *pipe, dispatcher_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->workers = zsock_new (ZMQ_ROUTER);
    self->jobs = zsock_new (ZMQ_PAIR);
    if (zsock_bind (self->workers, "%s", args->workers) < 0
        || zsock_bind (self->jobs, "%s", args->jobs) < 0) {
        zsys_error ("dispatcher: cannot bind %s or %s", args->workers, args->jobs);
        zsock_destroy (&self->workers);
        zsock_destroy (&self->jobs);
        free (self);
        return NULL;
    }
    zsock_set_sndtimeo (self->jobs, DISPATCHER_SEND_RETRY_MS);
    self->queue = zlist_new ();
    self->idle = zlist_new ();
    self->in_flight = zhashx_new ();
    zhashx_set_destructor (self->in_flight, s_frame_destroy);
    self->poller = zpoller_new (self->pipe, self->workers, self->jobs, NULL);
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
    zhashx_destroy (&self->in_flight);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->workers);
    zsock_destroy (&self->jobs);
    free (self);
    *self_p = NULL;
}

//  Hands out queued jobs while there are free workers.
static void
s_dispatch (self_t *self)
{
    while (zlist_size (self->queue) && zlist_size (self->idle)) {
        zframe_t *identity = (zframe_t *) zlist_pop (self->idle);
        zframe_t *job = (zframe_t *) zlist_pop (self->queue);
        char *key = zframe_strhex (identity);
        zhashx_update (self->in_flight, key, zframe_dup (job));
        free (key);
        zframe_send (&identity, self->workers, ZFRAME_MORE);
        zframe_send (&job, self->workers, 0);
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
    char *key = zframe_strhex (identity);
    zhashx_delete (self->in_flight, key);
    free (key);
    if (zframe_streq (zmsg_first (msg), "READY")) {
        zlist_append (self->idle, identity);
        s_dispatch (self);
    }
    else {
        s_self_send_result (self, &msg);
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
    zlist_append (self->queue, job);
    s_dispatch (self);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "STATS"))
        zstr_sendf (self->pipe, "STATS %zu %zu %zu", zlist_size (self->queue),
                    zhashx_size (self->in_flight), zlist_size (self->idle));
    else
        zsys_error ("dispatcher: unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
dispatcher_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (dispatcher_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    while (self && !self->terminated) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->workers)
            s_self_handle_worker (self);
        else if (which == self->jobs)
            s_self_handle_jobs (self);
        else if (zpoller_terminated (self->poller))
            break;
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
    zactor_t *actor = zactor_new (dispatcher_actor, args);
    if (!actor)
        return NULL;
    dispatcher_t *self = (dispatcher_t *) zmalloc (sizeof (dispatcher_t));
    assert (self);
    self->actor = actor;
    return self;
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

//  Two fake workers and a fake head poller: every job is handed out once, results come
//  back to the head poller, and a busy worker gets no second job.
void
dispatcher_test (bool verbose)
{
    (void) verbose;
    dispatcher_args_t args = {"inproc://dispatcher-test-workers", "inproc://dispatcher-test-jobs"};
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
    dispatcher_args_t facade_args = {"inproc://dispatcher-test-workers-2",
                                     "inproc://dispatcher-test-jobs-2"};
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
}

int
dispatcher_stats (dispatcher_t *self, size_t *queued, size_t *in_flight, size_t *idle)
{
    zstr_send (self->actor, "STATS");
    char *stats = zstr_recv (self->actor);
    int rc = stats && sscanf (stats, "STATS %zu %zu %zu", queued, in_flight, idle) == 3 ? 0 : -1;
    zstr_free (&stats);
    return rc;
}
