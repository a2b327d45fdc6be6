/*  backfill: `evmtap backfill`, a run over a fixed range with its own completion rules. It
    starts the pipeline of `evmtap run` (pipeline.c): the same plan, key pool, dispatcher,
    workers, broker and checkpoint, so a restart resumes after the last block published
    like `run --from --to` does. What is its own: every chain needs from and to (options),
    the range left on the data dir (backfill_range: a finished backfill says so and exits 0
    before anything starts, a range that would leave a gap is refused), and the progress on
    stderr (progress), from the head pollers' figures, the broker's end of each stream and
    the key pool's usage. */
#include "evmtap.h"
#include "backfill.h"
#include "backfill_range.h"
#include "checkpoint.h"
#include "options.h"
#include "pipeline.h"
#include "progress.h"
#include <unistd.h>

//  How often a terminal's bar is redrawn.
#define BACKFILL_BAR_INTERVAL_MS 500

//  One chain's range and its progress.
typedef struct {
    chain_plan_t *plan;     //  borrowed from the pipeline
    uint64_t from, to;      //  the range asked for
    uint64_t start;         //  its first block left, when the backfill started
    bool pooled;            //  its workers lease keys: units come from the key pool
    uint64_t units_base;    //  the pool's units of its keys when the backfill started
    uint64_t units;         //  since then, by the last sample
    progress_t *progress;
} backfill_chain_t;

typedef struct {
    pipeline_t *pipeline;
    backfill_chain_t *chains;
    size_t chain_count;
    bool bar;           //  stderr is a terminal
    bool drawn;         //  a bar was drawn: the next redraw goes back over it
    bool ended_line;    //  the last bar drawn ended its line
} backfill_t;

//  The key pool's units over the last 24 h of the keys a chain names, or false when the
//  pool does not answer.
static bool
s_pool_units (backfill_t *self, backfill_chain_t *chain, uint64_t *units)
{
    keypool_key_state_t *states = NULL;
    size_t count = 0;
    if (keypool_list (pipeline_keypool (self->pipeline), &states, &count))
        return false;
    *units = 0;
    chain_options_t *options = chain->plan->options;
    for (size_t index = 0; index < count; index++)
        for (size_t key = 0; key < options->key_count; key++)
            if (streq (states [index].key, options->keys [key]))
                *units += states [index].units_24h;
    free (states);
    return true;
}

//  Decides each chain's range. Returns the exit code: 0 to start, or done (*all_done).
static int
s_ranges (backfill_t *self, const options_t *options, bool *all_done)
{
    char err [512], text [512];
    checkpoint_t *checkpoint = checkpoint_open (options->data_dir, err, sizeof (err));
    if (!checkpoint) {
        fprintf (stderr, "evmtap backfill: %s\n", err);
        return EVMTAP_EXIT_FAILURE;
    }
    int exit_code = EVMTAP_EXIT_OK;
    *all_done = true;
    for (size_t index = 0; index < self->chain_count && exit_code == EVMTAP_EXIT_OK; index++) {
        backfill_chain_t *chain = &self->chains [index];
        backfill_range_result_t result = backfill_range_check (checkpoint, chain->plan->name,
                                                               chain->from, chain->to,
                                                               &chain->start, text, sizeof (text));
        if (result == BACKFILL_RANGE_DONE) {
            fprintf (stderr, "evmtap backfill: %s\n", text);
            chain->start = chain->to + 1;
        }
        else if (result == BACKFILL_RANGE_GO)
            *all_done = false;
        else {
            fprintf (stderr, "evmtap backfill: %s\n", text);
            exit_code = result == BACKFILL_RANGE_REFUSED ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_FAILURE;
        }
    }
    checkpoint_destroy (&checkpoint);
    return exit_code;
}

//  Samples every chain: blocks passed on by its head poller (once the broker checkpointed
//  its end, the last published), its requests, and its units.
static void
s_sample (backfill_t *self)
{
    int64_t now = zclock_mono ();
    for (size_t index = 0; index < self->chain_count; index++) {
        backfill_chain_t *chain = &self->chains [index];
        head_poller_stats_t stats = {0};
        bool known = pipeline_chain_stats (self->pipeline, index, &stats) == 0;
        uint64_t done = chain->start - chain->from;
        if (known && stats.next > chain->from)
            done = stats.next - chain->from;
        bool published;
        uint64_t last;
        if (pipeline_chain_flushed (self->pipeline, index, &published, &last))
            done = published && last >= chain->from ? last - chain->from + 1 : 0;
        uint64_t units = 0;
        if (!chain->pooled)
            chain->units = stats.requests;
        else if (s_pool_units (self, chain, &units))
            chain->units = units > chain->units_base ? units - chain->units_base : 0;
        progress_sample (chain->progress, done, stats.requests, chain->units, now);
    }
}

//  Writes every chain's line: plain lines one after the other; bars redrawn in place, one
//  terminal line per chain.
static void
s_draw (backfill_t *self)
{
    if (self->bar && self->drawn) {
        size_t up = self->chain_count - 1 + (self->ended_line ? 1 : 0);
        if (up)
            fprintf (stderr, "\033[%zuA", up);
    }
    for (size_t index = 0; index < self->chain_count; index++) {
        const char *line = progress_line (self->chains [index].progress);
        fputs (line, stderr);
        size_t size = strlen (line);
        self->ended_line = size && line [size - 1] == '\n';
        if (self->bar && !self->ended_line && index + 1 < self->chain_count)
            fputc ('\n', stderr);
    }
    fflush (stderr);
    self->drawn = true;
}

static void
s_tick (pipeline_t *pipeline, void *arg)
{
    (void) pipeline;
    backfill_t *self = (backfill_t *) arg;
    s_sample (self);
    s_draw (self);
}

//  Sets up each chain's progress from its range; the rates start now.
static void
s_progress_start (backfill_t *self)
{
    for (size_t index = 0; index < self->chain_count; index++) {
        backfill_chain_t *chain = &self->chains [index];
        chain->progress = progress_new (chain->plan->name, chain->to - chain->from + 1, self->bar);
        for (size_t worker = 0; worker < chain->plan->worker_count; worker++)
            chain->pooled |= chain->plan->workers [worker].pooled;
        if (chain->pooled && !s_pool_units (self, chain, &chain->units_base))
            chain->units_base = 0;
    }
}

//  Runs the started pipeline to its end with the progress drawn, the last figures included.
static int
s_run (backfill_t *self, const options_t *options)
{
    s_tick (self->pipeline, self);
    int exit_code = pipeline_wait (
        self->pipeline, s_tick,
        self->bar ? BACKFILL_BAR_INTERVAL_MS : options->progress_interval_ms, self);
    s_tick (self->pipeline, self);
    if (self->bar && !self->ended_line)
        fputc ('\n', stderr);
    return exit_code;
}

int
backfill_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg)
{
    char err [512] = "";
    options_t *options = options_new ();
    int rc = options_parse_backfill (options, argc, argv, stdout, err, sizeof (err));
    if (rc != 0) {
        if (rc < 0)
            fprintf (stderr, "evmtap backfill: %s\n", err);
        options_destroy (&options);
        return rc > 0 ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
    }
    backfill_t self = {.pipeline = pipeline_new (options, "backfill", signalled, arg),
                       .bar = isatty (STDERR_FILENO)};
    int exit_code = pipeline_prepare (self.pipeline);
    if (exit_code == EVMTAP_EXIT_OK) {
        self.chain_count = pipeline_chain_count (self.pipeline);
        self.chains = (backfill_chain_t *) calloc (self.chain_count, sizeof (backfill_chain_t));
        assert (self.chains);
        for (size_t index = 0; index < self.chain_count; index++) {
            backfill_chain_t *chain = &self.chains [index];
            chain->plan = pipeline_chain_plan (self.pipeline, index);
            chain->from = (uint64_t) chain->plan->options->from;
            chain->to = (uint64_t) chain->plan->options->to;
        }
        bool all_done = false;
        exit_code = s_ranges (&self, options, &all_done);
        if (exit_code == EVMTAP_EXIT_OK && !all_done) {
            s_progress_start (&self);
            pipeline_commit_on_timer (self.pipeline);
            exit_code = pipeline_start (self.pipeline);
            if (exit_code == EVMTAP_EXIT_OK)
                exit_code = s_run (&self, options);
        }
    }
    pipeline_destroy (&self.pipeline);
    for (size_t index = 0; index < self.chain_count; index++)
        progress_destroy (&self.chains [index].progress);
    free (self.chains);
    options_destroy (&options);
    return exit_code;
}
