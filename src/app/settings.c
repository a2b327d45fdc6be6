/*  settings: the rows of `evmtap run`'s settings, in the order --help lists them, and what
    walks them: the lookups of the parsers (options), the defaults, the flags part of
    `evmtap run --help` and the settings tables of docs/config.md. The values' types are in
    setting_types. The Kafka producer's defaults stay the sink's: kafka_sink_config_defaults
    fills them, and its rows only point into kafka_sink_config_t.

    Adding a setting: its field in options.h, its row here where --help should list it, and
    the output of `evmtap run --help-config-md` over the tables of docs/config.md
    (tests/0040-config-docs.sh fails until they agree). */
#include "evmtap.h"
#include "settings.h"
#include <ctype.h>
#include "job.h"
#include "options.h"
#include "setting_types.h"

#define S_STRING(macro) S_STRING_ (macro)
#define S_STRING_(macro) #macro

//  The choices of fetch and delivery are stored as their index.
static_assert (FETCH_BLOCK == 0 && FETCH_HASHES == 1, "fetch choices: block, hashes");
static_assert (BLOCK_PROOF_OFF == 0 && BLOCK_PROOF_FULL == 2, "verify choices: off, header, full");
static_assert (DELIVERY_INSTANT == 0 && DELIVERY_FINALIZED == 1,
               "delivery choices: instant, finalized");

//  The multicall setting: an address, or none.
static bool
s_valid_multicall (const char *text)
{
    if (streq (text, "none"))
        return true;
    if (strlen (text) != 42 || strncmp (text, "0x", 2) != 0)
        return false;
    for (const char *digit = text + 2; *digit; digit++)
        if (!isxdigit ((unsigned char) *digit))
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  The table, in --help order

//  Where a setting's value lives: a field of options_t or of chain_options_t (lists: with
//  their count).
#define S_IN(type, member) .field = offsetof (type, member), .size = sizeof (((type *) 0)->member)
#define S_FLAG(member) .scope = SETTING_FLAG, S_IN (options_t, member)
#define S_SERVICE(member) .scope = SETTING_SERVICE, S_IN (options_t, member)
#define S_CHAIN(member) .scope = SETTING_CHAIN, S_IN (chain_options_t, member)
#define S_SERVICE_LIST(member, counter) S_SERVICE (member), .count = offsetof (options_t, counter)
#define S_CHAIN_LIST(member, counter) S_CHAIN (member), .count = offsetof (chain_options_t, counter)
//  Budgets above this are typing mistakes, not plans.
#define S_BUDGET_MAX "1000000000000"
#define S_UINT64_MAX "18446744073709551615"
#define S_INT64_MAX "9223372036854775807"
#define S_INT_MAX "2147483647"

//  Laid out by hand, a row per line of the table.
// clang-format off
static const setting_t s_settings [] = {
    {.flag = "config", S_FLAG (config_file), .type = &setting_text, .expect = "a file name",
     .value = "FILE", .help = "read settings from a ZPL config file; flags override it"},

    //  A chain's settings
    {.flag = "chain", S_CHAIN (name), .type = &setting_text, .valid = setting_valid_chain_name,
     .expect = SETTINGS_CHAIN_NAME, .value = "NAME",
     .help = "topic prefix, [A-Za-z0-9_-]+ (default: mainnet for chain id 1,\n"
             "anvil for 31337, chain<ID> otherwise)",
     .doc_default = "from the chain id (see above)",
     .doc = "the chain's name and topic prefix, `[A-Za-z0-9_-]+`"},
    {.flag = "chain-id", .name = "chain_id", S_CHAIN (chain_id), .type = &setting_count,
     .min = "1", .max = S_UINT64_MAX, .expect = "a chain id (a decimal number from {min})",
     .value = "ID", .help = "refuse a node whose chain id differs (default: take the node's)",
     .doc_default = "any",
     .doc = "the chain id the node must report (a decimal number from {min}); evmtap "
            "refuses a node of another chain"},
    {.flag = "rpc", .name = "rpc", S_CHAIN_LIST (rpc, rpc_count), .type = &setting_urls,
     .max = S_STRING (OPTIONS_MAX_RPC), .unit = "URLs", .initial = "http://127.0.0.1:8545",
     .value = "URL", .help = "JSON-RPC provider, repeatable (default {default})",
     .doc = "a JSON-RPC endpoint, `http://` or `https://`; repeatable, at most {max}. "
            "`{key}` is replaced by the secret of a leased key; no other `{...}` is allowed. "
            "It needs a host, and a port from 1 to 65535 when it gives one"},
    {.flag = "keys", .name = "keys", S_CHAIN_LIST (keys, key_count), .type = &setting_keys,
     .max = S_STRING (OPTIONS_MAX_KEYS), .unit = "key names",
     .expect = "a list of key names ([A-Za-z0-9_-]+, separated by commas)",
     .value = "NAME,NAME",
     .help = "API key names; {key} in an --rpc URL becomes a leased key's secret",
     .doc_default = "none",
     .doc = "the pseudo-names of the API keys for `{key}`, comma-separated (blanks around "
            "names allowed), `[A-Za-z0-9_-]+`, at most {max}. Required when an `rpc` URL "
            "contains `{key}`"},
    {.flag = "key-rps", .name = "key_rps", S_CHAIN (key_rps), .type = &setting_real, .min = "0",
     .max = S_BUDGET_MAX, .expect = "a number from {min} (unlimited) up", .initial = "0",
     .value = "N",
     .help = "per-key budget per second in the provider's units (default {default}: none)",
     .doc_default = "`{default}` (unlimited)",
     .doc = "per-key budget per second, in the provider's units (requests by default)"},
    {.flag = "key-daily", .name = "key_daily", S_CHAIN (key_daily), .type = &setting_real,
     .min = "0", .max = S_BUDGET_MAX, .expect = "a number from {min} (unlimited) up",
     .initial = "0", .value = "N",
     .help = "per-key budget per day in the provider's units (default {default}: none)",
     .doc_default = "`{default}` (unlimited)",
     .doc = "per-key budget per day, in the same units: a key that reaches it is parked "
            "until it has room (`infura`: 00:00 UTC; otherwise a sliding 24 h)"},
    {.flag = "key-costs", .name = "key_costs", S_CHAIN (key_costs), .type = &setting_costs,
     .value = "NAME|FILE",
     .help = "the units: requests, infura (credits), alchemy (compute units)\n"
             "or a cost table file like config/costs/ (default requests)",
     .doc_default = "`requests`",
     .doc = "the units of `key_rps` (throughput units) and `key_daily` (billed units): "
            "`requests`, `infura` (credits), `alchemy` (compute units), the providers' own "
            "tables built in, or a file in their format (see \"Cost tables\" below)"},
    {.flag = "key-rotate", .name = "key_rotate", S_CHAIN (key_rotate), .type = &setting_real,
     .min = "0", .max = "86400", .expect = "a number of seconds from {min} (never) to {max}",
     .initial = "300", .value = "SECONDS",
     .help = "a worker hands its key back after this long (default {default}, 0 never)",
     .doc = "a worker hands its key back after this long, so usage evens out (`0`: never). "
            "A key taken over starts with an empty second, so short rotations cost "
            "throughput"},
    {.flag = "key-rotate-requests", .name = "key_rotate_requests",
     S_CHAIN (key_rotate_requests), .type = &setting_count, .min = "0", .max = S_UINT64_MAX,
     .expect = "a number of requests from {min} (never)", .initial = "0", .value = "N",
     .help = "or after this many requests (default {default}: never)",
     .doc_default = "`{default}` (never)", .doc = "or after this many requests"},
    {.flag = "workers", .name = "workers", S_CHAIN (workers), .type = &setting_count, .min = "0",
     .max = "256", .expect = "a number from {min} to {max}", .initial = "4", .value = "N",
     .help = "fetch workers, {min} to {max} (default {default})",
     .doc = "fetch workers, {min} to {max}; each holds one key at a time, so use fewer "
            "workers than keys. `0`: none in this process (with `listen`: remote ones only)"},
    {.flag = "from", .name = "from", S_CHAIN (from), .type = &setting_block, .min = "0",
     .max = S_INT64_MAX, .expect = "a block number", .value = "N",
     .help = "first block (default: the current head)", .doc_default = "the current head",
     .doc = "the first block to publish"},
    {.flag = "to", .name = "to", S_CHAIN (to), .type = &setting_block, .min = "0",
     .max = S_INT64_MAX, .expect = "a block number", .value = "N",
     .help = "stop once block N is published (default: follow for ever)",
     .doc_default = "follow for ever",
     .doc = "stop once block N is published; `from` must not be above `to`. Without "
            "`from`, a head already past `to` is refused (exit 2: nothing to publish)"},
    {.flag = "fetch", .name = "fetch", S_CHAIN (fetch), .type = &setting_choice,
     .choices = (const char *const []) {"block", "hashes", NULL}, .initial = "block",
     .value = "block|hashes",
     .help = "a block with its transactions in one request, or hashes then\n"
             "one request per transaction (default {default})",
     .doc = "`block`: a block and its transactions in one request; `hashes`: the hashes, "
            "then one request per transaction (the original system's way, for comparison)"},
    {.flag = "receipts", .name = "receipts", S_CHAIN (receipts), .type = &setting_bool,
     .initial = "false",
     .help = "also fetch receipts, the cheapest way under the key's cost table:\n"
             "receipt fields, decoded logs, token transfers",
     .doc = "also fetch receipts, the cheapest way in the key's billed units: "
            "`eth_getBlockReceipts(n)` in the same JSON-RPC batch as the block with "
            "`fetch = block` (one HTTP request), unless the cost table makes one "
            "`eth_getTransactionReceipt` per transaction cheaper for the block's size "
            "(`infura`: blocks of fewer than 13 transactions; then the receipts follow the "
            "block in a second request; none for an empty block). A node that answers "
            "-32601 gets batched `eth_getTransactionReceipt` instead (said once per worker in "
            "the log). Receipt fields join the transaction records; logs go to "
            "`mined.logs.decoded` and `mined.token_transfers`"},
    {.flag = "verify", .name = "verify", S_CHAIN (verify), .type = &setting_choice,
     .choices = (const char *const []) {"off", "header", "full", NULL}, .initial = "full",
     .value = "off|header|full",
     .help = "prove each block against its own header before it is published:\n"
             "header and transactions, and receipts with full (default {default})",
     .doc = "each block is proven against its own header by the worker that fetched it "
            "(docs/verification.md): `header` proves the header, the transactions and the "
            "withdrawals, `full` the receipts too when they are fetched, `off` nothing. A "
            "block that does not prove is never published: it is fetched again with "
            "another key, for ever. The block record says `\"verified\"`: `full`, `header` "
            "or `none`"},
    {.flag = "multicall", .name = "multicall", S_CHAIN (multicall), .type = &setting_text,
     .valid = s_valid_multicall, .expect = "a contract address (0x and 40 hex digits) or none",
     .value = "ADDRESS|none",
     .help = "where the state watchers' calls find Multicall3 (used when it\n"
             "has code there), none for batched eth_call\n"
             "(default {default})",
     .initial = "0xcA11bde05977b3631167028862bE2a173976CA11",
     .doc = "where the state watchers (below) find Multicall3: the view calls of a block go "
            "out as one `aggregate3` `eth_call` when that address has code (asked once with "
            "`eth_getCode`), else as batched `eth_call`; `none`: batched always"},
    {.flag = "delivery", .name = "delivery", S_CHAIN (delivery), .command = SETTING_RUN,
     .type = &setting_choice,
     .choices = (const char *const []) {"instant", "finalized", NULL}, .initial = "instant",
     .value = "instant|finalized",
     .help = "publish blocks as they come (a reorg: one mined.blocks.reorged\n"
             "record per orphan, then the new branch), or only once\n"
             "--confirmations deep, never an orphan (default {default})",
     .doc = "`instant`: publish blocks as they come; a reorg (up to 256 blocks deep) "
            "publishes one `mined.blocks.reorged` record per orphaned block, then the new "
            "branch (docs/topics.md says how to drop the orphans' records). `finalized`: "
            "only blocks `confirmations` deep, so that no orphan is published; the limit "
            "is asked once a minute (no extra call per block)"},
    {.flag = "confirmations", .name = "confirmations", S_CHAIN (confirmations),
     .command = SETTING_RUN, .type = &setting_block, .min = "0", .max = "10000", .expect = "a number from {min} to {max}",
     .value = "K",
     .help = "depth for --delivery finalized, {min} to {max} (default: under the\n"
             "node's finalized block, or 64 deep when it serves none)",
     .doc_default = "the node's `finalized` block, else 64",
     .doc = "the depth used by `delivery = finalized`, {min} to {max}; without it, blocks "
            "up to the node's `finalized` block tag, or 64 deep when the node serves no "
            "such tag"},
    {.flag = "finality-poll", .name = "finality_poll", S_CHAIN (finality_poll_ms),
     .command = SETTING_RUN, .type = &setting_seconds, .min = "0.1", .max = "3600",
     .expect = "a number of seconds from {min} to {max}", .initial = "60", .value = "SECONDS",
     .help = "--delivery finalized asks the node for its limit this often\n"
             "(default {default}: one call a minute, none per block)",
     .doc = "how often `delivery = finalized` asks the node for the `finalized` block (or "
            "the head, with `confirmations`): one call each time, none per block ({min} to "
            "{max})"},

    //  The service's settings
    {.flag = "data-dir", .name = "data_dir", S_SERVICE (data_dir), .type = &setting_text,
     .expect = "a directory", .initial = "./evmtap-data", .value = "DIR",
     .help = "LMDB state and files sink root (default {default})",
     .doc = "LMDB state (checkpoints, recent block hashes, key journal) and the root of the "
            "files sink; at most 381 bytes (the checkpoint keys each file by its path, LMDB "
            "keys are at most 511 bytes). One process at a time: `<data_dir>/lock` holds "
            "the holder's pid and command, and a second process on the same dir exits 2 "
            "naming them: an `evmtap backfill` beside a running `evmtap run` takes its own"},
    {.flag = "sink", .name = "sink", S_SERVICE (sink), .type = &setting_sink,
     .expect = "files, files:DIR, stdout or kafka:BROKERS", .initial = "files",
     .value = "files[:DIR]|stdout|kafka:BROKERS",
     .help = "where messages go (default {default}, in\n<data-dir>/topics)",
     .doc = "`files` (NDJSON in `<data_dir>/topics`), `files:DIR`, `stdout` (one JSON line "
            "per message), `kafka:BROKERS` (comma-separated `host:port`)"},
    {.flag = "format", .name = "format", S_SERVICE (format_msgpack), .type = &setting_choice,
     .choices = (const char *const []) {"json", "msgpack", NULL}, .initial = "json",
     .value = "json|msgpack",
     .help = "Kafka values; files and stdout are always JSON (default {default})",
     .doc = "`json` or `msgpack`: the encoding of Kafka values; files and stdout are always "
            "JSON"},
    {.flag = "kafka-linger-ms", .name = "kafka_linger_ms", S_SERVICE (kafka.linger_ms),
     .type = &setting_count, .min = "0", .max = "900000",
     .expect = "a number of milliseconds from {min} to {max}", .value = "MS",
     .help = "Kafka producer linger.ms (default {default})",
     .doc = "producer `linger.ms`, {min} to {max}: how long a message may wait to fill a "
            "batch"},
    {.flag = "kafka-batch-size", .name = "kafka_batch_size", S_SERVICE (kafka.batch_bytes),
     .type = &setting_count, .min = "1", .max = S_INT_MAX,
     .expect = "a number of bytes from {min} to {max}", .value = "BYTES",
     .help = "batch.size (default {default})",
     .doc = "producer `batch.size`: the largest batch sent to a partition"},
    {.flag = "kafka-compression", .name = "kafka_compression", S_SERVICE (kafka.compression),
     .type = &setting_word,
     .choices = (const char *const []) {"none", "gzip", "snappy", "lz4", "zstd", NULL},
     .value = "CODEC", .help = "{choices} (default {default})",
     .doc = "producer `compression.codec`: {choices}"},
    {.flag = "kafka-partitions", .name = "kafka_partitions", S_SERVICE (kafka.partitions),
     .type = &setting_count, .min = "1", .max = "100000",
     .expect = "a number of partitions from {min} to {max}", .value = "N",
     .help = "partitions of the topics evmtap creates (default {default})",
     .doc = "partitions of each topic evmtap creates (Admin API CreateTopics; existing "
            "topics are left as they are)"},
    {.flag = "kafka-replication", .name = "kafka_replication", S_SERVICE (kafka.replication),
     .type = &setting_replication, .min = "1", .max = "32767",
     .expect = "default or a number from {min} to {max}", .value = "N|default",
     .help = "their replication factor (default: the cluster's)",
     .doc = "replication factor of those topics, {min} to {max}, or `default`: the "
            "cluster's `default.replication.factor`"},
    {.flag = "kafka-queue-messages", .name = "kafka_queue_messages",
     S_SERVICE (kafka.queue_messages), .type = &setting_count, .min = "1", .max = "10000000",
     .expect = "a number of messages from {min} to {max}", .value = "N",
     .help = "producer queue bound; fetching pauses when full (default {default})",
     .doc = "producer queue bound (`queue.buffering.max.messages`): when it is full the "
            "broker stops taking blocks and fetching pauses; nothing is dropped"},
    {.flag = "kafka-queue-kbytes", .name = "kafka_queue_kbytes",
     S_SERVICE (kafka.queue_kbytes), .type = &setting_count, .min = "1", .max = S_INT_MAX,
     .expect = "a number of kilobytes from {min} to {max}", .value = "N",
     .help = "producer queue bound in KB (default {default})",
     .doc = "the same bound in kilobytes (`queue.buffering.max.kbytes`): with the one above, "
            "what a stalled cluster can make evmtap hold"},
    {.flag = "kafka-message-timeout-ms", .name = "kafka_message_timeout_ms",
     S_SERVICE (kafka.message_timeout_ms), .type = &setting_count, .min = "0", .max = S_INT_MAX,
     .expect = "a number of milliseconds from {min} to {max}", .value = "MS",
     .help = "a delivery fails after MS and is produced again, the\n"
             "checkpoint waits (default {default}; 0: never)",
     .doc = "`message.timeout.ms`: a message not delivered by then is logged (topic and "
            "error) and produced again; the checkpoint waits. 0: never time out"},
    {.flag = "redis", .name = "redis", S_SERVICE (redis), .type = &setting_text,
     .valid = setting_valid_redis, .expect = "a redis://HOST[:PORT] URL", .value = "URL",
     .help = "redis://HOST:PORT shares the key pool between processes\n"
             "(default: a pool inside this process)",
     .doc_default = "none: an in-process key pool",
     .doc = "`redis://HOST[:PORT]`: key leases and usage shared by every evmtap process"},
    {.flag = "listen", .name = "listen", S_SERVICE (listen), .type = &setting_text,
     .valid = setting_valid_listen, .expect = "tcp://HOST:PORT", .value = "tcp://HOST:PORT",
     .help = "accept remote `evmtap worker` processes (default: none)",
     .doc_default = "none",
     .doc = "`tcp://HOST:PORT` where remote `evmtap worker` processes join (`*` as port: any "
            "free one)"},
    {.flag = "control", .name = "control", S_SERVICE (control),
     .type = &setting_text,
     .valid = setting_valid_endpoint, .expect = "tcp://HOST:PORT, ipc://PATH or inproc://NAME",
     .value = "ENDPOINT", .help = "socket for `evmtap ctl`: tcp://HOST:PORT, ipc://PATH\n"
                                  "(default: ipc://<data-dir>/control)",
     .doc_default = "`ipc://<data-dir>/control`",
     .doc = "the `evmtap ctl` socket: `tcp://HOST:PORT`, `ipc://PATH` or `inproc://NAME`; "
            "any tcp address but 127.0.0.1, [::1] and localhost needs `curve_cert` and "
            "`curve_authorized`"},
    {.flag = "curve-cert", .name = "curve_cert", S_SERVICE (curve_cert), .type = &setting_text,
     .expect = "a file name", .value = "FILE",
     .help = "this coordinator's CURVE certificate (`evmtap cert new`;\n"
             "FILE_secret beside it) for non-loopback --control, --listen",
     .doc_default = "none",
     .doc = "the coordinator's CURVE certificate, as `evmtap cert new` writes it (the public "
            "file; its `_secret` file beside it): required by a `control` or `listen` "
            "endpoint that is not loopback or ipc"},
    {.flag = "curve-authorized", .name = "curve_authorized", S_SERVICE (curve_authorized),
     .type = &setting_text, .expect = "a directory", .value = "DIR",
     .help = "public keys of the workers and operators let in over CURVE",
     .doc_default = "none",
     .doc = "a folder of the public certificates (`NAME.key`) of the workers and operators "
            "allowed in over CURVE; anyone else is refused and logged"},
    {.flag = "metrics", .name = "metrics", S_SERVICE (metrics), .type = &setting_text,
     .valid = setting_valid_metrics, .expect = "HOST:PORT", .value = "HOST:PORT",
     .help = "serve Prometheus text at /metrics (default: off)", .doc_default = "off",
     .doc = "`HOST:PORT` serving Prometheus text at `/metrics`"},
    {.flag = "watchlist", .name = "watchlist", S_SERVICE_LIST (watchlists, watchlist_count),
     .type = &setting_list, .max = S_STRING (OPTIONS_MAX_WATCHLISTS), .unit = "watchlists",
     .expect = "a file name", .value = "FILE",
     .help = "addresses to alert on, repeatable; named by the file's base name",
     .doc_default = "none",
     .doc = "an address list to alert on (`alerts.watchlist`); repeatable, at most {max}; "
            "the list's name is the file's base name without extension; read again on "
            "SIGHUP (format: docs/topics.md)"},
    {.flag = "abis", .name = "abis", S_SERVICE (abis), .type = &setting_text,
     .expect = "a directory", .value = "DIR",
     .help = "ABIs to decode contract calls with: DIR/*.json, bound to\n"
             "contracts by DIR/addresses.json (default: config/abis)",
     .doc_default = "`config/abis` (ERC-20, ERC-721, WETH)",
     .doc = "ABIs that decode contract calls (`mined.tx.3.contract_interaction.decoded`): "
            "every `*.json` in DIR (an ABI array, or an object with `abi`); "
            "`DIR/addresses.json` (`{\"0x<lowercase address>\": \"FILE.json\"}`) binds a "
            "contract to its ABI (a proxy to its implementation's), which is tried first; "
            "the others are tried for any address. A malformed file is an error naming it"},
    {.flag = "signatures", .name = "signatures", S_SERVICE (signatures), .type = &setting_text,
     .expect = "a file name", .value = "FILE",
     .help = "4-byte selectors, `0x<selector><TAB><signature>` per line",
     .doc_default = "none",
     .doc = "a 4-byte selector file, `0x<selector><TAB><signature>` per line (several per "
            "selector allowed), tried after the ABIs"},
    {.flag = "event-signatures", .name = "event_signatures", S_SERVICE (event_signatures),
     .type = &setting_text, .expect = "a file name", .value = "FILE",
     .help = "event topics for logs (--receipts), `0x<topic0><TAB><signature>`\n"
             "per line, `indexed` marked or guessed (default: the ABIs' events)",
     .doc_default = "none",
     .doc = "an event topic file for the logs of `receipts`, `0x<topic0><TAB><signature>` "
            "per line (several `;`-separated signatures of one topic allowed; without "
            "`indexed` marks the first parameters are taken as indexed), tried after the "
            "ABIs' events and `signatures`"},
    {.flag = "proxy-refresh", .name = "proxy_refresh", S_SERVICE (proxy_refresh),
     .type = &setting_count, .min = "0", .max = S_INT_MAX, .initial = "7200",
     .expect = "a number of blocks from {min} to {max}", .value = "BLOCKS",
     .help = "ask a proxy's implementation again after this many blocks\n"
             "(default {default}; 0: only on its Upgraded events)",
     .doc = "blocks after which the implementation behind a proxy contract (EIP-1967, its "
            "beacon, EIP-1822, EIP-1167) is asked of the provider again; `Upgraded` events "
            "(with `receipts`) update it at once; 0: only they do"},
    {.flag = "drain-timeout", .name = "drain_timeout", S_SERVICE (drain_timeout_ms),
     .type = &setting_seconds, .min = "0", .max = "3600",
     .expect = "a number of seconds from {min} to {max}", .initial = "10",
     .value = "SECONDS",
     .help = "on SIGTERM, time to publish the blocks in flight (default {default})",
     .doc = "on SIGTERM/SIGINT, how long to publish the blocks in flight ({min} to {max})"},
    {.flag = "rpc-timeout", .name = "rpc_timeout", S_SERVICE (rpc_timeout_ms),
     .type = &setting_seconds, .min = "0.001", .max = "600",
     .expect = "a number of seconds from {min} to {max}", .initial = "10",
     .value = "SECONDS", .help = "per HTTP request to a provider (default {default})",
     .doc = "per HTTP request to a provider ({min} to {max})"},
    {.flag = "secrets-dir", .name = "secrets_dir", S_SERVICE (secrets_dir), .type = &setting_text,
     .expect = "a directory", .initial = "/run/secrets", .value = "DIR",
     .help = "where key secret files live (default {default})",
     .doc = "where key secret files are looked up"},
    {.flag = "progress-interval", S_FLAG (progress_interval_ms), .command = SETTING_BACKFILL,
     .type = &setting_seconds, .min = "0.1", .max = "3600",
     .expect = "a number of seconds from {min} to {max}", .initial = "5", .value = "SECONDS",
     .help = "a progress line every SECONDS without a terminal (default\n{default}; "
             "a terminal's bar is redrawn twice a second)"},
    {.flag = "verbose", .short_flag = 'v', S_FLAG (verbose), .type = &setting_bool,
     .help = "log more"},
    {.flag = "help", .short_flag = 'h', .scope = SETTING_FLAG, .action = SETTING_PRINT_HELP,
     .help = "print this help and exit"},
    //  Hidden: prints what tests/0040-config-docs.sh compares with docs/config.md.
    {.flag = "help-config-md", .scope = SETTING_FLAG, .action = SETTING_PRINT_DOCS},
};
// clang-format on

#define S_SETTINGS (sizeof (s_settings) / sizeof (s_settings [0]))

//  --help's headings, by scope: a heading comes before the first row of its scope.
static const char *s_headings [] = {
    [SETTING_CHAIN] = "Chain (with a config file of several chains, set these per chain in "
                      "the file):",
    [SETTING_SERVICE] = "Service:",
};

//  --------------------------------------------------------------------------
//  Finding and applying settings

const setting_t *
settings_at (size_t index)
{
    return index < S_SETTINGS ? &s_settings [index] : NULL;
}

const setting_t *
settings_by_name (const char *name)
{
    for (size_t index = 0; index < S_SETTINGS; index++)
        if (s_settings [index].name && streq (s_settings [index].name, name))
            return &s_settings [index];
    return NULL;
}

const setting_t *
settings_by_flag (const char *flag, size_t size)
{
    for (size_t index = 0; index < S_SETTINGS; index++)
        if (strlen (s_settings [index].flag) == size
            && memcmp (s_settings [index].flag, flag, size) == 0)
            return &s_settings [index];
    return NULL;
}

const setting_t *
settings_by_short_flag (char letter)
{
    for (size_t index = 0; index < S_SETTINGS; index++)
        if (s_settings [index].short_flag && s_settings [index].short_flag == letter)
            return &s_settings [index];
    return NULL;
}

bool
settings_repeats (const setting_t *setting)
{
    return setting->type && setting->type->repeats;
}

//  The record a setting lives in, or NULL when the caller gave none of its scope.
static void *
s_record (const setting_t *setting, options_t *options, chain_options_t *chain)
{
    return setting->scope == SETTING_CHAIN ? (void *) chain : (void *) options;
}

int
settings_apply (const setting_t *setting, options_t *options, chain_options_t *chain,
                const char *value, char *reason, size_t reason_size)
{
    assert (setting && setting->type);
    void *record = s_record (setting, options, chain);
    assert (record);
    assert (value || setting->type == &setting_bool);
    return setting->type->parse (setting, record, value, reason, reason_size);
}

void
settings_show (const setting_t *setting, const options_t *options, const chain_options_t *chain,
               char *text, size_t text_size)
{
    const void *record = s_record (setting, (options_t *) options, (chain_options_t *) chain);
    assert (record && text && text_size);
    *text = 0;
    if (setting->type && setting->type->show)
        setting->type->show (setting, record, text, text_size);
}

void
settings_clear (const setting_t *setting, options_t *options, chain_options_t *chain)
{
    void *record = s_record (setting, options, chain);
    assert (record);
    if (setting->type && setting->type->clear)
        setting->type->clear (setting, record);
}

//  Gives a setting its default from its row; the table's defaults are always good.
static void
s_apply_initial (const setting_t *setting, void *record)
{
    char reason [256];
    int rc = setting->type->parse (setting, record, setting->initial, reason, sizeof (reason));
    assert (rc == 0);
}

void
settings_start (options_t *options, chain_options_t *chain)
{
    for (size_t index = 0; index < S_SETTINGS; index++) {
        const setting_t *setting = &s_settings [index];
        void *record = s_record (setting, options, chain);
        if (!record || !setting->type)
            continue;
        settings_clear (setting, options, chain);
        if (setting->initial && !setting->type->repeats)
            s_apply_initial (setting, record);
    }
}

void
settings_finish (chain_options_t *chain)
{
    for (size_t index = 0; index < S_SETTINGS; index++) {
        const setting_t *setting = &s_settings [index];
        if (setting->scope == SETTING_CHAIN && settings_repeats (setting) && setting->initial
            && setting_list_size (setting, chain) == 0)
            s_apply_initial (setting, chain);
    }
}

void
settings_free (options_t *options, chain_options_t *chain)
{
    for (size_t index = 0; index < S_SETTINGS; index++)
        if (s_record (&s_settings [index], options, chain))
            settings_clear (&s_settings [index], options, chain);
}

//  --------------------------------------------------------------------------
//  --help and docs/config.md

//  The flag as --help and the docs write it: "-v, --verbose", "--workers N".
static void
s_flag_text (const setting_t *setting, char *text, size_t text_size)
{
    char letter [5] = "";
    if (setting->short_flag)
        snprintf (letter, sizeof (letter), "-%c, ", setting->short_flag);
    snprintf (text, text_size, "%s--%s%s%s", letter, setting->flag, setting->value ? " " : "",
              setting->value ? setting->value : "");
}

bool
settings_for (const setting_t *setting, setting_command_t command)
{
    return setting->command == SETTING_ALL || setting->command == command;
}

void
settings_print_help (FILE *out, const options_t *defaults, setting_command_t command)
{
    assert (out);
    setting_scope_t heading = SETTING_FLAG;
    for (size_t index = 0; index < S_SETTINGS; index++) {
        const setting_t *setting = &s_settings [index];
        if (!setting->help || !settings_for (setting, command))
            continue;
        if (setting->scope != SETTING_FLAG && setting->scope != heading) {
            heading = setting->scope;
            fprintf (out, "\n%s\n", s_headings [heading]);
        }
        char flag [64];
        char text [SETTING_TEXT_MAX];
        s_flag_text (setting, flag, sizeof (flag));
        setting_expand (setting, setting->help, defaults, text, sizeof (text));
        //  The text starts at column 30, or two blanks after a longer flag.
        fprintf (out, "  %-26s  ", flag);
        const char *line = text;
        for (const char *eol; (eol = strchr (line, '\n')); line = eol + 1)
            fprintf (out, "%.*s\n%30s", (int) (eol - line), line, "");
        fprintf (out, "%s\n", line);
    }
}

//  Writes a table cell: text with '|' escaped, so that it stays in its column.
static void
s_print_cell (FILE *out, const char *text)
{
    fputs ("| ", out);
    for (const char *scan = text; *scan; scan++) {
        if (*scan == '|')
            fputc ('\\', out);
        fputc (*scan, out);
    }
    fputc (' ', out);
}

void
settings_print_docs (FILE *out, const options_t *defaults)
{
    assert (out);
    const setting_scope_t sections [] = {SETTING_SERVICE, SETTING_CHAIN};
    for (size_t section = 0; section < 2; section++) {
        fprintf (out, "%s| setting | flag | default | meaning |\n|---|---|---|---|\n",
                 section ? "\n" : "");
        for (size_t index = 0; index < S_SETTINGS; index++) {
            const setting_t *setting = &s_settings [index];
            if (setting->scope != sections [section])
                continue;
            char text [SETTING_TEXT_MAX];
            char flag [64];
            if (setting->name)
                snprintf (text, sizeof (text), "`%s`", setting->name);
            else
                snprintf (text, sizeof (text), "(section name)");
            s_print_cell (out, text);
            s_flag_text (setting, flag, sizeof (flag));
            snprintf (text, sizeof (text), "`%s`", flag);
            s_print_cell (out, text);
            setting_expand (setting, setting->doc_default ? setting->doc_default : "`{default}`",
                            defaults, text, sizeof (text));
            s_print_cell (out, text);
            setting_expand (setting, setting->doc, defaults, text, sizeof (text));
            s_print_cell (out, text);
            fputs ("|\n", out);
        }
    }
}
