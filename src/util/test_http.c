/*  test_http: a loopback HTTP/1.1 server for selftests (see test_http.h).

    One thread polls the listener and every connection. A complete request goes to the
    handler at once; its answer is sent then or, when delayed, by a later turn of the loop,
    so one slow answer never holds up another connection. It is compiled into the library,
    so anything a client sends ends at worst in a closed connection, never an assert. */
#include "evmtap.h"
#include "test_http.h"
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

//  Connections served at once; more are accepted and closed.
#define S_CONNS 96
//  The longest wait between two turns of the loop (delays and stop are checked per turn).
#define S_TURN_MS 5
//  Request heads longer than this, or bodies larger than S_BODY_MAX, close the connection.
#define S_HEAD_MAX 65536
#define S_BODY_MAX ((size_t) 64 * 1024 * 1024)

typedef struct {
    int fd;      //  -1 when the slot is free
    char *in;    //  bytes received and not yet handled
    size_t in_size;
    size_t in_capacity;
    int64_t due_at;                  //  when the pending response is due (0: none)
    test_http_response_t pending;    //  a delayed response
} s_conn_t;

struct _test_http_t {
    int listener;
    int port;
    pthread_t thread;
    test_http_fn *handler;
    void *arg;
    atomic_bool stop;
    atomic_int requests;       //  requests read
    atomic_int connections;    //  connections accepted
    s_conn_t conns [S_CONNS];
};

static void
s_conn_close (s_conn_t *conn)
{
    if (conn->fd >= 0)
        close (conn->fd);
    free (conn->in);
    free (conn->pending.body);
    memset (conn, 0, sizeof (*conn));
    conn->fd = -1;
}

static void
s_send_all (int fd, const void *data, size_t size)
{
    const char *at = (const char *) data;
    while (size > 0) {
        ssize_t sent = send (fd, at, size, MSG_NOSIGNAL);
        if (sent <= 0)
            return;    //  the client left; the next read closes the connection
        at += sent;
        size -= (size_t) sent;
    }
}

//  Carries out a response and frees its body. Returns false when the connection must close.
static bool
s_perform (s_conn_t *conn, test_http_response_t *response)
{
    bool keep = response->fault == TEST_HTTP_ANSWER;
    size_t size = response->size ? response->size : response->body ? strlen (response->body) : 0;
    if (response->fault == TEST_HTTP_RAW)
        s_send_all (conn->fd, response->body, size);
    else if (response->fault != TEST_HTTP_CLOSE) {
        char head [512];
        int length = snprintf (head, sizeof (head),
                               "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                               response->status ? response->status : 200, size, response->headers);
        s_send_all (conn->fd, head, (size_t) length);
        s_send_all (conn->fd, response->body,
                    response->fault == TEST_HTTP_TRUNCATE ? size / 2 : size);
    }
    free (response->body);
    memset (response, 0, sizeof (*response));
    return keep;
}

//  Handles every complete request buffered on conn, unless a delayed answer waits first.
//  Returns false when the connection must close.
static bool
s_conn_process (test_http_t *self, s_conn_t *conn)
{
    while (conn->due_at == 0) {
        char *end = conn->in ? (char *) memmem (conn->in, conn->in_size, "\r\n\r\n", 4) : NULL;
        if (!end)
            return conn->in_size < S_HEAD_MAX;
        size_t head_size = (size_t) (end - conn->in) + 4;
        size_t body_size = 0;
        for (char *line = conn->in; line < end;) {
            char *line_end = (char *) memmem (line, (size_t) (end + 2 - line), "\r\n", 2);
            if (strncasecmp (line, "Content-Length:", 15) == 0)
                body_size = strtoul (line + 15, NULL, 10);
            line = line_end + 2;
        }
        if (body_size > S_BODY_MAX)
            return false;
        if (conn->in_size < head_size + body_size)
            return true;
        //  The body is NUL-terminated in place for the handler, then the byte is restored.
        char after = conn->in [head_size + body_size];
        conn->in [head_size + body_size] = 0;
        char method [16] = "", path [1024] = "";
        if (sscanf (conn->in, "%15s %1023s", method, path) != 2)
            return false;
        test_http_request_t request = {method,
                                       path,
                                       conn->in,
                                       head_size,
                                       conn->in + head_size,
                                       body_size,
                                       atomic_fetch_add (&self->requests, 1)};
        test_http_response_t response = {0};
        self->handler (&request, &response, self->arg);
        conn->in [head_size + body_size] = after;
        memmove (conn->in, conn->in + head_size + body_size, conn->in_size - head_size - body_size);
        conn->in_size -= head_size + body_size;
        if (response.delay_ms > 0) {
            conn->pending = response;
            conn->due_at = zclock_mono () + response.delay_ms;
        }
        else if (!s_perform (conn, &response))
            return false;
    }
    return true;
}

//  Reads what a connection sent. Returns false when it must close.
static bool
s_conn_read (test_http_t *self, s_conn_t *conn)
{
    char data [16384];
    ssize_t got = recv (conn->fd, data, sizeof (data), MSG_DONTWAIT);
    if (got <= 0)
        return got < 0 && (errno == EAGAIN || errno == EINTR);
    //  One spare byte, so the body can be NUL-terminated in place.
    if (conn->in_size + (size_t) got + 1 > conn->in_capacity) {
        size_t capacity = (conn->in_size + (size_t) got + 1) * 2;
        char *in = (char *) realloc (conn->in, capacity);
        if (!in)
            return false;
        conn->in = in;
        conn->in_capacity = capacity;
    }
    memcpy (conn->in + conn->in_size, data, (size_t) got);
    conn->in_size += (size_t) got;
    return s_conn_process (self, conn);
}

static void *
s_run (void *arg)
{
    test_http_t *self = (test_http_t *) arg;
    while (!atomic_load (&self->stop)) {
        struct pollfd items [S_CONNS + 1];
        int slots [S_CONNS + 1];
        nfds_t count = 0;
        items [count] = (struct pollfd) {self->listener, POLLIN, 0};
        slots [count++] = -1;
        for (int index = 0; index < S_CONNS; index++)
            if (self->conns [index].fd >= 0) {
                items [count] = (struct pollfd) {self->conns [index].fd, POLLIN, 0};
                slots [count++] = index;
            }
        if (poll (items, count, S_TURN_MS) < 0 && errno != EINTR)
            break;
        int fd = (items [0].revents & POLLIN) ? accept (self->listener, NULL, NULL) : -1;
        for (int index = 0; index < S_CONNS && fd >= 0; index++)
            if (self->conns [index].fd < 0) {
                self->conns [index].fd = fd;
                fd = -1;
                atomic_fetch_add (&self->connections, 1);
            }
        if (fd >= 0)
            close (fd);    //  no free slot
        for (nfds_t item = 1; item < count; item++) {
            s_conn_t *conn = &self->conns [slots [item]];
            if ((items [item].revents & (POLLIN | POLLHUP | POLLERR)) && !s_conn_read (self, conn))
                s_conn_close (conn);
        }
        int64_t now = zclock_mono ();
        for (int index = 0; index < S_CONNS; index++) {
            s_conn_t *conn = &self->conns [index];
            if (conn->fd >= 0 && conn->due_at && now >= conn->due_at) {
                conn->due_at = 0;
                if (!s_perform (conn, &conn->pending) || !s_conn_process (self, conn))
                    s_conn_close (conn);
            }
        }
    }
    return NULL;
}

test_http_t *
test_http_new (test_http_fn *handler, void *arg)
{
    assert (handler);
    test_http_t *self = (test_http_t *) zmalloc (sizeof (test_http_t));
    assert (self);
    self->handler = handler;
    self->arg = arg;
    for (int index = 0; index < S_CONNS; index++)
        self->conns [index].fd = -1;
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t length = sizeof (address);
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    if (self->listener < 0 || bind (self->listener, (struct sockaddr *) &address, sizeof (address))
        || listen (self->listener, 128)
        || getsockname (self->listener, (struct sockaddr *) &address, &length)
        || pthread_create (&self->thread, NULL, s_run, self)) {
        zsys_error ("test_http: cannot listen on 127.0.0.1: %s", strerror (errno));
        if (self->listener >= 0)
            close (self->listener);
        free (self);
        return NULL;
    }
    self->port = ntohs (address.sin_port);
    return self;
}

void
test_http_destroy (test_http_t **self_p)
{
    assert (self_p);
    test_http_t *self = *self_p;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    for (int index = 0; index < S_CONNS; index++)
        if (self->conns [index].fd >= 0)
            s_conn_close (&self->conns [index]);
    close (self->listener);
    free (self);
    *self_p = NULL;
}

int
test_http_port (test_http_t *self)
{
    assert (self);
    return self->port;
}

int
test_http_requests (test_http_t *self)
{
    assert (self);
    return atomic_load (&self->requests);
}

int
test_http_connections (test_http_t *self)
{
    assert (self);
    return atomic_load (&self->connections);
}

void
test_http_reply (test_http_response_t *response, int status, const char *body)
{
    assert (response);
    free (response->body);
    response->status = status;
    response->body = body ? strdup (body) : NULL;
    response->size = 0;
}

//  --------------------------------------------------------------------------
//  Selftest: the server driven by a bare socket client, so its own bugs cannot hide
//  behind libcurl's retries.

//  Answers by the last segment of the path; any other echoes the body with status 201.
static void
s_test_handler (const test_http_request_t *request, test_http_response_t *response, void *arg)
{
    (void) arg;
    static const struct {
        const char *name, *body;
        test_http_fault_t fault;
        int delay_ms;
    } cases [] = {{"slow", "late", TEST_HTTP_ANSWER, 200},
                  {"close", NULL, TEST_HTTP_CLOSE, 0},
                  {"truncate", "0123456789", TEST_HTTP_TRUNCATE, 0},
                  {"raw", "HTTP/1.1 204 No\r\n\r\n", TEST_HTTP_RAW, 0}};
    const char *name = strrchr (request->path, '/');
    name = name ? name + 1 : request->path;
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++)
        if (streq (name, cases [index].name)) {
            test_http_reply (response, 200, cases [index].body);
            response->fault = cases [index].fault;
            response->delay_ms = cases [index].delay_ms;
            return;
        }
    test_http_reply (response, 201, request->body);
    snprintf (response->headers, sizeof (response->headers), "X-Index: %d\r\n", request->index);
}

static int
s_test_connect (test_http_t *server)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
                                  .sin_port = htons ((uint16_t) test_http_port (server))};
    assert (connect (fd, (struct sockaddr *) &address, sizeof (address)) == 0);
    struct timeval timeout = {2, 0};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));
    return fd;
}

//  Sends one request and checks that the answer is exactly `expected`; when `closes`, that
//  the server then closed the connection, and closes fd too.
static void
s_test_expect (int fd, const char *path, const char *body, const char *expected, bool closes)
{
    char request [256], out [256];
    int length = snprintf (request, sizeof (request),
                           "POST %s HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", path, strlen (body),
                           body);
    assert (send (fd, request, (size_t) length, 0) == length);
    size_t size = 0;
    while (size < strlen (expected)) {
        ssize_t got = recv (fd, out + size, strlen (expected) - size, 0);
        if (got <= 0)
            break;
        size += (size_t) got;
    }
    out [size] = 0;
    assert (streq (out, expected));
    if (closes) {
        assert (recv (fd, out, 1, 0) == 0);
        close (fd);
    }
}

void
test_http_test (bool verbose)
{
    (void) verbose;
    test_http_t *server = test_http_new (s_test_handler, NULL);
    assert (server && test_http_port (server) > 0);
    //  Keep-alive: answers one after the other on one connection, a delayed one too
    int fd = s_test_connect (server);
    s_test_expect (fd, "/a/echo", "hello",
                   "HTTP/1.1 201 X\r\nContent-Length: 5\r\nX-Index: 0\r\n\r\nhello", false);
    int64_t started = zclock_mono ();
    s_test_expect (fd, "/slow", "", "HTTP/1.1 200 X\r\nContent-Length: 4\r\n\r\nlate", false);
    assert (zclock_mono () - started >= 190);
    s_test_expect (fd, "/echo", "{}", "HTTP/1.1 201 X\r\nContent-Length: 2\r\nX-Index: 2\r\n\r\n{}",
                   false);
    //  Truncated: half the announced body, then the end of the connection
    s_test_expect (fd, "/truncate", "", "HTTP/1.1 200 X\r\nContent-Length: 10\r\n\r\n01234", true);
    //  Closed without an answer; raw bytes
    fd = s_test_connect (server);
    s_test_expect (fd, "/close", "", "", true);
    fd = s_test_connect (server);
    s_test_expect (fd, "/raw", "", "HTTP/1.1 204 No\r\n\r\n", true);
    assert (test_http_requests (server) == 6);
    assert (test_http_connections (server) == 3);
    //  Garbage closes the connection, and the server goes on
    fd = s_test_connect (server);
    char byte;
    assert (send (fd, "\r\n\r\n", 4, 0) == 4 && recv (fd, &byte, 1, 0) == 0);
    close (fd);
    //  Destroy drops a delayed answer at once
    fd = s_test_connect (server);
    const char *request = "POST /slow HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    assert (send (fd, request, strlen (request), 0) == (ssize_t) strlen (request));
    while (test_http_requests (server) < 7)
        zclock_sleep (1);
    started = zclock_mono ();
    test_http_destroy (&server);
    test_http_destroy (&server);
    assert (zclock_mono () - started < 100);
    close (fd);
}
