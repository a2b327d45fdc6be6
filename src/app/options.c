/*  options: everything `evmtap run` is told, from the config file (ZPL, read by zpl) and the
    command line. What a setting is (its flag, its name in the file, whether it belongs to a
    chain or to the whole service, its type, range, default and help) is its row in
    settings; this module reads the file's sections and the command line and applies the
    rows to them. The same row checks a value whether it came from a flag or from the file,
    so both give the same verdict and the same words.

    Flags describe one chain. Without a file they define it; with a file of one chain they
    override that chain's settings; with several chains a chain flag is a usage error, since
    it could not say which chain it meant. List flags (--rpc, --watchlist) replace the file's
    list rather than add to it, so that a flag always wins. The config format is documented in
    docs/config.md, whose settings tables `evmtap run --help-config-md` prints. */
#include "evmtap.h"
#include "kafka_sink.h"
#include <inttypes.h>
#include "key_settings.h"
#include "state_settings.h"
#include "options.h"
#include "settings.h"
#include "zpl.h"

//  --------------------------------------------------------------------------
//  Construction

options_t *
options_new (void)
{
    options_t *self = (options_t *) zmalloc (sizeof (options_t));
    settings_start (self, NULL);
    kafka_sink_config_defaults (&self->kafka);
    return self;
}

void
options_destroy (options_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        options_t *self = *self_p;
        settings_free (self, NULL);
        for (size_t index = 0; index < self->chain_count; index++) {
            settings_free (NULL, &self->chains [index]);
            state_settings_free (&self->chains [index]);
        }
        for (size_t index = 0; index < self->key_decl_count; index++) {
            zstr_free (&self->key_decls [index].name);
            settings_free (NULL, &self->key_decls [index].values);
        }
        free (self);
        *self_p = NULL;
    }
}

static chain_options_t *
s_chain_add (options_t *self)
{
    assert (self->chain_count < OPTIONS_MAX_CHAINS);
    chain_options_t *chain = &self->chains [self->chain_count++];
    memset (chain, 0, sizeof (*chain));
    settings_start (NULL, chain);
    return chain;
}

void
options_default_chain_name (uint64_t chain_id, char *out, size_t out_size)
{
    assert (out && out_size);
    if (chain_id == 1)
        snprintf (out, out_size, "mainnet");
    else if (chain_id == 31337)
        snprintf (out, out_size, "anvil");
    else
        snprintf (out, out_size, "chain%" PRIu64, chain_id);
}

//  Writes the error into err unless one is there already, and returns -1: the first error
//  is the one reported, later ones are usually consequences of it.
static int
s_error (char *err, size_t err_size, const char *format, ...)
{
    if (*err == 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (err, err_size, format, args);
        va_end (args);
    }
    return -1;
}

//  True when some URL of the chain needs a key and the chain has none: the first such URL.
static const char *
s_url_missing_key (chain_options_t *chain)
{
    if (chain->key_count)
        return NULL;
    for (size_t index = 0; index < chain->rpc_count; index++)
        if (strstr (chain->rpc [index], "{key}"))
            return chain->rpc [index];
    return NULL;
}

//  Fills what nobody set: a chain's default provider.
static void
s_apply_defaults (options_t *self)
{
    for (size_t index = 0; index < self->chain_count; index++)
        settings_finish (&self->chains [index]);
}

//  --------------------------------------------------------------------------
//  The config file

//  Explains an unknown name as helpfully as we can: a secret, a flag spelling, a setting
//  in the wrong section.
static int
s_unknown_setting (zpl_t *node, setting_scope_t scope, char *err, size_t err_size)
{
    const char *name = zpl_name (node);
    char lower [128];
    size_t size = 0;
    for (; name [size] && size < sizeof (lower) - 1; size++)
        lower [size] = (char) tolower ((unsigned char) name [size]);
    lower [size] = 0;
    if (strstr (lower, "secret") || strstr (lower, "password") || strstr (lower, "token")
        || streq (lower, "key") || streq (lower, "api_key") || streq (lower, "apikey"))
        return zpl_error (node, err, err_size,
                          "unknown setting; secrets are never read from the config file: "
                          "name the key in keys and set EVMTAP_KEY_<NAME> or "
                          "/run/secrets/<name>");
    char underscored [128];
    snprintf (underscored, sizeof (underscored), "%s", name);
    for (char *scan = underscored; *scan; scan++)
        if (*scan == '-')
            *scan = '_';
    const setting_t *setting = settings_by_name (underscored);
    if (setting && setting->scope == scope && !streq (underscored, name))
        return zpl_error (node, err, err_size, "unknown setting; did you mean %s?", setting->name);
    if (scope == SETTING_CHAIN && (streq (name, "chain") || streq (name, "name")))
        return zpl_error (node, err, err_size,
                          "unknown setting (a chain's name is its section's name)");
    return zpl_error (node, err, err_size, "unknown setting (see docs/config.md)");
}

//  The first setting of section with this name, or NULL.
static zpl_t *
s_named (zpl_t *section, const char *name)
{
    zpl_t *node = zpl_child (section);
    while (node && !streq (zpl_name (node), name))
        node = zpl_next (node);
    return node;
}

//  Remembers where a key setting of chain came from: FILE:LINE of node.
static void
s_origin_line (chain_options_t *chain, const setting_t *setting, zpl_t *node)
{
    int index = key_settings_index (setting);
    if (chain && index >= 0)
        snprintf (chain->key_origin [index], sizeof (chain->key_origin [index]), "%s:%d",
                  zpl_file (node), zpl_line (node));
}

//  Loads the settings below one section: the `evmtap` section (chain NULL) or a chain.
static int
s_load_section (options_t *self, chain_options_t *chain, zpl_t *section, setting_scope_t scope,
                char *err, size_t err_size)
{
    char reason [256];
    for (zpl_t *node = zpl_child (section); node; node = zpl_next (node)) {
        if (chain && streq (zpl_name (node), "state")) {
            if (state_settings_load (chain, node, err, err_size))
                return -1;
            continue;
        }
        const setting_t *setting = settings_by_name (zpl_name (node));
        if (!setting)
            return s_unknown_setting (node, scope, err, err_size);
        if (setting->scope != scope)
            return zpl_error (node, err, err_size,
                              scope == SETTING_CHAIN
                                  ? "not a chain setting: set it in the evmtap section"
                                  : "a chain setting: set it below chains/NAME");
        if (zpl_child (node))
            return zpl_error (node, err, err_size,
                              "takes no settings below it "
                              "(line %d is indented too far)",
                              zpl_line (zpl_child (node)));
        if (!zpl_value (node))
            return zpl_error (node, err, err_size, "needs a value (%s = ...)", setting->name);
        zpl_t *first = s_named (section, setting->name);
        if (first != node && !settings_repeats (setting))
            return zpl_error (node, err, err_size, "set twice (first on line %d)",
                              zpl_line (first));
        //  A list in the file replaces one that came before it (another file).
        if (first == node && settings_repeats (setting))
            settings_clear (setting, self, chain);
        if (settings_apply (setting, self, chain, zpl_value (node), reason, sizeof (reason)))
            return zpl_error (node, err, err_size, "%s", reason);
        s_origin_line (chain, setting, node);
    }
    if (chain && chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET
        && chain->from > chain->to) {
        zpl_t *node = s_named (section, "to");
        if (!node)
            node = s_named (section, "from");
        return zpl_error (node, err, err_size,
                          "the range from = %" PRId64 " to %" PRId64 " is empty", chain->from,
                          chain->to);
    }
    const char *url = chain ? s_url_missing_key (chain) : NULL;
    if (url) {
        for (zpl_t *node = zpl_child (section); node; node = zpl_next (node))
            if (streq (zpl_name (node), "rpc") && streq (zpl_value (node), url))
                return zpl_error (node, err, err_size,
                                  "\"%s\" needs {key} but the chain has no keys "
                                  "(keys = NAME,...)",
                                  url);
    }
    return 0;
}

static int
s_load_chains (options_t *self, zpl_t *section, char *err, size_t err_size)
{
    if (zpl_value (section))
        return zpl_error (section, err, err_size,
                          "a section: write `chains` alone and each chain below it");
    if (!zpl_child (section))
        return zpl_error (section, err, err_size,
                          "no chain below it (add a section such as `mainnet`)");
    size_t first = self->chain_count;
    int lines [OPTIONS_MAX_CHAINS] = {0};
    for (zpl_t *node = zpl_child (section); node; node = zpl_next (node)) {
        const char *name = zpl_name (node);
        if (!settings_valid_name (name, strlen (name)))
            return zpl_error (node, err, err_size, "\"%s\" is not " SETTINGS_CHAIN_NAME, name);
        if (settings_by_name (name))
            return zpl_error (node, err, err_size,
                              "%s is a setting, but chains holds "
                              "chain sections: indent it below a chain",
                              name);
        if (zpl_value (node))
            return zpl_error (node, err, err_size,
                              "a chain is a section: put its settings below it, indented");
        for (size_t index = 0; index < self->chain_count; index++)
            if (self->chains [index].name && streq (self->chains [index].name, name))
                return zpl_error (node, err, err_size,
                                  "chain defined twice (first on "
                                  "line %d)",
                                  index >= first ? lines [index] : 0);
        if (self->chain_count == OPTIONS_MAX_CHAINS)
            return zpl_error (node, err, err_size, "more than %d chains", OPTIONS_MAX_CHAINS);
        lines [self->chain_count] = zpl_line (node);
        chain_options_t *chain = s_chain_add (self);
        chain->name = strdup (name);
        assert (chain->name);
        if (s_load_section (self, chain, node, SETTING_CHAIN, err, err_size))
            return -1;
    }
    return 0;
}

//  Loads one key of the `keys` section: its settings, by their names there (rps for
//  key_rps...), checked by the chain settings' rows.
static int
s_load_key (options_t *self, zpl_t *node, char *err, size_t err_size)
{
    const char *name = zpl_name (node);
    if (!settings_valid_name (name, strlen (name)))
        return zpl_error (node, err, err_size, "not a key name ([A-Za-z0-9_-]+)");
    if (zpl_value (node))
        return zpl_error (node, err, err_size,
                          "a key is a section: put its settings (%s) below it, indented",
                          key_settings_names ());
    for (size_t index = 0; index < self->key_decl_count; index++)
        if (streq (self->key_decls [index].name, name))
            return zpl_error (node, err, err_size, "key declared twice (first on line %d)",
                              self->key_decls [index].line);
    if (self->key_decl_count >= OPTIONS_MAX_KEYS)
        return zpl_error (node, err, err_size, "more than %d keys", OPTIONS_MAX_KEYS);
    key_options_t *key = &self->key_decls [self->key_decl_count++];
    key->name = strdup (name);
    assert (key->name);
    key->line = zpl_line (node);
    settings_start (NULL, &key->values);
    char reason [256];
    for (zpl_t *item = zpl_child (node); item; item = zpl_next (item)) {
        const setting_t *setting = key_settings_by_key_name (zpl_name (item));
        if (!setting)
            return zpl_error (item, err, err_size, "unknown key setting (a key has %s)",
                              key_settings_names ());
        if (zpl_child (item))
            return zpl_error (item, err, err_size,
                              "takes no settings below it (line %d is indented too far)",
                              zpl_line (zpl_child (item)));
        if (!zpl_value (item))
            return zpl_error (item, err, err_size, "needs a value (%s = ...)", zpl_name (item));
        zpl_t *first = s_named (node, zpl_name (item));
        if (first != item)
            return zpl_error (item, err, err_size, "set twice (first on line %d)",
                              zpl_line (first));
        if (settings_apply (setting, NULL, &key->values, zpl_value (item), reason, sizeof (reason)))
            return zpl_error (item, err, err_size, "%s", reason);
        s_origin_line (&key->values, setting, item);
    }
    return 0;
}

static int
s_load_keys (options_t *self, zpl_t *section, char *err, size_t err_size)
{
    if (zpl_value (section))
        return zpl_error (section, err, err_size,
                          "a section: write `keys` alone and each key below it");
    if (!zpl_child (section))
        return zpl_error (section, err, err_size,
                          "no key below it (add a section such as `api_key_1`)");
    for (zpl_t *node = zpl_child (section); node; node = zpl_next (node))
        if (s_load_key (self, node, err, err_size))
            return -1;
    return 0;
}

int
options_load_file (options_t *self, const char *path, char *err, size_t err_size)
{
    assert (self);
    assert (path);
    zpl_t *root = zpl_load (path, err, err_size);
    if (!root)
        return -1;
    zstr_free (&self->config_file);
    self->config_file = strdup (path);
    assert (self->config_file);
    int rc = 0;
    zpl_t *evmtap = NULL;
    zpl_t *chains = NULL;
    zpl_t *keys = NULL;
    for (zpl_t *node = zpl_child (root); node && rc == 0; node = zpl_next (node)) {
        const char *name = zpl_name (node);
        zpl_t **seen = streq (name, "evmtap")   ? &evmtap
                       : streq (name, "chains") ? &chains
                       : streq (name, "keys")   ? &keys
                                                : NULL;
        if (!seen) {
            const setting_t *setting = settings_by_name (name);
            if (setting)
                rc = zpl_error (node, err, err_size,
                                "a setting outside any section: "
                                "indent it below %s",
                                setting->scope == SETTING_SERVICE ? "evmtap" : "chains/NAME");
            else
                rc = zpl_error (node, err, err_size,
                                "unknown section (expected evmtap, keys or chains)");
        }
        else if (*seen)
            rc = zpl_error (node, err, err_size, "section repeated (first on line %d)",
                            zpl_line (*seen));
        else {
            *seen = node;
            if (seen == &chains)
                rc = s_load_chains (self, node, err, err_size);
            else if (seen == &keys)
                rc = s_load_keys (self, node, err, err_size);
            else if (zpl_value (node))
                rc = zpl_error (node, err, err_size,
                                "a section: write `evmtap` alone and its settings below it");
            else
                rc = s_load_section (self, NULL, node, SETTING_SERVICE, err, err_size);
        }
    }
    zpl_destroy (&root);
    if (rc == 0)
        s_apply_defaults (self);
    if (rc == 0)
        rc = key_settings_resolve (self, err, err_size);
    return rc;
}

//  --------------------------------------------------------------------------
//  The command line

typedef struct {
    const setting_t *setting;
    const char *value;    //  borrowed from argv; NULL for a flag without value
} s_flag_use_t;

//  Reads argv [*index] as a flag, and its value (from the next argument, which *index then
//  points at, when it is not after '='). Returns 0, or -1 with the error in err.
static int
s_read_flag (int argc, char **argv, int *index, s_flag_use_t *use, char *err, size_t err_size)
{
    const char *command = argv [0];
    const char *arg = argv [*index];
    const char *shown = arg;    //  the flag as the user wrote it, for messages
    char shown_buffer [64];
    use->setting = NULL;
    use->value = NULL;
    if (arg [0] == '-' && arg [1] == '-' && arg [2]) {
        const char *equals = strchr (arg + 2, '=');
        size_t size = equals ? (size_t) (equals - arg - 2) : strlen (arg + 2);
        use->setting = settings_by_flag (arg + 2, size);
        snprintf (shown_buffer, sizeof (shown_buffer), "%.*s", (int) size + 2, arg);
        shown = shown_buffer;
        if (use->setting && equals && !use->setting->value)
            return s_error (err, err_size, "%s takes no value", shown);
        use->value = equals ? equals + 1 : NULL;
    }
    else if (arg [0] == '-' && arg [1])
        use->setting = arg [2] == 0 ? settings_by_short_flag (arg [1]) : NULL;
    else
        return s_error (err, err_size, "unexpected argument \"%s\" (see evmtap %s --help)", arg,
                        command);
    if (!use->setting)
        return s_error (err, err_size, "unknown option %s (see evmtap %s --help)", shown, command);
    if (use->setting->value && !use->value) {
        //  "--config --workers 4" forgot the file: do not take the next flag for it.
        const char *next = *index + 1 < argc ? argv [*index + 1] : NULL;
        if (!next || (next [0] == '-' && next [1] == '-' && next [2]))
            return s_error (err, err_size, "%s: missing value", shown);
        use->value = next;
        (*index)++;
    }
    return 0;
}

//  Checks every flag on scratch, options with one chain, so that a bad flag is reported even
//  when the file is also bad, and --help wins over both. Keeps in uses the flags to apply to
//  the real options, and in *print the first flag that prints instead of running. Returns
//  0, or -1 with the first error in err.
static int
s_check_flags (options_t *scratch, setting_command_t command, int argc, char **argv,
               s_flag_use_t *uses, size_t *use_count, const setting_t **print, char *err,
               size_t err_size)
{
    chain_options_t *chain = &scratch->chains [0];
    char reason [256];
    for (int index = 1; index < argc; index++) {
        s_flag_use_t use;
        if (s_read_flag (argc, argv, &index, &use, err, err_size))
            continue;
        if (!settings_for (use.setting, command)) {
            s_error (err, err_size, "--%s does not apply to evmtap %s (see evmtap %s --help)",
                     use.setting->flag, argv [0], argv [0]);
            continue;
        }
        if (use.setting->action != SETTING_STORE) {
            if (!*print)
                *print = use.setting;
            continue;
        }
        if (settings_apply (use.setting, scratch, chain, use.value, reason, sizeof (reason))) {
            s_error (err, err_size, "--%s: %s", use.setting->flag, reason);
            continue;
        }
        uses [(*use_count)++] = use;
    }
    if (chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET && chain->from > chain->to)
        s_error (err, err_size, "--to: %" PRId64 " is below --from %" PRId64, chain->to,
                 chain->from);
    return *err ? -1 : 0;
}

//  True when uses [index] is the first use of its flag.
static bool
s_first_use (const s_flag_use_t *uses, size_t index)
{
    for (size_t earlier = 0; earlier < index; earlier++)
        if (uses [earlier].setting == uses [index].setting)
            return false;
    return true;
}

//  Applies the checked flags over what the file set; flags is the chain the flags alone
//  made (on the scratch options), to tell which side of a conflict a flag is.
static int
s_apply_flags (options_t *self, const s_flag_use_t *uses, size_t use_count,
               const chain_options_t *flags, char *err, size_t err_size)
{
    //  A chain flag is meaningless when the file defines several chains.
    for (size_t index = 0; index < use_count; index++)
        if (uses [index].setting->scope == SETTING_CHAIN && self->chain_count > 1)
            return s_error (err, err_size,
                            "--%s applies to one chain; the config file defines "
                            "%zu: set it per chain in %s",
                            uses [index].setting->flag, self->chain_count, self->config_file);
    if (self->chain_count == 0)
        s_chain_add (self);
    chain_options_t *chain = &self->chains [0];
    char reason [256];
    for (size_t index = 0; index < use_count; index++) {
        if (settings_repeats (uses [index].setting) && s_first_use (uses, index))
            settings_clear (uses [index].setting, self, chain);
        int rc = settings_apply (uses [index].setting, self, chain, uses [index].value, reason,
                                 sizeof (reason));
        assert (rc == 0);    //  the scratch options took the same value
        int key_index = key_settings_index (uses [index].setting);
        if (key_index >= 0)
            snprintf (chain->key_origin [key_index], sizeof (chain->key_origin [key_index]), "--%s",
                      uses [index].setting->flag);
    }
    //  A flag may have met a file setting it does not fit with.
    if (chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET && chain->from > chain->to) {
        if (flags->from != OPTIONS_UNSET)
            return s_error (err, err_size, "--from: %" PRId64 " is above to = %" PRId64 " in %s",
                            chain->from, chain->to, self->config_file);
        return s_error (err, err_size, "--to: %" PRId64 " is below from = %" PRId64 " in %s",
                        chain->to, chain->from, self->config_file);
    }
    const char *url = s_url_missing_key (chain);
    if (url)
        return s_error (err, err_size,
                        "--rpc: \"%s\" needs {key} but no key names are given "
                        "(--keys NAME,...)",
                        url);
    s_apply_defaults (self);
    return key_settings_resolve (self, err, err_size);
}

//  What a run without flags or file has, with its one chain: the defaults --help shows.
static options_t *
s_defaults_new (void)
{
    options_t *defaults = options_new ();
    s_chain_add (defaults);
    s_apply_defaults (defaults);
    return defaults;
}

//  The settings tables of docs/config.md, from the settings table.
static void
s_print_docs (FILE *out)
{
    options_t *defaults = s_defaults_new ();
    settings_print_docs (out, defaults);
    options_destroy (&defaults);
}

//  Parses the command line of command (argv[0] is its name) as options_parse_run says.
static int
s_parse (options_t *self, setting_command_t command, int argc, char **argv, FILE *out, char *err,
         size_t err_size)
{
    assert (self);
    assert (err && err_size);
    *err = 0;
    s_flag_use_t *uses = (s_flag_use_t *) zmalloc ((argc + 1) * sizeof (s_flag_use_t));
    size_t use_count = 0;
    const setting_t *print = NULL;
    options_t *scratch = options_new ();
    s_chain_add (scratch);
    int rc = s_check_flags (scratch, command, argc, argv, uses, &use_count, &print, err, err_size);
    if (print) {
        if (print->action == SETTING_PRINT_HELP && command == SETTING_BACKFILL)
            options_print_backfill_usage (out ? out : stdout);
        else if (print->action == SETTING_PRINT_HELP)
            options_print_run_usage (out ? out : stdout);
        else
            s_print_docs (out ? out : stdout);
        *err = 0;
        rc = 1;
    }
    else if (rc == 0 && scratch->config_file)
        rc = options_load_file (self, scratch->config_file, err, err_size);
    if (rc == 0)
        rc = s_apply_flags (self, uses, use_count, &scratch->chains [0], err, err_size);
    options_destroy (&scratch);
    free (uses);
    return rc;
}

int
options_parse_run (options_t *self, int argc, char **argv, FILE *out, char *err, size_t err_size)
{
    return s_parse (self, SETTING_RUN, argc, argv, out, err, err_size);
}

int
options_parse_backfill (options_t *self, int argc, char **argv, FILE *out, char *err,
                        size_t err_size)
{
    int rc = s_parse (self, SETTING_BACKFILL, argc, argv, out, err, err_size);
    //  A range is what backfill is: every chain needs both ends.
    for (size_t index = 0; rc == 0 && index < self->chain_count; index++) {
        chain_options_t *chain = &self->chains [index];
        if (chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET)
            continue;
        const char *missing = chain->from == OPTIONS_UNSET ? "from" : "to";
        if (self->config_file)
            rc = s_error (err, err_size, "%s: chain %s: %s is required (with one chain: --%s)",
                          self->config_file, chain->name ? chain->name : "(unnamed)", missing,
                          missing);
        else
            rc = s_error (err, err_size, "--%s is required: evmtap backfill --from A --to B",
                          missing);
    }
    return rc;
}

void
options_print_run_usage (FILE *out)
{
    assert (out);
    fprintf (
        out,
        "Usage: evmtap run [--config FILE] [flags]\n"
        "\n"
        "Follows a chain's head (catching up from --from when given), classifies every transaction and\n"
        "publishes blocks and transactions to the sink. Flags describe one chain and\n"
        "override the config file; several chains need the config file (docs/config.md).\n"
        "Exit status: 0 drained, 1 failure, 2 usage or config error, 3 stopped with blocks\n"
        "undelivered.\n"
        "\n");
    options_t *defaults = s_defaults_new ();
    settings_print_help (out, defaults, SETTING_RUN);
    options_destroy (&defaults);
    fprintf (
        out,
        "\n"
        "Both --flag VALUE and --flag=VALUE work. Key secrets never come from flags or the file:\n"
        "  EVMTAP_KEY_<NAME>           the secret of key NAME, upper-cased with '-' as '_'\n"
        "                              (key api_key_1: EVMTAP_KEY_API_KEY_1)\n"
        "  <secrets-dir>/<name>        otherwise, e.g. a Docker secret /run/secrets/api_key_1\n"
        "\n"
        "SIGHUP reads the --watchlist files again: the next block uses the new lists (a\n"
        "malformed file is logged with FILE:LINE and the previous lists stay).\n");
}

void
options_print_backfill_usage (FILE *out)
{
    assert (out);
    fprintf (
        out,
        "Usage: evmtap backfill --from A --to B [--config FILE] [flags]\n"
        "\n"
        "Publishes blocks A to B of a chain (every chain of the config file: each with its from\n"
        "and to) to the same topics as evmtap run, with the same workers, key pool and sinks,\n"
        "then exits 0. Finished blocks are checkpointed in the data dir: started again with\n"
        "the same command after any stop, even SIGKILL, it resumes after the last block\n"
        "published, and a finished backfill says so and exits 0 at once. Progress goes to\n"
        "stderr: a bar on a terminal, a line every --progress-interval otherwise. Behind a\n"
        "running evmtap run, give the backfill its own --data-dir (one process per data dir).\n"
        "A config file's run-only settings (delivery, confirmations) are ignored.\n"
        "Exit status: 0 done, 1 failure, 2 usage or config error, 3 stopped with blocks\n"
        "undelivered.\n"
        "\n");
    options_t *defaults = s_defaults_new ();
    settings_print_help (out, defaults, SETTING_BACKFILL);
    options_destroy (&defaults);
    fprintf (out,
             "\n"
             "Both --flag VALUE and --flag=VALUE work. Key secrets come from EVMTAP_KEY_<NAME> or\n"
             "<secrets-dir>/<name>, as for evmtap run (evmtap run --help).\n");
}

const char *
options_flag (size_t index, char *short_flag)
{
    //  The index-th flag --help lists: hidden ones are left out.
    const setting_t *setting;
    for (size_t row = 0; (setting = settings_at (row)); row++)
        if (setting->help && settings_for (setting, SETTING_RUN) && index-- == 0) {
            if (short_flag)
                *short_flag = setting->short_flag;
            return setting->flag;
        }
    return NULL;
}
