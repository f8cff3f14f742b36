/*
 * simbackend.c - a stand-in for the backend drivers (kernel usbback,
 * QEMU's qusb): a forked process with its own xenstore connection that
 * moves each controller's backend state as a driver does (see harness.h).
 *
 * On every watch event it re-reads the whole of backend/vusb and
 * backend/qusb rather than the node the event names: events coalesce and
 * the frontend state it depends on lives elsewhere, so only a full scan
 * cannot miss a step.  Each step is a read-check-write in a transaction,
 * so a toolstack changing the same controller meanwhile wins (EAGAIN)
 * and the step is re-decided on fresh values.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include <xenstore.h>

#include "harness.h"
#include "harness_internal.h"

#define MAX_SIMS 4
#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

/* The running backends, each serving one backend domain. */
static struct {
    pid_t pid;
    uint32_t domid;
} sims[MAX_SIMS];
static int n_sims;

/* A xenstore value as a small non-negative integer, or -1. */
static int read_int(struct xs_handle *h, xs_transaction_t t,
                    const char *path)
{
    unsigned int len;
    char *v = xs_read(h, t, path, &len), *end;
    long n = -1;

    if (v && len && len < 12) {
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || *end || n < 0 || n > INT_MAX)
            n = -1;
    }
    free(v);
    return (int)n;
}

/* The state a driver would move controller dir to next, or 0. */
static int next_state(struct xs_handle *h, xs_transaction_t t,
                      const char *dir)
{
    char path[PATH_MAX], *fe;
    unsigned int len;
    int state, online, fstate = -1;

    snprintf(path, sizeof(path), "%s/state", dir);
    state = read_int(h, t, path);
    snprintf(path, sizeof(path), "%s/online", dir);
    online = read_int(h, t, path);
    if (state == XenbusStateInitialising && online == 1)
        return XenbusStateInitWait;
    if (state == XenbusStateClosing && online == 0)
        return XenbusStateClosed;
    if (state != XenbusStateInitWait)
        return 0;
    snprintf(path, sizeof(path), "%s/frontend", dir);
    fe = xs_read(h, t, path, &len);
    if (fe && (size_t)snprintf(path, sizeof(path), "%s/state", fe) <
              sizeof(path))
        fstate = read_int(h, t, path);
    free(fe);
    return fstate == XenbusStateInitialised ||
           fstate == XenbusStateConnected ? XenbusStateConnected : 0;
}

static void step(struct xs_handle *h, const char *dir, bool silent)
{
    char path[PATH_MAX], val[12];
    xs_transaction_t t;
    int next;

    for (;;) {
        t = xs_transaction_start(h);
        if (t == XBT_NULL)
            return;
        next = next_state(h, t, dir);
        if (!next || silent) {
            xs_transaction_end(h, t, true);
            if (next)
                tap_diag("simbackend (silent): %s would go to %d", dir,
                         next);
            return;
        }
        snprintf(path, sizeof(path), "%s/state", dir);
        snprintf(val, sizeof(val), "%d", next);
        if (xs_write(h, t, path, val, strlen(val)) &&
            xs_transaction_end(h, t, false)) {
            tap_diag("simbackend: %s -> %d", path, next);
            return;
        }
        if (errno != EAGAIN) {
            tap_diag("simbackend: %s: %s", path, strerror(errno));
            return;
        }
    }
}

/* Calls fn(h, <dir>/<entry>, arg) for each entry of dir. */
static void each_child(struct xs_handle *h, const char *dir,
                       void (*fn)(struct xs_handle *, const char *, bool),
                       bool arg)
{
    char path[PATH_MAX];
    unsigned int i, n;
    char **list = xs_directory(h, XBT_NULL, dir, &n);

    for (i = 0; list && i < n; i++)
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]) <
            sizeof(path))
            fn(h, path, arg);
    free(list);
}

static void scan_domain(struct xs_handle *h, const char *dir, bool silent)
{
    each_child(h, dir, step, silent);
}

static void scan(struct xs_handle *h, uint32_t domid, bool silent)
{
    char path[64];

    snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/backend/vusb",
             domid);
    each_child(h, path, scan_domain, silent);
    snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/backend/qusb",
             domid);
    each_child(h, path, scan_domain, silent);
}

/* The backend process of domid; returns its exit status. */
static int simbackend_main(uint32_t domid, bool silent, int ready_fd,
                           pid_t parent)
{
    struct pollfd fds[2];
    struct xs_handle *h;
    sigset_t set;
    char **ev;
    int sfd;

    /* SIGTERM (from simbackend_stop, or the test dying) ends the loop
     * below, so the process leaves through exit() like the rest. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        return 1;
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    h = xs_open(0);
    /* Frontend states live under /local/domain/<domid>: watch it all. */
    if (sfd < 0 || !h || !xs_watch(h, "/local/domain", "simbackend"))
        return 1;
    if (write(ready_fd, "r", 1) != 1)
        return 1;
    close(ready_fd);

    fds[0] = (struct pollfd){ .fd = xs_fileno(h), .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        while ((ev = xs_check_watch(h)))
            free(ev);
        scan(h, domid, silent);
    }
    xs_unwatch(h, "/local/domain", "simbackend");
    xs_close(h);
    close(sfd);
    return 0;
}

void simbackend_start(bool silent)
{
    simbackend_start_for(0, silent);
}

void simbackend_start_for(uint32_t domid, bool silent)
{
    pid_t parent = getpid(), pid;
    int fds[2], i;
    char c;

    for (i = 0; i < n_sims; i++)
        if (sims[i].domid == domid)
            BAIL("simbackend_start: already running for domain %" PRIu32,
                 domid);
    if (n_sims == MAX_SIMS)
        BAIL("simbackend_start: more than %d backends", MAX_SIMS);
    if (pipe2(fds, O_CLOEXEC))
        BAIL("pipe: %s", strerror(errno));
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        BAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        exit(simbackend_main(domid, silent, fds[1], parent));
    }
    sims[n_sims].pid = pid;
    sims[n_sims++].domid = domid;
    harness_at_exit(simbackend_stop);
    close(fds[1]);
    /* Returns once its watch is set: no event of the test is missed. */
    if (read(fds[0], &c, 1) != 1) {
        close(fds[0]);
        simbackend_stop();
        BAIL("simbackend did not start (is xenstored started?)");
    }
    close(fds[0]);
}

void simbackend_stop(void)
{
    int status;

    while (n_sims) {
        pid_t pid = sims[--n_sims].pid;

        kill(pid, SIGTERM);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            tap_fail(__FILE__, __LINE__, "simbackend ended with status %#x",
                     status);
    }
}
