/*  main: the evmtap command. Parses the command line and calls the command: run (run.c),
    backfill (backfill.c), decode (cmd_decode.c), keys (cmd_keys.c), version. It owns the
    process's signals, which run and backfill read to drain in order. Exit codes: README
    "Stopping and exit codes". */
#include "evmtap.h"
#include "backfill.h"
#include "cmd_cert.h"
#include "cmd_ctl.h"
#include "cmd_decode.h"
#include "cmd_keys.h"
#include "cmd_worker.h"
#include "run.h"

//  Signals counted by our own handler: CZMQ's would interrupt every actor at once, and
//  the drain must go in order. A second signal leaves at once.
static volatile sig_atomic_t s_signals = 0;

static void
s_signal_handler (int signum)
{
    (void) signum;
    if (++s_signals >= 2)
        _exit (EVMTAP_EXIT_UNDRAINED);
}

static bool
s_signalled (void *arg)
{
    (void) arg;
    return s_signals > 0;
}

static void
s_install_signals (void)
{
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_signal_handler;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

static void
s_print_usage (FILE *out)
{
    fprintf (out,
             "evmtap %s: capture an EVM chain from JSON-RPC providers, classify and decode\n"
             "every transaction, and publish the records (Kafka, NDJSON files or stdout).\n\n"
             "Usage:\n"
             "  evmtap run [--config FILE] [flags]   follow the head (and catch up from --from)\n"
             "  evmtap backfill --from A --to B [--config FILE] [flags]\n"
             "                                       blocks A to B, resumable, with progress\n"
             "  evmtap decode [--abi FILE | --abis DIR] [--signatures FILE] [--to ADDR] CALLDATA\n"
             "                                       decode calldata (--log TOPICS DATA: a log)\n"
             "  evmtap worker --connect tcp://HOST:PORT [--workers N] [--redis URL]\n"
             "                                       fetch workers for a coordinator's --listen\n"
             "  evmtap keys [--redis URL] [--json]   the key pool: holder, usage, state\n"
             "  evmtap ctl [--endpoint E | --data-dir D] [--json] COMMAND [ARGS]\n"
             "                                       ask a running evmtap (STATUS, PAUSE...)\n"
             "  evmtap cert new DIR NAME             a CURVE certificate pair\n"
             "  evmtap version                       print the version\n"
             "  evmtap help | --help                 this text\n\n"
             "`evmtap run --help` and `evmtap backfill --help` list their flags. Exit codes:\n"
             "0 done, 1 failure, 2 usage or config error, 3 stopped with work left undone.\n",
             EVMTAP_VERSION);
}

int
main (int argc, char **argv)
{
    s_install_signals ();
    zsys_set_logstream (stderr);
    zsys_set_logident ("evmtap");
    if (argc < 2 || streq (argv [1], "--help") || streq (argv [1], "-h")
        || streq (argv [1], "help")) {
        s_print_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_OK;
    }
    if (streq (argv [1], "version") || streq (argv [1], "--version")) {
        printf ("evmtap %s\n", EVMTAP_VERSION);
        return EVMTAP_EXIT_OK;
    }
    if (streq (argv [1], "run"))
        return run_main (argc - 1, argv + 1, s_signalled, NULL);
    if (streq (argv [1], "backfill"))
        return backfill_main (argc - 1, argv + 1, s_signalled, NULL);
    if (streq (argv [1], "worker"))
        return cmd_worker_main (argc - 1, argv + 1, s_signalled, NULL);
    if (streq (argv [1], "keys"))
        return cmd_keys_main (argc - 1, argv + 1);
    if (streq (argv [1], "decode"))
        return cmd_decode_main (argc - 1, argv + 1);
    if (streq (argv [1], "ctl"))
        return cmd_ctl_main (argc - 1, argv + 1);
    if (streq (argv [1], "cert"))
        return cmd_cert_main (argc - 1, argv + 1);
    fprintf (stderr, "evmtap: unknown command '%s' (see evmtap --help)\n", argv [1]);
    return EVMTAP_EXIT_USAGE;
}
