/*  chain_samples: the stored JSON-RPC answers of the shared test data (blocks, receipts,
    single transactions: ../shared/data/blocks, see its README), read for the selftests
    and the bench of the verify layer. */
#ifndef CHAIN_SAMPLES_H_INCLUDED
#define CHAIN_SAMPLES_H_INCLUDED

#include "evmtap.h"

//  Reads the answer at a path below the shared data's blocks/ folder ("mainnet/0.json")
//  and returns the whole document (yours: cJSON_Delete), or NULL when the file is absent
//  or not JSON.
cJSON *chain_samples_load (const char *relative);

//  The answer's result member (borrowed from doc), or NULL.
cJSON *chain_samples_result (cJSON *doc);

//  Names of the answers of a folder below blocks/ whose name starts with a digit (the
//  blocks, "47218.json") or with anything (prefix NULL), sorted; NULL when the folder is
//  absent. Yours: zlist_destroy.
zlist_t *chain_samples_list (const char *folder, bool numbered_only);

void chain_samples_test (bool verbose);

#endif
