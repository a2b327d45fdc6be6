/*  usage_journal: every provider request a key makes, recorded in LMDB before it is sent,
    under <data-dir>/journal (an environment of its own: the checkpoint owns
    <data-dir>/state, and LMDB forbids opening one environment twice in a process).

    Requests first add to pending counters per (minute, key, method): their calls and the
    most they may be billed, before they are sent; once the answers are known a refund
    takes back, in the same minute, what was not billed (a 429, say). A refund that comes
    after its minute was sealed makes an entry of its own for that minute, with no
    requests and negative units: units are deltas, and their sum is the exact bill. Sealing moves the
    pending counters of each minute into one outbox entry with the journal's next sequence
    number; a flusher sends entries to Redis in order, where a Lua script applies an entry
    only when its number is above the last one applied for this journal, so resending after
    a crash or an outage counts nothing twice. Entries stay (marked applied) for a while
    after, so a restart can republish those the usage topic has not checkpointed.
    @locality the keypool actor (src/keypool.c) is the only user of a journal. */
#ifndef USAGE_JOURNAL_H_INCLUDED
#define USAGE_JOURNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _usage_journal_t usage_journal_t;

//  One line of an outbox entry: one key's requests and units for one method.
typedef struct {
    char key [200];    //  "<provider>/<key name>", never a secret
    char method [64];
    uint64_t requests;
    int64_t units;    //  billed units, net of refunds: below zero in a refund's own entry
} usage_line_t;

//  One sealed minute.
typedef struct {
    uint64_t seq;           //  1, 2, 3... per journal
    uint64_t minute;        //  unix time / 60
    bool applied;           //  Redis has it (or there is no Redis)
    usage_line_t *lines;    //  owned; usage_entry_clear frees; in key order (sealed so)
    size_t count;
} usage_entry_t;

//  Opens (creating) <data_dir>/journal. Returns NULL with LMDB's words in err.
usage_journal_t *usage_journal_open (const char *data_dir, char *err, size_t err_size);
void usage_journal_destroy (usage_journal_t **self_p);

//  The journal's id: 16 hex digits chosen when it was created; Redis keeps the last
//  sequence number applied per id.
const char *usage_journal_id (usage_journal_t *self);

//  Adds requests and units to (minute, key, method), committed before it returns.
//  Returns 0 or -1 (logged).
int usage_journal_spend (usage_journal_t *self, const char *key, uint64_t minute,
                         const char *method, uint64_t requests, uint64_t units);

//  Takes units back from (minute, key, method), the minute its calls were journaled in:
//  they were not billed after all. Committed before it returns; 0 or -1 (logged).
int usage_journal_refund (usage_journal_t *self, const char *key, uint64_t minute,
                          const char *method, uint64_t units);

//  Moves the pending counters into outbox entries, one per minute, numbered in order, and
//  syncs the journal to disk. Returns how many entries it made, or -1 (logged).
int usage_journal_seal (usage_journal_t *self);

//  The first outbox entry with seq > after: 0 (entry filled; clear it), 1 when there is
//  none, -1 on an LMDB error or a damaged entry (logged).
int usage_journal_entry (usage_journal_t *self, uint64_t after, usage_entry_t *entry);
void usage_entry_clear (usage_entry_t *entry);
//  The end of the run of lines from first that share its key: one key's lines are adjacent.
size_t usage_entry_key_end (const usage_entry_t *entry, size_t first);

//  Marks an entry applied, and forgets applied entries more than keep numbers older.
int usage_journal_applied (usage_journal_t *self, uint64_t seq, uint64_t keep);

//  Pending (unsealed) and unapplied totals of requests, for tests and stats.
int usage_journal_totals (usage_journal_t *self, uint64_t *pending, uint64_t *unapplied);

void usage_journal_test (bool verbose);

#endif
