/*  checkpoint: evmtap's durable state in LMDB under <data-dir>/state: per chain, the last
    block published (number and hash) and the hashes of its last blocks (block_window); per files-sink file, its size at that moment, so a
    restart after SIGKILL cuts off what was written past the checkpoint (no duplicates);
    and a few named values (meta) such as the files sink root's id and each chain's identity.
    One environment per process; @locality the broker writes, main reads before it starts. */
#ifndef CHECKPOINT_H_INCLUDED
#define CHECKPOINT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "block_window.h"

typedef struct _checkpoint_t checkpoint_t;

//  Opens (creating) the store under data_dir. Returns NULL with LMDB's words in err.
checkpoint_t *checkpoint_open (const char *data_dir, char *err, size_t err_size);
void checkpoint_destroy (checkpoint_t **self_p);

//  The last published block of a chain: 0 and fills number and hash (67 bytes), 1 when the
//  chain has none yet, -1 on an LMDB error (logged).
int checkpoint_get (checkpoint_t *self, const char *chain, uint64_t *number, char *hash);

//  The checkpointed size of a files-sink file: 0 and fills size, 1 when the file is not
//  recorded, -1 on an LMDB error (logged).
int checkpoint_get_file (checkpoint_t *self, const char *path, uint64_t *size);

//  A named value (text): 0 and fills value (cut to value_size), 1 when absent, -1 on an
//  LMDB error (logged).
int checkpoint_get_meta (checkpoint_t *self, const char *key, char *value, size_t value_size);

//  The recent blocks of a chain (block_window.h), as the last commit left them: 0 and
//  fills window, 1 when the chain has none (window emptied), -1 on an LMDB error or a
//  damaged record (logged).
int checkpoint_get_window (checkpoint_t *self, const char *chain, block_window_t *window);

//  A write transaction: begin, any number of set_block/set_file, commit. Returns 0 or -1
//  (logged); after -1 nothing of the transaction is stored.
int checkpoint_begin (checkpoint_t *self);
int checkpoint_set_block (checkpoint_t *self, const char *chain, uint64_t number, const char *hash);
int checkpoint_set_file (checkpoint_t *self, const char *path, uint64_t size);
int checkpoint_set_meta (checkpoint_t *self, const char *key, const char *value);
int checkpoint_set_window (checkpoint_t *self, const char *chain, block_window_t *window);
//  Drops a file's record in the open transaction (absent: nothing to do). 0 or -1 (logged).
int checkpoint_del_file (checkpoint_t *self, const char *path);
int checkpoint_commit (checkpoint_t *self);
//  Drops the open write transaction, if any: nothing of it is stored.
void checkpoint_abort (checkpoint_t *self);

//  Calls fn for every file recorded, with its checkpointed size.
typedef void (checkpoint_file_fn) (const char *path, uint64_t size, void *arg);
int checkpoint_each_file (checkpoint_t *self, checkpoint_file_fn *fn, void *arg);
//  Calls fn for every chain (stream) recorded, with its last block published.
typedef void (checkpoint_block_fn) (const char *chain, uint64_t number, void *arg);
int checkpoint_each_block (checkpoint_t *self, checkpoint_block_fn *fn, void *arg);

void checkpoint_test (bool verbose);

#endif
