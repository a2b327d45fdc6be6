/*  chain_probe: asks a provider for its chain id before anything starts, since the chain's
    name (its topic prefix) and its checkpoint depend on it. Retries with backoff, logging
    each failure with the provider's name, until it gets an answer or is told to stop. */
#ifndef CHAIN_PROBE_H_INCLUDED
#define CHAIN_PROBE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "jsonrpc.h"
#include "rpc_client.h"

//  Returns 0 with *chain_id set, or -1 when should_stop(arg) said so first.
int chain_probe_id (const char *url, const char *provider, int timeout_ms,
                    bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id);

//  One eth_chainId on client, no retry. Returns 0 with *chain_id set; 1 when there is no
//  chain id, answer saying why: jsonrpc_parse's status and message (JSONRPC_BAD_ANSWER
//  when the result is not a quantity), or JSONRPC_TRANSPORT with libcurl's words;
//  -1 when the client's abort hook stopped the request. answer->result is always NULL.
int chain_probe_once (rpc_client_t *client, jsonrpc_answer_t *answer, uint64_t *chain_id);

#endif
