/*  cmd_cert: `evmtap cert new DIR NAME`: DIR/NAME.key (the public key: copy it into the
    coordinator's --curve-authorized folder, or give it to clients as --curve-server) and
    DIR/NAME.key_secret (stays with its owner, mode 0600 by zcert). */
#include "evmtap.h"
#include "cmd_cert.h"
#include "curve_auth.h"

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: evmtap cert new DIR NAME\n\n"
             "Makes a CURVE certificate pair for a coordinator, a worker or an operator:\n"
             "  DIR/NAME.key          the public certificate: put a worker's or operator's in\n"
             "                        the coordinator's --curve-authorized DIR; give the\n"
             "                        coordinator's to clients (evmtap ctl --curve-server)\n"
             "  DIR/NAME.key_secret   the secret one, for its owner's --curve-cert DIR/NAME.key\n"
             "An existing pair is never overwritten.\n\n"
             "Exit status: 0 made, 1 not written, 2 usage error.\n");
}

int
cmd_cert_main (int argc, char **argv)
{
    if (argc >= 2 && (streq (argv [1], "--help") || streq (argv [1], "-h"))) {
        s_usage (stdout);
        return EVMTAP_EXIT_OK;
    }
    if (argc != 4 || !streq (argv [1], "new")) {
        fprintf (stderr, "evmtap cert: give new DIR NAME (see evmtap cert --help)\n");
        return EVMTAP_EXIT_USAGE;
    }
    char err [512];
    if (curve_auth_cert_new (argv [2], argv [3], err, sizeof (err))) {
        fprintf (stderr, "evmtap cert: %s\n", err);
        return strstr (err, "plain name") ? EVMTAP_EXIT_USAGE : EVMTAP_EXIT_FAILURE;
    }
    printf ("%s/%s.key\n%s/%s.key_secret\n", argv [2], argv [3], argv [2], argv [3]);
    return EVMTAP_EXIT_OK;
}
