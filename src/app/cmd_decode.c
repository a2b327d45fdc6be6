/*  cmd_decode: `evmtap decode`, cast-like and offline: decodes one calldata, or one event
    log with --log, with the same policy and output as the decoder actor (call_decoder), and
    prints one JSON line: DESIGN's "Decoded call" or "Decoded log" without hash, blockNumber
    and chainId. Exit 0 when decoded, 1 when not (the line is still printed), 2 on usage
    errors, unreadable or malformed ABI and signature files included. */
#include "evmtap.h"
#include "cmd_decode.h"
#include "call_decoder.h"
#include "block.h"
#include "hexutil.h"
#include "jsonw.h"

//  Topics of a log: topic0 and at most three indexed ones.
#define DECODE_MAX_TOPICS 4

static void
s_print_usage (FILE *out)
{
    fprintf (
        out,
        "Usage:\n"
        "  evmtap decode [--abi FILE | --abis DIR] [--signatures FILE] [--to ADDR] CALLDATA\n"
        "  evmtap decode [--abi FILE | --abis DIR] [--signatures FILE]\n"
        "                [--event-signatures FILE] [--to ADDR] --log TOPIC0[,TOPIC1...] DATA\n\n"
        "Decodes calldata (0x hex: selector and arguments) or, with --log, an event log\n"
        "(its topics and data), and prints one JSON line (docs/decoding.md).\n\n"
        "  --abi FILE         an ABI (JSON array, or an object with \"abi\") for any address\n"
        "  --abis DIR         every *.json ABI in DIR; DIR/addresses.json ({address: file})\n"
        "                     picks the one of --to first, then the others are tried\n"
        "  --signatures FILE  a selector file, `0x<selector><TAB><signature>` per line\n"
        "                     (4-byte function selectors, or 32-byte event topics)\n"
        "  --event-signatures FILE  another such file, looked up after --signatures (as\n"
        "                     `evmtap run --event-signatures` takes it)\n"
        "  --to ADDR          the called contract (or the log's address)\n"
        "  --log TOPICS       decode an event: topics comma-separated, topic0 first\n"
        "  -h, --help         this text\n\n"
        "Exit: 0 decoded, 1 not decoded (unknown_selector or bad_calldata; still printed),\n"
        "2 usage error or unreadable ABI/signature file.\n");
}

static int
s_usage (const char *format, const char *value)
{
    fprintf (stderr, "evmtap decode: ");
    fprintf (stderr, format, value);
    fprintf (stderr, " (see evmtap decode --help)\n");
    return EVMTAP_EXIT_USAGE;
}

//  Decodes 0x hex into a new buffer; -1 when it is not even-length 0x hex.
static int
s_hex_bytes (const char *hex, uint8_t **bytes, size_t *size)
{
    size_t len = strlen (hex);
    if (!hex_is_valid (hex) || len % 2)
        return -1;
    *bytes = (uint8_t *) malloc (len / 2 + 1);
    assert (*bytes);
    int count = hex_decode (hex, *bytes, len / 2 + 1);
    if (count < 0) {
        free (*bytes);
        *bytes = NULL;
        return -1;
    }
    *size = (size_t) count;
    return 0;
}

//  Reads "a,b,c" 32-byte topics into topics. Returns the count, or -1.
static int
s_parse_topics (const char *text, uint8_t topics [DECODE_MAX_TOPICS][32])
{
    int count = 0;
    const char *start = text;
    while (true) {
        const char *comma = strchr (start, ',');
        size_t len = comma ? (size_t) (comma - start) : strlen (start);
        //  66 characters give 32 bytes only as 0x (or 0X) and 64 hex digits.
        if (count == DECODE_MAX_TOPICS || len != 66
            || hex_decode_len (start, len, topics [count], 32) != 32)
            return -1;
        count++;
        if (!comma)
            return count;
        start = comma + 1;
    }
}

int
cmd_decode_main (int argc, char **argv)
{
    const char *abi = NULL, *abis = NULL, *signatures = NULL, *to = NULL, *log = NULL;
    const char *event_signatures = NULL;
    const char *positional = NULL;
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        if (streq (arg, "--help") || streq (arg, "-h")) {
            s_print_usage (stdout);
            return EVMTAP_EXIT_OK;
        }
        const char **target = streq (arg, "--abi")                ? &abi
                              : streq (arg, "--abis")             ? &abis
                              : streq (arg, "--signatures")       ? &signatures
                              : streq (arg, "--event-signatures") ? &event_signatures
                              : streq (arg, "--to")               ? &to
                              : streq (arg, "--log")              ? &log
                                                                  : NULL;
        if (target) {
            if (index + 1 >= argc)
                return s_usage ("%s needs a value", arg);
            if (*target)
                return s_usage ("%s given twice", arg);
            *target = argv [++index];
        }
        else if (arg [0] == '-' && arg [1] == '-')
            return s_usage ("unknown option %s", arg);
        else if (positional)
            return s_usage ("one %s only: give the data once", log ? "DATA" : "CALLDATA");
        else
            positional = arg;
    }
    if (abi && abis)
        return s_usage ("%s: give --abi FILE or --abis DIR, not both", "--abi");
    if (!positional)
        return s_usage ("%s is missing", log ? "DATA" : "CALLDATA");
    if (to && (strlen (to) != 42 || !hex_is_valid (to)))
        return s_usage ("--to: \"%s\" is not a 0x address of 40 hex digits", to);
    uint8_t topics [DECODE_MAX_TOPICS][32];
    int topic_count = log ? s_parse_topics (log, topics) : 0;
    if (topic_count < 0)
        return s_usage ("--log: \"%s\" is not 1 to 4 comma-separated 32-byte 0x topics", log);
    uint8_t *data = NULL;
    size_t size = 0;
    if (s_hex_bytes (positional, &data, &size))
        return s_usage (log ? "DATA: \"%.80s\" is not 0x hex of whole bytes"
                            : "CALLDATA: \"%.80s\" is not 0x hex of whole bytes",
                        positional);

    char err [512] = "";
    call_decoder_t *decoder = call_decoder_new (abis, abi, signatures, err, sizeof (err));
    if (decoder && event_signatures
        && call_decoder_add_signatures (decoder, event_signatures, err, sizeof (err)))
        call_decoder_destroy (&decoder);
    if (!decoder) {
        fprintf (stderr, "evmtap decode: %s\n", err);
        free (data);
        return EVMTAP_EXIT_USAGE;
    }
    char address [BLOCK_ADDRESS_SIZE];
    if (to)
        hex_lower (to, address);
    jsonw_t *writer = jsonw_new ();
    jsonw_object_begin (writer);
    call_decoding_t decoding;
    if (log)
        decoding = call_decoder_write_log (decoder, to ? address : NULL, topics,
                                           (size_t) topic_count, data, size, writer);
    else
        decoding = call_decoder_write (decoder, to ? address : NULL, data, size, writer);
    jsonw_object_end (writer);
    fwrite (jsonw_data (writer), 1, jsonw_size (writer), stdout);
    fputc ('\n', stdout);
    fflush (stdout);
    jsonw_destroy (&writer);
    call_decoder_destroy (&decoder);
    free (data);
    return decoding == CALL_DECODED ? EVMTAP_EXIT_OK : EVMTAP_EXIT_FAILURE;
}
