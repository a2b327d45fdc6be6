/*  jsonrpc: JSON-RPC 2.0 request bodies and the classification of answers.

    Providers answer in many shapes: a result, an error object, an HTTP status with or
    without a JSON-RPC body, a batch in any order with calls missing, or garbage when a
    proxy in between is unhappy. Every shape becomes a jsonrpc_status_t the caller can
    act on (retry, cool the key down, park it, give up on the method), never a crash.
    Messages kept for the log are short, printable, and have URLs blanked out: a
    provider's words may quote a URL, and ours holds an API key. */
#include "evmtap.h"
#include <cjson/cJSON.h>
#include <math.h>
#include "jsonrpc.h"

//  Provider backoff hints above this are treated as this (a day): a bogus hint must not
//  park a key for years.
#define S_BACKOFF_MAX 86400.0

struct _jsonrpc_batch_t {
    char *body;         //  "[call,call,...]", NUL-terminated
    size_t size;        //  strlen (body)
    size_t capacity;    //  bytes allocated for body
    size_t count;       //  calls added
};

static const char *s_status_names [] = {
    "ok",        "rate_limited", "quota_exceeded", "not_supported",
    "rpc_error", "http_error",   "bad_answer",     "transport",
};

const char *
jsonrpc_status_name (jsonrpc_status_t status)
{
    if ((size_t) status < sizeof (s_status_names) / sizeof (s_status_names [0]))
        return s_status_names [status];
    return "unknown";
}

//  Method names are ours (never outside input), so a quote or backslash in one is a bug.
static void
s_assert_method (const char *method)
{
    assert (method && *method);
    for (const char *c = method; *c; c++)
        assert (*c != '"' && *c != '\\' && (unsigned char) *c >= 0x20);
}

char *
jsonrpc_request (int64_t id, const char *method, const char *params_json)
{
    s_assert_method (method);
    if (!params_json || !*params_json)
        params_json = "[]";
    return zsys_sprintf ("{\"jsonrpc\":\"2.0\",\"id\":%" PRId64 ",\"method\":\"%s\",\"params\":%s}",
                         id, method, params_json);
}

jsonrpc_batch_t *
jsonrpc_batch_new (void)
{
    jsonrpc_batch_t *self = (jsonrpc_batch_t *) zmalloc (sizeof (jsonrpc_batch_t));
    assert (self);
    self->capacity = 256;
    self->body = (char *) zmalloc (self->capacity);
    assert (self->body);
    strcpy (self->body, "[]");
    self->size = 2;
    return self;
}

void
jsonrpc_batch_destroy (jsonrpc_batch_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        jsonrpc_batch_t *self = *self_p;
        free (self->body);
        free (self);
        *self_p = NULL;
    }
}

//  Returns the id of the new call, or -1 when the batch already holds JSONRPC_BATCH_MAX
//  calls (the caller starts another batch).
int
jsonrpc_batch_add (jsonrpc_batch_t *self, const char *method, const char *params_json)
{
    assert (self);
    if (self->count >= JSONRPC_BATCH_MAX)
        return -1;
    int id = (int) self->count;
    char *call = jsonrpc_request (id, method, params_json);
    size_t call_size = strlen (call);
    //  Replace the closing ']' by an optional ',' + call + ']'.
    size_t needed = self->size + call_size + 2;
    if (needed > self->capacity) {
        size_t capacity = self->capacity * 2;
        while (capacity < needed)
            capacity *= 2;
        char *body = (char *) realloc (self->body, capacity);
        assert (body);
        self->body = body;
        self->capacity = capacity;
    }
    size_t at = self->size - 1;
    if (self->count > 0)
        self->body [at++] = ',';
    memcpy (self->body + at, call, call_size);
    at += call_size;
    self->body [at++] = ']';
    self->body [at] = 0;
    self->size = at;
    self->count++;
    zstr_free (&call);
    return id;
}

size_t
jsonrpc_batch_count (jsonrpc_batch_t *self)
{
    assert (self);
    return self->count;
}

const char *
jsonrpc_batch_body (jsonrpc_batch_t *self)
{
    assert (self);
    return self->body;
}

//  True when the word [start, end) looks like a URL (scheme://... or www....).
static bool
s_is_url (const char *start, const char *end)
{
    if (end - start >= 4 && strncasecmp (start, "www.", 4) == 0)
        return true;
    for (const char *c = start; c + 2 < end; c++)
        if (c [0] == ':' && c [1] == '/' && c [2] == '/')
            return true;
    return false;
}

//  Sets message to prefix + text: printable ASCII only, runs of whitespace squeezed,
//  every word that looks like a URL replaced by "<url>", cut to the message's size.
static void
s_set_message (jsonrpc_answer_t *answer, const char *prefix, const char *text)
{
    char *out = answer->message;
    size_t limit = sizeof (answer->message) - 1;
    size_t at = 0;
    for (; prefix && *prefix && at < limit; prefix++)
        out [at++] = *prefix;
    const char *word = text ? text : "";
    while (at < limit) {
        while (*word && isspace ((unsigned char) *word))
            word++;
        if (*word == 0)
            break;
        const char *end = word;
        while (*end && !isspace ((unsigned char) *end))
            end++;
        if (at > 0 && out [at - 1] != ' ')
            out [at++] = ' ';
        const char *from = word, *to = end;
        if (s_is_url (word, end)) {
            from = "<url>";
            to = from + 5;
        }
        for (; from < to && at < limit; from++)
            out [at++] = ((unsigned char) *from >= 0x20 && (unsigned char) *from < 0x7f) ? *from
                                                                                         : '?';
        word = end;
    }
    out [at] = 0;
}

static void
s_answer_reset (jsonrpc_answer_t *answer)
{
    memset (answer, 0, sizeof (*answer));
}

static void
s_answer_set (jsonrpc_answer_t *answer, jsonrpc_status_t status, const char *prefix,
              const char *text)
{
    answer->status = status;
    answer->result = NULL;
    s_set_message (answer, prefix, text);
}

//  Reads an integral JSON number into *value; false when it is not one.
static bool
s_integer (const cJSON *item, int64_t *value)
{
    if (!cJSON_IsNumber (item))
        return false;
    double number = item->valuedouble;
    if (!isfinite (number) || number != floor (number) || fabs (number) > 9.0e15)
        return false;
    *value = (int64_t) number;
    return true;
}

//  Classifies a JSON-RPC error object into answer.
static void
s_classify_error (const cJSON *error, jsonrpc_answer_t *answer)
{
    if (!cJSON_IsObject (error)) {
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "error is not an object", NULL);
        return;
    }
    int64_t code = 0;
    s_integer (cJSON_GetObjectItemCaseSensitive (error, "code"), &code);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive (error, "message");
    const char *text = cJSON_IsString (message) ? message->valuestring : "";
    char prefix [40];
    snprintf (prefix, sizeof (prefix), "%" PRId64 ": ", code);

    jsonrpc_status_t status = JSONRPC_RPC_ERROR;
    if (code == -32005 || code == 429)
        status = JSONRPC_RATE_LIMITED;
    else if (code == -33000)
        status = JSONRPC_QUOTA_EXCEEDED;
    else if (code == -32601)
        status = JSONRPC_NOT_SUPPORTED;
    s_answer_set (answer, status, prefix, text);
    answer->code = code;

    const cJSON *data = cJSON_GetObjectItemCaseSensitive (error, "data");
    const cJSON *backoff = cJSON_IsObject (data)
                               ? cJSON_GetObjectItemCaseSensitive (data, "backoff_seconds")
                               : NULL;
    if (cJSON_IsNumber (backoff) && isfinite (backoff->valuedouble) && backoff->valuedouble > 0)
        answer->backoff_seconds = fmin (backoff->valuedouble, S_BACKOFF_MAX);
}

//  Classifies one call's answer object. expected_id < 0 accepts any id.
static void
s_classify_call (const cJSON *call, int64_t expected_id, jsonrpc_answer_t *answer)
{
    s_answer_reset (answer);
    if (!cJSON_IsObject (call)) {
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "answer is not an object", NULL);
        return;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive (call, "error");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive (call, "result");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive (call, "id");
    int64_t id_value = -1;
    bool id_ok = s_integer (id, &id_value) && (expected_id < 0 || id_value == expected_id);
    if (error && !cJSON_IsNull (error)) {
        //  Errors may carry id null (the server could not read ours); still an error.
        s_classify_error (error, answer);
        return;
    }
    if (!result) {
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "neither result nor error", NULL);
        return;
    }
    if (!id_ok) {
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "wrong or missing id", NULL);
        return;
    }
    answer->status = JSONRPC_OK;
    answer->result = result;
}

//  Parses body as one JSON value; trailing bytes other than whitespace make it garbage.
static cJSON *
s_parse_json (const char *body, size_t size)
{
    if (!body || size == 0)
        return NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts (body, size, &end, false);
    if (!doc)
        return NULL;
    while (end && end < body + size && (isspace ((unsigned char) *end) || *end == 0))
        end++;
    if (end && end < body + size) {
        cJSON_Delete (doc);
        return NULL;
    }
    return doc;
}

//  Fills answer for a body that did not parse as a usable JSON-RPC answer.
static void
s_classify_http (int http_status, size_t size, bool parsed, jsonrpc_answer_t *answer)
{
    char prefix [48];
    if (http_status == 429) {
        s_answer_set (answer, JSONRPC_RATE_LIMITED, "HTTP 429", NULL);
        answer->code = 429;
    }
    else if (http_status == 402) {
        s_answer_set (answer, JSONRPC_QUOTA_EXCEEDED, "HTTP 402", NULL);
        answer->code = 402;
    }
    else if (http_status != 200) {
        snprintf (prefix, sizeof (prefix), "HTTP %d", http_status);
        s_answer_set (answer, JSONRPC_HTTP_ERROR, prefix, NULL);
        answer->code = http_status;
    }
    else if (size == 0)
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "empty body", NULL);
    else if (!parsed)
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "not JSON or truncated", NULL);
    else
        s_answer_set (answer, JSONRPC_BAD_ANSWER, "not a JSON-RPC answer", NULL);
}

//  The HTTP status decides when it is 429 or 402 (keeping a body's backoff hint), or when
//  it is another non-200 without an error object in the body.
static void
s_apply_http_status (int http_status, jsonrpc_answer_t *answer)
{
    if (http_status == 429 && answer->status != JSONRPC_RATE_LIMITED) {
        double backoff = answer->backoff_seconds;
        s_classify_http (http_status, 0, false, answer);
        answer->backoff_seconds = backoff;
    }
    else if (http_status == 402 && answer->status != JSONRPC_QUOTA_EXCEEDED)
        s_classify_http (http_status, 0, false, answer);
}

static jsonrpc_status_t
s_parse_single (int http_status, const char *body, size_t size, int64_t expected_id, cJSON **doc_p,
                jsonrpc_answer_t *answer)
{
    assert (doc_p);
    assert (answer);
    *doc_p = NULL;
    s_answer_reset (answer);
    if (http_status <= 0) {
        s_answer_set (answer, JSONRPC_TRANSPORT, "no HTTP answer", NULL);
        return answer->status;
    }
    cJSON *doc = s_parse_json (body, size);
    bool has_error = cJSON_IsObject (doc) && cJSON_GetObjectItemCaseSensitive (doc, "error")
                     && !cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (doc, "error"));
    if (http_status == 200 && cJSON_IsObject (doc))
        s_classify_call (doc, expected_id, answer);
    else if (has_error) {
        //  Non-200 with an error object: the object says more than the status line.
        s_classify_call (doc, expected_id, answer);
        s_apply_http_status (http_status, answer);
    }
    else
        s_classify_http (http_status, size, doc != NULL, answer);

    if (answer->status == JSONRPC_OK)
        *doc_p = doc;
    else
        cJSON_Delete (doc);
    return answer->status;
}

jsonrpc_status_t
jsonrpc_parse (int http_status, const char *body, size_t size, cJSON **doc_p,
               jsonrpc_answer_t *answer)
{
    return s_parse_single (http_status, body, size, -1, doc_p, answer);
}

jsonrpc_status_t
jsonrpc_parse_id (int http_status, const char *body, size_t size, int64_t id, cJSON **doc_p,
                  jsonrpc_answer_t *answer)
{
    assert (id >= 0);
    return s_parse_single (http_status, body, size, id, doc_p, answer);
}

jsonrpc_status_t
jsonrpc_parse_batch (int http_status, const char *body, size_t size, size_t count, cJSON **doc_p,
                     jsonrpc_answer_t *answers)
{
    assert (doc_p);
    assert (answers || count == 0);
    *doc_p = NULL;
    for (size_t index = 0; index < count; index++)
        s_answer_reset (&answers [index]);

    jsonrpc_answer_t whole;
    s_answer_reset (&whole);
    cJSON *doc = NULL;
    if (http_status <= 0)
        s_answer_set (&whole, JSONRPC_TRANSPORT, "no HTTP answer", NULL);
    else {
        doc = s_parse_json (body, size);
        const cJSON *error = cJSON_IsObject (doc) ? cJSON_GetObjectItemCaseSensitive (doc, "error")
                                                  : NULL;
        if (http_status == 200 && cJSON_IsArray (doc))
            whole.status = JSONRPC_OK;
        else if (error && !cJSON_IsNull (error)) {
            //  One error object for the whole batch (rate limit, batch too large).
            s_classify_error (error, &whole);
            s_apply_http_status (http_status, &whole);
        }
        else if (http_status == 200 && doc)
            s_answer_set (&whole, JSONRPC_BAD_ANSWER, "batch answer is not an array", NULL);
        else
            s_classify_http (http_status, size, doc != NULL, &whole);
    }
    if (whole.status != JSONRPC_OK) {
        cJSON_Delete (doc);
        for (size_t index = 0; index < count; index++)
            answers [index] = whole;
        return whole.status;
    }
    //  Sound envelope: place each element by its id; ids we did not send are ignored,
    //  a duplicate spoils its call, an error with id null applies to unanswered calls.
    bool seen [JSONRPC_BATCH_MAX * 4];
    bool *seen_p = count <= sizeof (seen) / sizeof (seen [0])
                       ? seen
                       : (bool *) zmalloc (count * sizeof (bool));
    assert (seen_p);
    memset (seen_p, 0, count * sizeof (bool));
    jsonrpc_answer_t orphan_error;
    s_answer_reset (&orphan_error);
    bool have_orphan_error = false;

    const cJSON *call;
    cJSON_ArrayForEach (call, doc) {
        int64_t id = -1;
        const cJSON *id_item = cJSON_IsObject (call) ? cJSON_GetObjectItemCaseSensitive (call, "id")
                                                     : NULL;
        if (!s_integer (id_item, &id) || id < 0 || (uint64_t) id >= count) {
            const cJSON *error = cJSON_IsObject (call)
                                     ? cJSON_GetObjectItemCaseSensitive (call, "error")
                                     : NULL;
            if (cJSON_IsNull (id_item) && error && !cJSON_IsNull (error) && !have_orphan_error) {
                s_classify_error (error, &orphan_error);
                have_orphan_error = true;
            }
            continue;
        }
        if (seen_p [id]) {
            s_answer_set (&answers [id], JSONRPC_BAD_ANSWER, "duplicate id in batch", NULL);
            continue;
        }
        seen_p [id] = true;
        s_classify_call (call, id, &answers [id]);
    }
    for (size_t index = 0; index < count; index++)
        if (!seen_p [index]) {
            if (have_orphan_error)
                answers [index] = orphan_error;
            else
                s_answer_set (&answers [index], JSONRPC_BAD_ANSWER, "no answer for this id", NULL);
        }
    if (seen_p != seen)
        free (seen_p);
    *doc_p = doc;
    return JSONRPC_OK;
}

//  --------------------------------------------------------------------------
//  Selftest

static jsonrpc_status_t
s_single (int http_status, const char *body, jsonrpc_answer_t *answer)
{
    cJSON *doc = NULL;
    jsonrpc_status_t status = jsonrpc_parse (http_status, body, body ? strlen (body) : 0, &doc,
                                             answer);
    assert (status == answer->status);
    assert ((status == JSONRPC_OK) == (doc != NULL));
    assert ((status == JSONRPC_OK) == (answer->result != NULL));
    assert (strstr (answer->message, "://") == NULL);
    assert (strlen (answer->message) < sizeof (answer->message));
    cJSON_Delete (doc);
    return status;
}

void
jsonrpc_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    //  Requests
    char *request = jsonrpc_request (7, "eth_blockNumber", NULL);
    assert (streq (request,
                   "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_blockNumber\",\"params\":[]}"));
    zstr_free (&request);
    request = jsonrpc_request (0, "eth_getBlockByNumber", "[\"0x10\",true]");
    cJSON *doc = cJSON_Parse (request);
    assert (doc);
    assert (cJSON_GetObjectItem (doc, "id")->valueint == 0);
    assert (streq (cJSON_GetObjectItem (doc, "method")->valuestring, "eth_getBlockByNumber"));
    assert (cJSON_GetArraySize (cJSON_GetObjectItem (doc, "params")) == 2);
    cJSON_Delete (doc);
    zstr_free (&request);

    jsonrpc_batch_t *batch = jsonrpc_batch_new ();
    assert (jsonrpc_batch_count (batch) == 0);
    assert (streq (jsonrpc_batch_body (batch), "[]"));
    for (int index = 0; index < JSONRPC_BATCH_MAX; index++) {
        char params [64];
        snprintf (params, sizeof (params), "[\"0x%x\",false]", index);
        assert (jsonrpc_batch_add (batch, "eth_getBlockByNumber", params) == index);
    }
    assert (jsonrpc_batch_add (batch, "eth_chainId", "[]") == -1);
    assert (jsonrpc_batch_count (batch) == JSONRPC_BATCH_MAX);
    doc = cJSON_Parse (jsonrpc_batch_body (batch));
    assert (cJSON_IsArray (doc));
    assert (cJSON_GetArraySize (doc) == JSONRPC_BATCH_MAX);
    for (int index = 0; index < JSONRPC_BATCH_MAX; index++) {
        cJSON *call = cJSON_GetArrayItem (doc, index);
        assert (cJSON_GetObjectItem (call, "id")->valueint == index);
        char hex [16];
        snprintf (hex, sizeof (hex), "0x%x", index);
        assert (
            streq (cJSON_GetArrayItem (cJSON_GetObjectItem (call, "params"), 0)->valuestring, hex));
    }
    cJSON_Delete (doc);
    jsonrpc_batch_destroy (&batch);
    jsonrpc_batch_destroy (&batch);
    assert (batch == NULL);

    //  Single answers, one per class
    jsonrpc_answer_t answer;
    assert (s_single (200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x10\"}", &answer)
            == JSONRPC_OK);
    {
        cJSON *owned = NULL;
        const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x10\"}";
        assert (jsonrpc_parse (200, body, strlen (body), &owned, &answer) == JSONRPC_OK);
        assert (cJSON_IsString (answer.result) && streq (answer.result->valuestring, "0x10"));
        cJSON_Delete (owned);
        assert (jsonrpc_parse_id (200, body, strlen (body), 1, &owned, &answer) == JSONRPC_OK);
        cJSON_Delete (owned);
        assert (jsonrpc_parse_id (200, body, strlen (body), 2, &owned, &answer)
                == JSONRPC_BAD_ANSWER);
        assert (owned == NULL);
        //  Not NUL-terminated within size: only size bytes count.
        assert (jsonrpc_parse (200, body, 20, &owned, &answer) == JSONRPC_BAD_ANSWER);
        body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}";
        assert (jsonrpc_parse (200, body, strlen (body), &owned, &answer) == JSONRPC_OK);
        assert (cJSON_IsNull (answer.result));
        cJSON_Delete (owned);
    }
    //  Infura's 429 body, with and without the HTTP status
    const char *infura_429 =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32005,\"message\":\"project ID request "
        "rate exceeded\",\"data\":{\"see\":\"https://infura.io/dashboard\",\"current_rps\":13.333,"
        "\"allowed_rps\":10.0,\"backoff_seconds\":1.5}}}";
    assert (s_single (429, infura_429, &answer) == JSONRPC_RATE_LIMITED);
    assert (answer.backoff_seconds == 1.5);
    assert (answer.code == -32005);
    assert (strstr (answer.message, "rate exceeded"));
    assert (s_single (200, infura_429, &answer) == JSONRPC_RATE_LIMITED);
    assert (answer.backoff_seconds == 1.5);
    //  Alchemy's 429
    const char *alchemy_429 =
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":429,\"message\":\"Your app has exceeded its "
        "compute units per second capacity. If you have retries enabled, you can safely ignore "
        "this message. If not, check out https://docs.alchemy.com/reference/throughput\"},\"id\":3}";
    assert (s_single (429, alchemy_429, &answer) == JSONRPC_RATE_LIMITED);
    assert (answer.code == 429 && answer.backoff_seconds == 0);
    assert (strstr (answer.message, "docs.alchemy") == NULL);
    if (verbose)
        printf ("alchemy 429: %s\n", answer.message);
    assert (s_single (200, alchemy_429, &answer) == JSONRPC_RATE_LIMITED);
    assert (s_single (429, "Too Many Requests", &answer) == JSONRPC_RATE_LIMITED);
    assert (streq (answer.message, "HTTP 429"));
    assert (s_single (429, NULL, &answer) == JSONRPC_RATE_LIMITED);
    //  A 429 whose body is some other error still means rate limited.
    assert (s_single (
                429, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"x\"}}",
                &answer)
            == JSONRPC_RATE_LIMITED);
    //  Absurd backoff is clamped, negative ignored
    assert (s_single (200,
                      "{\"id\":1,\"error\":{\"code\":-32005,\"message\":\"slow\",\"data\":"
                      "{\"backoff_seconds\":1e30}}}",
                      &answer)
            == JSONRPC_RATE_LIMITED);
    assert (answer.backoff_seconds == S_BACKOFF_MAX);
    assert (s_single (200,
                      "{\"id\":1,\"error\":{\"code\":-32005,\"message\":\"slow\",\"data\":"
                      "{\"backoff_seconds\":-4}}}",
                      &answer)
            == JSONRPC_RATE_LIMITED);
    assert (answer.backoff_seconds == 0);
    //  Quota
    assert (s_single (402, "Payment Required", &answer) == JSONRPC_QUOTA_EXCEEDED);
    assert (s_single (200,
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-33000,\"message\":"
                      "\"daily limit\"}}",
                      &answer)
            == JSONRPC_QUOTA_EXCEEDED);
    assert (answer.code == -33000);
    //  Not supported
    assert (s_single (200,
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":"
                      "\"the method eth_foo does not exist/is not available\"}}",
                      &answer)
            == JSONRPC_NOT_SUPPORTED);
    assert (answer.code == -32601);
    //  Other RPC errors, also with id null and with a non-200 status
    assert (s_single (200,
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":"
                      "\"header not found\"}}",
                      &answer)
            == JSONRPC_RPC_ERROR);
    assert (answer.code == -32000 && streq (answer.message, "-32000: header not found"));
    assert (s_single (200,
                      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":"
                      "\"Parse error\"}}",
                      &answer)
            == JSONRPC_RPC_ERROR);
    assert (s_single (400,
                      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
                      "\"invalid request\"}}",
                      &answer)
            == JSONRPC_RPC_ERROR);
    assert (answer.code == -32600);
    assert (s_single (200, "{\"id\":1,\"error\":{\"message\":\"no code\"}}", &answer)
            == JSONRPC_RPC_ERROR);
    assert (answer.code == 0);
    //  Long messages are cut, control characters replaced, URLs blanked
    {
        char body [2048];
        char filler [1200];
        memset (filler, 'a', sizeof (filler) - 1);
        filler [sizeof (filler) - 1] = 0;
        snprintf (body, sizeof (body),
                  "{\"id\":1,\"error\":{\"code\":-1,\"message\":\"see "
                  "http://127.0.0.1:8545/v3/SECRET and\\u0001 https://x/y?k=SECRET2 %s\"}}",
                  filler);
        assert (s_single (200, body, &answer) == JSONRPC_RPC_ERROR);
        assert (strstr (answer.message, "SECRET") == NULL);
        assert (strstr (answer.message, "<url>"));
        assert (strchr (answer.message, '\001') == NULL);
        assert (strlen (answer.message) == sizeof (answer.message) - 1);
        if (verbose)
            printf ("long: %s\n", answer.message);
    }
    //  HTTP errors
    assert (s_single (500, "Internal Server Error", &answer) == JSONRPC_HTTP_ERROR);
    assert (streq (answer.message, "HTTP 500") && answer.code == 500);
    assert (s_single (503, "", &answer) == JSONRPC_HTTP_ERROR);
    assert (s_single (502, "{\"id\":1,\"result\":\"0x1\"}", &answer) == JSONRPC_HTTP_ERROR);
    assert (s_single (0, NULL, &answer) == JSONRPC_TRANSPORT);
    //  Bad answers
    assert (s_single (200, "", &answer) == JSONRPC_BAD_ANSWER);
    assert (streq (answer.message, "empty body"));
    assert (s_single (200, NULL, &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "<html><body>502 Bad Gateway</body></html>", &answer)
            == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"number\":\"0x1\"", &answer)
            == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"id\":1,\"result\":1} trailing", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"id\":1,\"result\":1}  \n", &answer) == JSONRPC_OK);
    assert (s_single (200, "\"just a string\"", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "42", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "null", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "[{\"id\":1,\"result\":1}]", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"jsonrpc\":\"2.0\",\"id\":1}", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"jsonrpc\":\"2.0\",\"result\":1}", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"jsonrpc\":\"2.0\",\"id\":\"one\",\"result\":1}", &answer)
            == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"id\":1,\"error\":\"busy\"}", &answer) == JSONRPC_BAD_ANSWER);
    assert (s_single (200, "{\"id\":1,\"error\":null,\"result\":\"0x2\"}", &answer) == JSONRPC_OK);
    {
        //  Deep nesting is refused by cJSON, not a stack overflow.
        size_t depth = 100000;
        char *deep = (char *) zmalloc (depth + 1);
        memset (deep, '[', depth);
        assert (s_single (200, deep, &answer) == JSONRPC_BAD_ANSWER);
        free (deep);
    }
    {
        //  Bytes after a NUL inside size are garbage too
        const char body [] = "{\"id\":1,\"result\":1}\0xyz";
        cJSON *owned = NULL;
        assert (jsonrpc_parse (200, body, sizeof (body) - 1, &owned, &answer)
                == JSONRPC_BAD_ANSWER);
    }

    //  Batches
    jsonrpc_answer_t answers [5];
    cJSON *batch_doc = NULL;
    const char *out_of_order = "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"0x2\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x0\"},"
                               "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}]";
    assert (jsonrpc_parse_batch (200, out_of_order, strlen (out_of_order), 3, &batch_doc, answers)
            == JSONRPC_OK);
    assert (batch_doc);
    assert (answers [0].status == JSONRPC_OK && streq (answers [0].result->valuestring, "0x0"));
    assert (answers [1].status == JSONRPC_OK && cJSON_IsNull (answers [1].result));
    assert (answers [2].status == JSONRPC_OK && streq (answers [2].result->valuestring, "0x2"));
    cJSON_Delete (batch_doc);

    //  Partial: id 1 missing, id 3 an error, id 4 rate limited, a stranger id 9 ignored
    const char *partial =
        "[{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"0x0\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":\"0x9\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32000,\"message\":\"boom\"}},"
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32005,\"message\":\"slow\","
        "\"data\":{\"backoff_seconds\":2}}},"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"0x2\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"0x2bis\"},"
        "\"noise\"]";
    assert (jsonrpc_parse_batch (200, partial, strlen (partial), 5, &batch_doc, answers)
            == JSONRPC_OK);
    assert (answers [0].status == JSONRPC_OK);
    assert (answers [1].status == JSONRPC_BAD_ANSWER && answers [1].result == NULL);
    assert (answers [2].status == JSONRPC_BAD_ANSWER);    //  duplicate
    assert (answers [3].status == JSONRPC_RPC_ERROR && answers [3].code == -32000);
    assert (answers [4].status == JSONRPC_RATE_LIMITED && answers [4].backoff_seconds == 2);
    cJSON_Delete (batch_doc);

    //  One error object for the whole batch (Infura rate limit), as object and as array
    assert (jsonrpc_parse_batch (429, infura_429, strlen (infura_429), 3, &batch_doc, answers)
            == JSONRPC_RATE_LIMITED);
    assert (batch_doc == NULL);
    for (int index = 0; index < 3; index++)
        assert (answers [index].status == JSONRPC_RATE_LIMITED
                && answers [index].backoff_seconds == 1.5);
    const char *array_error =
        "[{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32005,\"message\":\"slow\"}}]";
    assert (jsonrpc_parse_batch (200, array_error, strlen (array_error), 2, &batch_doc, answers)
            == JSONRPC_OK);
    assert (answers [0].status == JSONRPC_RATE_LIMITED
            && answers [1].status == JSONRPC_RATE_LIMITED);
    cJSON_Delete (batch_doc);
    const char *too_big = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                          "\"message\":\"batch size too large\"}}";
    assert (jsonrpc_parse_batch (200, too_big, strlen (too_big), 2, &batch_doc, answers)
            == JSONRPC_RPC_ERROR);
    assert (answers [1].code == -32600);
    //  Whole-answer failures are copied into every call
    const char *garbage [] = {
        "",
        "<html>oops</html>",
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":1}",
        "[{\"id\":0,",
        "7",
        "[] x",
    };
    for (size_t index = 0; index < sizeof (garbage) / sizeof (garbage [0]); index++) {
        assert (jsonrpc_parse_batch (200, garbage [index], strlen (garbage [index]), 2, &batch_doc,
                                     answers)
                == JSONRPC_BAD_ANSWER);
        assert (batch_doc == NULL);
        assert (answers [0].status == JSONRPC_BAD_ANSWER
                && answers [1].status == JSONRPC_BAD_ANSWER);
    }
    assert (jsonrpc_parse_batch (500, "[]", 2, 2, &batch_doc, answers) == JSONRPC_HTTP_ERROR);
    assert (answers [1].status == JSONRPC_HTTP_ERROR);
    assert (jsonrpc_parse_batch (402, "", 0, 2, &batch_doc, answers) == JSONRPC_QUOTA_EXCEEDED);
    assert (jsonrpc_parse_batch (0, NULL, 0, 2, &batch_doc, answers) == JSONRPC_TRANSPORT);
    //  Empty array: every call missing
    assert (jsonrpc_parse_batch (200, "[]", 2, 2, &batch_doc, answers) == JSONRPC_OK);
    assert (answers [0].status == JSONRPC_BAD_ANSWER && answers [1].status == JSONRPC_BAD_ANSWER);
    cJSON_Delete (batch_doc);
    //  Ids must be integers in range: 1.5, -1, "0" are strangers
    const char *odd_ids =
        "[{\"id\":1.5,\"result\":1},{\"id\":-1,\"result\":1},{\"id\":\"0\",\"result\":1},"
        "{\"id\":1,\"result\":1}]";
    assert (jsonrpc_parse_batch (200, odd_ids, strlen (odd_ids), 2, &batch_doc, answers)
            == JSONRPC_OK);
    assert (answers [0].status == JSONRPC_BAD_ANSWER && answers [1].status == JSONRPC_OK);
    cJSON_Delete (batch_doc);
    //  A round trip through a real batch body of the maximum size
    batch = jsonrpc_batch_new ();
    for (int index = 0; index < JSONRPC_BATCH_MAX; index++)
        jsonrpc_batch_add (batch, "eth_chainId", NULL);
    char *reply = strdup ("[");
    for (int index = JSONRPC_BATCH_MAX - 1; index >= 0; index--) {
        char *more = zsys_sprintf ("%s%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":\"0x%x\"}", reply,
                                   index == JSONRPC_BATCH_MAX - 1 ? "" : ",", index, index);
        free (reply);
        reply = more;
    }
    char *closed = zsys_sprintf ("%s]", reply);
    free (reply);
    jsonrpc_answer_t many [JSONRPC_BATCH_MAX];
    assert (jsonrpc_parse_batch (200, closed, strlen (closed), jsonrpc_batch_count (batch),
                                 &batch_doc, many)
            == JSONRPC_OK);
    for (int index = 0; index < JSONRPC_BATCH_MAX; index++) {
        char hex [16];
        snprintf (hex, sizeof (hex), "0x%x", index);
        assert (many [index].status == JSONRPC_OK && streq (many [index].result->valuestring, hex));
    }
    cJSON_Delete (batch_doc);
    free (closed);
    jsonrpc_batch_destroy (&batch);

    //  Names
    assert (streq (jsonrpc_status_name (JSONRPC_OK), "ok"));
    assert (streq (jsonrpc_status_name (JSONRPC_RATE_LIMITED), "rate_limited"));
    assert (streq (jsonrpc_status_name (JSONRPC_TRANSPORT), "transport"));
    assert (streq (jsonrpc_status_name ((jsonrpc_status_t) 99), "unknown"));
}
