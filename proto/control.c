/*  control: the field tables of the control socket's request and reply (control.h). */
#include "evmtap.h"
#include "control.h"

static const msg_field_t s_request_fields [] = {
    MSG_U64 (control_request_t, id),    MSG_TEXT (control_request_t, verb),
    MSG_U64 (control_request_t, count), MSG_U64 (control_request_t, from),
    MSG_U64 (control_request_t, to),
};

static const msg_field_t s_reply_fields [] = {
    MSG_U64 (control_reply_t, id),
    MSG_INT (control_reply_t, status, CONTROL_OK, CONTROL_REFUSED),
    MSG_TEXT (control_reply_t, error),
    MSG_JSON (control_reply_t, answer, answer_size),
};

const msg_table_t control_request_table = MSG_TABLE ("control_request", MSG_TYPE_CONTROL_REQUEST,
                                                     control_request_t, s_request_fields);
const msg_table_t control_reply_table = MSG_TABLE ("control_reply", MSG_TYPE_CONTROL_REPLY,
                                                   control_reply_t, s_reply_fields);

zframe_t *
control_request_encode (const control_request_t *self)
{
    return msg_encode (&control_request_table, self);
}

int
control_request_decode (zframe_t *frame, control_request_t *self)
{
    return msg_decode (&control_request_table, frame, self);
}

zframe_t *
control_reply_encode (const control_reply_t *self)
{
    return msg_encode (&control_reply_table, self);
}

int
control_reply_decode (zframe_t *frame, control_reply_t *self)
{
    return msg_decode (&control_reply_table, frame, self);
}

void
control_reply_clear (control_reply_t *self)
{
    msg_clear (&control_reply_table, self);
}
