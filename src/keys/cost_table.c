/*  cost_table: per-method costs in a provider's units (see cost_table.h). The built-in
    tables are config/costs/NAME.cfg, comments and all, put into cost_tables.inc by the
    build (src/keys/cost_tables.cmake); the selftest checks that the files still parse to
    what is built in. */
#include "evmtap.h"
#include "cost_table.h"
#include <ctype.h>
#include <inttypes.h>

#define S_MAX_METHODS 256
#define S_MAX_ERRORS 32

typedef struct {
    char method [64];
    uint64_t units;         //  billed, when listed
    uint64_t throughput;    //  against the per-second limit, when has_throughput
    bool listed;            //  a `method = U` line (else the default's units)
    bool has_throughput;    //  a `throughput.method = U` line
} s_cost_t;

//  An `error.CODE = U|method` rule.
typedef struct {
    int code;            //  100..599, or 1..5 for a class (4 for `4xx`)
    bool is_class;       //  code is a class
    bool method_cost;    //  `method`: the method's own billed units
    uint64_t units;      //  else these
} s_error_t;

struct _cost_table_t {
    char name [64];
    char unit [32];
    uint64_t fallback;    //  units of a method the table does not list
    bool daily_utc;       //  daily budget resets at 00:00 UTC
    s_cost_t costs [S_MAX_METHODS];
    size_t count;
    s_error_t errors [S_MAX_ERRORS];
    size_t error_count;
};

//  Built in: the text of config/costs/<name>.cfg, by name.
static const struct {
    const char *name;
    const char *text;
} s_builtin [] = {
#include "cost_tables.inc"
};
#define S_BUILTIN_COUNT (sizeof (s_builtin) / sizeof (s_builtin [0]))

static char *
s_trim (char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    char *end = text + strlen (text);
    while (end > text && (end [-1] == ' ' || end [-1] == '\t' || end [-1] == '\r'))
        *--end = 0;
    return text;
}

static bool
s_parse_units (const char *text, uint64_t *units)
{
    if (!*text || strlen (text) > 12)
        return false;
    for (const char *digit = text; *digit; digit++)
        if (*digit < '0' || *digit > '9')
            return false;
    *units = strtoull (text, NULL, 10);
    return true;
}

static bool
s_method_name (const char *name)
{
    if (!*name || strlen (name) >= sizeof (((s_cost_t *) 0)->method))
        return false;
    for (const char *at = name; *at; at++)
        if (!isalnum ((unsigned char) *at) && *at != '_')
            return false;
    return true;
}

//  The entry of method, made (unlisted) when it has none yet; NULL when the table is full.
static s_cost_t *
s_entry (cost_table_t *self, const char *method)
{
    for (size_t index = 0; index < self->count; index++)
        if (streq (self->costs [index].method, method))
            return &self->costs [index];
    if (self->count >= S_MAX_METHODS)
        return NULL;
    s_cost_t *entry = &self->costs [self->count++];
    memset (entry, 0, sizeof (*entry));
    snprintf (entry->method, sizeof (entry->method), "%s", method);
    return entry;
}

static const s_cost_t *
s_find (const cost_table_t *self, const char *method)
{
    for (size_t index = 0; index < self->count; index++)
        if (streq (self->costs [index].method, method))
            return &self->costs [index];
    return NULL;
}

//  `error.CODE = U|method`: code is 3 digits (100..599) or a class `4xx`. Returns NULL or
//  what is wrong.
static const char *
s_parse_error (cost_table_t *self, const char *code, const char *value)
{
    s_error_t rule = {0};
    if (strlen (code) == 3 && code [0] >= '1' && code [0] <= '5' && streq (code + 1, "xx")) {
        rule.code = code [0] - '0';
        rule.is_class = true;
    }
    else if (strlen (code) == 3 && isdigit ((unsigned char) code [0])
             && isdigit ((unsigned char) code [1]) && isdigit ((unsigned char) code [2])
             && atoi (code) >= 100 && atoi (code) <= 599)
        rule.code = atoi (code);
    else
        return "not an HTTP status (100..599) or a class (4xx, 5xx)";
    if (streq (value, "method"))
        rule.method_cost = true;
    else if (!s_parse_units (value, &rule.units))
        return "is not a whole number of units or `method`";
    for (size_t index = 0; index < self->error_count; index++)
        if (self->errors [index].code == rule.code
            && self->errors [index].is_class == rule.is_class)
            return "given twice";
    if (self->error_count >= S_MAX_ERRORS)
        return "too many error rules";
    self->errors [self->error_count++] = rule;
    return NULL;
}

//  One `name = value` line. Returns NULL or what is wrong with it (the caller adds where).
static const char *
s_parse_setting (cost_table_t *self, const char *name, const char *value)
{
    uint64_t units;
    if (streq (name, "name"))
        snprintf (self->name, sizeof (self->name), "%s", value);
    else if (streq (name, "unit"))
        snprintf (self->unit, sizeof (self->unit), "%s", value);
    else if (streq (name, "daily_reset")) {
        if (!streq (value, "utc") && !streq (value, "sliding"))
            return "is not utc or sliding";
        self->daily_utc = streq (value, "utc");
    }
    else if (strncmp (name, "error.", 6) == 0)
        return s_parse_error (self, name + 6, value);
    else if (!s_parse_units (value, &units))
        return "is not a whole number of units";
    else if (streq (name, "default"))
        self->fallback = units;
    else {
        bool throughput = strncmp (name, "throughput.", 11) == 0;
        const char *method = throughput ? name + 11 : name;
        if (!s_method_name (method))
            return "is not a method name, throughput.METHOD or error.CODE";
        s_cost_t *entry = s_entry (self, method);
        if (!entry)
            return "too many methods";
        if (throughput ? entry->has_throughput : entry->listed)
            return "given twice";
        if (throughput) {
            entry->throughput = units;
            entry->has_throughput = true;
        }
        else {
            entry->units = units;
            entry->listed = true;
        }
    }
    return NULL;
}

cost_table_t *
cost_table_parse (const char *text, const char *origin, char *err, size_t err_size)
{
    cost_table_t *self = (cost_table_t *) zmalloc (sizeof (cost_table_t));
    assert (self);
    self->fallback = 1;
    char *copy = strdup (text);
    assert (copy);
    int line_number = 0;
    bool failed = false;
    //  strtok_r skips empty lines, so count lines by hand.
    char *line = copy;
    while (line && !failed) {
        char *next = strchr (line, '\n');
        if (next)
            *next++ = 0;
        line_number++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *content = s_trim (line);
        line = next;
        if (!*content)
            continue;
        char *equals = strchr (content, '=');
        if (!equals) {
            snprintf (err, err_size, "%s:%d: expected `name = value`", origin, line_number);
            failed = true;
            break;
        }
        *equals = 0;
        char *name = s_trim (content);
        char *value = s_trim (equals + 1);
        const char *wrong = s_parse_setting (self, name, value);
        if (wrong) {
            snprintf (err, err_size, "%s:%d: %.64s: \"%.40s\" %s", origin, line_number, name, value,
                      wrong);
            failed = true;
        }
    }
    free (copy);
    if (!failed && (!*self->name || !*self->unit)) {
        snprintf (err, err_size, "%s: a cost table needs `name` and `unit`", origin);
        failed = true;
    }
    if (failed)
        cost_table_destroy (&self);
    return self;
}

cost_table_t *
cost_table_new (const char *name_or_path, char *err, size_t err_size)
{
    if (!name_or_path)
        name_or_path = "requests";
    for (size_t index = 0; index < S_BUILTIN_COUNT; index++)
        if (streq (name_or_path, s_builtin [index].name))
            return cost_table_parse (s_builtin [index].text, s_builtin [index].name, err, err_size);
    zchunk_t *chunk = zchunk_slurp (name_or_path, 1024 * 1024);
    if (!chunk) {
        snprintf (err, err_size,
                  "%s: not a built-in cost table (requests, infura, alchemy) "
                  "and not a readable file",
                  name_or_path);
        return NULL;
    }
    char *text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    cost_table_t *self = cost_table_parse (text, name_or_path, err, err_size);
    free (text);
    return self;
}

cost_table_t *
cost_table_dup (const cost_table_t *self)
{
    assert (self);
    cost_table_t *copy = (cost_table_t *) malloc (sizeof (cost_table_t));
    assert (copy);
    memcpy (copy, self, sizeof (cost_table_t));
    return copy;
}

void
cost_table_destroy (cost_table_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

uint64_t
cost_table_units (const cost_table_t *self, const char *method)
{
    const s_cost_t *entry = s_find (self, method);
    return entry && entry->listed ? entry->units : self->fallback;
}

uint64_t
cost_table_throughput (const cost_table_t *self, const char *method)
{
    const s_cost_t *entry = s_find (self, method);
    return entry && entry->has_throughput ? entry->throughput : cost_table_units (self, method);
}

//  The rule for an HTTP status: its exact code, else its class; NULL when none.
static const s_error_t *
s_error_rule (const cost_table_t *self, int http_status)
{
    const s_error_t *class_rule = NULL;
    for (size_t index = 0; index < self->error_count; index++) {
        const s_error_t *rule = &self->errors [index];
        if (!rule->is_class && rule->code == http_status)
            return rule;
        if (rule->is_class && rule->code == http_status / 100)
            class_rule = rule;
    }
    return class_rule;
}

uint64_t
cost_table_answer_units (const cost_table_t *self, const char *method, int http_status)
{
    uint64_t units = cost_table_units (self, method);
    if (http_status == 0 || (http_status >= 200 && http_status < 300))
        return units;
    const s_error_t *rule = s_error_rule (self, http_status);
    return !rule || rule->method_cost ? units : rule->units;
}

uint64_t
cost_table_bound (const cost_table_t *self, const char *method)
{
    uint64_t bound = cost_table_units (self, method);
    for (size_t index = 0; index < self->error_count; index++)
        if (!self->errors [index].method_cost && self->errors [index].units > bound)
            bound = self->errors [index].units;
    return bound;
}

const char *
cost_table_name (const cost_table_t *self)
{
    return self->name;
}

const char *
cost_table_unit (const cost_table_t *self)
{
    return self->unit;
}

bool
cost_table_daily_utc (const cost_table_t *self)
{
    return self->daily_utc;
}

//  Two tables say the same thing.
static bool
s_same (const cost_table_t *one, const cost_table_t *other)
{
    if (!streq (one->name, other->name) || !streq (one->unit, other->unit)
        || one->fallback != other->fallback || one->daily_utc != other->daily_utc
        || one->count != other->count || one->error_count != other->error_count)
        return false;
    for (size_t index = 0; index < one->count; index++) {
        const char *method = one->costs [index].method;
        if (cost_table_units (other, method) != cost_table_units (one, method)
            || cost_table_throughput (other, method) != cost_table_throughput (one, method))
            return false;
    }
    for (int status = 100; status < 600; status++)
        if (cost_table_answer_units (one, "eth_call", status)
            != cost_table_answer_units (other, "eth_call", status))
            return false;
    return true;
}

void
cost_table_test (bool verbose)
{
    char err [256];
    cost_table_t *requests = cost_table_new (NULL, err, sizeof (err));
    assert (requests && cost_table_units (requests, "eth_getBlockByNumber") == 1);
    assert (!cost_table_daily_utc (requests) && streq (cost_table_unit (requests), "requests"));
    cost_table_t *infura = cost_table_new ("infura", err, sizeof (err));
    assert (infura && cost_table_units (infura, "eth_getBlockByNumber") == 80);
    assert (cost_table_units (infura, "eth_chainId") == 5);
    assert (cost_table_units (infura, "some_newMethod") == 80 && cost_table_daily_utc (infura));
    cost_table_t *alchemy = cost_table_new ("alchemy", err, sizeof (err));
    assert (alchemy && cost_table_units (alchemy, "eth_getTransactionByHash") == 20);
    //  Billed and throughput units apart: Alchemy bills eth_getBlockReceipts 20 CU but
    //  counts 500 against CU/s; without a throughput line they are the same.
    assert (cost_table_units (alchemy, "eth_getBlockReceipts") == 20);
    assert (cost_table_throughput (alchemy, "eth_getBlockReceipts") == 500);
    assert (cost_table_throughput (alchemy, "eth_getTransactionReceipt") == 20);
    assert (cost_table_throughput (infura, "eth_getBlockReceipts") == 1000);
    assert (cost_table_units (alchemy, "some_newMethod") == 0);
    //  What an answer costs: Infura bills no 429 or 402, 5 for another 4xx, nothing for a
    //  5xx; Alchemy no 429 or 403, the method's units for the rest; no answer known (0)
    //  costs the method's units.
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 200) == 1000);
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 0) == 1000);
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 429) == 0);
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 402) == 0);
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 400) == 5);
    assert (cost_table_answer_units (infura, "eth_getBlockReceipts", 503) == 0);
    assert (cost_table_answer_units (alchemy, "eth_getBlockReceipts", 429) == 0);
    assert (cost_table_answer_units (alchemy, "eth_getBlockReceipts", 403) == 0);
    assert (cost_table_answer_units (alchemy, "eth_getBlockReceipts", 404) == 20);
    assert (cost_table_answer_units (alchemy, "eth_getBlockReceipts", 500) == 20);
    assert (cost_table_answer_units (requests, "eth_call", 429) == 1);
    assert (cost_table_bound (infura, "eth_chainId") == 5 && cost_table_bound (alchemy, "m") == 0);
    cost_table_t *mine = cost_table_parse ("name = m\nunit = u\nerror.5xx = 7\nerror.503 = 1\n"
                                           "error.4xx = method\ncheap = 2\n",
                                           "mine", err, sizeof (err));
    assert (mine && cost_table_answer_units (mine, "cheap", 500) == 7);
    assert (cost_table_answer_units (mine, "cheap", 503) == 1);    //  the code before its class
    assert (cost_table_answer_units (mine, "cheap", 418) == 2);
    assert (cost_table_answer_units (mine, "cheap", 302) == 2);    //  no rule: the method's
    assert (cost_table_bound (mine, "cheap") == 7);    //  a 5xx may cost more than success
    cost_table_destroy (&mine);
    cost_table_t *copy = cost_table_dup (alchemy);
    assert (s_same (copy, alchemy) && !s_same (copy, infura));
    cost_table_destroy (&copy);

    //  The shipped files say what the built-ins say.
    const char *source = getenv ("EVMTAP_SOURCE");
    if (source) {
        const cost_table_t *builtin [3] = {requests, infura, alchemy};
        for (size_t index = 0; index < 3; index++) {
            char path [512];
            snprintf (path, sizeof (path), "%s/config/costs/%s.cfg", source,
                      cost_table_name (builtin [index]));
            cost_table_t *file = cost_table_new (path, err, sizeof (err));
            if (!file)
                printf ("%s\n", err);
            assert (file && s_same (file, builtin [index]));
            cost_table_destroy (&file);
            if (verbose)
                printf ("%s matches its built-in table\n", path);
        }
    }
    //  The shipped tables are the providers' (shared/data/costs): every method there costs
    //  here what it costs there, billed and throughput.
    const char *shared = getenv ("EVMTAP_SHARED_DATA");
    const struct {
        const char *file;
        const cost_table_t *table;
        bool throughput;
    } sources [] = {{"infura.cfg", infura, false},
                    {"alchemy.cfg", alchemy, false},
                    {"alchemy_throughput.cfg", alchemy, true}};
    for (size_t index = 0; shared && index < sizeof (sources) / sizeof (sources [0]); index++) {
        char path [512];
        snprintf (path, sizeof (path), "%s/costs/%s", shared, sources [index].file);
        cost_table_t *file = cost_table_new (path, err, sizeof (err));
        if (!file)
            continue;    //  the shared data is not there: nothing to compare
        assert (file->fallback == sources [index].table->fallback);
        for (size_t entry = 0; entry < file->count; entry++) {
            const char *method = file->costs [entry].method;
            uint64_t mine = sources [index].throughput
                                ? cost_table_throughput (sources [index].table, method)
                                : cost_table_units (sources [index].table, method);
            if (mine != file->costs [entry].units)
                printf ("%s: %s is %" PRIu64 " there, %" PRIu64 " here\n", path, method,
                        file->costs [entry].units, mine);
            assert (mine == file->costs [entry].units);
        }
        cost_table_destroy (&file);
    }
    //  Errors name the origin and line.
    assert (!cost_table_parse ("name = x\nunit = y\neth_call = -1\n", "t.cfg", err, sizeof (err)));
    assert (streq (err, "t.cfg:3: eth_call: \"-1\" is not a whole number of units"));
    assert (!cost_table_parse ("name = x\n\nwhat\n", "t.cfg", err, sizeof (err)));
    assert (streq (err, "t.cfg:3: expected `name = value`"));
    assert (!cost_table_parse ("unit = y\n", "t.cfg", err, sizeof (err)));
    assert (
        !cost_table_parse ("name = a\nunit = b\ndaily_reset = weekly\n", "t", err, sizeof (err)));
    assert (!cost_table_new ("/nonexistent/costs.cfg", err, sizeof (err)));
    const char *bad [][2] = {
        {"throughput.eth_call = x",
         "t:3: throughput.eth_call: \"x\" is not a whole number of units"},
        {"error.600 = 0",
         "t:3: error.600: \"0\" not an HTTP status (100..599) or a class (4xx, 5xx)"},
        {"error.4xx = free", "t:3: error.4xx: \"free\" is not a whole number of units or `method`"},
        {"eth.call = 1",
         "t:3: eth.call: \"1\" is not a method name, throughput.METHOD or error.CODE"},
        {"eth_call = 1\neth_call = 2", "t:4: eth_call: \"2\" given twice"},
    };
    for (size_t index = 0; index < sizeof (bad) / sizeof (bad [0]); index++) {
        char text [200];
        snprintf (text, sizeof (text), "name = a\nunit = b\n%s\n", bad [index][0]);
        assert (!cost_table_parse (text, "t", err, sizeof (err)));
        if (!streq (err, bad [index][1]))
            printf ("%s\n", err);
        assert (streq (err, bad [index][1]));
    }
    cost_table_destroy (&requests);
    cost_table_destroy (&infura);
    cost_table_destroy (&alchemy);
}
