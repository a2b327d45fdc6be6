/*  metric: the actors' metric updates, batched (layout in metric.h). */
#include "evmtap.h"
#include "metric.h"
#include <math.h>

struct _metric_batch_t {
    metric_row_t *rows;    //  in the order they were put
    size_t size;
    size_t capacity;
    zhashx_t *index;    //  "op name labels" -> row number + 1 (SET and ADD rows)
};

static const msg_field_t s_row_fields [] = {
    MSG_INT (metric_row_t, op, METRIC_SET, METRIC_OBSERVE),
    MSG_NAME (metric_row_t, name, METRIC_NAME_MAX),
    MSG_NAME (metric_row_t, labels, METRIC_LABELS_MAX),
    MSG_I64 (metric_row_t, value),
};

static const msg_table_t s_row_table = MSG_TABLE ("row", 0, metric_row_t, s_row_fields);

static const msg_field_t s_batch_fields [] = {
    MSG_ROWS (metric_batch_t, rows, size, s_row_table),
};

const msg_table_t metric_table = MSG_TABLE ("metric", MSG_TYPE_METRIC, metric_batch_t,
                                            s_batch_fields);

metric_batch_t *
metric_batch_new (void)
{
    metric_batch_t *self = (metric_batch_t *) zmalloc (sizeof (metric_batch_t));
    assert (self);
    self->index = zhashx_new ();
    assert (self->index);
    return self;
}

//  Empties the rows (decoded or put alike: both are heap strings).
static void
s_clear (metric_batch_t *self)
{
    zhashx_t *index = self->index;
    self->index = NULL;
    msg_clear (&metric_table, self);
    self->index = index;
    self->capacity = 0;
    if (self->index)
        zhashx_purge (self->index);
}

void
metric_batch_destroy (metric_batch_t **self_p)
{
    assert (self_p);
    metric_batch_t *self = *self_p;
    if (self) {
        s_clear (self);
        zhashx_destroy (&self->index);
        free (self);
        *self_p = NULL;
    }
}

void
metric_batch_put (metric_batch_t *self, metric_op_t op, const char *name, const char *labels,
                  double value)
{
    assert (self && name && labels);
    assert (op >= METRIC_SET && op <= METRIC_OBSERVE);
    int64_t millionths = (int64_t) llround (value * 1e6);
    char *key = NULL;
    if (op != METRIC_OBSERVE) {
        key = zsys_sprintf ("%d %s %s", (int) op, name, labels);
        assert (key);
        size_t found = (size_t) (uintptr_t) zhashx_lookup (self->index, key);
        if (found) {
            metric_row_t *row = &self->rows [found - 1];
            row->value = op == METRIC_ADD ? row->value + millionths : millionths;
            zstr_free (&key);
            return;
        }
    }
    if (self->size == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->rows = (metric_row_t *) realloc (self->rows, self->capacity * sizeof (metric_row_t));
        assert (self->rows);
    }
    metric_row_t *row = &self->rows [self->size++];
    row->op = (int) op;
    row->name = strdup (name);
    row->labels = strdup (labels);
    assert (row->name && row->labels);
    row->value = millionths;
    if (key) {
        zhashx_insert (self->index, key, (void *) (uintptr_t) self->size);
        zstr_free (&key);
    }
}

size_t
metric_batch_size (metric_batch_t *self)
{
    return self->size;
}

const metric_row_t *
metric_batch_row (metric_batch_t *self, size_t index)
{
    assert (index < self->size);
    return &self->rows [index];
}

void
metric_batch_send (metric_batch_t *self, zsock_t *socket)
{
    if (!socket || self->size == 0)
        return;
    zframe_t *frame = msg_encode (&metric_table, self);
    if (zframe_send (&frame, socket, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&frame);
    s_clear (self);
}

int
metric_batch_decode (zframe_t *frame, metric_batch_t **self_p)
{
    metric_batch_t *self = metric_batch_new ();
    zhashx_t *index = self->index;
    int rc = msg_decode (&metric_table, frame, self);
    self->index = index;    //  decoding zeroed the struct
    if (rc) {
        metric_batch_destroy (&self);
        *self_p = NULL;
        return rc;
    }
    self->capacity = self->size;
    *self_p = self;
    return 0;
}

void
metric_test (bool verbose)
{
    if (verbose)
        printf (" * metric: ");
    metric_batch_t *batch = metric_batch_new ();
    metric_batch_put (batch, METRIC_ADD, "evmtap_x_total", "chain=\"a\"", 1);
    metric_batch_put (batch, METRIC_ADD, "evmtap_x_total", "chain=\"a\"", 2);
    metric_batch_put (batch, METRIC_SET, "evmtap_head_block", "chain=\"a\"", 7);
    metric_batch_put (batch, METRIC_SET, "evmtap_head_block", "chain=\"a\"", 9);
    metric_batch_put (batch, METRIC_OBSERVE, "evmtap_y_seconds", "", 0.25);
    metric_batch_put (batch, METRIC_OBSERVE, "evmtap_y_seconds", "", 0.5);
    assert (metric_batch_size (batch) == 4);
    assert (metric_batch_row (batch, 0)->value == 3000000);
    assert (metric_batch_row (batch, 1)->value == 9000000);

    zsock_t *pull = zsock_new_pull ("inproc://metric-test");
    zsock_t *push = zsock_new_push (">inproc://metric-test");
    assert (pull && push);
    metric_batch_send (batch, push);
    assert (metric_batch_size (batch) == 0);
    metric_batch_send (batch, push);    //  empty: nothing goes
    metric_batch_put (batch, METRIC_ADD, "evmtap_x_total", "chain=\"a\"", 1);
    assert (metric_batch_row (batch, 0)->value == 1000000);    //  a new batch after a send
    zframe_t *frame = zframe_recv (pull);
    assert (frame && msg_type (frame) == MSG_TYPE_METRIC);
    metric_batch_t *copy;
    assert (metric_batch_decode (frame, &copy) == 0);
    assert (metric_batch_size (copy) == 4);
    const metric_row_t *row = metric_batch_row (copy, 3);
    assert (row->op == METRIC_OBSERVE && streq (row->name, "evmtap_y_seconds")
            && streq (row->labels, "") && row->value == 500000);
    //  Decoded rows coalesce no further: a put after decoding appends.
    metric_batch_destroy (&copy);
    zframe_destroy (&frame);
    assert (zsock_events (pull) == 0 || !(zsock_events (pull) & ZMQ_POLLIN));

    //  An op out of range is malformed.
    msg_writer_t writer;
    msg_writer_init (&writer, MSG_TYPE_METRIC, 1);
    msg_write_array (&writer, 1);
    msg_write_array (&writer, 4);
    msg_write_u64 (&writer, 9);
    msg_write_str (&writer, "evmtap_x_total");
    msg_write_str (&writer, "");
    msg_write_i64 (&writer, 1);
    frame = msg_writer_frame (&writer);
    assert (metric_batch_decode (frame, &copy) == -2 && copy == NULL);
    zframe_destroy (&frame);

    zsock_destroy (&push);
    zsock_destroy (&pull);
    metric_batch_destroy (&batch);
    metric_batch_destroy (&batch);
    if (verbose)
        printf ("OK\n");
}
