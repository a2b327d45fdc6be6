/*  lease: the key pool's worker protocol, between a worker's keypool client (a DEALER) and
    the keypool actor (its ROUTER): one frame each way. Every request carries an id that its
    answer repeats, so that a client can skip the late answers of requests it gave up on.

        ACQUIRE holder ttl_ms daily daily_utc [key...]   -> GRANTED | BUSY | ANSWER (-1)
        RENEW key token ttl_ms                           -> ANSWER (0 renewed, 1 lost, -1)
        RELEASE key token cool_ms park_ms                -> ANSWER (cool down applied, -1)
        SPEND key method requests units                  -> ANSWER (the minute journaled
                                                            in, unix time / 60; -1)
        REFUND key method minute units                   -> ANSWER (0 journaled, -1)
        GRANTED key token requests_24h units_24h units_today
        BUSY leased cooling parked soonest_ms
        ANSWER status reason

    Frames: [MSG_TYPE_LEASE_<NAME>, 1, id, fields...] in the order above (the tables in
    lease.c). -1 means the pool's store could not be reached, or the request could not be
    read (reason "malformed request"): a request too damaged to decode is still answered
    when its id can be read.

    SPEND journals what the calls may cost at most before they are sent; REFUND, once
    their answers are known, gives back what they were not billed (a 429, say), in the
    minute their SPEND was journaled in, so that no minute's count goes below zero. */
#ifndef LEASE_H_INCLUDED
#define LEASE_H_INCLUDED

#include "msg.h"

//  As KEYPOOL_KEY_SIZE and KEYPOOL_TOKEN_SIZE of the key pool's store (keypool.c checks).
#define LEASE_KEY_SIZE 200
#define LEASE_TOKEN_SIZE 160
#define LEASE_REASON_SIZE 160

//  Any message of the protocol; type says which, and so which fields travel. The strings
//  behind pointers are the caller's when it encodes; decoding allocates them and
//  lease_clear frees them.
typedef struct {
    msg_type_t type;                    //  MSG_TYPE_LEASE_*
    uint64_t id;                        //  the request's id, repeated by its answer (not 0)
    const char *holder;                 //  ACQUIRE: who asks (its token and `evmtap keys` say)
    int64_t ttl_ms;                     //  ACQUIRE, RENEW: how long the lease lasts unrenewed
    uint64_t daily;                     //  ACQUIRE: the keys' daily budget in units, 0: none
    bool daily_utc;                     //  ACQUIRE: that day ends at 00:00 UTC, not in 24 h
    const char **keys;                  //  ACQUIRE: the keys the holder may take
    size_t key_count;                   //  ACQUIRE: how many
    char key [LEASE_KEY_SIZE];          //  GRANTED, RENEW, RELEASE, SPEND, REFUND: the pool key
    char token [LEASE_TOKEN_SIZE];      //  GRANTED, RENEW, RELEASE: the lease's token
    uint64_t requests_24h;              //  GRANTED: the key's requests in the last 24 h
    uint64_t units_24h;                 //  GRANTED: its units in the last 24 h
    uint64_t units_today;               //  GRANTED: its units since 00:00 UTC
    int leased;                         //  BUSY: keys leased to others
    int cooling;                        //  BUSY: keys cooling down
    int parked;                         //  BUSY: keys parked (a daily budget spent)
    int64_t soonest_ms;                 //  BUSY: the first cool down or park to end, -1: none
    int64_t cool_ms;                    //  RELEASE: cool the key down (-1: exponential, 0: no)
    int64_t park_ms;                    //  RELEASE: park the key (0: no)
    const char *method;                 //  SPEND, REFUND: the JSON-RPC method
    uint64_t requests;                  //  SPEND: calls about to be sent
    uint64_t units;                     //  SPEND: their cost in the key's billed units;
                                        //  REFUND: what they were not billed after all
    uint64_t minute;                    //  REFUND: the minute their SPEND was journaled in
    int64_t status;                     //  ANSWER: what the pool's verb returned
    char reason [LEASE_REASON_SIZE];    //  ANSWER: why, when status is -1
} lease_t;

//  The fields of one message type in wire order; NULL for a type of another protocol.
const msg_table_t *lease_table (msg_type_t type);
//  Encodes self as the message its type names.
zframe_t *lease_encode (const lease_t *self);
//  Decodes any lease message (borrowed frame) into self: 0, or -2 when malformed (self
//  then holds nothing to free).
int lease_decode (zframe_t *frame, lease_t *self);
//  Frees the strings lease_decode allocated (holder, keys, method); never for a message
//  that points at the caller's strings.
void lease_clear (lease_t *self);
//  The id of a lease message too damaged to decode, 0 when even that cannot be read.
uint64_t lease_id (zframe_t *frame);
//  The message on one line (msg_print); yours to free.
char *lease_print (const lease_t *self);

#endif
