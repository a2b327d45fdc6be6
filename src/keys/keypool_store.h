/*  keypool_store: where the key pool's shared state lives: Redis when --redis is given
    (every process and host that names the same Redis shares one pool), else memory (one
    process). It holds each key's lease (`SET lease NX PX` semantics: one holder at a time,
    renewed and released only by the token that took it, by compare-and-delete), its cool
    down and park, and its usage as minute buckets over a sliding 24 h. Choosing a key and
    claiming it are one atomic step (a Lua script on Redis), which is the bug this pool
    exists to avoid.

    A key is its pseudo-name: the pool key is the name, whatever chain, provider host or
    process uses it (Infura and Alchemy keys serve every network, and share one throughput
    and one quota across them). Usage comes from journals whose lines are per
    "<provider>/<name>"; the store counts it all under the name and remembers the hosts.

    Redis keys (pool key = key name, never a secret): evmtap:lease:<pk> (token, PX ttl),
    evmtap:cool:<pk> and evmtap:park:<pk> (reason, PX), evmtap:strikes:<pk> (429s in a
    row), evmtap:usage:<pk> (hash r:<minute>, u:<minute>, sums sr, su), evmtap:minutes:<pk>
    (zset of the minutes held), evmtap:providers:<pk> (set of the provider hosts its calls
    went to), evmtap:journal:<id> (last sequence applied from that usage journal),
    evmtap:keys (set of pool keys ever seen; keys "<provider>/<name>" of earlier versions
    are dropped from it when listed: their usage is not carried over).
    @locality one owner: the keypool actor, or `evmtap keys` (a redisContext each). */
#ifndef KEYPOOL_STORE_H_INCLUDED
#define KEYPOOL_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "usage_journal.h"

typedef struct _keypool_store_t keypool_store_t;

#define KEYPOOL_KEY_SIZE 200
#define KEYPOOL_TOKEN_SIZE 160

//  A lease taken.
typedef struct {
    char key [KEYPOOL_KEY_SIZE];        //  pool key
    char token [KEYPOOL_TOKEN_SIZE];    //  "<holder>|<random>": renew and release with it
    uint64_t requests_24h;              //  the key's usage when taken
    uint64_t units_24h;
    uint64_t units_today;    //  since 00:00 UTC
} keypool_lease_t;

//  Why no key was free.
typedef struct {
    int leased;
    int cooling;
    int parked;
    int64_t soonest_ms;    //  first cool down or park to end, -1 when none
} keypool_busy_t;

//  What `evmtap keys` shows of one key.
typedef struct {
    char key [KEYPOOL_KEY_SIZE];
    char state [16];                      //  free, leased, cooling, parked
    char holder [KEYPOOL_TOKEN_SIZE];     //  "" when free
    char providers [KEYPOOL_KEY_SIZE];    //  the hosts its calls went to, sorted, comma-separated
    uint64_t requests_24h;
    uint64_t units_24h;
    int64_t until_ms;    //  cooling or parked: ms left
} keypool_key_state_t;

//  Memory when redis_url is NULL, else redis://HOST[:PORT] (connected lazily, reconnected
//  at most once a second while it is down). NULL with the reason in err for a bad URL.
keypool_store_t *keypool_store_new (const char *redis_url, char *err, size_t err_size);
void keypool_store_destroy (keypool_store_t **self_p);
bool keypool_store_shared (keypool_store_t *self);

//  Among keys[0..count) that are not leased, cooling or parked, leases the one with the
//  least units in the last 24 h (ties: the first given). A key whose daily budget is spent
//  (daily > 0: units today when daily_utc, else units in the last 24 h) is parked until it
//  has room (00:00 UTC, or when enough old minutes leave the window) and skipped.
//  Returns 0 with lease filled, 1 when none is free (busy filled), -1 when the store cannot
//  be reached.
int keypool_store_acquire (keypool_store_t *self, const char **keys, size_t count,
                           const char *holder, int64_t ttl_ms, uint64_t daily, bool daily_utc,
                           keypool_lease_t *lease, keypool_busy_t *busy);
//  Extends a lease. 0 renewed, 1 lost (expired or taken), -1 unreachable.
int keypool_store_renew (keypool_store_t *self, const char *key, const char *token, int64_t ttl_ms);
//  Ends a lease (when token still holds it) and cools the key down for cool_ms (-1:
//  exponential from 1 s by 429s in a row, up to 60 s; 0: none, and the row is reset) and
//  parks it for park_ms (0: none). Returns the cool down applied in ms, or -1 unreachable.
int64_t keypool_store_release (keypool_store_t *self, const char *key, const char *token,
                               int64_t cool_ms, int64_t park_ms);
//  Adds a sealed usage entry of journal_id, once: an entry whose seq is not above the last
//  applied for that journal changes nothing. 0 done, -1 unreachable.
int keypool_store_apply (keypool_store_t *self, const char *journal_id, const usage_entry_t *entry);
//  Every key the store knows, sorted by name. 0 (free *states), -1 unreachable.
int keypool_store_list (keypool_store_t *self, keypool_key_state_t **states, size_t *count);

//  The key name of a journal key "<provider>/<key name>" (a pointer into it); the provider
//  is copied into provider ("" when the journal key has no provider).
const char *keypool_key_split (const char *pool_key, char *provider, size_t provider_size);

//  The store's last error in its own words ("" when none).
const char *keypool_store_error (keypool_store_t *self);

//  Tests: starts redis-server on loopback port *port (0: a free one, then set); returns its
//  pid (0 when it cannot: not installed). Stop it with kill and waitpid.
int keypool_store_test_redis (int *port);

void keypool_store_test (bool verbose);

#endif
