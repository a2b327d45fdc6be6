/*  fuzz_state: libFuzzer target for what a provider answers to a state watcher's calls:
    aggregate3's answer (multicall_decode), each call's return data decoded by a view's
    outputs (state_call_outputs) and revert data read for its reason
    (state_call_revert_reason).

    Input layout: byte 0 the call count of the aggregate3 answer (0..15), the rest the
    answer. Each result it yields, and the whole input, is decoded by the outputs of views
    of a fixed ABI (static words, a tuple, a string and a dynamic array) and read as revert
    data. Besides the sanitizers, the target checks the promises: results lie inside the
    answer, decoded outputs are valid JSON, a revert reason is NUL-terminated within its
    buffer. */
#include "evmtap.h"
#include "abi.h"
#include "jsonw.h"
#include "multicall.h"
#include "state_call.h"

#define S_VIEWS 4

static state_call_t *s_views [S_VIEWS];
static jsonw_t *s_writer;

static void
s_setup (void)
{
    const char *json =
        "[{\"type\":\"function\",\"name\":\"getReserves\",\"inputs\":[],\"outputs\":["
        "{\"name\":\"r0\",\"type\":\"uint112\"},{\"name\":\"r1\",\"type\":\"uint112\"},"
        "{\"name\":\"t\",\"type\":\"uint32\"}]},"
        "{\"type\":\"function\",\"name\":\"positionOf\",\"inputs\":[{\"name\":\"u\",\"type\":"
        "\"address\"}],\"outputs\":[{\"name\":\"\",\"type\":\"tuple\",\"components\":["
        "{\"name\":\"collateral\",\"type\":\"uint256\"},{\"name\":\"debt\",\"type\":"
        "\"int256\"}]}]},"
        "{\"type\":\"function\",\"name\":\"symbols\",\"inputs\":[],\"outputs\":["
        "{\"name\":\"\",\"type\":\"string\"},{\"name\":\"\",\"type\":\"bytes\"}]},"
        "{\"type\":\"function\",\"name\":\"holders\",\"inputs\":[{\"name\":\"n\",\"type\":"
        "\"uint8\"}],\"outputs\":[{\"name\":\"\",\"type\":\"tuple[]\",\"components\":["
        "{\"name\":\"who\",\"type\":\"address\"},{\"name\":\"ok\",\"type\":\"bool\"}]}]}]";
    const char *calls [S_VIEWS] = {"getReserves()",
                                   "positionOf(0x70997970c51812dc3a010c7d01b50e0d17dc79c8)",
                                   "symbols()", "holders(3)"};
    char err [256];
    abi_t *abi = abi_parse (json, strlen (json), err, sizeof (err));
    if (!abi)
        __builtin_trap ();
    for (size_t index = 0; index < S_VIEWS; index++)
        if (!(s_views [index] = state_call_new (abi, calls [index], err, sizeof (err))))
            __builtin_trap ();
    abi_destroy (&abi);
    s_writer = jsonw_new ();
}

//  Every view's outputs over data, and data as revert data.
static void
s_decode (const uint8_t *data, size_t size)
{
    for (size_t index = 0; index < S_VIEWS; index++) {
        char err [256];
        jsonw_reset (s_writer);
        if (state_call_outputs (s_views [index], data, size, s_writer, err, sizeof (err)) == 0) {
            cJSON *json = cJSON_ParseWithLength (jsonw_data (s_writer), jsonw_size (s_writer));
            if (!json)
                __builtin_trap ();
            cJSON_Delete (json);
        }
        else if (!memchr (err, 0, sizeof (err)))
            __builtin_trap ();
    }
    char reason [64];
    memset (reason, 'x', sizeof (reason));
    state_call_revert_reason (data, size, reason, sizeof (reason));
    if (!memchr (reason, 0, sizeof (reason)))
        __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_writer)
        s_setup ();
    if (size < 1)
        return 0;
    size_t count = data [0] % 16;
    const uint8_t *answer = data + 1;
    size_t answer_size = size - 1;
    multicall_result_t results [16];
    char err [160];
    if (multicall_decode (answer, answer_size, count, results, err, sizeof (err)) == 0)
        for (size_t index = 0; index < count; index++) {
            if (results [index].data < answer
                || results [index].data + results [index].size > answer + answer_size)
                __builtin_trap ();
            s_decode (results [index].data, results [index].size);
        }
    s_decode (answer, answer_size);
    return 0;
}
