/*  metrics: families in declaration order, each with its samples by label set; rendered
    sorted by label set, so that a scrape reads the same from one time to the next. */
#include "evmtap.h"
#include "metrics.h"
#include <ctype.h>
#include <math.h>
#include <stdarg.h>

//  One label set's value: a number, or a histogram's buckets, sum and count.
typedef struct {
    double value;         //  counter, gauge
    uint64_t *buckets;    //  histogram: observations <= bounds [i] (not cumulative)
    uint64_t count;       //  histogram: observations
    double sum;           //  histogram: their sum
} s_sample_t;

typedef struct {
    char *name;
    metrics_type_t type;
    char *help;
    const double *bounds;    //  histogram: bucket upper bounds, ascending (borrowed)
    size_t bound_count;
    zhashx_t *samples;    //  label set -> s_sample_t
} s_family_t;

struct _metrics_t {
    zlistx_t *families;    //  s_family_t, in declaration order (owned)
    zhashx_t *by_name;     //  name -> s_family_t (borrowed from families)
};

static void
s_sample_destructor (void **item)
{
    s_sample_t *sample = (s_sample_t *) *item;
    if (sample) {
        free (sample->buckets);
        free (sample);
        *item = NULL;
    }
}

static void
s_family_destructor (void **item)
{
    s_family_t *family = (s_family_t *) *item;
    if (family) {
        zhashx_destroy (&family->samples);
        free (family->name);
        free (family->help);
        free (family);
        *item = NULL;
    }
}

metrics_t *
metrics_new (void)
{
    metrics_t *self = (metrics_t *) zmalloc (sizeof (metrics_t));
    assert (self);
    self->families = zlistx_new ();
    self->by_name = zhashx_new ();
    assert (self->families && self->by_name);
    zlistx_set_destructor (self->families, s_family_destructor);
    return self;
}

void
metrics_destroy (metrics_t **self_p)
{
    assert (self_p);
    metrics_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->by_name);
        zlistx_destroy (&self->families);
        free (self);
        *self_p = NULL;
    }
}

//  [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no colon).
static bool
s_valid_name (const char *name, size_t len, bool colon)
{
    if (len == 0 || isdigit ((unsigned char) name [0]))
        return false;
    for (size_t index = 0; index < len; index++) {
        char c = name [index];
        if (!(isalnum ((unsigned char) c) || c == '_' || (colon && c == ':')))
            return false;
    }
    return true;
}

//  A label set as metrics_labels writes it: key="value" pairs, comma-separated, the
//  values escaped; "" is the empty set.
static bool
s_valid_labels (const char *labels)
{
    const char *cursor = labels;
    while (*cursor) {
        const char *equals = strchr (cursor, '=');
        if (!equals || !s_valid_name (cursor, (size_t) (equals - cursor), false)
            || equals [1] != '"')
            return false;
        cursor = equals + 2;
        while (*cursor && *cursor != '"') {
            if (*cursor == '\n')
                return false;
            if (*cursor == '\\') {
                cursor++;
                if (*cursor != '\\' && *cursor != '"' && *cursor != 'n')
                    return false;
            }
            cursor++;
        }
        if (*cursor != '"')
            return false;
        cursor++;
        if (*cursor == ',')
            cursor++;
        else if (*cursor)
            return false;
    }
    return true;
}

int
metrics_declare (metrics_t *self, const char *name, metrics_type_t type, const char *help,
                 const double *bounds, size_t bound_count)
{
    assert (self && name && help);
    assert ((type == METRICS_HISTOGRAM) == (bounds != NULL && bound_count > 0));
    if (!s_valid_name (name, strlen (name), true) || zhashx_lookup (self->by_name, name))
        return -1;
    s_family_t *family = (s_family_t *) zmalloc (sizeof (s_family_t));
    assert (family);
    family->name = strdup (name);
    family->help = strdup (help);
    assert (family->name && family->help);
    family->type = type;
    family->bounds = bounds;
    family->bound_count = bound_count;
    family->samples = zhashx_new ();
    assert (family->samples);
    zhashx_set_destructor (family->samples, s_sample_destructor);
    zlistx_add_end (self->families, family);
    zhashx_insert (self->by_name, name, family);
    return 0;
}

bool
metrics_known (metrics_t *self, const char *name)
{
    return zhashx_lookup (self->by_name, name) != NULL;
}

int
metrics_get (metrics_t *self, const char *name, const char *labels, double *value)
{
    s_family_t *family = (s_family_t *) zhashx_lookup (self->by_name, name);
    s_sample_t *sample = family && family->type != METRICS_HISTOGRAM
                             ? (s_sample_t *) zhashx_lookup (family->samples, labels)
                             : NULL;
    if (!sample)
        return -1;
    *value = sample->value;
    return 0;
}

//  The sample of name and labels, made when new; NULL when the family is unknown, of
//  another type, or the labels malformed.
static s_sample_t *
s_sample (metrics_t *self, const char *name, const char *labels, metrics_type_t type)
{
    s_family_t *family = (s_family_t *) zhashx_lookup (self->by_name, name);
    if (!family || family->type != type || !labels)
        return NULL;
    s_sample_t *sample = (s_sample_t *) zhashx_lookup (family->samples, labels);
    if (sample)
        return sample;
    if (!s_valid_labels (labels))
        return NULL;
    sample = (s_sample_t *) zmalloc (sizeof (s_sample_t));
    assert (sample);
    if (type == METRICS_HISTOGRAM) {
        sample->buckets = (uint64_t *) calloc (family->bound_count, sizeof (uint64_t));
        assert (sample->buckets);
    }
    zhashx_insert (family->samples, labels, sample);
    return sample;
}

int
metrics_set (metrics_t *self, const char *name, const char *labels, double value)
{
    s_sample_t *sample = s_sample (self, name, labels, METRICS_GAUGE);
    if (!sample)
        return -1;
    sample->value = value;
    return 0;
}

int
metrics_add (metrics_t *self, const char *name, const char *labels, double delta)
{
    s_family_t *family = (s_family_t *) zhashx_lookup (self->by_name, name);
    if (!family || family->type == METRICS_HISTOGRAM
        || (family->type == METRICS_COUNTER && !(delta >= 0)))
        return -1;
    s_sample_t *sample = s_sample (self, name, labels, family->type);
    if (!sample)
        return -1;
    sample->value += delta;
    return 0;
}

int
metrics_observe (metrics_t *self, const char *name, const char *labels, double value)
{
    s_sample_t *sample = s_sample (self, name, labels, METRICS_HISTOGRAM);
    if (!sample)
        return -1;
    s_family_t *family = (s_family_t *) zhashx_lookup (self->by_name, name);
    for (size_t index = 0; index < family->bound_count; index++)
        if (value <= family->bounds [index]) {
            sample->buckets [index]++;
            break;
        }
    sample->count++;
    sample->sum += value;
    return 0;
}

//  A value as the format spells it.
static void
s_number (zchunk_t *out, double value)
{
    char text [40];
    if (isinf (value))
        snprintf (text, sizeof (text), value > 0 ? "+Inf" : "-Inf");
    else if (isnan (value))
        snprintf (text, sizeof (text), "NaN");
    else
        snprintf (text, sizeof (text), "%.15g", value);
    zchunk_extend (out, text, strlen (text));
}

static void
s_text (zchunk_t *out, const char *text)
{
    zchunk_extend (out, text, strlen (text));
}

//  `name{labels[,extra]} value\n`.
static void
s_line (zchunk_t *out, const char *name, const char *suffix, const char *labels, const char *extra,
        double value)
{
    s_text (out, name);
    s_text (out, suffix);
    if (*labels || extra) {
        s_text (out, "{");
        s_text (out, labels);
        if (*labels && extra)
            s_text (out, ",");
        if (extra)
            s_text (out, extra);
        s_text (out, "}");
    }
    s_text (out, " ");
    s_number (out, value);
    s_text (out, "\n");
}

static int
s_compare_keys (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
s_render_family (zchunk_t *out, s_family_t *family)
{
    static const char *type_names [] = {"counter", "gauge", "histogram"};
    char *header = zsys_sprintf ("# HELP %s %s\n# TYPE %s %s\n", family->name, family->help,
                                 family->name, type_names [family->type]);
    assert (header);
    s_text (out, header);
    zstr_free (&header);
    size_t count = zhashx_size (family->samples);
    const char **keys = (const char **) calloc (count ? count : 1, sizeof (char *));
    assert (keys);
    size_t index = 0;
    for (void *item = zhashx_first (family->samples); item; item = zhashx_next (family->samples))
        keys [index++] = (const char *) zhashx_cursor (family->samples);
    qsort (keys, count, sizeof (char *), s_compare_keys);
    for (index = 0; index < count; index++) {
        s_sample_t *sample = (s_sample_t *) zhashx_lookup (family->samples, keys [index]);
        if (family->type != METRICS_HISTOGRAM) {
            s_line (out, family->name, "", keys [index], NULL, sample->value);
            continue;
        }
        uint64_t cumulative = 0;
        for (size_t bucket = 0; bucket < family->bound_count; bucket++) {
            cumulative += sample->buckets [bucket];
            char le [48];
            snprintf (le, sizeof (le), "le=\"%.15g\"", family->bounds [bucket]);
            s_line (out, family->name, "_bucket", keys [index], le, (double) cumulative);
        }
        s_line (out, family->name, "_bucket", keys [index], "le=\"+Inf\"", (double) sample->count);
        s_line (out, family->name, "_sum", keys [index], NULL, sample->sum);
        s_line (out, family->name, "_count", keys [index], NULL, (double) sample->count);
    }
    free (keys);
}

char *
metrics_render (metrics_t *self)
{
    zchunk_t *out = zchunk_new (NULL, 4096);
    assert (out);
    for (s_family_t *family = (s_family_t *) zlistx_first (self->families); family;
         family = (s_family_t *) zlistx_next (self->families))
        s_render_family (out, family);
    char *text = (char *) malloc (zchunk_size (out) + 1);
    assert (text);
    memcpy (text, zchunk_data (out), zchunk_size (out));
    text [zchunk_size (out)] = 0;
    zchunk_destroy (&out);
    return text;
}

int
metrics_labels (char *buffer, size_t size, ...)
{
    assert (buffer && size > 0);
    va_list args;
    va_start (args, size);
    size_t used = 0;
    int rc = 0;
    buffer [0] = 0;
    const char *key;
    while (rc == 0 && (key = va_arg (args, const char *))) {
        const char *value = va_arg (args, const char *);
        assert (value);
        int len = snprintf (buffer + used, size - used, "%s%s=\"", used ? "," : "", key);
        if (len < 0 || (size_t) len >= size - used) {
            rc = -1;
            break;
        }
        used += (size_t) len;
        for (const char *cursor = value; *cursor && rc == 0; cursor++) {
            const char *escaped = *cursor == '\\'   ? "\\\\"
                                  : *cursor == '"'  ? "\\\""
                                  : *cursor == '\n' ? "\\n"
                                                    : NULL;
            size_t need = escaped ? 2 : 1;
            if (used + need + 2 > size)
                rc = -1;
            else if (escaped) {
                memcpy (buffer + used, escaped, 2);
                used += 2;
            }
            else
                buffer [used++] = *cursor;
        }
        if (rc == 0 && used + 2 > size)
            rc = -1;
        if (rc == 0) {
            buffer [used++] = '"';
            buffer [used] = 0;
        }
    }
    va_end (args);
    if (rc)
        buffer [0] = 0;
    return rc;
}

void
metrics_test (bool verbose)
{
    if (verbose)
        printf (" * metrics: ");
    static const double bounds [] = {0.1, 1};
    metrics_t *self = metrics_new ();
    assert (metrics_declare (self, "t_requests_total", METRICS_COUNTER, "Requests.", NULL, 0) == 0);
    assert (metrics_declare (self, "t_head", METRICS_GAUGE, "Head.", NULL, 0) == 0);
    assert (metrics_declare (self, "t_latency_seconds", METRICS_HISTOGRAM, "Latency.", bounds, 2)
            == 0);
    assert (metrics_declare (self, "t_head", METRICS_GAUGE, "Again.", NULL, 0) == -1);
    assert (metrics_declare (self, "1bad", METRICS_GAUGE, "Bad.", NULL, 0) == -1);
    assert (metrics_known (self, "t_head") && !metrics_known (self, "t_nothing"));

    char labels [64];
    assert (metrics_labels (labels, sizeof (labels), "chain", "a\"b\\c\nd", "key", "k1", NULL)
            == 0);
    assert (streq (labels, "chain=\"a\\\"b\\\\c\\nd\",key=\"k1\""));
    char small [12];
    assert (metrics_labels (small, sizeof (small), "chain", "mainnet-long", NULL) == -1);
    assert (streq (small, ""));

    assert (metrics_add (self, "t_requests_total", "key=\"b\"", 2) == 0);
    assert (metrics_add (self, "t_requests_total", "key=\"a\"", 1) == 0);
    assert (metrics_add (self, "t_requests_total", "key=\"a\"", 1.5) == 0);
    assert (metrics_add (self, "t_requests_total", "key=\"a\"", -1) == -1);
    assert (metrics_set (self, "t_requests_total", "", 1) == -1);    //  no gauge
    assert (metrics_set (self, "t_head", "", 42) == 0);
    assert (metrics_add (self, "t_head", "", -2) == 0);
    assert (metrics_set (self, "t_nothing", "", 1) == -1);
    assert (metrics_set (self, "t_head", "key=unquoted", 1) == -1);
    assert (metrics_set (self, "t_head", "key=\"open", 1) == -1);
    assert (metrics_set (self, "t_head", "a=\"1\"b=\"2\"", 1) == -1);
    assert (metrics_set (self, "t_head", "k-y=\"1\"", 1) == -1);
    assert (metrics_observe (self, "t_latency_seconds", "", 0.05) == 0);
    assert (metrics_observe (self, "t_latency_seconds", "", 0.5) == 0);
    assert (metrics_observe (self, "t_latency_seconds", "", 5) == 0);
    assert (metrics_observe (self, "t_head", "", 5) == -1);
    double value = 0;
    assert (metrics_get (self, "t_head", "", &value) == 0 && value == 40);
    assert (metrics_get (self, "t_head", "key=\"x\"", &value) == -1);
    assert (metrics_get (self, "t_latency_seconds", "", &value) == -1);

    char *text = metrics_render (self);
    const char *expected = "# HELP t_requests_total Requests.\n"
                           "# TYPE t_requests_total counter\n"
                           "t_requests_total{key=\"a\"} 2.5\n"
                           "t_requests_total{key=\"b\"} 2\n"
                           "# HELP t_head Head.\n"
                           "# TYPE t_head gauge\n"
                           "t_head 40\n"
                           "# HELP t_latency_seconds Latency.\n"
                           "# TYPE t_latency_seconds histogram\n"
                           "t_latency_seconds_bucket{le=\"0.1\"} 1\n"
                           "t_latency_seconds_bucket{le=\"1\"} 2\n"
                           "t_latency_seconds_bucket{le=\"+Inf\"} 3\n"
                           "t_latency_seconds_sum 5.55\n"
                           "t_latency_seconds_count 3\n";
    if (!streq (text, expected))
        fprintf (stderr, "metrics_test: rendered\n%s", text);
    assert (streq (text, expected));
    zstr_free (&text);
    metrics_destroy (&self);
    metrics_destroy (&self);
    if (verbose)
        printf ("OK\n");
}
