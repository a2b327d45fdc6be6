/*  chain_probe: asks a provider for its chain id before anything starts, since the chain's
    name (its topic prefix) and its checkpoint depend on it, and for the hashes of the blocks
    that tell the chain apart (its genesis, the block checkpointed). Retries with backoff,
    logging each failure with the provider's name, until it gets an answer or is told to
    stop. */
#ifndef CHAIN_PROBE_H_INCLUDED
#define CHAIN_PROBE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "block.h"
#include "jsonrpc.h"
#include "rpc_client.h"

//  One question of the probe and its answer.
typedef struct {
    bool block;                     //  false: eth_chainId; true: block `number`'s hash
    uint64_t number;                //  the block asked for
    uint64_t chain_id;              //  the answer to eth_chainId
    char hash [BLOCK_HASH_SIZE];    //  the block's hash, "" when the node has no such block
} chain_probe_query_t;

//  The query's method name, for logs and key costs.
const char *chain_probe_method (const chain_probe_query_t *query);

//  Returns 0 with *chain_id set, or -1 when should_stop(arg) said so first.
int chain_probe_id (const char *url, const char *provider, int timeout_ms,
                    bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id);

//  As chain_probe_id, for any query. 0 answered, or -1 when should_stop(arg) said so first.
int chain_probe_run (const char *url, const char *provider, int timeout_ms,
                     bool (*should_stop) (void *arg), void *arg, chain_probe_query_t *query);

//  One eth_chainId on client, no retry. Returns 0 with *chain_id set; 1 when there is no
//  chain id, answer saying why: jsonrpc_parse's status and message (JSONRPC_BAD_ANSWER
//  when the result is not a quantity), or JSONRPC_TRANSPORT with libcurl's words;
//  -1 when the client's abort hook stopped the request. answer->result is always NULL.
int chain_probe_once (rpc_client_t *client, jsonrpc_answer_t *answer, uint64_t *chain_id);

//  As chain_probe_once, for any query (a block: eth_getBlockByNumber without transactions;
//  a null result is an answer, the node has no such block).
int chain_probe_ask (rpc_client_t *client, chain_probe_query_t *query, jsonrpc_answer_t *answer);

#endif
