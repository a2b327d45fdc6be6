/*  kafka_sink: the broker's Kafka producer (see kafka_sink.h).

    Delivery tracking: every block published gets an s_block_t in its chain's window (oldest
    first) holding how many of its messages are not delivered yet; each message carries its
    block as the per-message opaque. A delivery report that succeeds counts the message off;
    one that fails copies the message into the retry list, which is produced again before
    anything new. A chain's delivered block only moves through the head of its window, so it
    never passes a block with a message missing: that is what the broker checkpoints.

    Events: librdkafka writes a byte to a pipe when its main queue (delivery reports,
    errors) or the admin queue (CreateTopics results) gets an event, so the broker can poll
    that pipe with its sockets instead of waking up on a timer.

    Topics are created through the Admin API on first sight. librdkafka 2.0.2's mock cluster
    has no CreateTopics: it names a controller that is none of its brokers, so the request
    times out waiting for it, and it creates topics itself on the first metadata request.
    When a CreateTopics times out the sink asks for the cluster's metadata: brokers that
    answer but no controller among them is that cluster, logged once, and the sink goes
    on; a refusal (policy, replication factor, authorization) stops the sink with the
    cluster's words. */
#include "evmtap.h"
#include "kafka_sink.h"
#include <librdkafka/rdkafka.h>
#include <msgpack.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <unistd.h>
#include "batch.h"
#include "block.h"

//  Repeated warnings (cluster down, failed deliveries) at most this often.
#define KAFKA_SINK_LOG_INTERVAL_MS 10000
//  A topic whose creation timed out is asked for again after this long.
#define KAFKA_SINK_TOPIC_RETRY_MS 10000
#define KAFKA_SINK_ADMIN_TIMEOUT_MS 5000

typedef struct _s_chain_t s_chain_t;

//  A block published and not all delivered.
typedef struct {
    s_chain_t *chain;
    uint64_t number;
    char hash [BLOCK_HASH_SIZE];
    size_t outstanding;    //  its messages not delivered yet, produced or not
    size_t messages;       //  all its messages
} s_block_t;

struct _s_chain_t {
    char *name;          //  key in self->chains
    zlistx_t *window;    //  s_block_t, oldest first
    bool delivered;      //  delivered_* are set
    uint64_t delivered_number;
    char delivered_hash [BLOCK_HASH_SIZE];
};

//  A message whose delivery failed, to produce again.
typedef struct {
    char *topic;
    void *key;
    size_t key_len;
    void *value;
    size_t value_len;
    rd_kafka_headers_t *headers;
    s_block_t *block;
} s_retry_t;

typedef enum { TOPIC_CREATING, TOPIC_READY, TOPIC_RETRY } s_topic_state_t;

typedef struct {
    s_topic_state_t state;
    int64_t retry_at;    //  zclock_mono, for TOPIC_RETRY
} s_topic_t;

struct _kafka_sink_t {
    kafka_sink_config_t config;
    char *brokers;                    //  config.brokers points here
    char *compression;                //  config.compression points here
    rd_kafka_t *producer;             //  @locality broker
    rd_kafka_queue_t *admin_queue;    //  CreateTopics results
    int event_pipe [2];               //  librdkafka writes [1] when a queue gets an event
    zhashx_t *chains;                 //  name -> s_chain_t
    zhashx_t *topics;                 //  full topic name -> s_topic_t
    zlistx_t *retries;                //  s_retry_t, produced again first
    batch_t *pending;                 //  a batch not queued whole yet
    size_t pending_index;             //  its next record to produce
    s_block_t *pending_block;
    bool abandoned;                   //  drop what is published from now on
    bool fatal;                       //  the producer raised a fatal error: make a new one
    bool stopping;                    //  purging at destroy: failures are expected
    bool no_create_topics;            //  the cluster has no CreateTopics (logged once)
    int64_t controller_checked_at;    //  zclock_mono of the last s_cluster_has_controller,
                                      //  0 until the cluster is first probed
    int controller_known;             //  its answer
    char error [512];                 //  why the sink cannot go on
    msgpack_sbuffer sbuffer;          //  msgpack values
    uint64_t delivered;               //  stats
    uint64_t bytes;
    uint64_t failed;
    uint64_t failures_unlogged;    //  failed deliveries not logged one by one
    int64_t failure_logged_at;     //  zclock_mono of the last failure logged
    int64_t down_logged_at;        //  of the last "cluster down" warning
    int64_t error_logged_at;       //  of the last other producer error
};


//  --------------------------------------------------------------------------
//  JSON to msgpack

static void
s_pack (msgpack_packer *packer, const cJSON *item)
{
    if (cJSON_IsNull (item))
        msgpack_pack_nil (packer);
    else if (cJSON_IsTrue (item))
        msgpack_pack_true (packer);
    else if (cJSON_IsFalse (item))
        msgpack_pack_false (packer);
    else if (cJSON_IsNumber (item)) {
        double number = item->valuedouble;
        if (number == floor (number) && fabs (number) <= 9007199254740992.0) {
            if (number < 0)
                msgpack_pack_int64 (packer, (int64_t) number);
            else
                msgpack_pack_uint64 (packer, (uint64_t) number);
        }
        else
            msgpack_pack_double (packer, number);
    }
    else if (cJSON_IsString (item)) {
        size_t len = strlen (item->valuestring);
        msgpack_pack_str (packer, len);
        msgpack_pack_str_body (packer, item->valuestring, len);
    }
    else if (cJSON_IsArray (item) || cJSON_IsObject (item)) {
        size_t count = 0;
        const cJSON *child;
        for (child = item->child; child; child = child->next)
            count++;
        if (cJSON_IsArray (item))
            msgpack_pack_array (packer, count);
        else
            msgpack_pack_map (packer, count);
        for (child = item->child; child; child = child->next) {
            if (cJSON_IsObject (item)) {
                size_t len = strlen (child->string);
                msgpack_pack_str (packer, len);
                msgpack_pack_str_body (packer, child->string, len);
            }
            s_pack (packer, child);
        }
    }
    else
        msgpack_pack_nil (packer);    //  cJSON_Raw and invalid: not made by parsing
}

static int
s_json_to_msgpack (msgpack_sbuffer *sbuffer, const char *json, size_t json_len)
{
    cJSON *root = cJSON_ParseWithLength (json, json_len);
    if (!root)
        return -1;
    msgpack_packer packer;
    msgpack_packer_init (&packer, sbuffer, msgpack_sbuffer_write);
    s_pack (&packer, root);
    cJSON_Delete (root);
    return 0;
}

char *
kafka_sink_json_to_msgpack (const char *json, size_t json_len, size_t *size)
{
    msgpack_sbuffer sbuffer;
    msgpack_sbuffer_init (&sbuffer);
    if (s_json_to_msgpack (&sbuffer, json, json_len) != 0) {
        msgpack_sbuffer_destroy (&sbuffer);
        return NULL;
    }
    *size = sbuffer.size;
    return msgpack_sbuffer_release (&sbuffer);
}


//  --------------------------------------------------------------------------
//  Chains, blocks and retries

static void
s_retry_destroy (s_retry_t **self_p)
{
    s_retry_t *self = *self_p;
    if (self) {
        free (self->topic);
        free (self->key);
        free (self->value);
        if (self->headers)
            rd_kafka_headers_destroy (self->headers);
        free (self);
        *self_p = NULL;
    }
}

static void
s_retry_destructor (void **item)
{
    s_retry_destroy ((s_retry_t **) item);
}

//  For the containers of plain structs (blocks, topics): nothing inside to free.
static void
s_free_destructor (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_chain_destructor (void **item)
{
    s_chain_t *chain = (s_chain_t *) *item;
    if (chain) {
        zlistx_destroy (&chain->window);
        free (chain->name);
        free (chain);
        *item = NULL;
    }
}

static s_chain_t *
s_chain_require (kafka_sink_t *self, const char *name)
{
    s_chain_t *chain = (s_chain_t *) zhashx_lookup (self->chains, name);
    if (!chain) {
        chain = (s_chain_t *) zmalloc (sizeof (s_chain_t));
        assert (chain);
        chain->name = strdup (name);
        chain->window = zlistx_new ();
        assert (chain->name && chain->window);
        zlistx_set_destructor (chain->window, s_free_destructor);
        zhashx_insert (self->chains, name, chain);
    }
    return chain;
}

//  Moves each chain's delivered block past the blocks at the head of its window that have
//  every message delivered.
static void
s_advance (kafka_sink_t *self)
{
    s_chain_t *chain;
    for (chain = (s_chain_t *) zhashx_first (self->chains); chain;
         chain = (s_chain_t *) zhashx_next (self->chains)) {
        s_block_t *block;
        while ((block = (s_block_t *) zlistx_first (chain->window)) && block->outstanding == 0
               && block != self->pending_block) {
            chain->delivered = true;
            chain->delivered_number = block->number;
            memcpy (chain->delivered_hash, block->hash, BLOCK_HASH_SIZE);
            if (self->config.verbose)
                zsys_info ("kafka: %s block %" PRIu64 " delivered: %zu messages, at %" PRId64 " ms",
                           chain->name, block->number, block->messages, zclock_time ());
            zlistx_delete (chain->window, zlistx_cursor (chain->window));
        }
    }
}


//  --------------------------------------------------------------------------
//  Producer callbacks (served by rd_kafka_poll, in the broker's thread, except the log)

static void
s_on_delivery (rd_kafka_t *producer, const rd_kafka_message_t *message, void *opaque)
{
    (void) producer;
    kafka_sink_t *self = (kafka_sink_t *) opaque;
    s_block_t *block = (s_block_t *) message->_private;
    assert (block);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        assert (block->outstanding > 0);
        block->outstanding--;
        self->delivered++;
        self->bytes += message->len;
        return;
    }
    if (self->stopping)
        return;    //  purged at destroy: not checkpointed, published again
    //  Failed for good in librdkafka's eyes (timed out, refused): produce it again.
    s_retry_t *retry = (s_retry_t *) zmalloc (sizeof (s_retry_t));
    assert (retry);
    retry->topic = strdup (rd_kafka_topic_name (message->rkt));
    retry->key = malloc (message->key_len + 1);
    retry->value = malloc (message->len + 1);
    assert (retry->topic && retry->key && retry->value);
    if (message->key_len)
        memcpy (retry->key, message->key, message->key_len);
    if (message->len)
        memcpy (retry->value, message->payload, message->len);
    retry->key_len = message->key_len;
    retry->value_len = message->len;
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers (message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
        retry->headers = rd_kafka_headers_copy (headers);
    retry->block = block;
    zlistx_add_end (self->retries, retry);
    self->failed++;
    bool purged = message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE
                  || message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
    int64_t now = zclock_mono ();
    if (!purged
        && (self->failure_logged_at == 0
            || now - self->failure_logged_at >= KAFKA_SINK_LOG_INTERVAL_MS)) {
        zsys_warning ("kafka: delivery to %s (key %.*s, %s block %" PRIu64 ") failed: %s; "
                      "produced again, the checkpoint waits%s",
                      retry->topic, (int) (message->key_len < 80 ? message->key_len : 80),
                      (const char *) message->key, block->chain->name, block->number,
                      rd_kafka_err2str (message->err),
                      self->failures_unlogged ? " (more failures since the last report)" : "");
        self->failure_logged_at = now;
        self->failures_unlogged = 0;
    }
    else
        self->failures_unlogged++;
}

static void
s_on_error (rd_kafka_t *producer, int err, const char *reason, void *opaque)
{
    kafka_sink_t *self = (kafka_sink_t *) opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char text [256];
        rd_kafka_fatal_error (producer, text, sizeof (text));
        zsys_error ("kafka: the producer failed for good (%s); starting a new one, "
                    "undelivered messages are produced again",
                    text);
        self->fatal = true;
        return;
    }
    //  Each kind at most every KAFKA_SINK_LOG_INTERVAL_MS: connection errors repeat.
    bool down = err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
    int64_t *logged_at = down ? &self->down_logged_at : &self->error_logged_at;
    int64_t now = zclock_mono ();
    if (*logged_at && now - *logged_at < KAFKA_SINK_LOG_INTERVAL_MS)
        return;
    *logged_at = now;
    if (down)
        zsys_warning ("kafka: no broker of %s answers (%s); retrying: fetching pauses when "
                      "the queue is full, the checkpoint waits for delivery",
                      self->config.brokers, reason);
    else
        zsys_warning ("kafka: %s: %s (retrying)", rd_kafka_err2name ((rd_kafka_resp_err_t) err),
                      reason);
}

//  librdkafka's own log lines (its threads): what it says about connections and requests.
static void
s_on_log (const rd_kafka_t *producer, int level, const char *facility, const char *text)
{
    (void) producer;
    if (level <= 3)
        zsys_error ("kafka: %s: %s", facility, text);
    else if (level <= 5)
        zsys_warning ("kafka: %s: %s", facility, text);
    else
        zsys_info ("kafka: %s: %s", facility, text);
}


//  --------------------------------------------------------------------------
//  Producer

static int
s_conf_set (rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t err_size)
{
    char errstr [256];
    if (rd_kafka_conf_set (conf, name, value, errstr, sizeof (errstr)) != RD_KAFKA_CONF_OK) {
        snprintf (err, err_size, "kafka setting %s=%s: %s", name, value, errstr);
        return -1;
    }
    return 0;
}

static int
s_producer_new (kafka_sink_t *self, char *err, size_t err_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char linger [16], batch [16], messages [16], kbytes [16], timeout [16];
    snprintf (linger, sizeof (linger), "%d", self->config.linger_ms);
    snprintf (batch, sizeof (batch), "%d", self->config.batch_bytes);
    snprintf (messages, sizeof (messages), "%d", self->config.queue_messages);
    snprintf (kbytes, sizeof (kbytes), "%d", self->config.queue_kbytes);
    snprintf (timeout, sizeof (timeout), "%d", self->config.message_timeout_ms);
    const char *settings [][2] = {
        {"bootstrap.servers", self->config.brokers},
        {"client.id", "evmtap"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", linger},
        {"batch.size", batch},
        {"compression.codec", self->config.compression},
        {"queue.buffering.max.messages", messages},
        {"queue.buffering.max.kbytes", kbytes},
        {"message.timeout.ms", timeout},
        //  The Java client's partitioner: keys land where Kafka Streams expects them.
        {"partitioner", "murmur2_random"},
        //  Back within a second or two when the cluster returns.
        {"reconnect.backoff.max.ms", "2000"},
    };
    for (size_t index = 0; index < sizeof (settings) / sizeof (settings [0]); index++)
        if (s_conf_set (conf, settings [index][0], settings [index][1], err, err_size)) {
            rd_kafka_conf_destroy (conf);
            return -1;
        }
    rd_kafka_conf_set_opaque (conf, self);
    rd_kafka_conf_set_dr_msg_cb (conf, s_on_delivery);
    rd_kafka_conf_set_error_cb (conf, s_on_error);
    rd_kafka_conf_set_log_cb (conf, s_on_log);
    char errstr [256];
    self->producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, errstr, sizeof (errstr));
    if (!self->producer) {
        rd_kafka_conf_destroy (conf);
        snprintf (err, err_size, "kafka producer: %s", errstr);
        return -1;
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_get_main (self->producer);
    rd_kafka_queue_io_event_enable (queue, self->event_pipe [1], "k", 1);
    rd_kafka_queue_destroy (queue);
    self->admin_queue = rd_kafka_queue_new (self->producer);
    rd_kafka_queue_io_event_enable (self->admin_queue, self->event_pipe [1], "a", 1);
    return 0;
}

//  Purges what the producer holds (the delivery reports put it on the retry list unless
//  stopping) and destroys it.
static void
s_producer_destroy (kafka_sink_t *self)
{
    if (!self->producer)
        return;
    rd_kafka_purge (self->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int attempt = 0; attempt < 50 && rd_kafka_outq_len (self->producer) > 0; attempt++)
        rd_kafka_poll (self->producer, 20);
    while (rd_kafka_poll (self->producer, 0) > 0)
        ;
    rd_kafka_queue_destroy (self->admin_queue);
    self->admin_queue = NULL;
    rd_kafka_destroy (self->producer);
    self->producer = NULL;
    //  Topics are asked for again by the new producer.
    zhashx_purge (self->topics);
}

void
kafka_sink_config_defaults (kafka_sink_config_t *config)
{
    memset (config, 0, sizeof (*config));
    config->linger_ms = KAFKA_SINK_LINGER_MS;
    config->batch_bytes = KAFKA_SINK_BATCH_BYTES;
    config->compression = KAFKA_SINK_COMPRESSION;
    config->partitions = KAFKA_SINK_PARTITIONS;
    config->replication = KAFKA_SINK_REPLICATION;
    config->queue_messages = KAFKA_SINK_QUEUE_MESSAGES;
    config->queue_kbytes = KAFKA_SINK_QUEUE_KBYTES;
    config->message_timeout_ms = KAFKA_SINK_MESSAGE_TIMEOUT_MS;
}

kafka_sink_t *
kafka_sink_new (const kafka_sink_config_t *config, char *err, size_t err_size)
{
    assert (config);
    if (!config->brokers || !*config->brokers) {
        snprintf (err, err_size, "kafka: no brokers given");
        return NULL;
    }
    kafka_sink_t *self = (kafka_sink_t *) zmalloc (sizeof (kafka_sink_t));
    assert (self);
    self->config = *config;
    self->brokers = strdup (config->brokers);
    self->compression = strdup (config->compression ? config->compression : "none");
    assert (self->brokers && self->compression);
    self->config.brokers = self->brokers;
    self->config.compression = self->compression;
    self->event_pipe [0] = self->event_pipe [1] = -1;
    self->chains = zhashx_new ();
    self->topics = zhashx_new ();
    self->retries = zlistx_new ();
    assert (self->chains && self->topics && self->retries);
    zhashx_set_destructor (self->chains, s_chain_destructor);
    zhashx_set_destructor (self->topics, s_free_destructor);
    zlistx_set_destructor (self->retries, s_retry_destructor);
    msgpack_sbuffer_init (&self->sbuffer);
    if (pipe2 (self->event_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf (err, err_size, "kafka: pipe: %s", strerror (errno));
        kafka_sink_destroy (&self);
        return NULL;
    }
    if (s_producer_new (self, err, err_size) != 0) {
        kafka_sink_destroy (&self);
        return NULL;
    }
    return self;
}

void
kafka_sink_destroy (kafka_sink_t **self_p)
{
    kafka_sink_t *self = *self_p;
    if (self) {
        self->stopping = true;
        s_producer_destroy (self);
        batch_destroy (&self->pending);
        zlistx_destroy (&self->retries);
        zhashx_destroy (&self->chains);
        zhashx_destroy (&self->topics);
        msgpack_sbuffer_destroy (&self->sbuffer);
        if (self->event_pipe [0] >= 0)
            close (self->event_pipe [0]);
        if (self->event_pipe [1] >= 0)
            close (self->event_pipe [1]);
        free (self->brokers);
        free (self->compression);
        free (self);
        *self_p = NULL;
    }
}


//  --------------------------------------------------------------------------
//  Topics

//  Asks the cluster to create a topic (the answer comes on the admin queue).
static void
s_topic_create (kafka_sink_t *self, const char *name, s_topic_t *topic)
{
    char errstr [256];
    rd_kafka_NewTopic_t *new_topic = rd_kafka_NewTopic_new (
        name, self->config.partitions, self->config.replication, errstr, sizeof (errstr));
    if (!new_topic) {
        snprintf (self->error, sizeof (self->error), "kafka: topic %.200s: %.200s", name, errstr);
        return;
    }
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new (self->producer,
                                                                  RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout (options, KAFKA_SINK_ADMIN_TIMEOUT_MS, errstr,
                                               sizeof (errstr));
    rd_kafka_AdminOptions_set_operation_timeout (options, KAFKA_SINK_ADMIN_TIMEOUT_MS, errstr,
                                                 sizeof (errstr));
    rd_kafka_CreateTopics (self->producer, &new_topic, 1, options, self->admin_queue);
    rd_kafka_AdminOptions_destroy (options);
    rd_kafka_NewTopic_destroy (new_topic);
    topic->state = TOPIC_CREATING;
}

//  1 when the cluster answers metadata and names one of its brokers as the controller,
//  0 when it answers without (the mock cluster), -1 when it does not answer.
static int
s_cluster_has_controller (kafka_sink_t *self)
{
    //  Several topics time out together: ask once (the request blocks up to 2 s).
    if (self->controller_checked_at
        && zclock_mono () - self->controller_checked_at < KAFKA_SINK_TOPIC_RETRY_MS)
        return self->controller_known;
    self->controller_checked_at = zclock_mono ();
    self->controller_known = -1;
    const struct rd_kafka_metadata *metadata;
    if (rd_kafka_metadata (self->producer, 0, NULL, &metadata, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    int32_t controller = rd_kafka_controllerid (self->producer, 0);
    int rc = 0;
    for (int index = 0; index < metadata->broker_cnt; index++)
        if (metadata->brokers [index].id == controller)
            rc = 1;
    rd_kafka_metadata_destroy (metadata);
    self->controller_known = rc;
    return rc;
}

//  The cluster cannot create topics through the Admin API: it creates them on first use.
static void
s_topic_no_create (kafka_sink_t *self, const char *why)
{
    if (!self->no_create_topics)
        zsys_info ("kafka: the cluster does not offer CreateTopics (%s: librdkafka's mock "
                   "cluster?); going on, it creates topics on first use",
                   why);
    self->no_create_topics = true;
}

static void
s_topic_result (kafka_sink_t *self, const char *name, rd_kafka_resp_err_t err, const char *text)
{
    s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
    if (!topic)
        return;    //  forgotten by a producer restart
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            zsys_info ("kafka: created topic %s (%d partitions, replication %d)", name,
                       self->config.partitions, self->config.replication);
        topic->state = TOPIC_READY;
    }
    else if (self->no_create_topics || err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE
             || (err == RD_KAFKA_RESP_ERR__TIMED_OUT && s_cluster_has_controller (self) == 0)) {
        //  librdkafka 2.0.2's mock cluster: no CreateTopics; it creates a topic on the
        //  first metadata request that names it.
        s_topic_no_create (self, text);
        topic->state = TOPIC_READY;
    }
    else if (err < 0 || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT
             || err == RD_KAFKA_RESP_ERR_NOT_CONTROLLER) {
        //  Transport trouble: ask again later; messages wait in the queue meanwhile.
        zsys_warning ("kafka: cannot create topic %s yet: %s; asking again", name, text);
        topic->state = TOPIC_RETRY;
        topic->retry_at = zclock_mono () + KAFKA_SINK_TOPIC_RETRY_MS;
    }
    else
        snprintf (self->error, sizeof (self->error),
                  "kafka: the cluster refused to create topic %.200s (%d partitions, "
                  "replication %d): %s: %.200s",
                  name, self->config.partitions, self->config.replication, rd_kafka_err2name (err),
                  text);
}

//  Makes sure a topic is created or being created before its first message.
static void
s_topic_require (kafka_sink_t *self, const char *name)
{
    s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
    if (topic && (topic->state != TOPIC_RETRY || zclock_mono () < topic->retry_at))
        return;
    if (!topic) {
        topic = (s_topic_t *) zmalloc (sizeof (s_topic_t));
        assert (topic);
        zhashx_insert (self->topics, name, topic);
    }
    if (!self->controller_checked_at) {
        //  Once, before the first CreateTopics: a cluster that answers but names none of
        //  its brokers as controller has no CreateTopics (the mock cluster).
        if (s_cluster_has_controller (self) == 0)
            s_topic_no_create (self, "its metadata names no controller");
    }
    if (self->no_create_topics)
        topic->state = TOPIC_READY;
    else
        s_topic_create (self, name, topic);
}

static void
s_admin_poll (kafka_sink_t *self)
{
    rd_kafka_event_t *event;
    while (self->admin_queue && (event = rd_kafka_queue_poll (self->admin_queue, 0))) {
        const rd_kafka_CreateTopics_result_t *result = rd_kafka_event_CreateTopics_result (event);
        size_t count = 0;
        const rd_kafka_topic_result_t **topics =
            result ? rd_kafka_CreateTopics_result_topics (result, &count) : NULL;
        rd_kafka_resp_err_t err = rd_kafka_event_error (event);
        for (size_t index = 0; index < count; index++) {
            const char *text = rd_kafka_topic_result_error_string (topics [index]);
            rd_kafka_resp_err_t topic_err = rd_kafka_topic_result_error (topics [index]);
            if (err && !topic_err)
                topic_err = err;
            s_topic_result (self, rd_kafka_topic_result_name (topics [index]), topic_err,
                            text ? text : rd_kafka_err2str (topic_err));
        }
        if (err && count == 0) {
            //  A request-level error names no topic: it applies to those being created.
            const char *text = rd_kafka_event_error_string (event);
            zlistx_t *names = zhashx_keys (self->topics);
            const char *name;
            for (name = (const char *) zlistx_first (names); name;
                 name = (const char *) zlistx_next (names)) {
                s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
                if (topic->state == TOPIC_CREATING)
                    s_topic_result (self, name, err, text ? text : rd_kafka_err2str (err));
            }
            zlistx_destroy (&names);
        }
        rd_kafka_event_destroy (event);
    }
}


//  --------------------------------------------------------------------------
//  Producing

//  Produces one message; the headers are the producer's on success. Returns the error.
static rd_kafka_resp_err_t
s_produce (kafka_sink_t *self, const char *topic, const void *key, size_t key_len,
           const void *value, size_t value_len, rd_kafka_headers_t *headers, s_block_t *block)
{
    return rd_kafka_producev (
        self->producer, RD_KAFKA_V_TOPIC (topic), RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY (key, key_len), RD_KAFKA_V_VALUE ((void *) value, value_len),
        RD_KAFKA_V_HEADERS (headers), RD_KAFKA_V_OPAQUE (block), RD_KAFKA_V_END);
}

//  Returns 0 when produced, 1 when the queue is full, -1 when the sink cannot go on.
static int
s_produce_check (kafka_sink_t *self, rd_kafka_resp_err_t err, const char *topic)
{
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return 1;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        self->fatal = true;
        return 1;    //  kafka_sink_poll makes a new producer and goes on
    }
    snprintf (self->error, sizeof (self->error), "kafka: cannot produce to %.200s: %s", topic,
              rd_kafka_err2str (err));
    return -1;
}

static int
s_produce_record (kafka_sink_t *self, batch_t *batch, const batch_record_t *record,
                  s_block_t *block)
{
    s_topic_require (self, record->topic);
    if (self->error [0])
        return -1;
    //  The schema is the topic without the chain's prefix.
    const char *chain = batch_chain (batch);
    size_t prefix = strlen (chain);
    const char *bare = strncmp (record->topic, chain, prefix) == 0 && record->topic [prefix] == '.'
                           ? record->topic + prefix + 1
                           : record->topic;
    char chain_id [24], schema [256];
    snprintf (chain_id, sizeof (chain_id), "%" PRIu64, batch_chain_id (batch));
    snprintf (schema, sizeof (schema), "%s/v1", bare);
    rd_kafka_headers_t *headers = rd_kafka_headers_new (2);
    rd_kafka_header_add (headers, "evmtap-chain-id", -1, chain_id, -1);
    rd_kafka_header_add (headers, "evmtap-schema", -1, schema, -1);
    const char *value = record->value;
    size_t value_len = record->value_len;
    if (self->config.msgpack) {
        msgpack_sbuffer_clear (&self->sbuffer);
        if (s_json_to_msgpack (&self->sbuffer, record->value, record->value_len) != 0) {
            rd_kafka_headers_destroy (headers);
            snprintf (self->error, sizeof (self->error),
                      "kafka: the value of %.200s key %.80s is not JSON", record->topic,
                      record->key);
            return -1;
        }
        value = self->sbuffer.data;
        value_len = self->sbuffer.size;
    }
    rd_kafka_resp_err_t err = s_produce (self, record->topic, record->key, strlen (record->key),
                                         value, value_len, headers, block);
    int rc = s_produce_check (self, err, record->topic);
    if (rc != 0)
        rd_kafka_headers_destroy (headers);
    return rc;
}

//  Produces the failed messages again. 0 when all are queued, 1 queue full, -1 failed.
static int
s_retries_produce (kafka_sink_t *self)
{
    s_retry_t *retry;
    while ((retry = (s_retry_t *) zlistx_first (self->retries))) {
        s_topic_require (self, retry->topic);
        rd_kafka_headers_t *headers = retry->headers ? rd_kafka_headers_copy (retry->headers)
                                                     : NULL;
        rd_kafka_resp_err_t err = s_produce (self, retry->topic, retry->key, retry->key_len,
                                             retry->value, retry->value_len, headers, retry->block);
        int rc = s_produce_check (self, err, retry->topic);
        if (rc != 0) {
            if (headers)
                rd_kafka_headers_destroy (headers);
            return rc;
        }
        zlistx_delete (self->retries, zlistx_cursor (self->retries));
    }
    return 0;
}

//  Produces what is left of the pending batch. 0 when done, 1 queue full, -1 failed.
static int
s_pending_produce (kafka_sink_t *self)
{
    while (self->pending && self->pending_index < batch_size (self->pending)) {
        int rc = s_produce_record (self, self->pending,
                                   batch_record (self->pending, self->pending_index),
                                   self->pending_block);
        if (rc != 0)
            return rc;
        self->pending_index++;
    }
    batch_destroy (&self->pending);
    self->pending_block = NULL;
    return 0;
}

int
kafka_sink_fd (kafka_sink_t *self)
{
    assert (self);
    return self->event_pipe [0];
}

int
kafka_sink_poll (kafka_sink_t *self)
{
    assert (self);
    char drain [256];
    while (read (self->event_pipe [0], drain, sizeof (drain)) > 0)
        ;
    if (self->fatal) {
        self->fatal = false;
        s_producer_destroy (self);
        char err [256];
        if (s_producer_new (self, err, sizeof (err)) != 0)
            snprintf (self->error, sizeof (self->error), "%s", err);
    }
    if (self->producer) {
        while (rd_kafka_poll (self->producer, 0) > 0)
            ;
        s_admin_poll (self);
    }
    if (self->failures_unlogged
        && zclock_mono () - self->failure_logged_at >= KAFKA_SINK_LOG_INTERVAL_MS) {
        zsys_warning ("kafka: %" PRIu64 " more deliveries failed and were produced again",
                      self->failures_unlogged);
        self->failures_unlogged = 0;
        self->failure_logged_at = zclock_mono ();
    }
    if (!self->error [0] && self->producer && s_retries_produce (self) == 0)
        s_pending_produce (self);
    s_advance (self);
    return self->error [0] ? -1 : 0;
}

int
kafka_sink_publish (kafka_sink_t *self, batch_t **batch_p)
{
    assert (self && batch_p && *batch_p);
    assert (!self->pending);
    batch_t *batch = *batch_p;
    *batch_p = NULL;
    if (self->error [0]) {
        batch_destroy (&batch);
        return -1;
    }
    if (self->abandoned) {
        batch_destroy (&batch);
        return 0;
    }
    s_chain_t *chain = s_chain_require (self, batch_chain (batch));
    s_block_t *block = (s_block_t *) zmalloc (sizeof (s_block_t));
    assert (block);
    block->chain = chain;
    block->number = batch_number (batch);
    snprintf (block->hash, sizeof (block->hash), "%s", batch_hash (batch));
    block->outstanding = block->messages = batch_size (batch);
    zlistx_add_end (chain->window, block);
    self->pending = batch;
    self->pending_index = 0;
    self->pending_block = block;
    int rc = s_retries_produce (self);
    if (rc == 0)
        rc = s_pending_produce (self);
    s_advance (self);
    return rc;
}

bool
kafka_sink_ready (kafka_sink_t *self)
{
    assert (self);
    return self->pending == NULL;
}

int
kafka_sink_delivered (kafka_sink_t *self, const char *chain_name, uint64_t *number, char *hash)
{
    assert (self);
    s_chain_t *chain = (s_chain_t *) zhashx_lookup (self->chains, chain_name);
    if (!chain || !chain->delivered)
        return 1;
    *number = chain->delivered_number;
    memcpy (hash, chain->delivered_hash, BLOCK_HASH_SIZE);
    return 0;
}

size_t
kafka_sink_outstanding (kafka_sink_t *self, const char *chain_name)
{
    assert (self);
    s_chain_t *chain = (s_chain_t *) zhashx_lookup (self->chains, chain_name);
    return chain ? zlistx_size (chain->window) : 0;
}

void
kafka_sink_abandon (kafka_sink_t *self)
{
    assert (self);
    //  The pending block stays in its window with messages never produced: the chain's
    //  delivered block cannot pass it.
    batch_destroy (&self->pending);
    self->pending_block = NULL;
    self->abandoned = true;
}

void
kafka_sink_stats (kafka_sink_t *self, uint64_t *delivered, uint64_t *bytes, uint64_t *failed)
{
    assert (self);
    *delivered = self->delivered;
    *bytes = self->bytes;
    *failed = self->failed;
}

const char *
kafka_sink_error (kafka_sink_t *self)
{
    assert (self);
    return self->error;
}
