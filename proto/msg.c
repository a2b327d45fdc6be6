/*  msg: msgpack packing and checked reading shared by every evmtap message. */
#include "evmtap.h"

int
msg_type (zframe_t *frame)
{
    if (!frame)
        return -2;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    int type = -2;
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame),
                             &offset) == MSGPACK_UNPACK_SUCCESS
        && unpacked.data.type == MSGPACK_OBJECT_ARRAY && unpacked.data.via.array.size >= 2
        && unpacked.data.via.array.ptr [0].type == MSGPACK_OBJECT_POSITIVE_INTEGER
        && unpacked.data.via.array.ptr [0].via.u64 < 256)
        type = (int) unpacked.data.via.array.ptr [0].via.u64;
    msgpack_unpacked_destroy (&unpacked);
    return type;
}

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

int
msg_reader_init (msg_reader_t *self, zframe_t *frame, msg_type_t type)
{
    memset (self, 0, sizeof (*self));
    msgpack_unpacked_init (&self->unpacked);
    if (!frame) {
        self->failed = true;
        return -2;
    }
    size_t offset = 0;
    if (msgpack_unpack_next (&self->unpacked, (const char *) zframe_data (frame),
                             zframe_size (frame), &offset) != MSGPACK_UNPACK_SUCCESS
        || offset != zframe_size (frame) || self->unpacked.data.type != MSGPACK_OBJECT_ARRAY) {
        self->failed = true;
        return -2;
    }
    self->items = self->unpacked.data.via.array.ptr;
    self->count = self->unpacked.data.via.array.size;
    if (msg_read_u64 (self) != (uint64_t) type || msg_read_u64 (self) != MSG_VERSION)
        self->failed = true;
    return self->failed ? -2 : 0;
}

void
msg_reader_done (msg_reader_t *self)
{
    msgpack_unpacked_destroy (&self->unpacked);
}

//  The next element, or NULL (and failed) when the array is exhausted.
static const msgpack_object *
s_next (msg_reader_t *self)
{
    if (self->failed || self->index >= self->count) {
        self->failed = true;
        return NULL;
    }
    return &self->items [self->index++];
}

uint64_t
msg_read_u64 (msg_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return item->via.u64;
    self->failed = true;
    return 0;
}

int64_t
msg_read_i64 (msg_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return item->via.i64;
    if (item && item->type == MSGPACK_OBJECT_POSITIVE_INTEGER && item->via.u64 <= INT64_MAX)
        return (int64_t) item->via.u64;
    self->failed = true;
    return 0;
}

bool
msg_read_bool (msg_reader_t *self)
{
    const msgpack_object *item = s_next (self);
    if (item && item->type == MSGPACK_OBJECT_BOOLEAN)
        return item->via.boolean;
    self->failed = true;
    return false;
}

const char *
msg_read_strn (msg_reader_t *self, size_t *len)
{
    const msgpack_object *item = s_next (self);
    *len = 0;
    if (item && item->type == MSGPACK_OBJECT_NIL)
        return NULL;
    if (item && item->type == MSGPACK_OBJECT_STR) {
        *len = item->via.str.size;
        return item->via.str.ptr;
    }
    self->failed = true;
    return NULL;
}

char *
msg_read_strdup (msg_reader_t *self)
{
    size_t len;
    const char *text = msg_read_strn (self, &len);
    if (!text)
        return NULL;
    char *copy = (char *) malloc (len + 1);
    assert (copy);
    memcpy (copy, text, len);
    copy [len] = 0;
    return copy;
}

void
msg_read_str (msg_reader_t *self, char *out, size_t out_size)
{
    size_t len;
    const char *text = msg_read_strn (self, &len);
    if (len >= out_size) {
        self->failed = true;
        len = 0;
    }
    if (text)
        memcpy (out, text, len);
    out [len] = 0;
}

uint32_t
msg_read_enter (msg_reader_t *self, const msgpack_object **saved_items, uint32_t *saved_count,
                uint32_t *saved_index)
{
    const msgpack_object *item = s_next (self);
    *saved_items = self->items;
    *saved_count = self->count;
    *saved_index = self->index;
    if (!item || item->type != MSGPACK_OBJECT_ARRAY) {
        self->failed = true;
        return 0;
    }
    self->items = item->via.array.ptr;
    self->count = item->via.array.size;
    self->index = 0;
    return self->count;
}

void
msg_read_leave (msg_reader_t *self, const msgpack_object *saved_items, uint32_t saved_count,
                uint32_t saved_index)
{
    //  Every element of a nested array must have been read, as for the top level.
    if (self->index != self->count)
        self->failed = true;
    self->items = saved_items;
    self->count = saved_count;
    self->index = saved_index;
}

int
msg_reader_status (msg_reader_t *self)
{
    return self->failed || self->index != self->count ? -2 : 0;
}
