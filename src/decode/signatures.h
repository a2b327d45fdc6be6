/*  signatures: a selector or topic database, `0x<selector><TAB><signature>` per line as
    4byte.directory and the shared data write it: 4-byte function selectors or 32-byte event
    topics, several lines per selector allowed (collisions), kept in file order. Each line is
    checked by Keccak-256 when a lookup first reaches it; lines that do not parse or whose
    selector does not match their signature are skipped and counted, since public databases
    carry some junk. */
#ifndef SIGNATURES_H_INCLUDED
#define SIGNATURES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

typedef struct _signatures_t signatures_t;

//  Loads a file. Returns NULL with the reason in err when it cannot be read or holds no
//  usable line at all.
signatures_t *signatures_load (const char *path, char *err, size_t err_size);

//  Parses text (the file's contents). Same results; name is used in reasons.
signatures_t *signatures_parse (const char *text, size_t len, const char *name, char *err,
                                size_t err_size);

void signatures_destroy (signatures_t **self_p);

//  The entries whose selector is key (4 bytes: functions; 32 bytes: events), in file order,
//  up to max of them into found (borrowed). Returns how many there are in all.
size_t signatures_find (signatures_t *self, const uint8_t *key, size_t key_len,
                        const abi_entry_t **found, size_t max);

//  Well-formed lines loaded, and lines skipped as malformed (at load) or as bad signatures
//  (found so far by lookups).
size_t signatures_size (signatures_t *self);
size_t signatures_skipped (signatures_t *self);

void signatures_test (bool verbose);

#endif
