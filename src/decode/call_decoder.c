/*  call_decoder: gathers the candidates for a selector from the sources in order, decodes
    each into a scratch writer, keeps the best (see the header) and writes the record. Every
    ABI is loaded once, however many addresses map to it. */
#include "evmtap.h"
#include "call_decoder.h"
#include "abi.h"
#include "abi_decode.h"
#include "signatures.h"
#include "abi_type.h"
#include "block.h"
#include "hexutil.h"
#include "jsonw.h"

//  More candidates than this for one selector are not tried (the shared data has at most 2).
#define CALL_MAX_CANDIDATES 32

typedef struct {
    char *source;    //  "abi:<file name>"
    abi_t *abi;
} s_abi_file_t;

typedef struct {
    const abi_entry_t *entry;
    const char *source;    //  "abi:<file>" or "4byte"
    bool bound;            //  from the ABI bound to the address
    bool from_signatures;
} s_candidate_t;

struct _call_decoder_t {
    s_abi_file_t **files;    //  the folder's ABIs by file name, then --abi FILE
    size_t file_count;
    zhashx_t *bound;            //  lowercase address -> s_abi_file_t * (borrowed)
    s_abi_file_t *bound_all;    //  --abi FILE: bound to every address
    signatures_t *signatures [CALL_SIGNATURE_FILES];    //  4-byte and topic files, in order
    size_t signature_files;
    jsonw_t *best;      //  scratch: the best decoding so far
    jsonw_t *trial;     //  scratch: the candidate being tried
    jsonw_t *record;    //  scratch: call_decoder_record's output
    uint8_t *input;     //  scratch: a transaction's input as bytes
    size_t input_capacity;
    const char *via;     //  during call_decoder_record_via: the address whose ABI binds
    bool chose_bound;    //  the last call_decoder_write chose the bound ABI's function
};

static s_abi_file_t *
s_add_file (call_decoder_t *self, const char *path, const char *name, char *err, size_t err_size)
{
    abi_t *abi = abi_load (path, err, err_size);
    if (!abi)
        return NULL;
    self->files = (s_abi_file_t **) realloc (self->files,
                                             (self->file_count + 1) * sizeof (s_abi_file_t *));
    s_abi_file_t *file = (s_abi_file_t *) zmalloc (sizeof (s_abi_file_t));
    assert (self->files && file);
    self->files [self->file_count++] = file;
    file->source = zsys_sprintf ("abi:%s", name);
    file->abi = abi;
    return file;
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  Loads every *.json of dir but addresses.json, in name order, then addresses.json.
static int
s_load_dir (call_decoder_t *self, const char *dir, char *err, size_t err_size)
{
    DIR *handle = opendir (dir);
    if (!handle) {
        snprintf (err, err_size, "%s: %s", dir, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *item;
    while ((item = readdir (handle))) {
        size_t len = strlen (item->d_name);
        if (len > 5 && streq (item->d_name + len - 5, ".json")
            && !streq (item->d_name, "addresses.json")) {
            names = (char **) realloc (names, (count + 1) * sizeof (char *));
            assert (names);
            names [count++] = strdup (item->d_name);
        }
    }
    closedir (handle);
    if (count)    //  a folder of no ABI yet: qsort may not be given NULL
        qsort (names, count, sizeof (char *), s_compare_names);
    int rc = 0;
    for (size_t index = 0; index < count; index++) {
        char *path = zsys_sprintf ("%s/%s", dir, names [index]);
        if (rc == 0 && !s_add_file (self, path, names [index], err, err_size))
            rc = -1;
        zstr_free (&path);
        free (names [index]);
    }
    free (names);
    if (rc)
        return -1;

    char *path = zsys_sprintf ("%s/addresses.json", dir);
    FILE *file = fopen (path, "rb");
    zchunk_t *chunk = file ? zchunk_read (file, 64 * 1024 * 1024) : NULL;
    if (file)
        fclose (file);
    cJSON *map = chunk ? cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                                zchunk_size (chunk))
                       : NULL;
    zchunk_destroy (&chunk);
    if (file && !cJSON_IsObject (map)) {
        snprintf (err, err_size, "%s: not a JSON object {address: file}", path);
        rc = -1;
    }
    const cJSON *entry;
    cJSON *entries = rc == 0 ? map : NULL;
    cJSON_ArrayForEach (entry, entries) {
        char address [BLOCK_ADDRESS_SIZE];
        const char *key = entry->string;
        if (!cJSON_IsString (entry) || strlen (key) != 42 || !hex_is_valid (key)) {
            snprintf (err, err_size, "%s: %.64s: not \"0x<40 hex digits>\": \"file\"", path, key);
            rc = -1;
            break;
        }
        hex_lower (key, address);
        s_abi_file_t *bound = NULL;
        for (size_t index = 0; index < self->file_count && !bound; index++)
            if (streq (self->files [index]->source + 4, entry->valuestring))
                bound = self->files [index];
        if (!bound) {
            snprintf (err, err_size, "%s: %s: no ABI file %.64s in %s", path, address,
                      entry->valuestring, dir);
            rc = -1;
            break;
        }
        zhashx_update (self->bound, address, bound);
    }
    cJSON_Delete (map);
    zstr_free (&path);
    return rc;
}

call_decoder_t *
call_decoder_new (const char *abis_dir, const char *abi_file, const char *signatures_file,
                  char *err, size_t err_size)
{
    call_decoder_t *self = (call_decoder_t *) zmalloc (sizeof (call_decoder_t));
    assert (self);
    self->bound = zhashx_new ();
    self->best = jsonw_new ();
    self->trial = jsonw_new ();
    self->record = jsonw_new ();
    int rc = 0;
    if (abis_dir)
        rc = s_load_dir (self, abis_dir, err, err_size);
    if (rc == 0 && abi_file) {
        const char *slash = strrchr (abi_file, '/');
        self->bound_all = s_add_file (self, abi_file, slash ? slash + 1 : abi_file, err, err_size);
        if (!self->bound_all)
            rc = -1;
    }
    if (rc == 0 && signatures_file)
        rc = call_decoder_add_signatures (self, signatures_file, err, err_size);
    if (rc)
        call_decoder_destroy (&self);
    return self;
}

int
call_decoder_add_signatures (call_decoder_t *self, const char *path, char *err, size_t err_size)
{
    assert (self && path);
    if (self->signature_files == CALL_SIGNATURE_FILES) {
        snprintf (err, err_size, "%s: more than %d signature files", path, CALL_SIGNATURE_FILES);
        return -1;
    }
    signatures_t *signatures = signatures_load (path, err, err_size);
    if (!signatures)
        return -1;
    self->signatures [self->signature_files++] = signatures;
    return 0;
}

void
call_decoder_destroy (call_decoder_t **self_p)
{
    assert (self_p);
    call_decoder_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->file_count; index++) {
        abi_destroy (&self->files [index]->abi);
        zstr_free (&self->files [index]->source);
        free (self->files [index]);
    }
    free (self->files);
    zhashx_destroy (&self->bound);
    for (size_t index = 0; index < self->signature_files; index++)
        signatures_destroy (&self->signatures [index]);
    jsonw_destroy (&self->best);
    jsonw_destroy (&self->trial);
    jsonw_destroy (&self->record);
    free (self->input);
    free (self);
    *self_p = NULL;
}

//  Adds a candidate unless one with the same signature is already there.
static size_t
s_add_candidate (s_candidate_t *candidates, size_t count, const abi_entry_t *entry,
                 const char *source, bool bound, bool from_signatures)
{
    if (!entry || count >= CALL_MAX_CANDIDATES)
        return count;
    //  Events of one signature differ in which parameters are indexed (ERC-20 and
    //  ERC-721 Transfer): those are different candidates.
    for (size_t index = 0; index < count; index++) {
        const abi_entry_t *other = candidates [index].entry;
        if (streq (other->signature, entry->signature)
            && (entry->kind != ABI_EVENT || entry->inputs->count == 0
                || memcmp (other->inputs->indexed, entry->inputs->indexed,
                           entry->inputs->count * sizeof (bool))
                       == 0))
            return count;
    }
    candidates [count] = (s_candidate_t) {entry, source, bound, from_signatures};
    return count + 1;
}

//  The candidates for a selector (key_len 4) or topic0 (32), in the order of the policy.
static size_t
s_gather (call_decoder_t *self, const char *to, const uint8_t *key, size_t key_len,
          s_candidate_t *candidates)
{
    size_t count = 0;
    bool event = key_len == 32;
    s_abi_file_t *bound = self->bound_all;
    if (!event && self->via)
        to = self->via;
    if (!bound && to && strlen (to) == 42) {
        char address [BLOCK_ADDRESS_SIZE];
        hex_lower (to, address);
        bound = (s_abi_file_t *) zhashx_lookup (self->bound, address);
    }
    if (bound)
        count = s_add_candidate (candidates, count,
                                 event ? abi_find_event (bound->abi, key)
                                       : abi_find_function (bound->abi, key),
                                 bound->source, true, false);
    for (size_t index = 0; index < self->file_count; index++) {
        s_abi_file_t *file = self->files [index];
        if (file != bound)
            count = s_add_candidate (candidates, count,
                                     event ? abi_find_event (file->abi, key)
                                           : abi_find_function (file->abi, key),
                                     file->source, false, false);
    }
    for (size_t file = 0; file < self->signature_files; file++) {
        const abi_entry_t *found [CALL_MAX_CANDIDATES];
        size_t total = signatures_find (self->signatures [file], key, key_len, found,
                                        CALL_MAX_CANDIDATES);
        for (size_t index = 0; index < total && index < CALL_MAX_CANDIDATES; index++)
            count = s_add_candidate (candidates, count, found [index], "4byte", false, true);
    }
    return count;
}

//  What trying the candidates gave.
typedef struct {
    int best;             //  the chosen candidate, -1 when none decodes
    size_t best_end;      //  its end in the data
    int failed;           //  the first candidate that did not decode, -1 if none
    char reason [256];    //  why it did not
    bool fits [CALL_MAX_CANDIDATES];
} s_outcome_t;

//  Decodes data with each candidate (as call arguments, or as an event with topics) and
//  picks the best; its JSON is left in self->best.
static void
s_try (call_decoder_t *self, s_candidate_t *candidates, size_t count, const uint8_t (*topics) [32],
       size_t topic_count, bool event, const uint8_t *data, size_t size, s_outcome_t *outcome)
{
    outcome->best = -1;
    outcome->failed = -1;
    outcome->reason [0] = 0;
    for (size_t index = 0; index < count; index++) {
        const abi_entry_t *entry = candidates [index].entry;
        char reason [256];
        size_t end = 0;
        int rc;
        jsonw_reset (self->trial);
        if (event) {
            //  The plain topic file says nothing of indexed: guess the first ones, as the
            //  topic count allows.
            bool guess [ABI_TYPE_MAX_COMPONENTS];
            const bool *indexed = NULL;
            bool any = false;
            for (size_t param = 0; param < entry->inputs->count; param++)
                any |= entry->inputs->indexed [param];
            if (candidates [index].from_signatures && !any) {
                for (size_t param = 0; param < entry->inputs->count; param++)
                    guess [param] = param < topic_count;
                indexed = guess;
            }
            rc = abi_decode_event (entry->inputs, indexed, topics, topic_count, data, size,
                                   self->trial, &end, reason, sizeof (reason));
        }
        else
            rc = abi_decode_args (entry->inputs, data, size, self->trial, &end, reason,
                                  sizeof (reason));
        outcome->fits [index] = rc == 0;
        if (rc) {
            if (outcome->failed < 0) {
                outcome->failed = (int) index;
                snprintf (outcome->reason, sizeof (outcome->reason), "%s", reason);
            }
            continue;
        }
        bool better = outcome->best < 0
                      || (!candidates [outcome->best].bound
                          && (candidates [index].bound || end > outcome->best_end));
        if (better) {
            jsonw_t *swap = self->best;
            self->best = self->trial;
            self->trial = swap;
            outcome->best = (int) index;
            outcome->best_end = end;
        }
    }
}

//  The fields after selector/topic0 for the outcome. Returns the decoding.
static call_decoding_t
s_write_outcome (s_candidate_t *candidates, size_t count, s_outcome_t *outcome, const uint8_t *data,
                 size_t size, bool event, jsonw_t *best, jsonw_t *writer)
{
    if (count == 0) {
        jsonw_key (writer, "decoding");
        jsonw_string (writer, "unknown_selector");
        jsonw_key (writer, "reason");
        jsonw_string (writer, event ? "no event with this topic0 in the ABIs or signatures"
                                    : "no function with this selector in the ABIs or signatures");
        return CALL_UNKNOWN_SELECTOR;
    }
    bool decoded = outcome->best >= 0;
    const s_candidate_t *chosen = &candidates [decoded ? outcome->best : outcome->failed];
    jsonw_key (writer, "decoding");
    jsonw_string (writer, decoded ? "decoded" : "bad_calldata");
    jsonw_key (writer, event ? "event" : "function");
    jsonw_string (writer, chosen->entry->name);
    jsonw_key (writer, "signature");
    jsonw_string (writer, chosen->entry->signature);
    if (decoded) {
        jsonw_key (writer, "args");
        jsonw_raw (writer, jsonw_data (best), jsonw_size (best));
    }
    jsonw_key (writer, "source");
    jsonw_string (writer, chosen->source);
    if (!decoded) {
        jsonw_key (writer, "reason");
        jsonw_string (writer, outcome->reason);
        return CALL_BAD_CALLDATA;
    }
    jsonw_key (writer, "candidates");
    jsonw_array_begin (writer);
    for (size_t index = 0; index < count; index++)
        if (outcome->fits [index] && (int) index != outcome->best
            && !streq (candidates [index].entry->signature, chosen->entry->signature))
            jsonw_string (writer, candidates [index].entry->signature);
    jsonw_array_end (writer);
    jsonw_key (writer, "trailing");
    jsonw_bytes_hex (writer, data + outcome->best_end, size - outcome->best_end);
    return CALL_DECODED;
}

call_decoding_t
call_decoder_write (call_decoder_t *self, const char *to, const uint8_t *input, size_t size,
                    jsonw_t *writer)
{
    assert (self && writer && (input || size == 0));
    jsonw_key (writer, "to");
    jsonw_string (writer, to);
    jsonw_key (writer, "selector");
    if (size < 4) {
        jsonw_null (writer);
        jsonw_key (writer, "decoding");
        jsonw_string (writer, "bad_calldata");
        jsonw_key (writer, "reason");
        char reason [80];
        snprintf (reason, sizeof (reason), "input of %zu bytes is shorter than a selector", size);
        jsonw_string (writer, reason);
        return CALL_BAD_CALLDATA;
    }
    jsonw_bytes_hex (writer, input, 4);
    s_candidate_t candidates [CALL_MAX_CANDIDATES];
    size_t count = s_gather (self, to, input, 4, candidates);
    s_outcome_t outcome;
    s_try (self, candidates, count, NULL, 0, false, input + 4, size - 4, &outcome);
    self->chose_bound = outcome.best >= 0 && candidates [outcome.best].bound;
    return s_write_outcome (candidates, count, &outcome, input + 4, size - 4, false, self->best,
                            writer);
}

call_decoding_t
call_decoder_write_log (call_decoder_t *self, const char *address, const uint8_t (*topics) [32],
                        size_t topic_count, const uint8_t *data, size_t size, jsonw_t *writer)
{
    assert (self && writer && topics && topic_count >= 1 && (data || size == 0));
    if (address) {
        jsonw_key (writer, "address");
        jsonw_string (writer, address);
    }
    jsonw_key (writer, "topic0");
    jsonw_bytes_hex (writer, topics [0], 32);
    s_candidate_t candidates [CALL_MAX_CANDIDATES];
    size_t count = s_gather (self, address, topics [0], 32, candidates);
    s_outcome_t outcome;
    s_try (self, candidates, count, topics + 1, topic_count - 1, true, data, size, &outcome);
    return s_write_outcome (candidates, count, &outcome, data, size, true, self->best, writer);
}

bool
call_decoder_bound (call_decoder_t *self, const char *address)
{
    assert (self && address);
    if (self->bound_all)
        return true;
    if (strlen (address) != 42)
        return false;
    char lower [BLOCK_ADDRESS_SIZE];
    hex_lower (address, lower);
    return zhashx_lookup (self->bound, lower) != NULL;
}

bool
call_decoder_binds_any (call_decoder_t *self)
{
    assert (self);
    return self->bound_all || zhashx_size (self->bound) > 0;
}

char *
call_decoder_record (call_decoder_t *self, const char *tx_json, size_t tx_len, size_t *len,
                     call_decoding_t *decoding)
{
    return call_decoder_record_via (self, tx_json, tx_len, NULL, len, decoding);
}

char *
call_decoder_record_via (call_decoder_t *self, const char *tx_json, size_t tx_len, const char *via,
                         size_t *len, call_decoding_t *decoding)
{
    assert (self && tx_json && len);
    enum { HASH, NUMBER, BLOCK_HASH, CHAIN_ID, TO, INPUT, KEYS };
    static const char *const keys [KEYS] = {"hash",    "blockNumber", "blockHash",
                                            "chainId", "to",          "input"};
    const char *values [KEYS];
    size_t lens [KEYS] = {0};
    if (jsonw_members (tx_json, tx_len, keys, KEYS, values, lens))
        return NULL;
    for (size_t index = 0; index < KEYS; index++)
        if (!values [index])
            return NULL;
    //  to and input are strings of 0x hex (normalize wrote them); anything else is refused.
    if (lens [TO] != 44 || lens [INPUT] < 4 || values [INPUT][0] != '"'
        || values [INPUT][lens [INPUT] - 1] != '"' || values [TO][0] != '"')
        return NULL;
    size_t digits = lens [INPUT] - 4;
    if (digits % 2)
        return NULL;
    if (digits / 2 + 1 > self->input_capacity) {
        self->input_capacity = digits / 2 + 1024;
        free (self->input);
        self->input = (uint8_t *) malloc (self->input_capacity);
        assert (self->input);
    }
    //  The input is decoded in place in the record's text, with no copy; with its 0x
    //  prefix, so that the digits after it are digits only (no second "0x").
    const char *hex = values [INPUT] + 1;
    if (hex [0] != '0' || hex [1] != 'x')
        return NULL;
    int size = hex_decode_len (hex, digits + 2, self->input, self->input_capacity);
    if (size < 0)
        return NULL;
    char to [BLOCK_ADDRESS_SIZE];
    memcpy (to, values [TO] + 1, 42);
    to [42] = 0;

    jsonw_reset (self->record);
    jsonw_object_begin (self->record);
    jsonw_key (self->record, "hash");
    jsonw_raw (self->record, values [HASH], lens [HASH]);
    jsonw_key (self->record, "blockNumber");
    jsonw_raw (self->record, values [NUMBER], lens [NUMBER]);
    jsonw_key (self->record, "blockHash");
    jsonw_raw (self->record, values [BLOCK_HASH], lens [BLOCK_HASH]);
    jsonw_key (self->record, "chainId");
    jsonw_raw (self->record, values [CHAIN_ID], lens [CHAIN_ID]);
    self->via = via;
    call_decoding_t result = call_decoder_write (self, to, self->input, (size_t) size,
                                                 self->record);
    self->via = NULL;
    if (via && self->chose_bound) {
        jsonw_key (self->record, "via");
        jsonw_string (self->record, via);
    }
    jsonw_object_end (self->record);
    if (decoding)
        *decoding = result;
    *len = jsonw_size (self->record);
    return jsonw_strdup (self->record);
}

//  --------------------------------------------------------------------------
//  Selftest

static void
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
}

//  Decodes hex input sent to `to` and returns the record's JSON (caller frees).
static char *
s_decode_hex (call_decoder_t *self, const char *to, const char *hex, call_decoding_t *decoding)
{
    uint8_t input [1024];
    int size = hex_decode (hex, input, sizeof (input));
    assert (size >= 0);
    jsonw_t *writer = jsonw_new ();
    jsonw_object_begin (writer);
    *decoding = call_decoder_write (self, to, input, (size_t) size, writer);
    jsonw_object_end (writer);
    char *json = jsonw_strdup (writer);
    jsonw_destroy (&writer);
    cJSON *check = cJSON_Parse (json);
    assert (check);
    cJSON_Delete (check);
    return json;
}

static void
s_expect (const char *json, const char *part)
{
    if (!strstr (json, part)) {
        fprintf (stderr, "call_decoder: %s lacks %s\n", json, part);
        assert (false);
    }
}

#define S_TOKEN "0x1111111111111111111111111111111111111111"
#define S_OTHER "0x2222222222222222222222222222222222222222"
#define S_ARG_TO "000000000000000000000000abcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define S_ARG_5 "0000000000000000000000000000000000000000000000000000000000000005"

void
call_decoder_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-call-decoder-XXXXXX";
    assert (mkdtemp (dir));
    char path [512], abis [128], signatures [128];
    snprintf (abis, sizeof (abis), "%s/abis", dir);
    assert (mkdir (abis, 0700) == 0);
    snprintf (path, sizeof (path), "%s/token.json", abis);
    s_write_file (
        path, "[{\"type\":\"function\",\"name\":\"transfer\",\"inputs\":["
              "{\"name\":\"to\",\"type\":\"address\"},{\"name\":\"value\",\"type\":\"uint256\"}]},"
              "{\"type\":\"event\",\"name\":\"Transfer\",\"inputs\":["
              "{\"name\":\"from\",\"type\":\"address\",\"indexed\":true},"
              "{\"name\":\"to\",\"type\":\"address\",\"indexed\":true},"
              "{\"name\":\"value\",\"type\":\"uint256\"}]}]");
    snprintf (path, sizeof (path), "%s/vault.json", abis);
    s_write_file (path, "{\"abi\":[{\"type\":\"function\",\"name\":\"withdraw\",\"inputs\":["
                        "{\"name\":\"wad\",\"type\":\"uint256\"}]}]}");
    snprintf (path, sizeof (path), "%s/addresses.json", abis);
    s_write_file (path, "{\"0x1111111111111111111111111111111111111111\": \"token.json\"}");
    snprintf (signatures, sizeof (signatures), "%s/sigs.tsv", dir);
    s_write_file (signatures, "0xa9059cbb\ttransfer(address,uint256)\n"
                              "0xaaaaaad1\tuYZeB()\n0xaaaaaad1\tyycU4()\n"
                              "0x2e1a7d4d\twithdraw(uint256)\n"
                              "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\t"
                              "Transfer(address,address,uint256)\n");
    char err [256] = "";
    call_decoder_t *decoder = call_decoder_new (abis, NULL, signatures, err, sizeof (err));
    if (!decoder)
        fprintf (stderr, "call_decoder: %s\n", err);
    assert (decoder);

    //  The bound ABI, with names, and trailing bytes (a marketplace tag).
    call_decoding_t decoding;
    char *json = s_decode_hex (decoder, S_TOKEN, "0xa9059cbb" S_ARG_TO S_ARG_5 "cafe", &decoding);
    assert (decoding == CALL_DECODED);
    s_expect (
        json,
        "\"to\":\"0x1111111111111111111111111111111111111111\",\"selector\":\"0xa9059cbb\","
        "\"decoding\":\"decoded\",\"function\":\"transfer\",\"signature\":\"transfer(address,uint256)\","
        "\"args\":{\"to\":\"0xabcdefabcdefabcdefabcdefabcdefabcdefabcd\",\"value\":\"5\"},"
        "\"source\":\"abi:token.json\",\"candidates\":[],\"trailing\":\"0xcafe\"");
    zstr_free (&json);
    //  Another address: the folder's ABIs are tried before the signature file.
    json = s_decode_hex (decoder, S_OTHER, "0x2e1a7d4d" S_ARG_5, &decoding);
    assert (decoding == CALL_DECODED);
    s_expect (json, "\"args\":{\"wad\":\"5\"},\"source\":\"abi:vault.json\"");
    zstr_free (&json);
    //  A collision in the signature file: the first in file order, the other listed.
    json = s_decode_hex (decoder, S_OTHER, "0xaaaaaad1", &decoding);
    assert (decoding == CALL_DECODED);
    s_expect (json, "\"signature\":\"uYZeB()\",\"args\":{},\"source\":\"4byte\","
                    "\"candidates\":[\"yycU4()\"],\"trailing\":\"0x\"");
    zstr_free (&json);
    //  Unknown selector; input shorter than a selector; truncated arguments.
    json = s_decode_hex (decoder, S_OTHER, "0x12345678", &decoding);
    assert (decoding == CALL_UNKNOWN_SELECTOR);
    s_expect (json, "\"selector\":\"0x12345678\",\"decoding\":\"unknown_selector\",\"reason\":");
    zstr_free (&json);
    json = s_decode_hex (decoder, S_OTHER, "0xa905", &decoding);
    assert (decoding == CALL_BAD_CALLDATA);
    s_expect (json,
              "\"selector\":null,\"decoding\":\"bad_calldata\",\"reason\":\"input of 2 bytes");
    zstr_free (&json);
    json = s_decode_hex (decoder, S_TOKEN, "0xa9059cbb" S_ARG_TO "00", &decoding);
    assert (decoding == CALL_BAD_CALLDATA);
    s_expect (
        json,
        "\"function\":\"transfer\",\"signature\":\"transfer(address,uint256)\","
        "\"source\":\"abi:token.json\",\"reason\":\"argument value: value at byte 32 is past");
    zstr_free (&json);

    //  Fewest trailing bytes wins among candidates that share a selector (made here by
    //  giving two parsed entries one hash, as no real collision has such arguments).
    abi_entry_t *one = abi_entry_parse (ABI_FUNCTION, "f(uint256)", 10, err, sizeof (err));
    abi_entry_t *two = abi_entry_parse (ABI_FUNCTION, "g(uint256,uint256)", 18, err, sizeof (err));
    abi_entry_t *three = abi_entry_parse (ABI_FUNCTION, "h(bytes)", 8, err, sizeof (err));
    s_candidate_t candidates [3] = {
        {one, "4byte", false, true}, {two, "4byte", false, true}, {three, "4byte", false, true}};
    uint8_t data [64] = {0};
    data [31] = 1;
    data [63] = 2;
    s_outcome_t outcome;
    s_try (decoder, candidates, 3, NULL, 0, false, data, 64, &outcome);
    assert (outcome.best == 1 && outcome.best_end == 64);
    assert (outcome.fits [0] && outcome.fits [1] && !outcome.fits [2]);
    s_try (decoder, candidates, 1, NULL, 0, false, data, 64, &outcome);
    assert (outcome.best == 0 && outcome.best_end == 32);
    //  A bound ABI's function wins even with more trailing bytes.
    candidates [0].bound = true;
    s_try (decoder, candidates, 2, NULL, 0, false, data, 64, &outcome);
    assert (outcome.best == 0);
    abi_entry_destroy (&one);
    abi_entry_destroy (&two);
    abi_entry_destroy (&three);

    //  A whole record from a normalized transaction.
    const char *tx =
        "{\"type\":2,\"chainId\":1,\"nonce\":3,\"to\":\"0x1111111111111111111111111111111111111111\","
        "\"accessList\":[{\"address\":\"0x00\",\"storageKeys\":[]}],\"input\":\"0xa9059cbb" S_ARG_TO
            S_ARG_5
        "\",\"hash\":\"0xaa\",\"blockNumber\":17,\"from\":\"0x99\",\"blockHash\":\"0xbb\"}";
    size_t len;
    char *record = call_decoder_record (decoder, tx, strlen (tx), &len, &decoding);
    assert (record && len == strlen (record) && decoding == CALL_DECODED);
    s_expect (record, "{\"hash\":\"0xaa\",\"blockNumber\":17,\"blockHash\":\"0xbb\",\"chainId\":1,"
                      "\"to\":\"0x1111");
    zstr_free (&record);
    //  Through a proxy: the transaction goes to an unbound address, the implementation's
    //  ABI decodes it and the record says via; an implementation without an ABI of its
    //  own leaves the usual decoding (here by the folder's ABIs) and no via.
    assert (call_decoder_bound (decoder, S_TOKEN) && !call_decoder_bound (decoder, S_OTHER));
    assert (call_decoder_bound (decoder, "0X1111111111111111111111111111111111111111"));
    assert (call_decoder_binds_any (decoder));
    char *proxied = strdup (tx);
    memcpy (strstr (proxied, S_TOKEN), S_OTHER, 42);
    record = call_decoder_record_via (decoder, proxied, strlen (proxied), S_TOKEN, &len, &decoding);
    assert (record && decoding == CALL_DECODED && len == strlen (record));
    s_expect (record, "\"to\":\"" S_OTHER "\"");
    s_expect (record, "\"source\":\"abi:token.json\"");
    s_expect (record, "\"trailing\":\"0x\",\"via\":\"" S_TOKEN "\"}");
    zstr_free (&record);
    record = call_decoder_record_via (decoder, proxied, strlen (proxied), S_OTHER, &len, &decoding);
    assert (record && decoding == CALL_DECODED && !strstr (record, "\"via\""));
    s_expect (record, "\"source\":\"abi:token.json\"");
    zstr_free (&record);
    free (proxied);
    //  Without its block's hash a transaction makes no record (the decoder says why).
    char *no_block_hash = strdup (tx);
    *strstr (no_block_hash, ",\"blockHash\"") = '}';
    assert (!call_decoder_record (decoder, no_block_hash, strlen (no_block_hash), &len, NULL));
    free (no_block_hash);
    assert (!call_decoder_record (decoder, "{\"hash\":\"0xaa\"}", 15, &len, NULL));
    assert (!call_decoder_record (decoder, "[1,2]", 5, &len, NULL));
    assert (!call_decoder_record (decoder, "{\"hash\":\"0xa", 12, &len, NULL));

    //  A log: indexed addresses from topics, the value from data; the topic file alone
    //  guesses which parameters are indexed.
    uint8_t topics [3][32] = {{0}};
    assert (hex_decode ("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                        topics [0], 32)
            == 32);
    topics [1][31] = 1;
    topics [2][31] = 2;
    jsonw_t *writer = jsonw_new ();
    jsonw_object_begin (writer);
    assert (call_decoder_write_log (decoder, S_TOKEN, topics, 3, data, 32, writer) == CALL_DECODED);
    jsonw_object_end (writer);
    s_expect (jsonw_data (writer),
              "\"event\":\"Transfer\",\"signature\":\"Transfer(address,address,uint256)\","
              "\"args\":{\"from\":\"0x0000000000000000000000000000000000000001\"");
    s_expect (jsonw_data (writer), "\"source\":\"abi:token.json\"");
    call_decoder_destroy (&decoder);
    decoder = call_decoder_new (NULL, NULL, signatures, err, sizeof (err));
    assert (decoder);
    jsonw_reset (writer);
    jsonw_object_begin (writer);
    assert (call_decoder_write_log (decoder, NULL, topics, 3, data, 32, writer) == CALL_DECODED);
    jsonw_object_end (writer);
    s_expect (jsonw_data (writer),
              "\"args\":{\"arg0\":\"0x0000000000000000000000000000000000000001\","
              "\"arg1\":\"0x0000000000000000000000000000000000000002\",\"arg2\":\"1\"},"
              "\"source\":\"4byte\"");
    jsonw_destroy (&writer);
    call_decoder_destroy (&decoder);
    call_decoder_destroy (&decoder);

    //  Malformed sources are refused, naming the file.
    snprintf (path, sizeof (path), "%s/addresses.json", abis);
    s_write_file (path, "{\"0x3333333333333333333333333333333333333333\": \"missing.json\"}");
    assert (!call_decoder_new (abis, NULL, NULL, err, sizeof (err)));
    s_expect (err, "no ABI file missing.json");
    s_write_file (path, "[]");
    assert (!call_decoder_new (abis, NULL, NULL, err, sizeof (err)));
    s_expect (err, "addresses.json: not a JSON object");
    snprintf (path, sizeof (path), "%s/broken.json", abis);
    s_write_file (path, "[{\"type\":\"function\"");
    assert (!call_decoder_new (NULL, path, NULL, err, sizeof (err)));
    s_expect (err, "broken.json: not valid JSON");
    assert (!call_decoder_new ("/nonexistent", NULL, NULL, err, sizeof (err)));
    assert (!call_decoder_new (NULL, NULL, "/nonexistent.tsv", err, sizeof (err)));

    zdir_t *tree = zdir_new (dir, NULL);
    assert (tree);
    zdir_remove (tree, true);
    zdir_destroy (&tree);
}
