/*  cmd_worker: `evmtap worker --connect tcp://HOST:PORT [--workers N] [--redis URL]`. Joins a
    coordinator through a worker relay, learns the chain's URL templates and key names from
    its WELCOME, fills the secrets from this host's environment or Docker secrets (never
    from the wire) and runs N fetch workers until a signal. Leases: with --redis, through a
    key pool of this process on that Redis (the coordinator must use the same one); without,
    relayed to the coordinator's pool. A lost link stops the workers (their leases lapse at
    the coordinator, and a worker never sends on a lease that may have expired) and the
    worker joins again. */
#include "evmtap.h"
#include "cmd_worker.h"
#include <unistd.h>
#include "cost_table.h"
#include "curve_auth.h"
#include "fetch_worker.h"
#include "keypool.h"
#include "metrics_server.h"
#include "setting_types.h"
#include "secrets.h"
#include "worker_link.h"
#include "worker_relay.h"

#define S_RELAY_WORKERS "inproc://evmtap-relay-workers"
#define S_RELAY_POOL "inproc://evmtap-relay-pool"
#define S_LOCAL_POOL "inproc://evmtap-worker-keypool"
//  How long a join waits for its WELCOME, and between two joins.
#define S_JOIN_WAIT_MS 5000
#define S_REJOIN_MS 1000

typedef struct {
    const char *connect;
    int workers;
    const char *redis;
    const char *data_dir;
    const char *secrets_dir;
    const char *curve_cert;
    const char *curve_server;
    const char *metrics;
} s_worker_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: evmtap worker --connect tcp://HOST:PORT [flags]\n"
             "Runs fetch workers for the coordinator (`evmtap run --listen`) at --connect.\n"
             "  --connect ENDPOINT      the coordinator's --listen endpoint (required)\n"
             "  --workers N             fetch workers, 1 to 256 (default 4)\n"
             "  --redis URL             lease keys through this Redis, as the coordinator does\n"
             "                          (default: through the coordinator's key pool)\n"
             "  --data-dir DIR          the usage journal with --redis (default\n"
             "                          ./evmtap-worker-data)\n"
             "  --secrets-dir DIR       key secrets (default /run/secrets; EVMTAP_KEY_<NAME>\n"
             "                          first)\n"
             "  --curve-cert FILE       this worker's CURVE certificate (FILE_secret beside)\n"
             "  --curve-server FILE     the coordinator's public certificate (both required\n"
             "                          off loopback)\n"
             "  --metrics HOST:PORT     serve Prometheus text at /metrics: this process's\n"
             "                          requests, keys and units (default: off)\n");
}

static int
s_parse (int argc, char **argv, s_worker_options_t *options)
{
    *options = (s_worker_options_t) {
        .workers = 4, .data_dir = "./evmtap-worker-data", .secrets_dir = "/run/secrets"};
    for (int index = 1; index < argc; index++) {
        const char *flag = argv [index];
        if (streq (flag, "--help") || streq (flag, "-h")) {
            s_usage (stdout);
            return 1;
        }
        const char *value = index + 1 < argc ? argv [index + 1] : NULL;
        const char **target = streq (flag, "--connect")        ? &options->connect
                              : streq (flag, "--redis")        ? &options->redis
                              : streq (flag, "--data-dir")     ? &options->data_dir
                              : streq (flag, "--secrets-dir")  ? &options->secrets_dir
                              : streq (flag, "--curve-cert")   ? &options->curve_cert
                              : streq (flag, "--curve-server") ? &options->curve_server
                              : streq (flag, "--metrics")      ? &options->metrics
                                                               : NULL;
        if (!value || (!target && !streq (flag, "--workers"))) {
            fprintf (stderr, "evmtap worker: %s %s (see evmtap worker --help)\n", flag,
                     value ? "is no flag of evmtap worker" : "needs a value");
            return -1;
        }
        index++;
        if (target)
            *target = value;
        else {
            char *end = NULL;
            long count = strtol (value, &end, 10);
            if (!*value || *end || count < 1 || count > 256) {
                fprintf (stderr, "evmtap worker: --workers: a number from 1 to 256\n");
                return -1;
            }
            options->workers = (int) count;
        }
    }
    const char *refusal = NULL;
    if (!options->connect || strncmp (options->connect, "tcp://", 6) != 0)
        refusal = "--connect tcp://HOST:PORT is required";
    else if (options->redis && strncmp (options->redis, "redis://", 8) != 0)
        refusal = "--redis: a redis://HOST[:PORT] URL";
    else if (!curve_auth_endpoint_is_local (options->connect)
             && (!options->curve_cert || !options->curve_server))
        refusal = !options->curve_cert ? "--connect off loopback needs CURVE: --curve-cert"
                                       : "--connect off loopback needs CURVE: --curve-server";
    else if (!options->curve_cert != !options->curve_server)
        refusal = "--curve-cert and --curve-server go together";
    else if (options->metrics && !setting_valid_metrics (options->metrics))
        refusal = "--metrics: HOST:PORT";
    if (refusal) {
        fprintf (stderr, "evmtap worker: %s\n", refusal);
        return -1;
    }
    return 0;
}

//  Starts the fetch workers WELCOME describes. 0, or -1 with the reason told (a secret
//  missing here: exit 2).
static int
s_start_workers (const s_worker_options_t *options, const worker_link_t *welcome, const char *pool,
                 fetch_worker_t **workers)
{
    if (welcome->rpc_count == 0) {
        fprintf (stderr, "evmtap worker: the coordinator sent no rpc URL\n");
        return -1;
    }
    char err [512];
    cost_table_t *costs = cost_table_new (welcome->key_costs, err, sizeof (err));
    if (!costs) {
        fprintf (stderr, "evmtap worker: %s\n", err);
        return -1;
    }
    char **secrets = (char **) calloc (welcome->key_count + 1, sizeof (char *));
    assert (secrets);
    int rc = 0;
    for (size_t key = 0; key < welcome->key_count && rc == 0; key++) {
        secrets [key] = secrets_lookup (welcome->keys [key].text, options->secrets_dir, err,
                                        sizeof (err));
        if (!secrets [key]) {
            fprintf (stderr, "evmtap worker: %s\n", err);
            rc = -1;
        }
    }
    char host [64] = "localhost";
    gethostname (host, sizeof (host) - 1);
    for (int index = 0; index < options->workers && rc == 0; index++) {
        const char *url_template = welcome->rpc [(size_t) index % welcome->rpc_count].text;
        char provider [128];
        secrets_provider_name (url_template, provider, sizeof (provider));
        double key_rps = (double) welcome->key_rps_milli / 1000;
        fetch_worker_args_t *args = NULL;
        if (!secrets_url_needs_key (url_template)) {
            char *url = secrets_fill_url (url_template, "");
            args = fetch_worker_args_new (S_RELAY_WORKERS, url, provider, key_rps,
                                          (int) welcome->timeout_ms);
            secrets_free (&url);
        }
        else {
            args = fetch_worker_args_new (S_RELAY_WORKERS, "", provider, key_rps,
                                          (int) welcome->timeout_ms);
            char holder [200];
            snprintf (holder, sizeof (holder), "%s:%d:%s/r%d", host, (int) getpid (),
                      welcome->chain, index);
            fetch_worker_args_set_pool (args, pool, holder, costs, welcome->key_daily,
                                        welcome->rotate_ms, welcome->rotate_requests);
            for (size_t key = 0; key < welcome->key_count; key++) {
                char *url = secrets_fill_url (url_template, secrets [key]);
                fetch_worker_args_add_key (args, welcome->keys [key].text, url);
                secrets_free (&url);
            }
        }
        args->verify = welcome->verify;
        args->chain = strdup (welcome->chain);
        args->metrics = options->metrics ? strdup (METRICS_SERVER_ENDPOINT) : NULL;
        workers [index] = fetch_worker_new (args);
        if (!workers [index])
            rc = -1;
    }
    for (size_t key = 0; key < welcome->key_count; key++)
        secrets_free (&secrets [key]);
    free (secrets);
    cost_table_destroy (&costs);
    return rc;
}

int
cmd_worker_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg)
{
    s_worker_options_t options;
    int parsed = s_parse (argc, argv, &options);
    if (parsed)
        return parsed > 0 ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
    //  Before the fetch workers, which push to it; its port is taken or not at once.
    metrics_server_t *metrics = NULL;
    if (options.metrics) {
        metrics_server_args_t metrics_args = {.listen = options.metrics};
        metrics = metrics_server_new (&metrics_args);
        if (!metrics) {
            fprintf (stderr, "evmtap worker: --metrics %s: %s\n", options.metrics,
                     metrics_args.error);
            return EVMTAP_EXIT_USAGE;
        }
        zsys_info ("evmtap worker: /metrics at %s (port %d)", options.metrics,
                   metrics_server_port (metrics));
    }
    keypool_t *pool = NULL;
    if (options.redis) {
        zsys_dir_create ("%s", options.data_dir);
        keypool_args_t pool_args = {.redis = options.redis,
                                    .data_dir = options.data_dir,
                                    .endpoint = S_LOCAL_POOL,
                                    .metrics = options.metrics ? METRICS_SERVER_ENDPOINT : NULL};
        pool = keypool_new (&pool_args);
        if (!pool) {
            fprintf (stderr, "evmtap worker: %s\n", pool_args.error);
            metrics_server_destroy (&metrics);
            return EVMTAP_EXIT_FAILURE;
        }
    }
    char worker_id [128], host [64] = "localhost";
    gethostname (host, sizeof (host) - 1);
    snprintf (worker_id, sizeof (worker_id), "%s:%d", host, (int) getpid ());
    fetch_worker_t **workers = (fetch_worker_t **) calloc ((size_t) options.workers,
                                                           sizeof (fetch_worker_t *));
    assert (workers);
    int exit_code = EVMTAP_EXIT_OK;
    while (!signalled (arg) && exit_code == EVMTAP_EXIT_OK) {
        worker_relay_args_t relay_args = {.connect = options.connect,
                                          .workers = S_RELAY_WORKERS,
                                          .pool = options.redis ? NULL : S_RELAY_POOL,
                                          .worker_id = worker_id,
                                          .worker_count = (uint32_t) options.workers,
                                          .curve_cert = options.curve_cert,
                                          .curve_server = options.curve_server};
        worker_relay_t *relay = worker_relay_new (&relay_args);
        if (!relay) {
            fprintf (stderr, "evmtap worker: %s\n", relay_args.error);
            exit_code = EVMTAP_EXIT_USAGE;
            break;
        }
        worker_link_t welcome;
        int rc = -1;
        for (int64_t waited = 0; rc < 0 && waited < S_JOIN_WAIT_MS && !signalled (arg);
             waited += 200)
            rc = worker_relay_welcome (relay, 200, &welcome);
        if (rc == 1) {
            fprintf (stderr, "evmtap worker: the coordinator refused: %s\n", welcome.reason);
            exit_code = EVMTAP_EXIT_USAGE;
        }
        else if (rc == 0) {
            zsys_info ("evmtap worker: joined %s for chain %s with %d fetch workers",
                       options.connect, welcome.chain, options.workers);
            if (s_start_workers (&options, &welcome, options.redis ? S_LOCAL_POOL : S_RELAY_POOL,
                                 workers))
                exit_code = EVMTAP_EXIT_USAGE;
            worker_link_clear (&welcome);
            zpoller_t *poller = zpoller_new (worker_relay_sock (relay), NULL);
            while (exit_code == EVMTAP_EXIT_OK && !signalled (arg) && !worker_relay_lost (relay))
                zpoller_wait (poller, 200);
            zpoller_destroy (&poller);
        }
        else if (!signalled (arg))
            zsys_warning ("evmtap worker: no answer from %s: joining again", options.connect);
        for (int index = 0; index < options.workers; index++)
            fetch_worker_destroy (&workers [index]);
        worker_relay_destroy (&relay);
        for (int64_t waited = 0; waited < S_REJOIN_MS && !signalled (arg); waited += 100)
            zclock_sleep (100);
    }
    free (workers);
    keypool_destroy (&pool);
    metrics_server_destroy (&metrics);
    return exit_code;
}
