/*  result: encoding of fetch results (layout in result.h). */
#include "evmtap.h"
#include "result.h"
#include "block.h"
#include "job.h"
#include "msg.h"

zmsg_t *
result_encode (const result_t *self, const block_body_t *body)
{
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_RESULT, 12);
    msg_write_u64 (&writer, self->job_id);
    msg_write_u64 (&writer, (uint64_t) self->kind);
    msg_write_u64 (&writer, self->number);
    msg_write_u64 (&writer, (uint64_t) self->status);
    msg_write_u64 (&writer, self->value);
    msg_write_u64 (&writer, self->requests);
    msg_write_str (&writer, self->error);
    block_header_write (&writer, &self->header);
    zmsg_t *msg = zmsg_new ();
    zframe_t *frame = msg_writer_frame (&writer);
    zmsg_append (msg, &frame);
    if (body) {
        frame = block_body_encode (body);
        zmsg_append (msg, &frame);
    }
    return msg;
}

int
result_decode (zmsg_t *msg, result_t *self)
{
    memset (self, 0, sizeof (*self));
    zframe_t *frame = zmsg_pop (msg);
    msg_reader_t reader;
    if (msg_reader_init (&reader, frame, MSG_TYPE_RESULT) == 0) {
        self->job_id = msg_read_u64 (&reader);
        uint64_t kind = msg_read_u64 (&reader);
        self->number = msg_read_u64 (&reader);
        uint64_t status = msg_read_u64 (&reader);
        //  Ranges are checked before the narrowing casts.
        if (kind < JOB_HEAD || kind > JOB_BLOCK || status > RESULT_FAILED)
            reader.failed = true;
        self->kind = (int) kind;
        self->status = (result_status_t) status;
        self->value = msg_read_u64 (&reader);
        self->requests = msg_read_u64 (&reader);
        msg_read_str (&reader, self->error, sizeof (self->error));
        block_header_read (&reader, &self->header);
    }
    int rc = msg_reader_status (&reader);
    msg_reader_done (&reader);
    zframe_destroy (&frame);
    return rc;
}
