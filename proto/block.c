/*  block: a normalized block's header and body (layout in block.h). */
#include "evmtap.h"
#include "block.h"
#include "msg.h"

block_body_t *
block_body_new (size_t tx_count)
{
    block_body_t *self = (block_body_t *) zmalloc (sizeof (block_body_t));
    assert (self);
    if (tx_count) {
        self->txs = (block_tx_t *) calloc (tx_count, sizeof (block_tx_t));
        assert (self->txs);
    }
    self->tx_count = tx_count;
    return self;
}

void
block_body_destroy (block_body_t **self_p)
{
    assert (self_p);
    block_body_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->tx_count; index++)
        free (self->txs [index].json);
    free (self->txs);
    block_body_set_logs (self, 0);
    free (self->meta_json);
    free (self);
    *self_p = NULL;
}

void
block_body_set_logs (block_body_t *self, size_t count)
{
    for (size_t index = 0; index < self->log_count; index++)
        free (self->logs [index].json);
    free (self->logs);
    self->logs = count ? (block_log_t *) calloc (count, sizeof (block_log_t)) : NULL;
    assert (self->logs || !count);
    self->log_count = count;
}

zframe_t *
block_body_encode (const block_body_t *self)
{
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_BLOCK_BODY, 3);
    msg_write_strn (&writer, self->meta_json ? self->meta_json : "{}",
                    self->meta_json ? self->meta_len : 2);
    msg_write_array (&writer, self->tx_count);
    for (size_t index = 0; index < self->tx_count; index++) {
        const block_tx_t *tx = &self->txs [index];
        msg_write_array (&writer, 5);
        msg_write_str (&writer, tx->hash);
        msg_write_str (&writer, tx->from);
        if (*tx->to)
            msg_write_str (&writer, tx->to);
        else
            msg_write_nil (&writer);
        msg_write_bool (&writer, tx->input_empty);
        msg_write_strn (&writer, tx->json ? tx->json : "{}", tx->json ? tx->json_len : 2);
    }
    msg_write_array (&writer, self->log_count);
    for (size_t index = 0; index < self->log_count; index++) {
        const block_log_t *log = &self->logs [index];
        msg_write_array (&writer, 3);
        msg_write_u64 (&writer, log->tx_index);
        msg_write_u64 (&writer, log->log_index);
        msg_write_strn (&writer, log->json ? log->json : "{}", log->json ? log->json_len : 2);
    }
    return msg_writer_frame (&writer);
}

int
block_body_decode (zframe_t *frame, block_body_t **self_p)
{
    *self_p = NULL;
    msg_reader_t reader;
    block_body_t *self = NULL;
    if (msg_reader_init (&reader, frame, MSG_TYPE_BLOCK_BODY) == 0) {
        size_t meta_len;
        char *meta = msg_read_strdup_len (&reader, &meta_len);
        const msgpack_object *items;
        uint32_t count, index_saved;
        uint32_t tx_count = msg_read_enter (&reader, &items, &count, &index_saved);
        self = block_body_new (tx_count);
        self->meta_json = meta ? meta : strdup ("");
        self->meta_len = meta_len;
        for (uint32_t index = 0; index < tx_count && !reader.failed; index++) {
            block_tx_t *tx = &self->txs [index];
            const msgpack_object *tx_items;
            uint32_t tx_fields, tx_index;
            msg_read_enter (&reader, &tx_items, &tx_fields, &tx_index);
            msg_read_str (&reader, tx->hash, sizeof (tx->hash));
            msg_read_str (&reader, tx->from, sizeof (tx->from));
            msg_read_str (&reader, tx->to, sizeof (tx->to));
            tx->input_empty = msg_read_bool (&reader);
            tx->json = msg_read_strdup_len (&reader, &tx->json_len);
            if (!tx->json)
                tx->json = strdup ("");
            msg_read_leave (&reader, tx_items, tx_fields, tx_index);
        }
        msg_read_leave (&reader, items, count, index_saved);
        uint32_t log_count = msg_read_enter (&reader, &items, &count, &index_saved);
        block_body_set_logs (self, reader.failed ? 0 : log_count);
        for (uint32_t index = 0; index < log_count && !reader.failed; index++) {
            block_log_t *log = &self->logs [index];
            const msgpack_object *log_items;
            uint32_t log_fields, log_saved;
            msg_read_enter (&reader, &log_items, &log_fields, &log_saved);
            uint64_t tx_index = msg_read_u64 (&reader);
            //  Checked before narrowing: a log names one of this block's transactions.
            if (tx_index >= tx_count)
                reader.failed = true;
            log->tx_index = (uint32_t) tx_index;
            log->log_index = msg_read_u64 (&reader);
            log->json = msg_read_strdup_len (&reader, &log->json_len);
            if (!log->json)
                log->json = strdup ("");
            msg_read_leave (&reader, log_items, log_fields, log_saved);
        }
        msg_read_leave (&reader, items, count, index_saved);
    }
    int rc = msg_reader_status (&reader);
    msg_reader_done (&reader);
    if (rc == 0)
        *self_p = self;
    else
        block_body_destroy (&self);
    return rc;
}

void
block_header_write (msg_writer_t *writer, const block_header_t *header)
{
    msg_write_u64 (writer, header->number);
    msg_write_str (writer, header->hash);
    msg_write_str (writer, header->parent_hash);
    msg_write_u64 (writer, header->timestamp);
    msg_write_u64 (writer, header->tx_count);
}

void
block_header_read (msg_reader_t *reader, block_header_t *header)
{
    header->number = msg_read_u64 (reader);
    msg_read_str (reader, header->hash, sizeof (header->hash));
    msg_read_str (reader, header->parent_hash, sizeof (header->parent_hash));
    header->timestamp = msg_read_u64 (reader);
    uint64_t tx_count = msg_read_u64 (reader);
    if (tx_count > UINT32_MAX)
        reader->failed = true;
    header->tx_count = (uint32_t) tx_count;
}
