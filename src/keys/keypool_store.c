/*  keypool_store: the key pool's state in Redis or in memory (see keypool_store.h). Both
    backends follow the same rules; the Redis one runs each rule as one Lua script, so that
    no two processes can interleave a choice and a claim. */
#include "evmtap.h"
#include "keypool_store.h"
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <time.h>
#include <fcntl.h>
#include "usage_journal.h"

#define S_WINDOW_MINUTES 1440
#define S_COOL_BASE_MS 1000
#define S_COOL_CAP_MS 60000
#define S_MAX_KEYS 256

//  A key of the memory backend.
typedef struct {
    char key [KEYPOOL_KEY_SIZE];
    char token [KEYPOOL_TOKEN_SIZE];    //  "" when free
    int64_t lease_until;                //  zclock_time ms
    int64_t cool_until;
    int64_t park_until;
    int strikes;
    char providers [KEYPOOL_KEY_SIZE];     //  hosts its calls went to, sorted, comma-separated
    uint64_t minute [S_WINDOW_MINUTES];    //  ring: which minute each slot holds
    uint64_t requests [S_WINDOW_MINUTES];
    uint64_t units [S_WINDOW_MINUTES];
} s_memkey_t;

struct _keypool_store_t {
    char *host;    //  NULL for memory
    int port;
    redisContext *redis;    //  @locality the store's owner; NULL when down
    int64_t retry_at;       //  zclock_mono time of the next connect attempt
    char shas [5][41];      //  loaded scripts
    char error [256];
    s_memkey_t *keys [S_MAX_KEYS];    //  memory backend
    size_t key_count;
    zhashx_t *journals;    //  memory backend: journal id -> last seq (as text)
};

//  --------------------------------------------------------------------------
//  Lua scripts (Redis backend). Pool keys come in ARGV: the scripts build the Redis key
//  names themselves, so they suit one Redis, not a cluster.

#define S_LUA_USAGE                                                                  \
    "local function usage(pk, now)\n"                                                \
    "  local h, z = 'evmtap:usage:'..pk, 'evmtap:minutes:'..pk\n"                    \
    "  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - 1440)\n"             \
    "  for _, m in ipairs(old) do\n"                                                 \
    "    local r = tonumber(redis.call('HGET', h, 'r:'..m) or '0')\n"                \
    "    local u = tonumber(redis.call('HGET', h, 'u:'..m) or '0')\n"                \
    "    redis.call('HINCRBY', h, 'sr', -r)\n"                                       \
    "    redis.call('HINCRBY', h, 'su', -u)\n"                                       \
    "    redis.call('HDEL', h, 'r:'..m, 'u:'..m)\n"                                  \
    "  end\n"                                                                        \
    "  if #old > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now - 1440) end\n" \
    "  return tonumber(redis.call('HGET', h, 'sr') or '0'),\n"                       \
    "         tonumber(redis.call('HGET', h, 'su') or '0')\n"                        \
    "end\n"

enum { S_ACQUIRE, S_RENEW, S_RELEASE, S_APPLY, S_LIST };

static const char *s_scripts [5] = {
    //  ACQUIRE token ttl now_ms daily utc day_start_minute ms_to_midnight pk...
    S_LUA_USAGE
    "local token, ttl, now_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local daily, utc = tonumber(ARGV[4]), ARGV[5] == '1'\n"
    "local day_start, to_midnight = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local now = math.floor(now_ms / 60000)\n"
    "local best, br, bu, bt\n"
    "local leased, cooling, parked, soonest = 0, 0, 0, -1\n"
    "local function wait(ms) if soonest < 0 or ms < soonest then soonest = ms end end\n"
    "for i = 8, #ARGV do\n"
    "  local pk = ARGV[i]\n"
    "  redis.call('SADD', 'evmtap:keys', pk)\n"
    "  local cool = redis.call('PTTL', 'evmtap:cool:'..pk)\n"
    "  local park = redis.call('PTTL', 'evmtap:park:'..pk)\n"
    "  if redis.call('EXISTS', 'evmtap:lease:'..pk) == 1 then leased = leased + 1\n"
    "  elseif park > 0 then parked = parked + 1; wait(park)\n"
    "  elseif cool > 0 then cooling = cooling + 1; wait(cool)\n"
    "  else\n"
    "    local r, u = usage(pk, now)\n"
    "    local today = 0\n"
    "    local h = 'evmtap:usage:'..pk\n"
    "    if utc then\n"
    "      for _, m in ipairs(redis.call('ZRANGEBYSCORE', 'evmtap:minutes:'..pk, day_start, '+inf')) do\n"
    "        today = today + tonumber(redis.call('HGET', h, 'u:'..m) or '0')\n"
    "      end\n"
    "    end\n"
    "    local spent = utc and today or u\n"
    "    if daily > 0 and spent >= daily then\n"
    "      local ms = to_midnight\n"
    "      if not utc then\n"
    "        local left = u\n"
    "        for _, m in ipairs(redis.call('ZRANGE', 'evmtap:minutes:'..pk, 0, -1)) do\n"
    "          left = left - tonumber(redis.call('HGET', h, 'u:'..m) or '0')\n"
    "          if left < daily then ms = (tonumber(m) + 1440) * 60000 - now_ms; break end\n"
    "        end\n"
    "      end\n"
    "      if ms < 1000 then ms = 1000 end\n"
    "      redis.call('SET', 'evmtap:park:'..pk, 'daily budget', 'PX', ms)\n"
    "      parked = parked + 1; wait(ms)\n"
    "    elseif best == nil or u < bu then best, br, bu, bt = pk, r, u, today end\n"
    "  end\n"
    "end\n"
    "if best then\n"
    "  redis.call('SET', 'evmtap:lease:'..best, token, 'PX', ttl)\n"
    "  return {1, best, br, bu, bt}\n"
    "end\n"
    "return {0, leased, cooling, parked, soonest}\n",
    //  RENEW pk token ttl
    "if redis.call('GET', 'evmtap:lease:'..ARGV[1]) == ARGV[2] then\n"
    "  redis.call('PEXPIRE', 'evmtap:lease:'..ARGV[1], ARGV[3]) return 1 end\n"
    "return 0\n",
    //  RELEASE pk token cool_ms park_ms base cap
    "local pk, cool, park = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "if redis.call('GET', 'evmtap:lease:'..pk) == ARGV[2] then\n"
    "  redis.call('DEL', 'evmtap:lease:'..pk) end\n"
    "local strikes = 'evmtap:strikes:'..pk\n"
    "if cool ~= 0 then\n"
    "  local s = redis.call('INCR', strikes)\n"
    "  redis.call('PEXPIRE', strikes, 600000)\n"
    "  if cool < 0 then cool = math.min(tonumber(ARGV[5]) * 2 ^ (s - 1), tonumber(ARGV[6])) end\n"
    "  cool = math.floor(cool)\n"
    "  redis.call('SET', 'evmtap:cool:'..pk, 'rate limited', 'PX', cool)\n"
    "elseif park == 0 then redis.call('DEL', strikes) end\n"
    "if park > 0 then redis.call('SET', 'evmtap:park:'..pk, 'quota', 'PX', park) end\n"
    "return cool\n",
    //  APPLY journal seq (pk provider minute requests units)...
    "local j = 'evmtap:journal:'..ARGV[1]\n"
    "local seq = tonumber(ARGV[2])\n"
    "if seq <= tonumber(redis.call('GET', j) or '0') then return 0 end\n"
    "for i = 3, #ARGV, 5 do\n"
    "  local pk, m = ARGV[i], ARGV[i + 2]\n"
    "  local h = 'evmtap:usage:'..pk\n"
    "  redis.call('HINCRBY', h, 'r:'..m, ARGV[i + 3])\n"
    "  redis.call('HINCRBY', h, 'u:'..m, ARGV[i + 4])\n"
    "  redis.call('HINCRBY', h, 'sr', ARGV[i + 3])\n"
    "  redis.call('HINCRBY', h, 'su', ARGV[i + 4])\n"
    "  redis.call('ZADD', 'evmtap:minutes:'..pk, m, m)\n"
    "  redis.call('SADD', 'evmtap:keys', pk)\n"
    "  if ARGV[i + 1] ~= '' then redis.call('SADD', 'evmtap:providers:'..pk, ARGV[i + 1]) end\n"
    "end\n"
    "redis.call('SET', j, seq)\n"
    "return 1\n",
    //  LIST now_ms: {pk, holder, cool, park, r, u, providers...}...; a pool key with a
    //  slash is of a version that named keys "<provider>/<name>": dropped from the list.
    S_LUA_USAGE
    "local now = math.floor(tonumber(ARGV[1]) / 60000)\n"
    "local out = {}\n"
    "for _, pk in ipairs(redis.call('SMEMBERS', 'evmtap:keys')) do\n"
    "  if string.find(pk, '/', 1, true) then redis.call('SREM', 'evmtap:keys', pk)\n"
    "  else\n"
    "    local r, u = usage(pk, now)\n"
    "    local providers = redis.call('SMEMBERS', 'evmtap:providers:'..pk)\n"
    "    table.sort(providers)\n"
    "    table.insert(out, {pk, redis.call('GET', 'evmtap:lease:'..pk) or '',\n"
    "      redis.call('PTTL', 'evmtap:cool:'..pk), redis.call('PTTL', 'evmtap:park:'..pk), r, u,\n"
    "      table.concat(providers, ',')})\n"
    "  end\n"
    "end\n"
    "return out\n",
};

//  --------------------------------------------------------------------------
//  Redis connection

static void
s_disconnect (keypool_store_t *self, const char *why)
{
    snprintf (self->error, sizeof (self->error), "redis %s:%d: %s", self->host, self->port, why);
    if (self->redis)
        zsys_warning ("keypool: %s", self->error);
    redisFree (self->redis);
    self->redis = NULL;
    self->retry_at = zclock_mono () + 1000;
}

static bool
s_connected (keypool_store_t *self)
{
    if (self->redis)
        return true;
    if (zclock_mono () < self->retry_at)
        return false;
    struct timeval timeout = {0, 500000};
    redisContext *redis = redisConnectWithTimeout (self->host, self->port, timeout);
    if (!redis || redis->err) {
        snprintf (self->error, sizeof (self->error), "redis %s:%d: %s", self->host, self->port,
                  redis ? redis->errstr : "cannot allocate a context");
        redisFree (redis);
        self->retry_at = zclock_mono () + 1000;
        return false;
    }
    struct timeval command_timeout = {1, 0};
    redisSetTimeout (redis, command_timeout);
    self->redis = redis;
    for (int index = 0; index < 5; index++) {
        redisReply *reply = (redisReply *) redisCommand (redis, "SCRIPT LOAD %s",
                                                         s_scripts [index]);
        if (!reply || reply->type != REDIS_REPLY_STRING || reply->len != 40) {
            s_disconnect (self, reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                : redis->errstr [0]                       ? redis->errstr
                                                                          : "SCRIPT LOAD failed");
            if (reply)
                freeReplyObject (reply);
            return false;
        }
        memcpy (self->shas [index], reply->str, 41);
        freeReplyObject (reply);
    }
    zsys_info ("keypool: connected to redis %s:%d", self->host, self->port);
    self->error [0] = 0;
    return true;
}

//  Runs a script with argc string arguments. Returns the reply (free it) or NULL when
//  Redis cannot be reached or answers an error (self->error says which).
static redisReply *
s_eval (keypool_store_t *self, int script, int argc, const char **argv)
{
    if (!s_connected (self))
        return NULL;
    const char **args = (const char **) calloc ((size_t) argc + 3, sizeof (char *));
    assert (args);
    args [0] = "EVALSHA";
    args [1] = self->shas [script];
    args [2] = "0";
    for (int index = 0; index < argc; index++)
        args [index + 3] = argv [index];
    redisReply *reply = NULL;
    for (int attempt = 0; attempt < 2 && !reply; attempt++) {
        reply = (redisReply *) redisCommandArgv (self->redis, argc + 3, args, NULL);
        if (!reply) {
            s_disconnect (self, self->redis->errstr);
            break;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            //  A restarted Redis forgot our scripts: load them again, once.
            bool noscript = strncmp (reply->str, "NOSCRIPT", 8) == 0;
            snprintf (self->error, sizeof (self->error), "redis: %s", reply->str);
            freeReplyObject (reply);
            reply = NULL;
            if (!noscript)
                break;
            s_disconnect (self, "scripts lost (restarted?)");
            self->retry_at = 0;
            if (!s_connected (self))
                break;
            args [1] = self->shas [script];
        }
    }
    free (args);
    return reply;
}

static int64_t
s_int (const redisReply *reply)
{
    if (reply->type == REDIS_REPLY_INTEGER)
        return reply->integer;
    if (reply->type == REDIS_REPLY_STRING)
        return strtoll (reply->str, NULL, 10);
    return 0;
}

//  --------------------------------------------------------------------------
//  Memory backend

//  Adds provider to a sorted, comma-separated list of hosts, once ("" adds nothing); a
//  list that is full keeps what it has.
static void
s_providers_add (char *list, size_t size, const char *provider)
{
    if (!*provider)
        return;
    zlistx_t *hosts = zlistx_new ();
    zlistx_set_destructor (hosts, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (hosts, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (hosts, (zlistx_comparator_fn *) strcmp);
    char *copy = strdup (list);
    assert (copy);
    for (char *save = NULL, *host = strtok_r (copy, ",", &save); host;
         host = strtok_r (NULL, ",", &save))
        zlistx_add_end (hosts, host);
    free (copy);
    if (!zlistx_find (hosts, (void *) provider)) {
        zlistx_add_end (hosts, (void *) provider);
        zlistx_sort (hosts);
        zchunk_t *joined = zchunk_new (NULL, 0);
        for (const char *host = (const char *) zlistx_first (hosts); host;
             host = (const char *) zlistx_next (hosts)) {
            if (zchunk_size (joined))
                zchunk_extend (joined, ",", 1);
            zchunk_extend (joined, host, strlen (host));
        }
        if (zchunk_size (joined) < size)
            snprintf (list, size, "%.*s", (int) zchunk_size (joined),
                      (const char *) zchunk_data (joined));
        zchunk_destroy (&joined);
    }
    zlistx_destroy (&hosts);
}

static s_memkey_t *
s_memkey (keypool_store_t *self, const char *key)
{
    for (size_t index = 0; index < self->key_count; index++)
        if (streq (self->keys [index]->key, key))
            return self->keys [index];
    if (self->key_count >= S_MAX_KEYS)
        return NULL;
    s_memkey_t *memkey = (s_memkey_t *) zmalloc (sizeof (s_memkey_t));
    assert (memkey);
    snprintf (memkey->key, sizeof (memkey->key), "%s", key);
    self->keys [self->key_count++] = memkey;
    return memkey;
}

//  Requests and units in the 24 h before now (wall ms), and units since from_minute.
static void
s_memkey_usage (s_memkey_t *memkey, int64_t now_ms, uint64_t from_minute, uint64_t *requests,
                uint64_t *units, uint64_t *units_since)
{
    uint64_t now = (uint64_t) now_ms / 60000;
    *requests = *units = *units_since = 0;
    for (int slot = 0; slot < S_WINDOW_MINUTES; slot++)
        if (memkey->minute [slot] + S_WINDOW_MINUTES > now && memkey->minute [slot] <= now
            && (memkey->requests [slot] || memkey->units [slot])) {
            *requests += memkey->requests [slot];
            *units += memkey->units [slot];
            if (memkey->minute [slot] >= from_minute)
                *units_since += memkey->units [slot];
        }
}

//  When a sliding 24 h over daily has room again: ms from now.
static int64_t
s_memkey_room_ms (s_memkey_t *memkey, int64_t now_ms, uint64_t daily)
{
    uint64_t now = (uint64_t) now_ms / 60000, requests, units, since;
    s_memkey_usage (memkey, now_ms, 0, &requests, &units, &since);
    for (uint64_t minute = now + 1 - S_WINDOW_MINUTES; minute <= now; minute++) {
        int slot = (int) (minute % S_WINDOW_MINUTES);
        if (memkey->minute [slot] == minute)
            units -= memkey->units [slot];
        if (units < daily)
            return (int64_t) (minute + S_WINDOW_MINUTES) * 60000 - now_ms;
    }
    return 60000;
}

static int
s_memory_acquire (keypool_store_t *self, const char **keys, size_t count, const char *token,
                  int64_t ttl_ms, uint64_t daily, bool daily_utc, uint64_t day_start,
                  int64_t to_midnight, keypool_lease_t *lease, keypool_busy_t *busy)
{
    int64_t now = zclock_time ();
    s_memkey_t *best = NULL;
    uint64_t best_requests = 0, best_units = 0, best_today = 0;
    for (size_t index = 0; index < count; index++) {
        s_memkey_t *memkey = s_memkey (self, keys [index]);
        if (!memkey)
            continue;
        int64_t wait = -1;
        if (*memkey->token && memkey->lease_until > now)
            busy->leased++;
        else if (memkey->park_until > now) {
            busy->parked++;
            wait = memkey->park_until - now;
        }
        else if (memkey->cool_until > now) {
            busy->cooling++;
            wait = memkey->cool_until - now;
        }
        else {
            uint64_t requests, units, today;
            s_memkey_usage (memkey, now, day_start, &requests, &units, &today);
            if (daily && (daily_utc ? today : units) >= daily) {
                int64_t park = daily_utc ? to_midnight : s_memkey_room_ms (memkey, now, daily);
                memkey->park_until = now + (park < 1000 ? 1000 : park);
                busy->parked++;
                wait = memkey->park_until - now;
            }
            else if (!best || units < best_units) {
                best = memkey;
                best_requests = requests;
                best_units = units;
                best_today = today;
            }
        }
        if (wait >= 0 && (busy->soonest_ms < 0 || wait < busy->soonest_ms))
            busy->soonest_ms = wait;
    }
    if (!best)
        return 1;
    snprintf (best->token, sizeof (best->token), "%s", token);
    best->lease_until = now + ttl_ms;
    snprintf (lease->key, sizeof (lease->key), "%s", best->key);
    lease->requests_24h = best_requests;
    lease->units_24h = best_units;
    lease->units_today = best_today;
    return 0;
}

//  --------------------------------------------------------------------------
//  Public API

keypool_store_t *
keypool_store_new (const char *redis_url, char *err, size_t err_size)
{
    keypool_store_t *self = (keypool_store_t *) zmalloc (sizeof (keypool_store_t));
    assert (self);
    self->journals = zhashx_new ();
    zhashx_set_destructor (self->journals, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_duplicator (self->journals, (zhashx_duplicator_fn *) strdup);
    if (!redis_url)
        return self;
    const char *rest = strncmp (redis_url, "redis://", 8) == 0 ? redis_url + 8 : NULL;
    const char *colon = rest ? strrchr (rest, ':') : NULL;
    size_t host_length = rest ? (colon ? (size_t) (colon - rest) : strlen (rest)) : 0;
    self->port = colon ? atoi (colon + 1) : 6379;
    if (!rest || host_length == 0 || host_length > 255 || self->port <= 0 || self->port > 65535
        || strchr (rest, '/') || strchr (rest, '@')) {
        snprintf (err, err_size, "\"%s\" is not a redis://HOST[:PORT] URL", redis_url);
        keypool_store_destroy (&self);
        return NULL;
    }
    self->host = strndup (rest, host_length);
    assert (self->host);
    return self;
}

void
keypool_store_destroy (keypool_store_t **self_p)
{
    assert (self_p);
    keypool_store_t *self = *self_p;
    if (!self)
        return;
    redisFree (self->redis);
    for (size_t index = 0; index < self->key_count; index++)
        free (self->keys [index]);
    zhashx_destroy (&self->journals);
    free (self->host);
    free (self);
    *self_p = NULL;
}

const char *
keypool_key_split (const char *pool_key, char *provider, size_t provider_size)
{
    const char *slash = strchr (pool_key, '/');
    snprintf (provider, provider_size, "%.*s", slash ? (int) (slash - pool_key) : 0, pool_key);
    return slash ? slash + 1 : pool_key;
}

bool
keypool_store_shared (keypool_store_t *self)
{
    return self->host != NULL;
}

const char *
keypool_store_error (keypool_store_t *self)
{
    return self->error;
}

int
keypool_store_acquire (keypool_store_t *self, const char **keys, size_t count, const char *holder,
                       int64_t ttl_ms, uint64_t daily, bool daily_utc, keypool_lease_t *lease,
                       keypool_busy_t *busy)
{
    memset (lease, 0, sizeof (*lease));
    memset (busy, 0, sizeof (*busy));
    busy->soonest_ms = -1;
    snprintf (lease->token, sizeof (lease->token), "%.120s|%08x%08x", holder,
              (unsigned) randof (0x7fffffff), (unsigned) randof (0x7fffffff));
    int64_t now = zclock_time ();
    uint64_t day_start = (uint64_t) (now / 86400000) * 1440;
    int64_t to_midnight = (now / 86400000 + 1) * 86400000 - now;
    if (!self->host)
        return s_memory_acquire (self, keys, count, lease->token, ttl_ms, daily, daily_utc,
                                 day_start, to_midnight, lease, busy);
    char numbers [6][32];
    snprintf (numbers [0], 32, "%" PRId64, ttl_ms);
    snprintf (numbers [1], 32, "%" PRId64, now);
    snprintf (numbers [2], 32, "%" PRIu64, daily);
    snprintf (numbers [3], 32, "%d", daily_utc ? 1 : 0);
    snprintf (numbers [4], 32, "%" PRIu64, day_start);
    snprintf (numbers [5], 32, "%" PRId64, to_midnight);
    const char **argv = (const char **) calloc (count + 7, sizeof (char *));
    assert (argv);
    argv [0] = lease->token;
    for (int index = 0; index < 6; index++)
        argv [index + 1] = numbers [index];
    for (size_t index = 0; index < count; index++)
        argv [index + 7] = keys [index];
    redisReply *reply = s_eval (self, S_ACQUIRE, (int) count + 7, argv);
    free (argv);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 5) {
        redisReply **element = reply->element;
        if (s_int (element [0]) == 1 && element [1]->type == REDIS_REPLY_STRING) {
            snprintf (lease->key, sizeof (lease->key), "%s", element [1]->str);
            lease->requests_24h = (uint64_t) s_int (element [2]);
            lease->units_24h = (uint64_t) s_int (element [3]);
            lease->units_today = (uint64_t) s_int (element [4]);
            rc = 0;
        }
        else {
            busy->leased = (int) s_int (element [1]);
            busy->cooling = (int) s_int (element [2]);
            busy->parked = (int) s_int (element [3]);
            busy->soonest_ms = s_int (element [4]);
            rc = 1;
        }
    }
    else
        snprintf (self->error, sizeof (self->error), "redis: unexpected answer to acquire");
    freeReplyObject (reply);
    return rc;
}

int
keypool_store_renew (keypool_store_t *self, const char *key, const char *token, int64_t ttl_ms)
{
    if (!self->host) {
        s_memkey_t *memkey = s_memkey (self, key);
        int64_t now = zclock_time ();
        if (!memkey || !streq (memkey->token, token) || memkey->lease_until <= now)
            return 1;
        memkey->lease_until = now + ttl_ms;
        return 0;
    }
    char ttl [32];
    snprintf (ttl, sizeof (ttl), "%" PRId64, ttl_ms);
    const char *argv [3] = {key, token, ttl};
    redisReply *reply = s_eval (self, S_RENEW, 3, argv);
    if (!reply)
        return -1;
    int rc = s_int (reply) == 1 ? 0 : 1;
    freeReplyObject (reply);
    return rc;
}

int64_t
keypool_store_release (keypool_store_t *self, const char *key, const char *token, int64_t cool_ms,
                       int64_t park_ms)
{
    if (!self->host) {
        s_memkey_t *memkey = s_memkey (self, key);
        if (!memkey)
            return 0;
        int64_t now = zclock_time ();
        if (streq (memkey->token, token))
            memkey->token [0] = 0;
        if (cool_ms != 0) {
            memkey->strikes++;
            if (cool_ms < 0) {
                cool_ms = S_COOL_BASE_MS << (memkey->strikes > 7 ? 6 : memkey->strikes - 1);
                cool_ms = cool_ms > S_COOL_CAP_MS ? S_COOL_CAP_MS : cool_ms;
            }
            memkey->cool_until = now + cool_ms;
        }
        else if (park_ms == 0)
            memkey->strikes = 0;
        if (park_ms > 0)
            memkey->park_until = now + park_ms;
        return cool_ms;
    }
    char numbers [4][32];
    snprintf (numbers [0], 32, "%" PRId64, cool_ms);
    snprintf (numbers [1], 32, "%" PRId64, park_ms);
    snprintf (numbers [2], 32, "%d", S_COOL_BASE_MS);
    snprintf (numbers [3], 32, "%d", S_COOL_CAP_MS);
    const char *argv [6] = {key, token, numbers [0], numbers [1], numbers [2], numbers [3]};
    redisReply *reply = s_eval (self, S_RELEASE, 6, argv);
    if (!reply)
        return -1;
    int64_t applied = s_int (reply);
    freeReplyObject (reply);
    return applied;
}

int
keypool_store_apply (keypool_store_t *self, const char *journal_id, const usage_entry_t *entry)
{
    //  One line per journal key ("<provider>/<name>"): the methods are summed, and the
    //  usage is the name's, whatever provider the calls went to.
    size_t keys = 0;
    const char **names = (const char **) calloc (entry->count + 1, sizeof (char *));
    char (*providers) [KEYPOOL_KEY_SIZE] = (char (*) [KEYPOOL_KEY_SIZE]) calloc (entry->count + 1,
                                                                                 KEYPOOL_KEY_SIZE);
    uint64_t *requests = (uint64_t *) calloc (entry->count + 1, sizeof (uint64_t));
    //  Units are deltas: a refund's entry lowers the minute its calls were journaled in.
    int64_t *units = (int64_t *) calloc (entry->count + 1, sizeof (int64_t));
    assert (names && providers && requests && units);
    for (size_t first = 0, end; first < entry->count; first = end, keys++) {
        end = usage_entry_key_end (entry, first);
        names [keys] = keypool_key_split (entry->lines [first].key, providers [keys],
                                          KEYPOOL_KEY_SIZE);
        for (size_t line = first; line < end; line++) {
            requests [keys] += entry->lines [line].requests;
            units [keys] += entry->lines [line].units;
        }
    }
    int rc = 0;
    if (!self->host) {
        const char *last = (const char *) zhashx_lookup (self->journals, journal_id);
        if (!last || strtoull (last, NULL, 10) < entry->seq) {
            for (size_t which = 0; which < keys; which++) {
                s_memkey_t *memkey = s_memkey (self, names [which]);
                if (!memkey)
                    continue;
                int slot = (int) (entry->minute % S_WINDOW_MINUTES);
                if (memkey->minute [slot] != entry->minute) {
                    memkey->minute [slot] = entry->minute;
                    memkey->requests [slot] = memkey->units [slot] = 0;
                }
                memkey->requests [slot] += requests [which];
                //  Never below zero: a refund follows its spend into the same minute.
                if (units [which] < 0 && memkey->units [slot] < (uint64_t) -units [which])
                    memkey->units [slot] = 0;
                else
                    memkey->units [slot] += (uint64_t) units [which];
                s_providers_add (memkey->providers, sizeof (memkey->providers), providers [which]);
            }
            char seq [32];
            snprintf (seq, sizeof (seq), "%" PRIu64, entry->seq);
            zhashx_update (self->journals, journal_id, seq);
        }
    }
    else {
        const char **argv = (const char **) calloc (keys * 5 + 2, sizeof (char *));
        char (*numbers) [32] = (char (*) [32]) calloc (keys * 3 + 1, 32);
        assert (argv && numbers);
        argv [0] = journal_id;
        snprintf (numbers [0], 32, "%" PRIu64, entry->seq);
        argv [1] = numbers [0];
        for (size_t which = 0; which < keys; which++) {
            snprintf (numbers [which * 3 + 1], 32, "%" PRIu64, entry->minute);
            snprintf (numbers [which * 3 + 2], 32, "%" PRIu64, requests [which]);
            snprintf (numbers [which * 3 + 3], 32, "%" PRId64, units [which]);
            argv [which * 5 + 2] = names [which];
            argv [which * 5 + 3] = providers [which];
            argv [which * 5 + 4] = numbers [which * 3 + 1];
            argv [which * 5 + 5] = numbers [which * 3 + 2];
            argv [which * 5 + 6] = numbers [which * 3 + 3];
        }
        redisReply *reply = s_eval (self, S_APPLY, (int) keys * 5 + 2, argv);
        rc = reply ? 0 : -1;
        if (reply)
            freeReplyObject (reply);
        free (argv);
        free (numbers);
    }
    free (names);
    free (providers);
    free (requests);
    free (units);
    return rc;
}

static int
s_state_compare (const void *one, const void *other)
{
    return strcmp (((const keypool_key_state_t *) one)->key,
                   ((const keypool_key_state_t *) other)->key);
}

//  The holder part of a token ("<holder>|<random>").
static void
s_holder_of (const char *token, char *holder, size_t size)
{
    const char *bar = strrchr (token, '|');
    snprintf (holder, size, "%.*s", bar ? (int) (bar - token) : (int) strlen (token), token);
}

static void
s_set_state (keypool_key_state_t *state, const char *token, int64_t cool_ms, int64_t park_ms)
{
    s_holder_of (token, state->holder, sizeof (state->holder));
    snprintf (state->state, sizeof (state->state), "%s",
              *token        ? "leased"
              : park_ms > 0 ? "parked"
              : cool_ms > 0 ? "cooling"
                            : "free");
    state->until_ms = *token ? 0 : park_ms > 0 ? park_ms : cool_ms > 0 ? cool_ms : 0;
}

int
keypool_store_list (keypool_store_t *self, keypool_key_state_t **states_p, size_t *count)
{
    *states_p = NULL;
    *count = 0;
    int64_t now = zclock_time ();
    if (!self->host) {
        keypool_key_state_t *states = (keypool_key_state_t *) calloc (self->key_count + 1,
                                                                      sizeof (*states));
        assert (states);
        for (size_t index = 0; index < self->key_count; index++) {
            s_memkey_t *memkey = self->keys [index];
            keypool_key_state_t *state = &states [index];
            snprintf (state->key, sizeof (state->key), "%s", memkey->key);
            snprintf (state->providers, sizeof (state->providers), "%s", memkey->providers);
            uint64_t since;
            s_memkey_usage (memkey, now, 0, &state->requests_24h, &state->units_24h, &since);
            bool leased = *memkey->token && memkey->lease_until > now;
            s_set_state (state, leased ? memkey->token : "", memkey->cool_until - now,
                         memkey->park_until - now);
        }
        *count = self->key_count;
        qsort (states, *count, sizeof (*states), s_state_compare);
        *states_p = states;
        return 0;
    }
    char now_text [32];
    snprintf (now_text, sizeof (now_text), "%" PRId64, now);
    const char *argv [1] = {now_text};
    redisReply *reply = s_eval (self, S_LIST, 1, argv);
    if (!reply)
        return -1;
    keypool_key_state_t *states = (keypool_key_state_t *) calloc (
        reply->type == REDIS_REPLY_ARRAY ? reply->elements + 1 : 1, sizeof (*states));
    assert (states);
    for (size_t index = 0; reply->type == REDIS_REPLY_ARRAY && index < reply->elements; index++) {
        redisReply *row = reply->element [index];
        if (row->type != REDIS_REPLY_ARRAY || row->elements != 7
            || row->element [0]->type != REDIS_REPLY_STRING
            || row->element [1]->type != REDIS_REPLY_STRING
            || row->element [6]->type != REDIS_REPLY_STRING)
            continue;
        keypool_key_state_t *state = &states [(*count)++];
        snprintf (state->key, sizeof (state->key), "%s", row->element [0]->str);
        snprintf (state->providers, sizeof (state->providers), "%s", row->element [6]->str);
        s_set_state (state, row->element [1]->str, s_int (row->element [2]),
                     s_int (row->element [3]));
        state->requests_24h = (uint64_t) s_int (row->element [4]);
        state->units_24h = (uint64_t) s_int (row->element [5]);
    }
    freeReplyObject (reply);
    qsort (states, *count, sizeof (*states), s_state_compare);
    *states_p = states;
    return 0;
}

//  --------------------------------------------------------------------------
//  Selftest: the same rules on both backends; Redis is a real redis-server started here on
//  a free loopback port (the Redis half is skipped when redis-server is not installed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

//  Starts redis-server on a free port; returns its pid (0 when it cannot) and the port.
int
keypool_store_test_redis (int *port_p)
{
    if (system ("command -v redis-server >/dev/null 2>&1") != 0)
        return 0;
    int port = *port_p;
    if (port <= 0) {
        //  The kernel's choice of a free port (CZMQ's '*' always tries 49152 first).
        int probe = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET,
                                      .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
        socklen_t length = sizeof (address);
        if (probe >= 0 && bind (probe, (struct sockaddr *) &address, sizeof (address)) == 0
            && getsockname (probe, (struct sockaddr *) &address, &length) == 0)
            port = ntohs (address.sin_port);
        if (probe >= 0)
            close (probe);
    }
    if (port <= 0)
        return 0;
    pid_t pid = fork ();
    if (pid == 0) {
        char port_text [16];
        snprintf (port_text, sizeof (port_text), "%d", port);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 1);
        dup2 (null, 2);
        execlp ("redis-server", "redis-server", "--port", port_text, "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", (char *) NULL);
        _exit (127);
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timeval timeout = {0, 200000};
        redisContext *redis = redisConnectWithTimeout ("127.0.0.1", port, timeout);
        bool up = redis && !redis->err;
        redisFree (redis);
        if (up) {
            *port_p = port;
            return pid;
        }
        zclock_sleep (50);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return 0;
}

static int
s_compare_int64 (const void *one, const void *other)
{
    int64_t a = *(const int64_t *) one, b = *(const int64_t *) other;
    return a < b ? -1 : a > b;
}

static void
s_test_rules (keypool_store_t *store, bool verbose)
{
    //  Keys by name; usage journaled per provider host and counted under the name
    const char *keys [3] = {"a", "b", "c"};
    keypool_lease_t lease, other, third;
    keypool_busy_t busy;
    //  Usage: b least used, then c, then a
    usage_entry_t entry = {.seq = 1, .minute = (uint64_t) zclock_time () / 60000};
    usage_line_t lines [4] = {
        {"p/a", "m", 25, 250}, {"p/b", "m", 10, 100}, {"p/c", "m", 20, 200}, {"q/a", "m", 5, 50}};
    entry.lines = lines;
    entry.count = 4;
    assert (keypool_store_apply (store, "j1", &entry) == 0);
    assert (keypool_store_apply (store, "j1", &entry) == 0);    //  again: counted once
    //  A refund's entry: no requests, units below zero, in the minute of its calls
    usage_line_t refund = {"p/b", "m", 0, -40};
    usage_entry_t refunds = {.seq = 2, .minute = entry.minute, .lines = &refund, .count = 1};
    assert (keypool_store_apply (store, "j1", &refunds) == 0);
    assert (keypool_store_apply (store, "j1", &refunds) == 0);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w0", 5000, 0, false, &lease, &busy) == 0);
    assert (streq (lease.key, "b") && lease.units_24h == 60 && lease.requests_24h == 10);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w1", 5000, 0, false, &other, &busy) == 0);
    assert (streq (other.key, "c"));
    assert (keypool_store_acquire (store, keys, 3, "h:1:w2", 5000, 0, false, &third, &busy) == 0);
    assert (streq (third.key, "a"));
    //  All leased: nobody gets one
    keypool_lease_t none;
    assert (keypool_store_acquire (store, keys, 3, "h:1:w3", 5000, 0, false, &none, &busy) == 1);
    assert (busy.leased == 3 && busy.soonest_ms == -1);
    //  Renew with the right token only; release with a wrong token changes nothing
    assert (keypool_store_renew (store, "b", lease.token, 5000) == 0);
    assert (keypool_store_renew (store, "b", other.token, 5000) == 1);
    assert (keypool_store_release (store, "b", other.token, 0, 0) == 0);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w3", 5000, 0, false, &none, &busy) == 1);
    //  A 429 without a hint: exponential cool down, 1 s then 2 s
    assert (keypool_store_release (store, "b", lease.token, -1, 0) == 1000);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w3", 5000, 0, false, &none, &busy) == 1);
    assert (busy.cooling == 1 && busy.soonest_ms > 900 && busy.soonest_ms <= 1000);
    //  A 402: parked
    assert (keypool_store_release (store, "c", other.token, 0, 3000) == 0);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w3", 5000, 0, false, &none, &busy) == 1);
    assert (busy.parked == 1 && busy.cooling == 1 && busy.leased == 1);
    keypool_key_state_t *states;
    size_t count;
    assert (keypool_store_list (store, &states, &count) == 0 && count == 3);
    assert (streq (states [0].key, "a") && streq (states [0].state, "leased")
            && streq (states [0].holder, "h:1:w2") && states [0].units_24h == 300
            && states [0].requests_24h == 30 && streq (states [0].providers, "p,q"));
    assert (states [1].units_24h == 60 && states [1].requests_24h == 10);
    assert (streq (states [1].providers, "p"));
    assert (streq (states [1].state, "cooling") && streq (states [2].state, "parked"));
    free (states);
    zclock_sleep (1100);
    assert (keypool_store_acquire (store, keys, 3, "h:1:w3", 5000, 0, false, &lease, &busy) == 0);
    assert (streq (lease.key, "b"));
    assert (keypool_store_release (store, "b", lease.token, -1, 0) == 2000);
    assert (keypool_store_release (store, "a", third.token, 0, 0) == 0);
    //  A daily budget spent: parked, with the sliding window saying when it has room
    assert (keypool_store_acquire (store, keys, 3, "h:1:w4", 5000, 250, false, &lease, &busy) == 1);
    assert (busy.parked == 2 && busy.cooling == 1);
    assert (busy.soonest_ms > 1000);
    char provider [KEYPOOL_KEY_SIZE];
    assert (streq (keypool_key_split ("infura/k1", provider, sizeof (provider)), "k1")
            && streq (provider, "infura"));
    assert (streq (keypool_key_split ("k1", provider, sizeof (provider)), "k1")
            && streq (provider, ""));
    //  A lease that is not renewed expires on its own, and its old token is then worthless
    const char *lone [1] = {"d"};
    assert (keypool_store_acquire (store, lone, 1, "h:1:w5", 200, 0, false, &lease, &busy) == 0);
    assert (keypool_store_acquire (store, lone, 1, "h:1:w6", 5000, 0, false, &other, &busy) == 1);
    assert (busy.leased == 1);
    zclock_sleep (300);
    assert (keypool_store_acquire (store, lone, 1, "h:1:w6", 5000, 0, false, &other, &busy) == 0);
    assert (streq (other.key, "d"));
    assert (keypool_store_renew (store, "d", lease.token, 5000) == 1);
    assert (keypool_store_release (store, "d", other.token, 0, 0) == 0);
    if (verbose)
        printf ("rules hold on the %s store\n", keypool_store_shared (store) ? "redis" : "memory");
}

void
keypool_store_test (bool verbose)
{
    //  A day's budget spent in the oldest minute of the window: room the moment that minute
    //  leaves it, when the usage count (s_memkey_usage) stops counting it.
    s_memkey_t *spent = (s_memkey_t *) zmalloc (sizeof (s_memkey_t));
    assert (spent);
    int64_t now_ms = 1795400000123;
    uint64_t oldest = (uint64_t) now_ms / 60000 + 1 - S_WINDOW_MINUTES;
    spent->minute [oldest % S_WINDOW_MINUTES] = oldest;
    spent->units [oldest % S_WINDOW_MINUTES] = 1000;
    assert (s_memkey_room_ms (spent, now_ms, 1000) == (now_ms / 60000 + 1) * 60000 - now_ms);
    free (spent);

    char err [256];
    assert (!keypool_store_new ("127.0.0.1:6379", err, sizeof (err)));
    assert (!keypool_store_new ("redis://", err, sizeof (err)));
    assert (!keypool_store_new ("redis://user@host:1/0", err, sizeof (err)));
    keypool_store_t *memory = keypool_store_new (NULL, err, sizeof (err));
    assert (memory && !keypool_store_shared (memory));
    s_test_rules (memory, verbose);
    keypool_store_destroy (&memory);

    //  Nobody listens: -1 at once, and again without waiting for a second attempt
    keypool_store_t *down = keypool_store_new ("redis://127.0.0.1:1", err, sizeof (err));
    assert (down);
    const char *keys [1] = {"p/a"};
    keypool_lease_t lease;
    keypool_busy_t busy;
    assert (keypool_store_acquire (down, keys, 1, "h", 1000, 0, false, &lease, &busy) == -1);
    assert (*keypool_store_error (down));
    assert (keypool_store_renew (down, "p/a", "t", 1000) == -1);
    keypool_store_destroy (&down);

    int port = 0;
    pid_t pid = (pid_t) keypool_store_test_redis (&port);
    if (!pid) {
        if (verbose)
            printf ("redis-server not available: the redis half is skipped\n");
        return;
    }
    char url [64];
    snprintf (url, sizeof (url), "redis://127.0.0.1:%d", port);
    keypool_store_t *redis = keypool_store_new (url, err, sizeof (err));
    assert (redis && keypool_store_shared (redis));
    s_test_rules (redis, verbose);
    //  Two stores (two processes) never get the same key
    keypool_store_t *second = keypool_store_new (url, err, sizeof (err));
    const char *pair [2] = {"q/x", "q/y"};
    keypool_lease_t one, two, three;
    assert (keypool_store_acquire (redis, pair, 2, "A", 5000, 0, false, &one, &busy) == 0);
    assert (keypool_store_acquire (second, pair, 2, "B", 5000, 0, false, &two, &busy) == 0);
    assert (!streq (one.key, two.key));
    assert (keypool_store_acquire (second, pair, 2, "B", 5000, 0, false, &three, &busy) == 1);
    keypool_store_destroy (&second);
    //  bench/keypool.sh: lease latency against this loopback Redis
    if (getenv ("EVMTAP_BENCH")) {
        const char *six [6] = {"b/1", "b/2", "b/3", "b/4", "b/5", "b/6"};
        int rounds = 2000;
        int64_t *acquire = (int64_t *) calloc ((size_t) rounds, sizeof (int64_t));
        int64_t *renew = (int64_t *) calloc ((size_t) rounds, sizeof (int64_t));
        assert (acquire && renew);
        for (int round = 0; round < rounds; round++) {
            int64_t started = zclock_usecs ();
            assert (keypool_store_acquire (redis, six, 6, "bench", 5000, 0, false, &one, &busy)
                    == 0);
            acquire [round] = zclock_usecs () - started;
            started = zclock_usecs ();
            assert (keypool_store_renew (redis, one.key, one.token, 5000) == 0);
            renew [round] = zclock_usecs () - started;
            keypool_store_release (redis, one.key, one.token, 0, 0);
        }
        int (*compare) (const void *, const void *) = s_compare_int64;
        qsort (acquire, (size_t) rounds, sizeof (int64_t), compare);
        qsort (renew, (size_t) rounds, sizeof (int64_t), compare);
        printf ("\nlease acquire (6 keys): p50 %" PRId64 " us, p99 %" PRId64 " us; "
                "renew: p50 %" PRId64 " us, p99 %" PRId64 " us (%d rounds)\n",
                acquire [rounds / 2], acquire [rounds * 99 / 100], renew [rounds / 2],
                renew [rounds * 99 / 100], rounds);
        free (acquire);
        free (renew);
    }
    keypool_store_destroy (&redis);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}
