/*  block_verify: proves a block as a node answered it against its own header, with no
    other source: keccak(RLP(header)) is its `hash`; each transaction's signed envelope
    hashes to the transaction's `hash` and all of them rebuild `transactionsRoot`; the
    withdrawals rebuild `withdrawalsRoot`; and when the receipts are given, they belong to
    the block's transactions, rebuild `receiptsRoot`, and their logs rebuild each receipt's
    and the block's `logsBloom`. The first field that differs is named with the value the
    answer gave and the one computed. Pure computation: no I/O, no log line. */
#ifndef BLOCK_VERIFY_H_INCLUDED
#define BLOCK_VERIFY_H_INCLUDED

#include "evmtap.h"

typedef struct _block_verifier_t block_verifier_t;

//  What a check found.
typedef enum {
    BLOCK_VERIFY_OK = 0,           //  every part given was proven
    BLOCK_VERIFY_PARTIAL = 1,      //  nothing differs, but a part could not be proven (reason)
    BLOCK_VERIFY_MISMATCH = 2,     //  a field differs: field, index, expected, computed
    BLOCK_VERIFY_MALFORMED = 3,    //  the answer lacks a field or has one of the wrong form
} block_verify_rc_t;

//  Parts that were proven (bits of block_check_t.proven).
#define BLOCK_PROVEN_HASH 0x01            //  the header's fields hash to `hash`
#define BLOCK_PROVEN_TRANSACTIONS 0x02    //  every transaction, `transactionsRoot`
#define BLOCK_PROVEN_WITHDRAWALS 0x04     //  `withdrawalsRoot` (or the block has none)
#define BLOCK_PROVEN_RECEIPTS 0x08        //  `receiptsRoot` and `logsBloom`

//  Room for a bloom in 0x hex (the largest value a check compares).
#define BLOCK_CHECK_VALUE_MAX (2 * 256 + 3)

typedef struct {
    block_verify_rc_t rc;    //  as returned
    unsigned proven;         //  BLOCK_PROVEN_* bits
    //  The field that differs or is malformed, by its JSON-RPC name (`hash`,
    //  `transactionsRoot`, `receiptsRoot`, `logsBloom`, `withdrawalsRoot`, and a
    //  receipt's `transactionHash` or `blockHash`); empty when none.
    char field [32];
    //  The list the field is in ("transactions", "receipts", "withdrawals"), empty for
    //  the block's own; and the item's index there (a receipt's is its transactionIndex; -1
    //  for the block's own).
    char list [16];
    long index;
    char expected [BLOCK_CHECK_VALUE_MAX];    //  the value the answer gave
    char computed [BLOCK_CHECK_VALUE_MAX];    //  the value its contents give
    char reason [256];                        //  one line for a log: what failed and why
    //  transactionsRoot holds the network form of the block's blob transactions (blobs,
    //  commitments and proofs: anvil 1.7.1's root) rather than their envelopes.
    bool network_form;
} block_check_t;

block_verifier_t *block_verifier_new (void);
void block_verifier_destroy (block_verifier_t **self_p);

//  Checks a block object (`eth_getBlockByNumber(n, true)`'s result) and, when receipts is
//  not NULL, its receipts (`eth_getBlockReceipts`' result: an array in transaction order).
//  Fills check and returns its rc. Stops at the first field that differs.
block_verify_rc_t block_verifier_check (block_verifier_t *self, const cJSON *block,
                                        const cJSON *receipts, block_check_t *check);

//  The block record's "verified": "full" (header, transactions, withdrawals and receipts),
//  "header" (all but the receipts) or "none", from what a check proved.
const char *block_check_level (const block_check_t *check);

void block_verify_test (bool verbose);

#endif
