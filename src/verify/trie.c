/*  trie: built bottom-up from the keys in sorted order. A range of keys that share their
    first nibbles past the current depth becomes an extension, one that splits there a
    branch (a key ending there is the branch's value), one key a leaf. Each recursion level
    encodes its node in its own buffer and hands the reference up to the level above. */
#include "evmtap.h"
#include "trie.h"
#include "rlp.h"
#include "keccak.h"
#include "hexutil.h"

typedef struct {
    size_t key;           //  offset of the key in bytes
    size_t key_size;      //  its length in bytes (nibbles: twice that)
    size_t value;         //  offset of the value in bytes
    size_t value_size;    //  its length
} s_entry_t;

struct _trie_t {
    uint8_t *bytes;           //  every key and value, one after the other
    size_t bytes_size;        //  bytes used
    size_t bytes_capacity;    //  bytes allocated
    s_entry_t *entries;       //  the items, sorted by key while the root is computed
    size_t count;             //  items in
    size_t capacity;          //  items allocated
    rlp_t **levels;           //  one encoder per recursion level, made when first reached
    size_t level_count;       //  encoders made
};

trie_t *
trie_new (void)
{
    return (trie_t *) zmalloc (sizeof (trie_t));
}

void
trie_destroy (trie_t **self_p)
{
    assert (self_p);
    trie_t *self = *self_p;
    if (self) {
        for (size_t level = 0; level < self->level_count; level++)
            rlp_destroy (&self->levels [level]);
        free (self->levels);
        free (self->bytes);
        free (self->entries);
        free (self);
        *self_p = NULL;
    }
}

void
trie_reset (trie_t *self)
{
    assert (self);
    self->count = 0;
    self->bytes_size = 0;
}

//  Copies size bytes in; returns their offset.
static size_t
s_store (trie_t *self, const uint8_t *data, size_t size)
{
    if (self->bytes_size + size > self->bytes_capacity) {
        if (!self->bytes_capacity)
            self->bytes_capacity = 4096;
        while (self->bytes_size + size > self->bytes_capacity)
            self->bytes_capacity *= 2;
        self->bytes = (uint8_t *) realloc (self->bytes, self->bytes_capacity);
        assert (self->bytes);
    }
    size_t offset = self->bytes_size;
    if (size)
        memcpy (self->bytes + offset, data, size);
    self->bytes_size += size;
    return offset;
}

void
trie_insert (trie_t *self, const uint8_t *key, size_t key_size, const uint8_t *value, size_t size)
{
    assert (self);
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? 2 * self->capacity : 64;
        self->entries = (s_entry_t *) realloc (self->entries, self->capacity * sizeof (s_entry_t));
        assert (self->entries);
    }
    s_entry_t *entry = &self->entries [self->count++];
    entry->key = s_store (self, key, key_size);
    entry->key_size = key_size;
    entry->value = s_store (self, value, size);
    entry->value_size = size;
}

void
trie_append (trie_t *self, const uint8_t *value, size_t size)
{
    assert (self);
    //  RLP of the index, as rlp_add_uint writes it: 0x80, 0x01..0x7f, then 0x81 0x80...
    uint64_t index = self->count;
    uint8_t key [9];
    size_t key_size = 0;
    if (index == 0)
        key [key_size++] = 0x80;
    else if (index < 0x80)
        key [key_size++] = (uint8_t) index;
    else {
        uint8_t digits = 0;
        for (uint64_t rest = index; rest; rest >>= 8)
            digits++;
        key [key_size++] = (uint8_t) (0x80 + digits);
        for (int shift = 8 * (digits - 1); shift >= 0; shift -= 8)
            key [key_size++] = (uint8_t) (index >> shift);
    }
    trie_insert (self, key, key_size, value, size);
}

size_t
trie_count (trie_t *self)
{
    assert (self);
    return self->count;
}

//  Nibble at of an entry's key (the high half of each byte first).
static inline uint8_t
s_nibble (const trie_t *self, const s_entry_t *entry, size_t at)
{
    uint8_t byte = self->bytes [entry->key + at / 2];
    return at % 2 ? byte & 0x0f : byte >> 4;
}

//  qsort has no context argument: the bytes being sorted are a file static while it runs
//  (trie_root is not reentrant across threads for one trie; separate tries are fine).
static _Thread_local const uint8_t *s_sort_bytes;

static int
s_entry_compare (const void *left, const void *right)
{
    const s_entry_t *a = (const s_entry_t *) left, *b = (const s_entry_t *) right;
    size_t common = a->key_size < b->key_size ? a->key_size : b->key_size;
    int rc = memcmp (s_sort_bytes + a->key, s_sort_bytes + b->key, common);
    if (rc)
        return rc;
    return a->key_size < b->key_size ? -1 : a->key_size > b->key_size;
}

//  Appends the hex-prefix form of nibbles [from, to) of an entry's key: a flag nibble (2
//  for a leaf, plus 1 when the count is odd, the first nibble then sharing its byte).
static void
s_add_path (trie_t *self, rlp_t *rlp, const s_entry_t *entry, size_t from, size_t to, bool leaf)
{
    size_t count = to - from;
    uint8_t stack [64];
    uint8_t *path = count / 2 + 1 <= sizeof (stack) ? stack : (uint8_t *) zmalloc (count / 2 + 1);
    size_t size = 0;
    uint8_t flag = (uint8_t) ((leaf ? 2 : 0) + (count % 2));
    if (count % 2)
        path [size++] = (uint8_t) (flag << 4 | s_nibble (self, entry, from++));
    else
        path [size++] = (uint8_t) (flag << 4);
    for (; from < to; from += 2)
        path [size++] = (uint8_t) (s_nibble (self, entry, from) << 4
                                   | s_nibble (self, entry, from + 1));
    rlp_add_bytes (rlp, path, size);
    if (path != stack)
        free (path);
}

static rlp_t *s_encode_node (trie_t *self, size_t level, size_t low, size_t high, size_t depth);

//  Appends to parent the reference to the node of entries [low, high) below depth
//  nibbles: the node itself when its encoding is under 32 bytes, else its hash.
static void
s_add_node (trie_t *self, rlp_t *parent, size_t level, size_t low, size_t high, size_t depth)
{
    rlp_t *node = s_encode_node (self, level, low, high, depth);
    if (rlp_size (node) < 32)
        rlp_add_raw (parent, rlp_data (node), rlp_size (node));
    else {
        uint8_t hash [KECCAK256_SIZE];
        keccak256 (rlp_data (node), rlp_size (node), hash);
        rlp_add_bytes (parent, hash, sizeof (hash));
    }
}

//  Encodes the node of entries [low, high) below depth nibbles in the level's encoder.
static rlp_t *
s_encode_node (trie_t *self, size_t level, size_t low, size_t high, size_t depth)
{
    if (level == self->level_count) {
        self->levels = (rlp_t **) realloc (self->levels, (level + 1) * sizeof (rlp_t *));
        assert (self->levels);
        self->levels [self->level_count++] = rlp_new ();
    }
    rlp_t *rlp = self->levels [level];
    rlp_reset (rlp);
    const s_entry_t *first = &self->entries [low];
    rlp_list_begin (rlp);
    if (high - low == 1) {
        s_add_path (self, rlp, first, depth, 2 * first->key_size, true);
        rlp_add_bytes (rlp, self->bytes + first->value, first->value_size);
        rlp_list_end (rlp);
        return rlp;
    }
    //  Sorted keys: the nibbles all share are those the first and the last share.
    const s_entry_t *last = &self->entries [high - 1];
    size_t common = depth;
    while (common < 2 * first->key_size && common < 2 * last->key_size
           && s_nibble (self, first, common) == s_nibble (self, last, common))
        common++;
    if (common > depth) {
        s_add_path (self, rlp, first, depth, common, false);
        s_add_node (self, rlp, level + 1, low, high, common);
        rlp_list_end (rlp);
        return rlp;
    }
    //  A branch: a key that ends here (the shortest sorts first) is its value, the others
    //  go by their next nibble.
    size_t at = low;
    const uint8_t *value = NULL;
    size_t value_size = 0;
    if (2 * first->key_size == depth) {
        value = self->bytes + first->value;
        value_size = first->value_size;
        at++;
    }
    for (uint8_t nibble = 0; nibble < 16; nibble++) {
        size_t end = at;
        while (end < high && s_nibble (self, &self->entries [end], depth) == nibble)
            end++;
        if (end == at)
            rlp_add_bytes (rlp, NULL, 0);
        else
            s_add_node (self, rlp, level + 1, at, end, depth + 1);
        at = end;
    }
    rlp_add_bytes (rlp, value, value_size);
    rlp_list_end (rlp);
    return rlp;
}

void
trie_root (trie_t *self, uint8_t root [32])
{
    assert (self);
    if (self->count == 0) {
        keccak256 ((const uint8_t *) "\x80", 1, root);
        return;
    }
    s_sort_bytes = self->bytes;
    qsort (self->entries, self->count, sizeof (s_entry_t), s_entry_compare);
    for (size_t index = 1; index < self->count; index++)
        assert (s_entry_compare (&self->entries [index - 1], &self->entries [index]) != 0
                || !"trie: a key given twice");
    s_sort_bytes = NULL;
    //  The root is hashed whatever its size.
    rlp_t *node = s_encode_node (self, 0, 0, self->count, 0);
    keccak256 (rlp_data (node), rlp_size (node), root);
}


//  --------------------------------------------------------------------------
//  Selftest

static void
s_expect_root (trie_t *trie, const char *expected)
{
    uint8_t root [32];
    char hex [HEX_HASH_LEN + 1];
    trie_root (trie, root);
    hex_encode (root, sizeof (root), hex);
    if (strcmp (hex, expected) != 0) {
        fprintf (stderr, "trie: root %s of %zu items, expected %s\n", hex, trie_count (trie),
                 expected);
        assert (false);
    }
}

static void
s_insert (trie_t *trie, const char *key, const char *value)
{
    trie_insert (trie, (const uint8_t *) key, strlen (key), (const uint8_t *) value,
                 strlen (value));
}

void
trie_test (bool verbose)
{
    (void) verbose;
    trie_t *trie = trie_new ();
    //  The empty trie: every block without transactions has it as transactionsRoot.
    s_expect_root (trie, "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

    //  go-ethereum's trie_test.go vectors: extensions, branches, and (do, dog, doge) keys
    //  that end inside a branch; the order of insertion must not matter.
    s_insert (trie, "dog", "puppy");
    s_insert (trie, "doe", "reindeer");
    s_insert (trie, "dogglesworth", "cat");
    s_expect_root (trie, "0x8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
    trie_reset (trie);
    s_insert (trie, "A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    s_expect_root (trie, "0xd23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab");
    trie_reset (trie);
    s_insert (trie, "horse", "stallion");
    s_insert (trie, "do", "verb");
    s_insert (trie, "doge", "coin");
    s_insert (trie, "dog", "puppy");
    s_expect_root (trie, "0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");

    //  The 32-byte rule, at its edge: a leaf under key 0x00 beside one under 0x10 is
    //  [0x30, value], 31 bytes with a 28-byte value (embedded in the branch) and 32 with a
    //  29-byte one (hashed). The branch is built here by hand from the rule.
    for (size_t value_size = 28; value_size <= 29; value_size++) {
        uint8_t value [29], leaf_hash [32], expected [32], root [32];
        memset (value, 0x77, sizeof (value));
        trie_reset (trie);
        trie_insert (trie, (const uint8_t *) "\x00", 1, value, value_size);
        trie_insert (trie, (const uint8_t *) "\x10", 1, value, value_size);
        trie_root (trie, root);
        rlp_t *leaf = rlp_new (), *branch = rlp_new ();
        rlp_list_begin (leaf);
        rlp_add_bytes (leaf, (const uint8_t *) "\x30", 1);
        rlp_add_bytes (leaf, value, value_size);
        rlp_list_end (leaf);
        assert (rlp_size (leaf) == value_size + 3);
        keccak256 (rlp_data (leaf), rlp_size (leaf), leaf_hash);
        rlp_list_begin (branch);
        for (size_t child = 0; child < 2; child++)
            if (value_size == 28)
                rlp_add_raw (branch, rlp_data (leaf), rlp_size (leaf));
            else
                rlp_add_bytes (branch, leaf_hash, sizeof (leaf_hash));
        for (size_t child = 2; child < 17; child++)
            rlp_add_bytes (branch, NULL, 0);
        rlp_list_end (branch);
        keccak256 (rlp_data (branch), rlp_size (branch), expected);
        assert (memcmp (root, expected, 32) == 0);
        rlp_destroy (&leaf);
        rlp_destroy (&branch);
    }

    //  An ordered list is the same trie under keys RLP(i): 300 items reach keys of two
    //  bytes (0x81 0x80 ...) beside the one-byte ones. The roots of real blocks (block_verify's
    //  selftest) prove the list layout against mainnet.
    trie_t *by_key = trie_new ();
    trie_reset (trie);
    rlp_t *rlp = rlp_new ();
    for (uint64_t index = 0; index < 300; index++) {
        uint8_t value [40];
        memset (value, (int) (index & 0xff), sizeof (value));
        trie_append (trie, value, (size_t) (index % 40) + 1);
        rlp_reset (rlp);
        rlp_add_uint (rlp, index);
        trie_insert (by_key, rlp_data (rlp), rlp_size (rlp), value, (size_t) (index % 40) + 1);
    }
    assert (trie_count (trie) == 300);
    uint8_t root [32], again [32];
    trie_root (trie, root);
    trie_root (by_key, again);
    assert (memcmp (root, again, 32) == 0);
    //  Computing the root twice (the entries are sorted the first time) changes nothing.
    trie_root (trie, again);
    assert (memcmp (root, again, 32) == 0);
    rlp_destroy (&rlp);
    trie_destroy (&by_key);
    trie_destroy (&trie);
    trie_destroy (&trie);
}
