/*  backfill_range: what a backfill of blocks from..to has left to do on a data dir. The
    checkpoint holds the chain's last block published; the meta backfill.<chain>.first holds
    the first block of the backfill that filled it, recorded on its first start. Together
    they are the range done, first..last: the same command started again goes on after
    last, a finished one has nothing to do, and a range the data dir's stream cannot hold
    without a gap (before first, or past last + 1) is refused. */
#ifndef BACKFILL_RANGE_H_INCLUDED
#define BACKFILL_RANGE_H_INCLUDED

#include "evmtap.h"
#include "checkpoint.h"

typedef enum {
    BACKFILL_RANGE_GO,         //  blocks are left: *start is the first (from, or last + 1)
    BACKFILL_RANGE_DONE,       //  every block of from..to is published: the reason says so
    BACKFILL_RANGE_REFUSED,    //  the range does not fit the data dir (exit 2): the reason
    BACKFILL_RANGE_FAILED      //  the store could not be read or written (exit 1)
} backfill_range_result_t;

//  Decides for chain, and records first on the data dir's first start. text gets the
//  reason of DONE, REFUSED and FAILED.
backfill_range_result_t backfill_range_check (checkpoint_t *checkpoint, const char *chain,
                                              uint64_t from, uint64_t to, uint64_t *start,
                                              char *text, size_t text_size);

void backfill_range_test (bool verbose);

#endif
