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
#include "actors.h"
#include "call_decoder.h"
#include "log_record.h"
#include <glob.h>

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

//  One pass over every block through the whole path; returns the transactions seen and
//  counts the decodings.
static size_t
s_pipeline_pass (s_file_t *blocks, size_t count, call_decoder_t *decoder, uint64_t *decoded,
                 uint64_t *interactions, size_t *out_bytes)
{
    size_t txs = 0;
    for (size_t index = 0; index < count; index++) {
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
                char *record = call_decoder_record (decoder, body->txs [tx].json,
                                                    body->txs [tx].json_len, &len, &decoding);
                assert (record);
                *out_bytes += len;
                *decoded += decoding == CALL_DECODED;
                (*interactions)++;
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

//  One pass over every receipts answer through the receipts path; returns the logs seen.
static size_t
s_logs_pass (s_file_t *files, size_t count, call_decoder_t *decoder, log_record_t *record,
             uint64_t *decoded, uint64_t *transfers, size_t *out_bytes)
{
    size_t logs = 0;
    for (size_t index = 0; index < count; index++) {
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
            char *json = log_record_decoded (record, decoder, &len, &decoding);
            *out_bytes += len;
            *decoded += decoding == CALL_DECODED;
            free (json);
            json = log_record_transfer (record, &len);
            if (json) {
                *out_bytes += len;
                (*transfers)++;
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

//  Reads a stored answer. A block counts only with full transactions; a receipts answer
//  (receipts true) keeps its block and its transactions' hashes.
static bool
s_load (const char *path, bool receipts, s_file_t *out)
{
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0
                          ? zfile_read (file, zfile_cursize (file), 0) : NULL;
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
        else
        if (target && index + 1 < argc) {
            zstr_free (target);
            *target = strdup (argv [++index]);
        }
        else
        if (argv [index][0] == '-') {
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
    call_decoder_t *decoder = call_decoder_new (abis, NULL, signatures, err, sizeof (err));
    if (decoder && call_decoder_add_signatures (decoder, events, err, sizeof (err)))
        call_decoder_destroy (&decoder);
    if (!decoder || count == 0) {
        fprintf (stderr, "decode_throughput: %s\n", decoder ? "no blocks" : err);
        return 2;
    }
    printf ("%zu blocks, %zu transactions, %.1f MB; ABIs %s, signatures %s, %s\n", count,
            total_txs, bytes / 1e6, abis, signatures, events);

    //  Pipeline and bare parse alternate, one pass each per round, so that a change in the
    //  machine's load weighs on both alike (after one warm-up pass of each).
    uint64_t decoded = 0, interactions = 0;
    size_t out_bytes = 0;
    s_pipeline_pass (blocks, count, decoder, &decoded, &interactions, &out_bytes);
    s_bare_pass (blocks, count);
    decoded = interactions = 0;
    out_bytes = 0;
    size_t pipeline_txs = 0, bare_txs = 0;
    int64_t pipeline_usecs = 0, bare_usecs = 0;
    while (pipeline_usecs + bare_usecs < 2 * seconds * 1e6) {
        int64_t start = zclock_usecs ();
        pipeline_txs += s_pipeline_pass (blocks, count, decoder, &decoded, &interactions,
                                         &out_bytes);
        int64_t middle = zclock_usecs ();
        bare_txs += s_bare_pass (blocks, count);
        bare_usecs += zclock_usecs () - middle;
        pipeline_usecs += middle - start;
    }
    double pipeline_rate = pipeline_txs / (pipeline_usecs / 1e6);
    double bare_rate = bare_txs / (bare_usecs / 1e6);

    printf ("pipeline (parse, normalize, classify, decode, JSON out): %.0f tx/s "
            "(%.1f%% of contract calls decoded, %.0f bytes of decoded JSON per call)\n",
            pipeline_rate, 100.0 * (double) decoded / (double) interactions,
            (double) out_bytes / (double) interactions);
    printf ("bare cJSON parse of the same bytes:                      %.0f tx/s\n", bare_rate);
    printf ("ratio: %.2f\n", pipeline_rate / bare_rate);

    //  The same for the receipts of the shared data, when given no blocks of one's own.
    size_t receipts_count = 0, receipts_bytes = 0, total_logs = 0;
    s_file_t *receipts = NULL;
    if (first_file == argc && glob (receipts_pattern, 0, NULL, &found_receipts) == 0)
        receipts = s_load_all (found_receipts.gl_pathv, found_receipts.gl_pathc, true,
                               &receipts_count, &receipts_bytes, &total_logs);
    if (receipts_count) {
        printf ("\n%zu receipts answers, %zu logs, %.1f MB\n", receipts_count, total_logs,
                receipts_bytes / 1e6);
        log_record_t *record = log_record_new ();
        uint64_t transfers = 0;
        s_logs_pass (receipts, receipts_count, decoder, record, &decoded, &transfers,
                     &out_bytes);
        s_bare_pass (receipts, receipts_count);
        decoded = transfers = 0;
        out_bytes = 0;
        size_t pipeline_logs = 0, bare_logs = 0;
        pipeline_usecs = bare_usecs = 0;
        while (pipeline_usecs + bare_usecs < 2 * seconds * 1e6) {
            int64_t start = zclock_usecs ();
            pipeline_logs += s_logs_pass (receipts, receipts_count, decoder, record, &decoded,
                                          &transfers, &out_bytes);
            int64_t middle = zclock_usecs ();
            bare_logs += s_bare_pass (receipts, receipts_count);
            bare_usecs += zclock_usecs () - middle;
            pipeline_usecs += middle - start;
        }
        pipeline_rate = pipeline_logs / (pipeline_usecs / 1e6);
        bare_rate = bare_logs / (bare_usecs / 1e6);
        printf ("receipts (parse, join, decode logs, transfers, JSON out): %.0f logs/s "
                "(%.1f%% of logs decoded, %.1f%% token transfers, %.0f bytes of JSON per log)\n",
                pipeline_rate, 100.0 * (double) decoded / (double) pipeline_logs,
                100.0 * (double) transfers / (double) pipeline_logs,
                (double) out_bytes / (double) pipeline_logs);
        printf ("bare cJSON parse of the same bytes:                      %.0f logs/s\n",
                bare_rate);
        printf ("ratio: %.2f\n", pipeline_rate / bare_rate);
        log_record_destroy (&record);
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
