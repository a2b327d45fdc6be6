/*  block: a normalized block's header and body, and their field tables (layout in block.h). */
#include "evmtap.h"
#include "block.h"
#include "msg.h"

static const msg_field_t s_header_fields [] = {
    MSG_U64 (block_header_t, number),       MSG_TEXT (block_header_t, hash),
    MSG_TEXT (block_header_t, parent_hash), MSG_U64 (block_header_t, timestamp),
    MSG_U32 (block_header_t, tx_count),
};

const msg_table_t block_header_table = MSG_TABLE ("header", 0, block_header_t, s_header_fields);

static const msg_field_t s_tx_fields [] = {
    MSG_TEXT (block_tx_t, hash),           MSG_TEXT (block_tx_t, from),
    MSG_TEXT_OR_NIL (block_tx_t, to),      MSG_BOOL (block_tx_t, input_empty),
    MSG_JSON (block_tx_t, json, json_len),
};

static const msg_table_t s_tx_table = MSG_TABLE ("tx", 0, block_tx_t, s_tx_fields);

static const msg_field_t s_log_fields [] = {
    MSG_U32 (block_log_t, tx_index),
    MSG_U64 (block_log_t, log_index),
    MSG_JSON (block_log_t, json, json_len),
};

static const msg_table_t s_log_table = MSG_TABLE ("log", 0, block_log_t, s_log_fields);

static const msg_field_t s_body_fields [] = {
    MSG_JSON (block_body_t, meta_json, meta_len),
    MSG_ROWS (block_body_t, txs, tx_count, s_tx_table),
    MSG_ROWS (block_body_t, logs, log_count, s_log_table),
};

const msg_table_t block_body_table = MSG_TABLE ("block_body", MSG_TYPE_BLOCK_BODY, block_body_t,
                                                s_body_fields);

block_body_t *
block_body_new (size_t tx_count)
{
    block_body_t *self = (block_body_t *) zmalloc (sizeof (block_body_t));
    assert (self);
    if (tx_count) {
        self->txs = (block_tx_t *) calloc (tx_count, sizeof (block_tx_t));
        assert (self->txs);
    }
    self->tx_count = tx_count;
    return self;
}

void
block_body_destroy (block_body_t **self_p)
{
    assert (self_p);
    block_body_t *self = *self_p;
    if (!self)
        return;
    msg_clear (&block_body_table, self);
    free (self);
    *self_p = NULL;
}

void
block_body_set_logs (block_body_t *self, size_t count)
{
    for (size_t index = 0; index < self->log_count; index++)
        free (self->logs [index].json);
    free (self->logs);
    self->logs = count ? (block_log_t *) calloc (count, sizeof (block_log_t)) : NULL;
    assert (self->logs || !count);
    self->log_count = count;
}

zframe_t *
block_body_encode (const block_body_t *self)
{
    return msg_encode (&block_body_table, self);
}

int
block_body_decode (zframe_t *frame, block_body_t **self_p)
{
    *self_p = NULL;
    block_body_t *self = block_body_new (0);
    int rc = msg_decode (&block_body_table, frame, self);
    //  A log names one of this block's transactions.
    for (size_t index = 0; rc == 0 && index < self->log_count; index++)
        if (self->logs [index].tx_index >= self->tx_count)
            rc = -2;
    if (rc == 0)
        *self_p = self;
    else
        block_body_destroy (&self);
    return rc;
}
