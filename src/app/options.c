/*  options: everything `evmtap run` is told, from the config file (ZPL, read by zpl) and the
    command line. One table lists every setting once: its flag, its name in the file, whether
    it belongs to a chain or to the whole service; the same parser checks a value whether it
    came from a flag or from the file, so both give the same verdict and the same words.

    Flags describe one chain. Without a file they define it; with a file of one chain they
    override that chain's settings; with several chains a chain flag is a usage error, since
    it could not say which chain it meant. List flags (--rpc, --watchlist) replace the file's
    list rather than add to it, so that a flag always wins. The config format is documented in
    docs/config.md; keep the two in step. */
#include "evmtap.h"
#include "kafka_sink.h"
#include <inttypes.h>
#include <math.h>
#include "options.h"
#include "job.h"
#include "sink.h"
#include "zpl.h"

#define OPTIONS_DEFAULT_RPC "http://127.0.0.1:8545"
#define OPTIONS_DEFAULT_DATA_DIR "./evmtap-data"
#define OPTIONS_DEFAULT_SECRETS_DIR "/run/secrets"
#define OPTIONS_DEFAULT_WORKERS 4
#define OPTIONS_MAX_WORKERS 256
#define OPTIONS_DEFAULT_CONFIRMATIONS 12
#define OPTIONS_MAX_CONFIRMATIONS 10000
#define OPTIONS_MAX_WATCHLISTS 16
#define OPTIONS_MAX_NAME 64
//  Budgets above this are typing mistakes, not plans.
#define OPTIONS_MAX_BUDGET 1e12

typedef enum {
    S_CONFIG, S_CHAIN, S_CHAIN_ID, S_RPC, S_KEYS, S_KEY_RPS, S_KEY_DAILY, S_KEY_COSTS, S_KEY_ROTATE,
    S_KEY_ROTATE_REQUESTS, S_WORKERS, S_FROM,
    S_TO, S_FETCH, S_RECEIPTS, S_DELIVERY, S_CONFIRMATIONS, S_DATA_DIR, S_SINK, S_FORMAT,
    S_REDIS, S_LISTEN, S_CONTROL, S_METRICS, S_WATCHLIST, S_DRAIN_TIMEOUT, S_RPC_TIMEOUT,
    S_SECRETS_DIR, S_KAFKA_LINGER, S_KAFKA_BATCH_SIZE, S_KAFKA_COMPRESSION, S_KAFKA_PARTITIONS,
    S_KAFKA_REPLICATION, S_KAFKA_QUEUE_MESSAGES, S_KAFKA_QUEUE_KBYTES, S_KAFKA_MESSAGE_TIMEOUT,
    S_ABIS, S_SIGNATURES, S_EVENT_SIGNATURES, S_VERBOSE, S_HELP, S_COUNT
} s_setting_id_t;

typedef enum {
    SCOPE_FLAG,     //  command line only
    SCOPE_GLOBAL,   //  the `evmtap` section of the file
    SCOPE_CHAIN     //  a `chains/NAME` section of the file
} s_scope_t;

typedef struct {
    s_setting_id_t id;
    const char *flag;       //  long flag without "--"
    char short_flag;        //  0 when none
    const char *setting;    //  name in the config file, NULL when the file has none
    s_scope_t scope;
    bool takes_value;
    bool repeatable;        //  several values make a list
} s_setting_t;

static const s_setting_t s_settings [S_COUNT] = {
    {S_CONFIG, "config", 0, NULL, SCOPE_FLAG, true, false},
    {S_CHAIN, "chain", 0, NULL, SCOPE_CHAIN, true, false},
    {S_CHAIN_ID, "chain-id", 0, "chain_id", SCOPE_CHAIN, true, false},
    {S_RPC, "rpc", 0, "rpc", SCOPE_CHAIN, true, true},
    {S_KEYS, "keys", 0, "keys", SCOPE_CHAIN, true, false},
    {S_KEY_RPS, "key-rps", 0, "key_rps", SCOPE_CHAIN, true, false},
    {S_KEY_DAILY, "key-daily", 0, "key_daily", SCOPE_CHAIN, true, false},
    {S_KEY_COSTS, "key-costs", 0, "key_costs", SCOPE_CHAIN, true, false},
    {S_KEY_ROTATE, "key-rotate", 0, "key_rotate", SCOPE_CHAIN, true, false},
    {S_KEY_ROTATE_REQUESTS, "key-rotate-requests", 0, "key_rotate_requests", SCOPE_CHAIN, true,
     false},
    {S_WORKERS, "workers", 0, "workers", SCOPE_CHAIN, true, false},
    {S_FROM, "from", 0, "from", SCOPE_CHAIN, true, false},
    {S_TO, "to", 0, "to", SCOPE_CHAIN, true, false},
    {S_FETCH, "fetch", 0, "fetch", SCOPE_CHAIN, true, false},
    {S_RECEIPTS, "receipts", 0, "receipts", SCOPE_CHAIN, false, false},
    {S_DELIVERY, "delivery", 0, "delivery", SCOPE_CHAIN, true, false},
    {S_CONFIRMATIONS, "confirmations", 0, "confirmations", SCOPE_CHAIN, true, false},
    {S_DATA_DIR, "data-dir", 0, "data_dir", SCOPE_GLOBAL, true, false},
    {S_SINK, "sink", 0, "sink", SCOPE_GLOBAL, true, false},
    {S_FORMAT, "format", 0, "format", SCOPE_GLOBAL, true, false},
    {S_REDIS, "redis", 0, "redis", SCOPE_GLOBAL, true, false},
    {S_LISTEN, "listen", 0, "listen", SCOPE_GLOBAL, true, false},
    {S_CONTROL, "control", 0, "control", SCOPE_GLOBAL, true, false},
    {S_METRICS, "metrics", 0, "metrics", SCOPE_GLOBAL, true, false},
    {S_WATCHLIST, "watchlist", 0, "watchlist", SCOPE_GLOBAL, true, true},
    {S_DRAIN_TIMEOUT, "drain-timeout", 0, "drain_timeout", SCOPE_GLOBAL, true, false},
    {S_RPC_TIMEOUT, "rpc-timeout", 0, "rpc_timeout", SCOPE_GLOBAL, true, false},
    {S_SECRETS_DIR, "secrets-dir", 0, "secrets_dir", SCOPE_GLOBAL, true, false},
    {S_KAFKA_LINGER, "kafka-linger-ms", 0, "kafka_linger_ms", SCOPE_GLOBAL, true, false},
    {S_KAFKA_BATCH_SIZE, "kafka-batch-size", 0, "kafka_batch_size", SCOPE_GLOBAL, true, false},
    {S_KAFKA_COMPRESSION, "kafka-compression", 0, "kafka_compression", SCOPE_GLOBAL, true, false},
    {S_KAFKA_PARTITIONS, "kafka-partitions", 0, "kafka_partitions", SCOPE_GLOBAL, true, false},
    {S_KAFKA_REPLICATION, "kafka-replication", 0, "kafka_replication", SCOPE_GLOBAL, true, false},
    {S_KAFKA_QUEUE_MESSAGES, "kafka-queue-messages", 0, "kafka_queue_messages", SCOPE_GLOBAL,
     true, false},
    {S_KAFKA_QUEUE_KBYTES, "kafka-queue-kbytes", 0, "kafka_queue_kbytes", SCOPE_GLOBAL, true,
     false},
    {S_KAFKA_MESSAGE_TIMEOUT, "kafka-message-timeout-ms", 0, "kafka_message_timeout_ms",
     SCOPE_GLOBAL, true, false},
    {S_ABIS, "abis", 0, "abis", SCOPE_GLOBAL, true, false},
    {S_SIGNATURES, "signatures", 0, "signatures", SCOPE_GLOBAL, true, false},
    {S_EVENT_SIGNATURES, "event-signatures", 0, "event_signatures", SCOPE_GLOBAL, true, false},
    {S_VERBOSE, "verbose", 'v', NULL, SCOPE_FLAG, false, false},
    {S_HELP, "help", 'h', NULL, SCOPE_FLAG, false, false},
};

//  The Kafka producer's numeric settings: one row each, checked alike (docs/config.md).
typedef struct {
    s_setting_id_t id;
    uint64_t min, max;
    const char *unit;
    size_t field;                   //  offset of the int in kafka_sink_config_t
} s_kafka_range_t;

static const s_kafka_range_t s_kafka_ranges [] = {
    {S_KAFKA_LINGER, 0, 900000, "milliseconds", offsetof (kafka_sink_config_t, linger_ms)},
    {S_KAFKA_BATCH_SIZE, 1, 2147483647, "bytes", offsetof (kafka_sink_config_t, batch_bytes)},
    {S_KAFKA_PARTITIONS, 1, 100000, "partitions", offsetof (kafka_sink_config_t, partitions)},
    {S_KAFKA_QUEUE_MESSAGES, 1, 10000000, "messages",
     offsetof (kafka_sink_config_t, queue_messages)},
    {S_KAFKA_QUEUE_KBYTES, 1, 2147483647, "kilobytes",
     offsetof (kafka_sink_config_t, queue_kbytes)},
    {S_KAFKA_MESSAGE_TIMEOUT, 0, 2147483647, "milliseconds",
     offsetof (kafka_sink_config_t, message_timeout_ms)},
};

//  The codecs librdkafka takes; the setting points at one of these, so options owns no copy.
static const char *s_kafka_codecs [] = {"none", "gzip", "snappy", "lz4", "zstd"};

//  --------------------------------------------------------------------------
//  Construction

static void
s_chain_init (chain_options_t *chain)
{
    memset (chain, 0, sizeof (*chain));
    chain->workers = OPTIONS_DEFAULT_WORKERS;
    chain->from = OPTIONS_UNSET;
    chain->to = OPTIONS_UNSET;
    chain->fetch = FETCH_BLOCK;
    chain->delivery = DELIVERY_INSTANT;
    chain->confirmations = OPTIONS_DEFAULT_CONFIRMATIONS;
    chain->key_rotate = 300;
}

static void
s_chain_clear_rpc (chain_options_t *chain)
{
    for (size_t index = 0; index < chain->rpc_count; index++)
        zstr_free (&chain->rpc [index]);
    chain->rpc_count = 0;
}

static void
s_chain_clear_keys (chain_options_t *chain)
{
    for (size_t index = 0; index < chain->key_count; index++)
        zstr_free (&chain->keys [index]);
    chain->key_count = 0;
}

static void
s_chain_free (chain_options_t *chain)
{
    zstr_free (&chain->name);
    zstr_free (&chain->key_costs);
    s_chain_clear_rpc (chain);
    s_chain_clear_keys (chain);
}

static void
s_clear_watchlists (options_t *self)
{
    for (size_t index = 0; index < self->watchlist_count; index++)
        zstr_free (&self->watchlists [index]);
    self->watchlist_count = 0;
}

//  Replaces a string field by a copy of value.
static void
s_set_string (char **field, const char *value)
{
    zstr_free (field);
    *field = strdup (value);
    assert (*field);
}

options_t *
options_new (void)
{
    options_t *self = (options_t *) zmalloc (sizeof (options_t));
    s_set_string (&self->data_dir, OPTIONS_DEFAULT_DATA_DIR);
    s_set_string (&self->secrets_dir, OPTIONS_DEFAULT_SECRETS_DIR);
    self->sink = SINK_FILES;
    kafka_sink_config_defaults (&self->kafka);
    self->drain_timeout_ms = 10000;
    self->rpc_timeout_ms = 10000;
    return self;
}

void
options_destroy (options_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        options_t *self = *self_p;
        zstr_free (&self->config_file);
        zstr_free (&self->data_dir);
        zstr_free (&self->sink_target);
        zstr_free (&self->secrets_dir);
        zstr_free (&self->redis);
        zstr_free (&self->listen);
        zstr_free (&self->control);
        zstr_free (&self->metrics);
        zstr_free (&self->abis);
        zstr_free (&self->signatures);
        zstr_free (&self->event_signatures);
        s_clear_watchlists (self);
        for (size_t index = 0; index < self->chain_count; index++)
            s_chain_free (&self->chains [index]);
        free (self);
        *self_p = NULL;
    }
}

static chain_options_t *
s_chain_add (options_t *self)
{
    assert (self->chain_count < OPTIONS_MAX_CHAINS);
    chain_options_t *chain = &self->chains [self->chain_count++];
    s_chain_init (chain);
    return chain;
}

void
options_default_chain_name (uint64_t chain_id, char *out, size_t out_size)
{
    assert (out && out_size);
    if (chain_id == 1)
        snprintf (out, out_size, "mainnet");
    else
    if (chain_id == 31337)
        snprintf (out, out_size, "anvil");
    else
        snprintf (out, out_size, "chain%" PRIu64, chain_id);
}

//  --------------------------------------------------------------------------
//  Value checks, shared by flags and the file. Each writes a reason (without the flag or
//  setting name, which the caller puts in front) and returns -1 when the value is bad.

static int
s_reason (char *reason, size_t reason_size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (reason, reason_size, format, args);
    va_end (args);
    return -1;
}

//  Strict unsigned decimal: digits only (no sign, blank, or hex), within [min, max].
static bool
s_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *result)
{
    if (!isdigit ((unsigned char) text [0]))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long number = strtoull (text, &end, 10);
    if (errno || *end || number < min || number > max)
        return false;
    *result = number;
    return true;
}

//  Strict non-negative decimal number such as 10, 2.5 or .5, within [min, max].
static bool
s_parse_number (const char *text, double min, double max, double *result)
{
    if (!isdigit ((unsigned char) text [0]) && text [0] != '.')
        return false;
    for (const char *scan = text; *scan; scan++)
        if (!isdigit ((unsigned char) *scan) && *scan != '.')
            return false;
    errno = 0;
    char *end = NULL;
    double number = strtod (text, &end);
    if (errno || *end || !isfinite (number) || number < min || number > max)
        return false;
    *result = number;
    return true;
}

static bool
s_parse_bool (const char *text, bool *result)
{
    if (streq (text, "true") || streq (text, "yes") || streq (text, "1")) {
        *result = true;
        return true;
    }
    if (streq (text, "false") || streq (text, "no") || streq (text, "0")) {
        *result = false;
        return true;
    }
    return false;
}

//  Key and chain names: [A-Za-z0-9_-]+, so they fit in topics, env names and file names.
static bool
s_valid_name (const char *text, size_t size)
{
    if (size == 0 || size > OPTIONS_MAX_NAME)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) text [index]) && text [index] != '_'
        &&  text [index] != '-')
            return false;
    return true;
}

//  A port: digits from 0 to 65535, or '*' where an ephemeral port is allowed.
static bool
s_valid_port (const char *text, bool star_allowed)
{
    uint64_t port;
    if (star_allowed && streq (text, "*"))
        return true;
    return s_parse_uint (text, 0, 65535, &port);
}

//  HOST:PORT with a non-empty host (an IPv6 host in brackets).
static bool
s_valid_host_port (const char *text, bool star_allowed)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text)
        return false;
    for (const char *scan = text; scan < colon; scan++)
        if (isspace ((unsigned char) *scan) || *scan == '/')
            return false;
    return s_valid_port (colon + 1, star_allowed);
}

static bool
s_has_prefix (const char *text, const char *prefix)
{
    return strncmp (text, prefix, strlen (prefix)) == 0;
}

static int
s_check_rpc_url (const char *value, char *reason, size_t reason_size)
{
    const char *host = NULL;
    if (s_has_prefix (value, "http://"))
        host = value + 7;
    else
    if (s_has_prefix (value, "https://"))
        host = value + 8;
    if (!host || *host == 0 || *host == '/' || *host == ':')
        return s_reason (reason, reason_size, "\"%s\" is not an http:// or https:// URL", value);
    for (const char *scan = value; *scan; scan++) {
        if ((unsigned char) *scan <= ' ')
            return s_reason (reason, reason_size, "\"%s\" has a blank or control character",
                             value);
        //  A misspelt placeholder would send "{apikey}" to the provider as the key.
        if (*scan == '{' && strncmp (scan, "{key}", 5) != 0)
            return s_reason (reason, reason_size,
                             "\"%s\" has a placeholder other than {key}", value);
    }
    return 0;
}

//  Parses "name,name" (blanks around names allowed) into the chain's keys.
static int
s_set_keys (chain_options_t *chain, const char *value, char *reason, size_t reason_size)
{
    s_chain_clear_keys (chain);
    const char *scan = value;
    while (true) {
        while (*scan == ' ')
            scan++;
        const char *start = scan;
        while (*scan && *scan != ',' && *scan != ' ')
            scan++;
        size_t size = scan - start;
        while (*scan == ' ')
            scan++;
        if (!s_valid_name (start, size) || (*scan && *scan != ',')) {
            s_chain_clear_keys (chain);
            return s_reason (reason, reason_size, "\"%s\" is not a list of key names "
                             "([A-Za-z0-9_-]+, separated by commas)", value);
        }
        for (size_t index = 0; index < chain->key_count; index++)
            if (strlen (chain->keys [index]) == size
            &&  memcmp (chain->keys [index], start, size) == 0) {
                s_chain_clear_keys (chain);
                return s_reason (reason, reason_size, "key %.*s is listed twice in \"%s\"",
                                 (int) size, start, value);
            }
        if (chain->key_count == OPTIONS_MAX_KEYS) {
            s_chain_clear_keys (chain);
            return s_reason (reason, reason_size, "more than %d key names",
                             OPTIONS_MAX_KEYS);
        }
        char *name = (char *) zmalloc (size + 1);
        memcpy (name, start, size);
        chain->keys [chain->key_count++] = name;
        if (*scan == 0)
            break;
        scan++;     //  past the comma
    }
    return 0;
}

static int
s_set_sink (options_t *self, const char *value, char *reason, size_t reason_size)
{
    sink_kind_t sink;
    const char *target = NULL;
    if (streq (value, "files"))
        sink = SINK_FILES;
    else
    if (s_has_prefix (value, "files:") && value [6])
        sink = SINK_FILES, target = value + 6;
    else
    if (streq (value, "stdout"))
        sink = SINK_STDOUT;
    else
    if (s_has_prefix (value, "kafka:") && value [6])
        sink = SINK_KAFKA, target = value + 6;
    else
        return s_reason (reason, reason_size,
                         "\"%s\" is not files, files:DIR, stdout or kafka:BROKERS", value);
    self->sink = sink;
    zstr_free (&self->sink_target);
    if (target)
        s_set_string (&self->sink_target, target);
    return 0;
}

static int
s_check_endpoint (const char *value, char *reason, size_t reason_size)
{
    if (s_has_prefix (value, "tcp://") && s_valid_host_port (value + 6, true))
        return 0;
    if ((s_has_prefix (value, "ipc://") && value [6])
    ||  (s_has_prefix (value, "inproc://") && value [9]))
        return 0;
    return s_reason (reason, reason_size,
                     "\"%s\" is not tcp://HOST:PORT, ipc://PATH or inproc://NAME", value);
}

//  Applies one setting to self (global) or chain. value is NULL for a flag without value.
static int
s_apply (options_t *self, chain_options_t *chain, s_setting_id_t id, const char *value,
         char *reason, size_t reason_size)
{
    uint64_t integer;
    double number;
    bool flag;
    switch (id) {
        case S_CHAIN:
            if (!s_valid_name (value, strlen (value)))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a chain name ([A-Za-z0-9_-]+)", value);
            s_set_string (&chain->name, value);
            return 0;
        case S_CHAIN_ID:
            if (!s_parse_uint (value, 1, UINT64_MAX, &integer))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a chain id (a decimal number from 1)", value);
            chain->chain_id = integer;
            return 0;
        case S_RPC:
            if (s_check_rpc_url (value, reason, reason_size))
                return -1;
            if (chain->rpc_count == OPTIONS_MAX_RPC)
                return s_reason (reason, reason_size, "more than %d URLs", OPTIONS_MAX_RPC);
            chain->rpc [chain->rpc_count] = strdup (value);
            assert (chain->rpc [chain->rpc_count]);
            chain->rpc_count++;
            return 0;
        case S_KEYS:
            return s_set_keys (chain, value, reason, reason_size);
        case S_KEY_RPS:
        case S_KEY_DAILY:
            if (!s_parse_number (value, 0, OPTIONS_MAX_BUDGET, &number))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a number from 0 (unlimited) up", value);
            if (id == S_KEY_RPS)
                chain->key_rps = number;
            else
                chain->key_daily = number;
            return 0;
        case S_KEY_COSTS:
            if (!*value)
                return s_reason (reason, reason_size, "empty: requests, infura, alchemy or a "
                                 "cost table file");
            s_set_string (&chain->key_costs, value);
            return 0;
        case S_KEY_ROTATE:
            if (!s_parse_number (value, 0, 86400, &number))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a number of seconds from 0 (never) to 86400", value);
            chain->key_rotate = number;
            return 0;
        case S_KEY_ROTATE_REQUESTS:
            if (!s_parse_uint (value, 0, UINT64_MAX, &integer))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a number of requests from 0 (never)", value);
            chain->key_rotate_requests = integer;
            return 0;
        case S_WORKERS:
            if (!s_parse_uint (value, 1, OPTIONS_MAX_WORKERS, &integer))
                return s_reason (reason, reason_size, "\"%s\" is not a number from 1 to %d",
                                 value, OPTIONS_MAX_WORKERS);
            chain->workers = (int) integer;
            return 0;
        case S_FROM:
        case S_TO:
            if (!s_parse_uint (value, 0, INT64_MAX, &integer))
                return s_reason (reason, reason_size, "\"%s\" is not a block number", value);
            if (id == S_FROM)
                chain->from = (int64_t) integer;
            else
                chain->to = (int64_t) integer;
            return 0;
        case S_FETCH:
            if (streq (value, "block"))
                chain->fetch = FETCH_BLOCK;
            else
            if (streq (value, "hashes"))
                chain->fetch = FETCH_HASHES;
            else
                return s_reason (reason, reason_size, "\"%s\" is not block or hashes", value);
            return 0;
        case S_RECEIPTS:
            flag = true;
            if (value && !s_parse_bool (value, &flag))
                return s_reason (reason, reason_size, "\"%s\" is not true or false", value);
            chain->receipts = flag;
            return 0;
        case S_DELIVERY:
            if (streq (value, "instant"))
                chain->delivery = DELIVERY_INSTANT;
            else
            if (streq (value, "finalized"))
                chain->delivery = DELIVERY_FINALIZED;
            else
                return s_reason (reason, reason_size, "\"%s\" is not instant or finalized",
                                 value);
            return 0;
        case S_CONFIRMATIONS:
            if (!s_parse_uint (value, 0, OPTIONS_MAX_CONFIRMATIONS, &integer))
                return s_reason (reason, reason_size, "\"%s\" is not a number from 0 to %d",
                                 value, OPTIONS_MAX_CONFIRMATIONS);
            chain->confirmations = (int) integer;
            return 0;
        case S_DATA_DIR:
        case S_SECRETS_DIR:
            if (*value == 0)
                return s_reason (reason, reason_size, "\"\" is not a directory");
            s_set_string (id == S_DATA_DIR ? &self->data_dir : &self->secrets_dir, value);
            return 0;
        case S_SINK:
            return s_set_sink (self, value, reason, reason_size);
        case S_FORMAT:
            if (streq (value, "json"))
                self->format_msgpack = false;
            else
            if (streq (value, "msgpack"))
                self->format_msgpack = true;
            else
                return s_reason (reason, reason_size, "\"%s\" is not json or msgpack", value);
            return 0;
        case S_REDIS:
            if (!s_has_prefix (value, "redis://") || value [8] == 0 || value [8] == ':'
            ||  value [8] == '/')
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a redis://HOST[:PORT] URL", value);
            s_set_string (&self->redis, value);
            return 0;
        case S_LISTEN:
            if (!s_has_prefix (value, "tcp://") || !s_valid_host_port (value + 6, true))
                return s_reason (reason, reason_size, "\"%s\" is not tcp://HOST:PORT", value);
            s_set_string (&self->listen, value);
            return 0;
        case S_CONTROL:
            if (s_check_endpoint (value, reason, reason_size))
                return -1;
            s_set_string (&self->control, value);
            return 0;
        case S_ABIS:
        case S_SIGNATURES:
        case S_EVENT_SIGNATURES:
            //  Read (and refused when unreadable or malformed) when the run starts.
            if (*value == 0)
                return s_reason (reason, reason_size, "\"\" is not a %s",
                                 id == S_ABIS ? "directory" : "file name");
            s_set_string (id == S_ABIS         ? &self->abis
                          : id == S_SIGNATURES ? &self->signatures
                                               : &self->event_signatures,
                          value);
            return 0;
        case S_METRICS:
            if (!s_valid_host_port (value, false))
                return s_reason (reason, reason_size, "\"%s\" is not HOST:PORT", value);
            s_set_string (&self->metrics, value);
            return 0;
        case S_WATCHLIST:
            if (*value == 0)
                return s_reason (reason, reason_size, "\"\" is not a file name");
            if (self->watchlist_count == OPTIONS_MAX_WATCHLISTS)
                return s_reason (reason, reason_size, "more than %d watchlists",
                                 OPTIONS_MAX_WATCHLISTS);
            self->watchlists [self->watchlist_count] = strdup (value);
            assert (self->watchlists [self->watchlist_count]);
            self->watchlist_count++;
            return 0;
        case S_DRAIN_TIMEOUT:
            if (!s_parse_number (value, 0, 3600, &number))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a number of seconds from 0 to 3600", value);
            self->drain_timeout_ms = (int) (number * 1000 + 0.5);
            return 0;
        case S_RPC_TIMEOUT:
            if (!s_parse_number (value, 0.001, 600, &number))
                return s_reason (reason, reason_size,
                                 "\"%s\" is not a number of seconds from 0.001 to 600", value);
            self->rpc_timeout_ms = (int) (number * 1000 + 0.5);
            return 0;
        case S_KAFKA_LINGER:
        case S_KAFKA_BATCH_SIZE:
        case S_KAFKA_PARTITIONS:
        case S_KAFKA_QUEUE_MESSAGES:
        case S_KAFKA_QUEUE_KBYTES:
        case S_KAFKA_MESSAGE_TIMEOUT:
            for (size_t row = 0; row < sizeof (s_kafka_ranges) / sizeof (s_kafka_ranges [0]);
                 row++) {
                const s_kafka_range_t *range = &s_kafka_ranges [row];
                if (range->id != id)
                    continue;
                if (!s_parse_uint (value, range->min, range->max, &integer))
                    return s_reason (reason, reason_size,
                                     "\"%s\" is not a number of %s from %" PRIu64 " to %" PRIu64,
                                     value, range->unit, range->min, range->max);
                *(int *) ((char *) &self->kafka + range->field) = (int) integer;
                return 0;
            }
            break;
        case S_KAFKA_COMPRESSION:
            for (size_t codec = 0; codec < sizeof (s_kafka_codecs) / sizeof (s_kafka_codecs [0]);
                 codec++)
                if (streq (value, s_kafka_codecs [codec])) {
                    self->kafka.compression = s_kafka_codecs [codec];
                    return 0;
                }
            return s_reason (reason, reason_size,
                             "\"%s\" is not none, gzip, snappy, lz4 or zstd", value);
        case S_KAFKA_REPLICATION:
            if (streq (value, "default"))
                self->kafka.replication = -1;
            else
            if (s_parse_uint (value, 1, 32767, &integer))
                self->kafka.replication = (int) integer;
            else
                return s_reason (reason, reason_size,
                                 "\"%s\" is not default or a number from 1 to 32767", value);
            return 0;
        case S_VERBOSE:
            self->verbose = true;
            return 0;
        case S_CONFIG:
            if (*value == 0)
                return s_reason (reason, reason_size, "\"\" is not a file name");
            s_set_string (&self->config_file, value);
            return 0;
        case S_HELP:
        case S_COUNT:
            break;
    }
    assert (false);
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
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_options_t *chain = &self->chains [index];
        if (chain->rpc_count == 0) {
            chain->rpc [0] = strdup (OPTIONS_DEFAULT_RPC);
            assert (chain->rpc [0]);
            chain->rpc_count = 1;
        }
    }
}

//  --------------------------------------------------------------------------
//  The config file

static const s_setting_t *
s_setting_by_name (const char *name)
{
    for (int index = 0; index < S_COUNT; index++)
        if (s_settings [index].setting && streq (s_settings [index].setting, name))
            return &s_settings [index];
    return NULL;
}

static int
s_file_error (zpl_t *node, char *err, size_t err_size, const char *format, ...)
{
    int used = snprintf (err, err_size, "%s:%d: %s: ", zpl_file (node), zpl_line (node),
                         zpl_path (node));
    if (used >= 0 && (size_t) used < err_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (err + used, err_size - used, format, args);
        va_end (args);
    }
    return -1;
}

//  Explains an unknown name as helpfully as we can: a secret, a flag spelling, a setting
//  in the wrong section.
static int
s_unknown_setting (zpl_t *node, s_scope_t scope, char *err, size_t err_size)
{
    const char *name = zpl_name (node);
    char lower [128];
    size_t size = 0;
    for (; name [size] && size < sizeof (lower) - 1; size++)
        lower [size] = (char) tolower ((unsigned char) name [size]);
    lower [size] = 0;
    if (strstr (lower, "secret") || strstr (lower, "password") || strstr (lower, "token")
    ||  streq (lower, "key") || streq (lower, "api_key") || streq (lower, "apikey"))
        return s_file_error (node, err, err_size,
                             "unknown setting; secrets are never read from the config file: "
                             "name the key in keys and set EVMTAP_KEY_<NAME> or "
                             "/run/secrets/<name>");
    char underscored [128];
    snprintf (underscored, sizeof (underscored), "%s", name);
    for (char *scan = underscored; *scan; scan++)
        if (*scan == '-')
            *scan = '_';
    const s_setting_t *setting = s_setting_by_name (underscored);
    if (setting && setting->scope == scope && !streq (underscored, name))
        return s_file_error (node, err, err_size, "unknown setting; did you mean %s?",
                             setting->setting);
    if (scope == SCOPE_CHAIN && (streq (name, "chain") || streq (name, "name")))
        return s_file_error (node, err, err_size,
                             "unknown setting (a chain's name is its section's name)");
    return s_file_error (node, err, err_size, "unknown setting (see docs/config.md)");
}

//  Loads the settings below one section: the `evmtap` section (chain NULL) or a chain.
static int
s_load_section (options_t *self, chain_options_t *chain, zpl_t *section, s_scope_t scope,
                char *err, size_t err_size)
{
    zpl_t *seen [S_COUNT] = { NULL };
    char reason [256];
    for (zpl_t *node = zpl_child (section); node; node = zpl_next (node)) {
        const s_setting_t *setting = s_setting_by_name (zpl_name (node));
        if (!setting)
            return s_unknown_setting (node, scope, err, err_size);
        if (setting->scope != scope)
            return s_file_error (node, err, err_size, scope == SCOPE_CHAIN
                                 ? "not a chain setting: set it in the evmtap section"
                                 : "a chain setting: set it below chains/NAME");
        if (zpl_child (node))
            return s_file_error (node, err, err_size, "takes no settings below it "
                                 "(line %d is indented too far)", zpl_line (zpl_child (node)));
        if (!zpl_value (node))
            return s_file_error (node, err, err_size, "needs a value (%s = ...)",
                                 setting->setting);
        if (seen [setting->id] && !setting->repeatable)
            return s_file_error (node, err, err_size, "set twice (first on line %d)",
                                 zpl_line (seen [setting->id]));
        //  A list in the file replaces one that came before it (another file).
        if (!seen [setting->id] && setting->id == S_RPC)
            s_chain_clear_rpc (chain);
        if (!seen [setting->id] && setting->id == S_WATCHLIST)
            s_clear_watchlists (self);
        seen [setting->id] = node;
        if (s_apply (self, chain, setting->id, zpl_value (node), reason, sizeof (reason)))
            return s_file_error (node, err, err_size, "%s", reason);
    }
    if (chain && chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET
    &&  chain->from > chain->to) {
        zpl_t *node = seen [S_TO] ? seen [S_TO] : seen [S_FROM];
        return s_file_error (node, err, err_size,
                             "the range from = %" PRId64 " to %" PRId64 " is empty",
                             chain->from, chain->to);
    }
    const char *url = chain ? s_url_missing_key (chain) : NULL;
    if (url) {
        for (zpl_t *node = zpl_child (section); node; node = zpl_next (node))
            if (streq (zpl_name (node), "rpc") && streq (zpl_value (node), url))
                return s_file_error (node, err, err_size,
                                     "\"%s\" needs {key} but the chain has no keys "
                                     "(keys = NAME,...)", url);
    }
    return 0;
}

static int
s_load_chains (options_t *self, zpl_t *section, char *err, size_t err_size)
{
    if (zpl_value (section))
        return s_file_error (section, err, err_size,
                             "a section: write `chains` alone and each chain below it");
    if (!zpl_child (section))
        return s_file_error (section, err, err_size,
                             "no chain below it (add a section such as `mainnet`)");
    size_t first = self->chain_count;
    int lines [OPTIONS_MAX_CHAINS] = { 0 };
    for (zpl_t *node = zpl_child (section); node; node = zpl_next (node)) {
        const char *name = zpl_name (node);
        if (!s_valid_name (name, strlen (name)))
            return s_file_error (node, err, err_size,
                                 "\"%s\" is not a chain name ([A-Za-z0-9_-]+)", name);
        if (s_setting_by_name (name))
            return s_file_error (node, err, err_size, "%s is a setting, but chains holds "
                                 "chain sections: indent it below a chain", name);
        if (zpl_value (node))
            return s_file_error (node, err, err_size,
                                 "a chain is a section: put its settings below it, indented");
        for (size_t index = 0; index < self->chain_count; index++)
            if (self->chains [index].name && streq (self->chains [index].name, name))
                return s_file_error (node, err, err_size, "chain defined twice (first on "
                                     "line %d)", index >= first ? lines [index] : 0);
        if (self->chain_count == OPTIONS_MAX_CHAINS)
            return s_file_error (node, err, err_size, "more than %d chains",
                                 OPTIONS_MAX_CHAINS);
        lines [self->chain_count] = zpl_line (node);
        chain_options_t *chain = s_chain_add (self);
        s_set_string (&chain->name, name);
        if (s_load_section (self, chain, node, SCOPE_CHAIN, err, err_size))
            return -1;
    }
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
    s_set_string (&self->config_file, path);
    int rc = 0;
    zpl_t *evmtap = NULL;
    zpl_t *chains = NULL;
    for (zpl_t *node = zpl_child (root); node && rc == 0; node = zpl_next (node)) {
        const char *name = zpl_name (node);
        zpl_t **seen = streq (name, "evmtap") ? &evmtap : streq (name, "chains") ? &chains : NULL;
        if (!seen) {
            const s_setting_t *setting = s_setting_by_name (name);
            if (setting)
                rc = s_file_error (node, err, err_size, "a setting outside any section: "
                                   "indent it below %s", setting->scope == SCOPE_GLOBAL
                                   ? "evmtap" : "chains/NAME");
            else
                rc = s_file_error (node, err, err_size,
                                   "unknown section (expected evmtap or chains)");
        }
        else
        if (*seen)
            rc = s_file_error (node, err, err_size, "section repeated (first on line %d)",
                               zpl_line (*seen));
        else {
            *seen = node;
            if (seen == &chains)
                rc = s_load_chains (self, node, err, err_size);
            else
            if (zpl_value (node))
                rc = s_file_error (node, err, err_size,
                                   "a section: write `evmtap` alone and its settings below it");
            else
                rc = s_load_section (self, NULL, node, SCOPE_GLOBAL, err, err_size);
        }
    }
    zpl_destroy (&root);
    if (rc == 0)
        s_apply_defaults (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  The command line

typedef struct {
    const s_setting_t *setting;
    const char *value;              //  borrowed from argv; NULL for a flag without value
} s_flag_use_t;

static const s_setting_t *
s_setting_by_flag (const char *name, size_t size)
{
    for (int index = 0; index < S_COUNT; index++)
        if (strlen (s_settings [index].flag) == size
        &&  memcmp (s_settings [index].flag, name, size) == 0)
            return &s_settings [index];
    return NULL;
}

static const s_setting_t *
s_setting_by_short_flag (char letter)
{
    for (int index = 0; index < S_COUNT; index++)
        if (s_settings [index].short_flag && s_settings [index].short_flag == letter)
            return &s_settings [index];
    return NULL;
}

//  Keeps the first error only: later ones are usually consequences of it.
static void
s_flag_error (char *err, size_t err_size, bool *failed, const char *format, ...)
{
    if (*failed)
        return;
    *failed = true;
    va_list args;
    va_start (args, format);
    vsnprintf (err, err_size, format, args);
    va_end (args);
}

int
options_parse_run (options_t *self, int argc, char **argv, FILE *out, char *err,
                   size_t err_size)
{
    assert (self);
    assert (err && err_size);
    *err = 0;
    //  Flags are checked in a scratch copy first, so that a bad flag is reported even when
    //  the file is also bad, and --help wins over both.
    s_flag_use_t *uses = (s_flag_use_t *) zmalloc ((argc + 1) * sizeof (s_flag_use_t));
    size_t use_count = 0;
    options_t *scratch = options_new ();
    chain_options_t *scratch_chain = s_chain_add (scratch);
    bool failed = false;
    bool help = false;
    bool set [S_COUNT] = { false };
    char reason [256];
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        const s_setting_t *setting = NULL;
        const char *value = NULL;
        const char *shown = arg;        //  the flag as the user wrote it, for messages
        char shown_buffer [64];
        if (arg [0] == '-' && arg [1] == '-' && arg [2]) {
            const char *equals = strchr (arg + 2, '=');
            size_t size = equals ? (size_t) (equals - arg - 2) : strlen (arg + 2);
            setting = s_setting_by_flag (arg + 2, size);
            snprintf (shown_buffer, sizeof (shown_buffer), "%.*s", (int) size + 2, arg);
            shown = shown_buffer;
            if (!setting) {
                s_flag_error (err, err_size, &failed,
                              "unknown option %s (see evmtap run --help)", shown);
                continue;
            }
            if (equals) {
                if (!setting->takes_value) {
                    s_flag_error (err, err_size, &failed, "%s takes no value", shown);
                    continue;
                }
                value = equals + 1;
            }
        }
        else
        if (arg [0] == '-' && arg [1]) {
            setting = arg [2] == 0 ? s_setting_by_short_flag (arg [1]) : NULL;
            if (!setting) {
                s_flag_error (err, err_size, &failed,
                              "unknown option %s (see evmtap run --help)", arg);
                continue;
            }
        }
        else {
            s_flag_error (err, err_size, &failed,
                          "unexpected argument \"%s\" (see evmtap run --help)", arg);
            continue;
        }
        if (setting->takes_value && !value) {
            //  "--config --workers 4" forgot the file: do not take the next flag for it.
            const char *next = index + 1 < argc ? argv [index + 1] : NULL;
            if (!next || (next [0] == '-' && next [1] == '-' && next [2])) {
                s_flag_error (err, err_size, &failed, "%s: missing value", shown);
                continue;
            }
            value = next;
            index++;
        }
        if (setting->id == S_HELP) {
            help = true;
            continue;
        }
        if (s_apply (scratch, scratch_chain, setting->id, value, reason, sizeof (reason))) {
            s_flag_error (err, err_size, &failed, "--%s: %s", setting->flag, reason);
            continue;
        }
        set [setting->id] = true;
        uses [use_count].setting = setting;
        uses [use_count].value = value;
        use_count++;
    }
    if (!failed && set [S_FROM] && set [S_TO] && scratch_chain->from > scratch_chain->to)
        s_flag_error (err, err_size, &failed, "--to: %" PRId64 " is below --from %" PRId64,
                      scratch_chain->to, scratch_chain->from);
    int rc = 0;
    if (help) {
        options_print_run_usage (out ? out : stdout);
        *err = 0;
        rc = 1;
    }
    else
    if (failed)
        rc = -1;
    else
    if (scratch->config_file)
        rc = options_load_file (self, scratch->config_file, err, err_size);
    //  A chain flag is meaningless when the file defines several chains.
    const s_setting_t *chain_flag = NULL;
    for (size_t index = 0; index < use_count && !chain_flag; index++)
        if (uses [index].setting->scope == SCOPE_CHAIN)
            chain_flag = uses [index].setting;
    if (rc == 0 && chain_flag && self->chain_count > 1)
        rc = s_reason (err, err_size, "--%s applies to one chain; the config file defines %zu: "
                       "set it per chain in %s", chain_flag->flag, self->chain_count,
                       self->config_file);
    if (rc == 0 && self->chain_count == 0)
        s_chain_add (self);
    //  Apply the flags again, to the real options: they were all checked already.
    bool rpc_cleared = false;
    bool watchlists_cleared = false;
    for (size_t index = 0; index < use_count && rc == 0; index++) {
        s_setting_id_t id = uses [index].setting->id;
        if (id == S_CONFIG)
            continue;
        if (id == S_RPC && !rpc_cleared) {
            s_chain_clear_rpc (&self->chains [0]);
            rpc_cleared = true;
        }
        if (id == S_WATCHLIST && !watchlists_cleared) {
            s_clear_watchlists (self);
            watchlists_cleared = true;
        }
        rc = s_apply (self, &self->chains [0], id, uses [index].value, reason, sizeof (reason));
        assert (rc == 0);
    }
    if (rc == 0) {
        //  A flag may have met a file setting it does not fit with.
        chain_options_t *chain = &self->chains [0];
        const char *url = s_url_missing_key (chain);
        if (chain->from != OPTIONS_UNSET && chain->to != OPTIONS_UNSET
        &&  chain->from > chain->to) {
            if (set [S_FROM])
                rc = s_reason (err, err_size, "--from: %" PRId64 " is above to = %" PRId64
                               " in %s", chain->from, chain->to, self->config_file);
            else
                rc = s_reason (err, err_size, "--to: %" PRId64 " is below from = %" PRId64
                               " in %s", chain->to, chain->from, self->config_file);
        }
        else
        if (url)
            rc = s_reason (err, err_size, "--rpc: \"%s\" needs {key} but no key names are "
                           "given (--keys NAME,...)", url);
    }
    if (rc == 0)
        s_apply_defaults (self);
    options_destroy (&scratch);
    free (uses);
    return rc;
}

void
options_print_run_usage (FILE *out)
{
    assert (out);
    fprintf (out,
"Usage: evmtap run [--config FILE] [flags]\n"
"\n"
"Follows a chain's head (catching up from --from when given), classifies every transaction and\n"
"publishes blocks and transactions to the sink. Flags describe one chain and\n"
"override the config file; several chains need the config file (docs/config.md).\n"
"Exit status: 0 drained, 1 failure, 2 usage or config error, 3 stopped with blocks\n"
"undelivered.\n"
"\n"
"  --config FILE               read settings from a ZPL config file; flags override it\n"
"\n"
"Chain (with a config file of several chains, set these per chain in the file):\n"
"  --chain NAME                topic prefix, [A-Za-z0-9_-]+ (default: mainnet for chain id 1,\n"
"                              anvil for 31337, chain<ID> otherwise)\n"
"  --chain-id ID               refuse a node whose chain id differs (default: take the node's)\n"
"  --rpc URL                   JSON-RPC provider, repeatable (default " OPTIONS_DEFAULT_RPC ")\n"
"  --keys NAME,NAME            API key names; {key} in an --rpc URL becomes a leased key's secret\n"
"  --key-rps N                 per-key budget per second in the provider's units (default 0: none)\n"
"  --key-daily N               per-key budget per day in the provider's units (default 0: none)\n"
"  --key-costs NAME|FILE       the units: requests, infura (credits), alchemy (compute units)\n"
"                              or a cost table file like config/costs/ (default requests)\n"
"  --key-rotate SECONDS        a worker hands its key back after this long (default 300, 0 never)\n"
"  --key-rotate-requests N     or after this many requests (default 0: never)\n"
"  --workers N                 fetch workers, 1 to %d (default %d)\n"
"  --from N                    first block (default: the current head)\n"
"  --to N                      stop once block N is published (default: follow for ever)\n"
"  --fetch block|hashes        a block with its transactions in one request, or hashes then\n"
"                              one request per transaction (default block)\n"
"  --receipts                  also fetch receipts (one more call per block, in the block's\n"
"                              batch): receipt fields, decoded logs, token transfers\n"
"  --delivery instant|finalized  publish at once, or only --confirmations deep (default instant)\n"
"  --confirmations K           depth for --delivery finalized, 0 to %d (default %d)\n"
"\n"
"Service:\n"
"  --data-dir DIR              LMDB state and files sink root (default " OPTIONS_DEFAULT_DATA_DIR ")\n"
"  --sink files[:DIR]|stdout|kafka:BROKERS  where messages go (default files, in\n"
"                              <data-dir>/topics)\n"
"  --format json|msgpack       Kafka values; files and stdout are always JSON (default json)\n"
"  --kafka-linger-ms MS        Kafka producer linger.ms (default %d)\n"
"  --kafka-batch-size BYTES    batch.size (default %d)\n"
"  --kafka-compression CODEC   none, gzip, snappy, lz4 or zstd (default " KAFKA_SINK_COMPRESSION ")\n"
"  --kafka-partitions N        partitions of the topics evmtap creates (default %d)\n"
"  --kafka-replication N|default  their replication factor (default: the cluster's)\n"
"  --kafka-queue-messages N    producer queue bound; fetching pauses when full (default %d)\n"
"  --kafka-queue-kbytes N      producer queue bound in KB (default %d)\n"
"  --kafka-message-timeout-ms MS  a delivery fails after MS and is produced again, the\n"
"                              checkpoint waits (default %d; 0: never)\n"
"  --redis URL                 redis://HOST:PORT shares the key pool between processes\n"
"                              (default: a pool inside this process)\n"
"  --listen tcp://HOST:PORT    accept remote `evmtap worker` processes (default: none)\n"
"  --control ENDPOINT          socket for `evmtap ctl`: tcp://HOST:PORT, ipc://PATH\n"
"  --metrics HOST:PORT         serve Prometheus text at /metrics (default: off)\n"
"  --watchlist FILE            addresses to alert on, repeatable; named by the file's base name\n"
"  --abis DIR                  ABIs to decode contract calls with: DIR/*.json, bound to\n"
"                              contracts by DIR/addresses.json (default: config/abis)\n"
"  --signatures FILE           4-byte selectors, `0x<selector><TAB><signature>` per line\n"
"  --event-signatures FILE     event topics for logs (--receipts), `0x<topic0><TAB><signature>`\n"
"                              per line, `indexed` marked or guessed (default: the ABIs' events)\n"
"  --drain-timeout SECONDS     on SIGTERM, time to publish the blocks in flight (default 10)\n"
"  --rpc-timeout SECONDS       per HTTP request to a provider (default 10)\n"
"  --secrets-dir DIR           where key secret files live (default " OPTIONS_DEFAULT_SECRETS_DIR ")\n"
"  -v, --verbose               log more\n"
"  -h, --help                  print this help and exit\n"
"\n"
"Both --flag VALUE and --flag=VALUE work. Key secrets never come from flags or the file:\n"
"  EVMTAP_KEY_<NAME>           the secret of key NAME, upper-cased with '-' as '_'\n"
"                              (key api_key_1: EVMTAP_KEY_API_KEY_1)\n"
"  <secrets-dir>/<name>        otherwise, e.g. a Docker secret /run/secrets/api_key_1\n"
"\n"
"Not available in this version yet (refused with exit 2): --delivery finalized,\n"
"--listen, --control, --metrics, --watchlist.\n",
             OPTIONS_MAX_WORKERS, OPTIONS_DEFAULT_WORKERS,
             OPTIONS_MAX_CONFIRMATIONS, OPTIONS_DEFAULT_CONFIRMATIONS,
             KAFKA_SINK_LINGER_MS, KAFKA_SINK_BATCH_BYTES, KAFKA_SINK_PARTITIONS,
             KAFKA_SINK_QUEUE_MESSAGES, KAFKA_SINK_QUEUE_KBYTES, KAFKA_SINK_MESSAGE_TIMEOUT_MS);
}

const char *
options_flag (size_t index, char *short_flag)
{
    if (index >= S_COUNT)
        return NULL;
    if (short_flag)
        *short_flag = s_settings [index].short_flag;
    return s_settings [index].flag;
}
