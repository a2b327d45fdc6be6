/*  setting_types: the types of the values of settings (settings.h). A type checks a value the
    same way whether it came from a flag or from the file, so that both give the same verdict
    in the same words; it shows a stored value back as a user would write it, so that --help
    and docs/config.md print the defaults a run really has; it frees what the value holds.
    Also the texts of a row, with {default}, {min}, {max} and {choices} filled in. */
#include "evmtap.h"
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <curl/curl.h>
#include "setting_types.h"
#include "options.h"
#include "settings.h"
#include "sink.h"

//  Key and chain names are at most this long.
#define S_NAME_MAX 64

//  --------------------------------------------------------------------------
//  Checks of text

static int
s_reason (char *reason, size_t reason_size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (reason, reason_size, format, args);
    va_end (args);
    return -1;
}

//  Strict unsigned decimal: digits only (no sign, blank, or hex), within [min, max].
static bool
s_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *result)
{
    if (!isdigit ((unsigned char) text [0]))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long number = strtoull (text, &end, 10);
    if (errno || *end || number < min || number > max)
        return false;
    *result = number;
    return true;
}

//  Strict non-negative decimal number such as 10, 2.5 or .5, within [min, max].
static bool
s_parse_number (const char *text, double min, double max, double *result)
{
    if (!isdigit ((unsigned char) text [0]) && text [0] != '.')
        return false;
    for (const char *scan = text; *scan; scan++)
        if (!isdigit ((unsigned char) *scan) && *scan != '.')
            return false;
    errno = 0;
    char *end = NULL;
    double number = strtod (text, &end);
    if (errno || *end || !isfinite (number) || number < min || number > max)
        return false;
    *result = number;
    return true;
}

bool
settings_valid_name (const char *text, size_t size)
{
    if (size == 0 || size > S_NAME_MAX)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) text [index]) && text [index] != '_' && text [index] != '-')
            return false;
    return true;
}

bool
setting_valid_chain_name (const char *text)
{
    return settings_valid_name (text, strlen (text));
}

//  A port: digits from 0 to 65535, or '*' where an ephemeral port is allowed.
static bool
s_valid_port (const char *text, bool star_allowed)
{
    uint64_t port;
    if (star_allowed && streq (text, "*"))
        return true;
    return s_parse_uint (text, 0, 65535, &port);
}

//  HOST:PORT with a non-empty host (an IPv6 host in brackets).
static bool
s_valid_host_port (const char *text, bool star_allowed)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text)
        return false;
    for (const char *scan = text; scan < colon; scan++)
        if (isspace ((unsigned char) *scan) || *scan == '/')
            return false;
    return s_valid_port (colon + 1, star_allowed);
}

static bool
s_has_prefix (const char *text, const char *prefix)
{
    return strncmp (text, prefix, strlen (prefix)) == 0;
}

bool
setting_valid_redis (const char *text)
{
    return s_has_prefix (text, "redis://") && text [8] != 0 && text [8] != ':' && text [8] != '/';
}

bool
setting_valid_listen (const char *text)
{
    return s_has_prefix (text, "tcp://") && s_valid_host_port (text + 6, true);
}

bool
setting_valid_endpoint (const char *text)
{
    return setting_valid_listen (text) || (s_has_prefix (text, "ipc://") && text [6])
           || (s_has_prefix (text, "inproc://") && text [9]);
}

bool
setting_valid_metrics (const char *text)
{
    return s_valid_host_port (text, false);
}

//  The URL as libcurl will read it: a host and a port from 1 to 65535 (a URL the provider
//  can never answer would be retried for ever). {key} stands in for a key's secret, which
//  is never at hand here, so a word of the same kind takes its place.
static int
s_check_url_parts (const char *value, char *reason, size_t reason_size)
{
    char *url = strdup (value);
    assert (url);
    for (char *place = strstr (url, "{key}"); place; place = strstr (place, "{key}"))
        memcpy (place, "KEY00", 5);
    CURLU *parsed = curl_url ();
    assert (parsed);
    CURLUcode rc = curl_url_set (parsed, CURLUPART_URL, url, 0);
    free (url);
    char *host = NULL, *port = NULL;
    if (rc == CURLUE_OK)
        rc = curl_url_get (parsed, CURLUPART_HOST, &host, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get (parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    int result = 0;
    if (rc == CURLUE_BAD_PORT_NUMBER)
        result = s_reason (reason, reason_size, "\"%s\": the port is not from 1 to 65535", value);
    else if (rc != CURLUE_OK || !host || !*host)
        result = s_reason (reason, reason_size, "\"%s\" is not a URL libcurl reads: %s", value,
                           rc != CURLUE_OK ? curl_url_strerror (rc) : "no host");
    else if (!port || atol (port) < 1 || atol (port) > 65535)
        result = s_reason (reason, reason_size, "\"%s\": the port is not from 1 to 65535", value);
    curl_free (host);
    curl_free (port);
    curl_url_cleanup (parsed);
    return result;
}

static int
s_check_rpc_url (const char *value, char *reason, size_t reason_size)
{
    const char *host = NULL;
    if (s_has_prefix (value, "http://"))
        host = value + 7;
    else if (s_has_prefix (value, "https://"))
        host = value + 8;
    if (!host || *host == 0 || *host == '/' || *host == ':')
        return s_reason (reason, reason_size, "\"%s\" is not an http:// or https:// URL", value);
    for (const char *scan = value; *scan; scan++) {
        if ((unsigned char) *scan <= ' ')
            return s_reason (reason, reason_size, "\"%s\" has a blank or control character", value);
        //  A misspelt placeholder would send "{apikey}" to the provider as the key.
        if (*scan == '{' && strncmp (scan, "{key}", 5) != 0)
            return s_reason (reason, reason_size, "\"%s\" has a placeholder other than {key}",
                             value);
    }
    return s_check_url_parts (value, reason, reason_size);
}

//  --------------------------------------------------------------------------
//  The texts of a row: {default}, {min}, {max} and {choices} filled in

//  Appends size characters of text; the texts are the table's, so one that does not fit is
//  a mistake in the table.
static void
s_append (char *out, size_t out_size, size_t *used, const char *text, size_t size)
{
    assert (*used + size < out_size);
    memcpy (out + *used, text, size);
    *used += size;
    out [*used] = 0;
}

//  "a, b or c": the words of a setting with choices, as --help and errors list them.
static void
s_choices (const setting_t *setting, char *out, size_t out_size)
{
    assert (setting->choices && setting->choices [0]);
    size_t used = 0;
    out [0] = 0;
    for (size_t index = 0; setting->choices [index]; index++) {
        if (index)
            s_append (out, out_size, &used, setting->choices [index + 1] ? ", " : " or ",
                      setting->choices [index + 1] ? 2 : 4);
        s_append (out, out_size, &used, setting->choices [index],
                  strlen (setting->choices [index]));
    }
}

//  Writes the value a run without flags or file has; defaults has one chain.
static void
s_show_default (const setting_t *setting, const options_t *defaults, char *text, size_t text_size)
{
    assert (defaults && defaults->chain_count >= 1);
    assert (setting->type && setting->type->show);
    const void *record = setting->scope == SETTING_CHAIN ? (const void *) &defaults->chains [0]
                                                         : (const void *) defaults;
    setting->type->show (setting, record, text, text_size);
}

//  The words a row's texts may say, each replaced by the setting's own.
typedef enum { S_DEFAULT, S_MIN, S_MAX, S_CHOICES, S_WORDS } s_word_t;
static const char *s_words [S_WORDS] = {"{default}", "{min}", "{max}", "{choices}"};

//  Writes template with the setting's values for {default} (from defaults: NULL for the
//  reasons of refusals, which never say it), {min}, {max} and {choices}.
void
setting_expand (const setting_t *setting, const char *template, const options_t *defaults,
                char *out, size_t out_size)
{
    size_t used = 0;
    out [0] = 0;
    for (const char *scan = template; *scan;) {
        s_word_t word = S_DEFAULT;
        while (word < S_WORDS && !s_has_prefix (scan, s_words [word]))
            word++;
        if (word == S_WORDS) {
            s_append (out, out_size, &used, scan++, 1);
            continue;
        }
        char text [SETTING_TEXT_MAX];
        const char *insert = word == S_MIN ? setting->min : word == S_MAX ? setting->max : text;
        if (word == S_DEFAULT)
            s_show_default (setting, defaults, text, sizeof (text));
        if (word == S_CHOICES)
            s_choices (setting, text, sizeof (text));
        assert (insert);
        s_append (out, out_size, &used, insert, strlen (insert));
        scan += strlen (s_words [word]);
    }
}

//  "\"value\" is not <expect>": how most values are refused. Without expect, the choices.
static int
s_refuse (const setting_t *setting, const char *value, char *reason, size_t reason_size)
{
    char expect [SETTING_TEXT_MAX];
    setting_expand (setting, setting->expect ? setting->expect : "{choices}", NULL, expect,
                    sizeof (expect));
    return s_reason (reason, reason_size, "\"%s\" is not %s", value, expect);
}

//  --------------------------------------------------------------------------
//  The types

//  The value of a setting in record, checked to be of the size the type stores.
static void *
s_place (const setting_t *setting, void *record, size_t size)
{
    assert (setting->size == size);
    return (char *) record + setting->field;
}

static const void *
s_value (const setting_t *setting, const void *record, size_t size)
{
    assert (setting->size == size);
    return (const char *) record + setting->field;
}

//  Replaces a string field by a copy of value.
static void
s_set_string (char **field, const char *value)
{
    zstr_free (field);
    *field = strdup (value);
    assert (*field);
}

//  Text: not empty, and valid when the row has a check.
static int
s_text_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    if (*value == 0 || (setting->valid && !setting->valid (value)))
        return s_refuse (setting, value, reason, reason_size);
    s_set_string ((char **) s_place (setting, record, sizeof (char *)), value);
    return 0;
}

static void
s_text_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    const char *value = *(char *const *) s_value (setting, record, sizeof (char *));
    snprintf (text, text_size, "%s", value ? value : "");
}

static void
s_text_clear (const setting_t *setting, void *record)
{
    zstr_free ((char **) s_place (setting, record, sizeof (char *)));
}

const setting_type_t setting_text = {s_text_parse, s_text_show, s_text_clear, false};

//  Key costs: a table's name or file; NULL (requests) until set.
static int
s_costs_parse (const setting_t *setting, void *record, const char *value, char *reason,
               size_t reason_size)
{
    if (!*value)
        return s_reason (reason, reason_size,
                         "empty: requests, infura, alchemy or a cost "
                         "table file");
    s_set_string ((char **) s_place (setting, record, sizeof (char *)), value);
    return 0;
}

//  Unset is the table of plain requests, so a default and an explicit `requests` agree.
static void
s_costs_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    const char *value = *(char *const *) s_value (setting, record, sizeof (char *));
    snprintf (text, text_size, "%s", value ? value : "requests");
}

const setting_type_t setting_costs = {s_costs_parse, s_costs_show, s_text_clear, false};

//  Lists: an array of strings of max items, and its count.
static size_t *
s_list_count (const setting_t *setting, void *record)
{
    assert (setting->count);
    return (size_t *) ((char *) record + setting->count);
}

size_t
setting_list_size (const setting_t *setting, const void *record)
{
    assert (setting->count);
    return *(const size_t *) ((const char *) record + setting->count);
}

//  Adds a copy of size characters of item, unless the list is full.
static int
s_list_add (const setting_t *setting, void *record, const char *item, size_t size, char *reason,
            size_t reason_size)
{
    uint64_t most = 0;
    bool parsed = s_parse_uint (setting->max, 0, SIZE_MAX, &most);
    assert (parsed && setting->size == most * sizeof (char *));
    char **items = (char **) s_place (setting, record, setting->size);
    size_t *count = s_list_count (setting, record);
    if (*count == most)
        return s_reason (reason, reason_size, "more than %s %s", setting->max, setting->unit);
    items [*count] = (char *) zmalloc (size + 1);
    memcpy (items [*count], item, size);
    (*count)++;
    return 0;
}

static int
s_list_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    if (*value == 0 || (setting->valid && !setting->valid (value)))
        return s_refuse (setting, value, reason, reason_size);
    return s_list_add (setting, record, value, strlen (value), reason, reason_size);
}

//  The items, comma-separated.
static void
s_list_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    char *const *items = (char *const *) s_value (setting, record, setting->size);
    size_t count = setting_list_size (setting, record);
    size_t used = 0;
    text [0] = 0;
    for (size_t index = 0; index < count; index++) {
        if (index)
            s_append (text, text_size, &used, ",", 1);
        s_append (text, text_size, &used, items [index], strlen (items [index]));
    }
}

static void
s_list_clear (const setting_t *setting, void *record)
{
    char **items = (char **) s_place (setting, record, setting->size);
    size_t *count = s_list_count (setting, record);
    for (size_t index = 0; index < *count; index++)
        zstr_free (&items [index]);
    *count = 0;
}

const setting_type_t setting_list = {s_list_parse, s_list_show, s_list_clear, true};

//  Provider URLs: a list of http(s) URLs whose only placeholder is {key}.
static int
s_urls_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    if (s_check_rpc_url (value, reason, reason_size))
        return -1;
    return s_list_add (setting, record, value, strlen (value), reason, reason_size);
}

const setting_type_t setting_urls = {s_urls_parse, s_list_show, s_list_clear, true};

//  Key names: "name,name" (blanks around names allowed) replaces the list.
static int
s_keys_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    s_list_clear (setting, record);
    char *const *keys = (char *const *) s_place (setting, record, setting->size);
    const char *scan = value;
    int rc = 0;
    while (rc == 0) {
        while (*scan == ' ')
            scan++;
        const char *start = scan;
        while (*scan && *scan != ',' && *scan != ' ')
            scan++;
        size_t size = scan - start;
        while (*scan == ' ')
            scan++;
        if (!settings_valid_name (start, size) || (*scan && *scan != ','))
            rc = s_refuse (setting, value, reason, reason_size);
        size_t count = setting_list_size (setting, record);
        for (size_t index = 0; index < count && rc == 0; index++)
            if (strlen (keys [index]) == size && memcmp (keys [index], start, size) == 0)
                rc = s_reason (reason, reason_size, "key %.*s is listed twice in \"%s\"",
                               (int) size, start, value);
        if (rc == 0)
            rc = s_list_add (setting, record, start, size, reason, reason_size);
        if (rc == 0 && *scan == 0)
            return 0;
        if (rc == 0)
            scan++;    //  past the comma
    }
    s_list_clear (setting, record);
    return -1;
}

const setting_type_t setting_keys = {s_keys_parse, NULL, s_list_clear, false};

//  Integers within the row's range, in an int or a 64-bit field.
static int
s_count_parse (const setting_t *setting, void *record, const char *value, char *reason,
               size_t reason_size)
{
    uint64_t min, max, number;
    bool ranged = s_parse_uint (setting->min, 0, UINT64_MAX, &min)
                  && s_parse_uint (setting->max, min, UINT64_MAX, &max);
    assert (ranged);
    if (!s_parse_uint (value, min, max, &number))
        return s_refuse (setting, value, reason, reason_size);
    if (setting->size == sizeof (int)) {
        assert (max <= INT_MAX);
        *(int *) s_place (setting, record, sizeof (int)) = (int) number;
    }
    else
        *(uint64_t *) s_place (setting, record, sizeof (uint64_t)) = number;
    return 0;
}

static void
s_count_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    if (setting->size == sizeof (int))
        snprintf (text, text_size, "%d", *(const int *) s_value (setting, record, sizeof (int)));
    else
        snprintf (text, text_size, "%" PRIu64,
                  *(const uint64_t *) s_value (setting, record, sizeof (uint64_t)));
}

const setting_type_t setting_count = {s_count_parse, s_count_show, NULL, false};

//  Block numbers: a count whose unset value is OPTIONS_UNSET.
static void
s_block_clear (const setting_t *setting, void *record)
{
    *(int64_t *) s_place (setting, record, sizeof (int64_t)) = OPTIONS_UNSET;
}

const setting_type_t setting_block = {s_count_parse, NULL, s_block_clear, false};

//  Kafka's replication factor: a count, or default (-1) for the cluster's.
static int
s_replication_parse (const setting_t *setting, void *record, const char *value, char *reason,
                     size_t reason_size)
{
    if (!streq (value, "default"))
        return s_count_parse (setting, record, value, reason, reason_size);
    *(int *) s_place (setting, record, sizeof (int)) = -1;
    return 0;
}

static void
s_replication_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    if (*(const int *) s_value (setting, record, sizeof (int)) == -1)
        snprintf (text, text_size, "default");
    else
        s_count_show (setting, record, text, text_size);
}

const setting_type_t setting_replication = {s_replication_parse, s_replication_show, NULL, false};

//  Numbers with a fraction within the row's range: in a double, or for seconds as whole
//  milliseconds in an int.
static int
s_real_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    double min, max, number;
    bool ranged = s_parse_number (setting->min, 0, INFINITY, &min)
                  && s_parse_number (setting->max, min, INFINITY, &max);
    assert (ranged);
    if (!s_parse_number (value, min, max, &number))
        return s_refuse (setting, value, reason, reason_size);
    if (setting->type == &setting_seconds)
        *(int *) s_place (setting, record, sizeof (int)) = (int) (number * 1000 + 0.5);
    else
        *(double *) s_place (setting, record, sizeof (double)) = number;
    return 0;
}

static void
s_real_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    double number = setting->type == &setting_seconds
                        ? *(const int *) s_value (setting, record, sizeof (int)) / 1000.0
                        : *(const double *) s_value (setting, record, sizeof (double));
    snprintf (text, text_size, "%.15g", number);
}

const setting_type_t setting_real = {s_real_parse, s_real_show, NULL, false};
const setting_type_t setting_seconds = {s_real_parse, s_real_show, NULL, false};

//  Booleans: a flag without value is true; values are true/false, yes/no, 1/0.
static int
s_bool_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    bool *field = (bool *) s_place (setting, record, sizeof (bool));
    if (!value || streq (value, "true") || streq (value, "yes") || streq (value, "1"))
        *field = true;
    else if (streq (value, "false") || streq (value, "no") || streq (value, "0"))
        *field = false;
    else
        return s_reason (reason, reason_size, "\"%s\" is not true or false", value);
    return 0;
}

static void
s_bool_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    snprintf (text, text_size, "%s",
              *(const bool *) s_value (setting, record, sizeof (bool)) ? "true" : "false");
}

const setting_type_t setting_bool = {s_bool_parse, s_bool_show, NULL, false};

//  Choices: one of the row's words, stored as its index (an enum, or a bool of two), or
//  for words as the row's own string (the Kafka codec, which the sink's config points at
//  rather than owns).
static int
s_choice_parse (const setting_t *setting, void *record, const char *value, char *reason,
                size_t reason_size)
{
    int index = 0;
    while (setting->choices [index] && !streq (value, setting->choices [index]))
        index++;
    if (!setting->choices [index])
        return s_refuse (setting, value, reason, reason_size);
    if (setting->type == &setting_word)
        *(const char **) s_place (setting, record,
                                  sizeof (const char *)) = setting->choices [index];
    else if (setting->size == sizeof (bool)) {
        assert (index < 2 && setting->choices [2] == NULL);
        *(bool *) s_place (setting, record, sizeof (bool)) = index == 1;
    }
    else
        *(int *) s_place (setting, record, sizeof (int)) = index;
    return 0;
}

static void
s_choice_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    const char *word;
    if (setting->type == &setting_word)
        word = *(const char *const *) s_value (setting, record, sizeof (const char *));
    else if (setting->size == sizeof (bool))
        word = setting->choices [*(const bool *) s_value (setting, record, sizeof (bool))];
    else
        word = setting->choices [*(const int *) s_value (setting, record, sizeof (int))];
    snprintf (text, text_size, "%s", word);
}

const setting_type_t setting_choice = {s_choice_parse, s_choice_show, NULL, false};
const setting_type_t setting_word = {s_choice_parse, s_choice_show, NULL, false};

//  The sink: files, files:DIR, stdout or kafka:BROKERS, kept as a kind and a target.
static int
s_sink_parse (const setting_t *setting, void *record, const char *value, char *reason,
              size_t reason_size)
{
    sink_kind_t *kind = (sink_kind_t *) s_place (setting, record, sizeof (sink_kind_t));
    options_t *options = (options_t *) record;
    const char *target = NULL;
    if (streq (value, "files"))
        *kind = SINK_FILES;
    else if (s_has_prefix (value, "files:") && value [6])
        *kind = SINK_FILES, target = value + 6;
    else if (streq (value, "stdout"))
        *kind = SINK_STDOUT;
    else if (s_has_prefix (value, "kafka:") && value [6])
        *kind = SINK_KAFKA, target = value + 6;
    else
        return s_refuse (setting, value, reason, reason_size);
    zstr_free (&options->sink_target);
    if (target)
        s_set_string (&options->sink_target, target);
    return 0;
}

static void
s_sink_show (const setting_t *setting, const void *record, char *text, size_t text_size)
{
    sink_kind_t kind = *(const sink_kind_t *) s_value (setting, record, sizeof (sink_kind_t));
    const char *target = ((const options_t *) record)->sink_target;
    snprintf (text, text_size, "%s%s%s",
              kind == SINK_KAFKA    ? "kafka"
              : kind == SINK_STDOUT ? "stdout"
                                    : "files",
              target ? ":" : "", target ? target : "");
}

static void
s_sink_clear (const setting_t *setting, void *record)
{
    (void) setting;
    zstr_free (&((options_t *) record)->sink_target);
}

const setting_type_t setting_sink = {s_sink_parse, s_sink_show, s_sink_clear, false};
