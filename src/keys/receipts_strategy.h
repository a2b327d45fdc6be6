/*  receipts_strategy: how a fetch worker gets a block's receipts, call by call, under its
    key's cost table (receipts_cost judges the billed units): in one JSON-RPC batch with the
    block when no block is cheaper by transaction and both fit in the key's second; else the
    block first and then, by its transaction count, one eth_getBlockReceipts, one
    eth_getTransactionReceipt per transaction, or nothing. A node that answers -32601 to
    eth_getBlockReceipts gets receipts by transaction from then on. Pure: the worker makes
    the calls. */
#ifndef RECEIPTS_STRATEGY_H_INCLUDED
#define RECEIPTS_STRATEGY_H_INCLUDED

#include "receipts_cost.h"

typedef struct _receipts_strategy_t receipts_strategy_t;

//  costs (borrowed; NULL: one unit a call) prices the ways.
receipts_strategy_t *receipts_strategy_new (const cost_table_t *costs);
void receipts_strategy_destroy (receipts_strategy_t **self_p);

//  Whether the block's eth_getBlockReceipts goes in one batch with eth_getBlockByNumber:
//  not for a block fetched by hash (its transactions come after it), not when the node
//  lacks the method, not when some block is cheaper by transaction, and only when the
//  two calls fit in one second of the key's budget (fits_one_second).
bool receipts_strategy_batched (receipts_strategy_t *self, bool by_hash, bool fits_one_second);

//  The way for a block of tx_count transactions that came alone (batched: its receipts
//  came with it, and RECEIPTS_WAY_BLOCK is the way, its answer already there); choice gets
//  the costs compared (zero when the node lacks eth_getBlockReceipts: by transaction).
receipts_way_t receipts_strategy_way (receipts_strategy_t *self, size_t tx_count, bool batched,
                                      receipts_choice_t *choice);

//  The node answered -32601 to eth_getBlockReceipts: by transaction from now on.
void receipts_strategy_no_block_receipts (receipts_strategy_t *self);

void receipts_strategy_test (bool verbose);

#endif
