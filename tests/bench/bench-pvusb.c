/*
 * bench-pvusb.c - `make bench`: what attaching, detaching and listing USB
 * devices costs, this library and Debian's libxenlight 4.17 side by side
 * in one run, as the host grows (tests/bench/README.md).
 *
 * On the tests' harness: the real xenstored, the stand-in hypervisor
 * (xcmock.so), the fake sysfs, all on tmpfs; libxenlight's own records
 * (/var/lib/xen) on a private tmpfs (bench.mk runs this in a mount
 * namespace).  Measured guests: GUEST (this library's) and LIBXL_GUEST
 * (libxenlight's), one 8-port pv controller each; N other guests, one
 * 8-port pv controller each, the first HELD of them holding one device.
 *
 * For each N:
 *   attach, detach    the keyboard (bus 1 addr 2) given to the measured
 *                     guest through the sync API (first free port) and
 *                     taken back, REPS times (libxenlight HEAVY_REPS at
 *                     N = 500, where one attach takes seconds, and not
 *                     beyond): this library in this process, libxenlight
 *                     in bench-libxl (one context);
 *   xlusb attach      `xlusb usbdev-attach` / `usbdev-detach` of it, once:
 *                     the command's own sysfs opens and listings;
 *   usb-list ...      `xlusb usb-list <domid>`, `usb-list` (every domain),
 *                     `usb-list <name>`, against bench-libxl doing what xl
 *                     4.17's usb-list does: one process each, LIST_REPS
 *                     times (once for every domain at N >= 500).
 * Printed: xenstore requests (count.so: exact, all processes), median
 * times, sysfs files opened and directories listed (sysfsmock.so),
 * fsyncs, the ratios libxenlight / this library; then issue 12's targets
 * beside the measured values, met or not.  Nothing is timed against a
 * limit: the program fails only if an operation fails.
 *
 * Every controller is made by this library (libxl_device_usbctrl_add,
 * asynchronously), the bench answering for the backend (state InitWait)
 * as the simulated backend would: the layout is the one libxl reads too,
 * and no backend process rescans 1,000 controllers on every event.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "count.h"
#include "harness.h"

#define GUEST 1             /* this library's measured guest */
#define LIBXL_GUEST 2       /* libxenlight's */
#define FIRST_OTHER 3
#define HELD 100            /* other guests holding a device */
#define REPS 10
#define LIST_REPS 3
#define HEAVY_REPS 2        /* libxenlight's attach at N >= 500 */
#define OP_TIMEOUT_MS 10000
#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define BENCH_LIBXL TEST_TOPDIR "/tests/bench/bin/bench-libxl"
#define LIBXL_DIR "/var/lib/xen"
#define TMPFS_MAGIC 0x01021994
/* On the disk of /var/lib (where the state dir is by default), outside
 * the bench's private /var/lib/xen. */
#define DISK_DIR "/var/tmp"

static const unsigned int others_n[] = { 0, 100, 500, 1000 };
#define NS ARRAY_LEN(others_n)

/* The measured device: the "keyboard" tree. */
#define KBD_BUS 1
#define KBD_ADDR 2

/* The fake host's devices the other guests hold: the trees' (tests/sysfs),
 * then sysfs_add_devices' keyboards (bus 3 + k / 31, addr k % 31 + 2). */
static const struct {
    const char *tree;
    int bus, addr;
} trees[] = {
    { "stick", 1, 3 },
    { "stick2", 1, 4 },
    { "composite", 2, 2 },
    { "behind-hub", 2, 4 },
};
#define MANY (HELD - (int)ARRAY_LEN(trees))

/* One measurement: its counts and time. */
struct sample {
    unsigned long req, opens, listings, fsyncs;
    unsigned long xs[XSC_NUM];  /* requests by function (this process) */
    double ms;
};

/* The samples of one operation at one N, by one side. */
struct op {
    struct sample s[REPS];
    int n;
};

enum side { OURS, LIBXL, SIDES };
enum opkind { ATTACH, DETACH, CLI_ATTACH, LIST_ONE, LIST_ALL, LIST_NAME,
              OPS };

static const char *const op_names[OPS] = {
    [ATTACH] = "attach", [DETACH] = "detach",
    [CLI_ATTACH] = "xlusb usbdev-attach", [LIST_ONE] = "usb-list <domid>",
    [LIST_ALL] = "usb-list (all)", [LIST_NAME] = "usb-list <name>",
};

static const char *const xs_names[XSC_NUM] = {
    [XSC_DIRECTORY] = "directory", [XSC_READ] = "read",
    [XSC_WRITE] = "write", [XSC_MKDIR] = "mkdir", [XSC_RM] = "rm",
    [XSC_GET_PERMISSIONS] = "get_permissions",
    [XSC_SET_PERMISSIONS] = "set_permissions", [XSC_WATCH] = "watch",
    [XSC_UNWATCH] = "unwatch", [XSC_TRANSACTION_START] = "transaction_start",
    [XSC_TRANSACTION_END] = "transaction_end",
    [XSC_INTRODUCE_DOMAIN] = "introduce_domain",
    [XSC_RELEASE_DOMAIN] = "release_domain",
    [XSC_RESUME_DOMAIN] = "resume_domain", [XSC_SET_TARGET] = "set_target",
    [XSC_GET_DOMAIN_PATH] = "get_domain_path",
    [XSC_IS_DOMAIN_INTRODUCED] = "is_domain_introduced",
};

static struct op results[NS][OPS][SIDES];
/* One bare xs_read and xs_write at each N (medians), for scale. */
static double bare_read_ms[NS], bare_write_ms[NS];
static struct bench_counts *counts;

struct op_result {
    bool done;
    int rc;
};

/*----- measuring -----*/

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* What the counters and clock say now. */
static void snap(struct sample *s)
{
    int i;

    s->req = 0;
    for (i = 0; i < XSC_NUM; i++) {
        s->xs[i] = __atomic_load_n(&counts->xs[i], __ATOMIC_RELAXED);
        s->req += s->xs[i];
    }
    s->fsyncs = __atomic_load_n(&counts->fsyncs, __ATOMIC_RELAXED);
    sysfs_count(&s->opens, &s->listings);
    s->ms = now_ms();
}

/* Records into op what happened since *before. */
static void record(struct op *op, const struct sample *before)
{
    struct sample now, *s;
    int i;

    snap(&now);
    ASSERT(op->n < REPS);
    s = &op->s[op->n++];
    for (i = 0; i < XSC_NUM; i++)
        s->xs[i] = now.xs[i] - before->xs[i];
    s->req = now.req - before->req;
    s->opens = now.opens - before->opens;
    s->listings = now.listings - before->listings;
    s->fsyncs = now.fsyncs - before->fsyncs;
    s->ms = now.ms - before->ms;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_ms(const struct op *op)
{
    double v[REPS];
    int i;

    for (i = 0; i < op->n; i++)
        v[i] = op->s[i].ms;
    return median(v, op->n);
}

/* The largest request count of the repetitions (they differ only if an
 * operation's cost depends on what the repetition before left). */
static unsigned long max_req(const struct op *op)
{
    unsigned long m = 0;
    int i;

    for (i = 0; i < op->n; i++)
        if (op->s[i].req > m)
            m = op->s[i].req;
    return m;
}

/*----- running a command -----*/

struct command {
    const char *argv[8];
};

static void exec_command(void *arg)
{
    struct command *c = arg;

    execv(c->argv[0], (char **)c->argv);
}

/* Runs the command, records it into op (if given); returns its stdout. */
static char *run(struct op *op, struct command *c)
{
    struct sample before;
    char *out, *err;
    int status;

    snap(&before);
    status = run_capture(exec_command, c, &out, &err);
    if (op)
        record(op, &before);
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        tap_bail(__FILE__, __LINE__, "%s %s failed (status %d): %s",
                 c->argv[0], c->argv[1], status, err);
    free(err);
    return out;
}

/*----- the host -----*/

static void op_done(libxl_ctx *ctx, int rc, void *for_callback)
{
    struct op_result *res = for_callback;

    (void)ctx;
    res->rc = rc;
    res->done = true;
}

/* The record `xl create` stores for a pv guest (libxl's libxl-json
 * userdata, which libxenlight reads and rewrites on every device change),
 * with its controller. */
static void write_libxl_json(uint32_t domid, const char *name)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), LIBXL_DIR "/userdata-d.%u.%s.libxl-json",
             domid, fakedom_uuid(domid));
    f = fopen(path, "w");
    ASSERT(f);
    fprintf(f, "{\"c_info\": {\"type\": \"pv\", \"name\": \"%s\", "
            "\"uuid\": \"%s\"}, \"b_info\": {\"max_vcpus\": 1, "
            "\"type.pv\": {}}, \"usbctrls\": [{\"type\": \"pv\", "
            "\"devid\": 0, \"version\": 2, \"ports\": 8}]}\n", name,
            fakedom_uuid(domid));
    ASSERT(!fclose(f));
}

/* A new guest with one 8-port pv controller (devid 0), as the library
 * makes it; the bench plays the backend. */
static void add_guest(libxl_ctx *ctx, uint32_t domid)
{
    struct op_result res = { .done = false };
    libxl_asyncop_how how = { .callback = op_done, .u.for_callback = &res };
    libxl_device_usbctrl c;
    char name[32], path[96];

    snprintf(name, sizeof(name), "guest%u", domid);
    fakedom_create(domid, name, "pv");
    write_libxl_json(domid, name);
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    c.version = 2;
    c.ports = 8;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, domid, &c, &how), 0);
    /* the backend driver's answer: InitWait */
    snprintf(path, sizeof(path),
             "/local/domain/0/backend/vusb/%u/%d/state", domid, c.devid);
    xs_put(path, "2");
    ASSERT(test_poll_until(ctx, &res.done, OP_TIMEOUT_MS));
    ASSERT_INT_EQ(res.rc, 0);
    libxl_device_usbctrl_dispose(&c);
}

static void usbdev_for(libxl_device_usbdev *d, int bus, int addr)
{
    libxl_device_usbdev_init(d);
    libxl_device_usbdev_init_type(d, LIBXL_USBDEV_TYPE_HOSTDEV);
    d->u.hostdev.hostbus = bus;
    d->u.hostdev.hostaddr = addr;
}

/* Gives the i-th held device to guest domid, on controller 0 port 1. */
static void hold_device(libxl_ctx *ctx, uint32_t domid, int i)
{
    libxl_device_usbdev d;
    int k = i - (int)ARRAY_LEN(trees);

    if (i < (int)ARRAY_LEN(trees))
        usbdev_for(&d, trees[i].bus, trees[i].addr);
    else
        usbdev_for(&d, 3 + k / 31, k % 31 + 2);
    d.ctrl = 0;
    d.port = 1;
    ASSERT_INT_EQ(libxl_device_usbdev_add(ctx, domid, &d, NULL), 0);
    libxl_device_usbdev_dispose(&d);
}

static void setup_host(void)
{
    static const char *const all[] = { "base", "keyboard", "stick",
                                       "stick2", "composite", "hub",
                                       "behind-hub" };
    char path[PATH_MAX];
    struct statfs st;
    size_t i;
    int fd;

    if (statfs(LIBXL_DIR, &st) || st.f_type != TMPFS_MAGIC)
        tap_bail(__FILE__, __LINE__, "%s is not a private tmpfs: run "
                 "through make bench (libxenlight writes its records "
                 "there)", LIBXL_DIR);
    for (i = 0; i < ARRAY_LEN(all); i++)
        sysfs_setup(all[i]);
    sysfs_add_devices(MANY);
    /* before any xenstore request: count.so maps the file at its first */
    snprintf(path, sizeof(path), "%s/bench-counts", sysfs_root());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT(fd >= 0 && !ftruncate(fd, sizeof(struct bench_counts)));
    close(fd);
    setenv(BENCH_COUNTS_ENV, path, 1);
    counts = bench_counts_map();
    ASSERT(counts);
    snprintf(path, sizeof(path), "%s/state", sysfs_root());
    ASSERT(!mkdir(path, 0700));
    setenv("LIBXL_PVUSB_STATE_DIR", path, 1);
    xs_start();
}

/*----- the operations -----*/

/* REPS attaches and detaches of the keyboard through this library, after
 * one warm-up. */
static void ours_attach_detach(libxl_ctx *ctx, struct op *att,
                               struct op *det)
{
    struct sample before;
    libxl_device_usbdev d;
    int rep, rc;

    for (rep = -1; rep < REPS; rep++) {
        usbdev_for(&d, KBD_BUS, KBD_ADDR);
        snap(&before);
        rc = libxl_device_usbdev_add(ctx, GUEST, &d, NULL);
        if (rep >= 0)
            record(att, &before);
        ASSERT_INT_EQ(rc, 0);
        snap(&before);
        rc = libxl_device_usbdev_remove(ctx, GUEST, &d, NULL);
        if (rep >= 0)
            record(det, &before);
        ASSERT_INT_EQ(rc, 0);
        libxl_device_usbdev_dispose(&d);
    }
}

/* The same through libxenlight: bench-libxl's lines into att and det. */
static void libxl_attach_detach(int reps, struct op *att, struct op *det)
{
    char domid[16], bus[16], addr[16], nreps[16], *out, *line, *save;
    struct command c = { { BENCH_LIBXL, "attach-detach", domid, bus, addr,
                           nreps, NULL } };
    struct sample s;
    char what[16];

    snprintf(domid, sizeof(domid), "%d", LIBXL_GUEST);
    snprintf(bus, sizeof(bus), "%d", KBD_BUS);
    snprintf(addr, sizeof(addr), "%d", KBD_ADDR);
    snprintf(nreps, sizeof(nreps), "%d", reps);
    out = run(NULL, &c);
    for (line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        struct op *op;
        long long us;

        ASSERT(sscanf(line, "%15s %lu %lld %lu %lu %lu", what, &s.req, &us,
                      &s.opens, &s.listings, &s.fsyncs) == 6);
        s.ms = us / 1e3;
        op = strcmp(what, "attach") ? det : att;
        ASSERT(op->n < REPS);
        op->s[op->n++] = s;
    }
    free(out);
}

/* xlusb usbdev-attach and usbdev-detach of the keyboard, once. */
static void cli_attach(struct op *op)
{
    struct command att = { { XLUSB, "usbdev-attach", "guest1", "hostbus=1",
                             "hostaddr=2", NULL } };
    struct command det = { { XLUSB, "usbdev-detach", "guest1", "0", "1",
                             NULL } };

    free(run(op, &att));
    free(run(NULL, &det));
}

/* reps runs of a listing by xlusb and by bench-libxl. */
static void lists(struct op *ours, struct op *libxl, const char *domain,
                  int reps)
{
    struct command o = { { XLUSB, "usb-list", domain, NULL } };
    struct command l = { { BENCH_LIBXL, "usb-list", domain, NULL } };
    int rep;

    for (rep = 0; rep < reps; rep++) {
        free(run(ours, &o));
        free(run(libxl, &l));
    }
}

/* The medians of REPS bare xs_read and xs_write of a scratch node. */
static void bare_requests(double *read_ms, double *write_ms)
{
    struct xs_handle *h = xs_test_open();
    double r[REPS], w[REPS], t0;
    unsigned int len;
    int rep;

    for (rep = 0; rep < REPS; rep++) {
        t0 = now_ms();
        ASSERT(xs_write(h, XBT_NULL, "/bench", "x", 1));
        w[rep] = now_ms() - t0;
        t0 = now_ms();
        free(xs_read(h, XBT_NULL, "/bench", &len));
        r[rep] = now_ms() - t0;
    }
    xs_close(h);
    *read_ms = median(r, REPS);
    *write_ms = median(w, REPS);
}

/*
 * The state dir's cost apart: the median time of REPS rewrites of a
 * domain's record as the library makes them (write a 1 kB temp file,
 * fsync it, rename it over the record, fsync the dir) in a temp dir
 * under dir; its file system's magic in *fs.
 */
static double record_rewrite_ms(const char *dir, unsigned long *fs)
{
    char tmpl[PATH_MAX], tmp[PATH_MAX + 16], rec[PATH_MAX + 16];
    char text[1024];
    double t[REPS], t0;
    struct statfs st;
    int rep, fd, dfd;

    snprintf(tmpl, sizeof(tmpl), "%s/xlpvusb-bench-XXXXXX", dir);
    ASSERT(mkdtemp(tmpl));
    ASSERT(!statfs(tmpl, &st));
    *fs = (unsigned long)st.f_type;
    snprintf(tmp, sizeof(tmp), "%s/1.json.tmp", tmpl);
    snprintf(rec, sizeof(rec), "%s/1.json", tmpl);
    memset(text, 'x', sizeof(text));
    for (rep = 0; rep < REPS; rep++) {
        t0 = now_ms();
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT(fd >= 0);
        ASSERT(write(fd, text, sizeof(text)) == sizeof(text));
        ASSERT(!fsync(fd));
        close(fd);
        ASSERT(!rename(tmp, rec));
        dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT(dfd >= 0 && !fsync(dfd));
        close(dfd);
        t[rep] = now_ms() - t0;
    }
    unlink(rec);
    rmdir(tmpl);
    return median(t, REPS);
}

static const char *fs_name(unsigned long magic)
{
    static char hex[32];

    switch (magic) {
    case 0xef53: return "ext2/3/4";
    case TMPFS_MAGIC: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683e: return "btrfs";
    case 0x794c7630: return "overlayfs";
    }
    snprintf(hex, sizeof(hex), "fs 0x%lx", magic);
    return hex;
}

/*----- what is printed -----*/

/* Requests and time of both sides and their ratios (libxenlight / ours),
 * and the sysfs and fsync counts of ours. */
static void print_op(const char *name, const struct op *o,
                     const struct op *l)
{
    printf("  %-20s %7lu %9.2f %5lu %5lu %5lu", name, max_req(o),
           median_ms(o), o->s[0].opens, o->s[0].listings, o->s[0].fsyncs);
    if (l && l->n)
        printf(" %7lu %9.2f %5lu %5lu %7.1fx %7.1fx\n", max_req(l),
               median_ms(l), l->s[0].opens, l->s[0].listings,
               (double)max_req(l) / max_req(o), median_ms(l) / median_ms(o));
    else
        printf("\n");
}

/* "attach: read 16, write 4, ...", wrapped within 80 columns. */
static void print_breakdown(const char *what, const struct sample *c)
{
    const char *sep = "";
    int i, col;

    col = printf("  %s:", what);
    for (i = 0; i < XSC_NUM; i++) {
        if (!c->xs[i])
            continue;
        if (col > 60) {
            printf("%s\n%10s", sep, "");
            col = 10;
        } else {
            printf("%s", sep);
        }
        col += printf(" %s %lu", xs_names[i], c->xs[i]) + 1;
        sep = ",";
    }
    printf("\n");
}

/* The fsyncs of an attach and a detach, and what they would cost where
 * the state dir lives by default (its parent's disk) against tmpfs. */
static void print_fsyncs(double tmpfs_ms, double disk_ms,
                         unsigned long disk_fs, const char *disk_dir)
{
    const struct sample *a = &results[0][ATTACH][OURS].s[0];
    const struct sample *d = &results[0][DETACH][OURS].s[0];

    printf("\nState dir (fsyncs apart; the runs above have it on tmpfs): "
           "attach %lu fsyncs,\n"
           "detach %lu: one record rewrite each (write, fsync, rename, "
           "fsync dir) takes\n%.3f ms on tmpfs, %.3f ms in %s (%s).\n",
           a->fsyncs, d->fsyncs, tmpfs_ms, disk_ms, disk_dir,
           fs_name(disk_fs));
}

static void print_table(void)
{
    size_t k;
    int i;

    printf("Per operation: xenstore requests (all processes), median ms, "
           "sysfs files opened,\n"
           "directories listed, fsyncs; ratios libxenlight / this library "
           "(x > 1: this\nlibrary makes fewer requests / is faster).  "
           "attach, detach: the library calls\n"
           "(sync, first free port; %d reps, libxenlight %d at N = 500); "
           "xlusb usbdev-attach\n"
           "and usb-list: one process each (libxenlight: what xl 4.17 "
           "does; %d reps, 1 for\n"
           "usb-list (all) at N >= 500).  N: domains besides the two "
           "measured, one 8-port\n"
           "pv controller each, %d of them holding a device.\n\n", REPS,
           HEAVY_REPS, LIST_REPS, HELD);
    for (k = 0; k < NS; k++) {
        printf("N = %u (one bare xs_read %.3f ms, xs_write %.3f ms)\n",
               others_n[k], bare_read_ms[k], bare_write_ms[k]);
        printf("  %-20s ---------- this library ---------  "
               "----------- libxenlight 4.17 -----------\n", "");
        printf("  %-20s %7s %9s %5s %5s %5s %7s %9s %5s %5s %8s %8s\n", "",
               "req", "ms", "opens", "lists", "fsync", "req", "ms",
               "opens", "lists", "req", "time");
        for (i = 0; i < OPS; i++)
            print_op(op_names[i], &results[k][i][OURS],
                     &results[k][i][LIBXL]);
    }
    printf("\nThis library's requests by libxenstore function, N = 0:\n");
    print_breakdown("attach", &results[0][ATTACH][OURS].s[0]);
    print_breakdown("detach", &results[0][DETACH][OURS].s[0]);
}

static int n_index(unsigned int n)
{
    size_t k;

    for (k = 0; k < NS; k++)
        if (others_n[k] == n)
            return k;
    abort();
}

/* The smallest and largest request count of an operation over all N. */
static void req_range(enum opkind op, unsigned long *lo, unsigned long *hi)
{
    size_t k;

    *lo = ULONG_MAX;
    *hi = 0;
    for (k = 0; k < NS; k++) {
        unsigned long r = max_req(&results[k][op][OURS]);

        if (r < *lo) *lo = r;
        if (r > *hi) *hi = r;
    }
}

/* One target: what it asks, this run's figure, met or not, and the figure
 * before issue 12's cost work (main at 3214644, this bench). */
static void target(const char *what, const char *before, bool met,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void target(const char *what, const char *before, bool met,
                   const char *fmt, ...)
{
    char measured[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(measured, sizeof(measured), fmt, ap);
    va_end(ap);
    printf("  %-46s %-22s %-8s %s\n", what, measured, met ? "met" : "NOT MET",
           before);
}

static void print_targets(void)
{
    int n0 = n_index(0), n500 = n_index(500), n1000 = n_index(1000);
    unsigned long lo, hi, req;
    double x;
    size_t k;

    printf("\nTargets (issue 12), on this library's figures; the last "
           "column is the figure\nbefore the cost work (main at "
           "3214644):\n");
    req_range(ATTACH, &lo, &hi);
    target("attach <= 12 requests, constant in N", "12..12",
           hi <= 12 && lo == hi, "%lu..%lu", lo, hi);
    req_range(DETACH, &lo, &hi);
    target("detach <= 10 requests, constant in N", "8..8",
           hi <= 10 && lo == hi, "%lu..%lu", lo, hi);
    req = 0;
    for (k = 0; k < NS; k++)
        if (results[k][CLI_ATTACH][OURS].s[0].opens > req)
            req = results[k][CLI_ATTACH][OURS].s[0].opens;
    target("an attach opens <= 12 sysfs files (xlusb)", "7 opens", req <= 12,
           "%lu opens", req);
    x = median_ms(&results[n0][DETACH][LIBXL]) /
        median_ms(&results[n0][DETACH][OURS]);
    target("detach no slower than libxenlight, N=0", "0.91x", x >= 1,
           "%.2fx as fast", x);
    x = median_ms(&results[n500][DETACH][LIBXL]) /
        median_ms(&results[n500][DETACH][OURS]);
    target("detach no slower than libxenlight, N=500", "0.67x", x >= 1,
           "%.2fx as fast", x);
    x = median_ms(&results[n500][ATTACH][LIBXL]) /
        median_ms(&results[n500][ATTACH][OURS]);
    target("attach >= 50x faster than libxenlight, N=500", "52.8x", x >= 50,
           "%.1fx as fast", x);
    req_range(LIST_ONE, &lo, &hi);
    target("usb-list <domain> <= 20 requests", "18..18", hi <= 20,
           "%lu..%lu", lo, hi);
    /* per controller: every domain's, the measured guests' too */
    x = (double)max_req(&results[n1000][LIST_ALL][OURS]) /
        (others_n[n1000] + 2);
    target("usb-list (all) <= 5 requests per controller", "18.4", x <= 5,
           "%.1f at N=1000", x);
    x = median_ms(&results[n1000][LIST_ALL][OURS]);
    target("usb-list (all) <= 0.5 s for 1,000 domains", "5088 ms", x <= 500,
           "%.0f ms", x);
    req = max_req(&results[n1000][LIST_NAME][OURS]) -
          max_req(&results[n1000][LIST_ONE][OURS]);
    target("usb-list <name> does not read every domain", "+2", req < 1000,
           "+%lu requests at N=1000", req);
    if (counts->big_dirs)
        printf("\n  (%lu xs_directory calls listed more than 4096 bytes: "
               "their XS_DIRECTORY_PART\n  requests are counted as one)\n",
               counts->big_dirs);
}

/*----- the bench -----*/

static void bench(void)
{
    unsigned long fs, disk_fs;
    double tmpfs_ms, disk_ms, t0;
    unsigned int others = 0;
    libxl_ctx *ctx;
    size_t k;
    char domid[16];

    t0 = now_ms();
    setup_host();
    ctx = test_ctx();
    add_guest(ctx, GUEST);
    add_guest(ctx, LIBXL_GUEST);
    for (k = 0; k < NS; k++) {
        struct op (*r)[SIDES] = results[k];
        bool big = others_n[k] >= 500;

        for (; others < others_n[k]; others++) {
            add_guest(ctx, FIRST_OTHER + others);
            if (others < HELD)
                hold_device(ctx, FIRST_OTHER + others, others);
        }
        bare_requests(&bare_read_ms[k], &bare_write_ms[k]);
        ours_attach_detach(ctx, &r[ATTACH][OURS], &r[DETACH][OURS]);
        /* where one operation takes seconds, fewer repetitions, and
         * none beyond N = 500 (12 requests more per domain) */
        if (others_n[k] <= 500)
            libxl_attach_detach(big ? HEAVY_REPS : REPS, &r[ATTACH][LIBXL],
                                &r[DETACH][LIBXL]);
        cli_attach(&r[CLI_ATTACH][OURS]);
        snprintf(domid, sizeof(domid), "%d", GUEST);
        lists(&r[LIST_ONE][OURS], &r[LIST_ONE][LIBXL], domid, LIST_REPS);
        lists(&r[LIST_ALL][OURS], &r[LIST_ALL][LIBXL], NULL,
              big ? 1 : LIST_REPS);
        lists(&r[LIST_NAME][OURS], &r[LIST_NAME][LIBXL], "guest1",
              LIST_REPS);
        tap_figure("N = %u done at %.0f s", others_n[k],
                   (now_ms() - t0) / 1e3);
    }
    tmpfs_ms = record_rewrite_ms(getenv("LIBXL_PVUSB_STATE_DIR"), &fs);
    disk_ms = record_rewrite_ms(DISK_DIR, &disk_fs);
    print_table();
    print_fsyncs(tmpfs_ms, disk_ms, disk_fs, DISK_DIR);
    print_targets();
}

static const struct test benches[] = {
    { "this library and libxenlight vs. number of domains", bench },
};

int main(int argc, char **argv)
{
    /* the library's debug log would be most of the time measured */
    setenv("TEST_LOGLEVEL", "error", 0);
    return tap_main(argc, argv, benches, ARRAY_LEN(benches));
}
