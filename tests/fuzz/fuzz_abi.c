/*  fuzz_abi: libFuzzer target for the ABI engine, which reads outside input everywhere:
    calldata and logs from the chain, ABI JSON and signature files from users.

    Input: a type list text, a newline, then data bytes (e.g. "(uint256,bytes[])\n" and
    calldata after the selector). The data is decoded as arguments and as an event whose
    first parameters are indexed (topics taken from the data's start); the whole input is
    also parsed as ABI JSON and as a signature file. Besides the sanitizers, the target holds
    the decoder to its contract: on success the output is valid JSON and the end lies within
    the data; a canonical type prints back to a text that parses to the same canonical text. */
#include "evmtap.h"
#include "abi.h"
#include "abi_decode.h"
#include "signatures.h"
#include "abi_type.h"
#include "hexutil.h"
#include "jsonw.h"

static jsonw_t *s_writer;

static void
s_check_json (jsonw_t *writer)
{
    cJSON *json = cJSON_ParseWithLength (jsonw_data (writer), jsonw_size (writer));
    if (!json)
        __builtin_trap ();
    cJSON_Delete (json);
}

static void
s_fuzz_decode (const uint8_t *data, size_t size)
{
    const uint8_t *newline = (const uint8_t *) memchr (data, '\n', size);
    if (!newline)
        return;
    size_t text_len = (size_t) (newline - data);
    char err [256];
    abi_type_t *params = abi_type_parse_len ((const char *) data, text_len, err, sizeof (err));
    if (!params)
        return;
    //  Canonical text round trip.
    char canonical [8192], again [8192];
    if (abi_type_canonical (params, canonical, sizeof (canonical)) > 0) {
        abi_type_t *copy = abi_type_parse (canonical, err, sizeof (err));
        if (!copy || abi_type_canonical (copy, again, sizeof (again)) < 0
            || strcmp (canonical, again) != 0)
            __builtin_trap ();
        abi_type_destroy (&copy);
    }
    if (params->kind != ABI_TUPLE) {
        abi_type_destroy (&params);
        return;
    }
    const uint8_t *bytes = newline + 1;
    size_t count = size - text_len - 1;
    size_t end = 0;
    jsonw_reset (s_writer);
    if (abi_decode_args (params, bytes, count, s_writer, &end, err, sizeof (err)) == 0) {
        if (end > count)
            __builtin_trap ();
        s_check_json (s_writer);
    }
    //  As an event: the first k parameters indexed, k topics from the data's start.
    size_t topic_count = params->count < 3 ? params->count : 3;
    if (count >= 32 * topic_count) {
        bool indexed [ABI_TYPE_MAX_COMPONENTS] = {false};
        for (size_t index = 0; index < topic_count; index++)
            indexed [index] = true;
        jsonw_reset (s_writer);
        if (abi_decode_event (params, indexed, (const uint8_t (*) [32]) bytes, topic_count,
                              bytes + 32 * topic_count, count - 32 * topic_count, s_writer, &end,
                              err, sizeof (err))
            == 0) {
            if (end > count - 32 * topic_count)
                __builtin_trap ();
            s_check_json (s_writer);
        }
    }
    abi_type_destroy (&params);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_writer)
        s_writer = jsonw_new ();
    s_fuzz_decode (data, size);
    char err [256];
    abi_t *abi = abi_parse ((const char *) data, size, err, sizeof (err));
    abi_destroy (&abi);
    signatures_t *signatures = signatures_parse ((const char *) data, size, "fuzz", err,
                                                 sizeof (err));
    if (signatures) {
        //  Lines are parsed on lookup: look up the keys of the lines themselves.
        const abi_entry_t *found [4];
        for (size_t pos = 0; pos + 66 <= size; pos++)
            if (data [pos] == '0' && data [pos + 1] == 'x') {
                char hex [67];
                uint8_t key [32];
                memcpy (hex, data + pos, 66);
                hex [66] = 0;
                hex [10] = 0;
                if (hex_decode (hex, key, sizeof (key)) == 4)
                    signatures_find (signatures, key, 4, found, 4);
                memcpy (hex, data + pos, 66);
                if (hex_decode (hex, key, sizeof (key)) == 32)
                    signatures_find (signatures, key, 32, found, 4);
            }
        signatures_destroy (&signatures);
    }
    return 0;
}
