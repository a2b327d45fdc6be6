/*  head_poller: a chain's head poller actor (see head_poller.c) and its facade, through
    which main drains it, asks for its figures and learns how its stream ended. */
#ifndef HEAD_POLLER_H_INCLUDED
#define HEAD_POLLER_H_INCLUDED

#include "evmtap.h"
#include "block_window.h"

//  start: the head; to: follow for ever.
#define HEAD_POLLER_UNSET (-1)
//  Fetched blocks held back (out of order, or by a full queue) at most, in windows.
#define HEAD_POLLER_HELD_WINDOWS 4

typedef struct {
    const char *chain;    //  topic prefix
    uint64_t chain_id;
    const char *jobs;             //  the dispatcher's job endpoint (PAIR, connect)
    const char *classifier;       //  the classifier's endpoint (PUSH, connect)
    int64_t start;                //  first block to publish, HEAD_POLLER_UNSET: the head
    int64_t to;                   //  last block, HEAD_POLLER_UNSET: follow for ever
    int fetch_mode;               //  FETCH_BLOCK or FETCH_HASHES
    bool receipts;                //  blocks with their receipts (--receipts)
    int window;                   //  jobs in flight at most while catching up
    const char *parent_hash;      //  hash of block start-1 when known (checkpoint), or ""
    block_window_t *published;    //  the hashes of the blocks published last (checkpoint),
                                  //  or NULL; copied at start
    int64_t interval_ms;          //  first guess of the block interval, 0: 12 s
    bool finalized;               //  publish only blocks `confirmations` deep (--delivery)
    int64_t confirmations;        //  finalized: that depth, HEAD_POLLER_UNSET: under the
                                  //  node's `finalized` block, or 64 deep without one
    int64_t finality_poll_ms;     //  finalized: how often the limit is asked, 0: a minute
    const char *metrics;          //  the metrics actor's endpoint (PUSH), NULL: none
} head_poller_args_t;

//  Finalized delivery without a depth and without the node's `finalized` tag.
#define HEAD_POLLER_DEFAULT_CONFIRMATIONS 64

//  A head poller's figures since it started (STATS).
typedef struct {
    uint64_t blocks;      //  passed on to the classifier, less the orphans of reorgs
    uint64_t requests;    //  JSON-RPC calls of every job, head polls included
    uint64_t next;        //  the next block to pass on
    uint64_t head;        //  the highest block known to exist
    uint64_t misses;      //  head polls that found nothing yet
} head_poller_stats_t;

//  Where a head poller's stream stands, by the last report it sent (DONE, DRAINED).
typedef enum {
    HEAD_POLLER_RUNNING,     //  no report yet: still fetching
    HEAD_POLLER_COMPLETE,    //  ended (--to, or drained) with every block passed on
    HEAD_POLLER_PARTIAL,     //  drained, but blocks were left unpublished
    HEAD_POLLER_BEHIND,      //  started at the head, which is past --to: nothing to publish
    HEAD_POLLER_FAILED       //  stopped: a reorg deeper than the window (head_poller_error)
} head_poller_state_t;

void head_poller_actor (zsock_t *pipe, void *args);
void head_poller_test (bool verbose);

typedef struct _head_poller_t head_poller_t;

//  Starts a head poller. args are borrowed: they must outlive it. NULL when the actor
//  could not be made.
head_poller_t *head_poller_new (head_poller_args_t *args);
//  Stops the actor at once (blocks in flight are not waited for: see head_poller_drain).
void head_poller_destroy (head_poller_t **self_p);
//  The socket to poll: readable when a report waits for head_poller_recv.
zsock_t *head_poller_socket (head_poller_t *self);
//  Takes one report (call when the socket is readable) and returns the state it leaves.
head_poller_state_t head_poller_recv (head_poller_t *self);
//  The state by the reports taken so far, by head_poller_recv or head_poller_stats.
head_poller_state_t head_poller_state (head_poller_t *self);
//  HEAD_POLLER_FAILED: why, naming the chain, the block and how to recover (borrowed).
const char *head_poller_error (head_poller_t *self);
//  Fetch nothing new, pass on the blocks in flight, end the stream: the state becomes
//  COMPLETE or PARTIAL once a report says how it went.
void head_poller_drain (head_poller_t *self);
//  Pauses (true) or resumes the handing out of new block jobs; the jobs in flight finish
//  and are passed on.
void head_poller_pause (head_poller_t *self, bool paused);
//  Fills stats. Returns 0, or -1 when the poller did not answer within a second (it waits
//  for room downstream). Reports that come before the answer are taken in passing.
int head_poller_stats (head_poller_t *self, head_poller_stats_t *stats);

#endif
