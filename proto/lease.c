/*  lease: the field tables of the key pool's worker protocol (see lease.h). */
#include "evmtap.h"
#include "lease.h"
#include <limits.h>
#include "msg.h"

//  One key of an ACQUIRE, as an item of its keys array.
typedef struct {
    const char *key;    //  a pool key
} s_key_item_t;

static const msg_field_t s_key_item_fields [] = {
    MSG_NAME (s_key_item_t, key, SIZE_MAX),
};

static const msg_table_t s_key_item_table = MSG_TABLE ("key", 0, s_key_item_t, s_key_item_fields);

static const msg_field_t s_acquire_fields [] = {
    MSG_U64 (lease_t, id),         MSG_NAME (lease_t, holder, SIZE_MAX),
    MSG_I64 (lease_t, ttl_ms),     MSG_U64 (lease_t, daily),
    MSG_BOOL (lease_t, daily_utc), MSG_ITEMS (lease_t, keys, key_count, s_key_item_table),
};

static const msg_field_t s_renew_fields [] = {
    MSG_U64 (lease_t, id),
    MSG_TEXT (lease_t, key),
    MSG_TEXT (lease_t, token),
    MSG_I64 (lease_t, ttl_ms),
};

static const msg_field_t s_release_fields [] = {
    MSG_U64 (lease_t, id),      MSG_TEXT (lease_t, key),    MSG_TEXT (lease_t, token),
    MSG_I64 (lease_t, cool_ms), MSG_I64 (lease_t, park_ms),
};

static const msg_field_t s_spend_fields [] = {
    MSG_U64 (lease_t, id),       MSG_TEXT (lease_t, key),  MSG_NAME (lease_t, method, SIZE_MAX),
    MSG_U64 (lease_t, requests), MSG_U64 (lease_t, units),
};

static const msg_field_t s_refund_fields [] = {
    MSG_U64 (lease_t, id),     MSG_TEXT (lease_t, key),  MSG_NAME (lease_t, method, SIZE_MAX),
    MSG_U64 (lease_t, minute), MSG_U64 (lease_t, units),
};

static const msg_field_t s_granted_fields [] = {
    MSG_U64 (lease_t, id),           MSG_TEXT (lease_t, key),      MSG_TEXT (lease_t, token),
    MSG_U64 (lease_t, requests_24h), MSG_U64 (lease_t, units_24h), MSG_U64 (lease_t, units_today),
};

static const msg_field_t s_busy_fields [] = {
    MSG_U64 (lease_t, id),
    MSG_INT (lease_t, leased, 0, INT_MAX),
    MSG_INT (lease_t, cooling, 0, INT_MAX),
    MSG_INT (lease_t, parked, 0, INT_MAX),
    MSG_I64 (lease_t, soonest_ms),
};

static const msg_field_t s_answer_fields [] = {
    MSG_U64 (lease_t, id),
    MSG_I64 (lease_t, status),
    MSG_TEXT (lease_t, reason),
};

//  By type, from MSG_TYPE_LEASE_ACQUIRE on.
static const msg_table_t s_tables [] = {
    MSG_TABLE ("lease_acquire", MSG_TYPE_LEASE_ACQUIRE, lease_t, s_acquire_fields),
    MSG_TABLE ("lease_renew", MSG_TYPE_LEASE_RENEW, lease_t, s_renew_fields),
    MSG_TABLE ("lease_release", MSG_TYPE_LEASE_RELEASE, lease_t, s_release_fields),
    MSG_TABLE ("lease_spend", MSG_TYPE_LEASE_SPEND, lease_t, s_spend_fields),
    MSG_TABLE ("lease_granted", MSG_TYPE_LEASE_GRANTED, lease_t, s_granted_fields),
    MSG_TABLE ("lease_busy", MSG_TYPE_LEASE_BUSY, lease_t, s_busy_fields),
    MSG_TABLE ("lease_answer", MSG_TYPE_LEASE_ANSWER, lease_t, s_answer_fields),
    MSG_TABLE ("lease_refund", MSG_TYPE_LEASE_REFUND, lease_t, s_refund_fields),
};

static const msg_family_t s_family = {s_tables, sizeof (s_tables) / sizeof (s_tables [0]),
                                      MSG_TYPE_LEASE_ACQUIRE};

const msg_table_t *
lease_table (msg_type_t type)
{
    return msg_family_table (&s_family, type);
}

zframe_t *
lease_encode (const lease_t *self)
{
    const msg_table_t *table = lease_table (self->type);
    assert (table);
    return msg_encode (table, self);
}

int
lease_decode (zframe_t *frame, lease_t *self)
{
    return msg_family_decode (&s_family, frame, self, &self->type);
}

void
lease_clear (lease_t *self)
{
    const msg_table_t *table = lease_table (self->type);
    if (table)
        msg_clear (table, self);
}

uint64_t
lease_id (zframe_t *frame)
{
    int type = msg_type (frame);
    return type >= 0 && lease_table ((msg_type_t) type) ? msg_first_u64 (frame) : 0;
}

char *
lease_print (const lease_t *self)
{
    const msg_table_t *table = lease_table (self->type);
    assert (table);
    return msg_print (table, self);
}
