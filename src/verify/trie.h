/*  trie: the root of the Merkle-Patricia trie Ethereum builds over an ordered list (the
    transactions, receipts and withdrawals of a block): item i is stored under the key
    RLP(i), nodes are RLP lists, a node of 32 bytes or more is referred to by its
    Keccak-256 and a shorter one embedded in its parent. Only the root is computed: no node
    is kept, nothing is looked up. Any keys may be given too (trie_insert), which is how the
    published trie vectors test it. */
#ifndef TRIE_H_INCLUDED
#define TRIE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _trie_t trie_t;

trie_t *trie_new (void);
void trie_destroy (trie_t **self_p);

//  Forgets every item (keeps the memory) for the next list.
void trie_reset (trie_t *self);

//  Appends the next item of the list (copied): its key is RLP(its index).
void trie_append (trie_t *self, const uint8_t *value, size_t size);

//  Stores value under a key of its own (both copied; keys distinct, value not empty: an
//  empty value is no entry in Ethereum's trie). Not to be mixed with trie_append.
void trie_insert (trie_t *self, const uint8_t *key, size_t key_size, const uint8_t *value,
                  size_t size);

//  How many items are in.
size_t trie_count (trie_t *self);

//  Writes the root hash of the items so far into root (the empty list's is
//  keccak(RLP("")) = 0x56e81f...b421).
void trie_root (trie_t *self, uint8_t root [32]);

void trie_test (bool verbose);

#endif
