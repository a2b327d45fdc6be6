/*  classifier: turns each block into the records of its topics, by the original system's
    rules (DESIGN "classifier"), and hands the broker one batch per block, in the order the
    blocks came. Records move the fetch worker's JSON text into the batch; nothing is
    re-parsed here. End-of-stream markers (FLUSH) and the head poller's reorg batches pass
    through in place.

    Topics (each with the chain's prefix): mined.blocks.metadata (key: block number),
    mined.txs.hash.ids, mined.tx.1.native_token_transfer, mined.tx.2.contract_deployment,
    mined.tx.3.contract_interaction (key: transaction hash); with receipts, each
    transaction's event logs right after it on the internal topic mined.logs (key:
    <txhash>:<logIndex>), which the decoder turns into mined.logs.decoded and
    mined.token_transfers.

    Pipe commands:
        $TERM                   leave
        STATS                   -> STATS blocks native deployments interactions logs
    Main starts and stops it through the facade (classifier_t, classifier.h).
*/
#include "evmtap.h"
#include "classifier.h"
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "jsonw.h"
#include "msg.h"
#include "stage.h"
#include "topics.h"

typedef struct {
    zsock_t *pipe;
    stage_t *stage;    //  blocks from head pollers in, batches to the decoder out
    jsonw_t *writer;
    bool terminated;
    uint64_t block_count;
    uint64_t native;
    uint64_t deployments;
    uint64_t interactions;
    uint64_t logs;
} self_t;

const char *
classifier_topic (const block_tx_t *tx)
{
    if (!*tx->to)
        return TOPIC_DEPLOYMENT;
    return tx->input_empty ? TOPIC_NATIVE_TRANSFER : TOPIC_INTERACTION;
}

static self_t *
s_self_new (zsock_t *pipe, classifier_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->stage = stage_new ("classifier", pipe, args->endpoint, args->broker);
    if (!self->stage) {
        free (self);
        return NULL;
    }
    self->writer = jsonw_new ();
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    stage_destroy (&self->stage);
    jsonw_destroy (&self->writer);
    free (self);
    *self_p = NULL;
}

//  One batch of records for a block; the body's JSON texts move into it.
static batch_t *
s_classify (self_t *self, const block_msg_t *block, block_body_t *body)
{
    batch_t *batch = batch_new (block->chain, block->chain_id, block->header.number,
                                block->header.hash, block->header.timestamp);
    char topic [BLOCK_MSG_CHAIN_SIZE + 48];
    char key [24];
    int chain_len = topics_chain_len (block->chain);
    snprintf (topic, sizeof (topic), "%.*s." TOPIC_BLOCKS_METADATA, chain_len, block->chain);
    snprintf (key, sizeof (key), "%" PRIu64, block->header.number);
    batch_add (batch, topic, key, body->meta_json, body->meta_len);
    body->meta_json = NULL;
    snprintf (topic, sizeof (topic), "%.*s." TOPIC_TXS_HASH_IDS, chain_len, block->chain);
    for (size_t index = 0; index < body->tx_count; index++) {
        block_tx_t *tx = &body->txs [index];
        jsonw_reset (self->writer);
        jsonw_object_begin (self->writer);
        jsonw_key (self->writer, "chainId");
        jsonw_u64 (self->writer, block->chain_id);
        jsonw_key (self->writer, "blockNumber");
        jsonw_u64 (self->writer, block->header.number);
        jsonw_key (self->writer, "blockHash");
        jsonw_string (self->writer, block->header.hash);
        jsonw_key (self->writer, "transactionIndex");
        jsonw_u64 (self->writer, index);
        jsonw_key (self->writer, "hash");
        jsonw_string (self->writer, tx->hash);
        jsonw_object_end (self->writer);
        size_t size = jsonw_size (self->writer);
        batch_add (batch, topic, tx->hash, jsonw_strdup (self->writer), size);
    }
    char logs_topic [BLOCK_MSG_CHAIN_SIZE + 48];
    snprintf (logs_topic, sizeof (logs_topic), "%.*s." TOPIC_LOGS, chain_len, block->chain);
    size_t log = 0;
    for (size_t index = 0; index < body->tx_count; index++) {
        block_tx_t *tx = &body->txs [index];
        if (!*tx->to)
            self->deployments++;
        else if (tx->input_empty)
            self->native++;
        else
            self->interactions++;
        snprintf (topic, sizeof (topic), "%.*s.%s", chain_len, block->chain, classifier_topic (tx));
        batch_add (batch, topic, tx->hash, tx->json, tx->json_len);
        tx->json = NULL;
        //  The transaction's logs (with --receipts) follow it, for the decoder.
        for (; log < body->log_count && body->logs [log].tx_index <= index; log++) {
            block_log_t *entry = &body->logs [log];
            //  The log's own transaction names the key (the body was checked to hold it).
            char log_key [BLOCK_HASH_SIZE + 24];
            snprintf (log_key, sizeof (log_key), "%s:%" PRIu64, body->txs [entry->tx_index].hash,
                      entry->log_index);
            batch_add (batch, logs_topic, log_key, entry->json, entry->json_len);
            entry->json = NULL;
            self->logs++;
        }
    }
    return batch;
}

static void
s_self_handle_blocks (self_t *self)
{
    zmsg_t *msg = zmsg_recv (stage_input (self->stage));
    if (!msg)
        return;
    //  A head poller's reorg batch goes on in place, ahead of the new branch's blocks.
    int type = msg_type (zmsg_first (msg));
    if (type == MSG_TYPE_FLUSH || type == MSG_TYPE_BATCH) {
        zmsg_send (&msg, stage_output (self->stage));
        return;
    }
    block_msg_t block;
    block_body_t *body = NULL;
    if (block_msg_decode (msg, &block) != 0) {
        zsys_error ("classifier: malformed block message dropped");
        zmsg_destroy (&msg);
        return;
    }
    zframe_t *frame = zmsg_pop (msg);
    int rc = block_body_decode (frame, &body);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    if (rc != 0) {
        zsys_error ("classifier: %s block %" PRIu64 ": malformed body dropped", block.chain,
                    block.header.number);
        return;
    }
    batch_t *batch = s_classify (self, &block, body);
    block_body_destroy (&body);
    zframe_t *out = batch_encode (batch);
    batch_destroy (&batch);
    zframe_send (&out, stage_output (self->stage), 0);
    self->block_count++;
}

static void
s_self_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "STATS"))
        zstr_sendf (self->pipe, "STATS %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                    self->block_count, self->native, self->deployments, self->interactions,
                    self->logs);
    else
        zsys_error ("classifier: unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
classifier_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (classifier_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    while (self && !self->terminated) {
        //  A block is read only when its batch can go on at once (stage.h).
        zsock_t *which = stage_wait (self->stage);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which)
            s_self_handle_blocks (self);
        else
            break;
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _classifier_t {
    zactor_t *actor;    //  the only one to use its pipe
};

classifier_t *
classifier_new (classifier_args_t *args)
{
    assert (args);
    zactor_t *actor = zactor_new (classifier_actor, args);
    if (!actor)
        return NULL;
    classifier_t *self = (classifier_t *) zmalloc (sizeof (classifier_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
classifier_destroy (classifier_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

//  A block of three transactions, one of each kind, goes in; one batch with the metadata,
//  three hash ids and each transaction in its topic comes out; FLUSH passes through.
void
classifier_test (bool verbose)
{
    (void) verbose;
    zsock_t *broker = zsock_new_pull ("@inproc://classifier-test-broker");
    zsock_set_rcvtimeo (broker, 3000);
    classifier_args_t args = {"inproc://classifier-test", ">inproc://classifier-test-broker"};
    zactor_t *classifier = zactor_new (classifier_actor, &args);
    assert (classifier);
    zsock_t *head = zsock_new_push (">inproc://classifier-test");

    block_body_t *body = block_body_new (3);
    body->meta_json = strdup ("{\"number\":9}");
    body->meta_len = strlen (body->meta_json);
    const char *tos [3] = {"0x0000000000000000000000000000000000000001", "",
                           "0x0000000000000000000000000000000000000002"};
    for (size_t index = 0; index < 3; index++) {
        block_tx_t *tx = &body->txs [index];
        snprintf (tx->hash, sizeof (tx->hash), "0x%064zx", index);
        strcpy (tx->from, "0x00000000000000000000000000000000000000ff");
        strcpy (tx->to, tos [index]);
        tx->input_empty = index == 0;
        tx->json = zsys_sprintf ("{\"hash\":\"%s\"}", tx->hash);
        tx->json_len = strlen (tx->json);
    }
    //  Two logs of the third transaction, one of the first.
    block_body_set_logs (body, 3);
    uint32_t log_txs [3] = {0, 2, 2};
    for (size_t index = 0; index < 3; index++) {
        body->logs [index] = (block_log_t) {log_txs [index], index + 5, NULL, 0};
        body->logs [index].json = zsys_sprintf ("{\"logIndex\":%zu}", index + 5);
        body->logs [index].json_len = strlen (body->logs [index].json);
    }
    assert (streq (classifier_topic (&body->txs [0]), TOPIC_NATIVE_TRANSFER));
    assert (streq (classifier_topic (&body->txs [1]), TOPIC_DEPLOYMENT));
    assert (streq (classifier_topic (&body->txs [2]), TOPIC_INTERACTION));
    zmsg_t *msg = zmsg_new ();
    zframe_t *frame = block_body_encode (body);
    zmsg_append (msg, &frame);
    block_msg_t block = {.chain = "anvil", .chain_id = 31337};
    block.header.number = 9;
    block.header.timestamp = 1714521600;
    strcpy (block.header.hash, "0x09");
    block_msg_encode (&block, msg);
    zmsg_send (&msg, head);
    frame = flush_msg_encode ("anvil");
    zframe_send (&frame, head, 0);

    frame = zframe_recv (broker);
    batch_t *batch;
    assert (frame && batch_decode (frame, &batch) == 0);
    zframe_destroy (&frame);
    assert (batch_number (batch) == 9 && batch_size (batch) == 10);
    assert (streq (batch_chain (batch), "anvil") && batch_timestamp (batch) == 1714521600);
    const batch_record_t *record = batch_record (batch, 0);
    assert (streq (record->topic, "anvil.mined.blocks.metadata") && streq (record->key, "9"));
    record = batch_record (batch, 1);
    assert (streq (record->topic, "anvil.mined.txs.hash.ids"));
    cJSON *ids = cJSON_Parse (record->value);
    assert (ids && cJSON_GetObjectItem (ids, "chainId")->valuedouble == 31337);
    assert (cJSON_GetObjectItem (ids, "transactionIndex")->valuedouble == 0);
    assert (streq (cJSON_GetObjectItem (ids, "blockHash")->valuestring, "0x09"));
    cJSON_Delete (ids);
    assert (streq (batch_record (batch, 4)->topic, "anvil." TOPIC_NATIVE_TRANSFER));
    assert (streq (batch_record (batch, 5)->topic, "anvil." TOPIC_LOGS));
    char *key = zsys_sprintf ("%s:5", body->txs [0].hash);
    assert (streq (batch_record (batch, 5)->key, key));
    zstr_free (&key);
    assert (streq (batch_record (batch, 5)->value, "{\"logIndex\":5}"));
    assert (streq (batch_record (batch, 6)->topic, "anvil." TOPIC_DEPLOYMENT));
    assert (streq (batch_record (batch, 7)->topic, "anvil." TOPIC_INTERACTION));
    assert (streq (batch_record (batch, 7)->key, body->txs [2].hash));
    assert (streq (batch_record (batch, 7)->value, body->txs [2].json));
    key = zsys_sprintf ("%s:7", body->txs [2].hash);
    assert (streq (batch_record (batch, 9)->key, key));
    zstr_free (&key);
    assert (streq (batch_record (batch, 8)->topic, "anvil." TOPIC_LOGS));
    batch_destroy (&batch);
    frame = zframe_recv (broker);
    assert (frame && msg_type (frame) == MSG_TYPE_FLUSH);
    zframe_destroy (&frame);
    zstr_send (classifier, "STATS");
    char *stats = zstr_recv (classifier);
    assert (streq (stats, "STATS 1 1 1 1 3"));
    zstr_free (&stats);

    block_body_destroy (&body);
    zsock_destroy (&head);
    zactor_destroy (&classifier);

    //  The facade: a classifier started with classifier_new passes FLUSH on.
    classifier_args_t facade_args = {"inproc://classifier-test-2",
                                     ">inproc://classifier-test-broker"};
    classifier_t *facade = classifier_new (&facade_args);
    assert (facade);
    head = zsock_new_push (">inproc://classifier-test-2");
    frame = flush_msg_encode ("anvil");
    zframe_send (&frame, head, 0);
    frame = zframe_recv (broker);
    assert (frame && msg_type (frame) == MSG_TYPE_FLUSH);
    zframe_destroy (&frame);
    zsock_destroy (&head);
    classifier_destroy (&facade);
    classifier_destroy (&facade);
    assert (!facade);
    zsock_destroy (&broker);
}
