/*  broker: the only actor that talks to the sink. It receives one batch per block (every
    record of that block, in order) on a PULL socket, writes the records to the sink, and
    checkpoints in LMDB (group commit): the last block written per chain, the hashes of
    its last BLOCK_WINDOW_SIZE blocks (block_window, for the head poller's reorg walk after
    a restart) and the size of every file written, after the files are on disk. A batch at
    or below a chain's last block is a reorg's: its records announce the orphans and its
    block, the common ancestor, becomes the chain's last, so the checkpoint never keeps
    an orphan. A block is published when its
    checkpoint is committed; on start every recorded file is cut back to its checkpointed
    size, so what a killed process wrote past its checkpoint is not duplicated when the
    blocks are published again.

    Sinks: files (src/sink/files_sink.h), DIR/<topic>/<YYYY-MM-DD>.ndjson (UTC day of the
    block time), the record's value JSON one per line; stdout, one line per record
    {"topic": T, "key": K, "value": V}; kafka (src/sink/kafka_sink.h), one message per
    record. For Kafka a block is checkpointed once librdkafka has confirmed the delivery of
    every message of that block and of the chain's blocks before it; while the producer
    queue is full the broker stops reading its PULL socket, so ZeroMQ's high-water marks
    pause the classifier and the fetching.

    Frames on the PULL socket (bound on args->endpoint):
        MSG_TYPE_BATCH      a block's records (proto/batch.h)
        MSG_TYPE_FLUSH      end of a chain's stream (proto/block_msg.h): checkpoint now
    Anything else is logged and dropped (it can only come from a bug).

    Pipe commands:
        $TERM               checkpoint what is written (Kafka: delivered), then leave
        ABANDON             Kafka: drop the batch waiting for room and every batch that
                            arrives from now on (none is checkpointed), so that actors
                            blocked sending to the broker can stop; files and stdout: no
                            effect (they never stop reading)
        STREAMS <chain>     replies STREAMS <stream>...: the chain's ctl BACKFILL streams
                            (<chain>@A-B) that have a block checkpointed
        LAST <stream>       replies LAST <number> <hash> <first>: the stream's last block
                            checkpointed (- "" when none) and its first block ever
                            (meta first.<stream>, recorded with its first checkpoint; -
                            when unknown: none yet, or a data dir older than the record)
        STATS               replies STATS <batches> <records> <bytes> <last commit>: totals
                            written since start; the wall-clock time of the last checkpoint
                            in ms since the epoch (0 when none yet)
    Pipe reports (sent unasked, may come between a command and its reply):
        FLUSHED <chain> <number>   after a FLUSH, once checkpointed (Kafka: once every
                            block of the chain is delivered): the chain's last block
                            published, "-" when none
        FAILED <reason>     a write, fsync or checkpoint failed (disk full...), the reason
                            naming the file ("stdout", also as soon as its reader left)
                            and the OS error: the broker writes
                            nothing more and never moves the checkpoint again; files written
                            since the last checkpoint are cut back to it; the blocks not
                            checkpointed are published again after a restart
    Metrics (args->metrics): records and blocks written by topic, bytes, the last block
    checkpointed per chain, Kafka's queue, failed deliveries and delivery latency, sent
    to the metrics actor at most every BROKER_METRICS_MS (proto/metric.h).
    Start: signals 0 when ready; on failure logs why, fills args->error, signals 1 and
    leaves (use broker_new to get NULL then). */
#include "evmtap.h"
#include "broker.h"
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "topics.h"
#include "block_window.h"
#include "checkpoint.h"
#include "files_sink.h"
#include "jsonw.h"
#include "kafka_sink.h"
#include "metric.h"
#include "metrics.h"
#include "msg.h"
#include "sink.h"

//  Kafka: batches queued in ZeroMQ on the broker's side while it waits for room; with the
//  producer queue they bound what a stalled cluster holds in memory.
#define BROKER_KAFKA_RCVHWM 16
//  Kafka: the producer's events are served at least this often.
#define BROKER_KAFKA_TICK_MS 1000
//  Metric updates wait at most this long, so that a block costs no message of its own.
#define BROKER_METRICS_MS 250

//  What the broker knows of a chain.
typedef struct {
    char *name;                 //  topic prefix, key in self->chains
    bool written;               //  written_* are set
    uint64_t written_number;    //  last batch written (checkpointed or not)
    char written_hash [BLOCK_HASH_SIZE];
    bool dirty;                               //  a batch written since the last checkpoint
    bool committed;                           //  committed_number is set
    uint64_t committed_number;                //  last block checkpointed
    char committed_hash [BLOCK_HASH_SIZE];    //  its hash (a reorg may keep the number)
    bool fresh;         //  no checkpoint when first seen: its first block is to be recorded
    bool first_seen;    //  fresh: first is the first block written
    uint64_t first;
    block_window_t *window;    //  the hashes of the blocks written last, ending at written_*
    bool flush_pending;        //  Kafka: FLUSHED is due once the chain is delivered
    zlistx_t *handed;          //  Kafka with metrics: s_handed_t of blocks not delivered
    char labels [160];         //  its metric label set
} s_chain_t;

//  Kafka: when a block went to the producer, for its delivery latency.
typedef struct {
    uint64_t number;
    int64_t at;    //  zclock_mono
} s_handed_t;

typedef struct {
    zsock_t *pipe;               //  actor pipe
    zsock_t *pull;               //  batches and flushes arrive here
    char *endpoint;              //  where pull is bound, NULL until it is
    checkpoint_t *checkpoint;    //  @locality broker: the only writer
    sink_kind_t sink;
    kafka_sink_t *kafka;    //  @locality broker: the producer, for SINK_KAFKA
    bool abandoned;         //  ABANDON received
    files_sink_t *files;    //  @locality broker: the files, for SINK_FILES
    int commit_interval_ms;
    bool timer_only;           //  no commit when idle (broker_args_t)
    zhashx_t *chains;          //  chain name -> s_chain_t
    block_window_t *window;    //  Kafka: a chain's window cut at its block delivered
    char *line;                //  stdout sink: the envelope being built
    jsonw_t *jsonw;            //  stdout sink: escapes the envelope's strings
    size_t line_capacity;
    bool dirty;            //  written since the last checkpoint
    int64_t commit_due;    //  zclock_mono time the next checkpoint is due, when dirty
    bool failed;           //  a write or checkpoint failed: write nothing more
    bool terminated;       //  $TERM received
    uint64_t batches;      //  STATS counters, since start
    uint64_t records;
    uint64_t bytes;
    int64_t last_commit;    //  zclock_time of the last checkpoint, 0 before

    zsock_t *metrics;           //  PUSH to the metrics actor, NULL without
    metric_batch_t *updates;    //  metric updates not sent yet
    int64_t metrics_due;        //  zclock_mono time they go, when there are some
    uint64_t kafka_failed;      //  Kafka: failed deliveries counted so far
} self_t;


//  --------------------------------------------------------------------------
//  Chains

static void
s_chain_destructor (void **item)
{
    s_chain_t *chain = (s_chain_t *) *item;
    if (chain) {
        block_window_destroy (&chain->window);
        zlistx_destroy (&chain->handed);
        free (chain->name);
        free (chain);
        *item = NULL;
    }
}

//  Records a failure: logs it, reports FAILED on the pipe once, stops all writing.
static void
s_fail (self_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *reason = zsys_vprintf (format, args);
    va_end (args);
    assert (reason);
    zsys_error ("broker: %s; nothing more is written or checkpointed", reason);
    if (!self->failed) {
        //  The checkpoint keeps the sizes of the last commit: what was written since,
        //  a half-written line among it, goes now rather than at the next start.
        if (self->files)
            files_sink_cut_back (self->files);
        zstr_sendx (self->pipe, "FAILED", reason, NULL);
        if (self->updates)
            metric_batch_put (self->updates, METRIC_SET, METRIC_SINK_FAILED, "", 1);
    }
    self->failed = true;
    free (reason);
}

//  The chain's state, read from the checkpoint on first sight so that FLUSHED and the
//  order check know what an earlier run published.
static s_chain_t *
s_chain_require (self_t *self, const char *name)
{
    s_chain_t *chain = (s_chain_t *) zhashx_lookup (self->chains, name);
    if (chain)
        return chain;
    chain = (s_chain_t *) zmalloc (sizeof (s_chain_t));
    assert (chain);
    chain->name = strdup (name);
    assert (chain->name);
    chain->window = block_window_new (BLOCK_WINDOW_SIZE);
    if (metrics_labels (chain->labels, sizeof (chain->labels), "chain", name, NULL))
        snprintf (chain->labels, sizeof (chain->labels), "chain=\"(too long)\"");
    if (self->kafka && self->metrics) {
        chain->handed = zlistx_new ();
        assert (chain->handed);
        zlistx_set_destructor (chain->handed, (zlistx_destructor_fn *) zstr_free);
    }
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    chain->fresh = true;
    if (checkpoint_get (self->checkpoint, name, &number, hash) == 0) {
        chain->fresh = false;
        chain->committed = chain->written = true;
        chain->committed_number = chain->written_number = number;
        snprintf (chain->written_hash, sizeof (chain->written_hash), "%s", hash);
        snprintf (chain->committed_hash, sizeof (chain->committed_hash), "%s", hash);
        //  An older data dir has no window: it starts at the checkpointed block.
        if (checkpoint_get_window (self->checkpoint, name, chain->window) != 0)
            block_window_clear (chain->window);
        block_window_push (chain->window, number, hash);
    }
    zhashx_insert (self->chains, name, chain);
    return chain;
}


//  --------------------------------------------------------------------------
//  Actor

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        //  Closing a socket frees its inproc name later, in the I/O thread; unbinding frees
        //  it now, so that a broker started next can bind it at once.
        if (self->endpoint)
            zsock_unbind (self->pull, "%s", self->endpoint);
        zsock_destroy (&self->pull);
        free (self->endpoint);
        zhashx_destroy (&self->chains);
        block_window_destroy (&self->window);
        files_sink_destroy (&self->files);
        kafka_sink_destroy (&self->kafka);
        checkpoint_destroy (&self->checkpoint);
        free (self->line);
        jsonw_destroy (&self->jsonw);
        zsock_destroy (&self->metrics);
        metric_batch_destroy (&self->updates);
        free (self);
        *self_p = NULL;
    }
}

//  Opens the store, cuts recorded files back, binds. NULL with the reason in args->error.
static self_t *
s_self_new (zsock_t *pipe, broker_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->sink = args->sink;
    self->timer_only = args->timer_only;
    self->commit_interval_ms = args->commit_interval_ms > 0 ? args->commit_interval_ms
                                                            : BROKER_COMMIT_INTERVAL_MS;
    self->chains = zhashx_new ();
    zhashx_set_destructor (self->chains, s_chain_destructor);
    self->window = block_window_new (BLOCK_WINDOW_SIZE);
    self->jsonw = jsonw_new ();
    assert (self->chains && self->jsonw);

    if (self->sink != SINK_FILES && self->sink != SINK_STDOUT
        && (self->sink != SINK_KAFKA || !args->kafka)) {
        snprintf (args->error, sizeof (args->error),
                  "sink kind %d is not files, stdout or kafka with its settings", (int) self->sink);
        s_self_destroy (&self);
        return NULL;
    }
    char err [256];
    self->checkpoint = checkpoint_open (args->data_dir, err, sizeof (err));
    if (!self->checkpoint) {
        snprintf (args->error, sizeof (args->error), "checkpoint store: %.200s", err);
        s_self_destroy (&self);
        return NULL;
    }
    //  The files sink's root: known by its id, files recorded relative to it.
    char *files_dir = NULL;
    if (self->sink == SINK_FILES) {
        files_dir = args->files_dir ? strdup (args->files_dir)
                                    : zsys_sprintf ("%s/topics", args->data_dir);
        assert (files_dir);
    }
    if ((files_dir
         && files_sink_root (self->checkpoint, files_dir, args->error, sizeof (args->error)) != 0)
        || files_sink_cut (self->checkpoint, files_dir, args->error, sizeof (args->error)) != 0) {
        zstr_free (&files_dir);
        s_self_destroy (&self);
        return NULL;
    }
    if (files_dir) {
        self->files = files_sink_new (files_dir, self->checkpoint, args->error,
                                      sizeof (args->error));
        zstr_free (&files_dir);
    }
    else if (self->sink == SINK_KAFKA) {
        char err [256];
        self->kafka = kafka_sink_new (args->kafka, err, sizeof (err));
        if (!self->kafka)
            snprintf (args->error, sizeof (args->error), "%s", err);
    }
    if (args->error [0]) {
        s_self_destroy (&self);
        return NULL;
    }
    self->pull = zsock_new (ZMQ_PULL);
    assert (self->pull);
    if (self->kafka)
        zsock_set_rcvhwm (self->pull, BROKER_KAFKA_RCVHWM);
    if (!args->endpoint || zsock_bind (self->pull, "%s", args->endpoint) == -1) {
        snprintf (args->error, sizeof (args->error), "cannot bind %s: %s",
                  args->endpoint ? args->endpoint : "(no endpoint)", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    self->endpoint = strdup (args->endpoint);
    assert (self->endpoint);
    if (args->metrics) {
        self->metrics = zsock_new_push (args->metrics);
        self->updates = metric_batch_new ();
        assert (self->metrics && self->updates);
        metric_batch_put (self->updates, METRIC_SET, METRIC_SINK_FAILED, "", 0);
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Metrics

//  The chain's block is checkpointed: the gauge, and (Kafka) the latency of its delivery.
static void
s_metric_committed (self_t *self, s_chain_t *chain)
{
    if (!self->updates)
        return;
    metric_batch_put (self->updates, METRIC_SET, METRIC_PUBLISHED_BLOCK, chain->labels,
                      (double) chain->committed_number);
    int64_t now = zclock_mono ();
    s_handed_t *handed;
    while (chain->handed && (handed = (s_handed_t *) zlistx_first (chain->handed))
           && handed->number <= chain->committed_number) {
        metric_batch_put (self->updates, METRIC_OBSERVE, METRIC_KAFKA_SECONDS, "",
                          (double) (now - handed->at) / 1000.0);
        zlistx_delete (chain->handed, NULL);
    }
}

//  A batch written (files, stdout) or handed to the producer (Kafka).
static void
s_metric_written (self_t *self, s_chain_t *chain, batch_t *batch, uint64_t bytes)
{
    if (!self->updates)
        return;
    char labels [400];
    size_t size = batch_size (batch);
    //  One update per topic of the batch (a block's records alternate between a few).
    const char *topics [16];
    size_t counts [16], topic_count = 0;
    for (size_t index = 0; index < size; index++) {
        const char *topic = batch_record (batch, index)->topic;
        size_t known = 0;
        while (known < topic_count && !streq (topics [known], topic))
            known++;
        if (known < topic_count)
            counts [known]++;
        else if (topic_count < sizeof (topics) / sizeof (topics [0])) {
            topics [topic_count] = topic;
            counts [topic_count++] = 1;
        }
        else if (metrics_labels (labels, sizeof (labels), "chain", chain->name, "topic", topic,
                                 NULL)
                 == 0)    //  more topics than the classifier makes: one update each
            metric_batch_put (self->updates, METRIC_ADD, METRIC_PUBLISHED_RECORDS, labels, 1);
    }
    for (size_t known = 0; known < topic_count; known++)
        if (metrics_labels (labels, sizeof (labels), "chain", chain->name, "topic", topics [known],
                            NULL)
            == 0)
            metric_batch_put (self->updates, METRIC_ADD, METRIC_PUBLISHED_RECORDS, labels,
                              (double) counts [known]);
    metric_batch_put (self->updates, METRIC_ADD, METRIC_PUBLISHED_BLOCKS, chain->labels, 1);
    const char *sink = self->kafka ? "kafka" : self->files ? "files" : "stdout";
    metrics_labels (labels, sizeof (labels), "sink", sink, NULL);
    metric_batch_put (self->updates, METRIC_ADD, METRIC_SINK_BYTES, labels, (double) bytes);
    if (chain->handed) {
        s_handed_t *handed = (s_handed_t *) zmalloc (sizeof (s_handed_t));
        assert (handed);
        handed->number = batch_number (batch);
        handed->at = zclock_mono ();
        zlistx_add_end (chain->handed, handed);
    }
}

//  Kafka: the producer's queue (blocks not all delivered) and its failed deliveries.
static void
s_metric_kafka (self_t *self)
{
    if (!self->updates)
        return;
    size_t outstanding = 0;
    for (s_chain_t *chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains))
        outstanding += kafka_sink_outstanding (self->kafka, chain->name);
    metric_batch_put (self->updates, METRIC_SET, METRIC_KAFKA_QUEUE, "", (double) outstanding);
    uint64_t delivered, bytes, failed;
    kafka_sink_stats (self->kafka, &delivered, &bytes, &failed);
    if (failed > self->kafka_failed)
        metric_batch_put (self->updates, METRIC_ADD, METRIC_KAFKA_ERRORS, "",
                          (double) (failed - self->kafka_failed));
    self->kafka_failed = failed;
}

//  Sends the updates once they are due (or at once when now is true). Returns how long
//  the loop may wait before they are due, -1 when none waits.
static int
s_metric_send (self_t *self, bool now)
{
    if (!self->updates || metric_batch_size (self->updates) == 0)
        return -1;
    int64_t wait = self->metrics_due - zclock_mono ();
    if (now || wait <= 0) {
        metric_batch_send (self->updates, self->metrics);
        self->metrics_due = zclock_mono () + BROKER_METRICS_MS;
        return -1;
    }
    return (int) wait;
}

//  Kafka: checkpoints each chain's last block delivered with all the blocks before it.
//  0, or -1 when it failed (reported).
//  A stream's first block ever, as meta first.<stream> with its first checkpoint: what
//  `evmtap ctl BACKFILL` must stay below (LAST). 0 or the store's error.
static int
s_chain_record_first (self_t *self, s_chain_t *chain)
{
    if (!chain->fresh || !chain->first_seen)
        return 0;
    char key [BLOCK_MSG_CHAIN_SIZE + 8], value [24];
    snprintf (key, sizeof (key), "first.%s", chain->name);
    snprintf (value, sizeof (value), "%" PRIu64, chain->first);
    chain->fresh = false;
    return checkpoint_set_meta (self->checkpoint, key, value);
}

static int
s_self_commit_kafka (self_t *self)
{
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    bool changed = false;
    int rc = 0;
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain && rc == 0;
         chain = (s_chain_t *) zhashx_next (self->chains)) {
        if (kafka_sink_delivered (self->kafka, chain->name, &number, hash) != 0
            || (chain->committed && chain->committed_number == number
                && streq (chain->committed_hash, hash)))
            continue;
        if (!changed)
            rc = checkpoint_begin (self->checkpoint);
        changed = true;
        if (rc == 0)
            rc = checkpoint_set_block (self->checkpoint, chain->name, number, hash);
        if (rc == 0)
            rc = s_chain_record_first (self, chain);
        //  The window, cut at the block delivered, goes with it when it holds that block
        //  (not when a reorg's batch written since is not delivered yet: the stored one
        //  stays until then).
        const char *held = block_window_hash (chain->window, number);
        if (rc == 0 && held && streq (held, hash)) {
            block_window_copy (self->window, chain->window);
            block_window_truncate (self->window, number);
            rc = checkpoint_set_window (self->checkpoint, chain->name, self->window);
        }
    }
    if (changed && rc == 0)
        rc = checkpoint_commit (self->checkpoint);
    else if (changed)
        checkpoint_abort (self->checkpoint);
    if (rc != 0) {
        s_fail (self, "checkpoint commit in the state store failed (LMDB error logged)");
        return -1;
    }
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain && changed;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (kafka_sink_delivered (self->kafka, chain->name, &number, hash) == 0) {
            chain->committed = true;
            chain->committed_number = number;
            snprintf (chain->committed_hash, sizeof (chain->committed_hash), "%s", hash);
            s_metric_committed (self, chain);
        }
    self->dirty = false;
    if (changed)
        self->last_commit = zclock_time ();
    return 0;
}

//  Checkpoints everything written: files flushed and synced first, then one transaction.
//  0, or -1 when it failed (reported) or had failed before.
static int
s_self_commit (self_t *self)
{
    if (self->failed)
        return -1;
    if (self->kafka)
        return s_self_commit_kafka (self);
    if (!self->dirty)
        return 0;
    if (self->files && files_sink_sync (self->files) != 0) {
        s_fail (self, "%s", files_sink_error (self->files));
        return -1;
    }
    if (self->sink == SINK_STDOUT && fflush (stdout) != 0) {
        s_fail (self, "stdout: %s", strerror (errno));
        return -1;
    }
    int rc = checkpoint_begin (self->checkpoint);
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain && rc == 0;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (chain->dirty) {
            rc = checkpoint_set_block (self->checkpoint, chain->name, chain->written_number,
                                       chain->written_hash);
            if (rc == 0)
                rc = s_chain_record_first (self, chain);
            if (rc == 0)
                rc = checkpoint_set_window (self->checkpoint, chain->name, chain->window);
        }
    if (rc == 0 && self->files)
        rc = files_sink_checkpoint (self->files);
    if (rc == 0)
        rc = checkpoint_commit (self->checkpoint);
    else
        checkpoint_abort (self->checkpoint);
    if (rc != 0) {
        s_fail (self, "checkpoint commit in the state store failed (LMDB error logged)");
        return -1;
    }
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (chain->dirty) {
            chain->dirty = false;
            chain->committed = true;
            chain->committed_number = chain->written_number;
            snprintf (chain->committed_hash, sizeof (chain->committed_hash), "%s",
                      chain->written_hash);
            s_metric_committed (self, chain);
        }
    if (self->files)
        files_sink_committed (self->files);
    self->dirty = false;
    self->last_commit = zclock_time ();
    return 0;
}

//  Makes room in the envelope line.
static void
s_line_reserve (self_t *self, size_t more, size_t used)
{
    if (used + more > self->line_capacity) {
        self->line_capacity = (used + more) * 2;
        self->line = (char *) realloc (self->line, self->line_capacity);
        assert (self->line);
    }
}

//  Appends text to the envelope line as a JSON string, escaped (and its UTF-8 made
//  valid) by jsonw.
static size_t
s_line_json_string (self_t *self, size_t used, const char *text)
{
    jsonw_reset (self->jsonw);
    jsonw_string (self->jsonw, text);
    size_t len = jsonw_size (self->jsonw);
    s_line_reserve (self, len, used);
    memcpy (self->line + used, jsonw_data (self->jsonw), len);
    return used + len;
}

static size_t
s_line_raw (self_t *self, size_t used, const char *text, size_t len)
{
    s_line_reserve (self, len, used);
    memcpy (self->line + used, text, len);
    return used + len;
}

//  Writes every record of a batch to stdout as {"topic": T, "key": K, "value": V}. 0 or
//  -1 (failed).
static int
s_write_stdout (self_t *self, batch_t *batch)
{
    size_t size = batch_size (batch);
    for (size_t index = 0; index < size; index++) {
        const batch_record_t *record = batch_record (batch, index);
        size_t used = s_line_raw (self, 0, "{\"topic\": ", 10);
        used = s_line_json_string (self, used, record->topic);
        used = s_line_raw (self, used, ", \"key\": ", 9);
        used = s_line_json_string (self, used, record->key);
        used = s_line_raw (self, used, ", \"value\": ", 11);
        used = s_line_raw (self, used, record->value, record->value_len);
        used = s_line_raw (self, used, "}\n", 2);
        if (fwrite (self->line, 1, used, stdout) != used) {
            s_fail (self, "stdout: %s", strerror (errno));
            return -1;
        }
        self->bytes += used;
    }
    return 0;
}

//  Moves the chain to the batch's block. A batch at or below the last block written is a
//  reorg's (its records announce the orphaned blocks, its block is the common ancestor):
//  the window drops the blocks above it, as the checkpoint will.
static void
s_chain_written (s_chain_t *chain, batch_t *batch)
{
    if (chain->fresh && !chain->first_seen) {
        chain->first_seen = true;
        chain->first = batch_number (batch);
    }
    chain->written = true;
    chain->written_number = batch_number (batch);
    snprintf (chain->written_hash, sizeof (chain->written_hash), "%s", batch_hash (batch));
    block_window_push (chain->window, chain->written_number, chain->written_hash);
}

//  Kafka: hands the batch to the producer (which takes it). It is checkpointed once
//  delivered (s_self_commit_kafka).
static void
s_self_publish_kafka (self_t *self, s_chain_t *chain, batch_t **batch_p)
{
    batch_t *batch = *batch_p;
    size_t size = batch_size (batch);
    uint64_t bytes = 0;
    for (size_t index = 0; index < size; index++)
        bytes += batch_record (batch, index)->value_len;
    s_chain_written (chain, batch);
    //  Counted before the producer takes the batch (a failure stops everything anyway).
    s_metric_written (self, chain, batch, bytes);
    if (kafka_sink_publish (self->kafka, batch_p) < 0) {
        s_fail (self, "%s", kafka_sink_error (self->kafka));
        return;
    }
    self->batches++;
    self->records += size;
    self->bytes += bytes;
}

//  Writes a batch (files, stdout) or hands it to the producer, which then takes it (Kafka:
//  *batch_p NULLed).
static void
s_self_handle_batch (self_t *self, batch_t **batch_p)
{
    batch_t *batch = *batch_p;
    s_chain_t *chain = s_chain_require (self, batch_chain (batch));
    uint64_t number = batch_number (batch);
    if (self->failed) {
        zsys_debug ("broker: %s block %" PRIu64 " not written: the sink failed", chain->name,
                    number);
        return;
    }
    if (self->abandoned) {
        zsys_debug ("broker: %s block %" PRIu64 " dropped: stopping", chain->name, number);
        return;
    }
    if (chain->written && number <= chain->written_number)
        zsys_info ("broker: %s rewinds from block %" PRIu64 " to block %" PRIu64 " (a reorg)",
                   chain->name, chain->written_number, number);
    else if (chain->written && number != chain->written_number + 1)
        zsys_warning ("broker: %s block %" PRIu64 " follows block %" PRIu64 " (expected %" PRIu64
                      ")",
                      chain->name, number, chain->written_number, chain->written_number + 1);
    if (self->kafka) {
        s_self_publish_kafka (self, chain, batch_p);
        return;
    }
    uint64_t bytes_before = self->bytes;
    if (self->files && files_sink_write (self->files, batch, &self->bytes) != 0) {
        s_fail (self, "%s", files_sink_error (self->files));
        return;
    }
    if (!self->files && s_write_stdout (self, batch) != 0)
        return;
    s_chain_written (chain, batch);
    chain->dirty = true;
    if (!self->dirty)
        self->commit_due = zclock_mono () + self->commit_interval_ms;
    self->dirty = true;
    self->batches++;
    self->records += batch_size (batch);
    s_metric_written (self, chain, batch, self->bytes - bytes_before);
}

static void
s_self_send_flushed (self_t *self, s_chain_t *chain)
{
    char number [24] = "-";
    if (chain->committed)
        snprintf (number, sizeof (number), "%" PRIu64, chain->committed_number);
    zstr_sendx (self->pipe, "FLUSHED", chain->name, number, NULL);
}

//  Kafka: reports FLUSHED for the chains whose blocks are all delivered and checkpointed
//  (or when the sink failed: nothing more will be).
static void
s_self_check_flushes (self_t *self)
{
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (chain->flush_pending
            && (self->failed || kafka_sink_outstanding (self->kafka, chain->name) == 0)) {
            if (!self->failed)
                s_self_commit (self);
            chain->flush_pending = false;
            s_self_send_flushed (self, chain);
        }
}

static void
s_self_handle_flush (self_t *self, const char *name)
{
    s_chain_t *chain = s_chain_require (self, name);
    if (self->kafka) {
        chain->flush_pending = true;
        s_self_check_flushes (self);
        return;
    }
    s_self_commit (self);
    s_self_send_flushed (self, chain);
}

//  Kafka: serves the producer's events, and checkpoints what they delivered: at once when
//  nothing waits to be read (following the head), else on the timer (catching up).
static void
s_self_service_kafka (self_t *self)
{
    if (kafka_sink_poll (self->kafka) < 0 && !self->failed)
        s_fail (self, "%s", kafka_sink_error (self->kafka));
    s_metric_kafka (self);
    if (self->failed)
        return;
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (kafka_sink_delivered (self->kafka, chain->name, &number, hash) == 0
            && (!chain->committed || chain->committed_number != number
                || !streq (chain->committed_hash, hash))) {
            if (!self->dirty)
                self->commit_due = zclock_mono () + self->commit_interval_ms;
            self->dirty = true;
            break;
        }
    if (self->dirty && !self->timer_only && kafka_sink_ready (self->kafka)
        && !(zsock_events (self->pull) & ZMQ_POLLIN))
        s_self_commit (self);
    s_self_check_flushes (self);
}

static void
s_self_handle_pull (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pull);
    if (!msg)
        return;    //  interrupted
    zframe_t *frame = zmsg_first (msg);
    int type = zmsg_size (msg) == 1 ? msg_type (frame) : -2;
    if (type == MSG_TYPE_BATCH) {
        batch_t *batch;
        if (batch_decode (frame, &batch) == 0) {
            s_self_handle_batch (self, &batch);
            batch_destroy (&batch);
            //  Nothing more waiting (following the head): publish now rather than at the
            //  next tick, since latency is what counts there. Catching up, batches queue
            //  and the timer groups them. Kafka commits on delivery instead.
            if (!self->timer_only && !self->kafka && !(zsock_events (self->pull) & ZMQ_POLLIN))
                s_self_commit (self);
        }
        else
            zsys_error ("broker: malformed batch dropped (%zu bytes)", zframe_size (frame));
    }
    else if (type == MSG_TYPE_FLUSH) {
        char chain [BLOCK_MSG_CHAIN_SIZE];
        if (flush_msg_decode (frame, chain, sizeof (chain)) == 0)
            s_self_handle_flush (self, chain);
        else
            zsys_error ("broker: malformed flush dropped");
    }
    else
        zsys_error ("broker: message of type %d (%zu frames) dropped", type, zmsg_size (msg));
    zmsg_destroy (&msg);
}

//  STREAMS: the ctl BACKFILL streams of a chain that the checkpoint holds.
typedef struct {
    zmsg_t *reply;
    const char *chain;
} s_streams_t;

static void
s_add_stream (const char *name, uint64_t number, void *arg)
{
    (void) number;
    s_streams_t *streams = (s_streams_t *) arg;
    size_t len = strlen (streams->chain);
    if (strncmp (name, streams->chain, len) == 0 && name [len] == TOPICS_STREAM_MARK)
        zmsg_addstr (streams->reply, name);
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command) {
        self->terminated = true;    //  interrupted
        return;
    }
    if (streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "ABANDON")) {
        if (self->kafka && !self->abandoned) {
            zsys_warning ("broker: dropping the blocks not handed to Kafka yet: they are "
                          "not checkpointed and are published again after a restart");
            kafka_sink_abandon (self->kafka);
            self->abandoned = true;
        }
    }
    else if (streq (command, "STATS")) {
        char batches [24], records [24], bytes [24], last [24];
        snprintf (batches, sizeof (batches), "%" PRIu64, self->batches);
        snprintf (records, sizeof (records), "%" PRIu64, self->records);
        snprintf (bytes, sizeof (bytes), "%" PRIu64, self->bytes);
        snprintf (last, sizeof (last), "%" PRId64, self->last_commit);
        zstr_sendx (self->pipe, "STATS", batches, records, bytes, last, NULL);
    }
    else if (strncmp (command, "STREAMS ", 8) == 0) {
        zmsg_t *reply = zmsg_new ();
        zmsg_addstr (reply, "STREAMS");
        s_streams_t streams = {reply, command + 8};
        checkpoint_each_block (self->checkpoint, s_add_stream, &streams);
        zmsg_send (&reply, self->pipe);
    }
    else if (strncmp (command, "LAST ", 5) == 0) {
        //  What the stream has published (checkpointed), as a restart would find it.
        s_chain_t *chain = s_chain_require (self, command + 5);
        char number [24] = "-", first [24] = "-", key [BLOCK_MSG_CHAIN_SIZE + 8];
        if (chain->committed)
            snprintf (number, sizeof (number), "%" PRIu64, chain->committed_number);
        snprintf (key, sizeof (key), "first.%s", chain->name);
        if (checkpoint_get_meta (self->checkpoint, key, first, sizeof (first)) != 0)
            snprintf (first, sizeof (first), "-");
        zstr_sendx (self->pipe, "LAST", number, chain->committed ? chain->committed_hash : "",
                    first, NULL);
    }
    else
        zsys_error ("broker: invalid pipe command '%s'", command);
    zstr_free (&command);
}

void
broker_actor (zsock_t *pipe, void *args)
{
    broker_args_t *broker_args = (broker_args_t *) args;
    assert (broker_args);
    broker_args->error [0] = 0;
    self_t *self = s_self_new (pipe, broker_args);
    if (!self) {
        zsys_error ("broker: cannot start: %s", broker_args->error);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        int timeout = -1;
        if (self->dirty && !self->failed) {
            int64_t wait = self->commit_due - zclock_mono ();
            timeout = wait > 0 ? (int) wait : 0;
        }
        if (self->kafka && (timeout < 0 || timeout > BROKER_KAFKA_TICK_MS))
            timeout = BROKER_KAFKA_TICK_MS;
        int metrics_wait = s_metric_send (self, false);
        if (metrics_wait >= 0 && (timeout < 0 || timeout > metrics_wait))
            timeout = metrics_wait;
        //  Kafka: while the producer queue is full the PULL socket is not read (once
        //  failed or abandoned it is, and what comes is dropped).
        bool reading = !self->kafka || self->failed || self->abandoned
                       || kafka_sink_ready (self->kafka);
        //  stdout: a reader that left shows as an error on the descriptor, so that a
        //  broker with nothing to write (following the head) stops too.
        bool watch_stdout = self->sink == SINK_STDOUT && !self->failed;
        zmq_pollitem_t items [3] = {
            {zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->pull), 0, reading ? ZMQ_POLLIN : 0, 0},
            self->kafka ? (zmq_pollitem_t) {NULL, kafka_sink_fd (self->kafka), ZMQ_POLLIN, 0}
                        : (zmq_pollitem_t) {NULL, STDOUT_FILENO, 0, 0}};
        int rc = zmq_poll (items, self->kafka || watch_stdout ? 3 : 2, timeout);
        if (rc == -1 && zmq_errno () != EINTR)
            break;    //  the context is terminating
        if (rc > 0 && (items [0].revents & ZMQ_POLLIN))
            s_self_handle_pipe (self);
        if (rc > 0 && (items [1].revents & ZMQ_POLLIN) && !self->terminated)
            s_self_handle_pull (self);
        if (self->kafka)
            s_self_service_kafka (self);
        if (rc > 0 && watch_stdout && (items [2].revents & ZMQ_POLLERR))
            s_fail (self, "stdout: %s", strerror (EPIPE));
        if (self->dirty && !self->failed && zclock_mono () >= self->commit_due)
            s_self_commit (self);
    }
    if (self->kafka)
        s_self_service_kafka (self);
    s_self_commit (self);
    s_metric_send (self, true);
    s_self_destroy (&self);
}
