/*  fetch_worker: the arguments of a fetch worker actor (see fetch_worker.c). */
#ifndef FETCH_WORKER_H_INCLUDED
#define FETCH_WORKER_H_INCLUDED

#include "evmtap.h"
#include "cost_table.h"
#include "keypool.h"

typedef struct {
    char *dispatcher;    //  endpoint of the chain's dispatcher (workers connect)
    char *url;           //  provider URL with the key's secret filled in; wiped on exit
    char *provider;      //  provider name for logs (host[:port]), never the URL
    double key_rps;      //  per-key requests per second, 0 = unlimited
    int timeout_ms;      //  per HTTP request
    int attempts;        //  tries per job before answering RESULT_FAILED
    int verify;          //  block_proof_mode_t: what is proven of each block (default off)
    //  A pool of keys (keypool set): the worker leases one of keys at a time, never a fixed
    //  one, and url above is not used.
    char *keypool;    //  the key pool's endpoint, NULL: no pool
    char *holder;     //  lease holder for `evmtap keys`: host:pid:chain/w<n>
    size_t key_count;
    char **key_names;            //  pseudo-names the worker may lease
    char **key_urls;             //  the provider URL with each key's secret; wiped on exit
    cost_table_t *costs;         //  units per method (owned); NULL: one unit per call
    uint64_t key_daily;          //  per-key daily budget in units, 0 = unlimited
    int64_t rotate_ms;           //  hand the key back after this long, 0 = never
    uint64_t rotate_requests;    //  or after this many requests, 0 = never
    char *metrics;               //  the metrics actor's endpoint (PUSH), NULL: none
    char *chain;                 //  the chain's name for the metrics' chain label, NULL: none
} fetch_worker_args_t;

//  Makes args the actor takes over (it frees them when it leaves): every string copied.
fetch_worker_args_t *fetch_worker_args_new (const char *dispatcher, const char *url,
                                            const char *provider, double key_rps, int timeout_ms);

//  Makes the worker lease its keys from the pool at endpoint keypool (costs copied).
void fetch_worker_args_set_pool (fetch_worker_args_t *args, const char *keypool, const char *holder,
                                 const cost_table_t *costs, uint64_t key_daily, int64_t rotate_ms,
                                 uint64_t rotate_requests);
//  Adds a key the worker may lease: its pseudo-name and the URL with its secret (copied).
void fetch_worker_args_add_key (fetch_worker_args_t *args, const char *name, const char *url);

void fetch_worker_actor (zsock_t *pipe, void *args);
void fetch_worker_test (bool verbose);

//  The facade main starts and stops a worker with (fetch_worker_facade.c).
typedef struct _fetch_worker_t fetch_worker_t;

//  Starts a worker; it takes args (and frees them when it leaves, or at once when it
//  cannot start). NULL when the actor could not be made.
fetch_worker_t *fetch_worker_new (fetch_worker_args_t *args);
//  Stops the worker, even in the middle of a request; a leased key goes back to the pool.
void fetch_worker_destroy (fetch_worker_t **self_p);

#endif
