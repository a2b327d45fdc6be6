/*  worker_link: the field tables of the remote workers' link (see worker_link.h). */
#include "evmtap.h"
#include "worker_link.h"
#include <limits.h>
#include "job.h"
#include "msg.h"

//  Longest key name, URL template or id a link message may carry.
#define S_TEXT_MAX 2048

static const msg_field_t s_item_fields [] = {
    MSG_NAME (worker_link_item_t, text, S_TEXT_MAX),
};

static const msg_table_t s_item_table = MSG_TABLE ("item", 0, worker_link_item_t, s_item_fields);

static const msg_field_t s_join_fields [] = {
    MSG_NAME (worker_link_t, worker_id, S_TEXT_MAX),
    MSG_NAME (worker_link_t, version, 64),
    MSG_U32 (worker_link_t, workers),
    MSG_U32 (worker_link_t, fetch_modes),
    MSG_BOOL (worker_link_t, redis),
};

static const msg_field_t s_welcome_fields [] = {
    MSG_NAME (worker_link_t, chain, 64),
    MSG_U64 (worker_link_t, chain_id),
    MSG_INT (worker_link_t, fetch_mode, FETCH_BLOCK, FETCH_HASHES),
    MSG_BOOL (worker_link_t, receipts),
    MSG_INT (worker_link_t, verify, 0, 2),
    MSG_ITEMS (worker_link_t, rpc, rpc_count, s_item_table),
    MSG_ITEMS (worker_link_t, keys, key_count, s_item_table),
    MSG_U64 (worker_link_t, key_rps_milli),
    MSG_U64 (worker_link_t, key_daily),
    MSG_NAME (worker_link_t, key_costs, S_TEXT_MAX),
    MSG_I64 (worker_link_t, rotate_ms),
    MSG_U64 (worker_link_t, rotate_requests),
    MSG_I64 (worker_link_t, timeout_ms),
    MSG_I64 (worker_link_t, heartbeat_ms),
};

static const msg_field_t s_ready_fields [] = {
    MSG_U32 (worker_link_t, slots),
};

static const msg_field_t s_heartbeat_fields [] = {
    MSG_U64 (worker_link_t, seq),
};

static const msg_field_t s_leave_fields [] = {
    MSG_TEXT (worker_link_t, reason),
};

//  By type, from MSG_TYPE_LINK_JOIN on.
static const msg_table_t s_tables [] = {
    MSG_TABLE ("link_join", MSG_TYPE_LINK_JOIN, worker_link_t, s_join_fields),
    MSG_TABLE ("link_welcome", MSG_TYPE_LINK_WELCOME, worker_link_t, s_welcome_fields),
    MSG_TABLE ("link_ready", MSG_TYPE_LINK_READY, worker_link_t, s_ready_fields),
    MSG_TABLE ("link_heartbeat", MSG_TYPE_LINK_HEARTBEAT, worker_link_t, s_heartbeat_fields),
    MSG_TABLE ("link_leave", MSG_TYPE_LINK_LEAVE, worker_link_t, s_leave_fields),
};

static const msg_family_t s_family = {s_tables, sizeof (s_tables) / sizeof (s_tables [0]),
                                      MSG_TYPE_LINK_JOIN};

const msg_table_t *
worker_link_table (msg_type_t type)
{
    return msg_family_table (&s_family, type);
}

zframe_t *
worker_link_encode (const worker_link_t *self)
{
    const msg_table_t *table = worker_link_table (self->type);
    assert (table);
    return msg_encode (table, self);
}

int
worker_link_decode (zframe_t *frame, worker_link_t *self)
{
    return msg_family_decode (&s_family, frame, self, &self->type);
}

void
worker_link_clear (worker_link_t *self)
{
    const msg_table_t *table = worker_link_table (self->type);
    if (table)
        msg_clear (table, self);
}

void
worker_link_test (bool verbose)
{
    for (int type = MSG_TYPE_LINK_JOIN; type <= MSG_TYPE_LINK_LEAVE; type++)
        msg_table_test (worker_link_table ((msg_type_t) type), verbose);

    worker_link_item_t rpc [] = {{"http://127.0.0.1:8545/{key}"}};
    worker_link_item_t keys [] = {{"api_key_1"}, {"api_key_2"}};
    worker_link_t welcome = {.type = MSG_TYPE_LINK_WELCOME,
                             .chain = "anvil",
                             .chain_id = 31337,
                             .fetch_mode = FETCH_HASHES,
                             .receipts = true,
                             .verify = 2,
                             .rpc = rpc,
                             .rpc_count = 1,
                             .keys = keys,
                             .key_count = 2,
                             .key_rps_milli = 2500,
                             .key_costs = "requests",
                             .rotate_ms = 300000,
                             .timeout_ms = 10000,
                             .heartbeat_ms = 1000};
    zframe_t *frame = worker_link_encode (&welcome);
    worker_link_t copy;
    assert (worker_link_decode (frame, &copy) == 0);
    assert (copy.type == MSG_TYPE_LINK_WELCOME && streq (copy.chain, "anvil"));
    assert (copy.chain_id == 31337 && copy.fetch_mode == FETCH_HASHES && copy.receipts
            && copy.verify == 2);
    assert (copy.rpc_count == 1 && streq (copy.rpc [0].text, rpc [0].text));
    assert (copy.key_count == 2 && streq (copy.keys [1].text, "api_key_2"));
    assert (copy.key_rps_milli == 2500 && copy.heartbeat_ms == 1000);
    worker_link_clear (&copy);
    zframe_destroy (&frame);

    //  A job is no link message; a lease message neither: both refused by type.
    job_t job = {.id = 5, .kind = JOB_HEAD};
    frame = job_encode (&job);
    assert (worker_link_decode (frame, &copy) == -2);
    zframe_destroy (&frame);
    assert (worker_link_table (MSG_TYPE_LEASE_REFUND) == NULL);
    assert (worker_link_table ((msg_type_t) (MSG_TYPE_LINK_LEAVE + 1)) == NULL);
    //  A READY that claims more slots than 32 bits hold is malformed.
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_LINK_READY, 1);
    msg_write_u64 (&writer, (uint64_t) UINT32_MAX + 1);
    frame = msg_writer_frame (&writer);
    assert (worker_link_decode (frame, &copy) == -2);
    zframe_destroy (&frame);
}
