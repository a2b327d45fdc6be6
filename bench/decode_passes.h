/*  decode_passes: the capture path's passes over stored answers, shared by the benches
    that time it (decode_throughput) and that time something beside it (verify_throughput):
    a block through parse, normalize, classify and call decoding; a receipts answer through
    parse, join and log decoding; the bare parse of the same bytes. Static functions: each
    bench is one program of its own .c file. */
#ifndef DECODE_PASSES_H_INCLUDED
#define DECODE_PASSES_H_INCLUDED

#include "evmtap.h"
#include "call_decoder.h"
#include "log_record.h"
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

#endif
