/*  jsonrpc: placeholder until the module lands. */
#include "evmtap.h"

void
jsonrpc_test (bool verbose)
{
    (void) verbose;
}
