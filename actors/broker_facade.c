/*  broker_facade: the handle main drives the broker with (see broker.h), kept apart from
    the actor in broker.c: its start, its reports as typed events, and the questions it
    asks the actor (LAST, STREAMS) with the reports that come meanwhile kept in order. */
#include "evmtap.h"
#include "broker.h"
#include "actor_start.h"
#include "block.h"
#include "block_msg.h"

struct _broker_t {
    zactor_t *actor;    //  the only one to use its pipe
    zlist_t *queued;    //  reports that came while broker_last waited (zmsg_t), in order
};

broker_t *
broker_new (broker_args_t *args)
{
    assert (args);
    zactor_t *actor = actor_start (broker_actor, args, args->error, sizeof (args->error), "broker");
    if (!actor)
        return NULL;
    broker_t *self = (broker_t *) zmalloc (sizeof (broker_t));
    assert (self);
    self->actor = actor;
    self->queued = zlist_new ();
    assert (self->queued);
    return self;
}

void
broker_destroy (broker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        zmsg_t *msg;
        while ((msg = (zmsg_t *) zlist_pop ((*self_p)->queued)))
            zmsg_destroy (&msg);
        zlist_destroy (&(*self_p)->queued);
        free (*self_p);
        *self_p = NULL;
    }
}

zsock_t *
broker_socket (broker_t *self)
{
    assert (self);
    return zactor_sock (self->actor);
}

bool
broker_queued (broker_t *self)
{
    assert (self);
    return zlist_size (self->queued) > 0;
}

//  Sends a pipe command and waits for its answer, the message whose first frame is verb:
//  reports that come first wait in queued for broker_recv. NULL when none came in time.
static zmsg_t *
s_ask (broker_t *self, const char *command, const char *verb, int timeout_ms)
{
    zstr_send (self->actor, command);
    zpoller_t *poller = zpoller_new (self->actor, NULL);
    int64_t deadline = zclock_mono () + timeout_ms;
    zmsg_t *answer = NULL;
    while (!answer && zclock_mono () < deadline
           && zpoller_wait (poller, (int) (deadline - zclock_mono ()))) {
        zmsg_t *msg = zmsg_recv (self->actor);
        if (!msg)
            break;
        if (zframe_streq (zmsg_first (msg), verb)) {
            zframe_t *first = zmsg_pop (msg);
            zframe_destroy (&first);
            answer = msg;
        }
        else
            zlist_append (self->queued, msg);
    }
    zpoller_destroy (&poller);
    return answer;
}

int
broker_last (broker_t *self, const char *stream, int timeout_ms, uint64_t *number, char *hash,
             int64_t *first)
{
    assert (self && stream && hash && first);
    *first = -1;
    char command [BLOCK_MSG_CHAIN_SIZE + 8];
    snprintf (command, sizeof (command), "LAST %s", stream);
    zmsg_t *msg = s_ask (self, command, "LAST", timeout_ms);
    if (!msg)
        return -1;
    char *text = zmsg_popstr (msg), *last_hash = zmsg_popstr (msg);
    char *first_text = zmsg_popstr (msg);
    int rc = !text || !last_hash || !first_text ? -1 : streq (text, "-") ? 1 : 0;
    if (rc == 0) {
        *number = strtoull (text, NULL, 10);
        snprintf (hash, BLOCK_HASH_SIZE, "%s", last_hash);
    }
    if (rc >= 0 && !streq (first_text, "-"))
        *first = (int64_t) strtoull (first_text, NULL, 10);
    zstr_free (&text);
    zstr_free (&last_hash);
    zstr_free (&first_text);
    zmsg_destroy (&msg);
    return rc;
}

zlist_t *
broker_streams (broker_t *self, const char *chain, int timeout_ms)
{
    assert (self && chain);
    char command [BLOCK_MSG_CHAIN_SIZE + 8];
    snprintf (command, sizeof (command), "STREAMS %s", chain);
    zmsg_t *msg = s_ask (self, command, "STREAMS", timeout_ms);
    if (!msg)
        return NULL;
    zlist_t *streams = zlist_new ();
    assert (streams);
    zlist_autofree (streams);
    char *name;
    while ((name = zmsg_popstr (msg))) {
        zlist_append (streams, name);
        zstr_free (&name);
    }
    zmsg_destroy (&msg);
    return streams;
}

broker_event_t *
broker_recv (broker_t *self)
{
    assert (self);
    char *verb = NULL, *first = NULL, *second = NULL;
    zmsg_t *msg = zlist_size (self->queued) ? (zmsg_t *) zlist_pop (self->queued)
                                            : zmsg_recv (self->actor);
    if (msg) {
        verb = zmsg_popstr (msg);
        first = zmsg_popstr (msg);
        second = zmsg_popstr (msg);
        zmsg_destroy (&msg);
    }
    broker_event_t *event = NULL;
    if (verb && streq (verb, "FLUSHED") && first) {
        event = (broker_event_t *) zmalloc (sizeof (broker_event_t));
        assert (event);
        event->type = BROKER_FLUSHED;
        event->chain = first;
        first = NULL;
        event->published = second && !streq (second, "-");
        event->number = event->published ? strtoull (second, NULL, 10) : 0;
    }
    else if (verb && streq (verb, "FAILED")) {
        event = (broker_event_t *) zmalloc (sizeof (broker_event_t));
        assert (event);
        event->type = BROKER_FAILED;
        event->reason = first;
        first = NULL;
    }
    zstr_free (&verb);
    zstr_free (&first);
    zstr_free (&second);
    return event;
}

void
broker_event_destroy (broker_event_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zstr_free (&(*self_p)->chain);
        zstr_free (&(*self_p)->reason);
        free (*self_p);
        *self_p = NULL;
    }
}

void
broker_abandon (broker_t *self)
{
    assert (self);
    zstr_send (self->actor, "ABANDON");
}
