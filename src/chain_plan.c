/*  chain_plan: per-chain worker assignment, naming and start point (see chain_plan.h). */
#include "chain_plan.h"

chain_plan_t *
chain_plan_new (chain_options_t *options, const char *secrets_dir, char *err, size_t err_size)
{
    chain_plan_t *self = (chain_plan_t *) zmalloc (sizeof (chain_plan_t));
    assert (self);
    self->options = options;
    self->start = OPTIONS_UNSET;
    self->workers = (chain_worker_t *) calloc ((size_t) options->workers, sizeof (chain_worker_t));
    assert (self->workers);
    size_t next_key = 0;
    for (int index = 0; index < options->workers; index++) {
        const char *url = options->rpc [(size_t) index % options->rpc_count];
        chain_worker_t *worker = &self->workers [self->worker_count];
        secrets_provider_name (url, worker->provider, sizeof (worker->provider));
        if (!secrets_url_needs_key (url)) {
            worker->url = secrets_fill_url (url, "");
            self->worker_count++;
            continue;
        }
        //  Each key serves one worker at a time: surplus workers are not started.
        if (next_key >= options->key_count)
            continue;
        worker->key_name = options->keys [next_key++];
        char *secret = secrets_lookup (worker->key_name, secrets_dir, err, err_size);
        if (!secret) {
            chain_plan_destroy (&self);
            return NULL;
        }
        worker->url = secrets_fill_url (url, secret);
        secrets_free (&secret);
        self->worker_count++;
    }
    if (self->worker_count < (size_t) options->workers)
        zsys_warning ("chain %s: %d workers asked for, %zu keys: running %zu workers (a key "
                      "is never shared)", options->name ? options->name : "(unnamed)",
                      options->workers, options->key_count, self->worker_count);
    if (self->worker_count == 0) {
        snprintf (err, err_size, "chain %s: no worker can start: every rpc URL needs a {key} "
                  "and no keys are configured", options->name ? options->name : "(unnamed)");
        chain_plan_destroy (&self);
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
    for (size_t index = 0; index < self->worker_count; index++)
        secrets_free (&self->workers [index].url);
    free (self->workers);
    free (self);
    *self_p = NULL;
}

int
chain_plan_set_chain_id (chain_plan_t *self, uint64_t chain_id, char *err, size_t err_size)
{
    if (self->options->chain_id && self->options->chain_id != chain_id) {
        snprintf (err, err_size, "chain %s: provider %s serves chain id %" PRIu64
                  ", not the %" PRIu64 " configured", self->options->name ? self->options->name : "",
                  self->workers [0].provider, chain_id, self->options->chain_id);
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
    }
    else {
        self->start = self->options->from;
        self->parent_hash [0] = 0;
    }
    return 0;
}
