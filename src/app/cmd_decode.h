/*  cmd_decode: `evmtap decode`, the offline decoder (DESIGN "Interfaces"). */
#ifndef CMD_DECODE_H_INCLUDED
#define CMD_DECODE_H_INCLUDED

//  Runs `evmtap decode` (argv[0] is "decode"). Returns the exit code: 0 decoded, 1 not
//  decoded (the record is still printed), 2 usage error.
int cmd_decode_main (int argc, char **argv);

#endif
