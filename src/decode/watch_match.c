/*  watch_match: a run's watchlists and the alerts of one block (watch_match.h). The
    records are parsed again here rather than inside the classifier and decoder, so that a
    run without lists pays nothing; with lists, matches are rare, so the gathered alerts
    are a short array searched in order. */
#include "evmtap.h"
#include "watch_match.h"
#include "abi_type.h"
#include "hexutil.h"
#include "jsonw.h"
#include "keccak.h"
#include "topics.h"
#include "watchlist.h"

//  Argument paths longer than this (names are the ABI's, so only a hostile ABI comes
//  close) are cut: the match still counts, named by the path's first bytes.
#define S_PATH_MAX 512

//  One alert being gathered: a (transaction, list, address) and where it matched.
typedef struct {
    char hash [HEX_HASH_LEN + 1];
    size_t list;
    uint8_t address [20];
    char **places;    //  matchedIn, each once, in the order found
    size_t place_count;
} s_alert_t;

struct _watch_match_t {
    watchlist_t **lists;
    size_t list_count;
    s_alert_t *alerts;    //  gathered since the last flush
    size_t alert_count;
    size_t alert_capacity;
};

watch_match_t *
watch_match_load (char *const *paths, size_t count, char *err, size_t err_size)
{
    assert (paths || count == 0);
    watch_match_t *self = (watch_match_t *) zmalloc (sizeof (watch_match_t));
    assert (self);
    self->lists = (watchlist_t **) calloc (count ? count : 1, sizeof (watchlist_t *));
    assert (self->lists);
    for (size_t index = 0; index < count; index++) {
        watchlist_t *list = watchlist_load (paths [index], err, err_size);
        if (!list) {
            watch_match_destroy (&self);
            return NULL;
        }
        self->lists [self->list_count++] = list;
        for (size_t other = 0; other < index; other++)
            if (streq (watchlist_name (self->lists [other]), watchlist_name (list))) {
                snprintf (err, err_size,
                          "watchlist %s: its name \"%s\" is also the name of %s (a list is "
                          "named by its file's base name)",
                          paths [index], watchlist_name (list), paths [other]);
                watch_match_destroy (&self);
                return NULL;
            }
    }
    return self;
}

static void
s_alerts_clear (watch_match_t *self)
{
    for (size_t index = 0; index < self->alert_count; index++) {
        s_alert_t *alert = &self->alerts [index];
        for (size_t place = 0; place < alert->place_count; place++)
            free (alert->places [place]);
        free (alert->places);
    }
    self->alert_count = 0;
}

void
watch_match_destroy (watch_match_t **self_p)
{
    assert (self_p);
    watch_match_t *self = *self_p;
    if (!self)
        return;
    s_alerts_clear (self);
    free (self->alerts);
    for (size_t index = 0; index < self->list_count; index++)
        watchlist_destroy (&self->lists [index]);
    free (self->lists);
    free (self);
    *self_p = NULL;
}

size_t
watch_match_lists (const watch_match_t *self)
{
    assert (self);
    return self->list_count;
}

size_t
watch_match_addresses (const watch_match_t *self)
{
    assert (self);
    size_t total = 0;
    for (size_t index = 0; index < self->list_count; index++)
        total += watchlist_size (self->lists [index]);
    return total;
}

//  Adds place to the alert of (hash, list, address), made when it is the first.
static void
s_note (watch_match_t *self, const char *hash, size_t list, const uint8_t *address,
        const char *place)
{
    s_alert_t *alert = NULL;
    for (size_t index = 0; index < self->alert_count && !alert; index++) {
        s_alert_t *candidate = &self->alerts [index];
        if (candidate->list == list && memcmp (candidate->address, address, 20) == 0
            && streq (candidate->hash, hash))
            alert = candidate;
    }
    if (!alert) {
        if (self->alert_count == self->alert_capacity) {
            self->alert_capacity = self->alert_capacity ? 2 * self->alert_capacity : 8;
            self->alerts = (s_alert_t *) realloc (self->alerts,
                                                  self->alert_capacity * sizeof (s_alert_t));
            assert (self->alerts);
        }
        alert = &self->alerts [self->alert_count++];
        memset (alert, 0, sizeof (*alert));
        snprintf (alert->hash, sizeof (alert->hash), "%s", hash);
        alert->list = list;
        memcpy (alert->address, address, 20);
    }
    for (size_t index = 0; index < alert->place_count; index++)
        if (streq (alert->places [index], place))
            return;
    alert->places = (char **) realloc (alert->places, (alert->place_count + 1) * sizeof (char *));
    assert (alert->places);
    alert->places [alert->place_count] = strdup (place);
    assert (alert->places [alert->place_count]);
    alert->place_count++;
}

//  Looks the address up on every list.
static void
s_match (watch_match_t *self, const char *hash, const uint8_t *address, const char *place)
{
    for (size_t list = 0; list < self->list_count; list++)
        if (watchlist_contains (self->lists [list], address))
            s_note (self, hash, list, address, place);
}

//  Matches a JSON string holding a 0x address (anything else is skipped).
static void
s_match_item (watch_match_t *self, const char *hash, const cJSON *item, const char *place)
{
    uint8_t address [20];
    if (cJSON_IsString (item) && strlen (item->valuestring) == HEX_ADDRESS_LEN
        && hex_decode (item->valuestring, address, 20) == 20)
        s_match (self, hash, address, place);
}

//  The object's hash when it is a transaction hash, else NULL.
static const char *
s_hash (const cJSON *root)
{
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive (root, "hash");
    return cJSON_IsString (hash) && strlen (hash->valuestring) == HEX_HASH_LEN ? hash->valuestring
                                                                               : NULL;
}

//  The address CREATE gives to a deployment by sender with nonce:
//  keccak256(rlp([sender, nonce]))[12:].
static void
s_created_address (const uint8_t *sender, uint64_t nonce, uint8_t *address)
{
    uint8_t rlp [1 + 21 + 9];
    size_t size = 1;
    rlp [size++] = 0x80 + 20;
    memcpy (rlp + size, sender, 20);
    size += 20;
    if (nonce == 0)
        rlp [size++] = 0x80;
    else if (nonce < 0x80)
        rlp [size++] = (uint8_t) nonce;
    else {
        uint8_t bytes = 0;
        for (uint64_t rest = nonce; rest; rest >>= 8)
            bytes++;
        rlp [size++] = 0x80 + bytes;
        for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
            rlp [size++] = (uint8_t) (nonce >> shift);
    }
    rlp [0] = (uint8_t) (0xc0 + size - 1);
    uint8_t digest [KECCAK256_SIZE];
    keccak256 (rlp, size, digest);
    memcpy (address, digest + 12, 20);
}

void
watch_match_tx (watch_match_t *self, const char *json, size_t len)
{
    assert (self && json);
    if (!self->list_count)
        return;
    cJSON *root = cJSON_ParseWithLength (json, len);
    const char *hash = s_hash (root);
    if (hash) {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive (root, "from");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive (root, "to");
        s_match_item (self, hash, from, "from");
        s_match_item (self, hash, to, "to");
        const cJSON *created = cJSON_GetObjectItemCaseSensitive (root, "contractAddress");
        const cJSON *nonce = cJSON_GetObjectItemCaseSensitive (root, "nonce");
        uint8_t sender [20], address [20];
        if (!to || cJSON_IsNull (to)) {
            if (cJSON_IsString (created))
                s_match_item (self, hash, created, "created");
            else if (cJSON_IsString (from) && hex_decode (from->valuestring, sender, 20) == 20
                     && cJSON_IsNumber (nonce) && nonce->valuedouble >= 0
                     && nonce->valuedouble <= (double) HEX_NUMBER_MAX) {
                s_created_address (sender, (uint64_t) nonce->valuedouble, address);
                s_match (self, hash, address, "created");
            }
        }
    }
    cJSON_Delete (root);
}

//  Walks a decoded value by its type: every address in it matched as arg:<path>.
static void
s_walk (watch_match_t *self, const char *hash, const abi_type_t *type, const cJSON *value,
        char *path, size_t path_len)
{
    if (type->kind == ABI_ADDRESS) {
        s_match_item (self, hash, value, path);
        return;
    }
    bool tuple = type->kind == ABI_TUPLE;
    if (!tuple && type->kind != ABI_ARRAY && type->kind != ABI_ARRAY_FIXED)
        return;
    size_t index = 0;
    for (const cJSON *item = value ? value->child : NULL; item; item = item->next, index++) {
        const abi_type_t *inner = tuple ? (index < type->count ? type->components [index] : NULL)
                                        : type->element;
        if (!inner)
            break;
        //  Named components are an object's members; unnamed ones and elements an array's.
        if (cJSON_IsObject (value) && item->string)
            snprintf (path + path_len, S_PATH_MAX - path_len, "%s%s", path_len > 4 ? "." : "",
                      item->string);
        else
            snprintf (path + path_len, S_PATH_MAX - path_len, "[%zu]", index);
        s_walk (self, hash, inner, item, path, strlen (path));
        path [path_len] = 0;
    }
}

void
watch_match_call (watch_match_t *self, const char *json, size_t len)
{
    assert (self && json);
    if (!self->list_count)
        return;
    cJSON *root = cJSON_ParseWithLength (json, len);
    const char *hash = s_hash (root);
    const cJSON *signature = cJSON_GetObjectItemCaseSensitive (root, "signature");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive (root, "args");
    const char *open = cJSON_IsString (signature) ? strchr (signature->valuestring, '(') : NULL;
    char err [128];
    abi_type_t *params = hash && open && cJSON_IsObject (args)
                             ? abi_type_parse (open, err, sizeof (err))
                             : NULL;
    if (params && params->kind == ABI_TUPLE) {
        char path [S_PATH_MAX] = "arg:";
        s_walk (self, hash, params, args, path, strlen (path));
    }
    abi_type_destroy (&params);
    cJSON_Delete (root);
}

void
watch_match_transfer (watch_match_t *self, const char *json, size_t len)
{
    assert (self && json);
    if (!self->list_count)
        return;
    cJSON *root = cJSON_ParseWithLength (json, len);
    const char *hash = s_hash (root);
    if (hash) {
        s_match_item (self, hash, cJSON_GetObjectItemCaseSensitive (root, "from"), "transfer");
        s_match_item (self, hash, cJSON_GetObjectItemCaseSensitive (root, "to"), "transfer");
    }
    cJSON_Delete (root);
}

size_t
watch_match_flush (watch_match_t *self, batch_t *batch)
{
    assert (self && batch);
    size_t count = self->alert_count;
    char *topic = zsys_sprintf ("%.*s." TOPIC_ALERTS_WATCHLIST,
                                topics_chain_len (batch_chain (batch)), batch_chain (batch));
    jsonw_t *writer = jsonw_new ();
    for (size_t index = 0; index < count; index++) {
        const s_alert_t *alert = &self->alerts [index];
        const char *list = watchlist_name (self->lists [alert->list]);
        char address [HEX_ADDRESS_LEN + 1];
        hex_encode (alert->address, 20, address);
        jsonw_object_begin (writer);
        jsonw_key (writer, "chainId");
        jsonw_u64 (writer, batch_chain_id (batch));
        jsonw_key (writer, "hash");
        jsonw_string (writer, alert->hash);
        jsonw_key (writer, "blockNumber");
        jsonw_u64 (writer, batch_number (batch));
        jsonw_key (writer, "blockHash");
        jsonw_string (writer, batch_hash (batch));
        jsonw_key (writer, "list");
        jsonw_string (writer, list);
        jsonw_key (writer, "address");
        jsonw_string (writer, address);
        jsonw_key (writer, "matchedIn");
        jsonw_array_begin (writer);
        for (size_t place = 0; place < alert->place_count; place++)
            jsonw_string (writer, alert->places [place]);
        jsonw_array_end (writer);
        jsonw_object_end (writer);
        size_t len = jsonw_size (writer);
        char *key = zsys_sprintf ("%s:%s:%s", alert->hash, list, address);
        batch_add (batch, topic, key, jsonw_strdup (writer), len);
        zstr_free (&key);
    }
    jsonw_destroy (&writer);
    zstr_free (&topic);
    s_alerts_clear (self);
    return count;
}

//  Writes text to dir/name; returns the path (yours).
static char *
s_write (const char *dir, const char *name, const char *text)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
    return path;
}

//  Two lists; a block with an interaction (from, to, a nested argument), a deployment
//  without receipts (created by CREATE) and one with, a transfer: one alert per
//  (transaction, list, address) with every place; refused loads name FILE:LINE or both
//  files.
void
watch_match_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-watch-match-XXXXXX";
    assert (mkdtemp (dir));
    char *paths [3];
    paths [0] = s_write (dir, "ofac.txt",
                         "# sanctioned\n0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n"
                         "0x5fbdb2315678afecb367f032d93f642f64180aa3\n"
                         "0x1111111111111111111111111111111111111111\n");
    paths [1] = s_write (dir, "mine.list", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n");
    char err [256];
    watch_match_t *self = watch_match_load (paths, 2, err, sizeof (err));
    assert (self && watch_match_lists (self) == 2 && watch_match_addresses (self) == 4);

    const char *hash1 = "0x1000000000000000000000000000000000000000000000000000000000000001";
    const char *interaction =
        "{\"hash\":\"0x1000000000000000000000000000000000000000000000000000000000000001\","
        "\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
        "\"to\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"nonce\":3}";
    watch_match_tx (self, interaction, strlen (interaction));
    const char *decoded =
        "{\"hash\":\"0x1000000000000000000000000000000000000000000000000000000000000001\","
        "\"signature\":\"swap((address,uint256),address[],(address,bool)[2])\","
        "\"args\":{\"params\":{\"recipient\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\","
        "\"amount\":\"1\"},\"path\":[\"0x2222222222222222222222222222222222222222\","
        "\"0x3333333333333333333333333333333333333333\","
        "\"0x1111111111111111111111111111111111111111\"],"
        "\"pairs\":[[\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\",true],"
        "[\"0x4444444444444444444444444444444444444444\",false]]}}";
    watch_match_call (self, decoded, strlen (decoded));
    //  Not decoded: no signature, nothing matched; a string that looks like an address is
    //  not an address argument.
    const char *strings = "{\"hash\":\"0x1000000000000000000000000000000000000000000000000000000"
                          "000000001\",\"signature\":\"note(string)\",\"args\":{\"text\":"
                          "\"0x1111111111111111111111111111111111111111\"}}";
    watch_match_call (self, strings, strlen (strings));
    const char *transfer =
        "{\"hash\":\"0x1000000000000000000000000000000000000000000000000000000000000001\","
        "\"from\":\"0x0000000000000000000000000000000000000000\","
        "\"to\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\"}";
    watch_match_transfer (self, transfer, strlen (transfer));
    watch_match_transfer (self, transfer, strlen (transfer));
    //  Anvil's first deployment: account 0, nonce 0, makes 0x5fbdb2...; nonce 200 takes
    //  two bytes of RLP and makes an address not listed.
    const char *deploy =
        "{\"hash\":\"0x2000000000000000000000000000000000000000000000000000000000000002\","
        "\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\",\"to\":null,\"nonce\":0}";
    watch_match_tx (self, deploy, strlen (deploy));
    const char *receipt =
        "{\"hash\":\"0x3000000000000000000000000000000000000000000000000000000000000003\","
        "\"from\":\"0x9999999999999999999999999999999999999999\",\"to\":null,\"nonce\":200,"
        "\"contractAddress\":\"0x1111111111111111111111111111111111111111\"}";
    watch_match_tx (self, receipt, strlen (receipt));
    watch_match_tx (self, "not json", 8);

    batch_t *batch = batch_new ("anvil", 31337, 7, "0x07", 1714521600);
    assert (watch_match_flush (self, batch) == 7);
    assert (batch_size (batch) == 7);
    const batch_record_t *record = batch_record (batch, 0);
    assert (streq (record->topic, "anvil.alerts.watchlist"));
    char *key = zsys_sprintf ("%s:ofac:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", hash1);
    assert (streq (record->key, key));
    zstr_free (&key);
    assert (streq (record->value,
                   "{\"chainId\":31337,\"hash\":\"0x10000000000000000000000000000000000000000000"
                   "00000000000000000001\",\"blockNumber\":7,\"blockHash\":\"0x07\",\"list\":"
                   "\"ofac\",\"address\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
                   "\"matchedIn\":[\"from\"]}"));
    assert (strstr (batch_record (batch, 1)->value,
                    "\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                    "\"matchedIn\":[\"to\"]}"));
    record = batch_record (batch, 2);
    assert (strstr (record->value, "\"list\":\"mine\""));
    assert (strstr (record->value,
                    "\"matchedIn\":[\"arg:params.recipient\",\"arg:pairs[0][0]\",\"transfer\"]}"));
    assert (strstr (batch_record (batch, 3)->value,
                    "\"address\":\"0x1111111111111111111111111111111111111111\","
                    "\"matchedIn\":[\"arg:path[2]\"]}"));
    record = batch_record (batch, 4);
    assert (strstr (record->key, "0x2000") && strstr (record->value, "\"matchedIn\":[\"from\"]"));
    assert (strstr (batch_record (batch, 5)->value, "0x5fbdb2315678afecb367f032d93f642f64180aa3\","
                                                    "\"matchedIn\":[\"created\"]}"));
    assert (strstr (batch_record (batch, 6)->key, "0x3000")
            && strstr (batch_record (batch, 6)->value, "\"matchedIn\":[\"created\"]}"));
    batch_destroy (&batch);
    batch = batch_new ("anvil", 31337, 8, "0x08", 1714521600);
    assert (watch_match_flush (self, batch) == 0);
    //  The receipt's contractAddress wins over CREATE's.
    watch_match_tx (self, receipt, strlen (receipt));
    assert (watch_match_flush (self, batch) == 1);
    assert (strstr (batch_record (batch, 0)->value, "\"matchedIn\":[\"created\"]"));
    batch_destroy (&batch);
    watch_match_destroy (&self);
    watch_match_destroy (&self);

    //  No lists: nothing is even parsed.
    self = watch_match_load (NULL, 0, err, sizeof (err));
    assert (self && watch_match_lists (self) == 0);
    watch_match_tx (self, interaction, strlen (interaction));
    batch = batch_new ("anvil", 31337, 7, "0x07", 1714521600);
    assert (watch_match_flush (self, batch) == 0);
    batch_destroy (&batch);
    watch_match_destroy (&self);

    paths [2] = s_write (dir, "ofac.json", "0x1111111111111111111111111111111111111111\n");
    char *twice [] = {paths [0], paths [2]};
    assert (!watch_match_load (twice, 2, err, sizeof (err)));
    assert (strstr (err, "ofac.json") && strstr (err, "ofac.txt"));
    FILE *file = fopen (paths [1], "a");
    assert (file);
    fputs ("# two\nTEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR\n", file);
    fclose (file);
    assert (!watch_match_load (paths, 2, err, sizeof (err)));
    char *where = zsys_sprintf ("%s:3: not an address", paths [1]);
    assert (strstr (err, where));
    zstr_free (&where);
    for (size_t index = 0; index < 3; index++) {
        unlink (paths [index]);
        zstr_free (&paths [index]);
    }
    rmdir (dir);
}
