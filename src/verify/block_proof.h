/*  block_proof: a fetched block proven as the fetch worker holds it, at the level asked
    (--verify off|header|full): the block as eth_getBlockByNumber answered, its transactions
    fetched by hash (--fetch hashes: the block assembled from them), its receipts as one
    eth_getBlockReceipts array or one answer per transaction. Says what the block record's
    "verified" is, and whether a failure means "fetch it again" or "publish it, partly
    proven". Pure: no I/O, no log line. */
#ifndef BLOCK_PROOF_H_INCLUDED
#define BLOCK_PROOF_H_INCLUDED

#include "block_verify.h"

//  --verify, by the index of its choice.
typedef enum {
    BLOCK_PROOF_OFF = 0,       //  nothing proven: "none"
    BLOCK_PROOF_HEADER = 1,    //  the header, transactions and withdrawals
    BLOCK_PROOF_FULL = 2,      //  and the receipts when they were fetched
} block_proof_mode_t;

//  What a proof comes to.
typedef enum {
    BLOCK_PROOF_PUBLISH,    //  proven as far as it can be: publish with the level
    BLOCK_PROOF_PARTIAL,    //  part of it cannot be proven (check.reason): publish, say once
    BLOCK_PROOF_REFETCH,    //  a field differs or is malformed (check): fetch it again
} block_proof_verdict_t;

typedef struct _block_proof_t block_proof_t;

block_proof_t *block_proof_new (block_proof_mode_t mode);
void block_proof_destroy (block_proof_t **self_p);

//  Proves block (borrowed); txs [0..tx_count) are the transactions fetched by hash (NULL:
//  they are in the block); receipts is an eth_getBlockReceipts array, or receipt_items
//  [0..receipt_count) the answers fetched per transaction (both NULL: no receipts).
//  Fills check and *level ("full", "header" or "none").
block_proof_verdict_t block_proof_check (block_proof_t *self, const cJSON *block,
                                         const cJSON *const *txs, size_t tx_count,
                                         const cJSON *receipts, const cJSON *const *receipt_items,
                                         size_t receipt_count, block_check_t *check,
                                         const char **level);

void block_proof_test (bool verbose);

#endif
