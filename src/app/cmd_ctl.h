/*  cmd_ctl: `evmtap ctl`, a client of a running coordinator's control socket (DESIGN
    "Interfaces"; the answers in docs/control.md). */
#ifndef CMD_CTL_H_INCLUDED
#define CMD_CTL_H_INCLUDED

//  Runs `evmtap ctl` (argv[0] is "ctl"). Returns the exit code: 0 done, 1 the coordinator
//  could not be reached in time or refused, 2 usage error.
int cmd_ctl_main (int argc, char **argv);

#endif
