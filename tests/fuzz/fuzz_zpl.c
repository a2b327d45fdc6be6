/*  fuzz_zpl: libFuzzer target for config files, the one outside input an operator types.

    The input is a ZPL text: zpl_parse reads a NUL-terminated copy, and the tree it gives is
    walked with every accessor, checking what zpl.h promises (a path is the parent's path
    and the name, lines only grow, every node reports the file name). Then the same text is
    loaded by options_load_file (when it parsed), through a memfd so that no disk is
    touched per input. */
#include "evmtap.h"
#include <sys/mman.h>
#include <unistd.h>
#include "options.h"
#include "zpl.h"

#define S_FILENAME "fuzz.cfg"

//  Paths options.c looks up; locating them must never crash, whatever the tree.
static const char *s_paths [] = {
    "evmtap",
    "evmtap/data_dir",
    "chains",
    "chains/mainnet/rpc",
    "chains/mainnet/keys",
    "",
    "/",
    "//",
    "a/",
    "/a",
    "evmtap/",
    "chains//rpc",
};

static int s_memfd = -1;          //  the config file options_load_file reads
static char s_memfd_path [64];    //  /proc/self/fd/N

//  Walks one level and below; returns the number of nodes seen.
static size_t
s_walk (zpl_t *parent, int depth, int *last_line, int line_count)
{
    if (depth > 64)    //  zpl promises ZPL_MAX_DEPTH (32)
        __builtin_trap ();
    size_t nodes = 0;
    const char *parent_path = zpl_path (parent);
    for (zpl_t *node = zpl_child (parent); node; node = zpl_next (node)) {
        nodes++;
        const char *name = zpl_name (node);
        const char *path = zpl_path (node);
        int line = zpl_line (node);
        if (!name || !*name || !path || !zpl_file (node))
            __builtin_trap ();
        if (strcmp (zpl_file (node), S_FILENAME) != 0)
            __builtin_trap ();
        //  Children and siblings come in file order, one node per line at most.
        if (line <= *last_line || line > line_count)
            __builtin_trap ();
        *last_line = line;
        //  path = parent path + "/" + name (no slash below the root).
        size_t prefix = strlen (parent_path);
        if (prefix) {
            if (strncmp (path, parent_path, prefix) != 0 || path [prefix] != '/'
                || strcmp (path + prefix + 1, name) != 0)
                __builtin_trap ();
        }
        else if (strcmp (path, name) != 0)
            __builtin_trap ();
        const char *value = zpl_value (node);
        if (value)
            (void) strlen (value);
        (void) zpl_locate (node, name);
        nodes += s_walk (node, depth + 1, last_line, line_count);
    }
    return nodes;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = (char *) malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = 0;
    int line_count = 1;
    for (size_t index = 0; index < size; index++)
        if (text [index] == '\n')
            line_count++;

    char err [256];
    err [0] = 0;
    zpl_t *root = zpl_parse (text, S_FILENAME, err, sizeof err);
    bool parsed = root != NULL;
    if (root) {
        if (strcmp (zpl_name (root), "root") != 0 || zpl_line (root) != 0)
            __builtin_trap ();
        int last_line = 0;
        s_walk (root, 0, &last_line, line_count);
        for (size_t index = 0; index < sizeof s_paths / sizeof s_paths [0]; index++)
            (void) zpl_locate (root, s_paths [index]);
        zpl_destroy (&root);
        zpl_destroy (&root);    //  safe twice
    }
    else if (strncmp (err, S_FILENAME ":", strlen (S_FILENAME ":")) != 0)
        __builtin_trap ();
    free (text);
    //  zpl_load allocates 4 MB per file, so only texts that parse (the ones options.c can
    //  tell anything about) go on to the options, and the target stays fast.
    if (!parsed)
        return 0;

    //  The same bytes as a config file for `evmtap run --config`.
    if (s_memfd < 0) {
        s_memfd = memfd_create ("fuzz_zpl", 0);
        if (s_memfd < 0)
            return 0;
        snprintf (s_memfd_path, sizeof s_memfd_path, "/proc/self/fd/%d", s_memfd);
    }
    if (ftruncate (s_memfd, 0) != 0 || (size && pwrite (s_memfd, data, size, 0) != (ssize_t) size))
        return 0;
    options_t *options = options_new ();
    err [0] = 0;
    if (options_load_file (options, s_memfd_path, err, sizeof err) != 0
        && !memchr (err, 0, sizeof err))
        __builtin_trap ();
    options_destroy (&options);
    return 0;
}
