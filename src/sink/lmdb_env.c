/*  lmdb_env: one way to open an LMDB store (see lmdb_env.h). */
#include "evmtap.h"
#include "lmdb_env.h"

int
lmdb_env_open (const char *path, size_t map_size, const char *const *names, MDB_dbi *dbis,
               size_t count, MDB_env **env, char *err, size_t err_size)
{
    assert (path && names && dbis && env && err);
    *env = NULL;
    const char *step = "mdb_env_create";
    int rc = mdb_env_create (env);
    if (rc == 0) {
        step = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize (*env, map_size);
    }
    size_t named = 0;
    for (size_t index = 0; index < count; index++)
        named += names [index] != NULL;
    if (rc == 0 && named) {
        step = "mdb_env_set_maxdbs";
        rc = mdb_env_set_maxdbs (*env, (MDB_dbi) named);
    }
    if (rc == 0) {
        step = "mdb_env_open";
        rc = mdb_env_open (*env, path, MDB_NOTLS, 0644);
    }
    MDB_txn *txn = NULL;
    if (rc == 0) {
        step = "mdb_txn_begin";
        rc = mdb_txn_begin (*env, NULL, 0, &txn);
    }
    char opening [80] = "";
    for (size_t index = 0; rc == 0 && index < count; index++) {
        snprintf (opening, sizeof (opening), "mdb_dbi_open%s%s", names [index] ? " " : "",
                  names [index] ? names [index] : "");
        step = opening;
        rc = mdb_dbi_open (txn, names [index], MDB_CREATE, &dbis [index]);
    }
    if (txn && rc == 0) {
        step = "mdb_txn_commit";
        rc = mdb_txn_commit (txn);
    }
    else if (txn)
        mdb_txn_abort (txn);
    if (rc != 0) {
        snprintf (err, err_size, "%s: %s: %s", path, step, mdb_strerror (rc));
        if (*env)
            mdb_env_close (*env);
        *env = NULL;
        return -1;
    }
    return 0;
}

void
lmdb_env_test (bool verbose)
{
    if (verbose)
        printf (" * lmdb_env: ");
    char dir [] = "/tmp/evmtap-lmdb-env-XXXXXX";
    assert (mkdtemp (dir));
    char err [256];
    MDB_env *env = NULL;
    const char *names [] = {"one", "two"};
    MDB_dbi dbis [2];
    assert (lmdb_env_open (dir, 1u << 20, names, dbis, 2, &env, err, sizeof (err)) == 0);
    //  Both databases take a value, and keep it across an open.
    MDB_txn *txn;
    MDB_val key = {1, "k"}, value = {1, "v"};
    assert (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    assert (mdb_put (txn, dbis [1], &key, &value, 0) == 0);
    assert (mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    assert (lmdb_env_open (dir, 1u << 20, names, dbis, 2, &env, err, sizeof (err)) == 0);
    assert (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0);
    assert (mdb_get (txn, dbis [1], &key, &value) == 0 && value.mv_size == 1);
    assert (mdb_get (txn, dbis [0], &key, &value) == MDB_NOTFOUND);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    //  A path that is no directory: the step and LMDB's error, nothing open.
    char *missing = zsys_sprintf ("%s/missing", dir);
    const char *main_db [] = {NULL};
    assert (lmdb_env_open (missing, 1u << 20, main_db, dbis, 1, &env, err, sizeof (err)) == -1);
    assert (!env && strstr (err, "mdb_env_open") && strstr (err, missing));
    zstr_free (&missing);
    char *command = zsys_sprintf ("rm -rf %s", dir);
    assert (system (command) == 0);
    zstr_free (&command);
    if (verbose)
        printf ("OK\n");
}
