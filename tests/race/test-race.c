/*
 * test-race.c - the concurrency suite (make check-race): xlusb processes
 * started together on one fake host, round after round, their outcomes
 * counted rather than one run asserted, as races show only sometimes.
 *
 * Each round: a fresh private xenstored with guests 1 and 2, the
 * simulated backend, a fresh state dir; then N xlusb children, forked
 * beforehand and each blocked reading one pipe (the gate) until the
 * parent closes it, so that they start within a millisecond or so of
 * each other.  Afterwards the host is read from outside and checked:
 *   - no busid on two ports; every port held is a controller's (one in
 *     the private view /libxl/<domid>/device/vusb/<devid>/type);
 *   - each device attached (on a port, its interface on usbback) or
 *     released (on no port, on usbhid, no /libxl/usbback/<busid>), never
 *     without a driver;
 *   - each domain's persisted config ($LIBXL_PVUSB_STATE_DIR/<uuid>.json)
 *     lists exactly the controllers and held ports xenstore has;
 *   - an attach that exited 0 left its device on a port of its domain.
 * Then the fake sysfs is put back (every interface on usbhid) and
 * xenstored thrown away: faster and surer than detaching everything, and
 * a broken round leaves nothing behind for the next.
 *
 * The devices are 16 keyboards on a bus of their own (sysfs_add_devices):
 * 3-<k>, hostbus 3, hostaddr k + 1, interface 3-<k>:1.0 on usbhid.
 *
 * Figures go to stderr as "# race: <scenario>: ..." lines, one per
 * scenario in a fixed form, so that prove shows them without -v (as
 * Test::More's diag does) and runs can be compared with grep.  Details of
 * what was wrong go to stdout (prove -v).  Not for valgrind: the timing
 * is the point.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <yajl/yajl_tree.h>

#include "harness.h"

#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define DOM 1
#define OTHER 2
#define NDEV 16
#define BUS 3                   /* sysfs_add_devices' bus */
#define MAX_PROCS NDEV
#define MAX_WORDS 16
#define MAX_USED 128            /* ports holding a busid, host-wide */
#define MAX_CTRLS 64            /* controllers of one domain */
#define MAX_WHY 8               /* kinds of failure told apart */
#define MAX_SHOWN 12            /* problems detailed per scenario */
/* Beyond this a round's children are killed and counted as hung: with
 * every attach of a domain serialised and a silent backend, four
 * attaches take 4 x 10 s. */
#define ROUND_TIMEOUT_MS 90000

/*----- the xlusb children -----*/

struct proc {
    pid_t pid;
    int fd;                     /* its stdout and stderr; -1 at EOF */
    FILE *mem;
    char *out;                  /* what it printed, once it ended */
    size_t len;
    int status;                 /* its wait status */
    bool hung;                  /* killed at the deadline */
};

struct batch {
    struct proc p[MAX_PROCS];
    int n, started;             /* procs [started, n) wait at the gate */
    int gate[2];
};

static void batch_init(struct batch *b)
{
    memset(b, 0, sizeof(*b));
    ASSERT(!pipe2(b->gate, O_CLOEXEC));
}

/* In the child: wait at the gate, then become xlusb. */
static void __attribute__((noreturn)) child_main(struct batch *b, int out,
                                                 int delay_ms, char **argv)
{
    char c;

    /* dies with the test, however it ends */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(b->gate[1]);
    dup2(out, 1);
    dup2(out, 2);
    while (read(b->gate[0], &c, 1) < 0 && errno == EINTR)
        ;
    if (delay_ms)
        usleep(delay_ms * 1000);
    execv(XLUSB, argv);
    _exit(127);
}

static void batch_addv(struct batch *b, int delay_ms, const char *fmt,
                       va_list ap) __attribute__((format(printf, 3, 0)));

static void batch_addv(struct batch *b, int delay_ms, const char *fmt,
                       va_list ap)
{
    struct proc *p = &b->p[b->n];
    char *cmdline, *argv[MAX_WORDS + 2], *save = NULL, *w;
    int out[2], n = 0;

    ASSERT(b->n < MAX_PROCS);
    ASSERT(vasprintf(&cmdline, fmt, ap) >= 0);
    argv[n++] = XLUSB;
    for (w = strtok_r(cmdline, " ", &save); w && n <= MAX_WORDS;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n] = NULL;
    ASSERT(!pipe2(out, O_CLOEXEC));
    fflush(NULL);
    p->pid = fork();
    ASSERT(p->pid >= 0);
    if (!p->pid)
        child_main(b, out[1], delay_ms, argv);
    close(out[1]);
    free(cmdline);
    p->fd = out[0];
    p->mem = open_memstream(&p->out, &p->len);
    ASSERT(p->mem);
    b->n++;
}

/* Adds a child running "xlusb <words of fmt>", delay_ms after the gate
 * opens. */
static void batch_add(struct batch *b, int delay_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void batch_add(struct batch *b, int delay_ms, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    batch_addv(b, delay_ms, fmt, ap);
    va_end(ap);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The children of b still running are past the deadline. */
static void kill_hung(struct batch *b)
{
    int i;

    for (i = b->started; i < b->n; i++)
        if (b->p[i].fd >= 0 && !b->p[i].hung) {
            b->p[i].hung = true;
            kill(b->p[i].pid, SIGKILL);
        }
}

static void read_some(struct proc *p, int *open_fds)
{
    char chunk[4096];
    ssize_t r = read(p->fd, chunk, sizeof(chunk));

    if (r > 0) {
        fwrite(chunk, 1, r, p->mem);
    } else if (r == 0 || errno != EINTR) {
        close(p->fd);
        p->fd = -1;
        (*open_fds)--;
    }
}

/* Reads what the started children print until each has closed its end:
 * they have ended (or been killed at the deadline). */
static void collect(struct batch *b)
{
    struct pollfd fds[MAX_PROCS];
    long long deadline = now_ms() + ROUND_TIMEOUT_MS;
    int i, n = b->n - b->started, open_fds = n, wait_ms;
    struct proc *p = &b->p[b->started];

    while (open_fds) {
        for (i = 0; i < n; i++)
            fds[i] = (struct pollfd){ .fd = p[i].fd, .events = POLLIN };
        wait_ms = (int)(deadline - now_ms());
        if (wait_ms <= 0) {
            kill_hung(b);
            wait_ms = -1;
        }
        if (poll(fds, n, wait_ms) < 0) {
            ASSERT(errno == EINTR);
            continue;
        }
        for (i = 0; i < n; i++)
            if (fds[i].revents)
                read_some(&p[i], &open_fds);
    }
}

/* Opens the gate: the waiting children start together. */
static void batch_open(struct batch *b)
{
    close(b->gate[0]);
    close(b->gate[1]);
}

/* Returns once the children started have all ended.  Later batch_adds
 * wait at a new gate. */
static void batch_wait(struct batch *b)
{
    struct proc *p;
    int i;

    collect(b);
    for (i = b->started; i < b->n; i++) {
        p = &b->p[i];
        ASSERT(waitpid(p->pid, &p->status, 0) == p->pid);
        ASSERT(!fclose(p->mem));
        p->mem = NULL;
    }
    b->started = b->n;
    ASSERT(!pipe2(b->gate, O_CLOEXEC));
}

static void batch_run(struct batch *b)
{
    batch_open(b);
    batch_wait(b);
}

static void batch_free(struct batch *b)
{
    int i;

    close(b->gate[0]);
    close(b->gate[1]);
    for (i = 0; i < b->n; i++)
        free(b->p[i].out);
}

static bool proc_ok(const struct proc *p)
{
    return !p->hung && WIFEXITED(p->status) && !WEXITSTATUS(p->status);
}

/* Runs "xlusb <fmt>" alone, now; bails unless it succeeds. */
static void xlusb_now(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void xlusb_now(const char *fmt, ...)
{
    struct batch b;
    va_list ap;
    char *cmd;

    va_start(ap, fmt);
    ASSERT(vasprintf(&cmd, fmt, ap) >= 0);
    va_end(ap);
    batch_init(&b);
    batch_add(&b, 0, "%s", cmd);
    batch_run(&b);
    if (!proc_ok(&b.p[0]))
        tap_bail(__FILE__, __LINE__, "xlusb %s failed:\n%s", cmd,
                 b.p[0].out);
    batch_free(&b);
    free(cmd);
}

/*----- the fake host, fresh each round -----*/

static char state_dir[PATH_MAX];

/* The fake sysfs, once per scenario: its state is put back each round. */
static void host_init(void)
{
    sysfs_setup("base");
    sysfs_add_devices(NDEV);
}

/* A fresh xenstored with guests DOM and OTHER, a fresh state dir, the
 * simulated backend (silent: it never answers). */
static void host_up(bool silent)
{
    static int dirs;

    xs_start();
    fakedom_create(DOM, "web01", "pv");
    fakedom_create(OTHER, "db02", "pv");
    snprintf(state_dir, sizeof(state_dir), "%s/state.%d", sysfs_root(),
             dirs++);
    ASSERT(!mkdir(state_dir, 0700));
    setenv("LIBXL_PVUSB_STATE_DIR", state_dir, 1);
    simbackend_start(silent);
}

/* Every interface back on usbhid, as in the pristine tree. */
static void drivers_restore(void)
{
    char intf[32];
    const char *drv;
    int k;

    for (k = 1; k <= NDEV; k++) {
        snprintf(intf, sizeof(intf), "%d-%d:1.0", BUS, k);
        drv = sysfs_driver_of(intf);
        if (drv && !strcmp(drv, "usbhid"))
            continue;
        if (drv)
            sysfs_unbind(intf);
        sysfs_bind(intf, "usbhid");
    }
}

static void host_down(void)
{
    simbackend_stop();
    xs_stop();
    drivers_restore();
}

/*----- counting the controllers made -----*/

/*
 * A watch of our own on the private view of domid's controllers.  Each
 * controller made writes its `type` there once, in the transaction that
 * creates it, and removing it fires only for the dir removed: so
 * counting events on <devid>/type counts controllers made, even those
 * removed again before the round ends.
 */
static struct xs_handle *made_count_start(uint32_t domid)
{
    struct xs_handle *h = xs_test_open();
    char path[64];

    snprintf(path, sizeof(path), "/libxl/%" PRIu32 "/device/vusb", domid);
    ASSERT(xs_watch(h, path, "made"));
    return h;
}

static bool is_type_node(const char *path, uint32_t domid)
{
    unsigned int d;
    int devid, end = 0;

    return sscanf(path, "/libxl/%u/device/vusb/%d/type%n", &d, &devid,
                  &end) == 2 && end && !path[end] && d == domid;
}

/* The count since made_count_start; closes h. */
static int made_count_end(struct xs_handle *h, uint32_t domid)
{
    unsigned int n;
    char **ev;
    bool end = false;
    int made = 0;

    /* A new watch's first event is queued after every event of the
     * writes xenstored has done so far: all of the round's. */
    ASSERT(xs_watch(h, "/tool/race-end", "end"));
    while (!end) {
        ev = xs_read_watch(h, &n);
        ASSERT(ev);
        end = !strcmp(ev[XS_WATCH_TOKEN], "end");
        made += !end && is_type_node(ev[XS_WATCH_PATH], domid);
        free(ev);
    }
    xs_close(h);
    return made;
}

/*----- the host as seen from outside -----*/

struct used_port {
    uint32_t domid;
    int ctrl, port;
    char busid[32];
};

struct dom_view {
    int devids[MAX_CTRLS];      /* controllers in the private view */
    int n_ctrls;
    int ports;                  /* their num-ports, summed */
};

struct host_view {
    struct used_port used[MAX_USED];
    int n_used;
    struct dom_view dom[OTHER + 1];         /* by domid */
};

static char **xs_ls(struct xs_handle *h, const char *path, unsigned int *n)
{
    char **list = xs_directory(h, XBT_NULL, path, n);

    if (!list) {
        ASSERT(errno == ENOENT);
        *n = 0;
    }
    return list;
}

static char *xs_val(struct xs_handle *h, const char *path)
{
    unsigned int len;
    char *v = xs_read(h, XBT_NULL, path, &len);

    ASSERT(v || errno == ENOENT);
    return v;
}

/* The ports of backend dir be that hold a busid. */
static void read_ports(struct xs_handle *h, struct host_view *v,
                       uint32_t domid, int devid, const char *be)
{
    char path[256], **ports, *busid;
    unsigned int i, n;
    struct used_port *u;

    snprintf(path, sizeof(path), "%s/port", be);
    ports = xs_ls(h, path, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/port/%s", be, ports[i]);
        busid = xs_val(h, path);
        if (busid && *busid) {
            ASSERT(v->n_used < MAX_USED);
            u = &v->used[v->n_used++];
            u->domid = domid;
            u->ctrl = devid;
            u->port = atoi(ports[i]);
            snprintf(u->busid, sizeof(u->busid), "%s", busid);
        }
        free(busid);
    }
    free(ports);
}

static void read_backends(struct xs_handle *h, struct host_view *v,
                          uint32_t domid)
{
    static const char *const kinds[] = { "vusb", "qusb" };
    char dir[128], be[192], **devids;
    unsigned int i, k, n;

    for (k = 0; k < ARRAY_LEN(kinds); k++) {
        snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%" PRIu32,
                 kinds[k], domid);
        devids = xs_ls(h, dir, &n);
        for (i = 0; i < n; i++) {
            snprintf(be, sizeof(be), "%s/%s", dir, devids[i]);
            read_ports(h, v, domid, atoi(devids[i]), be);
        }
        free(devids);
    }
}

/* The controllers of domid: those with a type in the private view. */
static void read_ctrls(struct xs_handle *h, struct dom_view *d,
                       uint32_t domid)
{
    char dir[64], path[128], **devids, *type, *be, *ports;
    unsigned int i, n;

    snprintf(dir, sizeof(dir), "/libxl/%" PRIu32 "/device/vusb", domid);
    devids = xs_ls(h, dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/type", dir, devids[i]);
        type = xs_val(h, path);
        if (type) {
            ASSERT(d->n_ctrls < MAX_CTRLS);
            d->devids[d->n_ctrls++] = atoi(devids[i]);
        }
        snprintf(path, sizeof(path), "%s/%s/backend", dir, devids[i]);
        be = xs_val(h, path);
        ports = NULL;
        if (be) {
            snprintf(path, sizeof(path), "%s/num-ports", be);
            ports = xs_val(h, path);
        }
        d->ports += type && ports ? atoi(ports) : 0;
        free(type);
        free(be);
        free(ports);
    }
    free(devids);
}

static void host_view_read(struct host_view *v)
{
    struct xs_handle *h = xs_test_open();
    uint32_t domid;

    memset(v, 0, sizeof(*v));
    for (domid = DOM; domid <= OTHER; domid++) {
        read_backends(h, v, domid);
        read_ctrls(h, &v->dom[domid], domid);
    }
    xs_close(h);
}

/* Whether busid is on a port of domid's. */
static bool is_held_by(const struct host_view *v, const char *busid,
                       uint32_t domid)
{
    int i;

    for (i = 0; i < v->n_used; i++)
        if (v->used[i].domid == domid && !strcmp(v->used[i].busid, busid))
            return true;
    return false;
}

static int holders_of(const struct host_view *v, const char *busid)
{
    int i, n = 0;

    for (i = 0; i < v->n_used; i++)
        n += !strcmp(v->used[i].busid, busid);
    return n;
}

static int used_by(const struct host_view *v, uint32_t domid)
{
    int i, n = 0;

    for (i = 0; i < v->n_used; i++)
        n += v->used[i].domid == domid;
    return n;
}

/*----- the invariants, after each round -----*/

static int round_no;            /* of the running scenario, from 1 */
static int shown;               /* problems detailed in this scenario */

/* Tells one broken invariant (the first MAX_SHOWN of a scenario in
 * full); returns 1, for counting. */
static int problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int problem(const char *fmt, ...)
{
    char *msg;
    va_list ap;

    if (shown++ >= MAX_SHOWN)
        return 1;
    va_start(ap, fmt);
    ASSERT(vasprintf(&msg, fmt, ap) >= 0);
    va_end(ap);
    tap_diag("round %d: %s", round_no, msg);
    free(msg);
    return 1;
}

static bool has_ctrl(const struct dom_view *d, int devid)
{
    int i;

    for (i = 0; i < d->n_ctrls; i++)
        if (d->devids[i] == devid)
            return true;
    return false;
}

/* The ownership record of the busid on u names u's port. */
static int check_owner(const struct used_port *u)
{
    char path[64], want[48], *rec;
    int bad = 0;

    snprintf(path, sizeof(path), "/libxl/usbback/%s/owner", u->busid);
    snprintf(want, sizeof(want), "%u/%d/%d", u->domid, u->ctrl, u->port);
    rec = xs_get(path);
    if (!rec || strcmp(rec, want))
        bad = problem("%s on port %d of domain %u's controller %d, but its "
                      "ownership record says %s", u->busid, u->port,
                      u->domid, u->ctrl, rec ? rec : "nothing");
    free(rec);
    return bad;
}

/* No busid on two ports; every port held is a controller's, and its
 * device's ownership record names it. */
static int check_ports(const struct host_view *v)
{
    const struct used_port *u, *w;
    int i, j, bad = 0;

    for (i = 0; i < v->n_used; i++) {
        u = &v->used[i];
        for (j = i + 1; j < v->n_used; j++) {
            w = &v->used[j];
            if (!strcmp(u->busid, w->busid))
                bad += problem("%s on two ports: domain %u %d:%d and "
                               "domain %u %d:%d", u->busid, u->domid,
                               u->ctrl, u->port, w->domid, w->ctrl,
                               w->port);
        }
        if (!has_ctrl(&v->dom[u->domid], u->ctrl))
            bad += problem("%s on port %d of domain %u's controller %d, "
                           "which the private view does not have",
                           u->busid, u->port, u->domid, u->ctrl);
        bad += check_owner(u);
    }
    return bad;
}

/* Each device attached (interface on usbback) or released (on usbhid,
 * no ownership record); never without a driver. */
static int check_devices(const struct host_view *v)
{
    char busid[16], intf[32], rec[64];
    const char *drv;
    bool held;
    int k, bad = 0;

    for (k = 1; k <= NDEV; k++) {
        snprintf(busid, sizeof(busid), "%d-%d", BUS, k);
        snprintf(intf, sizeof(intf), "%s:1.0", busid);
        snprintf(rec, sizeof(rec), "/libxl/usbback/%s", busid);
        held = holders_of(v, busid) > 0;
        drv = sysfs_driver_of(intf);
        if (!drv)
            bad += problem("%s has no driver", intf);
        else if (strcmp(drv, held ? "usbback" : "usbhid"))
            bad += problem("%s is on %s, but %s is %s", intf, drv, busid,
                           held ? "on a port" : "on no port");
        if (!held && xs_has(rec))
            bad += problem("%s is on no port, but %s remains", busid, rec);
    }
    return bad;
}

static int compare_ints(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Whether the sets of ints a and b (n of each) are equal; sorts both. */
static bool same_set(int *a, int na, int *b, int nb)
{
    qsort(a, na, sizeof(*a), compare_ints);
    qsort(b, nb, sizeof(*b), compare_ints);
    return na == nb && !memcmp(a, b, na * sizeof(*a));
}

/* ctrl:port as one int, for same_set */
#define PAIR(ctrl, port) ((ctrl) * 100 + (port))

/* The number at key of each object in array (with key2, PAIRs of the
 * two) of root, into out; how many, or -1 if malformed. */
static int json_ints(yajl_val root, const char *array, const char *key,
                     const char *key2, int *out, int max)
{
    const char *apath[] = { array, NULL }, *p1[] = { key, NULL };
    const char *p2[] = { key2, NULL };
    yajl_val a = yajl_tree_get(root, apath, yajl_t_array), x, y;
    size_t i;

    if (!a)
        return 0;
    for (i = 0; i < a->u.array.len && (int)i < max; i++) {
        x = yajl_tree_get(a->u.array.values[i], p1, yajl_t_number);
        y = key2 ? yajl_tree_get(a->u.array.values[i], p2, yajl_t_number)
                 : x;
        if (!x || !YAJL_IS_INTEGER(x) || !y || !YAJL_IS_INTEGER(y))
            return -1;
        out[i] = key2 ? PAIR(YAJL_GET_INTEGER(x), YAJL_GET_INTEGER(y))
                      : YAJL_GET_INTEGER(x);
    }
    return (int)i;
}

/* "0 1" or "0:1 0:2" (PAIRs), or "none" (static buffer). */
static const char *set_str(const int *a, int n, bool pairs)
{
    static char buf[2][512];
    static int which;
    char *b = buf[which++ % 2];
    size_t len = 0;
    int i;

    strcpy(b, "none");
    for (i = 0; i < n && len < sizeof(buf[0]) - 16; i++)
        len += pairs ? sprintf(b + len, "%s%d:%d", i ? " " : "",
                               a[i] / 100, a[i] % 100)
                     : sprintf(b + len, "%s%d", i ? " " : "", a[i]);
    return b;
}

/* The config file of domid, parsed; NULL (with *bad) if it is not JSON,
 * or NULL if there is none (an empty config). */
static yajl_val config_read(uint32_t domid, int *bad)
{
    char path[sizeof(state_dir) + 64], err[128], *text;
    yajl_val root = NULL;

    snprintf(path, sizeof(path), "%s/%s.json", state_dir,
             fakedom_uuid(domid));
    text = read_text_file(path);
    if (text) {
        root = yajl_tree_parse(text, err, sizeof(err));
        if (!root)
            *bad += problem("%s: not JSON: %s", path, err);
    }
    free(text);
    return root;
}

/*
 * The persisted config of domid lists exactly the controllers and the
 * held ports xenstore has.  Parsed with yajl here, not with the
 * library's parser: the check must not share the code it checks.
 */
static int check_config(const struct host_view *v, uint32_t domid)
{
    int xc[MAX_CTRLS], xp[MAX_USED], cc[MAX_CTRLS], cp[MAX_USED];
    int nxc = v->dom[domid].n_ctrls, nxp = 0, ncc = 0, ncp = 0, i, bad = 0;
    yajl_val root = config_read(domid, &bad);

    if (bad)
        return bad;
    if (root) {
        ncc = json_ints(root, "usbctrls", "devid", NULL, cc, MAX_CTRLS);
        ncp = json_ints(root, "usbdevs", "ctrl", "port", cp, MAX_USED);
        yajl_tree_free(root);
        if (ncc < 0 || ncp < 0)
            return problem("domain %u: config's usbctrls or usbdevs "
                           "malformed", domid);
    }
    memcpy(xc, v->dom[domid].devids, nxc * sizeof(*xc));
    for (i = 0; i < v->n_used; i++)
        if (v->used[i].domid == domid)
            xp[nxp++] = PAIR(v->used[i].ctrl, v->used[i].port);
    if (!same_set(cc, ncc, xc, nxc))
        bad += problem("domain %u: config has controllers %s, xenstore %s",
                       domid, set_str(cc, ncc, false),
                       set_str(xc, nxc, false));
    if (!same_set(cp, ncp, xp, nxp))
        bad += problem("domain %u: config has devices at %s, xenstore %s",
                       domid, set_str(cp, ncp, true),
                       set_str(xp, nxp, true));
    return bad;
}

/* The number of invariants broken in v. */
static int check_state(const struct host_view *v)
{
    return check_ports(v) + check_devices(v) + check_config(v, DOM) +
           check_config(v, OTHER);
}

/*----- outcomes, counted -----*/

struct why {
    char msg[200];
    int n;
};

struct tally {
    int rounds, attaches, won, failed, lost, hung, bad;
    int made, left, ports, used;        /* controllers, ports */
    int doubled, not_one, odd_loser;    /* one device, two domains */
    int leftovers;                      /* silent backend */
    int reconciled;                     /* reconciles that exited 0 */
    int detached, revived, on_dom, on_other;    /* beside xlusbd */
    int daemon_bad;                     /* xlusbd exits that were not 0 */
    struct why why[MAX_WHY];
    int n_why, other_why;
};

/* What a failed child said: its first error line (else its first line)
 * with the numbers masked, so that like failures count together. */
static void failure_kind(const struct proc *p, char *buf, size_t size)
{
    const char *s = strstr(p->out, "error: ");
    size_t n = 0;

    if (p->hung)
        s = "hung: killed at the round's deadline";
    else if (WIFSIGNALED(p->status))
        s = "killed by a signal";
    else if (!s)
        s = *p->out ? p->out : "exited non-zero, printing nothing";
    else
        s += strlen("error: ");
    for (; *s && *s != '\n' && n < size - 1; s++) {
        if (*s >= '0' && *s <= '9') {
            if (!n || buf[n - 1] != '#')
                buf[n++] = '#';
        } else {
            buf[n++] = *s;
        }
    }
    buf[n] = '\0';
}

static void note_failure(struct tally *t, const struct proc *p)
{
    char msg[sizeof(t->why[0].msg)];
    int i;

    failure_kind(p, msg, sizeof(msg));
    for (i = 0; i < t->n_why; i++)
        if (!strcmp(t->why[i].msg, msg))
            break;
    if (i == MAX_WHY) {
        t->other_why++;
        return;
    }
    if (i == t->n_why)
        snprintf(t->why[t->n_why++].msg, sizeof(msg), "%s", msg);
    t->why[i].n++;
}

/* Whether p succeeded; if not, counted as failed, and why. */
static bool tally_outcome(struct tally *t, const struct proc *p)
{
    if (proc_ok(p))
        return true;
    t->failed++;
    t->hung += p->hung;
    note_failure(t, p);
    return false;
}

/* One attach of busid to domid by p: won, failed, or lost (reported
 * attached, yet on no port of domid's once the round is over). */
static void tally_attach(struct tally *t, const struct proc *p,
                         const struct host_view *v, const char *busid,
                         uint32_t domid)
{
    t->attaches++;
    if (!tally_outcome(t, p))
        return;
    t->won++;
    if (!is_held_by(v, busid, domid))
        t->lost += problem("%s reported attached to domain %u, but on no "
                           "port of it: %.*s", busid, domid,
                           (int)strcspn(p->out, "\n"), p->out);
}

/* The figures of a scenario: stderr, so that prove shows them. */
static void figures(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void figures(const char *name, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    tap_figure("race: %s: %s", name, line);
}

static void failure_figures(const char *name, const struct tally *t)
{
    int i;

    for (i = 0; i < t->n_why; i++)
        figures(name, "%d failed: %s", t->why[i].n, t->why[i].msg);
    if (t->other_why)
        figures(name, "%d failed otherwise", t->other_why);
}

static int rounds_from_env(int dflt)
{
    const char *s = getenv("RACE_ROUNDS");
    int n = s ? atoi(s) : 0;

    return n > 0 ? n : dflt;
}

/*----- 16 attaches to one domain -----*/

struct fill {
    const char *name;
    const char *before;         /* xlusb command made before each round */
    const char *where;          /* words every attach adds */
    int made, left;             /* controllers made in a round, and left */
    bool one_by_one;            /* no race: the counters' calibration */
};

static void busid_of(int k, char *buf, size_t size)
{
    snprintf(buf, size, "%d-%d", BUS, k);
}

static void fill_round(const struct fill *f, struct tally *t)
{
    struct host_view v;
    struct xs_handle *h;
    struct batch b;
    char busid[16];
    int k;

    host_up(false);
    if (f->before)
        xlusb_now("%s", f->before);
    h = made_count_start(DOM);
    batch_init(&b);
    for (k = 1; k <= NDEV; k++) {
        batch_add(&b, 0, "usbdev-attach %d hostbus=%d hostaddr=%d%s", DOM,
                  BUS, k + 1, f->where);
        if (f->one_by_one)
            batch_run(&b);
    }
    batch_run(&b);
    t->made += made_count_end(h, DOM);
    host_view_read(&v);
    for (k = 1; k <= NDEV; k++) {
        busid_of(k, busid, sizeof(busid));
        tally_attach(t, &b.p[k - 1], &v, busid, DOM);
    }
    t->left += v.dom[DOM].n_ctrls;
    t->ports += v.dom[DOM].ports;
    t->used += used_by(&v, DOM);
    t->bad += check_state(&v) > 0;
    batch_free(&b);
    host_down();
}

static void run_fill(const struct fill *f, int rounds)
{
    struct tally t = { .rounds = rounds };
    long long t0 = now_ms();

    host_init();
    for (round_no = 1; round_no <= rounds; round_no++)
        fill_round(f, &t);
    figures(f->name, "rounds %d, attaches %d, failed %d, lost %d, "
            "controllers made %d (want %d), left %d (want %d), their ports "
            "%d, used %d (want %d), inconsistent rounds %d, %lld ms",
            rounds, t.attaches, t.failed, t.lost, t.made, f->made * rounds,
            t.left, f->left * rounds, t.ports, t.used, NDEV * rounds, t.bad,
            now_ms() - t0);
    failure_figures(f->name, &t);
    CHECK_INT_EQ(t.failed, 0);
    CHECK_INT_EQ(t.lost, 0);
    CHECK_INT_EQ(t.made, f->made * rounds);
    CHECK_INT_EQ(t.left, f->left * rounds);
    CHECK_INT_EQ(t.ports, NDEV * rounds);
    CHECK_INT_EQ(t.used, NDEV * rounds);
    CHECK_INT_EQ(t.bad, 0);
}

/* The instruments first: with no race, 16 attaches make 2 controllers of
 * 8 ports and the counters say so. */
static void test_one_by_one(void)
{
    static const struct fill f = {
        "attach-16-one-by-one", NULL, "", 2, 2, true,
    };

    run_fill(&f, 1);
}

static void test_noctrl(void)
{
    static const struct fill f = {
        "attach-16-noctrl", NULL, "", 2, 2, false,
    };

    run_fill(&f, rounds_from_env(20));
}

static void test_ctrl8(void)
{
    static const struct fill f = {
        "attach-16-ctrl8", "usbctrl-attach 1 ports=8", "", 1, 2, false,
    };

    run_fill(&f, rounds_from_env(20));
}

static void test_ctrl16(void)
{
    static const struct fill f = {
        "attach-16-ctrl0-16ports", "usbctrl-attach 1 ports=16",
        " controller=0", 0, 1, false,
    };

    run_fill(&f, rounds_from_env(20));
}

/*----- one device, two domains -----*/

static void same_dev_round(struct tally *t)
{
    const char *busid = "3-1";
    uint32_t domid[2];
    struct host_view v;
    struct batch b;
    int i, won = 0;

    host_up(false);
    xlusb_now("usbctrl-attach %d", DOM);
    xlusb_now("usbctrl-attach %d", OTHER);
    batch_init(&b);
    for (i = 0; i < 2; i++) {
        /* who is forked first changes each round */
        domid[i] = (i + round_no) % 2 ? OTHER : DOM;
        batch_add(&b, 0, "usbdev-attach %u hostbus=%d hostaddr=2",
                  domid[i], BUS);
    }
    batch_run(&b);
    host_view_read(&v);
    for (i = 0; i < 2; i++) {
        tally_attach(t, &b.p[i], &v, busid, domid[i]);
        won += proc_ok(&b.p[i]);
        if (!proc_ok(&b.p[i]) && !strstr(b.p[i].out, "already assigned"))
            t->odd_loser++;
    }
    t->not_one += won != 1;
    t->doubled += holders_of(&v, busid) > 1;
    t->bad += check_state(&v) > 0;
    batch_free(&b);
    host_down();
}

static void test_same_dev(void)
{
    const char *name = "same-dev-2-doms";
    struct tally t = { .rounds = 100 };
    long long t0 = now_ms();

    host_init();
    for (round_no = 1; round_no <= t.rounds; round_no++)
        same_dev_round(&t);
    figures(name, "rounds %d, attaches %d, won %d (want %d), double %d, "
            "rounds without one winner %d, losers not told \"already "
            "assigned\" %d, lost %d, inconsistent rounds %d, %lld ms",
            t.rounds, t.attaches, t.won, t.rounds, t.doubled, t.not_one,
            t.odd_loser, t.lost, t.bad, now_ms() - t0);
    failure_figures(name, &t);
    CHECK_INT_EQ(t.doubled, 0);
    CHECK_INT_EQ(t.not_one, 0);
    CHECK_INT_EQ(t.odd_loser, 0);
    CHECK_INT_EQ(t.lost, 0);
    CHECK_INT_EQ(t.bad, 0);
}

/*----- reconcile beside the command line -----*/

#define RECONCILE_DEVS 4
#define RECONCILES 3

/* What a toolstack destroying domid does for its USB, on this round's
 * xenstored. */
static void destroy_all(uint32_t domid)
{
    xentoollog_logger_stdiostream *lg =
        xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    libxl_ctx *ctx;

    ASSERT(lg);
    ASSERT_INT_EQ(libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                                  (xentoollog_logger *)lg), 0);
    ASSERT_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, domid, NULL), 0);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
}

/*
 * DOM declares 3-1..3-4 on its controller 0 and reboots (its devices
 * given back, its declaration kept, the same uuid); then at once three
 * `usb-reconcile web01` and (with_other), for each device,
 * `usbdev-attach` to OTHER.  Each device must end on exactly one port
 * (DOM's or OTHER's), never two; an attach that said yes must hold.
 * Without the other domain's attaches, every reconcile must succeed:
 * one that finds another's work done has nothing to say.
 */
static void reconcile_round(struct tally *t, bool with_other)
{
    char busid[16];
    struct host_view v;
    struct batch b;
    int dev_of[RECONCILES + RECONCILE_DEVS];    /* 0: a reconcile */
    int k, held;

    host_up(false);
    xlusb_now("usbctrl-attach %d ports=8", DOM);
    for (k = 1; k <= RECONCILE_DEVS; k++)
        xlusb_now("usbdev-attach %d hostbus=%d hostaddr=%d controller=0 "
                  "port=%d", DOM, BUS, k + 1, k);
    destroy_all(DOM);
    fakedom_destroy(DOM);
    fakedom_create(DOM, "web01", "pv");
    xlusb_now("usbctrl-attach %d ports=8", OTHER);
    batch_init(&b);
    for (k = 1; k <= RECONCILES + (with_other ? RECONCILE_DEVS : 0); k++) {
        /* the order of the forks changes each round */
        int j = (k + round_no) % (RECONCILES + RECONCILE_DEVS) + 1;

        dev_of[k - 1] = j <= RECONCILES || !with_other ? 0 : j - RECONCILES;
        if (!dev_of[k - 1])
            batch_add(&b, 0, "usb-reconcile web01");
        else
            batch_add(&b, 0, "usbdev-attach %d hostbus=%d hostaddr=%d",
                      OTHER, BUS, dev_of[k - 1] + 1);
    }
    batch_run(&b);
    host_view_read(&v);
    for (k = 0; k < b.n; k++) {
        if (!dev_of[k]) {
            t->reconciled += proc_ok(&b.p[k]);
            if (!proc_ok(&b.p[k]))
                note_failure(t, &b.p[k]);
            continue;
        }
        snprintf(busid, sizeof(busid), "%d-%d", BUS, dev_of[k]);
        tally_attach(t, &b.p[k], &v, busid, OTHER);
    }
    for (k = 1; k <= RECONCILE_DEVS; k++) {
        snprintf(busid, sizeof(busid), "%d-%d", BUS, k);
        held = holders_of(&v, busid);
        t->doubled += held > 1;
        t->not_one += held != 1;
        t->used += is_held_by(&v, busid, DOM);
    }
    t->bad += check_state(&v) > 0;
    batch_free(&b);
    host_down();
}

static void run_reconcile(const char *name, bool with_other)
{
    struct tally t = { .rounds = rounds_from_env(20) };
    long long t0 = now_ms();

    host_init();
    for (round_no = 1; round_no <= t.rounds; round_no++)
        reconcile_round(&t, with_other);
    figures(name, "rounds %d, attaches to the other domain %d, failed %d, "
            "lost %d, devices back on the declaring domain %d of %d, "
            "double %d, devices not on exactly one port %d, reconciles "
            "that exited 0 %d of %d, inconsistent rounds %d, %lld ms",
            t.rounds, t.attaches, t.failed, t.lost, t.used,
            t.rounds * RECONCILE_DEVS, t.doubled, t.not_one, t.reconciled,
            t.rounds * RECONCILES, t.bad, now_ms() - t0);
    failure_figures(name, &t);
    CHECK_INT_EQ(t.doubled, 0);
    CHECK_INT_EQ(t.not_one, 0);
    CHECK_INT_EQ(t.lost, 0);
    CHECK_INT_EQ(t.bad, 0);
    if (!with_other) {
        CHECK_INT_EQ(t.reconciled, t.rounds * RECONCILES);
        CHECK_INT_EQ(t.used, t.rounds * RECONCILE_DEVS);
    }
}

static void test_reconcile(void)
{
    run_reconcile("reconcile-beside-attach", true);
}

static void test_reconciles(void)
{
    run_reconcile("reconcile-3-at-once", false);
}

/*----- xlusbd beside the command line -----*/

#define DAEMON_DEVS 4

/* Whether domid's declaration still has a device at ctrl:port. */
static bool is_declared(uint32_t domid, int ctrl, int port)
{
    int pairs[MAX_USED], n = 0, i, bad = 0;
    yajl_val root = config_read(domid, &bad);

    if (root) {
        n = json_ints(root, "declared_usbdevs", "ctrl", "port", pairs,
                      MAX_USED);
        yajl_tree_free(root);
    }
    for (i = 0; i < n; i++)
        if (pairs[i] == PAIR(ctrl, port))
            return true;
    return false;
}

/*
 * DOM declares 3-1..3-4 on its controller 0, ports 1 to 4, and OTHER has
 * an 8-port controller; then xlusbd starts, with the state dir of the
 * round (its log there), and its first pass ends.
 */
static void daemon_host_up(void)
{
    char log[sizeof(state_dir) + 16];
    int k;

    host_up(false);
    xlusb_now("usbctrl-attach %d ports=8", DOM);
    xlusb_now("usbctrl-attach %d ports=8", OTHER);
    for (k = 1; k <= DAEMON_DEVS; k++)
        xlusb_now("usbdev-attach %d hostbus=%d hostaddr=%d controller=0 "
                  "port=%d", DOM, BUS, k + 1, k);
    snprintf(log, sizeof(log), "%s/xlusbd.log", state_dir);
    xlusbd_start(state_dir, log);
}

/* What the kernel and udev do when 3-1..3-4 are pulled out; odd rounds
 * let xlusbd take them off before they come back, even ones do not. */
static void unplug_all(void)
{
    char busid[16];
    int k;

    for (k = 1; k <= DAEMON_DEVS; k++) {
        busid_of(k, busid, sizeof(busid));
        sysfs_unplug(busid);
        xlusbd_udev("remove", busid);
    }
    if (round_no % 2)
        xlusbd_pass();
}

/* And when they are plugged in again, at the addresses they had (which
 * the commands name): in sysfs now, told to xlusbd by replug_told. */
static void replug_all(void)
{
    int k;

    for (k = 1; k <= DAEMON_DEVS; k++)
        sysfs_replug_added(k, k + 1);
}

static void replug_told(void)
{
    char busid[16];
    int k;

    for (k = 1; k <= DAEMON_DEVS; k++) {
        busid_of(k, busid, sizeof(busid));
        xlusbd_udev("add", busid);
    }
}

/* Once the commands have ended, xlusbd has looked at everything, and
 * stopped: the host is read with nothing moving. */
static void daemon_host_settle(struct tally *t)
{
    int status;

    xlusbd_pass();
    status = xlusbd_stop();
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        t->daemon_bad += problem("xlusbd ended with wait status %#x "
                                 "(see %s/xlusbd.log)", status, state_dir);
}

/* A detach of device k from DOM by p: if it said yes, k must stay off
 * DOM (its declaration gone, xlusbd must not give it back). */
static void tally_detach(struct tally *t, const struct proc *p,
                         const struct host_view *v, int k)
{
    char busid[16];

    if (!tally_outcome(t, p))
        return;
    t->detached++;
    busid_of(k, busid, sizeof(busid));
    if (is_held_by(v, busid, DOM) || is_declared(DOM, 0, k))
        t->revived += problem("%s detached from domain %u, yet %s "
                              "afterwards", busid, DOM,
                              is_held_by(v, busid, DOM) ? "on its port"
                                                        : "declared");
}

/* Where each of 3-1..3-4 is once the round is over. */
static void tally_devices(struct tally *t, const struct host_view *v)
{
    char busid[16];
    int k;

    for (k = 1; k <= DAEMON_DEVS; k++) {
        busid_of(k, busid, sizeof(busid));
        t->doubled += holders_of(v, busid) > 1;
        t->on_dom += is_held_by(v, busid, DOM);
        t->on_other += is_held_by(v, busid, OTHER);
    }
    t->bad += check_state(v) > 0;
}

/*
 * (with_attaches) At once: 3-1..3-4 replugged, so that xlusbd gives them
 * back to DOM, and for each an `usbdev-attach` to OTHER, and for 3-1
 * and 3-2 `usbdev-detach` from DOM, for 3-3 and 3-4 `usbdev-attach` to
 * DOM at their declared ports.  (Without) only the replug and a
 * `usbdev-detach` of each from DOM.
 */
static void daemon_round(struct tally *t, bool with_attaches)
{
    int detach_of[2 * DAEMON_DEVS];     /* device k detached, or 0 */
    int n = with_attaches ? 2 * DAEMON_DEVS : DAEMON_DEVS;
    struct host_view v;
    struct batch b;
    int i, j, k;

    daemon_host_up();
    batch_init(&b);
    for (i = 0; i < n; i++) {
        /* the order of the forks changes each round */
        j = (i + round_no) % n;
        k = j % DAEMON_DEVS + 1;
        detach_of[i] = !with_attaches || (j < DAEMON_DEVS && k <= 2) ? k : 0;
        if (detach_of[i])
            batch_add(&b, 0, "usbdev-detach %d 0 %d", DOM, k);
        else if (j < DAEMON_DEVS)
            batch_add(&b, 0, "usbdev-attach %d hostbus=%d hostaddr=%d "
                      "controller=0 port=%d", DOM, BUS, k + 1, k);
        else
            batch_add(&b, 0, "usbdev-attach %d hostbus=%d hostaddr=%d",
                      OTHER, BUS, k + 1);
    }
    unplug_all();
    replug_all();
    batch_open(&b);
    replug_told();
    batch_wait(&b);
    daemon_host_settle(t);
    host_view_read(&v);
    for (i = 0; i < n; i++) {
        if (detach_of[i])
            tally_detach(t, &b.p[i], &v, detach_of[i]);
        else
            t->won += tally_outcome(t, &b.p[i]);
    }
    tally_devices(t, &v);
    batch_free(&b);
    host_down();
}

static void run_daemon(const char *name, bool with_attaches)
{
    struct tally t = { .rounds = rounds_from_env(20) };
    long long t0 = now_ms();

    host_init();
    for (round_no = 1; round_no <= t.rounds; round_no++)
        daemon_round(&t, with_attaches);
    figures(name, "rounds %d, detaches that exited 0 %d, attaches that "
            "exited 0 %d, failed %d, devices on the declaring domain %d, "
            "on the other %d, double %d, detached yet back or declared %d, "
            "xlusbd exits not 0 %d, inconsistent rounds %d, %lld ms",
            t.rounds, t.detached, t.won, t.failed, t.on_dom, t.on_other,
            t.doubled, t.revived, t.daemon_bad, t.bad, now_ms() - t0);
    failure_figures(name, &t);
    CHECK_INT_EQ(t.doubled, 0);
    CHECK_INT_EQ(t.revived, 0);
    CHECK_INT_EQ(t.daemon_bad, 0);
    CHECK_INT_EQ(t.bad, 0);
}

static void test_daemon_attach(void)
{
    run_daemon("daemon-replug-beside-attach", true);
}

static void test_daemon_detach(void)
{
    run_daemon("daemon-replug-beside-detach", false);
}

/*----- a backend that never answers -----*/

#define SILENT_PROCS 4
/* Even rounds start the attaches this far apart: each later one then
 * comes while the first still waits for its new controller. */
#define STAGGER_MS 100

/* What a round that failed every attach may leave: nothing. */
static int count_leftovers(const struct host_view *v)
{
    struct xs_handle *h;
    unsigned int n;
    char **recs;
    int bad = 0;

    if (v->n_used)
        bad += problem("%d ports still hold a busid", v->n_used);
    if (v->dom[DOM].n_ctrls)
        bad += problem("%d controllers left", v->dom[DOM].n_ctrls);
    if (xs_has("/libxl/1/device"))
        bad += problem("/libxl/1/device left");
    h = xs_test_open();
    recs = xs_ls(h, "/libxl/usbback", &n);
    if (n)
        bad += problem("%u records left under /libxl/usbback, %s first", n,
                       recs[0]);
    free(recs);
    xs_close(h);
    return bad;
}

static void silent_round(struct tally *t)
{
    struct host_view v;
    struct xs_handle *h;
    struct batch b;
    char busid[16];
    int k;

    host_up(true);
    h = made_count_start(DOM);
    batch_init(&b);
    for (k = 1; k <= SILENT_PROCS; k++)
        batch_add(&b, round_no % 2 ? 0 : (k - 1) * STAGGER_MS,
                  "usbdev-attach %d hostbus=%d hostaddr=%d", DOM, BUS,
                  k + 1);
    batch_run(&b);
    t->made += made_count_end(h, DOM);
    host_view_read(&v);
    for (k = 1; k <= SILENT_PROCS; k++) {
        busid_of(k, busid, sizeof(busid));
        tally_attach(t, &b.p[k - 1], &v, busid, DOM);
    }
    t->leftovers += count_leftovers(&v) > 0;
    t->bad += check_state(&v) > 0;
    batch_free(&b);
    host_down();
}

static void test_silent(void)
{
    const char *name = "silent-backend-4";
    struct tally t = { .rounds = 2 };
    long long t0 = now_ms();

    host_init();
    for (round_no = 1; round_no <= t.rounds; round_no++)
        silent_round(&t);
    figures(name, "rounds %d, attaches %d, won %d (want 0), lost %d, "
            "controllers made %d, rounds with leftovers %d, inconsistent "
            "rounds %d, %lld ms", t.rounds, t.attaches, t.won, t.lost,
            t.made, t.leftovers, t.bad, now_ms() - t0);
    failure_figures(name, &t);
    CHECK_INT_EQ(t.lost, 0);
    CHECK_INT_EQ(t.won, 0);
    CHECK_INT_EQ(t.leftovers, 0);
    CHECK_INT_EQ(t.bad, 0);
}

static const struct test tests[] = {
    { "16 attaches one by one: the counters", test_one_by_one },
    { "16 parallel attaches, no controller", test_noctrl },
    { "16 parallel attaches, an 8-port controller 0", test_ctrl8 },
    { "16 parallel attaches to a 16-port controller 0", test_ctrl16 },
    { "one device, two domains, two processes", test_same_dev },
    { "silent backend: 4 parallel attaches, nothing lost",
      test_silent },
    { "reconcile beside attaches to another domain", test_reconcile },
    { "three reconciles at once", test_reconciles },
    { "xlusbd replugging beside attaches and detaches",
      test_daemon_attach },
    { "xlusbd replugging beside detaches", test_daemon_detach },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
