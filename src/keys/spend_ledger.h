/*  spend_ledger: what one request journaled in the key pool, per method, and what its
    answers were billed, so that what was journaled beyond the bill is refunded once the
    answers are read (a call is journaled at the most it may cost before it is sent, so that
    a crash never under-counts). Pure bookkeeping: the fetch worker talks to the pool. */
#ifndef SPEND_LEDGER_H_INCLUDED
#define SPEND_LEDGER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cost_table.h"

typedef struct _spend_ledger_t spend_ledger_t;

//  Entries one request may make: a method, key and minute each; a request spends at most
//  four methods (a proxy probe's batch: its three storage slots and the code).
#define SPEND_LEDGER_METHODS 4

//  costs (borrowed, NULL: one unit a call) prices the answers.
spend_ledger_t *spend_ledger_new (const cost_table_t *costs);
void spend_ledger_destroy (spend_ledger_t **self_p);
//  Forgets the last request: a new one begins.
void spend_ledger_clear (spend_ledger_t *self);
//  Notes that units of method (borrowed for the request's life) were journaled under the
//  journal key in minute.
void spend_ledger_journaled (spend_ledger_t *self, const char *key, uint64_t minute,
                             const char *method, uint64_t units);
//  Adds the bill of one answer to a call of method, by the HTTP status it is billed as (0:
//  no answer came, billed in full).
void spend_ledger_bill (spend_ledger_t *self, const char *method, int status);
//  The methods noted since the last clear; for each, what to refund (0: nothing) and where
//  it was journaled.
size_t spend_ledger_count (spend_ledger_t *self);
uint64_t spend_ledger_refund (spend_ledger_t *self, size_t index, const char **key,
                              const char **method, uint64_t *minute);

//  What the answers of entry index cost, as billed so far.
uint64_t spend_ledger_billed (spend_ledger_t *self, size_t index);
void spend_ledger_test (bool verbose);

#endif
