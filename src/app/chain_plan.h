/*  chain_plan: what one chain needs before its actors start: each worker's provider, the
    keys it may lease from the pool (secrets resolved up front, so a missing one is a usage
    error before anything runs), the cost table of its budgets, the chain id and name, and
    where to start from the checkpoint. Secrets live only here and in the worker URLs made
    from them, wiped when the plan (or the worker) is destroyed. */
#ifndef CHAIN_PLAN_H_INCLUDED
#define CHAIN_PLAN_H_INCLUDED

#include "evmtap.h"
#include "cost_table.h"
#include "fetch_worker.h"
#include "block.h"
#include "chain_probe.h"
#include "checkpoint.h"
#include "options.h"
#include "worker_link.h"

typedef struct {
    const char *url_template;    //  borrowed from the options ({key} not filled)
    char provider [128];         //  host[:port] for logs
    bool pooled;                 //  the URL needs a key: the worker leases one
} chain_worker_t;

typedef struct {
    chain_options_t *options;    //  borrowed
    char name [64];              //  topic prefix
    uint64_t chain_id;
    chain_worker_t *workers;
    size_t worker_count;
    char **secrets;         //  per options->keys, NULL when no worker needs keys
    cost_table_t *costs;    //  the chain's cost table (--key-costs)
    int64_t start;          //  first block to publish, OPTIONS_UNSET: the head
    char parent_hash [BLOCK_HASH_SIZE];
    block_window_t *published;    //  the checkpoint's recent blocks, for the reorg walk
} chain_plan_t;

//  Resolves the workers' providers and keys' secrets and the cost table. Returns NULL with
//  the reason in err (a key without a secret, a bad cost table: exit 2).
chain_plan_t *chain_plan_new (chain_options_t *options, const char *secrets_dir, char *err,
                              size_t err_size);
void chain_plan_destroy (chain_plan_t **self_p);

//  Asks the first worker's provider for the chain id; with keys, under a lease from the
//  pool at keypool and journaled like any request. Retries with backoff until it has an
//  answer; returns 0, or -1 when should_stop(arg) said so first.
int chain_plan_probe (chain_plan_t *self, const char *keypool, int timeout_ms,
                      bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id);

//  As chain_plan_probe, for any query of the probe (chain_probe.h).
int chain_plan_ask (chain_plan_t *self, const char *keypool, int timeout_ms,
                    bool (*should_stop) (void *arg), void *arg, chain_probe_query_t *query);

//  The worker number of the decoder's proxy lookups: on the first worker's provider, with a
//  holder of its own (the numbers from worker_count up are the workers `ctl SCALE` adds).
#define CHAIN_PLAN_PROXY_WORKER SIZE_MAX

//  The arguments of worker number `worker` (for fetch_worker_actor, which takes them), or
//  of CHAIN_PLAN_PROXY_WORKER.
fetch_worker_args_t *chain_plan_worker_args (chain_plan_t *self, size_t worker,
                                             const char *dispatcher, const char *keypool,
                                             int timeout_ms);

//  The WELCOME a remote worker gets (worker_link.h): the chain's URL templates and key
//  names (never a secret) and its fetch settings. Its strings are the options' and
//  items', which must hold OPTIONS_MAX_RPC + OPTIONS_MAX_KEYS.
void chain_plan_welcome (chain_plan_t *self, int timeout_ms, worker_link_item_t *items,
                         worker_link_t *welcome);

//  Sets the chain id (checked against the options) and the name. Returns 0 or -1 with the
//  reason in err.
int chain_plan_set_chain_id (chain_plan_t *self, uint64_t chain_id, char *err, size_t err_size);

//  Decides the first block: after the checkpoint when there is one, else --from, else the
//  head, and reads the checkpoint's recent blocks. Returns 0, or -1 on a store error.
int chain_plan_set_start (chain_plan_t *self, checkpoint_t *checkpoint);

//  After chain_plan_set_start: checks that the node serves the chain the checkpoint holds
//  under this name (its chain id and genesis hash, recorded on the first start; then one
//  eth_getBlockByNumber of block 0) and still has the checkpointed block's number (one
//  more; another hash there is a reorg while evmtap was down, which the head poller walks
//  back). Returns EVMTAP_EXIT_OK; EVMTAP_EXIT_USAGE (another chain), EVMTAP_EXIT_FAILURE (no
//  block at the checkpointed number, or a store error) with the reason in err;
//  EVMTAP_EXIT_UNDRAINED when should_stop(arg) said so first.
int chain_plan_check_identity (chain_plan_t *self, checkpoint_t *checkpoint, const char *keypool,
                               int timeout_ms, bool (*should_stop) (void *arg), void *arg,
                               char *err, size_t err_size);

#endif
