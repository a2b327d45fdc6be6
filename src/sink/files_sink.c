/*  files_sink: the broker's files sink (see files_sink.h).

    Files: a topic has one open file, that of the day of the last block written to it; a
    block of a later day closes it (flushed and synced) and opens the next. A closed file
    stays known until the checkpoint has stored its final size. A file is recorded in the
    store when it is first opened, before anything is written to it, so that a restart can
    cut it even before its first checkpoint. Its log lines say "broker:", whose work it
    does, as they did before the sink had a module of its own. */
#include "evmtap.h"
#include "files_sink.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "checkpoint.h"

//  Each open file's stdio buffer: large writes, few syscalls between checkpoints.
#define FILES_SINK_BUFFER (256 * 1024)
//  The root's identity: a random id in this file, and its copy in the checkpoint store.
#define FILES_SINK_ID_FILE ".evmtap-id"
#define FILES_SINK_META_ID "files.root.id"
#define FILES_SINK_META_PATH "files.root.path"
//  The last block time that has a day of four digits: 9999-12-31 23:59:59 UTC.
#define FILES_SINK_TIME_MAX 253402300799ULL

//  A file: open while it is its topic's current day, kept closed until its size is
//  checkpointed once its day has passed.
typedef struct {
    char *path;       //  DIR/<topic>/<day>.ndjson, also its key in self->files
    char *key;        //  <topic>/<day>.ndjson: its record in the checkpoint store
    char *topic;      //  full topic name
    char day [16];    //  YYYY-MM-DD
    FILE *file;       //  NULL once closed
    char *buffer;     //  the FILE's buffer (stdio does not own it)
    uint64_t size;    //  bytes in the file, counting those still buffered
    uint64_t kept;    //  its size at the last checkpoint (or when first opened): what
                      //  files_sink_cut_back cuts it back to after a failure
    bool dirty;       //  written since the last checkpoint
} s_file_t;

struct _files_sink_t {
    char *dir;                   //  the sink's root
    checkpoint_t *checkpoint;    //  borrowed: where file sizes are recorded
    zhashx_t *files;             //  path -> s_file_t: open files, and closed ones not yet
                                 //  checkpointed
    zhashx_t *current;           //  topic -> s_file_t (borrowed from files): its open file
    char *error;                 //  why the last call failed, NULL when none did
};


//  --------------------------------------------------------------------------
//  Files

static void
s_file_destroy (s_file_t **self_p)
{
    s_file_t *self = *self_p;
    if (self) {
        if (self->file)
            fclose (self->file);
        free (self->buffer);
        free (self->path);
        free (self->key);
        free (self->topic);
        free (self);
        *self_p = NULL;
    }
}

static void
s_file_destructor (void **item)
{
    s_file_destroy ((s_file_t **) item);
}

//  Makes a file's directory entry durable: a checkpoint that names the file must not
//  outlive the file itself across a power loss.
static int
s_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

//  Records why the sink failed, for files_sink_error. Returns -1.
static int
s_fail (files_sink_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    free (self->error);
    self->error = zsys_vprintf (format, args);
    va_end (args);
    assert (self->error);
    return -1;
}

//  Flushes and syncs one file so that its size may be checkpointed. 0 or -1 (failed).
static int
s_file_sync (files_sink_t *self, s_file_t *file)
{
    if (fflush (file->file) != 0)
        return s_fail (self, "write %s: %s", file->path, strerror (errno));
    if (fdatasync (fileno (file->file)) != 0)
        return s_fail (self, "fdatasync %s: %s", file->path, strerror (errno));
    return 0;
}

//  Closes a file whose day has passed; it stays in self->files until its size is
//  checkpointed. 0 or -1 (failed).
static int
s_file_close (files_sink_t *self, s_file_t *file)
{
    int rc = s_file_sync (self, file);
    if (rc == 0 && fclose (file->file) != 0)
        rc = s_fail (self, "close %s: %s", file->path, strerror (errno));
    else if (rc != 0)
        fclose (file->file);
    file->file = NULL;
    free (file->buffer);
    file->buffer = NULL;
    if (!file->dirty)
        zhashx_delete (self->files, file->path);
    return rc;
}

//  A topic name becomes a directory name: refuse what would leave the files directory.
static bool
s_topic_valid (const char *topic)
{
    size_t len = strlen (topic);
    return len > 0 && len < 256 && !strchr (topic, '/') && !streq (topic, ".")
           && !streq (topic, "..");
}

//  The entry of a path in self->files, made (closed) for a topic and day when it has none.
//  Takes path.
static s_file_t *
s_file_entry (files_sink_t *self, char *path, const char *topic, const char *day)
{
    s_file_t *file = (s_file_t *) zhashx_lookup (self->files, path);
    if (file) {
        free (path);
        return file;
    }
    file = (s_file_t *) zmalloc (sizeof (s_file_t));
    assert (file);
    file->path = path;
    file->key = zsys_sprintf ("%s/%s.ndjson", topic, day);
    file->topic = strdup (topic);
    assert (file->key && file->topic);
    snprintf (file->day, sizeof (file->day), "%s", day);
    zhashx_insert (self->files, path, file);
    return file;
}

//  Records a file opened for the first time in the checkpoint store, at its size on disk,
//  once its directory entry is durable. 0 or -1 (failed).
static int
s_file_record (files_sink_t *self, s_file_t *file, const char *dir)
{
    uint64_t recorded;
    int rc = checkpoint_get_file (self->checkpoint, file->key, &recorded);
    if (rc == 1) {
        s_sync_dir (dir);
        if (checkpoint_begin (self->checkpoint) != 0
            || checkpoint_set_file (self->checkpoint, file->key, file->size) != 0
            || checkpoint_commit (self->checkpoint) != 0)
            rc = -1;
        else
            rc = 0;
    }
    if (rc != 0)
        return s_fail (self, "cannot record %s in the checkpoint store (LMDB error logged)",
                       file->path);
    return 0;
}

//  Opens (appending) the file of a topic and day, recording it in the checkpoint store if
//  it is new there, so that a restart can cut it even before its first checkpoint.
static s_file_t *
s_file_open (files_sink_t *self, const char *topic, const char *day)
{
    char *dir = zsys_sprintf ("%s/%s", self->dir, topic);
    char *path = zsys_sprintf ("%s/%s.ndjson", dir, day);
    assert (dir && path);
    s_file_t *file = s_file_entry (self, path, topic, day);
    path = file->path;
    assert (!file->file);

    struct stat info;
    if (stat (dir, &info) != 0) {
        if (mkdir (dir, 0755) != 0 && errno != EEXIST) {
            s_fail (self, "mkdir %s: %s", dir, strerror (errno));
            free (dir);
            return NULL;
        }
        s_sync_dir (self->dir);
    }
    file->file = fopen (path, "a");
    if (!file->file || fstat (fileno (file->file), &info) != 0) {
        s_fail (self, "open %s: %s", path, strerror (errno));
        if (file->file)
            fclose (file->file);
        file->file = NULL;
        free (dir);
        return NULL;
    }
    file->buffer = (char *) malloc (FILES_SINK_BUFFER);
    assert (file->buffer);
    setvbuf (file->file, file->buffer, _IOFBF, FILES_SINK_BUFFER);
    file->size = (uint64_t) info.st_size;
    if (!file->dirty)
        file->kept = file->size;
    int rc = s_file_record (self, file, dir);
    free (dir);
    if (rc != 0)
        return NULL;
    zhashx_update (self->current, topic, file);
    return file;
}

//  The open file for a topic and day, closing the topic's file of an older day.
static s_file_t *
s_file_require (files_sink_t *self, const char *topic, const char *day)
{
    s_file_t *file = (s_file_t *) zhashx_lookup (self->current, topic);
    if (file && streq (file->day, day))
        return file;
    if (file) {
        zhashx_delete (self->current, topic);
        if (s_file_close (self, file) != 0)
            return NULL;
    }
    return s_file_open (self, topic, day);
}

//  Writes one record to its topic's file of the day. 0 or -1 (failed).
static int
s_write_record (files_sink_t *self, const batch_record_t *record, const char *day, uint64_t *bytes)
{
    if (!s_topic_valid (record->topic)) {
        zsys_error ("broker: record with topic '%.64s' dropped: not a valid file name",
                    record->topic);
        return 0;
    }
    s_file_t *file = s_file_require (self, record->topic, day);
    if (!file)
        return -1;
    if (fwrite (record->value, 1, record->value_len, file->file) != record->value_len
        || fputc ('\n', file->file) == EOF)
        return s_fail (self, "write %s: %s", file->path, strerror (errno));
    file->size += record->value_len + 1;
    file->dirty = true;
    *bytes += record->value_len + 1;
    return 0;
}


//  --------------------------------------------------------------------------
//  Start: the root's identity, and files cut back to their checkpoint

//  Reads the root's id from DIR/.evmtap-id: 0, 1 when absent, -1 (errno set).
static int
s_root_id_read (const char *dir, char *id, size_t id_size)
{
    char *path = zsys_sprintf ("%s/%s", dir, FILES_SINK_ID_FILE);
    assert (path);
    FILE *file = fopen (path, "r");
    free (path);
    if (!file)
        return errno == ENOENT ? 1 : -1;
    size_t len = fread (id, 1, id_size - 1, file);
    fclose (file);
    id [len] = 0;
    while (len > 0 && (id [len - 1] == '\n' || id [len - 1] == ' '))
        id [--len] = 0;
    return 0;
}

//  Writes a new random id into DIR/.evmtap-id, durably. 0 or -1 (errno set).
static int
s_root_id_create (const char *dir, char *id, size_t id_size)
{
    unsigned char random [16];
    FILE *source = fopen ("/dev/urandom", "r");
    if (!source)
        return -1;
    size_t got = fread (random, 1, sizeof (random), source);
    fclose (source);
    if (got != sizeof (random)) {
        errno = EIO;
        return -1;
    }
    assert (id_size > 2 * sizeof (random));
    for (size_t index = 0; index < sizeof (random); index++)
        snprintf (id + 2 * index, 3, "%02x", random [index]);
    char *path = zsys_sprintf ("%s/%s", dir, FILES_SINK_ID_FILE);
    assert (path);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    free (path);
    if (fd < 0)
        return -1;
    char line [64];
    int len = snprintf (line, sizeof (line), "%s\n", id);
    int rc = write (fd, line, (size_t) len) == len && fsync (fd) == 0 ? 0 : -1;
    int saved = errno;
    close (fd);
    errno = saved;
    if (rc == 0)
        s_sync_dir (dir);
    return rc;
}

//  The record of a file an older evmtap named by its path as given: relative to the root
//  when the file is under it, else absolute. NULL when its directory is gone.
static char *
s_legacy_key (const char *path, const char *root)
{
    const char *slash = strrchr (path, '/');
    char *parent = slash ? strndup (path, (size_t) (slash - path)) : strdup (".");
    const char *base = slash ? slash + 1 : path;
    assert (parent);
    char *real = realpath (*parent ? parent : "/", NULL);
    free (parent);
    if (!real)
        return NULL;
    size_t root_len = strlen (root);
    char *key;
    if (streq (real, root))
        key = strdup (base);
    else if (strncmp (real, root, root_len) == 0 && real [root_len] == '/')
        key = zsys_sprintf ("%s/%s", real + root_len + 1, base);
    else
        key = zsys_sprintf ("%s/%s", streq (real, "/") ? "" : real, base);
    assert (key);
    free (real);
    return key;
}

typedef struct {
    zlistx_t *paths;    //  recorded paths, in store order
    zlistx_t *sizes;    //  their sizes (uint64_t *), same order
} s_records_t;

static void
s_collect_file (const char *path, uint64_t size, void *arg)
{
    s_records_t *records = (s_records_t *) arg;
    uint64_t *copy = (uint64_t *) malloc (sizeof (uint64_t));
    assert (copy);
    *copy = size;
    zlistx_add_end (records->paths, strdup (path));
    zlistx_add_end (records->sizes, copy);
}

//  The first start with a root id: the records an older evmtap kept by path as given are
//  made relative to the root, and the root's id and path stored, in one transaction.
static int
s_root_adopt (checkpoint_t *checkpoint, const char *root, const char *id, char *err,
              size_t err_size)
{
    s_records_t records = {zlistx_new (), zlistx_new ()};
    assert (records.paths && records.sizes);
    zlistx_set_destructor (records.paths, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (records.sizes, (zlistx_destructor_fn *) zstr_free);
    int rc = checkpoint_each_file (checkpoint, s_collect_file, &records);
    int moved = 0, dropped = 0;
    if (rc == 0)
        rc = checkpoint_begin (checkpoint);
    const char *path = (const char *) zlistx_first (records.paths);
    uint64_t *size = (uint64_t *) zlistx_first (records.sizes);
    for (; rc == 0 && path; path = (const char *) zlistx_next (records.paths),
                            size = (uint64_t *) zlistx_next (records.sizes)) {
        char *key = s_legacy_key (path, root);
        if (!key || !streq (key, path))
            rc = checkpoint_del_file (checkpoint, path);
        if (rc == 0 && key && !streq (key, path)) {
            rc = checkpoint_set_file (checkpoint, key, *size);
            moved++;
        }
        if (!key) {
            //  Relative to the working directory of an older run, or removed since.
            zsys_warning ("files sink: %s (recorded by an older evmtap) is not found from here: "
                          "its record is dropped, the file is not cut",
                          path);
            dropped++;
        }
        free (key);
    }
    if (rc == 0)
        rc = checkpoint_set_meta (checkpoint, FILES_SINK_META_ID, id);
    if (rc == 0)
        rc = checkpoint_set_meta (checkpoint, FILES_SINK_META_PATH, root);
    if (rc == 0)
        rc = checkpoint_commit (checkpoint);
    else
        checkpoint_abort (checkpoint);
    zlistx_destroy (&records.paths);
    zlistx_destroy (&records.sizes);
    if (rc != 0) {
        snprintf (err, err_size,
                  "cannot record the files dir %.200s in the checkpoint store "
                  "(LMDB error logged)",
                  root);
        return -1;
    }
    if (moved || dropped)
        zsys_info ("files sink: %d file records of an older evmtap now relative to %s (id %s), "
                   "%d not found dropped",
                   moved, root, id, dropped);
    return 0;
}

int
files_sink_root (checkpoint_t *checkpoint, const char *dir, char *err, size_t err_size)
{
    assert (checkpoint && dir);
    assert (err && err_size > 0);
    err [0] = 0;
    zsys_dir_create ("%s", dir);
    char *root = realpath (dir, NULL);
    struct stat info;
    if (!root || stat (root, &info) != 0 || !S_ISDIR (info.st_mode)) {
        snprintf (err, err_size, "cannot create %s: %s", dir,
                  root ? "not a directory" : strerror (errno));
        free (root);
        return -1;
    }
    char have [64], want [64], was [4096] = "";
    int have_rc = s_root_id_read (root, have, sizeof (have));
    int want_rc = checkpoint_get_meta (checkpoint, FILES_SINK_META_ID, want, sizeof (want));
    int rc = 0;
    if (have_rc < 0) {
        snprintf (err, err_size, "cannot read %s/%s: %s", root, FILES_SINK_ID_FILE,
                  strerror (errno));
        rc = -1;
    }
    else if (want_rc < 0
             || checkpoint_get_meta (checkpoint, FILES_SINK_META_PATH, was, sizeof (was)) < 0) {
        snprintf (err, err_size, "cannot read the checkpoint store (LMDB error logged)");
        rc = -1;
    }
    else if (want_rc == 0 && (have_rc == 1 || !streq (have, want))) {
        snprintf (err, err_size,
                  "files dir %.300s (id %s) is not the one this data dir's checkpoint wrote: "
                  "%.300s (id %s); give that directory (--sink files:DIR), or a fresh --data-dir "
                  "for this one",
                  root, have_rc == 1 ? "none" : have, *was ? was : "(unknown path)", want);
        rc = 1;
    }
    else if (want_rc == 0) {
        //  The same directory, perhaps by another path or moved: remember where it is now.
        if (!streq (was, root)) {
            if (*was)
                zsys_info ("files sink: files dir %s (id %s), was %s", root, want, was);
            if (checkpoint_begin (checkpoint) != 0
                || checkpoint_set_meta (checkpoint, FILES_SINK_META_PATH, root) != 0
                || checkpoint_commit (checkpoint) != 0) {
                snprintf (err, err_size, "cannot record the files dir %.300s (LMDB error logged)",
                          root);
                rc = -1;
            }
        }
    }
    else {
        if (have_rc == 1 && s_root_id_create (root, have, sizeof (have)) != 0) {
            snprintf (err, err_size, "cannot write %s/%s: %s", root, FILES_SINK_ID_FILE,
                      strerror (errno));
            rc = -1;
        }
        else
            rc = s_root_adopt (checkpoint, root, have, err, err_size);
    }
    free (root);
    return rc;
}

typedef struct {
    const char *root;    //  where relative records are, NULL: records are paths as given
    int errors;          //  files that could not be read or cut
    char error [256];    //  the first of them
} s_cut_state_t;

static void
s_cut_file (const char *key, uint64_t size, void *arg)
{
    s_cut_state_t *state = (s_cut_state_t *) arg;
    char *path = state->root && key [0] != '/' ? zsys_sprintf ("%s/%s", state->root, key)
                                               : strdup (key);
    assert (path);
    struct stat info;
    if (stat (path, &info) != 0) {
        //  ENOENT: removed by an operator, nothing to cut
        if (errno != ENOENT && state->errors++ == 0)
            snprintf (state->error, sizeof (state->error), "stat %s: %s", path, strerror (errno));
    }
    else if ((uint64_t) info.st_size > size) {
        if (truncate (path, (off_t) size) != 0) {
            if (state->errors++ == 0)
                snprintf (state->error, sizeof (state->error), "truncate %s: %s", path,
                          strerror (errno));
        }
        else
            zsys_info ("broker: %s: cut %" PRIu64 " bytes written after the last checkpoint", path,
                       (uint64_t) info.st_size - size);
    }
    else if ((uint64_t) info.st_size < size)
        zsys_warning ("broker: %s: %" PRIu64 " bytes, shorter than its checkpoint (%" PRIu64
                      "): changed outside evmtap?",
                      path, (uint64_t) info.st_size, size);
    free (path);
}

int
files_sink_cut (checkpoint_t *checkpoint, const char *dir, char *err, size_t err_size)
{
    assert (checkpoint);
    assert (err && err_size > 0);
    err [0] = 0;
    char want [64], have [64], root [4096] = "";
    int want_rc = checkpoint_get_meta (checkpoint, FILES_SINK_META_ID, want, sizeof (want));
    if (want_rc == 0 && !dir
        && checkpoint_get_meta (checkpoint, FILES_SINK_META_PATH, root, sizeof (root)) < 0)
        want_rc = -1;
    if (want_rc < 0) {
        snprintf (err, err_size, "cannot read the checkpoint store (LMDB error logged)");
        return -1;
    }
    if (dir)
        snprintf (root, sizeof (root), "%s", dir);
    s_cut_state_t cut = {want_rc == 0 ? root : NULL, 0, ""};
    if (want_rc == 0 && (s_root_id_read (root, have, sizeof (have)) != 0 || !streq (have, want))) {
        //  Never cut another directory by this one's sizes.
        if (dir) {
            snprintf (err, err_size, "files dir %.300s is not the one checkpointed (id %s)", dir,
                      want);
            return -1;
        }
        zsys_warning ("files sink: %s no longer holds the files checkpointed (id %s): not cut",
                      root, want);
        return 0;
    }
    if (checkpoint_each_file (checkpoint, s_cut_file, &cut) != 0)
        snprintf (err, err_size,
                  "cannot list the files of the checkpoint store (LMDB error logged)");
    else if (cut.errors)
        snprintf (err, err_size, "cannot cut files back to their checkpoint: %.160s (%d errors)",
                  cut.error, cut.errors);
    return err [0] ? -1 : 0;
}


//  --------------------------------------------------------------------------
//  Sink

files_sink_t *
files_sink_new (const char *dir, checkpoint_t *checkpoint, char *err, size_t err_size)
{
    assert (dir && checkpoint);
    assert (err && err_size > 0);
    err [0] = 0;
    struct stat info;
    zsys_dir_create ("%s", dir);
    errno = 0;
    if (stat (dir, &info) != 0 || !S_ISDIR (info.st_mode)) {
        snprintf (err, err_size, "cannot create %s: %s", dir,
                  errno ? strerror (errno) : "not a directory");
        return NULL;
    }
    files_sink_t *self = (files_sink_t *) zmalloc (sizeof (files_sink_t));
    assert (self);
    self->dir = strdup (dir);
    self->checkpoint = checkpoint;
    self->files = zhashx_new ();
    self->current = zhashx_new ();
    assert (self->dir && self->files && self->current);
    zhashx_set_destructor (self->files, s_file_destructor);
    return self;
}

void
files_sink_destroy (files_sink_t **self_p)
{
    assert (self_p);
    files_sink_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->current);
        zhashx_destroy (&self->files);
        free (self->dir);
        free (self->error);
        free (self);
        *self_p = NULL;
    }
}

int
files_sink_write (files_sink_t *self, batch_t *batch, uint64_t *bytes)
{
    assert (self && batch && bytes);
    //  A node's timestamp is outside input: past year 9999 it gets a file of its own.
    char day [16] = "invalid-time";
    time_t when = (time_t) batch_timestamp (batch);
    struct tm tm;
    if (batch_timestamp (batch) <= FILES_SINK_TIME_MAX && gmtime_r (&when, &tm))
        strftime (day, sizeof (day), "%Y-%m-%d", &tm);
    else
        zsys_warning ("broker: %s block %" PRIu64 " has timestamp %" PRIu64 ", written to %s files",
                      batch_chain (batch), batch_number (batch), batch_timestamp (batch), day);
    size_t size = batch_size (batch);
    for (size_t index = 0; index < size; index++)
        if (s_write_record (self, batch_record (batch, index), day, bytes) != 0)
            return -1;
    return 0;
}

int
files_sink_sync (files_sink_t *self)
{
    assert (self);
    s_file_t *file;
    for (file = (s_file_t *) zhashx_first (self->files); file;
         file = (s_file_t *) zhashx_next (self->files))
        if (file->dirty && file->file && s_file_sync (self, file) != 0)
            return -1;
    return 0;
}

int
files_sink_checkpoint (files_sink_t *self)
{
    assert (self);
    int rc = 0;
    s_file_t *file;
    for (file = (s_file_t *) zhashx_first (self->files); file && rc == 0;
         file = (s_file_t *) zhashx_next (self->files))
        if (file->dirty)
            rc = checkpoint_set_file (self->checkpoint, file->key, file->size);
    return rc;
}

void
files_sink_committed (files_sink_t *self)
{
    assert (self);
    //  Closed files are forgotten once their final size is stored.
    zlistx_t *closed = zlistx_new ();
    assert (closed);
    s_file_t *file;
    for (file = (s_file_t *) zhashx_first (self->files); file;
         file = (s_file_t *) zhashx_next (self->files)) {
        file->dirty = false;
        file->kept = file->size;
        if (!file->file)
            zlistx_add_end (closed, file->path);
    }
    const char *path;
    for (path = (const char *) zlistx_first (closed); path;
         path = (const char *) zlistx_next (closed))
        zhashx_delete (self->files, path);
    zlistx_destroy (&closed);
}

int
files_sink_cut_back (files_sink_t *self)
{
    assert (self);
    int rc = 0;
    s_file_t *file;
    for (file = (s_file_t *) zhashx_first (self->files); file;
         file = (s_file_t *) zhashx_next (self->files)) {
        if (!file->dirty)
            continue;
        //  What stdio still buffers would be written by fclose, after the cut.
        if (file->file)
            __fpurge (file->file);
        if (truncate (file->path, (off_t) file->kept) != 0) {
            zsys_warning ("broker: cannot cut %s back to %" PRIu64 " bytes (%s): the next "
                          "start cuts it",
                          file->path, file->kept, strerror (errno));
            rc = -1;
            continue;
        }
        if (file->file)
            fseeko (file->file, 0, SEEK_END);
        file->size = file->kept;
        file->dirty = false;
    }
    return rc;
}

const char *
files_sink_error (files_sink_t *self)
{
    assert (self);
    return self->error ? self->error : "";
}


//  --------------------------------------------------------------------------
//  Selftest

//  True when the file at path holds exactly text ("" for an absent file).
static bool
s_test_file_is (const char *path, const char *text)
{
    zchunk_t *chunk = zchunk_slurp (path, 0);
    bool same = chunk ? zchunk_size (chunk) == strlen (text)
                            && memcmp (zchunk_data (chunk), text, strlen (text)) == 0
                      : streq (text, "");
    zchunk_destroy (&chunk);
    return same;
}

//  A batch of block number with one record {"n":number} per topic given.
static batch_t *
s_test_batch (uint64_t number, uint64_t timestamp, const char **topics, size_t count)
{
    batch_t *batch = batch_new ("t", 1, number, "0x01", timestamp);
    for (size_t index = 0; index < count; index++) {
        char *value = zsys_sprintf ("{\"n\":%" PRIu64 "}", number);
        assert (value);
        batch_add (batch, topics [index], "k", value, strlen (value));
    }
    return batch;
}

//  Writes a batch and checks the bytes it counts.
static void
s_test_write (files_sink_t *sink, batch_t *batch, uint64_t expected)
{
    uint64_t bytes = 0;
    assert (files_sink_write (sink, batch, &bytes) == 0);
    assert (bytes == expected);
    batch_destroy (&batch);
}

//  A checkpoint as the broker takes it: sync, record the sizes, commit.
static void
s_test_checkpoint (files_sink_t *sink, checkpoint_t *checkpoint)
{
    assert (files_sink_sync (sink) == 0);
    assert (checkpoint_begin (checkpoint) == 0);
    assert (files_sink_checkpoint (sink) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    files_sink_committed (sink);
}

void
files_sink_test (bool verbose)
{
    char template_ [] = "/tmp/evmtap-files-sink-XXXXXX";
    char *tmp = mkdtemp (template_);
    assert (tmp);
    char err [256];
    checkpoint_t *checkpoint = checkpoint_open (tmp, err, sizeof (err));
    assert (checkpoint);
    char *dir = zsys_sprintf ("%s/topics", tmp);
    //  2024-05-01 00:00:00 UTC and the next day.
    const uint64_t day1 = 1714521600, day2 = day1 + 86400;
    char *a1 = zsys_sprintf ("%s/t.a/2024-05-01.ndjson", dir);
    char *a2 = zsys_sprintf ("%s/t.a/2024-05-02.ndjson", dir);
    char *b1 = zsys_sprintf ("%s/t.b/2024-05-01.ndjson", dir);

    //  Records go to their topic's file of the block's day; a file is recorded at its
    //  size on disk when first opened, before any checkpoint; bad topics are dropped.
    assert (files_sink_root (checkpoint, dir, err, sizeof (err)) == 0);
    files_sink_t *sink = files_sink_new (dir, checkpoint, err, sizeof (err));
    assert (sink);
    assert (streq (files_sink_error (sink), ""));
    const char *topics [] = {"t.a", "t.b", "..", "a/b", "", "t.a"};
    s_test_write (sink, s_test_batch (1, day1, topics, 6), 3 * strlen ("{\"n\":1}\n"));
    uint64_t size = 1;
    assert (checkpoint_get_file (checkpoint, "t.a/2024-05-01.ndjson", &size) == 0 && size == 0);
    s_test_write (sink, s_test_batch (2, day2 - 1, topics, 1), strlen ("{\"n\":2}\n"));
    s_test_write (sink, s_test_batch (3, day2, topics, 1), strlen ("{\"n\":3}\n"));
    //  The day passed: its file is closed, so written through.
    assert (s_test_file_is (a1, "{\"n\":1}\n{\"n\":1}\n{\"n\":2}\n"));
    s_test_checkpoint (sink, checkpoint);
    assert (s_test_file_is (a2, "{\"n\":3}\n"));
    assert (s_test_file_is (b1, "{\"n\":1}\n"));
    assert (checkpoint_get_file (checkpoint, "t.a/2024-05-01.ndjson", &size) == 0 && size == 24);
    assert (checkpoint_get_file (checkpoint, "t.a/2024-05-02.ndjson", &size) == 0 && size == 8);
    assert (checkpoint_get_file (checkpoint, "t.b/2024-05-01.ndjson", &size) == 0 && size == 8);
    char *escaped = zsys_sprintf ("%s/a", dir);
    assert (access (escaped, F_OK) != 0);
    zstr_free (&escaped);

    //  A checkpoint names only the files written since the last one.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_file (checkpoint, "t.b/2024-05-01.ndjson", 3) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    s_test_write (sink, s_test_batch (4, day2, topics, 1), 8);
    s_test_checkpoint (sink, checkpoint);
    assert (checkpoint_get_file (checkpoint, "t.a/2024-05-02.ndjson", &size) == 0 && size == 16);
    assert (checkpoint_get_file (checkpoint, "t.b/2024-05-01.ndjson", &size) == 0 && size == 3);

    //  After a failure, what was written since the checkpoint goes, on disk and buffered.
    s_test_write (sink, s_test_batch (7, day2, topics, 1), 8);
    assert (files_sink_sync (sink) == 0);
    s_test_write (sink, s_test_batch (8, day2, topics, 1), 8);
    assert (files_sink_cut_back (sink) == 0);
    assert (s_test_file_is (a2, "{\"n\":3}\n{\"n\":4}\n"));
    assert (files_sink_sync (sink) == 0);
    assert (s_test_file_is (a2, "{\"n\":3}\n{\"n\":4}\n"));

    //  A timestamp past year 9999 gets a file of its own.
    s_test_write (sink, s_test_batch (5, FILES_SINK_TIME_MAX + 1, topics, 1), 8);
    s_test_checkpoint (sink, checkpoint);
    char *invalid = zsys_sprintf ("%s/t.a/invalid-time.ndjson", dir);
    assert (s_test_file_is (invalid, "{\"n\":5}\n"));
    zstr_free (&invalid);
    //  Written but not checkpointed: reaches the file when the sink is destroyed.
    s_test_write (sink, s_test_batch (6, day2, topics, 1), 8);
    files_sink_destroy (&sink);
    files_sink_destroy (&sink);
    assert (sink == NULL);
    assert (s_test_file_is (a2, "{\"n\":3}\n{\"n\":4}\n{\"n\":6}\n"));

    //  The cut: each file back to its checkpointed size, a removed one skipped.
    assert (unlink (a1) == 0);
    assert (files_sink_cut (checkpoint, dir, err, sizeof (err)) == 0);
    assert (s_test_file_is (a2, "{\"n\":3}\n{\"n\":4}\n"));
    assert (s_test_file_is (b1, "{\"n"));

    //  The same root by a symlink and after a move is cut as well; another is refused.
    char *link = zsys_sprintf ("%s/link", tmp);
    char *moved = zsys_sprintf ("%s/moved", tmp);
    assert (symlink (dir, link) == 0);
    assert (files_sink_root (checkpoint, link, err, sizeof (err)) == 0);
    assert (rename (dir, moved) == 0);
    char *moved_a2 = zsys_sprintf ("%s/t.a/2024-05-02.ndjson", moved);
    FILE *append = fopen (moved_a2, "a");
    assert (append);
    fputs ("{\"n\":5}\n", append);
    fclose (append);
    assert (files_sink_root (checkpoint, moved, err, sizeof (err)) == 0);
    assert (files_sink_cut (checkpoint, NULL, err, sizeof (err)) == 0);
    assert (s_test_file_is (moved_a2, "{\"n\":3}\n{\"n\":4}\n"));
    assert (rename (moved, dir) == 0);
    zstr_free (&moved_a2);
    char *other = zsys_sprintf ("%s/other", tmp);
    assert (files_sink_root (checkpoint, other, err, sizeof (err)) == 1);
    assert (strstr (err, "other (id none)") && strstr (err, "/moved (id "));
    if (verbose)
        zsys_info ("files_sink: expected error: %s", err);
    assert (files_sink_cut (checkpoint, other, err, sizeof (err)) == -1);
    assert (files_sink_root (checkpoint, dir, err, sizeof (err)) == 0);

    //  An older store, files recorded by their path as given: made relative on first use.
    char *legacy_dir = zsys_sprintf ("%s/legacy", tmp);
    checkpoint_t *legacy = checkpoint_open (legacy_dir, err, sizeof (err));
    assert (legacy);
    char *gone = zsys_sprintf ("%s/gone/x.ndjson", tmp);
    assert (checkpoint_begin (legacy) == 0);
    assert (checkpoint_set_file (legacy, a2, 8) == 0);
    assert (checkpoint_set_file (legacy, gone, 8) == 0);
    assert (checkpoint_commit (legacy) == 0);
    assert (files_sink_root (legacy, link, err, sizeof (err)) == 0);
    assert (checkpoint_get_file (legacy, "t.a/2024-05-02.ndjson", &size) == 0 && size == 8);
    assert (checkpoint_get_file (legacy, a2, &size) == 1);
    assert (checkpoint_get_file (legacy, gone, &size) == 1);
    assert (files_sink_cut (legacy, dir, err, sizeof (err)) == 0);
    assert (s_test_file_is (a2, "{\"n\":3}\n"));
    checkpoint_destroy (&legacy);
    zstr_free (&gone);
    zstr_free (&legacy_dir);
    zstr_free (&other);
    zstr_free (&moved);
    zstr_free (&link);
    //  A recorded file that cannot be read fails the cut, naming it.
    char *blocker = zsys_sprintf ("%s/blocker", tmp);
    char *under = zsys_sprintf ("%s/x.ndjson", blocker);
    FILE *file = fopen (blocker, "w");
    assert (file);
    fclose (file);
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_file (checkpoint, under, 0) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    assert (files_sink_cut (checkpoint, dir, err, sizeof (err)) == -1);
    assert (strstr (err, "cannot cut files back to their checkpoint: stat "));
    assert (strstr (err, under) && strstr (err, "(1 errors)"));
    if (verbose)
        zsys_info ("files_sink: expected error: %s", err);

    //  A root that cannot be made a directory: NULL with the reason.
    assert (files_sink_new (blocker, checkpoint, err, sizeof (err)) == NULL);
    assert (strstr (err, "cannot create") && strstr (err, blocker));
    //  A topic directory that is a file: the open fails, naming the file.
    sink = files_sink_new (dir, checkpoint, err, sizeof (err));
    assert (sink);
    char *in_way = zsys_sprintf ("%s/t.c", dir);
    file = fopen (in_way, "w");
    assert (file);
    fclose (file);
    const char *in_way_topic [] = {"t.c"};
    batch_t *batch = s_test_batch (7, day1, in_way_topic, 1);
    uint64_t bytes = 0;
    assert (files_sink_write (sink, batch, &bytes) == -1);
    assert (bytes == 0);
    assert (strstr (files_sink_error (sink), "open ") && strstr (files_sink_error (sink), in_way));
    batch_destroy (&batch);
    //  No space left: the sync fails, naming the file.
    if (access ("/dev/full", W_OK) == 0) {
        char *full_dir = zsys_sprintf ("%s/t.full", dir);
        char *full_path = zsys_sprintf ("%s/2024-05-01.ndjson", full_dir);
        assert (mkdir (full_dir, 0755) == 0);
        assert (symlink ("/dev/full", full_path) == 0);
        const char *full_topic [] = {"t.full"};
        s_test_write (sink, s_test_batch (8, day1, full_topic, 1), 8);
        assert (files_sink_sync (sink) == -1);
        assert (strstr (files_sink_error (sink), full_path));
        zstr_free (&full_path);
        zstr_free (&full_dir);
    }
    files_sink_destroy (&sink);

    checkpoint_destroy (&checkpoint);
    zstr_free (&in_way);
    zstr_free (&under);
    zstr_free (&blocker);
    zstr_free (&a1);
    zstr_free (&a2);
    zstr_free (&b1);
    zstr_free (&dir);
    //  rm, not zdir_remove: zdir skips the roots' id files (dot files).
    char *command = zsys_sprintf ("rm -rf '%s'", tmp);
    assert (command && system (command) == 0);
    zstr_free (&command);
}
