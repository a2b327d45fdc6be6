/*  keccak: Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA-3's
    0x06), for function selectors and event topics. The permutation is nettle's
    sha3_permute; only the sponge is written here. */
#ifndef KECCAK_H_INCLUDED
#define KECCAK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KECCAK256_SIZE 32

//  Writes the 32-byte Keccak-256 digest of data into digest.
void keccak256 (const void *data, size_t size, uint8_t digest [KECCAK256_SIZE]);

void keccak_test (bool verbose);

#endif
