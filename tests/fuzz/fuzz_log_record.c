/*  fuzz_log_record: libFuzzer target for the internal log record that the decoder actor
    reads from a batch (log_record_parse), and the decoded log and token transfer it makes.

    Input: the record's JSON text, any bytes. Besides the sanitizers, the target holds the
    module to log_record.h: a refused record gets a reason; an accepted one gives a decoded
    log and maybe a token transfer that are valid JSON. Since the decoder keeps one record
    for all its logs, the input is also parsed into a record that already held another log
    (other topics, other data), and must give the same answer and the same records. */
#include "evmtap.h"
#include "fuzz_log_check.h"
#include "call_decoder.h"
#include "log_record.h"

//  A log that fills the record's scratch first: two words of data, an unknown topic.
#define S_PREVIOUS_HEAD                                                                     \
    "{\"hash\":\"0x6742cd57e6aefce4b96887bb3090371ac49414c6b45a21e43d9e41e0ea9ed5ab\","     \
    "\"blockNumber\":18000000,"                                                             \
    "\"blockHash\":\"0x2d5e3f4b1a6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60\"," \
    "\"chainId\":1,\"transactionIndex\":1,\"logIndex\":5,"                                  \
    "\"address\":\"0xdac17f958d2ee523a2206206994597c13d831ec7\",\"topics\":["               \
    "\"0x00000000000000000000000000000000000000000000000000000000000000aa\"],\"data\":\"0x"

static call_decoder_t *s_decoder;
static char *s_previous;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_decoder = s_fuzz_decoder_new ();
    char words [2 * 64 + 1];
    memset (words, 'f', sizeof words - 1);
    words [sizeof words - 1] = 0;
    s_previous = zsys_sprintf ("%s%s\"}", S_PREVIOUS_HEAD, words);
    return 0;
}

//  Parses the input into record; returns its records (or the reason) as one heap string.
static char *
s_run (log_record_t *record, const uint8_t *data, size_t size)
{
    char err [256];
    err [0] = 0;
    if (log_record_parse (record, (const char *) data, size, err, sizeof err) == 0)
        return s_fuzz_log_outputs (record, s_decoder);
    if (!memchr (err, 0, sizeof err) || strncmp (err, "log record: ", 12) != 0)
        __builtin_trap ();
    return zsys_sprintf ("refused: %s", err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    log_record_t *fresh = log_record_new ();
    char *first = s_run (fresh, data, size);
    log_record_destroy (&fresh);

    log_record_t *used = log_record_new ();
    char err [256];
    if (log_record_parse (used, s_previous, strlen (s_previous), err, sizeof err))
        __builtin_trap ();
    char *outputs = s_fuzz_log_outputs (used, s_decoder);
    zstr_free (&outputs);
    char *second = s_run (used, data, size);
    log_record_destroy (&used);

    if (strcmp (first, second) != 0)
        __builtin_trap ();
    zstr_free (&first);
    zstr_free (&second);
    return 0;
}
