/*  watch_match: the watchlists of a run (`--watchlist`, each a watchlist_t) and the
    matching of one block's records against them, for DESIGN's "Alert": a transaction's
    `from` and `to`, a deployment's created address (`created`), every address argument of
    its decoded call at any depth (`arg:<path>`: `arg:to`, `arg:params.recipient`,
    `arg:path[2]`) and the parties of its token transfers (`transfer`). Matches gather per
    (transaction, list, address) until watch_match_flush writes one alert record for each,
    with every place it matched in `matchedIn`, in the order found. One matcher belongs to
    one thread; its lists never change once loaded (a reload makes a new matcher). */
#ifndef WATCH_MATCH_H_INCLUDED
#define WATCH_MATCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"

typedef struct _watch_match_t watch_match_t;

//  Loads every list (all or none). Two lists of the same name are refused. Returns NULL
//  with the reason in err (a malformed line as FILE:LINE).
watch_match_t *watch_match_load (char *const *paths, size_t count, char *err, size_t err_size);
void watch_match_destroy (watch_match_t **self_p);

//  How many lists, and addresses on all of them.
size_t watch_match_lists (const watch_match_t *self);
size_t watch_match_addresses (const watch_match_t *self);

//  Matches a transaction record (any kind, as the classifier publishes it): `from`, `to`,
//  and for a deployment (`to` null) the created address: the receipt's contractAddress,
//  else the one `from` and `nonce` give (CREATE).
void watch_match_tx (watch_match_t *self, const char *json, size_t len);

//  Matches the address arguments of a "Decoded call" record (its `signature` types walked
//  with its `args`); records not decoded have none.
void watch_match_call (watch_match_t *self, const char *json, size_t len);

//  Matches the `from` and `to` of a "Token transfer" record.
void watch_match_transfer (watch_match_t *self, const char *json, size_t len);

//  Appends one <chain>.alerts.watchlist record per match gathered since the last flush to
//  batch (its chain, id, number and hash fill the record) and forgets them. Returns how
//  many it added.
size_t watch_match_flush (watch_match_t *self, batch_t *batch);

void watch_match_test (bool verbose);

#endif
