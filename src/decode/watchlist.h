/*  watchlist: one named address list (`--watchlist FILE`) as an open-addressing hash set of
    20-byte keys, built for a million addresses and ten million lookups a second on one
    core: a lookup hashes the address's first 8 bytes and probes a flat array, with no
    allocation. The file format: one address per line (0x and 40 hex digits, any case),
    `#` starts a comment, blank lines are skipped; any other line refuses the whole file,
    naming FILE:LINE. A list is immutable once loaded, so one thread may build it while
    another reads the previous one. */
#ifndef WATCHLIST_H_INCLUDED
#define WATCHLIST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _watchlist_t watchlist_t;

//  Parses len bytes of text (the contents of path, which only names the list and the
//  errors). The list's name is path's base name without its extension. Returns the list,
//  or NULL with "PATH:LINE: reason" in err.
watchlist_t *watchlist_parse (const char *path, const char *text, size_t len, char *err,
                              size_t err_size);

//  Reads and parses the file at path. Returns NULL with the reason (naming the file, and
//  the line when one is malformed) in err.
watchlist_t *watchlist_load (const char *path, char *err, size_t err_size);

void watchlist_destroy (watchlist_t **self_p);

//  True when the 20-byte address is on the list.
bool watchlist_contains (const watchlist_t *self, const uint8_t address [20]);

//  The list's name (the file's base name without extension), borrowed.
const char *watchlist_name (const watchlist_t *self);

//  How many distinct addresses the list holds.
size_t watchlist_size (const watchlist_t *self);

//  The bytes the list takes on the heap (its table and name).
size_t watchlist_memory (const watchlist_t *self);

void watchlist_test (bool verbose);

#endif
