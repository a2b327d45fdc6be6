/*  log_bloom: the memory of values seen is an open-addressed table keyed by the value's
    bytes (an FNV-1a hash of them: topics that are padded addresses share their first
    twelve bytes), emptied by a generation count rather than a memset. When it is half
    full, new values are hashed without being remembered. */
#include "evmtap.h"
#include "log_bloom.h"
#include "hexutil.h"
#include "keccak.h"
#include "chain_samples.h"

#define S_SLOTS 4096

typedef struct {
    uint32_t generation;    //  the table's generation when filled; another: empty
    uint8_t size;           //  20 (an address) or 32 (a topic)
    uint8_t value [32];     //  the value
    uint16_t bits [3];      //  the three bits it sets
} s_slot_t;

struct _log_bloom_t {
    s_slot_t *slots;        //  S_SLOTS of them
    uint32_t generation;    //  slots of this generation are filled
    size_t used;            //  slots filled in this generation
};

log_bloom_t *
log_bloom_new (void)
{
    log_bloom_t *self = (log_bloom_t *) zmalloc (sizeof (log_bloom_t));
    self->slots = (s_slot_t *) zmalloc (S_SLOTS * sizeof (s_slot_t));
    self->generation = 1;
    return self;
}

void
log_bloom_destroy (log_bloom_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->slots);
        free (*self_p);
        *self_p = NULL;
    }
}

void
log_bloom_reset (log_bloom_t *self)
{
    assert (self);
    if (++self->generation == 0) {
        //  After 2^32 resets the old generations would come back: empty for real.
        memset (self->slots, 0, S_SLOTS * sizeof (s_slot_t));
        self->generation = 1;
    }
    self->used = 0;
}

//  The three bits of a value: the low 11 bits of the first three byte pairs of its hash.
static void
s_bits (const uint8_t *value, size_t size, uint16_t bits [3])
{
    uint8_t hash [KECCAK256_SIZE];
    keccak256 (value, size, hash);
    for (size_t pair = 0; pair < 3; pair++)
        bits [pair] = (uint16_t) (((unsigned) hash [2 * pair] << 8 | hash [2 * pair + 1]) & 2047);
}

//  Sets the bits of one value, from memory when it was seen before.
static void
s_add (log_bloom_t *self, const uint8_t *value, size_t size, uint8_t bloom [LOG_BLOOM_SIZE])
{
    uint32_t hash = 2166136261u;
    for (size_t byte = 0; byte < size; byte++)
        hash = (hash ^ value [byte]) * 16777619u;
    uint16_t computed [3];
    const uint16_t *bits = NULL;
    for (size_t probe = 0; probe < S_SLOTS; probe++) {
        s_slot_t *slot = &self->slots [(hash + probe) % S_SLOTS];
        if (slot->generation != self->generation) {
            s_bits (value, size, computed);
            bits = computed;
            if (self->used < S_SLOTS / 2) {
                slot->generation = self->generation;
                slot->size = (uint8_t) size;
                memcpy (slot->value, value, size);
                memcpy (slot->bits, computed, sizeof (computed));
                self->used++;
            }
            break;
        }
        if (slot->size == size && memcmp (slot->value, value, size) == 0) {
            bits = slot->bits;
            break;
        }
    }
    assert (bits);
    for (size_t bit = 0; bit < 3; bit++)
        bloom [LOG_BLOOM_SIZE - 1 - bits [bit] / 8] |= (uint8_t) (1u << (bits [bit] % 8));
}

static const char *
s_string (const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, name);
    return cJSON_IsString (item) ? item->valuestring : "";
}

int
log_bloom_add_logs (log_bloom_t *self, const cJSON *receipt, uint8_t bloom [LOG_BLOOM_SIZE],
                    char *err, size_t err_size)
{
    assert (self);
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive (receipt, "logs");
    if (!cJSON_IsArray (logs)) {
        snprintf (err, err_size, "logs is %s", logs ? "not an array" : "missing");
        return -1;
    }
    size_t index = 0;
    const cJSON *log;
    cJSON_ArrayForEach (log, logs) {
        uint8_t bytes [32];
        if (hex_decode (s_string (log, "address"), bytes, sizeof (bytes)) != 20) {
            snprintf (err, err_size, "log %zu: address is not 20 bytes", index);
            return -1;
        }
        s_add (self, bytes, 20, bloom);
        const cJSON *topics = cJSON_GetObjectItemCaseSensitive (log, "topics");
        if (!cJSON_IsArray (topics)) {
            snprintf (err, err_size, "log %zu: topics is not an array", index);
            return -1;
        }
        const cJSON *topic;
        cJSON_ArrayForEach (topic, topics) {
            if (!cJSON_IsString (topic) || hex_decode (topic->valuestring, bytes, 32) != 32) {
                snprintf (err, err_size, "log %zu: a topic is not 32 bytes", index);
                return -1;
            }
            s_add (self, bytes, 32, bloom);
        }
        index++;
    }
    return 0;
}


//  --------------------------------------------------------------------------
//  Selftest

//  The bloom of every receipt of a stored answer equals its logsBloom, remembered or not
//  (a fresh memory per receipt is no memory at all).
static void
s_check_answer (log_bloom_t *self, const char *relative, bool fresh)
{
    cJSON *doc = chain_samples_load (relative);
    assert (doc);
    const cJSON *receipt;
    cJSON_ArrayForEach (receipt, chain_samples_result (doc)) {
        if (fresh)
            log_bloom_reset (self);
        uint8_t bloom [LOG_BLOOM_SIZE];
        memset (bloom, 0, sizeof (bloom));
        char err [128];
        assert (log_bloom_add_logs (self, receipt, bloom, err, sizeof (err)) == 0);
        char hex [2 * LOG_BLOOM_SIZE + 3];
        hex_encode (bloom, sizeof (bloom), hex);
        assert (streq (hex, s_string (receipt, "logsBloom")));
    }
    cJSON_Delete (doc);
}

void
log_bloom_test (bool verbose)
{
    (void) verbose;
    log_bloom_t *self = log_bloom_new ();
    //  Block 18000000's receipts with no memory, then again with it, then every stored
    //  answer without a reset between: the memory fills to half and goes on without
    //  remembering.
    s_check_answer (self, "mainnet/receipts/18000000.json", true);
    s_check_answer (self, "mainnet/receipts/18000000.json", false);
    zlist_t *names = chain_samples_list ("mainnet/receipts", true);
    assert (names);
    for (const char *name = (const char *) zlist_first (names); name;
         name = (const char *) zlist_next (names)) {
        char *relative = zsys_sprintf ("mainnet/receipts/%s", name);
        s_check_answer (self, relative, false);
        zstr_free (&relative);
    }
    zlist_destroy (&names);
    assert (self->used == S_SLOTS / 2);
    log_bloom_reset (self);
    assert (self->used == 0);
    s_check_answer (self, "mainnet/receipts/15000000.json", false);

    //  One log: its address and topic set at most six bits, and nothing else.
    cJSON *receipt = cJSON_Parse (
        "{\"logs\":[{\"address\":\"0xdac17f958d2ee523a2206206994597c13d831ec7\",\"topics\":["
        "\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\"]}]}");
    uint8_t bloom [LOG_BLOOM_SIZE], again [LOG_BLOOM_SIZE];
    memset (bloom, 0, sizeof (bloom));
    char err [128];
    assert (log_bloom_add_logs (self, receipt, bloom, err, sizeof (err)) == 0);
    size_t set = 0;
    for (size_t byte = 0; byte < sizeof (bloom); byte++)
        set += (size_t) __builtin_popcount (bloom [byte]);
    assert (set > 0 && set <= 6);
    memcpy (again, bloom, sizeof (bloom));
    assert (log_bloom_add_logs (self, receipt, again, err, sizeof (err)) == 0);
    assert (memcmp (again, bloom, sizeof (bloom)) == 0);
    cJSON_Delete (receipt);

    //  Refusals.
    receipt = cJSON_Parse ("{\"logs\":[{\"address\":\"0x12\",\"topics\":[]}]}");
    assert (log_bloom_add_logs (self, receipt, bloom, err, sizeof (err)) == -1);
    assert (streq (err, "log 0: address is not 20 bytes"));
    cJSON_Delete (receipt);
    receipt = cJSON_Parse ("{\"logs\":[{\"address\":\"0xdac17f958d2ee523a2206206994597c13d831ec7\","
                           "\"topics\":[\"0x01\"]}]}");
    assert (log_bloom_add_logs (self, receipt, bloom, err, sizeof (err)) == -1);
    assert (streq (err, "log 0: a topic is not 32 bytes"));
    cJSON_Delete (receipt);
    receipt = cJSON_Parse ("{}");
    assert (log_bloom_add_logs (self, receipt, bloom, err, sizeof (err)) == -1);
    assert (streq (err, "logs is missing"));
    cJSON_Delete (receipt);
    log_bloom_destroy (&self);
    log_bloom_destroy (&self);
}
