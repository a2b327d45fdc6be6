/*  progress: a backfill's figures as text (see progress.h). Pure: the caller gives the
    clock, so that fixed samples give exact lines. */
#include "evmtap.h"
#include "progress.h"

//  Cells of the terminal's bar.
#define S_BAR_WIDTH 24

struct _progress_t {
    char *chain;
    uint64_t total;
    bool bar;
    bool sampled;     //  first is set
    uint64_t done;    //  the last sample
    uint64_t requests;
    uint64_t units;
    int64_t now_ms;
    uint64_t first_done;    //  the first sample: where the rates start
    uint64_t first_requests;
    uint64_t first_units;
    int64_t first_ms;
    char line [512];
};

progress_t *
progress_new (const char *chain, uint64_t total, bool bar)
{
    assert (chain && total > 0);
    progress_t *self = (progress_t *) zmalloc (sizeof (progress_t));
    assert (self);
    self->chain = strdup (chain);
    assert (self->chain);
    self->total = total;
    self->bar = bar;
    return self;
}

void
progress_destroy (progress_t **self_p)
{
    assert (self_p);
    progress_t *self = *self_p;
    if (!self)
        return;
    free (self->chain);
    free (self);
    *self_p = NULL;
}

void
progress_sample (progress_t *self, uint64_t done, uint64_t requests, uint64_t units, int64_t now_ms)
{
    assert (self);
    if (!self->sampled) {
        self->first_done = done;
        self->first_requests = requests;
        self->first_units = units;
        self->first_ms = now_ms;
        self->sampled = true;
    }
    self->done = done < self->total ? done : self->total;
    self->requests = requests;
    self->units = units;
    self->now_ms = now_ms;
}

//  A rate with the digits that matter: 310, 2.5, 0.0363 (a block of 250 transactions under
//  10 requests/s), 0.
static void
s_rate (double rate, char *text, size_t size)
{
    snprintf (text, size, rate >= 10 ? "%.0f" : rate >= 1 ? "%.1f" : "%.3g", rate);
}

//  A duration as a person reads it: 12s, 5m03s, 2h05m, 3d04h.
static void
s_duration (double seconds, char *text, size_t size)
{
    uint64_t whole = (uint64_t) (seconds + 0.5);
    if (whole < 60)
        snprintf (text, size, "%" PRIu64 "s", whole);
    else if (whole < 3600)
        snprintf (text, size, "%" PRIu64 "m%02" PRIu64 "s", whole / 60, whole % 60);
    else if (whole < 86400)
        snprintf (text, size, "%" PRIu64 "h%02" PRIu64 "m", whole / 3600, whole % 3600 / 60);
    else
        snprintf (text, size, "%" PRIu64 "d%02" PRIu64 "h", whole / 86400, whole % 86400 / 3600);
}

//  A difference of counters that may not go back; one that did (a sliding window's old
//  minutes leaving it) counts as none.
static double
s_delta (uint64_t now, uint64_t first)
{
    return now > first ? (double) (now - first) : 0;
}

const char *
progress_line (progress_t *self)
{
    assert (self && self->sampled);
    double seconds = (double) (self->now_ms - self->first_ms) / 1000.0;
    double blocks_rate = seconds > 0 ? s_delta (self->done, self->first_done) / seconds : 0;
    double requests_rate = seconds > 0 ? s_delta (self->requests, self->first_requests) / seconds
                                       : 0;
    double units_rate = seconds > 0 ? s_delta (self->units, self->first_units) / seconds : 0;
    char blocks [32], requests [32], units [32], when [48];
    s_rate (blocks_rate, blocks, sizeof (blocks));
    s_rate (requests_rate, requests, sizeof (requests));
    s_rate (units_rate, units, sizeof (units));
    bool finished = self->done == self->total;
    char duration [32] = "-";
    if (finished)
        s_duration (seconds, duration, sizeof (duration));
    else if (blocks_rate > 0)
        s_duration ((double) (self->total - self->done) / blocks_rate, duration, sizeof (duration));
    snprintf (when, sizeof (when), finished ? "done in %s" : "ETA %s", duration);
    unsigned percent = (unsigned) (self->done * 100 / self->total);
    char figures [256];
    snprintf (figures, sizeof (figures),
              "%" PRIu64 "/%" PRIu64 " %u%% %s blocks/s %s req/s %s units/s %s", self->done,
              self->total, percent, blocks, requests, units, when);
    if (!self->bar) {
        snprintf (self->line, sizeof (self->line), "backfill %s: %s\n", self->chain, figures);
        return self->line;
    }
    char cells [S_BAR_WIDTH + 1];
    size_t full = (size_t) (self->done * S_BAR_WIDTH / self->total);
    memset (cells, '#', full);
    memset (cells + full, '.', S_BAR_WIDTH - full);
    cells [S_BAR_WIDTH] = 0;
    snprintf (self->line, sizeof (self->line), "\rbackfill %s [%s] %s\033[K%s", self->chain, cells,
              figures, finished ? "\n" : "");
    return self->line;
}

void
progress_test (bool verbose)
{
    if (verbose)
        printf (" * progress: ");
    //  The start: a restart found 1000 done; no rate yet, so no ETA.
    progress_t *self = progress_new ("mainnet", 5000, false);
    progress_sample (self, 1000, 0, 0, 10000);
    assert (streq (progress_line (self),
                   "backfill mainnet: 1000/5000 20% 0 blocks/s 0 req/s 0 units/s ETA -\n"));
    //  4 s later: 1240 blocks (310/s), 1280 requests, 25600 units; 2760 left at 310/s.
    progress_sample (self, 2240, 1280, 25600, 14000);
    assert (streq (progress_line (self), "backfill mainnet: 2240/5000 44% 310 blocks/s 320 req/s "
                                         "6400 units/s ETA 9s\n"));
    //  Slow: minutes and hours left, rates below 10 with their decimals.
    progress_sample (self, 1010, 25, 25, 14000);
    assert (streq (progress_line (self), "backfill mainnet: 1010/5000 20% 2.5 blocks/s 6.2 req/s "
                                         "6.2 units/s ETA 26m36s\n"));
    progress_sample (self, 1001, 1, 1, 14000);
    assert (streq (progress_line (self), "backfill mainnet: 1001/5000 20% 0.25 blocks/s 0.25 "
                                         "req/s 0.25 units/s ETA 4h26m\n"));
    //  Units that went back (old minutes left the 24 h window) count as none.
    progress_sample (self, 1001, 1, 0, 14000);
    assert (strstr (progress_line (self), " 0 units/s "));
    //  A block of 250 transactions under 10 requests/s: three digits.
    progress_sample (self, 1002, 1, 1, 65100);
    assert (strstr (progress_line (self), " 0.0363 blocks/s "));
    //  The end: total/total 100%, and how long it took instead of an ETA.
    progress_sample (self, 5000, 4000, 4000, 90000);
    assert (streq (progress_line (self), "backfill mainnet: 5000/5000 100% 50 blocks/s 50 req/s "
                                         "50 units/s done in 1m20s\n"));
    //  Never past the total.
    progress_sample (self, 5001, 4000, 4000, 90000);
    assert (strstr (progress_line (self), " 5000/5000 100% "));
    progress_destroy (&self);
    progress_destroy (&self);

    //  The bar: redrawn in place, a newline only at the end.
    self = progress_new ("anvil", 3, true);
    progress_sample (self, 0, 0, 0, 0);
    progress_sample (self, 1, 2, 2, 2000);
    assert (streq (progress_line (self), "\rbackfill anvil [########................] 1/3 33% "
                                         "0.5 blocks/s 1.0 req/s 1.0 units/s ETA 4s\033[K"));
    progress_sample (self, 3, 6, 6, 3000);
    assert (streq (progress_line (self), "\rbackfill anvil [########################] 3/3 100% "
                                         "1.0 blocks/s 2.0 req/s 2.0 units/s done in 3s\033[K\n"));
    progress_destroy (&self);
    if (verbose)
        printf ("OK\n");
}
