/*  verify_throughput: what proving blocks costs next to the capture path, on one core.

    The block: 250 real mainnet transactions with 250 real receipts, made into one block
    that proves: the transactions and receipts of blocks 17000000 and 18000000 (196, with
    their own receipts) and the first 54 of 17000001 with the receipts of the first 54 of
    17500000's answer (tied to them by transactionHash and transactionIndex), under the
    header of 18000000 (its withdrawals too), whose roots, bloom and hash are then set to
    what the contents give (by asking the verifier which field differs and taking its
    computed value, until none does). Also, every stored mainnet block without receipts.

    Measured alternately, pass by pass, after a warm-up: the capture path of decode_passes.h
    on the block and its receipts (parse, normalize, classify, decode calls; parse, join,
    decode logs, transfers), and the verifier on the same block already parsed (the fetch
    worker verifies the cJSON it has parsed anyway), header level and full; printed in
    blocks/s and tx/s, with the ratio verify time / pipeline time: what proving adds.

    Usage: evmtap_bench_verify [--seconds N]     (default 3 per measurement; the shared data
    comes from $EVMTAP_SHARED_DATA, ABIs and signatures as evmtap_bench_decode takes them) */
#include "evmtap.h"
#include "decode_passes.h"
#include "decoder.h"
#include "block_verify.h"
#include "chain_samples.h"

#define S_TXS 250

//  Appends count items of from (from first) to list, copied.
static void
s_take (cJSON *list, const cJSON *from, int first, int count)
{
    for (int index = first; index < first + count; index++)
        cJSON_AddItemToArray (list, cJSON_Duplicate (cJSON_GetArrayItem (from, index), true));
}

static cJSON *
s_result (const char *relative, cJSON **doc)
{
    *doc = chain_samples_load (relative);
    cJSON *result = chain_samples_result (*doc);
    if (!result) {
        fprintf (stderr, "verify_throughput: no %s in the shared data\n", relative);
        exit (2);
    }
    return result;
}

static void
s_set_string (cJSON *object, const char *name, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive (object, name);
    cJSON_AddStringToObject (object, name, value);
}

//  The 250-transaction block and its receipts (yours), proven by the verifier.
static void
s_make_block (block_verifier_t *verifier, cJSON **block_out, cJSON **receipts_out)
{
    cJSON *docs [5];
    cJSON *block = cJSON_Duplicate (s_result ("mainnet/18000000.json", &docs [0]), true);
    const cJSON *txs_a = cJSON_GetObjectItem (s_result ("mainnet/17000000.json", &docs [1]),
                                              "transactions");
    const cJSON *txs_b = cJSON_GetObjectItem (block, "transactions");
    const cJSON *txs_c = cJSON_GetObjectItem (s_result ("mainnet/17000001.json", &docs [2]),
                                              "transactions");
    const cJSON *receipts_a = s_result ("mainnet/receipts/17000000.json", &docs [3]);
    const cJSON *receipts_b = s_result ("mainnet/receipts/18000000.json", &docs [4]);
    cJSON *extra_doc = NULL;
    const cJSON *receipts_c = s_result ("mainnet/receipts/17500000.json", &extra_doc);
    int count_a = cJSON_GetArraySize (txs_a), count_b = cJSON_GetArraySize (txs_b);
    int count_c = S_TXS - count_a - count_b;
    assert (count_c > 0 && count_c <= cJSON_GetArraySize (txs_c)
            && count_c <= cJSON_GetArraySize (receipts_c));
    cJSON *txs = cJSON_CreateArray (), *receipts = cJSON_CreateArray ();
    s_take (txs, txs_a, 0, count_a);
    s_take (txs, txs_b, 0, count_b);
    s_take (txs, txs_c, 0, count_c);
    s_take (receipts, receipts_a, 0, count_a);
    s_take (receipts, receipts_b, 0, count_b);
    s_take (receipts, receipts_c, 0, count_c);
    cJSON_ReplaceItemInObject (block, "transactions", txs);
    for (int index = 0; index < S_TXS; index++) {
        cJSON *receipt = cJSON_GetArrayItem (receipts, index);
        char place [24];
        snprintf (place, sizeof (place), "0x%x", index);
        s_set_string (receipt, "transactionIndex", place);
        s_set_string (receipt, "transactionHash",
                      cJSON_GetObjectItem (cJSON_GetArrayItem (txs, index), "hash")->valuestring);
    }
    //  Fit the header to the contents, one field at a time.
    block_check_t check;
    for (int round = 0; round < 16; round++) {
        block_verify_rc_t rc = block_verifier_check (verifier, block, receipts, &check);
        if (rc == BLOCK_VERIFY_OK)
            break;
        bool fits = rc == BLOCK_VERIFY_MISMATCH
                    && (!check.list [0] || streq (check.field, "blockHash"));
        if (!fits) {
            fprintf (stderr, "verify_throughput: the block does not fit: %s\n", check.reason);
            exit (1);
        }
        if (streq (check.field, "blockHash")) {
            const char *hash = cJSON_GetObjectItem (block, "hash")->valuestring;
            cJSON *receipt;
            cJSON_ArrayForEach (receipt, receipts)
                s_set_string (receipt, "blockHash", hash);
        }
        else
            s_set_string (block, check.field, check.computed);
    }
    assert (block_verifier_check (verifier, block, receipts, &check) == BLOCK_VERIFY_OK);
    assert (streq (block_check_level (&check), "full"));
    //  The fields the proof does not cover but the capture path checks: each transaction
    //  and receipt names the block it is in.
    const char *hash = cJSON_GetObjectItem (block, "hash")->valuestring;
    const char *number = cJSON_GetObjectItem (block, "number")->valuestring;
    size_t log_count = 0;
    for (int index = 0; index < S_TXS; index++) {
        char place [24];
        snprintf (place, sizeof (place), "0x%x", index);
        cJSON *items [2] = {cJSON_GetArrayItem (txs, index), cJSON_GetArrayItem (receipts, index)};
        for (size_t item = 0; item < 2; item++) {
            s_set_string (items [item], "blockHash", hash);
            s_set_string (items [item], "blockNumber", number);
            s_set_string (items [item], "transactionIndex", place);
        }
        cJSON *log;
        cJSON_ArrayForEach (log, cJSON_GetObjectItem (items [1], "logs")) {
            char log_index [24];
            snprintf (log_index, sizeof (log_index), "0x%zx", log_count++);
            s_set_string (log, "blockHash", hash);
            s_set_string (log, "blockNumber", number);
            s_set_string (log, "transactionIndex", place);
            s_set_string (log, "transactionHash",
                          cJSON_GetObjectItem (items [0], "hash")->valuestring);
            s_set_string (log, "logIndex", log_index);
        }
    }
    assert (block_verifier_check (verifier, block, receipts, &check) == BLOCK_VERIFY_OK);
    for (size_t index = 0; index < 5; index++)
        cJSON_Delete (docs [index]);
    cJSON_Delete (extra_doc);
    *block_out = block;
    *receipts_out = receipts;
}

//  Writes {"jsonrpc", "id", "result"} around result into dir/name; returns the path.
static char *
s_write_answer (const char *dir, const char *name, const cJSON *result)
{
    cJSON *answer = cJSON_CreateObject ();
    cJSON_AddStringToObject (answer, "jsonrpc", "2.0");
    cJSON_AddNumberToObject (answer, "id", 1);
    cJSON_AddItemReferenceToObject (answer, "result", (cJSON *) result);
    char *text = cJSON_PrintUnformatted (answer);
    cJSON_Delete (answer);
    char *path = zsys_sprintf ("%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    assert (file && fputs (text, file) >= 0 && fclose (file) == 0);
    free (text);
    return path;
}

//  The blocks to verify: parsed answers and their receipts (NULL when none).
typedef struct {
    cJSON **blocks;
    cJSON **receipts;
    size_t count;
    size_t txs;
    bool full;    //  with receipts
} s_verify_set_t;

static size_t
s_verify_pass (block_verifier_t *verifier, s_verify_set_t *set)
{
    for (size_t index = 0; index < set->count; index++) {
        block_check_t check;
        if (block_verifier_check (verifier, set->blocks [index],
                                  set->full ? set->receipts [index] : NULL, &check)
            != BLOCK_VERIFY_OK) {
            fprintf (stderr, "verify_throughput: %s\n", check.reason);
            exit (1);
        }
    }
    return set->txs;
}

//  The capture path on the block and its receipts; returns the transactions.
static size_t
s_capture_pass (s_input_t *blocks, s_input_t *receipts, s_tally_t *tally)
{
    size_t txs = s_pipeline_pass (blocks, tally);
    if (receipts)
        s_logs_pass (receipts, tally);
    return txs;
}

//  Alternates the capture path and the verifier for 2 * seconds; prints both and the
//  ratio of the verifier's time to the capture path's.
static void
s_compare (const char *title, block_verifier_t *verifier, s_verify_set_t *set, s_input_t *blocks,
           s_input_t *receipts, double seconds)
{
    s_tally_t tally;
    memset (&tally, 0, sizeof (tally));
    s_capture_pass (blocks, receipts, &tally);
    s_verify_pass (verifier, set);
    int64_t capture_usecs = 0, verify_usecs = 0;
    size_t capture_txs = 0, verify_txs = 0, rounds = 0;
    while (capture_usecs + verify_usecs < 2 * seconds * 1e6) {
        int64_t start = zclock_usecs ();
        capture_txs += s_capture_pass (blocks, receipts, &tally);
        int64_t middle = zclock_usecs ();
        verify_txs += s_verify_pass (verifier, set);
        verify_usecs += zclock_usecs () - middle;
        capture_usecs += middle - start;
        rounds++;
    }
    double capture_rate = capture_txs / (capture_usecs / 1e6);
    double verify_rate = verify_txs / (verify_usecs / 1e6);
    double blocks_per_round = (double) set->count;
    char label [64];
    snprintf (label, sizeof (label), "verify %s:", set->full ? "full" : "header");
    printf ("%s\n", title);
    printf ("  %-36s %8.0f blocks/s %9.0f tx/s\n",
            receipts ? "capture path (block and receipts):" : "capture path (block):",
            rounds * blocks_per_round / (capture_usecs / 1e6), capture_rate);
    printf ("  %-36s %8.0f blocks/s %9.0f tx/s\n", label,
            rounds * blocks_per_round / (verify_usecs / 1e6), verify_rate);
    printf ("  verify time / capture time: %.3f (capture with verification: %.0f%% of its "
            "throughput without)\n",
            (double) verify_usecs / (double) capture_usecs,
            100.0 * (double) capture_usecs / (double) (capture_usecs + verify_usecs));
}

int
main (int argc, char **argv)
{
    double seconds = 3;
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--seconds") && index + 1 < argc)
            seconds = atof (argv [++index]);
        else {
            fprintf (stderr, "usage: evmtap_bench_verify [--seconds N]\n");
            return 2;
        }
    }
    const char *data = evmtap_shared_data ();
    char *abis = zsys_sprintf ("%s/abis", data);
    char *signatures = zsys_sprintf ("%s/signatures/function_signatures.tsv", data);
    char *events = zsys_sprintf ("%s/signatures/event_signatures_with_parameter_names.tsv", data);
    char err [512];
    call_decoder_t *decoder = decoder_sources_load (abis, signatures, events, NULL, err,
                                                    sizeof (err));
    if (!decoder) {
        fprintf (stderr, "verify_throughput: %s\n", err);
        return 2;
    }
    block_verifier_t *verifier = block_verifier_new ();

    //  The 250-transaction block, as answers on disk for the capture path's loader.
    cJSON *block, *receipts;
    s_make_block (verifier, &block, &receipts);
    char dir [] = "/tmp/evmtap-bench-verify-XXXXXX";
    assert (mkdtemp (dir));
    char *paths [2] = {s_write_answer (dir, "block.json", block),
                       s_write_answer (dir, "receipts.json", receipts)};
    size_t count, bytes, items, receipts_count, receipts_bytes, logs;
    s_file_t *block_file = s_load_all (paths, 1, false, &count, &bytes, &items);
    s_file_t *receipts_file = s_load_all (paths + 1, 1, true, &receipts_count, &receipts_bytes,
                                          &logs);
    assert (count == 1 && receipts_count == 1 && items == S_TXS);
    for (size_t index = 0; index < 2; index++) {
        unlink (paths [index]);
        zstr_free (&paths [index]);
    }
    rmdir (dir);
    printf ("one block of %d mainnet transactions with receipts (%zu logs), %.1f MB; "
            "one core\n\n",
            S_TXS, logs, (bytes + receipts_bytes) / 1e6);
    s_input_t blocks_in = {block_file, 1, decoder, NULL};
    s_input_t receipts_in = {receipts_file, 1, decoder, log_record_new ()};
    s_verify_set_t set = {&block, &receipts, 1, S_TXS, true};
    s_compare ("250-tx block with receipts:", verifier, &set, &blocks_in, &receipts_in, seconds);
    set.full = false;
    s_compare ("250-tx block, header level (no receipts):", verifier, &set, &blocks_in, NULL,
               seconds);

    //  Every stored mainnet block, header level.
    zlist_t *names = chain_samples_list ("mainnet", true);
    size_t stored = zlist_size (names);
    cJSON **docs = (cJSON **) calloc (stored, sizeof (cJSON *));
    cJSON **results = (cJSON **) calloc (stored, sizeof (cJSON *));
    char **stored_paths = (char **) calloc (stored, sizeof (char *));
    s_verify_set_t all = {results, NULL, 0, 0, false};
    for (const char *name = (const char *) zlist_first (names); name;
         name = (const char *) zlist_next (names)) {
        char *relative = zsys_sprintf ("mainnet/%s", name);
        docs [all.count] = chain_samples_load (relative);
        results [all.count] = chain_samples_result (docs [all.count]);
        all.txs += (size_t) cJSON_GetArraySize (
            cJSON_GetObjectItem (results [all.count], "transactions"));
        stored_paths [all.count] = zsys_sprintf ("%s/blocks/%s", data, relative);
        zstr_free (&relative);
        all.count++;
    }
    s_file_t *stored_files = s_load_all (stored_paths, all.count, false, &count, &bytes, &items);
    s_input_t stored_in = {stored_files, count, decoder, NULL};
    printf ("\n");
    char *title = zsys_sprintf (
        "the %zu stored mainnet blocks (%zu transactions), header level:", all.count, all.txs);
    s_compare (title, verifier, &all, &stored_in, NULL, seconds);
    zstr_free (&title);

    //  The bare parse of the 250-tx block's bytes, for scale.
    int64_t start = zclock_usecs ();
    size_t parsed = 0;
    while (zclock_usecs () - start < seconds * 1e6)
        parsed += s_bare_pass (block_file, 1);
    printf ("\nbare cJSON parse of the 250-tx block: %.0f tx/s\n",
            parsed / ((zclock_usecs () - start) / 1e6));

    for (size_t index = 0; index < all.count; index++) {
        cJSON_Delete (docs [index]);
        zstr_free (&stored_paths [index]);
    }
    free (docs);
    free (results);
    free (stored_paths);
    zlist_destroy (&names);
    s_free_all (stored_files, count);
    s_free_all (block_file, 1);
    s_free_all (receipts_file, 1);
    log_record_destroy (&receipts_in.record);
    cJSON_Delete (block);
    cJSON_Delete (receipts);
    block_verifier_destroy (&verifier);
    call_decoder_destroy (&decoder);
    zstr_free (&abis);
    zstr_free (&signatures);
    zstr_free (&events);
    return 0;
}
