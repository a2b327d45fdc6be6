/*  fuzz_log_check: what fuzz_receipts and fuzz_log_record share: a call decoder with a
    small inline ABI folder, and the checks on the records of a parsed log record. Included
    by one target each (static functions): the fuzz build makes one program of each .c file
    in tests/fuzz. */
#ifndef FUZZ_LOG_CHECK_H_INCLUDED
#define FUZZ_LOG_CHECK_H_INCLUDED

#include "evmtap.h"
#include "call_decoder.h"
#include "log_record.h"

//  The ERC-721 contract of mainnet block 18000000's log 0x61: the seeds' ERC-721 transfer.
#define FUZZ_ERC721_ADDRESS "0x33333333333371718a3c2bb63e5f3b94c9bc13be"

//  ABI files of the folder: an ERC-20 (Transfer with the value in data, Approval) and an
//  ERC-721 (Transfer with all three indexed) that addresses.json binds to one address, so
//  topic0 of Transfer has a bound, a folder and a wrong-layout candidate; and WETH's events
//  by topic in a signature file.
static const char *s_fuzz_abi_files [][2] = {
    {"erc20.json", "[{\"type\":\"event\",\"name\":\"Transfer\",\"anonymous\":false,\"inputs\":["
                   "{\"name\":\"from\",\"type\":\"address\",\"indexed\":true},"
                   "{\"name\":\"to\",\"type\":\"address\",\"indexed\":true},"
                   "{\"name\":\"value\",\"type\":\"uint256\",\"indexed\":false}]},"
                   "{\"type\":\"event\",\"name\":\"Approval\",\"anonymous\":false,\"inputs\":["
                   "{\"name\":\"owner\",\"type\":\"address\",\"indexed\":true},"
                   "{\"name\":\"spender\",\"type\":\"address\",\"indexed\":true},"
                   "{\"name\":\"value\",\"type\":\"uint256\",\"indexed\":false}]}]"},
    {"erc721.json", "[{\"type\":\"event\",\"name\":\"Transfer\",\"anonymous\":false,\"inputs\":["
                    "{\"name\":\"from\",\"type\":\"address\",\"indexed\":true},"
                    "{\"name\":\"to\",\"type\":\"address\",\"indexed\":true},"
                    "{\"name\":\"tokenId\",\"type\":\"uint256\",\"indexed\":true}]}]"},
    {"addresses.json", "{\"" FUZZ_ERC721_ADDRESS "\":\"erc721.json\"}"},
    {"events.tsv", "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c\t"
                   "Deposit(address indexed dst,uint256 wad)\n"
                   "0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65\t"
                   "Withdrawal(address indexed src,uint256 wad)\n"},
};

//  Writes the folder to a temporary directory, loads it and removes it again (the decoder
//  reads every file when made). Traps when the decoder cannot be made: the target would
//  test nothing.
static call_decoder_t *
s_fuzz_decoder_new (void)
{
    char dir [] = "/tmp/evmtap-fuzz-abis-XXXXXX";
    if (!mkdtemp (dir))
        __builtin_trap ();
    size_t count = sizeof s_fuzz_abi_files / sizeof s_fuzz_abi_files [0];
    for (size_t index = 0; index < count; index++) {
        char *path = zsys_sprintf ("%s/%s", dir, s_fuzz_abi_files [index][0]);
        FILE *file = fopen (path, "w");
        if (!file || fputs (s_fuzz_abi_files [index][1], file) < 0 || fclose (file))
            __builtin_trap ();
        zstr_free (&path);
    }
    char err [256];
    char *signatures = zsys_sprintf ("%s/events.tsv", dir);
    call_decoder_t *decoder = call_decoder_new (dir, NULL, signatures, err, sizeof err);
    if (!decoder) {
        fprintf (stderr, "fuzz: call decoder: %s\n", err);
        __builtin_trap ();
    }
    zstr_free (&signatures);
    for (size_t index = 0; index < count; index++) {
        char *path = zsys_sprintf ("%s/%s", dir, s_fuzz_abi_files [index][0]);
        unlink (path);
        zstr_free (&path);
    }
    rmdir (dir);
    return decoder;
}

//  A record text must be len bytes of valid JSON: an object.
static void
s_fuzz_check_json (const char *text, size_t len)
{
    if (!text || strlen (text) != len)
        __builtin_trap ();
    cJSON *json = cJSON_ParseWithLength (text, len);
    if (!cJSON_IsObject (json))
        __builtin_trap ();
    cJSON_Delete (json);
}

//  The records of the log record last parsed, as the decoder actor makes them: the decoded
//  log always, valid JSON that starts with the log's place; the token transfer when there
//  is one, valid JSON too. Returns both as one heap string, to compare runs.
static char *
s_fuzz_log_outputs (log_record_t *record, call_decoder_t *decoder)
{
    size_t len = 0;
    call_decoding_t decoding = (call_decoding_t) -1;
    char *decoded = log_record_decoded (record, decoder, &len, &decoding);
    s_fuzz_check_json (decoded, len);
    if (strncmp (decoded, "{\"hash\":\"", 9) != 0)
        __builtin_trap ();
    if (decoding != CALL_DECODED && decoding != CALL_UNKNOWN_SELECTOR
        && decoding != CALL_BAD_CALLDATA)
        __builtin_trap ();
    //  Not decoded: the raw topics and data go along, so nothing is lost.
    if (decoding != CALL_DECODED && !strstr (decoded, "\"topics\":["))
        __builtin_trap ();
    char *transfer = log_record_transfer (record, &len);
    if (transfer) {
        s_fuzz_check_json (transfer, len);
        if (!strstr (transfer, "\"standard\":\"erc20\"")
            && !strstr (transfer, "\"standard\":\"erc721\""))
            __builtin_trap ();
    }
    char *outputs = zsys_sprintf ("%s\n%s", decoded, transfer ? transfer : "");
    zstr_free (&decoded);
    zstr_free (&transfer);
    return outputs;
}

#endif
