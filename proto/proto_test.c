/*  placeholder */
#include "evmtap.h"
void
proto_test (bool verbose)
{
    (void) verbose;
}
