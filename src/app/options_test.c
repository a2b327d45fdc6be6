/*  options_test: the selftest of options, kept apart so options.c stays small: every flag
    and file setting parsed and refused with its exact message, config files of one and
    several chains, flags over the file, the usage text, the settings table that both parse
    through and that prints docs/config.md's tables, and the shipped example configs. */
#include "evmtap.h"
#include "kafka_sink.h"
#include "job.h"
#include "options.h"
#include "settings.h"
#include "sink.h"

//  Parses `evmtap run` followed by the NULL-terminated arguments into a fresh options_t.
static int
s_run (options_t **options_p, char *err, size_t err_size, FILE *out, ...)
{
    char *argv [64] = {"run"};
    int argc = 1;
    va_list args;
    va_start (args, out);
    const char *arg;
    while ((arg = va_arg (args, const char *)) != NULL) {
        assert (argc < 63);
        argv [argc++] = (char *) arg;
    }
    va_end (args);
    options_destroy (options_p);
    *options_p = options_new ();
    return options_parse_run (*options_p, argc, argv, out, err, err_size);
}

#define S_RUN(options, err, ...) s_run (&(options), (err), sizeof (err), NULL, __VA_ARGS__, NULL)

//  Parses `evmtap backfill` followed by the NULL-terminated arguments; --help into out.
static int
s_backfill (options_t **options_p, char *err, size_t err_size, FILE *out, ...)
{
    char *argv [64] = {"backfill"};
    int argc = 1;
    va_list args;
    va_start (args, out);
    const char *arg;
    while ((arg = va_arg (args, const char *)) != NULL) {
        assert (argc < 63);
        argv [argc++] = (char *) arg;
    }
    va_end (args);
    options_destroy (options_p);
    *options_p = options_new ();
    return options_parse_backfill (*options_p, argc, argv, out, err, err_size);
}

#define S_BACKFILL(options, err, ...) \
    s_backfill (&(options), (err), sizeof (err), NULL, __VA_ARGS__, NULL)

//  The arguments must fail with exactly this message.
#define S_EXPECT_ERROR(expected, ...)                                                    \
    do {                                                                                 \
        options_t *failing = NULL;                                                       \
        char failure [512];                                                              \
        int failing_rc = S_RUN (failing, failure, __VA_ARGS__);                          \
        if (failing_rc != -1 || !streq (failure, (expected))) {                          \
            fprintf (stderr, "options: expected '%s'\n              got '%s' (rc %d)\n", \
                     (expected), failure, failing_rc);                                   \
            assert (false);                                                              \
        }                                                                                \
        options_destroy (&failing);                                                      \
    } while (0)

static char *
s_write_file (const char *dir, const char *name, const char *text)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    assert (path);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
    return path;
}

//  Loads text as a config file that must fail with "PATH:expected".
static void
s_expect_file_error (const char *dir, const char *text, const char *expected)
{
    char *path = s_write_file (dir, "bad.cfg", text);
    options_t *options = options_new ();
    char err [512];
    char *full = zsys_sprintf ("%s:%s", path, expected);
    int rc = options_load_file (options, path, err, sizeof (err));
    if (rc != -1 || !streq (err, full)) {
        fprintf (stderr, "options: expected '%s'\n              got '%s' (rc %d)\n", full, err, rc);
        assert (false);
    }
    zstr_free (&full);
    options_destroy (&options);
    unlink (path);
    zstr_free (&path);
}

static void
s_test_flags (void)
{
    options_t *options = NULL;
    char err [512];

    //  Defaults: one chain, named later from the node's chain id.
    assert (S_RUN (options, err, NULL) == 0);
    assert (options->config_file == NULL);
    assert (streq (options->data_dir, "./evmtap-data"));
    assert (options->sink == SINK_FILES && options->sink_target == NULL);
    assert (!options->format_msgpack);
    assert (options->drain_timeout_ms == 10000);
    assert (options->rpc_timeout_ms == 10000);
    assert (streq (options->secrets_dir, "/run/secrets"));
    assert (!options->redis && !options->listen && !options->control && !options->metrics);
    assert (options->watchlist_count == 0);
    assert (!options->verbose);
    assert (options->chain_count == 1);
    chain_options_t *chain = &options->chains [0];
    assert (chain->name == NULL);
    assert (chain->chain_id == 0);
    assert (chain->rpc_count == 1 && streq (chain->rpc [0], "http://127.0.0.1:8545"));
    assert (chain->key_count == 0);
    assert (chain->key_rps == 0 && chain->key_daily == 0);
    assert (chain->workers == 4);
    assert (chain->from == OPTIONS_UNSET && chain->to == OPTIONS_UNSET);
    assert (chain->fetch == FETCH_BLOCK && !chain->receipts);
    assert (chain->delivery == DELIVERY_INSTANT && chain->confirmations == OPTIONS_UNSET);

    //  Every flag, in both spellings.
    assert (S_RUN (options, err, "--rpc", "https://mainnet.infura.io/v3/{key}",
                   "--rpc=https://eth-mainnet.g.alchemy.com/v2/{key}", "--keys",
                   "api_key_1, api_key_2,infura-3", "--key-rps=10.5", "--key-daily", "100000",
                   "--workers=8", "--redis", "redis://127.0.0.1:6379", "--from", "19000000",
                   "--to=19000100", "--fetch", "hashes", "--receipts", "--delivery=finalized",
                   "--confirmations", "0", "--chain", "main-net_2", "--chain-id=1", "--data-dir",
                   "/tmp/d", "--sink=kafka:k1:9092,k2:9092", "--format", "msgpack",
                   "--listen=tcp://0.0.0.0:5555", "--control", "ipc:///tmp/evmtap.ctl",
                   "--metrics=127.0.0.1:9100", "--watchlist", "ofac.txt", "--watchlist=mine.txt",
                   "--drain-timeout", "2.5", "--rpc-timeout=0.25", "--secrets-dir", "/tmp/secrets",
                   "--abis", "/tmp/abis", "--signatures", "/tmp/f.tsv",
                   "--event-signatures=/tmp/e.tsv", "-v")
            == 0);
    assert (streq (options->abis, "/tmp/abis") && streq (options->signatures, "/tmp/f.tsv"));
    assert (streq (options->event_signatures, "/tmp/e.tsv"));
    chain = &options->chains [0];
    assert (options->chain_count == 1);
    assert (chain->rpc_count == 2);
    assert (streq (chain->rpc [0], "https://mainnet.infura.io/v3/{key}"));
    assert (streq (chain->rpc [1], "https://eth-mainnet.g.alchemy.com/v2/{key}"));
    assert (chain->key_count == 3);
    assert (streq (chain->keys [0], "api_key_1") && streq (chain->keys [1], "api_key_2"));
    assert (streq (chain->keys [2], "infura-3"));
    assert (chain->key_rps == 10.5 && chain->key_daily == 100000);
    assert (chain->workers == 8);
    assert (streq (options->redis, "redis://127.0.0.1:6379"));
    assert (chain->from == 19000000 && chain->to == 19000100);
    assert (chain->fetch == FETCH_HASHES && chain->receipts);
    assert (chain->delivery == DELIVERY_FINALIZED && chain->confirmations == 0);
    assert (streq (chain->name, "main-net_2") && chain->chain_id == 1);
    assert (streq (options->data_dir, "/tmp/d"));
    assert (options->sink == SINK_KAFKA && streq (options->sink_target, "k1:9092,k2:9092"));
    assert (options->kafka.linger_ms == KAFKA_SINK_LINGER_MS
            && streq (options->kafka.compression, KAFKA_SINK_COMPRESSION)
            && options->kafka.replication == -1);
    assert (options->format_msgpack);
    assert (streq (options->listen, "tcp://0.0.0.0:5555"));
    assert (streq (options->control, "ipc:///tmp/evmtap.ctl"));
    assert (streq (options->metrics, "127.0.0.1:9100"));
    assert (options->watchlist_count == 2 && streq (options->watchlists [1], "mine.txt"));
    assert (options->drain_timeout_ms == 2500 && options->rpc_timeout_ms == 250);
    assert (streq (options->secrets_dir, "/tmp/secrets"));
    assert (options->verbose);

    //  Sinks, and the last of a repeated flag wins.
    assert (S_RUN (options, err, "--kafka-linger-ms", "20", "--kafka-compression=zstd",
                   "--kafka-replication", "3", "--kafka-queue-messages", "500",
                   "--kafka-message-timeout-ms", "0")
            == 0);
    assert (options->kafka.linger_ms == 20 && streq (options->kafka.compression, "zstd")
            && options->kafka.replication == 3 && options->kafka.queue_messages == 500
            && options->kafka.message_timeout_ms == 0);
    assert (S_RUN (options, err, "--sink", "stdout", "--verbose") == 0);
    assert (options->sink == SINK_STDOUT && !options->sink_target && options->verbose);
    assert (S_RUN (options, err, "--sink", "files:/var/topics", "--workers", "2", "--workers",
                   "256", "--listen", "tcp://127.0.0.1:*", "--control=tcp://127.0.0.1:0",
                   "--metrics", "[::1]:0", "--drain-timeout=0", "--key-rps", "0")
            == 0);
    assert (options->sink == SINK_FILES && streq (options->sink_target, "/var/topics"));
    assert (options->chains [0].workers == 256);
    assert (options->drain_timeout_ms == 0);
    assert (S_RUN (options, err, "--sink=files", "--from", "0", "--to", "0", "--chain-id",
                   "18446744073709551615")
            == 0);
    assert (options->sink == SINK_FILES && options->sink_target == NULL);
    assert (options->chains [0].from == 0 && options->chains [0].to == 0);
    assert (options->chains [0].chain_id == UINT64_MAX);
    assert (S_RUN (options, err, "--rpc", "http://localhost:8545/", "--keys", "k") == 0);

    //  --help wins, even over bad flags, and leaves no error.
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream (&text, &text_size);
    assert (out);
    assert (s_run (&options, err, sizeof (err), out, "--workers", "0", "--bogus", "-h", NULL) == 1);
    assert (*err == 0);
    assert (s_run (&options, err, sizeof (err), out, "--help", NULL) == 1);
    fclose (out);
    assert (strstr (text, "Usage: evmtap run"));
    char letter;
    const char *long_flag;
    for (size_t index = 0; (long_flag = options_flag (index, &letter)); index++) {
        char flag [64];
        snprintf (flag, sizeof (flag), "  %s--%s ",
                  letter ? (char []) {'-', letter, ',', ' ', 0} : "", long_flag);
        if (!strstr (text, flag)) {
            fprintf (stderr, "options: usage lacks '%s'\n", flag);
            assert (false);
        }
    }
    assert (strstr (text, "EVMTAP_KEY_<NAME>"));
    assert (strstr (text, "(default http://127.0.0.1:8545)"));
    assert (strstr (text, "(default ./evmtap-data)"));
    assert (strstr (text, "0 to 256 (default 4)"));
    //  Keep the usage readable on a terminal.
    for (char *line = text; *line;) {
        char *eol = strchr (line, '\n');
        assert (eol);
        assert (eol - line <= 100);
        line = eol + 1;
    }
    free (text);

    //  Every validation, one line each naming the flag and the value.
    S_EXPECT_ERROR ("--workers: \"abc\" is not a number from 0 to 256", "--workers", "abc");
    S_EXPECT_ERROR ("--workers: \"257\" is not a number from 0 to 256", "--workers", "257");
    S_EXPECT_ERROR ("--workers: \"-1\" is not a number from 0 to 256", "--workers", "-1");
    S_EXPECT_ERROR ("--workers: \" 4\" is not a number from 0 to 256", "--workers", " 4");
    S_EXPECT_ERROR ("--workers: \"4x\" is not a number from 0 to 256", "--workers", "4x");
    S_EXPECT_ERROR ("--workers: \"\" is not a number from 0 to 256", "--workers=");
    S_EXPECT_ERROR ("--workers: missing value", "--workers");
    S_EXPECT_ERROR ("--config: missing value", "--config", "--workers", "4");
    S_EXPECT_ERROR ("unknown option --foo (see evmtap run --help)", "--foo");
    S_EXPECT_ERROR ("unknown option --foo (see evmtap run --help)", "--foo=1");
    S_EXPECT_ERROR ("unknown option -x (see evmtap run --help)", "-x");
    S_EXPECT_ERROR ("unexpected argument \"extra\" (see evmtap run --help)", "extra");
    S_EXPECT_ERROR ("unexpected argument \"-\" (see evmtap run --help)", "-");
    S_EXPECT_ERROR ("unknown option -vv (see evmtap run --help)", "-vv");
    S_EXPECT_ERROR ("--receipts takes no value", "--receipts=yes");
    S_EXPECT_ERROR ("--verbose takes no value", "--verbose=1");
    //  The first error is the one reported.
    S_EXPECT_ERROR ("--from: \"x\" is not a block number", "--from", "x", "--to", "y");
    S_EXPECT_ERROR ("--from: \"-5\" is not a block number", "--from", "-5");
    S_EXPECT_ERROR ("--from: \"0x10\" is not a block number", "--from", "0x10");
    S_EXPECT_ERROR ("--to: \"9223372036854775808\" is not a block number", "--to",
                    "9223372036854775808");
    S_EXPECT_ERROR ("--to: \"99999999999999999999\" is not a block number", "--to",
                    "99999999999999999999");
    S_EXPECT_ERROR ("--to: 5 is below --from 10", "--to", "5", "--from", "10");
    S_EXPECT_ERROR ("--key-rps: \"-1\" is not a number from 0 (unlimited) up", "--key-rps", "-1");
    S_EXPECT_ERROR ("--key-rps: \"1e3\" is not a number from 0 (unlimited) up", "--key-rps=1e3");
    S_EXPECT_ERROR ("--key-daily: \"nan\" is not a number from 0 (unlimited) up", "--key-daily",
                    "nan");
    S_EXPECT_ERROR ("--key-daily: \"1.2.3\" is not a number from 0 (unlimited) up", "--key-daily",
                    "1.2.3");
    S_EXPECT_ERROR ("--keys: \"a,,b\" is not a list of key names ([A-Za-z0-9_-]+, separated by "
                    "commas)",
                    "--keys", "a,,b");
    S_EXPECT_ERROR ("--keys: \"a b\" is not a list of key names ([A-Za-z0-9_-]+, separated by "
                    "commas)",
                    "--keys", "a b");
    S_EXPECT_ERROR ("--keys: \"k.1\" is not a list of key names ([A-Za-z0-9_-]+, separated by "
                    "commas)",
                    "--keys", "k.1");
    S_EXPECT_ERROR ("--keys: \"\" is not a list of key names ([A-Za-z0-9_-]+, separated by "
                    "commas)",
                    "--keys=");
    S_EXPECT_ERROR ("--keys: \"a,\" is not a list of key names ([A-Za-z0-9_-]+, separated by "
                    "commas)",
                    "--keys=a,");
    S_EXPECT_ERROR ("--keys: key a is listed twice in \"a,b,a\"", "--keys", "a,b,a");
    S_EXPECT_ERROR ("--chain: \"main.net\" is not a chain name ([A-Za-z0-9_-]+)", "--chain",
                    "main.net");
    S_EXPECT_ERROR ("--chain: \"\" is not a chain name ([A-Za-z0-9_-]+)", "--chain=");
    S_EXPECT_ERROR ("--chain-id: \"0\" is not a chain id (a decimal number from 1)", "--chain-id",
                    "0");
    S_EXPECT_ERROR ("--chain-id: \"0x1\" is not a chain id (a decimal number from 1)", "--chain-id",
                    "0x1");
    S_EXPECT_ERROR ("--fetch: \"blocks\" is not block or hashes", "--fetch", "blocks");
    S_EXPECT_ERROR ("--delivery: \"final\" is not instant or finalized", "--delivery", "final");
    S_EXPECT_ERROR ("--confirmations: \"10001\" is not a number from 0 to 10000", "--confirmations",
                    "10001");
    S_EXPECT_ERROR ("--rpc: \"ws://127.0.0.1:8545\" is not an http:// or https:// URL", "--rpc",
                    "ws://127.0.0.1:8545");
    S_EXPECT_ERROR ("--rpc: \"http://\" is not an http:// or https:// URL", "--rpc", "http://");
    S_EXPECT_ERROR ("--rpc: \"https://x.io/v3/{apikey}\" has a placeholder other than {key}",
                    "--rpc", "https://x.io/v3/{apikey}", "--keys", "a");
    S_EXPECT_ERROR ("--rpc: \"http://a b\" has a blank or control character", "--rpc",
                    "http://a b");
    S_EXPECT_ERROR ("--rpc: more than 8 URLs", "--rpc", "http://a", "--rpc", "http://a", "--rpc",
                    "http://a", "--rpc", "http://a", "--rpc", "http://a", "--rpc", "http://a",
                    "--rpc", "http://a", "--rpc", "http://a", "--rpc", "http://a");
    S_EXPECT_ERROR ("--rpc: \"https://x.io/v3/{key}\" needs {key} but no key names are given "
                    "(--keys NAME,...)",
                    "--rpc", "https://x.io/v3/{key}");
    S_EXPECT_ERROR ("--sink: \"kafka\" is not files, files:DIR, stdout or kafka:BROKERS", "--sink",
                    "kafka");
    S_EXPECT_ERROR ("--sink: \"files:\" is not files, files:DIR, stdout or kafka:BROKERS", "--sink",
                    "files:");
    S_EXPECT_ERROR ("--format: \"JSON\" is not json or msgpack", "--format", "JSON");
    S_EXPECT_ERROR ("--kafka-linger-ms: \"-1\" is not a number of milliseconds from 0 to 900000",
                    "--kafka-linger-ms", "-1");
    S_EXPECT_ERROR ("--kafka-compression: \"brotli\" is not none, gzip, snappy, lz4 or zstd",
                    "--kafka-compression", "brotli");
    S_EXPECT_ERROR ("--kafka-replication: \"0\" is not default or a number from 1 to 32767",
                    "--kafka-replication", "0");
    S_EXPECT_ERROR ("--redis: \"127.0.0.1:6379\" is not a redis://HOST[:PORT] URL", "--redis",
                    "127.0.0.1:6379");
    S_EXPECT_ERROR ("--listen: \"127.0.0.1:5555\" is not tcp://HOST:PORT", "--listen",
                    "127.0.0.1:5555");
    S_EXPECT_ERROR ("--listen: \"tcp://:5555\" is not tcp://HOST:PORT", "--listen=tcp://:5555");
    S_EXPECT_ERROR ("--listen: \"tcp://h:65536\" is not tcp://HOST:PORT", "--listen",
                    "tcp://h:65536");
    S_EXPECT_ERROR ("--control: \"udp://x:1\" is not tcp://HOST:PORT, ipc://PATH or "
                    "inproc://NAME",
                    "--control", "udp://x:1");
    S_EXPECT_ERROR ("--metrics: \"9100\" is not HOST:PORT", "--metrics", "9100");
    S_EXPECT_ERROR ("--metrics: \"h:*\" is not HOST:PORT", "--metrics", "h:*");
    S_EXPECT_ERROR ("--watchlist: \"\" is not a file name", "--watchlist=");
    S_EXPECT_ERROR ("--drain-timeout: \"3601\" is not a number of seconds from 0 to 3600",
                    "--drain-timeout", "3601");
    S_EXPECT_ERROR ("--rpc-timeout: \"0\" is not a number of seconds from 0.001 to 600",
                    "--rpc-timeout", "0");
    S_EXPECT_ERROR ("--rpc-timeout: \"10s\" is not a number of seconds from 0.001 to 600",
                    "--rpc-timeout", "10s");
    S_EXPECT_ERROR ("--data-dir: \"\" is not a directory", "--data-dir=");
    S_EXPECT_ERROR ("--secrets-dir: \"\" is not a directory", "--secrets-dir=");
    S_EXPECT_ERROR ("--config: \"\" is not a file name", "--config=");
    S_EXPECT_ERROR ("--abis: \"\" is not a directory", "--abis=");
    S_EXPECT_ERROR ("--signatures: \"\" is not a file name", "--signatures=");
    S_EXPECT_ERROR ("--event-signatures: \"\" is not a file name", "--event-signatures=");
    S_EXPECT_ERROR ("--key-costs: empty: requests, infura, alchemy or a cost table file",
                    "--key-costs=");
    S_EXPECT_ERROR ("--key-rotate: \"86401\" is not a number of seconds from 0 (never) to 86400",
                    "--key-rotate", "86401");
    S_EXPECT_ERROR ("--key-rotate-requests: \"-1\" is not a number of requests from 0 (never)",
                    "--key-rotate-requests", "-1");
    S_EXPECT_ERROR ("--kafka-batch-size: \"0\" is not a number of bytes from 1 to 2147483647",
                    "--kafka-batch-size", "0");
    S_EXPECT_ERROR ("--kafka-queue-kbytes: \"x\" is not a number of kilobytes from 1 to "
                    "2147483647",
                    "--kafka-queue-kbytes", "x");
    S_EXPECT_ERROR ("--chain-id: \"18446744073709551616\" is not a chain id (a decimal number "
                    "from 1)",
                    "--chain-id", "18446744073709551616");
    S_EXPECT_ERROR ("--help takes no value", "--help=1");
    S_EXPECT_ERROR ("--watchlist: more than 16 watchlists", "--watchlist", "a", "--watchlist", "b",
                    "--watchlist", "c", "--watchlist", "d", "--watchlist", "e", "--watchlist", "f",
                    "--watchlist", "g", "--watchlist", "h", "--watchlist", "i", "--watchlist", "j",
                    "--watchlist", "k", "--watchlist", "l", "--watchlist", "m", "--watchlist", "n",
                    "--watchlist", "o", "--watchlist", "p", "--watchlist", "q");
    char many_keys [65 * 4] = "k0";
    for (int index = 1; index <= OPTIONS_MAX_KEYS; index++)
        snprintf (many_keys + strlen (many_keys), sizeof (many_keys) - strlen (many_keys), ",k%d",
                  index);
    S_EXPECT_ERROR ("--keys: more than 64 key names", "--keys", many_keys);
    options_destroy (&options);

    char name [32];
    options_default_chain_name (1, name, sizeof (name));
    assert (streq (name, "mainnet"));
    options_default_chain_name (31337, name, sizeof (name));
    assert (streq (name, "anvil"));
    options_default_chain_name (11155111, name, sizeof (name));
    assert (streq (name, "chain11155111"));
    options_default_chain_name (UINT64_MAX, name, sizeof (name));
    assert (streq (name, "chain18446744073709551615"));
    //  A short buffer truncates rather than overflows (volatile: keep the compiler from
    //  proving the truncation at build time and failing a release build on it).
    volatile size_t short_size = 4;
    options_default_chain_name (137, name, short_size);
    assert (streq (name, "cha"));
}

//  The settings table: each row found by its flag and its name, the file's name the flag's
//  with '_' (what "did you mean" relies on), every default good as a flag and in its file
//  section (written in dir), and the docs/config.md tables printed by the hidden
//  --help-config-md.
static void
s_test_settings (const char *dir)
{
    options_t *options = NULL;
    char err [512];
    const setting_t *setting;
    for (size_t index = 0; (setting = settings_at (index)); index++) {
        assert (settings_by_flag (setting->flag, strlen (setting->flag)) == setting);
        assert (!setting->short_flag || settings_by_short_flag (setting->short_flag) == setting);
        assert (setting->help || setting->action == SETTING_PRINT_DOCS);
        assert ((setting->scope == SETTING_FLAG) == (setting->doc == NULL));
        if (setting->name) {
            assert (settings_by_name (setting->name) == setting);
            char underscored [64];
            snprintf (underscored, sizeof (underscored), "%s", setting->flag);
            for (char *scan = underscored; *scan; scan++)
                if (*scan == '-')
                    *scan = '_';
            assert (streq (underscored, setting->name));
        }
        //  A backfill-only flag is refused by run (options_backfill_test checks it there).
        if (!setting->initial || !settings_for (setting, SETTING_RUN))
            continue;
        //  A flag without value (--receipts) gives its default only in the file.
        char *flag = zsys_sprintf ("--%s=%s", setting->flag, setting->initial);
        assert (!setting->value || S_RUN (options, err, flag) == 0);
        zstr_free (&flag);
        char *text = setting->scope == SETTING_CHAIN
                         ? zsys_sprintf ("chains\n    m\n        %s = '%s'\n", setting->name,
                                         setting->initial)
                         : zsys_sprintf ("evmtap\n    %s = '%s'\n", setting->name,
                                         setting->initial);
        char *path = s_write_file (dir, "default.cfg", text);
        assert (S_RUN (options, err, "--config", path) == 0);
        unlink (path);
        zstr_free (&path);
        zstr_free (&text);
    }

    //  The tables: printed instead of running, over bad flags too, never listed by --help.
    char *tables = NULL;
    size_t tables_size = 0;
    FILE *out = open_memstream (&tables, &tables_size);
    assert (out);
    assert (s_run (&options, err, sizeof (err), out, "--workers", "0", "--help-config-md", NULL)
            == 1);
    assert (*err == 0);
    fclose (out);
    const char *start = "| setting | flag | default | meaning |\n|---|---|---|---|\n"
                        "| `data_dir` | `--data-dir DIR` | `./evmtap-data` | ";
    assert (strncmp (tables, start, strlen (start)) == 0);
    assert (strstr (tables, "\n\n| setting | flag | default | meaning |\n"));
    assert (strstr (tables, "| `event_signatures` | `--event-signatures FILE` | none | "));
    assert (strstr (tables, "| `sink` | `--sink files[:DIR]\\|stdout\\|kafka:BROKERS` | "
                            "`files` | "));
    assert (strstr (tables, "| `kafka_linger_ms` | `--kafka-linger-ms MS` | `5` | producer "
                            "`linger.ms`, 0 to 900000: "));
    assert (strstr (tables, "| `kafka_replication` | `--kafka-replication N\\|default` | "
                            "`default` | "));
    assert (strstr (tables, "| `rpc` | `--rpc URL` | `http://127.0.0.1:8545` | "));
    assert (strstr (tables, "| `drain_timeout` | `--drain-timeout SECONDS` | `10` | "));
    assert (strstr (tables, "| `key_rps` | `--key-rps N` | `0` (unlimited) | "));
    assert (strstr (tables, "| (section name) | `--chain NAME` | "));
    assert (!strstr (tables, "--config") && !strstr (tables, "--verbose"));
    free (tables);
    const char *long_flag;
    for (size_t index = 0; (long_flag = options_flag (index, NULL)); index++)
        assert (!streq (long_flag, "help-config-md"));
    options_destroy (&options);
}

static void
s_test_file (void)
{
    char dir [] = "/tmp/evmtap-options-XXXXXX";
    assert (mkdtemp (dir));
    char err [512];
    options_t *options = NULL;

    //  A full single-chain file.
    char *one = s_write_file (dir, "one.cfg",
                              "# one chain\n"
                              "evmtap\n"
                              "    data_dir = /var/lib/evmtap\n"
                              "    sink = \"kafka:localhost:9092\"   # brokers\n"
                              "    format = msgpack\n"
                              "    drain_timeout = 5\n"
                              "    rpc_timeout = 2.5\n"
                              "    secrets_dir = /tmp/s\n"
                              "    redis = redis://127.0.0.1:6379\n"
                              "    listen = tcp://0.0.0.0:5555\n"
                              "    control = tcp://127.0.0.1:5556\n"
                              "    metrics = 127.0.0.1:9100\n"
                              "    watchlist = ofac.txt\n"
                              "    watchlist = 'my list.txt'\n"
                              "chains\n"
                              "    mainnet\n"
                              "        chain_id = 1\n"
                              "        rpc = \"https://mainnet.infura.io/v3/{key}\"\n"
                              "        rpc = \"https://eth-mainnet.g.alchemy.com/v2/{key}\"\n"
                              "        keys = api_key_1, api_key_2\n"
                              "        key_rps = 10\n"
                              "        key_daily = 100000\n"
                              "        workers = 6\n"
                              "        fetch = hashes\n"
                              "        receipts = yes\n"
                              "        delivery = finalized\n"
                              "        confirmations = 64\n"
                              "        from = 100\n"
                              "        to = 200\n");
    options = options_new ();
    int rc = options_load_file (options, one, err, sizeof (err));
    if (rc)
        fprintf (stderr, "options: %s\n", err);
    assert (rc == 0);
    assert (streq (options->config_file, one));
    assert (streq (options->data_dir, "/var/lib/evmtap"));
    assert (options->sink == SINK_KAFKA && streq (options->sink_target, "localhost:9092"));
    assert (options->format_msgpack);
    assert (options->drain_timeout_ms == 5000 && options->rpc_timeout_ms == 2500);
    assert (streq (options->secrets_dir, "/tmp/s"));
    assert (streq (options->redis, "redis://127.0.0.1:6379"));
    assert (streq (options->listen, "tcp://0.0.0.0:5555"));
    assert (streq (options->control, "tcp://127.0.0.1:5556"));
    assert (streq (options->metrics, "127.0.0.1:9100"));
    assert (options->watchlist_count == 2 && streq (options->watchlists [1], "my list.txt"));
    assert (options->chain_count == 1);
    chain_options_t *chain = &options->chains [0];
    assert (streq (chain->name, "mainnet") && chain->chain_id == 1);
    assert (chain->rpc_count == 2);
    assert (streq (chain->rpc [1], "https://eth-mainnet.g.alchemy.com/v2/{key}"));
    assert (chain->key_count == 2 && streq (chain->keys [1], "api_key_2"));
    assert (chain->key_rps == 10 && chain->key_daily == 100000);
    assert (chain->workers == 6 && chain->fetch == FETCH_HASHES && chain->receipts);
    assert (chain->delivery == DELIVERY_FINALIZED && chain->confirmations == 64);
    assert (chain->from == 100 && chain->to == 200);
    options_destroy (&options);

    //  Flags override the file's single chain; list flags replace the file's lists.
    assert (S_RUN (options, err, "--config", one, "--workers", "9", "--rpc",
                   "http://127.0.0.1:8545", "--chain", "eth", "--from=150", "--data-dir", "/tmp/x",
                   "--sink", "stdout", "--watchlist", "other.txt", "--format=json", "--receipts")
            == 0);
    chain = &options->chains [0];
    assert (options->chain_count == 1);
    assert (streq (chain->name, "eth"));
    assert (chain->workers == 9 && chain->from == 150 && chain->to == 200);
    assert (chain->rpc_count == 1 && streq (chain->rpc [0], "http://127.0.0.1:8545"));
    assert (chain->key_count == 2);
    assert (chain->fetch == FETCH_HASHES);
    assert (streq (options->data_dir, "/tmp/x"));
    assert (options->sink == SINK_STDOUT && options->sink_target == NULL);
    assert (!options->format_msgpack);
    assert (options->watchlist_count == 1 && streq (options->watchlists [0], "other.txt"));
    assert (streq (options->redis, "redis://127.0.0.1:6379"));
    //  A {key} URL from a flag may use the file's keys.
    assert (S_RUN (options, err,
                   "--config="
                   "/dev/null",
                   NULL)
            == 0);
    assert (options->chain_count == 1 && options->chains [0].rpc_count == 1);
    assert (S_RUN (options, err, "--rpc", "https://x.io/{key}", "--config", one) == 0);
    assert (options->chains [0].rpc_count == 1 && options->chains [0].key_count == 2);
    //  Ranges are checked across the file and flags.
    char *expected = zsys_sprintf ("--from: 300 is above to = 200 in %s", one);
    S_EXPECT_ERROR (expected, "--config", one, "--from", "300");
    zstr_free (&expected);
    expected = zsys_sprintf ("--to: 50 is below from = 100 in %s", one);
    S_EXPECT_ERROR (expected, "--to", "50", "--config", one);
    zstr_free (&expected);
    //  A bad flag is reported before the file is read.
    S_EXPECT_ERROR ("--workers: \"x\" is not a number from 0 to 256", "--config", "/nonexistent",
                    "--workers", "x");
    S_EXPECT_ERROR ("/nonexistent:0: cannot open: No such file or directory", "--config",
                    "/nonexistent");

    //  A file without chains: flags define the chain.
    char *global = s_write_file (dir, "global.cfg", "evmtap\n    sink = stdout\n");
    assert (S_RUN (options, err, "--config", global, "--chain", "anvil", "--workers", "2") == 0);
    assert (options->chain_count == 1 && streq (options->chains [0].name, "anvil"));
    assert (options->chains [0].workers == 2 && options->sink == SINK_STDOUT);
    assert (streq (options->chains [0].rpc [0], "http://127.0.0.1:8545"));

    //  Several chains: chain settings per chain, chain flags refused, global flags fine.
    char *two = s_write_file (dir, "two.cfg",
                              "chains\n"
                              "    mainnet\n"
                              "        chain_id = 1\n"
                              "        rpc = https://mainnet.infura.io/v3/{key}\n"
                              "        keys = a,b\n"
                              "    polygon\n"
                              "        chain_id = 137\n"
                              "        workers = 2\n"
                              "    anvil-2\n");
    assert (S_RUN (options, err, "--config", two, "--data-dir", "/tmp/y", "--verbose") == 0);
    assert (options->chain_count == 3);
    assert (streq (options->chains [0].name, "mainnet") && options->chains [0].workers == 4);
    assert (streq (options->chains [1].name, "polygon") && options->chains [1].workers == 2);
    assert (options->chains [1].chain_id == 137);
    assert (streq (options->chains [1].rpc [0], "http://127.0.0.1:8545"));
    assert (streq (options->chains [2].name, "anvil-2"));
    assert (options->chains [2].key_count == 0);
    assert (streq (options->data_dir, "/tmp/y") && options->verbose);
    expected = zsys_sprintf ("--from applies to one chain; the config file defines 3: set it "
                             "per chain in %s",
                             two);
    S_EXPECT_ERROR (expected, "--from", "5", "--config", two, "--workers", "3");
    zstr_free (&expected);
    expected = zsys_sprintf ("--chain applies to one chain; the config file defines 3: set it "
                             "per chain in %s",
                             two);
    S_EXPECT_ERROR (expected, "--config", two, "--chain", "x");
    zstr_free (&expected);
    options_destroy (&options);

    //  Every file error names file, line and setting.
    s_expect_file_error (dir, "evmtap\n    workers = 4\n",
                         "2: evmtap/workers: a chain setting: set it below chains/NAME");
    s_expect_file_error (dir, "chains\n    main\n        data_dir = x\n",
                         "3: chains/main/data_dir: not a chain setting: set it in the evmtap "
                         "section");
    s_expect_file_error (dir,
                         "chains\n    mainnet\n        chain_id = 1\n\n"
                         "        workers = abc\n",
                         "5: chains/mainnet/workers: \"abc\" is not a number from 0 to 256");
    s_expect_file_error (dir, "chains\n    mainnet\n        wrokers = 4\n",
                         "3: chains/mainnet/wrokers: unknown setting (see docs/config.md)");
    s_expect_file_error (dir, "evmtap\n    data-dir = x\n",
                         "2: evmtap/data-dir: unknown setting; did you mean data_dir?");
    s_expect_file_error (dir, "chains\n    m\n        api_key = 0123abcd\n",
                         "3: chains/m/api_key: unknown setting; secrets are never read from "
                         "the config file: name the key in keys and set EVMTAP_KEY_<NAME> or "
                         "/run/secrets/<name>");
    s_expect_file_error (dir, "chains\n    m\n        key_secret = x\n",
                         "3: chains/m/key_secret: unknown setting; secrets are never read from "
                         "the config file: name the key in keys and set EVMTAP_KEY_<NAME> or "
                         "/run/secrets/<name>");
    s_expect_file_error (dir, "chains\n    m\n        name = x\n",
                         "3: chains/m/name: unknown setting (a chain's name is its section's "
                         "name)");
    s_expect_file_error (dir, "chains\n    m\n        workers = 2\n        workers = 3\n",
                         "4: chains/m/workers: set twice (first on line 3)");
    s_expect_file_error (dir, "chains\n    m\n        workers\n",
                         "3: chains/m/workers: needs a value (workers = ...)");
    s_expect_file_error (dir, "chains\n    m\n        workers = 2\n            x = 1\n",
                         "3: chains/m/workers: takes no settings below it (line 4 is indented "
                         "too far)");
    s_expect_file_error (dir, "chains\n    m\n        from = 10\n        to = 9\n",
                         "4: chains/m/to: the range from = 10 to 9 is empty");
    s_expect_file_error (dir, "chains\n    m\n        rpc = http://a/{key}\n",
                         "3: chains/m/rpc: \"http://a/{key}\" needs {key} but the chain has no "
                         "keys (keys = NAME,...)");
    s_expect_file_error (dir, "chains\n    m\n        keys = a;b\n",
                         "3: chains/m/keys: \"a;b\" is not a list of key names ([A-Za-z0-9_-]+, "
                         "separated by commas)");
    s_expect_file_error (dir, "chains\n    m\n        receipts = maybe\n",
                         "3: chains/m/receipts: \"maybe\" is not true or false");
    s_expect_file_error (dir, "chains\n    m\n        receipts =\n",
                         "3: chains/m/receipts: \"\" is not true or false");
    s_expect_file_error (dir, "chains\n    main.net\n",
                         "2: chains/main.net: \"main.net\" is not a chain name "
                         "([A-Za-z0-9_-]+)");
    s_expect_file_error (dir, "chains\n    m = 1\n",
                         "2: chains/m: a chain is a section: put its settings below it, "
                         "indented");
    s_expect_file_error (dir, "chains\n    workers = 1\n",
                         "2: chains/workers: workers is a setting, but chains holds chain "
                         "sections: indent it below a chain");
    s_expect_file_error (dir, "chains\n    m\n    m\n",
                         "3: chains/m: chain defined twice (first on line 2)");
    s_expect_file_error (dir, "# nothing yet\nchains\n",
                         "2: chains: no chain below it (add a section such as `mainnet`)");
    s_expect_file_error (dir, "chains = mainnet\n",
                         "1: chains: a section: write `chains` alone and each chain below it");
    s_expect_file_error (dir, "evmtap = 1\n",
                         "1: evmtap: a section: write `evmtap` alone and its settings below it");
    s_expect_file_error (dir, "evmtap\nevmtap\n", "2: evmtap: section repeated (first on line 1)");
    s_expect_file_error (dir, "evmtp\n    sink = stdout\n",
                         "1: evmtp: unknown section (expected evmtap, keys or chains)");
    s_expect_file_error (dir, "sink = stdout\n",
                         "1: sink: a setting outside any section: indent it below evmtap");
    s_expect_file_error (dir, "workers = 3\n",
                         "1: workers: a setting outside any section: indent it below "
                         "chains/NAME");
    s_expect_file_error (dir, "evmtap\n    sink = kafka:\n",
                         "2: evmtap/sink: \"kafka:\" is not files, files:DIR, stdout or "
                         "kafka:BROKERS");
    s_expect_file_error (dir, "evmtap\n    drain_timeout = -1\n",
                         "2: evmtap/drain_timeout: \"-1\" is not a number of seconds from 0 to "
                         "3600");
    //  Syntax errors come from zpl with the same FILE:LINE: prefix.
    s_expect_file_error (dir, "evmtap\n  sink = stdout\n",
                         "2: indentation of 2 spaces is not a multiple of 4");
    s_expect_file_error (dir, "evmtap\n    sink = \"stdout\n",
                         "2: unterminated quote: missing closing \"");
    //  Sixteen chains fit, seventeen do not.
    char *many = strdup ("chains\n");
    for (int index = 0; index < OPTIONS_MAX_CHAINS + 1; index++) {
        char *longer = zsys_sprintf ("%s    c%d\n", many, index);
        free (many);
        many = longer;
    }
    s_expect_file_error (dir, many, "18: chains/c16: more than 16 chains");
    zstr_free (&many);

    unlink (one);
    unlink (two);
    unlink (global);
    zstr_free (&one);
    zstr_free (&two);
    zstr_free (&global);
    s_test_settings (dir);
    rmdir (dir);
}

//  The shipped examples must load (the lead passes EVMTAP_SOURCE to the selftests).
static void
s_test_examples (bool verbose)
{
    const char *source = getenv ("EVMTAP_SOURCE");
    if (!source) {
        if (verbose)
            printf ("(EVMTAP_SOURCE unset: config/ examples not checked) ");
        return;
    }
    const char *names [] = {"local.cfg", "mainnet.example.cfg", "two-chains.example.cfg",
                            "infura-two-networks.example.cfg"};
    for (size_t index = 0; index < sizeof (names) / sizeof (names [0]); index++) {
        char *path = zsys_sprintf ("%s/config/%s", source, names [index]);
        options_t *options = options_new ();
        char err [512];
        int rc = options_load_file (options, path, err, sizeof (err));
        if (rc) {
            fprintf (stderr, "options: %s\n", err);
            assert (false);
        }
        assert (options->chain_count >= 1);
        if (index == 0) {
            assert (options->chain_count == 1);
            assert (streq (options->chains [0].rpc [0], "http://127.0.0.1:8545"));
            assert (options->sink == SINK_FILES);
        }
        if (index == 1) {
            assert (options->chain_count == 1 && options->chains [0].key_count >= 2);
            assert (strstr (options->chains [0].rpc [0], "{key}"));
        }
        if (index == 2)
            assert (options->chain_count == 2);
        options_destroy (&options);
        //  And through the command line, as a user runs them.
        char *argv [] = {"run", "--config", path, NULL};
        options = options_new ();
        rc = options_parse_run (options, 3, argv, NULL, err, sizeof (err));
        assert (rc == 0);
        options_destroy (&options);
        zstr_free (&path);
    }
}

//  backfill: run's settings but the run-only ones, its own, a range required, its --help.
static void
s_test_backfill (void)
{
    options_t *options = NULL;
    char err [512];
    assert (S_BACKFILL (options, err, "--from", "5", "--to", "10", "--workers", "3", "--fetch",
                        "hashes", "--sink", "stdout")
            == 0);
    chain_options_t *chain = &options->chains [0];
    assert (chain->from == 5 && chain->to == 10 && chain->workers == 3
            && chain->fetch == FETCH_HASHES && options->sink == SINK_STDOUT);
    assert (options->progress_interval_ms == 5000);
    assert (S_BACKFILL (options, err, "--from", "0", "--to", "0", "--progress-interval", "0.5")
            == 0);
    assert (options->progress_interval_ms == 500);
    //  The run-only settings are refused by name, and the backfill's own by run.
    const char *run_only [][2] = {{"--delivery", "finalized"}, {"--confirmations", "3"}};
    for (size_t index = 0; index < 2; index++) {
        assert (S_BACKFILL (options, err, "--from", "0", "--to", "1", run_only [index][0],
                            run_only [index][1])
                == -1);
        char *expected = zsys_sprintf ("%s does not apply to evmtap backfill (see evmtap "
                                       "backfill --help)",
                                       run_only [index][0]);
        assert (streq (err, expected));
        zstr_free (&expected);
    }
    //  A backfill has its control socket too (`evmtap ctl STATUS` of its progress).
    assert (S_BACKFILL (options, err, "--from", "0", "--to", "1", "--control", "ipc:///tmp/x")
            == 0);
    assert (streq (options->control, "ipc:///tmp/x"));
    assert (S_RUN (options, err, "--progress-interval", "1") == -1);
    assert (streq (err, "--progress-interval does not apply to evmtap run (see evmtap run "
                        "--help)"));
    assert (S_BACKFILL (options, err, "--from", "0", "--bogus") == -1);
    assert (streq (err, "unknown option --bogus (see evmtap backfill --help)"));
    //  A range is required.
    assert (S_BACKFILL (options, err, "--from", "0") == -1);
    assert (streq (err, "--to is required: evmtap backfill --from A --to B"));
    assert (S_BACKFILL (options, err, "--to", "9") == -1);
    assert (streq (err, "--from is required: evmtap backfill --from A --to B"));
    assert (S_BACKFILL (options, err, "--from", "9", "--to", "8") == -1);
    assert (streq (err, "--to: 8 is below --from 9"));
    //  --help lists the flags for backfill only; run's lists none of backfill's own.
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert (out);
    assert (s_backfill (&options, err, sizeof (err), out, "--help", NULL) == 1);
    fclose (out);
    assert (strstr (text, "Usage: evmtap backfill --from A --to B"));
    assert (strstr (text, "--progress-interval SECONDS") && strstr (text, "--workers N"));
    assert (!strstr (text, "--delivery") && !strstr (text, "--confirmations"));
    free (text);
    out = open_memstream (&text, &size);
    assert (out);
    assert (s_run (&options, err, sizeof (err), out, "--help", NULL) == 1);
    fclose (out);
    assert (strstr (text, "--delivery") && !strstr (text, "--progress-interval"));
    free (text);
    options_destroy (&options);
}

void
options_test (bool verbose)
{
    s_test_flags ();
    s_test_backfill ();
    s_test_file ();
    s_test_examples (verbose);
}
