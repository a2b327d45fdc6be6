/*  fuzz_block_verify: libFuzzer target for the block verifier over JSON as a node could
    answer it.

    The input is JSON text: a block object (eth_getBlockByNumber's result), or an object
    {"block": {...}, "receipts": [...]} with its receipts. Besides the sanitizers, the target
    holds what block_verify.h promises: the rc is one of four and the check says the same;
    a mismatch names a field with two different values of the same length, both 0x hex; a
    part left unproven or a malformed answer says why; the level follows from what was
    proven; and a second check of the same input, with the verifier's buffers already
    used, gives the same verdict. */
#include "evmtap.h"
#include "block_verify.h"
#include "hexutil.h"

static block_verifier_t *s_verifier;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    s_verifier = block_verifier_new ();
    return 0;
}

static void
s_check_verdict (const block_check_t *check, block_verify_rc_t rc)
{
    if (rc != check->rc || (int) rc < BLOCK_VERIFY_OK || rc > BLOCK_VERIFY_MALFORMED)
        __builtin_trap ();
    if (!memchr (check->reason, 0, sizeof (check->reason))
        || !memchr (check->field, 0, sizeof (check->field)))
        __builtin_trap ();
    if (rc == BLOCK_VERIFY_OK && (check->field [0] || check->reason [0]))
        __builtin_trap ();
    if (rc != BLOCK_VERIFY_OK && !check->reason [0])
        __builtin_trap ();
    if (rc >= BLOCK_VERIFY_MISMATCH && !check->field [0])
        __builtin_trap ();
    if (rc == BLOCK_VERIFY_MISMATCH
        && (!hex_is_valid (check->expected) || !hex_is_valid (check->computed)
            || strlen (check->expected) != strlen (check->computed)
            || streq (check->expected, check->computed)))
        __builtin_trap ();
    //  Nothing is proven past the header without the header.
    if (check->proven & ~(unsigned) BLOCK_PROVEN_HASH && !(check->proven & BLOCK_PROVEN_HASH))
        __builtin_trap ();
    const char *level = block_check_level (check);
    if (streq (level, "full") && rc != BLOCK_VERIFY_OK)
        __builtin_trap ();
    if (!streq (level, "full") && !streq (level, "header") && !streq (level, "none"))
        __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cJSON *doc = cJSON_ParseWithLength ((const char *) data, size);
    if (!doc)
        return 0;
    const cJSON *block = cJSON_GetObjectItemCaseSensitive (doc, "block");
    const cJSON *receipts = cJSON_GetObjectItemCaseSensitive (doc, "receipts");
    if (!block)
        block = doc;
    block_check_t check, again;
    block_verify_rc_t rc = block_verifier_check (s_verifier, block, receipts, &check);
    s_check_verdict (&check, rc);
    if (block_verifier_check (s_verifier, block, receipts, &again) != rc
        || memcmp (&check, &again, sizeof (check)) != 0)
        __builtin_trap ();
    cJSON_Delete (doc);
    return 0;
}
