/*  block_window: a ring of the hashes of consecutive blocks (block_window.h). */
#include "evmtap.h"
#include "block_window.h"

//  A hash as the window holds it: "0x" and 64 hex digits, without the terminator.
#define S_HASH_LEN 66

struct _block_window_t {
    size_t capacity;
    char (*hashes) [S_HASH_LEN + 1];    //  ring of capacity hashes, by number % capacity
    size_t count;                       //  blocks held, ending at last
    uint64_t last;                      //  the highest number held, when count > 0
};

block_window_t *
block_window_new (size_t capacity)
{
    assert (capacity > 0);
    block_window_t *self = (block_window_t *) zmalloc (sizeof (block_window_t));
    assert (self);
    self->capacity = capacity;
    self->hashes = calloc (capacity, sizeof (*self->hashes));
    assert (self->hashes);
    return self;
}

void
block_window_destroy (block_window_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->hashes);
        free (*self_p);
        *self_p = NULL;
    }
}

void
block_window_push (block_window_t *self, uint64_t number, const char *hash)
{
    assert (self && hash);
    if (self->count && number <= self->last) {
        if (self->last - number >= self->count)
            self->count = 0;
        else
            self->count -= (size_t) (self->last - number) + 1;
    }
    else if (self->count && number != self->last + 1)
        self->count = 0;
    snprintf (self->hashes [number % self->capacity], S_HASH_LEN + 1, "%s", hash);
    self->last = number;
    if (self->count < self->capacity)
        self->count++;
}

void
block_window_truncate (block_window_t *self, uint64_t number)
{
    assert (self);
    if (!self->count || number >= self->last)
        return;
    uint64_t drop = self->last - number;
    self->count = drop >= self->count ? 0 : self->count - (size_t) drop;
    self->last = number;
}

void
block_window_clear (block_window_t *self)
{
    assert (self);
    self->count = 0;
}

void
block_window_copy (block_window_t *self, block_window_t *other)
{
    assert (self && other);
    block_window_clear (self);
    for (size_t index = 0; index < other->count; index++) {
        uint64_t number = other->last - (other->count - 1) + index;
        block_window_push (self, number, block_window_hash (other, number));
    }
}

size_t
block_window_count (block_window_t *self)
{
    assert (self);
    return self->count;
}

uint64_t
block_window_first (block_window_t *self)
{
    assert (self);
    return self->count ? self->last - (self->count - 1) : 0;
}

uint64_t
block_window_last (block_window_t *self)
{
    assert (self);
    return self->count ? self->last : 0;
}

const char *
block_window_hash (block_window_t *self, uint64_t number)
{
    assert (self);
    if (!self->count || number > self->last || self->last - number >= self->count)
        return NULL;
    return self->hashes [number % self->capacity];
}

unsigned char *
block_window_encode (block_window_t *self, size_t *size)
{
    assert (self && size);
    *size = 8 + self->count * S_HASH_LEN;
    unsigned char *data = (unsigned char *) malloc (*size);
    assert (data);
    uint64_t first = block_window_first (self);
    for (int index = 0; index < 8; index++)
        data [index] = (unsigned char) (first >> (56 - 8 * index));
    for (size_t index = 0; index < self->count; index++)
        memcpy (data + 8 + index * S_HASH_LEN, block_window_hash (self, first + index), S_HASH_LEN);
    return data;
}

int
block_window_decode (block_window_t *self, const unsigned char *data, size_t size)
{
    assert (self && data);
    block_window_clear (self);
    //  Stored bytes are outside input: another version or a damaged file.
    if (size < 8 || (size - 8) % S_HASH_LEN)
        return -1;
    uint64_t first = 0;
    for (int index = 0; index < 8; index++)
        first = (first << 8) | data [index];
    size_t count = (size - 8) / S_HASH_LEN;
    char hash [S_HASH_LEN + 1];
    for (size_t index = 0; index < count; index++) {
        memcpy (hash, data + 8 + index * S_HASH_LEN, S_HASH_LEN);
        hash [S_HASH_LEN] = 0;
        if (hash [0] != '0' || hash [1] != 'x' || strspn (hash + 2, "0123456789abcdef") != 64) {
            block_window_clear (self);
            return -1;
        }
        block_window_push (self, first + index, hash);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest

static void
s_test_hash (char *hash, uint64_t number, char variant)
{
    snprintf (hash, S_HASH_LEN + 1, "0x%c%063" PRIx64, variant, number);
}

void
block_window_test (bool verbose)
{
    (void) verbose;
    char hash [S_HASH_LEN + 1];
    block_window_t *window = block_window_new (4);
    assert (block_window_count (window) == 0 && !block_window_hash (window, 0));
    for (uint64_t number = 10; number < 16; number++) {
        s_test_hash (hash, number, 'a');
        block_window_push (window, number, hash);
    }
    //  The oldest dropped: 12..15 held.
    assert (block_window_count (window) == 4);
    assert (block_window_first (window) == 12 && block_window_last (window) == 15);
    assert (!block_window_hash (window, 11) && !block_window_hash (window, 16));
    s_test_hash (hash, 13, 'a');
    assert (streq (block_window_hash (window, 13), hash));
    //  A block at or below the last replaces it and drops those after it.
    s_test_hash (hash, 14, 'b');
    block_window_push (window, 14, hash);
    assert (block_window_count (window) == 3 && block_window_last (window) == 14);
    assert (streq (block_window_hash (window, 14), hash));
    assert (!block_window_hash (window, 15));
    //  Round trip through the stored form.
    size_t size;
    unsigned char *data = block_window_encode (window, &size);
    assert (size == 8 + 3 * S_HASH_LEN);
    block_window_t *copy = block_window_new (BLOCK_WINDOW_SIZE);
    assert (block_window_decode (copy, data, size) == 0);
    assert (block_window_first (copy) == 12 && block_window_last (copy) == 14);
    assert (streq (block_window_hash (copy, 14), hash));
    //  Damaged bytes: refused, the window left empty.
    data [8] = 'z';
    assert (block_window_decode (copy, data, size) == -1 && block_window_count (copy) == 0);
    assert (block_window_decode (copy, data, 7) == -1);
    free (data);
    //  Truncate, copy, and a gap restarts the window.
    block_window_copy (copy, window);
    assert (block_window_count (copy) == 3);
    block_window_truncate (copy, 12);
    assert (block_window_count (copy) == 1 && block_window_last (copy) == 12);
    block_window_truncate (copy, 5);
    assert (block_window_count (copy) == 0);
    s_test_hash (hash, 20, 'c');
    block_window_push (window, 20, hash);
    assert (block_window_count (window) == 1 && block_window_first (window) == 20);
    //  A push far below the window replaces all of it.
    s_test_hash (hash, 3, 'c');
    block_window_push (window, 3, hash);
    assert (block_window_count (window) == 1 && block_window_last (window) == 3);
    block_window_destroy (&copy);
    block_window_destroy (&window);
    block_window_destroy (&window);
    assert (!window);
}
