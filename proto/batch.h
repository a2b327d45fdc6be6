/*  batch: every record of one block, from the classifier to the broker, in the order they
    are to be written: [MSG_TYPE_BATCH, 1, chain, chain_id, number, hash, timestamp,
    [[topic, key, value_json]...]] (batch_table). Topics are full names (with the chain's
    prefix).
    A batch is the broker's unit of checkpointing: a block is published when its batch is. */
#ifndef BATCH_H_INCLUDED
#define BATCH_H_INCLUDED

#include "msg.h"
#include "block.h"

typedef struct {
    char *topic;         //  full topic name
    char *key;           //  the record's key
    char *value;         //  a JSON object text
    size_t value_len;    //  its length
} batch_record_t;

typedef struct _batch_t batch_t;

//  The batch's fields in wire order.
extern const msg_table_t batch_table;

batch_t *batch_new (const char *chain, uint64_t chain_id, uint64_t number, const char *hash,
                    uint64_t timestamp);
void batch_destroy (batch_t **self_p);

//  Adds a record; copies topic and key, takes ownership of value (a heap string).
void batch_add (batch_t *self, const char *topic, const char *key, char *value, size_t value_len);

const char *batch_chain (batch_t *self);
uint64_t batch_chain_id (batch_t *self);
uint64_t batch_number (batch_t *self);
const char *batch_hash (batch_t *self);
uint64_t batch_timestamp (batch_t *self);
size_t batch_size (batch_t *self);
//  The index-th record, borrowed.
const batch_record_t *batch_record (batch_t *self, size_t index);

zframe_t *batch_encode (batch_t *self);
//  Decodes a frame (borrowed) into a new batch: 0, or -2 when malformed (*self_p NULL).
int batch_decode (zframe_t *frame, batch_t **self_p);

void batch_test (bool verbose);

#endif
