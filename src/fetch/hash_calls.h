/*  hash_calls: the calls of one method per transaction hash of a block
    (eth_getTransactionByHash for --fetch hashes, eth_getTransactionReceipt for receipts
    from a node without eth_getBlockReceipts) as JSON-RPC batches, sent a group of batches
    at a time: no more calls at once than a key's second holds, or the provider answers
    429 to the whole group every time. It makes each group's bodies and keeps the answers
    to them, a result per hash; sending them (budgets, retries) is the caller's. */
#ifndef HASH_CALLS_H_INCLUDED
#define HASH_CALLS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jsonrpc.h"

//  Batches in one group at most: the bodies posted at once.
#define HASH_CALLS_IN_FLIGHT 8

typedef struct _hash_calls_t hash_calls_t;

//  Calls of method (borrowed) for count hashes of block number (for messages), at most
//  calls_per_second of them at once (0: no limit). The hashes are set one by one.
hash_calls_t *hash_calls_new (const char *method, uint64_t number, size_t count,
                              double calls_per_second);
void hash_calls_destroy (hash_calls_t **self_p);
//  Sets hash number index (borrowed: it must outlive the calls).
void hash_calls_set_hash (hash_calls_t *self, size_t index, const char *hash);
const char *hash_calls_method (hash_calls_t *self);

//  Makes the next group's bodies. Returns false when no group is left.
bool hash_calls_next_group (hash_calls_t *self);
//  The group's bodies (borrowed until the next group) and how many.
const char **hash_calls_bodies (hash_calls_t *self, size_t *count);
//  Calls in all the group's batches.
uint64_t hash_calls_group_calls (hash_calls_t *self);
//  Calls in batch number `batch` of the group.
size_t hash_calls_batch_size (hash_calls_t *self, size_t batch);
//  Takes the parsed answer to batch number `batch` of the group: doc (owned from now on,
//  may be NULL) and answers as jsonrpc_parse_batch gives them. Returns 0, or -1 with
//  *failure the first call that failed or whose result is null (the node knows the block
//  but not yet all of its transactions).
int hash_calls_take (hash_calls_t *self, size_t batch, cJSON *doc, const jsonrpc_answer_t *answers,
                     jsonrpc_answer_t *failure);
//  Forgets what the group's answers gave so far, to send the group again.
void hash_calls_drop_group (hash_calls_t *self);
//  One result per hash, pointing into the answers taken (borrowed until destroy);
//  complete once every group was taken.
const cJSON *const *hash_calls_results (hash_calls_t *self);

void hash_calls_test (bool verbose);

#endif
