/*  block_clock: when to ask for the next block while following the head. The poll is the
    fetch (eth_getBlockByNumber n+1), so every early poll is a wasted request. The clock
    learns the chain's block interval and the moment in that interval when blocks appear at
    the provider, from hits and misses, and schedules the next poll just after it: about one
    request per block on a steady chain, a few more after a missed slot. */
#ifndef BLOCK_CLOCK_H_INCLUDED
#define BLOCK_CLOCK_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _block_clock_t block_clock_t;

//  initial_interval_ms: a first guess (e.g. 12000), refined from observations.
block_clock_t *block_clock_new (int64_t initial_interval_ms);
void block_clock_destroy (block_clock_t **self_p);

//  Learns the interval from a block passed on in order (catching up, not polling), so
//  that the first poll at the head is already timed by the chain's real interval.
void block_clock_observe (block_clock_t *self, uint64_t number, uint64_t block_time_s);

//  A poll for the next block sent at sent_ms found it: block `number`, whose timestamp is
//  block_time_s.
//  Returns when to poll for the one after (monotonic ms).
int64_t block_clock_hit (block_clock_t *self, int64_t sent_ms, uint64_t number,
                         uint64_t block_time_s);

//  A poll sent at sent_ms found nothing yet. Returns when to poll again.
int64_t block_clock_miss (block_clock_t *self, int64_t sent_ms);

//  The learned interval in ms (for logs and metrics).
int64_t block_clock_interval (block_clock_t *self);

void block_clock_test (bool verbose);

#endif
