/*  dispatcher: a chain's dispatcher actor (see dispatcher.c), its arguments and the facade
    main starts and stops it with. */
#ifndef DISPATCHER_H_INCLUDED
#define DISPATCHER_H_INCLUDED

#include "evmtap.h"
#include "curve_auth.h"
#include "worker_link.h"

typedef struct {
    const char *workers;    //  endpoint to bind for fetch workers (ROUTER)
    const char *jobs;       //  endpoint to bind for the head poller (PAIR)
    //  Remote workers (worker_link.h): all NULL/0 for none.
    const char *listen;              //  endpoint to bind for `evmtap worker` links
    const worker_link_t *welcome;    //  the chain's settings a joining worker gets
    const char *keypool;             //  the pool remote workers' leases are relayed to
    bool redis;                      //  the pool arbitrates through Redis (a worker may too)
    curve_auth_t *auth;              //  CURVE for the links (lent), NULL: plain
    char error [256];                //  out: why the start failed
} dispatcher_args_t;

void dispatcher_actor (zsock_t *pipe, void *args);
void dispatcher_test (bool verbose);

typedef struct _dispatcher_t dispatcher_t;

//  Starts a dispatcher, bound once this returns (args may go then). NULL when the actor
//  could not be made.
dispatcher_t *dispatcher_new (dispatcher_args_t *args);
//  The jobs and the remote side, as the pipe's LINKS answers them.
typedef struct {
    size_t links;             //  remote worker processes joined
    size_t remote_workers;    //  their fetch workers, as each said at its join
    size_t queued;            //  jobs waiting for a worker
    size_t in_flight;         //  jobs held by a worker, local or remote
    uint64_t duplicates;      //  results of jobs already answered, dropped
    uint64_t requeued;        //  jobs taken back from a lost or leaving link
    int port;                 //  the port --listen bound, 0 without
} dispatcher_stats_t;

//  0, or -1 when the actor did not answer.
int dispatcher_stats (dispatcher_t *self, dispatcher_stats_t *stats);
//  Stops the actor; jobs it still holds are dropped (the head poller asks for them again).
void dispatcher_destroy (dispatcher_t **self_p);
//  Some of its workers were stopped: the jobs in flight are handed out again.
void dispatcher_requeue (dispatcher_t *self);

#endif
