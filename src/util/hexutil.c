/*  hexutil: 0x-hex quantities and data as JSON-RPC writes them. Every transaction's value
    and fees go through hex_to_decimal, so the conversions use lookup tables and 32-bit
    limbs rather than a general big-number library. */
#include "evmtap.h"
#include "hexutil.h"

//  Each byte as a hex digit: HEX_DIGIT | value, or 0 when it is none (so that the
//  rest of the table stays zero without compiler extensions).
#define HEX_DIGIT 0x10
//  Laid out by hand, a row per line of the table.
// clang-format off
static const uint8_t s_hex_value [256] = {
    ['0'] = 0x10, ['1'] = 0x11, ['2'] = 0x12, ['3'] = 0x13, ['4'] = 0x14,
    ['5'] = 0x15, ['6'] = 0x16, ['7'] = 0x17, ['8'] = 0x18, ['9'] = 0x19,
    ['a'] = 0x1a, ['b'] = 0x1b, ['c'] = 0x1c, ['d'] = 0x1d, ['e'] = 0x1e, ['f'] = 0x1f,
    ['A'] = 0x1a, ['B'] = 0x1b, ['C'] = 0x1c, ['D'] = 0x1d, ['E'] = 0x1e, ['F'] = 0x1f,
};
// clang-format on

static const char s_hex_digits [] = "0123456789abcdef";

//  The 100 two-digit pairs, so decimal conversion writes two digits per division.
static const char s_decimal_pairs [201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

//  Skips the "0x" prefix (either case); NULL when text has none.
static const char *
s_skip_prefix (const char *text)
{
    if (text && text [0] == '0' && (text [1] == 'x' || text [1] == 'X'))
        return text + 2;
    return NULL;
}

//  Checks the digits of a quantity: at least one, all hex. Returns the number of
//  significant digits (leading zeros skipped) and sets *first to the first of them,
//  or returns -1.
static int
s_quantity_digits (const char *hex, const char **first)
{
    const char *digits = s_skip_prefix (hex);
    if (!digits || *digits == 0)
        return -1;
    while (*digits == '0')
        digits++;
    const char *scan = digits;
    while (s_hex_value [(uint8_t) *scan])
        scan++;
    if (*scan)
        return -1;
    //  Anything longer than 256 bits is rejected by every caller; cap to keep int.
    size_t count = (size_t) (scan - digits);
    *first = digits;
    return count > 1024 ? 1024 : (int) count;
}

size_t
hex_u64_to_decimal (uint64_t value, char *out)
{
    char reversed [20];
    size_t len = 0;
    while (value >= 100) {
        unsigned pair = (unsigned) (value % 100) * 2;
        value /= 100;
        reversed [len++] = s_decimal_pairs [pair + 1];
        reversed [len++] = s_decimal_pairs [pair];
    }
    if (value >= 10) {
        unsigned pair = (unsigned) value * 2;
        reversed [len++] = s_decimal_pairs [pair + 1];
        reversed [len++] = s_decimal_pairs [pair];
    }
    else
        reversed [len++] = (char) ('0' + value);
    for (size_t index = 0; index < len; index++)
        out [index] = reversed [len - 1 - index];
    out [len] = 0;
    return len;
}

int
hex_to_u64 (const char *hex, uint64_t *value)
{
    const char *digits;
    int count = s_quantity_digits (hex, &digits);
    if (count < 0 || count > 16)
        return -1;
    uint64_t result = 0;
    for (int index = 0; index < count; index++)
        result = (result << 4) | (s_hex_value [(uint8_t) digits [index]] & 15);
    *value = result;
    return 0;
}

int
hex_word_to_decimal (const uint8_t word [32], char *out, size_t out_size)
{
    assert (word);
    assert (out);
    //  Little-endian 32-bit limbs; limb_count leaves out the zero ones at the top.
    uint32_t limbs [8];
    for (int limb = 0; limb < 8; limb++) {
        const uint8_t *bytes = word + 28 - 4 * limb;
        limbs [limb] = (uint32_t) bytes [0] << 24 | (uint32_t) bytes [1] << 16
                       | (uint32_t) bytes [2] << 8 | bytes [3];
    }
    int limb_count = 8;
    while (limb_count > 0 && limbs [limb_count - 1] == 0)
        limb_count--;
    if (limb_count <= 2) {
        //  Most values (amounts, counts, ids) fit 64 bits: one pass, two digits at a time.
        uint64_t value = (uint64_t) limbs [1] << 32 | limbs [0];
        if (out_size >= 21)
            return (int) hex_u64_to_decimal (value, out);
        char digits [21];
        size_t len = hex_u64_to_decimal (value, digits);
        if (len + 1 > out_size)
            return -1;
        memcpy (out, digits, len + 1);
        return (int) len;
    }
    //  Repeated division by 10^9 yields nine decimal digits per pass, lowest first.
    uint32_t chunks [9];
    int chunk_count = 0;
    while (limb_count > 0) {
        uint64_t remainder = 0;
        for (int index = limb_count - 1; index >= 0; index--) {
            uint64_t current = (remainder << 32) | limbs [index];
            limbs [index] = (uint32_t) (current / 1000000000u);
            remainder = current % 1000000000u;
        }
        chunks [chunk_count++] = (uint32_t) remainder;
        while (limb_count > 0 && limbs [limb_count - 1] == 0)
            limb_count--;
    }
    char first [21];
    size_t first_len = hex_u64_to_decimal (chunks [chunk_count - 1], first);
    size_t total = first_len + (size_t) (chunk_count - 1) * 9;
    if (total + 1 > out_size)
        return -1;
    memcpy (out, first, first_len);
    char *cursor = out + first_len;
    for (int index = chunk_count - 2; index >= 0; index--) {
        uint32_t chunk = chunks [index];
        for (int digit = 8; digit >= 0; digit--) {
            cursor [digit] = (char) ('0' + chunk % 10);
            chunk /= 10;
        }
        cursor += 9;
    }
    *cursor = 0;
    return (int) total;
}

int
hex_to_decimal (const char *hex, char *out, size_t out_size)
{
    assert (out);
    const char *digits;
    int count = s_quantity_digits (hex, &digits);
    //  21 bytes hold any value of 64 bits; a wider one needs at least that too.
    if (count < 0 || count > 64 || out_size < 21)
        return -1;
    if (count <= 16) {
        //  Most quantities (gas, values, nonces) fit 64 bits: no word to fill.
        uint64_t value = 0;
        for (int index = 0; index < count; index++)
            value = (value << 4) | (s_hex_value [(uint8_t) digits [index]] & 15);
        hex_u64_to_decimal (value, out);
        return 0;
    }
    //  The digits fill the word from its last byte backwards, two to a byte.
    uint8_t word [32] = {0};
    int byte = 31;
    int index = count;
    for (; index >= 2; index -= 2)
        word [byte--] = (uint8_t) ((s_hex_value [(uint8_t) digits [index - 2]] & 15) << 4
                                   | (s_hex_value [(uint8_t) digits [index - 1]] & 15));
    if (index)
        word [byte] = s_hex_value [(uint8_t) digits [0]] & 15;
    return hex_word_to_decimal (word, out, out_size) < 0 ? -1 : 0;
}

bool
hex_is_valid (const char *text)
{
    const char *digits = s_skip_prefix (text);
    if (!digits)
        return false;
    while (s_hex_value [(uint8_t) *digits])
        digits++;
    return *digits == 0;
}

void
hex_lower (const char *text, char *out)
{
    assert (text);
    assert (out);
    while (*text) {
        char c = *text++;
        *out++ = (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
    }
    *out = 0;
}

int
hex_decode_len (const char *hex, size_t len, uint8_t *out, size_t out_size)
{
    if (!hex)
        return -1;
    const char *digits = hex;
    if (len >= 2 && hex [0] == '0' && (hex [1] == 'x' || hex [1] == 'X')) {
        digits += 2;
        len -= 2;
    }
    if (len % 2 || len / 2 > out_size || len / 2 > INT_MAX)
        return -1;
    for (size_t index = 0; index < len / 2; index++) {
        uint8_t high = s_hex_value [(uint8_t) digits [2 * index]];
        uint8_t low = s_hex_value [(uint8_t) digits [2 * index + 1]];
        if (!(high & low & HEX_DIGIT))
            return -1;
        out [index] = (uint8_t) ((high & 15) << 4 | (low & 15));
    }
    return (int) (len / 2);
}

int
hex_decode (const char *hex, uint8_t *out, size_t out_size)
{
    if (!hex)
        return -1;
    return hex_decode_len (hex, strlen (hex), out, out_size);
}

void
hex_encode (const uint8_t *data, size_t size, char *out)
{
    assert (out);
    assert (data || size == 0);
    *out++ = '0';
    *out++ = 'x';
    for (size_t index = 0; index < size; index++) {
        *out++ = s_hex_digits [data [index] >> 4];
        *out++ = s_hex_digits [data [index] & 15];
    }
    *out = 0;
}

//  --------------------------------------------------------------------------
//  Selftest

static void
s_check_decimal (const char *hex, const char *expected)
{
    char out [HEX_DECIMAL_MAX];
    int rc = hex_to_decimal (hex, out, sizeof out);
    if (!expected) {
        assert (rc == -1);
        return;
    }
    if (rc != 0 || strcmp (out, expected) != 0) {
        fprintf (stderr, "hex_to_decimal (%s) = %s, expected %s\n", hex, rc == 0 ? out : "error",
                 expected);
        assert (false);
    }
}

void
hexutil_test (bool verbose)
{
    (void) verbose;
    uint64_t value = 42;

    //  hex_to_u64
    assert (hex_to_u64 ("0x0", &value) == 0 && value == 0);
    assert (hex_to_u64 ("0x1a", &value) == 0 && value == 26);
    assert (hex_to_u64 ("0x1A", &value) == 0 && value == 26);
    assert (hex_to_u64 ("0X1a", &value) == 0 && value == 26);
    assert (hex_to_u64 ("0x00000000000000000000001a", &value) == 0 && value == 26);
    assert (hex_to_u64 ("0xffffffffffffffff", &value) == 0 && value == UINT64_MAX);
    assert (hex_to_u64 ("0x0ffffffffffffffff", &value) == 0 && value == UINT64_MAX);
    assert (hex_to_u64 ("0x12fa660", &value) == 0 && value == 19900000);
    value = 7;
    assert (hex_to_u64 ("0x10000000000000000", &value) == -1);
    assert (hex_to_u64 ("0x", &value) == -1);
    assert (hex_to_u64 ("", &value) == -1);
    assert (hex_to_u64 ("12", &value) == -1);
    assert (hex_to_u64 ("0x1g", &value) == -1);
    assert (hex_to_u64 ("0x 1", &value) == -1);
    assert (hex_to_u64 ("0x1 ", &value) == -1);
    assert (hex_to_u64 ("-0x1", &value) == -1);
    assert (hex_to_u64 (NULL, &value) == -1);
    assert (value == 7);

    //  hex_u64_to_decimal
    char text [HEX_DECIMAL_MAX];
    assert (hex_u64_to_decimal (0, text) == 1 && streq (text, "0"));
    assert (hex_u64_to_decimal (9, text) == 1 && streq (text, "9"));
    assert (hex_u64_to_decimal (10, text) == 2 && streq (text, "10"));
    assert (hex_u64_to_decimal (100, text) == 3 && streq (text, "100"));
    assert (hex_u64_to_decimal (1234567, text) == 7 && streq (text, "1234567"));
    assert (hex_u64_to_decimal (UINT64_MAX, text) == 20 && streq (text, "18446744073709551615"));
    for (uint64_t probe = 1; probe < UINT64_MAX / 3; probe = probe * 3 + 1) {
        char expected [32];
        snprintf (expected, sizeof expected, "%" PRIu64, probe);
        hex_u64_to_decimal (probe, text);
        assert (streq (text, expected));
    }

    //  hex_to_decimal: values checked with Python's int(x, 16)
    s_check_decimal ("0x0", "0");
    s_check_decimal ("0x000", "0");
    s_check_decimal ("0x1", "1");
    s_check_decimal ("0xde0b6b3a7640000", "1000000000000000000");
    s_check_decimal ("0xffffffffffffffff", "18446744073709551615");
    s_check_decimal ("0x10000000000000000", "18446744073709551616");
    s_check_decimal ("0x3b9aca00", "1000000000");
    s_check_decimal ("0xde0b6b3a76400000", "16000000000000000000");
    s_check_decimal ("0x152d02c7e14af6800000", "100000000000000000000000");
    s_check_decimal ("0x56bc75e2d63100000", "100000000000000000000");
    s_check_decimal ("0xDE0B6B3A7640000", "1000000000000000000");
    s_check_decimal ("0x0000000000000000000000000000000000000000000000000000000000000000000001",
                     "1");
    s_check_decimal (
        "0x1000000000000000000000000000000000000000000000000000000000000000",
        "7237005577332262213973186563042994240829374041602535252466099000494570602496");
    s_check_decimal (
        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    s_check_decimal (
        "0x00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    //  Limb boundaries: 2^32, 2^96 and 10^18 exactly (a chunk of nine zeros).
    s_check_decimal ("0x100000000", "4294967296");
    s_check_decimal ("0x1000000000000000000000000", "79228162514264337593543950336");
    s_check_decimal ("0xc9f2c9cd04674edea40000000", "1000000000000000000000000000000");
    s_check_decimal ("0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL);
    s_check_decimal ("0x", NULL);
    s_check_decimal ("0xz", NULL);
    s_check_decimal ("0x12345678901234567890x", NULL);
    s_check_decimal ("1234", NULL);
    s_check_decimal (NULL, NULL);
    //  Too small an output buffer is an error, not an overflow.
    assert (hex_to_decimal ("0xde0b6b3a7640000", text, 5) == -1);
    assert (hex_to_decimal ("0x152d02c7e14af6800000", text, 24) == -1);
    assert (hex_to_decimal ("0x152d02c7e14af6800000", text, 25) == 0);
    assert (streq (text, "100000000000000000000000"));

    //  hex_word_to_decimal: the same digits from 32 big-endian bytes
    uint8_t word [32] = {0};
    assert (hex_word_to_decimal (word, text, sizeof text) == 1 && streq (text, "0"));
    word [23] = 1;    //  2^64, just past the 64-bit path
    assert (hex_word_to_decimal (word, text, sizeof text) == 20
            && streq (text, "18446744073709551616"));
    assert (hex_word_to_decimal (word, text, 20) == -1);
    memset (word, 0xFF, sizeof word);
    assert (hex_word_to_decimal (word, text, sizeof text) == 78
            && streq (
                text,
                "115792089237316195423570985008687907853269984665640564039457584007913129639935"));
    memset (word, 0, sizeof word);
    word [31] = 42;    //  small values fit small buffers
    assert (hex_word_to_decimal (word, text, 3) == 2 && streq (text, "42"));
    assert (hex_word_to_decimal (word, text, 2) == -1);

    //  hex_is_valid
    assert (hex_is_valid ("0x"));
    assert (hex_is_valid ("0x0"));
    assert (hex_is_valid ("0xdeadBEEF"));
    assert (hex_is_valid ("0X00"));
    assert (!hex_is_valid ("0xdeadbeefg"));
    assert (!hex_is_valid ("deadbeef"));
    assert (!hex_is_valid (""));
    assert (!hex_is_valid ("0"));
    assert (!hex_is_valid (NULL));
    assert (!hex_is_valid ("0x\xc3\xa9"));

    //  hex_lower
    hex_lower ("0xDEADbeef", text);
    assert (streq (text, "0xdeadbeef"));
    hex_lower ("", text);
    assert (streq (text, ""));

    //  hex_decode / hex_encode
    uint8_t bytes [8];
    assert (hex_decode ("0x", bytes, sizeof bytes) == 0);
    assert (hex_decode ("", bytes, sizeof bytes) == 0);
    assert (hex_decode ("0x00ff10Ab", bytes, sizeof bytes) == 4);
    assert (bytes [0] == 0 && bytes [1] == 0xff && bytes [2] == 0x10 && bytes [3] == 0xab);
    assert (hex_decode ("00ff", bytes, sizeof bytes) == 2);
    assert (hex_decode ("0x0", bytes, sizeof bytes) == -1);
    assert (hex_decode ("0x0g", bytes, sizeof bytes) == -1);
    assert (hex_decode ("0x000000000000000000", bytes, sizeof bytes) == -1);
    assert (hex_decode ("0x0000000000000000", bytes, sizeof bytes) == 8);
    assert (hex_decode (NULL, bytes, sizeof bytes) == -1);
    //  hex_decode_len reads len bytes only, and no NUL among them
    assert (hex_decode_len ("0x00ffXYZ", 6, bytes, sizeof bytes) == 2 && bytes [1] == 0xff);
    assert (hex_decode_len ("ab", 2, bytes, sizeof bytes) == 1 && bytes [0] == 0xab);
    assert (hex_decode_len ("0x\0\0", 4, bytes, sizeof bytes) == -1);
    assert (hex_decode_len ("0x0x12", 6, bytes, sizeof bytes) == -1);
    assert (hex_decode_len ("0", 1, bytes, sizeof bytes) == -1);
    assert (hex_decode_len (NULL, 0, bytes, sizeof bytes) == -1);
    uint8_t sample [] = {0x00, 0x01, 0xab, 0xff};
    hex_encode (sample, sizeof sample, text);
    assert (streq (text, "0x0001abff"));
    hex_encode (NULL, 0, text);
    assert (streq (text, "0x"));
    assert (hex_decode (text, bytes, 0) == 0);
}
