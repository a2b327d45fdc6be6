/*  block_msg: a block in chain order, from a head poller to the classifier; or the end of a
    chain's stream (MSG_TYPE_FLUSH) that tells the broker to checkpoint now.
    Frame 1: [MSG_TYPE_BLOCK, 1, chain, chain_id, header(5 fields)] (block_msg_table); frame
    2: the body as the fetch worker packed it. Flush: [MSG_TYPE_FLUSH, 1, chain]
    (flush_msg_table). */
#ifndef BLOCK_MSG_H_INCLUDED
#define BLOCK_MSG_H_INCLUDED

#include "msg.h"
#include "block.h"

#define BLOCK_MSG_CHAIN_SIZE 64

typedef struct {
    char chain [BLOCK_MSG_CHAIN_SIZE];    //  topic prefix
    uint64_t chain_id;                    //  stamped on every record
    block_header_t header;                //  the block's, as the fetch worker found it
} block_msg_t;

//  The end of a chain's stream.
typedef struct {
    char chain [BLOCK_MSG_CHAIN_SIZE];    //  topic prefix of the chain that ended
} flush_msg_t;

//  Their fields in wire order.
extern const msg_table_t block_msg_table;
extern const msg_table_t flush_msg_table;

//  Prepends the block frame to msg, which holds the body frame.
void block_msg_encode (const block_msg_t *self, zmsg_t *msg);
//  Pops and decodes the first frame; the body frame stays in msg.
int block_msg_decode (zmsg_t *msg, block_msg_t *self);

//  A chain name longer than BLOCK_MSG_CHAIN_SIZE - 1 is cut, as in block messages.
zframe_t *flush_msg_encode (const char *chain);
//  Decodes a flush (borrowed frame) into chain: 0, or -2 when malformed or too long for it.
int flush_msg_decode (zframe_t *frame, char *chain, size_t chain_size);

#endif
