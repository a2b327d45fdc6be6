/*  sink: the kinds of sink the broker writes to (README "Output"). Each has its module in
    this folder: files (NDJSON per topic and day), stdout (one line per message) and Kafka;
    the checkpoint records how far each one got. */
#ifndef SINK_H_INCLUDED
#define SINK_H_INCLUDED

typedef enum { SINK_FILES = 0, SINK_STDOUT = 1, SINK_KAFKA = 2 } sink_kind_t;

#endif
