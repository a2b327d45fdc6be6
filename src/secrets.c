/*  secrets: placeholder until the module lands. */
#include "evmtap.h"

void
secrets_test (bool verbose)
{
    (void) verbose;
}
