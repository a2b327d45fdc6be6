/*  result: what a fetch worker answers to a job, through the dispatcher to the head poller.
    Frame 1: [MSG_TYPE_RESULT, 1, job_id, kind, number, status, value, requests, error,
    header(5 fields)] (result_table); frame 2, only when a block was found: its body
    (block.h). */
#ifndef RESULT_H_INCLUDED
#define RESULT_H_INCLUDED

#include "msg.h"
#include "block.h"

typedef enum {
    RESULT_OK = 0,           //  done: value or header+body hold the answer
    RESULT_NOT_FOUND = 1,    //  the node has no such block yet (result null)
    RESULT_FAILED = 2,       //  every retry failed; error says why (provider named, no key)
} result_status_t;

typedef struct {
    uint64_t job_id;           //  the job answered
    int kind;                  //  job_kind_t of the job answered
    uint64_t number;           //  the job's block number
    result_status_t status;    //  how it went
    uint64_t value;            //  JOB_HEAD: the head number; JOB_FINALIZED: the finalized one
    uint64_t requests;         //  JSON-RPC calls this job cost (a batch of k counts k)
    //  RESULT_FAILED: why; RESULT_OK: why the block could only be partly proven, which the
    //  head poller says once per chain (the workers are many), or empty.
    char error [200];
    block_header_t header;    //  JOB_BLOCK and RESULT_OK only
} result_t;

//  The result's fields in wire order (the first frame).
extern const msg_table_t result_table;

//  Encodes the result and, when body is not NULL, its body as a second frame.
zmsg_t *result_encode (const result_t *self, const block_body_t *body);

//  Decodes the first frame into self; the body frame, if any, is left in msg for the
//  receiver to pass on untouched (it is decoded only where it is used).
int result_decode (zmsg_t *msg, result_t *self);

#endif
