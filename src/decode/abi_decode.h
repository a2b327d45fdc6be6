/*  abi_decode: decodes ABI-encoded values (calldata after the selector, event data and
    topics) into JSON with DESIGN's value rules. Every offset and length is checked against
    the data before it is used, so hostile input gives an error and a reason, never an
    over-read or a large allocation. Layouts that are not canonical (offsets out of order,
    gaps, shared tails) decode when they stay in bounds; what lies after the highest byte
    read is reported as trailing. */
#ifndef ABI_DECODE_H_INCLUDED
#define ABI_DECODE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi_type.h"
#include "jsonw.h"

//  Writes the values of params (a tuple: a function's or error's inputs) decoded from data
//  as one JSON object, keyed by parameter name or argN when unnamed. *end gets the offset
//  just past the last byte the values use (data from there on is trailing). Returns 0, or
//  -1 with the reason in err; on -1 the writer holds a partial value and must be reset.
int abi_decode_args (const abi_type_t *params, const uint8_t *data, size_t size, jsonw_t *writer,
                     size_t *end, char *err, size_t err_size);

//  Decodes an event's values: params flagged indexed (by indexed, or by params->indexed
//  when indexed is NULL) come from topics (topic_count words of 32 bytes, without topic0),
//  in order; the others from data. Indexed values of dynamic types (string, bytes, arrays,
//  tuples) are only their Keccak hash and are written as that hash in hex. The topic count
//  must match the indexed count. Same results as above.
int abi_decode_event (const abi_type_t *params, const bool *indexed, const uint8_t (*topics) [32],
                      size_t topic_count, const uint8_t *data, size_t size, jsonw_t *writer,
                      size_t *end, char *err, size_t err_size);

//  Writes the 32-byte big-endian word as an exact decimal (negative when is_signed and the
//  top bit is set, by two's complement) into out (at least 80 bytes). Returns the length.
size_t abi_word_to_decimal (const uint8_t word [32], bool is_signed, char *out);

void abi_decode_test (bool verbose);

#endif
