/*  curve_auth: the loopback rule, the server's certificate and zauth, the client's
    setup, refusals seen by a socket monitor, and new certificate pairs (curve_auth.h). */
#include "evmtap.h"
#include "curve_auth.h"
#include <sys/stat.h>

struct _curve_auth_t {
    zcert_t *cert;     //  the server's certificate, secret key included
    zactor_t *auth;    //  zauth: the process's ZAP handler, CURVE over the folder
};

bool
curve_auth_endpoint_is_local (const char *endpoint)
{
    assert (endpoint);
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *local [] = {"127.0.0.1:", "[::1]:", "localhost:"};
    for (size_t index = 0; index < sizeof (local) / sizeof (local [0]); index++)
        if (strncmp (host, local [index], strlen (local [index])) == 0)
            return true;
    return false;
}

//  Loads a certificate that must hold its secret key (zcert_load reads file_secret too,
//  and leaves a zero key when that file is missing).
static zcert_t *
s_load_secret_cert (const char *cert_file, const char *what, char *err, size_t err_size)
{
    zcert_t *cert = zcert_load (cert_file);
    if (!cert) {
        snprintf (err, err_size, "%s %s: cannot read the certificate", what, cert_file);
        return NULL;
    }
    const byte *secret = zcert_secret_key (cert);
    bool zero = true;
    for (int index = 0; index < 32; index++)
        zero &= secret [index] == 0;
    if (zero) {
        snprintf (err, err_size, "%s %s: no secret key (%s_secret is missing)", what, cert_file,
                  cert_file);
        zcert_destroy (&cert);
    }
    return cert;
}

curve_auth_t *
curve_auth_new (const char *cert_file, const char *authorized_dir, char *err, size_t err_size)
{
    assert (cert_file && authorized_dir && err);
    if (!zsys_has_curve ()) {
        snprintf (err, err_size, "this libzmq has no CURVE");
        return NULL;
    }
    struct stat info;
    if (stat (authorized_dir, &info) || !S_ISDIR (info.st_mode)) {
        snprintf (err, err_size, "--curve-authorized %s: not a directory", authorized_dir);
        return NULL;
    }
    zcert_t *cert = s_load_secret_cert (cert_file, "--curve-cert", err, err_size);
    if (!cert)
        return NULL;
    curve_auth_t *self = (curve_auth_t *) zmalloc (sizeof (curve_auth_t));
    assert (self);
    self->cert = cert;
    self->auth = zactor_new (zauth, NULL);
    assert (self->auth);
    zstr_sendx (self->auth, "CURVE", authorized_dir, NULL);
    zsock_wait (self->auth);
    return self;
}

void
curve_auth_destroy (curve_auth_t **self_p)
{
    assert (self_p);
    curve_auth_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

const char *
curve_auth_public_key (curve_auth_t *self)
{
    return zcert_public_txt (self->cert);
}

void
curve_auth_server (curve_auth_t *self, zsock_t *sock)
{
    zcert_apply (self->cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "evmtap");
}

int
curve_auth_client (zsock_t *sock, const char *cert_file, const char *server_public_file, char *err,
                   size_t err_size)
{
    assert (sock && cert_file && server_public_file && err);
    zcert_t *cert = s_load_secret_cert (cert_file, "--curve-cert", err, err_size);
    if (!cert)
        return -1;
    zcert_t *server = zcert_load (server_public_file);
    if (!server) {
        snprintf (err, err_size, "--curve-server %s: cannot read the certificate",
                  server_public_file);
        zcert_destroy (&cert);
        return -1;
    }
    zcert_apply (cert, sock);
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    zcert_destroy (&server);
    zcert_destroy (&cert);
    return 0;
}

zsock_t *
curve_auth_watch (zsock_t *sock, const char *name)
{
    assert (sock && name);
    char endpoint [128];
    snprintf (endpoint, sizeof (endpoint), "inproc://evmtap-curve-watch-%s-%p", name,
              (void *) sock);
    int rc = zmq_socket_monitor (zsock_resolve (sock), endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (rc == 0);
    zsock_t *watch = zsock_new_pair (NULL);
    assert (watch);
    rc = zsock_connect (watch, "%s", endpoint);
    assert (rc == 0);
    return watch;
}

bool
curve_auth_refused (zsock_t *watch, char *endpoint, size_t endpoint_size)
{
    zmsg_t *msg = zmsg_recv (watch);
    if (!msg)
        return false;
    zframe_t *event = zmsg_first (msg);
    zframe_t *address = zmsg_next (msg);
    bool refused = false;
    if (event && zframe_size (event) >= 2) {
        uint16_t id;
        memcpy (&id, zframe_data (event), sizeof (id));
        refused = id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    }
    snprintf (endpoint, endpoint_size, "%.*s", address ? (int) zframe_size (address) : 0,
              address ? (char *) zframe_data (address) : "");
    zmsg_destroy (&msg);
    return refused;
}

int
curve_auth_cert_new (const char *dir, const char *name, char *err, size_t err_size)
{
    assert (dir && name && err);
    if (!*name || strchr (name, '/')) {
        snprintf (err, err_size, "certificate name '%s': give a plain name", name);
        return -1;
    }
    if (zsys_dir_create ("%s", dir)) {
        snprintf (err, err_size, "%s: cannot create the directory: %s", dir, strerror (errno));
        return -1;
    }
    char *path = zsys_sprintf ("%s/%s.key", dir, name);
    char *secret = zsys_sprintf ("%s_secret", path);
    assert (path && secret);
    int rc = -1;
    if (zsys_file_exists (path) || zsys_file_exists (secret))
        snprintf (err, err_size, "%s: a certificate of that name is there already", path);
    else {
        zcert_t *cert = zcert_new ();
        assert (cert);
        zcert_set_meta (cert, "name", "%s", name);
        rc = zcert_save (cert, path);
        if (rc)
            snprintf (err, err_size, "%s: cannot write the certificate: %s", path,
                      strerror (errno));
        zcert_destroy (&cert);
    }
    zstr_free (&secret);
    zstr_free (&path);
    return rc;
}

//  --------------------------------------------------------------------------
//  Selftest: the loopback rule; an authorised client is answered over CURVE on a
//  loopback tcp port, a client whose key is not in the folder is refused and the watch
//  sees it; missing files are named.

void
curve_auth_test (bool verbose)
{
    if (verbose)
        printf (" * curve_auth: ");
    assert (curve_auth_endpoint_is_local ("ipc:///tmp/x/control"));
    assert (curve_auth_endpoint_is_local ("inproc://evmtap-broker"));
    assert (curve_auth_endpoint_is_local ("tcp://127.0.0.1:5555"));
    assert (curve_auth_endpoint_is_local ("tcp://[::1]:5555"));
    assert (curve_auth_endpoint_is_local ("tcp://localhost:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://127.0.0.2:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://127.0.0.10:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://0.0.0.0:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://*:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://localhost.example.com:5555"));
    assert (!curve_auth_endpoint_is_local ("tcp://10.0.0.1:5555"));

    char dir [] = "/tmp/evmtap-curve-test-XXXXXX";
    assert (mkdtemp (dir));
    char authorized [64], keys [64], err [512];
    snprintf (authorized, sizeof (authorized), "%s/authorized", dir);
    snprintf (keys, sizeof (keys), "%s/keys", dir);
    assert (curve_auth_cert_new (keys, "coordinator", err, sizeof (err)) == 0);
    assert (curve_auth_cert_new (keys, "operator", err, sizeof (err)) == 0);
    assert (curve_auth_cert_new (keys, "stranger", err, sizeof (err)) == 0);
    assert (curve_auth_cert_new (keys, "operator", err, sizeof (err)) == -1);
    assert (strstr (err, "there already"));
    assert (curve_auth_cert_new (keys, "a/b", err, sizeof (err)) == -1);
    assert (zsys_dir_create ("%s", authorized) == 0);
    char *from = zsys_sprintf ("%s/operator.key", keys);
    char *to = zsys_sprintf ("%s/operator.key", authorized);
    zcert_t *public_only = zcert_load (from);
    assert (public_only && zcert_save_public (public_only, to) == 0);
    zcert_destroy (&public_only);
    zstr_free (&from);
    zstr_free (&to);

    char cert [96], server [96], operator_cert [96], stranger [96];
    snprintf (cert, sizeof (cert), "%s/coordinator.key_secret", keys);
    snprintf (server, sizeof (server), "%s/coordinator.key", keys);
    snprintf (operator_cert, sizeof (operator_cert), "%s/operator.key", keys);
    snprintf (stranger, sizeof (stranger), "%s/stranger.key", keys);
    assert (curve_auth_new ("/nonexistent/cert", authorized, err, sizeof (err)) == NULL);
    assert (strstr (err, "--curve-cert /nonexistent/cert"));
    assert (curve_auth_new (server, "/nonexistent/dir", err, sizeof (err)) == NULL);
    assert (strstr (err, "--curve-authorized"));
    //  The public file alone has no secret key to serve with.
    char *moved = zsys_sprintf ("%s/coordinator.key_secret", keys);
    char *aside = zsys_sprintf ("%s/aside", keys);
    assert (rename (moved, aside) == 0);
    assert (curve_auth_new (server, authorized, err, sizeof (err)) == NULL);
    assert (strstr (err, "no secret key"));
    assert (rename (aside, moved) == 0);
    zstr_free (&moved);
    zstr_free (&aside);

    curve_auth_t *auth = curve_auth_new (server, authorized, err, sizeof (err));
    assert (auth);
    assert (strlen (curve_auth_public_key (auth)) == 40);
    zsock_t *rep = zsock_new (ZMQ_REP);
    curve_auth_server (auth, rep);
    zsock_t *watch = curve_auth_watch (rep, "test");
    int port = zsock_bind (rep, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);
    //  The server answers from this thread: one request at a time, polled.
    zpoller_t *poller = zpoller_new (rep, watch, NULL);

    zsock_t *client = zsock_new (ZMQ_REQ);
    assert (curve_auth_client (client, operator_cert, server, err, sizeof (err)) == 0);
    zsock_set_linger (client, 0);
    zsock_connect (client, "%s", endpoint);
    zstr_send (client, "ping");
    assert (zpoller_wait (poller, 10000) == rep);
    char *request = zstr_recv (rep);
    assert (request && streq (request, "ping"));
    zstr_free (&request);
    zstr_send (rep, "pong");
    zsock_set_rcvtimeo (client, 10000);
    char *answer = zstr_recv (client);
    assert (answer && streq (answer, "pong"));
    zstr_free (&answer);
    zsock_destroy (&client);

    //  The stranger's handshake fails: nothing reaches the server, the watch says so.
    zsock_t *refused = zsock_new (ZMQ_REQ);
    assert (curve_auth_client (refused, stranger, server, err, sizeof (err)) == 0);
    zsock_set_linger (refused, 0);
    zsock_connect (refused, "%s", endpoint);
    zstr_send (refused, "ping");
    assert (zpoller_wait (poller, 10000) == watch);
    char where [256];
    assert (curve_auth_refused (watch, where, sizeof (where)));
    assert (strstr (where, "127.0.0.1"));
    assert (!zpoller_wait (poller, 200));
    zsock_destroy (&refused);
    //  A client without its secret file cannot even start.
    zsock_t *nosecret = zsock_new (ZMQ_REQ);
    char missing [96];
    snprintf (missing, sizeof (missing), "%s/none.key", keys);
    assert (curve_auth_client (nosecret, missing, server, err, sizeof (err)) == -1);
    zsock_destroy (&nosecret);

    zpoller_destroy (&poller);
    zsock_destroy (&watch);
    zsock_destroy (&rep);
    curve_auth_destroy (&auth);
    curve_auth_destroy (&auth);
    const char *files [] = {"coordinator.key",     "coordinator.key_secret", "operator.key",
                            "operator.key_secret", "stranger.key",           "stranger.key_secret"};
    for (size_t index = 0; index < sizeof (files) / sizeof (files [0]); index++) {
        char *path = zsys_sprintf ("%s/%s", keys, files [index]);
        zsys_file_delete (path);
        zstr_free (&path);
    }
    char *path = zsys_sprintf ("%s/operator.key", authorized);
    zsys_file_delete (path);
    zstr_free (&path);
    zsys_dir_delete ("%s", authorized);
    zsys_dir_delete ("%s", keys);
    zsys_dir_delete ("%s", dir);
    if (verbose)
        printf ("OK\n");
}
