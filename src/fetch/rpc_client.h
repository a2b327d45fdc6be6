/*  rpc_client: HTTP POST of JSON-RPC bodies to one provider URL on libcurl's multi
    interface: one connection kept alive (HTTP/2 where the server offers it over TLS),
    several bodies in flight at once, connect and total timeouts, and an abort hook so the
    owning actor can leave at once on $TERM. @locality the actor that created it. */
#ifndef RPC_CLIENT_H_INCLUDED
#define RPC_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rpc_client_t rpc_client_t;

//  The outcome of one POST.
typedef struct {
    int http_status;          //  0 when the transfer failed (see error)
    bool transport_failed;    //  connect failure, timeout, reset, too large
    char *body;               //  NUL-terminated answer body (owned; rpc_response_clear frees)
    size_t size;
    char error [160];    //  libcurl's words, without the URL
} rpc_response_t;

//  Returns true when the caller should give up waiting (e.g. $TERM on its pipe).
typedef bool (rpc_abort_fn) (void *arg);

//  url holds the secret already filled in; it is never logged. provider is what logs say.
rpc_client_t *rpc_client_new (const char *url, const char *provider, int timeout_ms);
void rpc_client_destroy (rpc_client_t **self_p);

void rpc_client_set_abort (rpc_client_t *self, rpc_abort_fn *abort_fn, void *arg);

//  Answers larger than max_answer bytes (after gzip decoding) fail as transport failures;
//  0 restores the default of 256 MiB.
void rpc_client_set_max_answer (rpc_client_t *self, size_t max_answer);

//  Posts count bodies (at most 64) concurrently and waits for all of them. Each response
//  gets its own outcome (responses are overwritten: clear them before reuse). Returns 0,
//  or -1 when aborted (responses then hold no body). The abort hook is asked at least
//  every 50 ms while waiting.
int rpc_client_post (rpc_client_t *self, const char **bodies, size_t count,
                     rpc_response_t *responses);

//  Frees a response's body and zeroes it for reuse.
void rpc_response_clear (rpc_response_t *response);

//  The provider name given at creation (for logs).
const char *rpc_client_provider (rpc_client_t *self);

//  HTTP requests sent so far (one per body posted).
uint64_t rpc_client_http_requests (rpc_client_t *self);

void rpc_client_test (bool verbose);

#endif
