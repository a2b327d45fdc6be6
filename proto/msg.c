/*  msg: msgpack packing, checked reading and the field tables shared by every evmtap
    message (see msg.h). */
#include "evmtap.h"
#include "msg.h"
#include <inttypes.h>
#include <limits.h>

//  True when the msgpack bytes can hold every element their headers announce. msgpack-c
//  allocates for a declared count before it looks at the bytes, so 5 bytes announcing 2^32
//  elements would cost gigabytes: the counts are checked against the size first. Every
//  element takes at least one byte, so pending elements may never outnumber the bytes left.
static bool
s_counts_plausible (const uint8_t *data, size_t size)
{
    uint64_t pending = 1;
    size_t at = 0;
    while (pending > 0) {
        if (at >= size || pending > size - at)
            return false;
        pending--;
        uint8_t tag = data [at++];
        uint64_t skip = 0, children = 0;
        size_t width = 0;
        if (tag <= 0x7f || tag >= 0xe0 || tag == 0xc0 || tag == 0xc2 || tag == 0xc3)
            ;
        else if (tag >= 0x80 && tag <= 0x8f)
            children = 2 * (uint64_t) (tag & 0x0f);
        else if (tag >= 0x90 && tag <= 0x9f)
            children = tag & 0x0f;
        else if (tag >= 0xa0 && tag <= 0xbf)
            skip = tag & 0x1f;
        else
            // clang-format off
            switch (tag) {
                case 0xc4: case 0xd9: width = 1; break;     //  bin8, str8: length follows
                case 0xc5: case 0xda: width = 2; break;
                case 0xc6: case 0xdb: width = 4; break;
                case 0xc7: width = 1; skip = 1; break;      //  ext8: length, type, data
                case 0xc8: width = 2; skip = 1; break;
                case 0xc9: width = 4; skip = 1; break;
                case 0xca: skip = 4; break;
                case 0xcb: skip = 8; break;
                case 0xcc: case 0xd0: skip = 1; break;
                case 0xcd: case 0xd1: skip = 2; break;
                case 0xce: case 0xd2: skip = 4; break;
                case 0xcf: case 0xd3: skip = 8; break;
                case 0xd4: skip = 2; break;                 //  fixext: type and data
                case 0xd5: skip = 3; break;
                case 0xd6: skip = 5; break;
                case 0xd7: skip = 9; break;
                case 0xd8: skip = 17; break;
                case 0xdc: case 0xde: width = 2; break;     //  array16, map16
                case 0xdd: case 0xdf: width = 4; break;
                default: return false;                      //  0xc1 is never used
            }
        // clang-format on
        if (width) {
            if (size - at < width)
                return false;
            uint64_t count = 0;
            for (size_t byte = 0; byte < width; byte++)
                count = count << 8 | data [at++];
            if (tag == 0xdc || tag == 0xdd)
                children = count;
            else if (tag == 0xde || tag == 0xdf)
                children = 2 * count;
            else
                skip += count;
        }
        if (skip > size - at)
            return false;
        at += (size_t) skip;
        pending += children;
    }
    return true;
}

//  Unpacks the frame's first msgpack object into unpacked, which the caller destroys; when
//  whole, nothing may follow it. False when it is no msgpack or announces more than it
//  holds.
static bool
s_unpack (zframe_t *frame, msgpack_unpacked *unpacked, bool whole)
{
    msgpack_unpacked_init (unpacked);
    if (!frame || !s_counts_plausible (zframe_data (frame), zframe_size (frame)))
        return false;
    size_t offset = 0;
    return msgpack_unpack_next (unpacked, (const char *) zframe_data (frame), zframe_size (frame),
                                &offset)
               == MSGPACK_UNPACK_SUCCESS
           && (!whole || offset == zframe_size (frame));
}

//  The index-th element of the frame's top array when it is an unsigned integer.
static bool
s_peek_u64 (zframe_t *frame, uint32_t index, uint64_t *value)
{
    msgpack_unpacked unpacked;
    bool found = s_unpack (frame, &unpacked, false) && unpacked.data.type == MSGPACK_OBJECT_ARRAY
                 && unpacked.data.via.array.size >= 2 && index < unpacked.data.via.array.size
                 && unpacked.data.via.array.ptr [index].type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    if (found)
        *value = unpacked.data.via.array.ptr [index].via.u64;
    msgpack_unpacked_destroy (&unpacked);
    return found;
}

int
msg_type (zframe_t *frame)
{
    uint64_t type;
    return s_peek_u64 (frame, 0, &type) && type < 256 ? (int) type : -2;
}

uint64_t
msg_first_u64 (zframe_t *frame)
{
    uint64_t value;
    return s_peek_u64 (frame, 2, &value) ? value : 0;
}

//  --------------------------------------------------------------------------
//  Writer

void
msg_writer_init (msg_writer_t *self, msg_type_t type, size_t field_count)
{
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&self->packer, field_count + 2);
    msgpack_pack_uint64 (&self->packer, type);
    msgpack_pack_uint64 (&self->packer, MSG_VERSION);
}

void
msg_write_u64 (msg_writer_t *self, uint64_t value)
{
    msgpack_pack_uint64 (&self->packer, value);
}

void
msg_write_i64 (msg_writer_t *self, int64_t value)
{
    msgpack_pack_int64 (&self->packer, value);
}

void
msg_write_bool (msg_writer_t *self, bool value)
{
    if (value)
        msgpack_pack_true (&self->packer);
    else
        msgpack_pack_false (&self->packer);
}

void
msg_write_nil (msg_writer_t *self)
{
    msgpack_pack_nil (&self->packer);
}

void
msg_write_strn (msg_writer_t *self, const char *text, size_t len)
{
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, text, len);
}

void
msg_write_str (msg_writer_t *self, const char *text)
{
    if (text)
        msg_write_strn (self, text, strlen (text));
    else
        msgpack_pack_nil (&self->packer);
}

void
msg_write_array (msg_writer_t *self, size_t count)
{
    msgpack_pack_array (&self->packer, count);
}

zframe_t *
msg_writer_frame (msg_writer_t *self)
{
    zframe_t *frame = zframe_new (self->buffer.data, self->buffer.size);
    msgpack_sbuffer_destroy (&self->buffer);
    return frame;
}

//  --------------------------------------------------------------------------
//  Reader over one frame: each s_read_* takes the next element of the current array and
//  marks the reader failed, for good, on a wrong type or a missing element.

typedef struct {
    msgpack_unpacked unpacked;
    const msgpack_object *items;    //  elements of the array being read
    uint32_t count;                 //  how many
    uint32_t index;                 //  the next one to read
    bool failed;                    //  sticky: any wrong type, missing field or bad value
} s_reader_t;

//  The next element, or NULL (and failed) when the array is exhausted.
static const msgpack_object *
s_next (s_reader_t *self)
{
    if (self->failed || self->index >= self->count) {
        self->failed = true;
        return NULL;
    }
    return &self->items [self->index++];
}

static uint64_t
s_read_u64 (s_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return item->via.u64;
    self->failed = true;
    return 0;
}

static int64_t
s_read_i64 (s_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return item->via.i64;
    if (item && item->type == MSGPACK_OBJECT_POSITIVE_INTEGER && item->via.u64 <= INT64_MAX)
        return (int64_t) item->via.u64;
    self->failed = true;
    return 0;
}

//  A boolean; msgpack's nil or 0 are no booleans.
static bool
s_read_bool (s_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_BOOLEAN)
        return item->via.boolean;
    self->failed = true;
    return false;
}

//  A string borrowed from the frame, with its length; nil gives NULL, an empty string "".
static const char *
s_read_strn (s_reader_t *self, size_t *len)
{
    const msgpack_object *item = s_next (self);
    *len = 0;
    if (item && item->type == MSGPACK_OBJECT_NIL)
        return NULL;
    if (item && item->type == MSGPACK_OBJECT_STR) {
        //  msgpack-c leaves ptr NULL for a string of length 0, which would read as nil.
        *len = item->via.str.size;
        return item->via.str.size ? item->via.str.ptr : "";
    }
    self->failed = true;
    return NULL;
}

//  A copy of len bytes as a fresh heap string.
static char *
s_strndup (const char *text, size_t len)
{
    char *copy = (char *) malloc (len + 1);
    assert (copy);
    memcpy (copy, text, len);
    copy [len] = 0;
    return copy;
}

//  A string as a fresh heap string, NULL for nil; a NUL inside is malformed, since texts
//  are C strings everywhere after this and it would cut them short.
static char *
s_read_strdup (s_reader_t *self, size_t *len_p)
{
    size_t len;
    const char *text = s_read_strn (self, &len);
    *len_p = 0;
    if (!text)
        return NULL;
    if (memchr (text, 0, len)) {
        self->failed = true;
        return NULL;
    }
    *len_p = len;
    return s_strndup (text, len);
}

//  A string copied into out (one that does not fit is malformed); nil gives "".
static void
s_read_text (s_reader_t *self, char *out, size_t out_size)
{
    size_t len;
    const char *text = s_read_strn (self, &len);
    if (len >= out_size) {
        self->failed = true;
        len = 0;
    }
    if (text)
        memcpy (out, text, len);
    out [len] = 0;
}

//  Where the reader stood in the enclosing array while it reads a nested one.
typedef struct {
    const msgpack_object *items;
    uint32_t count;
    uint32_t index;
} s_position_t;

//  Enters a nested array; returns its element count (0 and failed when it is none).
static uint32_t
s_read_enter (s_reader_t *self, s_position_t *saved)
{
    const msgpack_object *item = s_next (self);
    *saved = (s_position_t) {self->items, self->count, self->index};
    if (!item || item->type != MSGPACK_OBJECT_ARRAY) {
        self->failed = true;
        return 0;
    }
    self->items = item->via.array.ptr;
    self->count = item->via.array.size;
    self->index = 0;
    return self->count;
}

//  Returns to the enclosing array; every element of the nested one must have been read,
//  as for the top level.
static void
s_read_leave (s_reader_t *self, const s_position_t *saved)
{
    if (self->index != self->count)
        self->failed = true;
    self->items = saved->items;
    self->count = saved->count;
    self->index = saved->index;
}

//  --------------------------------------------------------------------------
//  Field tables: each kind of field has a codec, the four things a table does with it.

typedef struct {
    //  Packs the member.
    void (*write) (msg_writer_t *writer, const msg_field_t *field, const void *message);
    //  Reads it (allocating what it points to); a wrong value marks the reader failed.
    void (*read) (s_reader_t *reader, const msg_field_t *field, void *message);
    //  Prints its value.
    void (*print) (FILE *file, const msg_field_t *field, const void *message);
    //  Frees what read allocated and zeroes it; NULL when a kind allocates nothing.
    void (*clear) (const msg_field_t *field, void *message);
} s_codec_t;

static const s_codec_t *s_codec (const msg_field_t *field);

//  The member a field describes, inside the struct at message.
static char *
s_member (const msg_field_t *field, void *message)
{
    return (char *) message + field->offset;
}

//  The same, read-only.
static const char *
s_const_member (const msg_field_t *field, const void *message)
{
    return (const char *) message + field->offset;
}

//  A pointer or length member, by its offset: copied rather than cast, since a string
//  member may be const char * and a list member any element type.
static char *
s_get_ptr (const void *message, size_t offset)
{
    char *value;
    memcpy (&value, (const char *) message + offset, sizeof (value));
    return value;
}

static void
s_set_ptr (void *message, size_t offset, const void *value)
{
    memcpy ((char *) message + offset, &value, sizeof (value));
}

static size_t
s_get_size (const void *message, size_t offset)
{
    size_t value;
    memcpy (&value, (const char *) message + offset, sizeof (value));
    return value;
}

static void
s_set_size (void *message, size_t offset, size_t value)
{
    memcpy ((char *) message + offset, &value, sizeof (value));
}

size_t
msg_width (const msg_table_t *table)
{
    size_t width = 0;
    for (size_t index = 0; index < table->count; index++)
        width += table->fields [index].kind == MSG_FIELD_GROUP
                     ? msg_width (table->fields [index].table)
                     : 1;
    return width;
}

void
msg_write_field (msg_writer_t *self, const msg_field_t *field, const void *message)
{
    s_codec (field)->write (self, field, message);
}

//  The fields of a table (a message, a group or a row) in its order.
static void
s_write_fields (msg_writer_t *writer, const msg_table_t *table, const void *self)
{
    for (size_t index = 0; index < table->count; index++)
        msg_write_field (writer, &table->fields [index], self);
}

//  The same when reading; each field reads nothing more once the reader failed.
static void
s_read_fields (s_reader_t *reader, const msg_table_t *table, void *self)
{
    for (size_t index = 0; index < table->count; index++)
        s_codec (&table->fields [index])->read (reader, &table->fields [index], self);
}

//  --------------------------------------------------------------------------
//  Numbers and flags (U64, U32, I64, INT, BOOL), held as 64 bits on their way; each
//  member really has its kind's type (MSG_MEMBER checks), so it is accessed as that type.

//  The member as 64 bits, signed kinds sign-extended (as the encoders always wrote them).
static uint64_t
s_scalar_get (const msg_field_t *field, const void *message)
{
    const void *member = s_const_member (field, message);
    if (field->kind == MSG_FIELD_U64)
        return *(const uint64_t *) member;
    if (field->kind == MSG_FIELD_U32)
        return *(const uint32_t *) member;
    if (field->kind == MSG_FIELD_I64)
        return (uint64_t) * (const int64_t *) member;
    if (field->kind == MSG_FIELD_INT) {
        assert (field->size == sizeof (int));
        return (uint64_t) (int64_t) * (const int *) member;
    }
    return *(const bool *) member;
}

//  Stores 64 bits into the member, narrowed to its type (the reader checked the range).
static void
s_scalar_set (const msg_field_t *field, void *message, uint64_t value)
{
    void *member = s_member (field, message);
    switch (field->kind) {
        case MSG_FIELD_U64:
            *(uint64_t *) member = value;
            break;
        case MSG_FIELD_U32:
            *(uint32_t *) member = (uint32_t) value;
            break;
        case MSG_FIELD_I64:
            *(int64_t *) member = (int64_t) value;
            break;
        case MSG_FIELD_INT:
            *(int *) member = (int) value;
            break;
        default:
            *(bool *) member = value != 0;
            break;
    }
}

//  I64 packs as a signed integer, the others as unsigned (INT included, as ever).
static void
s_write_scalar (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    uint64_t value = s_scalar_get (field, message);
    if (field->kind == MSG_FIELD_BOOL)
        msg_write_bool (writer, value != 0);
    else if (field->kind == MSG_FIELD_I64)
        msg_write_i64 (writer, (int64_t) value);
    else
        msg_write_u64 (writer, value);
}

//  A number out of the kind's range is malformed and leaves the member 0, rather than
//  cut down to fit.
static void
s_read_scalar (s_reader_t *reader, const msg_field_t *field, void *message)
{
    if (field->kind == MSG_FIELD_BOOL)
        s_scalar_set (field, message, s_read_bool (reader));
    else if (field->kind == MSG_FIELD_I64)
        s_scalar_set (field, message, (uint64_t) s_read_i64 (reader));
    else {
        uint64_t value = s_read_u64 (reader);
        uint64_t lowest = field->kind == MSG_FIELD_INT ? field->min : 0;
        uint64_t highest = field->kind == MSG_FIELD_INT   ? field->max
                           : field->kind == MSG_FIELD_U32 ? UINT32_MAX
                                                          : UINT64_MAX;
        assert (field->kind != MSG_FIELD_INT || highest <= INT_MAX);
        if (value < lowest || value > highest)
            reader->failed = true;
        else
            s_scalar_set (field, message, value);
    }
}

//  Flags as true/false, numbers in decimal.
static void
s_print_scalar (FILE *file, const msg_field_t *field, const void *message)
{
    uint64_t value = s_scalar_get (field, message);
    if (field->kind == MSG_FIELD_BOOL)
        fputs (value ? "true" : "false", file);
    else if (field->kind == MSG_FIELD_I64 || field->kind == MSG_FIELD_INT)
        fprintf (file, "%" PRId64, (int64_t) value);
    else
        fprintf (file, "%" PRIu64, value);
}

static const s_codec_t s_scalar_codec = {s_write_scalar, s_read_scalar, s_print_scalar, NULL};

//  --------------------------------------------------------------------------
//  Texts: fixed arrays (TEXT, TEXT_OR_NIL), heap strings (NAME), JSON and bytes with their
//  length (JSON, BYTES).

//  A text in double quotes, with quotes, backslashes and control bytes escaped, so that
//  a hostile frame cannot forge a log line.
static void
s_print_quoted (FILE *file, const char *text, size_t len)
{
    fputc ('"', file);
    for (size_t index = 0; index < len; index++) {
        unsigned char byte = (unsigned char) text [index];
        if (byte == '"' || byte == '\\')
            fprintf (file, "\\%c", byte);
        else if (byte < 0x20 || byte == 0x7f)
            fprintf (file, "\\x%02x", byte);
        else
            fputc (byte, file);
    }
    fputc ('"', file);
}

//  Up to the array's end even without a NUL; TEXT_OR_NIL sends "" as nil.
static void
s_write_text (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    const char *text = s_const_member (field, message);
    if (field->kind == MSG_FIELD_TEXT_OR_NIL && !*text)
        msg_write_nil (writer);
    else
        msg_write_strn (writer, text, strnlen (text, field->size));
}

//  Into the array (s_read_text: nil gives "", too long is malformed).
static void
s_read_text_field (s_reader_t *reader, const msg_field_t *field, void *message)
{
    s_read_text (reader, s_member (field, message), field->size);
}

//  Quoted, up to the array's end.
static void
s_print_text (FILE *file, const msg_field_t *field, const void *message)
{
    const char *text = s_const_member (field, message);
    s_print_quoted (file, text, strnlen (text, field->size));
}

static const s_codec_t s_text_codec = {s_write_text, s_read_text_field, s_print_text, NULL};

//  The string, nil for NULL (which decoding then refuses).
static void
s_write_name (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    msg_write_str (writer, s_get_ptr (message, field->offset));
}

//  Nil, a NUL inside and more than field->max bytes are malformed.
static void
s_read_name (s_reader_t *reader, const msg_field_t *field, void *message)
{
    size_t len;
    char *name = s_read_strdup (reader, &len);
    if (!name || len > field->max)
        reader->failed = true;
    s_set_ptr (message, field->offset, name);
}

//  Quoted, or nil before anything was read.
static void
s_print_name (FILE *file, const msg_field_t *field, const void *message)
{
    const char *name = s_get_ptr (message, field->offset);
    if (name)
        s_print_quoted (file, name, strlen (name));
    else
        fputs ("nil", file);
}

//  Frees a heap member and, for JSON and bytes, zeroes its length.
static void
s_clear_heap (const msg_field_t *field, void *message)
{
    free (s_get_ptr (message, field->offset));
    s_set_ptr (message, field->offset, NULL);
    if (field->kind != MSG_FIELD_NAME)
        s_set_size (message, field->aux, 0);
}

static const s_codec_t s_name_codec = {s_write_name, s_read_name, s_print_name, s_clear_heap};

//  Its bytes by their length; a JSON text not set yet travels as an empty object.
static void
s_write_blob (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    const char *text = s_get_ptr (message, field->offset);
    if (!text && field->kind == MSG_FIELD_JSON)
        msg_write_strn (writer, "{}", 2);
    else
        msg_write_strn (writer, text, s_get_size (message, field->aux));
}

//  JSON: a NUL is malformed and nil gives ""; bytes: NUL bytes are kept, nil is malformed.
static void
s_read_blob (s_reader_t *reader, const msg_field_t *field, void *message)
{
    size_t len = 0;
    char *text = NULL;
    if (field->kind == MSG_FIELD_JSON) {
        text = s_read_strdup (reader, &len);
        if (!text)
            text = s_strndup ("", 0);
    }
    else {
        const char *borrowed = s_read_strn (reader, &len);
        if (borrowed)
            text = s_strndup (borrowed, len);
        else
            reader->failed = true;
    }
    s_set_ptr (message, field->offset, text);
    s_set_size (message, field->aux, len);
}

//  Whole records would drown a log line: their size says enough.
static void
s_print_blob (FILE *file, const msg_field_t *field, const void *message)
{
    fprintf (file, "(%zu bytes)", s_get_size (message, field->aux));
}

static const s_codec_t s_blob_codec = {s_write_blob, s_read_blob, s_print_blob, s_clear_heap};

//  --------------------------------------------------------------------------
//  Groups (a struct member whose fields stand inline) and lists of rows or items.

static void s_print_fields (FILE *file, const msg_table_t *table, const void *self);

//  A group's fields stand inline, in its table's order: no array of their own.
static void
s_write_group (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    s_write_fields (writer, field->table, s_const_member (field, message));
}

//  Read inline, as written.
static void
s_read_group (s_reader_t *reader, const msg_field_t *field, void *message)
{
    s_read_fields (reader, field->table, s_member (field, message));
}

//  {fields}, so that the group's names do not mix with the message's.
static void
s_print_group (FILE *file, const msg_field_t *field, const void *message)
{
    fputc ('{', file);
    s_print_fields (file, field->table, s_const_member (field, message));
    fputc ('}', file);
}

//  Whatever the group's own fields allocated.
static void
s_clear_group (const msg_field_t *field, void *message)
{
    msg_clear (field->table, s_member (field, message));
}

static const s_codec_t s_group_codec = {s_write_group, s_read_group, s_print_group, s_clear_group};

//  Its count, then each element as a row (an array of its fields) or a bare item.
static void
s_write_list (msg_writer_t *writer, const msg_field_t *field, const void *message)
{
    const char *elements = s_get_ptr (message, field->offset);
    size_t count = s_get_size (message, field->aux);
    msg_write_array (writer, count);
    for (size_t index = 0; index < count; index++) {
        if (field->kind == MSG_FIELD_ROWS)
            msg_write_array (writer, msg_width (field->table));
        else
            assert (field->table->count == 1);
        s_write_fields (writer, field->table, elements + index * field->size);
    }
}

//  Allocated for the count the frame announces (msgpack-c has already allocated as much,
//  and s_counts_plausible bounded it by the frame's size), then read element by element
//  while the reader holds.
static void
s_read_list (s_reader_t *reader, const msg_field_t *field, void *message)
{
    s_position_t saved;
    uint32_t count = s_read_enter (reader, &saved);
    char *elements = NULL;
    if (count && !reader->failed) {
        elements = (char *) calloc (count, field->size);
        assert (elements);
    }
    s_set_ptr (message, field->offset, elements);
    s_set_size (message, field->aux, elements ? count : 0);
    for (uint32_t index = 0; elements && index < count && !reader->failed; index++) {
        char *element = elements + index * field->size;
        if (field->kind == MSG_FIELD_ROWS) {
            s_position_t row;
            s_read_enter (reader, &row);
            s_read_fields (reader, field->table, element);
            s_read_leave (reader, &row);
        }
        else
            s_read_fields (reader, field->table, element);
    }
    s_read_leave (reader, &saved);
}

//  [row row ...], each row as {fields} or a bare item.
static void
s_print_list (FILE *file, const msg_field_t *field, const void *message)
{
    const char *elements = s_get_ptr (message, field->offset);
    size_t count = s_get_size (message, field->aux);
    fputc ('[', file);
    for (size_t index = 0; index < count; index++) {
        const void *element = elements + index * field->size;
        if (index)
            fputc (' ', file);
        if (field->kind == MSG_FIELD_ROWS) {
            fputc ('{', file);
            s_print_fields (file, field->table, element);
            fputc ('}', file);
        }
        else
            s_codec (&field->table->fields [0])->print (file, &field->table->fields [0], element);
    }
    fputc (']', file);
}

//  Each element's heap fields, then the array.
static void
s_clear_list (const msg_field_t *field, void *message)
{
    char *elements = s_get_ptr (message, field->offset);
    size_t count = s_get_size (message, field->aux);
    for (size_t index = 0; elements && index < count; index++)
        msg_clear (field->table, elements + index * field->size);
    free (elements);
    s_set_ptr (message, field->offset, NULL);
    s_set_size (message, field->aux, 0);
}

static const s_codec_t s_list_codec = {s_write_list, s_read_list, s_print_list, s_clear_list};

//  --------------------------------------------------------------------------
//  Messages

//  The codec of each kind.
static const s_codec_t *
s_codec (const msg_field_t *field)
{
    static const s_codec_t *const codecs [] = {
        [MSG_FIELD_U64] = &s_scalar_codec,       [MSG_FIELD_U32] = &s_scalar_codec,
        [MSG_FIELD_I64] = &s_scalar_codec,       [MSG_FIELD_INT] = &s_scalar_codec,
        [MSG_FIELD_BOOL] = &s_scalar_codec,      [MSG_FIELD_TEXT] = &s_text_codec,
        [MSG_FIELD_TEXT_OR_NIL] = &s_text_codec, [MSG_FIELD_NAME] = &s_name_codec,
        [MSG_FIELD_JSON] = &s_blob_codec,        [MSG_FIELD_BYTES] = &s_blob_codec,
        [MSG_FIELD_GROUP] = &s_group_codec,      [MSG_FIELD_ROWS] = &s_list_codec,
        [MSG_FIELD_ITEMS] = &s_list_codec,
    };
    assert ((size_t) field->kind < sizeof (codecs) / sizeof (codecs [0]));
    return codecs [field->kind];
}

zframe_t *
msg_encode (const msg_table_t *table, const void *self)
{
    assert (table->type);
    msg_writer_t writer;
    msg_writer_init (&writer, table->type, msg_width (table));
    s_write_fields (&writer, table, self);
    return msg_writer_frame (&writer);
}

int
msg_decode (const msg_table_t *table, zframe_t *frame, void *self)
{
    assert (table->type);
    memset (self, 0, table->size);
    s_reader_t reader;
    memset (&reader, 0, sizeof (reader));
    if (!s_unpack (frame, &reader.unpacked, true)
        || reader.unpacked.data.type != MSGPACK_OBJECT_ARRAY)
        reader.failed = true;
    else {
        reader.items = reader.unpacked.data.via.array.ptr;
        reader.count = reader.unpacked.data.via.array.size;
        if (s_read_u64 (&reader) != (uint64_t) table->type || s_read_u64 (&reader) != MSG_VERSION)
            reader.failed = true;
        else
            s_read_fields (&reader, table, self);
    }
    int rc = reader.failed || reader.index != reader.count ? -2 : 0;
    msgpack_unpacked_destroy (&reader.unpacked);
    if (rc)
        msg_clear (table, self);
    return rc;
}

const msg_table_t *
msg_family_table (const msg_family_t *family, msg_type_t type)
{
    size_t index = (size_t) type - family->first;
    if (type < family->first || index >= family->count)
        return NULL;
    assert (family->tables [index].type == type);
    return &family->tables [index];
}

int
msg_family_decode (const msg_family_t *family, zframe_t *frame, void *self, msg_type_t *type)
{
    int found = msg_type (frame);
    const msg_table_t *table = found < 0 ? NULL : msg_family_table (family, (msg_type_t) found);
    if (!table) {
        memset (self, 0, family->tables [0].size);
        return -2;
    }
    int rc = msg_decode (table, frame, self);
    if (rc == 0)
        *type = (msg_type_t) found;
    return rc;
}

void
msg_clear (const msg_table_t *table, void *self)
{
    for (size_t index = 0; index < table->count; index++) {
        const s_codec_t *codec = s_codec (&table->fields [index]);
        if (codec->clear)
            codec->clear (&table->fields [index], self);
    }
}

//  name=value for each field, separated by spaces.
static void
s_print_fields (FILE *file, const msg_table_t *table, const void *self)
{
    for (size_t index = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        fprintf (file, "%s%s=", index ? " " : "", field->name);
        s_codec (field)->print (file, field, self);
    }
}

char *
msg_print (const msg_table_t *table, const void *self)
{
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&text, &size);
    assert (file);
    fprintf (file, "%s ", table->name);
    s_print_fields (file, table, self);
    fclose (file);
    assert (text);
    return text;
}
