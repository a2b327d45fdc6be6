/*  pipeline_control: the answers of `evmtap ctl` (docs/control.md), made from what the
    pipeline's actors tell through their facades: the head pollers' figures, the key pool's
    list, the workers started. RELOAD also comes from SIGHUP. */
#include "evmtap.h"
#include "pipeline.h"
#include "chain_plan.h"
#include "control_actor.h"
#include "head_poller.h"
#include "keypool.h"
#include "options.h"

//  At most as many in-process workers per chain as --workers allows.
#define CONTROL_MAX_WORKERS 256

//  SIGHUPs not reloaded yet (the handler only counts).
static volatile sig_atomic_t s_sighups = 0;

static void
s_sighup_handler (int signum)
{
    (void) signum;
    s_sighups++;
}

//  What STATUS saw last, for blocks/s over the time between two STATUS (or since start).
typedef struct {
    uint64_t blocks;
    int64_t at;
} s_rate_t;

static s_rate_t s_rates [64];

static const char *
s_sink_name (sink_kind_t kind)
{
    return kind == SINK_KAFKA ? "kafka" : kind == SINK_STDOUT ? "stdout" : "files";
}

//  The state of one key by the pool's list: counted when the chain may use it.
static void
s_count_keys (chain_plan_t *plan, keypool_key_state_t *states, size_t count, cJSON *keys)
{
    int leased = 0, cooling = 0, parked = 0, free_keys = 0;
    for (size_t index = 0; index < count; index++) {
        bool ours = false;
        for (size_t key = 0; key < plan->options->key_count; key++)
            ours |= streq (plan->options->keys [key], states [index].key);
        if (!ours)
            continue;
        const char *state = states [index].state;
        leased += streq (state, "leased");
        cooling += streq (state, "cooling");
        parked += streq (state, "parked");
        free_keys += streq (state, "free");
    }
    cJSON_AddNumberToObject (keys, "leased", leased);
    cJSON_AddNumberToObject (keys, "cooling", cooling);
    cJSON_AddNumberToObject (keys, "parked", parked);
    cJSON_AddNumberToObject (keys, "free", free_keys);
}

static cJSON *
s_status (pipeline_t *self, options_t *options)
{
    keypool_key_state_t *states = NULL;
    size_t state_count = 0;
    bool keys_known = pipeline_keypool (self)
                      && keypool_list (pipeline_keypool (self), &states, &state_count) == 0;
    cJSON *answer = cJSON_CreateObject ();
    cJSON_AddBoolToObject (answer, "paused", pipeline_paused (self));
    cJSON *chains = cJSON_AddArrayToObject (answer, "chains");
    int64_t now = zclock_mono ();
    for (size_t index = 0; index < pipeline_chain_count (self); index++) {
        chain_plan_t *plan = pipeline_chain_plan (self, index);
        cJSON *chain = cJSON_CreateObject ();
        cJSON_AddStringToObject (chain, "chain", plan->name);
        cJSON_AddNumberToObject (chain, "chainId", (double) plan->chain_id);
        head_poller_stats_t stats;
        if (pipeline_chain_stats (self, index, &stats) == 0) {
            cJSON_AddNumberToObject (chain, "head", (double) stats.head);
            if (stats.next > 0)
                cJSON_AddNumberToObject (chain, "published", (double) (stats.next - 1));
            else
                cJSON_AddNullToObject (chain, "published");
            cJSON_AddNumberToObject (
                chain, "behind",
                stats.head + 1 > stats.next ? (double) (stats.head + 1 - stats.next) : 0.0);
            cJSON_AddNumberToObject (chain, "blocks", (double) stats.blocks);
            cJSON_AddNumberToObject (chain, "requests", (double) stats.requests);
            s_rate_t *rate = index < 64 ? &s_rates [index] : NULL;
            double per_s = 0;
            if (rate && rate->at && now > rate->at)
                per_s = (double) (stats.blocks - rate->blocks) * 1000.0 / (double) (now - rate->at);
            if (rate)
                *rate = (s_rate_t) {stats.blocks, now};
            cJSON_AddNumberToObject (chain, "blocks_per_s", per_s);
        }
        else
            cJSON_AddStringToObject (chain, "error", "the head poller is busy");
        cJSON *workers = cJSON_AddObjectToObject (chain, "workers");
        cJSON_AddNumberToObject (workers, "local", (double) pipeline_chain_workers (self, index));
        cJSON_AddNumberToObject (workers, "remote",
                                 (double) pipeline_chain_remote_workers (self, index));
        const char *stream;
        uint64_t backfill_from, backfill_to, backfill_next;
        if (pipeline_chain_backfill (self, index, &stream, &backfill_from, &backfill_to,
                                     &backfill_next)) {
            cJSON *backfill = cJSON_AddObjectToObject (chain, "backfill");
            cJSON_AddStringToObject (backfill, "stream", stream);
            cJSON_AddNumberToObject (backfill, "from", (double) backfill_from);
            cJSON_AddNumberToObject (backfill, "to", (double) backfill_to);
            cJSON_AddNumberToObject (backfill, "next", (double) backfill_next);
        }
        else
            cJSON_AddNullToObject (chain, "backfill");
        cJSON *keys = cJSON_AddObjectToObject (chain, "keys");
        cJSON_AddNumberToObject (keys, "configured", (double) plan->options->key_count);
        if (keys_known)
            s_count_keys (plan, states, state_count, keys);
        cJSON *sink = cJSON_AddObjectToObject (chain, "sink");
        cJSON_AddStringToObject (sink, "kind", s_sink_name (options->sink));
        cJSON_AddStringToObject (sink, "state", "ok");
        cJSON_AddItemToArray (chains, chain);
    }
    free (states);
    return answer;
}

static cJSON *
s_keys (pipeline_t *self, char *err, size_t err_size)
{
    keypool_key_state_t *states = NULL;
    size_t count = 0;
    if (!pipeline_keypool (self) || keypool_list (pipeline_keypool (self), &states, &count)) {
        snprintf (err, err_size, "KEYS: the key pool's store cannot be read");
        return NULL;
    }
    cJSON *array = cJSON_CreateArray ();
    for (size_t index = 0; index < count; index++) {
        keypool_key_state_t *state = &states [index];
        cJSON *item = cJSON_CreateObject ();
        cJSON_AddStringToObject (item, "key", state->key);
        cJSON_AddStringToObject (item, "provider", state->providers);
        cJSON_AddStringToObject (item, "state", state->state);
        if (*state->holder)
            cJSON_AddStringToObject (item, "holder", state->holder);
        else
            cJSON_AddNullToObject (item, "holder");
        cJSON_AddNumberToObject (item, "requests_24h", (double) state->requests_24h);
        cJSON_AddNumberToObject (item, "units_24h", (double) state->units_24h);
        cJSON_AddItemToArray (array, item);
    }
    free (states);
    return array;
}

//  {"ok": true, name: value}: the answer of a command that only acts.
static cJSON *
s_done (const char *name, double value)
{
    cJSON *answer = cJSON_CreateObject ();
    cJSON_AddBoolToObject (answer, "ok", true);
    if (name)
        cJSON_AddNumberToObject (answer, name, value);
    return answer;
}

void
pipeline_control_handle (pipeline_t *self, control_t *control)
{
    control_call_t *call = control_recv (control);
    if (!call)
        return;
    const control_request_t *request = control_call_request (call);
    options_t *options = pipeline_options (self);
    char err [CONTROL_ERROR_SIZE] = "";
    cJSON *answer = NULL;
    const char *verb = request->verb;
    if (streq (verb, "STATUS"))
        answer = s_status (self, options);
    else if (streq (verb, "KEYS"))
        answer = s_keys (self, err, sizeof (err));
    else if (streq (verb, "PAUSE") || streq (verb, "RESUME")) {
        pipeline_pause (self, streq (verb, "PAUSE"));
        zsys_info ("control: %s",
                   streq (verb, "PAUSE") ? "paused: no new blocks are fetched" : "resumed");
        answer = s_done (NULL, 0);
        cJSON_AddBoolToObject (answer, "paused", pipeline_paused (self));
    }
    else if (streq (verb, "SCALE")) {
        if (request->count < 1 || request->count > CONTROL_MAX_WORKERS)
            snprintf (err, sizeof (err), "SCALE: %" PRIu64 " is not from 1 to %d", request->count,
                      CONTROL_MAX_WORKERS);
        else if (pipeline_scale (self, (size_t) request->count))
            snprintf (err, sizeof (err), "SCALE: a fetch worker could not start");
        else {
            zsys_info ("control: %" PRIu64 " fetch workers per chain", request->count);
            answer = s_done ("workers", (double) request->count);
        }
    }
    else if (streq (verb, "RELOAD")) {
        if (pipeline_reload (self, err, sizeof (err)) == 0) {
            zsys_info ("control: decoding sources reloaded");
            answer = s_done (NULL, 0);
        }
    }
    else if (streq (verb, "STOP")) {
        zsys_info ("control: STOP asked: stopping as on SIGTERM");
        pipeline_stop (self);
        answer = s_done (NULL, 0);
    }
    else if (streq (verb, "BACKFILL")) {
        char text [256];
        int rc = pipeline_backfill (self, request->from, request->to, text, sizeof (text));
        if (rc < 0)
            snprintf (err, sizeof (err), "%s", text);
        else {
            answer = s_done (NULL, 0);
            cJSON_AddBoolToObject (answer, "started", rc == 0);
            cJSON_AddStringToObject (answer, "message", text);
        }
    }
    else
        snprintf (err, sizeof (err), "unknown command '%s'", verb);
    if (!answer && !*err)
        snprintf (err, sizeof (err), "%s failed", verb);
    control_answer (control, &call, answer, answer ? NULL : err);
}

void
pipeline_control_sighup (pipeline_t *self)
{
    static bool installed = false;
    static sig_atomic_t seen = 0;
    if (!installed) {
        struct sigaction action;
        memset (&action, 0, sizeof (action));
        action.sa_handler = s_sighup_handler;
        sigemptyset (&action.sa_mask);
        sigaction (SIGHUP, &action, NULL);
        installed = true;
    }
    if (seen == s_sighups)
        return;
    seen = s_sighups;
    char err [512];
    if (pipeline_reload (self, err, sizeof (err)) == 0)
        zsys_info ("SIGHUP: decoding sources reloaded");
    else
        zsys_error ("SIGHUP: reload failed, the sources in use stay: %s", err);
}
