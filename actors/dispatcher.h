/*  dispatcher: a chain's dispatcher actor (see dispatcher.c), its arguments and the facade
    main starts and stops it with. */
#ifndef DISPATCHER_H_INCLUDED
#define DISPATCHER_H_INCLUDED

#include "evmtap.h"

typedef struct {
    const char *workers;    //  endpoint to bind for fetch workers (ROUTER)
    const char *jobs;       //  endpoint to bind for the head poller (PAIR)
} dispatcher_args_t;

void dispatcher_actor (zsock_t *pipe, void *args);
void dispatcher_test (bool verbose);

typedef struct _dispatcher_t dispatcher_t;

//  Starts a dispatcher, bound once this returns (args may go then). NULL when the actor
//  could not be made.
dispatcher_t *dispatcher_new (dispatcher_args_t *args);
//  Stops the actor; jobs it still holds are dropped (the head poller asks for them again).
void dispatcher_destroy (dispatcher_t **self_p);
//  Its figures (STATS): jobs queued, held by a worker, and workers idle. 0, or -1.
int dispatcher_stats (dispatcher_t *self, size_t *queued, size_t *in_flight, size_t *idle);

#endif
