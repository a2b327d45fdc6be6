/*  state_settings: the state watchers of the config file (chains/NAME/state/WATCHER with
    address, abi, call (repeatable) and trigger: touch | every N), read into the chain's
    options, and made into what the state watcher actor runs: each watcher's ABI loaded
    (its file, or the one --abis binds to the address) and each call parsed against it.
    Every error names the file, line and setting (exit 2). */
#ifndef STATE_SETTINGS_H_INCLUDED
#define STATE_SETTINGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "chain_plan.h"
#include "options.h"
#include "state_watcher.h"
#include "zpl.h"

//  Reads a chain's `state` section (node) into chain->state. Returns 0, or -1 with
//  "FILE:LINE: chains/NAME/state/...: reason" in err.
int state_settings_load (chain_options_t *chain, zpl_t *node, char *err, size_t err_size);
//  Frees chain->state.
void state_settings_free (chain_options_t *chain);

//  Loads each watcher's ABI (abi = FILE: as given, else beside the config file, else in
//  the --abis DIR abis; no abi: the file DIR/addresses.json binds to the address) and
//  parses its calls; adds the watchers to into, or only checks them when into is NULL.
//  Returns 0, or -1 with the place and the reason in err.
int state_settings_watches (const chain_options_t *chain, const char *abis, const char *config_file,
                            state_chain_t *into, char *err, size_t err_size);

//  The state watcher's chain for a planned chain (its name and chain id set) with
//  watchers: its calls go to the first provider, under leases of the chain's keys from the
//  pool at keypool when the URL needs one. Returns NULL with the reason in err.
state_chain_t *state_settings_chain (chain_plan_t *plan, const options_t *options,
                                     const char *keypool, char *err, size_t err_size);

void state_settings_test (bool verbose);

#endif
