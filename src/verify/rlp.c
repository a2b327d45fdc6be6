/*  rlp: the encoder appends into one buffer; a list's header is written when it is closed,
    by moving its payload up by the header's length (lists are small next to the strings in
    them, and a header or envelope nests at most a few levels, so the copies stay cheap). */
#include "evmtap.h"
#include "rlp.h"
#include "hexutil.h"

struct _rlp_t {
    uint8_t *data;                  //  the encoding so far
    size_t size;                    //  bytes used
    size_t capacity;                //  bytes allocated
    size_t open [RLP_MAX_DEPTH];    //  where each open list's payload starts
    size_t depth;                   //  lists open
};

rlp_t *
rlp_new (void)
{
    rlp_t *self = (rlp_t *) zmalloc (sizeof (rlp_t));
    self->capacity = 1024;
    self->data = (uint8_t *) zmalloc (self->capacity);
    return self;
}

void
rlp_destroy (rlp_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->data);
        free (*self_p);
        *self_p = NULL;
    }
}

void
rlp_reset (rlp_t *self)
{
    assert (self);
    self->size = 0;
    self->depth = 0;
}

//  Room for more bytes at the end.
static uint8_t *
s_grow (rlp_t *self, size_t more)
{
    if (self->size + more > self->capacity) {
        while (self->size + more > self->capacity)
            self->capacity *= 2;
        self->data = (uint8_t *) realloc (self->data, self->capacity);
        assert (self->data);
    }
    uint8_t *end = self->data + self->size;
    self->size += more;
    return end;
}

//  Writes the header of a payload of size bytes (base 0x80 for strings, 0xc0 for lists)
//  into out (9 bytes); returns its length.
static size_t
s_header (uint8_t base, size_t size, uint8_t *out)
{
    if (size < 56) {
        out [0] = (uint8_t) (base + size);
        return 1;
    }
    size_t digits = 0;
    for (size_t rest = size; rest; rest >>= 8)
        digits++;
    out [0] = (uint8_t) (base + 55 + digits);
    for (size_t index = 0; index < digits; index++)
        out [digits - index] = (uint8_t) (size >> (8 * index));
    return digits + 1;
}

void
rlp_add_bytes (rlp_t *self, const uint8_t *data, size_t size)
{
    assert (self);
    if (size == 1 && data [0] < 0x80) {
        *s_grow (self, 1) = data [0];
        return;
    }
    uint8_t header [9];
    size_t header_size = s_header (0x80, size, header);
    uint8_t *out = s_grow (self, header_size + size);
    memcpy (out, header, header_size);
    if (size)
        memcpy (out + header_size, data, size);
}

void
rlp_add_uint (rlp_t *self, uint64_t value)
{
    uint8_t bytes [8];
    size_t size = 0;
    for (int shift = 56; shift >= 0; shift -= 8)
        if (size || (value >> shift) & 0xff)
            bytes [size++] = (uint8_t) (value >> shift);
    rlp_add_bytes (self, bytes, size);
}

void
rlp_add_raw (rlp_t *self, const uint8_t *data, size_t size)
{
    assert (self);
    if (size)
        memcpy (s_grow (self, size), data, size);
}

int
rlp_add_hex_data (rlp_t *self, const char *hex, size_t want_size)
{
    assert (self);
    if (!hex || hex [0] != '0' || (hex [1] != 'x' && hex [1] != 'X'))
        return -1;
    size_t digits = strlen (hex + 2);
    if (digits % 2 || (want_size && digits / 2 != want_size))
        return -1;
    size_t size = digits / 2;
    if (size == 1) {
        uint8_t byte;
        if (hex_decode_len (hex + 2, 2, &byte, 1) != 1)
            return -1;
        rlp_add_bytes (self, &byte, 1);
        return 0;
    }
    //  Decoded straight into place: calldata can be hundreds of kilobytes.
    uint8_t header [9];
    size_t header_size = s_header (0x80, size, header);
    size_t start = self->size;
    uint8_t *out = s_grow (self, header_size + size);
    memcpy (out, header, header_size);
    if (size && hex_decode_len (hex + 2, digits, out + header_size, size) != (int) size) {
        self->size = start;
        return -1;
    }
    return 0;
}

int
rlp_add_hex_uint (rlp_t *self, const char *hex)
{
    assert (self);
    if (!hex || hex [0] != '0' || (hex [1] != 'x' && hex [1] != 'X') || !hex [2])
        return -1;
    const char *digits = hex + 2;
    while (*digits == '0')
        digits++;
    size_t count = strlen (digits);
    if (count > 64)
        return -1;
    //  Right-aligned in a 64-digit field, so that an odd count gets its leading zero.
    char padded [65];
    memset (padded, '0', 64);
    memcpy (padded + 64 - count, digits, count);
    padded [64] = 0;
    size_t size = (count + 1) / 2;
    uint8_t bytes [32];
    if (size && hex_decode_len (padded + 64 - 2 * size, 2 * size, bytes, size) != (int) size)
        return -1;
    rlp_add_bytes (self, bytes, size);
    return 0;
}

void
rlp_list_begin (rlp_t *self)
{
    assert (self);
    assert (self->depth < RLP_MAX_DEPTH);
    self->open [self->depth++] = self->size;
}

void
rlp_list_end (rlp_t *self)
{
    assert (self);
    assert (self->depth > 0);
    size_t start = self->open [--self->depth];
    size_t payload = self->size - start;
    uint8_t header [9];
    size_t header_size = s_header (0xc0, payload, header);
    s_grow (self, header_size);
    memmove (self->data + start + header_size, self->data + start, payload);
    memcpy (self->data + start, header, header_size);
}

const uint8_t *
rlp_data (rlp_t *self)
{
    assert (self);
    assert (self->depth == 0);
    return self->data;
}

size_t
rlp_size (rlp_t *self)
{
    assert (self);
    assert (self->depth == 0);
    return self->size;
}

int
rlp_decode (const uint8_t *data, size_t size, rlp_item_t *item)
{
    assert (item);
    memset (item, 0, sizeof (*item));
    if (!data || size == 0)
        return -1;
    uint8_t prefix = data [0];
    if (prefix < 0x80) {
        item->payload = data;
        item->size = 1;
        item->encoded_size = 1;
        return 0;
    }
    item->is_list = prefix >= 0xc0;
    uint8_t base = item->is_list ? 0xc0 : 0x80;
    size_t header_size = 1;
    size_t payload = 0;
    if (prefix - base < 56)
        payload = prefix - base;
    else {
        size_t digits = (size_t) (prefix - base - 55);
        if (digits > sizeof (size_t) || size < 1 + digits || data [1] == 0)
            return -1;
        for (size_t index = 0; index < digits; index++)
            payload = (payload << 8) | data [1 + index];
        if (payload < 56)
            return -1;
        header_size += digits;
    }
    if (payload > size - header_size)
        return -1;
    //  A single byte below 0x80 is its own encoding.
    if (!item->is_list && payload == 1 && data [header_size] < 0x80)
        return -1;
    item->payload = data + header_size;
    item->size = payload;
    item->encoded_size = header_size + payload;
    return 0;
}


//  --------------------------------------------------------------------------
//  Selftest

static void
s_expect (rlp_t *rlp, const char *expected)
{
    const uint8_t *data = rlp_data (rlp);
    size_t size = rlp_size (rlp);
    char *hex = (char *) zmalloc (2 * size + 3);
    hex_encode (data, size, hex);
    if (strcmp (hex, expected) != 0) {
        fprintf (stderr, "rlp: %s, expected %s\n", hex, expected);
        assert (false);
    }
    free (hex);
    //  Every vector decodes back to one item of its whole length.
    rlp_item_t item;
    assert (rlp_decode (data, size, &item) == 0);
    assert (item.encoded_size == size);
    rlp_reset (rlp);
}

void
rlp_test (bool verbose)
{
    (void) verbose;
    rlp_t *rlp = rlp_new ();

    //  The vectors of the RLP specification (Ethereum wiki, Yellow Paper appendix B).
    rlp_add_bytes (rlp, (const uint8_t *) "dog", 3);
    s_expect (rlp, "0x83646f67");
    rlp_list_begin (rlp);
    rlp_add_bytes (rlp, (const uint8_t *) "cat", 3);
    rlp_add_bytes (rlp, (const uint8_t *) "dog", 3);
    rlp_list_end (rlp);
    s_expect (rlp, "0xc88363617483646f67");
    rlp_add_bytes (rlp, NULL, 0);
    s_expect (rlp, "0x80");
    rlp_list_begin (rlp);
    rlp_list_end (rlp);
    s_expect (rlp, "0xc0");
    rlp_add_uint (rlp, 0);
    s_expect (rlp, "0x80");
    rlp_add_bytes (rlp, (const uint8_t *) "\x00", 1);
    s_expect (rlp, "0x00");
    rlp_add_uint (rlp, 15);
    s_expect (rlp, "0x0f");
    rlp_add_uint (rlp, 1024);
    s_expect (rlp, "0x820400");
    //  The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
    rlp_list_begin (rlp);
    rlp_list_begin (rlp);
    rlp_list_end (rlp);
    rlp_list_begin (rlp);
    rlp_list_begin (rlp);
    rlp_list_end (rlp);
    rlp_list_end (rlp);
    rlp_list_begin (rlp);
    rlp_list_begin (rlp);
    rlp_list_end (rlp);
    rlp_list_begin (rlp);
    rlp_list_begin (rlp);
    rlp_list_end (rlp);
    rlp_list_end (rlp);
    rlp_list_end (rlp);
    rlp_list_end (rlp);
    s_expect (rlp, "0xc7c0c1c0c3c0c1c0");
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    rlp_add_bytes (rlp, (const uint8_t *) lorem, strlen (lorem));
    s_expect (rlp, "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465"
                   "747572206164697069736963696e6720656c6974");

    //  Hex input: quantities lose their leading zeros, data keeps its bytes.
    assert (rlp_add_hex_uint (rlp, "0x0") == 0);
    s_expect (rlp, "0x80");
    assert (rlp_add_hex_uint (rlp, "0x400") == 0);
    s_expect (rlp, "0x820400");
    assert (rlp_add_hex_uint (rlp, "0x0000000f") == 0);
    s_expect (rlp, "0x0f");
    assert (rlp_add_hex_uint (rlp, "0x80") == 0);
    s_expect (rlp, "0x8180");
    assert (rlp_add_hex_data (rlp, "0x0000", 0) == 0);
    s_expect (rlp, "0x820000");
    assert (rlp_add_hex_data (rlp, "0x7f", 0) == 0);
    s_expect (rlp, "0x7f");
    assert (rlp_add_hex_data (rlp, "0x", 0) == 0);
    s_expect (rlp, "0x80");
    assert (rlp_add_hex_uint (rlp, "0x") == -1);
    assert (rlp_add_hex_uint (rlp, "12") == -1);
    assert (rlp_add_hex_uint (rlp, "0x1g") == -1);
    assert (rlp_add_hex_uint (rlp, "0x1000000000000000000000000000000000000000000000000000000000000"
                                   "00000")
            == -1);
    assert (rlp_add_hex_data (rlp, "0x123", 0) == -1);
    assert (rlp_add_hex_data (rlp, "0x1234", 3) == -1);
    assert (rlp_add_hex_data (rlp, "0x12zz", 0) == -1);
    assert (rlp_size (rlp) == 0);

    //  A list of 1,000 bytes takes the long form, and reads back.
    uint8_t blob [1000];
    memset (blob, 0xab, sizeof (blob));
    rlp_list_begin (rlp);
    rlp_add_bytes (rlp, blob, sizeof (blob));
    rlp_list_end (rlp);
    const uint8_t *data = rlp_data (rlp);
    assert (rlp_size (rlp) == 1000 + 3 + 3);
    assert (data [0] == 0xf9 && data [1] == 0x03 && data [2] == 0xeb);
    rlp_item_t item, inner;
    assert (rlp_decode (data, rlp_size (rlp), &item) == 0 && item.is_list);
    assert (rlp_decode (item.payload, item.size, &inner) == 0 && !inner.is_list);
    assert (inner.size == 1000 && inner.payload [0] == 0xab);
    assert (rlp_decode (data, rlp_size (rlp) - 1, &item) == -1);
    rlp_reset (rlp);

    //  Non-canonical forms are refused.
    assert (rlp_decode ((const uint8_t *) "\x81\x05", 2, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "\xb8\x05hello", 7, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "\xb9\x00\x38", 3, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "\x83\x61\x62", 3, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "", 0, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "\xbf\xff\xff\xff\xff\xff\xff\xff\xff", 9, &item) == -1);
    assert (rlp_decode ((const uint8_t *) "\x81\x80", 2, &item) == 0 && item.size == 1);

    rlp_destroy (&rlp);
    rlp_destroy (&rlp);
}
