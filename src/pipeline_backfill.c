/*  pipeline_backfill: `evmtap ctl BACKFILL A B` inside a running pipeline. The range gets a
    dispatcher, fetch workers and a head poller of its own and publishes to its chain's
    topics as the stream <chain>@<A>-<B> (topics.h), which the broker checkpoints apart
    from the chain's: the same command resumes it after a stop, and the range must stay
    below the blocks the chain's own stream holds, so that no block is published twice. */
#include "evmtap.h"
#include "pipeline_run.h"
#include "topics.h"

//  The stream of an earlier BACKFILL whose range shares a block with from..to (another
//  range than this one, which resumes), copied into overlap; false when none does or the
//  broker did not answer (why in overlap).
static bool
s_overlapping_stream (pipeline_t *self, const char *chain, const char *stream, uint64_t from,
                      uint64_t to, char *overlap, size_t overlap_size)
{
    zlist_t *streams = broker_streams (self->broker, chain, 5000);
    if (!streams) {
        snprintf (overlap, overlap_size, "the broker did not answer: ask again");
        return true;
    }
    bool found = false;
    for (const char *name = (const char *) zlist_first (streams); name && !found;
         name = (const char *) zlist_next (streams)) {
        uint64_t first, last;
        const char *range = name + topics_chain_len (name) + 1;
        found = !streq (name, stream) && sscanf (range, "%" SCNu64 "-%" SCNu64, &first, &last) == 2
                && first <= to && from <= last;
        if (found)
            snprintf (overlap, overlap_size,
                      "blocks %" PRIu64 "..%" PRIu64 " are %s's (an earlier BACKFILL, resumed by "
                      "the same command): backfill outside them",
                      first > from ? first : from, last < to ? last : to, name);
    }
    zlist_destroy (&streams);
    return found;
}

//  Stops a ctl BACKFILL's actors (what they did not publish, the same command resumes).
void
pipeline_backfill_stop (pipeline_t *self, backfill_run_t *backfill)
{
    if (backfill->poller && self->wait_poller)
        zpoller_remove (self->wait_poller, head_poller_socket (backfill->poller));
    head_poller_destroy (&backfill->poller);
    for (size_t index = 0; backfill->workers && index < backfill->worker_count; index++)
        fetch_worker_destroy (&backfill->workers [index]);
    free (backfill->workers);
    backfill->workers = NULL;
    dispatcher_destroy (&backfill->dispatcher);
}

//  The fetch workers of a ctl BACKFILL take worker numbers of their own (their lease
//  holders, `.../w<n>`, differ from the chain's, which SCALE keeps below 257).
#define PIPELINE_BACKFILL_WORKER_BASE 1000

int
pipeline_backfill (pipeline_t *self, uint64_t from, uint64_t to, char *text, size_t text_size)
{
    if (self->chain_count != 1) {
        snprintf (text, text_size, "BACKFILL serves one chain: run one coordinator per chain");
        return -1;
    }
    chain_run_t *chain = &self->chains [0];
    backfill_run_t *backfill = &chain->backfill;
    if (backfill->poller) {
        snprintf (text, text_size, "a backfill of %" PRIu64 "..%" PRIu64 " runs: wait for its end",
                  backfill->from, backfill->to);
        return -1;
    }
    head_poller_stats_t stats;
    if (!chain->poller || head_poller_stats (chain->poller, &stats)) {
        snprintf (text, text_size, "the head poller is busy: ask again");
        return -1;
    }
    //  The chain's own stream holds its blocks from its first ever on (from the next one
    //  on, for a data dir older than that record): a backfill stays below, so that no
    //  block is published by both.
    uint64_t chain_last;
    char chain_hash [BLOCK_HASH_SIZE];
    int64_t chain_first = -1;
    if (broker_last (self->broker, chain->plan->name, 5000, &chain_last, chain_hash, &chain_first)
        < 0) {
        snprintf (text, text_size, "the broker did not answer: ask again");
        return -1;
    }
    uint64_t own = chain_first >= 0 && (uint64_t) chain_first < stats.next ? (uint64_t) chain_first
                                                                           : stats.next;
    if (to >= own) {
        snprintf (text, text_size,
                  "block %" PRIu64 " is the run's to publish (its stream holds blocks from %" PRIu64
                  " on): backfill below it",
                  to, own);
        return -1;
    }
    char stream [BLOCK_MSG_CHAIN_SIZE];
    if (snprintf (stream, sizeof (stream), "%s%c%" PRIu64 "-%" PRIu64, chain->plan->name,
                  TOPICS_STREAM_MARK, from, to)
        >= (int) sizeof (stream)) {
        snprintf (text, text_size, "the stream name %s@%" PRIu64 "-%" PRIu64 " is too long",
                  chain->plan->name, from, to);
        return -1;
    }
    if (s_overlapping_stream (self, chain->plan->name, stream, from, to, text, text_size))
        return -1;
    uint64_t last = 0;
    char last_hash [BLOCK_HASH_SIZE] = "";
    int64_t stream_first;
    int known = broker_last (self->broker, stream, 5000, &last, last_hash, &stream_first);
    if (known < 0) {
        snprintf (text, text_size, "the broker did not answer: ask again");
        return -1;
    }
    if (known == 0 && last >= to) {
        snprintf (text, text_size, "%s is published already (up to block %" PRIu64 ")", stream,
                  last);
        return 1;
    }
    *backfill = (backfill_run_t) {.from = from, .to = to};
    snprintf (backfill->stream, sizeof (backfill->stream), "%s", stream);
    unsigned serial = self->backfills++;
    char workers [96], jobs [96];
    snprintf (workers, sizeof (workers), "inproc://evmtap-backfill-workers-%u", serial);
    snprintf (jobs, sizeof (jobs), "inproc://evmtap-backfill-jobs-%u", serial);
    dispatcher_args_t dispatcher_args = {.workers = workers, .jobs = jobs};
    backfill->dispatcher = dispatcher_new (&dispatcher_args);
    chain_plan_t *plan = chain->plan;
    backfill->worker_count = plan->worker_count ? plan->worker_count : 1;
    backfill->workers = (fetch_worker_t **) calloc (backfill->worker_count,
                                                    sizeof (fetch_worker_t *));
    assert (backfill->workers);
    bool started = backfill->dispatcher != NULL;
    for (size_t index = 0; started && index < backfill->worker_count; index++)
        started = (backfill->workers [index] = pipeline_fetch_worker_start (
                       plan, PIPELINE_BACKFILL_WORKER_BASE + index, workers, self->options))
                  != NULL;
    snprintf (backfill->jobs, sizeof (backfill->jobs), ">%s", jobs);
    backfill->poller_args = chain->poller_args;
    backfill->poller_args.chain = backfill->stream;
    backfill->poller_args.jobs = backfill->jobs;
    backfill->poller_args.start = (int64_t) (known == 0 ? last + 1 : from);
    backfill->poller_args.to = (int64_t) to;
    backfill->poller_args.window = (int) backfill->worker_count * 2;
    snprintf (backfill->parent_hash, sizeof (backfill->parent_hash), "%s",
              known == 0 ? last_hash : "");
    backfill->poller_args.parent_hash = backfill->parent_hash;
    backfill->poller_args.published = NULL;
    backfill->poller_args.finalized = false;    //  history: final already
    if (started)
        backfill->poller = head_poller_new (&backfill->poller_args);
    if (!backfill->poller) {
        pipeline_backfill_stop (self, backfill);
        snprintf (text, text_size, "the backfill's actors could not start (see the log)");
        return -1;
    }
    if (self->wait_poller)
        zpoller_add (self->wait_poller, head_poller_socket (backfill->poller));
    snprintf (text, text_size, "%s: blocks %" PRId64 " to %" PRIu64 " (stream %s)",
              known == 0 ? "resumed" : "started", backfill->poller_args.start, to, stream);
    zsys_info ("control: backfill %s", text);
    return 0;
}

bool
pipeline_chain_backfill (pipeline_t *self, size_t index, const char **stream, uint64_t *from,
                         uint64_t *to, uint64_t *next)
{
    assert (index < self->chain_count);
    backfill_run_t *backfill = &self->chains [index].backfill;
    head_poller_stats_t stats;
    if (!backfill->poller)
        return false;
    *stream = backfill->stream;
    *from = backfill->from;
    *to = backfill->to;
    *next = head_poller_stats (backfill->poller, &stats) == 0
                ? stats.next
                : (uint64_t) backfill->poller_args.start;
    return true;
}
