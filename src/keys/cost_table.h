/*  cost_table: what one JSON-RPC call costs in a provider's own units (plain requests,
    Infura credits, Alchemy compute units), so that --key-rps and --key-daily are budgets in
    the units the provider bills and limits. Tables are small text files (config/costs/ (one .cfg each),
    one `method = units` a line, with `name`, `unit`, `default` and `daily_reset`); the
    three shipped ones are also built in, so the binary needs no file at run time.
    A table never changes once made: workers each hold their own copy. */
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

//  Units one call of method costs (the table's default for a method it does not list).
uint64_t cost_table_units (const cost_table_t *self, const char *method);
const char *cost_table_name (const cost_table_t *self);
const char *cost_table_unit (const cost_table_t *self);
//  True when the provider's daily budget resets at 00:00 UTC (Infura); false when it is a
//  sliding 24 h.
bool cost_table_daily_utc (const cost_table_t *self);

void cost_table_test (bool verbose);

#endif
