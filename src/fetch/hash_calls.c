/*  hash_calls: calls by transaction hash in groups of batches (see hash_calls.h). */
#include "evmtap.h"
#include "hash_calls.h"

struct _hash_calls_t {
    const char *method;                               //  borrowed, a string constant
    uint64_t number;                                  //  the block, for messages
    size_t count;                                     //  hashes
    const char **hashes;                              //  borrowed
    const cJSON **results;                            //  per hash, borrowed from docs
    cJSON **docs;                                     //  the answers taken, one per batch
    size_t doc_count;                                 //  docs taken
    size_t per_batch;                                 //  calls per batch (the last may have fewer)
    size_t in_flight;                                 //  batches per group
    size_t batches;                                   //  in all
    bool started;                                     //  the group below was made
    size_t first;                                     //  the group's first batch
    size_t group_size;                                //  its batches
    size_t group_docs;                                //  doc_count when it was made
    uint64_t group_calls;                             //  calls in all its batches
    jsonrpc_batch_t *batch [HASH_CALLS_IN_FLIGHT];    //  the group's batches
    const char *bodies [HASH_CALLS_IN_FLIGHT];        //  their bodies, borrowed from them
};

hash_calls_t *
hash_calls_new (const char *method, uint64_t number, size_t count, double calls_per_second)
{
    assert (method);
    hash_calls_t *self = (hash_calls_t *) zmalloc (sizeof (hash_calls_t));
    assert (self);
    self->method = method;
    self->number = number;
    self->count = count;
    self->hashes = (const char **) calloc (count + 1, sizeof (char *));
    self->results = (const cJSON **) calloc (count + 1, sizeof (cJSON *));
    self->docs = (cJSON **) calloc (count + 1, sizeof (cJSON *));
    assert (self->hashes && self->results && self->docs);
    self->per_batch = JSONRPC_BATCH_MAX;
    self->in_flight = HASH_CALLS_IN_FLIGHT;
    if (calls_per_second > 0) {
        size_t budget = calls_per_second >= 1 ? (size_t) calls_per_second : 1;
        self->per_batch = budget < JSONRPC_BATCH_MAX ? budget : JSONRPC_BATCH_MAX;
        size_t in_flight = budget / self->per_batch;
        self->in_flight = in_flight < 1                      ? 1
                          : in_flight > HASH_CALLS_IN_FLIGHT ? HASH_CALLS_IN_FLIGHT
                                                             : in_flight;
    }
    self->batches = (count + self->per_batch - 1) / self->per_batch;
    return self;
}

//  Destroys the group's batches.
static void
s_group_clear (hash_calls_t *self)
{
    for (size_t index = 0; index < self->group_size; index++)
        jsonrpc_batch_destroy (&self->batch [index]);
    self->group_size = 0;
}

void
hash_calls_destroy (hash_calls_t **self_p)
{
    assert (self_p);
    hash_calls_t *self = *self_p;
    if (!self)
        return;
    s_group_clear (self);
    while (self->doc_count)
        cJSON_Delete (self->docs [--self->doc_count]);
    free (self->docs);
    free (self->results);
    free (self->hashes);
    free (self);
    *self_p = NULL;
}

void
hash_calls_set_hash (hash_calls_t *self, size_t index, const char *hash)
{
    assert (self && index < self->count && hash);
    self->hashes [index] = hash;
}

const char *
hash_calls_method (hash_calls_t *self)
{
    assert (self);
    return self->method;
}

bool
hash_calls_next_group (hash_calls_t *self)
{
    assert (self);
    s_group_clear (self);
    self->first = self->started ? self->first + self->in_flight : 0;
    self->started = true;
    if (self->first >= self->batches)
        return false;
    size_t left = self->batches - self->first;
    self->group_size = left < self->in_flight ? left : self->in_flight;
    self->group_docs = self->doc_count;
    self->group_calls = 0;
    for (size_t index = 0; index < self->group_size; index++) {
        self->batch [index] = jsonrpc_batch_new ();
        size_t start = (self->first + index) * self->per_batch;
        for (size_t call = start; call < self->count && call < start + self->per_batch; call++) {
            char params [80];
            snprintf (params, sizeof (params), "[\"%.66s\"]",
                      self->hashes [call] ? self->hashes [call] : "");
            jsonrpc_batch_add (self->batch [index], self->method, params);
            self->group_calls++;
        }
        self->bodies [index] = jsonrpc_batch_body (self->batch [index]);
    }
    return true;
}

const char **
hash_calls_bodies (hash_calls_t *self, size_t *count)
{
    assert (self && count);
    *count = self->group_size;
    return self->bodies;
}

uint64_t
hash_calls_group_calls (hash_calls_t *self)
{
    assert (self);
    return self->group_calls;
}

size_t
hash_calls_batch_size (hash_calls_t *self, size_t batch)
{
    assert (self && batch < self->group_size);
    return jsonrpc_batch_count (self->batch [batch]);
}

int
hash_calls_take (hash_calls_t *self, size_t batch, cJSON *doc, const jsonrpc_answer_t *answers,
                 jsonrpc_answer_t *failure)
{
    assert (self && batch < self->group_size && failure);
    if (doc)
        self->docs [self->doc_count++] = doc;
    size_t start = (self->first + batch) * self->per_batch;
    size_t size = jsonrpc_batch_count (self->batch [batch]);
    for (size_t call = 0; call < size; call++) {
        if (answers [call].status != JSONRPC_OK) {
            *failure = answers [call];
            return -1;
        }
        if (cJSON_IsNull (answers [call].result)) {
            memset (failure, 0, sizeof (*failure));
            failure->status = JSONRPC_BAD_ANSWER;
            snprintf (failure->message, sizeof (failure->message),
                      "%s of transaction %zu of block %" PRIu64 " is null", self->method,
                      start + call, self->number);
            return -1;
        }
        self->results [start + call] = answers [call].result;
    }
    return 0;
}

void
hash_calls_drop_group (hash_calls_t *self)
{
    assert (self);
    while (self->doc_count > self->group_docs)
        cJSON_Delete (self->docs [--self->doc_count]);
}

const cJSON *const *
hash_calls_results (hash_calls_t *self)
{
    assert (self);
    return self->results;
}

//  --------------------------------------------------------------------------
//  Selftest

//  The answer a node gives to a batch body: each call's result is its hash, in reverse
//  order; the call with id null_id (if any) answers null.
static char *
s_test_answer (const char *body, int null_id)
{
    cJSON *calls = cJSON_Parse (body);
    assert (cJSON_IsArray (calls));
    cJSON *answer = cJSON_CreateArray ();
    for (int index = cJSON_GetArraySize (calls) - 1; index >= 0; index--) {
        const cJSON *call = cJSON_GetArrayItem (calls, index);
        int id = (int) cJSON_GetObjectItemCaseSensitive (call, "id")->valuedouble;
        const cJSON *params = cJSON_GetObjectItemCaseSensitive (call, "params");
        cJSON *item = cJSON_CreateObject ();
        cJSON_AddStringToObject (item, "jsonrpc", "2.0");
        cJSON_AddNumberToObject (item, "id", id);
        if (id == null_id)
            cJSON_AddNullToObject (item, "result");
        else
            cJSON_AddStringToObject (item, "result", cJSON_GetArrayItem (params, 0)->valuestring);
        cJSON_AddItemToArray (answer, item);
    }
    char *text = cJSON_PrintUnformatted (answer);
    cJSON_Delete (answer);
    cJSON_Delete (calls);
    return text;
}

//  Takes the answers to every batch of the group; batch number null_batch gets a null
//  result for its call null_id. Returns what the last take returned.
static int
s_test_take_group (hash_calls_t *calls, size_t null_batch, int null_id, jsonrpc_answer_t *failure)
{
    size_t count;
    const char **bodies = hash_calls_bodies (calls, &count);
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        char *text = s_test_answer (bodies [index], index == null_batch ? null_id : -1);
        jsonrpc_answer_t answers [JSONRPC_BATCH_MAX];
        cJSON *doc;
        size_t size = hash_calls_batch_size (calls, index);
        assert (jsonrpc_parse_batch (200, text, strlen (text), size, &doc, answers) == JSONRPC_OK);
        free (text);
        rc = hash_calls_take (calls, index, doc, answers, failure);
    }
    return rc;
}

//  The groups (and calls in each) that count hashes make at calls_per_second.
static void
s_test_groups (size_t count, double calls_per_second, const size_t *groups,
               const uint64_t *calls_per_group, size_t group_count)
{
    hash_calls_t *calls = hash_calls_new ("eth_getTransactionByHash", 1, count, calls_per_second);
    for (size_t group = 0; group < group_count; group++) {
        assert (hash_calls_next_group (calls));
        size_t bodies;
        hash_calls_bodies (calls, &bodies);
        assert (bodies == groups [group]);
        assert (hash_calls_group_calls (calls) == calls_per_group [group]);
    }
    assert (!hash_calls_next_group (calls));
    hash_calls_destroy (&calls);
}

void
hash_calls_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    //  Unlimited: batches of 50, eight at once; a budget below 50 calls a second makes
    //  batches of that many, one at a time; less than one call a second, one call
    s_test_groups (120, 0, (size_t []) {3}, (uint64_t []) {120}, 1);
    s_test_groups (450, 0, (size_t []) {8, 1}, (uint64_t []) {400, 50}, 2);
    s_test_groups (25, 10, (size_t []) {1, 1, 1}, (uint64_t []) {10, 10, 5}, 3);
    s_test_groups (2, 0.5, (size_t []) {1, 1}, (uint64_t []) {1, 1}, 2);
    s_test_groups (120, 120, (size_t []) {2, 1}, (uint64_t []) {100, 20}, 2);
    s_test_groups (0, 0, NULL, NULL, 0);

    //  Answers in any order land by hash; a null result fails its group, whose answers
    //  are thrown away while the groups before keep theirs
    char hashes [120][16];
    hash_calls_t *calls = hash_calls_new ("eth_getTransactionReceipt", 7, 120, 100);
    for (size_t index = 0; index < 120; index++) {
        snprintf (hashes [index], sizeof (hashes [index]), "0x%04zx", index);
        hash_calls_set_hash (calls, index, hashes [index]);
    }
    assert (streq (hash_calls_method (calls), "eth_getTransactionReceipt"));
    jsonrpc_answer_t failure;
    assert (hash_calls_next_group (calls));
    assert (s_test_take_group (calls, 99, -1, &failure) == 0);
    assert (hash_calls_next_group (calls));
    assert (hash_calls_batch_size (calls, 0) == 20);
    assert (s_test_take_group (calls, 0, 3, &failure) == -1);
    assert (failure.status == JSONRPC_BAD_ANSWER);
    if (verbose)
        printf ("%s\n", failure.message);
    assert (streq (failure.message, "eth_getTransactionReceipt of transaction 103 of block 7 "
                                    "is null"));
    hash_calls_drop_group (calls);
    //  The group sent again
    assert (s_test_take_group (calls, 99, -1, &failure) == 0);
    assert (!hash_calls_next_group (calls));
    const cJSON *const *results = hash_calls_results (calls);
    for (size_t index = 0; index < 120; index++)
        assert (streq (results [index]->valuestring, hashes [index]));

    //  A failed call is the failure, whatever comes after it
    hash_calls_destroy (&calls);
    calls = hash_calls_new ("eth_getTransactionByHash", 7, 3, 0);
    for (size_t index = 0; index < 3; index++)
        hash_calls_set_hash (calls, index, hashes [index]);
    assert (hash_calls_next_group (calls));
    jsonrpc_answer_t answers [3];
    cJSON *doc;
    const char *partial = "[{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}},"
                          "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}]";
    assert (jsonrpc_parse_batch (200, partial, strlen (partial), 3, &doc, answers) == JSONRPC_OK);
    assert (hash_calls_take (calls, 0, doc, answers, &failure) == -1);
    assert (failure.status == JSONRPC_BAD_ANSWER && strstr (failure.message, "id"));
    hash_calls_drop_group (calls);
    hash_calls_destroy (&calls);
    hash_calls_destroy (&calls);
}
