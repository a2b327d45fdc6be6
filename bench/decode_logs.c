/*  decode_logs: event logs per second through the receipts path on one core, over the real
    mainnet receipts of the shared data (blocks/mainnet/receipts, every file): parse the
    eth_getBlockReceipts answer (cJSON) -> join it onto its block (receipt fields on each
    transaction, one internal record per log) -> the decoded log (ABIs bound by address,
    then the event signature file) and the token transfer, as JSON; and, in the same run, a
    bare cJSON parse of the same bytes, for the ratio.

    The blocks' transactions are not needed for the measure: each receipts file gets a
    body of empty transaction objects with the receipts' own hashes, by transactionIndex.

    Usage: evmtap_bench_decode_logs [--seconds N] [--abis DIR] [--signatures FILE]
    Defaults: 3 seconds per measurement; $EVMTAP_SHARED_DATA (or ../shared/data) for the
    receipts, ABIs (abis/) and signatures (signatures/event_signatures_with_parameter_names.tsv). */
#include "evmtap.h"
#include "call_decoder.h"
#include "log_record.h"
#include <glob.h>

typedef struct {
    char *text;
    size_t size;
    size_t log_count;
    block_header_t header;
    size_t tx_count;
    char (*hashes) [BLOCK_HASH_SIZE];
} s_receipts_t;

//  A body of empty transactions with the receipts' hashes, as the fetch worker would have.
static block_body_t *
s_body (const s_receipts_t *receipts)
{
    block_body_t *body = block_body_new (receipts->tx_count);
    for (size_t index = 0; index < receipts->tx_count; index++) {
        memcpy (body->txs [index].hash, receipts->hashes [index], BLOCK_HASH_SIZE);
        body->txs [index].json = strdup ("{}");
        body->txs [index].json_len = 2;
    }
    return body;
}

//  One pass over every file through the whole path; returns the logs seen.
static size_t
s_pipeline_pass (s_receipts_t *files, size_t count, call_decoder_t *decoder,
                 log_record_t *record, uint64_t *decoded, uint64_t *transfers,
                 size_t *out_bytes)
{
    size_t logs = 0;
    for (size_t index = 0; index < count; index++) {
        cJSON *root = cJSON_ParseWithLength (files [index].text, files [index].size);
        assert (root);
        block_body_t *body = s_body (&files [index]);
        char err [256];
        if (receipts_join_array (body, &files [index].header, 1,
                                 cJSON_GetObjectItem (root, "result"), err, sizeof (err))) {
            fprintf (stderr, "decode_logs: %s\n", err);
            exit (1);
        }
        cJSON_Delete (root);
        for (size_t log = 0; log < body->log_count; log++) {
            if (log_record_parse (record, body->logs [log].json, body->logs [log].json_len, err,
                                  sizeof (err))) {
                fprintf (stderr, "decode_logs: %s\n", err);
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
s_bare_pass (s_receipts_t *files, size_t count)
{
    size_t logs = 0;
    for (size_t index = 0; index < count; index++) {
        cJSON *root = cJSON_ParseWithLength (files [index].text, files [index].size);
        assert (root);
        cJSON_Delete (root);
        logs += files [index].log_count;
    }
    return logs;
}

//  Reads one receipts answer: its bytes, block, transaction hashes and log count.
static bool
s_load (const char *path, s_receipts_t *out)
{
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0
                          ? zfile_read (file, zfile_cursize (file), 0) : NULL;
    zfile_destroy (&file);
    if (!chunk)
        return false;
    cJSON *root = cJSON_ParseWithLength ((const char *) zchunk_data (chunk), zchunk_size (chunk));
    const cJSON *result = cJSON_GetObjectItem (root, "result");
    bool good = cJSON_IsArray (result) && cJSON_GetArraySize (result) > 0;
    if (good) {
        memset (out, 0, sizeof (*out));
        out->size = zchunk_size (chunk);
        out->text = (char *) malloc (out->size);
        assert (out->text);
        memcpy (out->text, zchunk_data (chunk), out->size);
        out->tx_count = (size_t) cJSON_GetArraySize (result);
        out->hashes = calloc (out->tx_count, BLOCK_HASH_SIZE);
        assert (out->hashes);
        const cJSON *first = cJSON_GetArrayItem (result, 0);
        hex_lower (cJSON_GetObjectItem (first, "blockHash")->valuestring, out->header.hash);
        hex_to_u64 (cJSON_GetObjectItem (first, "blockNumber")->valuestring, &out->header.number);
        const cJSON *receipt;
        cJSON_ArrayForEach (receipt, result) {
            uint64_t index = 0;
            hex_to_u64 (cJSON_GetObjectItem (receipt, "transactionIndex")->valuestring, &index);
            assert (index < out->tx_count);
            hex_lower (cJSON_GetObjectItem (receipt, "transactionHash")->valuestring,
                       out->hashes [index]);
            out->log_count += (size_t) cJSON_GetArraySize (cJSON_GetObjectItem (receipt, "logs"));
        }
    }
    cJSON_Delete (root);
    zchunk_destroy (&chunk);
    return good;
}

int
main (int argc, char **argv)
{
    double seconds = 3;
    const char *data = evmtap_shared_data ();
    char *abis = zsys_sprintf ("%s/abis", data);
    char *signatures =
        zsys_sprintf ("%s/signatures/event_signatures_with_parameter_names.tsv", data);
    char *pattern = zsys_sprintf ("%s/blocks/mainnet/receipts/*.json", data);
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--seconds") && index + 1 < argc)
            seconds = atof (argv [++index]);
        else
        if (streq (argv [index], "--abis") && index + 1 < argc) {
            zstr_free (&abis);
            abis = strdup (argv [++index]);
        }
        else
        if (streq (argv [index], "--signatures") && index + 1 < argc) {
            zstr_free (&signatures);
            signatures = strdup (argv [++index]);
        }
        else {
            fprintf (stderr, "usage: evmtap_bench_decode_logs [--seconds N] [--abis DIR] "
                             "[--signatures FILE]\n");
            return 2;
        }
    }
    glob_t found = {0};
    if (glob (pattern, 0, NULL, &found) != 0) {
        fprintf (stderr, "decode_logs: no receipts at %s\n", pattern);
        return 2;
    }
    s_receipts_t *files = (s_receipts_t *) calloc (found.gl_pathc, sizeof (s_receipts_t));
    assert (files);
    size_t count = 0, bytes = 0, total_logs = 0, total_txs = 0;
    for (size_t index = 0; index < found.gl_pathc; index++)
        if (s_load (found.gl_pathv [index], &files [count])) {
            bytes += files [count].size;
            total_logs += files [count].log_count;
            total_txs += files [count].tx_count;
            count++;
        }
    char err [512];
    call_decoder_t *decoder = call_decoder_new (abis, NULL, signatures, err, sizeof (err));
    if (!decoder || count == 0) {
        fprintf (stderr, "decode_logs: %s\n", decoder ? "no receipts" : err);
        return 2;
    }
    printf ("%zu receipts answers, %zu transactions, %zu logs, %.1f MB; ABIs %s, signatures %s\n",
            count, total_txs, total_logs, bytes / 1e6, abis, signatures);

    //  Pipeline and bare parse alternate, one pass each per round, after a warm-up of each.
    log_record_t *record = log_record_new ();
    uint64_t decoded = 0, transfers = 0;
    size_t out_bytes = 0;
    s_pipeline_pass (files, count, decoder, record, &decoded, &transfers, &out_bytes);
    s_bare_pass (files, count);
    decoded = transfers = 0;
    out_bytes = 0;
    size_t pipeline_logs = 0, bare_logs = 0;
    int64_t pipeline_usecs = 0, bare_usecs = 0;
    while (pipeline_usecs + bare_usecs < 2 * seconds * 1e6) {
        int64_t start = zclock_usecs ();
        pipeline_logs += s_pipeline_pass (files, count, decoder, record, &decoded, &transfers,
                                          &out_bytes);
        int64_t middle = zclock_usecs ();
        bare_logs += s_bare_pass (files, count);
        bare_usecs += zclock_usecs () - middle;
        pipeline_usecs += middle - start;
    }
    double pipeline_rate = pipeline_logs / (pipeline_usecs / 1e6);
    double bare_rate = bare_logs / (bare_usecs / 1e6);
    printf ("pipeline (parse, join, decode, transfers, JSON out): %.0f logs/s "
            "(%.1f%% of logs decoded, %.1f%% token transfers, %.0f bytes of JSON per log)\n",
            pipeline_rate, 100.0 * (double) decoded / (double) pipeline_logs,
            100.0 * (double) transfers / (double) pipeline_logs,
            (double) out_bytes / (double) pipeline_logs);
    printf ("bare cJSON parse of the same bytes:                 %.0f logs/s\n", bare_rate);
    printf ("ratio: %.2f\n", pipeline_rate / bare_rate);

    log_record_destroy (&record);
    call_decoder_destroy (&decoder);
    for (size_t index = 0; index < count; index++) {
        free (files [index].text);
        free (files [index].hashes);
    }
    free (files);
    globfree (&found);
    zstr_free (&abis);
    zstr_free (&signatures);
    zstr_free (&pattern);
    return 0;
}
