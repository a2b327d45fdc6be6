/*  state_settings: the config file's state watchers (see state_settings.h). */
#include "evmtap.h"
#include "state_settings.h"
#include <ctype.h>
#include <stdarg.h>
#include <unistd.h>
#include "abi.h"
#include "secrets.h"
#include "state_call.h"

//  A watcher with more calls than this is surely a mistake (they all go out per block).
#define STATE_MAX_CALLS 64

static char *
s_where (zpl_t *node)
{
    char *where = zsys_sprintf ("%s:%d: %s", zpl_file (node), zpl_line (node), zpl_path (node));
    assert (where);
    return where;
}

static bool
s_address (const char *text)
{
    if (strlen (text) != 42 || strncmp (text, "0x", 2) != 0)
        return false;
    for (const char *digit = text + 2; *digit; digit++)
        if (!isxdigit ((unsigned char) *digit))
            return false;
    return true;
}

//  trigger = touch | every N (N from 1).
static int
s_trigger (zpl_t *item, uint64_t *every, char *err, size_t err_size)
{
    const char *text = zpl_value (item);
    if (streq (text, "touch")) {
        *every = 0;
        return 0;
    }
    char *end = NULL;
    if (strncmp (text, "every ", 6) == 0 && isdigit ((unsigned char) text [6])) {
        unsigned long long value = strtoull (text + 6, &end, 10);
        if (*end == 0 && value >= 1 && value <= 1000000000ull) {
            *every = value;
            return 0;
        }
    }
    return zpl_error (item, err, err_size,
                      "\"%s\" is not touch or every N (N a number of blocks from 1)", text);
}

//  One watcher's settings.
static int
s_load_watch (state_options_t *watch, zpl_t *node, char *err, size_t err_size)
{
    for (zpl_t *item = zpl_child (node); item; item = zpl_next (item)) {
        const char *name = zpl_name (item);
        const char *value = zpl_value (item);
        bool known = streq (name, "address") || streq (name, "abi") || streq (name, "call")
                     || streq (name, "trigger");
        if (!known)
            return zpl_error (item, err, err_size,
                              "unknown setting (a state watcher has address, abi, call, trigger)");
        if (zpl_child (item))
            return zpl_error (item, err, err_size,
                              "takes no settings below it (line %d is indented too far)",
                              zpl_line (zpl_child (item)));
        if (!value || !*value)
            return zpl_error (item, err, err_size, "needs a value (%s = ...)", name);
        if (!streq (name, "call"))
            for (zpl_t *first = zpl_child (node); first != item; first = zpl_next (first))
                if (streq (zpl_name (first), name))
                    return zpl_error (item, err, err_size, "set twice (first on line %d)",
                                      zpl_line (first));
        if (streq (name, "address")) {
            if (!s_address (value))
                return zpl_error (item, err, err_size,
                                  "\"%s\" is not a contract address (0x and 40 hex digits)", value);
            watch->address = strdup (value);
        }
        else if (streq (name, "abi"))
            watch->abi = strdup (value);
        else if (streq (name, "trigger")) {
            if (s_trigger (item, &watch->every, err, err_size))
                return -1;
        }
        else {
            if (watch->call_count == STATE_MAX_CALLS)
                return zpl_error (item, err, err_size, "more than %d calls", STATE_MAX_CALLS);
            watch->calls = (char **) realloc (watch->calls,
                                              (watch->call_count + 1) * sizeof (char *));
            watch->call_where = (char **) realloc (watch->call_where,
                                                   (watch->call_count + 1) * sizeof (char *));
            assert (watch->calls && watch->call_where);
            watch->calls [watch->call_count] = strdup (value);
            watch->call_where [watch->call_count++] = s_where (item);
        }
    }
    if (!watch->address)
        return zpl_error (node, err, err_size, "needs address = 0x... (the contract)");
    if (!watch->call_count)
        return zpl_error (node, err, err_size, "needs at least one call = name(arguments)");
    return 0;
}

int
state_settings_load (chain_options_t *chain, zpl_t *node, char *err, size_t err_size)
{
    if (zpl_value (node))
        return zpl_error (node, err, err_size,
                          "a section: write `state` alone and each watcher below it");
    if (chain->state_count)
        return zpl_error (node, err, err_size, "section repeated");
    if (!zpl_child (node))
        return zpl_error (node, err, err_size,
                          "no watcher below it (add a section such as `usdc_weth`)");
    for (zpl_t *item = zpl_child (node); item; item = zpl_next (item)) {
        const char *name = zpl_name (item);
        bool valid = *name != 0;
        for (const char *letter = name; *letter; letter++)
            valid &= isalnum ((unsigned char) *letter) || *letter == '_' || *letter == '-';
        if (!valid)
            return zpl_error (item, err, err_size, "not a watcher name ([A-Za-z0-9_-]+)");
        if (zpl_value (item))
            return zpl_error (item, err, err_size,
                              "a watcher is a section: put address, abi, call and trigger below "
                              "it, indented");
        for (size_t index = 0; index < chain->state_count; index++)
            if (streq (chain->state [index].name, name))
                return zpl_error (item, err, err_size, "watcher defined twice");
        chain->state = (state_options_t *) realloc (chain->state, (chain->state_count + 1)
                                                                      * sizeof (state_options_t));
        assert (chain->state);
        state_options_t *watch = &chain->state [chain->state_count++];
        memset (watch, 0, sizeof (*watch));
        watch->name = strdup (name);
        watch->where = s_where (item);
        if (s_load_watch (watch, item, err, err_size))
            return -1;
    }
    return 0;
}

void
state_settings_free (chain_options_t *chain)
{
    for (size_t index = 0; index < chain->state_count; index++) {
        state_options_t *watch = &chain->state [index];
        free (watch->name);
        free (watch->address);
        free (watch->abi);
        for (size_t call = 0; call < watch->call_count; call++) {
            free (watch->calls [call]);
            free (watch->call_where [call]);
        }
        free (watch->calls);
        free (watch->call_where);
        free (watch->where);
    }
    free (chain->state);
    chain->state = NULL;
    chain->state_count = 0;
}

//  The file --abis DIR/addresses.json binds to address, as a path, or NULL.
static char *
s_bound_abi (const char *abis, const char *address)
{
    if (!abis)
        return NULL;
    char *path = zsys_sprintf ("%s/addresses.json", abis);
    FILE *file = fopen (path, "rb");
    zstr_free (&path);
    zchunk_t *chunk = file ? zchunk_read (file, 64 * 1024 * 1024) : NULL;
    if (file)
        fclose (file);
    cJSON *map = chunk ? cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                                zchunk_size (chunk))
                       : NULL;
    zchunk_destroy (&chunk);
    char *found = NULL;
    const cJSON *entry;
    cJSON *entries = cJSON_IsObject (map) ? map : NULL;
    cJSON_ArrayForEach (entry, entries)
        if (cJSON_IsString (entry) && strcasecmp (entry->string, address) == 0)
            found = zsys_sprintf ("%s/%s", abis, entry->valuestring);
    cJSON_Delete (map);
    return found;
}

//  Where abi = FILE is: as given, beside the config file, or in --abis DIR.
static char *
s_abi_path (const char *abi, const char *abis, const char *config_file)
{
    if (zsys_file_exists (abi) || abi [0] == '/')
        return strdup (abi);
    if (config_file && strchr (config_file, '/')) {
        char *dir = strdup (config_file);
        assert (dir);
        *strrchr (dir, '/') = 0;
        char *path = zsys_sprintf ("%s/%s", dir, abi);
        free (dir);
        if (zsys_file_exists (path))
            return path;
        zstr_free (&path);
    }
    if (abis) {
        char *path = zsys_sprintf ("%s/%s", abis, abi);
        if (zsys_file_exists (path))
            return path;
        zstr_free (&path);
    }
    return strdup (abi);
}

int
state_settings_watches (const chain_options_t *chain, const char *abis, const char *config_file,
                        state_chain_t *into, char *err, size_t err_size)
{
    for (size_t index = 0; index < chain->state_count; index++) {
        const state_options_t *watch = &chain->state [index];
        char *path = watch->abi ? s_abi_path (watch->abi, abis, config_file)
                                : s_bound_abi (abis, watch->address);
        if (!path) {
            snprintf (err, err_size,
                      "%s: no abi = FILE, and no --abis DIR whose addresses.json binds %s",
                      watch->where, watch->address);
            return -1;
        }
        char reason [512];
        abi_t *abi = abi_load (path, reason, sizeof (reason));
        free (path);
        if (!abi) {
            snprintf (err, err_size, "%s: abi: %s", watch->where, reason);
            return -1;
        }
        state_call_t **calls = (state_call_t **) calloc (watch->call_count,
                                                         sizeof (state_call_t *));
        assert (calls);
        int rc = 0;
        for (size_t call = 0; call < watch->call_count && rc == 0; call++) {
            calls [call] = state_call_new (abi, watch->calls [call], reason, sizeof (reason));
            if (!calls [call]) {
                snprintf (err, err_size, "%s: %s", watch->call_where [call], reason);
                rc = -1;
            }
        }
        abi_destroy (&abi);
        if (rc == 0 && into) {
            state_watch_t made = {.name = watch->name,
                                  .calls = calls,
                                  .call_count = watch->call_count,
                                  .every = watch->every};
            snprintf (made.address, sizeof (made.address), "%s", watch->address);
            state_chain_add_watch (into, &made);
        }
        else
            for (size_t call = 0; call < watch->call_count; call++)
                state_call_destroy (&calls [call]);
        free (calls);
        if (rc)
            return -1;
    }
    return 0;
}

state_chain_t *
state_settings_chain (chain_plan_t *plan, const options_t *options, const char *keypool, char *err,
                      size_t err_size)
{
    chain_options_t *chain = plan->options;
    chain_worker_t *worker = &plan->workers [0];
    const char *multicall = !chain->multicall || streq (chain->multicall, "none")
                                ? ""
                                : chain->multicall;
    char *url = secrets_fill_url (worker->url_template, "");
    state_chain_t *self = state_chain_new (plan->name, worker->pooled ? "" : url, worker->provider,
                                           options->rpc_timeout_ms, multicall);
    secrets_free (&url);
    if (worker->pooled) {
        char host [64] = "localhost";
        gethostname (host, sizeof (host) - 1);
        char *holder = zsys_sprintf ("%s:%d:%s/state", host, (int) getpid (), plan->name);
        state_chain_set_pool (self, keypool, holder, plan->costs, (uint64_t) chain->key_daily,
                              chain->key_rps);
        zstr_free (&holder);
        for (size_t key = 0; key < chain->key_count; key++) {
            char *key_url = secrets_fill_url (worker->url_template, plan->secrets [key]);
            state_chain_add_key (self, chain->keys [key], key_url);
            secrets_free (&key_url);
        }
    }
    if (state_settings_watches (chain, options->abis, options->config_file, self, err, err_size))
        state_chain_destroy (&self);
    return self;
}

//  A config with two watchers read and made; each kind of mistake refused with its line.
void
state_settings_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-state-settings-XXXXXX";
    assert (mkdtemp (dir));
    char *abi_path = zsys_sprintf ("%s/pair.json", dir);
    FILE *file = fopen (abi_path, "w");
    assert (file);
    fputs ("[{\"type\":\"function\",\"name\":\"getReserves\",\"inputs\":[],\"outputs\":["
           "{\"name\":\"r0\",\"type\":\"uint112\"}]},{\"type\":\"function\",\"name\":"
           "\"balanceOf\",\"inputs\":[{\"name\":\"who\",\"type\":\"address\"}],\"outputs\":"
           "[{\"name\":\"\",\"type\":\"uint256\"}]}]",
           file);
    fclose (file);
    char *map_path = zsys_sprintf ("%s/addresses.json", dir);
    file = fopen (map_path, "w");
    assert (file);
    fputs ("{\"0x00000000000000000000000000000000000000AA\": \"pair.json\"}", file);
    fclose (file);
    char *text = zsys_sprintf (
        "chains\n"
        "    anvil\n"
        "        state\n"
        "            pair\n"
        "                address = 0x00000000000000000000000000000000000000aa\n"
        "                call = getReserves()\n"
        "                call = balanceOf(0x70997970c51812dc3a010c7d01b50e0d17dc79c8)\n"
        "            other\n"
        "                address = 0x00000000000000000000000000000000000000bb\n"
        "                abi = %s\n"
        "                call = getReserves()\n"
        "                trigger = every 10\n",
        abi_path);
    char err [1024];
    zpl_t *root = zpl_parse (text, "t.cfg", err, sizeof (err));
    assert (root);
    zstr_free (&text);
    chain_options_t chain;
    memset (&chain, 0, sizeof (chain));
    assert (state_settings_load (&chain, zpl_locate (root, "chains/anvil/state"), err, sizeof (err))
            == 0);
    assert (chain.state_count == 2 && chain.state [0].call_count == 2);
    assert (chain.state [0].every == 0 && chain.state [1].every == 10);
    assert (
        streq (chain.state [0].calls [1], "balanceOf(0x70997970c51812dc3a010c7d01b50e0d17dc79c8)"));
    state_chain_t *into = state_chain_new ("anvil", "http://127.0.0.1:1", "127.0.0.1", 1000, NULL);
    assert (state_settings_watches (&chain, dir, NULL, into, err, sizeof (err)) == 0);
    assert (state_chain_watch_count (into) == 2);
    state_chain_destroy (&into);
    //  Without --abis the first has no ABI.
    assert (state_settings_watches (&chain, NULL, NULL, NULL, err, sizeof (err)) == -1);
    assert (strstr (err, "t.cfg:4: chains/anvil/state/pair: no abi"));
    state_settings_free (&chain);
    zpl_destroy (&root);

    const char *bad [][2] = {
        {"state = 1\n", "t.cfg:3: chains/anvil/state: a section"},
        {"state\n            w\n                address = 0x12\n", "t.cfg:5"},
        {"state\n            w\n                address = 0x00000000000000000000000000000000000000aa\n",
         "t.cfg:4: chains/anvil/state/w: needs at least one call"},
        {"state\n            w\n                call = f()\n", "needs address"},
        {"state\n            w\n                call = f()\n                trigger = every 0\n",
         "t.cfg:6: chains/anvil/state/w/trigger: \"every 0\" is not touch or every N"},
        {"state\n            w\n                colour = red\n",
         "t.cfg:5: chains/anvil/state/w/colour: unknown"},
        {"state\n            w\n                abi = a\n                abi = b\n",
         "t.cfg:6: chains/anvil/state/w/abi: set twice (first on line 5)"},
        {"state\n            w = 1\n", "a watcher is a section"},
        {"state\n", "no watcher below it"},
    };
    for (size_t index = 0; index < sizeof (bad) / sizeof (bad [0]); index++) {
        text = zsys_sprintf ("chains\n    anvil\n        %s", bad [index][0]);
        root = zpl_parse (text, "t.cfg", err, sizeof (err));
        assert (root);
        memset (&chain, 0, sizeof (chain));
        assert (
            state_settings_load (&chain, zpl_locate (root, "chains/anvil/state"), err, sizeof (err))
            == -1);
        if (!strstr (err, bad [index][1]))
            zsys_error ("state_settings: %s: got %s", bad [index][1], err);
        assert (strstr (err, bad [index][1]));
        state_settings_free (&chain);
        zpl_destroy (&root);
        zstr_free (&text);
    }
    //  A call the ABI does not have names its line.
    text = zsys_sprintf ("chains\n    anvil\n        state\n            w\n"
                         "                address = 0x00000000000000000000000000000000000000aa\n"
                         "                abi = %s\n                call = getReserves(1)\n",
                         abi_path);
    root = zpl_parse (text, "t.cfg", err, sizeof (err));
    memset (&chain, 0, sizeof (chain));
    assert (state_settings_load (&chain, zpl_locate (root, "chains/anvil/state"), err, sizeof (err))
            == 0);
    assert (state_settings_watches (&chain, NULL, NULL, NULL, err, sizeof (err)) == -1);
    assert (strstr (err, "t.cfg:7: chains/anvil/state/w/call: the ABI's getReserves takes"));
    state_settings_free (&chain);
    zpl_destroy (&root);
    zstr_free (&text);

    unlink (abi_path);
    unlink (map_path);
    zstr_free (&abi_path);
    zstr_free (&map_path);
    rmdir (dir);
}
