/*  worker_link: the protocol between `evmtap worker` processes (a DEALER each) and the
    coordinator's dispatcher (a ROUTER bound at --listen). Jobs, results and the key pool's
    lease messages cross it unchanged (job.h, result.h, lease.h); these messages add the rest:

        worker -> JOIN worker_id version workers fetch_modes redis
        coordinator -> WELCOME chain chain_id fetch_mode receipts rpc [..] keys [..]
                       key_rps_milli key_daily key_costs rotate_ms rotate_requests timeout_ms
                       heartbeat_ms
        worker -> READY slots             it can take that many more jobs
        both ways HEARTBEAT seq           at least every heartbeat_ms; a side that hears
                                          nothing for LINK_SILENCE_BEATS beats drops the link
        both ways LEAVE reason            the link ends (refused join, a stop, a lost link)

    Frames: [MSG_TYPE_LINK_<NAME>, 1, fields...] in the order above (worker_link.c). A
    WELCOME carries key *names* and URL templates with `{key}` unfilled, never a secret: a
    worker fills them from its own environment or Docker secrets. */
#ifndef WORKER_LINK_H_INCLUDED
#define WORKER_LINK_H_INCLUDED

#include "msg.h"

//  A link is dropped after this many heartbeat intervals without a message from the peer.
#define LINK_SILENCE_BEATS 3
//  JOIN's fetch_modes: one bit per fetch_mode_t the worker can run.
#define LINK_FETCH_MODE_BIT(mode) (1u << (mode))

//  One URL template or key name, as an item of WELCOME's rpc or keys arrays.
typedef struct {
    const char *text;
} worker_link_item_t;

//  Any message of the link; type says which, and so which fields travel. Strings behind
//  pointers are the caller's when it encodes; decoding allocates them and
//  worker_link_clear frees them.
typedef struct {
    msg_type_t type;             //  MSG_TYPE_LINK_*
    const char *worker_id;       //  JOIN: host:pid, for the logs
    const char *version;         //  JOIN: the worker's evmtap version
    uint32_t workers;            //  JOIN: fetch workers it runs
    uint32_t fetch_modes;        //  JOIN: LINK_FETCH_MODE_BIT of each mode it runs
    bool redis;                  //  JOIN: it leases through its own --redis
    const char *chain;           //  WELCOME: the chain's name (topic prefix)
    uint64_t chain_id;           //  WELCOME
    int fetch_mode;              //  WELCOME: fetch_mode_t
    bool receipts;               //  WELCOME
    int verify;                  //  WELCOME: block_proof_mode_t, what workers prove
    worker_link_item_t *rpc;     //  WELCOME: URL templates, `{key}` unfilled
    size_t rpc_count;            //  WELCOME
    worker_link_item_t *keys;    //  WELCOME: key pseudo-names the workers may lease
    size_t key_count;            //  WELCOME
    uint64_t key_rps_milli;      //  WELCOME: per-key budget per 1000 s, 0: unlimited
    uint64_t key_daily;          //  WELCOME: per-key daily budget in units, 0: none
    const char *key_costs;       //  WELCOME: cost table name or file (cost_table.h)
    int64_t rotate_ms;           //  WELCOME: hand a key back after this long, 0 never
    uint64_t rotate_requests;    //  WELCOME: or after this many requests, 0 never
    int64_t timeout_ms;          //  WELCOME: per HTTP request
    int64_t heartbeat_ms;        //  WELCOME: the beat both sides keep
    uint32_t slots;              //  READY
    uint64_t seq;                //  HEARTBEAT: counts up per sender
    char reason [200];           //  LEAVE: why
} worker_link_t;

//  The fields of one message type in wire order; NULL for another protocol's type.
const msg_table_t *worker_link_table (msg_type_t type);
zframe_t *worker_link_encode (const worker_link_t *self);
//  Decodes any link message (borrowed frame): 0, or -2 when malformed (self then holds
//  nothing to free).
int worker_link_decode (zframe_t *frame, worker_link_t *self);
//  Frees what worker_link_decode allocated; never for a message of the caller's strings.
void worker_link_clear (worker_link_t *self);
//  Every table, a WELCOME round trip and hostile frames refused.
void worker_link_test (bool verbose);

#endif
