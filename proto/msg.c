/*  msg: msgpack packing and checked reading shared by every evmtap message. */
#include "evmtap.h"
#include "msg.h"

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

int
msg_type (zframe_t *frame)
{
    if (!frame)
        return -2;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    int type = -2;
    size_t offset = 0;
    if (s_counts_plausible (zframe_data (frame), zframe_size (frame))
        && msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame),
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
    if (!s_counts_plausible (zframe_data (frame), zframe_size (frame))
        || msgpack_unpack_next (&self->unpacked, (const char *) zframe_data (frame),
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
        //  msgpack-c leaves ptr NULL for a string of length 0, which would read as nil.
        *len = item->via.str.size;
        return item->via.str.size ? item->via.str.ptr : "";
    }
    self->failed = true;
    return NULL;
}

char *
msg_read_strdup (msg_reader_t *self)
{
    size_t len;
    return msg_read_strdup_len (self, &len);
}

char *
msg_read_strdup_len (msg_reader_t *self, size_t *len_p)
{
    size_t len;
    const char *text = msg_read_strn (self, &len);
    *len_p = 0;
    if (!text)
        return NULL;
    //  Texts are C strings everywhere after this: a NUL inside would cut them short.
    if (memchr (text, 0, len)) {
        self->failed = true;
        return NULL;
    }
    *len_p = len;
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
