/*  decode_throughput: transactions per second through the capture and decode path on one
    core, over the real mainnet blocks of the shared data: parse (cJSON) -> normalize ->
    classify -> decode every contract interaction (ABIs bound by address, then the 4-byte
    file) -> the decoded record's JSON; and, in the same run, a bare cJSON parse of the same
    bytes, so the ratio says what decoding costs next to reading the block at all.

    Usage: evmtap_bench_decode [--seconds N] [--abis DIR] [--signatures FILE] [BLOCK.json...]
    Defaults: 3 seconds per measurement; $EVMTAP_SHARED_DATA (or ../shared/data) for the
    blocks (blocks/mainnet/NUMBER.json), ABIs and signatures. */
#include "evmtap.h"
#include "actors.h"
#include "call_decoder.h"
#include <glob.h>

typedef struct {
    char *text;
    size_t size;
    size_t tx_count;
} s_block_t;

//  One pass over every block through the whole path; returns the transactions seen and
//  counts the decodings.
static size_t
s_pipeline_pass (s_block_t *blocks, size_t count, call_decoder_t *decoder, uint64_t *decoded,
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

static size_t
s_bare_pass (s_block_t *blocks, size_t count)
{
    size_t txs = 0;
    for (size_t index = 0; index < count; index++) {
        cJSON *root = cJSON_ParseWithLength (blocks [index].text, blocks [index].size);
        assert (root);
        cJSON_Delete (root);
        txs += blocks [index].tx_count;
    }
    return txs;
}

int
main (int argc, char **argv)
{
    double seconds = 3;
    const char *data = evmtap_shared_data ();
    char *abis = zsys_sprintf ("%s/abis", data);
    char *signatures = zsys_sprintf ("%s/signatures/function_signatures.tsv", data);
    char *pattern = zsys_sprintf ("%s/blocks/mainnet/*.json", data);
    glob_t found = {0};
    int first_file = argc;
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
        else
        if (argv [index][0] == '-') {
            fprintf (stderr, "usage: evmtap_bench_decode [--seconds N] [--abis DIR] "
                             "[--signatures FILE] [BLOCK.json...]\n");
            return 2;
        }
        else {
            first_file = index;
            break;
        }
    }
    size_t file_count;
    char **files;
    if (first_file < argc) {
        files = argv + first_file;
        file_count = (size_t) (argc - first_file);
    }
    else {
        if (glob (pattern, 0, NULL, &found) != 0) {
            fprintf (stderr, "decode_throughput: no blocks at %s\n", pattern);
            return 2;
        }
        files = found.gl_pathv;
        file_count = found.gl_pathc;
    }
    s_block_t *blocks = (s_block_t *) calloc (file_count, sizeof (s_block_t));
    size_t count = 0, bytes = 0, total_txs = 0;
    for (size_t index = 0; index < file_count; index++) {
        zfile_t *file = zfile_new (NULL, files [index]);
        zchunk_t *chunk = file && zfile_input (file) == 0
                              ? zfile_read (file, zfile_cursize (file), 0) : NULL;
        zfile_destroy (&file);
        if (!chunk)
            continue;
        cJSON *root = cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                             zchunk_size (chunk));
        cJSON *txs = cJSON_GetObjectItem (cJSON_GetObjectItem (root, "result"), "transactions");
        //  Only eth_getBlockByNumber answers with full transactions count.
        if (cJSON_IsArray (txs)) {
            blocks [count].size = zchunk_size (chunk);
            blocks [count].text = (char *) malloc (blocks [count].size);
            memcpy (blocks [count].text, zchunk_data (chunk), blocks [count].size);
            blocks [count].tx_count = (size_t) cJSON_GetArraySize (txs);
            bytes += blocks [count].size;
            total_txs += blocks [count].tx_count;
            count++;
        }
        cJSON_Delete (root);
        zchunk_destroy (&chunk);
    }
    char err [512];
    call_decoder_t *decoder = call_decoder_new (abis, NULL, signatures, err, sizeof (err));
    if (!decoder || count == 0) {
        fprintf (stderr, "decode_throughput: %s\n", decoder ? "no blocks" : err);
        return 2;
    }
    printf ("%zu blocks, %zu transactions, %.1f MB; ABIs %s, signatures %s\n", count, total_txs,
            bytes / 1e6, abis, signatures);

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

    call_decoder_destroy (&decoder);
    for (size_t index = 0; index < count; index++)
        free (blocks [index].text);
    free (blocks);
    globfree (&found);
    zstr_free (&abis);
    zstr_free (&signatures);
    zstr_free (&pattern);
    return 0;
}
