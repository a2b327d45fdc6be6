/*  rpc_client: HTTP POSTs of JSON-RPC bodies to one provider URL, on libcurl's multi
    interface.

    One CURLM per client holds the connection cache, so connections stay open between
    calls (keep-alive; HTTP/2 multiplexing where the server offers it over TLS), and a
    small pool of easy handles is reused call after call. rpc_client_post sends several
    bodies at once and waits for all of them in short polls, asking the owner's abort
    hook between polls, so an actor told to leave never sits in a 30 s timeout.

    The URL holds the API key (often in its path), so it is never logged, and libcurl's
    error words are scrubbed of anything taken from it before they leave this module.
    @locality the actor that created the client. */
#include "evmtap.h"
#include <curl/curl.h>
#include <pthread.h>
#include "rpc_client.h"

//  Bodies in flight per call, and the size of the easy handle pool.
#define S_MAX_BODIES 64
//  The default guard on an answer's size: a block with all its receipts is far below it.
#define S_MAX_ANSWER ((size_t) 256 * 1024 * 1024)
//  The longest time between two calls of the abort hook.
#define S_POLL_MS 25
//  Connect timeout cap: a provider that takes longer to accept is as good as down.
#define S_CONNECT_TIMEOUT_MS 5000
//  Fragments of the URL at least this long are treated as secrets when scrubbing.
#define S_FRAGMENT_MIN 6
#define S_FRAGMENTS_MAX 16

//  One body in flight on one pooled easy handle.
typedef struct {
    CURL *easy;                       //  pooled, created on first use, kept for keep-alive
    rpc_response_t *response;         //  where the outcome goes
    char *buffer;                     //  answer received so far (NUL-terminated)
    size_t size;                      //  bytes in buffer
    size_t capacity;                  //  bytes allocated for buffer
    size_t max_answer;                //  copied from the client for the write callback
    bool too_large;                   //  the write callback refused more data
    bool added;                       //  handle is in the multi
    bool done;                        //  outcome written into response
    char errbuf [CURL_ERROR_SIZE];    //  libcurl's words for this transfer (may hold the URL)
} s_transfer_t;

struct _rpc_client_t {
    char *url;                     //  with the secret in it; never logged
    char *provider;                //  what logs say instead
    int timeout_ms;                //  whole transfer
    size_t max_answer;             //  answers larger than this fail
    CURLM *multi;                  //  connection cache and transfers
    struct curl_slist *headers;    //  Content-Type and friends, shared by all handles
    rpc_abort_fn *abort_fn;        //  asked between polls
    void *abort_arg;
    uint64_t http_requests;               //  bodies posted
    char *fragments [S_FRAGMENTS_MAX];    //  pieces of the URL that must not reach a message
    size_t fragment_count;
    s_transfer_t transfers [S_MAX_BODIES];
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_code = CURLE_FAILED_INIT;

static void
s_curl_init (void)
{
    //  Once per process and never undone: other clients may live on in other threads.
    s_curl_init_code = curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
s_add_fragment (rpc_client_t *self, const char *start, size_t length)
{
    if (length < S_FRAGMENT_MIN || self->fragment_count >= S_FRAGMENTS_MAX)
        return;
    self->fragments [self->fragment_count++] = strndup (start, length);
}

//  Splits what follows the host (path, query, fragment) and any userinfo into pieces a
//  secret could hide in; the host too when it differs from the provider's name (a key
//  in a subdomain).
static void
s_collect_fragments (rpc_client_t *self)
{
    const char *start = self->url;
    const char *scheme_end = strstr (start, "://");
    if (scheme_end)
        start = scheme_end + 3;
    const char *authority_end = start + strcspn (start, "/?#");
    const char *host = start;
    for (const char *c = start; c < authority_end; c++)
        if (*c == '@')
            host = c + 1;
    if (host > start) {
        s_add_fragment (self, start, (size_t) (host - start - 1));
        const char *colon = memchr (start, ':', (size_t) (host - start - 1));
        if (colon) {
            s_add_fragment (self, start, (size_t) (colon - start));
            s_add_fragment (self, colon + 1, (size_t) (host - colon - 2));
        }
    }
    if ((size_t) (authority_end - host) != strlen (self->provider)
        || strncmp (host, self->provider, (size_t) (authority_end - host)) != 0)
        s_add_fragment (self, host, (size_t) (authority_end - host));
    if (strlen (authority_end) > 1)
        s_add_fragment (self, authority_end, strlen (authority_end));
    const char *piece = authority_end;
    while (*piece) {
        size_t length = strcspn (piece, "/?&=#;:@");
        s_add_fragment (self, piece, length);
        piece += length;
        if (*piece)
            piece++;
    }
}

//  Copies libcurl's message into out unless it holds any part of the URL; then only
//  libcurl's generic words for the code are kept.
static void
s_scrub (rpc_client_t *self, const char *message, CURLcode code, char *out, size_t out_size)
{
    bool leaks = !message || !*message || strstr (message, "://") != NULL;
    for (size_t index = 0; index < self->fragment_count && !leaks; index++)
        if (strstr (message, self->fragments [index]))
            leaks = true;
    snprintf (out, out_size, "%s", leaks ? curl_easy_strerror (code) : message);
    size_t length = strlen (out);
    while (length > 0 && isspace ((unsigned char) out [length - 1]))
        out [--length] = 0;
}

rpc_client_t *
rpc_client_new (const char *url, const char *provider, int timeout_ms)
{
    assert (url);
    pthread_once (&s_curl_once, s_curl_init);
    if (s_curl_init_code != CURLE_OK) {
        zsys_error ("rpc_client: curl_global_init failed: %s",
                    curl_easy_strerror (s_curl_init_code));
        return NULL;
    }
    rpc_client_t *self = (rpc_client_t *) zmalloc (sizeof (rpc_client_t));
    assert (self);
    self->url = strdup (url);
    self->provider = strdup (provider && *provider ? provider : "unknown");
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    self->max_answer = S_MAX_ANSWER;
    s_collect_fragments (self);
    self->multi = curl_multi_init ();
    if (!self->multi) {
        zsys_error ("rpc_client %s: curl_multi_init failed", self->provider);
        rpc_client_destroy (&self);
        return NULL;
    }
    curl_multi_setopt (self->multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
    //  Keep every connection we opened for a full round of bodies.
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, (long) S_MAX_BODIES);
    self->headers = curl_slist_append (NULL, "Content-Type: application/json");
    self->headers = curl_slist_append (self->headers, "Accept: application/json");
    //  No "Expect: 100-continue" round trip for large batch bodies.
    self->headers = curl_slist_append (self->headers, "Expect:");
    assert (self->headers);
    return self;
}

void
rpc_client_destroy (rpc_client_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        rpc_client_t *self = *self_p;
        for (size_t index = 0; index < S_MAX_BODIES; index++) {
            s_transfer_t *transfer = &self->transfers [index];
            if (transfer->easy) {
                if (transfer->added)
                    curl_multi_remove_handle (self->multi, transfer->easy);
                curl_easy_cleanup (transfer->easy);
            }
            free (transfer->buffer);
        }
        if (self->multi)
            curl_multi_cleanup (self->multi);
        curl_slist_free_all (self->headers);
        for (size_t index = 0; index < self->fragment_count; index++) {
            explicit_bzero (self->fragments [index], strlen (self->fragments [index]));
            free (self->fragments [index]);
        }
        explicit_bzero (self->url, strlen (self->url));
        free (self->url);
        free (self->provider);
        free (self);
        *self_p = NULL;
    }
}

void
rpc_client_set_abort (rpc_client_t *self, rpc_abort_fn *abort_fn, void *arg)
{
    assert (self);
    self->abort_fn = abort_fn;
    self->abort_arg = arg;
}

void
rpc_client_set_max_answer (rpc_client_t *self, size_t max_answer)
{
    assert (self);
    self->max_answer = max_answer > 0 ? max_answer : S_MAX_ANSWER;
}

const char *
rpc_client_provider (rpc_client_t *self)
{
    assert (self);
    return self->provider;
}

uint64_t
rpc_client_http_requests (rpc_client_t *self)
{
    assert (self);
    return self->http_requests;
}

void
rpc_response_clear (rpc_response_t *response)
{
    if (response) {
        free (response->body);
        memset (response, 0, sizeof (*response));
    }
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_transfer_t *transfer = (s_transfer_t *) arg;
    size_t bytes = size * nmemb;
    if (bytes > transfer->max_answer - transfer->size) {
        transfer->too_large = true;
        return 0;    //  libcurl stops the transfer with CURLE_WRITE_ERROR
    }
    if (transfer->size + bytes + 1 > transfer->capacity) {
        size_t capacity = transfer->capacity ? transfer->capacity : 16384;
        while (capacity < transfer->size + bytes + 1)
            capacity *= 2;
        char *buffer = (char *) realloc (transfer->buffer, capacity);
        if (!buffer) {
            transfer->too_large = true;
            return 0;
        }
        transfer->buffer = buffer;
        transfer->capacity = capacity;
    }
    memcpy (transfer->buffer + transfer->size, data, bytes);
    transfer->size += bytes;
    transfer->buffer [transfer->size] = 0;
    return bytes;
}

//  Sets the options every transfer on this handle shares; done once per pooled handle.
static CURL *
s_easy_new (rpc_client_t *self)
{
    CURL *easy = curl_easy_init ();
    if (!easy)
        return NULL;
    curl_easy_setopt (easy, CURLOPT_URL, self->url);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (easy, CURLOPT_POST, 1L);
    curl_easy_setopt (easy, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt (easy, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt (easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt (easy, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (
        easy, CURLOPT_CONNECTTIMEOUT_MS,
        (long) (self->timeout_ms < S_CONNECT_TIMEOUT_MS ? self->timeout_ms : S_CONNECT_TIMEOUT_MS));
    curl_easy_setopt (easy, CURLOPT_USERAGENT, "evmtap/" EVMTAP_VERSION);
    //  A redirect would re-send the body elsewhere; providers do not redirect JSON-RPC.
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write);
    return easy;
}

//  Writes a failed outcome (no status, no body) with a message of our own.
static void
s_fail (s_transfer_t *transfer, const char *message)
{
    rpc_response_t *response = transfer->response;
    free (response->body);
    response->body = NULL;
    response->size = 0;
    response->http_status = 0;
    response->transport_failed = true;
    snprintf (response->error, sizeof (response->error), "%s", message);
    transfer->done = true;
}

static void
s_finish (rpc_client_t *self, s_transfer_t *transfer, CURLcode code)
{
    rpc_response_t *response = transfer->response;
    long status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo (transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && status > 0) {
        response->http_status = (int) status;
        response->transport_failed = false;
        response->body = transfer->buffer ? transfer->buffer : strdup ("");
        response->size = transfer->size;
        transfer->buffer = NULL;
        transfer->size = transfer->capacity = 0;
        transfer->done = true;
        return;
    }
    char message [sizeof (response->error)];
    if (transfer->too_large || code == CURLE_FILESIZE_EXCEEDED)
        snprintf (message, sizeof (message), "answer larger than %zu bytes", self->max_answer);
    else if (code == CURLE_OK)
        snprintf (message, sizeof (message), "no HTTP status");
    else
        s_scrub (self, transfer->errbuf, code, message, sizeof (message));
    s_fail (transfer, message);
}

//  Moves finished transfers' outcomes into their responses.
static void
s_collect (rpc_client_t *self)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read (self->multi, &queued))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_transfer_t *transfer = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &transfer);
        assert (transfer);
        if (!transfer->done)
            s_finish (self, transfer, msg->data.result);
    }
}

//  Takes every handle of the last call out of the multi (so it can be added again) and
//  drops what unfinished transfers received.
static void
s_release (rpc_client_t *self, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        s_transfer_t *transfer = &self->transfers [index];
        if (transfer->added) {
            curl_multi_remove_handle (self->multi, transfer->easy);
            transfer->added = false;
        }
        free (transfer->buffer);
        transfer->buffer = NULL;
        transfer->size = transfer->capacity = 0;
        transfer->response = NULL;
    }
}

//  Responses are overwritten (clear them before reusing them).
int
rpc_client_post (rpc_client_t *self, const char **bodies, size_t count, rpc_response_t *responses)
{
    assert (self);
    assert (count <= S_MAX_BODIES);
    assert (count == 0 || (bodies && responses));
    for (size_t index = 0; index < count; index++) {
        memset (&responses [index], 0, sizeof (rpc_response_t));
        s_transfer_t *transfer = &self->transfers [index];
        transfer->response = &responses [index];
        transfer->size = 0;
        transfer->too_large = false;
        transfer->done = false;
        transfer->errbuf [0] = 0;
        transfer->max_answer = self->max_answer;
        if (!transfer->easy)
            transfer->easy = s_easy_new (self);
        if (!transfer->easy) {
            s_fail (transfer, "curl_easy_init failed");
            continue;
        }
        const char *body = bodies [index] ? bodies [index] : "";
        curl_easy_setopt (transfer->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (transfer->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (body));
        curl_easy_setopt (transfer->easy, CURLOPT_WRITEDATA, transfer);
        curl_easy_setopt (transfer->easy, CURLOPT_PRIVATE, (char *) transfer);
        curl_easy_setopt (transfer->easy, CURLOPT_ERRORBUFFER, transfer->errbuf);
        curl_easy_setopt (transfer->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) self->max_answer);
        CURLMcode mc = curl_multi_add_handle (self->multi, transfer->easy);
        if (mc != CURLM_OK) {
            s_fail (transfer, curl_multi_strerror (mc));
            continue;
        }
        transfer->added = true;
        self->http_requests++;
    }
    bool aborted = false;
    int running = 1;
    while (running > 0) {
        if (self->abort_fn && self->abort_fn (self->abort_arg)) {
            aborted = true;
            break;
        }
        CURLMcode mc = curl_multi_perform (self->multi, &running);
        if (mc == CURLM_OK) {
            s_collect (self);
            if (running > 0)
                mc = curl_multi_poll (self->multi, NULL, 0, S_POLL_MS, NULL);
        }
        if (mc != CURLM_OK) {
            zsys_warning ("rpc_client %s: %s", self->provider, curl_multi_strerror (mc));
            break;
        }
    }
    if (!aborted)
        s_collect (self);
    for (size_t index = 0; index < count; index++)
        if (!self->transfers [index].done)
            s_fail (&self->transfers [index], aborted ? "aborted" : "transfer did not finish");
    s_release (self, count);
    return aborted ? -1 : 0;
}

//  --------------------------------------------------------------------------
//  Selftest: a loopback node (test_http) whose answer depends on the last segment of the
//  request path.
#include "test_http.h"

//  How long the "slow" path holds its answer back: longer than any timeout it meets.
#define S_SLOW_MS 3000

static const unsigned char s_gzip_body [] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xab\x56\xca\x2a\xce\xcf\x2b\x2a\x48\x56\xb2\x52"
    "\x32\xd2\x33\x50\xd2\x51\xca\x4c\x51\xb2\x32\xd4\x51\x2a\x4a\x2d\x2e\xcd\x29\x01\x8a\xa6"
    "\x57\x65\x16\x14\xa4\xa6\x28\xd5\x02\x00\xd8\x1d\xb4\x64\x2b\x00\x00\x00";

//  Sets the answer's body to a copy of size bytes (they may hold NULs).
static void
s_test_body (test_http_response_t *response, const void *data, size_t size)
{
    response->body = (char *) malloc (size + 1);
    assert (response->body);
    memcpy (response->body, data, size);
    response->body [size] = 0;
    response->size = size;
}

static void
s_test_handler (const test_http_request_t *request, test_http_response_t *response, void *arg)
{
    (void) arg;
    const char *name = strrchr (request->path, '/');
    name = name ? name + 1 : request->path;
    if (streq (name, "ok")) {
        s_test_body (response, request->body, request->body_size);
        snprintf (response->headers, sizeof (response->headers),
                  "Content-Type: application/json\r\n");
    }
    else if (streq (name, "headers"))
        s_test_body (response, request->head, request->head_size);
    else if (streq (name, "e500"))
        test_http_reply (response, 500, "Internal Server Error");
    else if (streq (name, "e429"))
        test_http_reply (response, 429,
                         "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32005,"
                         "\"message\":\"project ID request rate exceeded\"}}");
    else if (streq (name, "gzip")) {
        s_test_body (response, s_gzip_body, sizeof (s_gzip_body) - 1);
        snprintf (response->headers, sizeof (response->headers), "Content-Encoding: gzip\r\n");
    }
    else if (streq (name, "truncated")) {
        test_http_reply (response, 200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"}");
        response->fault = TEST_HTTP_TRUNCATE;
    }
    else if (streq (name, "close"))
        response->fault = TEST_HTTP_CLOSE;
    else if (streq (name, "big")) {
        //  No length: the body ends when the connection does.
        const char *head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        char raw [5100];
        memset (raw, 'x', sizeof (raw));
        memcpy (raw, head, strlen (head));
        s_test_body (response, raw, strlen (head) + 5000);
        response->fault = TEST_HTTP_RAW;
    }
    else if (streq (name, "huge")) {
        test_http_reply (response, 200, "HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n{}");
        response->fault = TEST_HTTP_RAW;
    }
    else if (streq (name, "slow")) {
        s_test_body (response, request->body, request->body_size);
        response->delay_ms = S_SLOW_MS;
    }
    else
        test_http_reply (response, 404, NULL);
}

//  A port on 127.0.0.1 where nobody listens (any more).
static int
s_refused_port (void)
{
    test_http_t *gone = test_http_new (s_test_handler, NULL);
    assert (gone);
    int port = test_http_port (gone);
    test_http_destroy (&gone);
    return port;
}

#define S_TEST_KEY "k3yS3cr3tDoNotLeak0123456789abcd"

static rpc_client_t *
s_client (test_http_t *server, const char *endpoint, int timeout_ms)
{
    char url [256];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d/v3/" S_TEST_KEY "/%s",
              test_http_port (server), endpoint);
    char provider [64];
    snprintf (provider, sizeof (provider), "127.0.0.1:%d", test_http_port (server));
    rpc_client_t *client = rpc_client_new (url, provider, timeout_ms);
    assert (client);
    assert (streq (rpc_client_provider (client), provider));
    return client;
}

static void
s_check_failed (rpc_response_t *response, bool verbose, const char *what)
{
    assert (response->transport_failed);
    assert (response->http_status == 0);
    assert (response->body == NULL && response->size == 0);
    assert (*response->error);
    assert (strstr (response->error, S_TEST_KEY) == NULL);
    assert (strstr (response->error, "://") == NULL);
    if (verbose)
        printf ("%s: %s\n", what, response->error);
}

typedef struct {
    int64_t started;        //  when the post began
    int64_t abort_after;    //  say abort once this many ms went by (< 0: at once)
    int64_t last_call;      //  previous call of the hook
    int64_t longest_gap;    //  longest time between two calls
    int calls;
} s_abort_state_t;

static bool
s_abort_hook (void *arg)
{
    s_abort_state_t *state = (s_abort_state_t *) arg;
    int64_t now = zclock_mono ();
    if (state->calls++ > 0 && now - state->last_call > state->longest_gap)
        state->longest_gap = now - state->last_call;
    state->last_call = now;
    return state->abort_after < 0 || now - state->started >= state->abort_after;
}

void
rpc_client_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    test_http_t *server = test_http_new (s_test_handler, NULL);
    assert (server);
    rpc_response_t responses [S_MAX_BODIES];
    memset (responses, 0, sizeof (responses));

    //  A plain call
    rpc_client_t *client = s_client (server, "ok", 2000);
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"eth_chainId\",\"params\":[]}";
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 200 && !responses [0].transport_failed);
    assert (responses [0].size == strlen (body) && streq (responses [0].body, body));
    assert (rpc_client_http_requests (client) == 1);
    rpc_response_clear (&responses [0]);
    assert (responses [0].body == NULL);
    //  Nothing to post is a no-op
    assert (rpc_client_post (client, NULL, 0, responses) == 0);

    //  Keep-alive: sequential calls reuse the one connection
    int accepted = test_http_connections (server);
    assert (accepted == 1);
    for (int index = 0; index < 5; index++) {
        assert (rpc_client_post (client, &body, 1, responses) == 0);
        assert (responses [0].http_status == 200);
        rpc_response_clear (&responses [0]);
    }
    assert (test_http_connections (server) == 1);
    assert (rpc_client_http_requests (client) == 6);

    //  Concurrent posts: each answer goes with its body; a second round opens nothing new
    char texts [16][64];
    const char *bodies [16];
    for (int index = 0; index < 16; index++) {
        snprintf (texts [index], sizeof (texts [index]), "{\"id\":%d,\"result\":\"0x%x\"}", index,
                  index * 7);
        bodies [index] = texts [index];
    }
    int64_t started = zclock_mono ();
    assert (rpc_client_post (client, bodies, 16, responses) == 0);
    for (int index = 0; index < 16; index++) {
        assert (responses [index].http_status == 200);
        assert (streq (responses [index].body, texts [index]));
        rpc_response_clear (&responses [index]);
    }
    accepted = test_http_connections (server);
    assert (accepted >= 2 && accepted <= 16);
    assert (rpc_client_post (client, bodies, 16, responses) == 0);
    for (int index = 0; index < 16; index++) {
        assert (streq (responses [index].body, texts [index]));
        rpc_response_clear (&responses [index]);
    }
    assert (test_http_connections (server) == accepted);
    if (verbose)
        printf ("2 x 16 concurrent posts on %d connections in %" PRId64 " ms\n", accepted,
                zclock_mono () - started);
    //  A large body (no Expect: 100-continue stall)
    {
        size_t size = 200000;
        char *large = (char *) zmalloc (size + 1);
        memset (large, ' ', size);
        large [0] = '[';
        large [size - 1] = ']';
        const char *large_body = large;
        started = zclock_mono ();
        assert (rpc_client_post (client, &large_body, 1, responses) == 0);
        assert (responses [0].http_status == 200 && responses [0].size == size);
        assert (memcmp (responses [0].body, large, size) == 0);
        assert (zclock_mono () - started < 900);
        rpc_response_clear (&responses [0]);
        free (large);
    }
    rpc_client_destroy (&client);
    rpc_client_destroy (&client);
    assert (client == NULL);

    //  What the client says about itself
    client = s_client (server, "headers", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 200);
    assert (strcasestr (responses [0].body, "Content-Type: application/json"));
    assert (strcasestr (responses [0].body, "Accept-Encoding:"));
    assert (strcasestr (responses [0].body, "User-Agent: evmtap/"));
    assert (strcasestr (responses [0].body, "Expect:") == NULL);
    assert (strstr (responses [0].body, "POST /v3/" S_TEST_KEY "/headers HTTP/1.1"));
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    //  HTTP errors are answers, not transport failures
    client = s_client (server, "e500", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 500 && !responses [0].transport_failed);
    assert (streq (responses [0].body, "Internal Server Error"));
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);
    client = s_client (server, "e429", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 429 && strstr (responses [0].body, "-32005"));
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    //  Gzip is asked for and decoded
    client = s_client (server, "gzip", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 200);
    assert (streq (responses [0].body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"gzipped\"}"));
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    //  Transport failures: truncated, closed without answer, too large, refused, timeout
    client = s_client (server, "truncated", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    s_check_failed (&responses [0], verbose, "truncated");
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    client = s_client (server, "close", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    s_check_failed (&responses [0], verbose, "close");
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    client = s_client (server, "huge", 2000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    s_check_failed (&responses [0], verbose, "huge");
    assert (strstr (responses [0].error, "larger than"));
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    client = s_client (server, "big", 2000);
    rpc_client_set_max_answer (client, 1000);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    s_check_failed (&responses [0], verbose, "big");
    assert (strstr (responses [0].error, "larger than 1000"));
    rpc_response_clear (&responses [0]);
    rpc_client_set_max_answer (client, 0);    //  back to the default
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 200 && responses [0].size == 5000);
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    {
        char url [128];
        snprintf (url, sizeof (url), "http://127.0.0.1:%d/v3/" S_TEST_KEY, s_refused_port ());
        client = rpc_client_new (url, "refused", 2000);
        started = zclock_mono ();
        assert (rpc_client_post (client, &body, 1, responses) == 0);
        assert (zclock_mono () - started < 1000);
        s_check_failed (&responses [0], verbose, "refused");
        rpc_response_clear (&responses [0]);
        rpc_client_destroy (&client);
    }

    client = s_client (server, "slow", 300);
    started = zclock_mono ();
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    int64_t elapsed = zclock_mono () - started;
    assert (elapsed >= 250 && elapsed < 1500);
    s_check_failed (&responses [0], verbose, "timeout");
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);

    //  Mixed outcomes in one call: each body gets its own (the echoed middle one is over
    //  a tiny answer limit, its neighbours are not).
    client = s_client (server, "ok", 2000);
    rpc_client_set_max_answer (client, 40);
    const char *mixed [3] = {"{\"short\":1}", "{\"this body is longer than forty bytes\":1}", "[]"};
    assert (rpc_client_post (client, mixed, 3, responses) == 0);
    assert (responses [0].http_status == 200 && streq (responses [0].body, mixed [0]));
    s_check_failed (&responses [1], false, "mixed");
    assert (responses [2].http_status == 200 && streq (responses [2].body, "[]"));
    for (int index = 0; index < 3; index++)
        rpc_response_clear (&responses [index]);
    rpc_client_destroy (&client);

    //  Abort: a slow call with a long timeout leaves as soon as the hook says so, and the
    //  hook is asked often
    client = s_client (server, "slow", 10000);
    s_abort_state_t state = {0};
    rpc_client_set_abort (client, s_abort_hook, &state);
    state.started = zclock_mono ();
    state.abort_after = 300;
    const char *two [2] = {body, body};
    assert (rpc_client_post (client, two, 2, responses) == -1);
    elapsed = zclock_mono () - state.started;
    if (verbose)
        printf ("aborted after %" PRId64 " ms, %d hook calls, longest gap %" PRId64 " ms\n",
                elapsed, state.calls, state.longest_gap);
    assert (elapsed >= 300 && elapsed < 800);
    assert (state.calls >= 4);
    assert (state.longest_gap <= 150);    //  50 ms wanted, slack for sanitizers
    for (int index = 0; index < 2; index++) {
        assert (responses [index].body == NULL && responses [index].transport_failed);
        assert (streq (responses [index].error, "aborted"));
        rpc_response_clear (&responses [index]);
    }
    //  Abort before anything happened
    state = (s_abort_state_t) {0};
    state.abort_after = -1;
    state.started = zclock_mono ();
    assert (rpc_client_post (client, &body, 1, responses) == -1);
    assert (zclock_mono () - state.started < 200);
    rpc_response_clear (&responses [0]);
    rpc_client_destroy (&client);
    //  The client works again after an abort (handles went back to the pool)
    client = s_client (server, "ok", 2000);
    state = (s_abort_state_t) {0};
    state.abort_after = 100000;
    state.started = zclock_mono ();
    rpc_client_set_abort (client, s_abort_hook, &state);
    assert (rpc_client_post (client, &body, 1, responses) == 0);
    assert (responses [0].http_status == 200);
    rpc_response_clear (&responses [0]);
    rpc_client_set_abort (client, NULL, NULL);
    rpc_client_destroy (&client);

    //  Scrubbing libcurl's words: anything from the URL's path, query or userinfo (or a
    //  host that is not the provider's name) gives way to the generic message.
    client = rpc_client_new ("https://user:pa55word99@" S_TEST_KEY ".rpc.example.org/v3/" S_TEST_KEY
                             "?apikey=query5ecret",
                             "{key}.rpc.example.org", 1000);
    char out [160];
    s_scrub (client, "Could not resolve host: " S_TEST_KEY ".rpc.example.org",
             CURLE_COULDNT_RESOLVE_HOST, out, sizeof (out));
    assert (streq (out, curl_easy_strerror (CURLE_COULDNT_RESOLVE_HOST)));
    s_scrub (client, "bad thing at /v3/" S_TEST_KEY, CURLE_RECV_ERROR, out, sizeof (out));
    assert (strstr (out, S_TEST_KEY) == NULL);
    s_scrub (client, "bad apikey=query5ecret", CURLE_RECV_ERROR, out, sizeof (out));
    assert (strstr (out, "query5ecret") == NULL);
    s_scrub (client, "login pa55word99 refused", CURLE_LOGIN_DENIED, out, sizeof (out));
    assert (strstr (out, "pa55word99") == NULL);
    s_scrub (client, "see https://elsewhere.example/", CURLE_RECV_ERROR, out, sizeof (out));
    assert (strstr (out, "://") == NULL);
    s_scrub (client, "Connection reset by peer\n", CURLE_RECV_ERROR, out, sizeof (out));
    assert (streq (out, "Connection reset by peer"));
    s_scrub (client, "", CURLE_OPERATION_TIMEDOUT, out, sizeof (out));
    assert (streq (out, curl_easy_strerror (CURLE_OPERATION_TIMEDOUT)));
    rpc_client_destroy (&client);
    //  A plain host that is the provider's name stays in messages
    client = rpc_client_new ("http://127.0.0.1:8545", "127.0.0.1:8545", 1000);
    s_scrub (client, "Failed to connect to 127.0.0.1 port 8545", CURLE_COULDNT_CONNECT, out,
             sizeof (out));
    assert (streq (out, "Failed to connect to 127.0.0.1 port 8545"));
    rpc_client_destroy (&client);

    test_http_destroy (&server);
    assert (server == NULL);
}
