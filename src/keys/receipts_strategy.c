/*  receipts_strategy: the way to a block's receipts, and the memory of a node without
    eth_getBlockReceipts. */
#include "evmtap.h"
#include "receipts_strategy.h"

struct _receipts_strategy_t {
    const cost_table_t *costs;
    bool no_block_receipts;    //  the node answered -32601 to eth_getBlockReceipts
};

receipts_strategy_t *
receipts_strategy_new (const cost_table_t *costs)
{
    receipts_strategy_t *self = (receipts_strategy_t *) zmalloc (sizeof (receipts_strategy_t));
    assert (self);
    self->costs = costs;
    return self;
}

void
receipts_strategy_destroy (receipts_strategy_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
receipts_strategy_batched (receipts_strategy_t *self, bool by_hash, bool fits_one_second)
{
    return !by_hash && !self->no_block_receipts && !receipts_cost_by_tx_pays (self->costs)
           && fits_one_second;
}

receipts_way_t
receipts_strategy_way (receipts_strategy_t *self, size_t tx_count, bool batched,
                       receipts_choice_t *choice)
{
    memset (choice, 0, sizeof (*choice));
    if (self->no_block_receipts)
        return RECEIPTS_WAY_BY_TX;
    *choice = receipts_cost_choose (self->costs, tx_count);
    return batched ? RECEIPTS_WAY_BLOCK : choice->way;
}

void
receipts_strategy_no_block_receipts (receipts_strategy_t *self)
{
    self->no_block_receipts = true;
}

void
receipts_strategy_test (bool verbose)
{
    if (verbose)
        printf (" * receipts_strategy: ");
    receipts_choice_t choice;
    //  One unit a call: batched whenever both fit; an empty block needs no call.
    receipts_strategy_t *self = receipts_strategy_new (NULL);
    assert (receipts_strategy_batched (self, false, true));
    assert (!receipts_strategy_batched (self, false, false));
    assert (!receipts_strategy_batched (self, true, true));
    assert (receipts_strategy_way (self, 5, true, &choice) == RECEIPTS_WAY_BLOCK);
    assert (receipts_strategy_way (self, 5, false, &choice) == RECEIPTS_WAY_BLOCK);
    assert (receipts_strategy_way (self, 0, false, &choice) == RECEIPTS_WAY_NONE);
    //  -32601: by transaction, never batched again.
    receipts_strategy_no_block_receipts (self);
    assert (!receipts_strategy_batched (self, false, true));
    assert (receipts_strategy_way (self, 5, false, &choice) == RECEIPTS_WAY_BY_TX);
    assert (choice.by_block == 0 && choice.by_tx == 0);
    receipts_strategy_destroy (&self);

    //  Infura: a small block is cheaper by transaction, so the block comes first.
    char err [100];
    cost_table_t *infura = cost_table_new ("infura", err, sizeof (err));
    assert (infura);
    self = receipts_strategy_new (infura);
    assert (!receipts_strategy_batched (self, false, true));
    assert (receipts_strategy_way (self, 2, false, &choice) == RECEIPTS_WAY_BY_TX);
    assert (choice.by_tx < choice.by_block);
    assert (receipts_strategy_way (self, 200, false, &choice) == RECEIPTS_WAY_BLOCK);
    receipts_strategy_destroy (&self);
    cost_table_destroy (&infura);
    if (verbose)
        printf ("OK\n");
}
