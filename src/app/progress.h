/*  progress: the figures of a backfill as one line of text: blocks done of the total,
    percent, blocks, requests and units per second, and the time left. A bar redrawn in
    place for a terminal, or a plain line for a log. The rates are over the samples of this
    process: the blocks a restart found done count in done/total, not in blocks/s. */
#ifndef PROGRESS_H_INCLUDED
#define PROGRESS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _progress_t progress_t;

//  A progress of total blocks (at least 1) of chain (copied). bar: the terminal's form.
progress_t *progress_new (const char *chain, uint64_t total, bool bar);
void progress_destroy (progress_t **self_p);

//  Takes a sample at now_ms (a monotonic clock): done blocks of the total, and the requests
//  and units spent since the process started. The first sample is where the rates start.
void progress_sample (progress_t *self, uint64_t done, uint64_t requests, uint64_t units,
                      int64_t now_ms);

//  The line of the last sample (borrowed, until the next call). Plain: ends in a newline.
//  Bar: starts with a carriage return and ends with an erase to the end of the line, and
//  with a newline once done reaches the total.
const char *progress_line (progress_t *self);

void progress_test (bool verbose);

#endif
