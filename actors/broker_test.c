/*  broker_test: the selftest of broker (broker.c), kept apart so each file stays small.
    It drives the actor through its PULL socket, its facade (events, ABANDON) and the STATS
    pipe command: the files sink (records in their topic's file of the block's UTC day,
    STATS, malformed frames dropped, the timer commit, the checkpoint of the last block and
    of every file's size), the cut of bytes written past the checkpoint after a crash or a
    kill, the stdout sink's envelopes, start failures, topics that would leave the files
    directory, a write failure reported as FAILED, a reorg's batch rewinding the checkpoint
    and the window of recent hashes, and the Kafka sink against librdkafka's
    mock cluster (FLUSHED only once delivered, ABANDON while the cluster is down). */
#include "evmtap.h"
#include "broker.h"
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "block_window.h"
#include "checkpoint.h"
#include "kafka_sink.h"
#include "sink.h"

//  The whole content of a file as a string ("" when absent).
//  A file's record in the checkpoint store: its path under the files sink's root.
static const char *
s_test_key (const char *path)
{
    const char *root = strstr (path, "/topics/");
    assert (root);
    return root + strlen ("/topics/");
}

static char *
s_test_slurp (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return strdup ("");
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *text = (char *) malloc ((size_t) size + 1);
    assert (text);
    assert (fread (text, 1, (size_t) size, file) == (size_t) size);
    text [size] = 0;
    fclose (file);
    return text;
}

//  A block's batch; its hash is 0x<number> on 64 digits, or the branch's: its first digit
//  branch (0: the plain chain).
static void
s_test_send_branch (zsock_t *push, const char *chain, int branch, uint64_t number,
                    uint64_t timestamp, int records)
{
    char hash [BLOCK_HASH_SIZE];
    snprintf (hash, sizeof (hash), "0x%x%063" PRIx64, branch, number);
    batch_t *batch = batch_new (chain, 1, number, hash, timestamp);
    char key [32];
    snprintf (key, sizeof (key), "%" PRIu64, number);
    char *value = zsys_sprintf ("{\"number\":%" PRIu64 "}", number);
    batch_add (batch, "t.blocks", key, value, strlen (value));
    for (int index = 0; index < records; index++) {
        snprintf (key, sizeof (key), "0x%02x\"\\", index);
        value = zsys_sprintf ("{\"block\":%" PRIu64 ",\"i\":%d}", number, index);
        batch_add (batch, "t.txs", key, value, strlen (value));
    }
    zframe_t *frame = batch_encode (batch);
    assert (zframe_send (&frame, push, 0) == 0);
    batch_destroy (&batch);
}

static void
s_test_send_batch (zsock_t *push, const char *chain, uint64_t number, uint64_t timestamp,
                   int records)
{
    s_test_send_branch (push, chain, 0, number, timestamp, records);
}

static void
s_test_send_flush (zsock_t *push, const char *chain)
{
    zframe_t *frame = flush_msg_encode (chain);
    assert (zframe_send (&frame, push, 0) == 0);
}

//  Waits for FLUSHED of a chain and checks the number reported ("-": none).
static void
s_test_expect_flushed (broker_t *broker, const char *chain, const char *number)
{
    broker_event_t *event = broker_recv (broker);
    assert (event && event->type == BROKER_FLUSHED);
    assert (streq (event->chain, chain));
    char last [24] = "-";
    if (event->published)
        snprintf (last, sizeof (last), "%" PRIu64, event->number);
    assert (streq (last, number));
    broker_event_destroy (&event);
}

//  Asks for STATS: batches, records, bytes, last commit.
static void
s_test_stats (broker_t *broker, uint64_t *stats)
{
    zstr_send (broker_socket (broker), "STATS");
    zmsg_t *msg = zmsg_recv (broker_socket (broker));
    assert (msg && zmsg_size (msg) == 5);
    char *verb = zmsg_popstr (msg);
    assert (streq (verb, "STATS"));
    zstr_free (&verb);
    for (int index = 0; index < 4; index++) {
        char *field = zmsg_popstr (msg);
        stats [index] = strtoull (field, NULL, 10);
        zstr_free (&field);
    }
    zmsg_destroy (&msg);
}

static int
s_test_count_lines (const char *text)
{
    int lines = 0;
    for (; *text; text++)
        if (*text == '\n')
            lines++;
    return lines;
}

void
broker_test (bool verbose)
{
    (void) verbose;
    char template_ [] = "/tmp/evmtap-broker-XXXXXX";
    char *tmp = mkdtemp (template_);
    assert (tmp);
    char *data_dir = zsys_sprintf ("%s/data", tmp);
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://broker-test-%d", (int) getpid ());
    //  2024-05-01 00:00:00 UTC and the next day.
    const uint64_t day1 = 1714521600, day2 = day1 + 86400;

    //  Files sink: records land in their topic's file of the block's UTC day.
    broker_args_t args = {data_dir, SINK_FILES, NULL, endpoint, 50, "", false, NULL, NULL};
    broker_t *broker = broker_new (&args);
    assert (broker);
    zsock_t *push = zsock_new_push (endpoint);
    assert (push);
    s_test_send_batch (push, "t", 100, day1 + 10, 2);
    s_test_send_batch (push, "t", 101, day1 + 86399, 1);
    s_test_send_batch (push, "t", 102, day2, 3);
    s_test_send_flush (push, "t");
    s_test_expect_flushed (broker, "t", "102");
    s_test_send_flush (push, "other");
    s_test_expect_flushed (broker, "other", "-");

    char *blocks1 = zsys_sprintf ("%s/topics/t.blocks/2024-05-01.ndjson", data_dir);
    char *blocks2 = zsys_sprintf ("%s/topics/t.blocks/2024-05-02.ndjson", data_dir);
    char *txs1 = zsys_sprintf ("%s/topics/t.txs/2024-05-01.ndjson", data_dir);
    char *txs2 = zsys_sprintf ("%s/topics/t.txs/2024-05-02.ndjson", data_dir);
    char *text = s_test_slurp (blocks1);
    assert (streq (text, "{\"number\":100}\n{\"number\":101}\n"));
    free (text);
    text = s_test_slurp (blocks2);
    assert (streq (text, "{\"number\":102}\n"));
    free (text);
    text = s_test_slurp (txs1);
    assert (streq (text, "{\"block\":100,\"i\":0}\n{\"block\":100,\"i\":1}\n"
                         "{\"block\":101,\"i\":0}\n"));
    free (text);
    text = s_test_slurp (txs2);
    assert (s_test_count_lines (text) == 3);
    free (text);

    //  STATS counts what was written.
    uint64_t stats [4];
    s_test_stats (broker, stats);
    assert (stats [0] == 3 && stats [1] == 9 && stats [2] > 0 && stats [3] > 0);
    //  An answer to a pipe command is no event.
    zstr_send (broker_socket (broker), "STATS");
    assert (broker_recv (broker) == NULL);
    //  LAST: a stream's checkpointed block; a report that comes meanwhile waits, in order.
    uint64_t last_number = 0;
    char last_hash [BLOCK_HASH_SIZE];
    s_test_send_flush (push, "other");
    zpoller_t *report = zpoller_new (broker_socket (broker), NULL);
    assert (zpoller_wait (report, 5000));    //  FLUSHED waits on the pipe
    zpoller_destroy (&report);
    int64_t first_block = 0;
    assert (broker_last (broker, "t", 5000, &last_number, last_hash, &first_block) == 0);
    assert (last_number == 102 && strlen (last_hash) == 66 && first_block == 100);
    assert (broker_last (broker, "t@1-2", 5000, &last_number, last_hash, &first_block) == 1);
    assert (first_block == -1);
    zlist_t *streams = broker_streams (broker, "t", 5000);
    assert (streams && zlist_size (streams) == 0);
    zlist_destroy (&streams);
    assert (broker_queued (broker));
    broker_event_t *queued = broker_recv (broker);
    assert (queued && queued->type == BROKER_FLUSHED && streq (queued->chain, "other"));
    broker_event_destroy (&queued);
    assert (!broker_queued (broker));
    //  A ctl BACKFILL's stream is checkpointed apart (its blocks on a day of their own here,
    //  so that the files checked below hold only t's): STREAMS lists it.
    s_test_send_batch (push, "t@5-6", 5, day1 - 10 * 86400, 0);
    s_test_send_flush (push, "t@5-6");
    s_test_expect_flushed (broker, "t@5-6", "5");
    streams = broker_streams (broker, "t", 5000);
    assert (streams && zlist_size (streams) == 1
            && streq ((char *) zlist_first (streams), "t@5-6"));
    zlist_destroy (&streams);
    assert (broker_last (broker, "t@5-6", 5000, &last_number, last_hash, &first_block) == 0);
    assert (last_number == 5 && first_block == 5);

    //  Malformed frames are dropped; the broker goes on.
    zframe_t *junk = zframe_new ("junk", 4);
    assert (zframe_send (&junk, push, 0) == 0);
    zstr_sendm (push, "two");
    zstr_send (push, "frames");
    //  The timer commits without a flush (the fifth batch: t's four and t@5-6's one).
    int64_t flushed_at = (int64_t) stats [3];
    //  The stamp has a millisecond's grain, and on tmpfs a commit may take less.
    while (zclock_time () <= flushed_at)
        zclock_sleep (1);
    s_test_send_batch (push, "t", 103, day2 + 5, 0);
    for (int attempt = 0; attempt < 200; attempt++) {
        zclock_sleep (10);
        s_test_stats (broker, stats);
        if (stats [0] == 5 && (int64_t) stats [3] > flushed_at)
            break;
    }
    assert (stats [0] == 5 && (int64_t) stats [3] > flushed_at);
    char err [256];
    zsock_destroy (&push);
    broker_destroy (&broker);
    broker_destroy (&broker);

    //  The checkpoint holds the last block and every file's size.
    checkpoint_t *checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    uint64_t number, size;
    char hash [BLOCK_HASH_SIZE];
    assert (checkpoint_get (checkpoint, "t", &number, hash) == 0);
    assert (number == 103);
    assert (streq (hash, "0x0000000000000000000000000000000000000000000000000000000000000067"));
    assert (checkpoint_get_file (checkpoint, s_test_key (blocks2), &size) == 0);
    text = s_test_slurp (blocks2);
    assert (size == strlen (text) && s_test_count_lines (text) == 2);
    free (text);
    assert (checkpoint_get_file (checkpoint, s_test_key (txs1), &size) == 0);
    assert (size == 3 * strlen ("{\"block\":100,\"i\":0}\n"));
    //  ...and the hashes of the blocks written, for the head poller's walk after a restart.
    block_window_t *window = block_window_new (BLOCK_WINDOW_SIZE);
    assert (checkpoint_get_window (checkpoint, "t", window) == 0);
    assert (block_window_first (window) == 100 && block_window_last (window) == 103);
    assert (streq (block_window_hash (window, 103), hash));
    checkpoint_destroy (&checkpoint);

    //  A crash: bytes past the checkpoint (a killed process's last writes) are cut on start;
    //  a file recorded but removed is skipped.
    FILE *file = fopen (blocks2, "a");
    assert (file);
    fputs ("{\"number\":104}\n{\"numb", file);
    fclose (file);
    char *gone = zsys_sprintf ("%s/topics/t.blocks/2024-04-30.ndjson", data_dir);
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_file (checkpoint, s_test_key (gone), 10) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    checkpoint_destroy (&checkpoint);

    //  A restart goes on with 104; a gap (106) is written anyway, with a warning.
    broker = broker_new (&args);
    assert (broker);
    text = s_test_slurp (blocks2);
    assert (streq (text, "{\"number\":102}\n{\"number\":103}\n"));
    free (text);
    push = zsock_new_push (endpoint);
    assert (push);
    s_test_send_batch (push, "t", 104, day2 + 20, 0);
    s_test_send_batch (push, "t", 106, day2 + 30, 0);
    s_test_send_flush (push, "t");
    s_test_expect_flushed (broker, "t", "106");
    text = s_test_slurp (blocks2);
    assert (s_test_count_lines (text) == 4);
    free (text);
    //  A reorg's batch, at the common ancestor 106 below the last block written (108):
    //  its records are written, the checkpoint and the window go back to 106.
    s_test_send_batch (push, "t", 107, day2 + 40, 0);
    s_test_send_batch (push, "t", 108, day2 + 50, 0);
    s_test_send_batch (push, "t", 106, day2 + 40, 0);
    s_test_send_flush (push, "t");
    s_test_expect_flushed (broker, "t", "106");
    text = s_test_slurp (blocks2);
    assert (s_test_count_lines (text) == 7);
    free (text);
    zsock_destroy (&push);
    broker_destroy (&broker);
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "t", &number, hash) == 0 && number == 106);
    assert (checkpoint_get_window (checkpoint, "t", window) == 0);
    assert (block_window_first (window) == 106 && block_window_last (window) == 106);
    checkpoint_destroy (&checkpoint);
    block_window_destroy (&window);

    //  SIGKILL between a write and its checkpoint: with a long interval, a block larger
    //  than a file buffer reaches the disk uncheckpointed. A copy of the data directory
    //  taken then is what a kill leaves behind (LMDB is consistent at every instant).
    args.commit_interval_ms = 60000;
    args.timer_only = true;
    broker = broker_new (&args);
    assert (broker);
    push = zsock_new_push (endpoint);
    assert (push);
    char *blocks3 = zsys_sprintf ("%s/topics/t.blocks/2024-05-03.ndjson", data_dir);
    char *txs3 = zsys_sprintf ("%s/topics/t.txs/2024-05-03.ndjson", data_dir);
    const int big = 20000;    //  about 500 KB, twice a file buffer
    s_test_send_batch (push, "t", 107, day2 + 86400, big);
    for (int attempt = 0; attempt < 500 && stats [0] != 1; attempt++) {
        zclock_sleep (10);
        s_test_stats (broker, stats);
    }
    assert (stats [0] == 1);
    char *command = zsys_sprintf ("cp -a '%s' '%s.killed'", data_dir, data_dir);
    assert (system (command) == 0);
    zstr_free (&command);
    //  $TERM commits what is written.
    zsock_destroy (&push);
    broker_destroy (&broker);
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "t", &number, hash) == 0);
    assert (number == 107);
    assert (checkpoint_get_file (checkpoint, s_test_key (blocks3), &size) == 0);
    assert (size == strlen ("{\"number\":107}\n"));
    checkpoint_destroy (&checkpoint);

    //  Back to the state at the kill: 107 on disk in part, not checkpointed.
    //  rm, not zdir_remove: zdir skips the root's id file (a dot file).
    command = zsys_sprintf ("rm -rf '%s'", data_dir);
    assert (system (command) == 0);
    zstr_free (&command);
    char *killed = zsys_sprintf ("%s.killed", data_dir);
    assert (rename (killed, data_dir) == 0);
    zstr_free (&killed);
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "t", &number, hash) == 0);
    assert (number == 106);
    assert (checkpoint_get_file (checkpoint, s_test_key (txs3), &size) == 0);
    assert (size == 0);    //  recorded before its first write
    checkpoint_destroy (&checkpoint);
    struct stat info;
    assert (stat (txs3, &info) == 0 && info.st_size > 0);

    //  The restart cuts the file back; 107 published again appears once.
    broker = broker_new (&args);
    assert (broker);
    assert (stat (txs3, &info) == 0 && info.st_size == 0);
    push = zsock_new_push (endpoint);
    assert (push);
    s_test_send_batch (push, "t", 107, day2 + 86400, big);
    s_test_send_flush (push, "t");
    s_test_expect_flushed (broker, "t", "107");
    text = s_test_slurp (txs3);
    assert (s_test_count_lines (text) == big);
    const char *first = "{\"block\":107,\"i\":0}\n";
    assert (strncmp (text, first, strlen (first)) == 0);
    free (text);
    text = s_test_slurp (blocks3);
    assert (streq (text, "{\"number\":107}\n"));
    free (text);
    zsock_destroy (&push);
    broker_destroy (&broker);

    //  stdout sink: one envelope per record, key escaped.
    char *stdout_path = zsys_sprintf ("%s/stdout.txt", tmp);
    fflush (stdout);
    int saved_stdout = dup (STDOUT_FILENO);
    assert (saved_stdout >= 0);
    int fd = open (stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert (fd >= 0);
    assert (dup2 (fd, STDOUT_FILENO) == STDOUT_FILENO);
    close (fd);
    broker_args_t stdout_args = {data_dir, SINK_STDOUT, NULL, endpoint, 50, "", false, NULL, NULL};
    broker = broker_new (&stdout_args);
    assert (broker);
    push = zsock_new_push (endpoint);
    s_test_send_batch (push, "s", 5, day1, 1);
    s_test_send_flush (push, "s");
    s_test_expect_flushed (broker, "s", "5");
    zsock_destroy (&push);
    broker_destroy (&broker);
    fflush (stdout);
    assert (dup2 (saved_stdout, STDOUT_FILENO) == STDOUT_FILENO);
    close (saved_stdout);
    text = s_test_slurp (stdout_path);
    assert (streq (
        text,
        "{\"topic\": \"t.blocks\", \"key\": \"5\", \"value\": {\"number\":5}}\n"
        "{\"topic\": \"t.txs\", \"key\": \"0x00\\\"\\\\\", \"value\": {\"block\":5,\"i\":0}}\n"));
    free (text);

    //  Start failures: NULL with the reason.
    char *blocker = zsys_sprintf ("%s/blocker", tmp);
    file = fopen (blocker, "w");
    assert (file);
    fclose (file);
    broker_args_t bad_args = {blocker, SINK_FILES, NULL, endpoint, 0, "", false, NULL, NULL};
    assert (broker_new (&bad_args) == NULL);
    assert (strstr (bad_args.error, "checkpoint store"));
    broker_args_t bad_dir = {data_dir, SINK_FILES, blocker, endpoint, 0, "", false, NULL, NULL};
    assert (broker_new (&bad_dir) == NULL);
    assert (strstr (bad_dir.error, "cannot create"));
    broker_args_t bad_endpoint = {data_dir, SINK_FILES, NULL, "nonsense://x", 0, "",
                                  false,    NULL,       NULL};
    assert (broker_new (&bad_endpoint) == NULL);
    assert (strstr (bad_endpoint.error, "cannot bind"));

    //  A topic that would leave the files directory is dropped, the rest written.
    broker = broker_new (&args);
    assert (broker);
    push = zsock_new_push (endpoint);
    assert (push);
    batch_t *evil = batch_new ("v", 1, 1, "0x01", day1);
    const char *topics [] = {"../escape", "..", "a/b", "", "v.ok"};
    for (size_t index = 0; index < sizeof (topics) / sizeof (topics [0]); index++) {
        char *value = strdup ("{}");
        assert (value);
        batch_add (evil, topics [index], "k", value, 2);
    }
    zframe_t *evil_frame = batch_encode (evil);
    batch_destroy (&evil);
    assert (zframe_send (&evil_frame, push, 0) == 0);
    s_test_send_flush (push, "v");
    s_test_expect_flushed (broker, "v", "1");
    zsock_destroy (&push);
    broker_destroy (&broker);
    char *escaped = zsys_sprintf ("%s/escape", data_dir);
    assert (access (escaped, F_OK) != 0);
    zstr_free (&escaped);
    escaped = zsys_sprintf ("%s/topics/a", data_dir);
    assert (access (escaped, F_OK) != 0);
    zstr_free (&escaped);
    escaped = zsys_sprintf ("%s/topics/v.ok/2024-05-01.ndjson", data_dir);
    text = s_test_slurp (escaped);
    assert (streq (text, "{}\n"));
    free (text);
    zstr_free (&escaped);

    //  A write failure (no space left on /dev/full) reports FAILED, never checkpoints it.
    if (access ("/dev/full", W_OK) == 0) {
        broker = broker_new (&args);
        assert (broker);
        //  Point the day file of a fresh topic at /dev/full.
        char *full_dir = zsys_sprintf ("%s/topics/t.full", data_dir);
        char *full_path = zsys_sprintf ("%s/2024-05-01.ndjson", full_dir);
        assert (mkdir (full_dir, 0755) == 0);
        assert (symlink ("/dev/full", full_path) == 0);
        push = zsock_new_push (endpoint);
        batch_t *batch = batch_new ("t", 1, 108, "0x6c", day1);
        char *value = strdup ("{\"x\":1}");
        batch_add (batch, "t.full", "k", value, strlen (value));
        zframe_t *frame = batch_encode (batch);
        batch_destroy (&batch);
        assert (zframe_send (&frame, push, 0) == 0);
        s_test_send_flush (push, "t");
        broker_event_t *event = broker_recv (broker);
        assert (event && event->type == BROKER_FAILED);
        assert (strstr (event->reason, full_path));
        broker_event_destroy (&event);
        s_test_expect_flushed (broker, "t", "107");
        zsock_destroy (&push);
        broker_destroy (&broker);
        checkpoint = checkpoint_open (data_dir, err, sizeof (err));
        assert (checkpoint);
        assert (checkpoint_get (checkpoint, "t", &number, hash) == 0);
        assert (number == 107);
        checkpoint_destroy (&checkpoint);
        unlink (full_path);
        zstr_free (&full_path);
        zstr_free (&full_dir);
    }

    //  Kafka: FLUSHED and the checkpoint come only once every message is delivered.
    rd_kafka_conf_t *host_conf = rd_kafka_conf_new ();
    rd_kafka_conf_set (host_conf, "log_level", "0", err, sizeof (err));
    rd_kafka_t *host = rd_kafka_new (RD_KAFKA_PRODUCER, host_conf, err, sizeof (err));
    assert (host);
    rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new (host, 1);
    assert (mock);
    kafka_sink_config_t kafka;
    kafka_sink_config_defaults (&kafka);
    kafka.brokers = rd_kafka_mock_cluster_bootstraps (mock);
    kafka.linger_ms = 1;
    kafka.message_timeout_ms = 2000;
    char *kafka_dir = zsys_sprintf ("%s/kafka", tmp);
    window = block_window_new (BLOCK_WINDOW_SIZE);
    broker_args_t kafka_args = {kafka_dir, SINK_KAFKA, NULL, endpoint, 50, "", false, &kafka, NULL};
    broker = broker_new (&kafka_args);
    assert (broker);
    push = zsock_new_push (endpoint);
    assert (push);
    s_test_send_batch (push, "k", 1, day1, 3);
    s_test_send_batch (push, "k", 2, day1, 2);
    s_test_send_flush (push, "k");
    s_test_expect_flushed (broker, "k", "2");
    //  The cluster down: no FLUSHED; back up: delivered, then FLUSHED.
    rd_kafka_mock_broker_set_down (mock, 1);
    s_test_send_batch (push, "k", 3, day1, 2);
    s_test_send_flush (push, "k");
    zpoller_t *waiter = zpoller_new (broker_socket (broker), NULL);
    assert (zpoller_wait (waiter, 1500) == NULL);
    rd_kafka_mock_broker_set_up (mock, 1);
    s_test_expect_flushed (broker, "k", "3");
    //  A reorg: its batch at the ancestor 2, then block 3 of branch b, delivered. The
    //  checkpoint takes b's hash for the same number.
    s_test_send_batch (push, "k", 2, day1, 1);
    s_test_send_branch (push, "k", 0xb, 3, day1, 1);
    s_test_send_flush (push, "k");
    s_test_expect_flushed (broker, "k", "3");
    //  Abandoned while the cluster is down: block 4 is dropped, never checkpointed, and
    //  the broker stops at once.
    rd_kafka_mock_broker_set_down (mock, 1);
    s_test_send_batch (push, "k", 4, day1, 2);
    broker_abandon (broker);
    s_test_send_batch (push, "k", 5, day1, 2);
    zclock_sleep (200);
    zsock_destroy (&push);
    broker_destroy (&broker);
    zpoller_destroy (&waiter);
    checkpoint = checkpoint_open (kafka_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "k", &number, hash) == 0);
    assert (number == 3);
    assert (streq (hash, "0xb000000000000000000000000000000000000000000000000000000000000003"));
    assert (checkpoint_get_window (checkpoint, "k", window) == 0);
    assert (block_window_first (window) == 1 && block_window_last (window) == 3);
    assert (streq (block_window_hash (window, 3), hash));
    checkpoint_destroy (&checkpoint);
    block_window_destroy (&window);
    broker_args_t no_kafka = {kafka_dir, SINK_KAFKA, NULL, endpoint, 50, "", false, NULL, NULL};
    assert (broker_new (&no_kafka) == NULL);
    rd_kafka_mock_cluster_destroy (mock);
    rd_kafka_destroy (host);
    zstr_free (&kafka_dir);

    zstr_free (&blocker);
    zstr_free (&stdout_path);
    zstr_free (&blocks3);
    zstr_free (&txs3);
    zstr_free (&gone);
    zstr_free (&blocks1);
    zstr_free (&blocks2);
    zstr_free (&txs1);
    zstr_free (&txs2);
    zstr_free (&data_dir);
    command = zsys_sprintf ("rm -rf '%s'", tmp);
    assert (system (command) == 0);
    zstr_free (&command);
}
