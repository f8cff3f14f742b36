/*
 * killat.c - LD_PRELOAD crash injector for the crash-points suite
 * (tests/crash/test-crash.c): counts the process's mutating steps, in
 * order, and SIGKILLs the process at the k-th, just before or just after
 * the real call, as a power cut or `kill -9` would stop a toolstack.
 *
 * The steps, everything by which a run changes the host's state:
 *   libxenstore  xs_write, xs_rm, xs_mkdir, xs_set_permissions, and
 *                xs_transaction_end committing (abort false);
 *   sysfs        write() to a driver's bind or unbind file, found by
 *                where the fd leads (/proc/self/fd/N): with sysfsmock.so
 *                loaded after this library, that is a file of the fake
 *                tree, ".../sys/bus/usb/drivers/<d>/bind";
 *   state dir    write() to a file directly in $LIBXL_PVUSB_STATE_DIR,
 *                and rename(), renameat(), unlink(), unlinkat(), remove()
 *                of one (the persisted configuration is replaced by
 *                rename, dropped by unlink).
 * Not steps: reads, open(O_CREAT) and flock of the lock file, fsync (it
 * changes nothing a later run can see: there is no power loss here).
 * Not seen: writes made through stdio (glibc's fwrite calls its own
 * write, not an interposed one); of a file written so, only the rename
 * that puts it in place is a step.
 *
 * Environment:
 *   KILLAT_STEP=k        kill at step k (1-based); unset or 0: never
 *   KILLAT_WHEN=before|after   (default before)
 *   KILLAT_LOG=<file>    appends "<n> <kind> <path>[ <detail>]" per step,
 *                        so a driver can count the steps of an unkilled
 *                        run and name the one a killed run died at; the
 *                        line is written before the step is carried out
 *
 * Every wrapper chains to the next definition (dlsym RTLD_NEXT): preload
 * as LD_PRELOAD="killat.so:sysfsmock.so", so that sysfs writes reach the
 * mock's model after being counted here.  Built without
 * -fvisibility=hidden: a hidden wrapper intercepts nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

/* Every function here is an interposer or a helper of one. */
#pragma GCC diagnostic ignored "-Wmissing-declarations"

/* The next definition of fn, looked up once. */
#define REAL(fn)                                                        \
    static __typeof__(fn) *real_##fn;                                   \
    if (!real_##fn)                                                     \
        real_##fn = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn)

static struct {
    unsigned long kill_at;          /* 0: never */
    bool after;
    int log_fd;                     /* -1: no log */
    char state_dir[PATH_MAX];       /* canonical; "" if unset */
    char state_env[PATH_MAX];       /* as given, for log lines */
    char fake_root[PATH_MAX];       /* SYSFSMOCK_ROOT, for log lines */
    unsigned long steps;
} ka = { .log_fd = -1 };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void init(void)
{
    const char *s = getenv("KILLAT_STEP");
    const char *when = getenv("KILLAT_WHEN");
    const char *log = getenv("KILLAT_LOG");
    const char *dir = getenv("LIBXL_PVUSB_STATE_DIR");
    const char *root = getenv("SYSFSMOCK_ROOT");
    char *canon;

    ka.kill_at = s ? strtoul(s, NULL, 10) : 0;
    ka.after = when && !strcmp(when, "after");
    if (log && *log)
        ka.log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                         0644);
    /* fds resolve to canonical paths: compare with the canonical dir */
    canon = dir && *dir ? realpath(dir, NULL) : NULL;
    if (canon && strlen(canon) < sizeof(ka.state_dir))
        strcpy(ka.state_dir, canon);
    free(canon);
    if (dir && strlen(dir) < sizeof(ka.state_env))
        strcpy(ka.state_env, dir);
    if (root && strlen(root) < sizeof(ka.fake_root))
        strcpy(ka.fake_root, root);
}

/* Does path start with dir and a slash? */
static bool below(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    return n && !strncmp(path, dir, n) && path[n] == '/';
}

/* path as a log line shows it: the fake sysfs root taken off (as the
 * program named it), the state dir as @STATEDIR@ (the same every run). */
static const char *shown(const char *path, char buf[PATH_MAX])
{
    const char *dir = below(path, ka.state_dir) ? ka.state_dir :
                      below(path, ka.state_env) ? ka.state_env : NULL;

    if (below(path, ka.fake_root))
        return path + strlen(ka.fake_root);
    if (!dir)
        return path;
    snprintf(buf, PATH_MAX, "@STATEDIR@%s", path + strlen(dir));
    return buf;
}

static void log_step(unsigned long n, const char *kind, const char *path,
                     const char *detail)
{
    char line[PATH_MAX + 256], buf[PATH_MAX];
    int len;
    REAL(write);

    if (ka.log_fd < 0)
        return;
    len = snprintf(line, sizeof(line), "%lu %s %s%s%s\n", n, kind,
                   shown(path, buf), detail ? " " : "", detail ? detail : "");
    if (len > (int)sizeof(line) - 1)
        len = sizeof(line) - 1;
    /* one append per line: the file is whole even if we are killed */
    if (real_write(ka.log_fd, line, len) < 0)
        return;
}

/* Counts a step; returns its number.  Dies here if it is the one to
 * kill before. */
static unsigned long step_begin(const char *kind, const char *path,
                                const char *detail)
{
    unsigned long n;

    pthread_once(&once, init);
    pthread_mutex_lock(&lock);
    n = ++ka.steps;
    log_step(n, kind, path, detail);
    pthread_mutex_unlock(&lock);
    if (n == ka.kill_at && !ka.after)
        kill(getpid(), SIGKILL);
    return n;
}

/* After the real call of step n: dies here if it is the one to kill
 * after.  errno is the real call's. */
static void step_end(unsigned long n)
{
    if (n == ka.kill_at && ka.after)
        kill(getpid(), SIGKILL);
}

/*----- libxenstore -----*/

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
              const void *data, unsigned int len)
{
    unsigned long n = step_begin("xs_write", path, NULL);
    bool r;
    REAL(xs_write);

    r = real_xs_write(h, t, path, data, len);
    step_end(n);
    return r;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned long n = step_begin("xs_rm", path, NULL);
    bool r;
    REAL(xs_rm);

    r = real_xs_rm(h, t, path);
    step_end(n);
    return r;
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned long n = step_begin("xs_mkdir", path, NULL);
    bool r;
    REAL(xs_mkdir);

    r = real_xs_mkdir(h, t, path);
    step_end(n);
    return r;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                        const char *path, struct xs_permissions *perms,
                        unsigned int num_perms)
{
    unsigned long n = step_begin("xs_set_permissions", path, NULL);
    bool r;
    REAL(xs_set_permissions);

    r = real_xs_set_permissions(h, t, path, perms, num_perms);
    step_end(n);
    return r;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
    char id[32];
    unsigned long n = 0;
    bool r;
    REAL(xs_transaction_end);

    /* an abort changes nothing: not a step */
    if (!abort) {
        snprintf(id, sizeof(id), "t%u", (unsigned)t);
        n = step_begin("xs_commit", id, NULL);
    }
    r = real_xs_transaction_end(h, t, abort);
    if (!abort)
        step_end(n);
    return r;
}

/*----- sysfs control files and the state dir -----*/

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !strcmp(s + n - m, suffix);
}

/* Is path (canonical) a file directly in the state dir? */
static bool in_state_dir(const char *path)
{
    return below(path, ka.state_dir) &&
           !strchr(path + strlen(ka.state_dir) + 1, '/');
}

/* The kind of step a write to fd is, or NULL; its path into path. */
static const char *write_kind(int fd, char path[PATH_MAX])
{
    char link[64];
    ssize_t len;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    len = readlink(link, path, PATH_MAX - 1);
    if (len <= 0)
        return NULL;
    path[len] = '\0';
    if (strstr(path, "/sys/bus/usb/drivers/")) {
        if (ends_with(path, "/bind"))
            return "sysfs_bind";
        if (ends_with(path, "/unbind"))
            return "sysfs_unbind";
    }
    return in_state_dir(path) ? "state_write" : NULL;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    char path[PATH_MAX], detail[64];
    const char *kind;
    unsigned long n;
    ssize_t r;
    REAL(write);

    pthread_once(&once, init);
    kind = fd == ka.log_fd ? NULL : write_kind(fd, path);
    if (!kind)
        return real_write(fd, buf, count);
    /* the name written, for a bind or unbind line */
    snprintf(detail, sizeof(detail), "%.*s",
             (int)(count < 40 ? count : 40), (const char *)buf);
    detail[strcspn(detail, "\n ")] = '\0';
    n = step_begin(kind, path, strcmp(kind, "state_write") ? detail : NULL);
    r = real_write(fd, buf, count);
    step_end(n);
    return r;
}

/* The canonical form of path's directory + its last component, into
 * out; false if the directory does not resolve. */
static bool canonical(const char *path, char out[PATH_MAX])
{
    char dir[PATH_MAX], *slash, *canon;
    const char *base;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir) {
        base = path + 1;
        dir[1] = '\0';
    } else if (slash) {
        *slash = '\0';
        base = path + (slash - dir) + 1;
    } else {
        base = path;
        strcpy(dir, ".");
    }
    canon = realpath(dir, NULL);
    if (!canon)
        return false;
    snprintf(out, PATH_MAX, "%s/%s", canon, base);
    free(canon);
    return true;
}

static bool path_in_state_dir(const char *path, char out[PATH_MAX])
{
    pthread_once(&once, init);
    return ka.state_dir[0] && path && canonical(path, out) &&
           in_state_dir(out);
}

int rename(const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    unsigned long n = 0;
    bool counted;
    int r;
    REAL(rename);

    counted = path_in_state_dir(from, a) | path_in_state_dir(to, b);
    if (counted)
        n = step_begin("state_rename", to, NULL);
    r = real_rename(from, to);
    if (counted)
        step_end(n);
    return r;
}

/* dirfd + path as one path, for the checks by path; false if dirfd is
 * not a directory we can name. */
static bool at_path(int dirfd, const char *path, char out[PATH_MAX])
{
    char link[64], dir[PATH_MAX];
    ssize_t len;

    if (!path)
        return false;
    if (path[0] == '/' || dirfd == AT_FDCWD) {
        snprintf(out, PATH_MAX, "%s", path);
        return true;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    len = readlink(link, dir, sizeof(dir) - 1);
    if (len <= 0)
        return false;
    dir[len] = '\0';
    return snprintf(out, PATH_MAX, "%s/%s", dir, path) < PATH_MAX;
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX], ca[PATH_MAX], cb[PATH_MAX];
    unsigned long n = 0;
    bool counted;
    int r;
    REAL(renameat);

    counted = (at_path(fromfd, from, a) && path_in_state_dir(a, ca)) |
              (at_path(tofd, to, b) && path_in_state_dir(b, cb));
    if (counted)
        n = step_begin("state_rename", b, NULL);
    r = real_renameat(fromfd, from, tofd, to);
    if (counted)
        step_end(n);
    return r;
}

int unlinkat(int dirfd, const char *path, int flags)
{
    char p[PATH_MAX], canon[PATH_MAX];
    unsigned long n = 0;
    bool counted;
    int r;
    REAL(unlinkat);

    counted = at_path(dirfd, path, p) && path_in_state_dir(p, canon);
    if (counted)
        n = step_begin("state_unlink", p, NULL);
    r = real_unlinkat(dirfd, path, flags);
    if (counted)
        step_end(n);
    return r;
}

/* glibc's remove calls its own unlink: wrapped itself. */
int remove(const char *path)
{
    char canon[PATH_MAX];
    unsigned long n = 0;
    bool counted;
    int r;
    REAL(remove);

    counted = path_in_state_dir(path, canon);
    if (counted)
        n = step_begin("state_unlink", path, NULL);
    r = real_remove(path);
    if (counted)
        step_end(n);
    return r;
}

int unlink(const char *path)
{
    char canon[PATH_MAX];
    unsigned long n = 0;
    bool counted;
    int r;
    REAL(unlink);

    counted = path_in_state_dir(path, canon);
    if (counted)
        n = step_begin("state_unlink", path, NULL);
    r = real_unlink(path);
    if (counted)
        step_end(n);
    return r;
}
