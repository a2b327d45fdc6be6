/*  dispatcher: the arguments of a chain's dispatcher actor (see dispatcher.c). */
#ifndef DISPATCHER_H_INCLUDED
#define DISPATCHER_H_INCLUDED

#include "evmtap.h"

typedef struct {
    const char *workers;   //  endpoint to bind for fetch workers (ROUTER)
    const char *jobs;      //  endpoint to bind for the head poller (PAIR)
} dispatcher_args_t;

void dispatcher_actor (zsock_t *pipe, void *args);
void dispatcher_test (bool verbose);

#endif
