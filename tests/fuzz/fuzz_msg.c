/*  fuzz_msg: libFuzzer target for the frames actors exchange (proto/), which may come from
    remote workers: every decoder reads the input as a frame.

    Besides the sanitizers, the target holds each decoder to its contract: 0 or -2, nothing
    allocated on -2, and a decoded value that re-encodes and decodes to the same fields,
    and prints (the printer sees hostile texts too). Integer fields are also read back
    with plain msgpack, so a decoder that keeps fewer bits than the frame held (and so
    accepts a value it should refuse) is caught. */
#include "evmtap.h"
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "control.h"
#include "job.h"
#include "lease.h"
#include "metric.h"
#include "metrics.h"
#include "msg.h"
#include "result.h"
#include "proxy_query.h"
#include "worker_link.h"

//  The index-th element of the frame's top array as an unsigned integer; false when the
//  frame is no array or that element is no positive integer.
static bool
s_raw_u64 (const uint8_t *data, size_t size, uint32_t index, uint64_t *value)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    bool found = false;
    if (msgpack_unpack_next (&unpacked, (const char *) data, size, &offset)
            == MSGPACK_UNPACK_SUCCESS
        && unpacked.data.type == MSGPACK_OBJECT_ARRAY && index < unpacked.data.via.array.size
        && unpacked.data.via.array.ptr [index].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *value = unpacked.data.via.array.ptr [index].via.u64;
        found = true;
    }
    msgpack_unpacked_destroy (&unpacked);
    return found;
}

//  Fails unless the index-th field of the frame is exactly value.
static void
s_check_raw (const uint8_t *data, size_t size, uint32_t index, uint64_t value)
{
    uint64_t raw;
    if (!s_raw_u64 (data, size, index, &raw) || raw != value)
        __builtin_trap ();
}

static void
s_check_rc (int rc)
{
    if (rc != 0 && rc != -2)
        __builtin_trap ();
}

//  Prints a decoded message, which must name its type first.
static void
s_check_print (const msg_table_t *table, const void *self)
{
    char *text = msg_print (table, self);
    if (strncmp (text, table->name, strlen (table->name)) != 0)
        __builtin_trap ();
    free (text);
}

static void
s_check_header (const block_header_t *a, const block_header_t *b)
{
    if (a->number != b->number || strcmp (a->hash, b->hash) != 0
        || strcmp (a->parent_hash, b->parent_hash) != 0 || a->timestamp != b->timestamp
        || a->tx_count != b->tx_count)
        __builtin_trap ();
}

static void
s_fuzz_job (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    job_t job;
    int rc = job_decode (frame, &job);
    s_check_rc (rc);
    if (rc == 0) {
        //  [type, version, id, kind, number, chain_id, fetch_mode]
        if (job.kind != JOB_HEAD && job.kind != JOB_BLOCK && job.kind != JOB_FINALIZED)
            __builtin_trap ();
        if (job.fetch_mode != FETCH_BLOCK && job.fetch_mode != FETCH_HASHES)
            __builtin_trap ();
        s_check_raw (data, size, 3, (uint64_t) job.kind);
        s_check_raw (data, size, 6, (uint64_t) job.fetch_mode);
        s_check_print (&job_table, &job);
        zframe_t *again = job_encode (&job);
        job_t copy;
        if (job_decode (again, &copy) != 0 || memcmp (&job, &copy, sizeof job) != 0)
            __builtin_trap ();
        zframe_destroy (&again);
    }
    zframe_destroy (&frame);
}

static void
s_fuzz_result (const uint8_t *data, size_t size)
{
    //  A result as it arrives: the result frame, then maybe a body frame left untouched.
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, data, size);
    zmsg_addmem (msg, "body", 4);
    result_t result;
    int rc = result_decode (msg, &result);
    s_check_rc (rc);
    if (zmsg_size (msg) != 1)
        __builtin_trap ();
    if (rc == 0) {
        //  [type, version, job_id, kind, number, status, value, requests, error, header...]
        if (result.status > RESULT_FAILED)
            __builtin_trap ();
        s_check_raw (data, size, 3, (uint64_t) result.kind);
        s_check_raw (data, size, 5, (uint64_t) result.status);
        if (!memchr (result.error, 0, sizeof result.error))
            __builtin_trap ();
        s_check_print (&result_table, &result);
        zmsg_t *again = result_encode (&result, NULL);
        result_t copy;
        if (result_decode (again, &copy) != 0 || copy.job_id != result.job_id
            || copy.kind != result.kind || copy.number != result.number
            || copy.status != result.status || copy.value != result.value
            || copy.requests != result.requests || strcmp (copy.error, result.error) != 0)
            __builtin_trap ();
        s_check_header (&result.header, &copy.header);
        zmsg_destroy (&again);
    }
    zmsg_destroy (&msg);
}

static void
s_fuzz_block_body (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    block_body_t *body = (block_body_t *) 1;    //  must be set to NULL on failure
    int rc = block_body_decode (frame, &body);
    s_check_rc (rc);
    if (rc != 0 && body)
        __builtin_trap ();
    if (rc == 0) {
        if (!body)
            __builtin_trap ();
        s_check_print (&block_body_table, body);
        //  The head poller and the classifier pass bodies on by re-encoding them.
        zframe_t *again = block_body_encode (body);
        block_body_t *copy = NULL;
        if (block_body_decode (again, &copy) != 0 || copy->tx_count != body->tx_count
            || copy->meta_len != body->meta_len
            || memcmp (copy->meta_json, body->meta_json, body->meta_len) != 0)
            __builtin_trap ();
        for (size_t index = 0; index < body->tx_count; index++) {
            const block_tx_t *a = &body->txs [index], *b = &copy->txs [index];
            if (strcmp (a->hash, b->hash) != 0 || strcmp (a->from, b->from) != 0
                || strcmp (a->to, b->to) != 0 || a->input_empty != b->input_empty
                || a->json_len != b->json_len || memcmp (a->json, b->json, a->json_len) != 0)
                __builtin_trap ();
        }
        block_body_destroy (&copy);
        zframe_destroy (&again);
        block_body_destroy (&body);
    }
    zframe_destroy (&frame);
}

static void
s_fuzz_block_msg (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, data, size);
    zmsg_addmem (msg, "body", 4);
    block_msg_t block;
    int rc = block_msg_decode (msg, &block);
    s_check_rc (rc);
    if (zmsg_size (msg) != 1)
        __builtin_trap ();
    if (rc == 0) {
        if (!memchr (block.chain, 0, sizeof block.chain))
            __builtin_trap ();
        s_check_print (&block_msg_table, &block);
        zmsg_t *again = zmsg_new ();
        block_msg_encode (&block, again);
        block_msg_t copy;
        if (block_msg_decode (again, &copy) != 0 || strcmp (copy.chain, block.chain) != 0
            || copy.chain_id != block.chain_id)
            __builtin_trap ();
        s_check_header (&block.header, &copy.header);
        zmsg_destroy (&again);
    }
    zmsg_destroy (&msg);
}

static void
s_fuzz_flush (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    char chain [BLOCK_MSG_CHAIN_SIZE];
    int rc = flush_msg_decode (frame, chain, sizeof chain);
    s_check_rc (rc);
    if (rc == 0) {
        if (!memchr (chain, 0, sizeof chain))
            __builtin_trap ();
        zframe_t *again = flush_msg_encode (chain);
        char copy [BLOCK_MSG_CHAIN_SIZE];
        if (flush_msg_decode (again, copy, sizeof copy) != 0 || strcmp (copy, chain) != 0)
            __builtin_trap ();
        zframe_destroy (&again);
    }
    zframe_destroy (&frame);
}

static void
s_fuzz_batch (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    batch_t *batch = (batch_t *) 1;    //  must be set to NULL on failure
    int rc = batch_decode (frame, &batch);
    s_check_rc (rc);
    if (rc != 0 && batch)
        __builtin_trap ();
    if (rc == 0) {
        if (strlen (batch_hash (batch)) >= BLOCK_HASH_SIZE)
            __builtin_trap ();
        s_check_print (&batch_table, batch);
        zframe_t *again = batch_encode (batch);
        batch_t *copy = NULL;
        if (batch_decode (again, &copy) != 0 || batch_size (copy) != batch_size (batch)
            || batch_chain_id (copy) != batch_chain_id (batch)
            || batch_number (copy) != batch_number (batch)
            || batch_timestamp (copy) != batch_timestamp (batch)
            || strcmp (batch_chain (copy), batch_chain (batch)) != 0
            || strcmp (batch_hash (copy), batch_hash (batch)) != 0)
            __builtin_trap ();
        for (size_t index = 0; index < batch_size (batch); index++) {
            const batch_record_t *a = batch_record (batch, index);
            const batch_record_t *b = batch_record (copy, index);
            if (strcmp (a->topic, b->topic) != 0 || strcmp (a->key, b->key) != 0
                || a->value_len != b->value_len || memcmp (a->value, b->value, a->value_len))
                __builtin_trap ();
        }
        batch_destroy (&copy);
        zframe_destroy (&again);
        batch_destroy (&batch);
    }
    zframe_destroy (&frame);
}

//  A decoded lease message tells its type and id as the frame holds them ([type, version,
//  id, ...]), a busy answer its counts; it prints, and re-encoded it decodes to a message
//  that encodes to the same bytes again.
static void
s_check_lease (const uint8_t *data, size_t size, zframe_t *frame, const lease_t *lease)
{
    if ((int) lease->type != msg_type (frame) || lease_id (frame) != lease->id)
        __builtin_trap ();
    if (lease->type == MSG_TYPE_LEASE_BUSY) {
        s_check_raw (data, size, 3, (uint64_t) lease->leased);
        s_check_raw (data, size, 4, (uint64_t) lease->cooling);
        s_check_raw (data, size, 5, (uint64_t) lease->parked);
    }
    s_check_print (lease_table (lease->type), lease);
    zframe_t *again = lease_encode (lease);
    lease_t copy;
    if (lease_decode (again, &copy) != 0 || copy.type != lease->type)
        __builtin_trap ();
    zframe_t *twice = lease_encode (&copy);
    if (!zframe_eq (again, twice))
        __builtin_trap ();
    zframe_destroy (&twice);
    zframe_destroy (&again);
    lease_clear (&copy);
}

//  The key pool's protocol: any lease message, decoded by its type.
static void
s_fuzz_lease (const uint8_t *data, size_t size)
{
    lease_t lease;
    zframe_t *frame = zframe_new (data, size);
    int rc = lease_decode (frame, &lease);
    s_check_rc (rc);
    if (rc == 0) {
        s_check_lease (data, size, frame, &lease);
        lease_clear (&lease);
    }
    zframe_destroy (&frame);
}

//  The control socket's protocol, which may face the network: a request and a reply,
//  each decoded, re-encoded to the same bytes, and printed.
static void
s_fuzz_control (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    control_request_t request;
    int rc = control_request_decode (frame, &request);
    s_check_rc (rc);
    if (rc == 0) {
        s_check_raw (data, size, 2, request.id);
        s_check_print (&control_request_table, &request);
        zframe_t *again = control_request_encode (&request);
        control_request_t copy;
        if (control_request_decode (again, &copy) != 0 || copy.id != request.id
            || !streq (copy.verb, request.verb))
            __builtin_trap ();
        zframe_destroy (&again);
    }
    control_reply_t reply;
    rc = control_reply_decode (frame, &reply);
    s_check_rc (rc);
    if (rc == 0) {
        s_check_print (&control_reply_table, &reply);
        zframe_t *again = control_reply_encode (&reply);
        control_reply_t copy;
        if (control_reply_decode (again, &copy) != 0 || copy.status != reply.status)
            __builtin_trap ();
        control_reply_clear (&copy);
        zframe_destroy (&again);
        control_reply_clear (&reply);
    }
    zframe_destroy (&frame);
}

//  The decoder's proxy lookups: both frames decode to NUL-terminated texts and round-trip.
static void
s_fuzz_proxy (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    proxy_query_t query;
    int rc = proxy_query_decode (frame, &query);
    s_check_rc (rc);
    if (rc == 0) {
        if (!memchr (query.address, 0, sizeof query.address))
            __builtin_trap ();
        s_check_print (&proxy_query_table, &query);
        zframe_t *again = proxy_query_encode (&query);
        proxy_query_t copy;
        if (proxy_query_decode (again, &copy) != 0 || copy.id != query.id
            || copy.number != query.number || strcmp (copy.address, query.address) != 0)
            __builtin_trap ();
        zframe_destroy (&again);
    }
    proxy_answer_t answer;
    rc = proxy_answer_decode (frame, &answer);
    s_check_rc (rc);
    if (rc == 0) {
        if (answer.status > RESULT_FAILED || !memchr (answer.implementation, 0, 43)
            || !memchr (answer.error, 0, sizeof answer.error))
            __builtin_trap ();
        s_check_print (&proxy_answer_table, &answer);
        zframe_t *again = proxy_answer_encode (&answer);
        proxy_answer_t copy;
        if (proxy_answer_decode (again, &copy) != 0 || copy.id != answer.id
            || copy.status != answer.status || copy.requests != answer.requests
            || strcmp (copy.implementation, answer.implementation) != 0
            || strcmp (copy.error, answer.error) != 0)
            __builtin_trap ();
        zframe_destroy (&again);
    }
    zframe_destroy (&frame);
}

//  The remote workers' link: any link message, decoded by its type, tells its type (READY
//  its slots as the frame holds them), prints, and re-encoded decodes to a message that
//  encodes to the same bytes again.
static void
s_fuzz_link (const uint8_t *data, size_t size)
{
    worker_link_t link;
    zframe_t *frame = zframe_new (data, size);
    int rc = worker_link_decode (frame, &link);
    s_check_rc (rc);
    if (rc == 0) {
        if ((int) link.type != msg_type (frame))
            __builtin_trap ();
        if (link.type == MSG_TYPE_LINK_READY)
            s_check_raw (data, size, 2, link.slots);
        s_check_print (worker_link_table (link.type), &link);
        zframe_t *again = worker_link_encode (&link);
        worker_link_t copy;
        if (worker_link_decode (again, &copy) != 0 || copy.type != link.type)
            __builtin_trap ();
        zframe_t *twice = worker_link_encode (&copy);
        if (!zframe_eq (again, twice))
            __builtin_trap ();
        zframe_destroy (&twice);
        zframe_destroy (&again);
        worker_link_clear (&copy);
        worker_link_clear (&link);
    }
    zframe_destroy (&frame);
}

//  The metric updates: a decoded batch re-encodes to the same rows, and the metrics
//  actor's registry takes or refuses each row's labels (which it validates) without harm.
static void
s_fuzz_metric (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    metric_batch_t *batch = (metric_batch_t *) 1;    //  must be set to NULL on failure
    int rc = metric_batch_decode (frame, &batch);
    s_check_rc (rc);
    if (rc != 0 && batch)
        __builtin_trap ();
    if (rc == 0) {
        s_check_print (&metric_table, batch);
        metric_batch_t *copy = metric_batch_new ();
        metrics_t *registry = metrics_new ();
        metrics_declare (registry, "evmtap_fuzz_total", METRICS_COUNTER, "Fuzz.", NULL, 0);
        for (size_t index = 0; index < metric_batch_size (batch); index++) {
            const metric_row_t *row = metric_batch_row (batch, index);
            if (row->op < METRIC_SET || row->op > METRIC_OBSERVE)
                __builtin_trap ();
            metric_batch_put (copy, METRIC_OBSERVE, row->name, row->labels, 0);
            metrics_add (registry, "evmtap_fuzz_total", row->labels, 1);
        }
        char *text = metrics_render (registry);
        free (text);
        metrics_destroy (&registry);
        if (metric_batch_size (copy) != metric_batch_size (batch))
            __builtin_trap ();
        metric_batch_destroy (&copy);
        metric_batch_destroy (&batch);
    }
    zframe_destroy (&frame);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    int type = msg_type (frame);
    zframe_destroy (&frame);
    if (type != -2 && (type < 0 || type > 255))
        __builtin_trap ();
    //  Every decoder sees every input: a frame of one type must be refused by the others.
    s_fuzz_job (data, size);
    s_fuzz_result (data, size);
    s_fuzz_block_body (data, size);
    s_fuzz_block_msg (data, size);
    s_fuzz_flush (data, size);
    s_fuzz_batch (data, size);
    s_fuzz_lease (data, size);
    s_fuzz_control (data, size);
    s_fuzz_proxy (data, size);
    s_fuzz_link (data, size);
    s_fuzz_metric (data, size);
    return 0;
}
