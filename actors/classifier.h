/*  classifier: the classifier actor (see classifier.c), its arguments and the facade main
    starts and stops it with. */
#ifndef CLASSIFIER_H_INCLUDED
#define CLASSIFIER_H_INCLUDED

#include "evmtap.h"
#include "block.h"

typedef struct {
    const char *endpoint;    //  to bind (PULL): head pollers send blocks here
    const char *broker;      //  the broker's endpoint (PUSH, connect)
} classifier_args_t;

void classifier_actor (zsock_t *pipe, void *args);
void classifier_test (bool verbose);

typedef struct _classifier_t classifier_t;

//  Starts a classifier, bound once this returns (args may go then). NULL when the actor
//  could not be made.
classifier_t *classifier_new (classifier_args_t *args);
//  Stops the actor; blocks it holds are dropped (they are not checkpointed).
void classifier_destroy (classifier_t **self_p);

//  The topic suffix of a transaction by the original system's rules: no `to` is a
//  contract deployment; `to` with input "0x" is a native transfer; else a contract call.
const char *classifier_topic (const block_tx_t *tx);

#endif
