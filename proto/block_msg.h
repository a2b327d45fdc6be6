/*  block_msg: a block in chain order, from a head poller to the classifier; or the end of a
    chain's stream (MSG_TYPE_FLUSH) that tells the broker to checkpoint now.
    Frame 1: [MSG_TYPE_BLOCK, 1, chain, chain_id, header(5 fields)]; frame 2: the body as the
    fetch worker packed it. Flush: [MSG_TYPE_FLUSH, 1, chain]. */
#ifndef BLOCK_MSG_H_INCLUDED
#define BLOCK_MSG_H_INCLUDED

#include "msg.h"
#include "block.h"

#define BLOCK_MSG_CHAIN_SIZE 64

typedef struct {
    char chain [BLOCK_MSG_CHAIN_SIZE];   //  topic prefix
    uint64_t chain_id;
    block_header_t header;
} block_msg_t;

//  Prepends the block frame to msg, which holds the body frame.
void block_msg_encode (const block_msg_t *self, zmsg_t *msg);
//  Pops and decodes the first frame; the body frame stays in msg.
int block_msg_decode (zmsg_t *msg, block_msg_t *self);

zframe_t *flush_msg_encode (const char *chain);
int flush_msg_decode (zframe_t *frame, char *chain, size_t chain_size);

#endif
