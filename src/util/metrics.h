/*  metrics: a registry of Prometheus metric families and their samples, rendered as the
    text exposition format (version 0.0.4). It knows no evmtap metric: its owner declares
    the families (so that each has its # HELP and # TYPE lines before any sample exists),
    then sets, adds and observes samples by name and label set. Not thread-safe: one
    owner (@locality the metrics actor). */
#ifndef METRICS_H_INCLUDED
#define METRICS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef enum { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM } metrics_type_t;

typedef struct _metrics_t metrics_t;

metrics_t *metrics_new (void);
void metrics_destroy (metrics_t **self_p);

//  Declares a family, rendered in declaration order. A histogram takes its bucket upper
//  bounds, ascending (borrowed: they must outlive the registry); others pass NULL, 0.
//  0, or -1 when the name is taken or not a Prometheus metric name.
int metrics_declare (metrics_t *self, const char *name, metrics_type_t type, const char *help,
                     const double *bounds, size_t bound_count);
//  Sets a gauge's sample. 0, or -1 when the family is unknown, no gauge, or the labels are
//  not a label set as metrics_labels writes.
int metrics_set (metrics_t *self, const char *name, const char *labels, double value);
//  Adds to a counter's sample (delta >= 0) or a gauge's. 0 or -1 (as metrics_set, and a
//  negative delta on a counter).
int metrics_add (metrics_t *self, const char *name, const char *labels, double delta);
//  Counts one observation in a histogram's buckets. 0 or -1 (as metrics_set).
int metrics_observe (metrics_t *self, const char *name, const char *labels, double value);
//  A counter's or gauge's sample: 0 with *value set, or -1 when there is none.
int metrics_get (metrics_t *self, const char *name, const char *labels, double *value);
//  Whether a family of that name is declared.
bool metrics_known (metrics_t *self, const char *name);
//  The whole registry as exposition text; yours to free.
char *metrics_render (metrics_t *self);

//  Writes a label set, `key="value",...`, from NULL-terminated key, value pairs, the values
//  escaped as the format says (\\, \", \n), into buffer. 0, or -1 when it does not fit.
int metrics_labels (char *buffer, size_t size, ...);

void metrics_test (bool verbose);

#endif
