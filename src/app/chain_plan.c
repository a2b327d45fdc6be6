/*  chain_plan: per-chain worker assignment, naming and start point (see chain_plan.h). */
#include "chain_plan.h"
#include "chain_probe.h"
#include "keypool.h"
#include <inttypes.h>
#include <unistd.h>
#include "backoff.h"
#include "checkpoint.h"
#include "cost_table.h"
#include "fetch_worker.h"
#include "jsonrpc.h"
#include "key_lease.h"
#include "keypool_store.h"
#include "options.h"
#include "rpc_client.h"
#include "secrets.h"

chain_plan_t *
chain_plan_new (chain_options_t *options, const char *secrets_dir, char *err, size_t err_size)
{
    chain_plan_t *self = (chain_plan_t *) zmalloc (sizeof (chain_plan_t));
    assert (self);
    self->options = options;
    self->start = OPTIONS_UNSET;
    self->costs = cost_table_new (options->key_costs, err, err_size);
    if (!self->costs) {
        free (self);
        return NULL;
    }
    //  With no worker in this process (remote ones only) the first is still planned: the
    //  probe asks its provider.
    int planned = options->workers > 0 ? options->workers : 1;
    self->workers = (chain_worker_t *) calloc ((size_t) planned, sizeof (chain_worker_t));
    assert (self->workers);
    bool pooled = false;
    for (int index = 0; index < planned; index++) {
        chain_worker_t *worker = &self->workers [index];
        worker->url_template = options->rpc [(size_t) index % options->rpc_count];
        secrets_provider_name (worker->url_template, worker->provider, sizeof (worker->provider));
        worker->pooled = secrets_url_needs_key (worker->url_template);
        pooled |= worker->pooled;
    }
    self->worker_count = (size_t) options->workers;
    if (pooled && options->key_count == 0) {
        snprintf (err, err_size,
                  "chain %s: no worker can start: every rpc URL needs a {key} "
                  "and no keys are configured",
                  options->name ? options->name : "(unnamed)");
        chain_plan_destroy (&self);
        return NULL;
    }
    if (pooled) {
        self->secrets = (char **) calloc (options->key_count + 1, sizeof (char *));
        assert (self->secrets);
        for (size_t key = 0; key < options->key_count; key++) {
            self->secrets [key] = secrets_lookup (options->keys [key], secrets_dir, err, err_size);
            if (!self->secrets [key]) {
                chain_plan_destroy (&self);
                return NULL;
            }
        }
        //  Every worker is started: those beyond the keys wait for one (a key is never
        //  shared), and take over when a key comes back or another cools down.
        if ((size_t) options->workers > options->key_count)
            zsys_warning ("chain %s: %d workers asked for, %zu keys: running %zu workers at "
                          "a time; the other %zu wait for a free key (a key is never shared)",
                          options->name ? options->name : "(unnamed)", options->workers,
                          options->key_count, options->key_count,
                          (size_t) options->workers - options->key_count);
    }
    return self;
}

void
chain_plan_destroy (chain_plan_t **self_p)
{
    assert (self_p);
    chain_plan_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; self->secrets && index < self->options->key_count; index++)
        secrets_free (&self->secrets [index]);
    free (self->secrets);
    cost_table_destroy (&self->costs);
    block_window_destroy (&self->published);
    free (self->workers);
    free (self);
    *self_p = NULL;
}

//  The holder name of a worker in the pool: host:pid:chain/w<n>, or host:pid:chain/proxies.
static void
s_holder (chain_plan_t *self, size_t worker, char *out, size_t size)
{
    char host [64] = "localhost";
    gethostname (host, sizeof (host) - 1);
    const char *chain = *self->name ? self->name : "probe";
    if (worker == CHAIN_PLAN_PROXY_WORKER)
        snprintf (out, size, "%s:%d:%s/proxies", host, (int) getpid (), chain);
    else
        snprintf (out, size, "%s:%d:%s/w%zu", host, (int) getpid (), chain, worker);
}

fetch_worker_args_t *
chain_plan_worker_args (chain_plan_t *self, size_t worker, const char *dispatcher,
                        const char *keypool, int timeout_ms)
{
    assert (self->worker_count > 0);
    //  Workers that `evmtap ctl SCALE` adds take the providers in the same turns; the
    //  decoder's proxy lookups (CHAIN_PLAN_PROXY_WORKER) the first worker's.
    chain_worker_t *plan =
        &self->workers [worker == CHAIN_PLAN_PROXY_WORKER ? 0 : worker % self->worker_count];
    chain_options_t *options = self->options;
    if (!plan->pooled) {
        char *url = secrets_fill_url (plan->url_template, "");
        fetch_worker_args_t *args = fetch_worker_args_new (dispatcher, url, plan->provider,
                                                           options->key_rps, timeout_ms);
        secrets_free (&url);
        args->verify = (int) options->verify;
        args->chain = strdup (self->name);
        return args;
    }
    fetch_worker_args_t *args = fetch_worker_args_new (dispatcher, "", plan->provider,
                                                       options->key_rps, timeout_ms);
    args->verify = (int) options->verify;
    args->chain = strdup (self->name);
    char holder [200];
    s_holder (self, worker, holder, sizeof (holder));
    fetch_worker_args_set_pool (args, keypool, holder, self->costs, (uint64_t) options->key_daily,
                                (int64_t) (options->key_rotate * 1000),
                                options->key_rotate_requests);
    for (size_t key = 0; key < options->key_count; key++) {
        char *url = secrets_fill_url (plan->url_template, self->secrets [key]);
        fetch_worker_args_add_key (args, options->keys [key], url);
        secrets_free (&url);
    }
    return args;
}

void
chain_plan_welcome (chain_plan_t *self, int timeout_ms, worker_link_item_t *items,
                    worker_link_t *welcome)
{
    chain_options_t *options = self->options;
    for (size_t index = 0; index < options->rpc_count; index++)
        items [index].text = options->rpc [index];
    for (size_t index = 0; index < options->key_count; index++)
        items [options->rpc_count + index].text = options->keys [index];
    *welcome = (worker_link_t) {.type = MSG_TYPE_LINK_WELCOME,
                                .chain = self->name,
                                .chain_id = self->chain_id,
                                .fetch_mode = options->fetch,
                                .receipts = options->receipts,
                                .verify = (int) options->verify,
                                .rpc = items,
                                .rpc_count = options->rpc_count,
                                .keys = items + options->rpc_count,
                                .key_count = options->key_count,
                                .key_rps_milli = (uint64_t) (options->key_rps * 1000),
                                .key_daily = (uint64_t) options->key_daily,
                                .key_costs = options->key_costs ? options->key_costs : "requests",
                                .rotate_ms = (int64_t) (options->key_rotate * 1000),
                                .rotate_requests = options->key_rotate_requests,
                                .timeout_ms = timeout_ms};
}

//  How one pooled probe attempt ended.
typedef enum {
    S_PROBE_ANSWERED,    //  the query has its answer
    S_PROBE_FAILED,      //  logged: try again after a backoff
    S_PROBE_STOPPED,     //  should_stop said so
} s_probe_t;

//  One query under a lease of one of the chain's keys (lease: their rules), held as
//  holder and journaled like any request.
static s_probe_t
s_probe_once (chain_plan_t *self, keypool_client_t *pool, key_lease_t *lease, const char *holder,
              int timeout_ms, bool (*should_stop) (void *arg), void *arg,
              chain_probe_query_t *query)
{
    const char *method = chain_probe_method (query);
    chain_worker_t *worker = &self->workers [0];
    while (!should_stop (arg)) {
        keypool_lease_t granted;
        keypool_busy_t busy;
        if (keypool_client_acquire (pool, holder, key_lease_ttl_ms (lease), key_lease_daily (lease),
                                    key_lease_daily_utc (lease), key_lease_keys (lease),
                                    key_lease_count (lease), &granted, &busy)) {
            zclock_sleep (250);
            continue;
        }
        size_t index;
        if (key_lease_take (lease, &granted, zclock_mono (), &index)) {
            zsys_error ("%s: the key pool leased %s, not one of the chain's keys", worker->provider,
                        granted.key);
            keypool_client_release (pool, &granted, 0, 0);
            break;
        }
        //  Journaled as "<provider>/<name>"; the probe holds the key no longer than this.
        char journal_key [KEYPOOL_KEY_SIZE + 64];
        snprintf (journal_key, sizeof (journal_key), "%s", key_lease_journal_key (lease));
        key_lease_drop (lease);
        uint64_t units = key_lease_units (lease, method), minute;
        if (keypool_client_spend_minute (pool, journal_key, method, 1, units, &minute)) {
            keypool_client_release (pool, &granted, 0, 0);
            zclock_sleep (1000);
            continue;
        }
        char *url = secrets_fill_url (worker->url_template, self->secrets [index]);
        rpc_client_t *client = rpc_client_new (url, worker->provider, timeout_ms);
        secrets_free (&url);
        //  No abort hook on client: the attempt is never cut short.
        jsonrpc_answer_t answer;
        if (chain_probe_ask (client, query, &answer) == 0) {
            rpc_client_destroy (&client);
            keypool_client_release (pool, &granted, 0, 0);
            return S_PROBE_ANSWERED;
        }
        //  A rate-limit or quota answer is billed as the table says (Infura: not at all).
        bool refused = answer.status == JSONRPC_RATE_LIMITED
                       || answer.status == JSONRPC_QUOTA_EXCEEDED;
        uint64_t billed = refused && self->costs ? cost_table_answer_units (
                              self->costs, method,
                              answer.status == JSONRPC_RATE_LIMITED ? 429 : 402)
                                                 : units;
        if (billed < units)
            keypool_client_refund (pool, journal_key, method, minute, units - billed);
        int64_t cool = answer.status == JSONRPC_RATE_LIMITED
                           ? key_lease_cool_ms (answer.backoff_seconds)
                           : 0;
        int64_t park = answer.status == JSONRPC_QUOTA_EXCEEDED
                           ? key_lease_quota_park_ms (lease, zclock_time ())
                           : 0;
        cool = keypool_client_release (pool, &granted, cool, park);
        zsys_warning (
            "%s key %s: %s: %s: %s (key cooling down for %" PRId64 " ms, parked for %" PRId64 " s)",
            worker->provider, self->options->keys [index], method,
            jsonrpc_status_name (answer.status), answer.message, cool > 0 ? cool : 0, park / 1000);
        rpc_client_destroy (&client);
        break;
    }
    return should_stop (arg) ? S_PROBE_STOPPED : S_PROBE_FAILED;
}

int
chain_plan_ask (chain_plan_t *self, const char *keypool, int timeout_ms,
                bool (*should_stop) (void *arg), void *arg, chain_probe_query_t *query)
{
    chain_worker_t *worker = &self->workers [0];
    if (!worker->pooled) {
        char *url = secrets_fill_url (worker->url_template, "");
        int rc = chain_probe_run (url, worker->provider, timeout_ms, should_stop, arg, query);
        secrets_free (&url);
        return rc;
    }
    keypool_client_t *pool = keypool_client_new (keypool);
    assert (pool);
    //  The probe leases as worker 0 does, by the same rules.
    key_lease_t *lease = key_lease_new (worker->provider, (const char *const *) self->options->keys,
                                        self->options->key_count, timeout_ms, self->costs);
    char holder [200];
    s_holder (self, 0, holder, sizeof (holder));
    backoff_t backoff;
    backoff_init (&backoff, 250, 8000);
    s_probe_t probe;
    while ((probe = s_probe_once (self, pool, lease, holder, timeout_ms, should_stop, arg, query))
           == S_PROBE_FAILED) {
        int64_t wait = backoff_next (&backoff);
        for (int64_t waited = 0; waited < wait && !should_stop (arg); waited += 50)
            zclock_sleep (50);
    }
    key_lease_destroy (&lease);
    keypool_client_destroy (&pool);
    return probe == S_PROBE_ANSWERED ? 0 : -1;
}

int
chain_plan_probe (chain_plan_t *self, const char *keypool, int timeout_ms,
                  bool (*should_stop) (void *arg), void *arg, uint64_t *chain_id)
{
    chain_probe_query_t query = {.block = false};
    int rc = chain_plan_ask (self, keypool, timeout_ms, should_stop, arg, &query);
    if (rc == 0)
        *chain_id = query.chain_id;
    return rc;
}

int
chain_plan_set_chain_id (chain_plan_t *self, uint64_t chain_id, char *err, size_t err_size)
{
    if (self->options->chain_id && self->options->chain_id != chain_id) {
        //  Named as its topics would be: by --chain, else by the configured id.
        char name [64];
        if (self->options->name)
            snprintf (name, sizeof (name), "%s", self->options->name);
        else
            options_default_chain_name (self->options->chain_id, name, sizeof (name));
        snprintf (err, err_size,
                  "chain %s: provider %s serves chain id %" PRIu64 ", not the %" PRIu64
                  " configured (--chain-id)",
                  name, self->workers [0].provider, chain_id, self->options->chain_id);
        return -1;
    }
    self->chain_id = chain_id;
    if (self->options->name)
        snprintf (self->name, sizeof (self->name), "%s", self->options->name);
    else
        options_default_chain_name (chain_id, self->name, sizeof (self->name));
    return 0;
}

int
chain_plan_set_start (chain_plan_t *self, checkpoint_t *checkpoint)
{
    uint64_t number;
    int rc = checkpoint_get (checkpoint, self->name, &number, self->parent_hash);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        self->start = (int64_t) number + 1;
        zsys_info ("chain %s: resuming after block %" PRIu64 " (checkpoint)", self->name, number);
        if (!self->published)
            self->published = block_window_new (BLOCK_WINDOW_SIZE);
        //  A data dir of an older version has no window: the walk starts at the checkpoint,
        //  as it does when the record cannot be read (logged).
        if (checkpoint_get_window (checkpoint, self->name, self->published) < 0)
            zsys_warning ("chain %s: the hashes of its last blocks cannot be read: a reorg "
                          "found at start is walked back from the checkpointed block only",
                          self->name);
    }
    else {
        self->start = self->options->from;
        self->parent_hash [0] = 0;
    }
    return 0;
}

//  The genesis hash of a chain whose provider had no block 0.
#define S_GENESIS_UNKNOWN "-"

//  The chain's identity in the checkpoint store: "<chain id> <genesis hash>".
static char *
s_identity_key (chain_plan_t *self)
{
    char *key = zsys_sprintf ("chain.%s.identity", self->name);
    assert (key);
    return key;
}

int
chain_plan_check_identity (chain_plan_t *self, checkpoint_t *checkpoint, const char *keypool,
                           int timeout_ms, bool (*should_stop) (void *arg), void *arg, char *err,
                           size_t err_size)
{
    err [0] = 0;
    char *key = s_identity_key (self);
    char recorded [128] = "";
    int rc = checkpoint_get_meta (checkpoint, key, recorded, sizeof (recorded));
    uint64_t recorded_id = 0;
    char recorded_genesis [BLOCK_HASH_SIZE] = "";
    if (rc == 0 && sscanf (recorded, "%" SCNu64 " %66s", &recorded_id, recorded_genesis) != 2)
        rc = -1;
    if (rc < 0) {
        snprintf (err, err_size, "chain %s: cannot read its identity in the checkpoint store",
                  self->name);
        zstr_free (&key);
        return EVMTAP_EXIT_FAILURE;
    }
    const char *provider = self->workers [0].provider;
    if (rc == 0 && recorded_id != self->chain_id) {
        snprintf (err, err_size,
                  "chain %s: provider %s serves chain id %" PRIu64 ", but this data dir holds "
                  "chain id %" PRIu64 " under that name: give this chain another --chain name, "
                  "or a fresh --data-dir",
                  self->name, provider, self->chain_id, recorded_id);
        zstr_free (&key);
        return EVMTAP_EXIT_USAGE;
    }
    chain_probe_query_t genesis = {.block = true, .number = 0};
    if (chain_plan_ask (self, keypool, timeout_ms, should_stop, arg, &genesis)) {
        zstr_free (&key);
        return EVMTAP_EXIT_UNDRAINED;
    }
    //  A provider without block 0 (pruned, or a test double): the genesis goes unchecked.
    if (!genesis.hash [0]) {
        zsys_warning ("chain %s: provider %s has no block 0: its genesis is not checked",
                      self->name, provider);
        snprintf (genesis.hash, sizeof (genesis.hash), "%s", S_GENESIS_UNKNOWN);
    }
    if (rc == 0 && !streq (recorded_genesis, genesis.hash)
        && !streq (recorded_genesis, S_GENESIS_UNKNOWN)
        && !streq (genesis.hash, S_GENESIS_UNKNOWN)) {
        snprintf (err, err_size,
                  "chain %s: provider %s serves chain id %" PRIu64 " of genesis %s, but this "
                  "data dir holds the chain of genesis %s under that name: give this chain "
                  "another --chain name, or a fresh --data-dir",
                  self->name, provider, self->chain_id, genesis.hash, recorded_genesis);
        zstr_free (&key);
        return EVMTAP_EXIT_USAGE;
    }
    if (rc == 1
        || (streq (recorded_genesis, S_GENESIS_UNKNOWN)
            && !streq (genesis.hash, S_GENESIS_UNKNOWN))) {
        char *identity = zsys_sprintf ("%" PRIu64 " %s", self->chain_id, genesis.hash);
        assert (identity);
        if (checkpoint_begin (checkpoint) != 0 || checkpoint_set_meta (checkpoint, key, identity)
            || checkpoint_commit (checkpoint) != 0) {
            snprintf (err, err_size,
                      "chain %s: cannot record its identity in the checkpoint "
                      "store (LMDB error logged)",
                      self->name);
            rc = -1;
        }
        zstr_free (&identity);
    }
    zstr_free (&key);
    if (rc < 0)
        return EVMTAP_EXIT_FAILURE;
    //  No block at the checkpointed number: the chain was replaced while evmtap was down,
    //  and following it would leave a gap. Another hash there is a reorg, which the head
    //  poller walks back (its first block's parent is not the checkpointed one).
    if (!self->parent_hash [0] || self->start <= 0)
        return EVMTAP_EXIT_OK;
    chain_probe_query_t last = {.block = true, .number = (uint64_t) self->start - 1};
    if (chain_plan_ask (self, keypool, timeout_ms, should_stop, arg, &last))
        return EVMTAP_EXIT_UNDRAINED;
    if (!last.hash [0]) {
        snprintf (err, err_size,
                  "chain %s: block %" PRIu64 " checkpointed with hash %s, but provider %s has "
                  "no such block: the chain was replaced while evmtap was down; start with "
                  "a fresh --data-dir (this one's files stay as they are)",
                  self->name, last.number, self->parent_hash, provider);
        return EVMTAP_EXIT_FAILURE;
    }
    if (!streq (last.hash, self->parent_hash))
        zsys_warning ("chain %s: block %" PRIu64 " checkpointed with hash %s, but provider %s "
                      "has %s: reorganized while evmtap was down; walking back to the common "
                      "ancestor",
                      self->name, last.number, self->parent_hash, provider, last.hash);
    return EVMTAP_EXIT_OK;
}
