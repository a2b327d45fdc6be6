/*  dispatcher_bench: jobs per second through the dispatcher, with in-process workers and
    with remote workers (worker relays joined over TCP on loopback, as `evmtap worker`
    does), side by side in one run. The workers are answerers that reply to a JOB_HEAD at
    once, so that the figure is the dispatcher's and the link's, not a node's. The head
    keeps --window jobs in flight, as the head poller does.

    build/release/evmtap_bench_dispatcher [--jobs N] [--window W] [--per-relay K] */
#include "evmtap.h"
#include "dispatcher.h"
#include "job.h"
#include "result.h"
#include "worker_relay.h"

//  A worker that answers every job at once: READY, then a result per job.
static void
s_answerer (zsock_t *pipe, void *args)
{
    zsock_t *dealer = zsock_new_dealer ((const char *) args);
    assert (dealer);
    zpoller_t *poller = zpoller_new (pipe, dealer, NULL);
    zsock_signal (pipe, 0);
    zstr_send (dealer, "READY");
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which != dealer)
            break;
        zframe_t *frame = zframe_recv (dealer);
        job_t job;
        if (!frame || job_decode (frame, &job) != 0) {
            zframe_destroy (&frame);
            continue;
        }
        zframe_destroy (&frame);
        result_t result = {.job_id = job.id,
                           .kind = job.kind,
                           .status = RESULT_OK,
                           .value = job.id,
                           .requests = 1};
        zmsg_t *msg = result_encode (&result, NULL);
        zmsg_send (&msg, dealer);
        zstr_send (dealer, "READY");
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
}

//  Sends jobs through the dispatcher at jobs_endpoint, window at a time, until count are
//  answered. Returns jobs per second.
static double
s_drive (const char *jobs_endpoint, int count, int window)
{
    zsock_t *head = zsock_new_pair (jobs_endpoint);
    assert (head);
    zsock_set_rcvtimeo (head, 30000);
    int64_t started = zclock_usecs ();
    uint64_t sent = 0;
    int answered = 0;
    while (sent < (uint64_t) window && sent < (uint64_t) count) {
        job_t job = {.id = ++sent, .kind = JOB_HEAD};
        zframe_t *frame = job_encode (&job);
        zframe_send (&frame, head, 0);
    }
    while (answered < count) {
        zmsg_t *msg = zmsg_recv (head);
        if (!msg) {
            fprintf (stderr, "dispatcher_bench: no answer within 30 s\n");
            exit (1);
        }
        zmsg_destroy (&msg);
        answered++;
        if (sent < (uint64_t) count) {
            job_t job = {.id = ++sent, .kind = JOB_HEAD};
            zframe_t *frame = job_encode (&job);
            zframe_send (&frame, head, 0);
        }
    }
    double seconds = (double) (zclock_usecs () - started) / 1e6;
    zsock_destroy (&head);
    return count / seconds;
}

//  One run: a fresh dispatcher, `local` answerers in process, `relays` relays over TCP
//  with per_relay answerers each. Returns jobs per second.
static double
s_run (int run, int local, int relays, int per_relay, int count, int window)
{
    char workers [64], jobs [64], jobs_connect [80];
    snprintf (workers, sizeof (workers), "inproc://bench-workers-%d", run);
    snprintf (jobs, sizeof (jobs), "inproc://bench-jobs-%d", run);
    snprintf (jobs_connect, sizeof (jobs_connect), ">%s", jobs);
    worker_link_item_t rpc [] = {{"http://127.0.0.1:9"}};
    worker_link_t welcome = {.type = MSG_TYPE_LINK_WELCOME,
                             .chain = "bench",
                             .chain_id = 1,
                             .rpc = rpc,
                             .rpc_count = 1,
                             .key_costs = "requests"};
    dispatcher_args_t args = {.workers = workers, .jobs = jobs};
    if (relays) {
        args.listen = "tcp://127.0.0.1:*";
        args.welcome = &welcome;
    }
    dispatcher_t *dispatcher = dispatcher_new (&args);
    assert (dispatcher);
    dispatcher_stats_t stats;
    assert (dispatcher_stats (dispatcher, &stats) == 0);
    char connect [64];
    snprintf (connect, sizeof (connect), "tcp://127.0.0.1:%d", stats.port);

    zlist_t *actors = zlist_new ();
    char endpoint [96];
    snprintf (endpoint, sizeof (endpoint), ">%s", workers);
    for (int index = 0; index < local; index++)
        zlist_append (actors, zactor_new (s_answerer, endpoint));
    worker_relay_t *relay [64] = {NULL};
    worker_relay_args_t relay_args [64];
    char relay_workers [64][64], relay_pool [64][64], relay_connect [64][72];
    for (int index = 0; index < relays; index++) {
        snprintf (relay_workers [index], 64, "inproc://bench-relay-%d-%d", run, index);
        snprintf (relay_pool [index], 64, "inproc://bench-relay-pool-%d-%d", run, index);
        relay_args [index] = (worker_relay_args_t) {.connect = connect,
                                                    .workers = relay_workers [index],
                                                    .pool = relay_pool [index],
                                                    .worker_id = "bench",
                                                    .worker_count = (uint32_t) per_relay};
        relay [index] = worker_relay_new (&relay_args [index]);
        assert (relay [index]);
        worker_link_t got;
        assert (worker_relay_welcome (relay [index], 10000, &got) == 0);
        worker_link_clear (&got);
        snprintf (relay_connect [index], 72, ">%s", relay_workers [index]);
        for (int worker = 0; worker < per_relay; worker++)
            zlist_append (actors, zactor_new (s_answerer, relay_connect [index]));
    }
    double rate = s_drive (jobs_connect, count, window);
    zactor_t *actor;
    while ((actor = (zactor_t *) zlist_pop (actors)))
        zactor_destroy (&actor);
    zlist_destroy (&actors);
    for (int index = 0; index < relays; index++)
        worker_relay_destroy (&relay [index]);
    dispatcher_destroy (&dispatcher);
    return rate;
}

int
main (int argc, char **argv)
{
    int count = 50000, window = 256, per_relay = 4;
    for (int index = 1; index + 1 < argc; index += 2) {
        if (streq (argv [index], "--jobs"))
            count = atoi (argv [index + 1]);
        else if (streq (argv [index], "--window"))
            window = atoi (argv [index + 1]);
        else if (streq (argv [index], "--per-relay"))
            per_relay = atoi (argv [index + 1]);
    }
    if (count < 1 || window < 1 || per_relay < 1 || per_relay > 64) {
        fprintf (stderr, "usage: evmtap_bench_dispatcher [--jobs N] [--window W] "
                         "[--per-relay K]\n");
        return 2;
    }
    zsys_init ();
    printf ("%d JOB_HEAD jobs, %d in flight, answered at once; remote: relays over TCP "
            "loopback, %d answerers each\n",
            count, window, per_relay);
    printf ("%-34s %12s %10s\n", "workers", "jobs/s", "vs local");
    double local = s_run (0, per_relay, 0, per_relay, count, window);
    printf ("%-34s %12.0f %10.2f\n", "in process", local, 1.0);
    int relay_counts [] = {1, 2, 4};
    for (int index = 0; index < 3; index++) {
        int relays = relay_counts [index];
        double rate = s_run (index + 1, 0, relays, per_relay, count, window);
        char label [64];
        snprintf (label, sizeof (label), "%d remote worker%s (%d answerers)", relays,
                  relays > 1 ? "s" : "", relays * per_relay);
        printf ("%-34s %12.0f %10.2f\n", label, rate, rate / local);
    }
    return 0;
}
