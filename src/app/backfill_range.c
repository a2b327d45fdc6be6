/*  backfill_range: the range a backfill has left on a data dir (see backfill_range.h). */
#include "evmtap.h"
#include "backfill_range.h"
#include "block.h"

//  The meta key of the first block a backfill published on this data dir.
static char *
s_first_key (const char *chain)
{
    char *key = zsys_sprintf ("backfill.%s.first", chain);
    assert (key);
    return key;
}

//  Records first: the stream that starts there is this data dir's. 0 or -1.
static int
s_record_first (checkpoint_t *checkpoint, const char *key, uint64_t first)
{
    char value [24];
    snprintf (value, sizeof (value), "%" PRIu64, first);
    if (checkpoint_begin (checkpoint))
        return -1;
    if (checkpoint_set_meta (checkpoint, key, value)) {
        checkpoint_abort (checkpoint);
        return -1;
    }
    return checkpoint_commit (checkpoint);
}

backfill_range_result_t
backfill_range_check (checkpoint_t *checkpoint, const char *chain, uint64_t from, uint64_t to,
                      uint64_t *start, char *text, size_t text_size)
{
    assert (checkpoint && chain && start && from <= to);
    *text = 0;
    char *key = s_first_key (chain);
    uint64_t last = 0;
    char hash [BLOCK_HASH_SIZE];
    char recorded [24] = "";
    int rc = checkpoint_get (checkpoint, chain, &last, hash);
    int meta_rc = rc == 0 ? checkpoint_get_meta (checkpoint, key, recorded, sizeof (recorded)) : 1;
    backfill_range_result_t result = BACKFILL_RANGE_GO;
    if (rc < 0 || meta_rc < 0) {
        snprintf (text, text_size, "chain %s: cannot read the checkpoint", chain);
        result = BACKFILL_RANGE_FAILED;
    }
    else if (rc == 1) {
        //  Nothing published yet: this backfill's from is where the stream starts.
        *start = from;
        if (s_record_first (checkpoint, key, from)) {
            snprintf (text, text_size, "chain %s: cannot record the backfill's range", chain);
            result = BACKFILL_RANGE_FAILED;
        }
    }
    else {
        //  Without a record (a data dir of evmtap run) the stream's first block is unknown.
        uint64_t first = meta_rc == 0 ? strtoull (recorded, NULL, 10) : 0;
        if (from < first)
            snprintf (text, text_size,
                      "chain %s: this data dir holds blocks %" PRIu64 "..%" PRIu64
                      ": blocks before %" PRIu64 " need a fresh --data-dir",
                      chain, first, last, first);
        else if (from > last + 1)
            snprintf (text, text_size,
                      "chain %s: this data dir holds blocks up to %" PRIu64
                      ": a backfill from %" PRIu64 " would leave %" PRIu64 "..%" PRIu64
                      " out: give --from %" PRIu64 " or less, or a fresh --data-dir",
                      chain, last, from, last + 1, from - 1, last + 1);
        else if (to <= last)
            snprintf (text, text_size,
                      "chain %s: blocks %" PRIu64 "..%" PRIu64 " are done already (the data dir "
                      "holds up to %" PRIu64 "): nothing to do",
                      chain, from, to, last);
        else
            *start = last + 1;
        result = *text ? (from < first || from > last + 1 ? BACKFILL_RANGE_REFUSED
                                                          : BACKFILL_RANGE_DONE)
                       : BACKFILL_RANGE_GO;
    }
    zstr_free (&key);
    return result;
}

void
backfill_range_test (bool verbose)
{
    if (verbose)
        printf (" * backfill_range: ");
    char template_ [] = "/tmp/evmtap-backfill-range-XXXXXX";
    char *tmp = mkdtemp (template_);
    assert (tmp);
    char err [256], text [256];
    checkpoint_t *checkpoint = checkpoint_open (tmp, err, sizeof (err));
    assert (checkpoint);
    uint64_t start = 0;

    //  A fresh data dir: from is the start, and is recorded, even when nothing is
    //  published before a restart (which may then start elsewhere).
    assert (backfill_range_check (checkpoint, "anvil", 200, 300, &start, text, sizeof (text))
            == BACKFILL_RANGE_GO);
    assert (start == 200);
    assert (backfill_range_check (checkpoint, "anvil", 100, 300, &start, text, sizeof (text))
            == BACKFILL_RANGE_GO);
    assert (start == 100);

    //  Blocks 100..150 published: the same command goes on after 150.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "anvil", 150, "0xab") == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    assert (backfill_range_check (checkpoint, "anvil", 100, 300, &start, text, sizeof (text))
            == BACKFILL_RANGE_GO);
    assert (start == 151 && *text == 0);
    //  So does a range that starts inside what is done, or right after it.
    assert (backfill_range_check (checkpoint, "anvil", 151, 400, &start, text, sizeof (text))
            == BACKFILL_RANGE_GO);
    assert (start == 151);
    //  Done: within 100..150.
    assert (backfill_range_check (checkpoint, "anvil", 100, 150, &start, text, sizeof (text))
            == BACKFILL_RANGE_DONE);
    assert (strstr (text, "blocks 100..150 are done already"));
    assert (backfill_range_check (checkpoint, "anvil", 120, 130, &start, text, sizeof (text))
            == BACKFILL_RANGE_DONE);
    //  Refused: before the first block, or past a gap.
    assert (backfill_range_check (checkpoint, "anvil", 99, 300, &start, text, sizeof (text))
            == BACKFILL_RANGE_REFUSED);
    assert (strstr (text, "holds blocks 100..150") && strstr (text, "fresh --data-dir"));
    assert (backfill_range_check (checkpoint, "anvil", 152, 300, &start, text, sizeof (text))
            == BACKFILL_RANGE_REFUSED);
    assert (strstr (text, "would leave 151..151 out") && strstr (text, "--from 151 or less"));

    //  A data dir of evmtap run (a checkpoint, no record): any start up to last + 1.
    assert (checkpoint_begin (checkpoint) == 0);
    assert (checkpoint_set_block (checkpoint, "mainnet", 1000, "0xcd") == 0);
    assert (checkpoint_commit (checkpoint) == 0);
    assert (backfill_range_check (checkpoint, "mainnet", 0, 2000, &start, text, sizeof (text))
            == BACKFILL_RANGE_GO);
    assert (start == 1001);
    checkpoint_destroy (&checkpoint);
    zdir_t *tree = zdir_new (tmp, NULL);
    assert (tree);
    zdir_remove (tree, true);
    zdir_destroy (&tree);
    if (verbose)
        printf ("OK\n");
}
