/*  options: placeholder until the module lands. */
#include "evmtap.h"

void
options_test (bool verbose)
{
    (void) verbose;
}
