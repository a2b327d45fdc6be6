/*  token_bucket: placeholder until the module lands. */
#include "evmtap.h"

void
token_bucket_test (bool verbose)
{
    (void) verbose;
}
