/*  decoder: the decoder actor (see decoder.c), its arguments, the facade main starts and
    stops it with, and the loading of its decoding sources. */
#ifndef DECODER_H_INCLUDED
#define DECODER_H_INCLUDED

#include "evmtap.h"
#include "call_decoder.h"
#include "log_record.h"
#include "proxy_lookup.h"
#include "watch_match.h"

typedef struct {
    const char *endpoint;       //  to bind (PULL): the classifier sends batches here
    const char *broker;         //  the broker's endpoint (PUSH, connect)
    call_decoder_t *decoder;    //  the sources; the actor takes it (set to NULL here)
    watch_match_t *watch;       //  the watchlists or NULL; the actor takes it (NULL here)
    proxy_lookup_t *proxies;    //  proxy implementations or NULL; the actor takes it
} decoder_args_t;

void decoder_actor (zsock_t *pipe, void *args);
void decoder_test (bool verbose);

typedef struct _decoder_t decoder_t;

//  Starts a decoder, bound once this returns; it takes args->decoder (set to NULL here
//  once taken, even when it could not start). NULL when the actor could not be made.
decoder_t *decoder_new (decoder_args_t *args);
//  Hands the decoder a new set of watchlists (NULL: none), used from the next batch on;
//  it drops the previous set. Takes *watch_p (set to NULL); returns once it is in use.
void decoder_watch_set (decoder_t *self, watch_match_t **watch_p);
//  Stops the actor; batches it holds are dropped (they are not checkpointed).
void decoder_destroy (decoder_t **self_p);
//  Decodes with sources (taken, set to NULL) from the next batch on; returns once the
//  actor took them.
void decoder_reload (decoder_t *self, call_decoder_t **sources_p);

//  Loads the decoding sources for `evmtap run`: --abis DIR and --signatures FILE, or when
//  neither is given the ABIs shipped in config/abis (looked up beside the executable argv0,
//  or /proc/self/exe when NULL, then in the working directory; none found means every call is unknown_selector, and says so).
//  Returns NULL with the reason in err when a given source is unreadable or malformed.
//  event_signatures: a topic file for logs, added after signatures.
call_decoder_t *decoder_sources_load (const char *abis, const char *signatures,
                                      const char *event_signatures, const char *argv0, char *err,
                                      size_t err_size);

#endif
