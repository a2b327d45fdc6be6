/*  run: `evmtap run`, the capture (DESIGN "Interfaces"): follows the head of every chain
    of the options (and catches up from --from) until --to, a signal and its drain, or a
    failure. */
#ifndef RUN_H_INCLUDED
#define RUN_H_INCLUDED

#include <stdbool.h>

//  Runs `evmtap run` (argv[0] is "run"). signalled(arg) says when a signal asked to stop:
//  main owns the signals. Returns the exit code: 0 done or drained, 1 failure, 2 usage or
//  config error, 3 stopped with work left undone.
int run_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg);

#endif
