/*  cmd_worker: `evmtap worker`, fetch workers for a remote coordinator (DESIGN "Interfaces",
    actors/worker_relay.c). */
#ifndef CMD_WORKER_H_INCLUDED
#define CMD_WORKER_H_INCLUDED

#include "evmtap.h"

//  Runs `evmtap worker` (argv[0] is "worker") until signalled(arg). Returns the exit code:
//  0 stopped, 2 usage error, a missing secret or a join the coordinator refused.
int cmd_worker_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg);

#endif
