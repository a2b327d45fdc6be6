/*  chain_probe: eth_chainId and block hashes with retries, before the actors start. */
#include "evmtap.h"
#include "chain_probe.h"
#include <inttypes.h>
#include "backoff.h"
#include "block.h"
#include "hexutil.h"
#include "jsonrpc.h"
#include "rpc_client.h"

const char *
chain_probe_method (const chain_probe_query_t *query)
{
    return query->block ? "eth_getBlockByNumber" : "eth_chainId";
}

//  Takes the query's answer out of a result. 0 or -1 (not what the method returns).
static int
s_take_result (chain_probe_query_t *query, const cJSON *result)
{
    if (!query->block)
        return cJSON_IsString (result) && hex_to_u64 (result->valuestring, &query->chain_id) == 0
                   ? 0
                   : -1;
    query->hash [0] = 0;
    if (cJSON_IsNull (result))
        return 0;
    cJSON *hash = cJSON_GetObjectItemCaseSensitive (result, "hash");
    if (!cJSON_IsString (hash) || strlen (hash->valuestring) >= BLOCK_HASH_SIZE
        || strncmp (hash->valuestring, "0x", 2) != 0)
        return -1;
    snprintf (query->hash, sizeof (query->hash), "%s", hash->valuestring);
    return 0;
}

int
chain_probe_ask (rpc_client_t *client, chain_probe_query_t *query, jsonrpc_answer_t *answer)
{
    char params [64] = "[]";
    if (query->block)
        snprintf (params, sizeof (params), "[\"0x%" PRIx64 "\", false]", query->number);
    char *body = jsonrpc_request (1, chain_probe_method (query), params);
    const char *bodies [1] = {body};
    rpc_response_t response;
    memset (&response, 0, sizeof (response));
    int rc = rpc_client_post (client, bodies, 1, &response) ? -1 : 1;
    free (body);
    memset (answer, 0, sizeof (*answer));
    cJSON *doc = NULL;
    if (rc < 0 || response.transport_failed) {
        answer->status = JSONRPC_TRANSPORT;
        snprintf (answer->message, sizeof (answer->message), "%s", response.error);
    }
    else if (jsonrpc_parse (response.http_status, response.body, response.size, &doc, answer)
                 == JSONRPC_OK
             && s_take_result (query, answer->result) == 0)
        rc = 0;
    else if (answer->status == JSONRPC_OK) {
        answer->status = JSONRPC_BAD_ANSWER;
        snprintf (answer->message, sizeof (answer->message), "%s: %s", chain_probe_method (query),
                  query->block ? "not a block" : "not a quantity");
    }
    cJSON_Delete (doc);
    answer->result = NULL;    //  it pointed into doc
    rpc_response_clear (&response);
    return rc;
}

int
chain_probe_once (rpc_client_t *client, jsonrpc_answer_t *answer, uint64_t *chain_id)
{
    chain_probe_query_t query = {.block = false};
    int rc = chain_probe_ask (client, &query, answer);
    if (rc == 0)
        *chain_id = query.chain_id;
    return rc;
}

int
chain_probe_run (const char *url, const char *provider, int timeout_ms,
                 bool (*should_stop) (void *arg), void *arg, chain_probe_query_t *query)
{
    rpc_client_t *client = rpc_client_new (url, provider, timeout_ms);
    rpc_client_set_abort (client, should_stop, arg);
    backoff_t backoff;
    backoff_init (&backoff, 250, 10000);
    int rc = -1;
    while (!should_stop (arg)) {
        jsonrpc_answer_t answer;
        int attempt = chain_probe_ask (client, query, &answer);
        if (attempt <= 0) {
            rc = attempt;    //  0 answered, -1 aborted
            break;
        }
        int64_t wait = backoff_next (&backoff);
        zsys_warning ("provider %s: %s: %s: %s (again in %" PRId64 " ms)", provider,
                      chain_probe_method (query), jsonrpc_status_name (answer.status),
                      answer.message, wait);
        int64_t until = zclock_mono () + wait;
        while (zclock_mono () < until && !should_stop (arg))
            zclock_sleep (50);
    }
    rpc_client_destroy (&client);
    return rc;
}

int
chain_probe_id (const char *url, const char *provider, int timeout_ms,
                bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id)
{
    chain_probe_query_t query = {.block = false};
    int rc = chain_probe_run (url, provider, timeout_ms, should_stop, arg, &query);
    if (rc == 0)
        *chain_id = query.chain_id;
    return rc;
}
