/*  proxy_query: the field tables of proxy lookups (layout in proxy_query.h). */
#include "evmtap.h"
#include "proxy_query.h"

static const msg_field_t s_query_fields [] = {
    MSG_U64 (proxy_query_t, id),
    MSG_U64 (proxy_query_t, number),
    MSG_TEXT (proxy_query_t, address),
};

static const msg_field_t s_answer_fields [] = {
    MSG_U64 (proxy_answer_t, id),
    MSG_INT (proxy_answer_t, status, RESULT_OK, RESULT_FAILED),
    MSG_TEXT_OR_NIL (proxy_answer_t, implementation),
    MSG_U64 (proxy_answer_t, requests),
    MSG_TEXT_OR_NIL (proxy_answer_t, error),
};

const msg_table_t proxy_query_table = MSG_TABLE ("proxy_query", MSG_TYPE_PROXY_QUERY, proxy_query_t,
                                                 s_query_fields);
const msg_table_t proxy_answer_table = MSG_TABLE ("proxy_answer", MSG_TYPE_PROXY_ANSWER,
                                                  proxy_answer_t, s_answer_fields);

zframe_t *
proxy_query_encode (const proxy_query_t *self)
{
    return msg_encode (&proxy_query_table, self);
}

int
proxy_query_decode (zframe_t *frame, proxy_query_t *self)
{
    return msg_decode (&proxy_query_table, frame, self);
}

zframe_t *
proxy_answer_encode (const proxy_answer_t *self)
{
    return msg_encode (&proxy_answer_table, self);
}

int
proxy_answer_decode (zframe_t *frame, proxy_answer_t *self)
{
    return msg_decode (&proxy_answer_table, frame, self);
}
