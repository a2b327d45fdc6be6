/*  curve_auth: CURVE security for evmtap's sockets that leave the machine (--listen,
    --control). The rule: loopback (tcp://127.0.0.1, tcp://[::1], tcp://localhost) and
    ipc:// or inproc:// endpoints may be plain; any other endpoint needs the coordinator's
    certificate (a zcert secret file) and a folder of authorised public keys (zcert public
    files, one per worker or operator), which one zauth actor checks for every server
    socket of the process: libzmq has one ZAP handler per context, so a process makes one
    curve_auth_t and lends it to every socket that binds. Clients (workers, `evmtap ctl`)
    load their own certificate and the server's public key. Refusals are seen through a
    socket monitor, so that the server can log them. */
#ifndef CURVE_AUTH_H_INCLUDED
#define CURVE_AUTH_H_INCLUDED

#include "evmtap.h"

typedef struct _curve_auth_t curve_auth_t;

//  True when endpoint may go without CURVE: ipc://, inproc://, or tcp on 127.0.0.1, [::1]
//  or localhost. Any other address (127.0.0.2 included) is reachable from elsewhere.
bool curve_auth_endpoint_is_local (const char *endpoint);

//  Loads the server's certificate (cert_file and cert_file + "_secret", as zcert_save
//  writes them) and starts zauth over the public keys in authorized_dir. NULL, with the
//  reason in err, when a file cannot be read.
curve_auth_t *curve_auth_new (const char *cert_file, const char *authorized_dir, char *err,
                              size_t err_size);
void curve_auth_destroy (curve_auth_t **self_p);
//  The server's public key, Z85 (borrowed).
const char *curve_auth_public_key (curve_auth_t *self);
//  Makes sock a CURVE server under the certificate; call before it binds.
void curve_auth_server (curve_auth_t *self, zsock_t *sock);

//  Makes sock a CURVE client of the server whose public key is in server_public_file (a
//  zcert file) with the client's certificate in cert_file (and its _secret file); call
//  before it connects. 0, or -1 with the reason in err.
int curve_auth_client (zsock_t *sock, const char *cert_file, const char *server_public_file,
                       char *err, size_t err_size);

//  Watches sock for clients refused by the ZAP handler: returns a socket that becomes
//  readable on each refusal (take it with curve_auth_refused), owned by the caller.
//  name tells the watched sockets of one process apart ("control", "listen").
zsock_t *curve_auth_watch (zsock_t *sock, const char *name);
//  Takes one event from a watch socket: true when it was a refusal (then endpoint, of at
//  least 256 bytes, is the local endpoint that refused it).
bool curve_auth_refused (zsock_t *watch, char *endpoint, size_t endpoint_size);

//  Makes a certificate pair for name in dir: dir/name.key (public, for the server's
//  authorised folder or a client's --curve-server) and dir/name.key_secret. 0, or -1 with
//  the reason in err (an existing pair is never overwritten).
int curve_auth_cert_new (const char *dir, const char *name, char *err, size_t err_size);

void curve_auth_test (bool verbose);

#endif
