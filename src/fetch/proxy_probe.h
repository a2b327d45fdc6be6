/*  proxy_probe: the JSON-RPC calls that find the implementation behind a proxy contract,
    and the reading of their answers. One batch per address: the EIP-1967 implementation
    slot, the EIP-1967 beacon slot, the EIP-1822 PROXIABLE slot (eth_getStorageAt) and the
    code (eth_getCode: an EIP-1167 minimal proxy holds its implementation in its 45 bytes);
    a beacon then needs one eth_call of its implementation(). The first found wins, in
    that order. */
#ifndef PROXY_PROBE_H_INCLUDED
#define PROXY_PROBE_H_INCLUDED

#include "evmtap.h"

#define PROXY_PROBE_CALLS 4

typedef enum {
    PROXY_NONE = 0,        //  no implementation: not a proxy of these kinds
    PROXY_FOUND = 1,       //  the implementation is known
    PROXY_BEACON = 2,      //  a beacon is known: ask it (proxy_probe_beacon_params)
    PROXY_MALFORMED = 3    //  an answer is not what the method returns
} proxy_probe_t;

//  The calls for address (0x and 40 hex digits) at block: methods are static strings,
//  params heap strings (free them with proxy_probe_params_free).
void proxy_probe_calls (const char *address, uint64_t block,
                        const char *methods [PROXY_PROBE_CALLS], char *params [PROXY_PROBE_CALLS]);
void proxy_probe_params_free (char *params [PROXY_PROBE_CALLS]);

//  Reads the calls' results (in the order of proxy_probe_calls; NULL for an answer that
//  has none): the implementation, or the beacon, into address (43 bytes, lowercase).
proxy_probe_t proxy_probe_read (const cJSON *const results [PROXY_PROBE_CALLS], char *address);

//  The eth_call params of beacon.implementation() at block (a heap string), and the reading
//  of its result: PROXY_FOUND with the address, PROXY_NONE for zero, or PROXY_MALFORMED.
char *proxy_probe_beacon_params (const char *beacon, uint64_t block);
proxy_probe_t proxy_probe_read_beacon (const cJSON *result, char *address);

void proxy_probe_test (bool verbose);

#endif
