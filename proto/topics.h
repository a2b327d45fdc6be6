/*  topics: the name of every topic evmtap writes, each spelled once (DESIGN.md "Topics";
    docs/topics.md gives their schemas). A chain topic is a suffix: its full name is
    <chain>.<suffix>, so "%s." TOPIC_... with the chain's name. The records a stage hands to
    the next carry full names; the sinks write them as they are. */
#ifndef TOPICS_H_INCLUDED
#define TOPICS_H_INCLUDED

#include <string.h>

//  A stream is what the broker checkpoints: a chain's own (its name), or a range that
//  `evmtap ctl BACKFILL` publishes beside it, <chain>@<from>-<to>. Chain names never hold
//  '@' (settings: [A-Za-z0-9_-]+). The stream's blocks go to its chain's topics: a topic's
//  prefix is the first topics_chain_len characters of the stream's name, so write
//  "%.*s." TOPIC_..., topics_chain_len (stream), stream.
#define TOPICS_STREAM_MARK '@'
static inline int
topics_chain_len (const char *stream)
{
    return (int) strcspn (stream, "@");
}

//  A block's metadata (key: the block number).
#define TOPIC_BLOCKS_METADATA "mined.blocks.metadata"
//  A block's transaction hashes, one record per transaction (key: the hash).
#define TOPIC_TXS_HASH_IDS "mined.txs.hash.ids"
//  A transaction by its kind (classifier_topic; key: the hash).
#define TOPIC_NATIVE_TRANSFER "mined.tx.1.native_token_transfer"
#define TOPIC_DEPLOYMENT "mined.tx.2.contract_deployment"
#define TOPIC_INTERACTION "mined.tx.3.contract_interaction"
//  The decoded call of each contract interaction (key: the hash).
#define TOPIC_INTERACTION_DECODED TOPIC_INTERACTION ".decoded"
//  Internal: a receipt's event log, from the classifier to the decoder, which replaces it
//  by its decoded log and token transfer; never written to a sink.
#define TOPIC_LOGS "mined.logs"
//  A decoded event log, and an ERC-20 or ERC-721 Transfer (key: <txhash>:<logIndex>).
#define TOPIC_LOGS_DECODED TOPIC_LOGS ".decoded"
#define TOPIC_TOKEN_TRANSFERS "mined.token_transfers"
//  One record per block a reorg orphaned (key: the block number).
#define TOPIC_BLOCKS_REORGED "mined.blocks.reorged"
//  One alert per (transaction, watchlist, address) (key: <txhash>:<list>:<address>).
#define TOPIC_ALERTS_WATCHLIST "alerts.watchlist"

//  One record per view call of a state watcher (key: <contract>:<block>:<function>).
#define TOPIC_CONTRACT_STATE "contract.state"

//  The key pool's usage records: a full name, without a chain prefix, since keys are
//  shared across chains (key: <key>:<host>:<seq>).
#define TOPIC_KEY_USAGE "evmtap.api_keys.usage"

#endif
