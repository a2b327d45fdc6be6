/*  proto_test: a round trip for every message type of proto/, and the rejection of
    malformed, truncated and mistyped frames (they may come from a remote worker). */
#include "evmtap.h"
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "hexutil.h"
#include "job.h"
#include "msg.h"
#include "result.h"

static void
s_test_job (void)
{
    job_t job = {.id = 42, .kind = JOB_BLOCK, .number = 19000000, .chain_id = 1,
                 .fetch_mode = FETCH_HASHES, .receipts = true};
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
    result_t result = {.job_id = 7, .kind = JOB_BLOCK, .number = 7, .status = RESULT_OK,
                       .requests = 3};
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
    frame = s_frame_from_hex ("97010107cf00000001000000020001" "00");
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

void
proto_test (bool verbose)
{
    (void) verbose;
    s_test_job ();
    s_test_result_and_body ();
    s_test_block_msg ();
    s_test_hostile_frames ();
    batch_test (verbose);
}
