/*  proxy_store: an LMDB table "<chain>/<address>" -> 20 bytes of implementation (zero
    for none) and the block, 8 bytes little-endian (proxy_store.h). Entries are few (one
    per contract a call reached without a bound ABI) and written once per lookup. */
#include "evmtap.h"
#include "proxy_store.h"
#include "lmdb_env.h"
#include "hexutil.h"

//  Far more than the contracts of any chain: 64 bytes an entry.
#define S_MAP_SIZE (256u << 20)

struct _proxy_store_t {
    MDB_env *env;
    MDB_dbi dbi;
    char *path;
};

proxy_store_t *
proxy_store_open (const char *data_dir, char *err, size_t err_size)
{
    assert (data_dir && err);
    char *path = zsys_sprintf ("%s/proxies", data_dir);
    if (zsys_dir_create ("%s", path) != 0) {
        snprintf (err, err_size, "cannot create %s: %s", path, strerror (errno));
        zstr_free (&path);
        return NULL;
    }
    proxy_store_t *self = (proxy_store_t *) zmalloc (sizeof (proxy_store_t));
    assert (self);
    self->path = path;
    //  (MDB_NOTLS: opened by main, used by the decoder's thread.)
    static const char *const names [] = {NULL};
    if (lmdb_env_open (path, S_MAP_SIZE, names, &self->dbi, 1, &self->env, err, err_size)) {
        proxy_store_destroy (&self);
        return NULL;
    }
    return self;
}

void
proxy_store_destroy (proxy_store_t **self_p)
{
    assert (self_p);
    proxy_store_t *self = *self_p;
    if (!self)
        return;
    if (self->env)
        mdb_env_close (self->env);
    zstr_free (&self->path);
    free (self);
    *self_p = NULL;
}

int
proxy_store_get (proxy_store_t *self, const char *chain, const char *address, char *implementation,
                 uint64_t *block, char *err, size_t err_size)
{
    assert (self && chain && address && implementation && block);
    char *name = zsys_sprintf ("%s/%s", chain, address);
    MDB_val key = {strlen (name), name}, value;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = mdb_get (txn, self->dbi, &key, &value);
        if (rc == 0 && value.mv_size == 28) {
            static const uint8_t zero [20];
            const uint8_t *bytes = (const uint8_t *) value.mv_data;
            if (memcmp (bytes, zero, 20) == 0)
                implementation [0] = 0;
            else
                hex_encode (bytes, 20, implementation);
            uint64_t number = 0;
            for (int index = 7; index >= 0; index--)
                number = number << 8 | bytes [20 + index];
            *block = number;
        }
        else if (rc == 0)
            rc = MDB_CORRUPTED;
        mdb_txn_abort (txn);
    }
    zstr_free (&name);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc != 0) {
        snprintf (err, err_size, "%s: %s: %s", self->path, address, mdb_strerror (rc));
        return -1;
    }
    return 0;
}

int
proxy_store_put (proxy_store_t *self, const char *chain, const char *address,
                 const char *implementation, uint64_t block, char *err, size_t err_size)
{
    assert (self && chain && address && implementation);
    uint8_t bytes [28] = {0};
    if (*implementation && hex_decode (implementation, bytes, 20) != 20) {
        snprintf (err, err_size, "%s: implementation %s is not an address", self->path,
                  implementation);
        return -1;
    }
    for (int index = 0; index < 8; index++)
        bytes [20 + index] = (uint8_t) (block >> (8 * index));
    char *name = zsys_sprintf ("%s/%s", chain, address);
    MDB_val key = {strlen (name), name}, value = {sizeof (bytes), bytes};
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = mdb_put (txn, self->dbi, &key, &value, 0);
        if (rc == 0)
            rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
    }
    zstr_free (&name);
    if (rc != 0) {
        snprintf (err, err_size, "%s: %s: %s", self->path, address, mdb_strerror (rc));
        return -1;
    }
    return 0;
}

//  Absent, put, read back (and after a reopen), replaced, "none"; chains kept apart.
void
proxy_store_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-proxy-store-XXXXXX";
    assert (mkdtemp (dir));
    char err [256], implementation [43];
    uint64_t block = 0;
    const char *proxy = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    proxy_store_t *self = proxy_store_open (dir, err, sizeof (err));
    assert (self);
    assert (proxy_store_get (self, "anvil", proxy, implementation, &block, err, sizeof (err)) == 1);
    assert (proxy_store_put (self, "anvil", proxy, "0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512", 7,
                             err, sizeof (err))
            == 0);
    assert (proxy_store_put (self, "mainnet", proxy, "", 1ull << 40, err, sizeof (err)) == 0);
    assert (proxy_store_put (self, "anvil", proxy, "0x12", 7, err, sizeof (err)) == -1);
    proxy_store_destroy (&self);
    proxy_store_destroy (&self);
    self = proxy_store_open (dir, err, sizeof (err));
    assert (self);
    assert (proxy_store_get (self, "anvil", proxy, implementation, &block, err, sizeof (err)) == 0);
    assert (streq (implementation, "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512") && block == 7);
    assert (proxy_store_get (self, "mainnet", proxy, implementation, &block, err, sizeof (err))
            == 0);
    assert (streq (implementation, "") && block == 1ull << 40);
    assert (proxy_store_put (self, "anvil", proxy, "", 9, err, sizeof (err)) == 0);
    assert (proxy_store_get (self, "anvil", proxy, implementation, &block, err, sizeof (err)) == 0);
    assert (streq (implementation, "") && block == 9);
    proxy_store_destroy (&self);
    char *path = zsys_sprintf ("%s/proxies", dir);
    char *file = zsys_sprintf ("%s/data.mdb", path);
    unlink (file);
    zstr_free (&file);
    file = zsys_sprintf ("%s/lock.mdb", path);
    unlink (file);
    zstr_free (&file);
    rmdir (path);
    zstr_free (&path);
    rmdir (dir);
}
