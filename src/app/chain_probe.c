/*  chain_probe: eth_chainId with retries, before the actors start. */
#include "evmtap.h"
#include "chain_probe.h"
#include "backoff.h"
#include "hexutil.h"
#include "jsonrpc.h"
#include "rpc_client.h"

int
chain_probe_once (rpc_client_t *client, jsonrpc_answer_t *answer, uint64_t *chain_id)
{
    char *body = jsonrpc_request (1, "eth_chainId", "[]");
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
             && cJSON_IsString (answer->result)
             && hex_to_u64 (answer->result->valuestring, chain_id) == 0)
        rc = 0;
    else if (answer->status == JSONRPC_OK) {
        answer->status = JSONRPC_BAD_ANSWER;
        snprintf (answer->message, sizeof (answer->message), "eth_chainId: not a quantity");
    }
    cJSON_Delete (doc);
    answer->result = NULL;    //  it pointed into doc
    rpc_response_clear (&response);
    return rc;
}

int
chain_probe_id (const char *url, const char *provider, int timeout_ms,
                bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id)
{
    rpc_client_t *client = rpc_client_new (url, provider, timeout_ms);
    rpc_client_set_abort (client, should_stop, arg);
    backoff_t backoff;
    backoff_init (&backoff, 250, 10000);
    int rc = -1;
    while (!should_stop (arg)) {
        jsonrpc_answer_t answer;
        int attempt = chain_probe_once (client, &answer, chain_id);
        if (attempt <= 0) {
            rc = attempt;    //  0 answered, -1 aborted
            break;
        }
        int64_t wait = backoff_next (&backoff);
        zsys_warning ("provider %s: eth_chainId: %s: %s (again in %" PRId64 " ms)", provider,
                      jsonrpc_status_name (answer.status), answer.message, wait);
        int64_t until = zclock_mono () + wait;
        while (zclock_mono () < until && !should_stop (arg))
            zclock_sleep (50);
    }
    rpc_client_destroy (&client);
    return rc;
}
