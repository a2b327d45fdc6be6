/*  proxy_lookup: a cache in memory over the data dir's proxy_store, and per chain a
    ROUTER to which one fetch worker of the chain connects: it leases its key from the pool
    like every worker, so the lookups are journaled and budgeted like every call. The
    worker speaks the dispatcher protocol (READY, then one message, its answer, READY) with
    proxy_query frames in place of jobs.

    A lookup blocks the decoder (the call cannot be decoded without its answer), but it
    happens once per contract without a bound ABI, then once per refresh. An answer to a
    lookup given up (interrupted) is recognised by its id and dropped. */
#include "evmtap.h"
#include "proxy_lookup.h"
#include "proxy_query.h"
#include "proxy_store.h"

//  How long a lookup waits for the worker (it retries and moves between keys itself).
#define S_WAIT_MS 60000

typedef struct {
    char implementation [43];    //  "" when it is no proxy
    uint64_t block;              //  read at this block
} s_entry_t;

typedef struct {
    char *chain;
    zsock_t *router;    //  the chain's proxy worker connects here
    zframe_t *idle;     //  its identity once it said READY, NULL while busy or absent
} s_chain_t;

struct _proxy_lookup_t {
    proxy_store_t *store;    //  NULL: memory only
    uint64_t refresh_blocks;
    zhashx_t *entries;    //  "<chain>/<address>" -> s_entry_t
    s_chain_t *chains;
    size_t chain_count;
    uint64_t next_id;
    uint64_t queries;
    char found [43];    //  the last implementation returned
};

static void
s_entry_free (void **item)
{
    free (*item);
    *item = NULL;
}

proxy_lookup_t *
proxy_lookup_new (const char *data_dir, uint64_t refresh_blocks, char *err, size_t err_size)
{
    proxy_lookup_t *self = (proxy_lookup_t *) zmalloc (sizeof (proxy_lookup_t));
    assert (self);
    if (data_dir && !(self->store = proxy_store_open (data_dir, err, err_size))) {
        free (self);
        return NULL;
    }
    self->refresh_blocks = refresh_blocks;
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_entry_free);
    self->next_id = 1;
    return self;
}

void
proxy_lookup_destroy (proxy_lookup_t **self_p)
{
    assert (self_p);
    proxy_lookup_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->chain_count; index++) {
        zstr_free (&self->chains [index].chain);
        zsock_destroy (&self->chains [index].router);
        zframe_destroy (&self->chains [index].idle);
    }
    free (self->chains);
    zhashx_destroy (&self->entries);
    proxy_store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

int
proxy_lookup_add_chain (proxy_lookup_t *self, const char *chain, const char *endpoint)
{
    assert (self && chain && endpoint);
    zsock_t *router = zsock_new_router (endpoint);
    if (!router)
        return -1;
    self->chains = (s_chain_t *) realloc (self->chains,
                                          (self->chain_count + 1) * sizeof (s_chain_t));
    assert (self->chains);
    s_chain_t *added = &self->chains [self->chain_count++];
    added->chain = strdup (chain);
    assert (added->chain);
    added->router = router;
    added->idle = NULL;
    return 0;
}

uint64_t
proxy_lookup_queries (proxy_lookup_t *self)
{
    assert (self);
    return self->queries;
}

//  Remembers an entry in memory and in the store.
static void
s_remember (proxy_lookup_t *self, const char *chain, const char *name, const char *address,
            const char *implementation, uint64_t block)
{
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, name);
    if (!entry) {
        entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        assert (entry);
        zhashx_insert (self->entries, name, entry);
    }
    snprintf (entry->implementation, sizeof (entry->implementation), "%s", implementation);
    entry->block = block;
    char err [256];
    if (self->store
        && proxy_store_put (self->store, chain, address, implementation, block, err, sizeof (err)))
        zsys_warning ("decoder: proxies: %s", err);
}

//  Reads one message of the chain's worker: READY makes it idle; an answer to query id
//  goes into answer (returns 1). Returns 0 for anything else.
static int
s_read_worker (s_chain_t *chain, uint64_t id, proxy_answer_t *answer)
{
    zmsg_t *msg = zmsg_recv (chain->router);
    if (!msg)
        return 0;
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    int got = 0;
    if (identity && body && zframe_streq (body, "READY")) {
        zframe_destroy (&chain->idle);
        chain->idle = identity;
        identity = NULL;
    }
    else if (body && msg_type (body) == MSG_TYPE_PROXY_ANSWER
             && proxy_answer_decode (body, answer) == 0 && answer->id == id)
        got = 1;
    zframe_destroy (&identity);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    return got;
}

//  Asks the chain's worker; 0 with the answer, -1 when it failed, timed out or was
//  interrupted.
static int
s_ask (proxy_lookup_t *self, s_chain_t *chain, const char *address, uint64_t block,
       zsock_t *interrupt, proxy_answer_t *answer)
{
    proxy_query_t query = {.id = self->next_id++, .number = block};
    snprintf (query.address, sizeof (query.address), "%s", address);
    zpoller_t *poller = zpoller_new (chain->router, interrupt, NULL);
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    bool sent = false;
    int rc = -1;
    while (zclock_mono () < deadline) {
        if (!sent && chain->idle) {
            zframe_t *frame = proxy_query_encode (&query);
            zframe_send (&chain->idle, chain->router, ZFRAME_MORE);
            zframe_send (&frame, chain->router, 0);
            sent = true;
            self->queries++;
        }
        void *which = zpoller_wait (poller, (int) (deadline - zclock_mono ()));
        if (which == chain->router) {
            if (s_read_worker (chain, query.id, answer)) {
                rc = answer->status == 0 ? 0 : -1;
                if (rc)
                    zsys_warning ("decoder: proxy lookup of %s failed: %s", address, answer->error);
                break;
            }
        }
        else if (which || zpoller_terminated (poller))
            break;
    }
    if (rc && !answer->error [0] && zclock_mono () >= deadline)
        zsys_warning ("decoder: proxy lookup of %s: no answer within %d s", address,
                      S_WAIT_MS / 1000);
    zpoller_destroy (&poller);
    return rc;
}

const char *
proxy_lookup_implementation (proxy_lookup_t *self, const char *chain, const char *address,
                             uint64_t block, zsock_t *interrupt)
{
    assert (self && chain && address);
    char *name = zsys_sprintf ("%s/%s", chain, address);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, name);
    if (!entry && self->store) {
        s_entry_t stored;
        char err [256];
        int rc = proxy_store_get (self->store, chain, address, stored.implementation, &stored.block,
                                  err, sizeof (err));
        if (rc == 0) {
            entry = (s_entry_t *) malloc (sizeof (s_entry_t));
            assert (entry);
            *entry = stored;
            zhashx_insert (self->entries, name, entry);
        }
        else if (rc < 0)
            zsys_warning ("decoder: proxies: %s", err);
    }
    bool stale = entry && self->refresh_blocks && block >= entry->block + self->refresh_blocks;
    if (!entry || stale) {
        s_chain_t *found = NULL;
        for (size_t index = 0; index < self->chain_count && !found; index++)
            if (streq (self->chains [index].chain, chain))
                found = &self->chains [index];
        proxy_answer_t answer;
        memset (&answer, 0, sizeof (answer));
        if (found && s_ask (self, found, address, block, interrupt, &answer) == 0) {
            s_remember (self, chain, name, address, answer.implementation, block);
            entry = (s_entry_t *) zhashx_lookup (self->entries, name);
        }
    }
    zstr_free (&name);
    if (!entry || !entry->implementation [0])
        return NULL;
    snprintf (self->found, sizeof (self->found), "%s", entry->implementation);
    return self->found;
}

void
proxy_lookup_upgraded (proxy_lookup_t *self, const char *chain, const char *address,
                       const char *implementation, uint64_t block)
{
    assert (self && chain && address && implementation);
    char *name = zsys_sprintf ("%s/%s", chain, address);
    s_remember (self, chain, name, address, implementation, block);
    zstr_free (&name);
}

//  Plays a chain's proxy worker: READY, then answers each query with the implementation
//  of the test's table (or a failure for 0x...dead), READY again; stops on $TERM.
static void
s_fake_worker (zsock_t *pipe, void *args)
{
    zsock_t *dealer = zsock_new_dealer ((const char *) args);
    zsock_signal (pipe, 0);
    zstr_send (dealer, "READY");
    zpoller_t *poller = zpoller_new (pipe, dealer, NULL);
    while (zpoller_wait (poller, -1) == dealer) {
        zframe_t *frame = zframe_recv (dealer);
        proxy_query_t query;
        assert (frame && proxy_query_decode (frame, &query) == 0);
        zframe_destroy (&frame);
        proxy_answer_t answer = {.id = query.id, .status = 0, .requests = 4};
        if (streq (query.address, "0x000000000000000000000000000000000000dead")) {
            answer.status = 2;
            snprintf (answer.error, sizeof (answer.error), "node: proxy: timeout");
        }
        else if (streq (query.address, "0x1111111111111111111111111111111111111111"))
            snprintf (answer.implementation, sizeof (answer.implementation), "%s",
                      query.number >= 100 ? "0x3333333333333333333333333333333333333333"
                                          : "0x2222222222222222222222222222222222222222");
        frame = proxy_answer_encode (&answer);
        zframe_send (&frame, dealer, 0);
        zstr_send (dealer, "READY");
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
}

//  Lookups through a fake worker: asked once, then from memory, then from the store after
//  a restart; asked again after the refresh; an Upgraded event replaces the answer without
//  asking; a contract that is no proxy is remembered too; failures and unknown chains are
//  NULL and not remembered.
void
proxy_lookup_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-proxy-lookup-XXXXXX";
    assert (mkdtemp (dir));
    char err [256];
    const char *proxy = "0x1111111111111111111111111111111111111111";
    const char *plain = "0x4444444444444444444444444444444444444444";
    for (int round = 0; round < 2; round++) {
        proxy_lookup_t *self = proxy_lookup_new (dir, 50, err, sizeof (err));
        assert (self);
        //  An endpoint of each round's own: libzmq unbinds a closed socket's inproc
        //  endpoint after the close returns, so binding the same one again may fail.
        char endpoint [64];
        snprintf (endpoint, sizeof (endpoint), "inproc://proxy-lookup-test-%d", round);
        assert (proxy_lookup_add_chain (self, "anvil", endpoint) == 0);
        zactor_t *worker = zactor_new (s_fake_worker, endpoint);
        const char *found = proxy_lookup_implementation (self, "anvil", proxy, 10, NULL);
        assert (found && streq (found, "0x2222222222222222222222222222222222222222"));
        assert (proxy_lookup_queries (self) == (round ? 0u : 1u));
        assert (!proxy_lookup_implementation (self, "anvil", plain, 10, NULL));
        assert (!proxy_lookup_implementation (self, "anvil", plain, 11, NULL));
        assert (proxy_lookup_queries (self) == (round ? 0u : 2u));
        assert (!proxy_lookup_implementation (self, "mainnet", proxy, 10, NULL));
        if (round == 1) {
            //  Stale after 50 blocks: asked again, and the node now says 0x3333.
            found = proxy_lookup_implementation (self, "anvil", proxy, 100, NULL);
            assert (found && streq (found, "0x3333333333333333333333333333333333333333"));
            assert (proxy_lookup_queries (self) == 1);
            proxy_lookup_upgraded (self, "anvil", proxy,
                                   "0x5555555555555555555555555555555555555555", 101);
            found = proxy_lookup_implementation (self, "anvil", proxy, 102, NULL);
            assert (found && streq (found, "0x5555555555555555555555555555555555555555"));
            const char *dead = "0x000000000000000000000000000000000000dead";
            assert (!proxy_lookup_implementation (self, "anvil", dead, 102, NULL));
            assert (!proxy_lookup_implementation (self, "anvil", dead, 102, NULL));
            assert (proxy_lookup_queries (self) == 3);
        }
        zactor_destroy (&worker);
        proxy_lookup_destroy (&self);
        proxy_lookup_destroy (&self);
    }
    //  Memory only; an interrupt with input gives up at once.
    proxy_lookup_t *self = proxy_lookup_new (NULL, 0, err, sizeof (err));
    assert (proxy_lookup_add_chain (self, "anvil", "inproc://proxy-lookup-test-2") == 0);
    zsock_t *interrupt = zsock_new_pair ("@inproc://proxy-lookup-interrupt");
    zsock_t *other = zsock_new_pair (">inproc://proxy-lookup-interrupt");
    zstr_send (other, "$TERM");
    assert (!proxy_lookup_implementation (self, "anvil", proxy, 10, interrupt));
    zsock_destroy (&other);
    zsock_destroy (&interrupt);
    proxy_lookup_destroy (&self);
    char *path = zsys_sprintf ("%s/proxies/data.mdb", dir);
    unlink (path);
    zstr_free (&path);
    path = zsys_sprintf ("%s/proxies/lock.mdb", dir);
    unlink (path);
    zstr_free (&path);
    path = zsys_sprintf ("%s/proxies", dir);
    rmdir (path);
    zstr_free (&path);
    rmdir (dir);
}
