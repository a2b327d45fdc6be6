/*  broker: the only actor that talks to the sink. It receives one batch per block (every
    record of that block, in order) on a PULL socket, writes the records to the sink, and
    checkpoints in LMDB (group commit): the last block written per chain and the size of
    every file written, after the files are on disk. A block is published when its
    checkpoint is committed; on start every recorded file is cut back to its checkpointed
    size, so what a killed process wrote past its checkpoint is not duplicated when the
    blocks are published again.

    Sinks: files, DIR/<topic>/<YYYY-MM-DD>.ndjson (UTC day of the block time), the record's
    value JSON one per line; stdout, one line per record {"topic": T, "key": K, "value": V};
    kafka (src/kafka_sink.h), one message per record. For Kafka a block is checkpointed
    once librdkafka has confirmed the delivery of every message of that block and of the
    chain's blocks before it; while the producer queue is full the broker stops reading
    its PULL socket, so ZeroMQ's high-water marks pause the classifier and the fetching.

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
        STATS               replies STATS <batches> <records> <bytes> <last commit>: totals
                            written since start; the wall-clock time of the last checkpoint
                            in ms since the epoch (0 when none yet)
    Pipe reports (sent unasked, may come between a command and its reply):
        FLUSHED <chain> <number>   after a FLUSH, once checkpointed (Kafka: once every
                            block of the chain is delivered): the chain's last block
                            published, "-" when none
        FAILED <reason>     a write, fsync or checkpoint failed (disk full...): the broker
                            writes nothing more and never moves the checkpoint again; the
                            blocks not checkpointed are published again after a restart
    Start: signals 0 when ready; on failure logs why, fills args->error, signals 1 and
    leaves (use broker_new to get NULL then). */
#include "evmtap.h"
#include "broker.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "checkpoint.h"
#include "jsonw.h"
#include "kafka_sink.h"
#include "msg.h"
#include "sink.h"

//  Each open file's stdio buffer: large writes, few syscalls between checkpoints.
#define BROKER_FILE_BUFFER (256 * 1024)
//  Kafka: batches queued in ZeroMQ on the broker's side while it waits for room; with the
//  producer queue they bound what a stalled cluster holds in memory.
#define BROKER_KAFKA_RCVHWM 16
//  Kafka: the producer's events are served at least this often.
#define BROKER_KAFKA_TICK_MS 1000

//  A files-sink file: open while it is its topic's current day, kept closed until its size
//  is checkpointed once its day has passed.
typedef struct {
    char *path;                 //  DIR/<topic>/<day>.ndjson, also its key in self->files
    char *topic;                //  full topic name
    char day [16];              //  YYYY-MM-DD
    FILE *file;                 //  NULL once closed
    char *buffer;               //  the FILE's buffer (stdio does not own it)
    uint64_t size;              //  bytes in the file, counting those still buffered
    bool dirty;                 //  written since the last checkpoint
} s_file_t;

//  What the broker knows of a chain.
typedef struct {
    char *name;                 //  topic prefix, key in self->chains
    bool written;               //  written_* are set
    uint64_t written_number;    //  last batch written (checkpointed or not)
    char written_hash [BLOCK_HASH_SIZE];
    bool dirty;                 //  a batch written since the last checkpoint
    bool committed;             //  committed_number is set
    uint64_t committed_number;  //  last block checkpointed
    bool flush_pending;         //  Kafka: FLUSHED is due once the chain is delivered
} s_chain_t;

typedef struct {
    zsock_t *pipe;              //  actor pipe
    zsock_t *pull;              //  batches and flushes arrive here
    char *endpoint;             //  where pull is bound, NULL until it is
    checkpoint_t *checkpoint;   //  @locality broker: the only writer
    sink_kind_t sink;
    kafka_sink_t *kafka;        //  @locality broker: the producer, for SINK_KAFKA
    bool abandoned;             //  ABANDON received
    char *files_dir;            //  files sink root
    int commit_interval_ms;
    bool timer_only;            //  no commit when idle (broker_args_t)
    zhashx_t *files;            //  path -> s_file_t: open files, and closed ones not yet
                                //  checkpointed
    zhashx_t *current;          //  topic -> s_file_t (borrowed from files): its open file
    zhashx_t *chains;           //  chain name -> s_chain_t
    char *line;                 //  stdout sink: the envelope being built
    jsonw_t *jsonw;             //  stdout sink: escapes the envelope's strings
    size_t line_capacity;
    bool dirty;                 //  written since the last checkpoint
    int64_t commit_due;         //  zclock_mono time the next checkpoint is due, when dirty
    bool failed;                //  a write or checkpoint failed: write nothing more
    bool terminated;            //  $TERM received
    uint64_t batches;           //  STATS counters, since start
    uint64_t records;
    uint64_t bytes;
    int64_t last_commit;        //  zclock_time of the last checkpoint, 0 before
} self_t;


//  --------------------------------------------------------------------------
//  Files and chains

static void
s_file_destroy (s_file_t **self_p)
{
    s_file_t *self = *self_p;
    if (self) {
        if (self->file)
            fclose (self->file);
        free (self->buffer);
        free (self->path);
        free (self->topic);
        free (self);
        *self_p = NULL;
    }
}

static void
s_file_destructor (void **item)
{
    s_file_destroy ((s_file_t **) item);
}

static void
s_chain_destructor (void **item)
{
    s_chain_t *chain = (s_chain_t *) *item;
    if (chain) {
        free (chain->name);
        free (chain);
        *item = NULL;
    }
}

//  Makes a file's directory entry durable: a checkpoint that names the file must not
//  outlive the file itself across a power loss.
static int
s_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
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
    if (!self->failed)
        zstr_sendx (self->pipe, "FAILED", reason, NULL);
    self->failed = true;
    free (reason);
}

//  Flushes and syncs one file so that its size may be checkpointed. 0 or -1 (failed).
static int
s_file_sync (self_t *self, s_file_t *file)
{
    if (fflush (file->file) != 0) {
        s_fail (self, "write %s: %s", file->path, strerror (errno));
        return -1;
    }
    if (fdatasync (fileno (file->file)) != 0) {
        s_fail (self, "fdatasync %s: %s", file->path, strerror (errno));
        return -1;
    }
    return 0;
}

//  Closes a file whose day has passed; it stays in self->files until its size is
//  checkpointed. 0 or -1 (failed).
static int
s_file_close (self_t *self, s_file_t *file)
{
    int rc = s_file_sync (self, file);
    if (rc == 0 && fclose (file->file) != 0) {
        s_fail (self, "close %s: %s", file->path, strerror (errno));
        rc = -1;
    }
    else
    if (rc != 0)
        fclose (file->file);
    file->file = NULL;
    free (file->buffer);
    file->buffer = NULL;
    if (!file->dirty)
        zhashx_delete (self->files, file->path);
    return rc;
}

//  A topic name becomes a directory name: refuse what would leave the files directory.
static bool
s_topic_valid (const char *topic)
{
    size_t len = strlen (topic);
    return len > 0 && len < 256 && !strchr (topic, '/')
        && !streq (topic, ".") && !streq (topic, "..");
}

//  Opens (appending) the file of a topic and day, recording it in the checkpoint store if
//  it is new there, so that a restart can cut it even before its first checkpoint.
static s_file_t *
s_file_open (self_t *self, const char *topic, const char *day)
{
    char *dir = zsys_sprintf ("%s/%s", self->files_dir, topic);
    char *path = zsys_sprintf ("%s/%s.ndjson", dir, day);
    assert (dir && path);
    s_file_t *file = (s_file_t *) zhashx_lookup (self->files, path);
    if (!file) {
        file = (s_file_t *) zmalloc (sizeof (s_file_t));
        assert (file);
        file->path = path;
        file->topic = strdup (topic);
        assert (file->topic);
        snprintf (file->day, sizeof (file->day), "%s", day);
        zhashx_insert (self->files, path, file);
    }
    else
        free (path);
    path = file->path;
    assert (!file->file);

    struct stat info;
    if (stat (dir, &info) != 0) {
        if (mkdir (dir, 0755) != 0 && errno != EEXIST) {
            s_fail (self, "mkdir %s: %s", dir, strerror (errno));
            free (dir);
            return NULL;
        }
        s_sync_dir (self->files_dir);
    }
    file->file = fopen (path, "a");
    if (!file->file || fstat (fileno (file->file), &info) != 0) {
        s_fail (self, "open %s: %s", path, strerror (errno));
        if (file->file)
            fclose (file->file);
        file->file = NULL;
        free (dir);
        return NULL;
    }
    file->buffer = (char *) malloc (BROKER_FILE_BUFFER);
    assert (file->buffer);
    setvbuf (file->file, file->buffer, _IOFBF, BROKER_FILE_BUFFER);
    file->size = (uint64_t) info.st_size;

    uint64_t recorded;
    int rc = checkpoint_get_file (self->checkpoint, path, &recorded);
    if (rc == 1) {
        s_sync_dir (dir);
        if (checkpoint_begin (self->checkpoint) != 0
        ||  checkpoint_set_file (self->checkpoint, path, file->size) != 0
        ||  checkpoint_commit (self->checkpoint) != 0)
            rc = -1;
        else
            rc = 0;
    }
    free (dir);
    if (rc != 0) {
        s_fail (self, "cannot record %s in the checkpoint store (LMDB error logged)", path);
        return NULL;
    }
    zhashx_update (self->current, topic, file);
    return file;
}

//  The open file for a topic and day, closing the topic's file of an older day.
static s_file_t *
s_file_require (self_t *self, const char *topic, const char *day)
{
    s_file_t *file = (s_file_t *) zhashx_lookup (self->current, topic);
    if (file && streq (file->day, day))
        return file;
    if (file) {
        zhashx_delete (self->current, topic);
        if (s_file_close (self, file) != 0)
            return NULL;
    }
    return s_file_open (self, topic, day);
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
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    if (checkpoint_get (self->checkpoint, name, &number, hash) == 0) {
        chain->committed = chain->written = true;
        chain->committed_number = chain->written_number = number;
        snprintf (chain->written_hash, sizeof (chain->written_hash), "%s", hash);
    }
    zhashx_insert (self->chains, name, chain);
    return chain;
}


//  --------------------------------------------------------------------------
//  Start: cut files back to their checkpoint

typedef struct {
    int errors;
    char error [256];
} s_cut_state_t;

static void
s_cut_file (const char *path, uint64_t size, void *arg)
{
    s_cut_state_t *state = (s_cut_state_t *) arg;
    struct stat info;
    if (stat (path, &info) != 0) {
        if (errno == ENOENT)
            return;             //  removed by an operator: nothing to cut
        if (state->errors++ == 0)
            snprintf (state->error, sizeof (state->error), "stat %s: %s", path,
                      strerror (errno));
        return;
    }
    if ((uint64_t) info.st_size > size) {
        if (truncate (path, (off_t) size) != 0) {
            if (state->errors++ == 0)
                snprintf (state->error, sizeof (state->error), "truncate %s: %s", path,
                          strerror (errno));
            return;
        }
        zsys_info ("broker: %s: cut %" PRIu64 " bytes written after the last checkpoint",
                   path, (uint64_t) info.st_size - size);
    }
    else
    if ((uint64_t) info.st_size < size)
        zsys_warning ("broker: %s: %" PRIu64 " bytes, shorter than its checkpoint (%" PRIu64
                      "): changed outside evmtap?", path, (uint64_t) info.st_size, size);
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
        zhashx_destroy (&self->current);
        zhashx_destroy (&self->files);
        zhashx_destroy (&self->chains);
        kafka_sink_destroy (&self->kafka);
        checkpoint_destroy (&self->checkpoint);
        free (self->files_dir);
        free (self->line);
        jsonw_destroy (&self->jsonw);
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
    self->commit_interval_ms = args->commit_interval_ms > 0
                             ? args->commit_interval_ms: BROKER_COMMIT_INTERVAL_MS;
    self->files_dir = args->files_dir
                    ? strdup (args->files_dir): zsys_sprintf ("%s/topics", args->data_dir);
    assert (self->files_dir);
    self->files = zhashx_new ();
    zhashx_set_destructor (self->files, s_file_destructor);
    self->current = zhashx_new ();
    self->chains = zhashx_new ();
    zhashx_set_destructor (self->chains, s_chain_destructor);
    self->jsonw = jsonw_new ();
    assert (self->files && self->current && self->chains && self->jsonw);

    if (self->sink != SINK_FILES && self->sink != SINK_STDOUT
    &&  (self->sink != SINK_KAFKA || !args->kafka)) {
        snprintf (args->error, sizeof (args->error),
                  "sink kind %d is not files, stdout or kafka with its settings",
                  (int) self->sink);
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
    s_cut_state_t cut = { 0, "" };
    if (checkpoint_each_file (self->checkpoint, s_cut_file, &cut) != 0)
        snprintf (args->error, sizeof (args->error),
                  "cannot list the files of the checkpoint store (LMDB error logged)");
    else
    if (cut.errors)
        snprintf (args->error, sizeof (args->error),
                  "cannot cut files back to their checkpoint: %.160s (%d errors)", cut.error,
                  cut.errors);
    else
    if (self->sink == SINK_FILES) {
        struct stat info;
        zsys_dir_create ("%s", self->files_dir);
        errno = 0;
        if (stat (self->files_dir, &info) != 0 || !S_ISDIR (info.st_mode))
            snprintf (args->error, sizeof (args->error), "cannot create %s: %s",
                      self->files_dir, errno? strerror (errno): "not a directory");
    }
    else
    if (self->sink == SINK_KAFKA) {
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
                  args->endpoint? args->endpoint: "(no endpoint)", zmq_strerror (zmq_errno ()));
        s_self_destroy (&self);
        return NULL;
    }
    self->endpoint = strdup (args->endpoint);
    assert (self->endpoint);
    return self;
}

//  Kafka: checkpoints each chain's last block delivered with all the blocks before it.
//  0, or -1 when it failed (reported).
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
        ||  (chain->committed && chain->committed_number == number))
            continue;
        if (!changed)
            rc = checkpoint_begin (self->checkpoint);
        changed = true;
        if (rc == 0)
            rc = checkpoint_set_block (self->checkpoint, chain->name, number, hash);
    }
    if (changed && rc == 0)
        rc = checkpoint_commit (self->checkpoint);
    else
    if (changed)
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
    s_file_t *file;
    for (file = (s_file_t *) zhashx_first (self->files); file;
         file = (s_file_t *) zhashx_next (self->files))
        if (file->dirty && file->file && s_file_sync (self, file) != 0)
            return -1;
    if (self->sink == SINK_STDOUT && fflush (stdout) != 0) {
        s_fail (self, "write stdout: %s", strerror (errno));
        return -1;
    }
    int rc = checkpoint_begin (self->checkpoint);
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain && rc == 0;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (chain->dirty)
            rc = checkpoint_set_block (self->checkpoint, chain->name, chain->written_number,
                                       chain->written_hash);
    for (file = (s_file_t *) zhashx_first (self->files); file && rc == 0;
         file = (s_file_t *) zhashx_next (self->files))
        if (file->dirty)
            rc = checkpoint_set_file (self->checkpoint, file->path, file->size);
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
        }
    //  Closed files are forgotten once their final size is stored.
    zlistx_t *closed = zlistx_new ();
    assert (closed);
    for (file = (s_file_t *) zhashx_first (self->files); file;
         file = (s_file_t *) zhashx_next (self->files)) {
        file->dirty = false;
        if (!file->file)
            zlistx_add_end (closed, file->path);
    }
    const char *path;
    for (path = (const char *) zlistx_first (closed); path;
         path = (const char *) zlistx_next (closed))
        zhashx_delete (self->files, path);
    zlistx_destroy (&closed);
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

//  Writes one record to stdout as {"topic": T, "key": K, "value": V}. 0 or -1 (failed).
static int
s_write_stdout (self_t *self, const batch_record_t *record)
{
    size_t used = s_line_raw (self, 0, "{\"topic\": ", 10);
    used = s_line_json_string (self, used, record->topic);
    used = s_line_raw (self, used, ", \"key\": ", 9);
    used = s_line_json_string (self, used, record->key);
    used = s_line_raw (self, used, ", \"value\": ", 11);
    used = s_line_raw (self, used, record->value, record->value_len);
    used = s_line_raw (self, used, "}\n", 2);
    if (fwrite (self->line, 1, used, stdout) != used) {
        s_fail (self, "write stdout: %s", strerror (errno));
        return -1;
    }
    self->bytes += used;
    return 0;
}

//  Writes one record to its topic's file of the day. 0 or -1 (failed).
static int
s_write_file (self_t *self, const batch_record_t *record, const char *day)
{
    if (!s_topic_valid (record->topic)) {
        zsys_error ("broker: record with topic '%.64s' dropped: not a valid file name",
                    record->topic);
        return 0;
    }
    s_file_t *file = s_file_require (self, record->topic, day);
    if (!file)
        return -1;
    if (fwrite (record->value, 1, record->value_len, file->file) != record->value_len
    ||  fputc ('\n', file->file) == EOF) {
        s_fail (self, "write %s: %s", file->path, strerror (errno));
        return -1;
    }
    file->size += record->value_len + 1;
    file->dirty = true;
    self->bytes += record->value_len + 1;
    return 0;
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
    chain->written = true;
    chain->written_number = batch_number (batch);
    snprintf (chain->written_hash, sizeof (chain->written_hash), "%s", batch_hash (batch));
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
        zsys_debug ("broker: %s block %" PRIu64 " not written: the sink failed",
                    chain->name, number);
        return;
    }
    if (self->abandoned) {
        zsys_debug ("broker: %s block %" PRIu64 " dropped: stopping", chain->name, number);
        return;
    }
    if (chain->written && number != chain->written_number + 1)
        zsys_warning ("broker: %s block %" PRIu64 " follows block %" PRIu64
                      " (expected %" PRIu64 ")", chain->name, number, chain->written_number,
                      chain->written_number + 1);
    if (self->kafka) {
        s_self_publish_kafka (self, chain, batch_p);
        return;
    }
    //  A node's timestamp is outside input: past year 9999 it gets a file of its own.
    char day [16] = "invalid-time";
    time_t when = (time_t) batch_timestamp (batch);
    struct tm tm;
    if (batch_timestamp (batch) <= 253402300799ULL && gmtime_r (&when, &tm))
        strftime (day, sizeof (day), "%Y-%m-%d", &tm);
    else
    if (self->sink == SINK_FILES)
        zsys_warning ("broker: %s block %" PRIu64 " has timestamp %" PRIu64
                      ", written to %s files", chain->name, number, batch_timestamp (batch),
                      day);
    size_t size = batch_size (batch);
    for (size_t index = 0; index < size; index++) {
        const batch_record_t *record = batch_record (batch, index);
        int rc = self->sink == SINK_FILES? s_write_file (self, record, day)
                                         : s_write_stdout (self, record);
        if (rc != 0)
            return;
    }
    chain->written = true;
    chain->written_number = number;
    snprintf (chain->written_hash, sizeof (chain->written_hash), "%s", batch_hash (batch));
    chain->dirty = true;
    if (!self->dirty)
        self->commit_due = zclock_mono () + self->commit_interval_ms;
    self->dirty = true;
    self->batches++;
    self->records += size;
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
        &&  (self->failed || kafka_sink_outstanding (self->kafka, chain->name) == 0)) {
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
    if (self->failed)
        return;
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains))
        if (kafka_sink_delivered (self->kafka, chain->name, &number, hash) == 0
        &&  (!chain->committed || chain->committed_number != number)) {
            if (!self->dirty)
                self->commit_due = zclock_mono () + self->commit_interval_ms;
            self->dirty = true;
            break;
        }
    if (self->dirty && !self->timer_only && kafka_sink_ready (self->kafka)
    &&  !(zsock_events (self->pull) & ZMQ_POLLIN))
        s_self_commit (self);
    s_self_check_flushes (self);
}

static void
s_self_handle_pull (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pull);
    if (!msg)
        return;                 //  interrupted
    zframe_t *frame = zmsg_first (msg);
    int type = zmsg_size (msg) == 1? msg_type (frame): -2;
    if (type == MSG_TYPE_BATCH) {
        batch_t *batch;
        if (batch_decode (frame, &batch) == 0) {
            s_self_handle_batch (self, &batch);
            batch_destroy (&batch);
            //  Nothing more waiting (following the head): publish now rather than at the
            //  next tick, since latency is what counts there. Catching up, batches queue
            //  and the timer groups them. Kafka commits on delivery instead.
            if (!self->timer_only && !self->kafka
            &&  !(zsock_events (self->pull) & ZMQ_POLLIN))
                s_self_commit (self);
        }
        else
            zsys_error ("broker: malformed batch dropped (%zu bytes)", zframe_size (frame));
    }
    else
    if (type == MSG_TYPE_FLUSH) {
        char chain [BLOCK_MSG_CHAIN_SIZE];
        if (flush_msg_decode (frame, chain, sizeof (chain)) == 0)
            s_self_handle_flush (self, chain);
        else
            zsys_error ("broker: malformed flush dropped");
    }
    else
        zsys_error ("broker: message of type %d (%zu frames) dropped", type,
                    zmsg_size (msg));
    zmsg_destroy (&msg);
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
    else
    if (streq (command, "ABANDON")) {
        if (self->kafka && !self->abandoned) {
            zsys_warning ("broker: dropping the blocks not handed to Kafka yet: they are "
                          "not checkpointed and are published again after a restart");
            kafka_sink_abandon (self->kafka);
            self->abandoned = true;
        }
    }
    else
    if (streq (command, "STATS")) {
        char batches [24], records [24], bytes [24], last [24];
        snprintf (batches, sizeof (batches), "%" PRIu64, self->batches);
        snprintf (records, sizeof (records), "%" PRIu64, self->records);
        snprintf (bytes, sizeof (bytes), "%" PRIu64, self->bytes);
        snprintf (last, sizeof (last), "%" PRId64, self->last_commit);
        zstr_sendx (self->pipe, "STATS", batches, records, bytes, last, NULL);
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
            timeout = wait > 0? (int) wait: 0;
        }
        if (self->kafka && (timeout < 0 || timeout > BROKER_KAFKA_TICK_MS))
            timeout = BROKER_KAFKA_TICK_MS;
        //  Kafka: while the producer queue is full the PULL socket is not read (once
        //  failed or abandoned it is, and what comes is dropped).
        bool reading = !self->kafka || self->failed || self->abandoned
                    || kafka_sink_ready (self->kafka);
        zmq_pollitem_t items [3] = {
            { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->pull), 0, reading ? ZMQ_POLLIN : 0, 0 },
            { NULL, self->kafka ? kafka_sink_fd (self->kafka) : -1, ZMQ_POLLIN, 0 }};
        int rc = zmq_poll (items, self->kafka ? 3 : 2, timeout);
        if (rc == -1 && zmq_errno () != EINTR)
            break;              //  the context is terminating
        if (rc > 0 && (items [0].revents & ZMQ_POLLIN))
            s_self_handle_pipe (self);
        if (rc > 0 && (items [1].revents & ZMQ_POLLIN) && !self->terminated)
            s_self_handle_pull (self);
        if (self->kafka)
            s_self_service_kafka (self);
        if (self->dirty && !self->failed && zclock_mono () >= self->commit_due)
            s_self_commit (self);
    }
    if (self->kafka)
        s_self_service_kafka (self);
    s_self_commit (self);
    s_self_destroy (&self);
}

zactor_t *
broker_new (broker_args_t *args)
{
    assert (args);
    args->error [0] = 0;
    zactor_t *actor = zactor_new (broker_actor, args);
    assert (actor);
    if (args->error [0])
        zactor_destroy (&actor);
    return actor;
}
