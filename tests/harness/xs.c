/*
 * xs.c - a private, real xenstored per test, and fake domains in it.
 *
 * The daemon is Debian's C xenstored, exec'ed with tests/harness/xsshim.so
 * as its only preload (never the sysfs mock, never valgrind: valgrind does
 * not follow exec, and the environment is built from scratch), with
 * -N (stay in the foreground: the pid is ours) and -P (print the pid once
 * dom0 is initialised, i.e. when it is ready).
 *
 * Measured here (xenstored 4.17 under the shim): ready ~5-40 ms after
 * exec.  A permission entry naming a domain that was never introduced is
 * accepted, because xenstored only asks the hypervisor (the shim says
 * every domid exists) whether the domain exists; with a hypervisor that
 * says it does not, naming it as OWNER fails with ENOENT while naming it
 * as a reader is still accepted.  The entries survive the introduction
 * unchanged.  Releasing a domain deletes every node it owns; nodes owned
 * by dom0 that merely name it (r<domid>) stay, the entry still listed.
 *
 * The hypervisor comes with the daemon: xs_start also creates the domain
 * table that tests/harness/xcmock.so (the stand-in for libxenctrl) answers
 * from, and fake domains are made in both, as libxl makes a domain in Xen
 * and then in xenstore.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "harness.h"
#include "harness_internal.h"
#include "xcmock.h"

#define DEFAULT_XENSTORED "/usr/lib/xen-4.17/bin/xenstored"
#define XSSHIM_SO TEST_TOPDIR "/tests/harness/xsshim.so"
#define START_TIMEOUT_MS 10000

static struct {
    pid_t pid;
    char dir[160];
    char sock[192];
    struct xs_handle *h;    /* the harness's own handle, opened lazily */
    int domains_fd;         /* the hypervisor's domains (xcmock.h) */
} xsd = { .pid = -1, .domains_fd = -1 };

#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

static const char *xenstored_binary(void)
{
    const char *b = getenv("XENSTORED");

    return b && *b ? b : DEFAULT_XENSTORED;
}

/* In the forked child: become the daemon, or _exit(127). */
static void __attribute__((noreturn)) exec_daemon(pid_t parent)
{
    char rundir[PATH_MAX + 32], path[PATH_MAX + 32], preload[PATH_MAX];
    char *envp[] = { rundir, path, preload, NULL };
    char *argv[] = { "xenstored", "-N", "-P", NULL };
    int fd;

    /* Dies with the test child, even if that one crashes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 0);
    snprintf(path, sizeof(path), "%s/pid", xsd.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        dup2(fd, 1);
    snprintf(path, sizeof(path), "%s/log", xsd.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        dup2(fd, 2);
    /* Nothing of the test's (e.g. the pipe prove reads) may stay open. */
    close_range(3, ~0U, 0);
    snprintf(rundir, sizeof(rundir), "XENSTORED_RUNDIR=%s", xsd.dir);
    snprintf(path, sizeof(path), "XENSTORED_PATH=%s", xsd.sock);
    snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", XSSHIM_SO);
    execve(xenstored_binary(), argv, envp);
    fprintf(stderr, "exec %s: %s\n", xenstored_binary(), strerror(errno));
    _exit(127);
}

/* The daemon's stderr, for a failure message. */
static char *daemon_log(void)
{
    char path[PATH_MAX + 8], *buf;
    ssize_t n;
    int fd;

    buf = calloc(1, 4096);
    if (!buf)
        return NULL;
    snprintf(path, sizeof(path), "%s/log", xsd.dir);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        n = read(fd, buf, 4095);
        if (n < 0)
            n = 0;
        buf[n] = '\0';
        close(fd);
    }
    if (!*buf)
        strcpy(buf, "(empty log)");
    return buf;
}

static void kill_daemon(void)
{
    if (xsd.pid <= 0)
        return;
    /* SIGKILL: the database is in memory, nothing is worth flushing. */
    kill(xsd.pid, SIGKILL);
    while (waitpid(xsd.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    xsd.pid = -1;
}

static void __attribute__((noreturn)) start_failed(const char *why)
{
    char *log;

    kill_daemon();
    log = daemon_log();
    tap_diag("xenstored (%s) log:\n%s", xenstored_binary(),
             log ? log : "(unreadable)");
    free(log);
    BAIL("xenstored did not start: %s", why);
}

/* The pid the daemon printed with -P, or 0 if not yet. */
static pid_t printed_pid(void)
{
    char path[PATH_MAX + 8], buf[32];
    ssize_t n = -1;
    int fd;

    snprintf(path, sizeof(path), "%s/pid", xsd.dir);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    if (n <= 0 || buf[n - 1] != '\n')
        return 0;
    buf[n] = '\0';
    return (pid_t)strtol(buf, NULL, 10);
}

/* Ready = -P printed our pid and a real round trip succeeds. */
static void wait_ready(long long t0)
{
    struct xs_handle *h;
    unsigned int len;
    char *v;
    pid_t p = 0;

    for (;;) {
        if (waitpid(xsd.pid, NULL, WNOHANG) == xsd.pid) {
            xsd.pid = -1;
            start_failed("it exited");
        }
        if (harness_now_ms() - t0 > START_TIMEOUT_MS)
            start_failed("not ready after 10 s");
        if (!p)
            p = printed_pid();
        if (p) {
            if (p != xsd.pid)
                start_failed("it printed an unexpected pid");
            h = xs_open(0);
            v = h ? xs_read(h, XBT_NULL, "/tool/xenstored", &len) : NULL;
            if (h)
                xs_close(h);
            if (v) {
                free(v);
                return;
            }
        }
        usleep(1000);
    }
}

static void xs_cleanup(void)
{
    xs_stop();
}

/* The hypervisor's record of domid (xcmock.h): exists, or cleared. */
static void hypervisor_set(uint32_t domid, bool exists, uint32_t flags,
                           const char *uuid)
{
    struct xcmock_domain d = { .exists = exists, .flags = flags };
    int i;

    for (i = 0; exists && domid && i < 16; i++) {
        if (*uuid == '-')
            uuid++;
        sscanf(uuid, "%2hhx", &d.handle[i]);
        uuid += 2;
    }
    if (pwrite(xsd.domains_fd, &d, sizeof(d), (off_t)domid * sizeof(d))
        != sizeof(d))
        BAIL("writing the hypervisor's domain %" PRIu32 ": %s", domid,
             strerror(errno));
}

/* A hypervisor that knows dom0 only, for xcmock.so (preloaded by
 * tests/run-test) in this process and its children. */
static void hypervisor_start(void)
{
    char path[sizeof(xsd.dir) + 16];

    snprintf(path, sizeof(path), "%s/domains", xsd.dir);
    xsd.domains_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                          0644);
    if (xsd.domains_fd < 0 ||
        ftruncate(xsd.domains_fd, XCMOCK_NR_DOMIDS *
                                  sizeof(struct xcmock_domain)))
        BAIL("xs_start: creating %s: %s", path, strerror(errno));
    hypervisor_set(0, true, 0, NULL);
    setenv(XCMOCK_DOMAINS_ENV, path, 1);
}

void xs_start(void)
{
    long long t0 = harness_now_ms();
    pid_t parent = getpid();

    if (xsd.pid > 0)
        BAIL("xs_start: xenstored already running");
    if (access(XSSHIM_SO, R_OK))
        BAIL("xs_start: %s missing: build with make", XSSHIM_SO);
    snprintf(xsd.dir, sizeof(xsd.dir), "%s/xs", harness_scratch());
    snprintf(xsd.sock, sizeof(xsd.sock), "%s/socket", xsd.dir);
    if (mkdir(xsd.dir, 0700) && errno != EEXIST)
        BAIL("xs_start: mkdir %s: %s", xsd.dir, strerror(errno));
    harness_at_exit(xs_cleanup);
    /* Every xs_open() of ours and of our children follows it. */
    setenv("XENSTORED_PATH", xsd.sock, 1);

    fflush(NULL);
    xsd.pid = fork();
    if (xsd.pid < 0)
        BAIL("xs_start: fork: %s", strerror(errno));
    if (xsd.pid == 0)
        exec_daemon(parent);
    wait_ready(t0);
    tap_diag("xenstored pid %d (real, %s), ready in %lld ms", (int)xsd.pid,
             xenstored_binary(), harness_now_ms() - t0);

    xs_put("/local/domain/0/name", "Domain-0");
    xs_put("/local/domain/0/domid", "0");
    hypervisor_start();
}

void xs_stop(void)
{
    if (xsd.h) {
        xs_close(xsd.h);
        xsd.h = NULL;
    }
    kill_daemon();
    if (xsd.domains_fd >= 0) {
        close(xsd.domains_fd);
        xsd.domains_fd = -1;
    }
    if (xsd.dir[0]) {
        harness_rmtree(xsd.dir);
        xsd.dir[0] = '\0';
    }
    /* XENSTORED_PATH stays on the dead socket: a later xs_open fails
     * instead of finding the host's daemon. */
}

pid_t xs_daemon_pid(void)
{
    return xsd.pid;
}

struct xs_handle *xs_test_open(void)
{
    struct xs_handle *h;

    if (xsd.pid <= 0)
        BAIL("xs_test_open: xs_start() first");
    h = xs_open(0);
    if (!h)
        BAIL("xs_open: %s", strerror(errno));
    return h;
}

static struct xs_handle *harness_handle(void)
{
    if (!xsd.h)
        xsd.h = xs_test_open();
    return xsd.h;
}

char *xs_get(const char *path)
{
    unsigned int len;
    char *v = xs_read(harness_handle(), XBT_NULL, path, &len);

    if (!v && errno != ENOENT)
        BAIL("xs_read %s: %s", path, strerror(errno));
    return v;
}

void xs_put(const char *path, const char *value)
{
    if (!xs_write(harness_handle(), XBT_NULL, path, value, strlen(value)))
        BAIL("xs_write %s: %s", path, strerror(errno));
}

void xs_del(const char *path)
{
    if (!xs_rm(harness_handle(), XBT_NULL, path) && errno != ENOENT)
        BAIL("xs_rm %s: %s", path, strerror(errno));
}

bool xs_has(const char *path)
{
    char *v = xs_get(path);

    free(v);
    return v != NULL;
}

char *xs_perms(const char *path)
{
    static const char letter[] = "nrwb";
    struct xs_permissions *p;
    unsigned int i, n;
    char *s;
    size_t len = 0;

    p = xs_get_permissions(harness_handle(), XBT_NULL, path, &n);
    if (!p)
        BAIL("xs_get_permissions %s: %s", path, strerror(errno));
    s = malloc(n * 12 + 1);
    if (!s)
        BAIL("out of memory");
    s[0] = '\0';
    for (i = 0; i < n; i++)
        len += sprintf(s + len, "%s%c%u", i ? "," : "",
                       letter[p[i].perms & 3], p[i].id);
    free(p);
    return s;
}

/*----- fake domains -----*/

/* Whose uuid each domain has (0: its own), as fakedom_create_as set. */
static uint32_t uuid_of[XCMOCK_NR_DOMIDS];

const char *fakedom_uuid(uint32_t domid)
{
    static char uuid[40];

    snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012" PRIx32,
             domid);
    return uuid;
}

/* The uuid domid has now (static buffer). */
static const char *fakedom_uuid_now(uint32_t domid)
{
    return fakedom_uuid(domid < XCMOCK_NR_DOMIDS && uuid_of[domid]
                        ? uuid_of[domid] : domid);
}

static void set_perms(xs_transaction_t t, const char *path,
                      struct xs_permissions *perms, unsigned int n)
{
    if (!xs_set_permissions(xsd.h, t, path, perms, n))
        BAIL("xs_set_permissions %s: %s", path, strerror(errno));
}

static void put_in(xs_transaction_t t, const char *path, const char *value)
{
    if (!xs_write(xsd.h, t, path, value, strlen(value)))
        BAIL("xs_write %s: %s", path, strerror(errno));
}

/*
 * The nodes and permissions libxl__domain_make gives a new domain: the
 * domain's dirs are dom0's with read access for the domain (roperm), its
 * data dir is the domain's own (rwperm), /libxl/<domid> is dom0's only.
 */
static bool write_domain(uint32_t domid, const char *name, const char *type)
{
    struct xs_permissions roperm[2] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = domid, .perms = XS_PERM_READ },
    };
    struct xs_permissions rwperm[1] = {
        { .id = domid, .perms = XS_PERM_NONE },
    };
    struct xs_permissions noperm[1] = {
        { .id = 0, .perms = XS_PERM_NONE },
    };
    char dom[64], vm[80], libxl[64], path[128], id[16];
    xs_transaction_t t;
    bool ok;

    snprintf(dom, sizeof(dom), "/local/domain/%" PRIu32, domid);
    snprintf(vm, sizeof(vm), "/vm/%s", fakedom_uuid_now(domid));
    snprintf(libxl, sizeof(libxl), "/libxl/%" PRIu32, domid);

    t = xs_transaction_start(harness_handle());
    if (t == XBT_NULL)
        BAIL("xs_transaction_start: %s", strerror(errno));
    put_in(t, dom, "");
    set_perms(t, dom, roperm, 2);
    put_in(t, vm, "");
    set_perms(t, vm, roperm, 2);
    put_in(t, libxl, "");
    set_perms(t, libxl, noperm, 1);

    snprintf(path, sizeof(path), "%s/name", dom);
    put_in(t, path, name);
    snprintf(path, sizeof(path), "%s/domid", dom);
    snprintf(id, sizeof(id), "%" PRIu32, domid);
    put_in(t, path, id);
    snprintf(path, sizeof(path), "%s/vm", dom);
    put_in(t, path, vm);
    snprintf(path, sizeof(path), "%s/device", dom);
    put_in(t, path, "");
    snprintf(path, sizeof(path), "%s/data", dom);
    put_in(t, path, "");
    set_perms(t, path, rwperm, 1);
    snprintf(path, sizeof(path), "%s/uuid", vm);
    put_in(t, path, fakedom_uuid_now(domid));
    snprintf(path, sizeof(path), "%s/name", vm);
    put_in(t, path, name);
    snprintf(path, sizeof(path), "%s/type", libxl);
    put_in(t, path, type);

    ok = xs_transaction_end(xsd.h, t, false);
    if (!ok && errno != EAGAIN)
        BAIL("xs_transaction_end: %s", strerror(errno));
    return ok;
}

void fakedom_create(uint32_t domid, const char *name, const char *type)
{
    fakedom_create_as(domid, name, type, domid);
}

void fakedom_create_as(uint32_t domid, const char *name, const char *type,
                       uint32_t uuid_domid)
{
    if (domid == 0 || domid >= 0x7ff0 || uuid_domid == 0 ||
        uuid_domid >= 0x7ff0)
        BAIL("fakedom_create: domid %" PRIu32 " is not a guest's", domid);
    uuid_of[domid] = uuid_domid;
    if (strcmp(type, "pv") && strcmp(type, "pvh") && strcmp(type, "hvm"))
        BAIL("fakedom_create: type \"%s\" is not pv, pvh or hvm", type);
    /* As libxl__domain_make: the hypervisor first, then xenstore. */
    hypervisor_set(domid, true,
                   strcmp(type, "pv") ? XEN_DOMINF_hvm_guest : 0,
                   fakedom_uuid_now(domid));
    while (!write_domain(domid, name, type))
        ;   /* EAGAIN: someone else wrote meanwhile; redo */
    /* As libxl__build_post: the ring page and event channel are made up
     * (the shim maps an empty page; nothing ever arrives on the ring). */
    if (!xs_introduce_domain(xsd.h, domid, 0x1000 + domid, 1))
        BAIL("xs_introduce_domain %" PRIu32 ": %s", domid, strerror(errno));
}

/* dying: the hypervisor still lists it, dying (see harness.h). */
static void fakedom_remove(uint32_t domid, bool dying)
{
    char path[80];

    if (dying)
        hypervisor_set(domid, true, XEN_DOMINF_dying | XEN_DOMINF_shutdown,
                       fakedom_uuid_now(domid));
    else
        hypervisor_set(domid, false, 0, NULL);
    if (!xs_release_domain(harness_handle(), domid))
        BAIL("xs_release_domain %" PRIu32 ": %s", domid, strerror(errno));
    snprintf(path, sizeof(path), "/local/domain/%" PRIu32, domid);
    xs_del(path);
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid_now(domid));
    xs_del(path);
    snprintf(path, sizeof(path), "/libxl/%" PRIu32, domid);
    xs_del(path);
    uuid_of[domid] = 0;
}

void fakedom_shutdown(uint32_t domid)
{
    char path[80], *type;

    snprintf(path, sizeof(path), "/libxl/%" PRIu32 "/type", domid);
    type = xs_get(path);
    hypervisor_set(domid, true, XEN_DOMINF_shutdown |
                   (type && strcmp(type, "pv") ? XEN_DOMINF_hvm_guest : 0),
                   fakedom_uuid_now(domid));
    free(type);
}

void fakedom_destroy(uint32_t domid)
{
    fakedom_remove(domid, false);
}

void fakedom_destroy_dying(uint32_t domid)
{
    fakedom_remove(domid, true);
}
