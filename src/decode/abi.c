/*  abi: ABI JSON through cJSON into entries. A malformed ABI is refused as a whole with a
    reason naming the entry and parameter, rather than loaded in part: an ABI that silently
    lacks a function would turn its calls into 4-byte guesses. */
#include "evmtap.h"
#include "abi.h"
#include "keccak.h"
#include "abi_type.h"

//  Longest canonical signature kept; Seaport's longest is under 1,000 characters.
#define ABI_SIGNATURE_MAX 4096

struct _abi_t {
    abi_entry_t **entries;
    size_t count;
};

//  Writes a reason into err (vsnprintf: reasons nest, and may be cut).
static void
s_error (char *err, size_t err_size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (err && err_size)
        vsnprintf (err, err_size, format, args);
    va_end (args);
}

void
abi_entry_destroy (abi_entry_t **self_p)
{
    assert (self_p);
    abi_entry_t *self = *self_p;
    if (!self)
        return;
    free (self->name);
    free (self->signature);
    abi_type_destroy (&self->inputs);
    abi_type_destroy (&self->outputs);
    free (self);
    *self_p = NULL;
}

//  Fills an entry's signature and hash from its name and inputs. Returns 0 or -1.
static int
s_entry_finish (abi_entry_t *self, char *err, size_t err_size)
{
    char signature [ABI_SIGNATURE_MAX];
    size_t name_len = strlen (self->name);
    if (name_len + 3 > ABI_SIGNATURE_MAX
        || abi_type_canonical (self->inputs, signature + name_len, ABI_SIGNATURE_MAX - name_len)
               < 0) {
        s_error (err, err_size, "%s: signature longer than %d characters", self->name,
                 ABI_SIGNATURE_MAX);
        return -1;
    }
    memcpy (signature, self->name, name_len);
    self->signature = strdup (signature);
    assert (self->signature);
    keccak256 (self->signature, strlen (self->signature), self->hash);
    return 0;
}

static bool
s_valid_name (const char *name, size_t len)
{
    if (len == 0 || isdigit ((uint8_t) name [0]))
        return false;
    for (size_t index = 0; index < len; index++)
        if (!isalnum ((uint8_t) name [index]) && name [index] != '_' && name [index] != '$')
            return false;
    return true;
}

abi_entry_t *
abi_entry_parse (abi_entry_kind_t kind, const char *text, size_t len, char *err, size_t err_size)
{
    const char *open = (const char *) memchr (text, '(', len);
    if (!open || !s_valid_name (text, (size_t) (open - text)) || text [len - 1] != ')') {
        s_error (err, err_size, "not a signature name(types)");
        return NULL;
    }
    char reason [128];
    abi_type_t *inputs = abi_type_parse_len (open, len - (size_t) (open - text), reason,
                                             sizeof (reason));
    if (!inputs || inputs->kind != ABI_TUPLE) {
        s_error (err, err_size, "parameters: %s", inputs ? "not a list" : reason);
        abi_type_destroy (&inputs);
        return NULL;
    }
    abi_entry_t *self = (abi_entry_t *) zmalloc (sizeof (abi_entry_t));
    assert (self);
    self->kind = kind;
    self->name = strndup (text, (size_t) (open - text));
    assert (self->name);
    self->inputs = inputs;
    if (s_entry_finish (self, err, err_size))
        abi_entry_destroy (&self);
    return self;
}

static abi_type_t *s_param_type (const cJSON *param, unsigned depth, char *err, size_t err_size);

//  A tuple from a "components" (or "inputs") array of parameter objects.
static abi_type_t *
s_tuple (const cJSON *params, bool events, unsigned depth, char *err, size_t err_size)
{
    if (params && !cJSON_IsArray (params)) {
        s_error (err, err_size, "parameters are not an array");
        return NULL;
    }
    if (depth > ABI_TYPE_MAX_DEPTH) {
        s_error (err, err_size, "nested deeper than %d levels", ABI_TYPE_MAX_DEPTH);
        return NULL;
    }
    size_t count = params ? (size_t) cJSON_GetArraySize (params) : 0;
    if (count > ABI_TYPE_MAX_COMPONENTS) {
        s_error (err, err_size, "too many parameters");
        return NULL;
    }
    abi_type_t *tuple = abi_type_tuple_new (count);
    size_t index = 0;
    const cJSON *param;
    cJSON_ArrayForEach (param, params) {
        char reason [200];
        abi_type_t *type = s_param_type (param, depth + 1, reason, sizeof (reason));
        const cJSON *name = cJSON_GetObjectItemCaseSensitive (param, "name");
        if (!type || (name && !cJSON_IsString (name) && !cJSON_IsNull (name))) {
            s_error (err, err_size, "parameter %zu: %s", index,
                     type ? "name is not a string" : reason);
            abi_type_destroy (&type);
            abi_type_destroy (&tuple);
            return NULL;
        }
        bool indexed = events && cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (param, "indexed"));
        abi_type_tuple_set (tuple, index++, &type, cJSON_IsString (name) ? name->valuestring : "",
                            indexed);
    }
    if (abi_type_tuple_done (tuple, err, err_size))
        abi_type_destroy (&tuple);
    return tuple;
}

//  A parameter object {"type": ..., "components": [...]} as a type.
static abi_type_t *
s_param_type (const cJSON *param, unsigned depth, char *err, size_t err_size)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive (param, "type");
    if (!cJSON_IsObject (param) || !cJSON_IsString (type)) {
        s_error (err, err_size, "no \"type\"");
        return NULL;
    }
    const char *text = type->valuestring;
    if (strncmp (text, "tuple", 5) == 0) {
        abi_type_t *tuple = s_tuple (cJSON_GetObjectItemCaseSensitive (param, "components"), false,
                                     depth, err, err_size);
        if (!tuple)
            return NULL;
        char reason [128];
        abi_type_t *result = abi_type_wrap_arrays (&tuple, text + 5, reason, sizeof (reason));
        if (!result)
            s_error (err, err_size, "type \"%.64s\": %s", text, reason);
        return result;
    }
    char reason [128];
    abi_type_t *result = abi_type_parse (text, reason, sizeof (reason));
    if (!result || result->kind == ABI_TUPLE) {
        s_error (err, err_size, "type \"%.64s\": %s", text, result ? "not a type" : reason);
        abi_type_destroy (&result);
    }
    return result;
}

abi_t *
abi_parse (const char *json, size_t len, char *err, size_t err_size)
{
    cJSON *root = cJSON_ParseWithLength (json, len);
    if (!root) {
        s_error (err, err_size, "not valid JSON");
        return NULL;
    }
    const cJSON *items = root;
    if (cJSON_IsObject (root))
        items = cJSON_GetObjectItemCaseSensitive (root, "abi");
    if (!cJSON_IsArray (items)) {
        s_error (err, err_size, "not an ABI: neither an array nor an object with \"abi\"");
        cJSON_Delete (root);
        return NULL;
    }
    abi_t *self = (abi_t *) zmalloc (sizeof (abi_t));
    assert (self);
    self->entries = (abi_entry_t **) calloc ((size_t) cJSON_GetArraySize (items) + 1,
                                             sizeof (abi_entry_t *));
    assert (self->entries);
    size_t index = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, items) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive (item, "type");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive (item, "name");
        //  Old ABIs leave "type" out for functions.
        const char *kind_text = cJSON_IsString (type) ? type->valuestring : "function";
        abi_entry_kind_t kind = streq (kind_text, "function") ? ABI_FUNCTION
                                : streq (kind_text, "event")  ? ABI_EVENT
                                : streq (kind_text, "error")  ? ABI_ERROR
                                                              : (abi_entry_kind_t) -1;
        index++;
        if (!cJSON_IsObject (item)) {
            s_error (err, err_size, "entry %zu is not an object", index - 1);
            goto failed;
        }
        if ((int) kind == -1)
            continue;    //  constructor, fallback, receive: nothing to match calls with
        if (!cJSON_IsString (name)
            || !s_valid_name (name->valuestring, strlen (name->valuestring))) {
            s_error (err, err_size, "entry %zu: no valid \"name\"", index - 1);
            goto failed;
        }
        char reason [256];
        abi_type_t *inputs = s_tuple (cJSON_GetObjectItemCaseSensitive (item, "inputs"),
                                      kind == ABI_EVENT, 1, reason, sizeof (reason));
        if (!inputs) {
            s_error (err, err_size, "%s: %s", name->valuestring, reason);
            goto failed;
        }
        abi_entry_t *entry = (abi_entry_t *) zmalloc (sizeof (abi_entry_t));
        assert (entry);
        entry->kind = kind;
        entry->name = strdup (name->valuestring);
        assert (entry->name);
        entry->inputs = inputs;
        //  What a view call returns (state watchers); a bad one makes the entry unusable
        //  for that only, so calls still decode with it.
        if (kind == ABI_FUNCTION)
            entry->outputs = s_tuple (cJSON_GetObjectItemCaseSensitive (item, "outputs"), false, 1,
                                      reason, sizeof (reason));
        entry->anonymous = cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (item, "anonymous"));
        self->entries [self->count++] = entry;
        if (s_entry_finish (entry, err, err_size))
            goto failed;
    }
    cJSON_Delete (root);
    return self;
failed:
    cJSON_Delete (root);
    abi_destroy (&self);
    return NULL;
}

abi_t *
abi_load (const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        s_error (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    zchunk_t *chunk = zchunk_read (file, 64 * 1024 * 1024);
    fclose (file);
    if (!chunk) {
        s_error (err, err_size, "%s: cannot read", path);
        return NULL;
    }
    char reason [256];
    abi_t *self = abi_parse ((const char *) zchunk_data (chunk), zchunk_size (chunk), reason,
                             sizeof (reason));
    zchunk_destroy (&chunk);
    if (!self)
        s_error (err, err_size, "%s: %s", path, reason);
    return self;
}

void
abi_destroy (abi_t **self_p)
{
    assert (self_p);
    abi_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        abi_entry_destroy (&self->entries [index]);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

size_t
abi_size (abi_t *self)
{
    assert (self);
    return self->count;
}

const abi_entry_t *
abi_entry (abi_t *self, size_t index)
{
    assert (self && index < self->count);
    return self->entries [index];
}

const abi_entry_t *
abi_find_function (abi_t *self, const uint8_t selector [4])
{
    assert (self);
    for (size_t index = 0; index < self->count; index++)
        if (self->entries [index]->kind == ABI_FUNCTION
            && memcmp (self->entries [index]->hash, selector, 4) == 0)
            return self->entries [index];
    return NULL;
}

const abi_entry_t *
abi_find_event (abi_t *self, const uint8_t topic0 [32])
{
    assert (self);
    for (size_t index = 0; index < self->count; index++)
        if (self->entries [index]->kind == ABI_EVENT && !self->entries [index]->anonymous
            && memcmp (self->entries [index]->hash, topic0, 32) == 0)
            return self->entries [index];
    return NULL;
}

static void
s_check_refused (const char *json, const char *reason)
{
    char err [256] = "";
    abi_t *abi = abi_parse (json, strlen (json), err, sizeof (err));
    if (abi || !strstr (err, reason)) {
        fprintf (stderr, "abi: %s gave '%s', expected '%s'\n", json, err, reason);
        assert (false);
    }
}

void
abi_test (bool verbose)
{
    (void) verbose;
    const char *json =
        "{\"abi\":[{\"type\":\"constructor\",\"inputs\":[]},"
        "{\"type\":\"function\",\"name\":\"transfer\",\"inputs\":["
        "{\"name\":\"to\",\"type\":\"address\"},{\"name\":\"value\",\"type\":\"uint\"}]},"
        "{\"name\":\"swap\",\"inputs\":[{\"name\":\"\",\"type\":\"tuple[]\",\"components\":["
        "{\"name\":\"a\",\"type\":\"address\"},{\"name\":\"d\",\"type\":\"bytes\"}]},"
        "{\"name\":\"n\",\"type\":\"uint256[2]\"}]},"
        "{\"type\":\"event\",\"name\":\"Transfer\",\"anonymous\":false,\"inputs\":["
        "{\"name\":\"from\",\"type\":\"address\",\"indexed\":true},"
        "{\"name\":\"to\",\"type\":\"address\",\"indexed\":true},"
        "{\"name\":\"value\",\"type\":\"uint256\",\"indexed\":false}]},"
        "{\"type\":\"error\",\"name\":\"Nope\",\"inputs\":[{\"name\":\"why\",\"type\":\"string\"}]},"
        "{\"type\":\"fallback\"}]}";
    char err [256] = "";
    abi_t *abi = abi_parse (json, strlen (json), err, sizeof (err));
    if (!abi)
        fprintf (stderr, "abi: %s\n", err);
    assert (abi && abi_size (abi) == 4);
    const abi_entry_t *entry = abi_entry (abi, 0);
    assert (streq (entry->signature, "transfer(address,uint256)")
            && streq (entry->name, "transfer"));
    uint8_t selector [4] = {0xa9, 0x05, 0x9c, 0xbb};
    assert (abi_find_function (abi, selector) == entry);
    entry = abi_entry (abi, 1);
    assert (streq (entry->signature, "swap((address,bytes)[],uint256[2])"));
    assert (entry->inputs->components [0]->element->all_named);
    entry = abi_entry (abi, 2);
    assert (entry->kind == ABI_EVENT
            && streq (entry->signature, "Transfer(address,address,uint256)"));
    assert (entry->hash [0] == 0xdd && entry->hash [1] == 0xf2);
    assert (entry->inputs->indexed [0] && !entry->inputs->indexed [2]);
    assert (abi_find_event (abi, entry->hash) == entry);
    assert (abi_find_function (abi, entry->hash) == NULL);
    assert (abi_entry (abi, 3)->kind == ABI_ERROR);
    abi_destroy (&abi);
    abi_destroy (&abi);

    entry = NULL;
    abi_entry_t *parsed = abi_entry_parse (ABI_FUNCTION, "swap(uint256 amount,(address,bytes)[])",
                                           38, err, sizeof (err));
    assert (parsed && streq (parsed->signature, "swap(uint256,(address,bytes)[])"));
    abi_entry_destroy (&parsed);
    const char *bad_signatures [] = {"swap",        "(uint256)", "1swap()",
                                     "swap(uint7)", "sw ap()",   "swap(uint256"};
    for (size_t index = 0; index < sizeof (bad_signatures) / sizeof (bad_signatures [0]); index++) {
        parsed = abi_entry_parse (ABI_FUNCTION, bad_signatures [index],
                                  strlen (bad_signatures [index]), err, sizeof (err));
        assert (!parsed);
    }

    //  Malformed ABIs are refused whole, with a reason.
    s_check_refused ("[{\"type\":\"function\",", "not valid JSON");
    s_check_refused ("{\"functions\":[]}", "not an ABI");
    s_check_refused ("[1]", "entry 0 is not an object");
    s_check_refused ("[{\"type\":\"function\",\"inputs\":[]}]", "no valid \"name\"");
    s_check_refused ("[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint7\"}]}]",
                     "f: parameter 0: type \"uint7\"");
    s_check_refused ("[{\"type\":\"function\",\"name\":\"f\",\"inputs\":{}}]", "not an array");
    s_check_refused (
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"name\":1,\"type\":\"bool\"}]}]",
        "name is not a string");
    s_check_refused (
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"tuple[x]\",\"components\":[]}]}]",
        "tuple[x]");
    s_check_refused ("[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"(uint8)\"}]}]",
                     "not a type");

    //  Every ABI of the shared data loads (when the data is there).
    char path [512];
    const char *files [] = {"ERC20.json", "UniversalRouter.json", "Seaport_1_1.json",
                            "AaveV3Pool.json", "UniswapV3SwapRouter02.json"};
    for (size_t index = 0; index < sizeof (files) / sizeof (files [0]); index++) {
        snprintf (path, sizeof (path), "%s/abis/%s", evmtap_shared_data (), files [index]);
        if (!zsys_file_exists (path))
            continue;
        abi = abi_load (path, err, sizeof (err));
        if (!abi)
            fprintf (stderr, "abi: %s\n", err);
        assert (abi && abi_size (abi) > 0);
        abi_destroy (&abi);
    }
    abi = abi_load ("/nonexistent/abi.json", err, sizeof (err));
    assert (!abi && strstr (err, "/nonexistent/abi.json"));
}
