/*  chain_rlp: the RLP forms Ethereum hashes, built from the JSON-RPC objects a node answers
    with (cJSON, as fetched): a block header in every layout from Frontier to Prague, a
    transaction's signed envelope (legacy with or without EIP-155, and types 1 to 4), a
    withdrawal, a receipt's consensus form (status or pre-Byzantium root, cumulative gas,
    bloom, logs, by type). Nothing is trusted
    but the fields the consensus form holds: `hash`, `from` and the like are not read. */
#ifndef CHAIN_RLP_H_INCLUDED
#define CHAIN_RLP_H_INCLUDED

#include "evmtap.h"
#include "rlp.h"

#define CHAIN_BLOOM_SIZE 256

//  What an encoder made of an object it was given.
typedef enum {
    CHAIN_RLP_OK = 0,            //  encoded
    CHAIN_RLP_MALFORMED = -1,    //  a field is missing or not what its type says (err names it)
    CHAIN_RLP_UNKNOWN = -2,      //  well formed, but of a type evmtap cannot encode (err names it)
} chain_rlp_rc_t;

//  Each encoder resets rlp and leaves the encoding in it; on failure writes why into err
//  (err_size bytes, the field by its JSON-RPC name) and the contents of rlp are undefined.

//  RLP(header) of a block object: keccak of it is the block's hash. The optional fields
//  that later forks appended (baseFeePerGas, withdrawalsRoot, blobGasUsed, excessBlobGas,
//  parentBeaconBlockRoot, requestsHash) are taken when present, each only after all those
//  before it.
chain_rlp_rc_t chain_rlp_header (rlp_t *rlp, const cJSON *block, char *err, size_t err_size);

//  The signed envelope of a transaction object: RLP of the legacy list, or the type byte
//  and RLP of the typed list. keccak of it is the transaction's hash; it is the value of
//  the transactions trie. A type above 4 is CHAIN_RLP_UNKNOWN.
chain_rlp_rc_t chain_rlp_transaction (rlp_t *rlp, const cJSON *tx, char *err, size_t err_size);

//  The network form of a blob transaction (EIP-4844) that carries its sidecar (`blobs`,
//  `commitments`, `proofs`, as anvil returns them): 0x03 || RLP([envelope list, blobs,
//  commitments, proofs]). CHAIN_RLP_UNKNOWN for any other transaction.
chain_rlp_rc_t chain_rlp_blob_network (rlp_t *rlp, const cJSON *tx, char *err, size_t err_size);
//  RLP of a withdrawal object (index, validatorIndex, address, amount).
chain_rlp_rc_t chain_rlp_withdrawal (rlp_t *rlp, const cJSON *withdrawal, char *err,
                                     size_t err_size);

//  The consensus form of a receipt object, as the receipts trie holds it (the type byte
//  first for a typed one). The receipt's own logsBloom is encoded as given.
chain_rlp_rc_t chain_rlp_receipt (rlp_t *rlp, const cJSON *receipt, char *err, size_t err_size);

void chain_rlp_test (bool verbose);

#endif
