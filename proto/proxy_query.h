/*  proxy_query: the decoder asks a fetch worker which implementation a proxy contract
    delegates to, and the worker answers (src/fetch/proxy_probe.h: EIP-1967, its beacon,
    EIP-1822, EIP-1167). Frames: [MSG_TYPE_PROXY_QUERY, 1, id, number, address]
    (proxy_query_table) and [MSG_TYPE_PROXY_ANSWER, 1, id, status, implementation,
    requests, error] (proxy_answer_table). */
#ifndef PROXY_QUERY_H_INCLUDED
#define PROXY_QUERY_H_INCLUDED

#include "msg.h"
#include "result.h"

typedef struct {
    uint64_t id;          //  echoed in the answer
    uint64_t number;      //  the block whose state is read
    char address [43];    //  the contract, 0x and 40 lowercase hex digits
} proxy_query_t;

typedef struct {
    uint64_t id;                 //  the query answered
    result_status_t status;      //  RESULT_OK or RESULT_FAILED
    char implementation [43];    //  RESULT_OK: the implementation, "" when it is no proxy
    uint64_t requests;           //  JSON-RPC calls the lookup cost
    char error [200];            //  RESULT_FAILED: why (provider named, no key)
} proxy_answer_t;

extern const msg_table_t proxy_query_table;
extern const msg_table_t proxy_answer_table;

zframe_t *proxy_query_encode (const proxy_query_t *self);
int proxy_query_decode (zframe_t *frame, proxy_query_t *self);
zframe_t *proxy_answer_encode (const proxy_answer_t *self);
int proxy_answer_decode (zframe_t *frame, proxy_answer_t *self);

#endif
