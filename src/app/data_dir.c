/*  data_dir: the lock and the length check of a data dir (see data_dir.h). */
#include "evmtap.h"
#include "data_dir.h"
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

struct _data_dir_lock_t {
    int fd;        //  the open lock file, which holds the flock
    char *path;    //  <dir>/lock
};

//  The pid written in the lock file by its holder, or 0 when it wrote none yet; its
//  command ("run", "backfill") in command, "" when it wrote none (an older evmtap).
static long
s_holder_pid (int fd, char *command, size_t command_size)
{
    char text [64] = "";
    *command = 0;
    ssize_t size = pread (fd, text, sizeof (text) - 1, 0);
    if (size <= 0)
        return 0;
    text [size] = 0;
    char *end = NULL;
    long pid = strtol (text, &end, 10);
    if (pid > 0 && *end == ' ')
        snprintf (command, command_size, "%.*s", (int) strcspn (end + 1, "\n"), end + 1);
    return pid > 0 && (*end == 0 || *end == '\n' || *end == ' ') ? pid : 0;
}

data_dir_lock_result_t
data_dir_lock_take (const char *dir, const char *command, data_dir_lock_t **self_p, char *err,
                    size_t err_size)
{
    assert (dir && command && self_p);
    *self_p = NULL;
    if (zsys_dir_create ("%s", dir) != 0) {
        snprintf (err, err_size, "data dir %s: cannot create it: %s", dir, strerror (errno));
        return DATA_DIR_FAILED;
    }
    char *path = zsys_sprintf ("%s/lock", dir);
    assert (path);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf (err, err_size, "data dir %s: cannot open %s: %s", dir, path, strerror (errno));
        zstr_free (&path);
        return DATA_DIR_FAILED;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        int error = errno;
        data_dir_lock_result_t result = DATA_DIR_FAILED;
        if (error == EWOULDBLOCK) {
            //  The holder writes its pid just after it locks: give it a moment.
            long pid = 0;
            char holder [32];
            for (int attempt = 0;
                 attempt < 10 && (pid = s_holder_pid (fd, holder, sizeof (holder))) == 0; attempt++)
                zclock_sleep (20);
            //  A backfill beside a running head is the usual way to meet a held lock.
            if (pid && *holder)
                snprintf (err, err_size,
                          "data dir %s is in use by pid %ld, an evmtap %s (lock %s): one "
                          "process per data dir; a backfill beside a running evmtap run takes "
                          "its own --data-dir",
                          dir, pid, holder, path);
            else if (pid)
                snprintf (err, err_size, "data dir %s is in use by pid %ld (lock %s)", dir, pid,
                          path);
            else
                snprintf (err, err_size, "data dir %s is in use by another process (lock %s)", dir,
                          path);
            result = DATA_DIR_BUSY;
        }
        else
            snprintf (err, err_size, "data dir %s: cannot lock %s: %s", dir, path,
                      strerror (error));
        close (fd);
        zstr_free (&path);
        return result;
    }
    char pid [64];
    int size = snprintf (pid, sizeof (pid), "%ld %.32s\n", (long) getpid (), command);
    if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, (size_t) size, 0) != size) {
        snprintf (err, err_size, "data dir %s: cannot write %s: %s", dir, path, strerror (errno));
        close (fd);
        zstr_free (&path);
        return DATA_DIR_FAILED;
    }
    data_dir_lock_t *self = (data_dir_lock_t *) zmalloc (sizeof (data_dir_lock_t));
    assert (self);
    self->fd = fd;
    self->path = path;
    *self_p = self;
    return DATA_DIR_LOCKED;
}

void
data_dir_lock_release (data_dir_lock_t **self_p)
{
    assert (self_p);
    data_dir_lock_t *self = *self_p;
    if (!self)
        return;
    //  The file stays: removing it would let a third process lock a new file while a
    //  second still waits on the old one.
    close (self->fd);
    zstr_free (&self->path);
    free (self);
    *self_p = NULL;
}

int
data_dir_check_length (const char *path, size_t max, const char *setting, char *err,
                       size_t err_size)
{
    assert (path && setting);
    size_t length = strlen (path);
    if (length <= max)
        return 0;
    snprintf (err, err_size,
              "%s: the path is %zu bytes, at most %zu: the checkpoint keys each sink file by "
              "its path, and LMDB keys are at most %d bytes",
              setting, length, max, DATA_DIR_LMDB_KEY_MAX);
    return -1;
}

void
data_dir_test (bool verbose)
{
    if (verbose)
        printf (" * data_dir: ");
    char template [] = "/tmp/evmtap-data-dir-XXXXXX";
    char *tmp = mkdtemp (template);
    assert (tmp);
    char *dir = zsys_sprintf ("%s/nested/data", tmp);
    char err [512];

    //  The first taker makes the directory and writes its pid.
    data_dir_lock_t *first = NULL;
    assert (data_dir_lock_take (dir, "run", &first, err, sizeof (err)) == DATA_DIR_LOCKED && first);
    char *lock_path = zsys_sprintf ("%s/lock", dir);
    FILE *file = fopen (lock_path, "r");
    assert (file);
    long pid = 0;
    char holder [16] = "";
    assert (fscanf (file, "%ld %15s", &pid, holder) == 2 && pid == (long) getpid ());
    assert (streq (holder, "run"));
    fclose (file);

    //  A second open of the lock conflicts, even in one process (flock is per open file).
    //  It names the holder's command, and where a backfill goes instead.
    data_dir_lock_t *second = NULL;
    assert (data_dir_lock_take (dir, "backfill", &second, err, sizeof (err)) == DATA_DIR_BUSY
            && !second);
    char *expected = zsys_sprintf ("data dir %s is in use by pid %ld, an evmtap run", dir,
                                   (long) getpid ());
    assert (strstr (err, expected) && strstr (err, "its own --data-dir"));
    zstr_free (&expected);

    //  Released (twice is safe): the next taker gets it.
    data_dir_lock_release (&first);
    data_dir_lock_release (&first);
    assert (data_dir_lock_take (dir, "run", &second, err, sizeof (err)) == DATA_DIR_LOCKED);
    data_dir_lock_release (&second);

    //  A directory that cannot be made.
    char *under_file = zsys_sprintf ("%s/data", lock_path);
    assert (data_dir_lock_take (under_file, "run", &second, err, sizeof (err)) == DATA_DIR_FAILED);
    assert (strstr (err, under_file) && !second);
    zstr_free (&under_file);

    //  Lengths: the limit itself passes, one more byte names the setting and the limit.
    char path [DATA_DIR_PATH_MAX + 2];
    memset (path, 'a', sizeof (path) - 1);
    path [DATA_DIR_PATH_MAX] = 0;
    assert (data_dir_check_length (path, DATA_DIR_PATH_MAX, "--data-dir", err, sizeof (err)) == 0);
    path [DATA_DIR_PATH_MAX] = 'a';
    path [DATA_DIR_PATH_MAX + 1] = 0;
    assert (data_dir_check_length (path, DATA_DIR_PATH_MAX, "--data-dir", err, sizeof (err)) == -1);
    assert (strstr (err, "--data-dir") && strstr (err, "at most 381") && strstr (err, "511"));

    unlink (lock_path);
    zstr_free (&lock_path);
    zsys_dir_delete ("%s", dir);
    char *nested = zsys_sprintf ("%s/nested", tmp);
    zsys_dir_delete ("%s", nested);
    zstr_free (&nested);
    zsys_dir_delete ("%s", tmp);
    zstr_free (&dir);
    if (verbose)
        printf ("OK\n");
}
