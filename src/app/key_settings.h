/*  key_settings: a key's cost table, budgets and rotation, had once. A key is one key
    whatever chains name it: Infura and Alchemy keys serve every network, and the provider
    counts one throughput and one quota for all of them. So a key's settings are declared
    once, in the config file's `keys` section (keys/NAME: costs, rps, daily, rotate,
    rotate_requests), and a chain's key_* settings (file, flags or defaults) give theirs to
    the keys it names that the section leaves unset. Two different values for one key (the
    section and a chain, or two chains) are an error naming both places; so are two keys of
    one chain that differ, since a chain's workers spend one budget in one table. Resolving
    leaves every chain's key_* fields holding its keys' values. */
#ifndef KEY_SETTINGS_H_INCLUDED
#define KEY_SETTINGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "options.h"
#include "settings.h"

//  The index of a key setting (0..OPTIONS_KEY_SETTINGS) by its row, -1 for any other.
int key_settings_index (const setting_t *setting);

//  The chain setting a name of the `keys` section stands for (rps: key_rps), or NULL.
const setting_t *key_settings_by_key_name (const char *name);

//  The names the `keys` section knows, for errors: "costs, rps, daily, rotate, ...".
const char *key_settings_names (void);

//  Checks every key the chains name against the section and the other chains, and gives
//  each chain its keys' values. Returns 0, or -1 with the error in err (exit 2).
int key_settings_resolve (options_t *options, char *err, size_t err_size);

void key_settings_test (bool verbose);

#endif
