/*  zpl: placeholder until the module lands. */
#include "evmtap.h"

void
zpl_test (bool verbose)
{
    (void) verbose;
}
