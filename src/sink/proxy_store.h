/*  proxy_store: what the decoder learnt of proxy contracts, kept in the data dir
    (<data-dir>/proxies, an LMDB environment of its own) so that a restart asks the
    provider again only for what it never asked: per chain and contract address, the
    implementation it delegates to ("" when it is no proxy) and the block at which that was
    read. @locality the decoder. */
#ifndef PROXY_STORE_H_INCLUDED
#define PROXY_STORE_H_INCLUDED

#include "evmtap.h"

typedef struct _proxy_store_t proxy_store_t;

//  Opens (creating) the store under data_dir. NULL with the reason in err.
proxy_store_t *proxy_store_open (const char *data_dir, char *err, size_t err_size);
void proxy_store_destroy (proxy_store_t **self_p);

//  Reads what is known of address (0x and 40 lowercase hex digits) on chain: 0 with the
//  implementation (43 bytes, "" for none) and the block it was read at, 1 when nothing is
//  known, -1 with the reason in err.
int proxy_store_get (proxy_store_t *self, const char *chain, const char *address,
                     char *implementation, uint64_t *block, char *err, size_t err_size);

//  Records it (implementation "" for none). 0, or -1 with the reason in err.
int proxy_store_put (proxy_store_t *self, const char *chain, const char *address,
                     const char *implementation, uint64_t block, char *err, size_t err_size);

void proxy_store_test (bool verbose);

#endif
