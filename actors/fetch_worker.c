/*  fetch_worker: placeholder until the actor lands. */
#include "actors.h"

void
fetch_worker_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
}

void
fetch_worker_test (bool verbose)
{
    (void) verbose;
}
