/*  block_msg: blocks in chain order and end-of-stream markers (layout in block_msg.h). */
#include "evmtap.h"
#include "block_msg.h"
#include "block.h"
#include "msg.h"

void
block_msg_encode (const block_msg_t *self, zmsg_t *msg)
{
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_BLOCK, 7);
    msg_write_str (&writer, self->chain);
    msg_write_u64 (&writer, self->chain_id);
    block_header_write (&writer, &self->header);
    zframe_t *frame = msg_writer_frame (&writer);
    zmsg_prepend (msg, &frame);
}

int
block_msg_decode (zmsg_t *msg, block_msg_t *self)
{
    memset (self, 0, sizeof (*self));
    zframe_t *frame = zmsg_pop (msg);
    msg_reader_t reader;
    if (msg_reader_init (&reader, frame, MSG_TYPE_BLOCK) == 0) {
        msg_read_str (&reader, self->chain, sizeof (self->chain));
        self->chain_id = msg_read_u64 (&reader);
        block_header_read (&reader, &self->header);
    }
    int rc = msg_reader_status (&reader);
    msg_reader_done (&reader);
    zframe_destroy (&frame);
    return rc;
}

zframe_t *
flush_msg_encode (const char *chain)
{
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_FLUSH, 1);
    msg_write_str (&writer, chain);
    return msg_writer_frame (&writer);
}

int
flush_msg_decode (zframe_t *frame, char *chain, size_t chain_size)
{
    msg_reader_t reader;
    if (msg_reader_init (&reader, frame, MSG_TYPE_FLUSH) == 0)
        msg_read_str (&reader, chain, chain_size);
    int rc = msg_reader_status (&reader);
    msg_reader_done (&reader);
    return rc;
}
