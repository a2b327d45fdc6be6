/*  key_settings: a key's settings, had once (see key_settings.h). */
#include "evmtap.h"
#include "key_settings.h"
#include <unistd.h>
#include "options.h"
#include "settings.h"

//  The chain settings a key has once, and their names in the `keys` section.
static const struct {
    const char *chain_name;
    const char *key_name;
} s_key_settings [OPTIONS_KEY_SETTINGS] = {
    {"key_costs", "costs"},
    {"key_rps", "rps"},
    {"key_daily", "daily"},
    {"key_rotate", "rotate"},
    {"key_rotate_requests", "rotate_requests"},
};

#define S_VALUE_SIZE 512
#define S_WHERE_SIZE 160

//  One key setting as one chain sees it: its value, where it came from and from which
//  section ("keys/a" or "chains/mainnet").
typedef struct {
    char value [S_VALUE_SIZE];
    char origin [OPTIONS_ORIGIN_SIZE];    //  "" for the default
    char where [S_WHERE_SIZE];
} s_value_t;

//  One key named by one chain, with the values it has there.
typedef struct {
    const char *key;
    size_t chain;
    s_value_t values [OPTIONS_KEY_SETTINGS];
} s_use_t;

int
key_settings_index (const setting_t *setting)
{
    for (int index = 0; setting && setting->name && index < OPTIONS_KEY_SETTINGS; index++)
        if (streq (setting->name, s_key_settings [index].chain_name))
            return index;
    return -1;
}

const setting_t *
key_settings_by_key_name (const char *name)
{
    for (int index = 0; index < OPTIONS_KEY_SETTINGS; index++)
        if (streq (name, s_key_settings [index].key_name))
            return settings_by_name (s_key_settings [index].chain_name);
    return NULL;
}

const char *
key_settings_names (void)
{
    return "costs, rps, daily, rotate, rotate_requests";
}

static const key_options_t *
s_declared (const options_t *options, const char *key)
{
    for (size_t index = 0; index < options->key_decl_count; index++)
        if (streq (options->key_decls [index].name, key))
            return &options->key_decls [index];
    return NULL;
}

static const char *
s_chain_name (const chain_options_t *chain)
{
    return chain->name ? chain->name : "(the flags' chain)";
}

//  "500 at FILE:3 (keys/a rps)", or "0, the default, in chains/b".
static void
s_describe (const s_value_t *value, const char *name, char *text, size_t size)
{
    if (*value->origin)
        snprintf (text, size, "%s at %s (%s %s)", value->value, value->origin, value->where, name);
    else
        snprintf (text, size, "%s, the default, in %s", value->value, value->where);
}

//  The values key has on chain: the section's where it declares them, else the chain's;
//  -1 with the error when the section and the chain disagree.
static int
s_use (const options_t *options, size_t chain_index, const char *key, s_use_t *use, char *err,
       size_t err_size)
{
    const chain_options_t *chain = &options->chains [chain_index];
    const key_options_t *declared = s_declared (options, key);
    use->key = key;
    use->chain = chain_index;
    for (int index = 0; index < OPTIONS_KEY_SETTINGS; index++) {
        const setting_t *setting = settings_by_name (s_key_settings [index].chain_name);
        s_value_t *value = &use->values [index];
        settings_show (setting, NULL, chain, value->value, sizeof (value->value));
        snprintf (value->origin, sizeof (value->origin), "%s", chain->key_origin [index]);
        snprintf (value->where, sizeof (value->where), "chains/%s", s_chain_name (chain));
        if (!declared || !*declared->values.key_origin [index])
            continue;
        s_value_t key_value;
        settings_show (setting, NULL, &declared->values, key_value.value, sizeof (key_value.value));
        snprintf (key_value.origin, sizeof (key_value.origin), "%s",
                  declared->values.key_origin [index]);
        snprintf (key_value.where, sizeof (key_value.where), "keys/%s", key);
        //  The chain's own default does not contradict the key's declaration.
        if (*value->origin && !streq (value->value, key_value.value)
            && !streq (value->origin, key_value.origin)) {
            char one [1300], other [1300];
            s_describe (&key_value, s_key_settings [index].key_name, one, sizeof (one));
            s_describe (value, s_key_settings [index].chain_name, other, sizeof (other));
            snprintf (err, err_size,
                      "key %s: %s is %s but %s: a key has one value on every chain; set it "
                      "in one place",
                      key, s_key_settings [index].key_name, one, other);
            return -1;
        }
        *value = key_value;
    }
    return 0;
}

//  The first setting two uses of keys differ in, or -1 when they agree.
static int
s_differ (const s_use_t *one, const s_use_t *other)
{
    for (int index = 0; index < OPTIONS_KEY_SETTINGS; index++)
        if (!streq (one->values [index].value, other->values [index].value))
            return index;
    return -1;
}

//  "rps is 500 at FILE:3 (keys/a rps) but 100 at FILE:9 (chains/b key_rps)".
static void
s_describe_pair (const s_use_t *one, const s_use_t *other, int index, char *text, size_t size)
{
    char first [1300], second [1300];
    const char *name = s_key_settings [index].key_name;
    s_describe (&one->values [index],
                strncmp (one->values [index].where, "keys/", 5) ? s_key_settings [index].chain_name
                                                                : name,
                first, sizeof (first));
    s_describe (&other->values [index],
                strncmp (other->values [index].where, "keys/", 5)
                    ? s_key_settings [index].chain_name
                    : name,
                second, sizeof (second));
    snprintf (text, size, "%s is %s but %s", name, first, second);
}

//  Gives chain the values of use, with their origins.
static void
s_give (chain_options_t *chain, const s_use_t *use)
{
    for (int index = 0; index < OPTIONS_KEY_SETTINGS; index++) {
        const setting_t *setting = settings_by_name (s_key_settings [index].chain_name);
        char reason [256];
        int rc = settings_apply (setting, NULL, chain, use->values [index].value, reason,
                                 sizeof (reason));
        assert (rc == 0);    //  the value was shown from a stored, checked one
        snprintf (chain->key_origin [index], sizeof (chain->key_origin [index]), "%s",
                  use->values [index].origin);
    }
}

int
key_settings_resolve (options_t *options, char *err, size_t err_size)
{
    assert (options && err);
    size_t capacity = 1;
    for (size_t chain = 0; chain < options->chain_count; chain++)
        capacity += options->chains [chain].key_count;
    s_use_t *uses = (s_use_t *) calloc (capacity, sizeof (s_use_t));
    assert (uses);
    size_t count = 0;
    int rc = 0;
    for (size_t chain = 0; chain < options->chain_count && rc == 0; chain++) {
        chain_options_t *options_of = &options->chains [chain];
        size_t first = count;
        for (size_t key = 0; key < options_of->key_count && rc == 0; key++) {
            s_use_t *use = &uses [count];
            rc = s_use (options, chain, options_of->keys [key], use, err, err_size);
            if (rc)
                break;
            count++;
            char pair [2700];
            //  The same key on an earlier chain: the same values, or an error.
            for (size_t earlier = 0; earlier < first && rc == 0; earlier++) {
                int index = streq (uses [earlier].key, use->key) ? s_differ (&uses [earlier], use)
                                                                 : -1;
                if (index < 0)
                    continue;
                s_describe_pair (&uses [earlier], use, index, pair, sizeof (pair));
                snprintf (err, err_size,
                          "key %s: %s: a key has one value on every chain (its provider "
                          "counts one budget for all networks); set it once in keys/%s",
                          use->key, pair, use->key);
                rc = -1;
            }
            //  Another key of this chain: the chain's workers spend one budget.
            if (rc == 0 && count - 1 > first) {
                int index = s_differ (&uses [first], use);
                if (index >= 0) {
                    s_describe_pair (&uses [first], use, index, pair, sizeof (pair));
                    snprintf (err, err_size,
                              "chains/%s: keys %s and %s differ: %s: the keys of one chain "
                              "share its workers' budget and cost table; give them the same "
                              "values, or name them on separate chains",
                              s_chain_name (options_of), uses [first].key, use->key, pair);
                    rc = -1;
                }
            }
        }
        if (rc == 0 && count > first)
            s_give (options_of, &uses [first]);
    }
    free (uses);
    return rc;
}

//  --------------------------------------------------------------------------
//  Selftest

//  Loads text as the config file dir/keys.cfg (flags after it, NULL-terminated, when
//  given): 0, or -1 with the error, in which "@" stands for the file's path.
static int
s_load (const char *dir, const char *text, options_t **options_p, char *err, size_t err_size, ...)
{
    char *path = zsys_sprintf ("%s/keys.cfg", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
    char *argv [16] = {"run", "--config", path};
    int argc = 3;
    va_list args;
    va_start (args, err_size);
    const char *arg;
    while ((arg = va_arg (args, const char *)) != NULL && argc < 15)
        argv [argc++] = (char *) arg;
    va_end (args);
    options_destroy (options_p);
    *options_p = options_new ();
    int rc = options_parse_run (*options_p, argc, argv, NULL, err, err_size);
    //  Say "@" for the path, so that expected errors read as the file does.
    for (char *at; rc && (at = strstr (err, path));) {
        *at = '@';
        memmove (at + 1, at + strlen (path), strlen (at + strlen (path)) + 1);
    }
    unlink (path);
    zstr_free (&path);
    return rc;
}

#define S_EXPECT(dir, text, expected, ...)                                                 \
    do {                                                                                   \
        options_t *failing = NULL;                                                         \
        char failure [2048];                                                               \
        int failing_rc = s_load ((dir), (text), &failing, failure, sizeof (failure),       \
                                 ##__VA_ARGS__, NULL);                                     \
        if (failing_rc != -1 || !streq (failure, (expected))) {                            \
            fprintf (stderr, "key_settings: expected '%s'\n                   got '%s'\n", \
                     (expected), failing_rc ? failure : "no error");                       \
            assert (false);                                                                \
        }                                                                                  \
        options_destroy (&failing);                                                        \
    } while (0)

//  Two networks of one Infura account: the keys declared once, both chains naming them.
#define S_TWO_NETWORKS                                   \
    "keys\n"                                             \
    "    infura_1\n"                                     \
    "        costs = infura\n"                           \
    "        rps = 500\n"                                \
    "        daily = 3000000\n"                          \
    "    infura_2\n"                                     \
    "        costs = infura\n"                           \
    "        rps = 500\n"                                \
    "        daily = 3000000\n"                          \
    "chains\n"                                           \
    "    mainnet\n"                                      \
    "        rpc = https://mainnet.infura.io/v3/{key}\n" \
    "        keys = infura_1, infura_2\n"                \
    "    sepolia\n"                                      \
    "        rpc = https://sepolia.infura.io/v3/{key}\n" \
    "        keys = infura_1, infura_2\n"

static void
s_test_files (void)
{
    char dir [] = "/tmp/evmtap-key-settings-XXXXXX";
    assert (mkdtemp (dir));
    options_t *options = NULL;
    char err [2048];
    assert (s_load (dir, S_TWO_NETWORKS, &options, err, sizeof (err), NULL) == 0);
    assert (options->chain_count == 2 && options->key_decl_count == 2);
    for (size_t chain = 0; chain < 2; chain++) {
        assert (options->chains [chain].key_rps == 500);
        assert (options->chains [chain].key_daily == 3000000);
        assert (streq (options->chains [chain].key_costs, "infura"));
        assert (options->chains [chain].key_rotate == 300);    //  the default, undeclared
    }
    //  A chain may repeat the declared value; a different one names both lines
    assert (
        s_load (dir, S_TWO_NETWORKS "        key_rps = 500\n", &options, err, sizeof (err), NULL)
        == 0);
    S_EXPECT (dir, S_TWO_NETWORKS "        key_rps = 250\n",
              "key infura_1: rps is 500 at @:4 (keys/infura_1 rps) but 250 at @:17 "
              "(chains/sepolia key_rps): a key has one value on every chain; set it in one "
              "place");
    //  ... and so does a flag
    S_EXPECT (dir,
              "keys\n    k\n        costs = alchemy\n"
              "chains\n    one\n        keys = k\n",
              "key k: costs is alchemy at @:3 (keys/k costs) but infura at --key-costs "
              "(chains/one key_costs): a key has one value on every chain; set it in one place",
              "--key-costs", "infura");
    //  Undeclared keys take the chains' values, which must agree
    S_EXPECT (dir,
              "chains\n    a\n        keys = k\n        key_daily = 10\n"
              "    b\n        keys = k, j\n        key_daily = 20\n",
              "key k: daily is 10 at @:4 (chains/a key_daily) but 20 at @:7 (chains/b "
              "key_daily): a key has one value on every chain (its provider counts one budget "
              "for all networks); set it once in keys/k");
    S_EXPECT (dir,
              "chains\n    a\n        keys = k\n        key_daily = 10\n"
              "    b\n        keys = k\n",
              "key k: daily is 10 at @:4 (chains/a key_daily) but 0, the default, in chains/b: "
              "a key has one value on every chain (its provider counts one budget for all "
              "networks); set it once in keys/k");
    assert (s_load (dir,
                    "chains\n    a\n        keys = k\n        key_daily = 10\n"
                    "    b\n        keys = k\n        key_daily = 10\n",
                    &options, err, sizeof (err), NULL)
            == 0);
    //  The keys of one chain share its budget and table
    S_EXPECT (dir,
              "keys\n    a\n        rps = 5\n    b\n        rps = 6\n"
              "chains\n    one\n        keys = a, b\n",
              "chains/one: keys a and b differ: rps is 5 at @:3 (keys/a rps) but 6 at @:5 "
              "(keys/b rps): the keys of one chain share its workers' budget and cost table; "
              "give them the same values, or name them on separate chains");
    //  The section's own errors
    S_EXPECT (dir, "keys\n    k\n        budget = 5\n",
              "@:3: keys/k/budget: unknown key setting (a key has costs, rps, daily, rotate, "
              "rotate_requests)");
    S_EXPECT (dir, "keys\n    k\n        rps = -1\n",
              "@:3: keys/k/rps: \"-1\" is not a number from 0 (unlimited) up");
    S_EXPECT (dir, "keys\n    k\n    k\n", "@:3: keys/k: key declared twice (first on line 2)");
    S_EXPECT (dir, "keys\n    k = 1\n",
              "@:2: keys/k: a key is a section: put its settings (costs, rps, daily, rotate, "
              "rotate_requests) below it, indented");
    S_EXPECT (dir, "keys\n", "@:1: keys: no key below it (add a section such as `api_key_1`)");
    S_EXPECT (dir, "keys\n    k\n        rps = 1\n        rps = 2\n",
              "@:4: keys/k/rps: set twice (first on line 3)");
    options_destroy (&options);
    rmdir (dir);
}

void
key_settings_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    assert (key_settings_index (settings_by_name ("key_rps")) == 1);
    assert (key_settings_index (settings_by_name ("key_rotate_requests")) == 4);
    assert (key_settings_index (settings_by_name ("workers")) == -1);
    assert (key_settings_index (settings_by_name ("keys")) == -1);
    assert (key_settings_by_key_name ("rps") == settings_by_name ("key_rps"));
    assert (key_settings_by_key_name ("costs") == settings_by_name ("key_costs"));
    assert (key_settings_by_key_name ("key_rps") == NULL);
    for (int index = 0; index < OPTIONS_KEY_SETTINGS; index++)
        assert (strstr (key_settings_names (), s_key_settings [index].key_name));

    //  Two chains giving one key the same values share them; a default chain value does
    //  not contradict a declaration; the flags' chain without a name is named so.
    options_t *options = options_new ();
    options->chain_count = 2;
    for (size_t chain = 0; chain < 2; chain++) {
        settings_start (NULL, &options->chains [chain]);
        options->chains [chain].name = strdup (chain ? "b" : "a");
        options->chains [chain].keys [0] = strdup ("k");
        options->chains [chain].key_count = 1;
    }
    char err [1024] = "";
    char reason [256];
    const setting_t *rps = settings_by_name ("key_rps");
    assert (settings_apply (rps, NULL, &options->chains [0], "25", reason, sizeof (reason)) == 0);
    snprintf (options->chains [0].key_origin [1], OPTIONS_ORIGIN_SIZE, "f.cfg:4");
    assert (key_settings_resolve (options, err, sizeof (err)) == -1);
    assert (streq (err, "key k: rps is 25 at f.cfg:4 (chains/a key_rps) but 0, the "
                        "default, in chains/b: a key has one value on every chain (its "
                        "provider counts one budget for all networks); set it once in keys/k")
            || (fprintf (stderr, "got: %s\n", err), false));
    assert (settings_apply (rps, NULL, &options->chains [1], "25", reason, sizeof (reason)) == 0);
    snprintf (options->chains [1].key_origin [1], OPTIONS_ORIGIN_SIZE, "--key-rps");
    assert (key_settings_resolve (options, err, sizeof (err)) == 0);
    options_destroy (&options);
    s_test_files ();
    if (verbose)
        printf ("key settings: one value per key\n");
}
