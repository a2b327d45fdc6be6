/*  fetch_worker: the arguments of a fetch worker actor (see fetch_worker.c). */
#ifndef FETCH_WORKER_H_INCLUDED
#define FETCH_WORKER_H_INCLUDED

#include "evmtap.h"

typedef struct {
    char *dispatcher;      //  endpoint of the chain's dispatcher (workers connect)
    char *url;             //  provider URL with the key's secret filled in; wiped on exit
    char *provider;        //  provider name for logs (host[:port]), never the URL
    char *key_name;        //  pseudo-name of the key held, or NULL for a keyless node
    double key_rps;        //  per-key requests per second, 0 = unlimited
    int timeout_ms;        //  per HTTP request
    int attempts;          //  tries per job before answering RESULT_FAILED
} fetch_worker_args_t;

//  Makes args the actor takes over (it frees them when it leaves): every string copied.
fetch_worker_args_t *fetch_worker_args_new (const char *dispatcher, const char *url,
                                            const char *provider, const char *key_name,
                                            double key_rps, int timeout_ms);

void fetch_worker_actor (zsock_t *pipe, void *args);
void fetch_worker_test (bool verbose);

#endif
