/*  block_clock: schedules head polls from what hits and misses tell about when blocks
    appear. It keeps bounds (lo, hi] on the appearance time of the next block: a miss at t
    raises lo to t, a hit at t sets hi to t; both move on by one interval per block. While
    the bounds are wide it polls at their middle (a bisection that costs a few misses once);
    when they are tight it polls at hi, just after the block is due. */
#include "evmtap.h"
#include "block_clock.h"

#define DELTAS 9            //  timestamp deltas kept for the median interval
#define REPROBE_EVERY 64    //  blocks between re-openings of the bounds
#define MIN_INTERVAL_MS 100

struct _block_clock_t {
    int64_t interval;            //  learned block interval, ms
    int64_t lo;                  //  the next block appears after this time (INT64_MIN: unknown)
    int64_t hi;                  //  ... and at or before this one (INT64_MIN: unknown)
    int64_t step;                //  search step after a miss past hi; doubles while missing
    uint64_t last_block_time;    //  timestamp of the last block seen, s (0: none)
    uint64_t last_number;        //  its number
    int64_t deltas [DELTAS];     //  recent timestamp deltas, ms (0: empty slot)
    size_t delta_next;
    uint64_t hits;
    int64_t due;    //  the last poll time handed out (INT64_MIN: none)
};

block_clock_t *
block_clock_new (int64_t initial_interval_ms)
{
    block_clock_t *self = (block_clock_t *) zmalloc (sizeof (block_clock_t));
    assert (self);
    self->interval = initial_interval_ms > MIN_INTERVAL_MS ? initial_interval_ms : MIN_INTERVAL_MS;
    self->lo = INT64_MIN;
    self->hi = INT64_MIN;
    self->due = INT64_MIN;
    return self;
}

void
block_clock_destroy (block_clock_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  Polls closer than this to the appearance are good enough: 5 % of the interval.
static int64_t
s_tolerance (block_clock_t *self)
{
    int64_t tolerance = self->interval / 20;
    return tolerance < 10 ? 10 : tolerance;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t left = *(const int64_t *) a, right = *(const int64_t *) b;
    return (left > right) - (left < right);
}

//  The median of the recent timestamp deltas: robust against a missed slot (24 s on a
//  12 s chain) and against timestamps that share a second.
static void
s_learn_interval (block_clock_t *self, uint64_t number, uint64_t block_time_s)
{
    if (self->last_block_time && block_time_s > self->last_block_time
        && number == self->last_number + 1) {
        self->deltas [self->delta_next] = (int64_t) (block_time_s - self->last_block_time) * 1000;
        self->delta_next = (self->delta_next + 1) % DELTAS;
        int64_t sorted [DELTAS];
        size_t count = 0;
        for (size_t index = 0; index < DELTAS; index++)
            if (self->deltas [index] > 0)
                sorted [count++] = self->deltas [index];
        qsort (sorted, count, sizeof (int64_t), s_compare);
        int64_t median = sorted [count / 2];
        self->interval = median > MIN_INTERVAL_MS ? median : MIN_INTERVAL_MS;
    }
    self->last_block_time = block_time_s;
    self->last_number = number;
}

void
block_clock_observe (block_clock_t *self, uint64_t number, uint64_t block_time_s)
{
    s_learn_interval (self, number, block_time_s);
}

static int64_t
s_next_poll (block_clock_t *self)
{
    if (self->lo != INT64_MIN && self->hi - self->lo > s_tolerance (self))
        self->due = self->lo + (self->hi - self->lo) / 2;
    else
        self->due = self->hi;
    return self->due;
}

int64_t
block_clock_hit (block_clock_t *self, int64_t sent_ms, uint64_t number, uint64_t block_time_s)
{
    s_learn_interval (self, number, block_time_s);
    int64_t interval = self->interval;
    bool searching = self->lo != INT64_MIN && self->hi - self->lo > s_tolerance (self);
    //  A poll leaves a little after it is due; counting from the due time keeps that
    //  lateness from adding up block after block.
    int64_t at = self->due != INT64_MIN && self->due < sent_ms ? self->due : sent_ms;
    self->hi = at + interval;
    //  The first hit says only that the block appeared within the last interval. A hit
    //  while the bounds are still wide halves them: the search goes on with the next block.
    //  A hit at the estimate confirms it to within the tolerance. Now and then the lower
    //  bound is opened again, since blocks may have started to appear earlier.
    if (self->hits == 0)
        self->lo = at;
    else if (searching && self->lo + interval < self->hi)
        self->lo += interval;
    else if (self->hits % REPROBE_EVERY == 0)
        self->lo = self->hi - interval / 4;
    else
        self->lo = self->hi - s_tolerance (self);
    self->hits++;
    self->step = 0;
    return s_next_poll (self);
}

int64_t
block_clock_miss (block_clock_t *self, int64_t sent_ms)
{
    if (self->lo == INT64_MIN || sent_ms > self->lo)
        self->lo = sent_ms;
    if (self->hi == INT64_MIN || self->hi <= self->lo) {
        //  Later than every estimate (a missed slot, a slow provider): there is no upper
        //  bound to bisect, so step forward, doubling, until a poll finds the block.
        int64_t tolerance = s_tolerance (self);
        self->step = self->step ? self->step * 2 : tolerance;
        if (self->step > self->interval / 2)
            self->step = self->interval / 2 > tolerance ? self->interval / 2 : tolerance;
        self->hi = self->lo + self->step;
        self->due = self->hi;
        return self->due;
    }
    return s_next_poll (self);
}

int64_t
block_clock_interval (block_clock_t *self)
{
    return self->interval;
}

//  Simulates following a chain whose block k appears at phase + k * interval (+ jitter,
//  + a missed slot now and then). The first poll comes start_late ms after block 0
//  appeared (evmtap starts at any moment), and every poll leaves send_delay ms after it is
//  due (processing). Returns requests per block and the mean delay from a block's
//  appearance to the poll that found it, after the first 50 blocks of learning.
typedef struct {
    int64_t interval;
    int64_t jitter;
    int missed_every;
    int64_t start_late;
    int64_t send_delay;
    int blocks;
} s_chain_t;

static void
s_simulate (const s_chain_t *chain, double *requests, double *mean_delay)
{
    block_clock_t *self = block_clock_new (chain->interval);
    int64_t phase = 1000000 + 337;
    uint64_t seed = 12345;
    int64_t skipped = 0;    //  slots missed so far shift later blocks
    int64_t now = phase + chain->start_late;
    uint64_t polls = 0;
    int64_t total_delay = 0;
    int measured = 0;
    for (int block = 1; block <= chain->blocks; block++) {
        if (chain->missed_every && block % chain->missed_every == 0)
            skipped++;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t noise = chain->jitter
                            ? (int64_t) ((seed >> 33) % (uint64_t) (2 * chain->jitter + 1))
                                  - chain->jitter
                            : 0;
        int64_t appears = phase + (block + skipped) * chain->interval + noise;
        uint64_t block_time = (uint64_t) (appears / 1000);
        while (true) {
            polls++;
            assert (polls < (uint64_t) chain->blocks * 20);
            if (now >= appears) {
                if (block > 50) {
                    total_delay += now - appears;
                    measured++;
                }
                now = block_clock_hit (self, now, (uint64_t) block, block_time);
                break;
            }
            int64_t next = block_clock_miss (self, now);
            assert (next > now);
            now = next;
        }
        now += chain->send_delay;
    }
    *requests = (double) polls / chain->blocks;
    *mean_delay = measured ? (double) total_delay / measured : 0;
    block_clock_destroy (&self);
}

void
block_clock_test (bool verbose)
{
    block_clock_t *self = block_clock_new (0);
    assert (block_clock_interval (self) == MIN_INTERVAL_MS);
    block_clock_destroy (&self);
    block_clock_destroy (&self);

    //  Tolerance is 5 % of the interval: once learned, a block is found within about that.
    const s_chain_t chains [] = {
        //  anvil --block-time 1, started at various moments of the second.
        {1000, 0, 0, 0, 1, 2000},
        {1000, 0, 0, 300, 1, 2000},
        {1000, 0, 0, 900, 2, 2000},
        //  ... with +-20 ms of jitter.
        {1000, 20, 0, 550, 1, 2000},
        //  A 12 s chain with +-300 ms of propagation jitter and a missed slot every 50
        //  blocks, started late in the slot.
        {12000, 300, 50, 9000, 2, 1000},
    };
    const double max_requests [] = {1.1, 1.1, 1.1, 1.2, 1.25};
    const double max_delay [] = {100, 100, 100, 130, 1500};
    for (size_t index = 0; index < sizeof (chains) / sizeof (chains [0]); index++) {
        double requests, delay;
        s_simulate (&chains [index], &requests, &delay);
        if (verbose)
            printf ("\n  %" PRId64 " ms blocks, jitter %" PRId64 ", started %" PRId64
                    " ms late: %.3f requests/block, %.0f ms mean delay",
                    chains [index].interval, chains [index].jitter, chains [index].start_late,
                    requests, delay);
        fflush (stdout);
        assert (requests <= max_requests [index]);
        assert (delay <= max_delay [index]);
    }
    if (verbose)
        printf ("\n  ");
    //  The learned interval follows the timestamps, not the initial guess.
    self = block_clock_new (12000);
    for (uint64_t block = 0; block < 20; block++)
        block_clock_hit (self, (int64_t) block * 2000, block, 1000 + block * 2);
    assert (block_clock_interval (self) == 2000);
    //  ... also from blocks passed on while catching up; a gap in numbers teaches nothing.
    for (uint64_t block = 100; block < 120; block++)
        block_clock_observe (self, block, 5000 + block * 5);
    assert (block_clock_interval (self) == 5000);
    block_clock_observe (self, 200, 100000);
    assert (block_clock_interval (self) == 5000);
    block_clock_destroy (&self);
}
