/*  proxy_lookup: the decoder's knowledge of proxy contracts (see proxy_lookup.c): which
    implementation a contract delegates to, asked of a chain's proxy fetch worker when
    unknown or older than the refresh, kept in the data dir, and updated by the proxies'
    Upgraded events. @locality the decoder (its sockets and store are used by one thread). */
#ifndef PROXY_LOOKUP_H_INCLUDED
#define PROXY_LOOKUP_H_INCLUDED

#include "evmtap.h"

typedef struct _proxy_lookup_t proxy_lookup_t;

//  data_dir: where the store lives (NULL: memory only). refresh_blocks: an answer older
//  than this many blocks is asked again (0: never). NULL with the reason in err.
proxy_lookup_t *proxy_lookup_new (const char *data_dir, uint64_t refresh_blocks, char *err,
                                  size_t err_size);
void proxy_lookup_destroy (proxy_lookup_t **self_p);

//  Binds (ROUTER) the endpoint chain's proxy fetch worker connects to. 0, or -1.
int proxy_lookup_add_chain (proxy_lookup_t *self, const char *chain, const char *endpoint);

//  The implementation address (0x, lowercase) behind address on chain at block, or NULL
//  when it is no proxy, the chain has no worker, or the lookup failed (logged). A lookup
//  waits for the worker, but not once interrupt (the actor's pipe) has input. The string
//  is borrowed until the next call.
const char *proxy_lookup_implementation (proxy_lookup_t *self, const char *chain,
                                         const char *address, uint64_t block, zsock_t *interrupt);

//  The proxy at address emitted Upgraded(implementation) at block: from there on it
//  delegates to implementation.
void proxy_lookup_upgraded (proxy_lookup_t *self, const char *chain, const char *address,
                            const char *implementation, uint64_t block);

//  Lookups asked of the workers so far.
uint64_t proxy_lookup_queries (proxy_lookup_t *self);

void proxy_lookup_test (bool verbose);

#endif
