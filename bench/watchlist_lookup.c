/*  watchlist_lookup: on one core, lookups per second in a watchlist of N addresses (default
    1,000,000: the scale), with a probe set of mostly misses and some hits (as
    chain traffic against a sanctions list), beside, in the same run, a binary search of
    the same addresses sorted: the ratio says what the hash set buys. Also the time to
    parse the list's file text, the bytes the set takes (watchlist_memory) and the
    process's resident memory before and after the load.

    Usage: evmtap_bench_watchlist [--addresses N] [--lookups M] [--hit-percent P]
    Defaults: 1000000 addresses, 20000000 lookups, 1 % hits. Addresses are from a fixed
    xorshift sequence, so two runs look up the same keys. */
#include "evmtap.h"
#include "watchlist.h"

static uint64_t s_state = 0x9e3779b97f4a7c15ull;

static uint64_t
s_next (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return s_state;
}

static void
s_address (uint8_t *address)
{
    uint64_t words [3] = {s_next (), s_next (), s_next ()};
    memcpy (address, words, 20);
}

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

//  The process's resident set in kB (VmRSS), or 0 when /proc does not say.
static long
s_rss_kb (void)
{
    FILE *file = fopen ("/proc/self/status", "r");
    char line [256];
    long kb = 0;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = strtol (line + 6, NULL, 10);
    if (file)
        fclose (file);
    return kb;
}

static int
s_compare (const void *a, const void *b)
{
    return memcmp (a, b, 20);
}

int
main (int argc, char **argv)
{
    size_t count = 1000000, lookups = 20000000, hit_percent = 1;
    for (int index = 1; index + 1 < argc; index += 2) {
        if (streq (argv [index], "--addresses"))
            count = strtoul (argv [index + 1], NULL, 10);
        else if (streq (argv [index], "--lookups"))
            lookups = strtoul (argv [index + 1], NULL, 10);
        else if (streq (argv [index], "--hit-percent"))
            hit_percent = strtoul (argv [index + 1], NULL, 10);
        else {
            fprintf (stderr, "usage: evmtap_bench_watchlist [--addresses N] [--lookups M] "
                             "[--hit-percent P]\n");
            return 2;
        }
    }
    if (count == 0 || lookups == 0 || hit_percent > 100) {
        fprintf (stderr, "evmtap_bench_watchlist: N and M must be > 0, P at most 100\n");
        return 2;
    }
    //  The list as its file would hold it: 43 bytes a line.
    uint8_t *listed = (uint8_t *) malloc (count * 20);
    char *text = (char *) malloc (count * 43 + 1);
    assert (listed && text);
    for (size_t index = 0; index < count; index++) {
        s_address (listed + index * 20);
        char *line = text + index * 43;
        line [0] = '0';
        line [1] = 'x';
        for (size_t byte = 0; byte < 20; byte++)
            snprintf (line + 2 + 2 * byte, 3, "%02x", listed [index * 20 + byte]);
        line [42] = '\n';
    }
    //  The probes: hit_percent of them listed, the rest fresh addresses.
    size_t probe_count = 1 << 20;
    uint8_t *probes = (uint8_t *) malloc (probe_count * 20);
    assert (probes);
    for (size_t index = 0; index < probe_count; index++)
        if (s_next () % 100 < hit_percent)
            memcpy (probes + index * 20, listed + (s_next () % count) * 20, 20);
        else
            s_address (probes + index * 20);

    long rss_before = s_rss_kb ();
    char err [256];
    double started = s_now ();
    watchlist_t *list = watchlist_parse ("bench.txt", text, count * 43, err, sizeof err);
    double parse_seconds = s_now () - started;
    if (!list) {
        fprintf (stderr, "evmtap_bench_watchlist: %s\n", err);
        return 1;
    }
    long rss_after = s_rss_kb ();
    free (text);

    size_t hits = 0;
    started = s_now ();
    for (size_t index = 0; index < lookups; index++)
        hits += watchlist_contains (list, probes + (index & (probe_count - 1)) * 20);
    double hash_seconds = s_now () - started;

    qsort (listed, count, 20, s_compare);
    size_t sorted_hits = 0;
    started = s_now ();
    for (size_t index = 0; index < lookups; index++)
        sorted_hits += bsearch (probes + (index & (probe_count - 1)) * 20, listed, count, 20,
                                s_compare)
                       != NULL;
    double sorted_seconds = s_now () - started;
    if (hits != sorted_hits) {
        fprintf (stderr, "evmtap_bench_watchlist: %zu hits, binary search %zu\n", hits,
                 sorted_hits);
        return 1;
    }
    double hash_rate = (double) lookups / hash_seconds;
    double sorted_rate = (double) lookups / sorted_seconds;
    printf ("addresses          %zu (%zu distinct)\n", count, watchlist_size (list));
    printf ("parse              %.3f s (%.1f M lines/s)\n", parse_seconds,
            (double) count / parse_seconds / 1e6);
    printf ("set memory         %.1f MiB (%.1f bytes/address); resident +%.1f MiB\n",
            (double) watchlist_memory (list) / 1048576.0,
            (double) watchlist_memory (list) / (double) count,
            (double) (rss_after - rss_before) / 1024.0);
    printf ("lookups            %zu, %zu %% hits (%zu)\n", lookups, hit_percent, hits);
    printf ("hash set           %.1f M lookups/s\n", hash_rate / 1e6);
    printf ("binary search      %.1f M lookups/s\n", sorted_rate / 1e6);
    printf ("hash / binary      %.2f\n", hash_rate / sorted_rate);
    watchlist_destroy (&list);
    free (listed);
    free (probes);
    return 0;
}
