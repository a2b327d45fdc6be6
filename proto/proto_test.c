/*  proto_test: a round trip for every message type of proto/, and the rejection of
    malformed, truncated and mistyped frames (they may come from a remote worker); the
    wire bytes of today's version; the cases of every field table (msg_table_test). */
#include "evmtap.h"
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "hexutil.h"
#include "job.h"
#include "lease.h"
#include "control.h"
#include "worker_link.h"
#include "metric.h"
#include "msg.h"
#include "result.h"
#include "proxy_query.h"

//  The job every test of jobs starts from: a block job with every field set.
static job_t
s_sample_job (void)
{
    return (job_t) {.id = 42,
                    .kind = JOB_BLOCK,
                    .number = 19000000,
                    .chain_id = 1,
                    .fetch_mode = FETCH_HASHES,
                    .receipts = true};
}

static void
s_test_job (void)
{
    job_t job = s_sample_job ();
    zframe_t *frame = job_encode (&job);
    assert (msg_type (frame) == MSG_TYPE_JOB);
    job_t copy;
    assert (job_decode (frame, &copy) == 0);
    assert (copy.id == 42 && copy.kind == JOB_BLOCK && copy.number == 19000000);
    assert (copy.chain_id == 1 && copy.fetch_mode == FETCH_HASHES && copy.receipts);
    //  Every truncation of a good frame is malformed, never a crash.
    for (size_t size = 0; size < zframe_size (frame); size++) {
        zframe_t *cut = zframe_new (zframe_data (frame), size);
        assert (job_decode (cut, &copy) == -2);
        zframe_destroy (&cut);
    }
    zframe_destroy (&frame);
    job.kind = (job_kind_t) 9;
    frame = job_encode (&job);
    assert (job_decode (frame, &copy) == -2);
    zframe_destroy (&frame);
}

static block_body_t *
s_sample_body (void)
{
    block_body_t *body = block_body_new (2);
    body->meta_json = strdup ("{\"number\":7}");
    body->meta_len = strlen (body->meta_json);
    strcpy (body->txs [0].hash, "0xaa");
    strcpy (body->txs [0].from, "0x01");
    strcpy (body->txs [0].to, "0x02");
    body->txs [0].input_empty = true;
    body->txs [0].json = strdup ("{\"hash\":\"0xaa\"}");
    body->txs [0].json_len = strlen (body->txs [0].json);
    strcpy (body->txs [1].hash, "0xbb");
    strcpy (body->txs [1].from, "0x03");
    body->txs [1].json = strdup ("{\"hash\":\"0xbb\",\"to\":null}");
    body->txs [1].json_len = strlen (body->txs [1].json);
    block_body_set_logs (body, 2);
    body->logs [0] = (block_log_t) {1, 0, strdup ("{\"logIndex\":0}"), 14};
    body->logs [1] = (block_log_t) {1, 1, strdup ("{\"logIndex\":1}"), 14};
    return body;
}

static void
s_test_result_and_body (void)
{
    result_t result = {
        .job_id = 7, .kind = JOB_BLOCK, .number = 7, .status = RESULT_OK, .requests = 3};
    strcpy (result.error, "none");
    result.header.number = 7;
    strcpy (result.header.hash, "0x7777");
    strcpy (result.header.parent_hash, "0x6666");
    result.header.timestamp = 1700000000;
    result.header.tx_count = 2;
    block_body_t *body = s_sample_body ();
    zmsg_t *msg = result_encode (&result, body);
    assert (zmsg_size (msg) == 2);
    result_t copy;
    assert (result_decode (msg, &copy) == 0);
    assert (copy.job_id == 7 && copy.status == RESULT_OK && copy.requests == 3);
    assert (streq (copy.error, "none") && streq (copy.header.hash, "0x7777"));
    assert (streq (copy.header.parent_hash, "0x6666") && copy.header.tx_count == 2);
    assert (copy.header.timestamp == 1700000000);
    //  The body frame stays for the receiver.
    assert (zmsg_size (msg) == 1);
    zframe_t *frame = zmsg_pop (msg);
    block_body_t *body_copy;
    assert (block_body_decode (frame, &body_copy) == 0);
    assert (body_copy->tx_count == 2 && streq (body_copy->meta_json, "{\"number\":7}"));
    assert (streq (body_copy->txs [0].to, "0x02") && body_copy->txs [0].input_empty);
    assert (streq (body_copy->txs [1].to, "") && !body_copy->txs [1].input_empty);
    assert (streq (body_copy->txs [1].json, "{\"hash\":\"0xbb\",\"to\":null}"));
    assert (body_copy->log_count == 2 && body_copy->logs [1].tx_index == 1);
    assert (body_copy->logs [1].log_index == 1);
    assert (streq (body_copy->logs [1].json, "{\"logIndex\":1}"));
    block_body_destroy (&body_copy);
    //  A log naming a transaction the block does not have is malformed.
    body->logs [1].tx_index = 2;
    zframe_t *bad = block_body_encode (body);
    assert (block_body_decode (bad, &body_copy) == -2 && body_copy == NULL);
    zframe_destroy (&bad);
    body->logs [1].tx_index = 1;
    for (size_t size = 0; size < zframe_size (frame); size++) {
        zframe_t *cut = zframe_new (zframe_data (frame), size);
        assert (block_body_decode (cut, &body_copy) == -2 && body_copy == NULL);
        zframe_destroy (&cut);
    }
    zframe_destroy (&frame);
    zmsg_destroy (&msg);

    //  A result without a body; and a body frame given where a result is expected.
    result.status = RESULT_NOT_FOUND;
    msg = result_encode (&result, NULL);
    assert (zmsg_size (msg) == 1);
    assert (result_decode (msg, &copy) == 0 && copy.status == RESULT_NOT_FOUND);
    zmsg_destroy (&msg);
    msg = zmsg_new ();
    frame = block_body_encode (body);
    zmsg_append (msg, &frame);
    assert (result_decode (msg, &copy) == -2);
    zmsg_destroy (&msg);
    block_body_destroy (&body);
}

static void
s_test_block_msg (void)
{
    block_msg_t block = {.chain_id = 31337};
    strcpy (block.chain, "anvil");
    block.header.number = 12;
    strcpy (block.header.hash, "0x12");
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "body");
    block_msg_encode (&block, msg);
    assert (msg_type (zmsg_first (msg)) == MSG_TYPE_BLOCK);
    block_msg_t copy;
    assert (block_msg_decode (msg, &copy) == 0);
    assert (streq (copy.chain, "anvil") && copy.chain_id == 31337 && copy.header.number == 12);
    assert (zmsg_size (msg) == 1);
    zmsg_destroy (&msg);

    zframe_t *frame = flush_msg_encode ("anvil");
    assert (msg_type (frame) == MSG_TYPE_FLUSH);
    char chain [BLOCK_MSG_CHAIN_SIZE];
    assert (flush_msg_decode (frame, chain, sizeof (chain)) == 0 && streq (chain, "anvil"));
    zframe_destroy (&frame);
    msg = zmsg_new ();
    assert (block_msg_decode (msg, &copy) == -2);
    zmsg_destroy (&msg);

    //  Garbage and foreign msgpack are not evmtap messages.
    frame = zframe_new ("\xc1\x00", 2);
    assert (msg_type (frame) == -2);
    assert (flush_msg_decode (frame, chain, sizeof (chain)) == -2);
    zframe_destroy (&frame);
    assert (msg_type (NULL) == -2);
}

//  Frames the fuzzer found (tests/fuzz/crashes): each is malformed, and says so.
static zframe_t *
s_frame_from_hex (const char *hex)
{
    uint8_t bytes [64];
    int size = hex_decode (hex, bytes, sizeof (bytes));
    assert (size > 0);
    return zframe_new (bytes, (size_t) size);
}

static void
s_test_hostile_frames (void)
{
    //  A NUL inside a text would make the copy shorter than its recorded length.
    zframe_t *frame = s_frame_from_hex ("940601a37b007d90");
    block_body_t *body;
    assert (block_body_decode (frame, &body) == -2 && body == NULL);
    zframe_destroy (&frame);
    //  A map announcing 2^32 entries in 5 bytes: refused before msgpack allocates for it.
    frame = s_frame_from_hex ("dfff7bff7b");
    assert (msg_type (frame) == -2);
    job_t job;
    assert (job_decode (frame, &job) == -2);
    zframe_destroy (&frame);
    frame = s_frame_from_hex ("dd7fffffff01");
    assert (msg_type (frame) == -2);
    zframe_destroy (&frame);
    //  A kind of 2^32+2 and a fetch mode of 2^31: out of range, not cut down to fit.
    frame = s_frame_from_hex ("97010107cf00000001000000020001"
                              "00");
    assert (job_decode (frame, &job) == -2);
    zframe_destroy (&frame);
    frame = s_frame_from_hex ("9701010703000100ce80000000");
    assert (job_decode (frame, &job) == -2);
    zframe_destroy (&frame);
    //  A result whose status is 2^32 is not RESULT_OK.
    result_t result = {.job_id = 1, .kind = JOB_HEAD, .status = RESULT_OK};
    zmsg_t *msg = result_encode (&result, NULL);
    zframe_t *good = zmsg_pop (msg);
    zmsg_destroy (&msg);
    uint8_t bytes [512];
    size_t size = zframe_size (good);
    memcpy (bytes, zframe_data (good), size);
    zframe_destroy (&good);
    //  [type, version, job_id, kind, number, status...]: status is the 6th element, 0x00.
    assert (bytes [0] == 0x9e && bytes [6] == 0x00);
    uint8_t patched [520];
    memcpy (patched, bytes, 6);
    const uint8_t wide [9] = {0xcf, 0, 0, 0, 1, 0, 0, 0, 0};
    memcpy (patched + 6, wide, 9);
    memcpy (patched + 15, bytes + 7, size - 7);
    msg = zmsg_new ();
    zmsg_addmem (msg, patched, size + 8);
    assert (result_decode (msg, &result) == -2);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  Wire format: the frames as the encoders wrote them at commit 340475f, before the field
//  tables, for one value of each type. Stored frames, the fuzz corpora and a remote
//  worker of that version must still decode: the bytes may never change within a version.

static const char *s_wire_job = "9801012a03ce0121eac00101c3";
static const char *s_wire_job_head = "980101cfffffffffffffffff0200cf000000010000000000c2";
static const char *s_wire_result =
    "9e02010703ce0001000002cd012c03ac7270633a2074696d656f7574ce0121eac0d942307838386539366434"
    "3533376265613464396330356431323534393930376233323536316433626633316634356161653733346364"
    "63313139663133343036636236a430783132ce6631860002";
static const char *s_wire_block_body =
    "950601ac7b226e756d626572223a377d9295a430786161a430783031a430783032c3af7b2268617368223a22"
    "30786161227d95a430786262a430783033c0c2a27b7d92930100ae7b226c6f67496e646578223a307d9301cd"
    "012ca27b7d";
static const char *s_wire_block_body_empty = "950601a27b7d9090";
static const char *s_wire_block_msg =
    "990301a5616e76696ccd7a69ce0121eac0d94230783838653936643435333762656134643963303564313235"
    "3439393037623332353631643362663331663435616165373334636463313139663133343036636236a43078"
    "3132ce6631860002";
static const char *s_wire_flush = "930501a76d61696e6e6574";
static const char *s_wire_batch =
    "980401a76d61696e6e657401ce0121eac0d94230783838653936643435333762656134643963303564313235"
    "3439393037623332353631643362663331663435616165373334636463313139663133343036636236ce6631"
    "86009293bd6d61696e6e65742e6d696e65642e626c6f636b732e6d65746164617461a83139303030303030b3"
    "7b226e756d626572223a31393030303030307d93d9286d61696e6e65742e6d696e65642e74782e312e6e6174"
    "6976655f746f6b656e5f7472616e73666572a53078616263a67b2200c3a97d";

#define S_WIRE_HASH "0x88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6"

//  Fails, showing both, unless the frame holds exactly the expected hex; destroys it.
static void
s_assert_wire (zframe_t **frame_p, const char *expected)
{
    zframe_t *frame = *frame_p;
    assert (frame);
    char *hex = (char *) malloc (2 * zframe_size (frame) + 3);
    assert (hex);
    hex_encode (zframe_data (frame), zframe_size (frame), hex);
    if (!streq (hex + 2, expected)) {
        fprintf (stderr, "wire format changed:\n  want %s\n  got  %s\n", expected, hex + 2);
        assert (false);
    }
    free (hex);
    zframe_destroy (frame_p);
}

//  The frame of the expected hex, to decode.
static zframe_t *
s_wire_frame (const char *hex)
{
    size_t size = strlen (hex) / 2;
    uint8_t *bytes = (uint8_t *) malloc (size);
    assert (bytes);
    assert (hex_decode (hex, bytes, size) == (int) size);
    zframe_t *frame = zframe_new (bytes, size);
    free (bytes);
    return frame;
}

static block_header_t
s_wire_header (void)
{
    block_header_t header = {.number = 19000000, .timestamp = 1714521600, .tx_count = 2};
    strcpy (header.hash, S_WIRE_HASH);
    strcpy (header.parent_hash, "0x12");
    return header;
}

//  The sample body with the second transaction's and the second log's JSON left out (they
//  travel as "{}") and a log index of 300.
static block_body_t *
s_wire_body (void)
{
    block_body_t *body = s_sample_body ();
    zstr_free (&body->txs [1].json);
    body->txs [1].json_len = 0;
    zstr_free (&body->logs [1].json);
    body->logs [1] = (block_log_t) {1, 300, NULL, 0};
    return body;
}

static void
s_test_wire_jobs_and_results (void)
{
    job_t job = s_sample_job ();
    zframe_t *frame = job_encode (&job);
    s_assert_wire (&frame, s_wire_job);
    job = (job_t) {.id = UINT64_MAX, .kind = JOB_HEAD, .chain_id = 4294967296ull};
    frame = job_encode (&job);
    s_assert_wire (&frame, s_wire_job_head);
    frame = s_wire_frame (s_wire_job);
    assert (job_decode (frame, &job) == 0);
    zframe_destroy (&frame);
    frame = job_encode (&job);
    s_assert_wire (&frame, s_wire_job);

    result_t result = {.job_id = 7,
                       .kind = JOB_BLOCK,
                       .number = 65536,
                       .status = RESULT_FAILED,
                       .value = 300,
                       .requests = 3};
    strcpy (result.error, "rpc: timeout");
    result.header = s_wire_header ();
    block_body_t *body = s_wire_body ();
    zmsg_t *msg = result_encode (&result, body);
    block_body_destroy (&body);
    frame = zmsg_pop (msg);
    s_assert_wire (&frame, s_wire_result);
    frame = zmsg_pop (msg);
    zmsg_destroy (&msg);
    assert (block_body_decode (frame, &body) == 0);
    s_assert_wire (&frame, s_wire_block_body);
    frame = block_body_encode (body);
    s_assert_wire (&frame, s_wire_block_body);
    block_body_destroy (&body);
    body = block_body_new (0);
    frame = block_body_encode (body);
    s_assert_wire (&frame, s_wire_block_body_empty);
    block_body_destroy (&body);

    msg = zmsg_new ();
    frame = s_wire_frame (s_wire_result);
    zmsg_append (msg, &frame);
    assert (result_decode (msg, &result) == 0);
    zmsg_destroy (&msg);
    msg = result_encode (&result, NULL);
    frame = zmsg_pop (msg);
    s_assert_wire (&frame, s_wire_result);
    zmsg_destroy (&msg);
}

static void
s_test_wire_blocks_and_batches (void)
{
    block_msg_t block = {.chain_id = 31337, .header = s_wire_header ()};
    strcpy (block.chain, "anvil");
    zmsg_t *msg = zmsg_new ();
    block_msg_encode (&block, msg);
    zframe_t *frame = zmsg_pop (msg);
    s_assert_wire (&frame, s_wire_block_msg);
    frame = s_wire_frame (s_wire_block_msg);
    zmsg_append (msg, &frame);
    assert (block_msg_decode (msg, &block) == 0);
    block_msg_encode (&block, msg);
    frame = zmsg_pop (msg);
    s_assert_wire (&frame, s_wire_block_msg);
    zmsg_destroy (&msg);

    frame = flush_msg_encode ("mainnet");
    s_assert_wire (&frame, s_wire_flush);
    char chain [BLOCK_MSG_CHAIN_SIZE];
    frame = s_wire_frame (s_wire_flush);
    assert (flush_msg_decode (frame, chain, sizeof (chain)) == 0);
    zframe_destroy (&frame);
    frame = flush_msg_encode (chain);
    s_assert_wire (&frame, s_wire_flush);

    batch_t *batch = batch_new ("mainnet", 1, 19000000, S_WIRE_HASH, 1714521600);
    char *value = strdup ("{\"number\":19000000}");
    batch_add (batch, "mainnet.mined.blocks.metadata", "19000000", value, 19);
    value = (char *) malloc (6);
    assert (value);
    memcpy (value, "{\"\0\xc3\xa9}", 6);
    batch_add (batch, "mainnet.mined.tx.1.native_token_transfer", "0xabc", value, 6);
    frame = batch_encode (batch);
    s_assert_wire (&frame, s_wire_batch);
    batch_destroy (&batch);
    frame = s_wire_frame (s_wire_batch);
    assert (batch_decode (frame, &batch) == 0);
    zframe_destroy (&frame);
    frame = batch_encode (batch);
    s_assert_wire (&frame, s_wire_batch);
    batch_destroy (&batch);
}

//  --------------------------------------------------------------------------
//  Every field table through msg_table_test; what the printer writes; the lease protocol.

//  What the printer writes, for logs: fields by name, texts quoted and escaped, JSON and
//  bytes by their size, groups and rows in braces, lists in brackets.
static void
s_test_print (void)
{
    job_t job = s_sample_job ();
    char *text = msg_print (&job_table, &job);
    assert (streq (text, "job id=42 kind=3 number=19000000 chain_id=1 fetch_mode=1 "
                         "receipts=true"));
    free (text);
    result_t result = {.job_id = 7, .kind = JOB_HEAD, .status = RESULT_FAILED};
    strcpy (result.error, "node said \"no\"\n");
    text = msg_print (&result_table, &result);
    assert (streq (text, "result job_id=7 kind=2 number=0 status=2 value=0 requests=0 "
                         "error=\"node said \\\"no\\\"\\x0a\" header={number=0 hash=\"\" "
                         "parent_hash=\"\" timestamp=0 tx_count=0}"));
    free (text);
    block_body_t *body = s_sample_body ();
    text = msg_print (&block_body_table, body);
    assert (streq (text, "block_body meta_json=(12 bytes) txs=[{hash=\"0xaa\" from=\"0x01\" "
                         "to=\"0x02\" input_empty=true json=(15 bytes)} {hash=\"0xbb\" "
                         "from=\"0x03\" to=\"\" input_empty=false json=(25 bytes)}] "
                         "logs=[{tx_index=1 log_index=0 json=(14 bytes)} {tx_index=1 "
                         "log_index=1 json=(14 bytes)}]"));
    free (text);
    block_body_destroy (&body);
    const char *keys [2] = {"node:1/k1", "node:1/k2"};
    lease_t acquire = {.type = MSG_TYPE_LEASE_ACQUIRE,
                       .id = 3,
                       .holder = "h:1:c/w0",
                       .ttl_ms = 5000,
                       .keys = keys,
                       .key_count = 2};
    text = lease_print (&acquire);
    assert (streq (text, "lease_acquire id=3 holder=\"h:1:c/w0\" ttl_ms=5000 daily=0 "
                         "daily_utc=false keys=[\"node:1/k1\" \"node:1/k2\"]"));
    free (text);
}

//  The lease protocol through its own entry points: any of its messages decodes by its
//  type, and a damaged request still tells its id.
static void
s_test_lease (void)
{
    const char *keys [1] = {"node:1/k1"};
    lease_t request = {.type = MSG_TYPE_LEASE_ACQUIRE,
                       .id = 9,
                       .holder = "h",
                       .ttl_ms = -1,
                       .daily = 100,
                       .daily_utc = true,
                       .keys = keys,
                       .key_count = 1};
    zframe_t *frame = lease_encode (&request);
    assert (msg_type (frame) == MSG_TYPE_LEASE_ACQUIRE && lease_id (frame) == 9);
    lease_t copy;
    assert (lease_decode (frame, &copy) == 0);
    assert (copy.type == MSG_TYPE_LEASE_ACQUIRE && copy.id == 9 && streq (copy.holder, "h"));
    assert (copy.ttl_ms == -1 && copy.daily == 100 && copy.daily_utc);
    assert (copy.key_count == 1 && streq (copy.keys [0], "node:1/k1"));
    lease_clear (&copy);
    assert (copy.keys == NULL && copy.holder == NULL);
    zframe_t *cut = zframe_new (zframe_data (frame), zframe_size (frame) - 2);
    assert (lease_decode (cut, &copy) == -2 && lease_id (cut) == 0);
    zframe_destroy (&cut);
    zframe_destroy (&frame);
    for (int type = MSG_TYPE_LEASE_ACQUIRE; type <= MSG_TYPE_LEASE_REFUND; type++) {
        lease_t answer = {.type = (msg_type_t) type,
                          .id = (uint64_t) type,
                          .holder = "h",
                          .method = "m",
                          .status = -1};
        strcpy (answer.reason, "store down");
        frame = lease_encode (&answer);
        assert (lease_decode (frame, &copy) == 0 && (int) copy.type == type);
        assert (lease_id (frame) == (uint64_t) type);
        lease_clear (&copy);
        zframe_destroy (&frame);
    }
    //  Not a lease message: refused by type, no id told.
    job_t job = {.id = 5, .kind = JOB_HEAD};
    frame = job_encode (&job);
    assert (lease_decode (frame, &copy) == -2 && lease_id (frame) == 0);
    zframe_destroy (&frame);
    assert (lease_table (MSG_TYPE_JOB) == NULL && lease_table ((msg_type_t) 15) == NULL);
}

//  Every message table there is, each tested on its own.
static void
s_test_tables (bool verbose)
{
    const msg_table_t *tables [] = {
        &job_table,         &result_table,       &block_body_table,      &block_msg_table,
        &flush_msg_table,   &batch_table,        &control_request_table, &control_reply_table,
        &proxy_query_table, &proxy_answer_table, &metric_table};
    for (size_t index = 0; index < sizeof (tables) / sizeof (tables [0]); index++)
        msg_table_test (tables [index], verbose);
    for (int type = MSG_TYPE_LEASE_ACQUIRE; type <= MSG_TYPE_LEASE_REFUND; type++)
        msg_table_test (lease_table ((msg_type_t) type), verbose);
}

void
proto_test (bool verbose)
{
    s_test_job ();
    s_test_result_and_body ();
    s_test_block_msg ();
    s_test_hostile_frames ();
    s_test_wire_jobs_and_results ();
    s_test_wire_blocks_and_batches ();
    s_test_tables (verbose);
    s_test_print ();
    s_test_lease ();
    worker_link_test (verbose);
    batch_test (verbose);
}
