/*  head_poller: decides which blocks of one chain are fetched and when, and passes them on
    in chain order. Behind the head it keeps up to `window` block jobs in flight; at the
    head, the poll is the fetch: it asks for block n+1 itself, timed by block_clock, so a
    steady chain costs about one request per block. It never skips a number: a block that
    is not there yet, or whose fetch failed, is asked for again (with backoff) until it
    comes, and blocks that arrive out of order wait until the gap before them is filled.

    Reorgs: it keeps the hashes of the last BLOCK_WINDOW_SIZE blocks it passed on (started
    from the checkpoint's, so a reorg while evmtap was down is found too). A block whose
    parentHash is not the hash passed on below it stops the passing on: it asks the node
    for the blocks below, one at a time, down to the common ancestor (the first whose hash,
    or whose child's parentHash, is the one passed on), then sends one batch of
    mined.blocks.reorged records, one per orphaned block, whose block is the ancestor (the
    broker rewinds the chain's checkpoint to it), and then the new branch in order. Blocks
    fetched earlier from the old branch are found the same way, when they come to be
    passed on: the walk then ends at once (depth 0) and the block is fetched again.
    Deeper than the window: FAILED, and nothing more is passed on.

    Delivery finalized: only blocks up to a limit are fetched at all, the node's
    `finalized` block (JOB_FINALIZED), or head - confirmations (JOB_HEAD) when a depth is
    given or the node serves no such tag (then 64); the limit is asked every
    finality_poll_ms (a minute), so it costs no call per block, and no orphan is fetched.
    With args->metrics it sends the head as it moves, and each reorg and its depth, to the
    metrics actor (proto/metric.h).

    Pipe commands:
        $TERM                   leave at once
        DRAIN                   fetch nothing new; once the jobs in flight are back, pass on
                                what is in order, send FLUSH, report DRAINED
        STATS                   -> STATS blocks requests next_block head misses (a frame
                                each, decimal)
        PAUSE                   hand out no new block job (`evmtap ctl PAUSE`); jobs in
                                flight, their retries and a reorg's walk go on
        RESUME                  hand out block jobs again, from where it paused
    Reports on the pipe:
        DONE chain              block --to was passed on and FLUSH sent
        DRAINED chain complete|partial
                                after DRAIN; partial when blocks were left unpublished
        BEHIND chain head       started at the head (no start), which is past --to: there
                                is nothing to publish; the poller then idles
        FAILED chain reason     a reorg deeper than the window: nothing more is passed on
    The facade (head_poller_t, head_poller.h) sends these commands and reads the replies
    and reports, so that main never sees them.
*/
#include "evmtap.h"
#include "head_poller.h"
#include "backoff.h"
#include "batch.h"
#include "block.h"
#include "block_clock.h"
#include "block_msg.h"
#include "job.h"
#include "jsonw.h"
#include "metric.h"
#include "metrics.h"
#include "msg.h"
#include "result.h"
#include "topics.h"

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 30000
//  Blocks queued towards the classifier at most. When the sink stalls, blocks wait here
//  (counted in the window), so fetching pauses instead of memory growing.
#define CLASSIFIER_HWM 8
//  How often blocks held back by a full classifier queue are offered again.
#define BACKPRESSURE_RETRY_MS 20
//  Delivery finalized: how often the limit is asked by default.
#define FINALITY_POLL_MS 60000

typedef struct {
    uint64_t number;
    int64_t due;          //  monotonic ms
    backoff_t backoff;    //  the waits of this block's failures in a row
} retry_t;

typedef struct {
    uint64_t job_id;
    int kind;
    uint64_t number;
    int64_t sent;         //  when the job was issued (monotonic ms)
    bool follow;          //  a poll at the head, timed by the clock
    bool walk;            //  a step of a reorg's walk back
    backoff_t backoff;    //  carried from the retry that issued it
} flight_t;

//  Jobs in flight and blocks to retry are few (about the window), so plain arrays do.
typedef struct {
    zsock_t *pipe;
    zsock_t *jobs;          //  PAIR to the dispatcher
    zsock_t *classifier;    //  PUSH
    zpoller_t *poller;
    head_poller_args_t *args;
    block_clock_t *clock;
    flight_t *flights;    //  jobs in flight
    size_t flight_count;
    size_t block_flights;    //  of which block jobs
    retry_t *retries;        //  blocks to ask for again
    size_t retry_count;
    size_t capacity;      //  of both arrays
    zhashx_t *pending;    //  block number (text) -> pending_t, fetched out of order
    uint64_t next_job_id;
    bool positioned;    //  next_issue is set (from the start or the first head)
    bool head_known;
    uint64_t head;             //  highest block known to exist
    uint64_t next_issue;       //  lowest number never asked for
    uint64_t next_forward;     //  next number to pass on
    block_window_t *window;    //  the hashes of the blocks passed on last, up to next_forward-1
    bool walking;              //  a reorg's walk back is under way: nothing is passed on
    uint64_t walk_number;      //  the block the walk asks for next
    int64_t walk_due;          //  when (monotonic ms)
    backoff_t walk_backoff;    //  the walk's failures in a row
    bool walk_out;             //  a walk step is in flight
    zframe_t *reorg;           //  a reorg batch waiting for room downstream
    bool failed;               //  a reorg deeper than the window: FAILED sent
    bool use_tag;              //  finalized: the limit is the node's `finalized` block
    uint64_t depth;            //  finalized without the tag: the limit is head - depth
    int64_t limit_due;         //  finalized: when to ask for the limit again
    int64_t finality_poll_ms;
    int64_t follow_due;        //  when to poll at the head
    int64_t head_retry_due;    //  when to ask eth_blockNumber again after a failure
    backoff_t head_backoff;    //  eth_blockNumber's failures in a row
    bool head_job_out;
    bool draining;
    bool paused;    //  PAUSE: no new block job until RESUME
    bool done;
    bool terminated;
    bool partial_said;    //  a block proven only in part was said (once per chain)
    uint64_t blocks;      //  passed on, less the orphans of reorgs
    uint64_t requests;    //  JSON-RPC calls of every job, head polls included
    uint64_t misses;      //  head polls that found nothing yet

    zsock_t *metrics;           //  PUSH to the metrics actor (args->metrics), or NULL
    metric_batch_t *updates;    //  the head and reorgs, sent as they change
    char labels [160];          //  the chain's metric label set
    uint64_t head_sent;         //  the head the metrics actor has
} self_t;

//  A fetched block waiting for the blocks before it.
typedef struct {
    block_header_t header;
    zmsg_t *msg;    //  the block message, ready to send
} pending_t;

static void
s_pending_destroy (void **item)
{
    pending_t *pending = (pending_t *) *item;
    zmsg_destroy (&pending->msg);
    free (pending);
    *item = NULL;
}

static self_t *
s_self_new (zsock_t *pipe, head_poller_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->jobs = zsock_new_pair (args->jobs);
    self->classifier = zsock_new (ZMQ_PUSH);
    if (self->classifier) {
        zsock_set_sndhwm (self->classifier, CLASSIFIER_HWM);
        if (zsock_attach (self->classifier, args->classifier, false))
            zsock_destroy (&self->classifier);
    }
    if (!self->jobs || !self->classifier) {
        zsys_error ("head_poller %s: cannot connect to %s or %s", args->chain, args->jobs,
                    args->classifier);
        zsock_destroy (&self->jobs);
        zsock_destroy (&self->classifier);
        free (self);
        return NULL;
    }
    self->poller = zpoller_new (self->pipe, self->jobs, NULL);
    self->clock = block_clock_new (args->interval_ms ? args->interval_ms : 12000);
    backoff_init (&self->head_backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
    self->capacity = (size_t) args->window + 8;
    self->flights = (flight_t *) calloc (self->capacity, sizeof (flight_t));
    self->retries = (retry_t *) calloc (self->capacity, sizeof (retry_t));
    assert (self->flights && self->retries);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, s_pending_destroy);
    self->window = block_window_new (BLOCK_WINDOW_SIZE);
    backoff_init (&self->walk_backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
    if (args->start != HEAD_POLLER_UNSET) {
        self->next_issue = self->next_forward = (uint64_t) args->start;
        self->positioned = true;
        if (args->published)
            block_window_copy (self->window, args->published);
        if (args->start > 0) {
            block_window_truncate (self->window, (uint64_t) args->start - 1);
            if (args->parent_hash && *args->parent_hash)
                block_window_push (self->window, (uint64_t) args->start - 1, args->parent_hash);
        }
        else
            block_window_clear (self->window);
    }
    self->use_tag = args->confirmations == HEAD_POLLER_UNSET;
    self->depth = self->use_tag ? HEAD_POLLER_DEFAULT_CONFIRMATIONS
                                : (uint64_t) args->confirmations;
    self->finality_poll_ms = args->finality_poll_ms > 0 ? args->finality_poll_ms : FINALITY_POLL_MS;
    if (args->metrics) {
        self->metrics = zsock_new_push (args->metrics);
        self->updates = metric_batch_new ();
        assert (self->metrics && self->updates);
        if (metrics_labels (self->labels, sizeof (self->labels), "chain", args->chain, NULL))
            snprintf (self->labels, sizeof (self->labels), "chain=\"(too long)\"");
    }
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    free (self->flights);
    free (self->retries);
    zhashx_destroy (&self->pending);
    block_window_destroy (&self->window);
    zframe_destroy (&self->reorg);
    block_clock_destroy (&self->clock);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->classifier);
    zsock_destroy (&self->metrics);
    metric_batch_destroy (&self->updates);
    free (self);
    *self_p = NULL;
}

//  Sends the head when it moved, and the reorgs counted since the last call.
static void
s_send_metrics (self_t *self)
{
    if (!self->updates)
        return;
    if (self->head_known && self->head != self->head_sent) {
        metric_batch_put (self->updates, METRIC_SET, METRIC_HEAD_BLOCK, self->labels,
                          (double) self->head);
        self->head_sent = self->head;
    }
    metric_batch_send (self->updates, self->metrics);
}

static bool
s_within_to (self_t *self, uint64_t number)
{
    return self->args->to == HEAD_POLLER_UNSET || number <= (uint64_t) self->args->to;
}

//  Sends a job; backoff is the block's from its earlier failures, NULL for a first try.
//  Returns its flight (valid until the next issue or landing).
static flight_t *
s_issue (self_t *self, int kind, uint64_t number, bool follow, const backoff_t *backoff)
{
    assert (self->flight_count < self->capacity);
    flight_t *flight = &self->flights [self->flight_count++];
    flight->job_id = ++self->next_job_id;
    flight->kind = kind;
    flight->number = number;
    flight->sent = zclock_mono ();
    flight->follow = follow;
    flight->walk = false;
    if (backoff)
        flight->backoff = *backoff;
    else
        backoff_init (&flight->backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
    if (kind == JOB_BLOCK)
        self->block_flights++;
    else
        self->head_job_out = true;
    job_t job = {.id = flight->job_id,
                 .kind = (job_kind_t) kind,
                 .number = number,
                 .chain_id = self->args->chain_id,
                 .fetch_mode = self->args->fetch_mode,
                 .receipts = self->args->receipts};
    zframe_t *frame = job_encode (&job);
    zframe_send (&frame, self->jobs, 0);
    return flight;
}

//  Takes the flight of a job back; false when the job is not ours (a stale or bad result).
static bool
s_land (self_t *self, uint64_t job_id, flight_t *landed)
{
    for (size_t index = 0; index < self->flight_count; index++)
        if (self->flights [index].job_id == job_id) {
            *landed = self->flights [index];
            self->flights [index] = self->flights [--self->flight_count];
            if (landed->kind == JOB_BLOCK)
                self->block_flights--;
            else
                self->head_job_out = false;
            return true;
        }
    return false;
}

static void
s_retry_later (self_t *self, uint64_t number, const backoff_t *backoff)
{
    assert (self->retry_count < self->capacity);
    retry_t *retry = &self->retries [self->retry_count++];
    retry->number = number;
    retry->backoff = *backoff;
    retry->due = zclock_mono () + backoff_next (&retry->backoff);
}

//  Issues whatever is due: retries, catch-up jobs within the window, the head poll.
static void
s_pump (self_t *self)
{
    if (self->draining || self->done || self->terminated)
        return;
    int64_t now = zclock_mono ();
    if (self->walking && !self->walk_out && now >= self->walk_due) {
        s_issue (self, JOB_BLOCK, self->walk_number, false, NULL)->walk = true;
        self->walk_out = true;
    }
    if (self->args->finalized) {
        if (!self->head_job_out && now >= self->head_retry_due && now >= self->limit_due)
            s_issue (self, self->use_tag ? JOB_FINALIZED : JOB_HEAD, 0, false, NULL);
    }
    else if (!self->head_known && !self->head_job_out && now >= self->head_retry_due)
        s_issue (self, JOB_HEAD, 0, false, NULL);
    if (!self->head_known)
        return;
    //  Retries were in the window when first asked for: they go out when due, whatever
    //  waits behind them (the block holding up all the others is often one of them).
    for (size_t index = 0; index < self->retry_count;) {
        retry_t retry = self->retries [index];
        if (retry.due <= now) {
            self->retries [index] = self->retries [--self->retry_count];
            s_issue (self, JOB_BLOCK, retry.number, false, &retry.backoff);
        }
        else
            index++;
    }
    if (self->paused)
        return;
    //  Blocks fetched but not yet passed on (waiting for a slow one before them, or for
    //  room downstream) are held up to a few windows: then a stalled sink pauses the
    //  fetching, while one slow job does not stop the others.
    size_t window = (size_t) self->args->window;
    bool room = zhashx_size (self->pending) < HEAD_POLLER_HELD_WINDOWS * window;
    while (room && self->next_issue <= self->head && s_within_to (self, self->next_issue)
           && self->block_flights + self->retry_count < window)
        s_issue (self, JOB_BLOCK, self->next_issue++, false, NULL);
    if (!self->args->finalized && self->next_issue > self->head
        && s_within_to (self, self->next_issue) && self->block_flights == 0
        && self->retry_count == 0 && now >= self->follow_due)
        s_issue (self, JOB_BLOCK, self->next_issue, true, NULL);
}

//  Ends the chain's stream: the broker checkpoints at FLUSH, main hears DONE.
static void
s_finish (self_t *self)
{
    zframe_t *flush = flush_msg_encode (self->args->chain);
    zframe_send (&flush, self->classifier, 0);
    self->done = true;
    zstr_sendx (self->pipe, "DONE", self->args->chain, NULL);
}

//  A reorg deeper than the window: says so on the pipe and passes nothing more on.
static void
s_fail_deep (self_t *self, uint64_t number, const char *node_hash)
{
    char *reason = zsys_sprintf (
        "chain %s: a reorg deeper than the %zu published blocks evmtap keeps (at most %d): "
        "block %" PRIu64
        " was published as %s, the node has %s, and no lower published block is kept to "
        "find the fork; the blocks published from %" PRIu64 " on may be orphans. To "
        "recover, drop what was published after the fork (the highest block whose hash the "
        "node still has) and start again with a fresh --data-dir and --from the block after it",
        self->args->chain, block_window_count (self->window), BLOCK_WINDOW_SIZE, number,
        block_window_hash (self->window, number), node_hash, number);
    assert (reason);
    zsys_error ("head_poller %s", reason);
    zstr_sendx (self->pipe, "FAILED", self->args->chain, reason, NULL);
    zstr_free (&reason);
    self->failed = true;
    self->walking = false;
    self->done = true;
}

static pending_t *
s_pending_at (self_t *self, uint64_t number)
{
    char key [24];
    snprintf (key, sizeof (key), "%" PRIu64, number);
    return (pending_t *) zhashx_lookup (self->pending, key);
}

//  Keeps a fetched block until it can be passed on (one already held for its number, from
//  another branch, is replaced). Takes the message.
static void
s_pending_keep (self_t *self, const result_t *result, zmsg_t **msg_p)
{
    pending_t *pending = (pending_t *) zmalloc (sizeof (pending_t));
    assert (pending);
    pending->header = result->header;
    block_msg_t block = {.chain_id = self->args->chain_id, .header = result->header};
    snprintf (block.chain, sizeof (block.chain), "%s", self->args->chain);
    block_msg_encode (&block, *msg_p);
    pending->msg = *msg_p;
    *msg_p = NULL;
    char key [24];
    snprintf (key, sizeof (key), "%" PRIu64, result->number);
    zhashx_update (self->pending, key, pending);
}

//  The walk found the common ancestor: the reorg records go first (s_forward sends them),
//  then the new branch from the block after it. An ancestor that is the last block passed
//  on means the block after it came from an older branch: it is fetched again.
static void
s_walk_end (self_t *self, uint64_t ancestor)
{
    self->walking = false;
    uint64_t last = self->next_forward - 1;
    if (ancestor == last) {
        char key [24];
        snprintf (key, sizeof (key), "%" PRIu64, self->next_forward);
        zhashx_delete (self->pending, key);
        backoff_t backoff;
        backoff_init (&backoff, RETRY_FIRST_MS, RETRY_MAX_MS);
        s_retry_later (self, self->next_forward, &backoff);
        zsys_info ("head_poller %s: block %" PRIu64 " came from an older branch: fetching it "
                   "again",
                   self->args->chain, self->next_forward);
        return;
    }
    uint64_t depth = last - ancestor;
    if (self->updates) {
        metric_batch_put (self->updates, METRIC_ADD, METRIC_REORGS, self->labels, 1);
        metric_batch_put (self->updates, METRIC_OBSERVE, METRIC_REORG_DEPTH, self->labels,
                          (double) depth);
    }
    pending_t *first = s_pending_at (self, ancestor + 1);
    assert (first);    //  the walk kept every block above the ancestor
    batch_t *batch = batch_new (self->args->chain, self->args->chain_id, ancestor,
                                block_window_hash (self->window, ancestor),
                                first->header.timestamp);
    char topic [BLOCK_MSG_CHAIN_SIZE + 48];
    snprintf (topic, sizeof (topic), "%.*s." TOPIC_BLOCKS_REORGED,
              topics_chain_len (self->args->chain), self->args->chain);
    jsonw_t *writer = jsonw_new ();
    for (uint64_t number = ancestor + 1; number <= last; number++) {
        pending_t *replacing = s_pending_at (self, number);
        assert (replacing);
        jsonw_reset (writer);
        jsonw_object_begin (writer);
        jsonw_key (writer, "chainId");
        jsonw_u64 (writer, self->args->chain_id);
        jsonw_key (writer, "number");
        jsonw_u64 (writer, number);
        jsonw_key (writer, "orphanedHash");
        jsonw_string (writer, block_window_hash (self->window, number));
        jsonw_key (writer, "newHash");
        jsonw_string (writer, replacing->header.hash);
        jsonw_key (writer, "depth");
        jsonw_u64 (writer, depth);
        jsonw_object_end (writer);
        char key [24];
        snprintf (key, sizeof (key), "%" PRIu64, number);
        batch_add (batch, topic, key, jsonw_strdup (writer), jsonw_size (writer));
    }
    jsonw_destroy (&writer);
    zframe_destroy (&self->reorg);
    self->reorg = batch_encode (batch);
    batch_destroy (&batch);
    zsys_warning ("head_poller %s: reorg of depth %" PRIu64 ": blocks %" PRIu64 "..%" PRIu64
                  " orphaned; the new branch follows block %" PRIu64 " %s",
                  self->args->chain, depth, ancestor + 1, last, ancestor,
                  block_window_hash (self->window, ancestor));
    //  The orphans this run passed on (a restart's were an earlier run's) no longer count:
    //  the figures count the chain as it is now, blocks next_forward - blocks on.
    uint64_t first_run = self->next_forward - self->blocks;
    uint64_t from = ancestor + 1 > first_run ? ancestor + 1 : first_run;
    self->blocks -= last >= from ? last - from + 1 : 0;
    block_window_truncate (self->window, ancestor);
    self->next_forward = ancestor + 1;
}

//  The block next in line does not follow the last one passed on: walk back from below it.
static void
s_walk_start (self_t *self, const pending_t *pending)
{
    zsys_warning ("head_poller %s: block %" PRIu64 " has parent %s, not the block passed on "
                  "below it, %s: a reorg; walking back to the common ancestor",
                  self->args->chain, pending->header.number, pending->header.parent_hash,
                  block_window_hash (self->window, pending->header.number - 1));
    self->walking = true;
    self->walk_number = pending->header.number - 1;
    self->walk_due = zclock_mono ();
    backoff_reset (&self->walk_backoff);
}

//  One step of the walk back: the node's block at walk_number.
static void
s_handle_walk (self_t *self, const result_t *result, zmsg_t **msg_p)
{
    self->walk_out = false;
    if (!self->walking)
        return;    //  the walk was given up: deeper than the window
    if (result->status != RESULT_OK || zmsg_size (*msg_p) != 1) {
        if (result->status == RESULT_FAILED)
            zsys_warning ("head_poller %s: block %" PRIu64 ": %s", self->args->chain,
                          result->number, result->error);
        self->walk_due = zclock_mono () + backoff_next (&self->walk_backoff);
        return;
    }
    backoff_reset (&self->walk_backoff);
    uint64_t number = result->number;
    const char *published = block_window_hash (self->window, number);
    if (published && streq (published, result->header.hash)) {
        s_walk_end (self, number);
        return;
    }
    s_pending_keep (self, result, msg_p);
    const char *below = number > 0 ? block_window_hash (self->window, number - 1) : NULL;
    if (!below)
        s_fail_deep (self, number, result->header.hash);
    else if (streq (below, result->header.parent_hash))
        s_walk_end (self, number - 1);
    else {
        self->walk_number = number - 1;
        self->walk_due = zclock_mono ();
    }
}

//  Passes on, in order, every block that is next in line; ends the stream at --to. A reorg
//  found on the way starts the walk back, which holds everything until it ends.
//  Returns true when a block that is next in line waits for room in the classifier's queue.
static bool
s_forward (self_t *self)
{
    if (self->walking || self->failed)
        return false;
    if (self->reorg) {
        if (!(zsock_events (self->classifier) & ZMQ_POLLOUT))
            return true;
        zframe_send (&self->reorg, self->classifier, 0);
    }
    while (!self->done) {
        char key [24];
        snprintf (key, sizeof (key), "%" PRIu64, self->next_forward);
        pending_t *pending = (pending_t *) zhashx_lookup (self->pending, key);
        if (!pending)
            break;
        if (!(zsock_events (self->classifier) & ZMQ_POLLOUT))
            return true;
        const char *below = pending->header.number > 0
                                ? block_window_hash (self->window, pending->header.number - 1)
                                : NULL;
        if (below && !streq (pending->header.parent_hash, below)) {
            s_walk_start (self, pending);
            return false;
        }
        block_window_push (self->window, pending->header.number, pending->header.hash);
        block_clock_observe (self->clock, pending->header.number, pending->header.timestamp);
        zmsg_send (&pending->msg, self->classifier);
        zhashx_delete (self->pending, key);
        self->blocks++;
        self->next_forward++;
        if (!s_within_to (self, self->next_forward))
            s_finish (self);
    }
    return false;
}

//  Ends a drain once every job is back: what is in order goes on, then FLUSH.
static void
s_check_drained (self_t *self)
{
    if (!self->draining || self->flight_count || s_forward (self))
        return;
    bool complete = self->retry_count == 0 && zhashx_size (self->pending) == 0;
    if (!self->done) {
        zframe_t *flush = flush_msg_encode (self->args->chain);
        zframe_send (&flush, self->classifier, 0);
        self->done = true;
    }
    zstr_sendx (self->pipe, "DRAINED", self->args->chain, complete ? "complete" : "partial", NULL);
    self->draining = false;
}

//  Delivery finalized: turns the answer to the limit job into the highest block that may
//  be fetched. false when there is none yet, or the node serves no `finalized` block (then
//  the head is asked at once, and the limit is depth below it from now on).
static bool
s_finality_limit (self_t *self, const result_t *result, uint64_t *limit)
{
    if (result->kind == JOB_FINALIZED && result->status == RESULT_NOT_FOUND) {
        zsys_info ("head_poller %s: the node serves no finalized block: publishing blocks %" PRIu64
                   " deep",
                   self->args->chain, self->depth);
        self->use_tag = false;
        self->limit_due = 0;
        return false;
    }
    self->limit_due = zclock_mono () + self->finality_poll_ms;
    if (result->kind == JOB_FINALIZED) {
        *limit = result->value;
        return true;
    }
    if (result->value < self->depth)
        return false;
    *limit = result->value - self->depth;
    return true;
}

static void
s_handle_head (self_t *self, const result_t *result)
{
    if (result->status != RESULT_OK
        && !(result->kind == JOB_FINALIZED && result->status == RESULT_NOT_FOUND)) {
        int64_t wait = backoff_next (&self->head_backoff);
        self->head_retry_due = zclock_mono () + wait;
        zsys_warning ("head_poller %s: head unknown: %s (again in %" PRId64 " ms)",
                      self->args->chain, result->error, wait);
        return;
    }
    backoff_reset (&self->head_backoff);
    uint64_t head = result->value;
    if (self->args->finalized && !s_finality_limit (self, result, &head))
        return;
    if (!self->positioned) {
        self->next_issue = self->next_forward = head;
        self->positioned = true;
        if (!s_within_to (self, head)) {
            char text [24];
            snprintf (text, sizeof (text), "%" PRIu64, head);
            zstr_sendx (self->pipe, "BEHIND", self->args->chain, text, NULL);
        }
    }
    if (!self->head_known || head > self->head)
        self->head = head;
    self->head_known = true;
}

static void
s_handle_block (self_t *self, const flight_t *flight, const result_t *result, zmsg_t **msg_p)
{
    int64_t now = zclock_mono ();
    if (result->status == RESULT_OK && result->error [0] && !self->partial_said) {
        zsys_notice ("head_poller %s: block %" PRIu64 " can only be partly proven, %s (said "
                     "once per chain)",
                     self->args->chain, result->number, result->error);
        self->partial_said = true;
    }
    if (result->status == RESULT_OK) {
        //  Numbers below next_forward were passed on already (a late answer): dropped.
        if (result->number >= self->next_forward)
            s_pending_keep (self, result, msg_p);
        if (!self->args->finalized && result->number > self->head)
            self->head = result->number;
        if (flight->follow) {
            self->next_issue = result->number + 1;
            self->follow_due = block_clock_hit (self->clock, flight->sent, result->number,
                                                result->header.timestamp);
            //  Far behind the chain (the node stalled, or we did): catch up in parallel.
            int64_t lag_ms = zclock_time () - (int64_t) result->header.timestamp * 1000;
            if (lag_ms > 4 * block_clock_interval (self->clock) + 2000) {
                self->head_known = false;
                self->follow_due = now;
            }
        }
        return;
    }
    if (flight->follow && result->status == RESULT_NOT_FOUND) {
        self->misses++;
        self->follow_due = block_clock_miss (self->clock, flight->sent);
        return;
    }
    if (result->status == RESULT_FAILED)
        zsys_warning ("head_poller %s: block %" PRIu64 ": %s", self->args->chain, result->number,
                      result->error);
    //  Not there yet behind the head (a lagging provider), or failed: ask again later.
    if (flight->follow) {
        backoff_t backoff = flight->backoff;
        self->follow_due = now + backoff_next (&backoff);
    }
    else
        s_retry_later (self, result->number, &flight->backoff);
}

static void
s_self_handle_jobs (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->jobs);
    if (!msg)
        return;
    result_t result;
    flight_t flight;
    if (result_decode (msg, &result) != 0)
        zsys_error ("head_poller %s: malformed result", self->args->chain);
    else if (!s_land (self, result.job_id, &flight))
        zsys_error ("head_poller %s: result for unknown job %" PRIu64, self->args->chain,
                    result.job_id);
    else {
        self->requests += result.requests;
        if (flight.walk)
            s_handle_walk (self, &result, &msg);
        else if (flight.kind != JOB_BLOCK)
            s_handle_head (self, &result);
        else if (result.status == RESULT_OK && zmsg_size (msg) != 1) {
            zsys_error ("head_poller %s: block %" PRIu64 " came without its body",
                        self->args->chain, result.number);
            s_retry_later (self, result.number, &flight.backoff);
        }
        else
            s_handle_block (self, &flight, &result, &msg);
        s_forward (self);
    }
    zmsg_destroy (&msg);
    s_check_drained (self);
}

//  Answers STATS: the figures a frame each, in the order of head_poller_stats_t.
static void
s_self_send_stats (self_t *self)
{
    uint64_t figures [] = {self->blocks, self->requests, self->next_forward, self->head,
                           self->misses};
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "STATS");
    for (size_t index = 0; index < sizeof (figures) / sizeof (figures [0]); index++)
        zmsg_addstrf (msg, "%" PRIu64, figures [index]);
    zmsg_send (&msg, self->pipe);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "DRAIN")) {
        if (!self->done)
            self->draining = true;
        else
            zstr_sendx (self->pipe, "DRAINED", self->args->chain, "complete", NULL);
        s_check_drained (self);
    }
    else if (streq (command, "STATS"))
        s_self_send_stats (self);
    else if (streq (command, "PAUSE"))
        self->paused = true;
    else if (streq (command, "RESUME"))
        self->paused = false;
    else
        zsys_error ("head_poller: unknown pipe command '%s'", command);
    zstr_free (&command);
}

//  How long the loop may sleep before something is due.
static int
s_timeout (self_t *self)
{
    if (zhashx_size (self->pending) && !self->done)
        return BACKPRESSURE_RETRY_MS;    //  maybe held back by a full queue
    if (self->draining || self->done)
        return -1;
    int64_t now = zclock_mono ();
    int64_t due = INT64_MAX;
    if (self->walking && !self->walk_out)
        due = self->walk_due;
    if (self->args->finalized && !self->head_job_out) {
        int64_t limit_due = self->limit_due > self->head_retry_due ? self->limit_due
                                                                   : self->head_retry_due;
        due = limit_due < due ? limit_due : due;
    }
    if (!self->head_known) {
        if (!self->args->finalized && !self->head_job_out && self->head_retry_due < due)
            due = self->head_retry_due;
    }
    else {
        for (size_t index = 0; index < self->retry_count; index++)
            if (self->retries [index].due < due)
                due = self->retries [index].due;
        if (!self->args->finalized && !self->paused && self->next_issue > self->head
            && self->block_flights == 0 && self->retry_count == 0
            && s_within_to (self, self->next_issue))
            due = self->follow_due < due ? self->follow_due : due;
    }
    if (due == INT64_MAX)
        return -1;
    return due <= now ? 0 : (int) (due - now > 1000 ? 1000 : due - now);
}

void
head_poller_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (head_poller_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    if (self && self->positioned && !s_within_to (self, self->next_forward))
        s_finish (self);
    while (self && !self->terminated) {
        s_forward (self);
        s_check_drained (self);
        s_pump (self);
        s_send_metrics (self);
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, s_timeout (self));
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which == self->jobs)
            s_self_handle_jobs (self);
        else if (zpoller_terminated (self->poller))
            break;
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _head_poller_t {
    zactor_t *actor;              //  the only one to use its pipe
    head_poller_state_t state;    //  by the last report taken
    char *error;                  //  HEAD_POLLER_FAILED: the reason reported
};

head_poller_t *
head_poller_new (head_poller_args_t *args)
{
    assert (args);
    zactor_t *actor = zactor_new (head_poller_actor, args);
    if (!actor)
        return NULL;
    head_poller_t *self = (head_poller_t *) zmalloc (sizeof (head_poller_t));
    assert (self);
    self->actor = actor;
    self->state = HEAD_POLLER_RUNNING;
    return self;
}

void
head_poller_destroy (head_poller_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        zstr_free (&(*self_p)->error);
        free (*self_p);
        *self_p = NULL;
    }
}

zsock_t *
head_poller_socket (head_poller_t *self)
{
    assert (self);
    return zactor_sock (self->actor);
}

//  Takes a report into the state: DONE chain, DRAINED chain complete|partial, BEHIND
//  chain head, or FAILED chain reason. Anything
//  else (a STATS answer that came after its caller gave up) changes nothing.
static void
s_take_report (head_poller_t *self, zmsg_t *msg)
{
    zframe_t *verb = zmsg_first (msg);
    if (verb && zframe_streq (verb, "BEHIND"))
        self->state = HEAD_POLLER_BEHIND;
    else if (verb && zframe_streq (verb, "FAILED")) {
        zmsg_next (msg);    //  the chain's name
        zframe_t *reason = zmsg_next (msg);
        zstr_free (&self->error);
        self->error = reason ? zframe_strdup (reason) : strdup ("failed");
        self->state = HEAD_POLLER_FAILED;
    }
    else if (verb && (zframe_streq (verb, "DONE") || zframe_streq (verb, "DRAINED"))) {
        zmsg_next (msg);    //  the chain's name
        zframe_t *state = zmsg_next (msg);
        self->state = state && zframe_streq (state, "partial") ? HEAD_POLLER_PARTIAL
                                                               : HEAD_POLLER_COMPLETE;
    }
}

head_poller_state_t
head_poller_recv (head_poller_t *self)
{
    assert (self);
    zmsg_t *msg = zmsg_recv (self->actor);
    if (msg)
        s_take_report (self, msg);
    zmsg_destroy (&msg);
    return self->state;
}

head_poller_state_t
head_poller_state (head_poller_t *self)
{
    assert (self);
    return self->state;
}

const char *
head_poller_error (head_poller_t *self)
{
    assert (self);
    return self->error ? self->error : "";
}

void
head_poller_drain (head_poller_t *self)
{
    assert (self);
    zstr_send (self->actor, "DRAIN");
}

//  Reads a STATS answer into stats. false when msg is not one (a report).
static bool
s_take_stats (zmsg_t *msg, head_poller_stats_t *stats)
{
    zframe_t *frame = zmsg_first (msg);
    if (!frame || !zframe_streq (frame, "STATS"))
        return false;
    uint64_t *figures [] = {&stats->blocks, &stats->requests, &stats->next, &stats->head,
                            &stats->misses};
    for (size_t index = 0; index < sizeof (figures) / sizeof (figures [0]); index++) {
        frame = zmsg_next (msg);
        char *text = frame ? zframe_strdup (frame) : NULL;
        *figures [index] = text ? strtoull (text, NULL, 10) : 0;
        zstr_free (&text);
    }
    return true;
}

int
head_poller_stats (head_poller_t *self, head_poller_stats_t *stats)
{
    assert (self && stats);
    memset (stats, 0, sizeof (*stats));
    zstr_send (self->actor, "STATS");
    //  A head poller waiting for room downstream answers late: do not wait with it.
    zsock_t *pipe = zactor_sock (self->actor);
    zsock_set_rcvtimeo (pipe, 1000);
    bool answered = false;
    while (!answered) {
        zmsg_t *msg = zmsg_recv (self->actor);
        if (!msg)
            break;
        answered = s_take_stats (msg, stats);
        if (!answered)
            s_take_report (self, msg);
        zmsg_destroy (&msg);
    }
    zsock_set_rcvtimeo (pipe, -1);
    return answered ? 0 : -1;
}

void
head_poller_pause (head_poller_t *self, bool paused)
{
    assert (self);
    zstr_send (self->actor, paused ? "PAUSE" : "RESUME");
}
