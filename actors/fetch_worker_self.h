/*  fetch_worker_self: a fetch worker's state and the parts of it its two files share:
    fetch_worker.c (the actor, its jobs and proofs) and fetch_worker_calls.c (the leased
    key, the calls under it, their budgets, journal and metrics). Nothing else includes it. */
#ifndef FETCH_WORKER_SELF_H_INCLUDED
#define FETCH_WORKER_SELF_H_INCLUDED

#include "evmtap.h"
#include "fetch_worker.h"
#include "backoff.h"
#include "block_proof.h"
#include "block.h"
#include "cost_table.h"
#include "hash_calls.h"
#include "hexutil.h"
#include "job.h"
#include "jsonrpc.h"
#include "key_lease.h"
#include "keypool.h"
#include "keypool_store.h"
#include "metric.h"
#include "metrics.h"
#include "normalize.h"
#include "proxy_probe.h"
#include "proxy_query.h"
#include "receipts.h"
#include "receipts_cost.h"
#include "receipts_strategy.h"
#include "result.h"
#include "rpc_client.h"
#include "secrets.h"
#include "spend_ledger.h"
#include "token_bucket.h"

//  A leased key goes back to the pool after this long without work.
#define KEY_IDLE_MS 10000
//  While no key is free, the pool is asked again this often.
#define KEY_WAIT_POLL_MS 250
//  A failed attempt waits this long before the next, doubled each time up to the cap,
//  unless the provider says how long.
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 8000
//  Metric updates wait at most this long, so that a call costs no message of its own.
#define FETCH_METRICS_MS 250

//  How an exchange of a job, or a part of it, ended.
typedef enum {
    FETCH_DONE,         //  it has what it asked for
    FETCH_FAILED,       //  failed after its attempts, or the node lacks the method: reason given
    FETCH_BAD_BLOCK,    //  no sound block, or receipts that do not fit it: fetch it again
    FETCH_UNPROVEN,     //  the block does not prove against its header: another key, again
    FETCH_LEAVING,      //  told to leave: stop at once
} fetch_outcome_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *dispatcher;
    zpoller_t *poller;
    fetch_worker_args_t *args;
    rpc_client_t *client;      //  the provider, with the leased key's secret (with a pool)
    token_bucket_t *bucket;    //  the key's budget per second
    bool terminated;
    uint64_t requests;                //  JSON-RPC calls of the job under way
    keypool_client_t *pool;           //  NULL without a pool
    key_lease_t *lease;               //  the keys and the lease held, NULL without a pool
    int64_t last_job;                 //  zclock_mono of the last job's end
    bool waiting_logged;              //  "all keys busy" said since the last lease
    bool pool_down_logged;            //  "waits for the key pool" said since the last lease
    receipts_strategy_t *receipts;    //  how a block's receipts are fetched
    block_proof_t *proof;             //  proves each block fetched, at args->verify
    bool network_form_said;           //  a root over blob network forms was said
    spend_ledger_t *spent;            //  what the request under way journaled, per method
    zsock_t *metrics;                 //  PUSH to the metrics actor (args->metrics), or NULL
    metric_batch_t *updates;          //  calls, durations and units not sent yet
    int64_t metrics_due;              //  zclock_mono time they go
} self_t;

//  The attempts at one exchange (a call, a group of batches, a block): which one is under
//  way and how long to wait after it fails.
typedef struct {
    const char *what;     //  names the exchange in logs
    int attempt;          //  the one under way, from 1
    backoff_t backoff;    //  the waits between them
} fetch_attempts_t;

//  Starts the attempts at an exchange named what, the first under way.
void fetch_worker_attempts_init (fetch_attempts_t *attempts, const char *what);
//  One JSON-RPC call with retries (as fetch_worker_call_many).
fetch_outcome_t fetch_worker_call (self_t *self, const char *what, const char *method,
                                   const char *params, cJSON **doc_p, jsonrpc_answer_t *answer);
//  JSON-RPC calls in one HTTP request (a batch when there are several), with retries. On
//  success *doc_p holds the parsed answer and answers [i].result points into it. A call
//  after the first may answer -32601 (not supported: the caller falls back); any other
//  failed call fails the request, which is tried again whole. Returns FETCH_DONE, FETCH_FAILED
//  when every attempt failed or the first call is not supported (answers [0] says why),
//  or FETCH_LEAVING.
fetch_outcome_t fetch_worker_call_many (self_t *self, const char *what, size_t count,
                                        const char *const *methods, const char *const *params,
                                        cJSON **doc_p, jsonrpc_answer_t *answers);
//  The key's cost table; NULL without a pool (one unit a call).
const cost_table_t *fetch_worker_costs (self_t *self);
//  Fetches the results of calls, a group at a time. Returns FETCH_DONE, FETCH_FAILED (reason in
//  error) or FETCH_LEAVING.
fetch_outcome_t fetch_worker_fetch_by_hash (self_t *self, hash_calls_t *calls, const job_t *job,
                                            char *error, size_t error_size);
//  Whether these calls fit in one second of the key's budget together: a batch reaches the
//  provider at one instant, so it counts them in the same second.
bool fetch_worker_fits_one_second (self_t *self, const char *const *methods, size_t count);
//  Calls of method for count hashes of a job's block, no more at once than the key's
//  second holds.
hash_calls_t *fetch_worker_hash_calls_new (self_t *self, const char *method, const job_t *job,
                                           size_t count);
//  Whether the worker holds a leased key.
bool fetch_worker_holding (self_t *self);
//  Makes sure the worker holds a key it may use for the next needed_ms: renews the lease
//  when due, rotates when due and may_rotate (between jobs only: a job never waits for a
//  key it gave up itself), leases another key when it has none (waiting while none is
//  free). Returns 0, or -1 when leaving.
int fetch_worker_key_ensure (self_t *self, int64_t needed_ms, bool may_rotate);
//  Hands the key back: cool_ms / park_ms as keypool_store_release. Returns the cool down
//  the pool applied.
int64_t fetch_worker_key_release (self_t *self, int64_t cool_ms, int64_t park_ms);
//  A chain's figure, labelled chain (and field when given): the proofs'.
void fetch_worker_metric_chain_put (self_t *self, const char *name, const char *field,
                                    double value);
//  Sends the updates once due.
void fetch_worker_metric_send (self_t *self);
//  The time budget of one request: its timeout and a second of slack.
int64_t fetch_worker_request_ms (self_t *self);
//  After a failed attempt, whether to make another: a rate-limit or quota answer with a
//  pool moves the worker to another key and does not count; any other failure is logged
//  and, unless it was the last attempt, waited for (the provider's hint, else the
//  backoff). False when no attempt is left or when leaving (self->terminated says which).
bool fetch_worker_try_again (self_t *self, fetch_attempts_t *attempts,
                             const jsonrpc_answer_t *failure);
//  Reads a pipe command; only $TERM exists.
void fetch_worker_handle_pipe (self_t *self);

//  The HTTP client's abort check: handles a pipe command waiting, true once told to leave.
bool fetch_worker_should_abort (void *arg);

#endif
