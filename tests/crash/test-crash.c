/*
 * test-crash.c - the crash points suite (make check-crash): each
 * operation is killed at each of its mutating steps, then run once more,
 * and the whole host must then be consistent (issue 9's invariants).
 *
 * For each operation: an unkilled run under tests/crash/killat.so counts
 * its N steps (KILLAT_LOG).  Then for every k in 1..N, killed before and
 * after step k: a pristine host (a new xenstored, fake domain, fake
 * sysfs, state dir and simulated backend: restarting them costs a few
 * ms, and nothing can leak from one k to the next), the operation's
 * pre-state made with plain xlusb commands, the operation killed at k
 * (it must die of SIGKILL; if it exits, k was past its end this time),
 * ONE unkilled re-run of the same command, and the invariants checked
 * over the whole host.  The daemon, xlusbd, is an operation too
 * (run_daemon): it runs until killed, else until the host is consistent
 * (or a bound), then is SIGTERMed; so is its one restart.  The
 * invariants:
 *   ports        each device's busid on exactly one port of the right
 *                controller (attached) or on none (released); no busid
 *                on two ports
 *   private-view an attached device's controller is in /libxl's view;
 *                every entry there is a controller (has a type)
 *   drivers      attached: every interface on usbback; released: every
 *                interface on its original driver (the pristine tree's)
 *   driverless   no interface of the host without a driver
 *   usbback-record  a released device has no /libxl/usbback/<enc> dir
 *   usb-list     `xlusb usb-list -j` works and shows exactly what is
 *                attached, on the same controller and port
 *   config       $LIBXL_PVUSB_STATE_DIR/<uuid>.json has the attached
 *                device at its ctrl/port and none for a released one, and
 *                its controllers and (ctrl,port) pairs are xenstore's
 *                (not for a dead domain: its config is no longer the
 *                host's state)
 *   controllers  the domain has the controllers the operation leaves
 *   leftover     no controllers left: /libxl/<domid>/device is gone
 *   lock-file    no *.lock in the state dir once the commands exited
 *   rerun-exit   the re-run exits 0, or says why there was nothing left
 *                to do: "already assigned" (to this domain) for an
 *                attach, "nothing is attached" / "No USB device on" /
 *                "has no USB controller" for a detach
 * The state is what counts: a re-run that legitimately finds the work
 * done may fail, with one of those messages.
 *
 * One TAP test per operation, ok only if every (k, before|after)
 * converged; the figure line "# crash: <op>: tried T, converged M" goes
 * to stderr (prove shows it), the steps and a tally by invariant to
 * stdout (prove -v).  Run as crash-<op> (a link to this program, one per
 * operation, so that prove -j2 runs two at once), it runs that operation
 * only.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <yajl/yajl_tree.h>

#include "harness.h"

#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define DESTROY_ALL TEST_TOPDIR "/tests/crash/bin/destroy-all"
#define KILLAT_SO TEST_TOPDIR "/tests/crash/killat.so"
#define XLUSBD TEST_TOPDIR "/xlusbd/xlusbd"
#define UDEVFAKE_SO TEST_TOPDIR "/tests/harness/udevfake.so"
#define DAEMON_BOUND_MS 3000    /* for xlusbd to make the host consistent */
#define DAEMON_EXIT_MS 2000     /* for xlusbd to exit on SIGTERM */
#define DOMID 1
#define DOMNAME "web01"
#define DOM_VIEW "/libxl/1"     /* DOMID's private dir */
#define MAX_ARGS 16
#define MAX_PORTS 64
#define MAX_CTRLS 8
#define MAX_SHOWN 4             /* failing trials shown in full */
#define MAX_OUTPUT_SHOWN 2000   /* characters of a re-run's output */

/*----- the scenario -----*/

/* A host device as the pristine trees have it (tests/sysfs/README).
 * These busids need no encoding as xenstore keys (no '.' or ':'). */
struct device {
    const char *busid;
    int bus, addr;
    int nintf;
    const char *intf[3], *driver[3];
};

enum { KEYBOARD, STICK, COMPOSITE, NUM_DEVICES };

static const struct device devices[NUM_DEVICES] = {
    [KEYBOARD] = { "1-1", 1, 2, 1, { "1-1:1.0" }, { "usbhid" } },
    [STICK] = { "1-2", 1, 3, 1, { "1-2:1.0" }, { "usb-storage" } },
    [COMPOSITE] = { "2-1", 2, 2, 3,
                    { "2-1:1.0", "2-1:1.1", "2-1:1.2" },
                    { "usbhid", "usbhid", "usb-storage" } },
};

#define RELEASED (-1)

struct op {
    const char *name;
    const char *setup[7];       /* xlusb commands making the pre-state
                                 * (make_prestate) */
    const char *cmd;            /* "xlusb ...", "destroy-all <domid>" or
                                 * "xlusbd" */
    bool attach;                /* recovery means attached, else released */
    int ctrl_of[NUM_DEVICES];   /* each device's controller after, or
                                 * RELEASED */
    int nctrls, ctrls[2];       /* the controllers the domain has after */
};

/* The pre-states of a reconcile: the composite and the stick attached,
 * then the domain rebooted, or the stick replugged (or destroyed: see
 * make_prestate). */
#define ATTACHED_TWO \
    "usbctrl-attach web01", "usbdev-attach web01 busid=2-1 controller=0", \
    "usbdev-attach web01 busid=1-2 controller=0"
#define REBOOTED { ATTACHED_TWO, "=destroy-all 1", "!reboot" }
#define REPLUGGED { ATTACHED_TWO, "!replug-stick" }

static const struct op ops[] = {
    { "usbdev-attach-keyboard", { "usbctrl-attach web01" },
      "xlusb usbdev-attach web01 hostbus=1 hostaddr=2 controller=0", true,
      { 0, RELEASED, RELEASED }, 1, { 0 } },
    { "usbdev-attach-composite", { "usbctrl-attach web01" },
      "xlusb usbdev-attach web01 hostbus=2 hostaddr=2 controller=0", true,
      { RELEASED, RELEASED, 0 }, 1, { 0 } },
    /* no controller: the library makes one, the simulated backend
     * answers */
    { "usbdev-attach-autoctrl", { NULL },
      "xlusb usbdev-attach web01 hostbus=2 hostaddr=2", true,
      { RELEASED, RELEASED, 0 }, 1, { 0 } },
    { "usbdev-detach-composite",
      { "usbctrl-attach web01", "usbdev-attach web01 busid=2-1 controller=0" },
      "xlusb usbdev-detach web01 0 1", false,
      { RELEASED, RELEASED, RELEASED }, 1, { 0 } },
    { "usbctrl-detach",
      { "usbctrl-attach web01", "usbdev-attach web01 busid=2-1 controller=0",
        "usbdev-attach web01 busid=1-2 controller=0" },
      "xlusb usbctrl-detach web01 0", false,
      { RELEASED, RELEASED, RELEASED }, 0, { 0 } },
    { "destroy-all",
      { "usbctrl-attach web01", "usbctrl-attach web01",
        "usbdev-attach web01 busid=2-1 controller=0",
        "usbdev-attach web01 busid=1-2 controller=1" },
      "destroy-all 1", false,
      { RELEASED, RELEASED, RELEASED }, 0, { 0 } },
    /* a reboot: the declared controller made again, both devices
     * attached again */
    { "usb-reconcile-reboot", REBOOTED, "xlusb usb-reconcile web01", true,
      { RELEASED, 0, 0 }, 1, { 0 } },
    /* the stick plugged in again (onto its host drivers): taken off and
     * attached again */
    { "usb-reconcile-replug", REPLUGGED, "xlusb usb-reconcile", true,
      { RELEASED, 0, 0 }, 1, { 0 } },
    /* the same two, done by the daemon: what it does at start */
    { "xlusbd-reboot", REBOOTED, "xlusbd", true,
      { RELEASED, 0, 0 }, 1, { 0 } },
    { "xlusbd-replug", REPLUGGED, "xlusbd", true,
      { RELEASED, 0, 0 }, 1, { 0 } },
    /* the domain destroyed: the daemon gives its devices back */
    { "xlusbd-death", { ATTACHED_TWO, "!destroy" }, "xlusbd", false,
      { RELEASED, RELEASED, RELEASED }, 0, { 0 } },
};

/* The invariants, for the tally of failures (see the top comment). */
enum inv {
    INV_RERUN, INV_PORTS, INV_VIEW, INV_DRIVERS, INV_DRIVERLESS,
    INV_RECORD, INV_LIST, INV_CONFIG, INV_CTRLS, INV_LEFTOVER, INV_LOCK,
    NUM_INV
};

static const char *const inv_names[NUM_INV] = {
    [INV_RERUN] = "rerun-exit", [INV_PORTS] = "ports",
    [INV_VIEW] = "private-view", [INV_DRIVERS] = "drivers",
    [INV_DRIVERLESS] = "driverless", [INV_RECORD] = "usbback-record",
    [INV_LIST] = "usb-list", [INV_CONFIG] = "config",
    [INV_CTRLS] = "controllers", [INV_LEFTOVER] = "leftover",
    [INV_LOCK] = "lock-file",
};

/*----- what was wrong with one trial -----*/

struct verdict {
    FILE *f;
    char *text;
    size_t len;
    bool failed[NUM_INV];
};

static void verdict_start(struct verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->f = open_memstream(&v->text, &v->len);
    ASSERT(v->f);
}

static void verdict_end(struct verdict *v)
{
    ASSERT(!fclose(v->f));
    v->f = NULL;
}

static void problem(struct verdict *v, enum inv inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct verdict *v, enum inv inv, const char *fmt, ...)
{
    va_list ap;

    v->failed[inv] = true;
    fprintf(v->f, "%s: ", inv_names[inv]);
    va_start(ap, fmt);
    vfprintf(v->f, fmt, ap);
    va_end(ap);
    fputc('\n', v->f);
}

static bool verdict_ok(const struct verdict *v)
{
    int i;

    for (i = 0; i < NUM_INV; i++)
        if (v->failed[i])
            return false;
    return true;
}

/*----- the host, afresh -----*/

static struct {
    char dir[64];               /* per test: state dir and step logs */
    char state[96];
    char count_log[96];
    char kill_log[96];
    char udev_fifo[96];         /* xlusbd's udev events: none come */
    char daemon_out[96];        /* xlusbd's stdout and stderr */
} work;

/* $TMPDIR as the harness takes it for its scratch dirs (make
 * check-crash points it at a tmpfs: the host is made anew ~670 times). */
static const char *tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");

    return tmp && *tmp && strlen(tmp) <= 32 ? tmp : "/tmp";
}

static void make_workdir(void)
{
    snprintf(work.dir, sizeof(work.dir), "%s/pvusb-crash.XXXXXX", tmpdir());
    ASSERT(mkdtemp(work.dir));
    snprintf(work.state, sizeof(work.state), "%s/state", work.dir);
    snprintf(work.count_log, sizeof(work.count_log), "%s/count.log",
             work.dir);
    snprintf(work.kill_log, sizeof(work.kill_log), "%s/kill.log", work.dir);
    snprintf(work.udev_fifo, sizeof(work.udev_fifo), "%s/udev.fifo",
             work.dir);
    snprintf(work.daemon_out, sizeof(work.daemon_out), "%s/xlusbd.out",
             work.dir);
    ASSERT(!mkdir(work.state, 0700));
    ASSERT(!mkfifo(work.udev_fifo, 0600));
    setenv("LIBXL_PVUSB_STATE_DIR", work.state, 1);
}

static void remove_workdir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", work.dir);
    if (system(cmd))
        tap_fail(__FILE__, __LINE__, "cannot remove %s", work.dir);
}

/* Empties a flat directory (the state dir has no subdirectories). */
static void empty_dir(const char *path)
{
    char file[PATH_MAX];
    struct dirent *de;
    DIR *d = opendir(path);

    ASSERT(d);
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
        ASSERT(!unlink(file));
    }
    closedir(d);
}

/* A pristine host: every daemon and tree made anew, so that nothing a
 * killed run left (a record, a lock file, a half-bound interface, an
 * open transaction) reaches the next crash point. */
static void host_restart(void)
{
    simbackend_stop();
    xs_stop();
    sysfs_reset();
    empty_dir(work.state);
    xs_start();
    fakedom_create(DOMID, DOMNAME, "pv");
    sysfs_setup("keyboard");
    sysfs_setup("stick");
    sysfs_setup("composite");
    simbackend_start(false);
}

/* Runs fn with stdout on /dev/null: a fresh host per k would otherwise
 * add the daemons' start-up lines to the TAP stream hundreds of times
 * (the simulated backend, forked meanwhile, keeps the quiet stdout). */
static void quietly(void (*fn)(void))
{
    int saved, null;

    fflush(stdout);
    saved = dup(1);
    null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT(saved >= 0 && null >= 0);
    ASSERT(dup2(null, 1) == 1);
    close(null);
    fn();
    fflush(stdout);
    ASSERT(dup2(saved, 1) == 1);
    close(saved);
}

/*----- running a command -----*/

struct child {
    char *argv[MAX_ARGS];
    char words[512];
    bool daemon;                /* xlusbd (run_daemon) */
    unsigned long kill_at;      /* 0: never */
    bool after;
    const char *log;            /* KILLAT_LOG, or NULL */
};

/* argv for cmdline: "xlusb <args>", "destroy-all <args>" or "xlusbd". */
static void child_init(struct child *c, const char *cmdline)
{
    char *save = NULL, *w;
    int n = 0;

    memset(c, 0, sizeof(*c));
    snprintf(c->words, sizeof(c->words), "%s", cmdline);
    for (w = strtok_r(c->words, " ", &save); w && n < MAX_ARGS - 1;
         w = strtok_r(NULL, " ", &save))
        c->argv[n++] = w;
    ASSERT(n > 0);
    if (!strcmp(c->argv[0], "xlusb"))
        c->argv[0] = XLUSB;
    else if (!strcmp(c->argv[0], "destroy-all"))
        c->argv[0] = DESTROY_ALL;
    else if (!strcmp(c->argv[0], "xlusbd")) {
        c->argv[0] = XLUSBD;
        c->daemon = true;
    } else
        tap_bail(__FILE__, __LINE__, "unknown command %s", cmdline);
}

/* lib appended to the LD_PRELOAD list being built in buf (*len long). */
static void add_preload(char *buf, size_t size, size_t *len, const char *lib)
{
    if (lib && *lib)
        *len += snprintf(buf + *len, size - *len, "%s%s", *len ? ":" : "",
                         lib);
}

/* In the forked child: killat.so before the sysfs mock (it must see a
 * write before the mock models it), then the command; xlusbd gets its
 * udev monitor from udevfake.so, on the idle FIFO. */
static void exec_child(void *arg)
{
    struct child *c = arg;
    char preload[PATH_MAX * 3], step[32];
    const char *mock = getenv("LD_PRELOAD");
    size_t len = 0;

    unsetenv("KILLAT_STEP");
    unsetenv("KILLAT_WHEN");
    unsetenv("KILLAT_LOG");
    preload[0] = '\0';
    if (c->kill_at || c->log) {
        add_preload(preload, sizeof(preload), &len, KILLAT_SO);
        snprintf(step, sizeof(step), "%lu", c->kill_at);
        setenv("KILLAT_STEP", step, 1);
        setenv("KILLAT_WHEN", c->after ? "after" : "before", 1);
        if (c->log)
            setenv("KILLAT_LOG", c->log, 1);
    }
    add_preload(preload, sizeof(preload), &len, mock);
    if (c->daemon) {
        add_preload(preload, sizeof(preload), &len, UDEVFAKE_SO);
        setenv("UDEVFAKE_SOCKET", work.udev_fifo, 1);
    }
    setenv("LD_PRELOAD", preload, 1);
    execv(c->argv[0], c->argv);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const struct op *current_op;
static bool host_consistent(const struct op *op);

/*
 * xlusbd started as c says, in the foreground, left until it dies (of
 * killat's SIGKILL), or until it is ready and the host is as current_op
 * leaves it, or DAEMON_BOUND_MS have passed: then SIGTERMed (it ends its pass and
 * exits 0; a step after that point may still kill it).  Its wait status;
 * its output in *out.
 */
static int run_daemon(struct child *c, char **out)
{
    long long start = now_ms(), termed = 0;
    int status, fd;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ASSERT(pid >= 0);
    if (!pid) {
        fd = open(work.daemon_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        exec_child(c);
        _exit(127);
    }
    while (!waitpid(pid, &status, WNOHANG)) {
        if (!termed && (now_ms() - start > DAEMON_BOUND_MS ||
                        (xlusbd_ready(pid) &&
                         host_consistent(current_op)))) {
            ASSERT(!kill(pid, SIGTERM));
            termed = now_ms();
        } else if (termed && now_ms() - termed > DAEMON_EXIT_MS) {
            tap_fail(__FILE__, __LINE__, "xlusbd did not exit %d ms after "
                     "SIGTERM", DAEMON_EXIT_MS);
            ASSERT(!kill(pid, SIGKILL));
            ASSERT(waitpid(pid, &status, 0) == pid);
            break;
        }
        usleep(2000);
    }
    *out = read_text_file(work.daemon_out);
    if (!*out)
        *out = strdup("");
    ASSERT(*out);
    return status;
}

/* Runs c; returns its wait status and its output (stdout and stderr
 * merged, malloc'd) in *out. */
static int run_child(struct child *c, char **out)
{
    return c->daemon ? run_daemon(c, out)
                     : run_capture(exec_child, c, out, NULL);
}

/* Runs cmdline unkilled, without killat; returns its wait status. */
static int run_plain(const char *cmdline, char **out)
{
    struct child c;

    child_init(&c, cmdline);
    return run_child(&c, out);
}

static bool exited_ok(int status)
{
    return WIFEXITED(status) && !WEXITSTATUS(status);
}

/* The operation's pre-state, made by plain xlusb commands; "=<cmd>":
 * that command (child_init's); "!reboot": the domain dies and is created
 * again with its uuid (and, here, its domid); "!destroy": the domain
 * destroyed as a toolstack does it (its frontends and backends removed;
 * its devices left on usbback, their records naming it); "!replug-stick": the stick
 * unplugged and plugged in again (the kernel gives it its host drivers;
 * the same address, which the invariants know it by). */
static void make_prestate(const struct op *op)
{
    char buf[256], *out;
    int i, status;

    for (i = 0; op->setup[i]; i++) {
        if (!strcmp(op->setup[i], "!reboot")) {
            fakedom_destroy(DOMID);
            fakedom_create(DOMID, DOMNAME, "pv");
            continue;
        }
        if (!strcmp(op->setup[i], "!destroy")) {
            fakedom_destroy(DOMID);
            xs_del("/local/domain/0/backend/vusb/1");
            continue;
        }
        if (!strcmp(op->setup[i], "!replug-stick")) {
            sysfs_unplug(devices[STICK].busid);
            sysfs_replug("stick", devices[STICK].addr);
            continue;
        }
        if (op->setup[i][0] == '=')
            snprintf(buf, sizeof(buf), "%s", op->setup[i] + 1);
        else
            snprintf(buf, sizeof(buf), "xlusb %s", op->setup[i]);
        status = run_plain(buf, &out);
        if (!exited_ok(status))
            tap_bail(__FILE__, __LINE__, "pre-state: %s: status %#x:\n%s",
                     buf, status, out);
        free(out);
    }
}

/*----- reading the host's state -----*/

/* A busid on a port of a backend dir. */
struct port {
    int dom, ctrl, num;
    char busid[40];
};

struct host_state {
    struct port ports[MAX_PORTS];
    int nports;
    int ctrls[MAX_CTRLS];       /* the domain's, from the private view */
    int nctrls;
    /* the persisted config */
    bool cfg_ok;
    int cfg_ctrls[MAX_CTRLS], ncfg_ctrls;
    struct { int ctrl, port, bus, addr; } cfg_devs[MAX_PORTS];
    int ncfg_devs;
    /* usb-list -j */
    bool list_ok;
    struct { int ctrl, port; char busid[40]; } listed[MAX_PORTS];
    int nlisted;
};

static char **xs_ls(struct xs_handle *h, const char *path, unsigned *n)
{
    char **list = xs_directory(h, XBT_NULL, path, n);

    if (!list)
        *n = 0;
    return list;
}

static bool parse_int(const char *s, int *v)
{
    char *end;
    long l;

    errno = 0;
    l = strtol(s, &end, 10);
    if (errno || end == s || *end || l < INT_MIN || l > INT_MAX)
        return false;
    *v = (int)l;
    return true;
}

/* The non-empty ports of backend dir <base>/<dom>/<ctrl>. */
static void read_ctrl_ports(struct xs_handle *h, struct host_state *st,
                            const char *base, const char *dom,
                            const char *ctrl)
{
    char path[256], **ports, *v;
    unsigned i, n, len;
    struct port *p;

    snprintf(path, sizeof(path), "%s/%s/%s/port", base, dom, ctrl);
    ports = xs_ls(h, path, &n);
    for (i = 0; i < n && st->nports < MAX_PORTS; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s/port/%s", base, dom, ctrl,
                 ports[i]);
        v = xs_read(h, XBT_NULL, path, &len);
        p = &st->ports[st->nports];
        if (v && *v && parse_int(dom, &p->dom) && parse_int(ctrl, &p->ctrl) &&
            parse_int(ports[i], &p->num)) {
            snprintf(p->busid, sizeof(p->busid), "%s", v);
            st->nports++;
        }
        free(v);
    }
    free(ports);
}

/* The non-empty ports of every backend dir of dom0, of any guest: a
 * busid must not be on two, whichever domains they are of. */
static void read_ports(struct xs_handle *h, struct host_state *st)
{
    static const char *const bases[] = {
        "/local/domain/0/backend/vusb", "/local/domain/0/backend/qusb",
    };
    char path[256], **doms, **ctrls;
    unsigned i, j, k, nd, nc;

    for (i = 0; i < ARRAY_LEN(bases); i++) {
        doms = xs_ls(h, bases[i], &nd);
        for (j = 0; j < nd; j++) {
            snprintf(path, sizeof(path), "%s/%s", bases[i], doms[j]);
            ctrls = xs_ls(h, path, &nc);
            for (k = 0; k < nc; k++)
                read_ctrl_ports(h, st, bases[i], doms[j], ctrls[k]);
            free(ctrls);
        }
        free(doms);
    }
}

/* The domain's controllers: the private view's entries with a type. */
static void read_view(struct xs_handle *h, struct host_state *st,
                      struct verdict *v)
{
    char path[128], **list;
    unsigned i, n;
    int devid;

    list = xs_ls(h, DOM_VIEW "/device/vusb", &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), DOM_VIEW "/device/vusb/%s/type",
                 list[i]);
        if (!parse_int(list[i], &devid) || !xs_has(path))
            problem(v, INV_VIEW, DOM_VIEW "/device/vusb/%s has no type",
                    list[i]);
        else if (st->nctrls < MAX_CTRLS)
            st->ctrls[st->nctrls++] = devid;
    }
    free(list);
}

/* An integer member of a JSON object, or def if absent. */
static int json_int(yajl_val obj, const char *key, int def)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_number);

    return v && YAJL_IS_INTEGER(v) ? (int)YAJL_GET_INTEGER(v) : def;
}

static yajl_val json_member(yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(obj, path, type);
}

/* A usbdev of the persisted config: ctrl, port, hostbus, hostaddr. */
static void add_cfg_dev(struct host_state *st, yajl_val d)
{
    yajl_val hd = json_member(d, "type.hostdev", yajl_t_object);

    if (st->ncfg_devs == MAX_PORTS)
        return;
    st->cfg_devs[st->ncfg_devs].ctrl = json_int(d, "ctrl", -1);
    st->cfg_devs[st->ncfg_devs].port = json_int(d, "port", 0);
    st->cfg_devs[st->ncfg_devs].bus = hd ? json_int(hd, "hostbus", 0) : 0;
    st->cfg_devs[st->ncfg_devs].addr = hd ? json_int(hd, "hostaddr", 0) : 0;
    st->ncfg_devs++;
}

/* The persisted configuration; absent is empty. */
static void read_config(struct host_state *st, struct verdict *v)
{
    char path[256], err[256] = "", *text;
    yajl_val root, a;
    size_t i;

    snprintf(path, sizeof(path), "%s/%s.json", work.state,
             fakedom_uuid(DOMID));
    text = read_text_file(path);
    st->cfg_ok = true;
    if (!text)
        return;
    root = yajl_tree_parse(text, err, sizeof(err));
    if (!root || !YAJL_IS_OBJECT(root)) {
        problem(v, INV_CONFIG, "%s is not a JSON object: %s", path, err);
        st->cfg_ok = false;
        goto out;
    }
    a = json_member(root, "usbctrls", yajl_t_array);
    for (i = 0; a && i < YAJL_GET_ARRAY(a)->len &&
                st->ncfg_ctrls < MAX_CTRLS; i++)
        st->cfg_ctrls[st->ncfg_ctrls++] =
            json_int(YAJL_GET_ARRAY(a)->values[i], "devid", -1);
    a = json_member(root, "usbdevs", yajl_t_array);
    for (i = 0; a && i < YAJL_GET_ARRAY(a)->len; i++)
        add_cfg_dev(st, YAJL_GET_ARRAY(a)->values[i]);
out:
    yajl_tree_free(root);
    free(text);
}

/* A device of usb-list -j: { "busid", "device": { "ctrl", "port" } }. */
static void add_listed(struct host_state *st, yajl_val d)
{
    yajl_val busid = json_member(d, "busid", yajl_t_string);
    yajl_val dev = json_member(d, "device", yajl_t_object);

    if (st->nlisted == MAX_PORTS)
        return;
    st->listed[st->nlisted].ctrl = dev ? json_int(dev, "ctrl", -1) : -1;
    st->listed[st->nlisted].port = dev ? json_int(dev, "port", 0) : 0;
    snprintf(st->listed[st->nlisted].busid, sizeof(st->listed[0].busid),
             "%s", busid ? YAJL_GET_STRING(busid) : "?");
    st->nlisted++;
}

/* Is the domain dead once op's pre-state is made ("!destroy")? */
static bool domain_gone(const struct op *op)
{
    int i;

    for (i = 0; op->setup[i]; i++)
        if (!strcmp(op->setup[i], "!destroy"))
            return true;
    return false;
}

/* What `xlusb usb-list -j web01` shows of the domain's devices (of a
 * dead domain, `xlusb usb-list -j`: every domain's, none its). */
static void read_list(const struct op *op, struct host_state *st,
                      struct verdict *v)
{
    char err[256] = "", *out;
    yajl_val root = NULL, dom, ctrls, devs;
    size_t i, j, k;
    int status;

    status = run_plain(domain_gone(op) ? "xlusb usb-list -j"
                                : "xlusb usb-list -j " DOMNAME, &out);
    if (!exited_ok(status) || !(root = yajl_tree_parse(out, err,
                                                        sizeof(err))) ||
        !YAJL_IS_ARRAY(root)) {
        problem(v, INV_LIST, "usb-list -j failed (status %#x):\n%s", status,
                out);
        goto out;
    }
    st->list_ok = true;
    for (i = 0; i < YAJL_GET_ARRAY(root)->len; i++) {
        dom = YAJL_GET_ARRAY(root)->values[i];
        ctrls = json_member(dom, "controllers", yajl_t_array);
        if (json_int(dom, "domid", -1) != DOMID || !ctrls)
            continue;
        for (j = 0; j < YAJL_GET_ARRAY(ctrls)->len; j++) {
            devs = json_member(YAJL_GET_ARRAY(ctrls)->values[j], "devices",
                               yajl_t_array);
            for (k = 0; devs && k < YAJL_GET_ARRAY(devs)->len; k++)
                add_listed(st, YAJL_GET_ARRAY(devs)->values[k]);
        }
    }
out:
    yajl_tree_free(root);
    free(out);
}

/* The host as op left it; a dead domain's config is not read (cfg_ok
 * false): what it says is no longer on the host. */
static void read_state(const struct op *op, struct host_state *st,
                       struct verdict *v)
{
    struct xs_handle *h = xs_test_open();

    memset(st, 0, sizeof(*st));
    read_ports(h, st);
    read_view(h, st, v);
    xs_close(h);
    if (!domain_gone(op))
        read_config(st, v);
    read_list(op, st, v);
}

/*----- the invariants -----*/

static bool has_int(const int *set, int n, int x)
{
    int i;

    for (i = 0; i < n; i++)
        if (set[i] == x)
            return true;
    return false;
}

static bool same_set(const int *a, int na, const int *b, int nb)
{
    int i;

    for (i = 0; i < na; i++)
        if (!has_int(b, nb, a[i]))
            return false;
    for (i = 0; i < nb; i++)
        if (!has_int(a, na, b[i]))
            return false;
    return true;
}

static bool cfg_has_port(const struct host_state *st, int ctrl, int port)
{
    int i;

    for (i = 0; i < st->ncfg_devs; i++)
        if (st->cfg_devs[i].ctrl == ctrl && st->cfg_devs[i].port == port)
            return true;
    return false;
}

static bool listed_at(const struct host_state *st, const char *busid,
                      int ctrl, int port)
{
    int i;

    for (i = 0; i < st->nlisted; i++)
        if (!strcmp(st->listed[i].busid, busid) &&
            (ctrl < 0 || (st->listed[i].ctrl == ctrl &&
                          st->listed[i].port == port)))
            return true;
    return false;
}

/* The ports holding busid: how many, and the first in *first. */
static int holders(const struct host_state *st, const char *busid,
                   const struct port **first)
{
    int i, n = 0;

    *first = NULL;
    for (i = 0; i < st->nports; i++) {
        if (strcmp(st->ports[i].busid, busid))
            continue;
        if (!n++)
            *first = &st->ports[i];
    }
    return n;
}

static void check_drivers(const struct device *d, bool attached,
                          struct verdict *v)
{
    const char *drv, *want;
    int i;

    for (i = 0; i < d->nintf; i++) {
        drv = sysfs_driver_of(d->intf[i]);
        want = attached ? "usbback" : d->driver[i];
        if (!drv || strcmp(drv, want))
            problem(v, INV_DRIVERS, "%s (%s) is on %s, want %s", d->intf[i],
                    attached ? "attached" : "released",
                    drv ? drv : "no driver", want);
    }
}

/* Where busid is, for a message: "domain 1 0:1, domain 2 0:1" or "no
 * port". */
static const char *where_is(const struct host_state *st, const char *busid)
{
    static char buf[256];
    size_t len = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < st->nports; i++)
        if (!strcmp(st->ports[i].busid, busid))
            len += snprintf(buf + len, sizeof(buf) - len, "%sdomain %d "
                            "%d:%d", len ? ", " : "", st->ports[i].dom,
                            st->ports[i].ctrl, st->ports[i].num);
    return len ? buf : "no port";
}

static void check_attached(const struct device *d, int ctrl,
                           const struct host_state *st, struct verdict *v)
{
    const struct port *p;
    char path[128];
    int n = holders(st, d->busid, &p);

    if (n != 1 || p->dom != DOMID || p->ctrl != ctrl) {
        problem(v, INV_PORTS, "attached %s is on %s, want one port of "
                "domain %d controller %d", d->busid, where_is(st, d->busid),
                DOMID, ctrl);
        p = NULL;       /* the checks by port below would only repeat it */
    }
    snprintf(path, sizeof(path), DOM_VIEW "/device/vusb/%d/type", ctrl);
    if (!xs_has(path))
        problem(v, INV_VIEW, "attached %s: no %s", d->busid, path);
    check_drivers(d, true, v);
    if (p && st->list_ok && !listed_at(st, d->busid, ctrl, p->num))
        problem(v, INV_LIST, "attached %s not listed at %d:%d", d->busid,
                ctrl, p->num);
    if (p && st->cfg_ok && !cfg_has_port(st, ctrl, p->num))
        problem(v, INV_CONFIG, "attached %s: no usbdev at %d:%d in the "
                "config", d->busid, ctrl, p->num);
}

static void check_released(const struct device *d,
                           const struct host_state *st, struct verdict *v)
{
    const struct port *p;
    char path[128];
    int i, n = holders(st, d->busid, &p);

    if (n)
        problem(v, INV_PORTS, "released %s is still on domain %d "
                "controller %d port %d", d->busid, p->dom, p->ctrl, p->num);
    check_drivers(d, false, v);
    snprintf(path, sizeof(path), "/libxl/usbback/%s", d->busid);
    if (xs_has(path))
        problem(v, INV_RECORD, "released %s: %s remains", d->busid, path);
    if (st->list_ok && listed_at(st, d->busid, -1, 0))
        problem(v, INV_LIST, "released %s is listed", d->busid);
    for (i = 0; i < st->ncfg_devs; i++)
        if (st->cfg_devs[i].bus == d->bus && st->cfg_devs[i].addr == d->addr)
            problem(v, INV_CONFIG, "released %s is in the config at %d:%d",
                    d->busid, st->cfg_devs[i].ctrl, st->cfg_devs[i].port);
}

/* No interface of the whole host without a driver. */
static void check_driverless(struct verdict *v)
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *d;

    snprintf(path, sizeof(path), "%s/sys/bus/usb/devices", sysfs_root());
    d = opendir(path);
    ASSERT(d);
    while ((de = readdir(d)))
        if (strchr(de->d_name, ':') && !sysfs_driver_of(de->d_name))
            problem(v, INV_DRIVERLESS, "%s has no driver", de->d_name);
    closedir(d);
}

/* No busid on two ports, whoever's they are. */
static void check_two_ports(const struct host_state *st, struct verdict *v)
{
    int i, j;

    for (i = 0; i < st->nports; i++)
        for (j = i + 1; j < st->nports; j++)
            if (!strcmp(st->ports[i].busid, st->ports[j].busid))
                problem(v, INV_PORTS, "%s on two ports", st->ports[i].busid);
}

/* Config == xenstore: the same controllers, the same (ctrl,port) pairs. */
static void check_config(const struct host_state *st, struct verdict *v)
{
    int i, n = 0;

    if (!st->cfg_ok)
        return;         /* unreadable: said already */
    if (!same_set(st->ctrls, st->nctrls, st->cfg_ctrls, st->ncfg_ctrls))
        problem(v, INV_CONFIG, "config has %d controller(s), xenstore %d "
                "(or other devids)", st->ncfg_ctrls, st->nctrls);
    for (i = 0; i < st->nports; i++) {
        if (st->ports[i].dom != DOMID)
            continue;
        n++;
        if (!cfg_has_port(st, st->ports[i].ctrl, st->ports[i].num))
            problem(v, INV_CONFIG, "%s at %d:%d is not in the config",
                    st->ports[i].busid, st->ports[i].ctrl,
                    st->ports[i].num);
    }
    if (n != st->ncfg_devs)
        problem(v, INV_CONFIG, "config has %d usbdev(s), xenstore %d",
                st->ncfg_devs, n);
}

/* The controllers the operation leaves, and no empty dirs once none. */
static void check_controllers(const struct op *op,
                              const struct host_state *st, struct verdict *v)
{
    if (!same_set(st->ctrls, st->nctrls, op->ctrls, op->nctrls))
        problem(v, INV_CTRLS, "the domain has %d controller(s), want %d",
                st->nctrls, op->nctrls);
    if (!st->nctrls && xs_has(DOM_VIEW "/device"))
        problem(v, INV_LEFTOVER, "no controllers, but " DOM_VIEW "/device "
                "remains");
}

static void check_lock_files(struct verdict *v)
{
    struct dirent *de;
    size_t n;
    DIR *d = opendir(work.state);

    ASSERT(d);
    while ((de = readdir(d))) {
        n = strlen(de->d_name);
        if (n > 5 && !strcmp(de->d_name + n - 5, ".lock"))
            problem(v, INV_LOCK, "%s/%s left", work.state, de->d_name);
    }
    closedir(d);
}

/* Did the re-run end as the spec allows (the state decides the rest)? */
static void check_rerun(const struct op *op, int status, const char *out,
                        struct verdict *v)
{
    static const char *const nothing_left[] = {
        "nothing is attached", "No USB device on", "has no USB controller",
        "No USB controller",
    };
    bool said = false;
    size_t i;

    if (exited_ok(status))
        return;
    /* xlusb names the domain, the library numbers it */
    if (op->attach)
        said = strstr(out, "already assigned") &&
               (strstr(out, "domain " DOMNAME) || strstr(out, "domain 1 "));
    for (i = 0; !op->attach && i < ARRAY_LEN(nothing_left); i++)
        said |= strstr(out, nothing_left[i]) != NULL;
    if (!said || !WIFEXITED(status))
        problem(v, INV_RERUN, "re-run ended with status %#x without saying "
                "the work was done", status);
}

/* Every invariant over the whole host, after a command ended. */
static void check_host(const struct op *op, struct verdict *v)
{
    struct host_state st;
    int i;

    read_state(op, &st, v);
    for (i = 0; i < NUM_DEVICES; i++) {
        if (op->ctrl_of[i] == RELEASED)
            check_released(&devices[i], &st, v);
        else
            check_attached(&devices[i], op->ctrl_of[i], &st, v);
    }
    check_driverless(v);
    check_two_ports(&st, v);
    check_config(&st, v);
    check_controllers(op, &st, v);
    check_lock_files(v);
}

/* Is the host as op leaves it, every invariant but the re-run's holding? */
static bool host_consistent(const struct op *op)
{
    struct verdict v;
    bool ok;

    verdict_start(&v);
    check_host(op, &v);
    verdict_end(&v);
    ok = verdict_ok(&v);
    free(v.text);
    return ok;
}

/*----- one operation -----*/

static void fresh_host(void)
{
    host_restart();
    make_prestate(current_op);
}

/* The lines of a step log (malloc'd, NULL-terminated); *n of them. */
static char **read_steps(const char *path, unsigned long *n)
{
    char *text = read_text_file(path), *line, *save = NULL, **lines = NULL;

    *n = 0;
    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        lines = realloc(lines, (*n + 2) * sizeof(*lines));
        ASSERT(lines);
        lines[(*n)++] = strdup(line);
        lines[*n] = NULL;
    }
    free(text);
    return lines;
}

static void free_steps(char **lines)
{
    size_t i;

    for (i = 0; lines && lines[i]; i++)
        free(lines[i]);
    free(lines);
}

/* How many of the steps are of kinds starting with prefix. */
static int count_kind(char **lines, const char *prefix)
{
    int i, n = 0;

    for (i = 0; lines && lines[i]; i++)
        n += !!strstr(lines[i], prefix);
    return n;
}

/* The unkilled run under killat: its steps, one per line, *n of them. */
static char **run_counted(const struct op *op, unsigned long *n)
{
    struct child c;
    char *out;
    int status;

    quietly(fresh_host);
    unlink(work.count_log);
    child_init(&c, op->cmd);
    c.log = work.count_log;
    status = run_child(&c, &out);
    if (!exited_ok(status))
        tap_bail(__FILE__, __LINE__, "the unkilled %s: status %#x:\n%s",
                 op->cmd, status, out);
    free(out);
    return read_steps(work.count_log, n);
}

/*
 * The steps of the unkilled run.  They must include sysfs and state-file
 * steps (else the preload is not seeing them, and every k would pass for
 * nothing), and the run must leave the host as the operation should: if
 * not, even the uncrashed path is wrong.
 */
static char **count_steps(const struct op *op, unsigned long *n,
                          bool base_failed[NUM_INV])
{
    struct verdict v;
    char **lines = run_counted(op, n);

    if (!count_kind(lines, " sysfs_") || !count_kind(lines, " state_"))
        tap_fail(__FILE__, __LINE__, "killat.so counted no sysfs or no "
                 "state-file step of %s", op->cmd);
    verdict_start(&v);
    check_host(op, &v);
    verdict_end(&v);
    if (!verdict_ok(&v))
        tap_fail(__FILE__, __LINE__, "%s: the unkilled run leaves the "
                 "host inconsistent:\n%s", op->name, v.text);
    memcpy(base_failed, v.failed, sizeof(v.failed));
    free(v.text);
    return lines;
}

/*
 * On a fresh host with op's pre-state, runs op killed at step k; returns
 * its wait status, and in *last (malloc'd) the last line of its step
 * log: the step it died at, if it was killed.
 */
static int run_killed(const struct op *op, unsigned long k, bool after,
                      char **last)
{
    struct child c;
    char *out, **died;
    unsigned long n;
    int status;

    quietly(fresh_host);
    unlink(work.kill_log);
    child_init(&c, op->cmd);
    c.kill_at = k;
    c.after = after;
    c.log = work.kill_log;
    status = run_child(&c, &out);
    free(out);
    died = read_steps(work.kill_log, &n);
    *last = strdup(n ? died[n - 1] : "?");
    free_steps(died);
    return status;
}

static bool killed(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void show_failure(const char *where, const char *step,
                         const struct verdict *v, int status,
                         const char *out)
{
    size_t n = strlen(out);

    tap_fail(__FILE__, __LINE__, "%s, killed at \"%s\"; after the re-run "
             "(status %#x):\n%sre-run output%s:\n%s", where, step, status,
             v->text, n > MAX_OUTPUT_SHOWN ? " (its end)" : "",
             n ? out + (n > MAX_OUTPUT_SHOWN ? n - MAX_OUTPUT_SHOWN : 0)
               : "(none)");
}

struct tally {
    unsigned long tried, converged, not_killed, shown;
    unsigned long crash_only;   /* failing beyond the unkilled run */
    bool base_failed[NUM_INV];  /* what the unkilled run breaks */
    unsigned long by_inv[NUM_INV];
    bool shown_inv[NUM_INV];    /* broken by a trial shown in full */
};

/* The invariants a failing trial breaks, as one line. */
static void list_failed(const struct verdict *v, char *buf, size_t size)
{
    size_t len = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < NUM_INV; i++)
        if (v->failed[i])
            len += snprintf(buf + len, size - len, " %s", inv_names[i]);
}

/*
 * A failing trial in full only if it breaks an invariant that no trial
 * shown so far broke (the first few distinct failures; a run where
 * every trial leaves a lock file would otherwise show only that);
 * every one in a line of its own.
 */
static void note_failure(struct tally *t, const char *where, const char *step,
                         const struct verdict *v, int status,
                         const char *out)
{
    bool new_inv = false;
    char invs[256];
    int i;

    for (i = 0; i < NUM_INV; i++)
        if (v->failed[i] && !t->shown_inv[i])
            new_inv = t->shown_inv[i] = true;
    list_failed(v, invs, sizeof(invs));
    tap_diag("not converged: %s, killed at \"%s\":%s", where, step, invs);
    if (new_inv && t->shown++ < MAX_SHOWN)
        show_failure(where, step, v, status, out);
}

/* One crash point: killed at step k (before or after it), re-run once. */
static void trial(const struct op *op, unsigned long k, bool after,
                  struct tally *t)
{
    char where[96], *out, *last;
    const char *step;
    struct verdict v;
    int status, i;

    snprintf(where, sizeof(where), "%s k=%lu %s", op->name, k,
             after ? "after" : "before");
    status = run_killed(op, k, after, &last);
    step = last;
    if (!killed(status)) {
        /* this run took fewer steps than the counted one */
        t->not_killed++;
        step = "(not killed: k past the end of this run)";
        tap_diag("%s: %s (status %#x)", where, step, status);
    }

    status = run_plain(op->cmd, &out);
    verdict_start(&v);
    check_rerun(op, status, out, &v);
    check_host(op, &v);
    verdict_end(&v);

    t->tried++;
    if (verdict_ok(&v))
        t->converged++;
    for (i = 0; i < NUM_INV; i++)
        t->by_inv[i] += v.failed[i];
    for (i = 0; i < NUM_INV && !(v.failed[i] && !t->base_failed[i]); i++)
        ;
    t->crash_only += i < NUM_INV;
    if (!verdict_ok(&v))
        note_failure(t, where, step, &v, status, out);
    free(v.text);
    free(out);
    free(last);
}

static void report(const struct op *op, unsigned long n, char **steps,
                   const struct tally *t, long long ms)
{
    char tallies[512] = "", base[256] = "";
    size_t len = 0, blen = 0;
    unsigned long i;

    for (i = 0; i < NUM_INV; i++) {
        if (t->by_inv[i])
            len += snprintf(tallies + len, sizeof(tallies) - len, " %s %lu",
                            inv_names[i], t->by_inv[i]);
        if (t->base_failed[i])
            blen += snprintf(base + blen, sizeof(base) - blen, " %s",
                             inv_names[i]);
    }
    tap_diag("%s: %lu steps unkilled:", op->name, n);
    for (i = 0; i < n; i++)
        tap_diag("  %s", steps[i]);
    tap_diag("%s: failing trials by invariant:%s; not killed %lu; %lld ms",
             op->name, len ? tallies : " none", t->not_killed, ms);
    tap_figure("crash: %s: tried %lu, converged %lu", op->name, t->tried,
               t->converged);
    /* What the crash itself breaks: the unkilled run may already break
     * some invariants (a lock file it leaves), and then every trial
     * does; the strict figure above hides all else. */
    tap_figure("%s: %lu of %lu break more than the unkilled run (%s)",
               op->name, t->crash_only, t->tried,
               blen ? base + 1 : "which breaks nothing");
}

static void crash_points(const struct op *op)
{
    struct tally t = { 0 };
    long long t0 = now_ms();
    unsigned long n, k;
    char **steps;

    current_op = op;
    make_workdir();
    steps = count_steps(op, &n, t.base_failed);
    if (!n)
        tap_fail(__FILE__, __LINE__, "no step counted: killat.so sees "
                 "nothing");
    for (k = 1; k <= n; k++) {
        trial(op, k, false, &t);
        trial(op, k, true, &t);
    }
    report(op, n, steps, &t, now_ms() - t0);
    if (t.converged != t.tried)
        tap_fail(__FILE__, __LINE__, "%s: %lu of %lu crash points did not "
                 "converge", op->name, t.tried - t.converged, t.tried);
    free_steps(steps);
    quietly(simbackend_stop);
    remove_workdir();
}

/* The number of the first step whose line ends with what, or 0. */
static unsigned long find_step(char **lines, const char *what)
{
    size_t n = strlen(what), len;
    unsigned long i;

    for (i = 0; lines && lines[i]; i++) {
        len = strlen(lines[i]);
        if (len >= n && !strcmp(lines[i] + len - n, what))
            return i + 1;
    }
    return 0;
}

/*
 * The instrument itself, on the keyboard's attach: killed before its
 * bind to usbback the interface is off usbhid and not yet on usbback;
 * killed after it, it is on usbback, so the write went through killat.so
 * to the mock's model; the log's last line is the step killed at; a k
 * past the end kills nothing.  Whatever the library's order of steps, an
 * interface must be unbound before it can be bound to usbback.
 */
static void test_killat(void)
{
    static const char bind[] =
        "sysfs_bind /sys/bus/usb/drivers/usbback/bind 1-1:1.0";
    unsigned long n, j;
    char **steps, *last;
    int status;

    current_op = &ops[0];
    make_workdir();
    steps = run_counted(current_op, &n);
    j = find_step(steps, bind);
    if (!j)
        tap_bail(__FILE__, __LINE__, "no step \"%s\" in the unkilled run",
                 bind);
    status = run_killed(current_op, j, false, &last);
    CHECK(killed(status));
    CHECK_STR_EQ(last, steps[j - 1]);
    CHECK_NULL(sysfs_driver_of("1-1:1.0"));
    free(last);
    status = run_killed(current_op, j, true, &last);
    CHECK(killed(status));
    CHECK_STR_EQ(last, steps[j - 1]);
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbback");
    free(last);
    status = run_killed(current_op, n + 1, false, &last);
    CHECK(exited_ok(status));
    CHECK_STR_EQ(last, steps[n - 1]);
    free(last);
    free_steps(steps);
    quietly(simbackend_stop);
    remove_workdir();
}

static void test_keyboard(void) { crash_points(&ops[0]); }
static void test_composite(void) { crash_points(&ops[1]); }
static void test_autoctrl(void) { crash_points(&ops[2]); }
static void test_usbdev_detach(void) { crash_points(&ops[3]); }
static void test_usbctrl_detach(void) { crash_points(&ops[4]); }
static void test_destroy_all(void) { crash_points(&ops[5]); }
static void test_reconcile_reboot(void) { crash_points(&ops[6]); }
static void test_reconcile_replug(void) { crash_points(&ops[7]); }
static void test_xlusbd_reboot(void) { crash_points(&ops[8]); }
static void test_xlusbd_replug(void) { crash_points(&ops[9]); }
static void test_xlusbd_death(void) { crash_points(&ops[10]); }

static const struct test tests[] = {
    { "killat", test_killat },
    { "usbdev-attach-keyboard", test_keyboard },
    { "usbdev-attach-composite", test_composite },
    { "usbdev-attach-autoctrl", test_autoctrl },
    { "usbdev-detach-composite", test_usbdev_detach },
    { "usbctrl-detach", test_usbctrl_detach },
    { "destroy-all", test_destroy_all },
    { "usb-reconcile-reboot", test_reconcile_reboot },
    { "usb-reconcile-replug", test_reconcile_replug },
    { "xlusbd-reboot", test_xlusbd_reboot },
    { "xlusbd-replug", test_xlusbd_replug },
    { "xlusbd-death", test_xlusbd_death },
};

/* Run as "crash-<op>", the program runs the test named <op> only. */
int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    char *only[] = { argv[0], NULL, NULL };

    /* prove -j2 runs two of these at once, their stderr on one
     * terminal: each diagnostic (the harness flushes after each) goes
     * out in one write, not interleaved line by line with the other's */
    setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    base = base ? base + 1 : argv[0];
    if (argc == 1 && !strncmp(base, "crash-", 6)) {
        only[1] = (char *)base + 6;
        return tap_main(2, only, tests, ARRAY_LEN(tests));
    }
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
