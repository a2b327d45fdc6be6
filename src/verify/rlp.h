/*  rlp: Recursive Length Prefix, the serialisation Ethereum hashes: block headers,
    transaction envelopes, receipts and trie nodes. The encoder builds one item at a time in
    a growing buffer (lists are opened and closed around their items); the decoder reads one
    item and refuses every non-canonical form, so that decoding and encoding again gives the
    same bytes. Written by hand: Debian packages no RLP library for C. */
#ifndef RLP_H_INCLUDED
#define RLP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rlp_t rlp_t;

//  Deepest nesting of open lists the encoder keeps (a header is one level, an access list
//  three).
#define RLP_MAX_DEPTH 16

rlp_t *rlp_new (void);
void rlp_destroy (rlp_t **self_p);

//  Empties the buffer for the next item; keeps its memory.
void rlp_reset (rlp_t *self);

//  Appends a byte string.
void rlp_add_bytes (rlp_t *self, const uint8_t *data, size_t size);

//  Appends an unsigned integer: big-endian, no leading zero byte, 0 as the empty string.
void rlp_add_uint (rlp_t *self, uint64_t value);

//  Appends already encoded RLP (an embedded trie node) as it is.
void rlp_add_raw (rlp_t *self, const uint8_t *data, size_t size);

//  Appends the bytes of 0x-hex data with an even digit count ("0x" is the empty string);
//  with want_size > 0 the data must be exactly that many bytes. Returns 0, or -1 (nothing
//  appended) when it is not such hex.
int rlp_add_hex_data (rlp_t *self, const char *hex, size_t want_size);

//  Appends a 0x-hex quantity of up to 256 bits as an integer ("0x0" is the empty string;
//  leading zero digits are dropped, an odd digit count is fine). Returns 0 or -1.
int rlp_add_hex_uint (rlp_t *self, const char *hex);

//  Opens a list; the items appended until rlp_list_end are its payload.
void rlp_list_begin (rlp_t *self);
void rlp_list_end (rlp_t *self);

//  The encoding so far (every list closed): borrowed until the next call.
const uint8_t *rlp_data (rlp_t *self);
size_t rlp_size (rlp_t *self);

//  One decoded item: the payload of a string or of a list (whose items rlp_decode reads in
//  turn), and how many bytes the whole item took.
typedef struct {
    const uint8_t *payload;
    size_t size;
    size_t encoded_size;
    bool is_list;
} rlp_item_t;

//  Reads the item at the start of data (size bytes available). Returns 0, or -1 when it is
//  truncated, longer than size or not canonical (a single byte below 0x80 in a string
//  header, a long form for a short payload, a length with leading zeros).
int rlp_decode (const uint8_t *data, size_t size, rlp_item_t *item);

void rlp_test (bool verbose);

#endif
