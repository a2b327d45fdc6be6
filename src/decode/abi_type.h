/*  abi_type: the Solidity ABI type grammar as a tree: uintN/intN (every width from 8 to
    256), address, bool, bytesN, bytes, string, function (bytes24), fixed-length and dynamic
    arrays, and tuples, nested to any depth up to ABI_TYPE_MAX_DEPTH. A type is parsed from
    its text (`(uint256,(address,bytes)[])[2]`, names and `indexed` allowed in tuples as
    signature files write them) or built from ABI JSON, and printed back canonically
    (`uint` is `uint256`, names dropped), which is what selectors and topics hash. */
#ifndef ABI_TYPE_H_INCLUDED
#define ABI_TYPE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Deeper nesting than this is refused: no real contract comes close, and the decoder
//  recurses once per level.
#define ABI_TYPE_MAX_DEPTH 32
//  Tuples with more components are refused (Solidity stops far below).
#define ABI_TYPE_MAX_COMPONENTS 1024
//  Static types larger than this (e.g. uint256[1000000000]) cannot be in any calldata.
#define ABI_TYPE_MAX_STATIC_SIZE (1u << 24)

typedef enum {
    ABI_UINT,    //  size: bits, 8..256 by 8
    ABI_INT,     //  size: bits
    ABI_ADDRESS,
    ABI_BOOL,
    ABI_BYTES_FIXED,    //  size: bytes, 1..32 (function is bytes24 named "function")
    ABI_BYTES,
    ABI_STRING,
    ABI_ARRAY,          //  element[]
    ABI_ARRAY_FIXED,    //  element[length]
    ABI_TUPLE           //  components, with names
} abi_kind_t;

typedef struct _abi_type_t abi_type_t;

//  A plain tree: the decoder walks it directly. Built and freed only through the calls
//  below, which keep the cached fields (dynamic, head_size, depth) right.
struct _abi_type_t {
    abi_kind_t kind;
    unsigned size;              //  bits of uintN/intN, bytes of bytesN
    bool is_function;           //  bytes24 written as "function"
    size_t length;              //  ABI_ARRAY_FIXED: the element count
    abi_type_t *element;        //  arrays: the element type (owned)
    size_t count;               //  ABI_TUPLE: the component count
    abi_type_t **components;    //  ABI_TUPLE: count component types (owned)
    char **names;               //  ABI_TUPLE: count names, "" when unnamed (owned)
    bool *indexed;              //  ABI_TUPLE: count flags, set by "indexed" in the text
    bool all_named;             //  ABI_TUPLE: every component has a distinct name
    bool dynamic;               //  encoded with an offset in its parent's head
    size_t head_size;           //  bytes in the parent's head: 32 if dynamic, else static size
    unsigned depth;             //  1 for elementary types
};

//  Parses a type ("uint", "bytes32[]", "(uint256 amount,address)[2]"). Returns a new type,
//  or NULL with the reason in err.
abi_type_t *abi_type_parse (const char *text, char *err, size_t err_size);

//  Parses len bytes of text as a type (the text need not end there).
abi_type_t *abi_type_parse_len (const char *text, size_t len, char *err, size_t err_size);

//  A new tuple of count components, each set once with abi_type_tuple_set.
abi_type_t *abi_type_tuple_new (size_t count);

//  Sets component index of a tuple: takes the type, copies the name (NULL or "" when
//  unnamed). Call abi_type_tuple_done once all are set.
void abi_type_tuple_set (abi_type_t *self, size_t index, abi_type_t **type_p, const char *name,
                         bool indexed);

//  Computes a tuple's cached fields once its components are set. Returns 0, or -1 with
//  the reason in err when it is too deep or too large (the tuple is still destroyable).
int abi_type_tuple_done (abi_type_t *self, char *err, size_t err_size);

//  Wraps type in the array suffixes of text ("", "[]", "[2][]"): how ABI JSON writes
//  "tuple[2][]". Takes the type; returns the result, or NULL with err (type destroyed).
abi_type_t *abi_type_wrap_arrays (abi_type_t **type_p, const char *suffixes, char *err,
                                  size_t err_size);

void abi_type_destroy (abi_type_t **self_p);

//  Writes the canonical text of the type into out (NUL-terminated). For a tuple this is
//  "(a,b)", which is what follows a function's name. Returns the length, or -1 when
//  out_size is too small.
int abi_type_canonical (const abi_type_t *self, char *out, size_t out_size);

void abi_type_test (bool verbose);

#endif
