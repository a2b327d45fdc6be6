/*  msg: what every message between evmtap actors has in common. A message is one or more
    ZeroMQ frames; the first is a msgpack array [type, version, fields...].

    Each message type lists its fields once, in wire order, in a field table (msg_table_t)
    next to its struct: encoding, decoding (with bounds and type checks, so that a malformed
    frame, e.g. from a remote worker, is reported, never trusted), the field count, printing
    and the tests every table gets (msg_test.c, run by proto_test.c over every type) all
    walk that table. Decoders return 0 when well-formed, -1 when interrupted (no message),
    -2 when malformed. */
#ifndef MSG_H_INCLUDED
#define MSG_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Message type ids; the first field of every first frame.
typedef enum {
    MSG_TYPE_JOB = 1,
    MSG_TYPE_RESULT = 2,
    MSG_TYPE_BLOCK = 3,
    MSG_TYPE_BATCH = 4,
    MSG_TYPE_FLUSH = 5,
    MSG_TYPE_BLOCK_BODY = 6,
    //  The key pool's worker protocol (lease.h), in a row: lease_table indexes by them.
    MSG_TYPE_LEASE_ACQUIRE = 7,
    MSG_TYPE_LEASE_RENEW,
    MSG_TYPE_LEASE_RELEASE,
    MSG_TYPE_LEASE_SPEND,
    MSG_TYPE_LEASE_GRANTED,
    MSG_TYPE_LEASE_BUSY,
    MSG_TYPE_LEASE_ANSWER,    //  13
    MSG_TYPE_LEASE_REFUND,    //  14
    //  The decoder's proxy lookups through a fetch worker (proxy_query.h).
    MSG_TYPE_PROXY_QUERY = 15,
    MSG_TYPE_PROXY_ANSWER = 16,
    //  The control socket's protocol (control.h), apart from the pipeline's own numbers.
    MSG_TYPE_CONTROL_REQUEST = 40,
    MSG_TYPE_CONTROL_REPLY = 41,
    //  The remote workers' link (worker_link.h), in a row: worker_link_table indexes by them.
    MSG_TYPE_LINK_JOIN = 20,
    MSG_TYPE_LINK_WELCOME,
    MSG_TYPE_LINK_READY,
    MSG_TYPE_LINK_HEARTBEAT,
    MSG_TYPE_LINK_LEAVE,    //  24
    //  Metric updates to the metrics actor (metric.h); far from the others' next ids.
    MSG_TYPE_METRIC = 45,
} msg_type_t;

//  Every type is at version 1; a decoder rejects other versions as malformed.
#define MSG_VERSION 1

//  Peeks at the type of a frame without decoding it; -2 when it is no evmtap message.
int msg_type (zframe_t *frame);
//  Peeks at the field after [type, version] when it is an unsigned integer (a request's
//  id), so that a request too damaged to decode can still be answered. 0 when it is not.
uint64_t msg_first_u64 (zframe_t *frame);

//  --------------------------------------------------------------------------
//  Field tables

//  How a struct member travels.
typedef enum {
    MSG_FIELD_U64,            //  uint64_t
    MSG_FIELD_U32,            //  uint32_t: a larger number is malformed
    MSG_FIELD_I64,            //  int64_t
    MSG_FIELD_INT,            //  an int or an enum, in [min, max] (else malformed)
    MSG_FIELD_BOOL,           //  bool
    MSG_FIELD_TEXT,           //  char [size]: nil reads as "", a text that does not fit is
                              //  malformed
    MSG_FIELD_TEXT_OR_NIL,    //  the same, and "" travels as nil
    MSG_FIELD_NAME,           //  char * (allocated by decoding): nil and NUL are malformed, and
                              //  a text longer than max bytes
    MSG_FIELD_JSON,           //  char * and its length: NULL travels as "{}", nil reads as "",
                              //  NUL is malformed
    MSG_FIELD_BYTES,          //  char * and its length: nil is malformed, NUL bytes are kept
    MSG_FIELD_GROUP,          //  a struct member whose table's fields stand inline
    MSG_FIELD_ROWS,           //  an array and its count: a msgpack array of rows, each an
                              //  array of the row table's fields
    MSG_FIELD_ITEMS,          //  an array and its count: a msgpack array of single values (the
                              //  row table has one field)
} msg_field_kind_t;

typedef struct _msg_table_t msg_table_t;

typedef struct {
    const char *name;    //  as printed
    msg_field_kind_t kind;
    size_t offset;               //  of the member in its struct
    size_t size;                 //  TEXT: the array's size; INT: the member's; ROWS, ITEMS:
                                 //  one element's
    size_t aux;                  //  JSON, BYTES: offset of the length (size_t); ROWS,
                                 //  ITEMS: of the count (size_t)
    uint64_t min;                //  INT: the smallest value
    uint64_t max;                //  INT: the largest value; NAME: the longest length
    const msg_table_t *table;    //  GROUP, ROWS, ITEMS: the fields inside
} msg_field_t;

struct _msg_table_t {
    const char *name;             //  printed first
    msg_type_t type;              //  0 for the table of a group or a row
    size_t size;                  //  of the struct the fields live in
    const msg_field_t *fields;    //  in wire order
    size_t count;
};

//  A table's initializer: MSG_TABLE ("job", MSG_TYPE_JOB, job_t, s_job_fields).
#define MSG_TABLE(name, type, T, fields)                                      \
    {                                                                         \
        name, type, sizeof (T), fields, sizeof (fields) / sizeof (fields [0]) \
    }

//  The offset of T's member when it has the given type; anything else does not compile.
#define MSG_MEMBER(T, member, type) _Generic(((T *) 0)->member, type : offsetof (T, member))
//  The same for a string pointer, which the caller may have made const (it lends the string
//  to the encoder; a decoded one is the message's).
#define MSG_STRING_MEMBER(T, member) \
    _Generic(((T *) 0)->member, char * : offsetof (T, member), const char * : offsetof (T, member))
#define MSG_ELEMENT_SIZE(T, member) sizeof (*((T *) 0)->member)

//  One initializer per kind (see msg_field_kind_t).
#define MSG_U64(T, member)                                                                 \
    {                                                                                      \
        .name = #member, .kind = MSG_FIELD_U64, .offset = MSG_MEMBER (T, member, uint64_t) \
    }
#define MSG_U32(T, member)                                                                 \
    {                                                                                      \
        .name = #member, .kind = MSG_FIELD_U32, .offset = MSG_MEMBER (T, member, uint32_t) \
    }
#define MSG_I64(T, member)                                                                \
    {                                                                                     \
        .name = #member, .kind = MSG_FIELD_I64, .offset = MSG_MEMBER (T, member, int64_t) \
    }
#define MSG_INT(T, member, lowest, highest)                                     \
    {                                                                           \
        .name = #member, .kind = MSG_FIELD_INT, .offset = offsetof (T, member), \
        .size = sizeof (((T *) 0)->member), .min = (lowest), .max = (highest)   \
    }
#define MSG_BOOL(T, member)                                                             \
    {                                                                                   \
        .name = #member, .kind = MSG_FIELD_BOOL, .offset = MSG_MEMBER (T, member, bool) \
    }
#define MSG_TEXT(T, member)                                                                \
    {                                                                                      \
        .name = #member, .kind = MSG_FIELD_TEXT, .offset = MSG_MEMBER (T, member, char *), \
        .size = sizeof (((T *) 0)->member)                                                 \
    }
#define MSG_TEXT_OR_NIL(T, member)                                                                \
    {                                                                                             \
        .name = #member, .kind = MSG_FIELD_TEXT_OR_NIL, .offset = MSG_MEMBER (T, member, char *), \
        .size = sizeof (((T *) 0)->member)                                                        \
    }
#define MSG_NAME(T, member, longest)                                                      \
    {                                                                                     \
        .name = #member, .kind = MSG_FIELD_NAME, .offset = MSG_STRING_MEMBER (T, member), \
        .max = (longest)                                                                  \
    }
#define MSG_JSON(T, member, length)                                                        \
    {                                                                                      \
        .name = #member, .kind = MSG_FIELD_JSON, .offset = MSG_MEMBER (T, member, char *), \
        .aux = MSG_MEMBER (T, length, size_t)                                              \
    }
#define MSG_BYTES(T, member, length)                                                        \
    {                                                                                       \
        .name = #member, .kind = MSG_FIELD_BYTES, .offset = MSG_MEMBER (T, member, char *), \
        .aux = MSG_MEMBER (T, length, size_t)                                               \
    }
#define MSG_GROUP(T, member, group_table)                                         \
    {                                                                             \
        .name = #member, .kind = MSG_FIELD_GROUP, .offset = offsetof (T, member), \
        .size = sizeof (((T *) 0)->member), .table = &(group_table)               \
    }
#define MSG_ROWS(T, member, count, row_table)                                       \
    {                                                                               \
        .name = #member, .kind = MSG_FIELD_ROWS, .offset = offsetof (T, member),    \
        .size = MSG_ELEMENT_SIZE (T, member), .aux = MSG_MEMBER (T, count, size_t), \
        .table = &(row_table)                                                       \
    }
#define MSG_ITEMS(T, member, count, row_table)                                      \
    {                                                                               \
        .name = #member, .kind = MSG_FIELD_ITEMS, .offset = offsetof (T, member),   \
        .size = MSG_ELEMENT_SIZE (T, member), .aux = MSG_MEMBER (T, count, size_t), \
        .table = &(row_table)                                                       \
    }

//  The number of msgpack elements the table's fields take (a group counts its fields).
size_t msg_width (const msg_table_t *table);
//  Encodes self, a struct laid out as the table says, as one frame.
zframe_t *msg_encode (const msg_table_t *table, const void *self);
//  Decodes a frame (borrowed) of the table's type into self, which is zeroed first. 0, or
//  -2 when malformed; self then holds nothing to free.
int msg_decode (const msg_table_t *table, zframe_t *frame, void *self);
//  Frees what decoding allocated (NAME, JSON, BYTES, ROWS, ITEMS) and zeroes it.
void msg_clear (const msg_table_t *table, void *self);
//  The fields on one line, for logs and tests: `job id=42 kind=3 ... receipts=true`. The
//  text is yours.
char *msg_print (const msg_table_t *table, const void *self);

//  Message types in a row that share one struct (lease.h, worker_link.h): the table of
//  each, by type from first on.
typedef struct {
    const msg_table_t *tables;
    size_t count;
    msg_type_t first;
} msg_family_t;

//  The table of a type of the family; NULL when the type is none of its.
const msg_table_t *msg_family_table (const msg_family_t *family, msg_type_t type);
//  Decodes a frame (borrowed) of any type of the family into self, which is zeroed first,
//  and its type into *type (which may lie in self). 0, or -2 when malformed or of a type
//  outside the family; self then holds nothing to free.
int msg_family_decode (const msg_family_t *family, zframe_t *frame, void *self, msg_type_t *type);

//  --------------------------------------------------------------------------
//  Writer: packs msgpack into a growing buffer, then hands it over as a frame. The field
//  tables use it; tests use it to build frames the tables would never write.
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
//  Writes one field of self as its table entry says (a group: all of its fields).
void msg_write_field (msg_writer_t *self, const msg_field_t *field, const void *message);
//  Returns the packed frame and frees the writer's buffer.
zframe_t *msg_writer_frame (msg_writer_t *self);

//  Tests a table (of a message type) with the cases every table gets (msg_test.c).
void msg_table_test (const msg_table_t *table, bool verbose);
void proto_test (bool verbose);

#endif
