/*
 * bench-pvusb.c - `make bench`: what attaching and detaching one USB
 * device costs as the host grows, on the tests' harness (the real
 * xenstored, the fake sysfs).
 *
 * The measured guest (domid 1) has one 8-port pv controller; N other
 * guests have one 8-port pv controller each, the first few of them
 * holding one of the fake host's other devices.  For N = 0, 10, 100, 500
 * the keyboard (bus 1 addr 2) is attached to the measured guest through
 * the sync API (first free port) and detached again, REPS times; printed
 * per attach and per detach: the xenstore requests the library made
 * (xscount.h: exact, and constant across repetitions or shown as a
 * range) and the median wall time.  Nothing here is timed against a
 * limit: the program fails only if an operation fails.
 *
 * Every controller, the other guests' too, is made by the library
 * (libxl_device_usbctrl_add, asynchronously) with the bench answering
 * for the backend (state InitWait), as the simulated backend would: the
 * layout is the library's own, and no backend process rescans 500
 * controllers on every event.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <xenstore.h>

#include "harness.h"
#include "xscount.h"

#define GUEST 1             /* the measured domain; the others follow */
#define REPS 20
#define OP_TIMEOUT_MS 10000

static const unsigned int others_n[] = { 0, 10, 100, 500 };

/* The fake host's devices the other guests hold (tests/sysfs). */
static const struct {
    const char *tree;
    int bus, addr;
} held[] = {
    { "stick", 1, 3 },
    { "stick2", 1, 4 },
    { "composite", 2, 2 },
    { "behind-hub", 2, 4 },
};

/* The measured device: the "keyboard" tree. */
#define KBD_BUS 1
#define KBD_ADDR 2

struct op_result {
    bool done;
    int rc;
};

/* What REPS repetitions of one operation measured. */
struct op_stats {
    unsigned long req_min, req_max;
    struct xsc_counts last;     /* of the last repetition */
    double ms[REPS];
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void op_done(libxl_ctx *ctx, int rc, void *for_callback)
{
    struct op_result *res = for_callback;

    (void)ctx;
    res->rc = rc;
    res->done = true;
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
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
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

/* Gives held device i to guest domid, on controller 0 port 1. */
static void hold_device(libxl_ctx *ctx, uint32_t domid, size_t i)
{
    libxl_device_usbdev d;

    usbdev_for(&d, held[i].bus, held[i].addr);
    d.ctrl = 0;
    d.port = 1;
    ASSERT_INT_EQ(libxl_device_usbdev_add(ctx, domid, &d, NULL), 0);
    libxl_device_usbdev_dispose(&d);
}

static void note(struct op_stats *st, int rep, double t0)
{
    struct xsc_counts c;
    unsigned long req;

    st->ms[rep] = now_ms() - t0;
    xsc_get(&c);
    req = xsc_total(&c);
    if (!rep || req < st->req_min)
        st->req_min = req;
    if (!rep || req > st->req_max)
        st->req_max = req;
    st->last = c;
}

/* One attach (first free port) and one detach of the keyboard; rep < 0
 * is a warm-up, not recorded. */
static void attach_detach(libxl_ctx *ctx, int rep, struct op_stats *att,
                          struct op_stats *det)
{
    libxl_device_usbdev d;
    double t0;
    int rc;

    usbdev_for(&d, KBD_BUS, KBD_ADDR);
    xsc_reset();
    t0 = now_ms();
    rc = libxl_device_usbdev_add(ctx, GUEST, &d, NULL);
    if (rep >= 0)
        note(att, rep, t0);
    ASSERT_INT_EQ(rc, 0);

    xsc_reset();
    t0 = now_ms();
    rc = libxl_device_usbdev_remove(ctx, GUEST, &d, NULL);
    if (rep >= 0)
        note(det, rep, t0);
    ASSERT_INT_EQ(rc, 0);
    libxl_device_usbdev_dispose(&d);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One bare request, for scale: the medians of REPS xs_read and xs_write
 * of a scratch node on a handle of the bench's own. */
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

/* "35" or, if the repetitions differed, "35-36". */
static const char *req_str(const struct op_stats *st, char *buf, size_t sz)
{
    if (st->req_min == st->req_max)
        snprintf(buf, sz, "%lu", st->req_min);
    else
        snprintf(buf, sz, "%lu-%lu", st->req_min, st->req_max);
    return buf;
}

/* "attach: read 16, write 4, ...", wrapped within 80 columns. */
static void print_breakdown(const char *what, const struct xsc_counts *c)
{
    const char *sep = "";
    int i, col;

    col = printf("       %s:", what);
    for (i = 0; i < XSC_NUM; i++) {
        if (!c->n[i])
            continue;
        if (col > 60) {
            printf("%s\n%14s", sep, "");
            col = 14;
        } else {
            printf("%s", sep);
        }
        col += printf(" %s %lu", xsc_name(i), c->n[i]) + 1;
        sep = ",";
    }
    printf("\n");
}

static void bench_attach_detach(void)
{
    struct op_stats att[ARRAY_LEN(others_n)], det[ARRAY_LEN(others_n)];
    static const char *const trees[] = { "base", "keyboard", "stick",
                                         "stick2", "composite", "hub",
                                         "behind-hub" };
    double read_ms[ARRAY_LEN(others_n)], write_ms[ARRAY_LEN(others_n)];
    char state_dir[160], b1[32], b2[32];
    unsigned int others = 0;
    libxl_ctx *ctx;
    size_t i, k;
    int rep;

    xs_start();
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    snprintf(state_dir, sizeof(state_dir), "%s/state", sysfs_root());
    ASSERT(!mkdir(state_dir, 0700));
    setenv("LIBXL_PVUSB_STATE_DIR", state_dir, 1);
    ctx = test_ctx();
    add_guest(ctx, GUEST);

    for (k = 0; k < ARRAY_LEN(others_n); k++) {
        for (; others < others_n[k]; others++) {
            add_guest(ctx, GUEST + 1 + others);
            if (others < ARRAY_LEN(held))
                hold_device(ctx, GUEST + 1 + others, others);
        }
        bare_requests(&read_ms[k], &write_ms[k]);
        attach_detach(ctx, -1, NULL, NULL);
        for (rep = 0; rep < REPS; rep++)
            attach_detach(ctx, rep, &att[k], &det[k]);
    }

    printf("Attach/detach of one USB device (sync API, first free port) "
           "vs. N other\n"
           "domains, each with one 8-port pv controller (%zu of them "
           "holding a device).\n"
           "req: xenstore requests the library made (exact); ms: median "
           "of %d; xs_read,\n"
           "xs_write: one bare request to the same xenstored, for "
           "scale.\n\n",
           ARRAY_LEN(held), REPS);
    printf("%5s %11s %11s %10s %10s %8s %8s\n", "N", "req/attach",
           "req/detach", "ms/attach", "ms/detach", "xs_read", "xs_write");
    for (k = 0; k < ARRAY_LEN(others_n); k++)
        printf("%5u %11s %11s %10.3f %10.3f %8.3f %8.3f\n", others_n[k],
               req_str(&att[k], b1, sizeof(b1)),
               req_str(&det[k], b2, sizeof(b2)),
               median(att[k].ms, REPS), median(det[k].ms, REPS),
               read_ms[k], write_ms[k]);
    printf("\nRequests by libxenstore function (last repetition):\n");
    for (k = 0; k < ARRAY_LEN(others_n); k++) {
        printf("%5u\n", others_n[k]);
        print_breakdown("attach", &att[k].last);
        print_breakdown("detach", &det[k].last);
    }
}

static const struct test benches[] = {
    { "attach/detach cost vs. number of domains", bench_attach_detach },
};

int main(int argc, char **argv)
{
    /* the library's debug log would be most of the time measured */
    setenv("TEST_LOGLEVEL", "error", 0);
    return tap_main(argc, argv, benches, ARRAY_LEN(benches));
}
