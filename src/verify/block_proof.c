/*  block_proof: the block as fetched, assembled for block_verify and judged at a level. */
#include "evmtap.h"
#include "block_proof.h"
#include "chain_samples.h"

struct _block_proof_t {
    block_proof_mode_t mode;
    block_verifier_t *verifier;
};

//  The block fields whose layouts evmtap knows: one beyond them in a block whose hash
//  differs is a header layout it does not know (an L2's), not an edit it can name.
static const char *s_known_fields [] = {"hash",
                                        "parentHash",
                                        "sha3Uncles",
                                        "miner",
                                        "stateRoot",
                                        "transactionsRoot",
                                        "receiptsRoot",
                                        "logsBloom",
                                        "difficulty",
                                        "number",
                                        "gasLimit",
                                        "gasUsed",
                                        "timestamp",
                                        "extraData",
                                        "mixHash",
                                        "nonce",
                                        "baseFeePerGas",
                                        "withdrawalsRoot",
                                        "blobGasUsed",
                                        "excessBlobGas",
                                        "parentBeaconBlockRoot",
                                        "requestsHash",
                                        "size",
                                        "totalDifficulty",
                                        "transactions",
                                        "uncles",
                                        "withdrawals",
                                        NULL};

block_proof_t *
block_proof_new (block_proof_mode_t mode)
{
    block_proof_t *self = (block_proof_t *) zmalloc (sizeof (block_proof_t));
    assert (self);
    self->mode = mode;
    self->verifier = block_verifier_new ();
    return self;
}

void
block_proof_destroy (block_proof_t **self_p)
{
    assert (self_p);
    block_proof_t *self = *self_p;
    if (!self)
        return;
    block_verifier_destroy (&self->verifier);
    free (self);
    *self_p = NULL;
}

//  An array of references to items [0..count) (which stay the caller's).
static cJSON *
s_array_of (const cJSON *const *items, size_t count)
{
    cJSON *array = cJSON_CreateArray ();
    assert (array);
    for (size_t index = 0; index < count; index++)
        cJSON_AddItemReferenceToArray (array, (cJSON *) items [index]);
    return array;
}

//  The block with its hashes replaced by the transactions fetched for them, by reference.
static cJSON *
s_assembled (const cJSON *block, const cJSON *const *txs, size_t tx_count)
{
    cJSON *view = cJSON_CreateObject ();
    assert (view);
    for (const cJSON *item = block->child; item; item = item->next)
        if (item->string && !streq (item->string, "transactions"))
            cJSON_AddItemReferenceToObject (view, item->string, (cJSON *) item);
    cJSON_AddItemToObject (view, "transactions", s_array_of (txs, tx_count));
    return view;
}

//  The first field of the block that evmtap knows no layout for, or NULL.
static const char *
s_unknown_field (const cJSON *block)
{
    for (const cJSON *item = block->child; item; item = item->next) {
        if (!item->string)
            continue;
        const char **known = s_known_fields;
        while (*known && !streq (*known, item->string))
            known++;
        if (!*known)
            return item->string;
    }
    return NULL;
}

block_proof_verdict_t
block_proof_check (block_proof_t *self, const cJSON *block, const cJSON *const *txs,
                   size_t tx_count, const cJSON *receipts, const cJSON *const *receipt_items,
                   size_t receipt_count, block_check_t *check, const char **level)
{
    assert (self && check && level);
    memset (check, 0, sizeof (*check));
    check->index = -1;
    *level = "none";
    if (self->mode == BLOCK_PROOF_OFF)
        return BLOCK_PROOF_PUBLISH;
    cJSON *assembled = txs && cJSON_IsObject (block) ? s_assembled (block, txs, tx_count) : NULL;
    cJSON *listed = receipt_items && !receipts ? s_array_of (receipt_items, receipt_count) : NULL;
    const cJSON *given = receipts ? receipts : listed;
    if (self->mode == BLOCK_PROOF_HEADER)
        given = NULL;
    const cJSON *whole = assembled ? assembled : block;
    block_verify_rc_t rc = block_verifier_check (self->verifier, whole, given, check);
    const char *unknown = NULL;
    if (rc == BLOCK_VERIFY_MISMATCH && streq (check->field, "hash") && !check->list [0])
        unknown = s_unknown_field (whole);
    cJSON_Delete (assembled);
    cJSON_Delete (listed);
    if (unknown) {
        check->rc = BLOCK_VERIFY_PARTIAL;
        snprintf (check->reason, sizeof (check->reason),
                  "the header holds %s, a field of a layout evmtap does not know: its hash is "
                  "not proven",
                  unknown);
        return BLOCK_PROOF_PARTIAL;
    }
    if (rc == BLOCK_VERIFY_MISMATCH || rc == BLOCK_VERIFY_MALFORMED)
        return BLOCK_PROOF_REFETCH;
    //  A transaction of a type evmtap cannot encode leaves its root unproven, but the
    //  header and the other transactions' hashes are: "header", as far as it goes.
    if (rc == BLOCK_VERIFY_PARTIAL)
        *level = check->proven & BLOCK_PROVEN_HASH ? "header" : "none";
    else
        *level = block_check_level (check);
    return rc == BLOCK_VERIFY_PARTIAL ? BLOCK_PROOF_PARTIAL : BLOCK_PROOF_PUBLISH;
}

void
block_proof_test (bool verbose)
{
    if (verbose)
        printf (" * block_proof: ");
    cJSON *doc = chain_samples_load ("testchain-hive/1.json");
    cJSON *receipts_doc = chain_samples_load ("testchain-hive/receipts/1.json");
    assert (doc && receipts_doc);
    cJSON *block = chain_samples_result (doc);
    cJSON *receipts = chain_samples_result (receipts_doc);
    block_check_t check;
    const char *level;
    block_proof_t *self = block_proof_new (BLOCK_PROOF_FULL);
    assert (block_proof_check (self, block, NULL, 0, receipts, NULL, 0, &check, &level)
            == BLOCK_PROOF_PUBLISH);
    assert (streq (level, "full"));
    assert (block_proof_check (self, block, NULL, 0, NULL, NULL, 0, &check, &level)
            == BLOCK_PROOF_PUBLISH);
    assert (streq (level, "header"));

    //  Receipts one answer each, and a block assembled from its hashes (--fetch hashes).
    const cJSON *items [16], *txs [16];
    size_t count = 0, tx_count = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, receipts)
        items [count++] = item;
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive (block, "transactions");
    cJSON *hashes = cJSON_AddArrayToObject (block, "transactions");
    cJSON_ArrayForEach (item, list) {
        txs [tx_count++] = item;
        cJSON_AddItemToArray (hashes,
                              cJSON_CreateString (cJSON_GetObjectItem (item, "hash")->valuestring));
    }
    assert (block_proof_check (self, block, txs, tx_count, NULL, items, count, &check, &level)
            == BLOCK_PROOF_PUBLISH);
    assert (streq (level, "full"));
    //  A dropped transaction, a reordered list: fetched again.
    assert (block_proof_check (self, block, txs, tx_count - 1, NULL, items, count, &check, &level)
            == BLOCK_PROOF_REFETCH);
    assert (streq (check.field, "transactionsRoot"));
    const cJSON *swap = txs [0];
    txs [0] = txs [1];
    txs [1] = swap;
    assert (block_proof_check (self, block, txs, tx_count, NULL, items, count, &check, &level)
            == BLOCK_PROOF_REFETCH);
    assert (streq (check.field, "transactionsRoot"));
    //  Hashes alone prove nothing of the transactions.
    assert (block_proof_check (self, block, NULL, 0, NULL, NULL, 0, &check, &level)
            == BLOCK_PROOF_PARTIAL);
    assert (streq (level, "header"));

    //  --verify header leaves the receipts out; off proves nothing.
    block_proof_destroy (&self);
    self = block_proof_new (BLOCK_PROOF_HEADER);
    txs [1] = txs [0];
    txs [0] = swap;
    assert (block_proof_check (self, block, txs, tx_count, NULL, items, count, &check, &level)
            == BLOCK_PROOF_PUBLISH);
    assert (streq (level, "header"));
    block_proof_destroy (&self);
    self = block_proof_new (BLOCK_PROOF_OFF);
    assert (block_proof_check (self, block, NULL, 0, NULL, NULL, 0, &check, &level)
            == BLOCK_PROOF_PUBLISH);
    assert (streq (level, "none"));
    block_proof_destroy (&self);

    //  An edited header field is fetched again; a field of a layout evmtap does not know
    //  makes the hash unproven, said and published.
    self = block_proof_new (BLOCK_PROOF_FULL);
    cJSON_Delete (cJSON_DetachItemFromObjectCaseSensitive (block, "transactions"));
    cJSON_AddItemToObject (block, "transactions", list);
    cJSON_ReplaceItemInObjectCaseSensitive (block, "gasUsed", cJSON_CreateString ("0x1"));
    assert (block_proof_check (self, block, NULL, 0, receipts, NULL, 0, &check, &level)
            == BLOCK_PROOF_REFETCH);
    assert (streq (check.field, "hash"));
    cJSON_AddStringToObject (block, "l1BlockNumber", "0x10");
    assert (block_proof_check (self, block, NULL, 0, receipts, NULL, 0, &check, &level)
            == BLOCK_PROOF_PARTIAL);
    assert (strstr (check.reason, "l1BlockNumber") && streq (level, "none"));
    block_proof_destroy (&self);
    cJSON_Delete (doc);
    cJSON_Delete (receipts_doc);
    if (verbose)
        printf ("OK\n");
}
