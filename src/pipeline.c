/*  pipeline: the capture of `evmtap run` and `evmtap backfill` in six steps. Lock: the data dir's path checked and its lock taken, so
    that one process at a time writes it. Plan: the options checked and each chain planned
    (providers, keys, secrets, cost tables), so a usage error leaves before anything
    starts. Probe: the key pool (the probes lease their keys from it), each chain's id
    (it names the topics and the checkpoint) and where it starts from the checkpoint.
    Start: the decoding sources, the broker, the decoder, the classifier, then per chain a
    dispatcher, its fetch workers and a head poller. Wait: until the broker has
    checkpointed the end of every chain's stream (--to, or a signal and the drain), or the
    sink fails. Stop: the last figures, then every actor in reverse order of its start,
    but for the key pool, which stops with the chains, before the broker that takes its
    last usage records. Exit codes: README "Stopping and exit codes". SIGHUP and `ctl RELOAD`
    reload the decoding sources and the watchlists (pipeline_reload) while it waits; `ctl
    BACKFILL` runs beside the chains (pipeline_backfill.c; what both share: pipeline_run.h). */
#include "evmtap.h"
#include "pipeline.h"
#include "pipeline_run.h"
#include "block.h"
#include "broker.h"
#include "call_decoder.h"
#include "chain_plan.h"
#include "checkpoint.h"
#include "classifier.h"
#include "control_actor.h"
#include "curve_auth.h"
#include "data_dir.h"
#include "decoder.h"
#include "dispatcher.h"
#include "fetch_worker.h"
#include "files_sink.h"
#include "head_poller.h"
#include "kafka_sink.h"
#include "keypool.h"
#include "metric.h"
#include "metrics.h"
#include "metrics_server.h"
#include "options.h"
#include "sink.h"
#include <sys/un.h>
#include "watch_match.h"
#include "state_settings.h"
#include "state_watcher.h"
#include "curve_auth.h"
#include "worker_link.h"

//  How often the head pollers' figures are logged while the run goes on.
#define RUN_REPORT_INTERVAL_MS 10000
//  After SCALE stopped workers, when their jobs are requeued a second time.
#define PIPELINE_REQUEUE_AGAIN_MS 1000
//  How often the dispatchers' figures go to the metrics actor (--metrics).
#define PIPELINE_METRICS_MS 1000


//  Loads the --watchlist files into *watch (NULL when none is given). Returns 0, or -1
//  with the reason (FILE:LINE for a malformed line) in err.
static int
s_watchlists_load (pipeline_t *self, watch_match_t **watch, char *err, size_t err_size)
{
    *watch = NULL;
    if (!self->options->watchlist_count)
        return 0;
    *watch = watch_match_load (self->options->watchlists, self->options->watchlist_count, err,
                               err_size);
    return *watch ? 0 : -1;
}

//  Checks the lengths of the data dir and files sink paths, then takes the data dir's lock,
//  before anything opens it: a second process on the same dir leaves at once (exit 2).
static int
s_lock_data_dir (pipeline_t *self)
{
    options_t *options = self->options;
    char err [600];
    if (data_dir_check_length (options->data_dir, DATA_DIR_PATH_MAX, "--data-dir (data_dir)", err,
                               sizeof (err))
        || (options->sink == SINK_FILES && options->sink_target
            && data_dir_check_length (options->sink_target, DATA_DIR_FILES_ROOT_MAX,
                                      "--sink files:DIR (sink)", err, sizeof (err)))) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, err);
        return EVMTAP_EXIT_USAGE;
    }
    data_dir_lock_result_t result = data_dir_lock_take (options->data_dir, self->command,
                                                        &self->lock, err, sizeof (err));
    if (result == DATA_DIR_LOCKED)
        return EVMTAP_EXIT_OK;
    fprintf (stderr, "evmtap %s: %s\n", self->command, err);
    return result == DATA_DIR_BUSY ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_FAILURE;
}

//  Remote workers: one chain only (the link's WELCOME describes one), CURVE off loopback,
//  and somebody to fetch. 0, or -1 with the reason told.
static int
s_check_listen (pipeline_t *self)
{
    options_t *options = self->options;
    const char *refusal = NULL;
    for (size_t index = 0; index < options->chain_count && !options->listen; index++)
        if (options->chains [index].workers == 0)
            refusal = "--workers 0 needs --listen (remote workers): nobody would fetch";
    if (options->listen && options->chain_count > 1)
        refusal = "--listen serves one chain: run one coordinator per chain";
    else if (options->listen && !curve_auth_endpoint_is_local (options->listen)
             && (!options->curve_cert || !options->curve_authorized))
        refusal = !options->curve_cert
                      ? "--listen is not loopback or ipc: it needs CURVE: give --curve-cert "
                        "(curve_cert)"
                      : "--listen is not loopback or ipc: it needs CURVE: give "
                        "--curve-authorized (curve_authorized)";
    char err [512];
    if (!refusal && options->listen && !curve_auth_endpoint_is_local (options->listen)
        && !self->auth) {
        self->auth = curve_auth_new (options->curve_cert, options->curve_authorized, err,
                                     sizeof (err));
        if (!self->auth)
            refusal = err;
    }
    if (refusal)
        fprintf (stderr, "evmtap %s: %s\n", self->command, refusal);
    return refusal ? -1 : 0;
}

//  Refuses what this version cannot do yet, then plans every chain.
static int
s_plan (pipeline_t *self)
{
    options_t *options = self->options;
    if (options->control && !curve_auth_endpoint_is_local (options->control)) {
        const char *missing = !options->curve_cert         ? "--curve-cert (curve_cert)"
                              : !options->curve_authorized ? "--curve-authorized (curve_authorized)"
                                                           : NULL;
        if (missing) {
            fprintf (stderr,
                     "evmtap %s: --control %s is not loopback or ipc: it needs CURVE: give "
                     "%s\n",
                     self->command, options->control, missing);
            return EVMTAP_EXIT_USAGE;
        }
        char err [512];
        self->auth = curve_auth_new (options->curve_cert, options->curve_authorized, err,
                                     sizeof (err));
        if (!self->auth) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
            return EVMTAP_EXIT_USAGE;
        }
    }
    if (s_check_listen (self))
        return EVMTAP_EXIT_USAGE;
    char watch_err [600];
    if (s_watchlists_load (self, &self->watch, watch_err, sizeof (watch_err))) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, watch_err);
        return EVMTAP_EXIT_USAGE;
    }
    if (self->watch)
        zsys_info ("watchlists: %zu lists, %zu addresses", watch_match_lists (self->watch),
                   watch_match_addresses (self->watch));
    self->chain_count = options->chain_count;
    self->chains = (chain_run_t *) calloc (self->chain_count, sizeof (chain_run_t));
    assert (self->chains);
    for (size_t index = 0; index < self->chain_count; index++) {
        char err [512];
        self->chains [index].plan = chain_plan_new (&options->chains [index], options->secrets_dir,
                                                    err, sizeof (err));
        if (!self->chains [index].plan
            || state_settings_watches (&options->chains [index], options->abis,
                                       options->config_file, NULL, err, sizeof (err))) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
            return EVMTAP_EXIT_USAGE;
        }
    }
    return EVMTAP_EXIT_OK;
}

//  Sets where each chain starts from the checkpoint, and has the key pool publish the
//  usage entries after the last one the checkpoint holds. A store error on one chain does
//  not keep the others from being set.
static int
s_read_checkpoint (pipeline_t *self)
{
    char err [512];
    checkpoint_t *checkpoint = checkpoint_open (self->options->data_dir, err, sizeof (err));
    if (!checkpoint) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, err);
        return EVMTAP_EXIT_FAILURE;
    }
    int exit_code = EVMTAP_EXIT_OK;
    //  The files sink's root must be the directory the checkpoint's sizes are of.
    if (self->options->sink == SINK_FILES) {
        char *files_dir = self->options->sink_target
                              ? strdup (self->options->sink_target)
                              : zsys_sprintf ("%s/topics", self->options->data_dir);
        assert (files_dir);
        int rc = files_sink_root (checkpoint, files_dir, err, sizeof (err));
        zstr_free (&files_dir);
        if (rc) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
            checkpoint_destroy (&checkpoint);
            return rc == 1 ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_FAILURE;
        }
    }
    for (size_t index = 0; index < self->chain_count; index++)
        if (chain_plan_set_start (self->chains [index].plan, checkpoint))
            exit_code = EVMTAP_EXIT_FAILURE;
    //  The node must serve the chain checkpointed under each name, and still have its block.
    for (size_t index = 0; index < self->chain_count && exit_code == EVMTAP_EXIT_OK; index++) {
        exit_code = chain_plan_check_identity (
            self->chains [index].plan, checkpoint, KEYPOOL_ENDPOINT, self->options->rpc_timeout_ms,
            self->signalled, self->signalled_arg, err, sizeof (err));
        if (exit_code != EVMTAP_EXIT_OK && exit_code != EVMTAP_EXIT_UNDRAINED)
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
    }
    uint64_t usage_seq = 0;
    char usage_hash [BLOCK_HASH_SIZE];
    if (checkpoint_get (checkpoint, KEYPOOL_USAGE_CHAIN, &usage_seq, usage_hash) >= 0)
        keypool_publish_from (self->pool, usage_seq);
    checkpoint_destroy (&checkpoint);
    return exit_code;
}

//  Starts the key pool, learns each chain's id and name (two chains may not share a
//  name: it is their topic prefix) and where each starts.
static int
s_probe (pipeline_t *self)
{
    options_t *options = self->options;
    if (options->metrics) {
        metrics_server_args_t metrics_args = {.listen = options->metrics};
        self->metrics = metrics_server_new (&metrics_args);
        if (!self->metrics) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, metrics_args.error);
            return EVMTAP_EXIT_FAILURE;
        }
        zsys_info ("metrics: serving Prometheus text at http://%s/metrics (port %d)",
                   options->metrics, metrics_server_port (self->metrics));
        self->metrics_push = zsock_new_push (METRICS_SERVER_ENDPOINT);
        self->updates = metric_batch_new ();
        assert (self->metrics_push && self->updates);
    }
    keypool_args_t pool_args = {.redis = options->redis,
                                .data_dir = options->data_dir,
                                .broker = "inproc://evmtap-broker",
                                .metrics = options->metrics ? METRICS_SERVER_ENDPOINT : NULL};
    self->pool = keypool_new (&pool_args);
    if (!self->pool) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, pool_args.error);
        return EVMTAP_EXIT_FAILURE;
    }
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_plan_t *plan = self->chains [index].plan;
        uint64_t chain_id;
        if (chain_plan_probe (plan, KEYPOOL_ENDPOINT, options->rpc_timeout_ms, self->signalled,
                              self->signalled_arg, &chain_id))
            return EVMTAP_EXIT_UNDRAINED;
        char err [512];
        if (chain_plan_set_chain_id (plan, chain_id, err, sizeof (err))) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
            return EVMTAP_EXIT_USAGE;
        }
        for (size_t other = 0; other < index; other++)
            if (streq (self->chains [other].plan->name, plan->name)) {
                fprintf (stderr,
                         "evmtap %s: two chains are named %s: give each its own "
                         "name (topic prefix)\n",
                         self->command, plan->name);
                return EVMTAP_EXIT_USAGE;
            }
    }
    return s_read_checkpoint (self);
}

fetch_worker_t *
pipeline_fetch_worker_start (chain_plan_t *plan, size_t worker, const char *endpoint,
                             const options_t *options)
{
    fetch_worker_args_t *args = chain_plan_worker_args (plan, worker, endpoint, KEYPOOL_ENDPOINT,
                                                        options->rpc_timeout_ms);
    args->metrics = options->metrics ? strdup (METRICS_SERVER_ENDPOINT) : NULL;
    return fetch_worker_new (args);
}

//  Starts a chain's dispatcher, its fetch workers and its head poller (the chain's index
//  tells their endpoints apart). Returns 0 or -1.
static int
s_chain_start (chain_run_t *chain, const options_t *options, size_t index, curve_auth_t *auth)
{
    chain_plan_t *plan = chain->plan;
    char workers [96], jobs [96];
    snprintf (workers, sizeof (workers), "inproc://evmtap-workers-%zu", index);
    snprintf (jobs, sizeof (jobs), "inproc://evmtap-jobs-%zu", index);
    dispatcher_args_t dispatcher_args = {.workers = workers, .jobs = jobs};
    worker_link_item_t items [OPTIONS_MAX_RPC + OPTIONS_MAX_KEYS];
    worker_link_t welcome;
    if (options->listen) {
        chain_plan_welcome (plan, options->rpc_timeout_ms, items, &welcome);
        dispatcher_args.listen = options->listen;
        dispatcher_args.welcome = &welcome;
        dispatcher_args.keypool = KEYPOOL_ENDPOINT;
        dispatcher_args.redis = options->redis != NULL;
        dispatcher_args.auth = auth;
    }
    chain->dispatcher = dispatcher_new (&dispatcher_args);
    if (!chain->dispatcher) {
        zsys_error ("dispatcher %s: %s", plan->name, dispatcher_args.error);
        return -1;
    }
    snprintf (chain->workers_endpoint, sizeof (chain->workers_endpoint), "%s", workers);
    chain->workers = (fetch_worker_t **) calloc (plan->worker_count, sizeof (fetch_worker_t *));
    assert (chain->workers);
    for (size_t worker = 0; worker < plan->worker_count; worker++) {
        chain->workers [worker] = pipeline_fetch_worker_start (plan, worker, workers, options);
        if (!chain->workers [worker])
            return -1;
        chain->worker_live = worker + 1;
    }
    if (options->abis) {
        char proxies [96];
        snprintf (proxies, sizeof (proxies), "inproc://evmtap-proxies-%zu", index);
        chain->proxy_worker = pipeline_fetch_worker_start (plan, CHAIN_PLAN_PROXY_WORKER, proxies,
                                                           options);
        if (!chain->proxy_worker)
            return -1;
    }
    snprintf (chain->jobs, sizeof (chain->jobs), ">%s", jobs);
    //  Remote workers add their jobs in flight (how many join is not known in advance).
    int window = (int) plan->worker_count * 2 + (options->listen ? 64 : 0);
    chain->poller_args = (head_poller_args_t) {.chain = plan->name,
                                               .chain_id = plan->chain_id,
                                               .jobs = chain->jobs,
                                               .classifier = ">inproc://evmtap-classifier",
                                               .start = plan->start,
                                               .to = plan->options->to,
                                               .fetch_mode = plan->options->fetch,
                                               .receipts = plan->options->receipts,
                                               .window = window,
                                               .parent_hash = plan->parent_hash,
                                               .published = plan->published,
                                               .interval_ms = 0,
                                               .finalized = plan->options->delivery
                                                            == DELIVERY_FINALIZED,
                                               .confirmations = plan->options->confirmations,
                                               .finality_poll_ms = plan->options->finality_poll_ms};
    chain->poller_args.metrics = options->metrics ? METRICS_SERVER_ENDPOINT : NULL;
    chain->poller = head_poller_new (&chain->poller_args);
    return chain->poller ? 0 : -1;
}

void
pipeline_commit_on_timer (pipeline_t *self)
{
    assert (self);
    self->commit_on_timer = true;
}

//  Loads the decoding sources, then starts the actors downstream first, so that each
//  one's next stage is there when it starts: broker, decoder, classifier, the chains.
int
pipeline_start (pipeline_t *self)
{
    options_t *options = self->options;
    char err [512];
    decoder_args_t decoder_args = {"inproc://evmtap-decoder", ">inproc://evmtap-broker", NULL, NULL,
                                   NULL};
    decoder_args.decoder = decoder_sources_load (
        options->abis, options->signatures, options->event_signatures, NULL, err, sizeof (err));
    if (!decoder_args.decoder) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, err);
        return EVMTAP_EXIT_USAGE;
    }
    kafka_sink_config_t kafka = options->kafka;
    kafka.brokers = options->sink_target;
    kafka.msgpack = options->format_msgpack;
    kafka.verbose = options->verbose;
    broker_args_t broker_args = {.data_dir = options->data_dir,
                                 .sink = options->sink,
                                 .files_dir = options->sink == SINK_FILES ? options->sink_target
                                                                          : NULL,
                                 .endpoint = "inproc://evmtap-broker",
                                 .kafka = &kafka,
                                 .timer_only = self->commit_on_timer,
                                 .metrics = options->metrics ? METRICS_SERVER_ENDPOINT : NULL};
    self->broker = broker_new (&broker_args);
    if (!self->broker) {
        fprintf (stderr, "evmtap %s: %s\n", self->command, broker_args.error);
        call_decoder_destroy (&decoder_args.decoder);
        return EVMTAP_EXIT_FAILURE;
    }
    decoder_args.watch = self->watch;
    self->watch = NULL;
    //  Proxies resolve to implementations only where ABIs are bound to addresses.
    if (options->abis) {
        decoder_args.proxies = proxy_lookup_new (
            options->data_dir, (uint64_t) options->proxy_refresh, err, sizeof (err));
        if (!decoder_args.proxies) {
            fprintf (stderr, "evmtap %s: %s\n", self->command, err);
            call_decoder_destroy (&decoder_args.decoder);
            watch_match_destroy (&decoder_args.watch);
            proxy_lookup_destroy (&decoder_args.proxies);
            return EVMTAP_EXIT_FAILURE;
        }
        for (size_t index = 0; index < self->chain_count; index++) {
            char endpoint [96];
            snprintf (endpoint, sizeof (endpoint), "inproc://evmtap-proxies-%zu", index);
            proxy_lookup_add_chain (decoder_args.proxies, self->chains [index].plan->name,
                                    endpoint);
        }
    }
    //  State watchers sit between the decoder and the broker, where a chain has any.
    self->state_chains = (state_chain_t **) calloc (self->chain_count, sizeof (state_chain_t *));
    assert (self->state_chains);
    for (size_t index = 0; index < self->chain_count; index++)
        if (self->chains [index].plan->options->state_count) {
            self->state_chains [index] = state_settings_chain (self->chains [index].plan, options,
                                                               KEYPOOL_ENDPOINT, err, sizeof (err));
            if (!self->state_chains [index]) {
                fprintf (stderr, "evmtap %s: %s\n", self->command, err);
                call_decoder_destroy (&decoder_args.decoder);
                watch_match_destroy (&decoder_args.watch);
                proxy_lookup_destroy (&decoder_args.proxies);
                return EVMTAP_EXIT_USAGE;
            }
            self->state_args.chain_count = self->chain_count;
        }
    if (self->state_args.chain_count) {
        self->state_args = (state_watcher_args_t) {"inproc://evmtap-state",
                                                   ">inproc://evmtap-broker", self->state_chains,
                                                   self->chain_count};
        self->state_watcher = state_watcher_new (&self->state_args);
        decoder_args.broker = ">inproc://evmtap-state";
    }
    self->decoder = decoder_new (&decoder_args);
    call_decoder_destroy (&decoder_args.decoder);    //  when the decoder did not take it
    watch_match_destroy (&decoder_args.watch);
    classifier_args_t classifier_args = {"inproc://evmtap-classifier", ">inproc://evmtap-decoder"};
    self->classifier = classifier_new (&classifier_args);
    for (size_t index = 0; index < self->chain_count; index++)
        if (s_chain_start (&self->chains [index], options, index, self->auth))
            return EVMTAP_EXIT_FAILURE;
    return pipeline_control_start (self);
}

//  Takes one event of the broker. Returns -1 when the sink failed.
static int
s_handle_broker (pipeline_t *self)
{
    broker_event_t *event = broker_recv (self->broker);
    int rc = 0;
    if (event && event->type == BROKER_FLUSHED) {
        for (size_t index = 0; index < self->chain_count; index++) {
            chain_run_t *chain = &self->chains [index];
            if (streq (chain->plan->name, event->chain)) {
                chain->flushed = true;
                chain->published = event->published;
                chain->last = event->number;
            }
            else if (chain->backfill.poller && streq (chain->backfill.stream, event->chain)) {
                bool complete = head_poller_state (chain->backfill.poller) == HEAD_POLLER_COMPLETE;
                zsys_info ("control: backfill %s %s at block %" PRIu64, chain->backfill.stream,
                           complete ? "done" : "stopped", event->number);
                pipeline_backfill_stop (self, &chain->backfill);
            }
        }
    }
    else if (event && event->type == BROKER_FAILED) {
        //  The broker logged the reason (the file or stdout, and the OS error) once.
        zsys_info ("stopping: the sink failed; blocks not checkpointed are published again "
                   "after a restart");
        rc = -1;
    }
    broker_event_destroy (&event);
    return rc;
}

//  Asks each head poller for its figures and logs them. Reports still queued (DONE,
//  DRAINED) are taken in passing by the facade.
static void
s_report (pipeline_t *self, const char *when)
{
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_run_t *chain = &self->chains [index];
        if (!chain->poller)
            continue;
        head_poller_stats_t stats;
        if (head_poller_stats (chain->poller, &stats)) {
            zsys_info ("%s %s: no figures (the head poller is busy)", when, chain->plan->name);
            continue;
        }
        zsys_info ("%s %s: %" PRIu64 " blocks passed on, next %" PRIu64 ", head %" PRIu64
                   ", %" PRIu64 " requests (%.3f per block, %" PRIu64 " early head polls)",
                   when, chain->plan->name, stats.blocks, stats.next, stats.head, stats.requests,
                   stats.blocks ? (double) stats.requests / (double) stats.blocks : 0.0,
                   stats.misses);
    }
}

//  --metrics: each chain's dispatcher figures (workers connected, jobs queued and held).
static void
s_metrics_tick (pipeline_t *self)
{
    if (!self->updates || zclock_mono () < self->metrics_due)
        return;
    self->metrics_due = zclock_mono () + PIPELINE_METRICS_MS;
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_run_t *chain = &self->chains [index];
        dispatcher_stats_t stats;
        char labels [160];
        if (!chain->dispatcher || dispatcher_stats (chain->dispatcher, &stats)
            || metrics_labels (labels, sizeof (labels), "chain", chain->plan->name, NULL))
            continue;
        metric_batch_put (self->updates, METRIC_SET, METRIC_WORKERS, labels,
                          (double) (chain->worker_live + stats.remote_workers));
        metric_batch_put (self->updates, METRIC_SET, METRIC_JOBS_QUEUED, labels,
                          (double) stats.queued);
        metric_batch_put (self->updates, METRIC_SET, METRIC_JOBS_IN_FLIGHT, labels,
                          (double) stats.in_flight);
        //  The dispatcher counts since its start; the counter takes what is new.
        if (stats.requeued > chain->requeued_reported) {
            metric_batch_put (self->updates, METRIC_ADD, METRIC_JOBS_REQUEUED, labels,
                              (double) (stats.requeued - chain->requeued_reported));
            chain->requeued_reported = stats.requeued;
        }
    }
    metric_batch_send (self->updates, self->metrics_push);
}

//  Says that a chain started at a head already past --to: without --from there is no
//  block to publish, and waiting would never end.
static void
s_report_behind (pipeline_t *self, chain_run_t *chain)
{
    head_poller_stats_t stats;
    char head [32] = "";
    if (head_poller_stats (chain->poller, &stats) == 0)
        snprintf (head, sizeof (head), " %" PRIu64, stats.head);
    fprintf (stderr, "evmtap %s: chain %s: --to %" PRId64 " is behind the head%s: give --from\n",
             self->command, chain->plan->name, chain->plan->options->to, head);
}

//  Waits for every chain's end, logging figures as it goes (or calling tick). On a signal
//  the head pollers drain; once --drain-timeout has passed, the broker abandons what it
//  could not hand to Kafka yet.
int
pipeline_wait (pipeline_t *self, pipeline_tick_fn *tick, int tick_ms, void *arg)
{
    zpoller_t *poller = zpoller_new (broker_socket (self->broker), NULL);
    for (size_t index = 0; index < self->chain_count; index++)
        zpoller_add (poller, head_poller_socket (self->chains [index].poller));
    self->wait_poller = poller;
    if (self->control)
        zpoller_add (poller, control_socket (self->control));
    int exit_code = EVMTAP_EXIT_OK;
    bool draining = false;
    int64_t drain_deadline = 0;
    int report_ms = tick ? tick_ms : RUN_REPORT_INTERVAL_MS;
    int64_t next_report = zclock_mono () + report_ms;
    while (exit_code == EVMTAP_EXIT_OK) {
        //  A ctl BACKFILL ends with its chain: drained, then checkpointed.
        bool all_flushed = true;
        for (size_t index = 0; index < self->chain_count; index++)
            all_flushed &= self->chains [index].flushed && !self->chains [index].backfill.poller;
        if (all_flushed)
            break;
        if (!draining && (self->signalled (self->signalled_arg) || self->stop_requested)) {
            draining = true;
            drain_deadline = zclock_mono () + self->options->drain_timeout_ms;
            zsys_info ("stopping: finishing the blocks in flight (at most %d s)",
                       self->options->drain_timeout_ms / 1000);
            for (size_t index = 0; index < self->chain_count; index++) {
                head_poller_drain (self->chains [index].poller);
                if (self->chains [index].backfill.poller)
                    head_poller_drain (self->chains [index].backfill.poller);
            }
        }
        if (draining && zclock_mono () >= drain_deadline) {
            zsys_warning ("stopping: drain timeout; unpublished blocks will be fetched again");
            //  A broker waiting for Kafka no longer reads: actors blocked sending to it
            //  could not stop. It drops what comes from now on instead.
            broker_abandon (self->broker);
            exit_code = EVMTAP_EXIT_UNDRAINED;
            break;
        }
        void *which = zpoller_wait (poller, report_ms < 200 ? report_ms : 200);
        pipeline_control_sighup (self);
        for (size_t index = 0; index < self->chain_count; index++)
            if (self->chains [index].requeue_due
                && zclock_mono () >= self->chains [index].requeue_due) {
                dispatcher_requeue (self->chains [index].dispatcher);
                self->chains [index].requeue_due = 0;
            }
        if (which == broker_socket (self->broker) || broker_queued (self->broker)) {
            if (s_handle_broker (self))
                exit_code = EVMTAP_EXIT_FAILURE;
        }
        else if (self->control && which == control_socket (self->control))
            pipeline_control_handle (self, self->control);
        else
            for (size_t index = 0; index < self->chain_count; index++)
                if (which == head_poller_socket (self->chains [index].poller)
                    && head_poller_recv (self->chains [index].poller) == HEAD_POLLER_BEHIND) {
                    s_report_behind (self, &self->chains [index]);
                    exit_code = EVMTAP_EXIT_USAGE;
                }
                else if (self->chains [index].backfill.poller
                         && which == head_poller_socket (self->chains [index].backfill.poller))
                    head_poller_recv (self->chains [index].backfill.poller);
        //  A reorg deeper than the window (the report may have come with the figures).
        for (size_t index = 0; index < self->chain_count && exit_code == EVMTAP_EXIT_OK; index++)
            if (head_poller_state (self->chains [index].poller) == HEAD_POLLER_FAILED) {
                fprintf (stderr, "evmtap %s: %s\n", self->command,
                         head_poller_error (self->chains [index].poller));
                exit_code = EVMTAP_EXIT_FAILURE;
            }
        s_metrics_tick (self);
        if (zclock_mono () >= next_report) {
            if (tick)
                tick (self, arg);
            else
                s_report (self, "progress");
            next_report = zclock_mono () + report_ms;
        }
    }
    self->wait_poller = NULL;
    zpoller_destroy (&poller);
    for (size_t index = 0; index < self->chain_count; index++)
        if (exit_code == EVMTAP_EXIT_OK
            && head_poller_state (self->chains [index].poller) == HEAD_POLLER_PARTIAL)
            exit_code = EVMTAP_EXIT_UNDRAINED;
    return exit_code;
}

static void
s_chain_stop (pipeline_t *self, chain_run_t *chain)
{
    pipeline_backfill_stop (self, &chain->backfill);
    head_poller_destroy (&chain->poller);
    for (size_t index = 0; chain->workers && index < chain->worker_live; index++)
        fetch_worker_destroy (&chain->workers [index]);
    free (chain->workers);
    chain->workers = NULL;
    fetch_worker_destroy (&chain->proxy_worker);
    dispatcher_destroy (&chain->dispatcher);
}

//  Logs each chain's last figures, once the broker has stopped: the blocks published are
//  those the checkpoint holds from the first block this run passed on, not those passed
//  on (a block the sink did not take, or left in flight by a drain timeout, is not).
static void
s_report_end (pipeline_t *self)
{
    char err [512];
    checkpoint_t *checkpoint = NULL;
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_run_t *chain = &self->chains [index];
        if (!chain->end_stats_known)
            continue;
        head_poller_stats_t *stats = &chain->end_stats;
        uint64_t first = stats->next - stats->blocks, last = 0, published = 0;
        char hash [BLOCK_HASH_SIZE];
        if (!checkpoint
            && !(checkpoint = checkpoint_open (self->options->data_dir, err, sizeof (err)))) {
            zsys_error ("end %s: %s", chain->plan->name, err);
            break;
        }
        if (stats->blocks && checkpoint_get (checkpoint, chain->plan->name, &last, hash) == 0
            && last >= first)
            published = last - first + 1 < stats->blocks ? last - first + 1 : stats->blocks;
        zsys_info ("end %s: %" PRIu64 " blocks published, next %" PRIu64 ", head %" PRIu64
                   ", %" PRIu64 " requests (%.3f per block, %" PRIu64 " early head polls)",
                   chain->plan->name, published, stats->next, stats->head, stats->requests,
                   published ? (double) stats->requests / (double) published : 0.0, stats->misses);
    }
    checkpoint_destroy (&checkpoint);
}

//  Takes each head poller's last figures, then stops what was started: the chains, the
//  key pool (before the broker, which takes its last usage records), the classifier, the
//  decoder, the broker (it checkpoints what it wrote); then logs the figures, and last
//  frees the plans.
static void
s_stop (pipeline_t *self)
{
    control_destroy (&self->control);
    if (!self->chains) {
        curve_auth_destroy (&self->auth);
        return;
    }
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_run_t *chain = &self->chains [index];
        chain->end_stats_known = chain->poller
                                 && head_poller_stats (chain->poller, &chain->end_stats) == 0;
        if (chain->poller && !chain->end_stats_known)
            zsys_info ("end %s: no figures (the head poller is busy)", chain->plan->name);
    }
    for (size_t index = self->chain_count; index-- > 0;)
        s_chain_stop (self, &self->chains [index]);
    keypool_destroy (&self->pool);
    //  After every socket that used it: the control socket and the dispatchers' links.
    curve_auth_destroy (&self->auth);
    classifier_destroy (&self->classifier);
    decoder_destroy (&self->decoder);
    state_watcher_destroy (&self->state_watcher);
    for (size_t index = 0; self->state_chains && index < self->chain_count; index++)
        state_chain_destroy (&self->state_chains [index]);
    free (self->state_chains);
    self->state_chains = NULL;
    broker_destroy (&self->broker);
    metric_batch_destroy (&self->updates);
    zsock_destroy (&self->metrics_push);
    metrics_server_destroy (&self->metrics);
    s_report_end (self);
    for (size_t index = 0; index < self->chain_count; index++)
        chain_plan_destroy (&self->chains [index].plan);
    free (self->chains);
    self->chains = NULL;
    self->chain_count = 0;
}

pipeline_t *
pipeline_new (options_t *options, const char *command, bool (*signalled) (void *arg),
              void *signalled_arg)
{
    assert (options && command && signalled);
    pipeline_t *self = (pipeline_t *) zmalloc (sizeof (pipeline_t));
    assert (self);
    self->options = options;
    self->command = command;
    self->signalled = signalled;
    self->signalled_arg = signalled_arg;
    return self;
}

void
pipeline_destroy (pipeline_t **self_p)
{
    assert (self_p);
    pipeline_t *self = *self_p;
    if (!self)
        return;
    s_stop (self);
    watch_match_destroy (&self->watch);
    data_dir_lock_release (&self->lock);
    free (self);
    *self_p = NULL;
}

int
pipeline_prepare (pipeline_t *self)
{
    int exit_code = s_lock_data_dir (self);
    if (exit_code == EVMTAP_EXIT_OK)
        exit_code = s_plan (self);
    if (exit_code == EVMTAP_EXIT_OK)
        exit_code = s_probe (self);
    return exit_code;
}

size_t
pipeline_chain_count (pipeline_t *self)
{
    return self->chain_count;
}

chain_plan_t *
pipeline_chain_plan (pipeline_t *self, size_t index)
{
    assert (index < self->chain_count);
    return self->chains [index].plan;
}

int
pipeline_chain_stats (pipeline_t *self, size_t index, head_poller_stats_t *stats)
{
    assert (index < self->chain_count);
    chain_run_t *chain = &self->chains [index];
    return chain->poller ? head_poller_stats (chain->poller, stats) : -1;
}

bool
pipeline_chain_flushed (pipeline_t *self, size_t index, bool *published, uint64_t *last)
{
    assert (index < self->chain_count);
    chain_run_t *chain = &self->chains [index];
    *published = chain->published;
    *last = chain->last;
    return chain->flushed;
}

keypool_t *
pipeline_keypool (pipeline_t *self)
{
    return self->pool;
}

//  --------------------------------------------------------------------------
//  What `evmtap ctl` asks of the actors (the answers are built in pipeline_control.c)

int
pipeline_control_start (pipeline_t *self)
{
    bool by_default = !self->options->control;
    char *endpoint = by_default ? zsys_sprintf ("ipc://%s/control", self->options->data_dir)
                                : strdup (self->options->control);
    assert (endpoint);
    control_args_t args = {.endpoint = endpoint, .auth = self->auth};
    //  A socket path longer than sun_path cannot be bound, and a data dir may be longer:
    //  the capture goes on without the default socket rather than not at all.
    struct sockaddr_un address;
    if (by_default && strlen (endpoint + 6) >= sizeof (address.sun_path))
        snprintf (args.error, sizeof (args.error), "%s: longer than %zu bytes", endpoint,
                  sizeof (address.sun_path) - 1);
    else
        self->control = control_new (&args);
    if (self->control) {
        zsys_info ("control: evmtap ctl at %s%s", endpoint, self->auth ? " (CURVE)" : "");
        pipeline_control_sighup (self);
    }
    else if (by_default)
        zsys_warning ("control: no evmtap ctl socket (%s): give --control", args.error);
    else
        fprintf (stderr, "evmtap %s: %s\n", self->command, args.error);
    zstr_free (&endpoint);
    return self->control || by_default ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
}

void
pipeline_pause (pipeline_t *self, bool paused)
{
    self->paused = paused;
    for (size_t index = 0; index < self->chain_count; index++)
        if (self->chains [index].poller)
            head_poller_pause (self->chains [index].poller, paused);
}

options_t *
pipeline_options (pipeline_t *self)
{
    return self->options;
}

bool
pipeline_paused (pipeline_t *self)
{
    return self->paused;
}

size_t
pipeline_chain_workers (pipeline_t *self, size_t index)
{
    assert (index < self->chain_count);
    return self->chains [index].worker_live;
}

size_t
pipeline_chain_remote_workers (pipeline_t *self, size_t index)
{
    assert (index < self->chain_count);
    dispatcher_stats_t stats;
    dispatcher_t *dispatcher = self->chains [index].dispatcher;
    if (!self->options->listen || !dispatcher || dispatcher_stats (dispatcher, &stats))
        return 0;
    return stats.remote_workers;
}

int
pipeline_scale (pipeline_t *self, size_t count)
{
    for (size_t index = 0; index < self->chain_count; index++) {
        chain_run_t *chain = &self->chains [index];
        if (!chain->dispatcher)
            continue;
        if (count > chain->worker_live) {
            fetch_worker_t **workers = (fetch_worker_t **) realloc (
                chain->workers, count * sizeof (fetch_worker_t *));
            assert (workers);
            chain->workers = workers;
            while (chain->worker_live < count) {
                fetch_worker_t *worker = pipeline_fetch_worker_start (
                    chain->plan, chain->worker_live, chain->workers_endpoint, self->options);
                if (!worker)
                    return -1;
                chain->workers [chain->worker_live++] = worker;
            }
        }
        else if (count < chain->worker_live) {
            while (chain->worker_live > count)
                fetch_worker_destroy (&chain->workers [--chain->worker_live]);
            //  A stopped worker may have held a job: the dispatcher hands it out again, now
            //  and once more when libzmq has surely dropped the worker's pipe (until then a
            //  job may still go to it and be lost with it).
            dispatcher_requeue (chain->dispatcher);
            chain->requeue_due = zclock_mono () + PIPELINE_REQUEUE_AGAIN_MS;
        }
    }
    return 0;
}

int
pipeline_reload (pipeline_t *self, char *err, size_t err_size)
{
    call_decoder_t *sources = decoder_sources_load (self->options->abis, self->options->signatures,
                                                    self->options->event_signatures, NULL, err,
                                                    err_size);
    if (!sources)
        return -1;
    //  Both read before either is handed over: a bad file leaves all in use as it was.
    watch_match_t *watch;
    if (s_watchlists_load (self, &watch, err, err_size)) {
        call_decoder_destroy (&sources);
        return -1;
    }
    decoder_reload (self->decoder, &sources);
    if (self->options->watchlist_count) {
        zsys_info ("watchlists reloaded: %zu lists, %zu addresses", watch_match_lists (watch),
                   watch_match_addresses (watch));
        decoder_watch_set (self->decoder, &watch);
    }
    return 0;
}

void
pipeline_stop (pipeline_t *self)
{
    self->stop_requested = true;
}
