/*  head_poller_test: the selftest of head_poller (head_poller.c), kept apart so each file
    stays small. It plays the dispatcher and the classifier on inproc sockets: catch-up
    and the head, retries, DRAIN, PAUSE, BEHIND, backpressure, the facade; reorgs (the walk back,
    the reorg batch ahead of the new branch, a block of an older branch fetched again, a
    reorg deeper than the window) and finalized delivery (the node's tag, the fallback to
    64 deep, --confirmations). */
#include "evmtap.h"
#include "head_poller.h"
#include "batch.h"
#include "block.h"
#include "block_msg.h"
#include "job.h"
#include "msg.h"
#include "result.h"

//  Plays the dispatcher: receives the next job, checks its kind and number.
static job_t
s_test_expect_job (zsock_t *jobs, int kind, uint64_t number)
{
    zframe_t *frame = zframe_recv (jobs);
    assert (frame);
    job_t job;
    assert (job_decode (frame, &job) == 0);
    zframe_destroy (&frame);
    assert (job.kind == (job_kind_t) kind);
    assert (job.number == number);
    return job;
}

//  A block of a branch: hash and parent as given (NULL: the plain chain's, 0x<number>).
static void
s_test_answer_as (zsock_t *jobs, const job_t *job, const char *hash, const char *parent)
{
    result_t result = {.job_id = job->id,
                       .kind = job->kind,
                       .number = job->number,
                       .status = RESULT_OK,
                       .requests = 1};
    result.header.number = job->number;
    snprintf (result.header.hash, sizeof (result.header.hash), "%s", hash);
    snprintf (result.header.parent_hash, sizeof (result.header.parent_hash), "%s", parent);
    result.header.timestamp = (uint64_t) (zclock_time () / 1000);
    block_body_t *body = block_body_new (0);
    body->meta_json = strdup ("{}");
    body->meta_len = 2;
    zmsg_t *msg = result_encode (&result, body);
    zmsg_send (&msg, jobs);
    block_body_destroy (&body);
}

static void
s_test_answer (zsock_t *jobs, const job_t *job, result_status_t status, uint64_t value)
{
    result_t result = {.job_id = job->id,
                       .kind = job->kind,
                       .number = job->number,
                       .status = status,
                       .value = value,
                       .requests = 1};
    block_body_t *body = NULL;
    if (job->kind == JOB_BLOCK && status == RESULT_OK) {
        result.header.number = job->number;
        snprintf (result.header.hash, sizeof (result.header.hash), "0x%04" PRIx64, job->number);
        snprintf (result.header.parent_hash, sizeof (result.header.parent_hash), "0x%04" PRIx64,
                  job->number - 1);
        result.header.timestamp = (uint64_t) (zclock_time () / 1000);
        body = block_body_new (0);
        body->meta_json = strdup ("{}");
        body->meta_len = 2;
    }
    zmsg_t *msg = result_encode (&result, body);
    zmsg_send (&msg, jobs);
    block_body_destroy (&body);
}

static uint64_t
s_test_expect_block (zsock_t *classifier)
{
    zmsg_t *msg = zmsg_recv (classifier);
    assert (msg);
    block_msg_t block;
    assert (block_msg_decode (msg, &block) == 0);
    assert (streq (block.chain, "test") && block.chain_id == 5);
    zmsg_destroy (&msg);
    return block.header.number;
}

//  Binds the test's ends of a head poller, the dispatcher's PAIR and the classifier's PULL
//  (classifier_hwm: its queue, 0 for the default), on endpoints of their own numbered run
//  (a PAIR takes one peer in its life), and points args at them (kept in endpoints).
static void
s_test_ends (int run, int classifier_hwm, char endpoints [2][64], head_poller_args_t *args,
             zsock_t **jobs, zsock_t **classifier)
{
    snprintf (endpoints [0], 64, ">inproc://head-poller-test-jobs-%d", run);
    snprintf (endpoints [1], 64, ">inproc://head-poller-test-classifier-%d", run);
    *jobs = zsock_new (ZMQ_PAIR);
    *classifier = zsock_new (ZMQ_PULL);
    assert (*jobs && *classifier);
    if (classifier_hwm)
        zsock_set_rcvhwm (*classifier, classifier_hwm);
    assert (zsock_bind (*jobs, "%s", endpoints [0] + 1) == 0);
    assert (zsock_bind (*classifier, "%s", endpoints [1] + 1) == 0);
    zsock_set_rcvtimeo (*jobs, 3000);
    zsock_set_rcvtimeo (*classifier, 3000);
    args->jobs = endpoints [0];
    args->classifier = endpoints [1];
}

//  Branch b of the reorg tests: it leaves the plain chain after block 10.
static void
s_test_branch_b (uint64_t number, char *hash, char *parent)
{
    snprintf (hash, BLOCK_HASH_SIZE, "0xb0%02" PRIx64, number);
    if (number == 11)
        snprintf (parent, BLOCK_HASH_SIZE, "0x%04x", 10);
    else
        snprintf (parent, BLOCK_HASH_SIZE, "0xb0%02" PRIx64, number - 1);
}

//  What the classifier received: a block (its number and hash), a batch, or FLUSH.
typedef struct {
    int type;                       //  MSG_TYPE_BLOCK, MSG_TYPE_BATCH or MSG_TYPE_FLUSH
    uint64_t number;                //  the block's, or the batch's
    char hash [BLOCK_HASH_SIZE];    //  the block's, or the batch's
    batch_t *batch;                 //  MSG_TYPE_BATCH
} s_test_out_t;

static s_test_out_t
s_test_receive (zsock_t *classifier)
{
    s_test_out_t out = {0};
    zmsg_t *msg = zmsg_recv (classifier);
    assert (msg);
    out.type = msg_type (zmsg_first (msg));
    if (out.type == MSG_TYPE_BATCH) {
        assert (batch_decode (zmsg_first (msg), &out.batch) == 0);
        out.number = batch_number (out.batch);
        snprintf (out.hash, sizeof (out.hash), "%s", batch_hash (out.batch));
    }
    else if (out.type != MSG_TYPE_FLUSH) {
        block_msg_t block;
        assert (block_msg_decode (msg, &block) == 0);
        out.number = block.header.number;
        snprintf (out.hash, sizeof (out.hash), "%s", block.header.hash);
    }
    zmsg_destroy (&msg);
    return out;
}

//  Plays the dispatcher for a node on branch b (answer_b) or the plain chain, until the
//  classifier has count messages (kept in outs).
static void
s_test_serve (zsock_t *jobs, zsock_t *classifier, bool answer_b, s_test_out_t *outs, size_t count)
{
    zpoller_t *poller = zpoller_new (jobs, classifier, NULL);
    size_t received = 0;
    while (received < count) {
        void *which = zpoller_wait (poller, 3000);
        assert (which);    //  never stuck
        if (which == classifier) {
            outs [received++] = s_test_receive (classifier);
            continue;
        }
        zframe_t *frame = zframe_recv (jobs);
        job_t job;
        assert (frame && job_decode (frame, &job) == 0);
        zframe_destroy (&frame);
        if (job.kind == JOB_HEAD)
            s_test_answer (jobs, &job, RESULT_OK, 100);
        else if (answer_b && job.number > 10) {
            char hash [BLOCK_HASH_SIZE], parent [BLOCK_HASH_SIZE];
            s_test_branch_b (job.number, hash, parent);
            s_test_answer_as (jobs, &job, hash, parent);
        }
        else
            s_test_answer (jobs, &job, RESULT_OK, 0);
    }
    zpoller_destroy (&poller);
}

//  Reorgs: a walk back to the common ancestor, a block from an older branch, a reorg
//  deeper than the window.
static void
s_test_reorgs (void)
{
    block_window_t *published = block_window_new (BLOCK_WINDOW_SIZE);
    block_window_push (published, 8, "0x0008");
    block_window_push (published, 9, "0x0009");
    head_poller_args_t args = {.chain = "test",
                               .chain_id = 5,
                               .start = 10,
                               .to = 14,
                               .fetch_mode = FETCH_BLOCK,
                               .window = 2,
                               .parent_hash = "0x0009",
                               .published = published,
                               .interval_ms = 200};
    char endpoints [2][64];
    zsock_t *jobs, *classifier;
    s_test_ends (7, 0, endpoints, &args, &jobs, &classifier);
    zactor_t *poller = zactor_new (head_poller_actor, &args);
    assert (poller);
    //  Blocks 10 and 11 of the plain chain go on; then the node is on branch b from 11.
    job_t job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, 100);
    for (uint64_t number = 10; number <= 11; number++) {
        job = s_test_expect_job (jobs, JOB_BLOCK, number);
        s_test_answer (jobs, &job, RESULT_OK, 0);
    }
    assert (s_test_expect_block (classifier) == 10 && s_test_expect_block (classifier) == 11);
    s_test_out_t outs [8];
    //  Block 12 of b does not follow 11: one reorg record (11 orphaned, depth 1) in a batch
    //  at the ancestor 10, before b's blocks 11..14, then FLUSH.
    s_test_serve (jobs, classifier, true, outs, 6);
    assert (outs [0].type == MSG_TYPE_BATCH && outs [0].number == 10);
    assert (streq (outs [0].hash, "0x000a") && batch_size (outs [0].batch) == 1);
    const batch_record_t *record = batch_record (outs [0].batch, 0);
    assert (streq (record->topic, "test.mined.blocks.reorged") && streq (record->key, "11"));
    assert (streq (record->value, "{\"chainId\":5,\"number\":11,\"orphanedHash\":\"0x000b\","
                                  "\"newHash\":\"0xb00b\",\"depth\":1}"));
    batch_destroy (&outs [0].batch);
    for (size_t index = 1; index < 5; index++) {
        char hash [BLOCK_HASH_SIZE], parent [BLOCK_HASH_SIZE];
        s_test_branch_b (10 + index, hash, parent);
        assert (outs [index].type != MSG_TYPE_BATCH && outs [index].number == 10 + index);
        assert (streq (outs [index].hash, hash));
    }
    assert (outs [5].type == MSG_TYPE_FLUSH);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  A block fetched from an older branch (its parent is not 11, which the node still
    //  has): no reorg, the block is fetched again.
    s_test_ends (8, 0, endpoints, &args, &jobs, &classifier);
    args.to = 12;
    poller = zactor_new (head_poller_actor, &args);
    job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, 100);
    for (uint64_t number = 10; number <= 11; number++) {
        job = s_test_expect_job (jobs, JOB_BLOCK, number);
        s_test_answer (jobs, &job, RESULT_OK, 0);
    }
    assert (s_test_expect_block (classifier) == 10 && s_test_expect_block (classifier) == 11);
    job = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_answer_as (jobs, &job, "0x0c0c", "0xdead");
    job = s_test_expect_job (jobs, JOB_BLOCK, 11);    //  the walk: 11 is the one published
    s_test_answer (jobs, &job, RESULT_OK, 0);
    s_test_serve (jobs, classifier, false, outs, 2);
    assert (outs [0].type != MSG_TYPE_BATCH && outs [0].number == 12);
    assert (streq (outs [0].hash, "0x000c") && outs [1].type == MSG_TYPE_FLUSH);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  Deeper than the window (it holds 8 and 9 only): FAILED, naming the block.
    s_test_ends (9, 0, endpoints, &args, &jobs, &classifier);
    poller = zactor_new (head_poller_actor, &args);
    job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, 100);
    job = s_test_expect_job (jobs, JOB_BLOCK, 10);
    s_test_answer_as (jobs, &job, "0xc00a", "0xc009");
    for (uint64_t number = 9; number >= 8; number--) {
        zframe_t *frame;
        do {    //  the catch-up job 11 may come first
            frame = zframe_recv (jobs);
            assert (frame && job_decode (frame, &job) == 0);
            zframe_destroy (&frame);
        } while (job.number == 11);
        assert (job.number == number);
        char hash [BLOCK_HASH_SIZE], parent [BLOCK_HASH_SIZE];
        snprintf (hash, sizeof (hash), "0xc%03" PRIx64, number);
        snprintf (parent, sizeof (parent), "0xc%03" PRIx64, number - 1);
        s_test_answer_as (jobs, &job, hash, parent);
    }
    zsock_set_rcvtimeo (zactor_sock (poller), 3000);
    char *verb = NULL, *chain = NULL, *reason = NULL;
    assert (zstr_recvx (poller, &verb, &chain, &reason, NULL) == 3);
    assert (streq (verb, "FAILED") && streq (chain, "test"));
    assert (strstr (reason, "deeper than the 2 published blocks")
            && strstr (reason, "block 8 was published"));
    zstr_free (&verb);
    zstr_free (&chain);
    zstr_free (&reason);
    zpoller_t *idle = zpoller_new (classifier, NULL);
    assert (zpoller_wait (idle, 300) == NULL);    //  nothing passed on
    zpoller_destroy (&idle);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);
    block_window_destroy (&published);
}

//  Finalized delivery: under the node's finalized block, 64 below the head without one,
//  or --confirmations below it; the limit asked again every finality_poll_ms.
static void
s_test_finalized (void)
{
    head_poller_args_t args = {.chain = "test",
                               .chain_id = 5,
                               .start = 10,
                               .to = 12,
                               .fetch_mode = FETCH_BLOCK,
                               .window = 2,
                               .interval_ms = 200,
                               .finalized = true,
                               .confirmations = HEAD_POLLER_UNSET,
                               .finality_poll_ms = 200};
    char endpoints [2][64];
    zsock_t *jobs, *classifier;
    s_test_ends (10, 0, endpoints, &args, &jobs, &classifier);
    zactor_t *poller = zactor_new (head_poller_actor, &args);
    job_t job = s_test_expect_job (jobs, JOB_FINALIZED, 0);
    s_test_answer (jobs, &job, RESULT_OK, 11);
    job_t ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    job_t eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    s_test_answer (jobs, &ten, RESULT_OK, 0);
    s_test_answer (jobs, &eleven, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10 && s_test_expect_block (classifier) == 11);
    //  Nothing past the limit until it is asked again (no follow poll).
    job = s_test_expect_job (jobs, JOB_FINALIZED, 0);
    s_test_answer (jobs, &job, RESULT_OK, 12);
    job = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_answer (jobs, &job, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 12);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  A node without the tag: 64 below its head.
    s_test_ends (11, 0, endpoints, &args, &jobs, &classifier);
    args.to = 10;
    poller = zactor_new (head_poller_actor, &args);
    job = s_test_expect_job (jobs, JOB_FINALIZED, 0);
    s_test_answer (jobs, &job, RESULT_NOT_FOUND, 0);
    job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, HEAD_POLLER_DEFAULT_CONFIRMATIONS + 10);
    job = s_test_expect_job (jobs, JOB_BLOCK, 10);
    s_test_answer (jobs, &job, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  --confirmations 3: block 10 once the head is 13.
    s_test_ends (12, 0, endpoints, &args, &jobs, &classifier);
    args.confirmations = 3;
    poller = zactor_new (head_poller_actor, &args);
    job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, 12);
    job = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &job, RESULT_OK, 13);
    job = s_test_expect_job (jobs, JOB_BLOCK, 10);
    s_test_answer (jobs, &job, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);
}

//  PAUSE (`evmtap ctl PAUSE`): the jobs in flight are answered and their blocks passed on,
//  and no new job goes out until RESUME, which goes on with the next block.
static void
s_test_pause (void)
{
    char endpoints [2][64];
    head_poller_args_t args = {.chain = "test",
                               .chain_id = 5,
                               .start = 10,
                               .to = HEAD_POLLER_UNSET,
                               .fetch_mode = FETCH_BLOCK,
                               .window = 2,
                               .parent_hash = "0x0009",
                               .interval_ms = 200};
    zsock_t *jobs, *classifier;
    s_test_ends (40, 0, endpoints, &args, &jobs, &classifier);
    zactor_t *poller = zactor_new (head_poller_actor, &args);
    job_t head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 100);
    job_t ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    job_t eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    zstr_send (poller, "PAUSE");
    //  Pipe commands are taken in order: once STATS is answered, PAUSE was taken.
    zstr_send (poller, "STATS");
    zmsg_t *stats = zmsg_recv (poller);
    assert (stats);
    zmsg_destroy (&stats);
    s_test_answer (jobs, &ten, RESULT_OK, 0);
    s_test_answer (jobs, &eleven, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10);
    assert (s_test_expect_block (classifier) == 11);
    zsock_set_rcvtimeo (jobs, 500);
    zframe_t *none = zframe_recv (jobs);
    assert (none == NULL);
    zsock_set_rcvtimeo (jobs, 3000);
    zstr_send (poller, "RESUME");
    job_t twelve = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_expect_job (jobs, JOB_BLOCK, 13);
    s_test_answer (jobs, &twelve, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 12);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);
}

void
head_poller_test (bool verbose)
{
    (void) verbose;
    head_poller_args_t args = {.chain = "test",
                               .chain_id = 5,
                               .start = 10,
                               .to = 14,
                               .fetch_mode = FETCH_BLOCK,
                               .window = 2,
                               .parent_hash = "0x0009",
                               .interval_ms = 200};
    char endpoints [2][64];
    zsock_t *jobs, *classifier;
    s_test_ends (1, 0, endpoints, &args, &jobs, &classifier);
    zactor_t *poller = zactor_new (head_poller_actor, &args);
    assert (poller);

    //  The head first; then two catch-up jobs (the window), answered out of order.
    job_t head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 12);
    job_t ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    job_t eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    s_test_answer (jobs, &eleven, RESULT_OK, 0);
    s_test_answer (jobs, &ten, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10);
    assert (s_test_expect_block (classifier) == 11);
    //  Block 12 is known but not served yet: asked again, never skipped.
    job_t twelve = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_answer (jobs, &twelve, RESULT_NOT_FOUND, 0);
    twelve = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_answer (jobs, &twelve, RESULT_FAILED, 0);
    twelve = s_test_expect_job (jobs, JOB_BLOCK, 12);
    s_test_answer (jobs, &twelve, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 12);
    //  Past the head: polls one block at a time.
    job_t thirteen = s_test_expect_job (jobs, JOB_BLOCK, 13);
    s_test_answer (jobs, &thirteen, RESULT_NOT_FOUND, 0);
    thirteen = s_test_expect_job (jobs, JOB_BLOCK, 13);
    s_test_answer (jobs, &thirteen, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 13);
    job_t fourteen = s_test_expect_job (jobs, JOB_BLOCK, 14);
    s_test_answer (jobs, &fourteen, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 14);
    //  --to reached: FLUSH downstream, DONE on the pipe, no more jobs.
    zframe_t *flush = zframe_recv (classifier);
    assert (flush && msg_type (flush) == MSG_TYPE_FLUSH);
    zframe_destroy (&flush);
    char *done = zstr_recv (poller);
    assert (streq (done, "DONE"));
    zstr_free (&done);
    char *chain = zstr_recv (poller);
    assert (streq (chain, "test"));
    zstr_free (&chain);
    zstr_send (poller, "STATS");
    zmsg_t *stats = zmsg_recv (poller);
    const char *figures [] = {"STATS", "5", "9", "15", "14", "1"};
    assert (stats && zmsg_size (stats) == 6);
    for (size_t index = 0; index < 6; index++) {
        char *figure = zmsg_popstr (stats);
        assert (streq (figure, figures [index]));
        zstr_free (&figure);
    }
    zmsg_destroy (&stats);
    zactor_destroy (&poller);

    //  DRAIN while a job is in flight: the block still goes on, then FLUSH and DRAINED.
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);
    s_test_ends (2, 0, endpoints, &args, &jobs, &classifier);
    args.to = HEAD_POLLER_UNSET;
    poller = zactor_new (head_poller_actor, &args);
    head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 100);
    ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    zstr_send (poller, "DRAIN");
    s_test_answer (jobs, &ten, RESULT_OK, 0);
    s_test_answer (jobs, &eleven, RESULT_NOT_FOUND, 0);
    assert (s_test_expect_block (classifier) == 10);
    flush = zframe_recv (classifier);
    assert (flush && msg_type (flush) == MSG_TYPE_FLUSH);
    zframe_destroy (&flush);
    char *drained = zstr_recv (poller);
    assert (streq (drained, "DRAINED"));
    zstr_free (&drained);
    chain = zstr_recv (poller);
    assert (streq (chain, "test"));
    zstr_free (&chain);
    char *state = zstr_recv (poller);
    assert (streq (state, "partial"));
    zstr_free (&state);
    zactor_destroy (&poller);

    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  Started at the head (no start), which is past --to: BEHIND, and no block job.
    s_test_ends (6, 0, endpoints, &args, &jobs, &classifier);
    head_poller_args_t behind_args = args;
    behind_args.start = HEAD_POLLER_UNSET;
    behind_args.to = 30;
    poller = zactor_new (head_poller_actor, &behind_args);
    head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 402);
    zsock_set_rcvtimeo (zactor_sock (poller), 3000);
    char *behind = zstr_recv (poller);
    assert (behind && streq (behind, "BEHIND"));
    zstr_free (&behind);
    chain = zstr_recv (poller);
    assert (streq (chain, "test"));
    zstr_free (&chain);
    char *at = zstr_recv (poller);
    assert (streq (at, "402"));
    zstr_free (&at);
    zpoller_t *idle = zpoller_new (jobs, NULL);
    assert (zpoller_wait (idle, 300) == NULL);
    zpoller_destroy (&idle);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  A block that failed behind blocks already fetched is asked again even when those
    //  fill the window (they wait for it: holding it back would stop everything).
    s_test_ends (4, 0, endpoints, &args, &jobs, &classifier);
    poller = zactor_new (head_poller_actor, &args);
    head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 1000);
    ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    s_test_answer (jobs, &eleven, RESULT_OK, 0);
    s_test_answer (jobs, &ten, RESULT_NOT_FOUND, 0);
    bool ten_done = false;
    for (int answers = 0; answers < 2 * HEAD_POLLER_HELD_WINDOWS + 4 && !ten_done; answers++) {
        zframe_t *frame = zframe_recv (jobs);
        assert (frame);    //  never starved
        job_t job;
        assert (job_decode (frame, &job) == 0);
        zframe_destroy (&frame);
        s_test_answer (jobs, &job, RESULT_OK, 0);
        ten_done = job.number == 10;
    }
    assert (ten_done);
    assert (s_test_expect_block (classifier) == 10);
    assert (s_test_expect_block (classifier) == 11);
    assert (s_test_expect_block (classifier) == 12);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  Backpressure: a classifier that reads nothing stops the fetching once its queue and
    //  the window are full; reading again lets it go on.
    s_test_ends (3, 1, endpoints, &args, &jobs, &classifier);
    zsock_set_rcvtimeo (jobs, 300);
    poller = zactor_new (head_poller_actor, &args);
    head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 1000);
    uint64_t answered = 0;
    while (answered < 100) {
        zframe_t *frame = zframe_recv (jobs);
        if (!frame)
            break;    //  no job for 300 ms: fetching paused
        job_t job;
        assert (job_decode (frame, &job) == 0 && job.number == 10 + answered);
        zframe_destroy (&frame);
        s_test_answer (jobs, &job, RESULT_OK, 0);
        answered++;
    }
    //  About the queues (8 + 1), the held blocks (4 windows) and the window fill up.
    assert (answered >= 9 && answered <= 9 + HEAD_POLLER_HELD_WINDOWS * 2 + 2 + 1);
    for (uint64_t index = 0; index < answered; index++)
        assert (s_test_expect_block (classifier) == 10 + index);
    zsock_set_rcvtimeo (jobs, 3000);
    s_test_expect_job (jobs, JOB_BLOCK, 10 + answered);
    zactor_destroy (&poller);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    //  The facade: figures as a struct, the drain, and how the stream ended, the report
    //  taken in passing while it waits for the figures.
    s_test_ends (5, 0, endpoints, &args, &jobs, &classifier);
    head_poller_t *facade = head_poller_new (&args);
    assert (facade && head_poller_state (facade) == HEAD_POLLER_RUNNING);
    head = s_test_expect_job (jobs, JOB_HEAD, 0);
    s_test_answer (jobs, &head, RESULT_OK, 100);
    ten = s_test_expect_job (jobs, JOB_BLOCK, 10);
    eleven = s_test_expect_job (jobs, JOB_BLOCK, 11);
    s_test_answer (jobs, &ten, RESULT_OK, 0);
    assert (s_test_expect_block (classifier) == 10);
    job_t twelve_too = s_test_expect_job (jobs, JOB_BLOCK, 12);
    head_poller_stats_t figures_now;
    assert (head_poller_stats (facade, &figures_now) == 0);
    assert (figures_now.blocks == 1 && figures_now.requests == 2 && figures_now.next == 11
            && figures_now.head == 100 && figures_now.misses == 0);
    head_poller_drain (facade);
    s_test_answer (jobs, &eleven, RESULT_NOT_FOUND, 0);
    s_test_answer (jobs, &twelve_too, RESULT_OK, 0);
    flush = zframe_recv (classifier);
    assert (flush && msg_type (flush) == MSG_TYPE_FLUSH);
    zframe_destroy (&flush);
    //  DRAINED partial is on the pipe before the answer to STATS.
    assert (head_poller_stats (facade, &figures_now) == 0);
    assert (figures_now.blocks == 1 && figures_now.requests == 4 && figures_now.next == 11);
    assert (head_poller_state (facade) == HEAD_POLLER_PARTIAL);
    //  Drained again once ended: complete, read from the socket when it is readable.
    head_poller_drain (facade);
    zpoller_t *waiter = zpoller_new (head_poller_socket (facade), NULL);
    assert (zpoller_wait (waiter, 3000) == head_poller_socket (facade));
    zpoller_destroy (&waiter);
    assert (head_poller_recv (facade) == HEAD_POLLER_COMPLETE);
    head_poller_destroy (&facade);
    head_poller_destroy (&facade);
    assert (facade == NULL);
    zsock_destroy (&jobs);
    zsock_destroy (&classifier);

    s_test_reorgs ();
    s_test_finalized ();
    s_test_pause ();
}
