/*  abi_decode: a recursive walk of the type tree over the data. Each value reads its head
    word at an absolute position; dynamic values follow an offset relative to the start of
    their enclosing tuple or array (base). Before any read, the position is checked against
    the data; before any loop over a count read from the data, the count is checked against
    the bytes that remain, so lengths like 2**255 fail without allocating or looping.

    Offsets may alias (two values pointing at one tail), which would let a few bytes
    describe an exponential number of values, so every value spends one unit of a budget
    proportional to the data's size (bytes and strings one more per 32 bytes); canonical
    encodings never come near it. Values are checked as Solidity's strict decoder does
    (uintN and intN in range, address and bytesN padding, bool 0 or 1), which also lets the
    call decoder tell colliding selectors apart. */
#include "evmtap.h"
#include "abi_decode.h"
#include "keccak.h"
#include "abi_type.h"
#include "hexutil.h"
#include "jsonw.h"

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t end;       //  just past the highest byte used so far
    size_t budget;    //  values left to decode (see the banner)
    jsonw_t *writer;
    char *err;
    size_t err_size;
    char arg [72];    //  the top-level parameter being decoded, for reasons
} s_ctx_t;

static int s_decode (s_ctx_t *ctx, const abi_type_t *type, size_t pos, size_t base);

static int
s_fail (s_ctx_t *ctx, const char *format, ...)
{
    char reason [160];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof (reason), format, args);
    va_end (args);
    if (ctx->err && ctx->err_size)
        snprintf (ctx->err, ctx->err_size, "%s: %s", ctx->arg, reason);
    return -1;
}

static void
s_touch (s_ctx_t *ctx, size_t end)
{
    if (end > ctx->end)
        ctx->end = end;
}

static int
s_spend (s_ctx_t *ctx, size_t cost)
{
    if (cost > ctx->budget)
        return s_fail (ctx, "too many values for %zu bytes of data (overlapping offsets)",
                       ctx->size);
    ctx->budget -= cost;
    return 0;
}

//  Checks that a whole word is at pos.
static int
s_need_word (s_ctx_t *ctx, size_t pos, const char *what)
{
    if (pos > ctx->size || ctx->size - pos < 32)
        return s_fail (ctx, "%s at byte %zu is past the end of the data (%zu bytes)", what, pos,
                       ctx->size);
    return 0;
}

//  Reads the word at pos as a size (an offset, a length or a count); it must fit in 64 bits
//  and be at most limit, else the reason names it.
static int
s_read_size (s_ctx_t *ctx, size_t pos, size_t limit, const char *what, size_t *value)
{
    if (s_need_word (ctx, pos, what))
        return -1;
    const uint8_t *word = ctx->data + pos;
    bool wide = false;
    for (size_t index = 0; index < 24; index++)
        wide |= word [index] != 0;
    uint64_t number = 0;
    for (size_t index = 24; index < 32; index++)
        number = number << 8 | word [index];
    s_touch (ctx, pos + 32);
    if (wide || number > limit) {
        char decimal [80];
        abi_word_to_decimal (word, false, decimal);
        return s_fail (ctx, "%s %s at byte %zu is larger than the %zu bytes of data left", what,
                       decimal, pos, limit);
    }
    *value = (size_t) number;
    return 0;
}

size_t
abi_word_to_decimal (const uint8_t word [32], bool is_signed, char *out)
{
    uint8_t magnitude [32];
    memcpy (magnitude, word, 32);
    bool negative = is_signed && (word [0] & 0x80);
    if (negative) {
        //  Two's complement: invert and add one.
        unsigned carry = 1;
        for (size_t index = 32; index-- > 0;) {
            unsigned sum = (uint8_t) ~magnitude [index] + carry;
            magnitude [index] = (uint8_t) sum;
            carry = sum >> 8;
        }
    }
    size_t pos = 0;
    if (negative)
        out [pos++] = '-';
    //  out holds HEX_DECIMAL_MAX bytes (see the header): room for a sign and 78 digits.
    int len = hex_word_to_decimal (magnitude, out + pos, HEX_DECIMAL_MAX - pos);
    assert (len > 0);
    return pos + (size_t) len;
}

//  An elementary static value: the word at pos, checked and written.
static int
s_decode_word (s_ctx_t *ctx, const abi_type_t *type, const uint8_t *word)
{
    char decimal [80];
    size_t zeros = 0;    //  bytes that must be zero (or the sign) at the high end
    switch (type->kind) {
        case ABI_UINT:
            zeros = 32 - type->size / 8;
            for (size_t index = 0; index < zeros; index++)
                if (word [index])
                    return s_fail (ctx, "value does not fit uint%u", type->size);
            jsonw_string_len (ctx->writer, decimal, abi_word_to_decimal (word, false, decimal));
            return 0;
        case ABI_INT: {
            zeros = 32 - type->size / 8;
            uint8_t sign = (word [zeros] & 0x80) ? 0xFF : 0x00;
            for (size_t index = 0; index < zeros; index++)
                if (word [index] != sign)
                    return s_fail (ctx, "value does not fit int%u", type->size);
            jsonw_string_len (ctx->writer, decimal, abi_word_to_decimal (word, true, decimal));
            return 0;
        }
        case ABI_ADDRESS:
            for (size_t index = 0; index < 12; index++)
                if (word [index])
                    return s_fail (ctx, "address with nonzero upper bytes");
            jsonw_bytes_hex (ctx->writer, word + 12, 20);
            return 0;
        case ABI_BOOL:
            for (size_t index = 0; index < 31; index++)
                if (word [index])
                    return s_fail (ctx, "bool that is neither 0 nor 1");
            if (word [31] > 1)
                return s_fail (ctx, "bool that is neither 0 nor 1");
            jsonw_bool (ctx->writer, word [31] == 1);
            return 0;
        case ABI_BYTES_FIXED:
            for (size_t index = type->size; index < 32; index++)
                if (word [index])
                    return s_fail (ctx, "bytes%u with nonzero padding", type->size);
            jsonw_bytes_hex (ctx->writer, word, type->size);
            return 0;
        default:
            assert (false);
    }
    return -1;
}

//  The components of a tuple whose head starts at base. Objects when every component is
//  named (distinct names), arrays otherwise.
static int
s_decode_tuple (s_ctx_t *ctx, const abi_type_t *tuple, size_t base)
{
    if (tuple->all_named)
        jsonw_object_begin (ctx->writer);
    else
        jsonw_array_begin (ctx->writer);
    size_t pos = base;
    for (size_t index = 0; index < tuple->count; index++) {
        if (tuple->all_named)
            jsonw_key (ctx->writer, tuple->names [index]);
        if (s_decode (ctx, tuple->components [index], pos, base))
            return -1;
        pos += tuple->components [index]->head_size;
    }
    if (tuple->all_named)
        jsonw_object_end (ctx->writer);
    else
        jsonw_array_end (ctx->writer);
    return 0;
}

//  count elements whose heads start at base. The caller has checked that the heads fit.
static int
s_decode_elements (s_ctx_t *ctx, const abi_type_t *element, size_t count, size_t base)
{
    jsonw_array_begin (ctx->writer);
    for (size_t index = 0; index < count; index++)
        if (s_decode (ctx, element, base + index * element->head_size, base))
            return -1;
    jsonw_array_end (ctx->writer);
    return 0;
}

//  A dynamic value whose tail starts at pos.
static int
s_decode_tail (s_ctx_t *ctx, const abi_type_t *type, size_t pos)
{
    size_t len;
    switch (type->kind) {
        case ABI_BYTES:
        case ABI_STRING:
            if (s_read_size (ctx, pos, ctx->size - pos >= 32 ? ctx->size - pos - 32 : 0, "length",
                             &len)
                || s_spend (ctx, len / 32))
                return -1;
            if (type->kind == ABI_STRING)
                jsonw_string_len (ctx->writer, (const char *) ctx->data + pos + 32, len);
            else
                jsonw_bytes_hex (ctx->writer, ctx->data + pos + 32, len);
            //  The padding up to a whole word counts as used when it is there.
            size_t padded = pos + 32 + (len + 31) / 32 * 32;
            s_touch (ctx, padded < ctx->size ? padded : ctx->size);
            return 0;
        case ABI_ARRAY: {
            size_t left = ctx->size - pos >= 32 ? ctx->size - pos - 32 : 0;
            if (s_read_size (ctx, pos, left / type->element->head_size, "array length", &len)
                || s_spend (ctx, len))
                return -1;
            return s_decode_elements (ctx, type->element, len, pos + 32);
        }
        case ABI_ARRAY_FIXED:
            if (ctx->size - pos < type->length * type->element->head_size)
                return s_fail (ctx, "array at byte %zu runs past the end of the data", pos);
            if (s_spend (ctx, type->length))
                return -1;
            return s_decode_elements (ctx, type->element, type->length, pos);
        case ABI_TUPLE:
            return s_decode_tuple (ctx, type, pos);
        default:
            assert (false);
    }
    return -1;
}

//  The value whose head is at pos, inside a tuple or array starting at base.
static int
s_decode (s_ctx_t *ctx, const abi_type_t *type, size_t pos, size_t base)
{
    if (s_spend (ctx, 1))
        return -1;
    if (type->dynamic) {
        size_t offset;
        if (s_read_size (ctx, pos, ctx->size - base, "offset", &offset))
            return -1;
        return s_decode_tail (ctx, type, base + offset);
    }
    if (pos > ctx->size || ctx->size - pos < type->head_size)
        return s_fail (ctx, "value at byte %zu is past the end of the data (%zu bytes)", pos,
                       ctx->size);
    s_touch (ctx, pos + type->head_size);
    if (type->kind == ABI_TUPLE)
        return s_decode_tuple (ctx, type, pos);
    if (type->kind == ABI_ARRAY_FIXED)
        return s_decode_tail (ctx, type, pos);
    return s_decode_word (ctx, type, ctx->data + pos);
}

//  The key of top-level parameter index: its name, or argN when unnamed or a repeat.
static const char *
s_arg_key (const abi_type_t *params, size_t index, char *buffer, size_t buffer_size)
{
    //  The common case, settled when the ABI was loaded: every name there and distinct.
    if (params->all_named)
        return params->names [index];
    const char *name = params->names [index];
    bool usable = *name != 0;
    for (size_t other = 0; usable && other < index; other++)
        usable = !streq (params->names [other], name);
    if (usable)
        return name;
    snprintf (buffer, buffer_size, "arg%zu", index);
    return buffer;
}

static void
s_ctx_init (s_ctx_t *ctx, const abi_type_t *params, const uint8_t *data, size_t size,
            jsonw_t *writer, char *err, size_t err_size)
{
    memset (ctx, 0, sizeof (*ctx));
    ctx->data = data;
    ctx->size = size;
    ctx->writer = writer;
    ctx->err = err;
    ctx->err_size = err_size;
    //  Canonical data needs at most one value per word per nesting level (inline tuples).
    ctx->budget = (size / 32 + 2) * (params->depth + 2) + 64;
}

static void
s_ctx_arg (s_ctx_t *ctx, const char *key)
{
    snprintf (ctx->arg, sizeof (ctx->arg), "argument %s", key);
}

int
abi_decode_args (const abi_type_t *params, const uint8_t *data, size_t size, jsonw_t *writer,
                 size_t *end, char *err, size_t err_size)
{
    assert (params && params->kind == ABI_TUPLE && writer && end);
    assert (data || size == 0);
    s_ctx_t ctx;
    s_ctx_init (&ctx, params, data, size, writer, err, err_size);
    jsonw_object_begin (writer);
    size_t pos = 0;
    for (size_t index = 0; index < params->count; index++) {
        char buffer [24];
        const char *key = s_arg_key (params, index, buffer, sizeof (buffer));
        s_ctx_arg (&ctx, key);
        jsonw_key (writer, key);
        if (s_decode (&ctx, params->components [index], pos, 0))
            return -1;
        pos += params->components [index]->head_size;
    }
    jsonw_object_end (writer);
    *end = ctx.end;
    return 0;
}

int
abi_decode_event (const abi_type_t *params, const bool *indexed, const uint8_t (*topics) [32],
                  size_t topic_count, const uint8_t *data, size_t size, jsonw_t *writer,
                  size_t *end, char *err, size_t err_size)
{
    assert (params && params->kind == ABI_TUPLE && writer && end);
    assert ((data || size == 0) && (topics || topic_count == 0));
    s_ctx_t ctx;
    s_ctx_init (&ctx, params, data, size, writer, err, err_size);
    if (!indexed)
        indexed = params->indexed;
    size_t indexed_count = 0;
    for (size_t index = 0; index < params->count; index++)
        indexed_count += indexed [index];
    if (indexed_count != topic_count) {
        snprintf (err, err_size, "%zu indexed parameters but %zu topics after topic0",
                  indexed_count, topic_count);
        return -1;
    }
    jsonw_object_begin (writer);
    size_t pos = 0, topic = 0;
    for (size_t index = 0; index < params->count; index++) {
        const abi_type_t *type = params->components [index];
        char buffer [24];
        const char *key = s_arg_key (params, index, buffer, sizeof (buffer));
        s_ctx_arg (&ctx, key);
        jsonw_key (writer, key);
        if (indexed [index]) {
            //  Indexed values of dynamic or composite types are stored as their hash.
            const uint8_t *word = topics [topic++];
            if (type->dynamic || type->kind == ABI_TUPLE || type->kind == ABI_ARRAY_FIXED)
                jsonw_bytes_hex (writer, word, 32);
            else if (s_decode_word (&ctx, type, word))
                return -1;
            continue;
        }
        if (s_decode (&ctx, type, pos, 0))
            return -1;
        pos += type->head_size;
    }
    jsonw_object_end (writer);
    *end = ctx.end;
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest

//  Decodes hex data as the parameter list text; checks the JSON and the end, or the reason.
static void
s_check (const char *params_text, const char *hex, const char *expected, size_t expected_end)
{
    char err [256] = "";
    abi_type_t *params = abi_type_parse (params_text, err, sizeof (err));
    assert (params);
    size_t size = strlen (hex) / 2;
    uint8_t *data = (uint8_t *) malloc (size + 1);
    assert (data && hex_decode (hex, data, size) == (int) size);
    jsonw_t *writer = jsonw_new ();
    size_t end = 0;
    int rc = abi_decode_args (params, data, size, writer, &end, err, sizeof (err));
    const char *got = rc == 0 ? jsonw_data (writer) : err;
    if (!strstr (got, expected) || (rc == 0 && end != expected_end)
        || (rc != 0) != (expected_end == SIZE_MAX)) {
        fprintf (stderr, "abi_decode %s: got %s (end %zu), expected %s (end %zu)\n", params_text,
                 got, end, expected, expected_end);
        assert (false);
    }
    jsonw_destroy (&writer);
    free (data);
    abi_type_destroy (&params);
}

//  Checks every vector of tests/data/abi_vectors.json (made by cast, see
//  tests/abi_vectors.py): the selector, the arguments value by value, no trailing bytes.
static void
s_check_vectors (bool verbose)
{
    const char *source = getenv ("EVMTAP_SOURCE");
    char *path = zsys_sprintf ("%s/tests/data/abi_vectors.json", source ? source : ".");
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0 ? zfile_read (file, zfile_cursize (file), 0)
                                                      : NULL;
    if (!chunk) {
        //  Only when run outside the tree: CTest always sets EVMTAP_SOURCE.
        assert (!source);
        zfile_destroy (&file);
        zstr_free (&path);
        return;
    }
    cJSON *vectors = cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                            zchunk_size (chunk));
    assert (cJSON_IsArray (vectors) && cJSON_GetArraySize (vectors) > 100);
    jsonw_t *writer = jsonw_new ();
    const cJSON *vector;
    size_t checked = 0;
    cJSON_ArrayForEach (vector, vectors) {
        const char *signature = cJSON_GetObjectItem (vector, "signature")->valuestring;
        const char *calldata = cJSON_GetObjectItem (vector, "calldata")->valuestring;
        char err [256];
        abi_type_t *params = abi_type_parse (strchr (signature, '('), err, sizeof (err));
        assert (params);
        size_t size = strlen (calldata) / 2 - 1;
        uint8_t *data = (uint8_t *) malloc (size);
        assert (data && hex_decode (calldata, data, size) == (int) size && size >= 4);
        uint8_t hash [32];
        keccak256 (signature, strlen (signature), hash);
        assert (memcmp (hash, data, 4) == 0);
        jsonw_reset (writer);
        size_t end;
        int rc = abi_decode_args (params, data + 4, size - 4, writer, &end, err, sizeof (err));
        cJSON *got = rc == 0 ? cJSON_Parse (jsonw_data (writer)) : NULL;
        if (!got || !cJSON_Compare (got, cJSON_GetObjectItem (vector, "args"), true)
            || end != size - 4) {
            char *expected = cJSON_PrintUnformatted (cJSON_GetObjectItem (vector, "args"));
            fprintf (stderr, "abi_decode: vector %s %s\n got %s\n expected %s\n", signature,
                     calldata, rc == 0 ? jsonw_data (writer) : err, expected);
            assert (false);
        }
        cJSON_Delete (got);
        free (data);
        abi_type_destroy (&params);
        checked++;
    }
    if (verbose)
        printf ("%zu cast vectors ", checked);
    jsonw_destroy (&writer);
    cJSON_Delete (vectors);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    zstr_free (&path);
}

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W1 "0000000000000000000000000000000000000000000000000000000000000001"
#define W2 "0000000000000000000000000000000000000000000000000000000000000002"
#define W20 "0000000000000000000000000000000000000000000000000000000000000020"
#define W40 "0000000000000000000000000000000000000000000000000000000000000040"
#define WFF "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define W2_255 "8000000000000000000000000000000000000000000000000000000000000000"

void
abi_decode_test (bool verbose)
{
    s_check_vectors (verbose);
    char decimal [80];
    uint8_t word [32];
    memset (word, 0xFF, 32);
    abi_word_to_decimal (word, false, decimal);
    assert (streq (
        decimal, "115792089237316195423570985008687907853269984665640564039457584007913129639935"));
    abi_word_to_decimal (word, true, decimal);
    assert (streq (decimal, "-1"));
    memset (word, 0, 32);
    word [0] = 0x80;
    abi_word_to_decimal (word, true, decimal);
    assert (streq (
        decimal, "-57896044618658097711785492504343953926634992332820282019728792003956564819968"));
    word [0] = 0;
    abi_word_to_decimal (word, false, decimal);
    assert (streq (decimal, "0"));
    word [23] = 1;    //  2^64
    abi_word_to_decimal (word, false, decimal);
    assert (streq (decimal, "18446744073709551616"));
    word [23] = 0;
    word [19] = 0x3b;    //  0x3b << 96, crosses the 10^9 chunks
    abi_word_to_decimal (word, false, decimal);
    assert (streq (decimal, "4674461588341595918019093069824"));

    //  Static values, named and unnamed; trailing bytes are left past end.
    s_check ("(uint256 a,bool b)", W2 W1 "abcd", "{\"a\":\"2\",\"b\":true}", 64);
    s_check ("(int8,address,bytes4)",
             WFF "000000000000000000000000a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
                 "deadbeef00000000000000000000000000000000000000000000000000000000",
             "{\"arg0\":\"-1\",\"arg1\":\"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\","
             "\"arg2\":\"0xdeadbeef\"}",
             96);
    //  Dynamic: a string, bytes and a uint[] in canonical order.
    s_check ("(string s,bytes b,uint8[] u)",
             "0000000000000000000000000000000000000000000000000000000000000060"
             "00000000000000000000000000000000000000000000000000000000000000a0"
             "00000000000000000000000000000000000000000000000000000000000000e0" W2
             "6869000000000000000000000000000000000000000000000000000000000000" W1
             "ff00000000000000000000000000000000000000000000000000000000000000" W2 W1 W2,
             "{\"s\":\"hi\",\"b\":\"0xff\",\"u\":[\"1\",\"2\"]}", 32 * 10);
    //  Non-canonical but in bounds: the tails in reverse order, one shared by both.
    s_check ("(bytes,bytes)",
             W40 W40 W1 "ab00000000000000000000000000000000000000000000000000000000000000",
             "{\"arg0\":\"0xab\",\"arg1\":\"0xab\"}", 128);
    //  Invalid UTF-8 becomes U+FFFD.
    s_check ("(string)", W20 W2 "ff41000000000000000000000000000000000000000000000000000000000000",
             "\"\xef\xbf\xbd"
             "A\"",
             96);
    //  Unpadded last bytes: in bounds, decoded.
    s_check ("(bytes)", W20 W1 "ab", "\"0xab\"", 65);

    //  Hostile input: each fails with its reason.
    s_check ("(uint256)", "00", "past the end", SIZE_MAX);
    s_check ("(bytes)", "00000000000000000000000000000000000000000000000000000000000000e0",
             "offset 224", SIZE_MAX);
    s_check ("(bytes)", W20 W2_255,
             "length 5789604461865809771178549250434395392663499233282"
             "0282019728792003956564819968",
             SIZE_MAX);
    s_check ("(uint256[])", W20 "00000000000000000000000000000000000000000000000000000000ffffffff",
             "array length 4294967295", SIZE_MAX);
    s_check ("(bytes)", W20 "0000000000000000000000000000000000000000000000000000000000000021" W0,
             "length 33", SIZE_MAX);
    s_check ("(uint8)", "0000000000000000000000000000000000000000000000000000000000000100",
             "does not fit uint8", SIZE_MAX);
    s_check ("(int8)", "0000000000000000000000000000000000000000000000000000000000000080",
             "does not fit int8", SIZE_MAX);
    s_check ("(address)", WFF, "nonzero upper bytes", SIZE_MAX);
    s_check ("(bool)", W2, "neither 0 nor 1", SIZE_MAX);
    s_check ("(bytes1)", WFF, "nonzero padding", SIZE_MAX);
    s_check ("(uint256[2])", W1, "past the end", SIZE_MAX);
    //  Aliasing: an outer array of 64 entries all pointing at one inner array of 64 entries
    //  all pointing at one inner array... stops on the budget, not after 64^3 values.
    char *alias = (char *) malloc (64 * 4 * 64 + 4 * 64 * 3 + 1);
    char *put = alias;
    put += sprintf (put, "%s", W20);
    for (int level = 0; level < 3; level++) {
        put += sprintf (put, "%064x", 64);
        for (int index = 0; index < 64; index++)
            put += sprintf (put, "%064x", level < 2 ? 64 * 32 : 0);
    }
    s_check ("(uint256[][][][])", alias, "too many values", SIZE_MAX);
    free (alias);

    //  Events: indexed static values from topics, dynamic ones as their hash.
    char err [128];
    abi_type_t *params = abi_type_parse ("(address indexed from,string indexed tag,uint256 value)",
                                         err, sizeof (err));
    assert (params);
    uint8_t topics [2][32] = {{0}};
    topics [0][31] = 0x11;
    topics [1][0] = 0xab;
    uint8_t data [32] = {0};
    data [31] = 5;
    jsonw_t *writer = jsonw_new ();
    size_t end;
    assert (abi_decode_event (params, NULL, topics, 2, data, 32, writer, &end, err, sizeof (err))
            == 0);
    assert (end == 32);
    assert (
        strstr (jsonw_data (writer), "\"from\":\"0x0000000000000000000000000000000000000011\""));
    assert (strstr (jsonw_data (writer), "\"tag\":\"0xab000000"));
    assert (strstr (jsonw_data (writer), "\"value\":\"5\"}"));
    jsonw_reset (writer);
    assert (abi_decode_event (params, NULL, topics, 1, data, 32, writer, &end, err, sizeof (err))
            == -1);
    assert (strstr (err, "2 indexed parameters but 1 topics"));
    jsonw_destroy (&writer);
    abi_type_destroy (&params);
}
