/*  state_call: a view call from its config text and an ABI (see state_call.h). */
#include "evmtap.h"
#include "state_call.h"
#include <ctype.h>
#include <stdarg.h>
#include "abi_decode.h"
#include "hexutil.h"

//  More arguments than this in one config line is surely a mistake.
#define STATE_CALL_MAX_ARGS 16

struct _state_call_t {
    char *function;         //  bare name
    char *signature;        //  canonical
    abi_type_t *outputs;    //  a copy of the function's outputs (the ABI may go)
    uint8_t *data;          //  selector + arguments
    size_t size;
    char *args;    //  JSON object text
};

static void
s_error (char *err, size_t err_size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (err, err_size, format, args);
    va_end (args);
}

void
state_call_destroy (state_call_t **self_p)
{
    assert (self_p);
    state_call_t *self = *self_p;
    if (!self)
        return;
    free (self->function);
    free (self->signature);
    abi_type_destroy (&self->outputs);
    free (self->data);
    free (self->args);
    free (self);
    *self_p = NULL;
}

//  Multiplies the big-endian word by 10 and adds digit. Returns -1 on overflow of 256 bits.
static int
s_word_mul10_add (uint8_t word [32], unsigned digit)
{
    unsigned carry = digit;
    for (int index = 31; index >= 0; index--) {
        unsigned value = word [index] * 10u + carry;
        word [index] = (uint8_t) (value & 0xff);
        carry = value >> 8;
    }
    return carry ? -1 : 0;
}

//  Whether the word's value (unsigned) is below 2^bits.
static bool
s_word_fits_bits (const uint8_t word [32], unsigned bits)
{
    unsigned used = 256;
    for (int index = 0; index < 32 && word [index] == 0; index++)
        used -= 8;
    if (used) {
        uint8_t top = word [32 - used / 8];
        unsigned lead = 0;
        while (lead < 8 && !(top & (0x80 >> lead)))
            lead++;
        used -= lead;
    }
    return used <= bits;
}

//  An integer literal of an intN/uintN into word. Returns 0, or -1 with the reason.
static int
s_encode_integer (const abi_type_t *type, const char *text, uint8_t word [32], char *err,
                  size_t err_size)
{
    memset (word, 0, 32);
    bool negative = *text == '-';
    const char *digits = negative ? text + 1 : text;
    if (negative && type->kind != ABI_INT) {
        s_error (err, err_size, "\"%s\" is negative, but a uint%u is not", text, type->size);
        return -1;
    }
    if (strncmp (digits, "0x", 2) == 0 || strncmp (digits, "0X", 2) == 0) {
        size_t len = strlen (digits + 2);
        char padded [67] = "0x";
        if (len == 0 || len > 64 || !hex_is_valid (digits)) {
            s_error (err, err_size, "\"%s\" is not a hex integer of at most 256 bits", text);
            return -1;
        }
        //  An even digit count for the decoder, right-aligned in the word.
        snprintf (padded + 2, sizeof (padded) - 2, "%s%s", len % 2 ? "0" : "", digits + 2);
        size_t bytes = (len + 1) / 2;
        if (hex_decode (padded, word + 32 - bytes, bytes) != (int) bytes) {
            s_error (err, err_size, "\"%s\" is not a hex integer", text);
            return -1;
        }
    }
    else {
        if (!*digits) {
            s_error (err, err_size, "\"%s\" is not an integer", text);
            return -1;
        }
        for (const char *cursor = digits; *cursor; cursor++)
            if (!isdigit ((unsigned char) *cursor)
                || s_word_mul10_add (word, (unsigned) (*cursor - '0'))) {
                s_error (err, err_size, "\"%s\" is not an integer of at most 256 bits", text);
                return -1;
            }
    }
    //  A signed value's magnitude may reach 2^(bits-1) when negative, 2^(bits-1)-1 else.
    unsigned bits = type->kind == ABI_INT ? type->size - 1 : type->size;
    bool fits = s_word_fits_bits (word, bits);
    if (!fits && negative) {
        //  -2^(bits-1) exactly: one bit set, at bits.
        uint8_t limit [32] = {0};
        limit [31 - bits / 8] = (uint8_t) (1u << (bits % 8));
        fits = memcmp (word, limit, 32) == 0;
    }
    if (!fits) {
        s_error (err, err_size, "\"%s\" does not fit in %s%u", text,
                 type->kind == ABI_INT ? "int" : "uint", type->size);
        return -1;
    }
    if (negative) {
        //  Two's complement over the whole word, as the ABI sign-extends.
        unsigned carry = 1;
        for (int index = 31; index >= 0; index--) {
            unsigned value = (uint8_t) ~word [index] + carry;
            word [index] = (uint8_t) value;
            carry = value >> 8;
        }
    }
    return 0;
}

//  Appends an encoded dynamic value (length word, then padded bytes) to the tail.
static void
s_tail_append (uint8_t **tail, size_t *tail_size, const uint8_t *bytes, size_t len)
{
    size_t padded = (len + 31) / 32 * 32;
    *tail = (uint8_t *) realloc (*tail, *tail_size + 32 + padded);
    assert (*tail);
    uint8_t *out = *tail + *tail_size;
    memset (out, 0, 32 + padded);
    for (int index = 0; index < 8; index++)
        out [31 - index] = (uint8_t) ((uint64_t) len >> (8 * index));
    if (len)
        memcpy (out + 32, bytes, len);
    *tail_size += 32 + padded;
}

//  Encodes one literal of an elementary type: its head word, and for bytes and string its
//  tail (the head then holds the offset, which the caller fixes). Returns 0 or -1.
static int
s_encode_literal (const abi_type_t *type, const char *text, uint8_t head [32], uint8_t **tail,
                  size_t *tail_size, char *err, size_t err_size)
{
    memset (head, 0, 32);
    size_t len = strlen (text);
    switch (type->kind) {
        case ABI_UINT:
        case ABI_INT:
            return s_encode_integer (type, text, head, err, err_size);
        case ABI_ADDRESS:
            if (len != 42 || hex_decode (text, head + 12, 20) != 20) {
                s_error (err, err_size, "\"%s\" is not an address (0x and 40 hex digits)", text);
                return -1;
            }
            return 0;
        case ABI_BOOL:
            if (!streq (text, "true") && !streq (text, "false")) {
                s_error (err, err_size, "\"%s\" is not a bool (true or false)", text);
                return -1;
            }
            head [31] = streq (text, "true");
            return 0;
        case ABI_BYTES_FIXED:
            if (len != 2 + 2 * (size_t) type->size
                || hex_decode (text, head, type->size) != (int) type->size) {
                s_error (err, err_size, "\"%s\" is not a bytes%u (0x and %u hex digits)", text,
                         type->size, 2 * type->size);
                return -1;
            }
            return 0;
        case ABI_BYTES: {
            uint8_t *bytes = (uint8_t *) malloc (len / 2 + 1);
            assert (bytes);
            int count = strncmp (text, "0x", 2) == 0 ? hex_decode (text, bytes, len / 2 + 1) : -1;
            if (count < 0) {
                free (bytes);
                s_error (err, err_size, "\"%s\" is not bytes (0x and hex digit pairs)", text);
                return -1;
            }
            s_tail_append (tail, tail_size, bytes, (size_t) count);
            free (bytes);
            return 0;
        }
        case ABI_STRING:
            if (len < 2 || text [0] != '"' || text [len - 1] != '"') {
                s_error (err, err_size, "%s is not a string in double quotes", text);
                return -1;
            }
            s_tail_append (tail, tail_size, (const uint8_t *) text + 1, len - 2);
            return 0;
        default:
            s_error (err, err_size, "arrays and tuples cannot be written as literals");
            return -1;
    }
}

//  Splits the text between the parentheses at top-level commas (not inside quotes) into
//  trimmed copies. Returns the count, or -1 when there are too many.
static int
s_split_args (const char *text, size_t len, char **args)
{
    int count = 0;
    size_t start = 0;
    bool quoted = false;
    bool blank = true;
    for (size_t index = 0; index < len; index++)
        if (!isspace ((unsigned char) text [index]))
            blank = false;
    if (blank)
        return 0;
    for (size_t index = 0; index <= len; index++) {
        if (index < len && text [index] == '"')
            quoted = !quoted;
        if (index < len && (quoted || text [index] != ','))
            continue;
        if (count == STATE_CALL_MAX_ARGS)
            return -1;
        size_t from = start, to = index;
        while (from < to && isspace ((unsigned char) text [from]))
            from++;
        while (to > from && isspace ((unsigned char) text [to - 1]))
            to--;
        args [count] = strndup (text + from, to - from);
        assert (args [count]);
        count++;
        start = index + 1;
    }
    return count;
}

//  The one function of abi named name with count inputs, or NULL with the reason.
static const abi_entry_t *
s_find (abi_t *abi, const char *name, size_t count, char *err, size_t err_size)
{
    const abi_entry_t *found = NULL;
    size_t named = 0;
    for (size_t index = 0; index < abi_size (abi); index++) {
        const abi_entry_t *entry = abi_entry (abi, index);
        if (entry->kind != ABI_FUNCTION || !streq (entry->name, name))
            continue;
        named++;
        if (entry->inputs->count != count)
            continue;
        if (found) {
            s_error (err, err_size, "the ABI has %s and %s: both take %zu arguments",
                     found->signature, entry->signature, count);
            return NULL;
        }
        found = entry;
    }
    if (!found && named)
        s_error (err, err_size, "the ABI's %s takes another number of arguments than %zu", name,
                 count);
    else if (!found)
        s_error (err, err_size, "the ABI has no function %s", name);
    return found;
}

//  Encodes the arguments after the selector. Returns 0 or -1 with the reason.
static int
s_encode_args (state_call_t *self, const abi_entry_t *entry, char **args, size_t count, char *err,
               size_t err_size)
{
    size_t head_size = 32 * count;
    uint8_t *head = (uint8_t *) zmalloc (head_size + 1);
    uint8_t *tail = NULL;
    size_t tail_size = 0;
    for (size_t index = 0; index < count; index++) {
        const abi_type_t *type = entry->inputs->components [index];
        size_t before = tail_size;
        char reason [256];
        if (s_encode_literal (type, args [index], head + 32 * index, &tail, &tail_size, reason,
                              sizeof (reason))) {
            s_error (err, err_size, "argument %zu of %s: %s", index + 1, entry->signature, reason);
            free (head);
            free (tail);
            return -1;
        }
        if (type->dynamic) {
            uint64_t offset = head_size + before;
            memset (head + 32 * index, 0, 32);
            for (int byte = 0; byte < 8; byte++)
                head [32 * index + 31 - byte] = (uint8_t) (offset >> (8 * byte));
        }
    }
    self->size = 4 + head_size + tail_size;
    self->data = (uint8_t *) malloc (self->size);
    assert (self->data);
    memcpy (self->data, entry->hash, 4);
    memcpy (self->data + 4, head, head_size);
    if (tail_size)
        memcpy (self->data + 4 + head_size, tail, tail_size);
    free (head);
    free (tail);
    return 0;
}

//  A deep copy of a type, through its canonical text (names kept by the tuple calls).
static abi_type_t *
s_copy_tuple (const abi_type_t *tuple, char *err, size_t err_size)
{
    abi_type_t *copy = abi_type_tuple_new (tuple->count);
    for (size_t index = 0; index < tuple->count; index++) {
        const abi_type_t *component = tuple->components [index];
        abi_type_t *part = NULL;
        if (component->kind == ABI_TUPLE)
            part = s_copy_tuple (component, err, err_size);
        else {
            char text [4096];
            if (abi_type_canonical (component, text, sizeof (text)) >= 0)
                part = abi_type_parse (text, err, err_size);
            else
                s_error (err, err_size, "an output type too long");
        }
        if (!part) {
            abi_type_destroy (&copy);
            return NULL;
        }
        abi_type_tuple_set (copy, index, &part, tuple->names [index], false);
    }
    if (abi_type_tuple_done (copy, err, err_size))
        abi_type_destroy (&copy);
    return copy;
}

state_call_t *
state_call_new (abi_t *abi, const char *text, char *err, size_t err_size)
{
    assert (abi && text);
    const char *open = strchr (text, '(');
    size_t text_len = strlen (text);
    while (text_len && isspace ((unsigned char) text [text_len - 1]))
        text_len--;
    if (!open || open == text || text [text_len - 1] != ')') {
        s_error (err, err_size, "\"%s\" is not a call: write name(arguments), e.g. getReserves()",
                 text);
        return NULL;
    }
    char *name = strndup (text, (size_t) (open - text));
    assert (name);
    char *args [STATE_CALL_MAX_ARGS];
    int count = s_split_args (open + 1, (size_t) (text + text_len - 1 - (open + 1)), args);
    if (count < 0) {
        s_error (err, err_size, "more than %d arguments", STATE_CALL_MAX_ARGS);
        free (name);
        return NULL;
    }
    state_call_t *self = NULL;
    const abi_entry_t *entry = s_find (abi, name, (size_t) count, err, err_size);
    if (entry && (!entry->outputs || entry->outputs->count == 0))
        s_error (err, err_size, "the ABI's %s returns nothing to watch", entry->signature);
    else if (entry) {
        self = (state_call_t *) zmalloc (sizeof (state_call_t));
        assert (self);
        self->function = strdup (entry->name);
        self->signature = strdup (entry->signature);
        assert (self->function && self->signature);
        self->outputs = s_copy_tuple (entry->outputs, err, err_size);
        if (!self->outputs || s_encode_args (self, entry, args, (size_t) count, err, err_size))
            state_call_destroy (&self);
    }
    if (self) {
        //  The arguments as the ABI engine reads them back: DESIGN's value rules.
        jsonw_t *writer = jsonw_new ();
        size_t end;
        char reason [256];
        int rc = abi_decode_args (entry->inputs, self->data + 4, self->size - 4, writer, &end,
                                  reason, sizeof (reason));
        assert (rc == 0);    //  what s_encode_args wrote is canonical
        self->args = jsonw_strdup (writer);
        jsonw_destroy (&writer);
    }
    for (int index = 0; index < count; index++)
        free (args [index]);
    free (name);
    return self;
}

const char *
state_call_function (state_call_t *self)
{
    return self->function;
}

const char *
state_call_signature (state_call_t *self)
{
    return self->signature;
}

const uint8_t *
state_call_data (state_call_t *self, size_t *size)
{
    *size = self->size;
    return self->data;
}

const char *
state_call_args (state_call_t *self)
{
    return self->args;
}

int
state_call_outputs (state_call_t *self, const uint8_t *data, size_t size, jsonw_t *writer,
                    char *err, size_t err_size)
{
    size_t end;
    return abi_decode_args (self->outputs, data, size, writer, &end, err, err_size);
}

void
state_call_revert_reason (const uint8_t *data, size_t size, char *out, size_t out_size)
{
    static const uint8_t error_string [4] = {0x08, 0xc3, 0x79, 0xa0};
    static const uint8_t panic [4] = {0x4e, 0x48, 0x7b, 0x71};
    if (size == 0) {
        snprintf (out, out_size, "reverted");
        return;
    }
    if (size >= 4 && memcmp (data, error_string, 4) == 0) {
        abi_type_t *params = abi_type_parse ("(string)", out, out_size);
        assert (params);
        cJSON *json = NULL;
        jsonw_t *writer = jsonw_new ();
        size_t end;
        char reason [128];
        if (abi_decode_args (params, data + 4, size - 4, writer, &end, reason, sizeof (reason)) == 0
            && (json = cJSON_ParseWithLength (jsonw_data (writer), jsonw_size (writer)))) {
            cJSON *text = cJSON_GetObjectItemCaseSensitive (json, "arg0");
            snprintf (out, out_size, "%s", cJSON_IsString (text) ? text->valuestring : "reverted");
            cJSON_Delete (json);
            jsonw_destroy (&writer);
            abi_type_destroy (&params);
            return;
        }
        jsonw_destroy (&writer);
        abi_type_destroy (&params);
    }
    if (size == 36 && memcmp (data, panic, 4) == 0) {
        char hex [67];
        hex_encode (data + 4, 32, hex);
        const char *digits = hex + 2;
        while (digits [0] == '0' && digits [1])
            digits++;
        snprintf (out, out_size, "panic 0x%s", digits);
        return;
    }
    size_t shown = size > 64 ? 64 : size;
    char hex [131];
    hex_encode (data, shown, hex);
    //  Cut to out_size on purpose: the reason is for a record, not for reading back.
    if (snprintf (out, out_size, "reverted with %s%s", hex, shown < size ? "..." : "")
        >= (int) out_size)
        out [out_size - 1] = 0;
}

//  A pair's getReserves and a balanceOf with a literal, encoded and decoded back; every
//  refusal names what is wrong.
void
state_call_test (bool verbose)
{
    (void) verbose;
    const char *json =
        "[{\"type\":\"function\",\"name\":\"getReserves\",\"inputs\":[],\"outputs\":["
        "{\"name\":\"_reserve0\",\"type\":\"uint112\"},{\"name\":\"_reserve1\",\"type\":"
        "\"uint112\"},{\"name\":\"_blockTimestampLast\",\"type\":\"uint32\"}]},"
        "{\"type\":\"function\",\"name\":\"balanceOf\",\"inputs\":[{\"name\":\"who\",\"type\":"
        "\"address\"}],\"outputs\":[{\"name\":\"\",\"type\":\"uint256\"}]},"
        "{\"type\":\"function\",\"name\":\"quote\",\"inputs\":[{\"name\":\"n\",\"type\":"
        "\"int16\"},{\"name\":\"ok\",\"type\":\"bool\"},{\"name\":\"memo\",\"type\":\"string\"},"
        "{\"name\":\"tag\",\"type\":\"bytes2\"}],\"outputs\":[{\"name\":\"p\",\"type\":\"tuple\","
        "\"components\":[{\"name\":\"a\",\"type\":\"uint8\"},{\"name\":\"b\",\"type\":"
        "\"string\"}]}]},"
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint8\"}],\"outputs\":[]},"
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"int8\"}],\"outputs\":[]},"
        "{\"type\":\"function\",\"name\":\"g\",\"inputs\":[]}]";
    char err [256];
    abi_t *abi = abi_parse (json, strlen (json), err, sizeof (err));
    assert (abi);
    state_call_t *call = state_call_new (abi, "getReserves()", err, sizeof (err));
    assert (call);
    size_t size;
    const uint8_t *data = state_call_data (call, &size);
    assert (size == 4 && data [0] == 0x09 && data [1] == 0x02 && data [2] == 0xf1
            && data [3] == 0xac);
    assert (streq (state_call_args (call), "{}"));
    assert (streq (state_call_function (call), "getReserves"));
    uint8_t answer [96] = {0};
    answer [31] = 7;
    answer [63] = 0x01;
    answer [62] = 0x01;
    answer [95] = 9;
    jsonw_t *writer = jsonw_new ();
    assert (state_call_outputs (call, answer, sizeof (answer), writer, err, sizeof (err)) == 0);
    assert (streq (jsonw_data (writer),
                   "{\"_reserve0\":\"7\",\"_reserve1\":\"257\",\"_blockTimestampLast\":\"9\"}"));
    jsonw_reset (writer);
    assert (state_call_outputs (call, answer, 40, writer, err, sizeof (err)) == -1);
    jsonw_reset (writer);
    state_call_destroy (&call);
    state_call_destroy (&call);

    call = state_call_new (abi, "balanceOf( 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 )", err,
                           sizeof (err));
    assert (call);
    data = state_call_data (call, &size);
    assert (size == 36 && data [4 + 12] == 0x70 && data [35] == 0xc8);
    assert (
        streq (state_call_args (call), "{\"who\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\"}"));
    state_call_destroy (&call);

    call = state_call_new (abi, "quote(-32768, true, \"a, b\", 0xbeef)", err, sizeof (err));
    assert (call);
    assert (streq (state_call_args (call),
                   "{\"n\":\"-32768\",\"ok\":true,\"memo\":\"a, b\",\"tag\":\"0xbeef\"}"));
    data = state_call_data (call, &size);
    assert (size == 4 + 4 * 32 + 64 && data [4 + 32 * 2 + 31] == 128);
    state_call_destroy (&call);
    call = state_call_new (abi, "quote(0x7fff, false, \"\", 0x0001)", err, sizeof (err));
    assert (call && strstr (state_call_args (call), "\"n\":\"32767\""));
    state_call_destroy (&call);

    //  Refusals.
    assert (!state_call_new (abi, "quote(32768, true, \"\", 0xbeef)", err, sizeof (err)));
    assert (strstr (err, "does not fit in int16"));
    assert (!state_call_new (abi, "quote(-32769, true, \"\", 0xbeef)", err, sizeof (err)));
    assert (!state_call_new (abi, "quote(1, yes, \"\", 0xbeef)", err, sizeof (err)));
    assert (strstr (err, "argument 2") && strstr (err, "not a bool"));
    assert (!state_call_new (abi, "quote(1, true, x, 0xbeef)", err, sizeof (err)));
    assert (!state_call_new (abi, "quote(1, true, \"\", 0xbe)", err, sizeof (err)));
    assert (!state_call_new (abi, "balanceOf(0x1234)", err, sizeof (err)));
    assert (strstr (err, "not an address"));
    assert (!state_call_new (abi, "balanceOf()", err, sizeof (err)));
    assert (strstr (err, "another number of arguments"));
    assert (!state_call_new (abi, "nothing()", err, sizeof (err)));
    assert (strstr (err, "no function nothing"));
    assert (!state_call_new (abi, "f(1)", err, sizeof (err)));
    assert (strstr (err, "f(uint8) and f(int8)"));
    assert (!state_call_new (abi, "g()", err, sizeof (err)));
    assert (strstr (err, "returns nothing"));
    assert (!state_call_new (abi, "getReserves", err, sizeof (err)));
    assert (!state_call_new (abi, "(1)", err, sizeof (err)));

    //  Revert reasons.
    char reason [128];
    state_call_revert_reason (NULL, 0, reason, sizeof (reason));
    assert (streq (reason, "reverted"));
    uint8_t revert [4 + 96] = {0x08, 0xc3, 0x79, 0xa0};
    revert [4 + 31] = 32;
    revert [4 + 63] = 5;
    memcpy (revert + 4 + 64, "above", 5);
    state_call_revert_reason (revert, sizeof (revert), reason, sizeof (reason));
    assert (streq (reason, "above"));
    uint8_t panic [36] = {0x4e, 0x48, 0x7b, 0x71};
    panic [35] = 0x11;
    state_call_revert_reason (panic, sizeof (panic), reason, sizeof (reason));
    assert (streq (reason, "panic 0x11"));
    state_call_revert_reason (panic, 3, reason, sizeof (reason));
    assert (streq (reason, "reverted with 0x4e487b"));
    jsonw_destroy (&writer);
    abi_destroy (&abi);
}
