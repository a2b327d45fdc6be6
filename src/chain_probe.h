/*  chain_probe: asks a provider for its chain id before anything starts, since the chain's
    name (its topic prefix) and its checkpoint depend on it. Retries with backoff, logging
    each failure with the provider's name, until it gets an answer or is told to stop. */
#ifndef CHAIN_PROBE_H_INCLUDED
#define CHAIN_PROBE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Returns 0 with *chain_id set, or -1 when should_stop(arg) said so first.
int chain_probe_id (const char *url, const char *provider, int timeout_ms,
                    bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id);

#endif
