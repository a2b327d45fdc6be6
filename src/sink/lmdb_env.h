/*  lmdb_env: an LMDB environment opened for evmtap's stores (checkpoint, proxy_store): the
    map size, its databases created in one write transaction, MDB_NOTLS because a store is
    opened by main and used by an actor's thread. */
#ifndef LMDB_ENV_H_INCLUDED
#define LMDB_ENV_H_INCLUDED

#include "evmtap.h"
#include <lmdb.h>

//  Opens the environment at path (a directory that exists) and its count databases by
//  names (NULL: the main, unnamed one), created when absent, into dbis. 0 with *env set,
//  or -1 with "path: step: LMDB's error" in err and nothing left open.
int lmdb_env_open (const char *path, size_t map_size, const char *const *names, MDB_dbi *dbis,
                   size_t count, MDB_env **env, char *err, size_t err_size);

void lmdb_env_test (bool verbose);

#endif
