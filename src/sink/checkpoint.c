/*  checkpoint: evmtap's durable state in one LMDB environment, <data-dir>/state (a
    directory holding data.mdb and lock.mdb). Two named databases:
      blocks: chain name -> [u64 number, big-endian][block hash text]
      files:  files-sink path -> [u64 size, big-endian]; relative to the sink's root (whose
              id is the meta files.root.id), absolute for old records outside it
      windows: chain name -> its recent blocks (block_window_encode)
      meta:   name -> text (the files sink root's id and path, each chain's identity)
    The broker writes both in one transaction per checkpoint, so a block is never marked
    published before the bytes that publish it are on disk, and never after.
    @locality one write transaction at a time, owned by the thread that began it (the broker). */
#include "evmtap.h"
#include "lmdb_env.h"
#include <sys/stat.h>
#include <errno.h>
#include "checkpoint.h"
#include "block.h"

//  Big enough for years of state; LMDB only uses the pages it needs.
#define CHECKPOINT_MAP_SIZE ((size_t) 1 << 30)

struct _checkpoint_t {
    MDB_env *env;       //  the environment under <data-dir>/state
    MDB_dbi blocks;     //  chain -> last published block
    MDB_dbi files;      //  path -> checkpointed size
    MDB_dbi meta;       //  name -> text
    MDB_dbi windows;    //  chain -> recent block hashes
    MDB_txn *txn;       //  the open write transaction, NULL between begin and commit
    char *path;         //  <data-dir>/state, for log lines
};

static void
s_put_u64 (unsigned char *out, uint64_t value)
{
    for (int index = 7; index >= 0; index--) {
        out [index] = (unsigned char) (value & 0xff);
        value >>= 8;
    }
}

static uint64_t
s_get_u64 (const unsigned char *in)
{
    uint64_t value = 0;
    for (int index = 0; index < 8; index++)
        value = (value << 8) | in [index];
    return value;
}

//  Creates path and its parents; 0 or -1 with errno set.
static int
s_mkdir_p (const char *path)
{
    char *copy = strdup (path);
    assert (copy);
    int rc = 0;
    for (char *cursor = copy + 1; rc == 0; cursor++) {
        if (*cursor != '/' && *cursor != 0)
            continue;
        char saved = *cursor;
        *cursor = 0;
        if (mkdir (copy, 0755) != 0) {
            struct stat info;
            if (errno != EEXIST)
                rc = -1;
            else if (stat (copy, &info) != 0 || !S_ISDIR (info.st_mode)) {
                errno = ENOTDIR;
                rc = -1;
            }
        }
        *cursor = saved;
        if (saved == 0)
            break;
    }
    free (copy);
    return rc;
}

checkpoint_t *
checkpoint_open (const char *data_dir, char *err, size_t err_size)
{
    assert (data_dir);
    assert (err && err_size > 0);
    err [0] = 0;
    char *path = zsys_sprintf ("%s/state", data_dir);
    assert (path);
    if (s_mkdir_p (path) != 0) {
        snprintf (err, err_size, "cannot create %s: %s", path, strerror (errno));
        zstr_free (&path);
        return NULL;
    }
    checkpoint_t *self = (checkpoint_t *) zmalloc (sizeof (checkpoint_t));
    assert (self);
    self->path = path;
    //  (MDB_NOTLS: main reads before the broker starts, on another thread.)
    static const char *const names [] = {"blocks", "files", "meta", "windows"};
    MDB_dbi dbis [4];
    if (lmdb_env_open (path, CHECKPOINT_MAP_SIZE, names, dbis, 4, &self->env, err, err_size)) {
        checkpoint_destroy (&self);
        return NULL;
    }
    self->blocks = dbis [0];
    self->files = dbis [1];
    self->meta = dbis [2];
    self->windows = dbis [3];
    return self;
}

void
checkpoint_destroy (checkpoint_t **self_p)
{
    assert (self_p);
    checkpoint_t *self = *self_p;
    if (self) {
        if (self->txn)
            mdb_txn_abort (self->txn);
        if (self->env)
            mdb_env_close (self->env);
        zstr_free (&self->path);
        free (self);
        *self_p = NULL;
    }
}

//  Reads one value, inside the open write transaction when there is one (LMDB allows one
//  transaction per thread), else in a short read transaction. 0, 1 when absent, -1.
static int
s_get (checkpoint_t *self, MDB_dbi dbi, const char *key, void *out, size_t out_size,
       size_t *out_len)
{
    MDB_txn *txn = self->txn;
    int rc = 0;
    if (!txn)
        rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_txn_begin: %s", self->path, mdb_strerror (rc));
        return -1;
    }
    MDB_val mkey = {strlen (key), (void *) key};
    MDB_val mdata;
    rc = mdb_get (txn, dbi, &mkey, &mdata);
    int result = 0;
    if (rc == MDB_NOTFOUND)
        result = 1;
    else if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_get %s: %s", self->path, key, mdb_strerror (rc));
        result = -1;
    }
    else {
        size_t len = mdata.mv_size < out_size ? mdata.mv_size : out_size;
        memcpy (out, mdata.mv_data, len);
        *out_len = mdata.mv_size;
    }
    if (txn != self->txn)
        mdb_txn_abort (txn);
    return result;
}

int
checkpoint_get (checkpoint_t *self, const char *chain, uint64_t *number, char *hash)
{
    assert (self);
    assert (chain && number && hash);
    unsigned char value [8 + BLOCK_HASH_SIZE];
    size_t len = 0;
    int rc = s_get (self, self->blocks, chain, value, sizeof (value), &len);
    if (rc != 0)
        return rc;
    //  The file could be damaged or written by another version: check, never trust.
    if (len < 8 || len - 8 >= BLOCK_HASH_SIZE) {
        zsys_error ("checkpoint: %s: block record of %s has %zu bytes", self->path, chain, len);
        return -1;
    }
    *number = s_get_u64 (value);
    memcpy (hash, value + 8, len - 8);
    hash [len - 8] = 0;
    return 0;
}

int
checkpoint_get_file (checkpoint_t *self, const char *path, uint64_t *size)
{
    assert (self);
    assert (path && size);
    unsigned char value [8];
    size_t len = 0;
    int rc = s_get (self, self->files, path, value, sizeof (value), &len);
    if (rc != 0)
        return rc;
    if (len != 8) {
        zsys_error ("checkpoint: %s: file record of %s has %zu bytes", self->path, path, len);
        return -1;
    }
    *size = s_get_u64 (value);
    return 0;
}

int
checkpoint_get_meta (checkpoint_t *self, const char *key, char *value, size_t value_size)
{
    assert (self);
    assert (key && value && value_size > 0);
    size_t len = 0;
    int rc = s_get (self, self->meta, key, value, value_size - 1, &len);
    if (rc != 0)
        return rc;
    value [len < value_size - 1 ? len : value_size - 1] = 0;
    return 0;
}

int
checkpoint_get_window (checkpoint_t *self, const char *chain, block_window_t *window)
{
    assert (self);
    assert (chain && window);
    block_window_clear (window);
    size_t capacity = 8 + BLOCK_WINDOW_SIZE * (BLOCK_HASH_SIZE - 1);
    unsigned char *value = (unsigned char *) malloc (capacity);
    assert (value);
    size_t len = 0;
    int rc = s_get (self, self->windows, chain, value, capacity, &len);
    if (rc == 0 && (len > capacity || block_window_decode (window, value, len) != 0)) {
        zsys_error ("checkpoint: %s: window record of %s has %zu bytes that are not a window",
                    self->path, chain, len);
        rc = -1;
    }
    free (value);
    return rc;
}

int
checkpoint_begin (checkpoint_t *self)
{
    assert (self);
    assert (!self->txn);
    int rc = mdb_txn_begin (self->env, NULL, 0, &self->txn);
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_txn_begin: %s", self->path, mdb_strerror (rc));
        self->txn = NULL;
        return -1;
    }
    return 0;
}

//  Puts one record; on failure the whole transaction is dropped, as the header promises.
static int
s_put (checkpoint_t *self, MDB_dbi dbi, const char *key, void *data, size_t size)
{
    if (!self->txn)
        return -1;    //  an earlier put failed and dropped the transaction
    MDB_val mkey = {strlen (key), (void *) key};
    MDB_val mdata = {size, data};
    int rc = mkey.mv_size == 0 || mkey.mv_size > (size_t) mdb_env_get_maxkeysize (self->env)
                 ? MDB_BAD_VALSIZE
                 : mdb_put (self->txn, dbi, &mkey, &mdata, 0);
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_put %.120s: %s", self->path, key, mdb_strerror (rc));
        mdb_txn_abort (self->txn);
        self->txn = NULL;
        return -1;
    }
    return 0;
}

int
checkpoint_set_block (checkpoint_t *self, const char *chain, uint64_t number, const char *hash)
{
    assert (self);
    assert (chain && hash);
    size_t hash_len = strlen (hash);
    assert (hash_len < BLOCK_HASH_SIZE);
    unsigned char value [8 + BLOCK_HASH_SIZE];
    s_put_u64 (value, number);
    memcpy (value + 8, hash, hash_len);
    return s_put (self, self->blocks, chain, value, 8 + hash_len);
}

int
checkpoint_set_file (checkpoint_t *self, const char *path, uint64_t size)
{
    assert (self);
    assert (path);
    unsigned char value [8];
    s_put_u64 (value, size);
    return s_put (self, self->files, path, value, sizeof (value));
}

int
checkpoint_set_meta (checkpoint_t *self, const char *key, const char *value)
{
    assert (self);
    assert (key && value);
    return s_put (self, self->meta, key, (void *) value, strlen (value));
}

int
checkpoint_set_window (checkpoint_t *self, const char *chain, block_window_t *window)
{
    assert (self);
    assert (chain && window);
    size_t size;
    unsigned char *data = block_window_encode (window, &size);
    int rc = s_put (self, self->windows, chain, data, size);
    free (data);
    return rc;
}

int
checkpoint_del_file (checkpoint_t *self, const char *path)
{
    assert (self);
    assert (path);
    if (!self->txn)
        return -1;
    MDB_val mkey = {strlen (path), (void *) path};
    int rc = mdb_del (self->txn, self->files, &mkey, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        zsys_error ("checkpoint: %s: mdb_del %.120s: %s", self->path, path, mdb_strerror (rc));
        mdb_txn_abort (self->txn);
        self->txn = NULL;
        return -1;
    }
    return 0;
}

int
checkpoint_commit (checkpoint_t *self)
{
    assert (self);
    if (!self->txn)
        return -1;    //  already dropped by a failed put (logged there)
    int rc = mdb_txn_commit (self->txn);
    self->txn = NULL;
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_txn_commit: %s", self->path, mdb_strerror (rc));
        return -1;
    }
    return 0;
}

void
checkpoint_abort (checkpoint_t *self)
{
    assert (self);
    if (self->txn) {
        mdb_txn_abort (self->txn);
        self->txn = NULL;
    }
}

//  Calls visit for every record of dbi, in key order (key and value borrowed); a record
//  visit refuses (-1) is logged as damaged and skipped. 0, or -1 on an LMDB error (logged).
static int
s_each (checkpoint_t *self, MDB_dbi dbi, const char *what,
        int (*visit) (const MDB_val *key, const MDB_val *data, void *arg), void *arg)
{
    assert (self);
    assert (!self->txn);
    MDB_txn *txn;
    MDB_cursor *cursor;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_txn_begin: %s", self->path, mdb_strerror (rc));
        return -1;
    }
    rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc != 0) {
        zsys_error ("checkpoint: %s: mdb_cursor_open: %s", self->path, mdb_strerror (rc));
        mdb_txn_abort (txn);
        return -1;
    }
    MDB_val key, data;
    int result = 0;
    MDB_cursor_op op = MDB_FIRST;
    while ((rc = mdb_cursor_get (cursor, &key, &data, op)) == 0) {
        op = MDB_NEXT;
        if (visit (&key, &data, arg) != 0)
            zsys_error ("checkpoint: %s: skipping a damaged %s record", self->path, what);
    }
    if (rc != MDB_NOTFOUND) {
        zsys_error ("checkpoint: %s: mdb_cursor_get: %s", self->path, mdb_strerror (rc));
        result = -1;
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return result;
}

typedef struct {
    checkpoint_file_fn *file_fn;
    checkpoint_block_fn *block_fn;
    void *arg;
} s_each_t;

static int
s_visit_file (const MDB_val *key, const MDB_val *data, void *arg)
{
    s_each_t *each = (s_each_t *) arg;
    char path [4096];
    if (key->mv_size >= sizeof (path) || data->mv_size != 8)
        return -1;
    memcpy (path, key->mv_data, key->mv_size);
    path [key->mv_size] = 0;
    each->file_fn (path, s_get_u64 ((const unsigned char *) data->mv_data), each->arg);
    return 0;
}

int
checkpoint_each_file (checkpoint_t *self, checkpoint_file_fn *fn, void *arg)
{
    assert (fn);
    s_each_t each = {.file_fn = fn, .arg = arg};
    return s_each (self, self->files, "file", s_visit_file, &each);
}

static int
s_visit_block (const MDB_val *key, const MDB_val *data, void *arg)
{
    s_each_t *each = (s_each_t *) arg;
    char chain [256];
    if (key->mv_size >= sizeof (chain) || data->mv_size < 8)
        return -1;
    memcpy (chain, key->mv_data, key->mv_size);
    chain [key->mv_size] = 0;
    each->block_fn (chain, s_get_u64 ((const unsigned char *) data->mv_data), each->arg);
    return 0;
}

int
checkpoint_each_block (checkpoint_t *self, checkpoint_block_fn *fn, void *arg)
{
    assert (fn);
    s_each_t each = {.block_fn = fn, .arg = arg};
    return s_each (self, self->blocks, "block", s_visit_block, &each);
}


//  --------------------------------------------------------------------------
//  Selftest

typedef struct {
    int count;
    uint64_t total;
    bool saw_a;
} s_each_state_t;

//  Counts the chains, and checks mainnet's block.
static void
s_test_each_block (const char *chain, uint64_t number, void *arg)
{
    (*(uint64_t *) arg)++;
    if (streq (chain, "mainnet"))
        assert (number == 19000003);
}

static void
s_test_each (const char *path, uint64_t size, void *arg)
{
    s_each_state_t *state = (s_each_state_t *) arg;
    state->count++;
    state->total += size;
    if (streq (path, "/tmp/x/a.ndjson")) {
        state->saw_a = true;
        assert (size == 100);
    }
}

void
checkpoint_test (bool verbose)
{
    (void) verbose;
    char template_ [] = "/tmp/evmtap-checkpoint-XXXXXX";
    char *tmp = mkdtemp (template_);
    assert (tmp);
    char *data_dir = zsys_sprintf ("%s/nested/data", tmp);
    char err [256];

    checkpoint_t *checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    uint64_t number = 0;
    char hash [BLOCK_HASH_SIZE];
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 1);
    uint64_t size = 0;
    assert (checkpoint_get_file (checkpoint, "/tmp/x/a.ndjson", &size) == 1);

    const char *hash1 = "0x88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6";
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 19000000, hash1) == 0);
    assert (checkpoint_set_block (checkpoint, "anvil", 0xffffffffffffffffULL, "0xab") == 0);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/a.ndjson", 100) == 0);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/b.ndjson", 1ULL << 40) == 0);
    //  Reads inside the open transaction see its writes.
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000000);
    assert (checkpoint_commit (checkpoint) == 0);

    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000000 && streq (hash, hash1));
    assert (checkpoint_get (checkpoint, "anvil", &number, hash) == 0);
    assert (number == 0xffffffffffffffffULL && streq (hash, "0xab"));
    assert (checkpoint_get_file (checkpoint, "/tmp/x/b.ndjson", &size) == 0);
    assert (size == 1ULL << 40);

    //  Abort: nothing of the transaction is stored.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 19000001, "0x01") == 0);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/c.ndjson", 7) == 0);
    checkpoint_abort (checkpoint);
    checkpoint_abort (checkpoint);    //  safe twice
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000000);
    assert (checkpoint_get_file (checkpoint, "/tmp/x/c.ndjson", &size) == 1);

    //  A failed put drops the transaction; commit then fails and stores nothing.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 19000002, "0x02") == 0);
    char long_path [1024];
    memset (long_path, 'p', sizeof (long_path) - 1);
    long_path [sizeof (long_path) - 1] = 0;
    assert (checkpoint_set_file (checkpoint, long_path, 1) == -1);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/d.ndjson", 1) == -1);
    assert (checkpoint_commit (checkpoint) == -1);
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000000);

    //  A chain's window: absent, then stored and read back as committed.
    block_window_t *window = block_window_new (BLOCK_WINDOW_SIZE);
    assert (checkpoint_get_window (checkpoint, "mainnet", window) == 1);
    block_window_push (window, 18999999, hash1);
    block_window_push (window, 19000000, hash1);
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_window (checkpoint, "mainnet", window) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    block_window_clear (window);
    assert (checkpoint_get_window (checkpoint, "mainnet", window) == 0);
    assert (block_window_count (window) == 2 && block_window_last (window) == 19000000);
    assert (streq (block_window_hash (window, 18999999), hash1));
    block_window_destroy (&window);

    //  Meta values; a file record dropped.
    char value [16];
    assert (checkpoint_get_meta (checkpoint, "files.root.id", value, sizeof (value)) == 1);
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_meta (checkpoint, "files.root.id", "0123456789abcdef0123") == 0);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/e.ndjson", 5) == 0);
    assert (checkpoint_del_file (checkpoint, "/tmp/x/e.ndjson") == 0);
    assert (checkpoint_del_file (checkpoint, "/tmp/x/never.ndjson") == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    assert (checkpoint_get_meta (checkpoint, "files.root.id", value, sizeof (value)) == 0);
    assert (streq (value, "0123456789abcde"));
    assert (checkpoint_get_file (checkpoint, "/tmp/x/e.ndjson", &size) == 1);

    //  Updates overwrite.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_file (checkpoint, "/tmp/x/a.ndjson", 100) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 19000003, hash1) == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    checkpoint_destroy (&checkpoint);
    checkpoint_destroy (&checkpoint);
    assert (checkpoint == NULL);

    //  Reopen: everything committed persisted.
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000003 && streq (hash, hash1));
    s_each_state_t state = {0, 0, false};
    assert (checkpoint_each_file (checkpoint, s_test_each, &state) == 0);
    assert (state.count == 2);
    assert (state.saw_a);
    assert (state.total == 100 + (1ULL << 40));
    //  Every chain recorded, with its last block.
    uint64_t blocks_seen = 0;
    assert (checkpoint_each_block (checkpoint, s_test_each_block, &blocks_seen) == 0);
    assert (blocks_seen == 2);
    //  A transaction left open at destroy is aborted.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 1, "0x03") == 0);
    checkpoint_destroy (&checkpoint);
    checkpoint = checkpoint_open (data_dir, err, sizeof (err));
    assert (checkpoint);
    assert (checkpoint_get (checkpoint, "mainnet", &number, hash) == 0);
    assert (number == 19000003);
    checkpoint_destroy (&checkpoint);

    //  A data dir that cannot be created: NULL with the reason.
    char *blocker = zsys_sprintf ("%s/file", tmp);
    FILE *file = fopen (blocker, "w");
    assert (file);
    fclose (file);
    char *bad_dir = zsys_sprintf ("%s/sub", blocker);
    checkpoint = checkpoint_open (bad_dir, err, sizeof (err));
    assert (checkpoint == NULL);
    assert (strstr (err, "cannot create"));
    if (verbose)
        zsys_info ("checkpoint: expected error: %s", err);

    zstr_free (&bad_dir);
    zstr_free (&blocker);
    zstr_free (&data_dir);
    zdir_t *tree = zdir_new (tmp, NULL);
    assert (tree);
    zdir_remove (tree, true);
    zdir_destroy (&tree);
}
