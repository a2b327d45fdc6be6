/*  selftest: runs the selftest of every module, or of those named on the command line.
    CTest runs one module per entry (see CMakeLists.txt), so a failure names its module. */
#include "evmtap.h"
#include "test_http.h"
#include "metric.h"
#include "metrics.h"
#include "metrics_server.h"
#include "keypool.h"
#include "cost_table.h"
#include "receipts_cost.h"
#include "receipts_strategy.h"
#include "spend_ledger.h"
#include "kafka_sink.h"
#include "files_sink.h"
#include "keccak.h"
#include "abi.h"
#include "abi_decode.h"
#include "signatures.h"
#include "call_decoder.h"
#include "log_record.h"
#include "watch_match.h"
#include "watchlist.h"
#include "proxy_probe.h"
#include "proxy_store.h"
#include "proxy_lookup.h"
#include "decoder.h"
#include "multicall.h"
#include "state_call.h"
#include "state_watcher.h"
#include "state_settings.h"
#include "abi_type.h"
#include "block_clock.h"
#include "block_window.h"
#include "checkpoint.h"
#include "classifier.h"
#include "dispatcher.h"
#include "worker_relay.h"
#include "fetch_worker.h"
#include "head_poller.h"
#include "hexutil.h"
#include "jsonrpc.h"
#include "hash_calls.h"
#include "jsonw.h"
#include "keypool_store.h"
#include "key_lease.h"
#include "msg.h"
#include "normalize.h"
#include "options.h"
#include "key_settings.h"
#include "receipts.h"
#include "rpc_client.h"
#include "secrets.h"
#include "stage.h"
#include "token_bucket.h"
#include "backoff.h"
#include "lmdb_env.h"
#include "actor_start.h"
#include "curve_auth.h"
#include "control_actor.h"
#include "usage_journal.h"
#include "zpl.h"
#include "data_dir.h"
#include "backfill_range.h"
#include "progress.h"
#include "broker.h"
#include "rlp.h"
#include "trie.h"
#include "chain_samples.h"
#include "chain_rlp.h"
#include "log_bloom.h"
#include "block_proof.h"
#include "block_verify.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} selftest_t;

static const selftest_t s_selftests [] = {
    {"hexutil", hexutil_test},
    {"jsonw", jsonw_test},
    {"jsonrpc", jsonrpc_test},
    {"hash_calls", hash_calls_test},
    {"normalize", normalize_test},
    {"receipts", receipts_test},
    {"stage", stage_test},
    {"rpc_client", rpc_client_test},
    {"token_bucket", token_bucket_test},
    {"backoff", backoff_test},
    {"actor_start", actor_start_test},
    {"lmdb_env", lmdb_env_test},
    {"curve_auth", curve_auth_test},
    {"control", control_test},
    {"secrets", secrets_test},
    {"zpl", zpl_test},
    {"options", options_test},
    {"key_settings", key_settings_test},
    {"data_dir", data_dir_test},
    {"progress", progress_test},
    {"backfill_range", backfill_range_test},
    {"checkpoint", checkpoint_test},
    {"block_window", block_window_test},
    {"block_clock", block_clock_test},
    {"proto", proto_test},
    {"test_http", test_http_test},
    {"cost_table", cost_table_test},
    {"receipts_cost", receipts_cost_test},
    {"usage_journal", usage_journal_test},
    {"keypool_store", keypool_store_test},
    {"key_lease", key_lease_test},
    {"spend_ledger", spend_ledger_test},
    {"receipts_strategy", receipts_strategy_test},
    {"keypool", keypool_test},
    {"fetch_worker", fetch_worker_test},
    {"dispatcher", dispatcher_test},
    {"worker_relay", worker_relay_test},
    {"head_poller", head_poller_test},
    {"classifier", classifier_test},
    {"kafka_sink", kafka_sink_test},
    {"files_sink", files_sink_test},
    {"broker", broker_test},
    {"keccak", keccak_test},
    {"abi_type", abi_type_test},
    {"abi", abi_test},
    {"abi_decode", abi_decode_test},
    {"signatures", signatures_test},
    {"call_decoder", call_decoder_test},
    {"log_record", log_record_test},
    {"watchlist", watchlist_test},
    {"watch_match", watch_match_test},
    {"proxy_probe", proxy_probe_test},
    {"proxy_store", proxy_store_test},
    {"proxy_lookup", proxy_lookup_test},
    {"decoder", decoder_test},
    {"rlp", rlp_test},
    {"trie", trie_test},
    {"chain_samples", chain_samples_test},
    {"chain_rlp", chain_rlp_test},
    {"log_bloom", log_bloom_test},
    {"block_verify", block_verify_test},
    {"block_proof", block_proof_test},
    {"state_call", state_call_test},
    {"multicall", multicall_test},
    {"state_watcher", state_watcher_test},
    {"state_settings", state_settings_test},
    {"metrics", metrics_test},
    {"metric", metric_test},
    {"metrics_server", metrics_server_test},
};
#define SELFTEST_COUNT (sizeof (s_selftests) / sizeof (s_selftests [0]))

int
main (int argc, char **argv)
{
    bool verbose = getenv ("EVMTAP_TEST_VERBOSE") != NULL;
    zsys_init ();
    zsys_set_logident ("evmtap_selftest");
    int ran = 0;
    for (size_t index = 0; index < SELFTEST_COUNT; index++) {
        bool wanted = argc < 2;
        for (int arg = 1; arg < argc; arg++)
            if (streq (argv [arg], s_selftests [index].name))
                wanted = true;
        if (!wanted)
            continue;
        printf (" * %s: ", s_selftests [index].name);
        fflush (stdout);
        s_selftests [index].test (verbose);
        printf ("OK\n");
        ran++;
    }
    if (ran == 0) {
        fprintf (stderr, "evmtap_selftest: no selftest named");
        for (int arg = 1; arg < argc; arg++)
            fprintf (stderr, " %s", argv [arg]);
        fprintf (stderr, "\n");
        return 2;
    }
    zsys_shutdown ();
    return 0;
}
