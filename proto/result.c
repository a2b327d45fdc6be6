/*  result: the field table of fetch results (layout in result.h). */
#include "evmtap.h"
#include "result.h"
#include "block.h"
#include "job.h"
#include "msg.h"

static const msg_field_t s_result_fields [] = {
    MSG_U64 (result_t, job_id), MSG_INT (result_t, kind, JOB_HEAD, JOB_FINALIZED),
    MSG_U64 (result_t, number), MSG_INT (result_t, status, RESULT_OK, RESULT_FAILED),
    MSG_U64 (result_t, value),  MSG_U64 (result_t, requests),
    MSG_TEXT (result_t, error), MSG_GROUP (result_t, header, block_header_table),
};

const msg_table_t result_table = MSG_TABLE ("result", MSG_TYPE_RESULT, result_t, s_result_fields);

zmsg_t *
result_encode (const result_t *self, const block_body_t *body)
{
    zmsg_t *msg = zmsg_new ();
    zframe_t *frame = msg_encode (&result_table, self);
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
    zframe_t *frame = zmsg_pop (msg);
    int rc = msg_decode (&result_table, frame, self);
    zframe_destroy (&frame);
    return rc;
}
