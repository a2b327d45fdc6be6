/*  zpl: a reader for ZPL, the ZeroMQ property language (rfc.zeromq.org/spec/4) that CZMQ's
    zconfig reads. We parse it ourselves because zconfig forgets where a node came from, and
    a config error must say FILE:LINE: setting: reason.

    What is accepted, line by line (the same rules as zconfig):
    * blank lines, and comments: '#' as the first non-blank character;
    * `name` alone opens a section, `name = value` is a property (it may have children too);
    * each level of nesting is indented by exactly 4 spaces; a tab anywhere outside a quoted
      value or a comment is an error, because it hides the indentation;
    * names are letters, digits and $-_@.&+/ ;
    * values are "double" or 'single' quoted (no escapes; a quote ends at the same quote
      character), or bare: everything up to a '#' or the end of line, trailing blanks removed.
      After a value only a comment may follow.
    Siblings may repeat a name (several `rpc = ...`); it is the reader's business to decide
    whether that is allowed. */
#include "evmtap.h"
#include "zpl.h"
#include <stdarg.h>

//  Sections nested deeper than this are refused rather than tracked.
#define ZPL_MAX_DEPTH 32
//  Config files are small; a bigger file is a mistake (a log, a binary) rather than config.
#define ZPL_MAX_FILE_SIZE (4 * 1024 * 1024)

struct _zpl_t {
    char *name;              //  the node's name ("root" for the root)
    char *value;             //  the value, NULL for a section without one
    char *path;              //  "parent/child/name" below the root ("" for the root)
    char *file;              //  owned by the root only; children borrow it
    const char *file_ref;    //  the file name every node reports
    int line;                //  1-based line, 0 for the root
    zpl_t *child;            //  first child
    zpl_t *last_child;       //  last child, so appending stays O(1)
    zpl_t *next;             //  next sibling
};

static zpl_t *
s_node_new (zpl_t *parent, const char *name, size_t name_size, int line)
{
    zpl_t *self = (zpl_t *) zmalloc (sizeof (zpl_t));
    self->name = (char *) zmalloc (name_size + 1);
    memcpy (self->name, name, name_size);
    self->line = line;
    if (parent) {
        self->file_ref = parent->file_ref;
        if (*parent->path)
            self->path = zsys_sprintf ("%s/%s", parent->path, self->name);
        else
            self->path = strdup (self->name);
        assert (self->path);
        if (parent->last_child)
            parent->last_child->next = self;
        else
            parent->child = self;
        parent->last_child = self;
    }
    else
        self->path = strdup ("");
    return self;
}

static void
s_node_free (zpl_t *self)
{
    //  Siblings are freed in a loop and children by recursion, bounded by ZPL_MAX_DEPTH.
    while (self) {
        zpl_t *next = self->next;
        s_node_free (self->child);
        free (self->name);
        free (self->value);
        free (self->path);
        free (self->file);
        free (self);
        self = next;
    }
}

void
zpl_destroy (zpl_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zpl_t *self = *self_p;
        //  Only a root is ever handed out for destruction; it has no siblings.
        assert (self->next == NULL);
        s_node_free (self);
        *self_p = NULL;
    }
}

static bool
s_is_name_char (char c)
{
    return isalnum ((unsigned char) c) || (c && strchr ("$-_@.&+/", c));
}

//  Formats "FILE:LINE: reason" into err and returns -1.
static int
s_error (char *err, size_t err_size, const char *filename, int line, const char *format, ...)
{
    if (err && err_size) {
        int used = snprintf (err, err_size, "%s:%d: ", filename, line);
        if (used >= 0 && (size_t) used < err_size) {
            va_list args;
            va_start (args, format);
            vsnprintf (err + used, err_size - used, format, args);
            va_end (args);
        }
    }
    return -1;
}

//  Parses one line (without its end of line) and attaches it below the right parent.
//  stack[level] is the last node seen at each depth; *depth is how many are valid.
static int
s_parse_line (const char *text, size_t size, int lineno, const char *filename, zpl_t **stack,
              int *depth, char *err, size_t err_size)
{
    const char *end = text + size;
    const char *scan = text;
    while (scan < end && *scan == ' ')
        scan++;
    size_t indent = scan - text;
    //  Blank lines and comments may sit at any indentation.
    if (scan == end || *scan == '#')
        return 0;
    if (*scan == '\t')
        return s_error (err, err_size, filename, lineno,
                        "tab in indentation (indent with 4 spaces per level)");
    if (indent % 4)
        return s_error (err, err_size, filename, lineno,
                        "indentation of %zu spaces is not a multiple of 4", indent);
    int level = (int) (indent / 4);
    if (level > *depth - 1)
        return s_error (err, err_size, filename, lineno,
                        "indented too deeply: %zu spaces where at most %d are allowed", indent,
                        (*depth - 1) * 4);
    if (level + 1 >= ZPL_MAX_DEPTH)
        return s_error (err, err_size, filename, lineno, "sections nested too deeply");

    const char *name = scan;
    while (scan < end && s_is_name_char (*scan))
        scan++;
    size_t name_size = scan - name;
    if (name_size == 0 && *scan == '=')
        return s_error (err, err_size, filename, lineno, "missing name before '='");
    if (name_size == 0
        || (scan < end && *scan != ' ' && *scan != '\t' && *scan != '=' && *scan != '#')) {
        if (isprint ((unsigned char) *scan))
            return s_error (err, err_size, filename, lineno,
                            "invalid name: character '%c' is not allowed "
                            "(names use letters, digits and $-_@.&+/)",
                            *scan);
        return s_error (err, err_size, filename, lineno, "invalid name: byte 0x%02x is not allowed",
                        (unsigned char) *scan);
    }
    const char *after_name = scan;
    while (scan < end && (*scan == ' ' || *scan == '\t'))
        scan++;
    if (scan > after_name && memchr (after_name, '\t', scan - after_name))
        return s_error (err, err_size, filename, lineno, "tab after name (use spaces)");

    char *value = NULL;
    if (scan < end && *scan == '=') {
        scan++;
        const char *after_equals = scan;
        while (scan < end && (*scan == ' ' || *scan == '\t'))
            scan++;
        if (memchr (after_equals, '\t', scan - after_equals))
            return s_error (err, err_size, filename, lineno, "tab after '=' (use spaces)");
        if (scan < end && (*scan == '"' || *scan == '\'')) {
            char quote = *scan++;
            const char *close = memchr (scan, quote, end - scan);
            if (!close)
                return s_error (err, err_size, filename, lineno,
                                "unterminated quote: missing closing %c", quote);
            value = (char *) zmalloc (close - scan + 1);
            memcpy (value, scan, close - scan);
            scan = close + 1;
        }
        else {
            const char *start = scan;
            while (scan < end && *scan != '#')
                scan++;
            const char *stop = scan;
            while (stop > start && (stop [-1] == ' ' || stop [-1] == '\t'))
                stop--;
            if (memchr (start, '\t', stop - start)) {
                return s_error (err, err_size, filename, lineno,
                                "tab in a bare value (quote the value)");
            }
            value = (char *) zmalloc (stop - start + 1);
            memcpy (value, start, stop - start);
        }
    }
    //  Only blanks and a comment may follow.
    const char *rest = scan;
    while (scan < end && (*scan == ' ' || *scan == '\t'))
        scan++;
    if (scan < end && *scan != '#') {
        free (value);
        if (*scan == '"' || *scan == '\'')
            return s_error (err, err_size, filename, lineno,
                            "unexpected quote (a value needs '=' before it)");
        return s_error (err, err_size, filename, lineno, "unexpected text \"%.*s\" after %s",
                        (int) (end - scan), scan,
                        value ? "the value" : "the name (expected '=' or end of line)");
    }
    if (memchr (rest, '\t', scan - rest)) {
        free (value);
        return s_error (err, err_size, filename, lineno, "tab before the end of line");
    }
    zpl_t *node = s_node_new (stack [level], name, name_size, lineno);
    node->value = value;
    stack [level + 1] = node;
    *depth = level + 2;
    return 0;
}

zpl_t *
zpl_parse (const char *text, const char *filename, char *err, size_t err_size)
{
    assert (text);
    if (!filename)
        filename = "-";
    if (err && err_size)
        *err = 0;
    zpl_t *root = s_node_new (NULL, "root", 4, 0);
    root->file = strdup (filename);
    assert (root->file);
    root->file_ref = root->file;

    zpl_t *stack [ZPL_MAX_DEPTH + 1] = {root};
    int depth = 1;
    const char *scan = text;
    //  A UTF-8 byte order mark is harmless; editors on some systems add one.
    if (strncmp (scan, "\xEF\xBB\xBF", 3) == 0)
        scan += 3;
    int lineno = 0;
    while (*scan) {
        lineno++;
        const char *eol = strchr (scan, '\n');
        size_t size = eol ? (size_t) (eol - scan) : strlen (scan);
        size_t line_size = size;
        if (line_size && scan [line_size - 1] == '\r')
            line_size--;
        if (s_parse_line (scan, line_size, lineno, filename, stack, &depth, err, err_size)) {
            zpl_destroy (&root);
            return NULL;
        }
        scan += size + (eol ? 1 : 0);
    }
    return root;
}

zpl_t *
zpl_load (const char *path, char *err, size_t err_size)
{
    assert (path);
    FILE *file = fopen (path, "rb");
    if (!file) {
        s_error (err, err_size, path, 0, "cannot open: %s", strerror (errno));
        return NULL;
    }
    char *text = (char *) zmalloc (ZPL_MAX_FILE_SIZE + 1);
    size_t size = fread (text, 1, ZPL_MAX_FILE_SIZE + 1, file);
    bool failed = ferror (file) != 0;
    int read_errno = errno;
    fclose (file);
    zpl_t *root = NULL;
    if (failed)
        s_error (err, err_size, path, 0, "cannot read: %s", strerror (read_errno));
    else if (size > ZPL_MAX_FILE_SIZE)
        s_error (err, err_size, path, 0, "too large for a config file (over %d bytes)",
                 ZPL_MAX_FILE_SIZE);
    else if (strlen (text) != size) {
        //  A NUL byte would silently cut the text short: name the line it is on.
        size_t nul = strlen (text);
        int line = 1;
        for (size_t index = 0; index < nul; index++)
            if (text [index] == '\n')
                line++;
        s_error (err, err_size, path, line, "NUL byte (is this a text file?)");
    }
    else
        root = zpl_parse (text, path, err, err_size);
    free (text);
    return root;
}

const char *
zpl_name (zpl_t *self)
{
    assert (self);
    return self->name;
}

const char *
zpl_value (zpl_t *self)
{
    assert (self);
    return self->value;
}

int
zpl_line (zpl_t *self)
{
    assert (self);
    return self->line;
}

const char *
zpl_file (zpl_t *self)
{
    assert (self);
    return self->file_ref;
}

const char *
zpl_path (zpl_t *self)
{
    assert (self);
    return self->path;
}

zpl_t *
zpl_child (zpl_t *self)
{
    assert (self);
    return self->child;
}

zpl_t *
zpl_next (zpl_t *self)
{
    assert (self);
    return self->next;
}

zpl_t *
zpl_locate (zpl_t *self, const char *path)
{
    assert (self);
    assert (path);
    while (*path == '/')
        path++;
    if (*path == 0)
        return self;
    const char *slash = strchr (path, '/');
    size_t size = slash ? (size_t) (slash - path) : strlen (path);
    for (zpl_t *child = self->child; child; child = child->next)
        if (strlen (child->name) == size && memcmp (child->name, path, size) == 0)
            return slash ? zpl_locate (child, slash + 1) : child;
    return NULL;
}

//  --------------------------------------------------------------------------
//  Selftest

//  Parses text that must fail and checks the message.
static void
s_expect_error (const char *text, const char *expected)
{
    char err [256];
    zpl_t *root = zpl_parse (text, "bad.cfg", err, sizeof (err));
    if (root || strstr (err, expected) == NULL) {
        fprintf (stderr, "zpl: for %s\n  expected \"%s\", got \"%s\"\n", text, expected,
                 root ? "(parsed)" : err);
        assert (false);
    }
}

int
zpl_error (zpl_t *node, char *err, size_t err_size, const char *format, ...)
{
    int used = snprintf (err, err_size, "%s:%d: %s: ", zpl_file (node), zpl_line (node),
                         zpl_path (node));
    if (used >= 0 && (size_t) used < err_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (err + used, err_size - used, format, args);
        va_end (args);
    }
    return -1;
}

void
zpl_test (bool verbose)
{
    char err [256];
    const char *good = "#   A whole-line comment\n"
                       "\n"
                       "evmtap\n"
                       "    data_dir = ./evmtap-data     # a comment after a bare value\n"
                       "    sink = \"files:/tmp/a b#c\"   # '#' inside quotes is kept\n"
                       "    empty =\n"
                       "    single = 'it \"is\" here'\n"
                       "        # an indented comment at any depth\n"
                       "chains\n"
                       "    mainnet\n"
                       "        rpc = \"https://mainnet.infura.io/v3/{key}\"\n"
                       "        rpc = http://127.0.0.1:8545\n"
                       "\n"
                       "        keys = api_key_1,api_key_2\n"
                       "    sepolia   # a section with a comment\n"
                       "        workers = 2\n"
                       "            nested = deeper\n"
                       "odd.name$-_@&+/x = value with  inner  spaces   \r\n"
                       "last = no newline at the end";
    zpl_t *root = zpl_parse (good, "good.cfg", err, sizeof (err));
    if (!root)
        fprintf (stderr, "zpl: %s\n", err);
    assert (root);
    assert (streq (zpl_name (root), "root"));
    assert (zpl_line (root) == 0);
    assert (streq (zpl_path (root), ""));
    assert (zpl_value (root) == NULL);
    assert (streq (zpl_file (root), "good.cfg"));
    //  An error names the node's file, line and path before the message.
    zpl_t *workers = zpl_locate (root, "chains/sepolia/workers");
    assert (workers);
    assert (zpl_error (workers, err, sizeof (err), "%s is no number", "x") == -1);
    assert (streq (err, "good.cfg:16: chains/sepolia/workers: x is no number"));

    zpl_t *evmtap = zpl_child (root);
    assert (evmtap && streq (zpl_name (evmtap), "evmtap"));
    assert (zpl_value (evmtap) == NULL);
    assert (zpl_line (evmtap) == 3);
    zpl_t *node = zpl_child (evmtap);
    assert (streq (zpl_name (node), "data_dir"));
    assert (streq (zpl_value (node), "./evmtap-data"));
    assert (zpl_line (node) == 4);
    assert (streq (zpl_path (node), "evmtap/data_dir"));
    assert (streq (zpl_file (node), "good.cfg"));
    node = zpl_next (node);
    assert (streq (zpl_value (node), "files:/tmp/a b#c"));
    node = zpl_next (node);
    assert (streq (zpl_name (node), "empty"));
    assert (zpl_value (node) && streq (zpl_value (node), ""));
    node = zpl_next (node);
    assert (streq (zpl_value (node), "it \"is\" here"));
    assert (zpl_next (node) == NULL);
    assert (zpl_child (node) == NULL);

    zpl_t *chains = zpl_next (evmtap);
    assert (streq (zpl_name (chains), "chains"));
    zpl_t *mainnet = zpl_child (chains);
    assert (streq (zpl_path (mainnet), "chains/mainnet"));
    node = zpl_child (mainnet);
    assert (streq (zpl_name (node), "rpc"));
    assert (streq (zpl_value (node), "https://mainnet.infura.io/v3/{key}"));
    assert (zpl_line (node) == 11);
    node = zpl_next (node);
    assert (streq (zpl_name (node), "rpc"));
    assert (streq (zpl_value (node), "http://127.0.0.1:8545"));
    node = zpl_next (node);
    assert (streq (zpl_value (node), "api_key_1,api_key_2"));
    assert (zpl_line (node) == 14);
    zpl_t *sepolia = zpl_next (mainnet);
    assert (streq (zpl_name (sepolia), "sepolia"));
    assert (zpl_value (sepolia) == NULL);
    node = zpl_locate (root, "chains/sepolia/workers/nested");
    assert (node && streq (zpl_value (node), "deeper"));
    assert (streq (zpl_path (node), "chains/sepolia/workers/nested"));
    assert (zpl_line (node) == 17);
    assert (zpl_locate (root, "chains/sepolia/workers") == zpl_child (sepolia));
    assert (zpl_locate (chains, "sepolia") == sepolia);
    assert (zpl_locate (root, "") == root);
    assert (zpl_locate (root, "chains/goerli") == NULL);
    assert (zpl_locate (root, "chain") == NULL);
    assert (zpl_locate (root, "chains/mainnet/rpc") == zpl_child (mainnet));
    node = zpl_next (chains);
    assert (streq (zpl_name (node), "odd.name$-_@&+/x"));
    assert (streq (zpl_value (node), "value with  inner  spaces"));
    assert (zpl_line (node) == 18);
    node = zpl_next (node);
    assert (streq (zpl_value (node), "no newline at the end"));
    assert (zpl_line (node) == 19);
    assert (zpl_next (node) == NULL);
    zpl_destroy (&root);
    zpl_destroy (&root);
    assert (root == NULL);

    //  Empty documents and comment-only documents are valid and empty.
    root = zpl_parse ("", "empty.cfg", err, sizeof (err));
    assert (root && zpl_child (root) == NULL);
    zpl_destroy (&root);
    root = zpl_parse ("\xEF\xBB\xBF# only a comment\n\n   \n", NULL, err, sizeof (err));
    assert (root && zpl_child (root) == NULL);
    assert (streq (zpl_file (root), "-"));
    zpl_destroy (&root);
    //  Going back up several levels at once.
    root = zpl_parse ("a\n    b\n        c\n            d = 1\ne = 2\n", "x", err, sizeof (err));
    assert (root);
    assert (streq (zpl_value (zpl_locate (root, "a/b/c/d")), "1"));
    assert (streq (zpl_value (zpl_locate (root, "e")), "2"));
    zpl_destroy (&root);

    //  Errors name the file and line.
    s_expect_error ("a\n    b = 1\n  c = 2\n", "bad.cfg:3: indentation of 2 spaces is not");
    s_expect_error ("a\n        b = 1\n", "bad.cfg:2: indented too deeply: 8 spaces where at "
                                          "most 4 are allowed");
    s_expect_error ("    a = 1\n", "bad.cfg:1: indented too deeply");
    s_expect_error ("a\n\tb = 1\n", "bad.cfg:2: tab in indentation");
    s_expect_error ("a\t= 1\n", "bad.cfg:1: tab after name");
    s_expect_error ("a =\t1\n", "bad.cfg:1: tab after '='");
    s_expect_error ("a = 1\t2\n", "bad.cfg:1: tab in a bare value");
    s_expect_error ("a = \"one\n", "bad.cfg:1: unterminated quote: missing closing \"");
    s_expect_error ("\n\na = 'one\"\n", "bad.cfg:3: unterminated quote: missing closing '");
    s_expect_error ("a = \"one\" two\n", "bad.cfg:1: unexpected text \"two\" after the value");
    s_expect_error ("a b\n", "bad.cfg:1: unexpected text \"b\" after the name");
    s_expect_error ("a \"b\"\n", "bad.cfg:1: unexpected quote");
    s_expect_error ("= 1\n", "bad.cfg:1: missing name before '='");
    s_expect_error ("a!b = 1\n", "bad.cfg:1: invalid name: character '!'");
    s_expect_error ("!a = 1\n", "bad.cfg:1: invalid name: character '!'");
    s_expect_error ("a\xC3\xA9 = 1\n", "bad.cfg:1: invalid name: byte 0xc3");
    s_expect_error ("a = \"ok\"\t\n", "bad.cfg:1: tab before the end of line");
    //  Tabs inside quotes and comments are fine.
    root = zpl_parse ("a = \"x\ty\"  # and\there\n", "x", err, sizeof (err));
    assert (root && streq (zpl_value (zpl_child (root)), "x\ty"));
    zpl_destroy (&root);

    //  Loading from a file, and failing to.
    char path [] = "/tmp/evmtap-zpl-XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    const char *text = "section\n    name = value\n";
    assert (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
    close (fd);
    root = zpl_load (path, err, sizeof (err));
    assert (root);
    assert (streq (zpl_file (zpl_locate (root, "section/name")), path));
    assert (zpl_line (zpl_locate (root, "section/name")) == 2);
    zpl_destroy (&root);
    FILE *file = fopen (path, "wb");
    assert (file);
    fwrite ("a = 1\nb = 2\0c\n", 1, 14, file);
    fclose (file);
    root = zpl_load (path, err, sizeof (err));
    assert (root == NULL);
    assert (strstr (err, ":2: NUL byte"));
    file = fopen (path, "wb");
    assert (file);
    fputs ("a\n    b\n   c = 1\n", file);
    fclose (file);
    root = zpl_load (path, err, sizeof (err));
    assert (root == NULL);
    char expected [300];
    snprintf (expected, sizeof (expected), "%s:3: indentation of 3 spaces", path);
    assert (strncmp (err, expected, strlen (expected)) == 0);
    unlink (path);
    root = zpl_load (path, err, sizeof (err));
    assert (root == NULL);
    assert (strstr (err, "cannot open: No such file"));
    //  A tiny error buffer is never overrun.
    char tiny [8];
    assert (zpl_parse ("a\tb", "long-file-name.cfg", tiny, sizeof (tiny)) == NULL);
    assert (strlen (tiny) < sizeof (tiny));

    if (verbose)
        printf ("(zpl: %d error cases) ", 17);
}
