/*  decoder: sits between the classifier and the broker. For every record of a batch whose
    topic is <chain>.mined.tx.3.contract_interaction it adds, right after it, one record on
    <chain>.mined.tx.3.contract_interaction.decoded (key: the transaction hash): DESIGN's
    "Decoded call", decoded or with a reason, exactly one per contract interaction. Each
    internal log record (<chain>.mined.logs, with --receipts) is replaced by its "Decoded
    log" on <chain>.mined.logs.decoded and, when the log is an ERC-20 or ERC-721 Transfer,
    a "Token transfer" on <chain>.mined.token_transfers (key: <txhash>:<logIndex>). With
    watchlists, the batch ends with its "Alert" records on <chain>.alerts.watchlist (key:
    <txhash>:<list>:<address>). A call to a contract without a bound ABI is decoded with
    its implementation's bound ABI when it is a proxy (proxy_lookup: asked of the chain's
    proxy fetch worker once, updated by the proxy's Upgraded logs from the next block on)
    and its record says "via". Other records pass unchanged and in order; so do
    end-of-stream markers (FLUSH). A new set of watchlists is taken between two batches,
    so that each block is matched against one set, whole.

    Pipe commands:
        $TERM                   leave
        STATS                   -> STATS batches interactions decoded unknown_selector
                                   bad_calldata logs logs_decoded transfers alerts
        RELOAD sources          take sources (a call_decoder_t pointer) in place of its
                                own from the next batch on -> RELOADED (`evmtap ctl
                                RELOAD`, SIGHUP)
        WATCH pointer           takes the watch_match_t * (NULL: none), drops the one it
                                had -> signal 0
    Main starts and stops it through the facade (decoder_t, decoder.h).
*/
#include "evmtap.h"
#include "decoder.h"
#include "batch.h"
#include "block_msg.h"
#include "call_decoder.h"
#include "hexutil.h"
#include "jsonw.h"
#include "log_record.h"
#include "msg.h"
#include "stage.h"
#include "proxy_lookup.h"
#include "topics.h"
#include "watch_match.h"

typedef struct {
    zsock_t *pipe;
    stage_t *stage;    //  batches from the classifier in, to the broker out
    call_decoder_t *decoder;
    log_record_t *log;
    watch_match_t *watch;       //  the watchlists, NULL when none
    proxy_lookup_t *proxies;    //  NULL: no proxy lookups
    bool terminated;
    uint64_t batch_count;
    uint64_t interactions;
    uint64_t counts [3];    //  by call_decoding_t
    uint64_t logs;
    uint64_t logs_decoded;
    uint64_t transfers;
    uint64_t alerts;
} self_t;

static self_t *
s_self_new (zsock_t *pipe, decoder_args_t *args)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->decoder = args->decoder;
    args->decoder = NULL;
    self->watch = args->watch;
    args->watch = NULL;
    self->proxies = args->proxies;
    args->proxies = NULL;
    if (!self->decoder) {
        zsys_error ("decoder: no decoding sources");
        watch_match_destroy (&self->watch);
        proxy_lookup_destroy (&self->proxies);
        free (self);
        return NULL;
    }
    self->stage = stage_new ("decoder", pipe, args->endpoint, args->broker);
    if (!self->stage) {
        call_decoder_destroy (&self->decoder);
        watch_match_destroy (&self->watch);
        proxy_lookup_destroy (&self->proxies);
        free (self);
        return NULL;
    }
    self->log = log_record_new ();
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    stage_destroy (&self->stage);
    call_decoder_destroy (&self->decoder);
    log_record_destroy (&self->log);
    watch_match_destroy (&self->watch);
    proxy_lookup_destroy (&self->proxies);
    free (self);
    *self_p = NULL;
}

static bool
s_ends_with (const char *topic, const char *suffix)
{
    size_t len = strlen (topic), suffix_len = strlen (suffix);
    return len > suffix_len && streq (topic + len - suffix_len, suffix);
}

//  The record published for an input the decoder cannot read at all: bad_calldata with the
//  reason (hash left out when NULL). A heap string, its length in *len.
static char *
s_undecodable (const char *hash, batch_t *batch, const char *reason, size_t *len)
{
    jsonw_t *writer = jsonw_new ();
    jsonw_object_begin (writer);
    if (hash) {
        jsonw_key (writer, "hash");
        jsonw_string (writer, hash);
    }
    //  The block's place, from the batch: even this record is dropped with an orphan.
    jsonw_key (writer, "blockNumber");
    jsonw_u64 (writer, batch_number (batch));
    jsonw_key (writer, "blockHash");
    jsonw_string (writer, batch_hash (batch));
    jsonw_key (writer, "chainId");
    jsonw_u64 (writer, batch_chain_id (batch));
    jsonw_key (writer, "decoding");
    jsonw_string (writer, "bad_calldata");
    jsonw_key (writer, "reason");
    jsonw_string (writer, reason);
    jsonw_object_end (writer);
    *len = jsonw_size (writer);
    char *text = jsonw_strdup (writer);
    jsonw_destroy (&writer);
    return text;
}

//  keccak256("Upgraded(address)"): EIP-1967's event of a proxy that changed its
//  implementation (indexed).
#define S_UPGRADED "0xbc7cd75a20ee27fd9adebab32041f755214dbc6bffa90cc0225b39da2e5c2d3b"

//  Notes an Upgraded(implementation) log in upgrades (proxy address and implementation,
//  applied once the batch is done).
static void
s_note_upgrade (const batch_record_t *record, zlistx_t *upgrades)
{
    cJSON *root = cJSON_ParseWithLength (record->value, record->value_len);
    const cJSON *address = cJSON_GetObjectItemCaseSensitive (root, "address");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive (root, "topics");
    const cJSON *topic0 = cJSON_GetArrayItem (topics, 0);
    const cJSON *topic1 = cJSON_GetArrayItem (topics, 1);
    uint8_t word [32];
    if (cJSON_IsString (address) && strlen (address->valuestring) == 42
        && cJSON_GetArraySize (topics) == 2 && cJSON_IsString (topic0)
        && strcasecmp (topic0->valuestring, S_UPGRADED) == 0 && cJSON_IsString (topic1)
        && hex_decode (topic1->valuestring, word, 32) == 32) {
        char implementation [43];
        hex_encode (word + 12, 20, implementation);
        zlistx_add_end (upgrades, zsys_sprintf ("%s %s", address->valuestring, implementation));
    }
    cJSON_Delete (root);
}

//  The records of one internal log record: its decoded log, and its token transfer.
static void
s_decode_log (self_t *self, batch_t *out, const batch_record_t *record)
{
    self->logs++;
    char err [128];
    char *topic = zsys_sprintf ("%.*s." TOPIC_LOGS_DECODED, topics_chain_len (batch_chain (out)),
                                batch_chain (out));
    size_t len = 0;
    if (log_record_parse (self->log, record->value, record->value_len, err, sizeof err)) {
        //  Cannot happen with the fetch worker's records; still one record, with a reason.
        char *failed = s_undecodable (NULL, out, err, &len);
        batch_add (out, topic, record->key, failed, len);
        zstr_free (&topic);
        return;
    }
    call_decoding_t decoding;
    char *decoded = log_record_decoded (self->log, self->decoder, &len, &decoding);
    batch_add (out, topic, record->key, decoded, len);
    zstr_free (&topic);
    if (decoding == CALL_DECODED)
        self->logs_decoded++;
    char *transfer = log_record_transfer (self->log, &len);
    if (transfer && self->watch)
        watch_match_transfer (self->watch, transfer, len);
    if (transfer) {
        topic = zsys_sprintf ("%.*s." TOPIC_TOKEN_TRANSFERS, topics_chain_len (batch_chain (out)),
                              batch_chain (out));
        batch_add (out, topic, record->key, transfer, len);
        zstr_free (&topic);
        self->transfers++;
    }
}

//  The implementation whose ABI decodes a contract interaction: when the contract has no
//  bound ABI but is a proxy whose implementation has one. NULL otherwise (borrowed).
static const char *
s_implementation (self_t *self, batch_t *batch, const batch_record_t *record)
{
    if (!self->proxies || !call_decoder_binds_any (self->decoder))
        return NULL;
    static const char *const keys [1] = {"to"};
    const char *values [1];
    size_t lens [1];
    if (jsonw_members (record->value, record->value_len, keys, 1, values, lens) || !values [0]
        || lens [0] != 44)
        return NULL;
    char to [43];
    memcpy (to, values [0] + 1, 42);
    to [42] = 0;
    if (call_decoder_bound (self->decoder, to))
        return NULL;                      //  a binding of the proxy's own address wins
    char chain [BLOCK_MSG_CHAIN_SIZE];    //  a backfill stream's is its chain's
    snprintf (chain, sizeof (chain), "%.*s", topics_chain_len (batch_chain (batch)),
              batch_chain (batch));
    const char *implementation = proxy_lookup_implementation (self->proxies, chain, to,
                                                              batch_number (batch), self->pipe);
    return implementation && call_decoder_bound (self->decoder, implementation) ? implementation
                                                                                : NULL;
}

//  The batch with a decoded record after each contract interaction.
static batch_t *
s_decode_batch (self_t *self, batch_t *batch)
{
    batch_t *out = batch_new (batch_chain (batch), batch_chain_id (batch), batch_number (batch),
                              batch_hash (batch), batch_timestamp (batch));
    zlistx_t *upgrades = zlistx_new ();
    zlistx_set_destructor (upgrades, (zlistx_destructor_fn *) zstr_free);
    for (size_t index = 0; index < batch_size (batch); index++) {
        const batch_record_t *record = batch_record (batch, index);
        if (s_ends_with (record->topic, "." TOPIC_LOGS)) {
            if (self->proxies && memmem (record->value, record->value_len, S_UPGRADED, 66))
                s_note_upgrade (record, upgrades);
            s_decode_log (self, out, record);
            continue;
        }
        char *value = (char *) malloc (record->value_len + 1);
        assert (value);
        memcpy (value, record->value, record->value_len);
        value [record->value_len] = 0;
        batch_add (out, record->topic, record->key, value, record->value_len);
        bool interaction = s_ends_with (record->topic, "." TOPIC_INTERACTION);
        if (self->watch
            && (interaction || s_ends_with (record->topic, "." TOPIC_NATIVE_TRANSFER)
                || s_ends_with (record->topic, "." TOPIC_DEPLOYMENT)))
            watch_match_tx (self->watch, value, record->value_len);
        if (!interaction)
            continue;
        self->interactions++;
        size_t len = 0;
        call_decoding_t decoding = CALL_BAD_CALLDATA;
        const char *via = s_implementation (self, batch, record);
        char *decoded = call_decoder_record_via (self->decoder, record->value, record->value_len,
                                                 via, &len, &decoding);
        if (!decoded)
            //  Cannot happen with the classifier's records; still one record, with a reason.
            decoded = s_undecodable (
                record->key, batch,
                "the transaction record lacks to, input, hash, blockNumber or blockHash", &len);
        self->counts [decoding]++;
        if (self->watch && decoding == CALL_DECODED)
            watch_match_call (self->watch, decoded, len);
        char *topic = zsys_sprintf ("%.*s." TOPIC_INTERACTION_DECODED,
                                    topics_chain_len (batch_chain (out)), batch_chain (out));
        batch_add (out, topic, record->key, decoded, len);
        zstr_free (&topic);
    }
    if (self->watch)
        self->alerts += watch_match_flush (self->watch, out);
    //  A block's upgrades apply from the next block on: its calls were decoded before.
    char chain [BLOCK_MSG_CHAIN_SIZE];
    snprintf (chain, sizeof (chain), "%.*s", topics_chain_len (batch_chain (batch)),
              batch_chain (batch));
    for (char *upgrade = (char *) zlistx_first (upgrades); upgrade;
         upgrade = (char *) zlistx_next (upgrades)) {
        *strchr (upgrade, ' ') = 0;
        proxy_lookup_upgraded (self->proxies, chain, upgrade, upgrade + strlen (upgrade) + 1,
                               batch_number (batch));
    }
    zlistx_destroy (&upgrades);
    return out;
}

static void
s_self_handle_batches (self_t *self)
{
    zframe_t *frame = zframe_recv (stage_input (self->stage));
    if (!frame)
        return;
    batch_t *batch = NULL;
    if (msg_type (frame) == MSG_TYPE_FLUSH || batch_decode (frame, &batch) != 0) {
        //  FLUSH (or anything it does not know) goes on in place: the broker judges.
        zframe_send (&frame, stage_output (self->stage), 0);
        return;
    }
    zframe_destroy (&frame);
    batch_t *out = s_decode_batch (self, batch);
    batch_destroy (&batch);
    frame = batch_encode (out);
    batch_destroy (&out);
    zframe_send (&frame, stage_output (self->stage), 0);
    self->batch_count++;
}

static void
s_self_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "RELOAD") && zmsg_size (msg) == 1
             && zframe_size (zmsg_first (msg)) == sizeof (call_decoder_t *)) {
        call_decoder_destroy (&self->decoder);
        memcpy (&self->decoder, zframe_data (zmsg_first (msg)), sizeof (call_decoder_t *));
        zstr_send (self->pipe, "RELOADED");
    }
    else if (streq (command, "STATS"))
        zstr_sendf (self->pipe,
                    "STATS %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                    " %" PRIu64 " %" PRIu64 " %" PRIu64,
                    self->batch_count, self->interactions, self->counts [CALL_DECODED],
                    self->counts [CALL_UNKNOWN_SELECTOR], self->counts [CALL_BAD_CALLDATA],
                    self->logs, self->logs_decoded, self->transfers, self->alerts);
    else if (streq (command, "WATCH") && zmsg_size (msg) == 1
             && zframe_size (zmsg_first (msg)) == sizeof (watch_match_t *)) {
        watch_match_destroy (&self->watch);
        memcpy (&self->watch, zframe_data (zmsg_first (msg)), sizeof (watch_match_t *));
        zsock_signal (self->pipe, 0);
    }
    else
        zsys_error ("decoder: unknown pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

void
decoder_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (decoder_args_t *) args);
    zsock_signal (pipe, self ? 0 : 1);
    while (self && !self->terminated) {
        //  A batch is read only when it can go on at once (stage.h).
        zsock_t *which = stage_wait (self->stage);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else if (which)
            s_self_handle_batches (self);
        else
            break;
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Facade

struct _decoder_t {
    zactor_t *actor;    //  the only one to use its pipe
};

decoder_t *
decoder_new (decoder_args_t *args)
{
    assert (args);
    zactor_t *actor = zactor_new (decoder_actor, args);
    if (!actor)
        return NULL;
    decoder_t *self = (decoder_t *) zmalloc (sizeof (decoder_t));
    assert (self);
    self->actor = actor;
    return self;
}

void
decoder_reload (decoder_t *self, call_decoder_t **sources_p)
{
    assert (self && sources_p && *sources_p);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "RELOAD");
    zmsg_addmem (msg, sources_p, sizeof (call_decoder_t *));
    zmsg_send (&msg, self->actor);
    *sources_p = NULL;
    char *answer = zstr_recv (self->actor);
    assert (answer && streq (answer, "RELOADED"));
    zstr_free (&answer);
}

void
decoder_watch_set (decoder_t *self, watch_match_t **watch_p)
{
    assert (self && watch_p);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "WATCH");
    zmsg_addmem (msg, watch_p, sizeof (watch_match_t *));
    zmsg_send (&msg, self->actor);
    *watch_p = NULL;
    zsock_wait (self->actor);
}

void
decoder_destroy (decoder_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zactor_destroy (&(*self_p)->actor);
        free (*self_p);
        *self_p = NULL;
    }
}

//  The ABIs shipped in config/abis, when the run names no call sources.
static call_decoder_t *
s_default_sources (const char *argv0, char *err, size_t err_size)
{
    //  The shipped ABIs: build/<type>/evmtap sits two levels below the source tree.
    char *candidates [3] = {NULL, NULL, NULL};
    char exe [4096];
    if (!argv0) {
        ssize_t len = readlink ("/proc/self/exe", exe, sizeof (exe) - 1);
        if (len > 0) {
            exe [len] = 0;
            argv0 = exe;
        }
    }
    if (argv0 && strchr (argv0, '/')) {
        char *copy = strdup (argv0);
        assert (copy);
        *strrchr (copy, '/') = 0;
        candidates [0] = zsys_sprintf ("%s/../../config/abis", copy);
        candidates [1] = zsys_sprintf ("%s/../config/abis", copy);
        free (copy);
    }
    candidates [2] = strdup ("config/abis");
    const char *found = NULL;
    for (size_t index = 0; index < 3 && !found; index++)
        if (candidates [index] && zsys_file_exists (candidates [index]))
            found = candidates [index];
    call_decoder_t *decoder;
    if (found) {
        zsys_info ("decoder: the ABIs of %s (no --abis or --signatures given)", found);
        decoder = call_decoder_new (found, NULL, NULL, err, err_size);
    }
    else {
        zsys_warning ("decoder: no --abis, no --signatures and no config/abis found: every "
                      "contract call will be unknown_selector");
        decoder = call_decoder_new (NULL, NULL, NULL, err, err_size);
    }
    for (size_t index = 0; index < 3; index++)
        zstr_free (&candidates [index]);
    return decoder;
}

call_decoder_t *
decoder_sources_load (const char *abis, const char *signatures, const char *event_signatures,
                      const char *argv0, char *err, size_t err_size)
{
    call_decoder_t *decoder = abis || signatures
                                  ? call_decoder_new (abis, NULL, signatures, err, err_size)
                                  : s_default_sources (argv0, err, err_size);
    if (decoder && event_signatures
        && call_decoder_add_signatures (decoder, event_signatures, err, err_size))
        call_decoder_destroy (&decoder);
    return decoder;
}

//  A batch with an ERC-20 transfer, a call with an unknown selector and a native transfer
//  goes in; it comes out with one decoded record right after each contract interaction;
//  FLUSH passes through after it.
void
decoder_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-decoder-XXXXXX";
    assert (mkdtemp (dir));
    char *path = zsys_sprintf ("%s/erc20.json", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("[{\"type\":\"function\",\"name\":\"transfer\",\"inputs\":[{\"name\":\"to\","
           "\"type\":\"address\"},{\"name\":\"value\",\"type\":\"uint256\"}]}]",
           file);
    fclose (file);
    char err [256];
    call_decoder_t *sources = decoder_sources_load (dir, NULL, NULL, NULL, err, sizeof (err));
    assert (sources);
    assert (!decoder_sources_load ("/nonexistent", NULL, NULL, NULL, err, sizeof (err)));
    assert (!decoder_sources_load (dir, NULL, "/nonexistent.tsv", NULL, err, sizeof (err)));
    assert (strstr (err, "/nonexistent.tsv"));

    zsock_t *broker = zsock_new_pull ("@inproc://decoder-test-broker");
    zsock_set_rcvtimeo (broker, 3000);
    decoder_args_t args = {"inproc://decoder-test", ">inproc://decoder-test-broker", sources, NULL,
                           NULL};
    zactor_t *decoder = zactor_new (decoder_actor, &args);
    assert (decoder && !args.decoder);
    zsock_t *classifier = zsock_new_push (">inproc://decoder-test");

    batch_t *batch = batch_new ("anvil", 31337, 9, "0x09", 1714521600);
    const char *transfer =
        "{\"chainId\":31337,\"hash\":\"0x01\",\"blockNumber\":9,\"blockHash\":\"0x09\","
        "\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"input\":\"0xa9059cbb"
        "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
        "00000000000000000000000000000000000000000000000000000000000003e8\"}";
    const char *unknown = "{\"chainId\":31337,\"hash\":\"0x02\",\"blockNumber\":9,"
                          "\"blockHash\":\"0x09\","
                          "\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                          "\"input\":\"0xdeadbeef\"}";
    batch_add (batch, "anvil.mined.blocks.metadata", "9", strdup ("{\"number\":9}"), 12);
    batch_add (batch, "anvil.mined.tx.3.contract_interaction", "0x01", strdup (transfer),
               strlen (transfer));
    batch_add (batch, "anvil.mined.tx.1.native_token_transfer", "0x03", strdup ("{}"), 2);
    batch_add (batch, "anvil.mined.tx.3.contract_interaction", "0x02", strdup (unknown),
               strlen (unknown));
    batch_add (batch, "anvil.mined.tx.3.contract_interaction", "0x04", strdup ("{}"), 2);
    const char *log =
        "{\"hash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
        "\"blockNumber\":9,"
        "\"blockHash\":\"0x0000000000000000000000000000000000000000000000000000000000000009\","
        "\"chainId\":31337,\"transactionIndex\":3,\"logIndex\":0,"
        "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"topics\":["
        "\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\","
        "\"0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
        "\"0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8\"],"
        "\"data\":\"0x00000000000000000000000000000000000000000000000000000000000003e8\"}";
    batch_add (batch, "anvil.mined.logs", "0x04:0", strdup (log), strlen (log));
    batch_add (batch, "anvil.mined.logs", "0x04:1", strdup ("{}"), 2);
    zframe_t *frame = batch_encode (batch);
    batch_destroy (&batch);
    zframe_send (&frame, classifier, 0);
    frame = flush_msg_encode ("anvil");
    zframe_send (&frame, classifier, 0);

    frame = zframe_recv (broker);
    assert (frame && batch_decode (frame, &batch) == 0);
    zframe_destroy (&frame);
    assert (batch_number (batch) == 9 && batch_size (batch) == 11);
    assert (streq (batch_record (batch, 1)->value, transfer));
    const batch_record_t *record = batch_record (batch, 2);
    assert (streq (record->topic, "anvil.mined.tx.3.contract_interaction.decoded"));
    assert (streq (record->key, "0x01"));
    cJSON *json = cJSON_Parse (record->value);
    assert (json);
    assert (streq (cJSON_GetObjectItem (json, "decoding")->valuestring, "decoded"));
    assert (streq (cJSON_GetObjectItem (json, "source")->valuestring, "abi:erc20.json"));
    assert (cJSON_GetObjectItem (json, "blockNumber")->valuedouble == 9);
    assert (streq (cJSON_GetObjectItem (json, "blockHash")->valuestring, "0x09"));
    assert (streq (cJSON_GetObjectItem (cJSON_GetObjectItem (json, "args"), "value")->valuestring,
                   "1000"));
    cJSON_Delete (json);
    assert (streq (batch_record (batch, 3)->topic, "anvil.mined.tx.1.native_token_transfer"));
    assert (strstr (batch_record (batch, 5)->value, "\"decoding\":\"unknown_selector\""));
    assert (streq (batch_record (batch, 5)->key, "0x02"));
    assert (strstr (batch_record (batch, 7)->value, "\"decoding\":\"bad_calldata\""));
    assert (strstr (batch_record (batch, 7)->value, "\"blockNumber\":9,\"blockHash\":\"0x09\""));
    //  The log record became a decoded log and a token transfer; a malformed one a reason.
    record = batch_record (batch, 8);
    assert (streq (record->topic, "anvil.mined.logs.decoded") && streq (record->key, "0x04:0"));
    //  (The test's ABI has no events: the raw log goes along.)
    assert (strstr (record->value, "\"decoding\":\"unknown_selector\""));
    assert (strstr (record->value, "\"topics\":[\"0xddf252ad"));
    record = batch_record (batch, 9);
    assert (streq (record->topic, "anvil.mined.token_transfers") && streq (record->key, "0x04:0"));
    assert (strstr (record->value, "\"blockHash\":\"0x00000000000000000000000000000000000000000000"
                                   "00000000000000000009\""));
    assert (strstr (record->value, "\"standard\":\"erc20\"")
            && strstr (record->value, "\"value\":\"1000\""));
    record = batch_record (batch, 10);
    assert (streq (record->topic, "anvil.mined.logs.decoded") && streq (record->key, "0x04:1"));
    assert (strstr (record->value, "\"decoding\":\"bad_calldata\",\"reason\":\"log record: hash"));
    assert (strstr (record->value, "\"blockHash\":\"0x09\""));
    batch_destroy (&batch);
    frame = zframe_recv (broker);
    assert (frame && msg_type (frame) == MSG_TYPE_FLUSH);
    zframe_destroy (&frame);
    zstr_send (decoder, "STATS");
    char *stats = zstr_recv (decoder);
    assert (streq (stats, "STATS 1 3 1 1 1 2 0 1 0"));
    zstr_free (&stats);

    zsock_destroy (&classifier);
    zactor_destroy (&decoder);

    //  The facade: a decoder started with decoder_new takes its sources and passes FLUSH on.
    decoder_args_t facade_args = {"inproc://decoder-test-2", ">inproc://decoder-test-broker",
                                  decoder_sources_load (dir, NULL, NULL, NULL, err, sizeof (err)),
                                  NULL, NULL};
    assert (facade_args.decoder);
    decoder_t *facade = decoder_new (&facade_args);
    assert (facade && !facade_args.decoder);
    classifier = zsock_new_push (">inproc://decoder-test-2");
    frame = flush_msg_encode ("anvil");
    zframe_send (&frame, classifier, 0);
    frame = zframe_recv (broker);
    assert (frame && msg_type (frame) == MSG_TYPE_FLUSH);
    zframe_destroy (&frame);

    //  Watchlists handed over between batches: the batch after alerts on the transfer's
    //  `to` argument and token transfer; after they are taken away, it does not.
    char *list_path = zsys_sprintf ("%s/watched.txt", dir);
    file = fopen (list_path, "w");
    assert (file);
    fputs ("0x70997970c51812dc3a010c7d01b50e0d17dc79c8\n", file);
    fclose (file);
    char *paths [] = {list_path};
    const char *watched =
        "{\"chainId\":31337,"
        "\"hash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
        "\"blockNumber\":10,\"blockHash\":\"0x0a\","
        "\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
        "\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"input\":\"0xa9059cbb"
        "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
        "00000000000000000000000000000000000000000000000000000000000003e8\"}";
    for (int round = 0; round < 2; round++) {
        watch_match_t *watch = round ? NULL : watch_match_load (paths, 1, err, sizeof (err));
        assert (round || watch);
        decoder_watch_set (facade, &watch);
        assert (!watch);
        batch = batch_new ("anvil", 31337, 10, "0x0a", 1714521600);
        batch_add (batch, "anvil.mined.tx.3.contract_interaction", "0x1111", strdup (watched),
                   strlen (watched));
        batch_add (batch, "anvil.mined.logs", "0x1111:0", strdup (log), strlen (log));
        frame = batch_encode (batch);
        batch_destroy (&batch);
        zframe_send (&frame, classifier, 0);
        frame = zframe_recv (broker);
        assert (frame && batch_decode (frame, &batch) == 0);
        zframe_destroy (&frame);
        assert (batch_size (batch) == (round ? 4u : 5u));
        if (round == 0) {
            record = batch_record (batch, 4);
            assert (streq (record->topic, "anvil.alerts.watchlist"));
            assert (streq (record->key, "0x1111111111111111111111111111111111111111111111111111111"
                                        "111111111:watched:"
                                        "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"));
            assert (strstr (record->value, "\"blockNumber\":10,\"blockHash\":\"0x0a\","
                                           "\"list\":\"watched\""));
            assert (strstr (record->value, "\"matchedIn\":[\"arg:to\",\"transfer\"]}"));
        }
        batch_destroy (&batch);
    }
    unlink (list_path);
    zstr_free (&list_path);
    zsock_destroy (&classifier);
    decoder_destroy (&facade);
    decoder_destroy (&facade);
    assert (!facade);
    zsock_destroy (&broker);
    unlink (path);
    zstr_free (&path);
    rmdir (dir);
}
