/*  evmtap: project-wide helpers that belong to no single module. */
#include "evmtap.h"

const char *
evmtap_shared_data (void)
{
    const char *path = getenv ("EVMTAP_SHARED_DATA");
    return path && *path ? path : "../shared/data";
}
