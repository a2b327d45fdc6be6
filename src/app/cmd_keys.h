/*  cmd_keys: `evmtap keys`, the key pool's state without secrets (DESIGN "Interfaces"). */
#ifndef CMD_KEYS_H_INCLUDED
#define CMD_KEYS_H_INCLUDED

//  Runs `evmtap keys` (argv[0] is "keys"). Returns the exit code: 0 shown, 1 the pool could
//  not be read, 2 usage error.
int cmd_keys_main (int argc, char **argv);

#endif
