/*  control: the control socket of a running coordinator (`evmtap ctl`). It owns the
    ROUTER that clients connect to (CURVE when the endpoint is not local: see curve_auth)
    and the watch of refused clients, which it logs. A request (proto/control.h) goes to
    the pipe for the pipeline, which holds the facades of the other actors and asks them;
    the answer comes back on the pipe and goes to the client that asked. A malformed
    request is refused here.

    Pipe commands:
        $TERM                         leave
        ANSWER client reply           send reply (a control reply frame) to client
    Reports on the pipe:
        REQUEST client request        a well-formed request frame from client
    The facade (control_t, control_actor.h) sends and reads these, so that the pipeline never
    sees them. */
#include "evmtap.h"
#include "control_actor.h"
#include "control.h"
#include "actor_start.h"
#include "curve_auth.h"

typedef struct {
    zsock_t *pipe;
    zsock_t *router;    //  the clients
    zsock_t *watch;     //  CURVE refusals, or NULL
    zpoller_t *poller;
    bool terminated;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->watch);
    zsock_destroy (&self->router);
    free (self);
    *self_p = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, control_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zsock_set_linger (self->router, 0);
    //  A client that gave up is gone: its answer is dropped, never queued for ever.
    zsock_set_sndtimeo (self->router, 0);
    if (args->auth) {
        curve_auth_server (args->auth, self->router);
        self->watch = curve_auth_watch (self->router, "control");
    }
    if (zsock_bind (self->router, "%s", args->endpoint) < 0) {
        snprintf (args->error, sizeof (args->error), "--control %s: cannot bind: %s",
                  args->endpoint, zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    self->poller = zpoller_new (self->pipe, self->router, self->watch, NULL);
    return self;
}

static void
s_refuse (self_t *self, zframe_t **client_p, uint64_t id, const char *why)
{
    control_reply_t reply = {.id = id, .status = CONTROL_REFUSED};
    snprintf (reply.error, sizeof (reply.error), "%s", why);
    zframe_t *frame = control_reply_encode (&reply);
    zframe_send (client_p, self->router, ZFRAME_MORE);
    zframe_send (&frame, self->router, 0);
    zframe_destroy (client_p);
    zframe_destroy (&frame);
}

static void
s_self_handle_client (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *client = zmsg_pop (msg);
    zframe_t *frame = zmsg_pop (msg);
    control_request_t request;
    if (!client || !frame || zmsg_size (msg) || control_request_decode (frame, &request) != 0) {
        zsys_warning ("control: a malformed request was refused");
        if (client)
            s_refuse (self, &client, frame ? msg_first_u64 (frame) : 0, "malformed request");
    }
    else {
        zmsg_t *report = zmsg_new ();
        zmsg_addstr (report, "REQUEST");
        zmsg_append (report, &client);
        zmsg_append (report, &frame);
        zmsg_send (&report, self->pipe);
    }
    zframe_destroy (&client);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
}

static void
s_self_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "ANSWER") && zmsg_size (msg) == 2) {
        zframe_t *client = zmsg_pop (msg);
        zframe_t *reply = zmsg_pop (msg);
        zframe_send (&client, self->router, ZFRAME_MORE);
        zframe_send (&reply, self->router, 0);
        zframe_destroy (&client);
        zframe_destroy (&reply);
    }
    else
        zsys_error ("control: unknown pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_self_handle_watch (self_t *self)
{
    char endpoint [256];
    if (curve_auth_refused (self->watch, endpoint, sizeof (endpoint)))
        zsys_warning ("control: a client was refused at %s: its public key is not in "
                      "--curve-authorized (or it is no CURVE client of this certificate)",
                      endpoint);
}

void
control_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (control_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    while (self && !self->terminated) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->router)
            s_self_handle_client (self);
        else if (self->watch && which == self->watch)
            s_self_handle_watch (self);
        else if (zpoller_terminated (self->poller))
            break;
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _control_t {
    zactor_t *actor;    //  the only one to use its pipe
};

struct _control_call_t {
    zframe_t *client;             //  the client's routing id
    control_request_t request;    //  what it asked
};

control_t *
control_new (control_args_t *args)
{
    assert (args && args->endpoint);
    char what [300];
    snprintf (what, sizeof (what), "--control %s", args->endpoint);
    zactor_t *actor = actor_start (control_actor, args, args->error, sizeof (args->error), what);
    if (!actor)
        return NULL;
    control_t *self = (control_t *) zmalloc (sizeof (control_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
control_destroy (control_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

zsock_t *
control_socket (control_t *self)
{
    assert (self);
    return zactor_sock (self->actor);
}

control_call_t *
control_recv (control_t *self)
{
    assert (self);
    zmsg_t *msg = zmsg_recv (self->actor);
    if (!msg)
        return NULL;
    char *report = zmsg_popstr (msg);
    control_call_t *call = NULL;
    if (report && streq (report, "REQUEST") && zmsg_size (msg) == 2) {
        call = (control_call_t *) zmalloc (sizeof (control_call_t));
        assert (call);
        call->client = zmsg_pop (msg);
        zframe_t *frame = zmsg_pop (msg);
        int rc = control_request_decode (frame, &call->request);
        assert (rc == 0);    //  the actor decoded it already
        zframe_destroy (&frame);
    }
    zstr_free (&report);
    zmsg_destroy (&msg);
    return call;
}

const control_request_t *
control_call_request (control_call_t *call)
{
    assert (call);
    return &call->request;
}

void
control_answer (control_t *self, control_call_t **call_p, cJSON *answer, const char *error)
{
    assert (self && call_p && *call_p);
    control_call_t *call = *call_p;
    control_reply_t reply = {.id = call->request.id,
                             .status = error ? CONTROL_REFUSED : CONTROL_OK};
    if (error)
        snprintf (reply.error, sizeof (reply.error), "%s", error);
    else {
        reply.answer = answer ? cJSON_PrintUnformatted (answer) : NULL;
        reply.answer_size = reply.answer ? strlen (reply.answer) : 0;
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "ANSWER");
    zmsg_append (msg, &call->client);
    zframe_t *frame = control_reply_encode (&reply);
    zmsg_append (msg, &frame);
    zmsg_send (&msg, self->actor);
    if (reply.answer)
        cJSON_free (reply.answer);
    cJSON_Delete (answer);
    free (call);
    *call_p = NULL;
}

//  --------------------------------------------------------------------------
//  Selftest: a request goes to the pipe and its answer to the client; a malformed one is
//  refused by the actor; a refusal carries its reason.

void
control_test (bool verbose)
{
    if (verbose)
        printf (" * control: ");
    control_args_t args = {.endpoint = "inproc://control-test"};
    control_t *control = control_new (&args);
    assert (control);
    control_args_t again = {.endpoint = "inproc://control-test"};
    assert (control_new (&again) == NULL && strstr (again.error, "cannot bind"));

    zsock_t *client = zsock_new_dealer (">inproc://control-test");
    zsock_set_rcvtimeo (client, 5000);
    control_request_t request = {.id = 7, .verb = "SCALE", .count = 3};
    zframe_t *frame = control_request_encode (&request);
    zframe_send (&frame, client, 0);
    control_call_t *call = control_recv (control);
    assert (call);
    assert (control_call_request (call)->id == 7 && control_call_request (call)->count == 3);
    assert (streq (control_call_request (call)->verb, "SCALE"));
    cJSON *answer = cJSON_CreateObject ();
    cJSON_AddNumberToObject (answer, "workers", 3);
    control_answer (control, &call, answer, NULL);
    assert (call == NULL);
    frame = zframe_recv (client);
    control_reply_t reply;
    assert (frame && control_reply_decode (frame, &reply) == 0);
    assert (reply.id == 7 && reply.status == CONTROL_OK);
    assert (streq (reply.answer, "{\"workers\":3}"));
    control_reply_clear (&reply);
    zframe_destroy (&frame);

    request = (control_request_t) {.id = 8, .verb = "BACKFILL", .from = 9, .to = 3};
    frame = control_request_encode (&request);
    zframe_send (&frame, client, 0);
    call = control_recv (control);
    control_answer (control, &call, NULL, "BACKFILL: 9 is after 3");
    frame = zframe_recv (client);
    assert (frame && control_reply_decode (frame, &reply) == 0);
    assert (reply.id == 8 && reply.status == CONTROL_REFUSED);
    assert (streq (reply.error, "BACKFILL: 9 is after 3"));
    control_reply_clear (&reply);
    zframe_destroy (&frame);

    //  Not a request: refused by the actor, the pipe sees nothing.
    zstr_send (client, "STATUS");
    frame = zframe_recv (client);
    assert (frame && control_reply_decode (frame, &reply) == 0);
    assert (reply.status == CONTROL_REFUSED && streq (reply.error, "malformed request"));
    control_reply_clear (&reply);
    zframe_destroy (&frame);
    zpoller_t *poller = zpoller_new (control_socket (control), NULL);
    assert (zpoller_wait (poller, 100) == NULL);
    zpoller_destroy (&poller);

    zsock_destroy (&client);
    control_destroy (&control);
    control_destroy (&control);
    if (verbose)
        printf ("OK\n");
}
