/*  metric: counter and gauge updates from the actors to the metrics actor, batched, one
    frame: [MSG_TYPE_METRIC, 1, [[op, name, labels, value]...]] (metric_table). An actor
    gathers its updates in a batch (adds to one sample coalesce) and sends it now and then,
    so that a block costs no message of its own. Values travel as integers in millionths
    of the metric's unit (a latency in microseconds for a _seconds histogram). */
#ifndef METRIC_H_INCLUDED
#define METRIC_H_INCLUDED

#include "msg.h"

typedef enum {
    METRIC_SET = 1,    //  a gauge's new value
    METRIC_ADD,        //  added to a counter (or a gauge)
    METRIC_OBSERVE     //  one observation of a histogram
} metric_op_t;

//  Longest metric name and label set that travel.
#define METRIC_NAME_MAX 120
#define METRIC_LABELS_MAX 600

typedef struct {
    int op;           //  metric_op_t
    char *name;       //  evmtap_...
    char *labels;     //  as metrics_labels writes them, "" for none
    int64_t value;    //  in millionths
} metric_row_t;

//  Every metric evmtap serves, spelled once (the metrics actor declares them with their
//  type and help; docs/metrics.md says what each means). Labels in brackets.
//  Per chain [chain]:
#define METRIC_HEAD_BLOCK "evmtap_head_block"
#define METRIC_PUBLISHED_BLOCK "evmtap_published_block"
#define METRIC_BLOCKS_BEHIND "evmtap_blocks_behind"
#define METRIC_PUBLISHED_BLOCKS "evmtap_published_blocks_total"
#define METRIC_PUBLISHED_RECORDS "evmtap_published_records_total"    //  [chain, topic]
#define METRIC_REORGS "evmtap_reorgs_total"
#define METRIC_REORG_DEPTH "evmtap_reorg_depth_blocks"
#define METRIC_VERIFY_FAILURES "evmtap_verification_failures_total"    //  [chain, field]
#define METRIC_PARTLY_PROVEN "evmtap_blocks_partly_proven_total"       //  [chain]
#define METRIC_WORKERS "evmtap_workers_connected"
#define METRIC_JOBS_QUEUED "evmtap_jobs_queued"
#define METRIC_JOBS_IN_FLIGHT "evmtap_jobs_in_flight"
#define METRIC_JOBS_REQUEUED "evmtap_jobs_requeued_total"
//  Per provider and key [provider, key, method, status] / [provider, key, method]:
#define METRIC_REQUESTS "evmtap_requests_total"
#define METRIC_REQUEST_SECONDS "evmtap_request_duration_seconds"
#define METRIC_UNITS_BILLED "evmtap_key_units_billed_total"    //  [provider, key]
//  Per key [key]:
#define METRIC_UNITS_LEFT "evmtap_key_units_left"
#define METRIC_DAILY_BUDGET "evmtap_key_daily_budget_units"
#define METRIC_LEASES "evmtap_key_leases_total"
#define METRIC_COOLDOWNS "evmtap_key_cooldowns_total"
#define METRIC_PARKS "evmtap_key_parks_total"
//  The sink [sink]:
#define METRIC_SINK_BYTES "evmtap_sink_written_bytes_total"
#define METRIC_KAFKA_QUEUE "evmtap_kafka_queue_blocks"
#define METRIC_KAFKA_ERRORS "evmtap_kafka_delivery_errors_total"
#define METRIC_KAFKA_SECONDS "evmtap_kafka_delivery_seconds"
#define METRIC_SINK_FAILED "evmtap_sink_failed"
//  The process [version]:
#define METRIC_BUILD_INFO "evmtap_build_info"

typedef struct _metric_batch_t metric_batch_t;

extern const msg_table_t metric_table;

metric_batch_t *metric_batch_new (void);
void metric_batch_destroy (metric_batch_t **self_p);
//  Adds an update (name and labels copied). METRIC_ADD to a sample already in the batch
//  adds to its row, METRIC_SET replaces its row's value; observations each take a row.
void metric_batch_put (metric_batch_t *self, metric_op_t op, const char *name, const char *labels,
                       double value);
size_t metric_batch_size (metric_batch_t *self);
//  The index-th row, borrowed.
const metric_row_t *metric_batch_row (metric_batch_t *self, size_t index);
//  Sends the rows as one frame on socket (without blocking: when the metrics actor is
//  behind, the update is dropped, never the capture held up) and empties the batch.
//  Nothing is sent when it is empty or socket is NULL.
void metric_batch_send (metric_batch_t *self, zsock_t *socket);
//  Decodes a frame (borrowed) into a new batch: 0, or -2 when malformed (*self_p NULL).
int metric_batch_decode (zframe_t *frame, metric_batch_t **self_p);

void metric_test (bool verbose);

#endif
