/*  chain_plan: what one chain needs before its actors start: each worker's provider and
    key (secrets resolved, a key never given to two workers), the chain id and name, and
    where to start from the checkpoint. Secrets live only in the worker URLs held here,
    wiped when the plan is destroyed. */
#ifndef CHAIN_PLAN_H_INCLUDED
#define CHAIN_PLAN_H_INCLUDED

#include "evmtap.h"

typedef struct {
    char *url;                    //  with the secret filled in; never logged
    char provider [128];          //  host[:port] for logs
    const char *key_name;         //  borrowed from the options, or NULL
} chain_worker_t;

typedef struct {
    chain_options_t *options;     //  borrowed
    char name [64];               //  topic prefix
    uint64_t chain_id;
    chain_worker_t *workers;
    size_t worker_count;
    int64_t start;                //  first block to publish, OPTIONS_UNSET: the head
    char parent_hash [BLOCK_HASH_SIZE];
} chain_plan_t;

//  Resolves the workers' providers and keys. Returns NULL with the reason in err (a key
//  without a secret: exit 2).
chain_plan_t *chain_plan_new (chain_options_t *options, const char *secrets_dir, char *err,
                              size_t err_size);
void chain_plan_destroy (chain_plan_t **self_p);

//  Sets the chain id (checked against the options) and the name. Returns 0 or -1 with the
//  reason in err.
int chain_plan_set_chain_id (chain_plan_t *self, uint64_t chain_id, char *err, size_t err_size);

//  Decides the first block: after the checkpoint when there is one, else --from, else the
//  head. Returns 0, or -1 on a store error.
int chain_plan_set_start (chain_plan_t *self, checkpoint_t *checkpoint);

#endif
