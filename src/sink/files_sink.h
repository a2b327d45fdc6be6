/*  files_sink: the broker's files sink. Each record's value JSON goes on a line of
    DIR/<topic>/<YYYY-MM-DD>.ndjson, the UTC day of its block's time; every file's size is
    recorded in the checkpoint store (checkpoint.h) with the blocks that wrote it, so that a
    restart cuts what a killed process wrote past its checkpoint and the blocks published
    again are not duplicated. A write, sync or record that fails is reported by -1 with the
    reason in files_sink_error; the caller then writes nothing more.

    @locality broker: every call from the thread that created the sink. */
#ifndef FILES_SINK_H_INCLUDED
#define FILES_SINK_H_INCLUDED

#include "evmtap.h"
#include "batch.h"
#include "checkpoint.h"

typedef struct _files_sink_t files_sink_t;

//  Files are recorded relative to the sink's root, which is known by a random id written
//  into it (DIR/.evmtap-id) and kept in the store: any path to the same directory resumes,
//  another directory is refused. On a store without an id (a new data dir, or one of an
//  older evmtap, whose records are migrated to relative ones) the root's id is created or
//  adopted. 0, 1 when dir is another directory than the store's (the reason in err), -1
//  when it failed (the reason in err).
int files_sink_root (checkpoint_t *checkpoint, const char *dir, char *err, size_t err_size);

//  Cuts every file the store records back to its checkpointed size (files removed since
//  are skipped). Run on every start, whatever the sink: what was written past the
//  checkpoint is published again. dir is the files sink's root (after files_sink_root),
//  or NULL for another sink: the root last recorded is cut then, if it is still there.
//  0, or -1 with the reason in err.
int files_sink_cut (checkpoint_t *checkpoint, const char *dir, char *err, size_t err_size);

//  Creates the sink writing under dir (created when absent), recording file sizes in
//  checkpoint (borrowed: it must outlive the sink). NULL with the reason in err.
files_sink_t *files_sink_new (const char *dir, checkpoint_t *checkpoint, char *err,
                              size_t err_size);

//  Closes the open files (what is buffered reaches them, checkpointed or not).
void files_sink_destroy (files_sink_t **self_p);

//  Writes every record of a batch to its topic's file of the block's day and adds the
//  bytes written to *bytes. A record whose topic is no valid file name is logged and
//  dropped. 0, or -1 when a write failed (files_sink_error).
int files_sink_write (files_sink_t *self, batch_t *batch, uint64_t *bytes);

//  Flushes and syncs every file written since the last checkpoint, before the checkpoint
//  names their sizes. 0, or -1 when it failed (files_sink_error).
int files_sink_sync (files_sink_t *self);

//  Sets the size of every file written since the last checkpoint in the store's open
//  write transaction. 0, or -1 when LMDB failed (logged; the transaction is dropped).
int files_sink_checkpoint (files_sink_t *self);

//  After the transaction of files_sink_checkpoint is committed: the files are clean, and
//  those closed (their day passed) are forgotten.
void files_sink_committed (files_sink_t *self);

//  After a failure (a write, sync or checkpoint): cuts every file written since the last
//  checkpoint back to its checkpointed size, and drops what stdio still buffers for it, so
//  that no half-written line stays. 0, or -1 when a file could not be cut (logged: the next
//  start cuts it).
int files_sink_cut_back (files_sink_t *self);

//  Why the last call failed ("" when none did).
const char *files_sink_error (files_sink_t *self);

void files_sink_test (bool verbose);

#endif
