/*  cmd_keys: `evmtap keys`, the key pool as the store sees it: one row per key (a key is
    its pseudo-name, whatever chains and hosts use it): the provider hosts its calls went
    to, holder, usage in the last 24 h and state (free, leased, cooling, parked). The store
    holds only names and hosts, so no secret can be printed. */
#include "evmtap.h"
#include "cmd_keys.h"
#include "keypool.h"
#include <inttypes.h>
#include "keypool_store.h"

#define S_DEFAULT_REDIS "redis://127.0.0.1:6379"

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: evmtap keys [--redis URL] [--json]\n\n"
                  "Prints the shared key pool, one row per key: its pseudo-name, the provider\n"
                  "hosts its calls went to (comma-separated), state (free, leased, cooling,\n"
                  "parked), holder (host:pid:chain/worker) and its requests and billed units\n"
                  "over the last 24 h (a sliding window), over every chain. Never a secret.\n\n"
                  "  --redis URL   redis://HOST[:PORT] the evmtap processes share (default\n"
                  "                $EVMTAP_REDIS, else " S_DEFAULT_REDIS ")\n"
                  "  --json        an array of {\"key\", \"provider\", \"state\", \"holder\",\n"
                  "                \"requests_24h\", \"units_24h\"}\n"
                  "  -h, --help    this text\n\n"
                  "Exit status: 0 printed, 1 the store cannot be reached, 2 usage error.\n");
}

int
cmd_keys_main (int argc, char **argv)
{
    const char *redis = getenv ("EVMTAP_REDIS") ? getenv ("EVMTAP_REDIS") : S_DEFAULT_REDIS;
    bool json = false;
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_usage (stdout);
            return EVMTAP_EXIT_OK;
        }
        if (streq (arg, "--json"))
            json = true;
        else if (streq (arg, "--redis") && index + 1 < argc)
            redis = argv [++index];
        else if (strncmp (arg, "--redis=", 8) == 0)
            redis = arg + 8;
        else {
            fprintf (stderr, "evmtap keys: %s: %s (see evmtap keys --help)\n", arg,
                     streq (arg, "--redis") ? "needs a URL" : "unknown argument");
            return EVMTAP_EXIT_USAGE;
        }
    }
    char err [256];
    keypool_store_t *store = keypool_store_new (redis, err, sizeof (err));
    if (!store) {
        fprintf (stderr, "evmtap keys: --redis: %s\n", err);
        return EVMTAP_EXIT_USAGE;
    }
    keypool_key_state_t *states = NULL;
    size_t count = 0;
    if (keypool_store_list (store, &states, &count)) {
        fprintf (stderr, "evmtap keys: %s\n", keypool_store_error (store));
        keypool_store_destroy (&store);
        return EVMTAP_EXIT_FAILURE;
    }
    keypool_store_destroy (&store);
    cJSON *array = json ? cJSON_CreateArray () : NULL;
    if (!json)
        printf ("%-20s %-24s %-8s %-36s %14s %16s\n", "KEY", "PROVIDER", "STATE", "HOLDER",
                "REQUESTS_24H", "UNITS_24H");
    for (size_t index = 0; index < count; index++) {
        keypool_key_state_t *state = &states [index];
        const char *name = state->key;
        const char *provider = state->providers;
        if (json) {
            cJSON *item = cJSON_CreateObject ();
            cJSON_AddStringToObject (item, "key", name);
            cJSON_AddStringToObject (item, "provider", provider);
            cJSON_AddStringToObject (item, "state", state->state);
            if (*state->holder)
                cJSON_AddStringToObject (item, "holder", state->holder);
            else
                cJSON_AddNullToObject (item, "holder");
            cJSON_AddNumberToObject (item, "requests_24h", (double) state->requests_24h);
            cJSON_AddNumberToObject (item, "units_24h", (double) state->units_24h);
            cJSON_AddItemToArray (array, item);
        }
        else {
            char what [48];
            snprintf (what, sizeof (what), "%s", state->state);
            if (state->until_ms > 0)
                snprintf (what, sizeof (what), "%s %" PRId64 "s", state->state,
                          (state->until_ms + 999) / 1000);
            printf ("%-20s %-24s %-8s %-36s %14" PRIu64 " %16" PRIu64 "\n", name, provider, what,
                    *state->holder ? state->holder : "-", state->requests_24h, state->units_24h);
        }
    }
    if (json) {
        char *text = cJSON_PrintUnformatted (array);
        printf ("%s\n", text);
        cJSON_free (text);
        cJSON_Delete (array);
    }
    free (states);
    return EVMTAP_EXIT_OK;
}
