/*  state_call: one view call of a state watcher (DESIGN "state_watcher"), made from the
    text a user writes in the config (`getReserves()`, `balanceOf(0x70997970...)`) and a
    contract's ABI: the function of that name and argument count, its calldata with the
    literal arguments ABI-encoded, the arguments as JSON by DESIGN's value rules (encoded,
    then decoded back by the ABI engine, so they read as decoded calls do), and the decoding
    of what the call returns by the function's outputs. Read-only once made. */
#ifndef STATE_CALL_H_INCLUDED
#define STATE_CALL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "abi.h"
#include "jsonw.h"

typedef struct _state_call_t state_call_t;

//  Parses "name(arg, ...)" against abi (borrowed, only while this runs). Literals:
//  integers in decimal (negative for intN) or 0x hex, addresses as 0x and 40 hex digits,
//  true/false, bytesN and bytes as 0x hex, strings in double quotes (no escapes). Returns
//  NULL with the reason in err: no such function, several of that name and arity, a
//  literal that does not fit its type, a function that returns nothing.
state_call_t *state_call_new (abi_t *abi, const char *text, char *err, size_t err_size);
void state_call_destroy (state_call_t **self_p);

//  The bare name ("getReserves") and the canonical signature ("getReserves()").
const char *state_call_function (state_call_t *self);
const char *state_call_signature (state_call_t *self);
//  The calldata: selector and encoded arguments (borrowed).
const uint8_t *state_call_data (state_call_t *self, size_t *size);
//  The arguments as a JSON object text, by parameter name (argN when unnamed).
const char *state_call_args (state_call_t *self);

//  Writes what the call returned (data: the eth_call result's bytes) as a JSON object by
//  output name (argN when unnamed). Returns 0, or -1 with the reason in err (the writer
//  then holds a partial value: reset it).
int state_call_outputs (state_call_t *self, const uint8_t *data, size_t size, jsonw_t *writer,
                        char *err, size_t err_size);

//  The reason of a revert's data into out: the string of Error(string), "panic 0x.." for
//  Panic(uint256), "reverted" when empty, else "reverted with 0x.." (cut to out_size).
void state_call_revert_reason (const uint8_t *data, size_t size, char *out, size_t out_size);

void state_call_test (bool verbose);

#endif
