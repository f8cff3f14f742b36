/*
 * libxl_userdata.c - the persisted USB configuration of each domain:
 * <state dir>/<uuid>.json, updated under <uuid>.lock, replaced atomically.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libxl_ctx.h"
#include "libxl_osdeps.h"

struct libxl__domain_userdata_lock {
    int fd;
};

/* The state directory, created (0700) if missing. */
static int state_dir(libxl__gc *gc, const char **dir_r)
{
    const char *dir = getenv("LIBXL_PVUSB_STATE_DIR");

    if (!dir || !*dir)
        dir = LIBXL_PVUSB_STATE_DIR;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        LOGE(ERROR, "cannot create the state directory %s", dir);
        return ERROR_FAIL;
    }
    *dir_r = dir;
    return 0;
}

/* <state dir>/<uuid of domid><suffix>, and the directory. */
static int userdata_path(libxl__gc *gc, uint32_t domid, const char *suffix,
                         const char **dir_r, const char **path_r)
{
    const char *uuid;
    int rc;

    rc = libxl__domain_uuid_string(gc, domid, &uuid);
    if (rc) return rc;
    rc = state_dir(gc, dir_r);
    if (rc) return rc;
    *path_r = GCSPRINTF("%s/%s%s", *dir_r, uuid, suffix);
    return 0;
}

libxl__domain_userdata_lock *libxl__lock_domain_userdata(libxl__gc *gc,
                                                         uint32_t domid)
{
    libxl__domain_userdata_lock *lock = NULL;
    const char *dir, *path;
    int fd = -1;
    int rc;

    rc = userdata_path(gc, domid, ".lock", &dir, &path);
    if (rc) goto out;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOGED(ERROR, domid, "cannot open lock file %s", path);
        goto out;
    }
    while (flock(fd, LOCK_EX)) {
        if (errno != EINTR) {
            LOGED(ERROR, domid, "cannot lock %s", path);
            goto out;
        }
    }

    lock = libxl__zalloc(NOGC, sizeof(*lock));
    lock->fd = fd;
    fd = -1;

 out:
    if (fd >= 0) close(fd);
    return lock;
}

void libxl__unlock_domain_userdata(libxl__domain_userdata_lock *lock)
{
    /* Closing the only descriptor of the open file releases the lock. */
    close(lock->fd);
    free(lock);
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

int libxl__get_domain_usb_config(libxl__gc *gc, uint32_t domid,
                                 libxl_domain_usb_config *cfg)
{
    const char *dir, *path;
    char *text;
    int fd = -1;
    int rc;

    rc = userdata_path(gc, domid, ".json", &dir, &path);
    if (rc) goto out;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            rc = 0;             /* nothing saved: the empty config */
            goto out;
        }
        LOGED(ERROR, domid, "cannot open %s", path);
        rc = ERROR_FAIL;
        goto out;
    }
    rc = read_all(gc, fd, path, &text);
    if (rc) goto out;

    rc = libxl_domain_usb_config_from_json(CTX, cfg, text);
    if (rc)
        LOGD(ERROR, domid, "%s is not a valid USB configuration", path);

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

int libxl__set_domain_usb_config(libxl__gc *gc, uint32_t domid,
                                 libxl_domain_usb_config *cfg)
{
    const char *dir, *path, *tmp = NULL;
    char *text;
    int fd = -1;
    int rc;

    rc = userdata_path(gc, domid, ".json", &dir, &path);
    if (rc) goto out;

    text = libxl_domain_usb_config_to_json(CTX, cfg);
    if (!text) {
        rc = ERROR_FAIL;
        goto out;
    }
    libxl__ptr_add(gc, text);

    /* One writer at a time (the lock), so the temp file's name is fixed
     * and a crash's leftover is simply overwritten next time. */
    tmp = GCSPRINTF("%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOGED(ERROR, domid, "cannot create %s", tmp);
        rc = ERROR_FAIL;
        goto out;
    }
    rc = write_all(gc, fd, tmp, text, strlen(text));
    if (rc) goto out;
    if (fsync(fd)) {
        LOGED(ERROR, domid, "cannot sync %s", tmp);
        rc = ERROR_FAIL;
        goto out;
    }
    close(fd);
    fd = -1;

    if (rename(tmp, path)) {
        LOGED(ERROR, domid, "cannot rename %s to %s", tmp, path);
        rc = ERROR_FAIL;
        goto out;
    }
    tmp = NULL;
    rc = fsync_dir(gc, dir);

 out:
    if (fd >= 0) close(fd);
    if (tmp && unlink(tmp) && errno != ENOENT)
        LOGED(ERROR, domid, "cannot remove %s", tmp);
    return rc;
}

int libxl__remove_domain_usb_config(libxl__gc *gc, uint32_t domid)
{
    const char *dir, *path;
    int rc;

    rc = userdata_path(gc, domid, ".json", &dir, &path);
    if (rc) return rc;
    if (unlink(path)) {
        if (errno == ENOENT)
            return 0;
        LOGED(ERROR, domid, "cannot remove %s", path);
        return ERROR_FAIL;
    }
    return fsync_dir(gc, dir);
}
