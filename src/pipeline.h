/*  pipeline: the capture that `evmtap run` and `evmtap backfill` both start (DESIGN "Data
    flow"): the data dir's lock, each chain's plan and probe, the key pool, the broker,
    decoder and classifier, and per chain a dispatcher, its fetch workers and a head
    poller; then the wait for every chain's end (its --to, or a signal and the drain, or a
    failed sink) and the stop in order. The commands add what is theirs between the steps:
    run its periodic figures, backfill its range rules and its progress. */
#ifndef PIPELINE_H_INCLUDED
#define PIPELINE_H_INCLUDED

#include "evmtap.h"
#include "chain_plan.h"
#include "control_actor.h"
#include "head_poller.h"
#include "keypool.h"
#include "options.h"

typedef struct _pipeline_t pipeline_t;

//  Makes a pipeline over options (borrowed: they must outlive it) for command ("run",
//  "backfill": the lock's holder and the prefix of messages). signalled(arg) says when a
//  signal asked to stop: main owns the signals.
pipeline_t *pipeline_new (options_t *options, const char *command, bool (*signalled) (void *arg),
                          void *signalled_arg);
//  Stops what was started (the chains, the key pool, the classifier, the decoder, the
//  broker, which checkpoints what it wrote), logs each chain's last figures and lets the
//  data dir's lock go. Safe twice.
void pipeline_destroy (pipeline_t **self_p);

//  Takes the data dir's lock, plans every chain, starts the key pool, probes each chain's
//  id and reads where each starts from the checkpoint. Returns the exit code: 0 to go on.
int pipeline_prepare (pipeline_t *self);
//  Before pipeline_start: the broker checkpoints on its timer (BROKER_COMMIT_INTERVAL_MS)
//  and at each chain's end only, not whenever it is idle as it does for a head that a
//  consumer waits on. For history, where one commit per block would cost a sync of every
//  topic file and of the state store per block (four per block on 250-tx blocks).
void pipeline_commit_on_timer (pipeline_t *self);
//  Starts the decoding sources and every actor. Returns the exit code: 0 to go on.
int pipeline_start (pipeline_t *self);

//  Called every tick_ms while pipeline_wait waits.
typedef void (pipeline_tick_fn) (pipeline_t *self, void *arg);
//  Waits for every chain's end. tick NULL: logs the head pollers' figures every 10 s.
//  Returns the exit code: 0 done or drained, 1 the sink failed, 2 a chain behind its --to,
//  3 work left undone.
int pipeline_wait (pipeline_t *self, pipeline_tick_fn *tick, int tick_ms, void *arg);

//  The chains, in the options' order; plans are borrowed, set once pipeline_prepare ran.
size_t pipeline_chain_count (pipeline_t *self);
chain_plan_t *pipeline_chain_plan (pipeline_t *self, size_t index);
//  A started chain's head poller figures (head_poller_stats). 0, or -1 (busy, not started).
int pipeline_chain_stats (pipeline_t *self, size_t index, head_poller_stats_t *stats);
//  True once the broker checkpointed the end of a chain's stream; *last is then its last
//  block published, when *published says there is one.
bool pipeline_chain_flushed (pipeline_t *self, size_t index, bool *published, uint64_t *last);
//  The key pool, once pipeline_prepare started it (borrowed), else NULL.
keypool_t *pipeline_keypool (pipeline_t *self);

//  The control socket (`evmtap ctl`): pipeline_start starts it last, on --control or
//  ipc://<data-dir>/control; pipeline_wait answers its requests with
//  pipeline_control_handle (pipeline_control.c) through the functions below.
int pipeline_control_start (pipeline_t *self);
void pipeline_control_handle (pipeline_t *self, control_t *control);
//  Stops (true) or restarts handing out new block jobs on every chain.
void pipeline_pause (pipeline_t *self, bool paused);
//  The options it runs with (borrowed).
options_t *pipeline_options (pipeline_t *self);
bool pipeline_paused (pipeline_t *self);
//  Reloads (pipeline_reload) once for every SIGHUP since the last call; the control socket
//  installs the handler (main owns SIGINT and SIGTERM, which stop).
void pipeline_control_sighup (pipeline_t *self);
//  The in-process fetch workers of a chain now.
size_t pipeline_chain_workers (pipeline_t *self, size_t index);
//  The fetch workers of the chain's remote `evmtap worker` processes, as they said at their
//  join (0 without --listen, or when the dispatcher did not answer).
size_t pipeline_chain_remote_workers (pipeline_t *self, size_t index);
//  Starts or stops in-process fetch workers so that every chain has count. 0, or -1 when
//  a worker could not start.
int pipeline_scale (pipeline_t *self, size_t count);
//  `evmtap ctl BACKFILL`: publishes blocks from..to of the (one) chain beside its own
//  stream, to its topics, checkpointed as <chain>@<from>-<to>: the same command resumes it
//  after a stop. 0 when it started or resumed, 1 when the range is published already, -1
//  when refused; text says which and why.
int pipeline_backfill (pipeline_t *self, uint64_t from, uint64_t to, char *text, size_t text_size);
//  The chain's running backfill: true with its stream, range and next block.
bool pipeline_chain_backfill (pipeline_t *self, size_t index, const char **stream, uint64_t *from,
                              uint64_t *to, uint64_t *next);
//  Loads the decoding sources (ABIs, signatures) and the --watchlist files again and hands
//  them to the decoder, which uses them from its next block on. 0, or -1 with the reason
//  in err (FILE:LINE for a malformed watchlist line): then everything in use stays.
int pipeline_reload (pipeline_t *self, char *err, size_t err_size);
//  Drains and stops as on SIGTERM.
void pipeline_stop (pipeline_t *self);

#endif
