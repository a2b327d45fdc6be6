/*  metrics_server: the metrics actor (see metrics_server.c), its arguments and its facade,
    through which main starts it, learns its port and stops it. */
#ifndef METRICS_SERVER_H_INCLUDED
#define METRICS_SERVER_H_INCLUDED

#include "evmtap.h"

//  Where the actors send their metric updates (PUSH, connect): proto/metric.h.
#define METRICS_SERVER_ENDPOINT "inproc://evmtap-metrics"

typedef struct {
    const char *listen;      //  HOST:PORT served over HTTP (port 0: any free one)
    const char *endpoint;    //  where to bind the PULL socket updates arrive on; NULL:
                             //  METRICS_SERVER_ENDPOINT
    char error [256];        //  out: why the start failed, set before the actor signals
} metrics_server_args_t;

void metrics_server_actor (zsock_t *pipe, void *args);
void metrics_server_test (bool verbose);

typedef struct _metrics_server_t metrics_server_t;

//  Starts the actor, serving once this returns; NULL when it could not (why in
//  args->error, and logged).
metrics_server_t *metrics_server_new (metrics_server_args_t *args);
void metrics_server_destroy (metrics_server_t **self_p);
//  The TCP port served.
int metrics_server_port (metrics_server_t *self);

#endif
