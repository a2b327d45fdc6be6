/*  receipts_costs: billed units per block with receipts under each cost table, for blocks of
    a few sizes: the way evmtap chooses (src/keys/receipts_cost.c) against always
    eth_getBlockReceipts and always one eth_getTransactionReceipt per transaction. Every
    figure counts the block itself (eth_getBlockByNumber) too, and comes from the tables
    alone: no node, no time. Round trips: 1 when the block and eth_getBlockReceipts go in
    one batch (the chosen way where receipts by transaction never pay), else 1 for the block
    and one per batch of JSONRPC_BATCH_MAX (50) receipt calls.

    Usage: evmtap_bench_receipts_costs [--txs 5,20,250] [TABLE...]
    TABLE: a built-in name or a file in the format of config/costs/ (default: requests
    infura alchemy). */
#include "evmtap.h"
#include "cost_table.h"
#include "receipts_cost.h"
#include <inttypes.h>

#define S_BATCH_MAX 50

//  One table's lines: one per block size.
static void
s_table (const cost_table_t *costs, const size_t *sizes, size_t size_count)
{
    uint64_t block = cost_table_units (costs, "eth_getBlockByNumber");
    uint64_t by_block = cost_table_units (costs, "eth_getBlockReceipts");
    uint64_t per_tx = cost_table_units (costs, "eth_getTransactionReceipt");
    bool two_trips = receipts_cost_by_tx_pays (costs);
    for (size_t index = 0; index < size_count; index++) {
        size_t txs = sizes [index];
        receipts_choice_t choice = receipts_cost_choose (costs, txs);
        uint64_t chosen = block
                          + (choice.way == RECEIPTS_WAY_BLOCK   ? choice.by_block
                             : choice.way == RECEIPTS_WAY_BY_TX ? choice.by_tx
                                                                : 0);
        uint64_t always_block = block + by_block, always_tx = block + txs * per_tx;
        size_t trips = !two_trips                        ? 1
                       : choice.way == RECEIPTS_WAY_NONE ? 1
                       : choice.way == RECEIPTS_WAY_BLOCK
                           ? 2
                           : 1 + (txs + S_BATCH_MAX - 1) / S_BATCH_MAX;
        printf ("%-10s %-14s %5zu  %-26s %8" PRIu64 " %6zu  %12" PRIu64 "  %12" PRIu64
                "  %8.2f  %8.2f\n",
                cost_table_name (costs), cost_table_unit (costs), txs,
                receipts_way_name (choice.way), chosen, trips, always_block, always_tx,
                (double) chosen / (double) always_block, (double) chosen / (double) always_tx);
    }
}

int
main (int argc, char **argv)
{
    size_t sizes [32] = {5, 20, 250}, size_count = 3;
    const char *tables [32] = {"requests", "infura", "alchemy"};
    size_t table_count = 0;
    for (int arg = 1; arg < argc; arg++) {
        if (streq (argv [arg], "--txs") && arg + 1 < argc) {
            size_count = 0;
            for (char *item = strtok (argv [++arg], ","); item && size_count < 32;
                 item = strtok (NULL, ","))
                sizes [size_count++] = (size_t) strtoull (item, NULL, 10);
        }
        else if (streq (argv [arg], "--help") || streq (argv [arg], "-h")) {
            printf ("usage: evmtap_bench_receipts_costs [--txs 5,20,250] [TABLE...]\n");
            return 0;
        }
        else if (table_count < 32)
            tables [table_count++] = argv [arg];
    }
    if (!table_count)
        table_count = 3;
    printf ("billed units per block with receipts (the block's eth_getBlockByNumber included)\n");
    printf ("%-10s %-14s %5s  %-26s %8s %6s  %12s  %12s  %8s  %8s\n", "table", "unit", "txs",
            "chosen way", "chosen", "trips", "always block", "always tx", "/block", "/tx");
    for (size_t index = 0; index < table_count; index++) {
        char err [256];
        cost_table_t *costs = cost_table_new (tables [index], err, sizeof (err));
        if (!costs) {
            fprintf (stderr, "%s\n", err);
            return 2;
        }
        s_table (costs, sizes, size_count);
        cost_table_destroy (&costs);
    }
    return 0;
}
