/*  cost_table: per-method costs in a provider's units (see cost_table.h). The built-in
    tables repeat config/costs/ (one .cfg each) without their comments; the selftest checks that they
    still say the same thing as the files. */
#include "evmtap.h"
#include "cost_table.h"

#define S_MAX_METHODS 128

typedef struct {
    char method [64];
    uint64_t units;
} s_cost_t;

struct _cost_table_t {
    char name [64];
    char unit [32];
    uint64_t fallback;    //  units of a method the table does not list
    bool daily_utc;       //  daily budget resets at 00:00 UTC
    s_cost_t costs [S_MAX_METHODS];
    size_t count;
};

//  Built in: config/costs/<name>.cfg, comments left out.
static const struct {
    const char *name;
    const char *text;
} s_builtin [] = {
    {"requests", "name = requests\nunit = requests\ndefault = 1\ndaily_reset = sliding\n"},
    {"infura", "name = infura\nunit = credits\ndefault = 80\ndaily_reset = utc\n"
               "eth_chainId = 5\nnet_version = 5\neth_blockNumber = 80\neth_getBlockByNumber = 80\n"
               "eth_getBlockByHash = 80\neth_getTransactionByHash = 80\n"
               "eth_getTransactionReceipt = 80\neth_getBlockReceipts = 1000\neth_getLogs = 255\n"
               "eth_call = 80\neth_getBalance = 80\neth_getCode = 80\neth_getStorageAt = 80\n"
               "eth_estimateGas = 300\neth_sendRawTransaction = 720\neth_gasPrice = 80\n"
               "eth_feeHistory = 80\n"},
    {"alchemy",
     "name = alchemy\nunit = compute_units\ndefault = 26\ndaily_reset = sliding\n"
     "eth_chainId = 0\nnet_version = 0\neth_blockNumber = 10\neth_getBlockByNumber = 16\n"
     "eth_getBlockByHash = 16\neth_getTransactionByHash = 17\n"
     "eth_getTransactionReceipt = 15\neth_getBlockReceipts = 500\neth_getLogs = 75\n"
     "eth_call = 26\neth_getBalance = 19\neth_getCode = 26\neth_getStorageAt = 17\n"
     "eth_estimateGas = 87\neth_sendRawTransaction = 250\neth_gasPrice = 19\n"
     "eth_feeHistory = 10\n"},
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
        uint64_t units;
        if (streq (name, "name"))
            snprintf (self->name, sizeof (self->name), "%s", value);
        else if (streq (name, "unit"))
            snprintf (self->unit, sizeof (self->unit), "%s", value);
        else if (streq (name, "daily_reset") && (streq (value, "utc") || streq (value, "sliding")))
            self->daily_utc = streq (value, "utc");
        else if (streq (name, "daily_reset")) {
            snprintf (err, err_size, "%s:%d: daily_reset: \"%.40s\" is not utc or sliding", origin,
                      line_number, value);
            failed = true;
        }
        else if (!s_parse_units (value, &units)) {
            snprintf (err, err_size, "%s:%d: %.64s: \"%.40s\" is not a whole number of units",
                      origin, line_number, name, value);
            failed = true;
        }
        else if (streq (name, "default"))
            self->fallback = units;
        else if (strlen (name) >= sizeof (self->costs [0].method) || self->count >= S_MAX_METHODS) {
            snprintf (err, err_size, "%s:%d: too many methods, or a name too long", origin,
                      line_number);
            failed = true;
        }
        else {
            snprintf (self->costs [self->count].method, sizeof (self->costs [0].method), "%s",
                      name);
            self->costs [self->count++].units = units;
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
    for (size_t index = 0; index < self->count; index++)
        if (streq (self->costs [index].method, method))
            return self->costs [index].units;
    return self->fallback;
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
        || one->count != other->count)
        return false;
    for (size_t index = 0; index < one->count; index++)
        if (cost_table_units (other, one->costs [index].method) != one->costs [index].units)
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
    assert (alchemy && cost_table_units (alchemy, "eth_getTransactionByHash") == 17);
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
    //  Errors name the origin and line.
    assert (!cost_table_parse ("name = x\nunit = y\neth_call = -1\n", "t.cfg", err, sizeof (err)));
    assert (streq (err, "t.cfg:3: eth_call: \"-1\" is not a whole number of units"));
    assert (!cost_table_parse ("name = x\n\nwhat\n", "t.cfg", err, sizeof (err)));
    assert (streq (err, "t.cfg:3: expected `name = value`"));
    assert (!cost_table_parse ("unit = y\n", "t.cfg", err, sizeof (err)));
    assert (
        !cost_table_parse ("name = a\nunit = b\ndaily_reset = weekly\n", "t", err, sizeof (err)));
    assert (!cost_table_new ("/nonexistent/costs.cfg", err, sizeof (err)));
    cost_table_destroy (&requests);
    cost_table_destroy (&infura);
    cost_table_destroy (&alchemy);
}
