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
#include "call_decoder.h"
#include "decoder.h"
#include "log_record.h"
#include <glob.h>
#include "block.h"
#include "classifier.h"
#include "hexutil.h"
#include "normalize.h"
#include "receipts.h"

//  A stored answer: a block (items: transactions) or a receipts answer (items: logs, and
//  the block and transaction hashes its body needs).
typedef struct {
    char *text;
    size_t size;
    size_t items;
    block_header_t header;
    size_t tx_count;
    char (*hashes) [BLOCK_HASH_SIZE];
} s_file_t;

//  What a measured pass reads: the stored answers and the decoding state.
typedef struct {
    s_file_t *files;
    size_t count;
    call_decoder_t *decoder;
    log_record_t *record;    //  the receipts path's scratch (NULL for blocks)
} s_input_t;

//  What a measured pass adds up.
typedef struct {
    uint64_t decoded;    //  records that decoded
    uint64_t counted;    //  contract calls (blocks), token transfers (receipts)
    size_t out_bytes;    //  JSON written
} s_tally_t;

//  A pass over every file of input; returns the items seen (transactions or logs).
typedef size_t (s_pass_fn) (s_input_t *input, s_tally_t *tally);

//  One pass over every block through the whole path; returns the transactions seen and
//  counts the decodings and the contract calls.
static size_t
s_pipeline_pass (s_input_t *input, s_tally_t *tally)
{
    s_file_t *blocks = input->files;
    size_t txs = 0;
    for (size_t index = 0; index < input->count; index++) {
        cJSON *root = cJSON_ParseWithLength (blocks [index].text, blocks [index].size);
        assert (root);
        cJSON *result = cJSON_GetObjectItem (root, "result");
        block_header_t header;
        block_body_t *body = NULL;
        char err [256];
        if (normalize_block (result, 1, &header, &body, err, sizeof (err)) != 0) {
            fprintf (stderr, "decode_throughput: %s\n", err);
            exit (1);
        }
        cJSON_Delete (root);
        for (size_t tx = 0; tx < body->tx_count; tx++) {
            const char *topic = classifier_topic (&body->txs [tx]);
            if (strcmp (topic, "mined.tx.3.contract_interaction") == 0) {
                size_t len;
                call_decoding_t decoding;
                char *record = call_decoder_record (input->decoder, body->txs [tx].json,
                                                    body->txs [tx].json_len, &len, &decoding);
                assert (record);
                tally->out_bytes += len;
                tally->decoded += decoding == CALL_DECODED;
                tally->counted++;
                free (record);
            }
        }
        txs += body->tx_count;
        block_body_destroy (&body);
    }
    return txs;
}

//  A body of empty transactions with the receipts' hashes, as the fetch worker would have.
static block_body_t *
s_receipts_body (const s_file_t *receipts)
{
    block_body_t *body = block_body_new (receipts->tx_count);
    for (size_t index = 0; index < receipts->tx_count; index++) {
        memcpy (body->txs [index].hash, receipts->hashes [index], BLOCK_HASH_SIZE);
        body->txs [index].json = strdup ("{}");
        body->txs [index].json_len = 2;
    }
    return body;
}

//  One pass over every receipts answer through the receipts path; returns the logs seen
//  and counts the decodings and the token transfers.
static size_t
s_logs_pass (s_input_t *input, s_tally_t *tally)
{
    s_file_t *files = input->files;
    log_record_t *record = input->record;
    size_t logs = 0;
    for (size_t index = 0; index < input->count; index++) {
        cJSON *root = cJSON_ParseWithLength (files [index].text, files [index].size);
        assert (root);
        block_body_t *body = s_receipts_body (&files [index]);
        char err [256];
        if (receipts_join_array (body, &files [index].header, 1,
                                 cJSON_GetObjectItem (root, "result"), err, sizeof (err))) {
            fprintf (stderr, "decode_throughput: %s\n", err);
            exit (1);
        }
        cJSON_Delete (root);
        for (size_t log = 0; log < body->log_count; log++) {
            if (log_record_parse (record, body->logs [log].json, body->logs [log].json_len, err,
                                  sizeof (err))) {
                fprintf (stderr, "decode_throughput: %s\n", err);
                exit (1);
            }
            size_t len;
            call_decoding_t decoding;
            char *json = log_record_decoded (record, input->decoder, &len, &decoding);
            tally->out_bytes += len;
            tally->decoded += decoding == CALL_DECODED;
            free (json);
            json = log_record_transfer (record, &len);
            if (json) {
                tally->out_bytes += len;
                tally->counted++;
                free (json);
            }
        }
        logs += body->log_count;
        block_body_destroy (&body);
    }
    return logs;
}

static size_t
s_bare_pass (s_file_t *files, size_t count)
{
    size_t items = 0;
    for (size_t index = 0; index < count; index++) {
        cJSON *root = cJSON_ParseWithLength (files [index].text, files [index].size);
        assert (root);
        cJSON_Delete (root);
        items += files [index].items;
    }
    return items;
}

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

//  Reads a stored answer. A block counts only with full transactions; a receipts answer
//  (receipts true) keeps its block and its transactions' hashes.
static bool
s_load (const char *path, bool receipts, s_file_t *out)
{
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0 ? zfile_read (file, zfile_cursize (file), 0)
                                                      : NULL;
    zfile_destroy (&file);
    if (!chunk)
        return false;
    cJSON *root = cJSON_ParseWithLength ((const char *) zchunk_data (chunk), zchunk_size (chunk));
    const cJSON *result = cJSON_GetObjectItem (root, "result");
    const cJSON *list = receipts ? result : cJSON_GetObjectItem (result, "transactions");
    bool good = cJSON_IsArray (list) && (!receipts || cJSON_GetArraySize (list) > 0);
    if (good) {
        memset (out, 0, sizeof (*out));
        out->size = zchunk_size (chunk);
        out->text = (char *) malloc (out->size);
        assert (out->text);
        memcpy (out->text, zchunk_data (chunk), out->size);
        out->tx_count = (size_t) cJSON_GetArraySize (list);
        out->items = receipts ? 0 : out->tx_count;
    }
    if (good && receipts) {
        out->hashes = calloc (out->tx_count, BLOCK_HASH_SIZE);
        assert (out->hashes);
        const cJSON *first = cJSON_GetArrayItem (list, 0);
        hex_lower (cJSON_GetObjectItem (first, "blockHash")->valuestring, out->header.hash);
        hex_to_u64 (cJSON_GetObjectItem (first, "blockNumber")->valuestring, &out->header.number);
        const cJSON *receipt;
        cJSON_ArrayForEach (receipt, list) {
            uint64_t index = 0;
            hex_to_u64 (cJSON_GetObjectItem (receipt, "transactionIndex")->valuestring, &index);
            assert (index < out->tx_count);
            hex_lower (cJSON_GetObjectItem (receipt, "transactionHash")->valuestring,
                       out->hashes [index]);
            out->items += (size_t) cJSON_GetArraySize (cJSON_GetObjectItem (receipt, "logs"));
        }
    }
    cJSON_Delete (root);
    zchunk_destroy (&chunk);
    return good;
}

//  Loads the files of a pattern (or the given paths).
static s_file_t *
s_load_all (char **paths, size_t path_count, bool receipts, size_t *count, size_t *bytes,
            size_t *items)
{
    s_file_t *files = (s_file_t *) calloc (path_count + 1, sizeof (s_file_t));
    assert (files);
    *count = *bytes = *items = 0;
    for (size_t index = 0; index < path_count; index++)
        if (s_load (paths [index], receipts, &files [*count])) {
            *bytes += files [*count].size;
            *items += files [*count].items;
            (*count)++;
        }
    return files;
}

static void
s_free_all (s_file_t *files, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        free (files [index].text);
        free (files [index].hashes);
    }
    free (files);
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
