/*  kafka_sink: the broker's Kafka producer. One idempotent producer (acks=all) publishes
    each block's records with their keys and the headers evmtap-chain-id and evmtap-schema,
    values as JSON or msgpack; it tracks, per chain, the blocks whose messages are not all
    confirmed by a delivery report, so that the checkpoint only moves past blocks Kafka has.
    A delivery that fails (message timeout, cluster refusal) is logged and produced again:
    nothing is skipped. When the producer queue is full the sink keeps the batch it could not
    queue whole and takes no other until there is room: the broker then stops reading.

    @locality broker: every call from the thread that created the sink. */
#ifndef KAFKA_SINK_H_INCLUDED
#define KAFKA_SINK_H_INCLUDED

#include "evmtap.h"
#include "batch.h"

typedef struct {
    const char *brokers;        //  bootstrap list, HOST:PORT,...
    bool msgpack;               //  values as msgpack instead of JSON
    int linger_ms;              //  linger.ms
    int batch_bytes;            //  batch.size
    const char *compression;    //  compression.codec: none, gzip, snappy, lz4, zstd
    int partitions;             //  for topics created through the Admin API
    int replication;            //  ditto; -1 for the cluster's default
    int queue_messages;         //  queue.buffering.max.messages: the memory bound
    int queue_kbytes;           //  queue.buffering.max.kbytes: the memory bound
    int message_timeout_ms;     //  message.timeout.ms: a delivery fails (and is retried)
    bool verbose;               //  log every block delivered, with the time in ms
} kafka_sink_config_t;

//  Defaults for every setting but brokers (README, docs/config.md).
#define KAFKA_SINK_LINGER_MS 5
#define KAFKA_SINK_BATCH_BYTES 1000000
#define KAFKA_SINK_COMPRESSION "lz4"
#define KAFKA_SINK_PARTITIONS 3
#define KAFKA_SINK_REPLICATION (-1)
#define KAFKA_SINK_QUEUE_MESSAGES 100000
#define KAFKA_SINK_QUEUE_KBYTES 65536
#define KAFKA_SINK_MESSAGE_TIMEOUT_MS 30000

typedef struct _kafka_sink_t kafka_sink_t;

//  Fills a config with the defaults (brokers NULL).
void kafka_sink_config_defaults (kafka_sink_config_t *config);

//  Creates the producer (it connects in the background). NULL with librdkafka's words in
//  err when the configuration is refused.
kafka_sink_t *kafka_sink_new (const kafka_sink_config_t *config, char *err, size_t err_size);

//  Purges what is not delivered (it is not checkpointed, so it is published again after a
//  restart) and destroys the producer.
void kafka_sink_destroy (kafka_sink_t **self_p);

//  A file descriptor that becomes readable when the producer has events (delivery reports,
//  errors, admin results) for kafka_sink_poll: poll it with the broker's sockets.
int kafka_sink_fd (kafka_sink_t *self);

//  Serves the producer's events, produces failed messages again, then queues what is left
//  of a batch that did not fit. Returns 0, or -1 when the sink cannot go on (the reason is
//  in kafka_sink_error): a topic refused by the cluster, a message the producer refuses.
//  What became delivered is read with kafka_sink_delivered.
int kafka_sink_poll (kafka_sink_t *self);

//  Publishes a block's records (takes the batch; the caller's pointer is NULLed). Returns 0
//  when the batch is queued whole, 1 when the queue filled up (the sink keeps the rest and
//  queues it from kafka_sink_poll), -1 when the sink cannot go on (kafka_sink_error).
int kafka_sink_publish (kafka_sink_t *self, batch_t **batch_p);

//  True when the sink takes another batch: no earlier batch waits for room in the queue.
bool kafka_sink_ready (kafka_sink_t *self);

//  The last block of a chain delivered together with every block of the chain published
//  before it: 0 with number and hash (BLOCK_HASH_SIZE) filled, 1 when none since start.
int kafka_sink_delivered (kafka_sink_t *self, const char *chain, uint64_t *number, char *hash);

//  How many blocks of a chain were given to the sink and are not all delivered yet.
size_t kafka_sink_outstanding (kafka_sink_t *self, const char *chain);

//  Drops the batch waiting for room and every batch published from now on: for a stop
//  that gives up on undelivered blocks (they are not checkpointed).
void kafka_sink_abandon (kafka_sink_t *self);

//  Totals since start: messages and value bytes delivered, deliveries that failed.
void kafka_sink_stats (kafka_sink_t *self, uint64_t *delivered, uint64_t *bytes, uint64_t *failed);

//  Why the sink cannot go on ("" while it can).
const char *kafka_sink_error (kafka_sink_t *self);

//  Converts a JSON text into msgpack: objects become maps (keys in order), numbers integers
//  when they are whole (else float64), strings, booleans, null and arrays as themselves.
//  Returns a new buffer with its size, or NULL when the text is not JSON.
char *kafka_sink_json_to_msgpack (const char *json, size_t json_len, size_t *size);

void kafka_sink_test (bool verbose);

#endif
