/*  broker: the arguments of broker_actor (actors.h), the only actor that talks to the sink.
    The actor copies what it needs before it signals, so the caller may free the arguments
    once zactor_new has returned. */
#ifndef BROKER_H_INCLUDED
#define BROKER_H_INCLUDED

#include "evmtap.h"
#include "kafka_sink.h"
#include "sink.h"

#define BROKER_COMMIT_INTERVAL_MS 200

typedef struct {
    const char *data_dir;       //  LMDB state under <data_dir>/state
    sink_kind_t sink;           //  SINK_FILES, SINK_STDOUT or SINK_KAFKA
    const char *files_dir;      //  files sink root; NULL for <data_dir>/topics
    const char *endpoint;       //  where to bind the PULL socket batches arrive on
    int commit_interval_ms;     //  longest time a written batch waits for its checkpoint;
                                //  0 for BROKER_COMMIT_INTERVAL_MS
    char error [256];           //  out: why the start failed ("" when it did not), set
                                //  before the actor signals
    bool timer_only;            //  commit only on the timer and at FLUSH, never when idle
                                //  (crash tests need written, uncommitted batches)
    const kafka_sink_config_t *kafka;   //  SINK_KAFKA: the producer's settings
} broker_args_t;

void broker_actor (zsock_t *pipe, void *args);
void broker_test (bool verbose);

//  Starts a broker; NULL when it could not start (the reason is in args->error and logged).
zactor_t *broker_new (broker_args_t *args);

#endif
