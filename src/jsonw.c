/*  jsonw: placeholder until the module lands. */
#include "evmtap.h"

void
jsonw_test (bool verbose)
{
    (void) verbose;
}
