/*  zpl: a reader for ZPL, the ZeroMQ property language that CZMQ's zconfig reads
    (rfc.zeromq.org/spec/4), keeping for every node the file and line it came from, so that
    a bad setting is reported as FILE:LINE: setting: reason. zconfig itself keeps no lines. */
#ifndef ZPL_H_INCLUDED
#define ZPL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _zpl_t zpl_t;

//  Loads a file. Returns the root node (name "root", line 0), or NULL with
//  "FILE:LINE: reason" in err.
zpl_t *zpl_load (const char *path, char *err, size_t err_size);

//  Parses text; filename is only used in messages.
zpl_t *zpl_parse (const char *text, const char *filename, char *err, size_t err_size);

void zpl_destroy (zpl_t **self_p);

const char *zpl_name (zpl_t *self);
//  The value, or NULL for a section without one.
const char *zpl_value (zpl_t *self);
int zpl_line (zpl_t *self);
const char *zpl_file (zpl_t *self);
//  "parent/child/name" from the root down, for messages.
const char *zpl_path (zpl_t *self);

zpl_t *zpl_child (zpl_t *self);
zpl_t *zpl_next (zpl_t *self);

//  The first node at a '/'-separated path below self, or NULL.
zpl_t *zpl_locate (zpl_t *self, const char *path);

//  Writes "FILE:LINE: PATH: " and the message into err, naming the node the message is
//  about (exit 2 errors of a config file), and returns -1.
int zpl_error (zpl_t *node, char *err, size_t err_size, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

void zpl_test (bool verbose);

#endif
