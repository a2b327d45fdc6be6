/*  msg_test: the cases every field table gets (msg_table_test). A value with every field
    set round-trips, re-encodes to the same bytes and prints; each field mistyped, out of
    range, nil, with a NUL, missing or followed by one more is refused, as are truncations,
    trailing bytes, another type and another version. The cases follow from the table, so
    a new field or message is tested the day it is written. */
#include "evmtap.h"
#include "msg.h"

//  A heap copy of len bytes (they may hold NUL), terminated, as decoding makes.
static char *
s_bytes (const char *bytes, size_t len)
{
    char *copy = (char *) zmalloc (len + 1);
    assert (copy);
    return (char *) memcpy (copy, bytes, len);
}

//  The size of a number or flag member, by kind.
static const size_t s_scalar_size [] = {[MSG_FIELD_U64] = sizeof (uint64_t),
                                        [MSG_FIELD_U32] = sizeof (uint32_t),
                                        [MSG_FIELD_I64] = sizeof (int64_t),
                                        [MSG_FIELD_INT] = sizeof (int),
                                        [MSG_FIELD_BOOL] = sizeof (bool)};

//  Pointer and length members, copied in and out (a string member may be const char *).
static void
s_set_ptr (void *member, const void *value)
{
    memcpy (member, &value, sizeof (value));
}

static void *
s_get_ptr (const void *member)
{
    void *value;
    memcpy (&value, member, sizeof (value));
    return value;
}

static size_t
s_get_size (const void *member)
{
    size_t value;
    memcpy (&value, member, sizeof (value));
    return value;
}

static void
s_set_size (void *member, size_t value)
{
    memcpy (member, &value, sizeof (value));
}

//  Sets every field of self from seed, no two fields alike, texts as long as they may be;
//  heap fields are allocated as decoding allocates them (msg_clear frees them).
static void
s_fill (const msg_table_t *table, void *self, unsigned seed)
{
    for (size_t index = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        char *member = (char *) self + field->offset;
        unsigned value = seed * 16 + (unsigned) index;
        char text [128];
        int len = snprintf (text, sizeof (text), "{\"f%u\":\"\\u00e9\"}", value);
        switch (field->kind) {
            case MSG_FIELD_U64:
            case MSG_FIELD_U32:
            case MSG_FIELD_I64:
                //  Every byte's top bit set: the widest encodings, and negative for I64.
                memset (member, 0x80 | (int) (value & 0x7f), s_scalar_size [field->kind]);
                break;
            case MSG_FIELD_INT:
                *(int *) member = (int) (value % 2 ? field->min : field->max);
                break;
            case MSG_FIELD_BOOL:
                *(bool *) member = true;
                break;
            case MSG_FIELD_TEXT:
            case MSG_FIELD_TEXT_OR_NIL:
                memset (member, 'a' + (int) (value % 26), field->size - 1);
                member [field->size - 1] = 0;
                break;
            case MSG_FIELD_NAME:
                if (field->max < sizeof (text)) {
                    memset (text, 'n', field->max);
                    len = (int) field->max;
                }
                s_set_ptr (member, s_bytes (text, (size_t) len));
                break;
            case MSG_FIELD_JSON:
            case MSG_FIELD_BYTES:
                if (field->kind == MSG_FIELD_BYTES)
                    text [1] = 0;    //  kept, since a length says where they end
                s_set_ptr (member, s_bytes (text, (size_t) len));
                s_set_size ((char *) self + field->aux, (size_t) len);
                break;
            case MSG_FIELD_GROUP:
                s_fill (field->table, member, value);
                break;
            case MSG_FIELD_ROWS:
            case MSG_FIELD_ITEMS: {
                char *elements = (char *) calloc (2, field->size);
                assert (elements);
                for (unsigned element = 0; element < 2; element++)
                    s_fill (field->table, elements + element * field->size, value + element);
                s_set_ptr (member, elements);
                s_set_size ((char *) self + field->aux, 2);
                break;
            }
        }
    }
}

//  True when every field of the table is the same in a and b.
static bool
s_equal (const msg_table_t *table, const void *a, const void *b)
{
    for (size_t index = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        const char *one = (const char *) a + field->offset;
        const char *other = (const char *) b + field->offset;
        bool same = true;
        switch (field->kind) {
            case MSG_FIELD_U64:
            case MSG_FIELD_U32:
            case MSG_FIELD_I64:
            case MSG_FIELD_INT:
            case MSG_FIELD_BOOL:
                same = memcmp (one, other, s_scalar_size [field->kind]) == 0;
                break;
            case MSG_FIELD_TEXT:
            case MSG_FIELD_TEXT_OR_NIL:
                same = strcmp (one, other) == 0;
                break;
            case MSG_FIELD_NAME:
                same = s_get_ptr (one) && s_get_ptr (other)
                       && strcmp (s_get_ptr (one), s_get_ptr (other)) == 0;
                break;
            case MSG_FIELD_JSON:
            case MSG_FIELD_BYTES: {
                size_t len = s_get_size ((const char *) a + field->aux);
                same = len == s_get_size ((const char *) b + field->aux)
                       && memcmp (s_get_ptr (one), s_get_ptr (other), len) == 0;
                break;
            }
            case MSG_FIELD_GROUP:
                same = s_equal (field->table, one, other);
                break;
            case MSG_FIELD_ROWS:
            case MSG_FIELD_ITEMS: {
                size_t count = s_get_size ((const char *) a + field->aux);
                same = count == s_get_size ((const char *) b + field->aux);
                const char *rows = s_get_ptr (one), *copies = s_get_ptr (other);
                for (size_t row = 0; same && row < count; row++)
                    same = s_equal (field->table, rows + row * field->size,
                                    copies + row * field->size);
                break;
            }
        }
        if (!same)
            return false;
    }
    return true;
}

//  Ways to damage one field of a frame.
typedef enum {
    S_MISTYPED,     //  a value of another msgpack type
    S_TOO_LARGE,    //  a number above the field's range, a text longer than it holds
    S_TOO_SMALL,    //  a number below the field's range
    S_WITH_NUL,     //  a NUL inside a text that must have none
    S_NIL,          //  nil where the field must have a value
    S_DROPPED,      //  the field is missing
    S_EXTRA,        //  one more field after it
    S_DAMAGES
} s_damage_t;

//  Writes the damaged value of a leaf field; false when the damage does not apply to its
//  kind (the value is then written intact).
static bool
s_write_bad (msg_writer_t *writer, const msg_field_t *field, const void *message, s_damage_t damage)
{
    char text [512];
    bool number = field->kind == MSG_FIELD_U64 || field->kind == MSG_FIELD_U32
                  || field->kind == MSG_FIELD_I64 || field->kind == MSG_FIELD_INT;
    bool list = field->kind == MSG_FIELD_ROWS || field->kind == MSG_FIELD_ITEMS;
    bool texts = field->kind == MSG_FIELD_TEXT || field->kind == MSG_FIELD_TEXT_OR_NIL;
    //  A text one byte too long for the field, 0 when any length fits.
    size_t text_size = texts                                                    ? field->size
                       : field->kind == MSG_FIELD_NAME && field->max < SIZE_MAX ? field->max + 1
                                                                                : 0;
    if (damage == S_MISTYPED && number)
        msg_write_str (writer, "1");
    else if (damage == S_MISTYPED && (field->kind == MSG_FIELD_BOOL || list))
        msg_write_u64 (writer, 0);
    else if (damage == S_MISTYPED)
        msg_write_bool (writer, true);
    else if (damage == S_TOO_LARGE && field->kind == MSG_FIELD_U32)
        msg_write_u64 (writer, (uint64_t) UINT32_MAX + 1);
    else if (damage == S_TOO_LARGE && field->kind == MSG_FIELD_I64)
        msg_write_u64 (writer, (uint64_t) INT64_MAX + 1);
    else if (damage == S_TOO_LARGE && field->kind == MSG_FIELD_INT)
        msg_write_u64 (writer, field->max + 1);
    else if (damage == S_TOO_SMALL && field->kind == MSG_FIELD_INT && field->min > 0)
        msg_write_u64 (writer, field->min - 1);
    else if (damage == S_TOO_LARGE && text_size && text_size <= sizeof (text)) {
        memset (text, 'x', text_size);
        msg_write_strn (writer, text, text_size);
    }
    else if (damage == S_WITH_NUL
             && (field->kind == MSG_FIELD_NAME || field->kind == MSG_FIELD_JSON))
        msg_write_strn (writer, "{\0}", 3);
    else if (damage == S_NIL && (field->kind == MSG_FIELD_NAME || field->kind == MSG_FIELD_BYTES))
        msg_write_nil (writer);
    else if (damage == S_DROPPED)
        ;
    else if (damage == S_EXTRA) {
        msg_write_field (writer, field, message);
        msg_write_nil (writer);
    }
    else {
        msg_write_field (writer, field, message);
        return false;
    }
    return true;
}

//  The leaves of self in wire order: each field but a group (whose fields count), a list
//  itself and then the leaves of its elements.
static size_t
s_leaves (const msg_table_t *table, const void *self)
{
    size_t leaves = 0;
    for (size_t index = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        const char *member = (const char *) self + field->offset;
        if (field->kind == MSG_FIELD_GROUP)
            leaves += s_leaves (field->table, member);
        else
            leaves++;
        if (field->kind == MSG_FIELD_ROWS || field->kind == MSG_FIELD_ITEMS) {
            const char *elements = s_get_ptr (member);
            size_t count = s_get_size ((const char *) self + field->aux);
            for (size_t element = 0; element < count; element++)
                leaves += s_leaves (field->table, elements + element * field->size);
        }
    }
    return leaves;
}

//  How a damage changes the element count of the array that holds the damaged field.
static size_t
s_width_change (s_damage_t damage)
{
    return damage == S_EXTRA ? 1 : damage == S_DROPPED ? SIZE_MAX : 0;
}

//  Writes the fields of self, the target-th leaf (s_leaves' order) damaged, and the array
//  around it announcing its elements as they are then; *leaf counts the leaves written.
//  True when the damage applied.
static bool
s_write_damaged (msg_writer_t *writer, const msg_table_t *table, const void *self, size_t target,
                 s_damage_t damage, size_t *leaf)
{
    bool applied = false;
    for (size_t index = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        const char *member = (const char *) self + field->offset;
        if (field->kind == MSG_FIELD_GROUP) {
            applied |= s_write_damaged (writer, field->table, member, target, damage, leaf);
            continue;
        }
        bool list = field->kind == MSG_FIELD_ROWS || field->kind == MSG_FIELD_ITEMS;
        const char *elements = list ? s_get_ptr (member) : NULL;
        size_t count = list ? s_get_size ((const char *) self + field->aux) : 0;
        if ((*leaf)++ == target) {
            applied = s_write_bad (writer, field, self, damage);
            for (size_t row = 0; row < count; row++)
                *leaf += s_leaves (field->table, elements + row * field->size);
            continue;
        }
        if (!list) {
            msg_write_field (writer, field, self);
            continue;
        }
        bool items = field->kind == MSG_FIELD_ITEMS;
        bool hit = items && target >= *leaf && target < *leaf + count;
        //  One item less is a shorter list, not a damage.
        if (hit && damage == S_DROPPED)
            target = SIZE_MAX;
        msg_write_array (writer, count + (hit && target != SIZE_MAX ? s_width_change (damage) : 0));
        for (size_t row = 0; row < count; row++) {
            const char *element = elements + row * field->size;
            size_t row_end = *leaf + s_leaves (field->table, element);
            if (!items)
                msg_write_array (
                    writer,
                    msg_width (field->table)
                        + (target >= *leaf && target < row_end ? s_width_change (damage) : 0));
            applied |= s_write_damaged (writer, field->table, element, target, damage, leaf);
        }
    }
    return applied;
}

//  Each leaf of the value damaged in each way that applies to it: always malformed, and
//  decoding leaves nothing behind (ASan's leak check sees to that).
static void
s_test_damaged (const msg_table_t *table, const void *value)
{
    void *copy = zmalloc (table->size);
    assert (copy);
    size_t leaves = s_leaves (table, value);
    //  The top level's own leaves: those outside every list's elements.
    bool *top = (bool *) calloc (leaves, sizeof (bool));
    assert (top);
    for (size_t index = 0, leaf = 0; index < table->count; index++) {
        const msg_field_t *field = &table->fields [index];
        const char *member = (const char *) value + field->offset;
        size_t own = field->kind == MSG_FIELD_GROUP ? s_leaves (field->table, member) : 1;
        for (size_t count = 0; count < own; count++)
            top [leaf++] = true;
        if (field->kind == MSG_FIELD_ROWS || field->kind == MSG_FIELD_ITEMS) {
            const char *elements = s_get_ptr (member);
            size_t count = s_get_size ((const char *) value + field->aux);
            for (size_t element = 0; element < count; element++)
                leaf += s_leaves (field->table, elements + element * field->size);
        }
    }
    for (size_t target = 0; target < leaves; target++)
        for (int damage = 0; damage < S_DAMAGES; damage++) {
            size_t width = msg_width (table)
                           + (top [target] ? s_width_change ((s_damage_t) damage) : 0);
            msg_writer_t writer;
            msg_writer_init (&writer, table->type, width);
            size_t leaf = 0;
            bool applied = s_write_damaged (&writer, table, value, target, (s_damage_t) damage,
                                            &leaf);
            assert (leaf == leaves);
            zframe_t *frame = msg_writer_frame (&writer);
            if (applied && msg_decode (table, frame, copy) != -2) {
                fprintf (stderr, "%s: leaf %zu damaged (%d) is not refused\n", table->name, target,
                         damage);
                assert (false);
            }
            zframe_destroy (&frame);
        }
    free (top);
    free (copy);
}

//  The frame of a value, written with another type or version in its first two fields.
static zframe_t *
s_frame_as (const msg_table_t *table, const void *value, uint64_t type, uint64_t version)
{
    msg_writer_t writer;
    msgpack_sbuffer_init (&writer.buffer);
    msgpack_packer_init (&writer.packer, &writer.buffer, msgpack_sbuffer_write);
    msg_write_array (&writer, msg_width (table) + 2);
    msg_write_u64 (&writer, type);
    msg_write_u64 (&writer, version);
    for (size_t index = 0; index < table->count; index++)
        msg_write_field (&writer, &table->fields [index], value);
    return msg_writer_frame (&writer);
}

void
msg_table_test (const msg_table_t *table, bool verbose)
{
    void *value = zmalloc (table->size);
    void *copy = zmalloc (table->size);
    assert (value && copy);
    s_fill (table, value, 1);
    zframe_t *frame = msg_encode (table, value);
    assert (msg_type (frame) == (int) table->type);
    assert (msg_decode (table, frame, copy) == 0);
    assert (s_equal (table, value, copy));
    zframe_t *again = msg_encode (table, copy);
    assert (zframe_eq (frame, again));
    zframe_destroy (&again);
    char *text = msg_print (table, copy);
    assert (strncmp (text, table->name, strlen (table->name)) == 0);
    if (verbose)
        printf ("%s\n", text);
    free (text);
    msg_clear (table, copy);

    //  Every strict prefix, one byte more, another type, another version.
    for (size_t size = 0; size < zframe_size (frame); size++) {
        zframe_t *cut = zframe_new (zframe_data (frame), size);
        assert (msg_decode (table, cut, copy) == -2);
        zframe_destroy (&cut);
    }
    byte *longer = (byte *) malloc (zframe_size (frame) + 1);
    assert (longer);
    memcpy (longer, zframe_data (frame), zframe_size (frame));
    longer [zframe_size (frame)] = 0xc0;
    again = zframe_new (longer, zframe_size (frame) + 1);
    free (longer);
    assert (msg_decode (table, again, copy) == -2);
    zframe_destroy (&again);
    again = s_frame_as (table, value, table->type, MSG_VERSION);
    assert (zframe_eq (frame, again));
    zframe_destroy (&again);
    again = s_frame_as (table, value, table->type == MSG_TYPE_JOB ? MSG_TYPE_RESULT : MSG_TYPE_JOB,
                        MSG_VERSION);
    assert (msg_decode (table, again, copy) == -2);
    zframe_destroy (&again);
    again = s_frame_as (table, value, table->type, MSG_VERSION + 1);
    assert (msg_decode (table, again, copy) == -2);
    zframe_destroy (&again);
    zframe_destroy (&frame);

    s_test_damaged (table, value);
    msg_clear (table, value);
    free (value);
    free (copy);
}
