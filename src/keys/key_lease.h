/*  key_lease: the rules a holder of pool keys follows (DESIGN.md "API key pool"), the same
    for a fetch worker and for the chain id probe: the pool's names of the keys it may
    lease, how long a lease lasts and when it is renewed, which of its keys a lease is, when
    a key goes back (rotation), when a key's daily budget is spent, and how long a key is
    parked or cooled down after the provider refused it. It keeps the lease held and what
    was spent under it, and does no I/O: its owner asks the pool (keypool_client_*) and
    tells it what the pool said. Times are zclock_mono () unless named now_utc_ms
    (zclock_time ()). @locality the actor that made it. */
#ifndef KEY_LEASE_H_INCLUDED
#define KEY_LEASE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cost_table.h"
#include "keypool_store.h"

typedef struct _key_lease_t key_lease_t;

//  The keys names [0..count) (copied), used through provider (a host, for the journal), for requests that time out after
//  timeout_ms, with budgets in the units of costs (borrowed: it must outlive the lease;
//  NULL: one unit a call and a sliding 24 h). No daily budget and no rotation until
//  key_lease_set_budget.
key_lease_t *key_lease_new (const char *provider, const char *const *names, size_t count,
                            int timeout_ms, const cost_table_t *costs);
void key_lease_destroy (key_lease_t **self_p);
//  A daily budget per key in units (0: none), and rotation: a key goes back after
//  rotate_ms or after rotate_requests requests under one lease (0: never).
void key_lease_set_budget (key_lease_t *self, uint64_t daily, int64_t rotate_ms,
                           uint64_t rotate_requests);

//  What keypool_client_acquire takes: the pool keys, which are the names (a key is one
//  key whatever chain, provider host or process uses it), their count, the lease's time to live, the daily budget and whether it
//  resets at 00:00 UTC (else over a sliding 24 h).
const char **key_lease_keys (key_lease_t *self);
size_t key_lease_count (key_lease_t *self);
int64_t key_lease_ttl_ms (key_lease_t *self);
uint64_t key_lease_daily (key_lease_t *self);
bool key_lease_daily_utc (key_lease_t *self);
//  The units one call of method costs in the keys' budgets.
uint64_t key_lease_units (key_lease_t *self, const char *method);

//  Which of the names pool_key is: *index. Returns 0, or -1 when it is none of them.
int key_lease_index (key_lease_t *self, const char *pool_key, size_t *index);
//  Starts holding the lease the pool granted at now: *index is its key's among the names.
//  Returns 0, or -1 (holding nothing) when the lease is of none of them.
int key_lease_take (key_lease_t *self, const keypool_lease_t *lease, int64_t now, size_t *index);
//  The lease held, to renew or release it; NULL when none.
const keypool_lease_t *key_lease_held (key_lease_t *self);
//  The name of the key held, or held last (for logs); NULL before the first lease.
const char *key_lease_name (key_lease_t *self);
//  What the calls under the lease held are journaled as (keypool_client_spend):
//  "<provider>/<name>", so that the usage topic says where they went while every budget
//  and count of the pool is the name's. NULL when none is held.
const char *key_lease_journal_key (key_lease_t *self);
//  Holds nothing any more (released, lost, or about to run out).
void key_lease_drop (key_lease_t *self);

//  Whether the lease is due for renewal at now.
bool key_lease_renew_due (key_lease_t *self, int64_t now);
//  The pool renewed the lease at now: it lasts another time to live.
void key_lease_renewed (key_lease_t *self, int64_t now);
//  The pool could not be reached to renew: due again in a second.
void key_lease_renew_later (key_lease_t *self, int64_t now);
//  Whether the lease surely holds for needed_ms from now without a renewal (a request
//  must not outlive it: another holder may have the key by then).
bool key_lease_lasts (key_lease_t *self, int64_t now, int64_t needed_ms);
//  Whether it is time for the key to go back: rotate_ms since it was taken, or
//  rotate_requests spent under the lease.
bool key_lease_rotate_due (key_lease_t *self, int64_t now);

//  Before `units` more are spent under the lease: 0 when they fit the key's daily budget,
//  else how long to park the key: until 00:00 UTC when the budget resets then, else a
//  minute (the pool then knows when the sliding 24 h has room).
int64_t key_lease_budget_park_ms (key_lease_t *self, uint64_t units, int64_t now_utc_ms);
//  Counts requests and units spent under the lease (once the pool journaled them).
void key_lease_spent (key_lease_t *self, uint64_t requests, uint64_t units);

//  After a rate-limit answer with the provider's backoff_seconds (0: none given): the cool
//  down to ask the pool for, -1 for the pool's own exponential one.
int64_t key_lease_cool_ms (double backoff_seconds);
//  After a quota answer (the provider's daily cap): how long to park the key: until
//  00:00 UTC when the cap ends then (Infura), else an hour (the others do not say).
int64_t key_lease_quota_park_ms (key_lease_t *self, int64_t now_utc_ms);

void key_lease_test (bool verbose);

#endif
