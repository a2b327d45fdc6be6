/*  cmd_ctl: `evmtap ctl`: one request to a coordinator's control socket (proto/control.h)
    and its answer, printed for people (tables and sentences) or as the coordinator's JSON
    with --json (docs/control.md). The socket is the data dir's ipc://<data-dir>/control
    unless --endpoint names another; a non-local endpoint needs CURVE: the operator's
    certificate and the coordinator's public one. */
#include "evmtap.h"
#include "cmd_ctl.h"
#include "control.h"
#include "curve_auth.h"
#include <ctype.h>
#include <inttypes.h>

#define S_DEFAULT_DATA_DIR "./evmtap-data"
#define S_DEFAULT_TIMEOUT_S 5

typedef struct {
    const char *endpoint;        //  --endpoint, else from data_dir
    const char *data_dir;        //  --data-dir
    const char *curve_cert;      //  --curve-cert: the operator's certificate
    const char *curve_server;    //  --curve-server: the coordinator's public certificate
    bool json;
    double timeout_s;
    control_request_t request;
} s_args_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: evmtap ctl [--endpoint E | --data-dir D] [--json] [--timeout S]\n"
             "                  [--curve-cert FILE --curve-server FILE] COMMAND [ARGS]\n\n"
             "Asks a running evmtap run (or backfill) through its control socket.\n"
             "Commands:\n"
             "  STATUS       per chain: head, published, behind, blocks/s, workers, keys, sink\n"
             "  KEYS         the key pool, as evmtap keys (never a secret)\n"
             "  PAUSE        hand out no new block jobs (the blocks in flight are published)\n"
             "  RESUME       go on from the block after the last one published\n"
             "  SCALE N      run N in-process fetch workers per chain, from now on\n"
             "  BACKFILL A B publish blocks A to B beside the run's head, to its topics; the\n"
             "               same command resumes one that was stopped\n"
             "  RELOAD       load the ABIs and signatures again (as SIGHUP)\n"
             "  STOP         drain and stop, as SIGTERM\n\n"
             "  --endpoint E       the control socket (default ipc://<data-dir>/control)\n"
             "  --data-dir D       the coordinator's data dir (default " S_DEFAULT_DATA_DIR ")\n"
             "  --json             print the answer as JSON (docs/control.md)\n"
             "  --timeout S        wait at most S seconds for the answer (default %d)\n"
             "  --curve-cert FILE  this operator's certificate (evmtap cert new; FILE_secret\n"
             "                     beside it), required with a non-loopback tcp endpoint\n"
             "  --curve-server FILE  the coordinator's public certificate, likewise\n"
             "  -h, --help         this text\n\n"
             "Exit status: 0 done, 1 the coordinator cannot be reached in time or refused,\n"
             "2 usage error.\n",
             S_DEFAULT_TIMEOUT_S);
}

//  Reads a block number or a worker count. 0, or -1 when text is not a decimal number.
static int
s_number (const char *text, uint64_t *value)
{
    if (!text || !*text || strspn (text, "0123456789") != strlen (text) || strlen (text) > 19)
        return -1;
    *value = strtoull (text, NULL, 10);
    return 0;
}

//  The value of --name VALUE or --name=VALUE at argv[*index], or NULL when it is not that
//  option (*missing is set when the value is).
static const char *
s_option (int argc, char **argv, int *index, const char *name, bool *missing)
{
    const char *arg = argv [*index];
    size_t length = strlen (name);
    if (strncmp (arg, name, length) != 0)
        return NULL;
    if (arg [length] == '=')
        return arg + length + 1;
    if (arg [length])
        return NULL;
    if (*index + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv [++*index];
}

//  Parses the command line. 0, 1 when --help was printed, -1 on a usage error (said).
static int
s_parse (int argc, char **argv, s_args_t *args)
{
    args->data_dir = S_DEFAULT_DATA_DIR;
    args->timeout_s = S_DEFAULT_TIMEOUT_S;
    int index = 1;
    for (; index < argc && argv [index][0] == '-'; index++) {
        const char *arg = argv [index], *value;
        bool missing = false;
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_usage (stdout);
            return 1;
        }
        if (streq (arg, "--json"))
            args->json = true;
        else if ((value = s_option (argc, argv, &index, "--endpoint", &missing)))
            args->endpoint = value;
        else if ((value = s_option (argc, argv, &index, "--data-dir", &missing)))
            args->data_dir = value;
        else if ((value = s_option (argc, argv, &index, "--curve-cert", &missing)))
            args->curve_cert = value;
        else if ((value = s_option (argc, argv, &index, "--curve-server", &missing)))
            args->curve_server = value;
        else if ((value = s_option (argc, argv, &index, "--timeout", &missing))) {
            char *end = NULL;
            args->timeout_s = strtod (value, &end);
            if (!*value || *end || !(args->timeout_s > 0 && args->timeout_s <= 3600)) {
                fprintf (stderr,
                         "evmtap ctl: --timeout: '%s' is not a number of seconds "
                         "above 0, at most 3600\n",
                         value);
                return -1;
            }
        }
        else {
            fprintf (stderr, "evmtap ctl: %s: %s (see evmtap ctl --help)\n", arg,
                     missing ? "needs a value" : "unknown option");
            return -1;
        }
    }
    if (index >= argc) {
        fprintf (stderr, "evmtap ctl: give a command (see evmtap ctl --help)\n");
        return -1;
    }
    const char *verb = argv [index++];
    size_t length = strlen (verb);
    for (size_t at = 0; at < length && at + 1 < CONTROL_VERB_SIZE; at++)
        args->request.verb [at] = (char) toupper ((unsigned char) verb [at]);
    const char *known [] = {"STATUS", "KEYS",     "PAUSE",  "RESUME",
                            "SCALE",  "BACKFILL", "RELOAD", "STOP"};
    int wanted = -1;    //  how many arguments the command takes
    for (size_t at = 0; at < sizeof (known) / sizeof (known [0]); at++)
        if (length < CONTROL_VERB_SIZE && streq (args->request.verb, known [at]))
            wanted = streq (known [at], "SCALE") ? 1 : streq (known [at], "BACKFILL") ? 2 : 0;
    if (wanted < 0) {
        fprintf (stderr, "evmtap ctl: unknown command '%s' (see evmtap ctl --help)\n", verb);
        return -1;
    }
    if (argc - index != wanted) {
        fprintf (stderr, "evmtap ctl: %s takes %s\n", args->request.verb,
                 wanted == 0   ? "no argument"
                 : wanted == 1 ? "a number of workers"
                               : "A B");
        return -1;
    }
    if (wanted == 1 && (s_number (argv [index], &args->request.count) || args->request.count < 1)) {
        fprintf (stderr, "evmtap ctl: SCALE: '%s' is not a number of workers from 1\n",
                 argv [index]);
        return -1;
    }
    if (wanted == 2) {
        if (s_number (argv [index], &args->request.from)
            || s_number (argv [index + 1], &args->request.to)) {
            fprintf (stderr, "evmtap ctl: BACKFILL: give two block numbers A B\n");
            return -1;
        }
        if (args->request.to < args->request.from) {
            fprintf (stderr, "evmtap ctl: BACKFILL: %" PRIu64 " is below %" PRIu64 "\n",
                     args->request.to, args->request.from);
            return -1;
        }
    }
    return 0;
}

static void
s_print_status (cJSON *answer)
{
    cJSON *paused = cJSON_GetObjectItem (answer, "paused");
    printf ("%-16s %10s %10s %8s %9s %8s %22s %-8s\n", "CHAIN", "HEAD", "PUBLISHED", "BEHIND",
            "BLOCKS/S", "WORKERS", "KEYS LEASED/COOL/PARK", "SINK");
    cJSON *chain;
    cJSON_ArrayForEach (chain, cJSON_GetObjectItem (answer, "chains")) {
        cJSON *workers = cJSON_GetObjectItem (chain, "workers");
        cJSON *keys = cJSON_GetObjectItem (chain, "keys");
        cJSON *sink = cJSON_GetObjectItem (chain, "sink");
        cJSON *published = cJSON_GetObjectItem (chain, "published");
        char worker_text [32], key_text [48], published_text [24];
        snprintf (worker_text, sizeof (worker_text), "%d+%d",
                  cJSON_GetObjectItem (workers, "local")->valueint,
                  cJSON_GetObjectItem (workers, "remote")->valueint);
        if (cJSON_GetObjectItem (keys, "leased"))
            snprintf (key_text, sizeof (key_text), "%d/%d/%d",
                      cJSON_GetObjectItem (keys, "leased")->valueint,
                      cJSON_GetObjectItem (keys, "cooling")->valueint,
                      cJSON_GetObjectItem (keys, "parked")->valueint);
        else
            snprintf (key_text, sizeof (key_text), "-");
        if (cJSON_IsNumber (published))
            snprintf (published_text, sizeof (published_text), "%.0f", published->valuedouble);
        else
            snprintf (published_text, sizeof (published_text), "-");
        cJSON *head = cJSON_GetObjectItem (chain, "head");
        cJSON *behind = cJSON_GetObjectItem (chain, "behind");
        cJSON *rate = cJSON_GetObjectItem (chain, "blocks_per_s");
        printf ("%-16s %10.0f %10s %8.0f %9.2f %8s %22s %s %s\n",
                cJSON_GetObjectItem (chain, "chain")->valuestring, head ? head->valuedouble : 0,
                published_text, behind ? behind->valuedouble : 0, rate ? rate->valuedouble : 0,
                worker_text, key_text, cJSON_GetObjectItem (sink, "kind")->valuestring,
                cJSON_GetObjectItem (sink, "state")->valuestring);
        cJSON *backfill = cJSON_GetObjectItem (chain, "backfill");
        if (cJSON_IsObject (backfill))
            printf ("  backfill %s: next block %.0f of %.0f..%.0f\n",
                    cJSON_GetObjectItem (backfill, "stream")->valuestring,
                    cJSON_GetObjectItem (backfill, "next")->valuedouble,
                    cJSON_GetObjectItem (backfill, "from")->valuedouble,
                    cJSON_GetObjectItem (backfill, "to")->valuedouble);
    }
    printf ("%s\n", cJSON_IsTrue (paused) ? "paused: no new blocks are fetched (evmtap ctl RESUME)"
                                          : "running");
}

static void
s_print_keys (cJSON *answer)
{
    printf ("%-20s %-24s %-8s %-36s %14s %16s\n", "KEY", "PROVIDER", "STATE", "HOLDER",
            "REQUESTS_24H", "UNITS_24H");
    cJSON *key;
    cJSON_ArrayForEach (key, answer) {
        cJSON *holder = cJSON_GetObjectItem (key, "holder");
        printf ("%-20s %-24s %-8s %-36s %14.0f %16.0f\n",
                cJSON_GetObjectItem (key, "key")->valuestring,
                cJSON_GetObjectItem (key, "provider")->valuestring,
                cJSON_GetObjectItem (key, "state")->valuestring,
                cJSON_IsString (holder) ? holder->valuestring : "-",
                cJSON_GetObjectItem (key, "requests_24h")->valuedouble,
                cJSON_GetObjectItem (key, "units_24h")->valuedouble);
    }
}

//  The answer for people. -1 when it is not what this version of ctl knows how to print.
static int
s_print (const char *verb, const char *text)
{
    cJSON *answer = cJSON_Parse (text);
    if (!answer)
        return -1;
    if (streq (verb, "STATUS"))
        s_print_status (answer);
    else if (streq (verb, "KEYS"))
        s_print_keys (answer);
    else if (streq (verb, "PAUSE"))
        printf ("paused: no new blocks are fetched; the blocks in flight are published\n");
    else if (streq (verb, "RESUME"))
        printf ("resumed\n");
    else if (streq (verb, "SCALE"))
        printf ("%d fetch workers per chain\n",
                cJSON_GetObjectItem (answer, "workers")
                    ? cJSON_GetObjectItem (answer, "workers")->valueint
                    : 0);
    else if (streq (verb, "RELOAD"))
        printf ("reloaded the ABIs and signatures\n");
    else if (streq (verb, "STOP"))
        printf ("stopping: the blocks in flight are published, then it exits\n");
    else if (streq (verb, "BACKFILL") && cJSON_IsString (cJSON_GetObjectItem (answer, "message")))
        printf ("backfill %s\n", cJSON_GetObjectItem (answer, "message")->valuestring);
    else
        printf ("%s\n", text);
    cJSON_Delete (answer);
    return 0;
}

//  Sends the request and waits for its answer. Returns the exit code.
static int
s_call (s_args_t *args, const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    assert (sock);
    zsock_set_linger (sock, 0);
    if (!curve_auth_endpoint_is_local (endpoint)) {
        char err [512];
        if (curve_auth_client (sock, args->curve_cert, args->curve_server, err, sizeof (err))) {
            fprintf (stderr, "evmtap ctl: %s\n", err);
            zsock_destroy (&sock);
            return EVMTAP_EXIT_USAGE;
        }
    }
    if (zsock_connect (sock, "%s", endpoint)) {
        fprintf (stderr, "evmtap ctl: --endpoint %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return EVMTAP_EXIT_USAGE;
    }
    args->request.id = (uint64_t) getpid () << 16 | (uint64_t) (zclock_time () & 0xffff);
    if (args->request.id == 0)
        args->request.id = 1;
    zframe_t *frame = control_request_encode (&args->request);
    zframe_send (&frame, sock, 0);
    int64_t deadline = zclock_mono () + (int64_t) (args->timeout_s * 1000);
    zpoller_t *poller = zpoller_new (sock, NULL);
    int exit_code = EVMTAP_EXIT_FAILURE;
    bool answered = false;
    while (!answered && zclock_mono () < deadline) {
        if (!zpoller_wait (poller, (int) (deadline - zclock_mono ())))
            break;
        frame = zframe_recv (sock);
        control_reply_t reply;
        if (frame && control_reply_decode (frame, &reply) == 0 && reply.id == args->request.id) {
            answered = true;
            if (reply.status != CONTROL_OK)
                fprintf (stderr, "evmtap ctl: %s refused: %s\n", args->request.verb, reply.error);
            else if (args->json) {
                printf ("%s\n", reply.answer);
                exit_code = EVMTAP_EXIT_OK;
            }
            else if (s_print (args->request.verb, reply.answer))
                fprintf (stderr, "evmtap ctl: the answer is not JSON: %s\n", reply.answer);
            else
                exit_code = EVMTAP_EXIT_OK;
            control_reply_clear (&reply);
        }
        zframe_destroy (&frame);
    }
    if (!answered)
        fprintf (stderr, "evmtap ctl: no answer from %s within %g s (is evmtap running%s?)\n",
                 endpoint, args->timeout_s,
                 curve_auth_endpoint_is_local (endpoint) ? "" : ", and is this key authorised");
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    return exit_code;
}

int
cmd_ctl_main (int argc, char **argv)
{
    s_args_t args;
    memset (&args, 0, sizeof (args));
    int rc = s_parse (argc, argv, &args);
    if (rc)
        return rc > 0 ? EVMTAP_EXIT_OK : EVMTAP_EXIT_USAGE;
    char *endpoint = args.endpoint ? strdup (args.endpoint)
                                   : zsys_sprintf ("ipc://%s/control", args.data_dir);
    assert (endpoint);
    if (!curve_auth_endpoint_is_local (endpoint) && (!args.curve_cert || !args.curve_server)) {
        fprintf (stderr,
                 "evmtap ctl: --endpoint %s is not loopback or ipc: it needs CURVE: give %s\n",
                 endpoint, !args.curve_cert ? "--curve-cert" : "--curve-server");
        zstr_free (&endpoint);
        return EVMTAP_EXIT_USAGE;
    }
    //  No socket file: nothing listens there, no need to wait.
    if (strncmp (endpoint, "ipc://", 6) == 0 && !zsys_file_exists (endpoint + 6)) {
        fprintf (stderr, "evmtap ctl: no coordinator at %s (is evmtap running on that data dir?)\n",
                 endpoint);
        zstr_free (&endpoint);
        return EVMTAP_EXIT_FAILURE;
    }
    rc = s_call (&args, endpoint);
    zstr_free (&endpoint);
    return rc;
}
