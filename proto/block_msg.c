/*  block_msg: the field tables of blocks in chain order and of end-of-stream markers
    (layout in block_msg.h). */
#include "evmtap.h"
#include "block_msg.h"
#include "block.h"
#include "msg.h"

static const msg_field_t s_block_fields [] = {
    MSG_TEXT (block_msg_t, chain),
    MSG_U64 (block_msg_t, chain_id),
    MSG_GROUP (block_msg_t, header, block_header_table),
};

const msg_table_t block_msg_table = MSG_TABLE ("block", MSG_TYPE_BLOCK, block_msg_t,
                                               s_block_fields);

static const msg_field_t s_flush_fields [] = {
    MSG_TEXT (flush_msg_t, chain),
};

const msg_table_t flush_msg_table = MSG_TABLE ("flush", MSG_TYPE_FLUSH, flush_msg_t,
                                               s_flush_fields);

void
block_msg_encode (const block_msg_t *self, zmsg_t *msg)
{
    zframe_t *frame = msg_encode (&block_msg_table, self);
    zmsg_prepend (msg, &frame);
}

int
block_msg_decode (zmsg_t *msg, block_msg_t *self)
{
    zframe_t *frame = zmsg_pop (msg);
    int rc = msg_decode (&block_msg_table, frame, self);
    zframe_destroy (&frame);
    return rc;
}

zframe_t *
flush_msg_encode (const char *chain)
{
    //  Cut as the head poller cuts the chain of its block messages, so that the broker
    //  finds the stream the marker ends.
    flush_msg_t flush;
    snprintf (flush.chain, sizeof (flush.chain), "%s", chain);
    return msg_encode (&flush_msg_table, &flush);
}

int
flush_msg_decode (zframe_t *frame, char *chain, size_t chain_size)
{
    flush_msg_t flush;
    int rc = msg_decode (&flush_msg_table, frame, &flush);
    if (rc == 0 && strlen (flush.chain) >= chain_size)
        rc = -2;
    snprintf (chain, chain_size, "%s", rc ? "" : flush.chain);
    return rc;
}
