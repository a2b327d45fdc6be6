/*  receipts_cost: the cheapest way to fetch a block's receipts under a key's cost table,
    judged in billed units (DESIGN.md "API key pool"): one eth_getBlockReceipts, or one
    eth_getTransactionReceipt per transaction (batched), or nothing for a block without
    transactions. Pure: no I/O, testable without a node. */
#ifndef RECEIPTS_COST_H_INCLUDED
#define RECEIPTS_COST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cost_table.h"

typedef enum {
    RECEIPTS_WAY_NONE,     //  no transactions: no receipts to fetch
    RECEIPTS_WAY_BLOCK,    //  one eth_getBlockReceipts
    RECEIPTS_WAY_BY_TX,    //  one eth_getTransactionReceipt per transaction
} receipts_way_t;

typedef struct {
    receipts_way_t way;
    uint64_t by_block;    //  billed units of eth_getBlockReceipts
    uint64_t by_tx;       //  of one eth_getTransactionReceipt per transaction
} receipts_choice_t;

//  The way for a block of tx_count transactions under costs (NULL: one unit a call): by
//  transaction only when strictly cheaper (a tie goes to the one call).
receipts_choice_t receipts_cost_choose (const cost_table_t *costs, size_t tx_count);
//  Whether some block of at least one transaction costs less by transaction: only then is
//  it worth fetching the block first, to count its transactions, and its receipts after
//  it (a second round trip) rather than both in one batch.
bool receipts_cost_by_tx_pays (const cost_table_t *costs);
//  "none", "eth_getBlockReceipts", "eth_getTransactionReceipt".
const char *receipts_way_name (receipts_way_t way);

void receipts_cost_test (bool verbose);

#endif
