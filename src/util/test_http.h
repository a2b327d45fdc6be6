/*  test_http: a loopback HTTP/1.1 server for selftests. It binds 127.0.0.1 on a port the
    system picks and serves every connection from one thread of its own, keeping
    connections alive between requests. A handler, called in that thread, turns each
    request into a canned answer or a fault (close, truncate, raw bytes, delay), so tests
    can play a JSON-RPC node that misbehaves exactly when they want it to. */
#ifndef TEST_HTTP_H_INCLUDED
#define TEST_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _test_http_t test_http_t;

//  What the server does with a request, after the response's delay.
typedef enum {
    TEST_HTTP_ANSWER = 0,    //  a whole answer; the connection stays open
    TEST_HTTP_CLOSE,         //  close the connection without answering
    TEST_HTTP_TRUNCATE,      //  announce the whole body, send its first half, close
    TEST_HTTP_RAW,           //  send body as it is (status line and headers too), close
} test_http_fault_t;

//  One request, borrowed for the duration of the handler call.
typedef struct {
    const char *method;
    const char *path;    //  as in the request line, e.g. "/v3/KEY"
    const char *head;    //  request line and headers up to the blank line (not NUL-ended)
    size_t head_size;
    const char *body;    //  NUL-terminated
    size_t body_size;
    int index;    //  0 for the server's first request, across connections
} test_http_request_t;

//  The handler fills this in; it starts zeroed.
typedef struct {
    int status;            //  HTTP status; 200 when left 0
    char *body;            //  heap memory the server frees; NULL for an empty body
    size_t size;           //  bytes of body; strlen (body) when left 0
    char headers [256];    //  extra header lines, each ending in "\r\n"
    test_http_fault_t fault;
    int delay_ms;    //  act this late; the connection's next requests wait, others not
} test_http_response_t;

//  Called in the server's thread, one request at a time.
typedef void (test_http_fn) (const test_http_request_t *request, test_http_response_t *response,
                             void *arg);

//  Starts a server on 127.0.0.1:0. Returns NULL (and logs why) when it cannot.
test_http_t *test_http_new (test_http_fn *handler, void *arg);

//  Stops the server at once, dropping delayed answers and open connections.
void test_http_destroy (test_http_t **self_p);

//  The port the server listens on.
int test_http_port (test_http_t *self);

//  Requests read and connections accepted so far (any thread may ask).
int test_http_requests (test_http_t *self);
int test_http_connections (test_http_t *self);

//  Sets a plain answer: status and a copy of body (NULL for none).
void test_http_reply (test_http_response_t *response, int status, const char *body);

void test_http_test (bool verbose);

#endif
