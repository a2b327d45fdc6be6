/*  fuzz_rlp: libFuzzer target for the RLP decoder and, through it, the encoder.

    The input is bytes. rlp_decode reads items from the front, walking lists into their
    items (to a bounded depth), and every item it accepts must lie inside what it was given.
    The decoder refuses every non-canonical form, so what it accepted, encoded again with
    rlp.h's encoder, must be the very bytes it read: a difference is a decoder that let a
    non-canonical form through or an encoder that writes one. */
#include "evmtap.h"
#include "rlp.h"

#define S_MAX_DEPTH RLP_MAX_DEPTH

static rlp_t *s_rlp;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_rlp = rlp_new ();
    return 0;
}

//  Decodes the item at data and appends it again to the encoder; returns its encoded size,
//  or 0 when the decoder refused it (or it nests deeper than the encoder may).
static size_t
s_copy_item (const uint8_t *data, size_t size, size_t depth)
{
    rlp_item_t item;
    if (rlp_decode (data, size, &item) != 0)
        return 0;
    if (item.encoded_size == 0 || item.encoded_size > size || item.payload < data
        || item.payload + item.size != data + item.encoded_size)
        __builtin_trap ();
    if (!item.is_list) {
        rlp_add_bytes (s_rlp, item.payload, item.size);
        return item.encoded_size;
    }
    if (depth == S_MAX_DEPTH)
        return 0;
    rlp_list_begin (s_rlp);
    size_t at = 0;
    while (at < item.size) {
        size_t used = s_copy_item (item.payload + at, item.size - at, depth + 1);
        if (used == 0)
            return 0;
        at += used;
    }
    if (at != item.size)
        __builtin_trap ();
    rlp_list_end (s_rlp);
    return item.encoded_size;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    rlp_reset (s_rlp);
    size_t used = s_copy_item (data, size, 0);
    if (used == 0)
        return 0;
    if (rlp_size (s_rlp) != used || memcmp (rlp_data (s_rlp), data, used) != 0)
        __builtin_trap ();
    return 0;
}
