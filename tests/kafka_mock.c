/*  evmtap_kafka_mock: librdkafka's mock cluster as a program, for behaviour tests and
    benchmarks. It starts N brokers (default 3) on 127.0.0.1, prints the bootstrap list on
    stdout (one line), then takes commands on stdin, one per line, answering "ok" or
    "error: ..." on stdout:

        down ID                  disconnect broker ID and refuse new connections
        up ID                    accept connections again
        rtt ID MS                add MS milliseconds of round-trip time to broker ID
        error TOPIC|* ERR COUNT  the next COUNT Produce requests (to TOPIC, or to every
                                 broker when *) fail with Kafka error code ERR
        quit                     stop (so does the end of stdin)

    Broker ids run from 1 to N; "all" stands for every broker in down, up and rtt.

    Usage: evmtap_kafka_mock [BROKERS] */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAFKA_MOCK_PRODUCE 0    //  the Produce request's ApiKey

static int
s_broker_each (rd_kafka_mock_cluster_t *mock, int count, const char *which,
               rd_kafka_resp_err_t (*fn) (rd_kafka_mock_cluster_t *, int32_t, int), int arg)
{
    int first = 1, last = count;
    if (strcmp (which, "all") != 0) {
        char *end;
        long id = strtol (which, &end, 10);
        if (*end || id < 1 || id > count)
            return -1;
        first = last = (int) id;
    }
    for (int id = first; id <= last; id++)
        if (fn (mock, id, arg) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
    return 0;
}

static rd_kafka_resp_err_t
s_down (rd_kafka_mock_cluster_t *mock, int32_t id, int arg)
{
    (void) arg;
    return rd_kafka_mock_broker_set_down (mock, id);
}

static rd_kafka_resp_err_t
s_up (rd_kafka_mock_cluster_t *mock, int32_t id, int arg)
{
    (void) arg;
    return rd_kafka_mock_broker_set_up (mock, id);
}

static rd_kafka_resp_err_t
s_rtt (rd_kafka_mock_cluster_t *mock, int32_t id, int arg)
{
    return rd_kafka_mock_broker_set_rtt (mock, id, arg);
}

int
main (int argc, char **argv)
{
    int count = argc > 1 ? atoi (argv [1]) : 3;
    if (count < 1 || count > 16) {
        fprintf (stderr, "usage: evmtap_kafka_mock [BROKERS 1..16]\n");
        return 2;
    }
    char errstr [256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    //  This handle only hosts the cluster: it has no bootstrap servers of its own.
    rd_kafka_conf_set (conf, "log_level", "0", errstr, sizeof (errstr));
    rd_kafka_t *host = rd_kafka_new (RD_KAFKA_PRODUCER, conf, errstr, sizeof (errstr));
    if (!host) {
        fprintf (stderr, "evmtap_kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new (host, count);
    if (!mock) {
        fprintf (stderr, "evmtap_kafka_mock: cannot start the mock cluster\n");
        rd_kafka_destroy (host);
        return 1;
    }
    printf ("%s\n", rd_kafka_mock_cluster_bootstraps (mock));
    fflush (stdout);

    char line [512];
    while (fgets (line, sizeof (line), stdin)) {
        char verb [32] = "", first [256] = "", second [32] = "", third [32] = "";
        int fields = sscanf (line, "%31s %255s %31s %31s", verb, first, second, third);
        int rc = -1;
        if (fields < 1)
            continue;
        if (strcmp (verb, "quit") == 0)
            break;
        else if (strcmp (verb, "down") == 0 && fields == 2)
            rc = s_broker_each (mock, count, first, s_down, 0);
        else if (strcmp (verb, "up") == 0 && fields == 2)
            rc = s_broker_each (mock, count, first, s_up, 0);
        else if (strcmp (verb, "rtt") == 0 && fields == 3)
            rc = s_broker_each (mock, count, first, s_rtt, atoi (second));
        else if (strcmp (verb, "error") == 0 && fields == 4) {
            int err = atoi (second), times = atoi (third);
            if (strcmp (first, "*") == 0) {
                rd_kafka_resp_err_t errors [64];
                if (times < 1 || times > 64)
                    times = 1;
                for (int index = 0; index < times; index++)
                    errors [index] = (rd_kafka_resp_err_t) err;
                rd_kafka_mock_push_request_errors_array (mock, KAFKA_MOCK_PRODUCE, (size_t) times,
                                                         errors);
                rc = 0;
            }
            else {
                //  A topic error answers every request about the topic until cleared
                //  with error TOPIC 0 0.
                rd_kafka_mock_topic_set_error (mock, first, (rd_kafka_resp_err_t) err);
                rc = 0;
            }
        }
        if (rc == 0)
            printf ("ok\n");
        else
            printf ("error: cannot %s", line);
        fflush (stdout);
    }
    rd_kafka_mock_cluster_destroy (mock);
    rd_kafka_destroy (host);
    return 0;
}
