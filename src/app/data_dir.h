/*  data_dir: what a run checks and holds on its data dir before anything else opens it.
    The lock makes one process the only writer of a data dir (its checkpoint, key journal
    and files sink): a second one is refused at once, named by the pid that holds it. The
    length check refuses a path whose sink files could not be recorded in LMDB, before
    anything is written. */
#ifndef DATA_DIR_H_INCLUDED
#define DATA_DIR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  LMDB's largest key (MDB_MAXKEYSIZE, mdb_env_get_maxkeysize): the checkpoint keys each
//  sink file by its path.
#define DATA_DIR_LMDB_KEY_MAX 511
//  What a files sink root may add to its path: "/<chain>.<longest topic>/<day>.ndjson",
//  with the longest chain name (64) and topic (mined.tx.3.contract_interaction.decoded).
#define DATA_DIR_FILE_SUFFIX_MAX (1 + 64 + 40 + 1 + 17)
//  The longest files sink root, and data dir (whose sink root is <data-dir>/topics).
#define DATA_DIR_FILES_ROOT_MAX (DATA_DIR_LMDB_KEY_MAX - DATA_DIR_FILE_SUFFIX_MAX)
#define DATA_DIR_PATH_MAX (DATA_DIR_FILES_ROOT_MAX - 7)

typedef struct _data_dir_lock_t data_dir_lock_t;

//  How data_dir_lock_take failed.
typedef enum {
    DATA_DIR_LOCKED,    //  taken
    DATA_DIR_BUSY,      //  another process holds it (exit 2)
    DATA_DIR_FAILED     //  the directory or its lock file could not be made (exit 1)
} data_dir_lock_result_t;

//  Makes the data dir if need be and takes the exclusive lock on <dir>/lock (flock, held
//  until data_dir_lock_release or the process ends), writing "<pid> <command>" into it
//  (command: "run", "backfill"). On BUSY or FAILED, *self_p is NULL and err says why, naming
//  the directory (and the holder's pid and command).
data_dir_lock_result_t data_dir_lock_take (const char *dir, const char *command,
                                           data_dir_lock_t **self_p, char *err, size_t err_size);
//  Lets the lock go; safe twice.
void data_dir_lock_release (data_dir_lock_t **self_p);

//  Checks that a path given by setting (e.g. "--data-dir") is no longer than max bytes.
//  Returns 0, or -1 with the reason in err naming the setting and the limit.
int data_dir_check_length (const char *path, size_t max, const char *setting, char *err,
                           size_t err_size);

void data_dir_test (bool verbose);

#endif
