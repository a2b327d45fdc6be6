/*  state_watcher: the state watcher actor (see state_watcher.c), what it watches per chain,
    the provider it calls, and the facade main starts and stops it with. */
#ifndef STATE_WATCHER_H_INCLUDED
#define STATE_WATCHER_H_INCLUDED

#include "evmtap.h"
#include "cost_table.h"
#include "state_call.h"

//  One watcher of the config (chains/<chain>/state/<name>).
typedef struct {
    char *name;              //  the watcher's name
    char address [43];       //  the contract, lowercase 0x hex
    state_call_t **calls;    //  the view calls, in config order
    size_t call_count;
    uint64_t every;    //  every N blocks; 0: when the block touches the contract
} state_watch_t;

//  A chain's watchers and the provider their calls go to.
typedef struct _state_chain_t state_chain_t;

//  A chain named chain (its batches' name) whose calls go to url (a keyless provider; with
//  keys, state_chain_add_key gives the URLs), provider naming it in logs, each request
//  timing out after timeout_ms. multicall: the Multicall3 address to use where it has code,
//  NULL for the canonical one, "" for none (batched eth_call only).
state_chain_t *state_chain_new (const char *chain, const char *url, const char *provider,
                                int timeout_ms, const char *multicall);
void state_chain_destroy (state_chain_t **self_p);
//  Adds a watcher: takes the calls watch->calls points to (the array itself stays the
//  caller's; watch->calls is NULL afterwards) and copies the rest.
void state_chain_add_watch (state_chain_t *self, state_watch_t *watch);
//  Makes the calls lease keys from the pool at keypool as holder, with costs (borrowed:
//  must outlive the actor; NULL one unit a call), a daily budget and key_rps per key.
void state_chain_set_pool (state_chain_t *self, const char *keypool, const char *holder,
                           const cost_table_t *costs, uint64_t key_daily, double key_rps);
//  Adds a key the calls may lease: its pseudo-name and the URL with its secret (copied,
//  wiped on destroy).
void state_chain_add_key (state_chain_t *self, const char *name, const char *url);
//  How many watchers it has.
size_t state_chain_watch_count (state_chain_t *self);

typedef struct {
    const char *endpoint;      //  to bind (PULL): the decoder sends batches here
    const char *broker;        //  the broker's endpoint (PUSH, connect)
    state_chain_t **chains;    //  borrowed while the actor runs
    size_t chain_count;
} state_watcher_args_t;

void state_watcher_actor (zsock_t *pipe, void *args);
void state_watcher_test (bool verbose);

typedef struct _state_watcher_t state_watcher_t;

//  Starts a state watcher, bound once this returns. NULL when it could not start.
state_watcher_t *state_watcher_new (state_watcher_args_t *args);
//  Stops the actor, even in the middle of a call; batches it holds are dropped (they are
//  not checkpointed).
void state_watcher_destroy (state_watcher_t **self_p);
//  The actor's pipe, through which the selftest asks STATS.
zsock_t *state_watcher_socket (state_watcher_t *self);

#endif
