/*  secrets: API keys by pseudo-name, and the URLs and provider names made from them.

    A secret comes from the environment (EVMTAP_KEY_<NAME>) or from a Docker secret file
    (<secrets_dir>/<name>), in that order. This module is one of the two places that ever
    hold a secret (the other is the URL handed to libcurl), so its errors name the places
    it looked, never what it found, and every buffer that held a secret is wiped before it
    is freed. Provider names for logs come from the URL template, which never holds one,
    read by libcurl's URL parser (the one that reads the filled URL when it is fetched). */
#include "evmtap.h"
#include "secrets.h"
#include <curl/curl.h>

//  A secret file is a short token; anything longer is not one.
#define S_SECRET_FILE_MAX 4096

//  Key names become an env var name and a file name: keep them to a safe alphabet so a
//  name can never climb out of the secrets directory.
static bool
s_valid_key_name (const char *key_name)
{
    if (!key_name || !*key_name || *key_name == '.' || strlen (key_name) > 128)
        return false;
    for (const char *c = key_name; *c; c++)
        if (!isalnum ((unsigned char) *c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

//  Refuses secrets that would break a URL or a header, or that are obviously not keys.
static bool
s_valid_secret (const char *secret)
{
    for (const char *c = secret; *c; c++)
        if ((unsigned char) *c < 0x21 || (unsigned char) *c == 0x7f)
            return false;
    return true;
}

static void
s_strip_trailing_space (char *text)
{
    size_t length = strlen (text);
    while (length > 0 && isspace ((unsigned char) text [length - 1]))
        text [--length] = 0;
}

static void
s_set_err (char *err, size_t err_size, const char *format, ...)
{
    if (!err || err_size == 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (err, err_size, format, args);
    va_end (args);
}

char *
secrets_lookup (const char *key_name, const char *secrets_dir, char *err, size_t err_size)
{
    if (err && err_size)
        *err = 0;
    if (!s_valid_key_name (key_name)) {
        s_set_err (err, err_size, "key name '%s' is not [A-Za-z0-9_.-]+",
                   key_name ? key_name : "(null)");
        return NULL;
    }
    if (!secrets_dir || !*secrets_dir)
        secrets_dir = "/run/secrets";

    char env_name [160];
    int at = snprintf (env_name, sizeof (env_name), "EVMTAP_KEY_");
    for (const char *c = key_name; *c && at < (int) sizeof (env_name) - 1; c++)
        env_name [at++] = *c == '-' ? '_' : (char) toupper ((unsigned char) *c);
    env_name [at] = 0;

    //  The environment first; an empty variable counts as unset.
    const char *env_value = getenv (env_name);
    const char *env_state = "unset";
    if (env_value && *env_value) {
        size_t length = strlen (env_value);
        while (length > 0 && isspace ((unsigned char) env_value [length - 1]))
            length--;
        char *secret = (char *) zmalloc (length + 1);
        assert (secret);
        memcpy (secret, env_value, length);
        if (*secret && s_valid_secret (secret))
            return secret;
        secrets_free (&secret);
        s_set_err (err, err_size,
                   "no secret for key '%s': %s is blank or holds spaces or "
                   "control characters",
                   key_name, env_name);
        return NULL;
    }
    if (env_value)
        env_state = "empty";

    //  Then the secret file: its first line, trailing whitespace stripped.
    char *path = zsys_sprintf ("%s/%s", secrets_dir, key_name);
    assert (path);
    FILE *file = fopen (path, "r");
    if (!file) {
        s_set_err (err, err_size, "no secret for key '%s': %s %s, %s: %s", key_name, env_name,
                   env_state, path, strerror (errno));
        zstr_free (&path);
        return NULL;
    }
    char buffer [S_SECRET_FILE_MAX + 2];
    char *secret = NULL;
    const char *problem = NULL;
    if (!fgets (buffer, sizeof (buffer), file))
        problem = ferror (file) ? strerror (errno) : "empty";
    else {
        size_t length = strlen (buffer);
        if (length > S_SECRET_FILE_MAX && buffer [length - 1] != '\n')
            problem = "first line too long";
        else {
            buffer [strcspn (buffer, "\r\n")] = 0;
            s_strip_trailing_space (buffer);
            if (!*buffer)
                problem = "empty";
            else if (!s_valid_secret (buffer))
                problem = "holds spaces or control characters";
            else
                secret = strdup (buffer);
        }
    }
    explicit_bzero (buffer, sizeof (buffer));
    fclose (file);
    if (!secret)
        s_set_err (err, err_size, "no secret for key '%s': %s %s, %s: %s", key_name, env_name,
                   env_state, path, problem ? problem : "out of memory");
    zstr_free (&path);
    return secret;
}

void
secrets_free (char **secret_p)
{
    assert (secret_p);
    if (*secret_p) {
        explicit_bzero (*secret_p, strlen (*secret_p));
        free (*secret_p);
        *secret_p = NULL;
    }
}

bool
secrets_url_needs_key (const char *url_template)
{
    return url_template && strstr (url_template, "{key}") != NULL;
}

//  Every occurrence of from in text replaced by to, in a fresh heap string (wiped by
//  secrets_free when to is a secret).
static char *
s_replace_all (const char *text, const char *from, const char *to)
{
    size_t from_size = strlen (from);
    size_t to_size = strlen (to);
    size_t count = 0;
    for (const char *at = strstr (text, from); at; at = strstr (at + from_size, from))
        count++;
    size_t size = strlen (text) - count * from_size + count * to_size + 1;
    char *result = (char *) zmalloc (size);
    assert (result);
    char *out = result;
    const char *rest = text;
    for (const char *at = strstr (rest, from); at; at = strstr (rest, from)) {
        memcpy (out, rest, (size_t) (at - rest));
        out += at - rest;
        memcpy (out, to, to_size);
        out += to_size;
        rest = at + from_size;
    }
    strcpy (out, rest);
    return result;
}

//  Every "{key}" is replaced. A template that needs a key and gets a NULL secret gives
//  NULL (the caller has no key to use).
char *
secrets_fill_url (const char *url_template, const char *secret)
{
    assert (url_template);
    if (!secrets_url_needs_key (url_template))
        return strdup (url_template);
    if (!secret)
        return NULL;
    return s_replace_all (url_template, "{key}", secret);
}

//  libcurl refuses braces in a host, so the template is parsed with every "{key}" replaced
//  by a mark it does not hold otherwise, and the mark is turned back into "{key}" in the
//  host curl returns. A template curl cannot read, or one without a host, is "unknown".
void
secrets_provider_name (const char *url_template, char *out, size_t out_size)
{
    if (!out || out_size == 0)
        return;
    snprintf (out, out_size, "unknown");
    if (!url_template)
        return;
    char mark [32];
    unsigned attempt = 0;
    do
        snprintf (mark, sizeof (mark), "evmtap-key-%u", attempt++);
    while (strstr (url_template, mark));
    char *url = s_replace_all (url_template, "{key}", mark);
    CURLU *parsed = curl_url ();
    assert (parsed);
    char *host = NULL, *port = NULL, *zone = NULL;
    if (curl_url_set (parsed, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME)
            == CURLUE_OK
        && curl_url_get (parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        //  Neither is an error when absent: the port and an IPv6 zone are optional.
        curl_url_get (parsed, CURLUPART_PORT, &port, 0);
        curl_url_get (parsed, CURLUPART_ZONEID, &zone, 0);
        char *name = s_replace_all (host, mark, "{key}");
        if (zone) {
            //  curl gives an IPv6 literal's zone apart: back inside the brackets, as in a URL.
            char *zoned = zsys_sprintf ("%.*s%%25%s]", (int) strlen (name) - 1, name, zone);
            assert (zoned);
            free (name);
            name = zoned;
        }
        snprintf (out, out_size, "%s%s%s", name, port ? ":" : "", port ? port : "");
        free (name);
    }
    curl_free (zone);
    curl_free (port);
    curl_free (host);
    curl_url_cleanup (parsed);
    free (url);
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

void
secrets_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    char dir_template [] = "/tmp/evmtap-secrets-test-XXXXXX";
    char *dir = mkdtemp (dir_template);
    assert (dir);
    char err [512];
    char path [512];

    //  From a file: first line, trailing whitespace and CRLF stripped
    snprintf (path, sizeof (path), "%s/api_key_1", dir);
    s_write_file (path, "s3cr3t-one \t\r\nsecond line\n");
    unsetenv ("EVMTAP_KEY_API_KEY_1");
    char *secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret && streq (secret, "s3cr3t-one"));
    secrets_free (&secret);
    assert (secret == NULL);
    secrets_free (&secret);
    //  No final newline
    s_write_file (path, "abc123");
    secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret && streq (secret, "abc123"));
    secrets_free (&secret);

    //  The environment wins, name upper-cased with '-' turned into '_'
    setenv ("EVMTAP_KEY_API_KEY_1", "from-env\n", 1);
    secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret && streq (secret, "from-env"));
    secrets_free (&secret);
    setenv ("EVMTAP_KEY_INFURA_KEY_2", "dashed", 1);
    secret = secrets_lookup ("infura-key-2", dir, err, sizeof (err));
    assert (secret && streq (secret, "dashed"));
    secrets_free (&secret);
    unsetenv ("EVMTAP_KEY_INFURA_KEY_2");
    //  An empty variable falls through to the file
    setenv ("EVMTAP_KEY_API_KEY_1", "", 1);
    secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret && streq (secret, "abc123"));
    secrets_free (&secret);
    //  A blank one is refused, without echoing it
    setenv ("EVMTAP_KEY_API_KEY_1", "   ", 1);
    secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret == NULL && strstr (err, "EVMTAP_KEY_API_KEY_1"));
    setenv ("EVMTAP_KEY_API_KEY_1", "has space", 1);
    secret = secrets_lookup ("api_key_1", dir, err, sizeof (err));
    assert (secret == NULL && strstr (err, "has space") == NULL);
    unsetenv ("EVMTAP_KEY_API_KEY_1");

    //  Missing everywhere: the error names both places
    secret = secrets_lookup ("nokey", dir, err, sizeof (err));
    assert (secret == NULL);
    assert (strstr (err, "EVMTAP_KEY_NOKEY unset"));
    snprintf (path, sizeof (path), "%s/nokey", dir);
    assert (strstr (err, path));
    if (verbose)
        printf ("%s\n", err);
    //  Empty and blank files are refused
    snprintf (path, sizeof (path), "%s/empty", dir);
    s_write_file (path, "");
    secret = secrets_lookup ("empty", dir, err, sizeof (err));
    assert (secret == NULL && strstr (err, "empty") && strstr (err, path));
    s_write_file (path, " \t\n");
    assert (secrets_lookup ("empty", dir, err, sizeof (err)) == NULL);
    s_write_file (path, "\nsecret-on-line-2\n");
    assert (secrets_lookup ("empty", dir, err, sizeof (err)) == NULL);
    assert (strstr (err, "secret-on-line-2") == NULL);
    s_write_file (path, "with space\n");
    assert (secrets_lookup ("empty", dir, err, sizeof (err)) == NULL);
    assert (strstr (err, "with space") == NULL);
    //  An overlong first line is not a key
    {
        char *long_line = (char *) zmalloc (S_SECRET_FILE_MAX + 100);
        memset (long_line, 'k', S_SECRET_FILE_MAX + 50);
        s_write_file (path, long_line);
        assert (secrets_lookup ("empty", dir, err, sizeof (err)) == NULL);
        assert (strstr (err, "too long"));
        free (long_line);
    }
    unlink (path);
    //  A directory in place of a file
    snprintf (path, sizeof (path), "%s/adir", dir);
    assert (mkdir (path, 0700) == 0);
    assert (secrets_lookup ("adir", dir, err, sizeof (err)) == NULL);
    rmdir (path);
    //  Names that could escape the directory are refused
    assert (secrets_lookup ("../etc/passwd", dir, err, sizeof (err)) == NULL);
    assert (secrets_lookup ("a/b", dir, err, sizeof (err)) == NULL);
    assert (secrets_lookup ("", dir, err, sizeof (err)) == NULL);
    assert (secrets_lookup (".hidden", dir, err, sizeof (err)) == NULL);
    assert (secrets_lookup (NULL, dir, err, sizeof (err)) == NULL);
    //  Tiny or absent err buffers are fine
    assert (secrets_lookup ("nokey", dir, err, 4) == NULL && strlen (err) == 3);
    assert (secrets_lookup ("nokey", dir, NULL, 0) == NULL);
    //  Default directory is /run/secrets
    secret = secrets_lookup ("evmtap-selftest-no-such-key", NULL, err, sizeof (err));
    assert (secret == NULL && strstr (err, "/run/secrets/evmtap-selftest-no-such-key"));
    assert (strstr (err, "EVMTAP_KEY_EVMTAP_SELFTEST_NO_SUCH_KEY"));

    snprintf (path, sizeof (path), "%s/api_key_1", dir);
    unlink (path);
    assert (rmdir (dir) == 0);

    //  URL filling
    assert (secrets_url_needs_key ("https://mainnet.infura.io/v3/{key}"));
    assert (!secrets_url_needs_key ("http://127.0.0.1:8545"));
    assert (!secrets_url_needs_key (NULL));
    char *url = secrets_fill_url ("https://mainnet.infura.io/v3/{key}", "abc");
    assert (streq (url, "https://mainnet.infura.io/v3/abc"));
    secrets_free (&url);
    url = secrets_fill_url ("https://x/{key}/y?k={key}", "0123456789abcdef");
    assert (streq (url, "https://x/0123456789abcdef/y?k=0123456789abcdef"));
    secrets_free (&url);
    url = secrets_fill_url ("http://127.0.0.1:8545", "abc");
    assert (streq (url, "http://127.0.0.1:8545"));
    secrets_free (&url);
    url = secrets_fill_url ("http://127.0.0.1:8545", NULL);
    assert (streq (url, "http://127.0.0.1:8545"));
    secrets_free (&url);
    assert (secrets_fill_url ("https://x/{key}", NULL) == NULL);
    url = secrets_fill_url ("{key}", "");
    assert (streq (url, ""));
    secrets_free (&url);

    //  Provider names: host[:port], never path, query or userinfo
    char name [64];
    secrets_provider_name ("https://mainnet.infura.io/v3/{key}", name, sizeof (name));
    assert (streq (name, "mainnet.infura.io"));
    secrets_provider_name ("http://127.0.0.1:8545", name, sizeof (name));
    assert (streq (name, "127.0.0.1:8545"));
    secrets_provider_name ("http://127.0.0.1:8545/", name, sizeof (name));
    assert (streq (name, "127.0.0.1:8545"));
    secrets_provider_name ("https://eth-mainnet.g.alchemy.com/v2/{key}", name, sizeof (name));
    assert (streq (name, "eth-mainnet.g.alchemy.com"));
    secrets_provider_name ("https://user:{key}@rpc.example.org:8443/path?apikey={key}#frag", name,
                           sizeof (name));
    assert (streq (name, "rpc.example.org:8443"));
    secrets_provider_name ("https://rpc.example.org?apikey=SECRET", name, sizeof (name));
    assert (streq (name, "rpc.example.org"));
    secrets_provider_name ("https://rpc.example.org#SECRET", name, sizeof (name));
    assert (streq (name, "rpc.example.org"));
    secrets_provider_name ("http://[::1]:8545/x", name, sizeof (name));
    assert (streq (name, "[::1]:8545"));
    secrets_provider_name ("http://host:/x", name, sizeof (name));
    assert (streq (name, "host"));
    secrets_provider_name ("localhost:8545/rpc", name, sizeof (name));
    assert (streq (name, "localhost:8545"));
    //  IPv6 literals stay in brackets, with their zone
    secrets_provider_name ("http://[2001:db8::1]/", name, sizeof (name));
    assert (streq (name, "[2001:db8::1]"));
    secrets_provider_name ("http://[fe80::1%25eth0]:8545/", name, sizeof (name));
    assert (streq (name, "[fe80::1%25eth0]:8545"));
    secrets_provider_name ("http://[::1]:/x", name, sizeof (name));
    assert (streq (name, "[::1]"));
    //  Userinfo is dropped, whatever it holds
    secrets_provider_name ("http://user@host", name, sizeof (name));
    assert (streq (name, "host"));
    secrets_provider_name ("https://{key}@rpc.example.org/v1", name, sizeof (name));
    assert (streq (name, "rpc.example.org"));
    secrets_provider_name ("https://user:{key}@[::1]:8545", name, sizeof (name));
    assert (streq (name, "[::1]:8545"));
    //  A port is kept as written, even the scheme's default; the host keeps its case
    secrets_provider_name ("https://RPC.Example.ORG:443/", name, sizeof (name));
    assert (streq (name, "RPC.Example.ORG:443"));
    secrets_provider_name ("127.0.0.1:8545", name, sizeof (name));
    assert (streq (name, "127.0.0.1:8545"));
    secrets_provider_name ("http://x.org:8545?q", name, sizeof (name));
    assert (streq (name, "x.org:8545"));
    secrets_provider_name ("wss://ws.example.org:8546/ws", name, sizeof (name));
    assert (streq (name, "ws.example.org:8546"));
    //  {key} in the host stays as written (the template never holds the secret)
    secrets_provider_name ("https://{key}.example.org/v1", name, sizeof (name));
    assert (streq (name, "{key}.example.org"));
    secrets_provider_name ("https://u@{key}.x:8545/{key}", name, sizeof (name));
    assert (streq (name, "{key}.x:8545"));
    secrets_provider_name ("https://{key}", name, sizeof (name));
    assert (streq (name, "{key}"));
    secrets_provider_name ("https://evmtap-key-0.{key}.org/", name, sizeof (name));
    assert (streq (name, "evmtap-key-0.{key}.org"));
    //  No host
    secrets_provider_name ("file:///tmp/x", name, sizeof (name));
    assert (streq (name, "unknown"));
    secrets_provider_name ("", name, sizeof (name));
    assert (streq (name, "unknown"));
    secrets_provider_name (NULL, name, sizeof (name));
    assert (streq (name, "unknown"));
    secrets_provider_name ("https://a-very-long-host-name.example.org/x", name, 8);
    assert (streq (name, "a-very-"));
    secrets_provider_name ("https://x/", name, 0);
}
