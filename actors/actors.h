/*  actors: the CZMQ actors of evmtap, one per file. Each exports its actor function (for
    zactor_new) and its selftest; the pipe commands are documented in each file's banner. */
#ifndef ACTORS_H_INCLUDED
#define ACTORS_H_INCLUDED

#include "evmtap.h"

#include "fetch_worker.h"
#include "dispatcher.h"

#include "head_poller.h"

#include "classifier.h"

void broker_actor (zsock_t *pipe, void *args);
void broker_test (bool verbose);

#endif
