/*  fetch_worker_facade: the handle main starts and stops a fetch worker with (see
    fetch_worker.h), kept apart from the actor in fetch_worker.c so that file stays small.
    A worker takes no command but $TERM, so the handle only starts and stops it; its
    selftest is in dispatcher.c, whose workers these are. */
#include "evmtap.h"
#include "fetch_worker.h"

struct _fetch_worker_t {
    zactor_t *actor;    //  the only one to use its pipe
};

fetch_worker_t *
fetch_worker_new (fetch_worker_args_t *args)
{
    assert (args);
    zactor_t *actor = zactor_new (fetch_worker_actor, args);
    if (!actor)
        return NULL;
    fetch_worker_t *self = (fetch_worker_t *) zmalloc (sizeof (fetch_worker_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
fetch_worker_destroy (fetch_worker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}
