/*  keypool: the pool of API keys that a process's fetch workers share with each other and,
    through Redis, with every other evmtap process and host that names the same Redis.
    An actor owns the pool's outside handles (the store's redisContext and the LMDB usage
    journal); workers reach it through a keypool_client_t each, main through keypool_t.

    Rules (DESIGN.md "API key pool"): a worker holds one lease on one key at a time, and a
    key is leased to one worker at a time; among free keys the least used over the last
    24 h is taken; every request is journaled before it is sent, and a flusher moves the
    journal's sealed minutes to the store (idempotently) and, once main says from where, to
    the usage topic through the broker.

    Worker protocol: proto/lease.h (ACQUIRE, RENEW, RELEASE, SPEND, REFUND and answers, one
    msgpack frame each way from a client's DEALER to the actor's ROUTER). With
    args->metrics the leases, cool-downs, parks and units left per key go to the metrics
    actor once a flush interval (proto/metric.h).
    Pipe commands (keypool_t):
        $TERM                     seal, flush what it can, leave
        FLUSH                     seal and flush now -> FLUSHED <requests not in the store>
        PUBLISH-FROM seq          publish usage entries above seq to the broker from now on
        LIST                      -> the store's keys, as keypool_key_state_t frames */
#ifndef KEYPOOL_H_INCLUDED
#define KEYPOOL_H_INCLUDED

#include "evmtap.h"
#include "keypool_store.h"
#include "topics.h"

#define KEYPOOL_ENDPOINT "inproc://evmtap-keypool"
#define KEYPOOL_USAGE_CHAIN "evmtap.usage"
#define KEYPOOL_USAGE_TOPIC TOPIC_KEY_USAGE

typedef struct {
    const char *redis;        //  redis://HOST:PORT, NULL for a pool in this process
    const char *data_dir;     //  the journal lives in <data_dir>/journal
    const char *endpoint;     //  ROUTER to bind for workers, NULL for KEYPOOL_ENDPOINT
    const char *broker;       //  the broker's PULL endpoint for usage batches, or NULL
    int flush_interval_ms;    //  0 for 1000
    char error [256];         //  out: why the start failed
    const char *metrics;      //  the metrics actor's endpoint (leases, cool-downs, parks,
                              //  units left), NULL: none
} keypool_args_t;

typedef struct _keypool_t keypool_t;

//  Starts the pool. NULL with the reason in args->error (journal or URL).
keypool_t *keypool_new (keypool_args_t *args);
//  Seals and flushes what it can, then stops the actor.
void keypool_destroy (keypool_t **self_p);
//  Seals and flushes now. Returns the requests journaled but not yet in the store (0 when
//  the store has them all), or -1.
int64_t keypool_flush (keypool_t *self);
//  Publishes usage entries with seq above `after` (what the broker's checkpoint holds).
void keypool_publish_from (keypool_t *self, uint64_t after);
//  Every key the pool's store knows (see keypool_store_list). 0, or -1 unreachable.
int keypool_list (keypool_t *self, keypool_key_state_t **states, size_t *count);

//  A worker's handle on the pool. @locality the actor that made it.
typedef struct _keypool_client_t keypool_client_t;

keypool_client_t *keypool_client_new (const char *endpoint);
void keypool_client_destroy (keypool_client_t **self_p);
//  See keypool_store_acquire. Returns 0, 1 (busy filled), -1 (unreachable: reason in
//  busy-less lease->token).
int keypool_client_acquire (keypool_client_t *self, const char *holder, int64_t ttl_ms,
                            uint64_t daily, bool daily_utc, const char **keys, size_t count,
                            keypool_lease_t *lease, keypool_busy_t *busy);
int keypool_client_renew (keypool_client_t *self, const keypool_lease_t *lease, int64_t ttl_ms);
int64_t keypool_client_release (keypool_client_t *self, const keypool_lease_t *lease,
                                int64_t cool_ms, int64_t park_ms);
//  Journals requests before they are sent, at the most they may be billed. 0, or -1 (do
//  not send).
int keypool_client_spend (keypool_client_t *self, const char *key, const char *method,
                          uint64_t requests, uint64_t units);
//  The same, telling the minute they were journaled in (*minute), for a refund.
int keypool_client_spend_minute (keypool_client_t *self, const char *key, const char *method,
                                 uint64_t requests, uint64_t units, uint64_t *minute);
//  Once their answers are known: gives back the units of calls journaled in minute that
//  were not billed (a 429, say). 0, or -1 (the journal keeps the higher count: the safe
//  side).
int keypool_client_refund (keypool_client_t *self, const char *key, const char *method,
                           uint64_t minute, uint64_t units);

void keypool_test (bool verbose);

#endif
