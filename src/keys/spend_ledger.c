/*  spend_ledger: journaled units against billed ones, per method of a request. */
#include "evmtap.h"
#include "spend_ledger.h"
#include "keypool_store.h"

typedef struct {
    char key [KEYPOOL_KEY_SIZE];    //  the journal key it was journaled under
    uint64_t minute;                //  the minute it was journaled in
    const char *method;             //  borrowed: the caller's, for the request's life
    uint64_t journaled;             //  units: the most its calls may be billed
    uint64_t billed;                //  what their answers cost, summed as they are read
} s_spent_t;

struct _spend_ledger_t {
    const cost_table_t *costs;
    s_spent_t spent [SPEND_LEDGER_METHODS];
    size_t count;
};

spend_ledger_t *
spend_ledger_new (const cost_table_t *costs)
{
    spend_ledger_t *self = (spend_ledger_t *) zmalloc (sizeof (spend_ledger_t));
    assert (self);
    self->costs = costs;
    return self;
}

void
spend_ledger_destroy (spend_ledger_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
spend_ledger_clear (spend_ledger_t *self)
{
    self->count = 0;
}

void
spend_ledger_journaled (spend_ledger_t *self, const char *key, uint64_t minute, const char *method,
                        uint64_t units)
{
    //  One batch may hold a method several times (a proxy probe's storage slots): one
    //  entry per method, key and minute, as the journal counts them.
    for (size_t index = 0; index < self->count; index++) {
        s_spent_t *spent = &self->spent [index];
        if (streq (spent->method, method) && streq (spent->key, key) && spent->minute == minute) {
            spent->journaled += units;
            return;
        }
    }
    assert (self->count < SPEND_LEDGER_METHODS);
    s_spent_t *spent = &self->spent [self->count++];
    snprintf (spent->key, sizeof (spent->key), "%s", key);
    spent->minute = minute;
    spent->method = method;
    spent->journaled = units;
    spent->billed = 0;
}

void
spend_ledger_bill (spend_ledger_t *self, const char *method, int status)
{
    //  The first entry of the method with units left takes the answer, else its last one.
    s_spent_t *target = NULL;
    for (size_t index = 0; index < self->count; index++) {
        s_spent_t *spent = &self->spent [index];
        if (!streq (spent->method, method))
            continue;
        target = spent;
        if (spent->billed < spent->journaled)
            break;
    }
    if (target)
        target->billed += self->costs ? cost_table_answer_units (self->costs, method, status) : 1;
}

size_t
spend_ledger_count (spend_ledger_t *self)
{
    return self->count;
}

uint64_t
spend_ledger_refund (spend_ledger_t *self, size_t index, const char **key, const char **method,
                     uint64_t *minute)
{
    assert (index < self->count);
    const s_spent_t *spent = &self->spent [index];
    *key = spent->key;
    *method = spent->method;
    *minute = spent->minute;
    return spent->journaled > spent->billed ? spent->journaled - spent->billed : 0;
}

uint64_t
spend_ledger_billed (spend_ledger_t *self, size_t index)
{
    assert (index < self->count);
    return self->spent [index].billed;
}

void
spend_ledger_test (bool verbose)
{
    if (verbose)
        printf (" * spend_ledger: ");
    spend_ledger_t *self = spend_ledger_new (NULL);
    const char *key, *method;
    uint64_t minute;
    //  One unit a call: three journaled, two answers read, one refunded.
    spend_ledger_journaled (self, "k1", 7, "eth_getTransactionReceipt", 3);
    spend_ledger_bill (self, "eth_getTransactionReceipt", 200);
    spend_ledger_bill (self, "eth_getTransactionReceipt", 200);
    spend_ledger_bill (self, "eth_other", 200);
    assert (spend_ledger_count (self) == 1);
    assert (spend_ledger_refund (self, 0, &key, &method, &minute) == 1);
    assert (spend_ledger_billed (self, 0) == 2);
    assert (streq (key, "k1") && streq (method, "eth_getTransactionReceipt") && minute == 7);
    spend_ledger_clear (self);
    assert (spend_ledger_count (self) == 0);
    //  A proxy probe's batch: one method three times and another once, journaled call by
    //  call under one key and minute, make two entries; each answer is billed to its own.
    for (int slot = 0; slot < 3; slot++)
        spend_ledger_journaled (self, "k1", 9, "eth_getStorageAt", 1);
    spend_ledger_journaled (self, "k1", 9, "eth_getCode", 1);
    assert (spend_ledger_count (self) == 2);
    for (int slot = 0; slot < 3; slot++)
        spend_ledger_bill (self, "eth_getStorageAt", 200);
    spend_ledger_bill (self, "eth_getCode", 200);
    assert (spend_ledger_refund (self, 0, &key, &method, &minute) == 0);
    assert (streq (method, "eth_getStorageAt"));
    assert (spend_ledger_refund (self, 1, &key, &method, &minute) == 0);
    spend_ledger_clear (self);
    //  A minute turning within a request: the method's answers fill its first entry, then
    //  the next; nothing is refunded that was billed.
    spend_ledger_journaled (self, "k1", 9, "eth_getStorageAt", 2);
    spend_ledger_journaled (self, "k1", 10, "eth_getStorageAt", 1);
    for (int slot = 0; slot < 3; slot++)
        spend_ledger_bill (self, "eth_getStorageAt", 200);
    assert (spend_ledger_refund (self, 0, &key, &method, &minute) == 0 && minute == 9);
    assert (spend_ledger_refund (self, 1, &key, &method, &minute) == 0 && minute == 10);
    spend_ledger_clear (self);
    spend_ledger_destroy (&self);

    //  Infura bills a 402 nothing: what was journaled for it comes back; a call that got
    //  no answer (0) is billed in full, and billed beyond the journal refunds nothing.
    char err [100];
    cost_table_t *infura = cost_table_new ("infura", err, sizeof (err));
    assert (infura);
    self = spend_ledger_new (infura);
    uint64_t bound = cost_table_bound (infura, "eth_getBlockByNumber");
    spend_ledger_journaled (self, "k2", 8, "eth_getBlockByNumber", bound);
    spend_ledger_journaled (self, "k2", 8, "eth_getBlockReceipts",
                            cost_table_bound (infura, "eth_getBlockReceipts"));
    spend_ledger_bill (self, "eth_getBlockByNumber", 402);
    spend_ledger_bill (self, "eth_getBlockReceipts", 0);
    assert (spend_ledger_count (self) == 2);
    assert (spend_ledger_refund (self, 0, &key, &method, &minute)
            == bound - cost_table_answer_units (infura, "eth_getBlockByNumber", 402));
    assert (spend_ledger_refund (self, 1, &key, &method, &minute) == 0);
    assert (streq (method, "eth_getBlockReceipts"));
    spend_ledger_destroy (&self);
    cost_table_destroy (&infura);
    if (verbose)
        printf ("OK\n");
}
