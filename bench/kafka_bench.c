/*  evmtap_kafka_bench: throughput of the Kafka sink, for bench/kafka.sh. Loads recorded
    blocks (eth_getBlockByNumber(n, true) answers, *.json in DIR), normalizes and classifies
    them as the fetch workers and the classifier do, then feeds COUNT batches (cycling
    through the recorded blocks, numbered 1..COUNT) to a broker actor with the Kafka sink,
    sends FLUSH and waits for FLUSHED: every message delivered and checkpointed. Prints one
    line of figures: messages, value bytes, seconds, messages/s, MB/s.

    Usage: evmtap_kafka_bench --brokers LIST --blocks DIR [--count N] [--format json|msgpack]
                              [--data-dir DIR] [--linger MS] [--compression CODEC] */
#include "evmtap.h"
#include "broker.h"
#include <dirent.h>
#include <inttypes.h>
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "classifier.h"
#include "jsonw.h"
#include "kafka_sink.h"
#include "normalize.h"
#include "sink.h"

typedef struct {
    block_header_t header;
    block_body_t *body;
} s_recorded_t;

//  Loads and normalizes every recorded block of dir. Returns how many.
static size_t
s_load (const char *dir, s_recorded_t *blocks, size_t max)
{
    DIR *handle = opendir (dir);
    if (!handle)
        return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (handle)) && count < max) {
        size_t len = strlen (entry->d_name);
        if (len < 6 || strcmp (entry->d_name + len - 5, ".json") != 0)
            continue;
        char *path = zsys_sprintf ("%s/%s", dir, entry->d_name);
        zchunk_t *chunk = zchunk_slurp (path, 0);
        cJSON *root = chunk ? cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                                     zchunk_size (chunk))
                            : NULL;
        cJSON *result = root ? cJSON_GetObjectItem (root, "result") : NULL;
        char err [256];
        if (result
            && normalize_block (result, 1, &blocks [count].header, &blocks [count].body, err,
                                sizeof (err))
                   == 0)
            count++;
        else
            fprintf (stderr, "evmtap_kafka_bench: %s skipped\n", path);
        cJSON_Delete (root);
        zchunk_destroy (&chunk);
        zstr_free (&path);
    }
    closedir (handle);
    return count;
}

//  The classifier's batch for a recorded block, renumbered.
static batch_t *
s_batch (const s_recorded_t *recorded, uint64_t number, jsonw_t *writer)
{
    const block_body_t *body = recorded->body;
    batch_t *batch = batch_new ("mainnet", 1, number, recorded->header.hash,
                                recorded->header.timestamp);
    char key [24];
    snprintf (key, sizeof (key), "%" PRIu64, number);
    char *meta = (char *) malloc (body->meta_len + 1);
    assert (meta);
    memcpy (meta, body->meta_json, body->meta_len + 1);
    batch_add (batch, "mainnet.mined.blocks.metadata", key, meta, body->meta_len);
    for (size_t index = 0; index < body->tx_count; index++) {
        const block_tx_t *tx = &body->txs [index];
        jsonw_reset (writer);
        jsonw_object_begin (writer);
        jsonw_key (writer, "chainId");
        jsonw_u64 (writer, 1);
        jsonw_key (writer, "blockNumber");
        jsonw_u64 (writer, number);
        jsonw_key (writer, "transactionIndex");
        jsonw_u64 (writer, index);
        jsonw_key (writer, "hash");
        jsonw_string (writer, tx->hash);
        jsonw_object_end (writer);
        batch_add (batch, "mainnet.mined.txs.hash.ids", tx->hash, jsonw_strdup (writer),
                   jsonw_size (writer));
    }
    for (size_t index = 0; index < body->tx_count; index++) {
        const block_tx_t *tx = &body->txs [index];
        char topic [96];
        snprintf (topic, sizeof (topic), "mainnet.%s", classifier_topic (tx));
        char *json = (char *) malloc (tx->json_len + 1);
        assert (json);
        memcpy (json, tx->json, tx->json_len + 1);
        batch_add (batch, topic, tx->hash, json, tx->json_len);
    }
    return batch;
}

int
main (int argc, char **argv)
{
    const char *brokers = NULL, *blocks_dir = NULL, *data_dir = NULL;
    const char *compression = NULL;
    int count = 2000, linger = -1;
    bool msgpack = false;
    for (int arg = 1; arg + 1 < argc; arg += 2) {
        if (streq (argv [arg], "--brokers"))
            brokers = argv [arg + 1];
        else if (streq (argv [arg], "--blocks"))
            blocks_dir = argv [arg + 1];
        else if (streq (argv [arg], "--count"))
            count = atoi (argv [arg + 1]);
        else if (streq (argv [arg], "--format"))
            msgpack = streq (argv [arg + 1], "msgpack");
        else if (streq (argv [arg], "--data-dir"))
            data_dir = argv [arg + 1];
        else if (streq (argv [arg], "--linger"))
            linger = atoi (argv [arg + 1]);
        else if (streq (argv [arg], "--compression"))
            compression = argv [arg + 1];
        else {
            fprintf (stderr, "evmtap_kafka_bench: unknown argument %s\n", argv [arg]);
            return 2;
        }
    }
    if (!brokers || !blocks_dir || !data_dir || count < 1) {
        fprintf (stderr, "usage: evmtap_kafka_bench --brokers LIST --blocks DIR --data-dir DIR "
                         "[--count N] [--format json|msgpack] [--linger MS] [--compression C]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logident ("evmtap_kafka_bench");
    s_recorded_t recorded [256];
    size_t loaded = s_load (blocks_dir, recorded, 256);
    if (loaded == 0) {
        fprintf (stderr, "evmtap_kafka_bench: no block in %s\n", blocks_dir);
        return 1;
    }
    kafka_sink_config_t config;
    kafka_sink_config_defaults (&config);
    config.brokers = brokers;
    config.msgpack = msgpack;
    if (linger >= 0)
        config.linger_ms = linger;
    if (compression)
        config.compression = compression;
    broker_args_t args = {.data_dir = data_dir,
                          .sink = SINK_KAFKA,
                          .endpoint = "inproc://kafka-bench",
                          .kafka = &config};
    broker_t *broker = broker_new (&args);
    if (!broker) {
        fprintf (stderr, "evmtap_kafka_bench: %s\n", args.error);
        return 1;
    }
    zsock_t *push = zsock_new_push (">inproc://kafka-bench");
    assert (push);
    jsonw_t *writer = jsonw_new ();
    int64_t started = zclock_usecs ();
    uint64_t messages = 0, bytes = 0;
    for (int index = 0; index < count; index++) {
        batch_t *batch = s_batch (&recorded [index % loaded], (uint64_t) index + 1, writer);
        for (size_t record = 0; record < batch_size (batch); record++)
            bytes += batch_record (batch, record)->value_len;
        messages += batch_size (batch);
        zframe_t *frame = batch_encode (batch);
        batch_destroy (&batch);
        zframe_send (&frame, push, 0);
    }
    zframe_t *flush = flush_msg_encode ("mainnet");
    zframe_send (&flush, push, 0);
    broker_event_t *event = broker_recv (broker);
    double seconds = (double) (zclock_usecs () - started) / 1e6;
    int rc = event && event->type == BROKER_FLUSHED ? 0 : 1;
    char number [24] = "-";
    if (rc == 0 && event->published)
        snprintf (number, sizeof (number), "%" PRIu64, event->number);
    printf (
        "kafka %s: %d blocks, %" PRIu64 " messages, %.1f MB of JSON values in %.2f s: "
        "%.0f messages/s, %.1f MB/s of JSON values (delivered and checkpointed, last block %s)\n",
        msgpack ? "msgpack" : "json", count, messages, (double) bytes / 1e6, seconds,
        (double) messages / seconds, (double) bytes / 1e6 / seconds, number);
    broker_event_destroy (&event);
    jsonw_destroy (&writer);
    zsock_destroy (&push);
    broker_destroy (&broker);
    for (size_t index = 0; index < loaded; index++)
        block_body_destroy (&recorded [index].body);
    return rc;
}
