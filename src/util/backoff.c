/*  backoff: exponential waits between tries, capped (see backoff.h). */
#include "evmtap.h"
#include "backoff.h"

void
backoff_init (backoff_t *self, int64_t initial_ms, int64_t cap_ms)
{
    assert (self);
    assert (initial_ms > 0 && cap_ms >= initial_ms);
    self->initial_ms = initial_ms;
    self->cap_ms = cap_ms;
    self->last_ms = 0;
}

int64_t
backoff_next (backoff_t *self)
{
    assert (self);
    if (self->last_ms == 0)
        self->last_ms = self->initial_ms;
    else
        self->last_ms = self->last_ms > self->cap_ms / 2 ? self->cap_ms : self->last_ms * 2;
    return self->last_ms;
}

void
backoff_reset (backoff_t *self)
{
    assert (self);
    self->last_ms = 0;
}

//  --------------------------------------------------------------------------
//  Selftest

void
backoff_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    //  The fetch worker's and the probe's: 250 ms doubling up to 8 s, then 8 s for good
    backoff_t backoff;
    backoff_init (&backoff, 250, 8000);
    int64_t expected [] = {250, 500, 1000, 2000, 4000, 8000, 8000, 8000};
    for (size_t index = 0; index < sizeof (expected) / sizeof (expected [0]); index++)
        assert (backoff_next (&backoff) == expected [index]);
    //  After a success the first wait again
    backoff_reset (&backoff);
    assert (backoff_next (&backoff) == 250);
    assert (backoff_next (&backoff) == 500);

    //  A cap that is no power of two of the first wait is reached, not passed: 10 s
    backoff_init (&backoff, 250, 10000);
    int64_t capped [] = {250, 500, 1000, 2000, 4000, 8000, 10000, 10000};
    for (size_t index = 0; index < sizeof (capped) / sizeof (capped [0]); index++)
        assert (backoff_next (&backoff) == capped [index]);

    //  A copy goes on from where the original was (a retry carries its job's backoff)
    backoff_init (&backoff, 250, 30000);
    backoff_next (&backoff);
    backoff_t copy = backoff;
    assert (backoff_next (&copy) == 500);
    assert (backoff_next (&backoff) == 500);
    for (int index = 0; index < 100; index++)
        assert (backoff_next (&copy) <= 30000);
    assert (backoff_next (&copy) == 30000);

    //  A wait as long as the cap from the start
    backoff_init (&backoff, 1000, 1000);
    assert (backoff_next (&backoff) == 1000 && backoff_next (&backoff) == 1000);
}
