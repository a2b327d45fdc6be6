/*  hexutil: 0x-hex quantities and data as JSON-RPC writes them. Quantities go to uint64
    or to exact decimal strings (up to 256 bits); data is checked and lower-cased. */
#ifndef HEXUTIL_H_INCLUDED
#define HEXUTIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The largest integer a JSON number holds exactly (2^53 - 1): quantities up to it are
//  written as numbers, and every reader of evmtap's records may rely on that bound.
#define HEX_NUMBER_MAX 9007199254740991ull

//  Lengths of a 0x-hex hash (32 bytes) and address (20 bytes), without a NUL.
#define HEX_HASH_LEN 66
#define HEX_ADDRESS_LEN 42

//  Longest decimal string of a 256-bit value, with its terminating NUL.
#define HEX_DECIMAL_MAX 80

//  Parses a quantity ("0x0", "0x1a"; leading zeros tolerated, upper case too) into
//  *value. Returns 0, or -1 when it is not hex or does not fit in 64 bits.
int hex_to_u64 (const char *hex, uint64_t *value);

//  Writes the exact decimal form of a quantity of up to 256 bits into out
//  (at least HEX_DECIMAL_MAX bytes). Returns 0, or -1 when not hex or wider than 256 bits.
int hex_to_decimal (const char *hex, char *out, size_t out_size);

//  Writes the exact decimal form of a 32-byte big-endian word (unsigned) and a NUL into
//  out, which HEX_DECIMAL_MAX bytes always suffice for. Returns the digit count, or -1
//  (out untouched) when out_size is too small. Shared with the ABI decoder.
int hex_word_to_decimal (const uint8_t word [32], char *out, size_t out_size);

//  Writes value in decimal and a NUL into out (at least 21 bytes); returns the digit
//  count. Shared with jsonw so that no integer goes through printf.
size_t hex_u64_to_decimal (uint64_t value, char *out);

//  True when text is "0x" followed by hex digits only (any case, any length, maybe none).
bool hex_is_valid (const char *text);

//  Copies text into out lower-cased (out needs strlen(text)+1 bytes).
void hex_lower (const char *text, char *out);

//  Decodes "0x..."/"..." hex with an even digit count into bytes. Returns the byte count,
//  or -1 when malformed or larger than out_size.
int hex_decode (const char *hex, uint8_t *out, size_t out_size);

//  hex_decode of the len bytes at hex, which need not be NUL-terminated (a transaction's
//  input inside the record's text, a key inside a line): a NUL among them is no digit.
int hex_decode_len (const char *hex, size_t len, uint8_t *out, size_t out_size);

//  Writes "0x" and 2*size lowercase digits into out (2*size+3 bytes).
void hex_encode (const uint8_t *data, size_t size, char *out);

void hexutil_test (bool verbose);

#endif
