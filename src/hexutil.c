/*  hexutil: placeholder until the module lands. */
#include "evmtap.h"

void
hexutil_test (bool verbose)
{
    (void) verbose;
}
