/*  worker_relay: the worker side of a remote link (see worker_relay.c): what `evmtap
    worker` starts to join a coordinator, and the facade it drives it with. */
#ifndef WORKER_RELAY_H_INCLUDED
#define WORKER_RELAY_H_INCLUDED

#include "evmtap.h"
#include "worker_link.h"

typedef struct {
    const char *connect;         //  the coordinator's --listen endpoint
    const char *workers;         //  endpoint to bind for the local fetch workers (ROUTER)
    const char *pool;            //  endpoint to bind for their key pool clients, NULL: they
                                 //  lease elsewhere (their own --redis pool)
    const char *worker_id;       //  host:pid for the coordinator's logs
    uint32_t worker_count;       //  local fetch workers
    const char *curve_cert;      //  this worker's secret certificate, NULL: plain
    const char *curve_server;    //  the coordinator's public certificate
    char error [256];            //  out: why the start failed
} worker_relay_args_t;

void worker_relay_actor (zsock_t *pipe, void *args);
void worker_relay_test (bool verbose);

typedef struct _worker_relay_t worker_relay_t;

//  Connects and joins. NULL with the reason in args->error (a bad certificate).
worker_relay_t *worker_relay_new (worker_relay_args_t *args);
//  Waits up to timeout_ms for the coordinator's WELCOME: 0 with it in welcome (clear it
//  with worker_link_clear), 1 refused (the reason in welcome->reason), -1 no answer.
int worker_relay_welcome (worker_relay_t *self, int timeout_ms, worker_link_t *welcome);
//  True once the link is lost (coordinator silent or gone, or it said LEAVE): the caller
//  starts over with a new relay.
bool worker_relay_lost (worker_relay_t *self);
//  Says LEAVE to the coordinator and stops.
void worker_relay_destroy (worker_relay_t **self_p);
//  The actor's pipe, to poll for its LOST event.
zsock_t *worker_relay_sock (worker_relay_t *self);

#endif
