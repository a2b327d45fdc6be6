/*  backfill: `evmtap backfill --from A --to B`, history through the pipeline of `evmtap run`
    (DESIGN "Interfaces", README "Backfill"). */
#ifndef BACKFILL_H_INCLUDED
#define BACKFILL_H_INCLUDED

#include <stdbool.h>

//  Runs `evmtap backfill` (argv[0] is "backfill"). signalled(arg) says when a signal asked
//  to stop: main owns the signals. Returns the exit code as run_main does: 0 the range is
//  done (or was already, or drained after a signal), 1 failure, 2 usage or config error,
//  3 stopped with work left undone.
int backfill_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg);

#endif
