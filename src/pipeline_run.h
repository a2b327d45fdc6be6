/*  pipeline_run: what a pipeline runs (its chains, their backfills, its actors), shared by
    the files that make up the pipeline (pipeline.c, pipeline_backfill.c) and by nothing
    else: the rest of evmtap sees pipeline_t through pipeline.h only. */
#ifndef PIPELINE_RUN_H_INCLUDED
#define PIPELINE_RUN_H_INCLUDED

#include "evmtap.h"
#include "pipeline.h"
#include "block.h"
#include "block_msg.h"
#include "broker.h"
#include "chain_plan.h"
#include "classifier.h"
#include "control_actor.h"
#include "curve_auth.h"
#include "data_dir.h"
#include "decoder.h"
#include "dispatcher.h"
#include "fetch_worker.h"
#include "head_poller.h"
#include "keypool.h"
#include "metric.h"
#include "metrics_server.h"
#include "options.h"
#include "state_watcher.h"
#include "watch_match.h"

//  `evmtap ctl BACKFILL A B`: the range's own dispatcher, fetch workers and head poller,
//  publishing to the chain's topics as the stream <chain>@<A>-<B> (topics.h), which the
//  broker checkpoints apart from the chain's, so that the same command resumes it.
typedef struct {
    char stream [BLOCK_MSG_CHAIN_SIZE];
    uint64_t from, to;
    dispatcher_t *dispatcher;
    fetch_worker_t **workers;
    size_t worker_count;
    char jobs [100];
    char parent_hash [BLOCK_HASH_SIZE];    //  the stream's last block checkpointed, or ""
    head_poller_args_t poller_args;        //  borrowed by the head poller while it runs
    head_poller_t *poller;                 //  NULL when none runs
} backfill_run_t;

//  What one chain runs, in start order.
typedef struct {
    chain_plan_t *plan;    //  its providers, keys, id, name and start
    dispatcher_t *dispatcher;
    fetch_worker_t **workers;          //  plan->worker_count of them, NULL until started
    size_t worker_live;                //  started, as `evmtap ctl SCALE` left them
    char workers_endpoint [96];        //  where its fetch workers connect
    uint64_t requeued_reported;        //  the dispatcher's requeued count the metrics have
    int64_t requeue_due;               //  SCALE stopped workers: requeue again then, or 0
    fetch_worker_t *proxy_worker;      //  with --abis: the decoder's proxy lookups
    char jobs [100];                   //  where the head poller connects to the dispatcher
    head_poller_args_t poller_args;    //  borrowed by the head poller while it runs
    head_poller_t *poller;
    bool flushed;                     //  the broker checkpointed the end of its stream
    bool published;                   //  flushed: some block of the chain is published
    uint64_t last;                    //  flushed and published: its last block published
    head_poller_stats_t end_stats;    //  the head poller's last figures, before it stopped
    bool end_stats_known;             //  it answered
    backfill_run_t backfill;          //  `evmtap ctl BACKFILL`, when one runs
} chain_run_t;

//  Everything a run starts, and what it needs to stop it.
struct _pipeline_t {
    options_t *options;               //  the parsed command line and config, borrowed
    const char *command;              //  "run" or "backfill"
    data_dir_lock_t *lock;            //  held from the first step to the last
    bool (*signalled) (void *arg);    //  true once a signal asked to stop
    void *signalled_arg;
    chain_run_t *chains;    //  one per chain of the options, in their order
    size_t chain_count;
    zpoller_t *wait_poller;    //  pipeline_wait's, while it runs: a backfill's poller joins it
    unsigned backfills;        //  started so far: each binds endpoints of its own
    keypool_t *pool;           //  leases and usage journal, started first
    broker_t *broker;          //  the sink's only writer
    decoder_t *decoder;
    classifier_t *classifier;
    curve_auth_t *auth;              //  CURVE for a non-local control endpoint, or NULL
    control_t *control;              //  the `evmtap ctl` socket, started last
    bool stop_requested;             //  `evmtap ctl STOP`: drain as on SIGTERM
    bool paused;                     //  `evmtap ctl PAUSE`: no new block jobs
    bool commit_on_timer;            //  pipeline_commit_on_timer
    watch_match_t *watch;            //  the plan's --watchlist files, until the decoder takes them
    state_chain_t **state_chains;    //  per chain, NULL for a chain without watchers
    state_watcher_args_t state_args;    //  borrowed by the state watcher while it runs
    state_watcher_t *state_watcher;     //  between the decoder and the broker, when any
    metrics_server_t *metrics;          //  --metrics: started before the key pool, stopped last
    zsock_t *metrics_push;              //  the dispatchers' figures go there
    metric_batch_t *updates;
    int64_t metrics_due;    //  zclock_mono time of their next sending
};

//  Starts one of a chain's in-process fetch workers (worker: its index, or
//  CHAIN_PLAN_PROXY_WORKER) at the endpoint, sending its figures to the metrics actor
//  with --metrics. NULL when it could not start.
fetch_worker_t *pipeline_fetch_worker_start (chain_plan_t *plan, size_t worker,
                                             const char *endpoint, const options_t *options);
//  Stops a ctl BACKFILL's actors, if any run (what they did not publish, the same command
//  resumes).
void pipeline_backfill_stop (pipeline_t *self, backfill_run_t *backfill);

#endif
