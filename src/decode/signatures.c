/*  signatures: the lines in file order plus an index sorted by (first 4 bytes of the key,
    line), so a lookup is a binary search and collisions come back in file order. A line's
    signature is parsed (and checked by Keccak-256) when a lookup first reaches it. */
#include "evmtap.h"
#include "signatures.h"
#include "abi.h"
#include "hexutil.h"

//  A line, parsed into an entry the first time a lookup needs it.
typedef struct {
    uint8_t key [32];    //  the selector (4 bytes) or topic (32)
    uint8_t key_len;
    bool parsed;         //  entry is set, or the line was found bad
    const char *text;    //  the signature text, inside the file's copy
    size_t text_len;
    abi_entry_t *entry;    //  NULL until parsed, and when the line is bad
} s_line_t;

struct _signatures_t {
    char *text;         //  the file's contents
    s_line_t *lines;    //  well-formed lines, in file order
    size_t count;
    size_t *index;    //  line numbers sorted by key prefix, then file order
    size_t skipped;
};

static uint32_t
s_prefix (const uint8_t *key)
{
    return (uint32_t) key [0] << 24 | (uint32_t) key [1] << 16 | (uint32_t) key [2] << 8 | key [3];
}

//  For qsort: the prefix, then the line number (file order).
static const signatures_t *s_sorting;
static int
s_compare (const void *a, const void *b)
{
    size_t left = *(const size_t *) a, right = *(const size_t *) b;
    uint32_t left_prefix = s_prefix (s_sorting->lines [left].key);
    uint32_t right_prefix = s_prefix (s_sorting->lines [right].key);
    if (left_prefix != right_prefix)
        return left_prefix < right_prefix ? -1 : 1;
    return left < right ? -1 : left > right;
}

//  Reads the key of one line, "0x" + 8 or 64 hex digits, a tab, a signature. Parsing the
//  signature waits for a lookup: a file of 20,000 lines loads in milliseconds.
static bool
s_read_line (const char *line, size_t len, s_line_t *out)
{
    while (len && (line [len - 1] == '\r' || line [len - 1] == ' '))
        len--;
    const char *tab = (const char *) memchr (line, '\t', len);
    if (!tab)
        return false;
    size_t key_digits = (size_t) (tab - line);
    if (key_digits != 10 && key_digits != 66)
        return false;
    size_t key_len = (key_digits - 2) / 2;
    if (line [0] != '0' || line [1] != 'x'
        || hex_decode_len (line, key_digits, out->key, sizeof (out->key)) != (int) key_len)
        return false;
    out->key_len = (uint8_t) key_len;
    out->text = tab + 1;
    out->text_len = len - key_digits - 1;
    out->parsed = false;
    out->entry = NULL;
    return out->text_len > 0;
}

//  Parses a line's signature on first use; a line whose hash is not its key is bad.
static const abi_entry_t *
s_entry (signatures_t *self, s_line_t *line)
{
    if (!line->parsed) {
        line->parsed = true;
        char err [160];
        line->entry = abi_entry_parse (line->key_len == 4 ? ABI_FUNCTION : ABI_EVENT, line->text,
                                       line->text_len, err, sizeof (err));
        if (line->entry && memcmp (line->entry->hash, line->key, line->key_len) != 0)
            abi_entry_destroy (&line->entry);
        if (!line->entry)
            self->skipped++;
    }
    return line->entry;
}

signatures_t *
signatures_parse (const char *text, size_t len, const char *name, char *err, size_t err_size)
{
    signatures_t *self = (signatures_t *) zmalloc (sizeof (signatures_t));
    assert (self);
    self->text = (char *) malloc (len + 1);
    assert (self->text);
    memcpy (self->text, text, len);
    self->text [len] = 0;
    size_t capacity = 1024;
    self->lines = (s_line_t *) malloc (capacity * sizeof (s_line_t));
    assert (self->lines);
    size_t pos = 0;
    while (pos < len) {
        const char *line = self->text + pos;
        const char *newline = (const char *) memchr (line, '\n', len - pos);
        size_t line_len = newline ? (size_t) (newline - line) : len - pos;
        pos += line_len + 1;
        if (line_len == 0 || line [0] == '#')
            continue;
        s_line_t read;
        if (!s_read_line (line, line_len, &read)) {
            self->skipped++;
            continue;
        }
        //  Several signatures of one key may share a line, `;`-separated (as the
        //  event list with parameter names has them): one entry each, in order.
        while (true) {
            if (self->count == capacity) {
                capacity *= 2;
                self->lines = (s_line_t *) realloc (self->lines, capacity * sizeof (s_line_t));
                assert (self->lines);
            }
            const char *semicolon = (const char *) memchr (read.text, ';', read.text_len);
            s_line_t *entry = &self->lines [self->count];
            *entry = read;
            if (semicolon)
                entry->text_len = (size_t) (semicolon - read.text);
            if (entry->text_len)
                self->count++;
            if (!semicolon)
                break;
            read.text_len -= (size_t) (semicolon + 1 - read.text);
            read.text = semicolon + 1;
        }
    }
    if (self->count == 0) {
        snprintf (err, err_size, "%s: no `0x<selector><TAB><signature>` line (%zu skipped)", name,
                  self->skipped);
        signatures_destroy (&self);
        return NULL;
    }
    self->index = (size_t *) malloc (self->count * sizeof (size_t));
    assert (self->index);
    for (size_t index = 0; index < self->count; index++)
        self->index [index] = index;
    s_sorting = self;
    qsort (self->index, self->count, sizeof (size_t), s_compare);
    s_sorting = NULL;
    return self;
}

signatures_t *
signatures_load (const char *path, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    zchunk_t *chunk = zchunk_read (file, 512 * 1024 * 1024);
    fclose (file);
    if (!chunk) {
        snprintf (err, err_size, "%s: cannot read", path);
        return NULL;
    }
    signatures_t *self = signatures_parse ((const char *) zchunk_data (chunk), zchunk_size (chunk),
                                           path, err, err_size);
    zchunk_destroy (&chunk);
    return self;
}

void
signatures_destroy (signatures_t **self_p)
{
    assert (self_p);
    signatures_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        abi_entry_destroy (&self->lines [index].entry);
    free (self->lines);
    free (self->index);
    free (self->text);
    free (self);
    *self_p = NULL;
}

size_t
signatures_find (signatures_t *self, const uint8_t *key, size_t key_len, const abi_entry_t **found,
                 size_t max)
{
    assert (self && key && (key_len == 4 || key_len == 32));
    uint32_t prefix = s_prefix (key);
    //  The first index position whose prefix is not below the key's.
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (s_prefix (self->lines [self->index [middle]].key) < prefix)
            low = middle + 1;
        else
            high = middle;
    }
    size_t total = 0;
    for (size_t pos = low; pos < self->count; pos++) {
        s_line_t *line = &self->lines [self->index [pos]];
        if (s_prefix (line->key) != prefix)
            break;
        if (line->key_len != key_len || memcmp (line->key, key, key_len) != 0)
            continue;
        const abi_entry_t *entry = s_entry (self, line);
        if (!entry)
            continue;
        if (total < max)
            found [total] = entry;
        total++;
    }
    return total;
}

size_t
signatures_size (signatures_t *self)
{
    assert (self);
    return self->count;
}

size_t
signatures_skipped (signatures_t *self)
{
    assert (self);
    return self->skipped;
}

void
signatures_test (bool verbose)
{
    (void) verbose;
    //  Two lines share 0xa9059cbb? No: a real collision is hard to type, so the test makes
    //  one by repeating a selector with a second, equally valid signature of another name
    //  (it is skipped: its hash differs) and checks order with a true pair from the data.
    const char *text = "# comment\n"
                       "0xa9059cbb\ttransfer(address,uint256)\n"
                       "0xa9059cbb\ttransfer(address to,uint256 amount)\n"
                       "0xa9059cbb\tnottransfer(address,uint256)\n"
                       "0x095ea7b3\tapprove(address,uint256)\r\n"
                       "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\t"
                       "Transfer(address indexed from,address indexed to,uint256 value);"
                       "Transfer(address indexed from,address indexed to,uint256 indexed tokenId);"
                       "Transfer(address sender,address receiver,uint256 amount);\n"
                       "garbage\n"
                       "0x12345678\tbroken(uint7)\n"
                       "0xa9059cbb\t\n";
    char err [256];
    signatures_t *signatures = signatures_parse (text, strlen (text), "test", err, sizeof (err));
    assert (signatures);
    //  Lines of a wrong shape are skipped at once; bad signatures when first looked up.
    assert (signatures_size (signatures) == 8 && signatures_skipped (signatures) == 2);
    const abi_entry_t *found [4];
    uint8_t transfer [4] = {0xa9, 0x05, 0x9c, 0xbb};
    assert (signatures_find (signatures, transfer, 4, found, 4) == 2);
    assert (streq (found [0]->signature, "transfer(address,uint256)"));
    assert (streq (found [1]->inputs->names [1], "amount"));
    assert (signatures_find (signatures, transfer, 4, found, 1) == 2);
    assert (signatures_skipped (signatures) == 3);
    uint8_t broken [4] = {0x12, 0x34, 0x56, 0x78};
    assert (signatures_find (signatures, broken, 4, found, 4) == 0);
    assert (signatures_skipped (signatures) == 4);
    uint8_t other [4] = {0xa9, 0x05, 0x9c, 0xbc};
    assert (signatures_find (signatures, other, 4, found, 4) == 0);
    uint8_t topic [32];
    assert (
        hex_decode ("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", topic, 32)
        == 32);
    //  One line, three `;`-separated alternatives, in their order.
    assert (signatures_find (signatures, topic, 32, found, 4) == 3);
    assert (found [0]->kind == ABI_EVENT && found [0]->inputs->indexed [1]);
    assert (!found [0]->inputs->indexed [2] && found [1]->inputs->indexed [2]);
    assert (streq (found [2]->inputs->names [0], "sender") && !found [2]->inputs->indexed [0]);
    //  The topic's first 4 bytes are no function selector.
    assert (signatures_find (signatures, topic, 4, found, 4) == 0);
    signatures_destroy (&signatures);
    signatures_destroy (&signatures);

    assert (!signatures_parse ("x\n", 2, "junk", err, sizeof (err)));
    assert (strstr (err, "junk: no"));
    assert (!signatures_load ("/nonexistent.tsv", err, sizeof (err)));

    //  The shared data: collisions come back in file order.
    char path [512];
    snprintf (path, sizeof (path), "%s/signatures/function_signatures.tsv", evmtap_shared_data ());
    if (zsys_file_exists (path)) {
        int64_t start = zclock_usecs ();
        signatures = signatures_load (path, err, sizeof (err));
        assert (signatures && signatures_size (signatures) > 19000);
        assert (signatures_skipped (signatures) == 0);
        if (verbose)
            printf ("%zu signatures (%zu skipped) in %" PRId64 " us\n",
                    signatures_size (signatures), signatures_skipped (signatures),
                    zclock_usecs () - start);
        assert (signatures_find (signatures, transfer, 4, found, 4) >= 1);
        signatures_destroy (&signatures);
    }
}
