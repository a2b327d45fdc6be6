/*  run: `evmtap run`, the pipeline (pipeline.c) over the options until every chain's --to,
    a signal and its drain, or a failure, logging the head pollers' figures on the way. */
#include "evmtap.h"
#include "run.h"
#include "options.h"
#include "pipeline.h"

int
run_main (int argc, char **argv, bool (*signalled) (void *arg), void *arg)
{
    char err [512] = "";
    options_t *options = options_new ();
    int rc = options_parse_run (options, argc, argv, stdout, err, sizeof (err));
    if (rc != 0) {
        if (rc < 0)
            fprintf (stderr, "evmtap run: %s\n", err);
        options_destroy (&options);
        return rc > 0 ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
    }
    pipeline_t *pipeline = pipeline_new (options, "run", signalled, arg);
    int exit_code = pipeline_prepare (pipeline);
    if (exit_code == EVMTAP_EXIT_OK)
        exit_code = pipeline_start (pipeline);
    if (exit_code == EVMTAP_EXIT_OK)
        exit_code = pipeline_wait (pipeline, NULL, 0, NULL);
    pipeline_destroy (&pipeline);
    options_destroy (&options);
    return exit_code;
}
