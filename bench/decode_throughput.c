/*  decode_throughput: on one core, over the real mainnet data of the shared data,
    * transactions per second through the capture and decode path: parse a block (cJSON)
      -> normalize -> classify -> decode every contract interaction (ABIs bound by address,
      then the 4-byte file) -> the decoded record's JSON;
    * event logs per second through the receipts path: parse an eth_getBlockReceipts answer
      -> join it onto its block (receipt fields on each transaction, one internal record per
      log) -> the decoded log (ABIs, then the event signature file) and the token transfer;
    each with, in the same run, a bare cJSON parse of the same bytes, so the ratio says what
    the work costs next to reading the answer at all. For the logs the blocks' transactions
    are not needed: each receipts answer gets a body of empty transactions with the
    receipts' own hashes, by transactionIndex.

    Usage: evmtap_bench_decode [--seconds N] [--abis DIR] [--signatures FILE]
                               [--event-signatures FILE] [BLOCK.json...]
    Defaults: 3 seconds per measurement; $EVMTAP_SHARED_DATA (or ../shared/data) for the
    blocks (blocks/mainnet/NUMBER.json), receipts (blocks/mainnet/receipts), ABIs and
    signatures (function_signatures.tsv, event_signatures_with_parameter_names.tsv). */
#include "evmtap.h"
#include "decode_passes.h"
#include "decoder.h"
#include <glob.h>

//  Runs pass and a bare parse of the same files alternately, one pass each per round, so
//  that a change in the machine's load weighs on both alike (after one warm-up pass of
//  each), for 2 * seconds in all. Returns the items per second through pass, the bare
//  parse's in *bare_rate, and what the measured passes added up in *tally.
static double
s_measure (s_pass_fn *pass, s_input_t *input, double seconds, s_tally_t *tally, size_t *items,
           double *bare_rate)
{
    pass (input, tally);
    s_bare_pass (input->files, input->count);
    memset (tally, 0, sizeof (*tally));
    size_t pass_items = 0, bare_items = 0;
    int64_t pass_usecs = 0, bare_usecs = 0;
    while (pass_usecs + bare_usecs < 2 * seconds * 1e6) {
        int64_t start = zclock_usecs ();
        pass_items += pass (input, tally);
        int64_t middle = zclock_usecs ();
        bare_items += s_bare_pass (input->files, input->count);
        bare_usecs += zclock_usecs () - middle;
        pass_usecs += middle - start;
    }
    *items = pass_items;
    *bare_rate = bare_items / (bare_usecs / 1e6);
    return pass_items / (pass_usecs / 1e6);
}

//  The lines after a pass's own: the bare parse's rate and the ratio.
static void
s_print_bare (double pass_rate, double bare_rate, const char *unit)
{
    printf ("bare cJSON parse of the same bytes:                      %.0f %s\n", bare_rate, unit);
    printf ("ratio: %.2f\n", pass_rate / bare_rate);
}

int
main (int argc, char **argv)
{
    double seconds = 3;
    const char *data = evmtap_shared_data ();
    char *abis = zsys_sprintf ("%s/abis", data);
    char *signatures = zsys_sprintf ("%s/signatures/function_signatures.tsv", data);
    char *events = zsys_sprintf ("%s/signatures/event_signatures_with_parameter_names.tsv", data);
    char *pattern = zsys_sprintf ("%s/blocks/mainnet/*.json", data);
    char *receipts_pattern = zsys_sprintf ("%s/blocks/mainnet/receipts/*.json", data);
    glob_t found = {0}, found_receipts = {0};
    int first_file = argc;
    for (int index = 1; index < argc; index++) {
        char **target = streq (argv [index], "--abis")               ? &abis
                        : streq (argv [index], "--signatures")       ? &signatures
                        : streq (argv [index], "--event-signatures") ? &events
                                                                     : NULL;
        if (streq (argv [index], "--seconds") && index + 1 < argc)
            seconds = atof (argv [++index]);
        else if (target && index + 1 < argc) {
            zstr_free (target);
            *target = strdup (argv [++index]);
        }
        else if (argv [index][0] == '-') {
            fprintf (stderr, "usage: evmtap_bench_decode [--seconds N] [--abis DIR] "
                             "[--signatures FILE] [--event-signatures FILE] [BLOCK.json...]\n");
            return 2;
        }
        else {
            first_file = index;
            break;
        }
    }
    char **paths = argv + first_file;
    size_t path_count = (size_t) (argc - first_file);
    if (first_file == argc) {
        if (glob (pattern, 0, NULL, &found) != 0) {
            fprintf (stderr, "decode_throughput: no blocks at %s\n", pattern);
            return 2;
        }
        paths = found.gl_pathv;
        path_count = found.gl_pathc;
    }
    size_t count, bytes, total_txs;
    s_file_t *blocks = s_load_all (paths, path_count, false, &count, &bytes, &total_txs);
    char err [512];
    call_decoder_t *decoder = decoder_sources_load (abis, signatures, events, NULL, err,
                                                    sizeof (err));
    if (!decoder || count == 0) {
        fprintf (stderr, "decode_throughput: %s\n", decoder ? "no blocks" : err);
        return 2;
    }
    printf ("%zu blocks, %zu transactions, %.1f MB; ABIs %s, signatures %s, %s\n", count, total_txs,
            bytes / 1e6, abis, signatures, events);

    s_input_t input = {blocks, count, decoder, NULL};
    s_tally_t tally;
    size_t items;
    double bare_rate;
    double rate = s_measure (s_pipeline_pass, &input, seconds, &tally, &items, &bare_rate);
    printf ("pipeline (parse, normalize, classify, decode, JSON out): %.0f tx/s "
            "(%.1f%% of contract calls decoded, %.0f bytes of decoded JSON per call)\n",
            rate, 100.0 * (double) tally.decoded / (double) tally.counted,
            (double) tally.out_bytes / (double) tally.counted);
    s_print_bare (rate, bare_rate, "tx/s");

    //  The same for the receipts of the shared data, when given no blocks of one's own.
    size_t receipts_count = 0, receipts_bytes = 0, total_logs = 0;
    s_file_t *receipts = NULL;
    if (first_file == argc && glob (receipts_pattern, 0, NULL, &found_receipts) == 0)
        receipts = s_load_all (found_receipts.gl_pathv, found_receipts.gl_pathc, true,
                               &receipts_count, &receipts_bytes, &total_logs);
    if (receipts_count) {
        printf ("\n%zu receipts answers, %zu logs, %.1f MB\n", receipts_count, total_logs,
                receipts_bytes / 1e6);
        input = (s_input_t) {receipts, receipts_count, decoder, log_record_new ()};
        rate = s_measure (s_logs_pass, &input, seconds, &tally, &items, &bare_rate);
        printf ("receipts (parse, join, decode logs, transfers, JSON out): %.0f logs/s "
                "(%.1f%% of logs decoded, %.1f%% token transfers, %.0f bytes of JSON per log)\n",
                rate, 100.0 * (double) tally.decoded / (double) items,
                100.0 * (double) tally.counted / (double) items,
                (double) tally.out_bytes / (double) items);
        s_print_bare (rate, bare_rate, "logs/s");
        log_record_destroy (&input.record);
    }

    call_decoder_destroy (&decoder);
    s_free_all (blocks, count);
    s_free_all (receipts, receipts_count);
    globfree (&found);
    globfree (&found_receipts);
    zstr_free (&abis);
    zstr_free (&signatures);
    zstr_free (&events);
    zstr_free (&pattern);
    zstr_free (&receipts_pattern);
    return 0;
}
