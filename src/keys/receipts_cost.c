/*  receipts_cost: the cheapest way to fetch a block's receipts (see receipts_cost.h). */
#include "evmtap.h"
#include "receipts_cost.h"
#include <inttypes.h>

//  Billed units of one call of method: the table's, one without a table.
static uint64_t
s_units (const cost_table_t *costs, const char *method)
{
    return costs ? cost_table_units (costs, method) : 1;
}

receipts_choice_t
receipts_cost_choose (const cost_table_t *costs, size_t tx_count)
{
    receipts_choice_t choice;
    choice.by_block = s_units (costs, "eth_getBlockReceipts");
    choice.by_tx = (uint64_t) tx_count * s_units (costs, "eth_getTransactionReceipt");
    if (tx_count == 0)
        choice.way = RECEIPTS_WAY_NONE;
    else
        choice.way = choice.by_tx < choice.by_block ? RECEIPTS_WAY_BY_TX : RECEIPTS_WAY_BLOCK;
    return choice;
}

bool
receipts_cost_by_tx_pays (const cost_table_t *costs)
{
    //  The cost by transaction grows with the count: one transaction is the best case.
    return receipts_cost_choose (costs, 1).way == RECEIPTS_WAY_BY_TX;
}

const char *
receipts_way_name (receipts_way_t way)
{
    return way == RECEIPTS_WAY_NONE    ? "none"
           : way == RECEIPTS_WAY_BLOCK ? "eth_getBlockReceipts"
                                       : "eth_getTransactionReceipt";
}

void
receipts_cost_test (bool verbose)
{
    char err [256];
    cost_table_t *infura = cost_table_new ("infura", err, sizeof (err));
    cost_table_t *alchemy = cost_table_new ("alchemy", err, sizeof (err));
    cost_table_t *requests = cost_table_new ("requests", err, sizeof (err));
    assert (infura && alchemy && requests);
    //  Infura: 80 a transaction against 1,000: 12 x 80 = 960 < 1000, 13 x 80 = 1040.
    assert (receipts_cost_by_tx_pays (infura));
    assert (receipts_cost_choose (infura, 0).way == RECEIPTS_WAY_NONE);
    assert (receipts_cost_choose (infura, 1).way == RECEIPTS_WAY_BY_TX);
    receipts_choice_t choice = receipts_cost_choose (infura, 12);
    assert (choice.way == RECEIPTS_WAY_BY_TX && choice.by_tx == 960 && choice.by_block == 1000);
    choice = receipts_cost_choose (infura, 13);
    assert (choice.way == RECEIPTS_WAY_BLOCK && choice.by_tx == 1040);
    assert (receipts_cost_choose (infura, 250).way == RECEIPTS_WAY_BLOCK);
    //  Alchemy: 20 against 20 a transaction: never cheaper by transaction.
    assert (!receipts_cost_by_tx_pays (alchemy));
    assert (receipts_cost_choose (alchemy, 1).way == RECEIPTS_WAY_BLOCK);
    assert (receipts_cost_choose (alchemy, 0).way == RECEIPTS_WAY_NONE);
    //  Plain requests (and no table): a tie at one transaction goes to the one call.
    assert (!receipts_cost_by_tx_pays (requests) && !receipts_cost_by_tx_pays (NULL));
    assert (receipts_cost_choose (NULL, 1).way == RECEIPTS_WAY_BLOCK);
    //  A tie in a table of its own: 4 x 250 = 1000 goes to eth_getBlockReceipts.
    cost_table_t *tie = cost_table_parse ("name = t\nunit = u\neth_getBlockReceipts = 1000\n"
                                          "eth_getTransactionReceipt = 250\n",
                                          "tie", err, sizeof (err));
    assert (tie && receipts_cost_choose (tie, 3).way == RECEIPTS_WAY_BY_TX);
    assert (receipts_cost_choose (tie, 4).way == RECEIPTS_WAY_BLOCK);
    assert (streq (receipts_way_name (RECEIPTS_WAY_BY_TX), "eth_getTransactionReceipt"));
    if (verbose)
        printf ("infura: by transaction below %" PRIu64 " transactions\n",
                cost_table_units (infura, "eth_getBlockReceipts")
                    / cost_table_units (infura, "eth_getTransactionReceipt"));
    cost_table_destroy (&tie);
    cost_table_destroy (&infura);
    cost_table_destroy (&alchemy);
    cost_table_destroy (&requests);
}
