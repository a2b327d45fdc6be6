/*  backoff: how long to wait before trying again after failures in a row: a first wait,
    doubled after each further failure up to a cap, and the first wait again once
    something worked. A plain value: embed one wherever failures are counted (a retry
    loop, a block asked for again, a job in flight) and copy it with the job. */
#ifndef BACKOFF_H_INCLUDED
#define BACKOFF_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t initial_ms;    //  the wait after the first failure
    int64_t cap_ms;        //  no wait is longer than this
    int64_t last_ms;       //  the wait given last, 0 before the first failure in a row
} backoff_t;

//  Starts a backoff that waits initial_ms after a first failure, then twice as long after
//  each further one, never more than cap_ms.
void backoff_init (backoff_t *self, int64_t initial_ms, int64_t cap_ms);

//  One more failure in a row: returns how long to wait before the next try.
int64_t backoff_next (backoff_t *self);

//  Something worked: the next failure waits initial_ms again.
void backoff_reset (backoff_t *self);

void backoff_test (bool verbose);

#endif
