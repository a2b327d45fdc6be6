/*  receipts: joins a block's receipts onto its normalized body (--receipts). Each
    transaction's JSON gains its receipt's own fields (status, gasUsed, cumulativeGasUsed,
    effectiveGasPrice, contractAddress, blob and L2 fee fields...), normalized by the same
    rules; each event log becomes an internal log record in body->logs for the decoder.
    A receipt that names another transaction or block, or a malformed log, makes the whole
    join an error naming the transaction and field: the block is fetched again rather than
    published with receipts of another fork. */
#ifndef RECEIPTS_H_INCLUDED
#define RECEIPTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"

typedef struct cJSON cJSON;

//  receipts[i] is the receipt of body->txs[i] (count must equal body->tx_count). On
//  success the transactions' JSON is extended and body->logs filled; on failure body is
//  left as it was and err says why. Returns 0 or -1.
int receipts_join (block_body_t *body, const block_header_t *header, uint64_t chain_id,
                   const cJSON *const *receipts, size_t count, char *err, size_t err_size);

//  The same for an eth_getBlockReceipts answer (an array in transaction order).
int receipts_join_array (block_body_t *body, const block_header_t *header, uint64_t chain_id,
                         const cJSON *array, char *err, size_t err_size);

void receipts_test (bool verbose);

#endif
