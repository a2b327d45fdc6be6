/*  stage: sockets and backpressure of a pipeline stage (see stage.h). */
#include "evmtap.h"
#include "stage.h"

//  While the output is full, how often it is looked at again.
#define STAGE_RETRY_MS 20

struct _stage_t {
    zsock_t *pipe;
    zsock_t *input;          //  PULL, bound
    zsock_t *output;         //  PUSH, connected
    zpoller_t *poller;       //  pipe and input
    zpoller_t *pipe_only;    //  pipe alone, while the output is full
};

stage_t *
stage_new (const char *name, zsock_t *pipe, const char *endpoint, const char *next)
{
    stage_t *self = (stage_t *) zmalloc (sizeof (stage_t));
    assert (self);
    self->pipe = pipe;
    self->input = zsock_new (ZMQ_PULL);
    self->output = zsock_new (ZMQ_PUSH);
    assert (self->input && self->output);
    zsock_set_rcvhwm (self->input, STAGE_QUEUE_HWM);
    zsock_set_sndhwm (self->output, STAGE_QUEUE_HWM);
    if (zsock_attach (self->output, next, false) || zsock_bind (self->input, "%s", endpoint) < 0) {
        zsys_error ("%s: cannot bind %s or reach the next stage at %s", name, endpoint, next);
        stage_destroy (&self);
        return NULL;
    }
    self->poller = zpoller_new (self->pipe, self->input, NULL);
    self->pipe_only = zpoller_new (self->pipe, NULL);
    return self;
}

void
stage_destroy (stage_t **self_p)
{
    assert (self_p);
    stage_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zpoller_destroy (&self->pipe_only);
    zsock_destroy (&self->input);
    zsock_destroy (&self->output);
    free (self);
    *self_p = NULL;
}

zsock_t *
stage_input (stage_t *self)
{
    return self->input;
}

zsock_t *
stage_output (stage_t *self)
{
    return self->output;
}

zsock_t *
stage_wait (stage_t *self)
{
    while (true) {
        bool room = zsock_events (self->output) & ZMQ_POLLOUT;
        zpoller_t *poller = room ? self->poller : self->pipe_only;
        zsock_t *which = (zsock_t *) zpoller_wait (poller, room ? -1 : STAGE_RETRY_MS);
        if (which || zpoller_terminated (poller))
            return which;
    }
}

//  Plays the stage's owner: connects to its pipe, says PING after 100 ms.
static void
s_late_ping (zsock_t *actor_pipe, void *args)
{
    (void) args;
    zsock_t *command = zsock_new_pair (">inproc://stage-test-pipe");
    zsock_signal (actor_pipe, 0);
    zclock_sleep (100);
    zstr_send (command, "PING");
    char *term = zstr_recv (actor_pipe);
    zstr_free (&term);
    zsock_destroy (&command);
}

//  A stage whose next one does not read: it takes as much input as the output queue holds,
//  then reads no more, while its pipe still answers; once the next one reads, input flows.
void
stage_test (bool verbose)
{
    (void) verbose;
    zsock_t *pipe = zsock_new_pair ("@inproc://stage-test-pipe");
    zsock_t *next = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (next, 1);
    assert (zsock_bind (next, "inproc://stage-test-next") == 0);
    assert (!stage_new ("test", pipe, "bogus://", ">inproc://stage-test-next"));
    stage_t *stage = stage_new ("test", pipe, "inproc://stage-test", ">inproc://stage-test-next");
    assert (stage);
    zsock_t *source = zsock_new_push (">inproc://stage-test");
    zsock_set_sndtimeo (source, 0);
    //  Feed until the source cannot send: the stage's and the next one's queues are full.
    int passed = 0;
    for (int sent = 0; sent < 100; sent++) {
        zstr_send (source, "m");
        zsock_t *which = stage_wait (stage);
        if (which != stage_input (stage))
            break;
        char *message = zstr_recv (which);
        zstr_send (stage_output (stage), message);
        zstr_free (&message);
        passed++;
        if (!(zsock_events (stage_output (stage)) & ZMQ_POLLOUT))
            break;
    }
    assert (passed >= 1 && passed < 100);
    //  Full output: the input waiting is not read; the pipe, later, still answers.
    zstr_send (source, "m");
    zactor_t *owner = zactor_new (s_late_ping, NULL);
    int64_t started = zclock_mono ();
    assert (stage_wait (stage) == pipe);
    assert (zclock_mono () - started >= 90);
    char *ping = zstr_recv (pipe);
    assert (streq (ping, "PING"));
    zstr_free (&ping);
    //  The next stage reads: the stage goes on.
    for (int index = 0; index < passed; index++) {
        char *message = zstr_recv (next);
        assert (message && streq (message, "m"));
        zstr_free (&message);
    }
    assert (stage_wait (stage) == stage_input (stage));
    zsock_destroy (&source);
    stage_destroy (&stage);
    zsock_destroy (&next);
    zactor_destroy (&owner);
    zsock_destroy (&pipe);
}
