/*  job: the field table of fetch jobs (layout in job.h). */
#include "evmtap.h"
#include "job.h"
#include "msg.h"

static const msg_field_t s_job_fields [] = {
    MSG_U64 (job_t, id),
    MSG_INT (job_t, kind, JOB_HEAD, JOB_FINALIZED),
    MSG_U64 (job_t, number),
    MSG_U64 (job_t, chain_id),
    MSG_INT (job_t, fetch_mode, FETCH_BLOCK, FETCH_HASHES),
    MSG_BOOL (job_t, receipts),
};

const msg_table_t job_table = MSG_TABLE ("job", MSG_TYPE_JOB, job_t, s_job_fields);

zframe_t *
job_encode (const job_t *self)
{
    return msg_encode (&job_table, self);
}

int
job_decode (zframe_t *frame, job_t *self)
{
    return msg_decode (&job_table, frame, self);
}
