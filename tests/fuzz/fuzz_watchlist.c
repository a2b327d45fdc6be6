/*  fuzz_watchlist: libFuzzer target for watchlist files (--watchlist), which an operator
    fills from outside sources (sanctions lists, exports that mix chains).

    The input is the file's bytes, copied to a buffer of exactly that size (no NUL) so that
    a read past the end is caught. When it parses, every line that is a bare address must
    be on the list and the list cannot hold more addresses than there are lines; when it
    does not, the error names the file and a line that exists. */
#include "evmtap.h"
#include "hexutil.h"
#include "watchlist.h"

#define S_FILENAME "fuzz.txt"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = (char *) malloc (size ? size : 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    size_t line_count = 0;
    for (size_t index = 0; index < size; index++)
        line_count += text [index] == '\n';
    line_count += size && text [size - 1] != '\n';

    char err [256];
    err [0] = 0;
    watchlist_t *list = watchlist_parse (S_FILENAME, text, size, err, sizeof err);
    if (list) {
        if (watchlist_size (list) > line_count || strcmp (watchlist_name (list), "fuzz") != 0)
            __builtin_trap ();
        for (size_t start = 0; start < size;) {
            const char *end = (const char *) memchr (text + start, '\n', size - start);
            size_t len = end ? (size_t) (end - (text + start)) : size - start;
            uint8_t address [20];
            if (len == 42 && hex_decode_len (text + start, len, address, 20) == 20
                && !watchlist_contains (list, address))
                __builtin_trap ();
            start += len + 1;
        }
        watchlist_destroy (&list);
        watchlist_destroy (&list);    //  safe twice
    }
    else {
        unsigned long line = 0;
        if (strncmp (err, S_FILENAME ":", strlen (S_FILENAME ":")) != 0
            || sscanf (err + strlen (S_FILENAME ":"), "%lu", &line) != 1 || line == 0
            || line > line_count)
            __builtin_trap ();
    }
    free (text);
    return 0;
}
