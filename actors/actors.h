/*  actors: the CZMQ actors of evmtap, one per file. Each exports its actor function (for
    zactor_new) and its selftest; the pipe commands are documented in each file's banner. */
#ifndef ACTORS_H_INCLUDED
#define ACTORS_H_INCLUDED

#include "evmtap.h"

void fetch_worker_actor (zsock_t *pipe, void *args);
void fetch_worker_test (bool verbose);

void dispatcher_actor (zsock_t *pipe, void *args);
void dispatcher_test (bool verbose);

void head_poller_actor (zsock_t *pipe, void *args);
void head_poller_test (bool verbose);

void classifier_actor (zsock_t *pipe, void *args);
void classifier_test (bool verbose);

void broker_actor (zsock_t *pipe, void *args);
void broker_test (bool verbose);

#endif
