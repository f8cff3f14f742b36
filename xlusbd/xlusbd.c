/*
 * xlusbd.c - the daemon that keeps guests what their USB declarations say.
 *
 * It reconciles every domain with a declaration (libxl_usb_reconcile)
 * whenever something may have changed: a domain introduced or released,
 * a backend or a device model changing in xenstore, a USB device added,
 * bound or removed on the host (udev).  It keeps no state of its own but
 * the retry times: killed anywhere and restarted, its first reconcile
 * converges (crash-only).  See docs/xlusbd.pod.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <libudev.h>
#include <xenstore.h>

#include "libxl_pvusb.h"

#define RETRY_SLOW_S   10   /* safety retry of a domain that waits */
#define RETRY_MAX_S    60   /* longest backoff after a failure */
#define STATUS_LINES   50   /* action lines kept in the status file */

static const char *const watched[] = {
    "@introduceDomain", "@releaseDomain",
    "/local/domain/0/backend/qusb", "/local/domain/0/backend/vusb",
    "/local/domain/0/device-model",
};

/* A domain left to do: when to try again, and how long the last wait was. */
typedef struct {
    uint32_t domid;
    time_t due;
    int backoff;          /* 0: waiting for an event (ERROR_NOT_READY) */
} pending;

typedef struct daemon_state daemon_state;

/* The logger the library is given (see recorder_vmessage). */
typedef struct {
    xentoollog_logger vtable;
    daemon_state *ds;
} recorder;

struct daemon_state {
    libxl_ctx *ctx;
    recorder rec;
    xentoollog_logger_stdiostream *logger;
    struct xs_handle *xsh;
    struct udev *udev;
    struct udev_monitor *mon;
    int sigfd;
    int dry_run;
    bool verbose;
    pending *pend;
    int npend;
    char *status_path;
    char *status_head;
    char *lines[STATUS_LINES];
    int nlines;           /* lines kept in all; the ring holds the last */
    bool status_stale;    /* lines kept since the file was written */
    time_t orphans_due;   /* release_orphans failed: when again, or 0 */
    int orphans_backoff;
};

static time_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* The status file, rewritten whole (tmp + rename): the head line, then
 * the last STATUS_LINES action lines, oldest first. */
static void status_write(daemon_state *ds)
{
    char *tmp;
    FILE *f;
    int i, first;

    ds->status_stale = false;
    if (!ds->status_path ||
        asprintf(&tmp, "%s.tmp", ds->status_path) < 0) return;
    f = fopen(tmp, "w");
    if (!f) goto out;
    fprintf(f, "%s\n", ds->status_head);
    first = ds->nlines > STATUS_LINES ? ds->nlines - STATUS_LINES : 0;
    for (i = first; i < ds->nlines; i++)
        fprintf(f, "%s\n", ds->lines[i % STATUS_LINES]);
    if (fclose(f) || rename(tmp, ds->status_path))
        unlink(tmp);
out:
    free(tmp);
}

/* msg kept for the status file, with its time (written by
 * status_write, once a pass). */
static void status_add(daemon_state *ds, const char *msg)
{
    char stamp[32];
    time_t t = time(NULL);
    int slot = ds->nlines % STATUS_LINES;

    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&t));
    free(ds->lines[slot]);
    if (asprintf(&ds->lines[slot], "%s %s", stamp, msg) < 0) {
        ds->lines[slot] = NULL;
        return;
    }
    ds->nlines++;
    ds->status_stale = true;
}

/* One action line of the daemon's own: to stderr and the status file. */
static void __attribute__((format(printf, 2, 3)))
action(daemon_state *ds, const char *fmt, ...)
{
    char *msg;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    fprintf(stderr, "xlusbd: %s\n", msg);
    status_add(ds, msg);
    free(msg);
}

/* The library's logger: its messages to the stdiostream logger, and
 * those of INFO and above (what it did) to the status file too. */
static void recorder_vmessage(xentoollog_logger *lg, xentoollog_level level,
                              int errnoval, const char *context,
                              const char *format, va_list al)
{
    daemon_state *ds = ((recorder *)lg)->ds;
    xentoollog_logger *out = (xentoollog_logger *)ds->logger;
    char *msg;
    va_list copy;

    va_copy(copy, al);
    out->vmessage(out, level, errnoval, context, format, copy);
    va_end(copy);
    if (level < XTL_INFO || vasprintf(&msg, format, al) < 0) return;
    status_add(ds, msg);
    free(msg);
}

static void recorder_progress(xentoollog_logger *lg, const char *context,
                              const char *doing_what, int percent,
                              unsigned long done, unsigned long total)
{
    xentoollog_logger *out = (xentoollog_logger *)((recorder *)lg)->ds->logger;

    out->progress(out, context, doing_what, percent, done, total);
}

static void recorder_destroy(xentoollog_logger *lg)
{
    (void)lg;
}

/* The entry of domid in the pending list, or NULL. */
static pending *pending_find(daemon_state *ds, uint32_t domid)
{
    int i;

    for (i = 0; i < ds->npend; i++)
        if (ds->pend[i].domid == domid) return &ds->pend[i];
    return NULL;
}

/* The entry of domid, added (nothing due) if missing; NULL if no memory. */
static pending *pending_get(daemon_state *ds, uint32_t domid)
{
    pending *p = pending_find(ds, domid), *n;

    if (p) return p;
    n = realloc(ds->pend, (ds->npend + 1) * sizeof(*n));
    if (!n) return NULL;
    ds->pend = n;
    p = &n[ds->npend++];
    memset(p, 0, sizeof(*p));
    p->domid = domid;
    return p;
}

/* domid off the pending list (done, or gone). */
static void pending_drop(daemon_state *ds, uint32_t domid)
{
    pending *p = pending_find(ds, domid);

    if (p) *p = ds->pend[--ds->npend];
}

/* The wait after a failure whose last wait was backoff (0: none). */
static int backoff_next(int backoff)
{
    backoff = backoff ? backoff * 2 : 1;
    return backoff > RETRY_MAX_S ? RETRY_MAX_S : backoff;
}

/* What the domains that are gone left given back; tried again with
 * backoff while something stays off its host drivers. */
static void release_orphans(daemon_state *ds)
{
    if (!libxl_usb_release_orphans(ds->ctx, ds->dry_run)) {
        if (ds->orphans_due)
            action(ds, "gave back what the retry was for");
        ds->orphans_due = 0;
        ds->orphans_backoff = 0;
        return;
    }
    ds->orphans_backoff = backoff_next(ds->orphans_backoff);
    ds->orphans_due = now_s() + ds->orphans_backoff;
    action(ds, "could not give every device of the domains that are gone"
           " back to its host drivers; retrying in %d s",
           ds->orphans_backoff);
}

/* Reconcile one domain and note when to try it again. */
static void reconcile_one(daemon_state *ds, uint32_t domid)
{
    int rc = libxl_usb_reconcile(ds->ctx, domid, ds->dry_run);
    pending *p;

    if (!rc || rc == ERROR_DOMAIN_NOTFOUND) {   /* done, or gone */
        if (!rc && pending_find(ds, domid))
            action(ds, "domain %u is what it declares", domid);
        pending_drop(ds, domid);
        return;
    }
    p = pending_get(ds, domid);
    if (!p) return;
    if (rc == ERROR_NOT_READY) {
        if (p->backoff || !p->due)
            action(ds, "domain %u: waiting for a declared controller's"
                   " backend (its QEMU, or xl's controller)", domid);
        p->backoff = 0;
        p->due = now_s() + RETRY_SLOW_S;
        return;
    }
    p->backoff = backoff_next(p->backoff);
    p->due = now_s() + p->backoff;
    action(ds, "domain %u is not what it declares (error %d); retrying in"
           " %d s", domid, rc, p->backoff);
}

/* Every domain with work reconciled; with orphans, first what the domains
 * that are gone left.  Domains no longer listed stop being retried. */
static void reconcile_all(daemon_state *ds, bool orphans)
{
    uint32_t *domids;
    int i, n = 0;

    if (orphans) release_orphans(ds);
    domids = libxl_usb_reconcile_domains(ds->ctx, &n);
    for (i = 0; i < ds->npend; ) {
        int j;

        for (j = 0; j < n && domids[j] != ds->pend[i].domid; j++)
            ;
        if (j == n)
            ds->pend[i] = ds->pend[--ds->npend];
        else
            i++;
    }
    for (i = 0; i < n; i++)
        reconcile_one(ds, domids[i]);
    free(domids);
}

/* The retries that are due: the orphans', the domains' (not the other
 * domains: nothing happened to them). */
static void reconcile_due(daemon_state *ds)
{
    time_t t = now_s();
    uint32_t *due;
    int i, n = 0;

    if (ds->orphans_due && ds->orphans_due <= t) release_orphans(ds);
    due = malloc((ds->npend + 1) * sizeof(*due));
    if (!due) return;
    /* reconcile_one changes the list: the due ones first */
    for (i = 0; i < ds->npend; i++)
        if (ds->pend[i].due <= t) due[n++] = ds->pend[i].domid;
    for (i = 0; i < n; i++)
        reconcile_one(ds, due[i]);
    free(due);
}

/* Milliseconds until the first retry is due, or -1 (none). */
static int retry_timeout(daemon_state *ds)
{
    time_t t = now_s(), first = ds->orphans_due;
    int i;

    for (i = 0; i < ds->npend; i++)
        if (!first || ds->pend[i].due < first) first = ds->pend[i].due;
    if (!first) return -1;
    return first <= t ? 0 : (int)(first - t) * 1000;
}

/* The xenstore watches fired, drained: true if any did; *orphans set on
 * @releaseDomain. */
static bool xs_drain(daemon_state *ds, bool *orphans)
{
    bool any = false;
    char **ev;

    while ((ev = xs_check_watch(ds->xsh))) {
        if (!strcmp(ev[XS_WATCH_TOKEN], "@releaseDomain")) *orphans = true;
        any = true;
        free(ev);
    }
    return any;
}

/* The udev events, drained: true if any came; *orphans set if some were
 * lost (ENOBUFS): then everything is looked at again. */
static bool udev_drain(daemon_state *ds, bool *orphans)
{
    struct udev_device *d;
    bool any = false;

    for (;;) {
        errno = 0;
        d = udev_monitor_receive_device(ds->mon);
        if (!d && errno == ENOBUFS) {
            action(ds, "udev events were lost: looking at everything"
                   " again");
            *orphans = true;
            any = true;
            continue;
        }
        if (!d) break;
        if (ds->verbose)
            fprintf(stderr, "xlusbd: udev %s %s\n",
                    udev_device_get_action(d) ?: "?",
                    udev_device_get_sysname(d) ?: "?");
        udev_device_unref(d);
        any = true;
    }
    return any;
}

/* The signals: SIGHUP asks for everything again; false on SIGTERM/INT. */
static bool sig_drain(daemon_state *ds, bool *all)
{
    struct signalfd_siginfo si;

    while (read(ds->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo != SIGHUP) return false;
        action(ds, "SIGHUP: looking at everything again");
        *all = true;
    }
    return true;
}

/* The loop: 0 on SIGTERM/SIGINT, 1 if polling fails. */
static int run(daemon_state *ds)
{
    struct pollfd pfd[3] = {
        { .fd = xs_fileno(ds->xsh), .events = POLLIN },
        { .fd = udev_monitor_get_fd(ds->mon), .events = POLLIN },
        { .fd = ds->sigfd, .events = POLLIN },
    };
    bool orphans = true, any = true;

    for (;;) {
        int tmo;

        if (any)
            reconcile_all(ds, orphans);
        else
            reconcile_due(ds);
        if (ds->status_stale) status_write(ds);
        tmo = retry_timeout(ds);
        if (poll(pfd, 3, tmo) < 0) {
            if (errno == EINTR) continue;
            perror("xlusbd: poll");
            return 1;
        }
        orphans = false;
        any = false;
        if (pfd[2].revents && !sig_drain(ds, &orphans)) return 0;
        any = orphans;
        if (pfd[0].revents) any |= xs_drain(ds, &orphans);
        if (pfd[1].revents) any |= udev_drain(ds, &orphans);
    }
}

/* Its own xenstore connection, with the watches; 0 or -1. */
static int setup_xs(daemon_state *ds)
{
    unsigned int i;

    ds->xsh = xs_open(0);
    if (!ds->xsh) {
        perror("xlusbd: cannot connect to xenstore");
        return -1;
    }
    for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
        if (!xs_watch(ds->xsh, watched[i], watched[i])) {
            fprintf(stderr, "xlusbd: cannot watch %s: %s\n", watched[i],
                    strerror(errno));
            return -1;
        }
    return 0;
}

/* The udev monitor of USB devices; 0 or -1. */
static int setup_udev(daemon_state *ds)
{
    ds->udev = udev_new();
    if (ds->udev)
        ds->mon = udev_monitor_new_from_netlink(ds->udev, "udev");
    if (!ds->mon ||
        udev_monitor_filter_add_match_subsystem_devtype(ds->mon, "usb",
                                                        "usb_device") ||
        udev_monitor_enable_receiving(ds->mon)) {
        fprintf(stderr, "xlusbd: cannot monitor udev's USB events\n");
        return -1;
    }
    return 0;
}

/* SIGHUP, SIGTERM, SIGINT through a signalfd; 0 or -1. */
static int setup_signals(daemon_state *ds)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) return -1;
    ds->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return ds->sigfd < 0 ? -1 : 0;
}

/* The status file's path and head line; 0 or -1.  The file is written
 * at the end of the first pass: once it names this pid, the daemon
 * watches and has looked at everything once. */
static int setup_status(daemon_state *ds)
{
    char stamp[32];
    time_t t = time(NULL);

    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&t));
    ds->status_path = libxl_usb_state_path("xlusbd.status");
    if (!ds->status_path)
        return -1;
    if (asprintf(&ds->status_head, "pid %d started %s", (int)getpid(),
                 stamp) < 0)
        return -1;
    return 0;
}

static void teardown(daemon_state *ds)
{
    int i;

    for (i = 0; i < STATUS_LINES; i++) free(ds->lines[i]);
    free(ds->pend);
    free(ds->status_path);
    free(ds->status_head);
    if (ds->sigfd >= 0) close(ds->sigfd);
    if (ds->mon) udev_monitor_unref(ds->mon);
    if (ds->udev) udev_unref(ds->udev);
    if (ds->xsh) xs_close(ds->xsh);
    if (ds->ctx) libxl_ctx_free(ds->ctx);
    if (ds->logger) xtl_logger_destroy((xentoollog_logger *)ds->logger);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: xlusbd [-v] [-n]\n"
            "Keeps the guests' USB devices what their declarations say.\n"
            "  -v  debug messages\n"
            "  -n  dry run: say what would be done, do nothing\n"
            "  -h  this help\n");
}

int main(int argc, char **argv)
{
    daemon_state ds = { .sigfd = -1 };
    int opt, rc = 1;

    while ((opt = getopt(argc, argv, "vnh")) != -1) {
        switch (opt) {
        case 'v': ds.verbose = true; break;
        case 'n': ds.dry_run = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    ds.logger = xtl_createlogger_stdiostream(stderr,
                                   ds.verbose ? XTL_DEBUG : XTL_INFO, 0);
    if (!ds.logger) goto out;
    ds.rec.vtable.vmessage = recorder_vmessage;
    ds.rec.vtable.progress = recorder_progress;
    ds.rec.vtable.destroy = recorder_destroy;
    ds.rec.ds = &ds;
    if (libxl_ctx_alloc(&ds.ctx, LIBXL_VERSION, 0, &ds.rec.vtable)) {
        ds.ctx = NULL;
        goto out;
    }
    if (setup_signals(&ds) || setup_xs(&ds) || setup_udev(&ds) ||
        setup_status(&ds))
        goto out;
    action(&ds, "started%s", ds.dry_run ? " (dry run)" : "");
    rc = run(&ds);
    action(&ds, "stopped");
    status_write(&ds);
out:
    teardown(&ds);
    return rc;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
