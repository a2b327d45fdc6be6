/*  block: a fetched block, normalized to evmtap's JSON fields by the fetch worker, so that
    the JSON-RPC answer is parsed once, in parallel across workers.
    Header (small; the head poller reads only this): number, hash, parentHash, timestamp,
    tx_count (block_header_table), inside result and block messages.
    Body frame: [MSG_TYPE_BLOCK_BODY, 1, meta_json, [[hash, from, to|nil, input_empty, json]...],
    [[tx_index, log_index, json]...]] (block_body_table); the logs array is empty unless
    receipts were fetched. */
#ifndef BLOCK_H_INCLUDED
#define BLOCK_H_INCLUDED

#include "msg.h"
#include "hexutil.h"

#define BLOCK_HASH_SIZE (HEX_HASH_LEN + 1)
#define BLOCK_ADDRESS_SIZE (HEX_ADDRESS_LEN + 1)

typedef struct {
    uint64_t number;                       //  the block's number
    char hash [BLOCK_HASH_SIZE];           //  its hash, 0x hex
    char parent_hash [BLOCK_HASH_SIZE];    //  its parent's
    uint64_t timestamp;                    //  seconds since the epoch (block time)
    uint32_t tx_count;                     //  its transactions
} block_header_t;

typedef struct {
    char hash [BLOCK_HASH_SIZE];       //  the transaction's hash
    char from [BLOCK_ADDRESS_SIZE];    //  its sender
    char to [BLOCK_ADDRESS_SIZE];      //  "" when the node said null or nothing: a deployment
    bool input_empty;                  //  input is "0x"
    char *json;                        //  the normalized transaction object (owned)
    size_t json_len;                   //  its length
} block_tx_t;

//  An event log from a receipt, normalized (docs/topics.md "internal log record"): the
//  decoder turns it into a decoded log and, for a token Transfer, a token transfer.
typedef struct {
    uint32_t tx_index;     //  its transaction's position in the block
    uint64_t log_index;    //  its position among the block's logs
    char *json;            //  the normalized log object (owned)
    size_t json_len;       //  its length
} block_log_t;

typedef struct {
    char *meta_json;      //  normalized block without its transactions (owned)
    size_t meta_len;      //  its length
    block_tx_t *txs;      //  tx_count entries (owned)
    size_t tx_count;      //  how many
    block_log_t *logs;    //  log_count entries (owned), in the block's log order
    size_t log_count;     //  how many
} block_body_t;

//  The header's fields in wire order, inside the messages that carry one; the body's.
extern const msg_table_t block_header_table;
extern const msg_table_t block_body_table;

block_body_t *block_body_new (size_t tx_count);
//  Replaces the body's logs with count empty entries, to be filled.
void block_body_set_logs (block_body_t *self, size_t count);
void block_body_destroy (block_body_t **self_p);

zframe_t *block_body_encode (const block_body_t *self);
//  Decodes a frame (borrowed) into a new body: 0, or -2 when malformed (*self_p NULL).
int block_body_decode (zframe_t *frame, block_body_t **self_p);

#endif
