/*  main: the evmtap command. Parses the command line, loads the config, starts the actors
    (broker, classifier, then per chain a dispatcher, its fetch workers and a head poller),
    waits for the end (--to reached, or a signal and the drain), and stops them in reverse.
    Exit codes: README "Exit codes". */
#include "evmtap.h"
#include "broker.h"
#include "chain_plan.h"
#include "keypool.h"
#include "cmd_decode.h"
#include "decoder.h"
#include "block.h"
#include "call_decoder.h"
#include "checkpoint.h"
#include "classifier.h"
#include "dispatcher.h"
#include "fetch_worker.h"
#include "head_poller.h"
#include "kafka_sink.h"
#include "options.h"
#include "sink.h"

//  Signals counted by our own handler: CZMQ's would interrupt every actor at once, and
//  the drain must go in order. A second signal leaves at once.
static volatile sig_atomic_t s_signals = 0;

static void
s_signal_handler (int signum)
{
    (void) signum;
    if (++s_signals >= 2)
        _exit (EVMTAP_EXIT_UNDRAINED);
}

static bool
s_signalled (void *arg)
{
    (void) arg;
    return s_signals > 0;
}

static void
s_install_signals (void)
{
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_signal_handler;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

static void
s_print_usage (FILE *out)
{
    fprintf (out,
             "evmtap %s: capture an EVM chain from JSON-RPC providers, classify and decode\n"
             "every transaction, and publish the records (Kafka, NDJSON files or stdout).\n\n"
             "Usage:\n"
             "  evmtap run [--config FILE] [flags]   follow the head (and catch up from --from)\n"
             "  evmtap decode [--abi FILE | --abis DIR] [--signatures FILE] [--to ADDR] CALLDATA\n"
             "                                       decode calldata (--log TOPICS DATA: a log)\n"
             "  evmtap keys [--redis URL] [--json]   the key pool: holder, usage, state\n"
             "  evmtap version                       print the version\n"
             "  evmtap help | --help                 this text\n\n"
             "`evmtap run --help` lists every flag. Exit codes: 0 done, 1 failure,\n"
             "2 usage or config error, 3 stopped with work left undone.\n",
             EVMTAP_VERSION);
}

//  Everything a run starts, in start order; stopped in reverse.
typedef struct {
    chain_plan_t *plan;
    char workers_endpoint [96];
    char jobs_endpoint [96];
    dispatcher_args_t dispatcher_args;
    dispatcher_t *dispatcher;
    fetch_worker_t **workers;
    head_poller_args_t poller_args;
    head_poller_t *poller;
    bool started;             //  has actors (false when there was nothing to do)
    bool flushed;             //  the broker checkpointed its FLUSH
} chain_run_t;

static void
s_chain_stop (chain_run_t *chain)
{
    head_poller_destroy (&chain->poller);
    for (size_t index = 0; chain->workers && index < chain->plan->worker_count; index++)
        fetch_worker_destroy (&chain->workers [index]);
    free (chain->workers);
    chain->workers = NULL;
    dispatcher_destroy (&chain->dispatcher);
}

static int
s_chain_start (chain_run_t *chain, const options_t *options, size_t index)
{
    chain_plan_t *plan = chain->plan;
    snprintf (chain->workers_endpoint, sizeof (chain->workers_endpoint),
              "inproc://evmtap-workers-%zu", index);
    snprintf (chain->jobs_endpoint, sizeof (chain->jobs_endpoint), "inproc://evmtap-jobs-%zu",
              index);
    chain->dispatcher_args.workers = chain->workers_endpoint;
    chain->dispatcher_args.jobs = chain->jobs_endpoint;
    chain->dispatcher = dispatcher_new (&chain->dispatcher_args);
    if (!chain->dispatcher)
        return -1;
    chain->workers = (fetch_worker_t **) calloc (plan->worker_count, sizeof (fetch_worker_t *));
    assert (chain->workers);
    for (size_t worker = 0; worker < plan->worker_count; worker++) {
        fetch_worker_args_t *args = chain_plan_worker_args (
            plan, worker, chain->workers_endpoint, KEYPOOL_ENDPOINT, options->rpc_timeout_ms);
        chain->workers [worker] = fetch_worker_new (args);
        if (!chain->workers [worker])
            return -1;
    }
    chain->poller_args = (head_poller_args_t) {
        .chain = plan->name, .chain_id = plan->chain_id,
        .jobs = zsys_sprintf (">%s", chain->jobs_endpoint),
        .classifier = ">inproc://evmtap-classifier", .start = plan->start,
        .to = plan->options->to, .fetch_mode = plan->options->fetch,
        .receipts = plan->options->receipts,
        .window = (int) plan->worker_count * 2, .parent_hash = plan->parent_hash,
        .interval_ms = 0};
    chain->poller = head_poller_new (&chain->poller_args);
    chain->started = true;
    return chain->poller ? 0 : -1;
}

//  Takes one event of the broker. Returns -1 when the sink failed.
static int
s_handle_broker (broker_t *broker, chain_run_t *chains, size_t chain_count)
{
    broker_event_t *event = broker_recv (broker);
    int rc = 0;
    if (event && event->type == BROKER_FLUSHED) {
        for (size_t index = 0; index < chain_count; index++)
            if (streq (chains [index].plan->name, event->chain))
                chains [index].flushed = true;
    }
    else if (event && event->type == BROKER_FAILED) {
        zsys_error ("sink failed: %s", event->reason ? event->reason : "unknown reason");
        rc = -1;
    }
    broker_event_destroy (&event);
    return rc;
}

//  Asks each head poller for its figures and logs them. Reports still queued (DONE,
//  DRAINED) are taken in passing by the facade.
static void
s_report (chain_run_t *chains, size_t chain_count, const char *when)
{
    for (size_t index = 0; index < chain_count; index++) {
        chain_run_t *chain = &chains [index];
        if (!chain->poller)
            continue;
        head_poller_stats_t stats;
        if (head_poller_stats (chain->poller, &stats)) {
            zsys_info ("%s %s: no figures (the head poller is busy)", when, chain->plan->name);
            continue;
        }
        zsys_info ("%s %s: %" PRIu64 " blocks published, next %" PRIu64 ", head %" PRIu64
                   ", %" PRIu64 " requests (%.3f per block, %" PRIu64 " early head polls)",
                   when, chain->plan->name, stats.blocks, stats.next, stats.head,
                   stats.requests,
                   stats.blocks ? (double) stats.requests / (double) stats.blocks : 0.0,
                   stats.misses);
    }
}

static int
s_run (int argc, char **argv)
{
    char err [512] = "";
    options_t *options = options_new ();
    int rc = options_parse_run (options, argc, argv, stdout, err, sizeof (err));
    if (rc != 0) {
        if (rc < 0)
            fprintf (stderr, "evmtap run: %s\n", err);
        options_destroy (&options);
        return rc > 0 ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
    }
    const char *unsupported = options->listen             ? "--listen"
                              : options->control          ? "--control"
                              : options->metrics          ? "--metrics"
                              : options->watchlist_count  ? "--watchlist"
                                                          : NULL;
    for (size_t index = 0; !unsupported && index < options->chain_count; index++) {
        chain_options_t *chain = &options->chains [index];
        unsupported = chain->delivery == DELIVERY_FINALIZED ? "--delivery finalized" : NULL;
    }
    if (unsupported) {
        fprintf (stderr, "evmtap run: %s is not available in evmtap %s yet\n", unsupported,
                 EVMTAP_VERSION);
        options_destroy (&options);
        return EVMTAP_EXIT_USAGE;
    }

    size_t chain_count = options->chain_count;
    chain_run_t *chains = (chain_run_t *) calloc (chain_count, sizeof (chain_run_t));
    assert (chains);
    int exit_code = EVMTAP_EXIT_OK;
    for (size_t index = 0; index < chain_count && exit_code == EVMTAP_EXIT_OK; index++) {
        chains [index].plan = chain_plan_new (&options->chains [index], options->secrets_dir,
                                              err, sizeof (err));
        if (!chains [index].plan) {
            fprintf (stderr, "evmtap run: %s\n", err);
            exit_code = EVMTAP_EXIT_USAGE;
        }
    }
    //  The key pool (leases, usage journal) starts first: the probes lease their keys.
    keypool_args_t pool_args = {.redis = options->redis, .data_dir = options->data_dir,
                                .broker = "inproc://evmtap-broker"};
    keypool_t *pool = NULL;
    if (exit_code == EVMTAP_EXIT_OK && !(pool = keypool_new (&pool_args))) {
        fprintf (stderr, "evmtap run: %s\n", pool_args.error);
        exit_code = EVMTAP_EXIT_FAILURE;
    }
    //  The chain id names the topics and the checkpoint, so it is needed first.
    for (size_t index = 0; index < chain_count && exit_code == EVMTAP_EXIT_OK; index++) {
        chain_plan_t *plan = chains [index].plan;
        uint64_t chain_id;
        if (chain_plan_probe (plan, KEYPOOL_ENDPOINT, options->rpc_timeout_ms, s_signalled, NULL,
                              &chain_id)) {
            exit_code = EVMTAP_EXIT_UNDRAINED;
            break;
        }
        if (chain_plan_set_chain_id (plan, chain_id, err, sizeof (err))) {
            fprintf (stderr, "evmtap run: %s\n", err);
            exit_code = EVMTAP_EXIT_USAGE;
        }
        for (size_t other = 0; other < index && exit_code == EVMTAP_EXIT_OK; other++)
            if (streq (chains [other].plan->name, plan->name)) {
                fprintf (stderr, "evmtap run: two chains are named %s: give each its own "
                         "name (topic prefix)\n", plan->name);
                exit_code = EVMTAP_EXIT_USAGE;
            }
    }
    if (exit_code == EVMTAP_EXIT_OK) {
        checkpoint_t *checkpoint = checkpoint_open (options->data_dir, err, sizeof (err));
        if (!checkpoint) {
            fprintf (stderr, "evmtap run: %s\n", err);
            exit_code = EVMTAP_EXIT_FAILURE;
        }
        for (size_t index = 0; checkpoint && index < chain_count; index++)
            if (chain_plan_set_start (chains [index].plan, checkpoint))
                exit_code = EVMTAP_EXIT_FAILURE;
        //  Usage entries go to the sink after the last one its checkpoint holds.
        uint64_t usage_seq = 0;
        char usage_hash [BLOCK_HASH_SIZE];
        if (checkpoint && checkpoint_get (checkpoint, KEYPOOL_USAGE_CHAIN, &usage_seq,
                                          usage_hash) >= 0)
            keypool_publish_from (pool, usage_seq);
        checkpoint_destroy (&checkpoint);
    }

    broker_t *broker = NULL;
    classifier_t *classifier = NULL;
    decoder_t *decoder = NULL;
    kafka_sink_config_t kafka = options->kafka;
    kafka.brokers = options->sink_target;
    kafka.msgpack = options->format_msgpack;
    kafka.verbose = options->verbose;
    broker_args_t broker_args = {.data_dir = options->data_dir, .sink = options->sink,
                                 .files_dir = options->sink == SINK_FILES ? options->sink_target
                                                                          : NULL,
                                 .endpoint = "inproc://evmtap-broker", .kafka = &kafka};
    classifier_args_t classifier_args = {"inproc://evmtap-classifier", ">inproc://evmtap-decoder"};
    decoder_args_t decoder_args = {"inproc://evmtap-decoder", ">inproc://evmtap-broker", NULL};
    if (exit_code == EVMTAP_EXIT_OK) {
        decoder_args.decoder = decoder_sources_load (options->abis, options->signatures,
                                                     options->event_signatures, NULL,
                                                     err, sizeof (err));
        if (!decoder_args.decoder) {
            fprintf (stderr, "evmtap run: %s\n", err);
            exit_code = EVMTAP_EXIT_USAGE;
        }
    }
    if (exit_code == EVMTAP_EXIT_OK) {
        broker = broker_new (&broker_args);
        if (!broker) {
            fprintf (stderr, "evmtap run: %s\n", broker_args.error);
            exit_code = EVMTAP_EXIT_FAILURE;
        }
    }
    if (exit_code == EVMTAP_EXIT_OK) {
        decoder = decoder_new (&decoder_args);
        classifier = classifier_new (&classifier_args);
        for (size_t index = 0; index < chain_count && exit_code == EVMTAP_EXIT_OK; index++)
            if (s_chain_start (&chains [index], options, index))
                exit_code = EVMTAP_EXIT_FAILURE;
    }

    //  Wait for every chain to end (--to, or a signal and its drain).
    zpoller_t *poller = zpoller_new (NULL);
    if (broker)
        zpoller_add (poller, broker_socket (broker));
    for (size_t index = 0; index < chain_count; index++)
        if (chains [index].poller)
            zpoller_add (poller, head_poller_socket (chains [index].poller));
    bool draining = false;
    int64_t drain_deadline = 0;
    int64_t next_report = zclock_mono () + 10000;
    while (exit_code == EVMTAP_EXIT_OK) {
        bool all_flushed = true;
        for (size_t index = 0; index < chain_count; index++)
            all_flushed &= chains [index].flushed;
        if (all_flushed)
            break;
        if (s_signals && !draining) {
            draining = true;
            drain_deadline = zclock_mono () + options->drain_timeout_ms;
            zsys_info ("stopping: finishing the blocks in flight (at most %d s)",
                       options->drain_timeout_ms / 1000);
            for (size_t index = 0; index < chain_count; index++)
                head_poller_drain (chains [index].poller);
        }
        if (draining && zclock_mono () >= drain_deadline) {
            zsys_warning ("stopping: drain timeout; unpublished blocks will be fetched again");
            //  A broker waiting for Kafka no longer reads: actors blocked sending to it
            //  could not stop. It drops what comes from now on instead.
            broker_abandon (broker);
            exit_code = EVMTAP_EXIT_UNDRAINED;
            break;
        }
        void *which = zpoller_wait (poller, 200);
        if (broker && which == broker_socket (broker)) {
            if (s_handle_broker (broker, chains, chain_count))
                exit_code = EVMTAP_EXIT_FAILURE;
        }
        else
            for (size_t index = 0; index < chain_count; index++)
                if (chains [index].poller && which == head_poller_socket (chains [index].poller))
                    head_poller_recv (chains [index].poller);
        if (zclock_mono () >= next_report) {
            s_report (chains, chain_count, "progress");
            next_report = zclock_mono () + 10000;
        }
    }
    for (size_t index = 0; index < chain_count; index++)
        if (chains [index].poller && exit_code == EVMTAP_EXIT_OK
            && head_poller_state (chains [index].poller) == HEAD_POLLER_PARTIAL)
            exit_code = EVMTAP_EXIT_UNDRAINED;
    s_report (chains, chain_count, "end");
    zpoller_destroy (&poller);

    for (size_t index = chain_count; index-- > 0;) {
        s_chain_stop (&chains [index]);
        free ((char *) chains [index].poller_args.jobs);
    }
    keypool_destroy (&pool);
    classifier_destroy (&classifier);
    decoder_destroy (&decoder);
    call_decoder_destroy (&decoder_args.decoder);
    broker_destroy (&broker);
    for (size_t index = 0; index < chain_count; index++)
        chain_plan_destroy (&chains [index].plan);
    free (chains);
    options_destroy (&options);
    return exit_code;
}

int
main (int argc, char **argv)
{
    s_install_signals ();
    zsys_set_logstream (stderr);
    zsys_set_logident ("evmtap");
    if (argc < 2 || streq (argv [1], "--help") || streq (argv [1], "-h")
        || streq (argv [1], "help")) {
        s_print_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_OK;
    }
    if (streq (argv [1], "version") || streq (argv [1], "--version")) {
        printf ("evmtap %s\n", EVMTAP_VERSION);
        return EVMTAP_EXIT_OK;
    }
    if (streq (argv [1], "run"))
        return s_run (argc - 1, argv + 1);
    if (streq (argv [1], "keys"))
        return cmd_keys_main (argc - 1, argv + 1);
    if (streq (argv [1], "decode"))
        return cmd_decode_main (argc - 1, argv + 1);
    fprintf (stderr, "evmtap: unknown command '%s' (see evmtap --help)\n", argv [1]);
    return EVMTAP_EXIT_USAGE;
}
