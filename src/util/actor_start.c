/*  actor_start: an actor's start, failure included (see actor_start.h). */
#include "evmtap.h"
#include "actor_start.h"

zactor_t *
actor_start (zactor_fn *fn, void *args, char *error, size_t error_size, const char *what)
{
    assert (fn && error && error_size > 0 && what);
    *error = 0;
    zactor_t *actor = zactor_new (fn, args);
    //  The actor has left after its handshake: only the shim's last signal is left.
    if (actor && *error)
        zactor_destroy (&actor);
    else if (!actor)
        snprintf (error, error_size, "%s: cannot start", what);
    return actor;
}

//  --------------------------------------------------------------------------
//  Selftest

typedef struct {
    bool fail;
    char error [64];
} s_test_args_t;

static void
s_test_actor (zsock_t *pipe, void *args)
{
    s_test_args_t *test = (s_test_args_t *) args;
    if (test->fail) {
        snprintf (test->error, sizeof (test->error), "cannot bind inproc://x");
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    char *command = zstr_recv (pipe);
    assert (command && streq (command, "$TERM"));
    zstr_free (&command);
}

void
actor_start_test (bool verbose)
{
    if (verbose)
        printf (" * actor_start: ");
    //  A start that works, with an error text left from before: it is emptied.
    s_test_args_t args = {false, "stale"};
    zactor_t *actor = actor_start (s_test_actor, &args, args.error, sizeof (args.error), "test");
    assert (actor && *args.error == 0);
    zactor_destroy (&actor);
    //  One that fails: NULL, its reason kept, the actor collected.
    args.fail = true;
    actor = actor_start (s_test_actor, &args, args.error, sizeof (args.error), "test");
    assert (!actor && streq (args.error, "cannot bind inproc://x"));
    if (verbose)
        printf ("OK\n");
}
