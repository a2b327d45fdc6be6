/*  jsonw: a JSON writer into one growing buffer, reused from document to document.
    Strings are escaped and their UTF-8 checked in runs: bytes that need nothing are
    found by one table lookup each and copied with memcpy. A small stack of open
    containers places the commas and catches misuse (a key in an array, a missing value)
    by assertion: those are bugs in the caller, never outside input. */
#include "evmtap.h"
#include <cjson/cJSON.h>
#include <math.h>
#include "jsonw.h"
#include "hexutil.h"

//  What a byte needs inside a JSON string.
#define CHAR_PLAIN 0     //  copied as it is
#define CHAR_ESCAPE 1    //  control character, quote or backslash
#define CHAR_UTF8 2      //  start (or stray part) of a multi-byte sequence

//  CHAR_* of each byte.
//  Laid out by hand, a row per line of the table.
// clang-format off
static const uint8_t s_char_class [256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
// clang-format on

//  Each hex digit lower-cased, or 0 when the byte is no hex digit.
//  Laid out by hand, a row per line of the table.
// clang-format off
static const char s_hex_lower [256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
};
// clang-format on

static const char s_hex_digits [] = "0123456789abcdef";

//  Containers on the stack.
#define LEVEL_OBJECT 'o'
#define LEVEL_ARRAY 'a'

struct _jsonw_t {
    char *data;         //  the document, always NUL-terminated
    size_t size;        //  bytes written, without the NUL
    size_t capacity;    //  bytes allocated
    char *stack;        //  LEVEL_OBJECT or LEVEL_ARRAY per open container
    size_t depth;       //  containers open
    size_t stack_capacity;
    bool need_comma;    //  a value was written at this level: the next one needs ','
    bool after_key;     //  a key was written: the next call must be its value
};

jsonw_t *
jsonw_new (void)
{
    jsonw_t *self = (jsonw_t *) zmalloc (sizeof (jsonw_t));
    assert (self);
    self->capacity = 4096;
    self->data = (char *) malloc (self->capacity);
    assert (self->data);
    self->data [0] = 0;
    self->stack_capacity = 16;
    self->stack = (char *) malloc (self->stack_capacity);
    assert (self->stack);
    return self;
}

void
jsonw_destroy (jsonw_t **self_p)
{
    assert (self_p);
    jsonw_t *self = *self_p;
    if (!self)
        return;
    free (self->data);
    free (self->stack);
    free (self);
    *self_p = NULL;
}

void
jsonw_reset (jsonw_t *self)
{
    assert (self);
    self->size = 0;
    self->data [0] = 0;
    self->depth = 0;
    self->need_comma = false;
    self->after_key = false;
}

static void
s_grow (jsonw_t *self, size_t needed)
{
    size_t capacity = self->capacity * 2;
    while (capacity < self->size + needed + 1)
        capacity *= 2;
    self->data = (char *) realloc (self->data, capacity);
    assert (self->data);
    self->capacity = capacity;
}

//  Makes room for needed more bytes and the NUL.
static inline void
s_reserve (jsonw_t *self, size_t needed)
{
    if (self->capacity - self->size < needed + 1)
        s_grow (self, needed);
}

static inline void
s_put (jsonw_t *self, const char *bytes, size_t len)
{
    s_reserve (self, len);
    memcpy (self->data + self->size, bytes, len);
    self->size += len;
}

//  Called before every value: the comma, and the checks that a value may come here.
static inline void
s_before_value (jsonw_t *self)
{
    if (self->depth > 0 && self->stack [self->depth - 1] == LEVEL_OBJECT)
        assert (self->after_key);
    if (self->need_comma) {
        s_reserve (self, 1);
        self->data [self->size++] = ',';
    }
    self->after_key = false;
}

static inline void
s_after_value (jsonw_t *self)
{
    self->need_comma = true;
    self->data [self->size] = 0;
}

static void
s_push (jsonw_t *self, char level, char open)
{
    s_before_value (self);
    if (self->depth == self->stack_capacity) {
        self->stack_capacity *= 2;
        self->stack = (char *) realloc (self->stack, self->stack_capacity);
        assert (self->stack);
    }
    self->stack [self->depth++] = level;
    s_reserve (self, 1);
    self->data [self->size++] = open;
    self->data [self->size] = 0;
    self->need_comma = false;
}

static void
s_pop (jsonw_t *self, char level, char close)
{
    assert (self->depth > 0);
    assert (self->stack [self->depth - 1] == level);
    assert (!self->after_key);
    self->depth--;
    s_reserve (self, 1);
    self->data [self->size++] = close;
    s_after_value (self);
}

void
jsonw_object_begin (jsonw_t *self)
{
    assert (self);
    s_push (self, LEVEL_OBJECT, '{');
}

void
jsonw_object_end (jsonw_t *self)
{
    assert (self);
    s_pop (self, LEVEL_OBJECT, '}');
}

void
jsonw_array_begin (jsonw_t *self)
{
    assert (self);
    s_push (self, LEVEL_ARRAY, '[');
}

void
jsonw_array_end (jsonw_t *self)
{
    assert (self);
    s_pop (self, LEVEL_ARRAY, ']');
}

//  Length of the valid UTF-8 sequence at text (its first byte >= 0x80), or minus the
//  length of its maximal invalid part (Unicode's "maximal subpart"), which becomes one
//  U+FFFD. Overlong forms, surrogates and code points above U+10FFFF are invalid.
static inline int
s_utf8_sequence (const uint8_t *text, const uint8_t *end)
{
    uint8_t lead = text [0];
    size_t available = (size_t) (end - text);
    uint8_t low = 0x80, high = 0xBF;
    int need;
    if (lead < 0xC2)
        return -1;
    else if (lead < 0xE0)
        need = 2;
    else if (lead < 0xF0) {
        need = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    }
    else if (lead < 0xF5) {
        need = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    }
    else
        return -1;
    if (available < 2 || text [1] < low || text [1] > high)
        return -1;
    for (int index = 2; index < need; index++)
        if ((size_t) index >= available || (text [index] & 0xC0) != 0x80)
            return -index;
    return need;
}

//  Writes text as the inside of a JSON string (no quotes).
static void
s_put_escaped (jsonw_t *self, const char *text, size_t len)
{
    const uint8_t *scan = (const uint8_t *) text;
    const uint8_t *end = scan + len;
    while (scan < end) {
        const uint8_t *run = scan;
        while (scan < end && s_char_class [*scan] == CHAR_PLAIN)
            scan++;
        if (scan > run)
            s_put (self, (const char *) run, (size_t) (scan - run));
        if (scan == end)
            break;
        //  Longest output of one step: \u00XX, 6 bytes.
        s_reserve (self, 6);
        char *out = self->data + self->size;
        uint8_t byte = *scan;
        if (s_char_class [byte] == CHAR_ESCAPE) {
            char shorthand = byte == '"'    ? '"'
                             : byte == '\\' ? '\\'
                             : byte == '\n' ? 'n'
                             : byte == '\r' ? 'r'
                             : byte == '\t' ? 't'
                             : byte == '\b' ? 'b'
                             : byte == '\f' ? 'f'
                                            : 0;
            out [0] = '\\';
            if (shorthand) {
                out [1] = shorthand;
                self->size += 2;
            }
            else {
                out [1] = 'u';
                out [2] = '0';
                out [3] = '0';
                out [4] = s_hex_digits [byte >> 4];
                out [5] = s_hex_digits [byte & 15];
                self->size += 6;
            }
            scan++;
            continue;
        }
        int sequence = s_utf8_sequence (scan, end);
        if (sequence > 0) {
            memcpy (out, scan, (size_t) sequence);
            self->size += (size_t) sequence;
            scan += sequence;
        }
        else {
            out [0] = (char) 0xEF;
            out [1] = (char) 0xBF;
            out [2] = (char) 0xBD;
            self->size += 3;
            scan += -sequence;
        }
    }
}

static void
s_put_string (jsonw_t *self, const char *text, size_t len)
{
    s_reserve (self, len + 2);
    self->data [self->size++] = '"';
    s_put_escaped (self, text, len);
    s_reserve (self, 1);
    self->data [self->size++] = '"';
}

void
jsonw_key (jsonw_t *self, const char *key)
{
    assert (self);
    assert (key);
    assert (self->depth > 0 && self->stack [self->depth - 1] == LEVEL_OBJECT);
    assert (!self->after_key);
    if (self->need_comma) {
        s_reserve (self, 1);
        self->data [self->size++] = ',';
    }
    s_put_string (self, key, strlen (key));
    s_reserve (self, 1);
    self->data [self->size++] = ':';
    self->data [self->size] = 0;
    self->after_key = true;
    self->need_comma = false;
}

void
jsonw_string (jsonw_t *self, const char *text)
{
    if (!text)
        jsonw_null (self);
    else
        jsonw_string_len (self, text, strlen (text));
}

void
jsonw_string_len (jsonw_t *self, const char *text, size_t len)
{
    assert (self);
    assert (text || len == 0);
    s_before_value (self);
    s_put_string (self, text, len);
    s_after_value (self);
}

void
jsonw_u64 (jsonw_t *self, uint64_t value)
{
    assert (self);
    s_before_value (self);
    s_reserve (self, 21);
    self->size += hex_u64_to_decimal (value, self->data + self->size);
    s_after_value (self);
}

void
jsonw_i64 (jsonw_t *self, int64_t value)
{
    assert (self);
    s_before_value (self);
    s_reserve (self, 22);
    uint64_t magnitude = (uint64_t) value;
    if (value < 0) {
        self->data [self->size++] = '-';
        magnitude = ~magnitude + 1;    //  also right for INT64_MIN
    }
    self->size += hex_u64_to_decimal (magnitude, self->data + self->size);
    s_after_value (self);
}

void
jsonw_bool (jsonw_t *self, bool value)
{
    assert (self);
    s_before_value (self);
    if (value)
        s_put (self, "true", 4);
    else
        s_put (self, "false", 5);
    s_after_value (self);
}

void
jsonw_null (jsonw_t *self)
{
    assert (self);
    s_before_value (self);
    s_put (self, "null", 4);
    s_after_value (self);
}

//  Checks that the eight bytes of *word are hex digits and lower-cases them, in one
//  go (SWAR): for bytes below 0x80, adding 0x80 - c sets a byte's top bit exactly when
//  it is at least c, and no carry crosses into the next byte. Returns 0, or -1.
static inline int
s_lower_hex_word (uint64_t *word)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t tops = 0x8080808080808080ull;
    uint64_t value = *word;
    if (value & tops)
        return -1;
#define AT_LEAST(c) (value + (0x80 - (c)) * ones)
    uint64_t digit = AT_LEAST ('0') & ~AT_LEAST ('9' + 1);
    uint64_t lower = AT_LEAST ('a') & ~AT_LEAST ('f' + 1);
    uint64_t upper = AT_LEAST ('A') & ~AT_LEAST ('F' + 1);
#undef AT_LEAST
    if (((digit | lower | upper) & tops) != tops)
        return -1;
    //  0x80 >> 2 is 0x20, the bit that makes 'A'..'F' into 'a'..'f'.
    *word = value | ((upper & tops) >> 2);
    return 0;
}

//  Writes "0x..." lower-cased, or returns -1 having written nothing (the caller
//  has not yet committed a comma either: it writes from the current size).
static int
s_put_hex (jsonw_t *self, const char *text, size_t len)
{
    if (len < 2 || text [0] != '0' || (text [1] != 'x' && text [1] != 'X'))
        return -1;
    s_reserve (self, len + 3);
    char *out = self->data + self->size;
    out [0] = '"';
    out [1] = '0';
    out [2] = 'x';
    //  Calldata makes this the hottest loop: eight digits at a time while they last.
    size_t index = 2;
    for (; index + 8 <= len; index += 8) {
        uint64_t word;
        memcpy (&word, text + index, 8);
        if (s_lower_hex_word (&word))
            return -1;
        memcpy (out + index + 1, &word, 8);
    }
    for (; index < len; index++) {
        char lower = s_hex_lower [(uint8_t) text [index]];
        if (!lower)
            return -1;
        out [index + 1] = lower;
    }
    out [len + 1] = '"';
    self->size += len + 2;
    return 0;
}

int
jsonw_hex (jsonw_t *self, const char *text, size_t len)
{
    assert (self);
    if (!text)
        return -1;
    //  Nothing is written on failure: the comma goes in only once the digits passed.
    size_t mark = self->size;
    bool need_comma = self->need_comma;
    if (need_comma) {
        s_reserve (self, 1);
        self->data [self->size++] = ',';
    }
    if (s_put_hex (self, text, len)) {
        self->size = mark;
        self->data [mark] = 0;
        return -1;
    }
    if (self->depth > 0 && self->stack [self->depth - 1] == LEVEL_OBJECT)
        assert (self->after_key);
    self->after_key = false;
    s_after_value (self);
    return 0;
}

void
jsonw_string_lowerhex (jsonw_t *self, const char *text, size_t len)
{
    assert (self);
    if (len >= 2 && text [0] == '0' && (text [1] == 'x' || text [1] == 'X')
        && jsonw_hex (self, text, len) == 0)
        return;
    jsonw_string_len (self, text, len);
}

void
jsonw_bytes_hex (jsonw_t *self, const uint8_t *bytes, size_t len)
{
    assert (self);
    assert (bytes || len == 0);
    s_before_value (self);
    //  Straight into the buffer: hex digits need no escaping.
    s_reserve (self, 2 * len + 4);
    char *out = self->data + self->size;
    *out++ = '"';
    *out++ = '0';
    *out++ = 'x';
    for (size_t index = 0; index < len; index++) {
        *out++ = s_hex_digits [bytes [index] >> 4];
        *out++ = s_hex_digits [bytes [index] & 15];
    }
    *out = '"';
    self->size += 2 * len + 4;
    s_after_value (self);
}

void
jsonw_raw (jsonw_t *self, const char *json, size_t len)
{
    assert (self);
    assert (json);
    s_before_value (self);
    s_put (self, json, len);
    s_after_value (self);
}

//  A number as cJSON holds it: integers exactly, others in the shortest %g form that
//  reads back the same (as cJSON prints them); infinities, which JSON lacks, as null.
static void
s_put_number (jsonw_t *self, double number)
{
    if (!isfinite (number)) {
        jsonw_null (self);
        return;
    }
    if (number == floor (number) && fabs (number) < 9007199254740992.0) {
        jsonw_i64 (self, (int64_t) number);
        return;
    }
    char text [32];
    int len = snprintf (text, sizeof text, "%.15g", number);
    if (strtod (text, NULL) != number)
        len = snprintf (text, sizeof text, "%.17g", number);
    jsonw_raw (self, text, (size_t) len);
}

void
jsonw_cjson_lowerhex (jsonw_t *self, const cJSON *item)
{
    assert (self);
    if (!item) {
        jsonw_null (self);
        return;
    }
    if (cJSON_IsObject (item) || cJSON_IsArray (item)) {
        bool object = cJSON_IsObject (item);
        if (object)
            jsonw_object_begin (self);
        else
            jsonw_array_begin (self);
        for (const cJSON *child = item->child; child; child = child->next) {
            if (object)
                jsonw_key (self, child->string ? child->string : "");
            jsonw_cjson_lowerhex (self, child);
        }
        if (object)
            jsonw_object_end (self);
        else
            jsonw_array_end (self);
    }
    else if (cJSON_IsString (item) && item->valuestring)
        jsonw_string_lowerhex (self, item->valuestring, strlen (item->valuestring));
    else if (cJSON_IsNumber (item))
        s_put_number (self, item->valuedouble);
    else if (cJSON_IsTrue (item))
        jsonw_bool (self, true);
    else if (cJSON_IsFalse (item))
        jsonw_bool (self, false);
    else if (cJSON_IsRaw (item) && item->valuestring)
        //  Raw items are made by our own code, never by cJSON_Parse.
        jsonw_raw (self, item->valuestring, strlen (item->valuestring));
    else
        jsonw_null (self);
}

const char *
jsonw_data (jsonw_t *self)
{
    assert (self);
    return self->data;
}

size_t
jsonw_size (jsonw_t *self)
{
    assert (self);
    return self->size;
}

char *
jsonw_strdup (jsonw_t *self)
{
    assert (self);
    char *copy = (char *) malloc (self->size + 1);
    assert (copy);
    memcpy (copy, self->data, self->size + 1);
    jsonw_reset (self);
    return copy;
}

int
jsonw_members (const char *json, size_t len, const char *const *keys, size_t key_count,
               const char **values, size_t *lens)
{
    for (size_t index = 0; index < key_count; index++)
        values [index] = NULL;
    size_t pos = 0;
    while (pos < len && isspace ((uint8_t) json [pos]))
        pos++;
    if (pos >= len || json [pos++] != '{')
        return -1;
    while (pos < len) {
        while (pos < len && (isspace ((uint8_t) json [pos]) || json [pos] == ','))
            pos++;
        if (pos < len && json [pos] == '}')
            return 0;
        if (pos >= len || json [pos] != '"')
            return -1;
        size_t key_start = ++pos;
        while (pos < len && json [pos] != '"')
            pos += json [pos] == '\\' ? 2 : 1;
        if (pos >= len)
            return -1;
        size_t key_len = pos++ - key_start;
        while (pos < len && (isspace ((uint8_t) json [pos]) || json [pos] == ':'))
            pos++;
        size_t value_start = pos;
        int depth = 0;
        bool in_string = false;
        for (; pos < len; pos++) {
            char c = json [pos];
            if (in_string) {
                if (c == '\\')
                    pos++;
                else if (c == '"')
                    in_string = false;
            }
            else if (c == '"')
                in_string = true;
            else if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && depth > 0)
                depth--;
            else if ((c == ',' || c == '}') && depth == 0)
                break;
        }
        if (pos >= len)
            return -1;
        for (size_t index = 0; index < key_count; index++)
            if (strlen (keys [index]) == key_len
                && memcmp (keys [index], json + key_start, key_len) == 0) {
                values [index] = json + value_start;
                lens [index] = pos - value_start;
            }
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Selftest

//  Writes text as a lone string and checks the document.
static void
s_check_string (jsonw_t *self, const char *text, size_t len, const char *expected)
{
    jsonw_reset (self);
    jsonw_string_len (self, text, len);
    if (strcmp (jsonw_data (self), expected) != 0) {
        fprintf (stderr, "jsonw: got %s, expected %s\n", jsonw_data (self), expected);
        assert (false);
    }
    assert (jsonw_size (self) == strlen (expected));
    //  Whatever went in, what comes out parses, and (for valid input) as the same text.
    cJSON *parsed = cJSON_Parse (jsonw_data (self));
    assert (parsed && cJSON_IsString (parsed));
    cJSON_Delete (parsed);
}

void
jsonw_test (bool verbose)
{
    (void) verbose;
    jsonw_t *writer = jsonw_new ();
    assert (writer);
    assert (jsonw_size (writer) == 0 && streq (jsonw_data (writer), ""));

    //  Escaping
    s_check_string (writer, "", 0, "\"\"");
    s_check_string (writer, "plain", 5, "\"plain\"");
    s_check_string (writer, "a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    s_check_string (writer, "\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    s_check_string (writer, "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    s_check_string (writer, "a\0b", 3, "\"a\\u0000b\"");
    s_check_string (writer, "/", 1, "\"/\"");

    //  UTF-8: valid sequences of each length pass unchanged
    s_check_string (writer, "\xc3\xa9", 2, "\"\xc3\xa9\"");
    s_check_string (writer, "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
    s_check_string (writer, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
    s_check_string (writer, "\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\"");
    s_check_string (writer, "\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");
    s_check_string (writer, "\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"");
    //  Invalid: stray continuation, lone lead, truncated at the end
#define FFFD "\xef\xbf\xbd"
    s_check_string (writer, "\x80", 1, "\"" FFFD "\"");
    s_check_string (writer,
                    "a\xbf"
                    "b",
                    3, "\"a" FFFD "b\"");
    s_check_string (writer, "\xc3", 1, "\"" FFFD "\"");
    s_check_string (writer,
                    "\xc3"
                    "a",
                    2, "\"" FFFD "a\"");
    s_check_string (writer, "\xe2\x82", 2, "\"" FFFD "\"");
    s_check_string (writer,
                    "\xe2\x82"
                    "a",
                    3, "\"" FFFD "a\"");
    s_check_string (writer, "\xf0\x9f\x98", 3, "\"" FFFD "\"");
    //  Overlongs (C0/C1, E0 80.., F0 80..), surrogates (ED A0..), above U+10FFFF, F5..FF
    s_check_string (writer, "\xc0\xaf", 2, "\"" FFFD FFFD "\"");
    s_check_string (writer, "\xc1\xbf", 2, "\"" FFFD FFFD "\"");
    s_check_string (writer, "\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"");
    s_check_string (writer, "\xf0\x80\x80\xaf", 4, "\"" FFFD FFFD FFFD FFFD "\"");
    s_check_string (writer, "\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");
    s_check_string (writer, "\xed\xbf\xbf", 3, "\"" FFFD FFFD FFFD "\"");
    s_check_string (writer, "\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"");
    s_check_string (writer, "\xf5\x80", 2, "\"" FFFD FFFD "\"");
    s_check_string (writer, "\xff", 1, "\"" FFFD "\"");
    s_check_string (writer, "\xc3\xa9\xff\xc3\xa9", 5, "\"\xc3\xa9" FFFD "\xc3\xa9\"");

    //  Nesting and commas
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    jsonw_key (writer, "a");
    jsonw_u64 (writer, 1);
    jsonw_key (writer, "b");
    jsonw_array_begin (writer);
    jsonw_array_end (writer);
    jsonw_key (writer, "c");
    jsonw_array_begin (writer);
    jsonw_i64 (writer, -1);
    jsonw_object_begin (writer);
    jsonw_object_end (writer);
    jsonw_array_begin (writer);
    jsonw_null (writer);
    jsonw_bool (writer, true);
    jsonw_array_end (writer);
    jsonw_bool (writer, false);
    jsonw_array_end (writer);
    jsonw_key (writer, "q\"k");
    jsonw_string (writer, "v");
    jsonw_key (writer, "n");
    jsonw_string (writer, NULL);
    jsonw_key (writer, "r");
    jsonw_raw (writer, "{\"x\":[1,2]}", 11);
    jsonw_object_end (writer);
    assert (streq (jsonw_data (writer),
                   "{\"a\":1,\"b\":[],\"c\":[-1,{},[null,true],false],\"q\\\"k\":\"v\","
                   "\"n\":null,\"r\":{\"x\":[1,2]}}"));

    //  Numbers
    jsonw_reset (writer);
    jsonw_array_begin (writer);
    jsonw_u64 (writer, 0);
    jsonw_u64 (writer, UINT64_MAX);
    jsonw_i64 (writer, INT64_MIN);
    jsonw_i64 (writer, INT64_MAX);
    jsonw_i64 (writer, -42);
    jsonw_array_end (writer);
    assert (streq (jsonw_data (writer),
                   "[0,18446744073709551615,-9223372036854775808,9223372036854775807,-42]"));

    //  Hex: lower-cased, or refused without a trace
    jsonw_reset (writer);
    jsonw_array_begin (writer);
    assert (jsonw_hex (writer, "0xABcd", 6) == 0);
    assert (jsonw_hex (writer, "0xABcg", 6) == -1);
    assert (jsonw_hex (writer, "ABcd", 4) == -1);
    assert (jsonw_hex (writer, "0", 1) == -1);
    assert (jsonw_hex (writer, NULL, 0) == -1);
    assert (jsonw_hex (writer, "0X", 2) == 0);
    jsonw_string_lowerhex (writer, "0xNOT hex", 9);
    jsonw_string_lowerhex (writer, "0XFF", 4);
    jsonw_string_lowerhex (writer, "Plain", 5);
    jsonw_array_end (writer);
    assert (streq (jsonw_data (writer), "[\"0xabcd\",\"0x\",\"0xNOT hex\",\"0xff\",\"Plain\"]"));

    //  Bytes as hex: lowercase, none at all is "0x"
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    jsonw_key (writer, "b");
    const uint8_t sample [] = {0x00, 0x1f, 0xAB, 0xff};
    jsonw_bytes_hex (writer, sample, sizeof (sample));
    jsonw_key (writer, "e");
    jsonw_bytes_hex (writer, NULL, 0);
    jsonw_object_end (writer);
    assert (streq (jsonw_data (writer), "{\"b\":\"0x001fabff\",\"e\":\"0x\"}"));

    //  Every byte in every position of the eight-at-a-time path and of the tail
    for (int byte = 1; byte < 256; byte++)
        for (size_t position = 2; position < 21; position++) {
            char hex [22];
            memcpy (hex, "0x0123456789aBcDeF012", 21);
            hex [position] = (char) byte;
            hex [21] = 0;
            bool valid = (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f')
                         || (byte >= 'A' && byte <= 'F');
            jsonw_reset (writer);
            assert (jsonw_hex (writer, hex, 21) == (valid ? 0 : -1));
            if (valid) {
                char expected [24];
                expected [0] = '"';
                hex_lower (hex, expected + 1);
                expected [22] = '"';
                expected [23] = 0;
                assert (streq (jsonw_data (writer), expected));
            }
            else
                assert (jsonw_size (writer) == 0);
        }

    //  Deep nesting grows the stack; a long string grows the buffer
    jsonw_reset (writer);
    for (int level = 0; level < 100; level++)
        jsonw_array_begin (writer);
    for (int level = 0; level < 100; level++)
        jsonw_array_end (writer);
    assert (jsonw_size (writer) == 200);
    size_t big_len = 100000;
    char *big = (char *) malloc (big_len);
    assert (big);
    for (size_t index = 0; index < big_len; index++)
        big [index] = (char) (index % 7 == 0 ? '\n' : index % 11 == 0 ? 0xff : 'a' + index % 26);
    jsonw_reset (writer);
    jsonw_string_len (writer, big, big_len);
    cJSON *parsed = cJSON_Parse (jsonw_data (writer));
    assert (parsed && cJSON_IsString (parsed));
    cJSON_Delete (parsed);
    free (big);

    //  Round trip: a cJSON document written back with hex lower-cased
    const char *source =
        "{\"accessList\":[{\"address\":\"0xABCDEF0000000000000000000000000000000001\","
        "\"storageKeys\":[\"0x00AA\",\"0XBB\"]}],\"name\":\"Caf\\u00e9 \\\"q\\\"\","
        "\"n\":[0,-1,1.5,1e300,-2.5e-7,123456789012345678901234],\"t\":true,\"f\":false,"
        "\"z\":null,\"text\":\"0xnot hex\",\"e\":{},\"ea\":[]}";
    cJSON *document = cJSON_Parse (source);
    assert (document);
    jsonw_reset (writer);
    jsonw_cjson_lowerhex (writer, document);
    cJSON *reparsed = cJSON_Parse (jsonw_data (writer));
    assert (reparsed);
    cJSON *access = cJSON_GetArrayItem (cJSON_GetObjectItem (reparsed, "accessList"), 0);
    assert (streq (cJSON_GetObjectItem (access, "address")->valuestring,
                   "0xabcdef0000000000000000000000000000000001"));
    cJSON *keys = cJSON_GetObjectItem (access, "storageKeys");
    assert (streq (cJSON_GetArrayItem (keys, 0)->valuestring, "0x00aa"));
    assert (streq (cJSON_GetArrayItem (keys, 1)->valuestring, "0xbb"));
    assert (streq (cJSON_GetObjectItem (reparsed, "name")->valuestring, "Caf\xc3\xa9 \"q\""));
    assert (streq (cJSON_GetObjectItem (reparsed, "text")->valuestring, "0xnot hex"));
    cJSON *numbers = cJSON_GetObjectItem (reparsed, "n");
    cJSON *original = cJSON_GetObjectItem (document, "n");
    assert (cJSON_GetArraySize (numbers) == 6);
    for (int index = 0; index < 6; index++)
        assert (cJSON_GetArrayItem (numbers, index)->valuedouble
                == cJSON_GetArrayItem (original, index)->valuedouble);
    assert (cJSON_IsTrue (cJSON_GetObjectItem (reparsed, "t")));
    assert (cJSON_IsFalse (cJSON_GetObjectItem (reparsed, "f")));
    assert (cJSON_IsNull (cJSON_GetObjectItem (reparsed, "z")));
    assert (strstr (jsonw_data (writer), "\"e\":{},\"ea\":[]"));
    assert (strstr (jsonw_data (writer), "\"n\":[0,-1,1.5,1e+300,-2.5e-07,"));
    cJSON_Delete (reparsed);
    cJSON_Delete (document);
    //  A cJSON string holding invalid UTF-8 (cJSON_Parse does not check) comes out clean.
    cJSON *bad = cJSON_CreateString ("x\xff\xfey");
    jsonw_reset (writer);
    jsonw_cjson_lowerhex (writer, bad);
    assert (streq (jsonw_data (writer), "\"x" FFFD FFFD "y\""));
    cJSON_Delete (bad);
    jsonw_reset (writer);
    jsonw_cjson_lowerhex (writer, NULL);
    assert (streq (jsonw_data (writer), "null"));

    //  strdup hands over the document and starts a new one
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    jsonw_key (writer, "k");
    jsonw_u64 (writer, 7);
    jsonw_object_end (writer);
    char *copy = jsonw_strdup (writer);
    assert (streq (copy, "{\"k\":7}"));
    free (copy);
    assert (jsonw_size (writer) == 0);
    jsonw_object_begin (writer);
    jsonw_object_end (writer);
    assert (streq (jsonw_data (writer), "{}"));

    //  Top-level members only: nested keys and keys inside strings are not members.
    const char *object =
        "{\"a\":{\"b\":1,\"c\":[2,\"}\"]},\"s\":\"\\\"b\\\":\",\"b\":[{}],\"n\":null}";
    const char *names [4] = {"b", "c", "n", "a"};
    const char *values [4];
    size_t lens [4] = {0};
    assert (jsonw_members (object, strlen (object), names, 4, values, lens) == 0);
    assert (values [0] && lens [0] == 4 && memcmp (values [0], "[{}]", 4) == 0);
    assert (!values [1]);
    assert (values [2] && lens [2] == 4 && memcmp (values [2], "null", 4) == 0);
    assert (values [3] && lens [3] == 19);
    assert (jsonw_members ("[1]", 3, names, 4, values, lens) == -1);
    assert (jsonw_members ("{\"a\":1", 6, names, 4, values, lens) == -1);

    jsonw_destroy (&writer);
    assert (writer == NULL);
    jsonw_destroy (&writer);
}
