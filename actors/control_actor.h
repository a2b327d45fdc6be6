/*  control_actor: the control socket's actor (control.c; its messages are proto/control.h)
    and the facade through which the pipeline takes each request and answers it. */
#ifndef CONTROL_ACTOR_H_INCLUDED
#define CONTROL_ACTOR_H_INCLUDED

#include "evmtap.h"
#include "control.h"
#include "curve_auth.h"

typedef struct {
    const char *endpoint;    //  where `evmtap ctl` connects (bound)
    curve_auth_t *auth;      //  CURVE server for a non-local endpoint (borrowed), or NULL
    char error [300];        //  control_new's reason when it returns NULL
} control_args_t;

void control_actor (zsock_t *pipe, void *args);
void control_test (bool verbose);

typedef struct _control_t control_t;
//  One request of a client, to answer with control_answer.
typedef struct _control_call_t control_call_t;

//  Starts the actor, bound once this returns (args may go then). NULL, with the reason in
//  args->error, when the endpoint cannot be bound.
control_t *control_new (control_args_t *args);
void control_destroy (control_t **self_p);
//  The socket to poll: readable when a request waits for control_recv.
zsock_t *control_socket (control_t *self);
//  Takes one request (NULL when interrupted).
control_call_t *control_recv (control_t *self);
//  The request of a call (borrowed).
const control_request_t *control_call_request (control_call_t *call);
//  Answers a call with answer (JSON, taken) or, when error is not NULL, refuses it.
void control_answer (control_t *self, control_call_t **call_p, cJSON *answer, const char *error);

#endif
