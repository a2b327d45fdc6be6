/*  checkpoint: placeholder until the module lands. */
#include "evmtap.h"

void
checkpoint_test (bool verbose)
{
    (void) verbose;
}
