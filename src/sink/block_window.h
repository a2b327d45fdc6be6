/*  block_window: the hashes of a chain's last published blocks, consecutive numbers up to
    a capacity (BLOCK_WINDOW_SIZE in service), oldest dropped first. The head poller walks
    back through it to find where a reorg's branch left the published one; the broker keeps
    one per chain and stores it with each checkpoint (block_window_encode), so that a reorg
    that happens while evmtap is down is found on the next start. */
#ifndef BLOCK_WINDOW_H_INCLUDED
#define BLOCK_WINDOW_H_INCLUDED

#include "evmtap.h"

//  How many blocks a reorg may replace and still be unwound.
#define BLOCK_WINDOW_SIZE 256

typedef struct _block_window_t block_window_t;

//  An empty window of at most capacity blocks (capacity > 0).
block_window_t *block_window_new (size_t capacity);
void block_window_destroy (block_window_t **self_p);

//  Publishes block number with hash (0x hex, 66 characters): at or below the last block it
//  replaces that block and drops those after it; past last + 1 (a gap) the window restarts
//  with it alone.
void block_window_push (block_window_t *self, uint64_t number, const char *hash);
//  Drops every block above number.
void block_window_truncate (block_window_t *self, uint64_t number);
//  Drops every block.
void block_window_clear (block_window_t *self);
//  Copies other's blocks into self (capacity permitting: the newest are kept).
void block_window_copy (block_window_t *self, block_window_t *other);

size_t block_window_count (block_window_t *self);
//  The lowest and highest numbers held; 0 when empty.
uint64_t block_window_first (block_window_t *self);
uint64_t block_window_last (block_window_t *self);
//  The hash of block number (borrowed), or NULL when the window does not hold it.
const char *block_window_hash (block_window_t *self, uint64_t number);

//  The window as bytes for the checkpoint store: [u64 first, big-endian][66-byte hashes].
//  Yours to free; size filled.
unsigned char *block_window_encode (block_window_t *self, size_t *size);
//  Replaces the window's blocks by those encoded (the newest, capacity permitting). 0, or
//  -1 when the bytes are not a window (the window is then empty).
int block_window_decode (block_window_t *self, const unsigned char *data, size_t size);

void block_window_test (bool verbose);

#endif
