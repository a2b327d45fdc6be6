/*  abi_type: the ABI type grammar. The parser is a small recursive descent over the text,
    bounded in depth, so a hostile signature file cannot overflow the stack; sizes are
    computed with overflow checks so that a type like uint256[2**60] is refused rather than
    wrapped around. */
#include "evmtap.h"
#include "abi_type.h"

typedef struct {
    const char *text;
    size_t len;
    size_t pos;
    char *err;
    size_t err_size;
} s_parser_t;

static abi_type_t *s_parse_type (s_parser_t *parser, unsigned depth);

static int
s_fail (s_parser_t *parser, const char *reason)
{
    if (parser->err && parser->err_size)
        snprintf (parser->err, parser->err_size, "%s at character %zu", reason, parser->pos + 1);
    return -1;
}

static abi_type_t *
s_new (abi_kind_t kind)
{
    abi_type_t *self = (abi_type_t *) zmalloc (sizeof (abi_type_t));
    assert (self);
    self->kind = kind;
    self->head_size = 32;
    self->depth = 1;
    return self;
}

void
abi_type_destroy (abi_type_t **self_p)
{
    assert (self_p);
    abi_type_t *self = *self_p;
    if (!self)
        return;
    abi_type_destroy (&self->element);
    for (size_t index = 0; index < self->count; index++) {
        abi_type_destroy (&self->components [index]);
        if (self->names)
            free (self->names [index]);
    }
    free (self->components);
    free (self->names);
    free (self->indexed);
    free (self);
    *self_p = NULL;
}

abi_type_t *
abi_type_tuple_new (size_t count)
{
    abi_type_t *self = s_new (ABI_TUPLE);
    self->count = count;
    self->components = (abi_type_t **) calloc (count ? count : 1, sizeof (abi_type_t *));
    self->names = (char **) calloc (count ? count : 1, sizeof (char *));
    self->indexed = (bool *) calloc (count ? count : 1, sizeof (bool));
    assert (self->components && self->names && self->indexed);
    return self;
}

void
abi_type_tuple_set (abi_type_t *self, size_t index, abi_type_t **type_p, const char *name,
                    bool indexed)
{
    assert (self && self->kind == ABI_TUPLE && index < self->count && type_p && *type_p);
    assert (!self->components [index]);
    self->components [index] = *type_p;
    *type_p = NULL;
    self->names [index] = strdup (name ? name : "");
    assert (self->names [index]);
    self->indexed [index] = indexed;
}

int
abi_type_tuple_done (abi_type_t *self, char *err, size_t err_size)
{
    assert (self && self->kind == ABI_TUPLE);
    size_t size = 0;
    unsigned depth = 0;
    bool dynamic = false;
    self->all_named = self->count > 0;
    for (size_t index = 0; index < self->count; index++) {
        abi_type_t *component = self->components [index];
        assert (component);
        dynamic |= component->dynamic;
        if (component->depth > depth)
            depth = component->depth;
        size += component->head_size;
        if (size > ABI_TYPE_MAX_STATIC_SIZE) {
            snprintf (err, err_size, "tuple too large");
            return -1;
        }
        if (!*self->names [index])
            self->all_named = false;
        for (size_t other = 0; other < index && self->all_named; other++)
            if (streq (self->names [other], self->names [index]))
                self->all_named = false;
    }
    self->depth = depth + 1;
    if (self->depth > ABI_TYPE_MAX_DEPTH) {
        snprintf (err, err_size, "type nested deeper than %d levels", ABI_TYPE_MAX_DEPTH);
        return -1;
    }
    self->dynamic = dynamic;
    self->head_size = dynamic ? 32 : size;
    return 0;
}

//  Wraps element in one array level: length 0 for T[], else T[length].
static abi_type_t *
s_wrap (abi_type_t *element, bool fixed, size_t length, const char **reason)
{
    if (element->depth + 1 > ABI_TYPE_MAX_DEPTH) {
        *reason = "type nested too deeply";
        return NULL;
    }
    if (fixed && length == 0) {
        *reason = "array of length 0";
        return NULL;
    }
    //  An array of zero-sized elements would decode any count from no bytes at all.
    if (!element->dynamic && element->head_size == 0) {
        *reason = "array of empty tuples";
        return NULL;
    }
    if (fixed && !element->dynamic && length > ABI_TYPE_MAX_STATIC_SIZE / element->head_size) {
        *reason = "fixed array too large";
        return NULL;
    }
    if (fixed && length > ABI_TYPE_MAX_STATIC_SIZE / 32) {
        *reason = "fixed array too large";
        return NULL;
    }
    abi_type_t *self = s_new (fixed ? ABI_ARRAY_FIXED : ABI_ARRAY);
    self->element = element;
    self->length = length;
    self->depth = element->depth + 1;
    self->dynamic = !fixed || element->dynamic;
    self->head_size = self->dynamic ? 32 : element->head_size * length;
    return self;
}

//  Reads array suffixes ("[]", "[3]") after a type at the parser's position.
static abi_type_t *
s_parse_suffixes (s_parser_t *parser, abi_type_t *type)
{
    while (type && parser->pos < parser->len && parser->text [parser->pos] == '[') {
        parser->pos++;
        size_t length = 0;
        bool fixed = false;
        while (parser->pos < parser->len && isdigit ((uint8_t) parser->text [parser->pos])) {
            if (length > ABI_TYPE_MAX_STATIC_SIZE) {
                s_fail (parser, "array length too large");
                abi_type_destroy (&type);
                return NULL;
            }
            length = length * 10 + (size_t) (parser->text [parser->pos++] - '0');
            fixed = true;
        }
        if (parser->pos >= parser->len || parser->text [parser->pos] != ']') {
            s_fail (parser, "expected ]");
            abi_type_destroy (&type);
            return NULL;
        }
        parser->pos++;
        const char *reason = NULL;
        abi_type_t *array = s_wrap (type, fixed, length, &reason);
        if (!array) {
            s_fail (parser, reason);
            abi_type_destroy (&type);
            return NULL;
        }
        type = array;
    }
    return type;
}

static void
s_skip_blanks (s_parser_t *parser)
{
    while (parser->pos < parser->len && parser->text [parser->pos] == ' ')
        parser->pos++;
}

static bool
s_is_name_char (char c)
{
    return isalnum ((uint8_t) c) || c == '_' || c == '$';
}

//  Reads a width after a type name: none gives fallback; else digits within [min, max]
//  and a multiple of step. Returns the width, or 0 when malformed.
static unsigned
s_width (const char *digits, size_t len, unsigned fallback, unsigned min, unsigned max,
         unsigned step)
{
    if (len == 0)
        return fallback;
    if (len > 3 || digits [0] == '0')
        return 0;
    unsigned value = 0;
    for (size_t index = 0; index < len; index++) {
        if (!isdigit ((uint8_t) digits [index]))
            return 0;
        value = value * 10 + (unsigned) (digits [index] - '0');
    }
    return value >= min && value <= max && value % step == 0 ? value : 0;
}

//  An elementary type name at the parser's position ("uint256", "address", ...).
static abi_type_t *
s_parse_elementary (s_parser_t *parser)
{
    size_t start = parser->pos;
    while (parser->pos < parser->len && s_is_name_char (parser->text [parser->pos]))
        parser->pos++;
    const char *word = parser->text + start;
    size_t len = parser->pos - start;
    abi_type_t *type = NULL;
    unsigned width;
    if (len >= 4 && memcmp (word, "uint", 4) == 0) {
        if ((width = s_width (word + 4, len - 4, 256, 8, 256, 8))) {
            type = s_new (ABI_UINT);
            type->size = width;
        }
    }
    else if (len >= 3 && memcmp (word, "int", 3) == 0) {
        if ((width = s_width (word + 3, len - 3, 256, 8, 256, 8))) {
            type = s_new (ABI_INT);
            type->size = width;
        }
    }
    else if (len == 7 && memcmp (word, "address", 7) == 0)
        type = s_new (ABI_ADDRESS);
    else if (len == 4 && memcmp (word, "bool", 4) == 0)
        type = s_new (ABI_BOOL);
    else if (len == 6 && memcmp (word, "string", 6) == 0) {
        type = s_new (ABI_STRING);
        type->dynamic = true;
    }
    else if (len == 5 && memcmp (word, "bytes", 5) == 0) {
        type = s_new (ABI_BYTES);
        type->dynamic = true;
    }
    else if (len > 5 && memcmp (word, "bytes", 5) == 0) {
        if ((width = s_width (word + 5, len - 5, 0, 1, 32, 1))) {
            type = s_new (ABI_BYTES_FIXED);
            type->size = width;
        }
    }
    else if (len == 8 && memcmp (word, "function", 8) == 0) {
        type = s_new (ABI_BYTES_FIXED);
        type->size = 24;
        type->is_function = true;
    }
    if (!type) {
        parser->pos = start;
        s_fail (parser, len ? "unknown type" : "expected a type");
    }
    return type;
}

//  "(" [component ("," component)*] ")" where a component is `type [indexed] [name]`.
static abi_type_t *
s_parse_tuple (s_parser_t *parser, unsigned depth)
{
    assert (parser->text [parser->pos] == '(');
    parser->pos++;
    //  Count the components first (commas at this level) to size the tuple once.
    size_t count = 0, level = 0;
    bool any = false;
    for (size_t scan = parser->pos; scan < parser->len; scan++) {
        char c = parser->text [scan];
        if (c == '(') {
            level++;
            any = true;
        }
        else if (c == ')') {
            if (level == 0)
                break;
            level--;
        }
        else if (c == ',' && level == 0)
            count++;
        else if (c != ' ')
            any = true;
    }
    count = any || count ? count + 1 : 0;
    if (count > ABI_TYPE_MAX_COMPONENTS) {
        s_fail (parser, "too many components");
        return NULL;
    }
    abi_type_t *tuple = abi_type_tuple_new (count);
    for (size_t index = 0; index < count; index++) {
        s_skip_blanks (parser);
        abi_type_t *component = s_parse_type (parser, depth + 1);
        if (!component) {
            abi_type_destroy (&tuple);
            return NULL;
        }
        bool indexed = false;
        char name [128] = "";
        s_skip_blanks (parser);
        for (int word = 0; word < 2; word++) {
            size_t start = parser->pos;
            if (parser->pos < parser->len && isdigit ((uint8_t) parser->text [parser->pos])) {
                s_fail (parser, "a name cannot start with a digit");
                abi_type_destroy (&component);
                abi_type_destroy (&tuple);
                return NULL;
            }
            while (parser->pos < parser->len && s_is_name_char (parser->text [parser->pos]))
                parser->pos++;
            size_t len = parser->pos - start;
            if (len == 0)
                break;
            if (word == 0 && len == 7 && memcmp (parser->text + start, "indexed", 7) == 0)
                indexed = true;
            else if (!*name && len < sizeof (name)) {
                memcpy (name, parser->text + start, len);
                name [len] = 0;
                word = 1;
            }
            else {
                s_fail (parser, "unexpected word");
                abi_type_destroy (&component);
                abi_type_destroy (&tuple);
                return NULL;
            }
            s_skip_blanks (parser);
        }
        abi_type_tuple_set (tuple, index, &component, name, indexed);
        char expected = index + 1 < count ? ',' : ')';
        if (parser->pos >= parser->len || parser->text [parser->pos] != expected) {
            s_fail (parser, expected == ',' ? "expected ," : "expected )");
            abi_type_destroy (&tuple);
            return NULL;
        }
        parser->pos++;
    }
    if (count == 0) {
        s_skip_blanks (parser);
        if (parser->pos >= parser->len || parser->text [parser->pos] != ')') {
            s_fail (parser, "expected )");
            abi_type_destroy (&tuple);
            return NULL;
        }
        parser->pos++;
    }
    char reason [96];
    if (abi_type_tuple_done (tuple, reason, sizeof (reason))) {
        s_fail (parser, reason);
        abi_type_destroy (&tuple);
    }
    return tuple;
}

static abi_type_t *
s_parse_type (s_parser_t *parser, unsigned depth)
{
    if (depth > ABI_TYPE_MAX_DEPTH) {
        s_fail (parser, "type nested too deeply");
        return NULL;
    }
    abi_type_t *type;
    if (parser->pos < parser->len && parser->text [parser->pos] == '(')
        type = s_parse_tuple (parser, depth);
    else
        type = s_parse_elementary (parser);
    return type ? s_parse_suffixes (parser, type) : NULL;
}

abi_type_t *
abi_type_parse_len (const char *text, size_t len, char *err, size_t err_size)
{
    assert (text);
    s_parser_t parser = {text, len, 0, err, err_size};
    abi_type_t *type = s_parse_type (&parser, 1);
    if (type && parser.pos != len) {
        s_fail (&parser, "unexpected text after the type");
        abi_type_destroy (&type);
    }
    return type;
}

abi_type_t *
abi_type_parse (const char *text, char *err, size_t err_size)
{
    return abi_type_parse_len (text, strlen (text), err, err_size);
}

abi_type_t *
abi_type_wrap_arrays (abi_type_t **type_p, const char *suffixes, char *err, size_t err_size)
{
    assert (type_p && *type_p && suffixes);
    s_parser_t parser = {suffixes, strlen (suffixes), 0, err, err_size};
    abi_type_t *type = s_parse_suffixes (&parser, *type_p);
    *type_p = NULL;
    if (type && parser.pos != parser.len) {
        s_fail (&parser, "malformed array suffix");
        abi_type_destroy (&type);
    }
    return type;
}

//  Appends text to out at *pos; false when it does not fit.
static bool
s_append (char *out, size_t out_size, size_t *pos, const char *text)
{
    size_t len = strlen (text);
    if (*pos + len + 1 > out_size)
        return false;
    memcpy (out + *pos, text, len + 1);
    *pos += len;
    return true;
}

static bool
s_canonical (const abi_type_t *self, char *out, size_t out_size, size_t *pos)
{
    char word [24];
    switch (self->kind) {
        case ABI_UINT:
            snprintf (word, sizeof (word), "uint%u", self->size);
            return s_append (out, out_size, pos, word);
        case ABI_INT:
            snprintf (word, sizeof (word), "int%u", self->size);
            return s_append (out, out_size, pos, word);
        case ABI_ADDRESS:
            return s_append (out, out_size, pos, "address");
        case ABI_BOOL:
            return s_append (out, out_size, pos, "bool");
        case ABI_BYTES_FIXED:
            if (self->is_function)
                return s_append (out, out_size, pos, "function");
            snprintf (word, sizeof (word), "bytes%u", self->size);
            return s_append (out, out_size, pos, word);
        case ABI_BYTES:
            return s_append (out, out_size, pos, "bytes");
        case ABI_STRING:
            return s_append (out, out_size, pos, "string");
        case ABI_ARRAY:
        case ABI_ARRAY_FIXED:
            if (!s_canonical (self->element, out, out_size, pos))
                return false;
            if (self->kind == ABI_ARRAY)
                return s_append (out, out_size, pos, "[]");
            snprintf (word, sizeof (word), "[%zu]", self->length);
            return s_append (out, out_size, pos, word);
        case ABI_TUPLE:
            if (!s_append (out, out_size, pos, "("))
                return false;
            for (size_t index = 0; index < self->count; index++)
                if ((index && !s_append (out, out_size, pos, ","))
                    || !s_canonical (self->components [index], out, out_size, pos))
                    return false;
            return s_append (out, out_size, pos, ")");
    }
    return false;
}

int
abi_type_canonical (const abi_type_t *self, char *out, size_t out_size)
{
    assert (self && out && out_size);
    size_t pos = 0;
    out [0] = 0;
    if (!s_canonical (self, out, out_size, &pos)) {
        out [0] = 0;
        return -1;
    }
    return (int) pos;
}

static void
s_check_canonical (const char *text, const char *expected)
{
    char err [128] = "";
    abi_type_t *type = abi_type_parse (text, err, sizeof (err));
    if (!type) {
        fprintf (stderr, "abi_type: %s: %s\n", text, err);
        assert (false);
    }
    char out [512];
    assert (abi_type_canonical (type, out, sizeof (out)) > 0);
    if (!streq (out, expected)) {
        fprintf (stderr, "abi_type: %s gave %s, expected %s\n", text, out, expected);
        assert (false);
    }
    abi_type_destroy (&type);
}

static void
s_check_refused (const char *text)
{
    char err [128] = "";
    abi_type_t *type = abi_type_parse (text, err, sizeof (err));
    if (type) {
        fprintf (stderr, "abi_type: %s was accepted\n", text);
        assert (false);
    }
    assert (*err);
}

void
abi_type_test (bool verbose)
{
    (void) verbose;
    //  Every width of uintN and intN, and bytesN.
    for (unsigned bits = 8; bits <= 256; bits += 8) {
        char text [16], expected [16];
        snprintf (text, sizeof (text), "uint%u", bits);
        s_check_canonical (text, text);
        snprintf (text, sizeof (text), "int%u", bits);
        s_check_canonical (text, text);
        snprintf (expected, sizeof (expected), "bytes%u", bits / 8);
        s_check_canonical (expected, expected);
    }
    s_check_canonical ("uint", "uint256");
    s_check_canonical ("int[]", "int256[]");
    s_check_canonical ("address[2][]", "address[2][]");
    s_check_canonical ("(uint,(address,bytes)[])", "(uint256,(address,bytes)[])");
    s_check_canonical ("(address indexed from,address indexed to,uint256 value)",
                       "(address,address,uint256)");
    s_check_canonical ("()", "()");
    s_check_canonical ("(())", "(())");
    s_check_canonical ("((),(uint8))", "((),(uint8))");
    s_check_canonical ("(function,string,bool)[3]", "(function,string,bool)[3]");

    char err [128];
    abi_type_t *type = abi_type_parse ("(uint256 a,(address,bytes)[] b,bool[2] c)", err,
                                       sizeof (err));
    assert (type && type->kind == ABI_TUPLE && type->count == 3 && type->dynamic);
    assert (type->all_named && streq (type->names [1], "b"));
    assert (type->components [1]->kind == ABI_ARRAY && type->components [1]->dynamic);
    assert (type->components [2]->kind == ABI_ARRAY_FIXED);
    assert (!type->components [2]->dynamic && type->components [2]->head_size == 64);
    assert (type->components [1]->element->count == 2);
    assert (!type->components [1]->element->all_named);
    abi_type_destroy (&type);
    abi_type_destroy (&type);
    type = abi_type_parse ("(address indexed from,uint256 value)", err, sizeof (err));
    assert (type && type->indexed [0] && !type->indexed [1] && streq (type->names [0], "from"));
    abi_type_destroy (&type);
    //  Static tuples are inline: (uint8,bytes32)[2] takes 128 bytes of head.
    type = abi_type_parse ("(uint8,bytes32)[2]", err, sizeof (err));
    assert (type && !type->dynamic && type->head_size == 128);
    abi_type_destroy (&type);

    //  ABI JSON's "tuple[2][]": a tuple built from components, then wrapped.
    abi_type_t *tuple = abi_type_tuple_new (1);
    abi_type_t *component = abi_type_parse ("string", err, sizeof (err));
    abi_type_tuple_set (tuple, 0, &component, "s", false);
    assert (abi_type_tuple_done (tuple, err, sizeof (err)) == 0 && tuple->dynamic);
    type = abi_type_wrap_arrays (&tuple, "[2][]", err, sizeof (err));
    assert (type && !tuple);
    char out [64];
    assert (abi_type_canonical (type, out, sizeof (out)) == 13 && streq (out, "(string)[2][]"));
    assert (abi_type_canonical (type, out, 5) == -1);
    abi_type_destroy (&type);

    const char *refused [] = {"",
                              "uint7",
                              "uint264",
                              "uint0",
                              "uint08",
                              "int512",
                              "bytes0",
                              "bytes33",
                              "addres",
                              "uint256[",
                              "uint256[2",
                              "uint256[0]",
                              "uint256[99999999999999999999]",
                              "uint256[1000000000]",
                              "(uint256",
                              "(uint256,)",
                              "(,)",
                              "uint256 x",
                              "()[]",
                              "tuple",
                              "fixed128x18",
                              "(uint256 a b c)",
                              "uint256]",
                              "(()0xa9)",
                              "(uint8 1a)"};
    for (size_t index = 0; index < sizeof (refused) / sizeof (refused [0]); index++)
        s_check_refused (refused [index]);
    //  Depth is bounded: 40 nested tuples or 40 array levels are refused, not recursed.
    char deep [128];
    memset (deep, '(', 40);
    strcpy (deep + 40, "uint8");
    memset (deep + 45, ')', 40);
    deep [85] = 0;
    s_check_refused (deep);
    strcpy (deep, "uint8");
    for (int level = 0; level < 40; level++)
        strcat (deep, "[]");
    s_check_refused (deep);
}
