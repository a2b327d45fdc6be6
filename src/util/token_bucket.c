/*  token_bucket: a per-key budget of units per second that no sliding 1 s window exceeds.

    A classic token bucket of one second's capacity lets through twice its budget in the
    worst 1 s window (a full bucket spent at once, then a second of refill), which is
    exactly what makes a provider answer 429. So the bucket remembers what it let through
    in the last second, in 10 ms slots: a take succeeds when the units taken in the slots
    that could share a 1 s window with it, plus the new ones, stay within the budget. The
    budget thus comes back continuously as old takes leave the window, one slot at a time.
    Slots make it slightly conservative (a window is judged over 1.01 s), never generous.
    A provider judges the second by when calls arrive, not when they leave, and two calls a
    second apart can arrive closer than that (a busy host, a slow first byte): so the window
    is judged over S_GUARD_MS more than a second, and such jitter up to that much cannot
    put two calls in one provider second. It costs S_GUARD_MS / 1 s of the budget.

    "Starts empty" means the key may just have spent its whole second elsewhere: the
    first take (or a drain) books a full budget at that moment. */
#include "evmtap.h"
#include <math.h>
#include "token_bucket.h"

#define S_SLOT_MS 10
#define S_GUARD_MS 50
#define S_WINDOW_MS (1000 + S_GUARD_MS)
//  A window of S_WINDOW_MS touches at most this many slots.
#define S_SLOTS (S_WINDOW_MS / S_SLOT_MS + 1)
//  Floating-point slack when comparing sums of fractional units.
#define S_EPSILON 1e-9

struct _token_bucket_t {
    double rate;                      //  units per second; 0 = unlimited
    bool started;                     //  false until the first take or drain
    int64_t last_ms;                  //  latest time seen (time never runs backwards here)
    int64_t slot_number [S_SLOTS];    //  which absolute slot each ring entry holds
    double slot_units [S_SLOTS];      //  units taken in that slot
};

token_bucket_t *
token_bucket_new (double rate)
{
    token_bucket_t *self = (token_bucket_t *) zmalloc (sizeof (token_bucket_t));
    assert (self);
    self->rate = (isfinite (rate) && rate > 0) ? rate : 0;
    for (int index = 0; index < S_SLOTS; index++)
        self->slot_number [index] = INT64_MIN;
    return self;
}

void
token_bucket_destroy (token_bucket_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static int64_t
s_slot_of (int64_t now_ms)
{
    //  Floor division, so negative synthetic times work too.
    return now_ms >= 0 ? now_ms / S_SLOT_MS : -((-now_ms + S_SLOT_MS - 1) / S_SLOT_MS);
}

static double
s_units_in (token_bucket_t *self, int64_t slot)
{
    int index = (int) (((slot % S_SLOTS) + S_SLOTS) % S_SLOTS);
    return self->slot_number [index] == slot ? self->slot_units [index] : 0;
}

static void
s_book (token_bucket_t *self, int64_t slot, double units)
{
    int index = (int) (((slot % S_SLOTS) + S_SLOTS) % S_SLOTS);
    if (self->slot_number [index] != slot) {
        self->slot_number [index] = slot;
        self->slot_units [index] = 0;
    }
    self->slot_units [index] += units;
}

//  Keeps time monotonic per bucket; books the starting full second on first use.
static int64_t
s_clock (token_bucket_t *self, int64_t now_ms)
{
    if (!self->started) {
        self->started = true;
        self->last_ms = now_ms;
        s_book (self, s_slot_of (now_ms), self->rate);
    }
    if (now_ms > self->last_ms)
        self->last_ms = now_ms;
    return self->last_ms;
}

int64_t
token_bucket_take (token_bucket_t *self, double units, int64_t now_ms)
{
    assert (self);
    if (self->rate == 0)
        return 0;
    if (!(units > 0))
        units = 0;
    int64_t now = s_clock (self, now_ms);
    int64_t slot = s_slot_of (now);
    double in_window = 0;
    for (int64_t back = 0; back < S_SLOTS; back++)
        in_window += s_units_in (self, slot - back);

    //  An oversized take needs the whole window to itself; a normal one needs room.
    bool oversized = units > self->rate;
    double allowed = oversized ? 0 : self->rate - units;
    if (in_window <= allowed + S_EPSILON) {
        s_book (self, slot, units);
        return 0;
    }
    //  Find the first future slot at which enough old takes have left the window.
    for (int64_t ahead = 1; ahead <= S_SLOTS; ahead++) {
        in_window -= s_units_in (self, slot + ahead - S_SLOTS);
        if (in_window <= allowed + S_EPSILON) {
            int64_t wait = (slot + ahead) * S_SLOT_MS - now;
            return wait < 1 ? 1 : wait;
        }
    }
    //  Unreachable by the arithmetic above; a full window wait is the safe answer.
    return S_SLOTS * S_SLOT_MS;
}

void
token_bucket_drain (token_bucket_t *self, int64_t now_ms)
{
    assert (self);
    if (self->rate == 0)
        return;
    bool was_started = self->started;
    int64_t now = s_clock (self, now_ms);
    //  Book whatever the window lacks to be full, so nothing goes for a whole second.
    if (was_started) {
        int64_t slot = s_slot_of (now);
        double in_window = 0;
        for (int64_t back = 0; back < S_SLOTS; back++)
            in_window += s_units_in (self, slot - back);
        if (in_window < self->rate)
            s_book (self, slot, self->rate - in_window);
    }
}

//  --------------------------------------------------------------------------
//  Selftest

//  Runs a saturated client (it takes again as soon as told) from time 0 for duration_ms,
//  with optional idle gaps, checking every sliding window of a second and the guard (so
//  every 1 s window, whatever the jitter up to the guard). Returns units taken.
static double
s_simulate (double rate, double units, int64_t duration_ms, int64_t idle_every_ms, int64_t idle_ms,
            bool verbose)
{
    token_bucket_t *bucket = token_bucket_new (rate);
    size_t capacity = 1 << 20;
    int64_t *times = (int64_t *) malloc (capacity * sizeof (int64_t));
    assert (times);
    size_t taken = 0;
    int64_t now = 1000000;    //  an arbitrary monotonic start
    int64_t start = now;
    int64_t next_idle = start + idle_every_ms;
    size_t first_in_window = 0;
    double window_units = 0;
    double max_window = 0;
    while (now < start + duration_ms) {
        if (idle_every_ms > 0 && now >= next_idle) {
            now += idle_ms;
            next_idle = now + idle_every_ms;
        }
        int64_t wait = token_bucket_take (bucket, units, now);
        if (wait > 0) {
            assert (wait <= S_WINDOW_MS + S_SLOT_MS);
            //  Sometimes come back early: a wait is a hint, early tries must fail.
            if (taken % 7 == 3 && wait > 1) {
                assert (token_bucket_take (bucket, units, now + wait - 1) > 0);
            }
            now += wait;
            continue;
        }
        assert (taken < capacity);
        times [taken++] = now;
        window_units += units;
        //  Units taken in (now - S_WINDOW_MS, now]: the worst window ending at this take.
        while (times [first_in_window] <= now - S_WINDOW_MS) {
            first_in_window++;
            window_units -= units;
        }
        if (window_units > max_window)
            max_window = window_units;
        assert (window_units <= rate + 1e-6);
    }
    if (verbose)
        printf ("rate %.1f units %.2f: %zu takes, max window %.2f, throughput %.3f\n", rate, units,
                taken, max_window, taken * units / (duration_ms / 1000.0) / rate);
    free (times);
    token_bucket_destroy (&bucket);
    return taken * units;
}

void
token_bucket_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    //  Unlimited
    token_bucket_t *bucket = token_bucket_new (0);
    for (int index = 0; index < 1000; index++)
        assert (token_bucket_take (bucket, 5, 0) == 0);
    token_bucket_drain (bucket, 0);
    assert (token_bucket_take (bucket, 1e9, 0) == 0);
    token_bucket_destroy (&bucket);
    token_bucket_destroy (&bucket);
    assert (bucket == NULL);

    //  Starts empty: nothing for about a second, then the budget comes back
    bucket = token_bucket_new (10);
    int64_t wait = token_bucket_take (bucket, 1, 5000);
    assert (wait >= S_WINDOW_MS - S_SLOT_MS && wait <= S_WINDOW_MS + S_SLOT_MS);
    assert (token_bucket_take (bucket, 1, 5000 + wait - 1) > 0);
    assert (token_bucket_take (bucket, 1, 5000 + wait) == 0);
    //  After an idle while the whole second is available at once, but no more
    int64_t now = 20000;
    for (int index = 0; index < 10; index++)
        assert (token_bucket_take (bucket, 1, now) == 0);
    wait = token_bucket_take (bucket, 1, now);
    assert (wait >= S_WINDOW_MS && wait <= S_WINDOW_MS + S_SLOT_MS);
    assert (token_bucket_take (bucket, 1, now + 500) > 0);
    assert (token_bucket_take (bucket, 1, now + 1000 + S_GUARD_MS / 2) > 0);
    //  Time running backwards changes nothing
    assert (token_bucket_take (bucket, 1, now - 5000) > 0);
    assert (token_bucket_take (bucket, 1, now + wait) == 0);
    //  Drain: a full second of nothing, from any state
    now = 40000;
    assert (token_bucket_take (bucket, 1, now) == 0);
    token_bucket_drain (bucket, now);
    wait = token_bucket_take (bucket, 1, now);
    assert (wait >= S_WINDOW_MS && wait <= S_WINDOW_MS + S_SLOT_MS);
    assert (token_bucket_take (bucket, 1, now + wait) == 0);
    token_bucket_destroy (&bucket);

    //  Oversized takes: allowed when the window is empty, then they fill it
    bucket = token_bucket_new (10);
    wait = token_bucket_take (bucket, 25, 0);
    assert (wait > 0);
    assert (token_bucket_take (bucket, 25, 500) > 0);
    assert (token_bucket_take (bucket, 25, wait) == 0);
    wait = token_bucket_take (bucket, 1, wait);
    assert (wait >= S_WINDOW_MS);
    token_bucket_destroy (&bucket);

    //  Zero and fractional units
    bucket = token_bucket_new (2.5);
    assert (token_bucket_take (bucket, 0, 0) == 0);
    assert (token_bucket_take (bucket, 0.5, 0) > 0);
    assert (token_bucket_take (bucket, 0.5, 2000) == 0);
    token_bucket_destroy (&bucket);
    //  Nonsense rates mean unlimited rather than a crash
    bucket = token_bucket_new (-3);
    assert (token_bucket_take (bucket, 1, 0) == 0);
    token_bucket_destroy (&bucket);
    bucket = token_bucket_new (NAN);
    assert (token_bucket_take (bucket, 1, 0) == 0);
    token_bucket_destroy (&bucket);

    //  Long saturated runs: never over budget in any window of a second and the guard,
    //  throughput >= 95 % of what such windows allow
    struct {
        double rate, units;
    } runs [] = {
        {10, 1}, {1, 1}, {100, 1}, {1000, 1}, {333, 1}, {25, 2.5}, {500, 20}, {7, 0.3},
    };
    for (size_t index = 0; index < sizeof (runs) / sizeof (runs [0]); index++) {
        int64_t duration = 120 * 1000;
        double total = s_simulate (runs [index].rate, runs [index].units, duration, 0, 0, verbose);
        assert (total >= 0.95 * runs [index].rate * duration / S_WINDOW_MS);
        //  With idle gaps (the case a plain token bucket gets wrong) the budget still holds.
        s_simulate (runs [index].rate, runs [index].units, duration / 4, 1700, 2300, verbose);
        s_simulate (runs [index].rate, runs [index].units, duration / 4, 333, 777, verbose);
    }
}
