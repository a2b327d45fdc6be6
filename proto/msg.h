/*  msg: what every message between evmtap actors has in common. A message is one or more
    ZeroMQ frames; the first is a msgpack array [type, version, fields...]. The helpers
    below read a msgpack array field by field with bounds and type checks, so a malformed
    frame (e.g. from a remote worker) is reported, never trusted. Decoders return 0 when
    well-formed, -1 when interrupted (no message), -2 when malformed. */
#ifndef MSG_H_INCLUDED
#define MSG_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

//  Message type ids; the first field of every first frame.
typedef enum {
    MSG_TYPE_JOB = 1,
    MSG_TYPE_RESULT = 2,
    MSG_TYPE_BLOCK = 3,
    MSG_TYPE_BATCH = 4,
    MSG_TYPE_FLUSH = 5,
    MSG_TYPE_BLOCK_BODY = 6,
} msg_type_t;

//  Every type is at version 1; a decoder rejects other versions as malformed.
#define MSG_VERSION 1

//  Peeks at the type of a frame without decoding it; -2 when it is no evmtap message.
int msg_type (zframe_t *frame);

//  Writer: packs fields into a growing buffer, then hands it over as a frame.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
} msg_writer_t;

void msg_writer_init (msg_writer_t *self, msg_type_t type, size_t field_count);
void msg_write_u64 (msg_writer_t *self, uint64_t value);
void msg_write_i64 (msg_writer_t *self, int64_t value);
void msg_write_bool (msg_writer_t *self, bool value);
void msg_write_nil (msg_writer_t *self);
//  A string (NULL writes nil).
void msg_write_str (msg_writer_t *self, const char *text);
void msg_write_strn (msg_writer_t *self, const char *text, size_t len);
void msg_write_array (msg_writer_t *self, size_t count);
//  Returns the packed frame and frees the writer's buffer.
zframe_t *msg_writer_frame (msg_writer_t *self);

//  Reader over one frame: next_* take the next element of the current array.
typedef struct {
    msgpack_unpacked unpacked;
    const msgpack_object *items;  //  elements of the array being read
    uint32_t count;
    uint32_t index;
    bool failed;                  //  sticky: any wrong type or missing field
} msg_reader_t;

//  Opens a frame of the given type; -2 when it is not that type at MSG_VERSION.
int msg_reader_init (msg_reader_t *self, zframe_t *frame, msg_type_t type);
void msg_reader_done (msg_reader_t *self);
uint64_t msg_read_u64 (msg_reader_t *self);
int64_t msg_read_i64 (msg_reader_t *self);
bool msg_read_bool (msg_reader_t *self);
//  A string copied into a fresh heap string, NULL for nil. A NUL inside is malformed.
char *msg_read_strdup (msg_reader_t *self);
//  The same, with the string's length.
char *msg_read_strdup_len (msg_reader_t *self, size_t *len);
//  A string copied into out (truncation is malformed); nil gives "".
void msg_read_str (msg_reader_t *self, char *out, size_t out_size);
//  A string borrowed from the frame (valid until msg_reader_done), with its length; nil
//  gives NULL, an empty string "".
const char *msg_read_strn (msg_reader_t *self, size_t *len);
//  Enters a nested array; returns its element count. msg_read_leave returns to the parent.
uint32_t msg_read_enter (msg_reader_t *self, const msgpack_object **saved_items,
                         uint32_t *saved_count, uint32_t *saved_index);
void msg_read_leave (msg_reader_t *self, const msgpack_object *saved_items,
                     uint32_t saved_count, uint32_t saved_index);
//  0 when every read succeeded and every field was read, else -2.
int msg_reader_status (msg_reader_t *self);

void proto_test (bool verbose);

#endif
