/*  cmd_cert: `evmtap cert new DIR NAME`, a CURVE certificate pair for a coordinator, a
    worker or an operator (curve_auth). */
#ifndef CMD_CERT_H_INCLUDED
#define CMD_CERT_H_INCLUDED

//  Runs `evmtap cert` (argv[0] is "cert"). Returns the exit code: 0 made, 1 it could not be
//  written, 2 usage error.
int cmd_cert_main (int argc, char **argv);

#endif
