/*  multicall: aggregate3's calldata and answer (see multicall.h). */
#include "evmtap.h"
#include "multicall.h"
#include <inttypes.h>

//  aggregate3((address,bool,bytes)[]): the first four bytes of its Keccak-256.
static const uint8_t s_aggregate3 [4] = {0x82, 0xad, 0x56, 0xcb};

static void
s_put_word (uint8_t *out, uint64_t value)
{
    memset (out, 0, 32);
    for (int index = 0; index < 8; index++)
        out [31 - index] = (uint8_t) (value >> (8 * index));
}

uint8_t *
multicall_encode (const multicall_call_t *calls, size_t count, size_t *size)
{
    //  selector, offset of the array, its length, an offset per element, then the elements:
    //  target, allowFailure, offset of callData (3 words), its length and padded bytes.
    size_t total = 4 + 32 + 32 + 32 * count;
    for (size_t index = 0; index < count; index++)
        total += 32 * 4 + (calls [index].size + 31) / 32 * 32;
    uint8_t *out = (uint8_t *) zmalloc (total);
    assert (out);
    memcpy (out, s_aggregate3, 4);
    s_put_word (out + 4, 32);
    s_put_word (out + 36, count);
    uint8_t *offsets = out + 68;
    size_t element = 32 * count;    //  relative to the offsets' start
    for (size_t index = 0; index < count; index++) {
        s_put_word (offsets + 32 * index, element);
        uint8_t *tuple = offsets + element;
        memcpy (tuple + 12, calls [index].target, 20);
        tuple [63] = 1;
        s_put_word (tuple + 64, 96);
        s_put_word (tuple + 96, calls [index].size);
        if (calls [index].size)
            memcpy (tuple + 128, calls [index].data, calls [index].size);
        element += 32 * 4 + (calls [index].size + 31) / 32 * 32;
    }
    *size = total;
    return out;
}

//  Reads a word at offset of data that must fit in 32 bits (an offset, length or bool).
//  Returns 0, or -1 when it lies outside data or is larger.
static int
s_word (const uint8_t *data, size_t size, size_t offset, uint64_t *value)
{
    if (offset > size || size - offset < 32)
        return -1;
    for (int index = 0; index < 28; index++)
        if (data [offset + index])
            return -1;
    *value = (uint64_t) data [offset + 28] << 24 | (uint64_t) data [offset + 29] << 16
             | (uint64_t) data [offset + 30] << 8 | data [offset + 31];
    return 0;
}

int
multicall_decode (const uint8_t *data, size_t size, size_t count, multicall_result_t *results,
                  char *err, size_t err_size)
{
    uint64_t array, length;
    if (s_word (data, size, 0, &array) || s_word (data, size, array, &length)) {
        snprintf (err, err_size, "aggregate3 answer: no result array in its %zu bytes", size);
        return -1;
    }
    if (length != count) {
        snprintf (err, err_size, "aggregate3 answer: %" PRIu64 " results for %zu calls", length,
                  count);
        return -1;
    }
    size_t base = array + 32;
    for (size_t index = 0; index < count; index++) {
        uint64_t element, success, offset, len;
        if (s_word (data, size, base + 32 * index, &element)
            || s_word (data, size, base + element, &success) || success > 1
            || s_word (data, size, base + element + 32, &offset)
            || s_word (data, size, base + element + offset, &len)
            || base + element + offset + 32 + len > size) {
            snprintf (err, err_size, "aggregate3 answer: result %zu out of bounds or malformed",
                      index);
            return -1;
        }
        results [index].success = success == 1;
        results [index].data = data + base + element + offset + 32;
        results [index].size = (size_t) len;
    }
    return 0;
}

//  Two calls encoded; an answer made by hand (one success, one revert) read back; every
//  truncation of it refused.
void
multicall_test (bool verbose)
{
    (void) verbose;
    const uint8_t reserves [4] = {0x09, 0x02, 0xf1, 0xac};
    uint8_t balance [36] = {0x70, 0xa0, 0x82, 0x31};
    balance [35] = 0x42;
    multicall_call_t calls [2] = {{{0}, reserves, 4}, {{0}, balance, 36}};
    calls [0].target [19] = 1;
    calls [1].target [0] = 0xff;
    size_t size;
    uint8_t *data = multicall_encode (calls, 2, &size);
    assert (size == 4 + 32 * 4 + (4 * 32 + 32) + (4 * 32 + 64));
    assert (memcmp (data, s_aggregate3, 4) == 0);
    assert (data [4 + 31] == 32 && data [36 + 31] == 2);
    assert (data [68 + 31] == 64 && data [100 + 31] == 64 + 160);
    //  First element at 68 + 64: target, true, 96, length 4, the selector.
    assert (data [132 + 31] == 1 && data [132 + 63] == 1 && data [132 + 95] == 96);
    assert (data [132 + 127] == 4 && memcmp (data + 132 + 128, reserves, 4) == 0);
    assert (data [292 + 12] == 0xff && data [292 + 127] == 36 && data [292 + 128 + 35] == 0x42);
    free (data);

    //  [(true, 0x..07 (32 bytes)), (false, 0x08c379a0)]
    uint8_t answer [32 * 11] = {0};
    answer [31] = 32;           //  array at 32
    answer [63] = 2;            //  two results
    answer [95] = 64;           //  first at base + 64
    answer [127] = 64 + 128;    //  second at base + 192 (after 4 words)
    answer [159] = 1;           //  success
    answer [191] = 64;          //  its bytes at +64
    answer [223] = 32;          //  32 bytes
    answer [255] = 7;
    answer [287] = 0;    //  second: failure
    answer [319] = 64;
    answer [351] = 4;
    //  (its 4 bytes would follow: the array is cut short to test bounds first)
    multicall_result_t results [2];
    char err [128];
    assert (multicall_decode (answer, sizeof (answer), 2, results, err, sizeof (err)) == -1);
    uint8_t full [32 * 12] = {0};
    memcpy (full, answer, sizeof (answer));
    memcpy (full + sizeof (answer), "\x08\xc3\x79\xa0", 4);
    assert (multicall_decode (full, sizeof (full), 2, results, err, sizeof (err)) == 0);
    assert (results [0].success && results [0].size == 32 && results [0].data [31] == 7);
    assert (!results [1].success && results [1].size == 4 && results [1].data [0] == 0x08);
    assert (multicall_decode (full, sizeof (full), 3, results, err, sizeof (err)) == -1);
    assert (strstr (err, "2 results for 3 calls"));
    for (size_t cut = 0; cut < sizeof (full) - 28; cut++)
        assert (multicall_decode (full, cut, 2, results, err, sizeof (err)) == -1);
    full [159] = 2;
    assert (multicall_decode (full, sizeof (full), 2, results, err, sizeof (err)) == -1);
}
