/*  normalize: placeholder until the module lands. */
#include "evmtap.h"

void
normalize_test (bool verbose)
{
    (void) verbose;
}
