/*  chain_samples: files are read whole (the largest block answer is under 1 MB). */
#include "evmtap.h"
#include "chain_samples.h"
#include <dirent.h>

cJSON *
chain_samples_load (const char *relative)
{
    char *path = zsys_sprintf ("%s/blocks/%s", evmtap_shared_data (), relative);
    zfile_t *file = zfile_new (NULL, path);
    zstr_free (&path);
    cJSON *doc = NULL;
    if (file && zfile_input (file) == 0) {
        zchunk_t *chunk = zfile_read (file, zfile_cursize (file), 0);
        if (chunk)
            doc = cJSON_ParseWithLength ((const char *) zchunk_data (chunk), zchunk_size (chunk));
        zchunk_destroy (&chunk);
    }
    zfile_destroy (&file);
    return doc;
}

cJSON *
chain_samples_result (cJSON *doc)
{
    return cJSON_GetObjectItemCaseSensitive (doc, "result");
}

static int
s_compare_names (void *item1, void *item2)
{
    //  Numbered files in number order, then by name.
    const char *left = (const char *) item1, *right = (const char *) item2;
    long a = atol (left), b = atol (right);
    if (a != b)
        return a < b ? -1 : 1;
    return strcmp (left, right);
}

zlist_t *
chain_samples_list (const char *folder, bool numbered_only)
{
    char *path = zsys_sprintf ("%s/blocks/%s", evmtap_shared_data (), folder);
    DIR *dir = opendir (path);
    zstr_free (&path);
    if (!dir)
        return NULL;
    zlist_t *names = zlist_new ();
    zlist_autofree (names);
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t length = strlen (entry->d_name);
        if (length < 6 || strcmp (entry->d_name + length - 5, ".json"))
            continue;
        if (numbered_only && !isdigit ((unsigned char) entry->d_name [0]))
            continue;
        zlist_append (names, entry->d_name);
    }
    closedir (dir);
    zlist_sort (names, s_compare_names);
    return names;
}

void
chain_samples_test (bool verbose)
{
    (void) verbose;
    cJSON *doc = chain_samples_load ("mainnet/0.json");
    assert (doc);
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive (chain_samples_result (doc), "hash");
    assert (cJSON_IsString (hash));
    assert (streq (hash->valuestring,
                   "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"));
    cJSON_Delete (doc);
    assert (chain_samples_load ("mainnet/no-such-block.json") == NULL);
    assert (chain_samples_list ("no-such-folder", true) == NULL);

    zlist_t *names = chain_samples_list ("mainnet", true);
    assert (names && zlist_size (names) == 19);
    assert (streq ((const char *) zlist_first (names), "0.json"));
    assert (streq ((const char *) zlist_next (names), "47218.json"));
    zlist_destroy (&names);
}
