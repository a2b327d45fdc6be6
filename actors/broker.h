/*  broker: the only actor that talks to the sink (see broker.c), its arguments and its
    facade, through which main starts it, hears its reports as typed events, abandons what
    it has not handed to Kafka yet and stops it. The actor copies what it needs before it
    signals, so the caller may free the arguments once broker_new has returned. */
#ifndef BROKER_H_INCLUDED
#define BROKER_H_INCLUDED

#include "evmtap.h"
#include "kafka_sink.h"
#include "sink.h"

#define BROKER_COMMIT_INTERVAL_MS 200

typedef struct {
    const char *data_dir;                //  LMDB state under <data_dir>/state
    sink_kind_t sink;                    //  SINK_FILES, SINK_STDOUT or SINK_KAFKA
    const char *files_dir;               //  files sink root; NULL for <data_dir>/topics
    const char *endpoint;                //  where to bind the PULL socket batches arrive on
    int commit_interval_ms;              //  longest time a written batch waits for its checkpoint;
                                         //  0 for BROKER_COMMIT_INTERVAL_MS
    char error [256];                    //  out: why the start failed ("" when it did not), set
                                         //  before the actor signals
    bool timer_only;                     //  commit only on the timer and at FLUSH, never when idle
                                         //  (crash tests need written, uncommitted batches)
    const kafka_sink_config_t *kafka;    //  SINK_KAFKA: the producer's settings
    const char *metrics;                 //  the metrics actor's endpoint, NULL: no metrics
} broker_args_t;

//  What the broker reports unasked.
typedef enum {
    BROKER_FLUSHED,    //  a chain's FLUSH is checkpointed (Kafka: delivered)
    BROKER_FAILED      //  the sink failed: nothing more is written or checkpointed
} broker_event_type_t;

typedef struct {
    broker_event_type_t type;
    char *chain;        //  BROKER_FLUSHED: the chain whose stream ended
    bool published;     //  BROKER_FLUSHED: false while none of its blocks is
    uint64_t number;    //  BROKER_FLUSHED: the chain's last block published
    char *reason;       //  BROKER_FAILED: why, as the broker logged it
} broker_event_t;

void broker_actor (zsock_t *pipe, void *args);
void broker_test (bool verbose);

typedef struct _broker_t broker_t;

//  Starts a broker; NULL when it could not start (the reason is in args->error and logged).
broker_t *broker_new (broker_args_t *args);
//  Checkpoints what is written (Kafka: delivered), then stops the actor.
void broker_destroy (broker_t **self_p);
//  The socket to poll: readable when an event waits for broker_recv. Selftests also drive
//  the pipe commands through it.
zsock_t *broker_socket (broker_t *self);
//  Takes the next event (yours: broker_event_destroy). NULL when interrupted, or when what
//  came is not an event (an answer to a pipe command).
broker_event_t *broker_recv (broker_t *self);
void broker_event_destroy (broker_event_t **self_p);
//  The stream's last block checkpointed (`evmtap ctl BACKFILL` resumes after it): 0 with
//  number and hash (BLOCK_HASH_SIZE) set, 1 when it has none, -1 when the broker did not
//  answer within timeout_ms; *first its first block ever, -1 when not known. Reports that
//  come meanwhile wait for broker_recv.
int broker_last (broker_t *self, const char *stream, int timeout_ms, uint64_t *number, char *hash,
                 int64_t *first);
//  The chain's ctl BACKFILL streams (<chain>@A-B) with a block checkpointed: a list of
//  names (yours: zlist_destroy), or NULL when the broker did not answer within timeout_ms.
zlist_t *broker_streams (broker_t *self, const char *chain, int timeout_ms);
//  Reports broker_last and broker_streams took wait: broker_recv returns them without the socket's being
//  readable.
bool broker_queued (broker_t *self);
//  Kafka: drops the batch waiting for room and every batch that comes from now on (none is
//  checkpointed), so that actors blocked sending to the broker can stop. Files and stdout
//  never stop reading: no effect.
void broker_abandon (broker_t *self);

#endif
