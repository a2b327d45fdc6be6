/*  main: placeholder */
#include "evmtap.h"
int
main (void)
{
    return 0;
}
