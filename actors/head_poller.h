/*  head_poller: the arguments of a chain's head poller actor (see head_poller.c). */
#ifndef HEAD_POLLER_H_INCLUDED
#define HEAD_POLLER_H_INCLUDED

#include "evmtap.h"

//  start: the head; to: follow for ever.
#define HEAD_POLLER_UNSET (-1)

typedef struct {
    const char *chain;          //  topic prefix
    uint64_t chain_id;
    const char *jobs;           //  the dispatcher's job endpoint (PAIR, connect)
    const char *classifier;     //  the classifier's endpoint (PUSH, connect)
    int64_t start;              //  first block to publish, HEAD_POLLER_UNSET: the head
    int64_t to;                 //  last block, HEAD_POLLER_UNSET: follow for ever
    int fetch_mode;             //  FETCH_BLOCK or FETCH_HASHES
    bool receipts;              //  blocks with their receipts (--receipts)
    int window;                 //  jobs in flight at most while catching up
    const char *parent_hash;    //  hash of block start-1 when known (checkpoint), or ""
    int64_t interval_ms;        //  first guess of the block interval, 0: 12 s
} head_poller_args_t;

void head_poller_actor (zsock_t *pipe, void *args);
void head_poller_test (bool verbose);

#endif
