/*  keccak: the Keccak-256 sponge over nettle's Keccak-f[1600] permutation. Rate 136 bytes
    (capacity 512 bits); the last block is padded with 0x01 ... 0x80 as the Keccak
    submission did, which is what Ethereum hashes with (SHA3-256 pads with 0x06). */
#include "evmtap.h"
#include "keccak.h"
#include <nettle/sha3.h>
#include "hexutil.h"

#define KECCAK256_RATE 136

//  XORs one block of the rate into the state's lanes, which are little-endian 64-bit
//  words: copied whole on a little-endian host (block proofs hash megabytes a second, and
//  the byte loop cost a quarter of each block's time), assembled byte by byte elsewhere.
static void
s_absorb (struct sha3_state *state, const uint8_t *block)
{
    for (size_t lane = 0; lane < KECCAK256_RATE / 8; lane++) {
        uint64_t word = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy (&word, block + lane * 8, 8);
#else
        for (size_t byte = 0; byte < 8; byte++)
            word |= (uint64_t) block [lane * 8 + byte] << (8 * byte);
#endif
        state->a [lane] ^= word;
    }
    sha3_permute (state);
}

void
keccak256 (const void *data, size_t size, uint8_t digest [KECCAK256_SIZE])
{
    struct sha3_state state;
    memset (&state, 0, sizeof (state));
    const uint8_t *bytes = (const uint8_t *) data;
    while (size >= KECCAK256_RATE) {
        s_absorb (&state, bytes);
        bytes += KECCAK256_RATE;
        size -= KECCAK256_RATE;
    }
    uint8_t last [KECCAK256_RATE];
    memset (last, 0, sizeof (last));
    if (size)
        memcpy (last, bytes, size);
    last [size] ^= 0x01;
    last [KECCAK256_RATE - 1] ^= 0x80;
    s_absorb (&state, last);
    for (size_t byte = 0; byte < KECCAK256_SIZE; byte++)
        digest [byte] = (uint8_t) (state.a [byte / 8] >> (8 * (byte % 8)));
}

static void
s_check (const char *text, size_t size, const char *expected)
{
    uint8_t digest [KECCAK256_SIZE];
    char hex [2 * KECCAK256_SIZE + 3];
    keccak256 (text, size, digest);
    hex_encode (digest, sizeof (digest), hex);
    if (strcmp (hex + 2, expected) != 0) {
        fprintf (stderr, "keccak256 of %zu bytes: %s, expected %s\n", size, hex + 2, expected);
        assert (false);
    }
}

//  Known digests: the empty string, selectors and topics everyone can check with cast, and
//  inputs at and around the rate (135, 136, 137 bytes) where the padding changes blocks.
void
keccak_test (bool verbose)
{
    (void) verbose;
    s_check ("", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    s_check ("transfer(address,uint256)", 25,
             "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b");
    s_check ("Transfer(address,address,uint256)", 33,
             "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
    s_check ("abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    char block [300];
    memset (block, 'a', sizeof (block));
    s_check (block, 135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446");
    s_check (block, 136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e");
    s_check (block, 137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39");
    s_check (block, 300, "5b7e0e47a96f32a88b4f14ca177982790807c40e1a105742ba0fc1babe1ef826");
}
