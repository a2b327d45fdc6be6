/*  actor_start: zactor_new for an actor whose start may fail. zactor_new waits for the
    actor's handshake but drops what it signalled, so such an actor writes why it cannot
    start into an error text of its arguments before it signals, and leaves; actor_start
    empties that text first and, when the actor wrote it, collects the actor and returns
    NULL. */
#ifndef ACTOR_START_H_INCLUDED
#define ACTOR_START_H_INCLUDED

#include "evmtap.h"

//  Starts fn with args; error (error_size, in args) is its reason when it did not start,
//  "<what>: cannot start" when zactor_new itself failed. NULL then.
zactor_t *actor_start (zactor_fn *fn, void *args, char *error, size_t error_size, const char *what);

void actor_start_test (bool verbose);

#endif
