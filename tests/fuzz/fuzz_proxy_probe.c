/*  fuzz_proxy_probe: libFuzzer target for the answers a node gives to the proxy lookups
    (eth_getStorageAt, eth_getCode, eth_call), which the decoder trusts to pick an ABI.

    The input is a JSON array (read with cJSON, as the worker reads the answers): its
    first four items are the four results of proxy_probe_calls, the fifth the beacon's.
    Whatever they are, an address given back is 0x and 40 lowercase hex digits. */
#include "evmtap.h"
#include "proxy_probe.h"

static void
s_check_address (const char *address)
{
    if (strlen (address) != 42 || address [0] != '0' || address [1] != 'x')
        __builtin_trap ();
    for (size_t index = 2; index < 42; index++)
        if (!strchr ("0123456789abcdef", address [index]))
            __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength ((const char *) data, size);
    const cJSON *results [PROXY_PROBE_CALLS];
    for (int index = 0; index < PROXY_PROBE_CALLS; index++)
        results [index] = cJSON_GetArrayItem (root, index);
    char address [43] = "";
    proxy_probe_t found = proxy_probe_read (results, address);
    if (found > PROXY_MALFORMED)
        __builtin_trap ();
    if (found == PROXY_FOUND || found == PROXY_BEACON)
        s_check_address (address);
    char beacon [43] = "";
    found = proxy_probe_read_beacon (cJSON_GetArrayItem (root, 4), beacon);
    if (found == PROXY_FOUND)
        s_check_address (beacon);
    else if (found != PROXY_NONE && found != PROXY_MALFORMED)
        __builtin_trap ();
    cJSON_Delete (root);
    return 0;
}
