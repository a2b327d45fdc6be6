/*  normalize: turns JSON-RPC block and transaction objects into evmtap's JSON fields
    (DESIGN "JSON fields"): 53-bit integers as numbers, other quantities as exact decimal
    strings, hex data lower-cased, `to` null for deployments, `type` 0 when absent, and the
    chain's `chainId` on every record. Anything missing or malformed that a record needs is
    an error naming the field, so a bad answer is retried rather than half-published. */
#ifndef NORMALIZE_H_INCLUDED
#define NORMALIZE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "jsonw.h"

typedef struct cJSON cJSON;

//  A block from eth_getBlockByNumber(n, true): transactions are objects. Fills header and
//  a new body. Returns 0, or -1 with the reason in err.
int normalize_block (const cJSON *block, uint64_t chain_id, block_header_t *header,
                     block_body_t **body_p, char *err, size_t err_size);

//  The same for --fetch hashes: a block whose `transactions` are hashes, and the
//  transaction objects fetched by hash, in the block's order (txs[i] for hash i).
int normalize_block_hashes (const cJSON *block, const cJSON *const *txs, size_t tx_count,
                            uint64_t chain_id, block_header_t *header, block_body_t **body_p,
                            char *err, size_t err_size);

//  One transaction object into out (json allocated; other fields filled). writer is
//  scratch space. Returns 0, or -1 with the reason in err.
int normalize_tx (const cJSON *tx, uint64_t chain_id, jsonw_t *writer, block_tx_t *out, char *err,
                  size_t err_size);

//  Writes item as the value of a field named key, by that field's rule (53-bit numbers,
//  exact decimals, lower-cased hex; unknown fields pass through, hex lower-cased); the key
//  itself is the caller's. For receipts and logs. Returns 0, or -1 with the reason in why.
int normalize_value (jsonw_t *writer, const char *key, const cJSON *item, const char **why);

void normalize_test (bool verbose);

#endif
