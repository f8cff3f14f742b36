/*
 * libxl_userdata.c - what the toolstack keeps of each domain outside
 * xenstore: <state dir>/<uuid>.<userid>, replaced atomically (libxl's
 * userdata, by another directory); and the per-domain lock
 * <state dir>/<domid>.lock that every mutating operation holds.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libxl_ctx.h"
#include "libxl_osdeps.h"

const char *libxl__state_dir_name(void)
{
    const char *dir = getenv("LIBXL_PVUSB_STATE_DIR");

    return dir && *dir ? dir : LIBXL_PVUSB_STATE_DIR;
}

/* The state directory, created (0700) if missing. */
static int state_dir(libxl__gc *gc, const char **dir_r)
{
    const char *dir = libxl__state_dir_name();

    if (mkdir(dir, 0700) && errno != EEXIST) {
        LOGE(ERROR, "cannot create the state directory %s", dir);
        return ERROR_FAIL;
    }
    *dir_r = dir;
    return 0;
}

/* <state dir>/<uuid>.<userid>, and the directory. */
static int userdata_path(libxl__gc *gc, const char *uuid, const char *userid,
                         const char **dir_r, const char **path_r)
{
    int rc;

    rc = state_dir(gc, dir_r);
    if (rc) return rc;
    *path_r = GCSPRINTF("%s/%s.%s", *dir_r, uuid, userid);
    return 0;
}

/*----- the domain lock -----*/

#define DOMAIN_LOCK_POLL_MS 5
#define DOMAIN_LOCK_MAX_WAIT_MS (120 * 1000)

void libxl__domain_lock_init(libxl__domain_lock *dl)
{
    dl->fd = -1;
    dl->path = NULL;
    dl->waited_ms = 0;
    libxl__ev_time_init(&dl->retry);
}

/*
 * The holder unlinks the file before it lets go, so a locker may end up
 * holding a file nobody else will ever open: it checks that the path
 * still names what it locked.
 */
int libxl__domain_lock_try(libxl__gc *gc, libxl__domain_lock *dl)
{
    struct stat fst, pst;
    const char *dir;
    int fd, rc;

    rc = state_dir(gc, &dir);
    if (rc) return rc;
    free(dl->path);
    dl->path = libxl__sprintf(NOGC, "%s/%u.lock", dir, dl->domid);
    for (;;) {
        fd = open(dl->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            LOGED(ERROR, dl->domid, "cannot open lock file %s", dl->path);
            return ERROR_LOCK_FAIL;
        }
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            rc = errno == EWOULDBLOCK ? ERROR_NOT_READY : ERROR_LOCK_FAIL;
            if (rc == ERROR_LOCK_FAIL)
                LOGED(ERROR, dl->domid, "cannot lock %s", dl->path);
            close(fd);
            return rc;
        }
        if (!fstat(fd, &fst) && !stat(dl->path, &pst) &&
            fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
            break;
        close(fd);              /* unlinked by the holder we waited for */
    }
    dl->fd = fd;
    return 0;
}

static void domain_lock_retry(libxl__egc *egc, libxl__ev_time *ev,
                              const struct timeval *requested_abs, int rc);

void libxl__domain_lock_acquire(libxl__egc *egc, libxl__domain_lock *dl)
{
    STATE_AO_GC(dl->ao);
    int rc;

    rc = libxl__domain_lock_try(gc, dl);
    if (rc != ERROR_NOT_READY) goto out;
    if (dl->waited_ms >= DOMAIN_LOCK_MAX_WAIT_MS) {
        LOGD(ERROR, dl->domid, "another operation on this domain has held "
             "%s for %d s; giving up", dl->path,
             DOMAIN_LOCK_MAX_WAIT_MS / 1000);
        rc = ERROR_LOCK_FAIL;
        goto out;
    }
    if (!dl->waited_ms)
        LOGD(DEBUG, dl->domid, "waiting for another operation on this "
             "domain (%s)", dl->path);
    dl->waited_ms += DOMAIN_LOCK_POLL_MS;
    rc = libxl__ev_time_register_rel(ao, &dl->retry, domain_lock_retry,
                                     DOMAIN_LOCK_POLL_MS);
    if (!rc) return;
out:
    dl->callback(egc, dl, rc);
}

static void domain_lock_retry(libxl__egc *egc, libxl__ev_time *ev,
                              const struct timeval *requested_abs, int rc)
{
    libxl__domain_lock *dl = CONTAINER_OF(ev, *dl, retry);

    (void)requested_abs;
    (void)rc;
    libxl__domain_lock_acquire(egc, dl);
}

void libxl__domain_lock_release(libxl__gc *gc, libxl__domain_lock *dl)
{
    libxl__ev_time_deregister(gc, &dl->retry);
    if (dl->fd >= 0) {
        if (unlink(dl->path) && errno != ENOENT)
            LOGE(WARN, "cannot remove lock file %s", dl->path);
        close(dl->fd);
        dl->fd = -1;
    }
    free(dl->path);
    dl->path = NULL;
}

/* The whole of the file at fd, NUL-terminated, from gc. */
static int read_all(libxl__gc *gc, int fd, const char *path, char **text_r)
{
    size_t len = 0, size = 4096;
    char *text = NULL;
    ssize_t r;

    for (;;) {
        GCREALLOC_ARRAY(text, size);
        r = read(fd, text + len, size - len - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            LOGE(ERROR, "cannot read %s", path);
            return ERROR_FAIL;
        }
        if (!r) break;
        len += r;
        if (len == size - 1)
            size *= 2;
    }
    text[len] = '\0';
    *text_r = text;
    return 0;
}

int libxl__userdata_retrieve(libxl__gc *gc, const char *uuid,
                             const char *userid, char **data_r)
{
    const char *dir, *path;
    int fd = -1;
    int rc;

    *data_r = NULL;
    rc = userdata_path(gc, uuid, userid, &dir, &path);
    if (rc) goto out;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            rc = 0;             /* nothing stored */
            goto out;
        }
        LOGE(ERROR, "cannot open %s", path);
        rc = ERROR_FAIL;
        goto out;
    }
    rc = read_all(gc, fd, path, data_r);

 out:
    if (fd >= 0) close(fd);
    return rc;
}

static int write_all(libxl__gc *gc, int fd, const char *path,
                     const char *buf, size_t len)
{
    ssize_t r;

    while (len) {
        r = write(fd, buf, len);
        if (r < 0) {
            if (errno == EINTR) continue;
            LOGE(ERROR, "cannot write %s", path);
            return ERROR_FAIL;
        }
        buf += r;
        len -= r;
    }
    return 0;
}

/* Makes a rename or unlink in dir durable. */
static int fsync_dir(libxl__gc *gc, const char *dir)
{
    int fd, rc = 0;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        LOGE(ERROR, "cannot sync directory %s", dir);
        rc = ERROR_FAIL;
    }
    if (fd >= 0) close(fd);
    return rc;
}

int libxl__userdata_store(libxl__gc *gc, const char *uuid, const char *userid,
                          const char *data)
{
    const char *dir, *path, *tmp = NULL;
    int fd = -1;
    int rc;

    rc = userdata_path(gc, uuid, userid, &dir, &path);
    if (rc) goto out;

    /* One writer at a time (the lock), so the temp file's name is fixed
     * and a crash's leftover is simply overwritten next time. */
    tmp = GCSPRINTF("%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOGE(ERROR, "cannot create %s", tmp);
        rc = ERROR_FAIL;
        goto out;
    }
    rc = write_all(gc, fd, tmp, data, strlen(data));
    if (rc) goto out;
    if (fsync(fd)) {
        LOGE(ERROR, "cannot sync %s", tmp);
        rc = ERROR_FAIL;
        goto out;
    }
    close(fd);
    fd = -1;

    if (rename(tmp, path)) {
        LOGE(ERROR, "cannot rename %s to %s", tmp, path);
        rc = ERROR_FAIL;
        goto out;
    }
    tmp = NULL;
    rc = fsync_dir(gc, dir);

 out:
    if (fd >= 0) close(fd);
    if (tmp && unlink(tmp) && errno != ENOENT)
        LOGE(ERROR, "cannot remove %s", tmp);
    return rc;
}

int libxl__userdata_destroy(libxl__gc *gc, const char *uuid, const char *userid)
{
    const char *dir, *path;
    int rc;

    rc = userdata_path(gc, uuid, userid, &dir, &path);
    if (rc) return rc;
    if (unlink(path)) {
        if (errno == ENOENT)
            return 0;
        LOGE(ERROR, "cannot remove %s", path);
        return ERROR_FAIL;
    }
    return fsync_dir(gc, dir);
}
