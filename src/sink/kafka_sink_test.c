/*  kafka_sink_test: the selftest of kafka_sink (kafka_sink.c), kept apart so each file
    stays small. Through the public calls only: JSON to msgpack, refused configurations,
    then against an in-process librdkafka mock cluster of three brokers: blocks delivered
    in order, the cluster down and back up, a full producer queue holding the rest of a
    batch, deliveries that time out produced again, ABANDON, and msgpack values. */
#include "evmtap.h"
#include "kafka_sink.h"
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include "batch.h"
#include "block.h"

//  A batch of a block with a metadata record and `txs` transaction records.
static batch_t *
s_test_batch (const char *chain, uint64_t number, int txs)
{
    char hash [BLOCK_HASH_SIZE], key [80];
    snprintf (hash, sizeof (hash), "0x%064" PRIx64, number);
    batch_t *batch = batch_new (chain, 7, number, hash, 1714521600);
    char *topic = zsys_sprintf ("%s.mined.blocks.metadata", chain);
    snprintf (key, sizeof (key), "%" PRIu64, number);
    char *value = zsys_sprintf ("{\"number\":%" PRIu64 ",\"chainId\":7}", number);
    batch_add (batch, topic, key, value, strlen (value));
    zstr_free (&topic);
    topic = zsys_sprintf ("%s.mined.txs.hash.ids", chain);
    for (int index = 0; index < txs; index++) {
        snprintf (key, sizeof (key), "0x%064" PRIx64, number * 1000 + (uint64_t) index);
        value = zsys_sprintf ("{\"hash\":\"%s\",\"transactionIndex\":%d}", key, index);
        batch_add (batch, topic, key, value, strlen (value));
    }
    zstr_free (&topic);
    return batch;
}

//  Polls the sink until the chain's delivered block is `number` or the time runs out.
static bool
s_test_wait_delivered (kafka_sink_t *sink, const char *chain, uint64_t number, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        zmq_pollitem_t item = {NULL, kafka_sink_fd (sink), ZMQ_POLLIN, 0};
        zmq_poll (&item, 1, 50);
        assert (kafka_sink_poll (sink) >= 0);
        uint64_t delivered;
        char hash [BLOCK_HASH_SIZE];
        if (kafka_sink_delivered (sink, chain, &delivered, hash) == 0 && delivered == number)
            return true;
    }
    return false;
}

static void
s_test_all_brokers (rd_kafka_mock_cluster_t *mock, int count, bool up)
{
    for (int id = 1; id <= count; id++)
        if (up)
            rd_kafka_mock_broker_set_up (mock, id);
        else
            rd_kafka_mock_broker_set_down (mock, id);
}

void
kafka_sink_test (bool verbose)
{
    //  JSON to msgpack: maps in order, whole numbers as integers.
    const char *json = "{\"a\":1,\"b\":\"x\",\"c\":[true,null,-2,1.5],\"d\":{},\"e\":false}";
    const unsigned char expected [] = {0x85, 0xa1, 'a',  0x01, 0xa1, 'b',  0xa1, 'x', 0xa1, 'c',
                                       0x94, 0xc3, 0xc0, 0xfe, 0xcb, 0x3f, 0xf8, 0,   0,    0,
                                       0,    0,    0,    0xa1, 'd',  0x80, 0xa1, 'e', 0xc2};
    size_t size;
    char *packed = kafka_sink_json_to_msgpack (json, strlen (json), &size);
    assert (packed && size == sizeof (expected) && memcmp (packed, expected, size) == 0);
    free (packed);
    const char *big = "{\"gas\":9007199254740991,\"value\":\"123456789012345678901234567890\"}";
    packed = kafka_sink_json_to_msgpack (big, strlen (big), &size);
    assert (packed && (unsigned char) packed [5] == 0xcf);    //  uint64
    free (packed);
    assert (kafka_sink_json_to_msgpack ("{\"a\":", 5, &size) == NULL);

    //  An in-process mock cluster of three brokers.
    char errstr [256];
    rd_kafka_conf_t *host_conf = rd_kafka_conf_new ();
    rd_kafka_conf_set (host_conf, "log_level", "0", errstr, sizeof (errstr));
    rd_kafka_t *host = rd_kafka_new (RD_KAFKA_PRODUCER, host_conf, errstr, sizeof (errstr));
    assert (host);
    rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new (host, 3);
    assert (mock);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps (mock);

    char err [256];
    kafka_sink_config_t config;
    kafka_sink_config_defaults (&config);
    assert (kafka_sink_new (&config, err, sizeof (err)) == NULL);    //  no brokers
    config.brokers = bootstraps;
    config.compression = "brotli";
    assert (kafka_sink_new (&config, err, sizeof (err)) == NULL);
    assert (strstr (err, "compression.codec"));

    //  Blocks are delivered in order; the delivered block moves through them.
    kafka_sink_config_defaults (&config);
    config.brokers = bootstraps;
    config.verbose = verbose;
    config.linger_ms = 1;
    kafka_sink_t *sink = kafka_sink_new (&config, err, sizeof (err));
    assert (sink);
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    assert (kafka_sink_delivered (sink, "t", &number, hash) == 1);
    for (uint64_t block = 5; block <= 7; block++) {
        batch_t *batch = s_test_batch ("t", block, 3);
        assert (kafka_sink_publish (sink, &batch) == 0);
        assert (!batch && kafka_sink_ready (sink));
    }
    assert (kafka_sink_outstanding (sink, "t") > 0);
    assert (s_test_wait_delivered (sink, "t", 7, 15000));
    assert (kafka_sink_delivered (sink, "t", &number, hash) == 0 && number == 7);
    assert (streq (hash, "0x0000000000000000000000000000000000000000000000000000000000000007"));
    assert (kafka_sink_outstanding (sink, "t") == 0);
    uint64_t delivered, bytes, failed;
    kafka_sink_stats (sink, &delivered, &bytes, &failed);
    assert (delivered == 12 && bytes > 0 && failed == 0);

    //  The cluster down: nothing is delivered, the checkpoint would wait; back up: done.
    s_test_all_brokers (mock, 3, false);
    batch_t *batch = s_test_batch ("t", 8, 2);
    assert (kafka_sink_publish (sink, &batch) == 0);
    assert (!s_test_wait_delivered (sink, "t", 8, 1500));
    assert (kafka_sink_outstanding (sink, "t") == 1);
    s_test_all_brokers (mock, 3, true);
    assert (s_test_wait_delivered (sink, "t", 8, 20000));
    kafka_sink_destroy (&sink);

    //  A full queue: the sink keeps the rest of the batch and takes no other until there
    //  is room; a delivery that times out is produced again, never skipped.
    config.queue_messages = 4;
    config.message_timeout_ms = 1000;
    sink = kafka_sink_new (&config, err, sizeof (err));
    assert (sink);
    s_test_all_brokers (mock, 3, false);
    batch = s_test_batch ("q", 1, 9);
    assert (kafka_sink_publish (sink, &batch) == 1);
    assert (!kafka_sink_ready (sink));
    int64_t deadline = zclock_mono () + 3000;
    while (zclock_mono () < deadline) {
        assert (kafka_sink_poll (sink) >= 0);
        zclock_sleep (50);
    }
    kafka_sink_stats (sink, &delivered, &bytes, &failed);
    assert (failed > 0 && delivered == 0);
    assert (!kafka_sink_ready (sink));
    assert (kafka_sink_delivered (sink, "q", &number, hash) == 1);
    s_test_all_brokers (mock, 3, true);
    assert (s_test_wait_delivered (sink, "q", 1, 30000));
    assert (kafka_sink_ready (sink));
    kafka_sink_stats (sink, &delivered, &bytes, &failed);
    assert (delivered >= 10);
    batch = s_test_batch ("q", 2, 1);
    assert (kafka_sink_publish (sink, &batch) == 0);
    assert (s_test_wait_delivered (sink, "q", 2, 15000));

    //  Abandoned: the pending block and later ones are dropped, never delivered.
    s_test_all_brokers (mock, 3, false);
    batch = s_test_batch ("q", 3, 9);
    assert (kafka_sink_publish (sink, &batch) == 1);
    kafka_sink_abandon (sink);
    assert (kafka_sink_ready (sink));
    batch = s_test_batch ("q", 4, 1);
    assert (kafka_sink_publish (sink, &batch) == 0);
    s_test_all_brokers (mock, 3, true);
    assert (!s_test_wait_delivered (sink, "q", 3, 1500));
    assert (kafka_sink_delivered (sink, "q", &number, hash) == 0 && number == 2);
    kafka_sink_destroy (&sink);
    kafka_sink_destroy (&sink);

    //  msgpack values.
    config.msgpack = true;
    config.queue_messages = KAFKA_SINK_QUEUE_MESSAGES;
    sink = kafka_sink_new (&config, err, sizeof (err));
    assert (sink);
    batch = s_test_batch ("m", 1, 2);
    assert (kafka_sink_publish (sink, &batch) == 0);
    assert (s_test_wait_delivered (sink, "m", 1, 15000));
    kafka_sink_destroy (&sink);

    rd_kafka_mock_cluster_destroy (mock);
    rd_kafka_destroy (host);
}
