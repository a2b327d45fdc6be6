/*  key_lease: a holder's key set and the lease it holds (see key_lease.h). */
#include "evmtap.h"
#include "key_lease.h"

//  Milliseconds of a day, for the budgets that reset at 00:00 UTC.
#define S_DAY_MS 86400000
//  A lease stops being used this long before it runs out (renewals aside).
#define S_LEASE_MARGIN_MS 1000
//  The shortest lease asked for, whatever the request timeout.
#define S_LEASE_MIN_TTL_MS 15000
//  How long a key whose sliding daily budget is spent is parked before the pool looks.
#define S_BUDGET_PARK_MS 60000
//  How long a key is parked after a quota answer from a provider that does not say.
#define S_QUOTA_PARK_MS 3600000

struct _key_lease_t {
    char **names;                 //  the pseudo-names, as given: the pool's keys,
                                  //  NULL-terminated (a key is its name on every chain)
    char **journal_keys;          //  "<provider>/<name>" for each: what its calls went to
    size_t count;                 //  of names
    int64_t ttl_ms;               //  asked for at each lease and renewal
    const cost_table_t *costs;    //  borrowed; NULL: one unit a call, sliding 24 h
    uint64_t daily;               //  units per key and day, 0: no budget
    int64_t rotate_ms;            //  a key goes back after this long, 0: never
    uint64_t rotate_requests;     //  or after this many requests, 0: never
    bool holding;                 //  lease below is ours
    keypool_lease_t lease;        //  as the pool granted it
    size_t index;                 //  its key among the names (of the last lease)
    bool taken_once;              //  index means something
    int64_t deadline;             //  stop using the key after this unless renewed
    int64_t renew_due;            //  renew the lease from then on
    int64_t rotate_due;           //  INT64_MAX without rotation by time
    uint64_t requests;            //  spent under this lease
    uint64_t units;               //  the same in the provider's units
};

key_lease_t *
key_lease_new (const char *provider, const char *const *names, size_t count, int timeout_ms,
               const cost_table_t *costs)
{
    assert (provider && (names || count == 0));
    key_lease_t *self = (key_lease_t *) zmalloc (sizeof (key_lease_t));
    assert (self);
    self->names = (char **) calloc (count + 1, sizeof (char *));
    self->journal_keys = (char **) calloc (count + 1, sizeof (char *));
    assert (self->names && self->journal_keys);
    for (size_t index = 0; index < count; index++) {
        self->names [index] = strdup (names [index]);
        self->journal_keys [index] = zsys_sprintf ("%s/%s", provider, names [index]);
        assert (self->names [index] && self->journal_keys [index]);
    }
    self->count = count;
    //  Long enough for a request in flight and two missed renewals.
    self->ttl_ms = 2 * (int64_t) timeout_ms + 5000;
    if (self->ttl_ms < S_LEASE_MIN_TTL_MS)
        self->ttl_ms = S_LEASE_MIN_TTL_MS;
    self->costs = costs;
    return self;
}

void
key_lease_destroy (key_lease_t **self_p)
{
    assert (self_p);
    key_lease_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++) {
        free (self->names [index]);
        free (self->journal_keys [index]);
    }
    free (self->names);
    free (self->journal_keys);
    free (self);
    *self_p = NULL;
}

void
key_lease_set_budget (key_lease_t *self, uint64_t daily, int64_t rotate_ms,
                      uint64_t rotate_requests)
{
    assert (self);
    self->daily = daily;
    self->rotate_ms = rotate_ms;
    self->rotate_requests = rotate_requests;
}

const char **
key_lease_keys (key_lease_t *self)
{
    assert (self);
    return (const char **) self->names;
}

size_t
key_lease_count (key_lease_t *self)
{
    assert (self);
    return self->count;
}

int64_t
key_lease_ttl_ms (key_lease_t *self)
{
    assert (self);
    return self->ttl_ms;
}

uint64_t
key_lease_daily (key_lease_t *self)
{
    assert (self);
    return self->daily;
}

bool
key_lease_daily_utc (key_lease_t *self)
{
    assert (self);
    return self->costs && cost_table_daily_utc (self->costs);
}

uint64_t
key_lease_units (key_lease_t *self, const char *method)
{
    assert (self);
    return self->costs ? cost_table_units (self->costs, method) : 1;
}

int
key_lease_index (key_lease_t *self, const char *pool_key, size_t *index)
{
    assert (self && pool_key && index);
    for (size_t found = 0; found < self->count; found++)
        if (streq (self->names [found], pool_key)) {
            *index = found;
            return 0;
        }
    return -1;
}

int
key_lease_take (key_lease_t *self, const keypool_lease_t *lease, int64_t now, size_t *index)
{
    assert (self && lease && index);
    self->holding = false;
    if (key_lease_index (self, lease->key, index))
        return -1;
    self->lease = *lease;
    self->holding = true;
    self->index = *index;
    self->taken_once = true;
    key_lease_renewed (self, now);
    self->rotate_due = self->rotate_ms > 0 ? now + self->rotate_ms : INT64_MAX;
    self->requests = self->units = 0;
    return 0;
}

const keypool_lease_t *
key_lease_held (key_lease_t *self)
{
    assert (self);
    return self->holding ? &self->lease : NULL;
}

const char *
key_lease_name (key_lease_t *self)
{
    assert (self);
    return self->taken_once ? self->names [self->index] : NULL;
}

const char *
key_lease_journal_key (key_lease_t *self)
{
    assert (self);
    return self->holding ? self->journal_keys [self->index] : NULL;
}

void
key_lease_drop (key_lease_t *self)
{
    assert (self);
    self->holding = false;
}

bool
key_lease_renew_due (key_lease_t *self, int64_t now)
{
    assert (self);
    return now >= self->renew_due;
}

void
key_lease_renewed (key_lease_t *self, int64_t now)
{
    assert (self);
    self->deadline = now + self->ttl_ms - S_LEASE_MARGIN_MS;
    self->renew_due = now + self->ttl_ms / 3;
}

void
key_lease_renew_later (key_lease_t *self, int64_t now)
{
    assert (self);
    self->renew_due = now + 1000;
}

bool
key_lease_lasts (key_lease_t *self, int64_t now, int64_t needed_ms)
{
    assert (self);
    return self->deadline - now > needed_ms;
}

bool
key_lease_rotate_due (key_lease_t *self, int64_t now)
{
    assert (self);
    return now >= self->rotate_due
           || (self->rotate_requests && self->requests >= self->rotate_requests);
}

//  How long a key whose daily budget is spent stays parked: until the next 00:00 UTC when
//  the budgets reset then, else otherwise_ms (the provider does not say when).
static int64_t
s_park_ms (key_lease_t *self, int64_t otherwise_ms, int64_t now_utc_ms)
{
    return key_lease_daily_utc (self) ? (now_utc_ms / S_DAY_MS + 1) * S_DAY_MS - now_utc_ms
                                      : otherwise_ms;
}

int64_t
key_lease_budget_park_ms (key_lease_t *self, uint64_t units, int64_t now_utc_ms)
{
    assert (self);
    uint64_t spent = (key_lease_daily_utc (self) ? self->lease.units_today : self->lease.units_24h)
                     + self->units;
    if (!self->daily || spent + units <= self->daily)
        return 0;
    return s_park_ms (self, S_BUDGET_PARK_MS, now_utc_ms);
}

void
key_lease_spent (key_lease_t *self, uint64_t requests, uint64_t units)
{
    assert (self);
    self->requests += requests;
    self->units += units;
}

int64_t
key_lease_cool_ms (double backoff_seconds)
{
    if (!(backoff_seconds > 0))
        return -1;    //  none given (or not a number)
    int64_t cool = (int64_t) (backoff_seconds * 1000);
    return cool > 0 ? cool : 1;    //  0 would mean no cool down at all
}

int64_t
key_lease_quota_park_ms (key_lease_t *self, int64_t now_utc_ms)
{
    assert (self);
    return s_park_ms (self, S_QUOTA_PARK_MS, now_utc_ms);
}

//  --------------------------------------------------------------------------
//  Selftest

//  A lease of pool key `key` as the pool grants it, with that usage.
static keypool_lease_t
s_test_lease (const char *key, uint64_t units_24h, uint64_t units_today)
{
    keypool_lease_t lease;
    memset (&lease, 0, sizeof (lease));
    snprintf (lease.key, sizeof (lease.key), "%s", key);
    snprintf (lease.token, sizeof (lease.token), "test|1");
    lease.units_24h = units_24h;
    lease.units_today = units_today;
    return lease;
}

void
key_lease_test (bool verbose)
{
    if (verbose)
        printf ("\n");
    //  Pool keys by name, journal keys by provider, a lease of at least 15 s, and room for
    //  a slow request
    const char *names [3] = {"ka", "kb", "kc"};
    key_lease_t *keys = key_lease_new ("mainnet.infura.io", names, 3, 1000, NULL);
    assert (key_lease_count (keys) == 3);
    assert (streq (key_lease_keys (keys) [0], "ka"));
    assert (streq (key_lease_keys (keys) [2], "kc"));
    assert (key_lease_journal_key (keys) == NULL);
    assert (key_lease_keys (keys) [3] == NULL);
    assert (key_lease_ttl_ms (keys) == 15000);
    assert (key_lease_daily (keys) == 0 && !key_lease_daily_utc (keys));
    assert (key_lease_units (keys, "eth_getBlockReceipts") == 1);
    assert (key_lease_name (keys) == NULL && key_lease_held (keys) == NULL);
    key_lease_destroy (&keys);
    key_lease_destroy (&keys);
    keys = key_lease_new ("p", names, 3, 10000, NULL);
    assert (key_lease_ttl_ms (keys) == 25000);

    //  A lease of a key not given is refused, not read past the list
    size_t index = 99;
    assert (key_lease_index (keys, "kc", &index) == 0 && index == 2);
    assert (key_lease_index (keys, "kd", &index) == -1 && index == 2);
    assert (key_lease_index (keys, "k", &index) == -1);
    index = 99;
    keypool_lease_t lease = s_test_lease ("kd", 0, 0);
    assert (key_lease_take (keys, &lease, 1000, &index) == -1 && index == 99);
    lease = s_test_lease ("other/ka", 0, 0);
    assert (key_lease_take (keys, &lease, 1000, &index) == -1);
    assert (key_lease_held (keys) == NULL);

    //  Renewed at a third of its time to live, used until a second before it runs out
    lease = s_test_lease ("kb", 0, 0);
    assert (key_lease_take (keys, &lease, 1000, &index) == 0 && index == 1);
    assert (streq (key_lease_name (keys), "kb"));
    assert (streq (key_lease_held (keys)->token, "test|1"));
    assert (streq (key_lease_journal_key (keys), "p/kb"));
    assert (!key_lease_renew_due (keys, 1000 + 25000 / 3 - 1));
    assert (key_lease_renew_due (keys, 1000 + 25000 / 3));
    assert (key_lease_lasts (keys, 1000, 23999) && !key_lease_lasts (keys, 1000, 24000));
    key_lease_renew_later (keys, 9000);
    assert (!key_lease_renew_due (keys, 9999) && key_lease_renew_due (keys, 10000));
    assert (!key_lease_lasts (keys, 14000, 11000));
    key_lease_renewed (keys, 14000);
    assert (key_lease_lasts (keys, 14000, 11000));
    //  No rotation unless asked for
    assert (!key_lease_rotate_due (keys, INT64_MAX - 1));
    key_lease_drop (keys);
    assert (key_lease_held (keys) == NULL && key_lease_journal_key (keys) == NULL);
    assert (streq (key_lease_name (keys), "kb"));    //  still named in logs

    //  Rotation by time and by requests, counted from each lease
    key_lease_set_budget (keys, 0, 60000, 10);
    lease = s_test_lease ("ka", 0, 0);
    assert (key_lease_take (keys, &lease, 5000, &index) == 0 && index == 0);
    assert (!key_lease_rotate_due (keys, 64999) && key_lease_rotate_due (keys, 65000));
    key_lease_spent (keys, 9, 9);
    assert (!key_lease_rotate_due (keys, 5000));
    key_lease_spent (keys, 1, 1);
    assert (key_lease_rotate_due (keys, 5000));
    assert (key_lease_take (keys, &lease, 5000, &index) == 0);
    assert (!key_lease_rotate_due (keys, 5000));
    key_lease_destroy (&keys);

    //  A sliding daily budget: what the pool saw in 24 h and what was spent since; a
    //  key over it is parked for a minute
    char error [256];
    cost_table_t *alchemy = cost_table_new ("alchemy", error, sizeof (error));
    assert (alchemy);
    keys = key_lease_new ("p", names, 3, 10000, alchemy);
    key_lease_set_budget (keys, 1000, 0, 0);
    assert (!key_lease_daily_utc (keys) && key_lease_daily (keys) == 1000);
    assert (key_lease_units (keys, "eth_getBlockReceipts")
            == cost_table_units (alchemy, "eth_getBlockReceipts"));
    lease = s_test_lease ("kc", 900, 5);
    assert (key_lease_take (keys, &lease, 0, &index) == 0 && index == 2);
    int64_t now_utc = 1700000000000;    //  2023-11-14 22:13:20 UTC
    assert (key_lease_budget_park_ms (keys, 100, now_utc) == 0);
    key_lease_spent (keys, 1, 50);
    assert (key_lease_budget_park_ms (keys, 50, now_utc) == 0);
    assert (key_lease_budget_park_ms (keys, 51, now_utc) == 60000);
    assert (key_lease_quota_park_ms (keys, now_utc) == 3600000);
    key_lease_destroy (&keys);
    cost_table_destroy (&alchemy);

    //  Infura's budget resets at 00:00 UTC: units since then count, and a key over it
    //  (or refused by the provider's cap) is parked until midnight
    cost_table_t *infura = cost_table_new ("infura", error, sizeof (error));
    assert (infura);
    keys = key_lease_new ("p", names, 3, 10000, infura);
    key_lease_set_budget (keys, 1000, 0, 0);
    assert (key_lease_daily_utc (keys));
    lease = s_test_lease ("ka", 5000, 990);
    assert (key_lease_take (keys, &lease, 0, &index) == 0);
    assert (key_lease_budget_park_ms (keys, 10, now_utc) == 0);
    int64_t to_midnight = (int64_t) (1 * 3600 + 46 * 60 + 40) * 1000;
    assert (key_lease_budget_park_ms (keys, 11, now_utc) == to_midnight);
    assert (key_lease_quota_park_ms (keys, now_utc) == to_midnight);
    assert (key_lease_quota_park_ms (keys, 1699920000000) == 86400000);    //  at midnight
    key_lease_destroy (&keys);
    cost_table_destroy (&infura);

    //  The provider's hint, at least a millisecond; else the pool's exponential cool down
    assert (key_lease_cool_ms (0.1) == 100);
    assert (key_lease_cool_ms (0.0001) == 1);
    assert (key_lease_cool_ms (0) == -1);
}
