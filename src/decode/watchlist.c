/*  watchlist: the hash set of one address list and its file parser (watchlist.h). Linear
    probing over a power-of-two table kept at most half full, so a miss (nearly every lookup:
    lists are small beside the traffic) ends after one or two slots on average. A miss
    of a large list would still cost a cache miss in the table (40 MB for a million), so a
    filter of one 64-bit word per few addresses (2 bytes an address, small enough to stay
    in cache) answers most misses first: each address sets 4 bits of one word. The
    all-zero address marks an empty slot; whether the zero address itself is listed is
    kept apart. Addresses are Keccak outputs, so their first bytes hash well enough; the
    keys are the operator's own list, not chain data, so no seed is needed against
    crafted collisions among them. */
#include "evmtap.h"
#include "watchlist.h"
#include "hexutil.h"

#define S_ADDRESS_SIZE 20
//  A line quoted in an error is cut to this many bytes.
#define S_QUOTE_MAX 48

struct _watchlist_t {
    char *name;               //  the file's base name without extension
    uint8_t *slots;           //  capacity slots of 20 bytes, zero when empty
    size_t capacity;          //  a power of two, at least twice size
    unsigned shift;           //  64 - log2 (capacity): the hash's top bits pick the slot
    size_t size;              //  distinct addresses
    bool has_zero;            //  the zero address is listed (it cannot sit in a slot)
    uint64_t *filter;         //  filter_words words, a power of two: 4 bits per address
    unsigned filter_shift;    //  64 - log2 (filter_words)
    size_t filter_words;
};

static inline size_t
s_slot (const watchlist_t *self, const uint8_t *address)
{
    uint64_t head;
    memcpy (&head, address, sizeof (head));
    return (size_t) ((head * 0x9e3779b97f4a7c15ull) >> self->shift);
}

static inline bool
s_is_zero (const uint8_t *address)
{
    static const uint8_t zero [S_ADDRESS_SIZE];
    return memcmp (address, zero, S_ADDRESS_SIZE) == 0;
}

//  An address as three words (8, 8 and 4 bytes): compared without a call to memcmp, so
//  that the CPU overlaps the cache misses of consecutive lookups.
typedef struct {
    uint64_t head, middle;
    uint32_t tail;
} s_words_t;

static inline s_words_t
s_words (const uint8_t *address)
{
    s_words_t words;
    memcpy (&words.head, address, 8);
    memcpy (&words.middle, address + 8, 8);
    memcpy (&words.tail, address + 16, 4);
    return words;
}

//  The filter word of an address (by its middle bytes, apart from the slot's hash) and the
//  4 bits it sets in it.
static inline void
s_filter (const watchlist_t *self, const s_words_t *words, size_t *word, uint64_t *bits)
{
    uint64_t hash = words->middle * 0xc2b2ae3d27d4eb4full;
    *word = (size_t) (hash >> self->filter_shift);
    uint64_t more = (hash ^ words->tail) * 0x165667b19e3779f9ull;
    *bits = (1ull << (more & 63)) | (1ull << ((more >> 6) & 63)) | (1ull << ((more >> 12) & 63))
            | (1ull << ((more >> 18) & 63));
}

bool
watchlist_contains (const watchlist_t *self, const uint8_t address [20])
{
    assert (self && address);
    s_words_t wanted = s_words (address);
    if (!(wanted.head | wanted.middle | wanted.tail))
        return self->has_zero;
    size_t word;
    uint64_t bits;
    s_filter (self, &wanted, &word, &bits);
    if ((self->filter [word] & bits) != bits)
        return false;
    size_t mask = self->capacity - 1;
    for (size_t slot = (size_t) ((wanted.head * 0x9e3779b97f4a7c15ull) >> self->shift);;
         slot = (slot + 1) & mask) {
        s_words_t key = s_words (self->slots + slot * S_ADDRESS_SIZE);
        if (key.head == wanted.head && key.middle == wanted.middle && key.tail == wanted.tail)
            return true;
        if (!(key.head | key.middle | key.tail))
            return false;
    }
}

static void
s_insert (watchlist_t *self, const uint8_t *address)
{
    if (s_is_zero (address)) {
        self->size += !self->has_zero;
        self->has_zero = true;
        return;
    }
    size_t mask = self->capacity - 1;
    for (size_t slot = s_slot (self, address);; slot = (slot + 1) & mask) {
        uint8_t *key = self->slots + slot * S_ADDRESS_SIZE;
        if (memcmp (key, address, S_ADDRESS_SIZE) == 0)
            return;
        if (s_is_zero (key)) {
            memcpy (key, address, S_ADDRESS_SIZE);
            self->size++;
            s_words_t words = s_words (address);
            size_t word;
            uint64_t bits;
            s_filter (self, &words, &word, &bits);
            self->filter [word] |= bits;
            return;
        }
    }
}

//  The base name of path without its extension (a leading dot is part of the name).
static char *
s_list_name (const char *path)
{
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr (base, '.');
    size_t len = dot && dot != base ? (size_t) (dot - base) : strlen (base);
    char *name = (char *) malloc (len + 1);
    assert (name);
    memcpy (name, base, len);
    name [len] = 0;
    return name;
}

//  The address on one line (its comment cut and blanks trimmed): 1 with it in address,
//  0 when the line is blank, -1 when it is anything else.
static int
s_parse_line (const char *line, size_t len, uint8_t *address)
{
    const char *hash = (const char *) memchr (line, '#', len);
    if (hash)
        len = (size_t) (hash - line);
    while (len && (line [0] == ' ' || line [0] == '\t')) {
        line++;
        len--;
    }
    while (len && (line [len - 1] == ' ' || line [len - 1] == '\t' || line [len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    if (len != 2 + 2 * S_ADDRESS_SIZE || line [0] != '0' || (line [1] != 'x' && line [1] != 'X'))
        return -1;
    return hex_decode_len (line, len, address, S_ADDRESS_SIZE) == S_ADDRESS_SIZE ? 1 : -1;
}

//  "PATH:LINE: reason "quote"" in err, the line's bytes made printable.
static void
s_line_error (const char *path, size_t number, const char *line, size_t len, char *err,
              size_t err_size)
{
    char quote [S_QUOTE_MAX + 4];
    size_t used = 0;
    for (size_t index = 0; index < len && index < S_QUOTE_MAX; index++) {
        unsigned char byte = (unsigned char) line [index];
        quote [used++] = byte >= 0x20 && byte < 0x7f && byte != '"' ? (char) byte : '?';
    }
    if (len > S_QUOTE_MAX)
        for (int dots = 0; dots < 3; dots++)
            quote [used++] = '.';
    quote [used] = 0;
    snprintf (err, err_size, "%s:%zu: not an address (0x and 40 hex digits, # comments): \"%s\"",
              path, number, quote);
}

watchlist_t *
watchlist_parse (const char *path, const char *text, size_t len, char *err, size_t err_size)
{
    assert (path && (text || len == 0) && err);
    //  First pass: every line checked and counted, so the table is sized once.
    size_t count = 0, number = 0;
    uint8_t address [S_ADDRESS_SIZE];
    for (size_t start = 0; start < len;) {
        const char *end = (const char *) memchr (text + start, '\n', len - start);
        size_t line_len = end ? (size_t) (end - (text + start)) : len - start;
        number++;
        int rc = s_parse_line (text + start, line_len, address);
        if (rc < 0) {
            s_line_error (path, number, text + start, line_len, err, err_size);
            return NULL;
        }
        count += (size_t) rc;
        start += line_len + 1;
    }
    watchlist_t *self = (watchlist_t *) zmalloc (sizeof (watchlist_t));
    assert (self);
    self->name = s_list_name (path);
    self->capacity = 16;
    self->shift = 60;
    while (self->capacity < 2 * count) {
        self->capacity *= 2;
        self->shift--;
    }
    self->slots = (uint8_t *) calloc (self->capacity, S_ADDRESS_SIZE);
    assert (self->slots);
    //  16 bits an address: about a quarter of a word's bits set, 1 miss in 300 passes.
    self->filter_words = 16;
    self->filter_shift = 60;
    while (self->filter_words * 4 < count) {
        self->filter_words *= 2;
        self->filter_shift--;
    }
    self->filter = (uint64_t *) calloc (self->filter_words, sizeof (uint64_t));
    assert (self->filter);
    for (size_t start = 0; start < len;) {
        const char *end = (const char *) memchr (text + start, '\n', len - start);
        size_t line_len = end ? (size_t) (end - (text + start)) : len - start;
        if (s_parse_line (text + start, line_len, address) == 1)
            s_insert (self, address);
        start += line_len + 1;
    }
    return self;
}

watchlist_t *
watchlist_load (const char *path, char *err, size_t err_size)
{
    assert (path && err);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "watchlist %s: %s", path, strerror (errno));
        return NULL;
    }
    size_t size = 0, capacity = 1 << 16;
    char *text = (char *) malloc (capacity);
    assert (text);
    size_t got;
    while ((got = fread (text + size, 1, capacity - size, file)) > 0) {
        size += got;
        if (size == capacity) {
            capacity *= 2;
            text = (char *) realloc (text, capacity);
            assert (text);
        }
    }
    bool failed = ferror (file);
    int error = errno;
    fclose (file);
    watchlist_t *self = NULL;
    if (failed)
        snprintf (err, err_size, "watchlist %s: %s", path, strerror (error));
    else
        self = watchlist_parse (path, text, size, err, err_size);
    free (text);
    return self;
}

void
watchlist_destroy (watchlist_t **self_p)
{
    assert (self_p);
    watchlist_t *self = *self_p;
    if (!self)
        return;
    free (self->slots);
    free (self->filter);
    free (self->name);
    free (self);
    *self_p = NULL;
}

const char *
watchlist_name (const watchlist_t *self)
{
    assert (self);
    return self->name;
}

size_t
watchlist_size (const watchlist_t *self)
{
    assert (self);
    return self->size;
}

size_t
watchlist_memory (const watchlist_t *self)
{
    assert (self);
    return sizeof (*self) + self->capacity * S_ADDRESS_SIZE + self->filter_words * sizeof (uint64_t)
           + strlen (self->name) + 1;
}

//  Parses, lookups on and off the list (the zero address too), duplicates counted once,
//  a table that grows past its first size, and every kind of malformed line refused by
//  its line number.
void
watchlist_test (bool verbose)
{
    (void) verbose;
    char err [256];
    const char *text = "# OFAC, 2024-09-27\n"
                       "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\n"
                       "\n"
                       "  0X03893A7C7463AE47D46BC7F091665F1893656003   # upper case\r\n"
                       "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1\n"
                       "\t0x0000000000000000000000000000000000000000";
    watchlist_t *list = watchlist_parse ("/etc/lists/ofac.v2.txt", text, strlen (text), err,
                                         sizeof (err));
    assert (list);
    assert (streq (watchlist_name (list), "ofac.v2"));
    assert (watchlist_size (list) == 3);
    uint8_t address [20];
    assert (hex_decode ("0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1", address, 20) == 20);
    assert (watchlist_contains (list, address));
    assert (hex_decode ("0x03893a7c7463ae47d46bc7f091665f1893656003", address, 20) == 20);
    assert (watchlist_contains (list, address));
    address [19] ^= 1;
    assert (!watchlist_contains (list, address));
    memset (address, 0, 20);
    assert (watchlist_contains (list, address));
    assert (watchlist_memory (list) >= 16 * 20);
    watchlist_destroy (&list);
    watchlist_destroy (&list);

    //  Without the zero address it is not listed; an empty file is an empty list.
    list = watchlist_parse ("plain", "", 0, err, sizeof (err));
    assert (list && watchlist_size (list) == 0 && streq (watchlist_name (list), "plain"));
    assert (!watchlist_contains (list, address));
    watchlist_destroy (&list);

    //  Enough addresses to grow the table; all found, near misses not.
    char *many = (char *) malloc (1000 * 43 + 1);
    assert (many);
    for (int index = 0; index < 1000; index++)
        snprintf (many + index * 43, 44, "0x%08x%032x\n", index * 2654435761u, index);
    list = watchlist_parse ("many.txt", many, strlen (many), err, sizeof (err));
    assert (list && watchlist_size (list) == 1000);
    for (int index = 0; index < 1000; index++) {
        char hex [43];
        memcpy (hex, many + index * 43, 42);
        hex [42] = 0;
        assert (hex_decode (hex, address, 20) == 20);
        assert (watchlist_contains (list, address));
        address [10] ^= 0x80;
        assert (!watchlist_contains (list, address));
    }
    watchlist_destroy (&list);
    free (many);

    const char *bad [] = {
        "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\nTEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR\n",
        "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\n0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB\n",
        "# ok\n0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1 0x03893a7c7463ae47d46bc7f091665f1893656003",
        "\n01e2919679362dFBC9ee1644Ba9C6da6D6245BB1ab",
        "\n0x01e2919679362dFBC9ee1644Ba9C6da6D6245BBz"};
    for (size_t index = 0; index < sizeof (bad) / sizeof (bad [0]); index++) {
        assert (!watchlist_parse ("dir/list.txt", bad [index], strlen (bad [index]), err,
                                  sizeof (err)));
        assert (strstr (err, "dir/list.txt:2: not an address"));
    }
    assert (!watchlist_parse ("l", "\x01\"", 2, err, sizeof (err)));
    assert (strstr (err, "l:1: not an address") && strstr (err, "\"??\""));

    //  From a file; a missing one names its path.
    char dir [] = "/tmp/evmtap-watchlist-XXXXXX";
    assert (mkdtemp (dir));
    char *path = zsys_sprintf ("%s/usdt.txt", dir);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("0x175d44451403Edf28469dF03A9280c1197ADb92c\n", file);
    fclose (file);
    list = watchlist_load (path, err, sizeof (err));
    assert (list && watchlist_size (list) == 1 && streq (watchlist_name (list), "usdt"));
    watchlist_destroy (&list);
    unlink (path);
    assert (!watchlist_load (path, err, sizeof (err)));
    assert (strstr (err, path) && strstr (err, "No such file"));
    zstr_free (&path);
    rmdir (dir);
}
