/*  call_decoder: the decoding policy of DESIGN's "Decoded call" (and "Decoded log" for
    `evmtap decode --log`). Sources, in order: the ABI bound to the contract (a folder's
    addresses.json maps lowercase addresses to ABI files; --abi FILE binds one ABI to every
    address), the folder's other ABIs, then a 4-byte signature file. Among the candidates
    for a selector, the bound ABI's function wins when it decodes in bounds; otherwise the one
    that decodes with the fewest trailing bytes, on a tie the first in that order; the other
    signatures that also decode are listed in `candidates`.

    One decoder belongs to one thread (it keeps scratch buffers). */
#ifndef CALL_DECODER_H_INCLUDED
#define CALL_DECODER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"

typedef enum { CALL_DECODED = 0, CALL_UNKNOWN_SELECTOR = 1, CALL_BAD_CALLDATA = 2 } call_decoding_t;

typedef struct _call_decoder_t call_decoder_t;

//  Loads the sources; any may be NULL. abis_dir: every *.json in it is an ABI, and
//  addresses.json (when present) maps addresses to them. Returns NULL with the reason
//  (naming the file) in err when a source cannot be read or is malformed.
call_decoder_t *call_decoder_new (const char *abis_dir, const char *abi_file,
                                  const char *signatures_file, char *err, size_t err_size);
void call_decoder_destroy (call_decoder_t **self_p);

//  A signature file can hold selectors and topics; the decoder takes this many at most.
#define CALL_SIGNATURE_FILES 4
//  Adds another signature file (e.g. event topics beside the 4-byte selectors), looked up
//  after those already given. Returns 0, or -1 with the reason (naming the file) in err.
int call_decoder_add_signatures (call_decoder_t *self, const char *path, char *err,
                                 size_t err_size);

//  Writes the fields of a decoded call from `to` on (to, selector, decoding, function,
//  signature, args, source, candidates, trailing, reason) into writer, which is inside an
//  object. to is a 0x address or NULL (written as null). Returns the decoding.
call_decoding_t call_decoder_write (call_decoder_t *self, const char *to, const uint8_t *input,
                                    size_t size, jsonw_t *writer);

//  Makes the whole "Decoded call" record of a normalized transaction (a JSON object with
//  hash, blockNumber, blockHash, chainId, to and input, as the classifier publishes it). Returns a heap
//  string (its length in *len), or NULL when the transaction lacks those fields.
char *call_decoder_record (call_decoder_t *self, const char *tx_json, size_t tx_len, size_t *len,
                           call_decoding_t *decoding);

//  call_decoder_record, with the ABI bound to via (a proxy's implementation) in place of
//  the one bound to `to`; when that ABI's function is the one chosen, the record ends with
//  "via": via. via NULL: call_decoder_record.
char *call_decoder_record_via (call_decoder_t *self, const char *tx_json, size_t tx_len,
                               const char *via, size_t *len, call_decoding_t *decoding);

//  True when an ABI is bound to address (addresses.json, or --abi FILE for every address).
bool call_decoder_bound (call_decoder_t *self, const char *address);
//  True when any ABI is bound to an address: only then can a proxy's implementation be.
bool call_decoder_binds_any (call_decoder_t *self);

//  Writes the fields of a decoded log from `address` on (address, topic0, decoding, event,
//  signature, args, source, candidates, trailing, reason): topics[0] is topic0. address may
//  be NULL (left out). Returns the decoding (CALL_UNKNOWN_SELECTOR: no event for topic0;
//  CALL_BAD_CALLDATA: none decodes).
call_decoding_t call_decoder_write_log (call_decoder_t *self, const char *address,
                                        const uint8_t (*topics) [32], size_t topic_count,
                                        const uint8_t *data, size_t size, jsonw_t *writer);

void call_decoder_test (bool verbose);

#endif
