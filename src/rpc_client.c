/*  rpc_client: placeholder until the module lands. */
#include "evmtap.h"

void
rpc_client_test (bool verbose)
{
    (void) verbose;
}
