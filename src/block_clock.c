/*  block_clock: placeholder until the module lands. */
#include "evmtap.h"

void
block_clock_test (bool verbose)
{
    (void) verbose;
}
