/*  jsonrpc: JSON-RPC 2.0 request bodies (single calls and batches of at most
    JSONRPC_BATCH_MAX calls) and the parsing of answers, with every way an answer can be
    wrong turned into a classified error rather than a crash. */
#ifndef JSONRPC_H_INCLUDED
#define JSONRPC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cJSON cJSON;

//  Providers bill each call of a batch; 50 is what Infura and Alchemy accept per batch.
#define JSONRPC_BATCH_MAX 50

//  What went wrong with an answer, in the order a caller reacts to it.
typedef enum {
    JSONRPC_OK = 0,            //  a result (maybe JSON null: "not there yet")
    JSONRPC_RATE_LIMITED,      //  HTTP 429, JSON-RPC -32005 or 429: cool the key down
    JSONRPC_QUOTA_EXCEEDED,    //  HTTP 402 or -33000: the key's daily budget is spent
    JSONRPC_NOT_SUPPORTED,     //  -32601 method not found
    JSONRPC_RPC_ERROR,         //  another JSON-RPC error object
    JSONRPC_HTTP_ERROR,        //  HTTP status other than 200 (5xx and friends)
    JSONRPC_BAD_ANSWER,        //  not JSON, truncated, wrong shape, missing id
    JSONRPC_TRANSPORT,         //  connect failure, timeout, reset (from rpc_client)
} jsonrpc_status_t;

//  One parsed answer. For a batch, one per call, in the order of the request ids.
typedef struct {
    jsonrpc_status_t status;
    int64_t code;              //  JSON-RPC error code when status is an RPC error
    double backoff_seconds;    //  provider's hint (Infura's data.backoff_seconds), or 0
    const cJSON *result;       //  borrowed from the parsed document; NULL unless OK
    char message [160];        //  short cause for the log, never containing a URL
} jsonrpc_answer_t;

//  One call {"jsonrpc":"2.0","id":ID,"method":M,"params":PARAMS} as a fresh heap string;
//  params_json is a JSON array text. Batch bodies are made with jsonrpc_batch_*.
char *jsonrpc_request (int64_t id, const char *method, const char *params_json);

typedef struct _jsonrpc_batch_t jsonrpc_batch_t;
jsonrpc_batch_t *jsonrpc_batch_new (void);
void jsonrpc_batch_destroy (jsonrpc_batch_t **self_p);
//  Adds a call with id = the number of calls added before it. Returns that id, or -1 when
//  the batch already holds JSONRPC_BATCH_MAX calls. params_json NULL means [].
int jsonrpc_batch_add (jsonrpc_batch_t *self, const char *method, const char *params_json);
size_t jsonrpc_batch_count (jsonrpc_batch_t *self);
//  The body: a JSON array of the calls (borrowed until the next add or destroy).
const char *jsonrpc_batch_body (jsonrpc_batch_t *self);

//  Parses a single-call answer given the HTTP status and body (size bytes, need not be
//  NUL-terminated; http_status 0 means no HTTP answer: JSONRPC_TRANSPORT). On JSONRPC_OK,
//  answer->result points into *doc_p, which the caller frees with cJSON_Delete; on any
//  other status *doc_p is NULL. Any integer id is accepted.
jsonrpc_status_t jsonrpc_parse (int http_status, const char *body, size_t size, cJSON **doc_p,
                                jsonrpc_answer_t *answer);

//  Same as jsonrpc_parse, but a result whose id is not `id` is JSONRPC_BAD_ANSWER.
jsonrpc_status_t jsonrpc_parse_id (int http_status, const char *body, size_t size, int64_t id,
                                   cJSON **doc_p, jsonrpc_answer_t *answer);

//  Parses a batch answer of `count` calls with ids 0..count-1, in any order, into
//  answers[id]. Returns JSONRPC_OK when the envelope was sound (each answer then has its
//  own status; a missing id is JSONRPC_BAD_ANSWER for that call), else the whole-answer
//  status (also copied into every answer, and *doc_p is NULL). Ids outside 0..count-1 are
//  ignored, a duplicate id spoils its call, and an error with id null (the server could not
//  read the batch) applies to every call it left unanswered. Free *doc_p with cJSON_Delete.
jsonrpc_status_t jsonrpc_parse_batch (int http_status, const char *body, size_t size, size_t count,
                                      cJSON **doc_p, jsonrpc_answer_t *answers);

//  The short name of a status for logs and metrics ("rate_limited", ...).
const char *jsonrpc_status_name (jsonrpc_status_t status);

void jsonrpc_test (bool verbose);

#endif
