/*  log_record: the published records of one event log, made from the internal log record
    that receipts_join writes (docs/topics.md): always one "Decoded log" (decoded by
    topic0 through the call decoder's ABIs and signatures, or with the reason it is not,
    the raw topics and data then kept so nothing is lost), and a "Token transfer" when the
    log is an ERC-20 or ERC-721 `Transfer` in the standard's layout (ERC-20: three topics
    and a 32-byte value; ERC-721: four topics and no data). Holds scratch space: one per
    thread. */
#ifndef LOG_RECORD_H_INCLUDED
#define LOG_RECORD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "call_decoder.h"

typedef struct _log_record_t log_record_t;

log_record_t *log_record_new (void);
void log_record_destroy (log_record_t **self_p);

//  Reads an internal log record. Returns 0, or -1 with the reason in err (the record then
//  cannot be decoded; the decoder still publishes one decoded log saying so).
int log_record_parse (log_record_t *self, const char *json, size_t len, char *err, size_t err_size);

//  The Decoded log of the record last parsed: a heap string (length in *len).
char *log_record_decoded (log_record_t *self, call_decoder_t *decoder, size_t *len,
                          call_decoding_t *decoding);

//  The Token transfer of the record last parsed, or NULL when it is not one.
char *log_record_transfer (log_record_t *self, size_t *len);

void log_record_test (bool verbose);

#endif
