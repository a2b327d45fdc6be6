/*  options: everything `evmtap run` is told, from the config file and the command line
    (flags describe one chain; several chains need the file). Every error names the flag,
    or the file, line and setting, and means exit 2. Each setting is a row in settings.c;
    the formats are in docs/config.md. */
#ifndef OPTIONS_H_INCLUDED
#define OPTIONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "job.h"
#include "kafka_sink.h"
#include "sink.h"

typedef enum { DELIVERY_INSTANT = 0, DELIVERY_FINALIZED = 1 } delivery_t;

#define OPTIONS_MAX_CHAINS 16
#define OPTIONS_MAX_RPC 8
#define OPTIONS_MAX_KEYS 64
#define OPTIONS_MAX_WATCHLISTS 16
#define OPTIONS_UNSET (-1)
//  The settings a key has once, whatever chain names it (key_settings.h): key_costs,
//  key_rps, key_daily, key_rotate and key_rotate_requests.
#define OPTIONS_KEY_SETTINGS 5
//  "FILE:LINE" of a setting, or the flag that gave it.
#define OPTIONS_ORIGIN_SIZE 512

//  One chain: its providers, keys and where to start and stop.
typedef struct {
    char *name;                       //  topic prefix; NULL until set or derived from chain id
    uint64_t chain_id;                //  expected chain id, 0 to take the node's
    char *rpc [OPTIONS_MAX_RPC];      //  URL templates ("{key}" filled with a leased key)
    size_t rpc_count;                 //  how many of rpc are set
    char *keys [OPTIONS_MAX_KEYS];    //  key pseudo-names (secrets come from secrets_lookup)
    size_t key_count;                 //  how many of keys are set
    double key_rps;                   //  per-key budget per second, 0 = unlimited
    double key_daily;                 //  per-key daily budget, 0 = unlimited
    char *key_costs;                  //  cost table: requests, infura, alchemy or a file; NULL:
                                      //  requests
    double key_rotate;                //  seconds a worker keeps a key before handing it back
    uint64_t key_rotate_requests;     //  or requests; 0 = never
    int workers;                      //  fetch workers for this chain
    int64_t from;                     //  first block, OPTIONS_UNSET = the head
    int64_t to;                       //  last block, OPTIONS_UNSET = follow for ever
    fetch_mode_t fetch;               //  a block with its transactions, or hashes then each
    bool receipts;                    //  also fetch receipts (and decode logs)
    delivery_t delivery;              //  publish at once, or only confirmations deep
    int64_t confirmations;            //  the depth of DELIVERY_FINALIZED, OPTIONS_UNSET: the
                                      //  node's finalized block, else 64
    int finality_poll_ms;             //  DELIVERY_FINALIZED asks for its limit this often
    //  Where each key setting (in key_settings order) came from: "FILE:LINE", the flag
    //  ("--key-rps"), or "" for the default. For the errors of a key given two values.
    char key_origin [OPTIONS_KEY_SETTINGS][OPTIONS_ORIGIN_SIZE];
} chain_options_t;

//  A key of the config file's `keys` section: its settings, checked by the rows of the
//  chain settings they stand for (rps is key_rps...), held in the key_* fields of values
//  with their origins in values.key_origin.
typedef struct {
    char *name;                //  the key's pseudo-name (its subsection)
    int line;                  //  the subsection's line in the config file
    chain_options_t values;    //  only the key_* fields and key_origin mean anything
} key_options_t;

typedef struct {
    char *config_file;            //  NULL when run from flags alone
    char *data_dir;               //  LMDB state and default files sink root
    sink_kind_t sink;             //  files, stdout or Kafka
    char *sink_target;            //  files: directory; kafka: brokers; NULL for default
    bool format_msgpack;          //  Kafka values as msgpack
    kafka_sink_config_t kafka;    //  Kafka producer settings; run adds brokers, msgpack, verbose
    int drain_timeout_ms;         //  --drain-timeout, default 10 s
    int progress_interval_ms;     //  backfill: a progress line this often, default 5 s
    int rpc_timeout_ms;           //  per HTTP request, default 10 s
    char *secrets_dir;            //  default /run/secrets
    char *redis;                  //  --redis URL or NULL
    char *listen;                 //  --listen ENDPOINT or NULL
    char *control;                //  --control ENDPOINT or NULL
    char *curve_cert;             //  --curve-cert FILE (with FILE_secret) or NULL
    char *curve_authorized;       //  --curve-authorized DIR of public keys or NULL
    char *metrics;                //  --metrics HOST:PORT or NULL
    char *abis;                   //  --abis DIR: ABIs and addresses.json, or NULL
    char *signatures;             //  --signatures FILE: 4-byte selectors, or NULL
    char *event_signatures;       //  --event-signatures FILE: event topics, or NULL
    char *watchlists [OPTIONS_MAX_WATCHLISTS];      //  --watchlist FILE (repeatable)
    size_t watchlist_count;                         //  how many of watchlists are set
    bool verbose;                                   //  -v: log more
    chain_options_t chains [OPTIONS_MAX_CHAINS];    //  the file's chains, or the flags' one
    size_t chain_count;                             //  how many of chains are set
    key_options_t key_decls [OPTIONS_MAX_KEYS];     //  the file's `keys` section
    size_t key_decl_count;                          //  how many of key_decls are set
} options_t;

options_t *options_new (void);
void options_destroy (options_t **self_p);

//  Parses `evmtap run` arguments (argv[0] is "run"), loading --config FILE first when given
//  so that flags override it. Returns 0, 1 when --help (or the hidden --help-config-md,
//  which prints the settings tables of docs/config.md) was printed to out, or -1 with the
//  reason in err (exit 2).
int options_parse_run (options_t *self, int argc, char **argv, FILE *out, char *err,
                       size_t err_size);

//  Parses `evmtap backfill` arguments (argv[0] is "backfill") as options_parse_run does,
//  with the settings for backfill (settings_for): a run-only flag is refused by name, and
//  every chain needs from and to. Returns 0, 1 (--help printed) or -1 with the reason in err.
int options_parse_backfill (options_t *self, int argc, char **argv, FILE *out, char *err,
                            size_t err_size);

//  Loads a config file into self (used by options_parse_run). Returns 0 or -1 with
//  "FILE:LINE: setting: reason" in err.
int options_load_file (options_t *self, const char *path, char *err, size_t err_size);

//  The topic prefix a chain gets by default: mainnet for 1, anvil for 31337, chain<ID>.
void options_default_chain_name (uint64_t chain_id, char *out, size_t out_size);

void options_print_run_usage (FILE *out);
void options_print_backfill_usage (FILE *out);

//  The flags `evmtap run --help` lists: the index-th long flag (without "--"), its short
//  letter in *short_flag (0 when none), or NULL past the last. For the usage check and
//  completions.
const char *options_flag (size_t index, char *short_flag);

void options_test (bool verbose);

#endif
