/*  classifier: the arguments of the classifier actor (see classifier.c). */
#ifndef CLASSIFIER_H_INCLUDED
#define CLASSIFIER_H_INCLUDED

#include "evmtap.h"
#include "block.h"

typedef struct {
    const char *endpoint;     //  to bind (PULL): head pollers send blocks here
    const char *broker;       //  the broker's endpoint (PUSH, connect)
} classifier_args_t;

void classifier_actor (zsock_t *pipe, void *args);
void classifier_test (bool verbose);

//  The topic suffix of a transaction by the original system's rules: no `to` is a
//  contract deployment; `to` with input "0x" is a native transfer; else a contract call.
const char *classifier_topic (const block_tx_t *tx);

#endif
