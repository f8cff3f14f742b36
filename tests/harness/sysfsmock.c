/*
 * sysfsmock.c - LD_PRELOAD fake of /sys/bus/usb, after libvirt's
 * virusbmock/virpcimock and kmod's testsuite.
 *
 * With SYSFSMOCK_ROOT set, every path starting with /sys/bus/usb is
 * served from $SYSFSMOCK_ROOT/sys/bus/usb, a copy of a pristine tree
 * (tests/sysfs/).  Wrapped, because glibc calls its own internals rather
 * than an interposed open/readlink: the open family (with the
 * _FORTIFY_SOURCE entry points __open_2 & co.), fopen, opendir, scandir,
 * the stat family, access, readlink (and __readlink_chk), realpath (and
 * __realpath_chk, canonicalize_file_name), whose results are mapped back
 * to "/sys/bus/usb/..." names.  Not wrapped: the pre-2.33 __xstat entry
 * points, statx, chdir-relative paths; the code under test uses none.
 *
 * The kernel's side effects are modelled where they happen, in write():
 * opening drivers/<d>/bind or unbind (directly, or as
 * devices/<intf>/driver/unbind) for writing tracks the fd, and a write of
 * a device or interface name then does what drivers/base/bus.c does:
 *   bind   : name unknown -> ENODEV; already bound -> EBUSY; else the
 *            device's `driver` link and the driver's <name> link appear;
 *   unbind : name not bound to this driver -> ENODEV; else both go.
 * The name must be written exactly, optionally with one trailing "\n".
 * The kernel compares with sysfs_streq, which stops at a NUL, so it also
 * accepts "1-1:1.0\0<anything>"; the mock refuses any NUL with ENODEV, so
 * that writing sizeof(pointer) bytes of a name fails for every name, not
 * only for names of eight characters or more (the original patch's bug).
 *
 * Every file opened and directory listed below /sys/bus/usb is counted
 * (sysfsmock.h), for make bench.  Injected failures (sysfsmock.h) are
 * checked before every modelled write, and the harness drives the model
 * directly through the exported sysfsmock_* functions.  Writes made through stdio (fopen "w") are
 * modelled too, through fopencookie.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#define _GNU_SOURCE
/* The wrappers must be the plain symbols, not fortified inlines or the
 * 64-bit aliases the headers would otherwise substitute. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfsmock.h"

/* glibc's fortify entry points: exported, but declared by no header
 * unless _FORTIFY_SOURCE is on. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len,
                       size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
                         size_t len, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

sysfsmock_bind_fn sysfsmock_bind;
sysfsmock_unbind_fn sysfsmock_unbind;
sysfsmock_unplug_fn sysfsmock_unplug;
sysfsmock_remove_driver_fn sysfsmock_remove_driver;

/* The next definition of fn (libc's), looked up once. */
#define REAL(fn)                                                        \
    static __typeof__(fn) *real_##fn;                                   \
    if (!real_##fn)                                                     \
        real_##fn = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn)

#define USB_DIR SYSFSMOCK_PREFIX                /* "/sys/bus/usb" */
#define DRIVERS_DIR USB_DIR "/drivers/"
#define DEVICES_DIR USB_DIR "/devices/"

static const char *fake_root(void)
{
    return getenv(SYSFSMOCK_ROOT_ENV);
}

/*
 * The path to really use for path: path itself if it is not below
 * /sys/bus/usb (or no fake root is set), else $SYSFSMOCK_ROOT/path in
 * buf.  NULL (errno set) if that does not fit.
 */
static const char *redirect(const char *path, char buf[PATH_MAX])
{
    const char *root = fake_root();
    size_t n = strlen(USB_DIR);

    if (!root || !path || strncmp(path, USB_DIR, n) ||
        (path[n] != '\0' && path[n] != '/'))
        return path;
    if (snprintf(buf, PATH_MAX, "%s%s", root, path) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return buf;
}

/* $SYSFSMOCK_ROOT + rel into buf; false if it does not fit. */
static bool in_root(char buf[PATH_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool in_root(char buf[PATH_MAX], const char *fmt, ...)
{
    const char *root = fake_root();
    size_t n;
    va_list ap;

    if (!root)
        return false;
    n = snprintf(buf, PATH_MAX, "%s", root);
    if (n >= PATH_MAX)
        return false;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
    va_end(ap);
    return n < PATH_MAX;
}

/* A resolved fake path back to the name the program would see. */
static void unfake(char *resolved)
{
    const char *root = fake_root();
    size_t n = root ? strlen(root) : 0;

    if (n && !strncmp(resolved, root, n) && resolved[n] == '/')
        memmove(resolved, resolved + n, strlen(resolved + n) + 1);
}

/*----- counts (sysfsmock.h) -----*/

/* The counters of the current fake root: its count file, mapped shared,
 * or (none there) a dummy of this process. */
static struct sysfsmock_counts *sysfsmock_counted(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static struct sysfsmock_counts dummy, *mapped;
    static char mapped_root[PATH_MAX];
    const char *root = fake_root();
    struct sysfsmock_counts *c;
    char path[PATH_MAX];
    int fd, saved = errno;
    void *m;
    REAL(openat);

    pthread_mutex_lock(&lock);
    if (root && strcmp(root, mapped_root)) {
        if (mapped)
            munmap(mapped, sizeof(*mapped));
        mapped = NULL;
        snprintf(mapped_root, sizeof(mapped_root), "%s", root);
        fd = in_root(path, "/%s", SYSFSMOCK_COUNT_FILE) ?
             real_openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC) : -1;
        if (fd >= 0) {
            m = mmap(NULL, sizeof(*mapped), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
            close(fd);
            if (m != MAP_FAILED)
                mapped = m;
        }
    }
    c = mapped ? mapped : &dummy;
    pthread_mutex_unlock(&lock);
    errno = saved;
    return c;
}

static void count(unsigned long *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static bool is_listing(const char *fn)
{
    return !strcmp(fn, "opendir") || !strncmp(fn, "scandir", 7);
}

/*----- paths only: redirect and pass on -----*/

/* A wrapper of fn whose argument named `path` is redirected (and, if fn
 * lists a directory, counted). */
#define PATH_WRAPPER(ret, fn, params, args, failed)                     \
    ret fn params                                                       \
    {                                                                   \
        char buf_[PATH_MAX];                                            \
        const char *p_;                                                 \
        REAL(fn);                                                       \
        p_ = redirect(path, buf_);                                      \
        if (!p_)                                                        \
            return failed;                                              \
        if (p_ != path && is_listing(#fn))                              \
            count(&sysfsmock_counted()->listings);                      \
        path = p_;                                                      \
        return real_##fn args;                                          \
    }

PATH_WRAPPER(int, stat, (const char *path, struct stat *st), (path, st), -1)
PATH_WRAPPER(int, stat64, (const char *path, struct stat64 *st),
             (path, st), -1)
PATH_WRAPPER(int, lstat, (const char *path, struct stat *st), (path, st), -1)
PATH_WRAPPER(int, lstat64, (const char *path, struct stat64 *st),
             (path, st), -1)
PATH_WRAPPER(int, fstatat, (int dirfd, const char *path, struct stat *st,
                            int flags), (dirfd, path, st, flags), -1)
PATH_WRAPPER(int, fstatat64, (int dirfd, const char *path,
                              struct stat64 *st, int flags),
             (dirfd, path, st, flags), -1)
PATH_WRAPPER(int, access, (const char *path, int mode), (path, mode), -1)
PATH_WRAPPER(int, euidaccess, (const char *path, int mode), (path, mode), -1)
PATH_WRAPPER(int, eaccess, (const char *path, int mode), (path, mode), -1)
PATH_WRAPPER(int, faccessat, (int dirfd, const char *path, int mode,
                              int flags), (dirfd, path, mode, flags), -1)
PATH_WRAPPER(ssize_t, readlink, (const char *path, char *buf, size_t len),
             (path, buf, len), -1)
PATH_WRAPPER(ssize_t, readlinkat, (int dirfd, const char *path, char *buf,
                                   size_t len), (dirfd, path, buf, len), -1)
PATH_WRAPPER(ssize_t, __readlink_chk, (const char *path, char *buf,
                                       size_t len, size_t buflen),
             (path, buf, len, buflen), -1)
PATH_WRAPPER(ssize_t, __readlinkat_chk, (int dirfd, const char *path,
                                         char *buf, size_t len,
                                         size_t buflen),
             (dirfd, path, buf, len, buflen), -1)
PATH_WRAPPER(DIR *, opendir, (const char *path), (path), NULL)
PATH_WRAPPER(int, scandir, (const char *path, struct dirent ***list,
                            int (*sel)(const struct dirent *),
                            int (*cmp)(const struct dirent **,
                                       const struct dirent **)),
             (path, list, sel, cmp), -1)
PATH_WRAPPER(int, scandir64, (const char *path, struct dirent64 ***list,
                              int (*sel)(const struct dirent64 *),
                              int (*cmp)(const struct dirent64 **,
                                         const struct dirent64 **)),
             (path, list, sel, cmp), -1)

/* glibc's realpath resolves links with its internal readlink: wrap it,
 * and map the result back out of the fake root. */
char *realpath(const char *path, char *resolved)
{
    char buf[PATH_MAX], *r;
    const char *p;
    REAL(realpath);

    p = redirect(path, buf);
    if (!p)
        return NULL;
    if (p == path)
        return real_realpath(path, resolved);
    r = real_realpath(p, NULL);
    if (!r)
        return NULL;
    unfake(r);
    if (!resolved)
        return r;
    if (strlen(r) >= PATH_MAX) {
        free(r);
        errno = ENAMETOOLONG;
        return NULL;
    }
    strcpy(resolved, r);
    free(r);
    return resolved;
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
    if (resolved && resolvedlen < PATH_MAX)
        abort();        /* what glibc's __chk_fail does, minus the message */
    return realpath(path, resolved);
}

char *canonicalize_file_name(const char *path)
{
    return realpath(path, NULL);
}

/*----- the lock and the injections -----*/

/* Takes the tree's lock (flock on the injection file); returns its fd,
 * positioned nowhere in particular, or -1. */
static int lock_tree(void)
{
    char path[PATH_MAX];
    int fd;
    REAL(openat);

    if (!in_root(path, "/%s", SYSFSMOCK_INJECT_FILE))
        return -1;
    fd = real_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void unlock_tree(int fd)
{
    int saved = errno;

    if (fd >= 0)
        close(fd);      /* drops the flock */
    errno = saved;
}

/*
 * The injection for a write to opened (as the program named it) or
 * resolved (where it leads): the errno to fail it with, or 0; consumes
 * one of its `times`.  An injection of errno 0 names a device instead
 * ("<path> <busid>"): it is unplugged just before the write, which is
 * then modelled as usual, and its busid is copied to unplug (else "").
 * lockfd is the locked injection file.
 */
static int injected(int lockfd, const char *opened, const char *resolved,
                    char unplug[NAME_MAX + 1])
{
    static char in[16384], out[sizeof(in)];
    size_t out_len = 0;
    char *line, *nl, *p, *busid;
    int err = 0, e, times, used;
    bool hit = false;
    ssize_t n;

    unplug[0] = '\0';
    n = pread(lockfd, in, sizeof(in) - 1, 0);
    if (n <= 0)
        return 0;
    in[n] = '\0';
    for (line = in; *line; line = nl) {
        nl = strchr(line, '\n');
        nl = nl ? nl + 1 : line + strlen(line);
        if (sscanf(line, "%d %d %n", &e, &times, &used) != 2)
            continue;                           /* not ours: dropped */
        p = line + used;
        if (nl[-1] == '\n')
            nl[-1] = '\0';
        busid = e ? NULL : strrchr(p, ' ');
        if (busid)
            *busid = '\0';
        if (!hit && times && (!strcmp(p, opened) || !strcmp(p, resolved))) {
            hit = true;
            err = e;
            if (busid)
                snprintf(unplug, NAME_MAX + 1, "%s", busid + 1);
            if (times > 0)
                times--;
        }
        if (busid)
            *busid = ' ';
        if (times)
            out_len += snprintf(out + out_len, sizeof(out) - out_len,
                                SYSFSMOCK_INJECT_FMT, e, times, p);
    }
    if (hit && (ftruncate(lockfd, 0) ||
                pwrite(lockfd, out, out_len, 0) != (ssize_t)out_len))
        return EIO;
    return err;
}

/*----- the model: bind and unbind -----*/

/* A name as the kernel takes it from a write: exactly the bytes, one
 * trailing newline allowed; anything else names no device. */
static int parse_name(const char *buf, size_t count, char name[NAME_MAX + 1])
{
    if (count && buf[count - 1] == '\n')
        count--;
    if (!count || count > NAME_MAX || buf[0] == '.' ||
        memchr(buf, '\0', count) || memchr(buf, '/', count))
        return ENODEV;
    memcpy(name, buf, count);
    name[count] = '\0';
    return 0;
}

/* The driver name a device's `driver` link points at, into drv. */
static int bound_driver(const char *name, char drv[NAME_MAX + 1])
{
    char path[PATH_MAX], target[PATH_MAX];
    const char *base;
    ssize_t n;

    if (!in_root(path, DEVICES_DIR "%s/driver", name))
        return ENAMETOOLONG;
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return errno == ENOENT ? ENODEV : errno;
    target[n] = '\0';
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (strlen(base) > NAME_MAX)
        return ENAMETOOLONG;
    strcpy(drv, base);
    return 0;
}

static int bind_locked(const char *name, const char *driver)
{
    char dev[PATH_MAX], drvdir[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
    char *phys = NULL, drv[NAME_MAX + 1];
    const char *rel, *s;
    size_t len = 0;
    struct stat st;
    int err = ENODEV;
    REAL(realpath);

    if (!in_root(dev, DEVICES_DIR "%s", name) ||
        !in_root(drvdir, DRIVERS_DIR "%s", driver) ||
        stat(dev, &st) || !S_ISDIR(st.st_mode) ||
        stat(drvdir, &st) || !S_ISDIR(st.st_mode))
        goto out;
    err = EBUSY;
    if (!bound_driver(name, drv))
        goto out;
    /* Relative links, as sysfs has, from where the device really is
     * (an interface's dir lives inside its device's). */
    err = ENODEV;
    phys = real_realpath(dev, NULL);
    if (!phys || !in_root(link, USB_DIR "/") ||
        strncmp(phys, link, strlen(link)))
        goto out;
    rel = phys + strlen(link);                  /* "devices/1-1/1-1:1.0" */
    for (s = rel; s; s = strchr(s + 1, '/'))
        len += snprintf(target + len, sizeof(target) - len, "../");
    snprintf(target + len, sizeof(target) - len, "drivers/%s", driver);
    snprintf(link, sizeof(link), "%s/driver", phys);
    err = errno = 0;
    if (symlink(target, link))
        err = errno;
    snprintf(target, sizeof(target), "../../%s", rel);
    if (!err && (!in_root(link, DRIVERS_DIR "%s/%s", driver, name) ||
                 symlink(target, link))) {
        err = errno ? errno : ENAMETOOLONG;
        snprintf(link, sizeof(link), "%s/driver", phys);
        unlink(link);
    }
 out:
    free(phys);
    return err;
}

/* Unbinds name from driver (NULL: from whichever it is bound to). */
static int unbind_locked(const char *name, const char *driver)
{
    char path[PATH_MAX], drv[NAME_MAX + 1];
    int err;

    err = bound_driver(name, drv);
    if (err)
        return err;
    if (driver && strcmp(driver, drv))
        return ENODEV;
    if (!in_root(path, DEVICES_DIR "%s/driver", name) || unlink(path))
        return errno ? errno : ENAMETOOLONG;
    if (in_root(path, DRIVERS_DIR "%s/%s", drv, name))
        unlink(path);
    return 0;
}

/*----- tracked fds: the control files opened for writing -----*/

enum control { NOT_CONTROL, BIND, UNBIND };

struct tracked {
    int fd;
    dev_t dev;
    ino_t ino;
    enum control control;
    char driver[NAME_MAX + 1];
    char opened[PATH_MAX];      /* as the program named it */
    char resolved[PATH_MAX];    /* where that leads, as a /sys path */
};

#define MAX_TRACKED 16
static struct tracked tracked[MAX_TRACKED];
static int n_tracked;           /* slots in use; 0 is the fast path */
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;

/* "/sys/bus/usb/drivers/<d>/bind" or ".../unbind"? */
static enum control control_of(const char *resolved, char drv[NAME_MAX + 1])
{
    const char *d = resolved + strlen(DRIVERS_DIR), *slash;

    if (strncmp(resolved, DRIVERS_DIR, strlen(DRIVERS_DIR)))
        return NOT_CONTROL;
    slash = strchr(d, '/');
    if (!slash || slash == d || slash - d > NAME_MAX)
        return NOT_CONTROL;
    memcpy(drv, d, slash - d);
    drv[slash - d] = '\0';
    if (!strcmp(slash, "/bind"))
        return BIND;
    if (!strcmp(slash, "/unbind"))
        return UNBIND;
    return NOT_CONTROL;
}

static void forget(int fd)
{
    int i;

    pthread_mutex_lock(&tracked_lock);
    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked[i].fd == fd && tracked[i].opened[0]) {
            tracked[i].opened[0] = '\0';
            n_tracked--;
        }
    pthread_mutex_unlock(&tracked_lock);
}

/* Returns 0, or -1 with errno set (no free slot). */
static int track(int fd, const char *opened, const char *fake)
{
    struct tracked *t = NULL;
    struct stat st;
    char *r;
    int i;
    REAL(realpath);

    if (fstat(fd, &st))
        return -1;
    pthread_mutex_lock(&tracked_lock);
    for (i = 0; i < MAX_TRACKED && !t; i++)
        if (!tracked[i].opened[0])
            t = &tracked[i];
    if (t) {
        t->fd = fd;
        t->dev = st.st_dev;
        t->ino = st.st_ino;
        snprintf(t->opened, sizeof(t->opened), "%s", opened);
        r = real_realpath(fake, NULL);
        if (r)
            unfake(r);
        snprintf(t->resolved, sizeof(t->resolved), "%s", r ? r : opened);
        free(r);
        t->control = control_of(t->resolved, t->driver);
        n_tracked++;
    }
    pthread_mutex_unlock(&tracked_lock);
    if (!t)
        errno = EMFILE;
    return t ? 0 : -1;
}

/* Copies fd's entry into out if fd is still the file that was tracked
 * (stdio's fclose closes without us seeing it, and fds are reused). */
static bool lookup(int fd, struct tracked *out)
{
    struct stat st;
    bool found = false;
    int i;

    pthread_mutex_lock(&tracked_lock);
    for (i = 0; i < MAX_TRACKED && !found; i++)
        if (tracked[i].opened[0] && tracked[i].fd == fd) {
            if (!fstat(fd, &st) && st.st_dev == tracked[i].dev &&
                st.st_ino == tracked[i].ino) {
                *out = tracked[i];
                found = true;
            } else {
                tracked[i].opened[0] = '\0';
                n_tracked--;
            }
        }
    pthread_mutex_unlock(&tracked_lock);
    return found;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
    char buf[PATH_MAX];
    const char *p = redirect(path, buf);
    int fd;
    REAL(openat);

    if (!p)
        return -1;
    if (p != path)
        count(&sysfsmock_counted()->opens);
    fd = real_openat(dirfd, p, flags, mode);
    if (fd < 0)
        return fd;
    forget(fd);         /* a stale entry for a number reused */
    if (p != path && (flags & O_ACCMODE) != O_RDONLY &&
        track(fd, path, p)) {
        close(fd);
        return -1;
    }
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
        return va_arg(ap, mode_t);
    return 0;
}

/*
 * open<sfx>([dirfd,] path, flags, ...) and its fortify entry point
 * __open<sfx>_2 (no mode): dirfd is the directory argument or AT_FDCWD,
 * the rest the parameters before path.  For open, open64, openat and
 * openat64.
 */
#define OPEN_WRAPPERS(sfx, dirfd, ...)                                  \
    int open##sfx(__VA_ARGS__ const char *path, int flags, ...)        \
    {                                                                   \
        va_list ap;                                                     \
        mode_t mode;                                                    \
        va_start(ap, flags);                                            \
        mode = mode_arg(flags, ap);                                     \
        va_end(ap);                                                     \
        return open_common(dirfd, path, flags, mode);                   \
    }                                                                   \
    int __open##sfx##_2(__VA_ARGS__ const char *path, int flags)       \
    {                                                                   \
        return open_common(dirfd, path, flags, 0);                      \
    }

OPEN_WRAPPERS(, AT_FDCWD)
OPEN_WRAPPERS(64, AT_FDCWD)
OPEN_WRAPPERS(at, dirfd, int dirfd,)
OPEN_WRAPPERS(at64, dirfd, int dirfd,)

int close(int fd)
{
    REAL(close);

    if (n_tracked)
        forget(fd);
    return real_close(fd);
}

static int unplug_locked(const char *busid);

/* A write to a tracked file, under the tree's lock. */
static ssize_t modelled_write(const struct tracked *t, const void *buf,
                              size_t count)
{
    char name[NAME_MAX + 1], unplug[NAME_MAX + 1];
    int lockfd = lock_tree(), err;
    ssize_t r;
    REAL(write);

    if (lockfd < 0)
        return -1;
    err = injected(lockfd, t->opened, t->resolved, unplug);
    if (!err && unplug[0])
        err = unplug_locked(unplug);
    if (!err && t->control != NOT_CONTROL)
        err = parse_name(buf, count, name);
    if (!err && t->control == BIND)
        err = bind_locked(name, t->driver);
    else if (!err && t->control == UNBIND)
        err = unbind_locked(name, t->driver);
    if (err) {
        errno = err;
        r = -1;
    } else if (t->control != NOT_CONTROL) {
        r = count;
    } else {
        r = real_write(t->fd, buf, count);
    }
    unlock_tree(lockfd);
    return r;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    struct tracked t;
    REAL(write);

    if (!n_tracked || !lookup(fd, &t))
        return real_write(fd, buf, count);
    return modelled_write(&t, buf, count);
}

/*----- stdio: fopen for writing goes through the model too -----*/

static ssize_t cookie_read(void *c, char *buf, size_t size)
{
    return read((int)(intptr_t)c, buf, size);
}

static ssize_t cookie_write(void *c, const char *buf, size_t size)
{
    return write((int)(intptr_t)c, buf, size);
}

static int cookie_seek(void *c, off64_t *off, int whence)
{
    off64_t r = lseek64((int)(intptr_t)c, *off, whence);

    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int cookie_close(void *c)
{
    return close((int)(intptr_t)c);
}

static int fopen_flags(const char *mode)
{
    int flags = strchr(mode, '+') ? O_RDWR : O_WRONLY;

    switch (mode[0]) {
    case 'r':
        return strchr(mode, '+') ? O_RDWR : O_RDONLY;
    case 'w':
        return flags | O_CREAT | O_TRUNC;
    case 'a':
        return flags | O_CREAT | O_APPEND;
    default:
        return -1;
    }
}

static FILE *fopen_common(const char *path, const char *mode)
{
    static const cookie_io_functions_t io = {
        .read = cookie_read, .write = cookie_write,
        .seek = cookie_seek, .close = cookie_close,
    };
    char buf[PATH_MAX];
    const char *p = redirect(path, buf);
    int flags = fopen_flags(mode), fd;
    FILE *f;
    REAL(fopen);

    if (!p)
        return NULL;
    if (p == path)
        return real_fopen(p, mode);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
        count(&sysfsmock_counted()->opens);
        return real_fopen(p, mode);
    }
    fd = open_common(AT_FDCWD, path, flags | O_CLOEXEC, 0666);
    if (fd < 0)
        return NULL;
    f = fopencookie((void *)(intptr_t)fd, mode, io);
    if (!f)
        close(fd);
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    return fopen_common(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
    return fopen_common(path, mode);
}

/*----- for the harness -----*/

int sysfsmock_bind(const char *name, const char *driver)
{
    int lockfd = lock_tree(), err;

    if (lockfd < 0)
        return errno;
    err = bind_locked(name, driver);
    unlock_tree(lockfd);
    return err;
}

int sysfsmock_unbind(const char *name)
{
    int lockfd = lock_tree(), err;

    if (lockfd < 0)
        return errno;
    err = unbind_locked(name, NULL);
    unlock_tree(lockfd);
    return err;
}

/*
 * Moves path out of the tree at once, into $SYSFSMOCK_ROOT/.gone/ (the
 * whole root is removed when the test ends): what vanishes from sysfs
 * vanishes in one step, and no recursive removal is needed here.
 */
static int make_gone(const char *path)
{
    char gone[PATH_MAX];

    if (!in_root(gone, "/.gone"))
        return ENAMETOOLONG;
    if (mkdir(gone, 0755) && errno != EEXIST)
        return errno;
    if (!in_root(gone, "/.gone/XXXXXX") || !mkdtemp(gone))
        return errno ? errno : ENAMETOOLONG;
    strncat(gone, "/x", sizeof(gone) - strlen(gone) - 1);
    return rename(path, gone) ? errno : 0;
}

/* Is entry busid itself, one of its interfaces or a device behind it? */
static bool belongs_to(const char *entry, const char *busid)
{
    size_t n = strlen(busid);

    return !strncmp(entry, busid, n) &&
           (entry[n] == '\0' || entry[n] == ':' || entry[n] == '.');
}

/* Calls fn(name) for each entry of dir chosen by want(name, arg). */
static int each_entry(const char *dir, bool (*want)(const char *, const char *),
                      const char *arg, int (*fn)(const char *, const char *),
                      const char *fn_arg, int *count)
{
    struct dirent **list = NULL;
    int i, n, err = 0;

    n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        return errno;
    /* Reverse order: interfaces ("1-1:1.0") before their device ("1-1"). */
    for (i = n - 1; i >= 0; i--) {
        if (!err && list[i]->d_name[0] != '.' && want(list[i]->d_name, arg)) {
            err = fn(list[i]->d_name, fn_arg);
            (*count)++;
        }
        free(list[i]);
    }
    free(list);
    return err;
}

static int unbind_if_bound(const char *name, const char *unused)
{
    int err = unbind_locked(name, NULL);

    (void)unused;
    return err == ENODEV ? 0 : err;
}

static int unplug_entry(const char *name, const char *unused)
{
    char path[PATH_MAX];

    (void)unused;
    if (!in_root(path, DEVICES_DIR "%s", name))
        return ENAMETOOLONG;
    return make_gone(path);
}

/* busid and what belongs to it gone; under the tree's lock. */
static int unplug_locked(const char *busid)
{
    char devices[PATH_MAX];
    int err, count = 0;

    if (!in_root(devices, DEVICES_DIR))
        return ENAMETOOLONG;
    /* drivers let go first, as the kernel unbinds on removal */
    err = each_entry(devices, belongs_to, busid, unbind_if_bound, NULL,
                     &count);
    count = 0;
    if (!err)
        err = each_entry(devices, belongs_to, busid, unplug_entry, NULL,
                         &count);
    return !err && !count ? ENODEV : err;
}

int sysfsmock_unplug(const char *busid)
{
    int lockfd, err;

    if (strchr(busid, ':') || strchr(busid, '/'))
        return EINVAL;
    lockfd = lock_tree();
    if (lockfd < 0)
        return errno;
    err = unplug_locked(busid);
    unlock_tree(lockfd);
    return err;
}

/* A driver dir's entries that are devices: the links. */
static bool is_bound_link(const char *entry, const char *driver_dir)
{
    char path[PATH_MAX];
    struct stat st;

    return (size_t)snprintf(path, sizeof(path), "%s/%s", driver_dir,
                            entry) < sizeof(path) &&
           !lstat(path, &st) && S_ISLNK(st.st_mode);
}

int sysfsmock_remove_driver(const char *driver)
{
    char dir[PATH_MAX];
    int lockfd, err = ENAMETOOLONG, count = 0;

    if (strchr(driver, '/') || driver[0] == '.')
        return EINVAL;
    lockfd = lock_tree();
    if (lockfd < 0)
        return errno;
    if (in_root(dir, DRIVERS_DIR "%s", driver)) {
        err = each_entry(dir, is_bound_link, dir, unbind_locked, driver,
                         &count);
        if (!err)
            err = make_gone(dir);
    }
    unlock_tree(lockfd);
    return err;
}
