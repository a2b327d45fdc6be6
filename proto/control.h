/*  control: the protocol of the control socket, between `evmtap ctl` (a DEALER) and the
    control actor (its ROUTER, actors/control.c): one frame each way, a request and its
    reply, which repeats the request's id.

        REQUEST id verb count from to
            verb: STATUS, KEYS, PAUSE, RESUME, SCALE (count: in-process workers per chain),
            BACKFILL (blocks from..to), RELOAD, STOP
        REPLY id status error answer
            status CONTROL_OK with answer (a JSON document, docs/control.md), or
            CONTROL_REFUSED with error (why, for the operator)

    Frames: [MSG_TYPE_CONTROL_REQUEST | MSG_TYPE_CONTROL_REPLY, 1, id, fields...] in the
    order above. The control socket may face the network (behind CURVE), so a request is
    outside input: decoding checks every field. */
#ifndef CONTROL_H_INCLUDED
#define CONTROL_H_INCLUDED

#include "msg.h"

#define CONTROL_VERB_SIZE 16
#define CONTROL_ERROR_SIZE 256

typedef enum { CONTROL_OK = 0, CONTROL_REFUSED = 1 } control_status_t;

typedef struct {
    uint64_t id;                      //  repeated by the reply
    char verb [CONTROL_VERB_SIZE];    //  the command, upper case
    uint64_t count;                   //  SCALE: workers per chain
    uint64_t from;                    //  BACKFILL: first block
    uint64_t to;                      //  BACKFILL: last block
} control_request_t;

typedef struct {
    uint64_t id;                        //  the request's
    int status;                         //  control_status_t
    char error [CONTROL_ERROR_SIZE];    //  CONTROL_REFUSED: why
    char *answer;                       //  CONTROL_OK: JSON (the encoder's, or decoded)
    size_t answer_size;
} control_reply_t;

extern const msg_table_t control_request_table;
extern const msg_table_t control_reply_table;

zframe_t *control_request_encode (const control_request_t *self);
//  0, or -2 when malformed.
int control_request_decode (zframe_t *frame, control_request_t *self);
zframe_t *control_reply_encode (const control_reply_t *self);
//  0, or -2 when malformed; control_reply_clear frees the answer.
int control_reply_decode (zframe_t *frame, control_reply_t *self);
void control_reply_clear (control_reply_t *self);

#endif
