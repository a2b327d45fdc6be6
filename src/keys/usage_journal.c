/*  usage_journal: the LMDB journal of key usage (see usage_journal.h).

    Databases: `pending` "<minute hex 16>\t<key>\t<method>" -> {requests, units} (u64 and
    i64: units go below zero when a refund comes after its minute was sealed);
    `outbox` 8-byte big-endian seq -> "<A|P> <minute>\n<key>\t<method>\t<req>\t<units>\n...",
    units a signed decimal (journals written before refunds existed hold only unsigned
    ones, which read the same);
    `meta` "id" and "next_seq". The environment is opened with MDB_NOSYNC: a commit is in the
    page cache when it returns, so a killed process loses nothing, and sealing syncs once a
    second for the machine's own crash. */
#include "evmtap.h"
#include "usage_journal.h"
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sys/stat.h>

struct _usage_journal_t {
    MDB_env *env;    //  <data-dir>/journal
    MDB_dbi pending;
    MDB_dbi outbox;
    MDB_dbi meta;
    char id [17];
};

typedef struct {
    uint64_t requests;
    int64_t units;
} s_counts_t;

static void
s_seq_key (uint64_t seq, unsigned char *out)
{
    for (int index = 7; index >= 0; index--) {
        out [index] = (unsigned char) (seq & 0xff);
        seq >>= 8;
    }
}

static uint64_t
s_seq_of (const MDB_val *key)
{
    uint64_t seq = 0;
    const unsigned char *bytes = (const unsigned char *) key->mv_data;
    for (size_t index = 0; index < 8 && index < key->mv_size; index++)
        seq = (seq << 8) | bytes [index];
    return seq;
}

static int
s_fail (const char *what, int rc)
{
    zsys_error ("usage_journal: %s: %s", what, mdb_strerror (rc));
    return -1;
}

usage_journal_t *
usage_journal_open (const char *data_dir, char *err, size_t err_size)
{
    char path [1024];
    snprintf (path, sizeof (path), "%s/journal", data_dir);
    if (zsys_dir_create ("%s", path) != 0) {
        snprintf (err, err_size, "%s: cannot create: %s", path, strerror (errno));
        return NULL;
    }
    usage_journal_t *self = (usage_journal_t *) zmalloc (sizeof (usage_journal_t));
    assert (self);
    MDB_txn *txn = NULL;
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, 4);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, (size_t) 1 << 30);
    if (rc == 0)
        rc = mdb_env_open (self->env, path, MDB_NOSYNC | MDB_NOTLS, 0644);
    if (rc == 0)
        rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "pending", MDB_CREATE, &self->pending);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "outbox", MDB_CREATE, &self->outbox);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    if (rc == 0) {
        MDB_val key = {2, (void *) "id"}, value;
        rc = mdb_get (txn, self->meta, &key, &value);
        if (rc == 0 && value.mv_size == 16)
            memcpy (self->id, value.mv_data, 16);
        else if (rc == MDB_NOTFOUND) {
            //  A fresh journal: an id no other journal will have.
            unsigned char random [8];
            FILE *source = fopen ("/dev/urandom", "rb");
            if (!source || fread (random, 1, 8, source) != 8) {
                uint64_t fallback = (uint64_t) zclock_time () ^ ((uint64_t) getpid () << 32);
                memcpy (random, &fallback, 8);
            }
            if (source)
                fclose (source);
            for (int index = 0; index < 8; index++)
                snprintf (self->id + index * 2, 3, "%02x", random [index]);
            value.mv_size = 16;
            value.mv_data = self->id;
            rc = mdb_put (txn, self->meta, &key, &value, 0);
        }
        else if (rc == 0)
            rc = MDB_CORRUPTED;
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else if (txn)
        mdb_txn_abort (txn);
    if (rc != 0) {
        snprintf (err, err_size, "%s: %s", path, mdb_strerror (rc));
        mdb_env_close (self->env);
        free (self);
        return NULL;
    }
    return self;
}

void
usage_journal_destroy (usage_journal_t **self_p)
{
    assert (self_p);
    usage_journal_t *self = *self_p;
    if (!self)
        return;
    mdb_env_sync (self->env, 1);
    mdb_env_close (self->env);
    free (self);
    *self_p = NULL;
}

const char *
usage_journal_id (usage_journal_t *self)
{
    return self->id;
}

//  Adds requests and a units delta to (minute, key, method) in one commit.
static int
s_add (usage_journal_t *self, const char *key, uint64_t minute, const char *method,
       uint64_t requests, int64_t units)
{
    char name [300];
    int length = snprintf (name, sizeof (name), "%016" PRIx64 "\t%s\t%s", minute, key, method);
    if (length <= 0 || (size_t) length >= sizeof (name) || length > 511)
        return -1;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return s_fail ("begin", rc);
    MDB_val mkey = {(size_t) length, name}, value;
    s_counts_t counts = {0, 0};
    rc = mdb_get (txn, self->pending, &mkey, &value);
    if (rc == 0 && value.mv_size == sizeof (counts))
        memcpy (&counts, value.mv_data, sizeof (counts));
    counts.requests += requests;
    counts.units += units;
    value.mv_size = sizeof (counts);
    value.mv_data = &counts;
    rc = mdb_put (txn, self->pending, &mkey, &value, 0);
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    return rc ? s_fail ("spend", rc) : 0;
}

int
usage_journal_spend (usage_journal_t *self, const char *key, uint64_t minute, const char *method,
                     uint64_t requests, uint64_t units)
{
    if (units > INT64_MAX)
        return -1;
    return s_add (self, key, minute, method, requests, (int64_t) units);
}

int
usage_journal_refund (usage_journal_t *self, const char *key, uint64_t minute, const char *method,
                      uint64_t units)
{
    if (units > INT64_MAX)
        return -1;
    return s_add (self, key, minute, method, 0, -(int64_t) units);
}

//  Appends one outbox entry's text to a growing buffer.
static void
s_append (char **text, size_t *length, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *more = zsys_vprintf (format, args);
    va_end (args);
    size_t extra = strlen (more);
    *text = (char *) realloc (*text, *length + extra + 1);
    assert (*text);
    memcpy (*text + *length, more, extra + 1);
    *length += extra;
    free (more);
}

int
usage_journal_seal (usage_journal_t *self)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return s_fail ("begin", rc);
    uint64_t next_seq = 1;
    MDB_val meta_key = {8, (void *) "next_seq"}, value;
    if (mdb_get (txn, self->meta, &meta_key, &value) == 0 && value.mv_size == 8)
        memcpy (&next_seq, value.mv_data, 8);
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->pending, &cursor);
    int sealed = 0;
    char *text = NULL;
    size_t length = 0;
    uint64_t minute = UINT64_MAX;
    MDB_val key;
    int get = rc ? rc : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0) {
        uint64_t this_minute = UINT64_MAX;
        char line [600] = "";
        if (get == 0) {
            if (key.mv_size < 18 || key.mv_size > 500 || value.mv_size != sizeof (s_counts_t)) {
                zsys_error ("usage_journal: a damaged pending entry is left out");
                get = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
                continue;
            }
            char name [512];
            memcpy (name, key.mv_data, key.mv_size);
            name [key.mv_size] = 0;
            this_minute = strtoull (name, NULL, 16);
            s_counts_t counts;
            memcpy (&counts, value.mv_data, sizeof (counts));
            snprintf (line, sizeof (line), "%s\t%" PRIu64 "\t%" PRId64 "\n", name + 17,
                      counts.requests, counts.units);
        }
        //  A new minute (or the end) closes the entry under way.
        if (text && this_minute != minute) {
            unsigned char seq_key [8];
            s_seq_key (next_seq, seq_key);
            MDB_val okey = {8, seq_key}, ovalue = {length, text};
            rc = mdb_put (txn, self->outbox, &okey, &ovalue, 0);
            next_seq++;
            sealed++;
            free (text);
            text = NULL;
            length = 0;
        }
        if (get != 0 || rc != 0)
            break;
        if (!text) {
            minute = this_minute;
            s_append (&text, &length, "P %" PRIu64 "\n", minute);
        }
        s_append (&text, &length, "%s", line);
        get = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    free (text);
    if (rc == 0 && get != 0 && get != MDB_NOTFOUND)
        rc = get;
    if (cursor && rc == 0)
        mdb_cursor_close (cursor);
    if (rc == 0 && sealed)
        rc = mdb_drop (txn, self->pending, 0);
    if (rc == 0 && sealed) {
        value.mv_size = 8;
        value.mv_data = &next_seq;
        rc = mdb_put (txn, self->meta, &meta_key, &value, 0);
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    if (rc)
        return s_fail ("seal", rc);
    mdb_env_sync (self->env, 1);
    return sealed;
}

void
usage_entry_clear (usage_entry_t *entry)
{
    free (entry->lines);
    memset (entry, 0, sizeof (*entry));
}

size_t
usage_entry_key_end (const usage_entry_t *entry, size_t first)
{
    size_t end = first + 1;
    while (end < entry->count && streq (entry->lines [end].key, entry->lines [first].key))
        end++;
    return end;
}

//  Parses an outbox value. Returns 0 or -1 when damaged.
static int
s_entry_parse (const MDB_val *value, usage_entry_t *entry)
{
    char *text = (char *) malloc (value->mv_size + 1);
    assert (text);
    memcpy (text, value->mv_data, value->mv_size);
    text [value->mv_size] = 0;
    int rc = -1;
    char flag = 0;
    char *line = strchr (text, '\n');
    if (line && sscanf (text, "%c %" SCNu64, &flag, &entry->minute) == 2
        && (flag == 'A' || flag == 'P')) {
        entry->applied = flag == 'A';
        rc = 0;
        line++;
        while (*line && rc == 0) {
            char *end = strchr (line, '\n');
            if (end)
                *end = 0;
            char *key = line, *method = strchr (key, '\t');
            char *numbers = method ? strchr (method + 1, '\t') : NULL;
            entry->lines = (usage_line_t *) realloc (entry->lines,
                                                     (entry->count + 1) * sizeof (usage_line_t));
            assert (entry->lines);
            usage_line_t *out = &entry->lines [entry->count];
            if (!numbers || method - key >= (long) sizeof (out->key)
                || numbers - method - 1 >= (long) sizeof (out->method)
                || sscanf (numbers + 1, "%" SCNu64 "\t%" SCNd64, &out->requests, &out->units) != 2)
                rc = -1;
            else {
                snprintf (out->key, sizeof (out->key), "%.*s", (int) (method - key), key);
                snprintf (out->method, sizeof (out->method), "%.*s", (int) (numbers - method - 1),
                          method + 1);
                entry->count++;
            }
            line = end ? end + 1 : line + strlen (line);
        }
    }
    free (text);
    return rc;
}

int
usage_journal_entry (usage_journal_t *self, uint64_t after, usage_entry_t *entry)
{
    memset (entry, 0, sizeof (*entry));
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_fail ("begin", rc);
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->outbox, &cursor);
    unsigned char seq_key [8];
    s_seq_key (after + 1, seq_key);
    MDB_val key = {8, seq_key}, value;
    int result = 1;
    if (rc == 0) {
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        if (rc == 0) {
            entry->seq = s_seq_of (&key);
            result = s_entry_parse (&value, entry);
            if (result)
                zsys_error ("usage_journal: outbox entry %" PRIu64 " is damaged", entry->seq);
        }
        else if (rc != MDB_NOTFOUND)
            result = s_fail ("read", rc);
        mdb_cursor_close (cursor);
    }
    else
        result = s_fail ("cursor", rc);
    mdb_txn_abort (txn);
    if (result)
        usage_entry_clear (entry);
    return result;
}

int
usage_journal_applied (usage_journal_t *self, uint64_t seq, uint64_t keep)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc)
        return s_fail ("begin", rc);
    unsigned char seq_key [8];
    s_seq_key (seq, seq_key);
    MDB_val key = {8, seq_key}, value;
    rc = mdb_get (txn, self->outbox, &key, &value);
    if (rc == 0 && value.mv_size > 0 && ((char *) value.mv_data) [0] == 'P') {
        char *copy = (char *) malloc (value.mv_size);
        assert (copy);
        memcpy (copy, value.mv_data, value.mv_size);
        copy [0] = 'A';
        MDB_val changed = {value.mv_size, copy};
        rc = mdb_put (txn, self->outbox, &key, &changed, 0);
        free (copy);
    }
    else if (rc == MDB_NOTFOUND)
        rc = 0;
    //  Forget applied entries older than keep numbers.
    MDB_cursor *cursor;
    if (rc == 0 && seq > keep && mdb_cursor_open (txn, self->outbox, &cursor) == 0) {
        MDB_val old;
        while (mdb_cursor_get (cursor, &old, &value, MDB_FIRST) == 0 && s_seq_of (&old) + keep < seq
               && value.mv_size && ((char *) value.mv_data) [0] == 'A')
            if (mdb_cursor_del (cursor, 0))
                break;
        mdb_cursor_close (cursor);
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    return rc ? s_fail ("applied", rc) : 0;
}

int
usage_journal_totals (usage_journal_t *self, uint64_t *pending, uint64_t *unapplied)
{
    *pending = *unapplied = 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_fail ("begin", rc);
    MDB_cursor *cursor;
    MDB_val key, value;
    if (mdb_cursor_open (txn, self->pending, &cursor) == 0) {
        for (int get = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); get == 0;
             get = mdb_cursor_get (cursor, &key, &value, MDB_NEXT))
            if (value.mv_size == sizeof (s_counts_t)) {
                s_counts_t counts;
                memcpy (&counts, value.mv_data, sizeof (counts));
                *pending += counts.requests;
            }
        mdb_cursor_close (cursor);
    }
    if (mdb_cursor_open (txn, self->outbox, &cursor) == 0) {
        for (int get = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); get == 0;
             get = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            usage_entry_t entry = {0};
            if (s_entry_parse (&value, &entry) == 0 && !entry.applied)
                for (size_t index = 0; index < entry.count; index++)
                    *unapplied += entry.lines [index].requests;
            usage_entry_clear (&entry);
        }
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    return 0;
}

void
usage_journal_test (bool verbose)
{
    (void) verbose;
    char dir [] = "/tmp/evmtap-journal-test-XXXXXX";
    assert (mkdtemp (dir));
    char err [256];
    usage_journal_t *journal = usage_journal_open (dir, err, sizeof (err));
    assert (journal);
    char id [17];
    snprintf (id, sizeof (id), "%s", usage_journal_id (journal));
    assert (strlen (id) == 16);
    assert (usage_journal_seal (journal) == 0);
    assert (usage_journal_spend (journal, "p/k1", 100, "eth_getBlockByNumber", 1, 80) == 0);
    assert (usage_journal_spend (journal, "p/k1", 100, "eth_getBlockByNumber", 2, 160) == 0);
    assert (usage_journal_spend (journal, "p/k2", 100, "eth_blockNumber", 1, 80) == 0);
    assert (usage_journal_spend (journal, "p/k1", 101, "eth_getBlockByNumber", 1, 80) == 0);
    uint64_t pending, unapplied;
    assert (usage_journal_totals (journal, &pending, &unapplied) == 0);
    assert (pending == 5 && unapplied == 0);
    assert (usage_journal_seal (journal) == 2);    //  two minutes
    assert (usage_journal_totals (journal, &pending, &unapplied) == 0);
    assert (pending == 0 && unapplied == 5);
    usage_entry_t entry;
    assert (usage_journal_entry (journal, 0, &entry) == 0);
    assert (entry.seq == 1 && entry.minute == 100 && !entry.applied && entry.count == 2);
    assert (streq (entry.lines [0].key, "p/k1") && entry.lines [0].requests == 3
            && entry.lines [0].units == 240);
    assert (streq (entry.lines [1].method, "eth_blockNumber"));
    usage_entry_clear (&entry);
    assert (usage_journal_applied (journal, 1, 100) == 0);
    assert (usage_journal_entry (journal, 0, &entry) == 0 && entry.applied);
    usage_entry_clear (&entry);
    assert (usage_journal_entry (journal, 1, &entry) == 0 && entry.seq == 2 && entry.minute == 101
            && entry.count == 1);
    usage_entry_clear (&entry);
    assert (usage_journal_entry (journal, 2, &entry) == 1);

    //  Reopened (a restart): the same id, numbering goes on, nothing lost
    usage_journal_destroy (&journal);
    journal = usage_journal_open (dir, err, sizeof (err));
    assert (journal && streq (usage_journal_id (journal), id));
    assert (usage_journal_spend (journal, "p/k2", 102, "eth_chainId", 1, 5) == 0);
    assert (usage_journal_seal (journal) == 1);
    assert (usage_journal_entry (journal, 2, &entry) == 0 && entry.seq == 3);
    usage_entry_clear (&entry);
    assert (usage_journal_totals (journal, &pending, &unapplied) == 0 && unapplied == 2);
    //  Old applied entries are forgotten, unapplied ones never
    assert (usage_journal_applied (journal, 3, 1) == 0);
    assert (usage_journal_entry (journal, 0, &entry) == 0 && entry.seq == 2 && !entry.applied);
    usage_entry_clear (&entry);
    //  Spent in any order, one key's lines come adjacent: readers sum them by runs
    assert (usage_journal_spend (journal, "p/k2", 103, "eth_call", 1, 80) == 0);
    assert (usage_journal_spend (journal, "p/k1", 103, "eth_call", 1, 80) == 0);
    assert (usage_journal_spend (journal, "p/k2", 103, "eth_chainId", 1, 5) == 0);
    assert (usage_journal_spend (journal, "p/k1", 103, "eth_blockNumber", 1, 80) == 0);
    assert (usage_journal_seal (journal) == 1);
    assert (usage_journal_entry (journal, 3, &entry) == 0 && entry.count == 4);
    assert (usage_entry_key_end (&entry, 0) == 2 && usage_entry_key_end (&entry, 2) == 4);
    assert (streq (entry.lines [0].key, "p/k1") && streq (entry.lines [2].key, "p/k2"));
    usage_entry_clear (&entry);

    //  Refunds: in the same minute before it is sealed they lower its units; after, they
    //  make an entry of their own for that minute, no requests and negative units, so that
    //  the sum over entries is the exact bill.
    assert (usage_journal_spend (journal, "p/k1", 104, "eth_getBlockReceipts", 2, 2000) == 0);
    assert (usage_journal_refund (journal, "p/k1", 104, "eth_getBlockReceipts", 1000) == 0);
    assert (usage_journal_seal (journal) == 1);
    assert (usage_journal_entry (journal, 4, &entry) == 0 && entry.count == 1);
    assert (entry.lines [0].requests == 2 && entry.lines [0].units == 1000);
    usage_entry_clear (&entry);
    assert (usage_journal_refund (journal, "p/k1", 104, "eth_getBlockReceipts", 1000) == 0);
    assert (usage_journal_spend (journal, "p/k1", 105, "eth_call", 1, 80) == 0);
    assert (usage_journal_seal (journal) == 2);
    assert (usage_journal_entry (journal, 5, &entry) == 0 && entry.minute == 104);
    assert (entry.lines [0].requests == 0 && entry.lines [0].units == -1000);
    usage_entry_clear (&entry);
    assert (usage_journal_entry (journal, 6, &entry) == 0 && entry.minute == 105);
    usage_entry_clear (&entry);

    //  A journal written before refunds existed (unsigned units, same layout) still reads.
    MDB_txn *txn;
    assert (mdb_txn_begin (journal->env, NULL, 0, &txn) == 0);
    unsigned char seq_key [8];
    s_seq_key (100, seq_key);
    const char *old = "P 99\np/k9\teth_getBlockByNumber\t3\t18446744073709\n";
    MDB_val okey = {8, seq_key}, ovalue = {strlen (old), (void *) old};
    assert (mdb_put (txn, journal->outbox, &okey, &ovalue, 0) == 0);
    assert (mdb_txn_commit (txn) == 0);
    assert (usage_journal_entry (journal, 99, &entry) == 0 && entry.seq == 100);
    assert (entry.minute == 99 && entry.count == 1 && entry.lines [0].requests == 3
            && entry.lines [0].units == 18446744073709);
    usage_entry_clear (&entry);
    usage_journal_destroy (&journal);
    usage_journal_destroy (&journal);
    zdir_t *tree = zdir_new (dir, NULL);
    assert (tree);
    zdir_remove (tree, true);
    zdir_destroy (&tree);
}
