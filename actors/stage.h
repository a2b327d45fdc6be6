/*  stage: the sockets and the wait of a pipeline stage between two actors (classifier,
    decoder): a PULL socket it binds for its input and a PUSH socket to the next stage,
    both with small queues, and a wait that reads input only when the output has room.
    So when the sink stalls, each stage stops reading in turn and the head pollers stop
    fetching: memory stays bounded. A blocked send would also keep $TERM waiting, which the
    wait avoids by never reading what it could not pass on at once. */
#ifndef STAGE_H_INCLUDED
#define STAGE_H_INCLUDED

#include <czmq.h>

//  Messages queued on each side of a stage at most.
#define STAGE_QUEUE_HWM 8

typedef struct _stage_t stage_t;

//  Binds input at endpoint and connects the output to next (a zsock_attach endpoint, e.g.
//  ">inproc://..."). Returns NULL (logged, naming the stage) when either fails.
stage_t *stage_new (const char *name, zsock_t *pipe, const char *endpoint, const char *next);
void stage_destroy (stage_t **self_p);

zsock_t *stage_input (stage_t *self);
zsock_t *stage_output (stage_t *self);

//  Waits until the pipe has a command, or the input has a message and the output room for
//  one. Returns that socket, or NULL when interrupted.
zsock_t *stage_wait (stage_t *self);

void stage_test (bool verbose);

#endif
