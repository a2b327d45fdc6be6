/*  dispatcher: placeholder until the actor lands. */
#include "actors.h"

void
dispatcher_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
}

void
dispatcher_test (bool verbose)
{
    (void) verbose;
}
