/*  log_bloom: the 2048-bit bloom of a receipt's logs (each log's address and each of its
    topics sets three bits), as receipts and block headers hold it. The bits of a value
    already seen are remembered until log_bloom_reset: a block repeats its tokens'
    addresses and the Transfer topic hundreds of times, and each value costs a Keccak-256
    otherwise (a tenth of a block's proof). */
#ifndef LOG_BLOOM_H_INCLUDED
#define LOG_BLOOM_H_INCLUDED

#include "evmtap.h"

#define LOG_BLOOM_SIZE 256

typedef struct _log_bloom_t log_bloom_t;

log_bloom_t *log_bloom_new (void);
void log_bloom_destroy (log_bloom_t **self_p);

//  Forgets the values seen (between blocks: what one block repeats is what pays).
void log_bloom_reset (log_bloom_t *self);

//  ORs into bloom the bits of a receipt's logs. Returns 0, or -1 (err says why) when the
//  receipt has no logs array or a log has a malformed address or topic.
int log_bloom_add_logs (log_bloom_t *self, const cJSON *receipt, uint8_t bloom [LOG_BLOOM_SIZE],
                        char *err, size_t err_size);

void log_bloom_test (bool verbose);

#endif
