/*  job: encoding of fetch jobs (layout in job.h). */
#include "evmtap.h"
#include "job.h"
#include "msg.h"

zframe_t *
job_encode (const job_t *self)
{
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_JOB, 6);
    msg_write_u64 (&writer, self->id);
    msg_write_u64 (&writer, (uint64_t) self->kind);
    msg_write_u64 (&writer, self->number);
    msg_write_u64 (&writer, self->chain_id);
    msg_write_u64 (&writer, (uint64_t) self->fetch_mode);
    msg_write_bool (&writer, self->receipts);
    return msg_writer_frame (&writer);
}

int
job_decode (zframe_t *frame, job_t *self)
{
    msg_reader_t reader;
    memset (self, 0, sizeof (*self));
    if (msg_reader_init (&reader, frame, MSG_TYPE_JOB) == 0) {
        self->id = msg_read_u64 (&reader);
        uint64_t kind = msg_read_u64 (&reader);
        self->number = msg_read_u64 (&reader);
        self->chain_id = msg_read_u64 (&reader);
        uint64_t fetch_mode = msg_read_u64 (&reader);
        self->receipts = msg_read_bool (&reader);
        //  Ranges are checked before the narrowing casts.
        if (kind < JOB_HEAD || kind > JOB_BLOCK || fetch_mode > FETCH_HASHES)
            reader.failed = true;
        self->kind = (job_kind_t) kind;
        self->fetch_mode = (int) fetch_mode;
    }
    int rc = msg_reader_status (&reader);
    msg_reader_done (&reader);
    return rc;
}
