/*  cost_table: what one JSON-RPC call costs in a provider's own units (plain requests,
    Infura credits, Alchemy compute units), so that --key-rps and --key-daily are budgets in
    the units the provider limits and bills. A call has billed units (what the daily quota
    and the bill count) and throughput units (what the per-second limit counts; the billed
    ones unless the provider lists others, as Alchemy does for eth_getBlockReceipts), and
    what it is billed depends on how it was answered (Infura bills no 429 or 402 and 5
    credits for another 4xx). Tables are small text files, one `setting = value` a line
    (docs/config.md "Cost tables"); the shipped ones (config/costs/NAME.cfg) are built in
    by the build, so the binary needs no file at run time. A table never changes once
    made: workers each hold their own copy. */
#ifndef COST_TABLE_H_INCLUDED
#define COST_TABLE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _cost_table_t cost_table_t;

//  A built-in table ("requests", "infura", "alchemy") or, when name_or_path is none of
//  those, the file at that path. NULL name means "requests". Returns NULL with
//  "FILE:LINE: reason" (or the unknown name) in err.
cost_table_t *cost_table_new (const char *name_or_path, char *err, size_t err_size);
//  Parses a table from text; origin names it in errors.
cost_table_t *cost_table_parse (const char *text, const char *origin, char *err, size_t err_size);
cost_table_t *cost_table_dup (const cost_table_t *self);
void cost_table_destroy (cost_table_t **self_p);

//  Billed units of one call of method answered normally (the table's default for a
//  method it does not list).
uint64_t cost_table_units (const cost_table_t *self, const char *method);
//  Units one call of method counts against the provider's per-second limit.
uint64_t cost_table_throughput (const cost_table_t *self, const char *method);
//  Billed units of one call of method given how it was answered: http_status 0 (no
//  answer known: a transport failure) or 2xx costs the method's units, another status
//  what the table's error rules say (the exact code, else its class, else the method's
//  units). Callers pass 429 for a JSON-RPC rate-limit answer and 402 for a quota answer
//  that came inside an HTTP 200.
uint64_t cost_table_answer_units (const cost_table_t *self, const char *method, int http_status);
//  The most one call of method can be billed, however it is answered: what is journaled
//  before it is sent, so that a crash before the answer never under-counts.
uint64_t cost_table_bound (const cost_table_t *self, const char *method);
const char *cost_table_name (const cost_table_t *self);
const char *cost_table_unit (const cost_table_t *self);
//  True when the provider's daily budget resets at 00:00 UTC (Infura); false when it is a
//  sliding 24 h.
bool cost_table_daily_utc (const cost_table_t *self);

void cost_table_test (bool verbose);

#endif
