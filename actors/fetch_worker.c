/*  fetch_worker: executes JSON-RPC jobs for one chain with one provider and (at most) one
    key at a time, within the key's budget per second. It asks its dispatcher for work with
    READY and answers each job with one result; transient failures (transport, HTTP 5xx,
    bad or truncated answers, error objects) are retried here with backoff and logged with
    the provider's name and key pseudo-name, never the URL. A job that still fails is
    answered RESULT_FAILED so the head poller can try again later: nothing is ever dropped.

    With a key pool (args->keypool) the worker leases its key: it takes the least used free
    key when it needs one, waits (saying so once) while none is free, renews the lease while
    it works, journals every request in the pool before sending it, and hands the key back
    after args->rotate_ms or rotate_requests, after 10 s without work, and when it leaves.
    A rate-limit answer (429, -32005, code 429) cools the key down for the provider's
    backoff_seconds (else exponentially, by the pool) and a quota answer (402, -33000) parks
    it; either way the worker moves to another key and the call is tried again without
    counting as a failed attempt. Budgets are in the provider's units (args->costs): the
    per-second one in throughput units, the daily one and the journal in billed units. A
    call is journaled at the most it may be billed before it is sent, and what its answer
    was not billed (a 429, Infura's 402) is refunded once it is read, so that a crash never
    under-counts. A key whose daily budget would be exceeded is parked before it is. The leasing rules are
    src/keys/key_lease.c's; this actor does the talking to the pool. Without a pool the
    worker keeps the one URL it was given (selftests, keyless nodes).

    With receipts (job->receipts) the block's receipts are joined onto it
    (src/fetch/receipts.c), fetched the cheapest way in billed units (src/keys/receipts_cost.c):
    where eth_getTransactionReceipt per transaction never costs less (Alchemy, plain
    requests), eth_getBlockReceipts goes in one JSON-RPC batch with the block; where it can
    (Infura: a block of fewer than 13 transactions), the block comes first and its receipts
    after it, the cheaper way for its transaction count (none for an empty block). A node
    that answers -32601 gets batched eth_getTransactionReceipt calls, from then on. Receipts that do not fit the block (another fork) make the
    block be fetched again.

    With args->metrics each call's outcome (by provider, key, method and status), the
    duration of each HTTP request and the units billed go to the metrics actor, at most
    every FETCH_METRICS_MS (proto/metric.h).

    Dispatcher protocol (DEALER to the dispatcher's ROUTER):
        -> READY                 when it can take a job: after connecting and after
                                 each result, once it holds a key (with a key pool)
        <- job frame             (proto/job.h)
        -> result frames         (proto/result.h), then READY again
        <- proxy query           (proto/proxy_query.h: the decoder's lookups)
        -> proxy answer          then READY again
    Pipe commands:
        $TERM                    leave, even in the middle of a request

    This file is the actor and its jobs (blocks, heads, proofs, proxy lookups); the calls
    under the leased key are fetch_worker_calls.c's, and what both share is
    fetch_worker_self.h.
*/
#include "evmtap.h"
#include "fetch_worker.h"
#include "fetch_worker_self.h"
#include "backoff.h"
#include "block_proof.h"
#include "block.h"
#include "cost_table.h"
#include "hash_calls.h"
#include "hexutil.h"
#include "job.h"
#include "jsonrpc.h"
#include "key_lease.h"
#include "keypool.h"
#include "keypool_store.h"
#include "metric.h"
#include "metrics.h"
#include "normalize.h"
#include "proxy_probe.h"
#include "proxy_query.h"
#include "receipts.h"
#include "receipts_cost.h"
#include "receipts_strategy.h"
#include "result.h"
#include "rpc_client.h"
#include "secrets.h"
#include "spend_ledger.h"
#include "token_bucket.h"


fetch_worker_args_t *
fetch_worker_args_new (const char *dispatcher, const char *url, const char *provider,
                       double key_rps, int timeout_ms)
{
    fetch_worker_args_t *args = (fetch_worker_args_t *) zmalloc (sizeof (fetch_worker_args_t));
    assert (args);
    args->dispatcher = strdup (dispatcher);
    args->url = strdup (url);
    args->provider = strdup (provider);
    args->key_rps = key_rps;
    args->timeout_ms = timeout_ms;
    args->attempts = 5;
    return args;
}

void
fetch_worker_args_set_pool (fetch_worker_args_t *args, const char *keypool, const char *holder,
                            const cost_table_t *costs, uint64_t key_daily, int64_t rotate_ms,
                            uint64_t rotate_requests)
{
    args->keypool = strdup (keypool);
    args->holder = strdup (holder);
    args->costs = costs ? cost_table_dup (costs) : NULL;
    args->key_daily = key_daily;
    args->rotate_ms = rotate_ms;
    args->rotate_requests = rotate_requests;
}

void
fetch_worker_args_add_key (fetch_worker_args_t *args, const char *name, const char *url)
{
    args->key_names = (char **) realloc (args->key_names, (args->key_count + 1) * sizeof (char *));
    args->key_urls = (char **) realloc (args->key_urls, (args->key_count + 1) * sizeof (char *));
    assert (args->key_names && args->key_urls);
    args->key_names [args->key_count] = strdup (name);
    args->key_urls [args->key_count] = strdup (url);
    args->key_count++;
}

static void
s_args_destroy (fetch_worker_args_t **args_p)
{
    fetch_worker_args_t *args = *args_p;
    if (!args)
        return;
    free (args->dispatcher);
    secrets_free (&args->url);
    free (args->provider);
    for (size_t index = 0; index < args->key_count; index++) {
        free (args->key_names [index]);
        secrets_free (&args->key_urls [index]);
    }
    free (args->key_names);
    free (args->key_urls);
    free (args->keypool);
    free (args->holder);
    free (args->metrics);
    free (args->chain);
    cost_table_destroy (&args->costs);
    free (args);
    *args_p = NULL;
}

void
fetch_worker_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
        zsys_error ("fetch_worker: unknown pipe command '%s'", command);
    zstr_free (&command);
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    if (fetch_worker_holding (self))
        keypool_client_release (self->pool, key_lease_held (self->lease), 0, 0);
    keypool_client_destroy (&self->pool);
    key_lease_destroy (&self->lease);
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dispatcher);
    rpc_client_destroy (&self->client);
    token_bucket_destroy (&self->bucket);
    spend_ledger_destroy (&self->spent);
    receipts_strategy_destroy (&self->receipts);
    block_proof_destroy (&self->proof);
    s_args_destroy (&self->args);
    metric_batch_send (self->updates, self->metrics);
    metric_batch_destroy (&self->updates);
    zsock_destroy (&self->metrics);
    free (self);
    *self_p = NULL;
}

//  Takes args over: on failure they are destroyed with the rest.
static self_t *
s_self_new (zsock_t *pipe, fetch_worker_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->args = args;
    self->dispatcher = zsock_new_dealer (args->dispatcher);
    //  Only with a pool are calls journaled and billed in the table's units.
    self->spent = spend_ledger_new (args->keypool ? args->costs : NULL);
    self->receipts = receipts_strategy_new (args->keypool ? args->costs : NULL);
    self->proof = block_proof_new ((block_proof_mode_t) args->verify);
    if (args->keypool) {
        //  The client and bucket come with each lease.
        self->pool = keypool_client_new (args->keypool);
        self->lease = key_lease_new (args->provider, (const char *const *) args->key_names,
                                     args->key_count, args->timeout_ms, args->costs);
        key_lease_set_budget (self->lease, args->key_daily, args->rotate_ms, args->rotate_requests);
    }
    else {
        self->client = rpc_client_new (args->url, args->provider, args->timeout_ms);
        self->bucket = token_bucket_new (args->key_rps);
    }
    if (!self->dispatcher || (!self->client && !self->pool)) {
        zsys_error ("fetch_worker %s: cannot start (dispatcher %s)", args->provider,
                    args->dispatcher);
        s_self_destroy (&self);
        return NULL;
    }
    if (self->client)
        rpc_client_set_abort (self->client, fetch_worker_should_abort, self);
    self->poller = zpoller_new (self->pipe, self->dispatcher, NULL);
    if (args->metrics) {
        self->metrics = zsock_new_push (args->metrics);
        self->updates = metric_batch_new ();
        assert (self->metrics && self->updates);
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Jobs

//  The answers a block's proof reads, kept until it is made.
typedef struct {
    hash_calls_t *txs;              //  --fetch hashes: the transactions fetched by hash
    cJSON *receipts_doc;            //  eth_getBlockReceipts' answer when it came alone
    const cJSON *receipts;          //  its array (in it, or in the block's batch answer)
    hash_calls_t *receipt_calls;    //  or the receipts fetched per transaction
} s_fetched_t;

static void
s_fetched_clear (s_fetched_t *fetched)
{
    hash_calls_destroy (&fetched->txs);
    cJSON_Delete (fetched->receipts_doc);
    hash_calls_destroy (&fetched->receipt_calls);
    memset (fetched, 0, sizeof (*fetched));
}

//  The receipts of a fetched block, joined onto its body: eth_getBlockReceipts with
//  params (its answer in `fetched` when it came with the block), or, when the block came
//  alone, the cheapest way for its transaction count in billed units (receipts_cost:
//  nothing for an empty block, one eth_getTransactionReceipt per transaction when that
//  costs less), or per transaction from a node that answers -32601 to eth_getBlockReceipts
//  (remembered for the rest of the run). Returns FETCH_DONE, FETCH_FAILED when the calls failed
//  after their attempts, FETCH_BAD_BLOCK when the receipts do not fit the block (another fork,
//  not yet known), or FETCH_LEAVING; error says why.
static fetch_outcome_t
s_fetch_receipts (self_t *self, const job_t *job, const char *params, const block_header_t *header,
                  block_body_t *body, const jsonrpc_answer_t *fetched, s_fetched_t *kept,
                  char *error, size_t error_size)
{
    receipts_choice_t choice;
    receipts_way_t way = receipts_strategy_way (self->receipts, body->tx_count, fetched != NULL,
                                                &choice);
    if (choice.by_block || choice.by_tx)
        zsys_debug (
            "fetch_worker %s: block %" PRIu64 " (%zu transactions): receipts by %s "
            "(eth_getBlockReceipts %" PRIu64 " %s, eth_getTransactionReceipt x %zu: "
            "%" PRIu64 ")",
            self->args->provider, job->number, body->tx_count,
            fetched ? "eth_getBlockReceipts, in one batch with the block" : receipts_way_name (way),
            choice.by_block,
            fetch_worker_costs (self) ? cost_table_unit (fetch_worker_costs (self)) : "requests",
            body->tx_count, choice.by_tx);
    if (way == RECEIPTS_WAY_NONE)
        return receipts_join (body, header, job->chain_id, NULL, 0, error, error_size)
                   ? FETCH_BAD_BLOCK
                   : FETCH_DONE;
    bool by_tx = way == RECEIPTS_WAY_BY_TX;
    if (!by_tx) {
        char what [64];
        snprintf (what, sizeof (what), "eth_getBlockReceipts %" PRIu64, job->number);
        cJSON *doc = NULL;
        jsonrpc_answer_t answer;
        fetch_outcome_t outcome = FETCH_DONE;
        if (fetched)
            answer = *fetched;
        else
            outcome = fetch_worker_call (self, what, "eth_getBlockReceipts", params, &doc, &answer);
        if (outcome == FETCH_LEAVING)
            return outcome;
        if (outcome == FETCH_DONE && answer.status == JSONRPC_OK) {
            outcome = receipts_join_array (body, header, job->chain_id, answer.result, error,
                                           error_size)
                          ? FETCH_BAD_BLOCK
                          : FETCH_DONE;
            kept->receipts_doc = doc;
            kept->receipts = answer.result;
            return outcome;
        }
        if (answer.status != JSONRPC_NOT_SUPPORTED) {
            snprintf (error, error_size, "%s: %s: %.120s", what,
                      jsonrpc_status_name (answer.status), answer.message);
            return FETCH_FAILED;
        }
        zsys_notice ("fetch_worker %s: the node has no eth_getBlockReceipts (%s): receipts "
                     "by transaction from now on",
                     self->args->provider, answer.message);
        receipts_strategy_no_block_receipts (self->receipts);
    }
    hash_calls_t *calls = fetch_worker_hash_calls_new (self, "eth_getTransactionReceipt", job,
                                                       body->tx_count);
    for (size_t index = 0; index < body->tx_count; index++)
        hash_calls_set_hash (calls, index, body->txs [index].hash);
    fetch_outcome_t outcome = fetch_worker_fetch_by_hash (self, calls, job, error, error_size);
    if (outcome == FETCH_DONE
        && receipts_join (body, header, job->chain_id, hash_calls_results (calls), body->tx_count,
                          error, error_size))
        outcome = FETCH_BAD_BLOCK;
    kept->receipt_calls = calls;
    return outcome;
}

//  The block of a job from its answer, its transactions fetched by hash with --fetch
//  hashes, checked to be the block asked for. Returns FETCH_DONE with the header and *body_p,
//  FETCH_BAD_BLOCK, FETCH_FAILED when the calls by hash failed after their attempts (error says
//  why), or FETCH_LEAVING.
static fetch_outcome_t
s_block_body (self_t *self, const job_t *job, const cJSON *block, block_header_t *header,
              block_body_t **body_p, s_fetched_t *kept, char *error, size_t error_size)
{
    fetch_outcome_t outcome = FETCH_DONE;
    if (job->fetch_mode == FETCH_HASHES) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive (block, "transactions");
        size_t count = cJSON_IsArray (list) ? (size_t) cJSON_GetArraySize (list) : 0;
        hash_calls_t *calls = fetch_worker_hash_calls_new (self, "eth_getTransactionByHash", job,
                                                           count);
        size_t index = 0;
        for (const cJSON *hash = count ? list->child : NULL; hash; hash = hash->next)
            hash_calls_set_hash (calls, index++, cJSON_IsString (hash) ? hash->valuestring : "");
        outcome = fetch_worker_fetch_by_hash (self, calls, job, error, error_size);
        if (outcome == FETCH_DONE
            && normalize_block_hashes (block, hash_calls_results (calls), count, job->chain_id,
                                       header, body_p, error, error_size))
            outcome = FETCH_BAD_BLOCK;
        kept->txs = calls;
    }
    else if (normalize_block (block, job->chain_id, header, body_p, error, error_size))
        outcome = FETCH_BAD_BLOCK;
    if (outcome == FETCH_DONE && header->number != job->number) {
        block_body_destroy (body_p);
        snprintf (error, error_size, "asked for block %" PRIu64 ", got %" PRIu64, job->number,
                  header->number);
        outcome = FETCH_BAD_BLOCK;
    }
    return outcome;
}

//  Adds "verified": level to the block record, after the fields evmtap adds.
static void
s_mark_verified (block_body_t *body, const char *level)
{
    assert (body->meta_len >= 2 && body->meta_json [body->meta_len - 1] == '}');
    char field [32];
    int size = snprintf (field, sizeof (field), ",\"verified\":\"%s\"}", level);
    body->meta_json = (char *) realloc (body->meta_json, body->meta_len + (size_t) size);
    assert (body->meta_json);
    memcpy (body->meta_json + body->meta_len - 1, field, (size_t) size + 1);
    body->meta_len += (size_t) size - 1;
}

//  Proves the block as fetched against its own header (here, so that proofs run in
//  parallel across workers): FETCH_DONE with the record marked, or FETCH_UNPROVEN (said at warning
//  with the field, the value given and the value computed; error says which field). A
//  block proven only in part is published, and why goes in result->error (the head
//  poller says it once per chain).
static fetch_outcome_t
s_prove (self_t *self, const job_t *job, const cJSON *block, const s_fetched_t *kept,
         block_body_t *body, result_t *result, char *error, size_t error_size)
{
    size_t tx_count = kept->txs ? body->tx_count : 0;
    size_t receipt_count = kept->receipt_calls ? body->tx_count : 0;
    //  A block without transactions has no receipts to ask for by hash: they are the empty
    //  list, which its receiptsRoot proves as eth_getBlockReceipts' [] does.
    cJSON *no_receipts = job->receipts && !kept->receipts && !kept->receipt_calls
                                 && body->tx_count == 0
                             ? cJSON_CreateArray ()
                             : NULL;
    block_check_t check;
    const char *level;
    block_proof_verdict_t verdict = block_proof_check (
        self->proof, block, kept->txs ? hash_calls_results (kept->txs) : NULL, tx_count,
        no_receipts ? no_receipts : kept->receipts,
        kept->receipt_calls ? hash_calls_results (kept->receipt_calls) : NULL, receipt_count,
        &check, &level);
    cJSON_Delete (no_receipts);
    const char *key_name = self->lease ? key_lease_name (self->lease) : NULL;
    if (verdict == BLOCK_PROOF_REFETCH) {
        zsys_warning ("fetch_worker %s%s%s: block %" PRIu64 " does not prove: %s: not published, "
                      "fetched again",
                      self->args->provider, key_name ? " key " : "", key_name ? key_name : "",
                      job->number, check.reason);
        snprintf (error, error_size, "block %" PRIu64 " does not prove (%s%s%s)", job->number,
                  check.list, check.list [0] ? " " : "", check.field);
        //  A field of an item is named with its list (transactions.hash): the label keeps
        //  a few values, never an index or a hash.
        char field [64];
        snprintf (field, sizeof (field), "%s%s%s", check.list, check.list [0] ? "." : "",
                  check.field [0] ? check.field : "malformed");
        fetch_worker_metric_chain_put (self, METRIC_VERIFY_FAILURES, field, 1);
        return FETCH_UNPROVEN;
    }
    if (verdict == BLOCK_PROOF_PARTIAL)
        fetch_worker_metric_chain_put (self, METRIC_PARTLY_PROVEN, NULL, 1);
    if (verdict == BLOCK_PROOF_PARTIAL)
        snprintf (result->error, sizeof (result->error),
                  "from %.40s: %.120s: published as \"verified\": \"%s\"", self->args->provider,
                  check.reason, level);
    if (check.network_form && !self->network_form_said) {
        zsys_notice ("fetch_worker %s: block %" PRIu64 ": its transactionsRoot is over its blob "
                     "transactions' network form (blobs, commitments and proofs), as anvil "
                     "builds it: proven over that form (said once per worker)",
                     self->args->provider, job->number);
        self->network_form_said = true;
    }
    s_mark_verified (body, level);
    return FETCH_DONE;
}

//  One try at a job's block: the block (and its receipts in the same batch when both fit
//  in the key's second), its transactions by hash with --fetch hashes, its receipts when
//  asked for. Returns FETCH_DONE with the result filled (found, not found, or failed after the
//  calls' own attempts), FETCH_BAD_BLOCK (error says why) or FETCH_LEAVING.
static fetch_outcome_t
s_block_try (self_t *self, const job_t *job, char *what, size_t what_size, result_t *result,
             block_body_t **body_p, char *error, size_t error_size)
{
    bool by_hash = job->fetch_mode == FETCH_HASHES;
    char params [64], receipts_params [64];
    snprintf (params, sizeof (params), "[\"0x%" PRIx64 "\",%s]", job->number,
              by_hash ? "false" : "true");
    snprintf (receipts_params, sizeof (receipts_params), "[\"0x%" PRIx64 "\"]", job->number);
    const char *methods [2] = {"eth_getBlockByNumber", "eth_getBlockReceipts"};
    const char *all_params [2] = {params, receipts_params};
    //  With receipts the block and its receipts go in one batch when the key's second holds
    //  both and no block is cheaper by transaction under the key's table: one round trip;
    //  the join checks that they are of the same block. Otherwise the block comes first,
    //  and its transaction count says how to fetch its receipts.
    bool batched = job->receipts
                   && receipts_strategy_batched (self->receipts, by_hash,
                                                 fetch_worker_fits_one_second (self, methods, 2));
    snprintf (what, what_size, "eth_getBlockByNumber%s %" PRIu64,
              batched ? "+eth_getBlockReceipts" : "", job->number);
    cJSON *doc = NULL;
    jsonrpc_answer_t answers [2];
    fetch_outcome_t outcome = fetch_worker_call_many (self, what, batched ? 2 : 1, methods,
                                                      all_params, &doc, answers);
    if (outcome == FETCH_LEAVING)
        return outcome;
    if (outcome == FETCH_FAILED) {
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%s: %s: %s", self->args->provider,
                  jsonrpc_status_name (answers [0].status), answers [0].message);
        return FETCH_DONE;
    }
    if (cJSON_IsNull (answers [0].result)) {
        cJSON_Delete (doc);
        result->status = RESULT_NOT_FOUND;
        return FETCH_DONE;
    }
    s_fetched_t kept = {NULL, NULL, NULL, NULL};
    outcome = s_block_body (self, job, answers [0].result, &result->header, body_p, &kept, error,
                            error_size);
    if (outcome == FETCH_DONE && job->receipts)
        outcome = s_fetch_receipts (self, job, receipts_params, &result->header, *body_p,
                                    batched ? &answers [1] : NULL, &kept, error, error_size);
    if (outcome == FETCH_DONE)
        outcome = s_prove (self, job, answers [0].result, &kept, *body_p, result, error,
                           error_size);
    s_fetched_clear (&kept);
    cJSON_Delete (doc);
    if (outcome == FETCH_DONE)
        result->status = RESULT_OK;
    if (outcome == FETCH_FAILED || outcome == FETCH_BAD_BLOCK || outcome == FETCH_UNPROVEN)
        block_body_destroy (body_p);
    if (outcome == FETCH_FAILED) {
        //  The calls had their own attempts: do not repeat them all again.
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%.40s: %.150s", self->args->provider,
                  error);
        outcome = FETCH_DONE;
    }
    return outcome;
}

//  Fetches and normalizes one block: a block that does not hold together, or whose
//  receipts do not fit it, is fetched again like any other bad answer. Returns 0 with the
//  result filled (and *body_p when found), -1 when leaving.
static int
s_fetch_block (self_t *self, const job_t *job, result_t *result, block_body_t **body_p)
{
    char what [80] = "";
    fetch_attempts_t attempts;
    fetch_worker_attempts_init (&attempts, what);
    while (true) {
        char error [200] = "";
        fetch_outcome_t outcome = s_block_try (self, job, what, sizeof (what), result, body_p,
                                               error, sizeof (error));
        if (outcome != FETCH_BAD_BLOCK && outcome != FETCH_UNPROVEN)
            return outcome == FETCH_LEAVING ? -1 : 0;
        //  An answer that does not prove comes from the node behind the provider, not
        //  from the key: another key (the least used free one) may reach another node.
        if (outcome == FETCH_UNPROVEN && fetch_worker_holding (self))
            fetch_worker_key_release (self, 0, 0);
        jsonrpc_answer_t bad = {.status = JSONRPC_BAD_ANSWER};
        snprintf (bad.message, sizeof (bad.message), "%.150s", error);
        if (!fetch_worker_try_again (self, &attempts, &bad)) {
            if (self->terminated)
                return -1;
            result->status = RESULT_FAILED;
            snprintf (result->error, sizeof (result->error), "%.40s: bad_answer: %.140s",
                      self->args->provider, error);
            return 0;
        }
    }
}

//  eth_blockNumber (JOB_HEAD), or the number of the node's `finalized` block
//  (JOB_FINALIZED: RESULT_NOT_FOUND when the node answers that tag with an error or null).
//  Returns 0 with the result filled, -1 when leaving.
static int
s_fetch_head (self_t *self, const job_t *job, result_t *result)
{
    bool finalized = job->kind == JOB_FINALIZED;
    const char *method = finalized ? "eth_getBlockByNumber" : "eth_blockNumber";
    cJSON *doc = NULL;
    jsonrpc_answer_t answer;
    fetch_outcome_t outcome = fetch_worker_call (self, finalized ? "finalized block" : method,
                                                 method, finalized ? "[\"finalized\",false]" : "[]",
                                                 &doc, &answer);
    if (outcome == FETCH_LEAVING)
        return -1;
    const cJSON *number = answer.result;
    if (finalized && outcome == FETCH_DONE)
        number = cJSON_IsObject (answer.result) ? cJSON_GetObjectItem (answer.result, "number")
                                                : NULL;
    if (outcome == FETCH_DONE && cJSON_IsString (number)
        && hex_to_u64 (number->valuestring, &result->value) == 0)
        result->status = RESULT_OK;
    else if (finalized
             && (outcome == FETCH_DONE || answer.status == JSONRPC_RPC_ERROR
                 || answer.status == JSONRPC_NOT_SUPPORTED))
        result->status = RESULT_NOT_FOUND;
    else {
        result->status = RESULT_FAILED;
        snprintf (result->error, sizeof (result->error), "%s: %s: %s", self->args->provider, method,
                  outcome == FETCH_FAILED ? answer.message : "result is not a quantity");
    }
    cJSON_Delete (doc);
    return 0;
}

//  Answers a proxy query (src/fetch/proxy_probe.h): the implementation behind the
//  address at the block, "" when it is no proxy. Returns 0, -1 when leaving.
static int
s_answer_proxy (self_t *self, const proxy_query_t *query)
{
    proxy_answer_t answer = {.id = query->id, .status = RESULT_OK};
    const char *methods [PROXY_PROBE_CALLS];
    char *params [PROXY_PROBE_CALLS];
    proxy_probe_calls (query->address, query->number, methods, params);
    cJSON *doc = NULL;
    jsonrpc_answer_t answers [PROXY_PROBE_CALLS];
    fetch_outcome_t outcome = fetch_worker_call_many (self, "proxy slots", PROXY_PROBE_CALLS,
                                                      methods, (const char *const *) params, &doc,
                                                      answers);
    proxy_probe_params_free (params);
    proxy_probe_t found = PROXY_MALFORMED;
    char why [160] = "malformed answers";
    if (outcome == FETCH_FAILED)
        snprintf (why, sizeof (why), "%s", answers [0].message);
    if (outcome == FETCH_DONE) {
        const cJSON *results [PROXY_PROBE_CALLS];
        for (size_t index = 0; index < PROXY_PROBE_CALLS; index++)
            results [index] = answers [index].result;
        found = proxy_probe_read (results, answer.implementation);
    }
    cJSON_Delete (doc);
    doc = NULL;
    if (found == PROXY_BEACON) {
        char *call = proxy_probe_beacon_params (answer.implementation, query->number);
        jsonrpc_answer_t reply;
        outcome = fetch_worker_call (self, "beacon implementation", "eth_call", call, &doc, &reply);
        zstr_free (&call);
        found = outcome == FETCH_DONE
                    ? proxy_probe_read_beacon (reply.result, answer.implementation)
                    : PROXY_MALFORMED;
        if (outcome == FETCH_FAILED)
            snprintf (why, sizeof (why), "%s", reply.message);
        cJSON_Delete (doc);
    }
    if (outcome == FETCH_LEAVING)
        return -1;
    if (found != PROXY_FOUND)
        answer.implementation [0] = 0;
    if (found == PROXY_MALFORMED) {
        answer.status = RESULT_FAILED;
        snprintf (answer.error, sizeof (answer.error), "%.40s: proxy %.42s: %.100s",
                  self->args->provider, query->address, why);
    }
    answer.requests = self->requests;
    zframe_t *frame = proxy_answer_encode (&answer);
    zframe_send (&frame, self->dispatcher, 0);
    return 0;
}

static void
s_self_handle_job (self_t *self)
{
    zframe_t *frame = zframe_recv (self->dispatcher);
    proxy_query_t query;
    if (frame && msg_type (frame) == MSG_TYPE_PROXY_QUERY) {
        int rc = proxy_query_decode (frame, &query);
        zframe_destroy (&frame);
        self->requests = 0;
        if (rc == 0)
            s_answer_proxy (self, &query);
        else
            zsys_error ("fetch_worker %s: malformed proxy query", self->args->provider);
        return;
    }
    job_t job;
    if (!frame || job_decode (frame, &job)) {
        zsys_error ("fetch_worker %s: malformed job from the dispatcher", self->args->provider);
        zframe_destroy (&frame);
        return;
    }
    zframe_destroy (&frame);
    result_t result;
    memset (&result, 0, sizeof (result));
    result.job_id = job.id;
    result.kind = job.kind;
    result.number = job.number;
    block_body_t *body = NULL;
    self->requests = 0;
    int rc = job.kind == JOB_BLOCK ? s_fetch_block (self, &job, &result, &body)
                                   : s_fetch_head (self, &job, &result);
    if (rc == 0) {
        result.requests = self->requests;
        zmsg_t *msg = result_encode (&result, body);
        zmsg_send (&msg, self->dispatcher);
    }
    block_body_destroy (&body);
}

//  Tells the dispatcher this worker can take a job: with a key pool, once it holds a key,
//  so that no job waits in a worker that waits for a key while others could run it.
static void
s_ready (self_t *self)
{
    if (!self->terminated
        && fetch_worker_key_ensure (self, fetch_worker_request_ms (self) + 1000, true) == 0)
        zstr_send (self->dispatcher, "READY");
}

void
fetch_worker_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (fetch_worker_args_t *) args);
    if (!self) {
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    s_ready (self);
    while (!self->terminated) {
        int wait = fetch_worker_holding (self) ? 1000 : -1;
        if (self->updates && metric_batch_size (self->updates))
            wait = FETCH_METRICS_MS;
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, wait);
        if (which == self->pipe)
            fetch_worker_handle_pipe (self);
        else if (which == self->dispatcher) {
            s_self_handle_job (self);
            self->last_job = zclock_mono ();
            s_ready (self);
        }
        else if (zpoller_terminated (self->poller))
            break;
        fetch_worker_metric_send (self);
        //  A key held without work is a key another worker may be waiting for.
        if (fetch_worker_holding (self) && zclock_mono () - self->last_job >= KEY_IDLE_MS)
            fetch_worker_key_release (self, 0, 0);
    }
    s_self_destroy (&self);
}
