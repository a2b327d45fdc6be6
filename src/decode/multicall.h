/*  multicall: Multicall3's aggregate3 (the contract deployed at the same address on most EVM
    chains, 0xcA11bde05977b3631167028862bE2a173976CA11): the calldata of one aggregate3 over
    several calls, each allowed to fail, and the reading of its answer, one (success,
    returnData) per call, so that the view calls of one block cost one eth_call. The answer
    is outside input: every offset and length is checked before it is used. */
#ifndef MULTICALL_H_INCLUDED
#define MULTICALL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The canonical Multicall3 address.
#define MULTICALL_ADDRESS "0xca11bde05977b3631167028862be2a173976ca11"

//  One call of an aggregate3: the contract and its calldata (borrowed).
typedef struct {
    uint8_t target [20];
    const uint8_t *data;
    size_t size;
} multicall_call_t;

//  One call's outcome in an answer: whether it succeeded, and what it returned (or its
//  revert data), pointing into the answer.
typedef struct {
    bool success;
    const uint8_t *data;
    size_t size;
} multicall_result_t;

//  The calldata of aggregate3 over count calls, every one with allowFailure true. A heap
//  buffer of *size bytes.
uint8_t *multicall_encode (const multicall_call_t *calls, size_t count, size_t *size);

//  Reads an aggregate3 answer of count results into results. Returns 0, or -1 with the
//  reason in err (another count, an offset or length out of bounds, a bool not 0 or 1).
int multicall_decode (const uint8_t *data, size_t size, size_t count, multicall_result_t *results,
                      char *err, size_t err_size);

void multicall_test (bool verbose);

#endif
