/*  job: a unit of fetching, from a head poller through the dispatcher to one fetch worker.
    Frame: [MSG_TYPE_JOB, 1, id, kind, number, chain_id, fetch_mode, receipts] (job_table). */
#ifndef JOB_H_INCLUDED
#define JOB_H_INCLUDED

#include "msg.h"

//  How a block job fetches its transactions (--fetch).
typedef enum { FETCH_BLOCK = 0, FETCH_HASHES = 1 } fetch_mode_t;

typedef enum {
    JOB_HEAD = 2,         //  eth_blockNumber
    JOB_BLOCK = 3,        //  block `number` with its transactions, by fetch_mode
    JOB_FINALIZED = 4,    //  the number of the node's `finalized` block (--delivery finalized)
} job_kind_t;

typedef struct {
    uint64_t id;          //  unique per head poller, echoed in the result
    job_kind_t kind;      //  what to fetch
    uint64_t number;      //  JOB_BLOCK: the block number
    uint64_t chain_id;    //  stamped on every record (legacy txs have none of their own)
    int fetch_mode;       //  FETCH_BLOCK or FETCH_HASHES
    bool receipts;        //  JOB_BLOCK: also the receipts (fields joined, logs carried)
} job_t;

//  The job's fields in wire order.
extern const msg_table_t job_table;

zframe_t *job_encode (const job_t *self);
int job_decode (zframe_t *frame, job_t *self);

#endif
