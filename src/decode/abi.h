/*  abi: a contract's ABI from its JSON (functions, events and errors; a bare array, or an
    object with an "abi" member as compilers write artifacts), with each entry's canonical
    signature and its selector (functions, errors) or topic0 (events) by Keccak-256. Entries
    are also made from signature text ("transfer(address to,uint256)") for signature files. */
#ifndef ABI_H_INCLUDED
#define ABI_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi_type.h"

typedef enum { ABI_FUNCTION, ABI_EVENT, ABI_ERROR } abi_entry_kind_t;

//  One function, event or error. Read-only once made.
typedef struct {
    abi_entry_kind_t kind;
    char *name;             //  bare name, e.g. "transfer"
    char *signature;        //  canonical, e.g. "transfer(address,uint256)"
    uint8_t hash [32];      //  Keccak-256 of signature: selector = hash[0..3], topic0
    abi_type_t *inputs;     //  a tuple with parameter names and indexed flags
    abi_type_t *outputs;    //  functions from ABI JSON: the return values (a tuple), else NULL
    bool anonymous;         //  events: no topic0
} abi_entry_t;

typedef struct _abi_t abi_t;

//  Parses ABI JSON text. Returns a new abi, or NULL with the reason in err.
abi_t *abi_parse (const char *json, size_t len, char *err, size_t err_size);

//  Reads and parses a file; the reason names the file.
abi_t *abi_load (const char *path, char *err, size_t err_size);

void abi_destroy (abi_t **self_p);

size_t abi_size (abi_t *self);
//  The index-th entry in file order (borrowed).
const abi_entry_t *abi_entry (abi_t *self, size_t index);

//  The function whose selector is the 4 bytes given, or NULL.
const abi_entry_t *abi_find_function (abi_t *self, const uint8_t selector [4]);
//  The (not anonymous) event whose topic0 is the 32 bytes given, or NULL.
const abi_entry_t *abi_find_event (abi_t *self, const uint8_t topic0 [32]);

//  Makes an entry from signature text, "name(type [indexed] [name],...)", computing the
//  canonical signature and its hash. Returns NULL with the reason in err when malformed.
abi_entry_t *abi_entry_parse (abi_entry_kind_t kind, const char *text, size_t len, char *err,
                              size_t err_size);

void abi_entry_destroy (abi_entry_t **self_p);

void abi_test (bool verbose);

#endif
