/*  verify_block: proves one block answer (and its receipts answer) with block_verify, for
    behaviour tests that take the answers from a node with curl (tests/0065-verify-anvil.sh)
    until the fetch worker verifies what it fetches itself.

    Usage: evmtap_verify_block BLOCK.json [RECEIPTS.json]
    Each file is a JSON-RPC answer ({"result": ...}) or the bare result. Prints one JSON line:
    {"rc": "ok"|"partial"|"mismatch"|"malformed", "verified": "full"|"header"|"none",
     "proven": [parts of "hash", "transactions", "withdrawals", "receipts"], "field", "list",
     "index", "expected", "computed", "reason", "network_form"} and exits 0 when the block is proven (rc ok),
    1 when not, 2 on a usage error or an unreadable file. */
#include "evmtap.h"
#include "block_verify.h"

//  The file's JSON (yours), or NULL with a message.
static cJSON *
s_read (const char *path)
{
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0 ? zfile_read (file, zfile_cursize (file), 0)
                                                      : NULL;
    zfile_destroy (&file);
    cJSON *doc = chunk ? cJSON_ParseWithLength ((const char *) zchunk_data (chunk),
                                                zchunk_size (chunk))
                       : NULL;
    zchunk_destroy (&chunk);
    if (!doc)
        fprintf (stderr, "evmtap_verify_block: %s: unreadable or not JSON\n", path);
    return doc;
}

static const cJSON *
s_result (const cJSON *doc)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive (doc, "result");
    return result ? result : doc;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argc > 3 || argv [1][0] == '-') {
        fprintf (stderr, "usage: evmtap_verify_block BLOCK.json [RECEIPTS.json]\n");
        return 2;
    }
    cJSON *block = s_read (argv [1]);
    cJSON *receipts = argc == 3 ? s_read (argv [2]) : NULL;
    if (!block || (argc == 3 && !receipts)) {
        cJSON_Delete (block);
        cJSON_Delete (receipts);
        return 2;
    }
    static const char *names [] = {"ok", "partial", "mismatch", "malformed"};
    block_verifier_t *verifier = block_verifier_new ();
    block_check_t check;
    block_verify_rc_t rc = block_verifier_check (verifier, s_result (block),
                                                 receipts ? s_result (receipts) : NULL, &check);
    cJSON *out = cJSON_CreateObject ();
    cJSON_AddStringToObject (out, "rc", names [rc]);
    cJSON_AddStringToObject (out, "verified", block_check_level (&check));
    cJSON *proven = cJSON_AddArrayToObject (out, "proven");
    static const struct {
        unsigned bit;
        const char *name;
    } parts [] = {{BLOCK_PROVEN_HASH, "hash"},
                  {BLOCK_PROVEN_TRANSACTIONS, "transactions"},
                  {BLOCK_PROVEN_WITHDRAWALS, "withdrawals"},
                  {BLOCK_PROVEN_RECEIPTS, "receipts"}};
    for (size_t part = 0; part < sizeof (parts) / sizeof (parts [0]); part++)
        if (check.proven & parts [part].bit)
            cJSON_AddItemToArray (proven, cJSON_CreateString (parts [part].name));
    cJSON_AddStringToObject (out, "field", check.field);
    cJSON_AddStringToObject (out, "list", check.list);
    cJSON_AddNumberToObject (out, "index", (double) check.index);
    cJSON_AddStringToObject (out, "expected", check.expected);
    cJSON_AddStringToObject (out, "computed", check.computed);
    cJSON_AddStringToObject (out, "reason", check.reason);
    cJSON_AddBoolToObject (out, "network_form", check.network_form);
    char *text = cJSON_PrintUnformatted (out);
    printf ("%s\n", text);
    free (text);
    cJSON_Delete (out);
    block_verifier_destroy (&verifier);
    cJSON_Delete (block);
    cJSON_Delete (receipts);
    return rc == BLOCK_VERIFY_OK ? 0 : 1;
}
