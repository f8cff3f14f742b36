/*
 * bench-libxl.c - the libxenlight side of `make bench`: Debian's real
 * libxenlight 4.17 doing what bench-pvusb measures of this library, on the
 * same private xenstored, fake sysfs and stand-in hypervisor (run by
 * bench-pvusb, with its environment).  A program of its own: the two
 * libraries define the same symbols.
 *
 *   bench-libxl attach-detach <domid> <bus> <addr> <reps>
 *       one warm-up, then reps times libxl_device_usbdev_add of the
 *       device (first free port) and libxl_device_usbdev_remove of it,
 *       synchronously, in one context; prints for each operation a line
 *       "attach|detach <requests> <us> <sysfs opens> <listings> <fsyncs>"
 *   bench-libxl usb-list [<domain>]
 *       what `xl usb-list <domain>` does (xl 4.17's main_usblist, after
 *       its find_domain: a name through libxl_name_to_domid), or with no
 *       domain the same for every domain libxl_list_domain lists (xl has
 *       no such command; xlusb's usb-list without a domain is its
 *       counterpart); the listing goes to stdout.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "count.h"
#include "sysfsmock.h"

static libxl_ctx *ctx;
static struct bench_counts *counts;
static struct sysfsmock_counts *sysfs;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench-libxl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void make_ctx(void)
{
    xentoollog_logger *lg = (xentoollog_logger *)
        xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);

    if (!lg || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, lg))
        die("cannot make a libxl context");
}

/* The fake sysfs's counters (sysfsmock.h), mapped. */
static struct sysfsmock_counts *map_sysfs_counts(void)
{
    const char *root = getenv(SYSFSMOCK_ROOT_ENV);
    char path[4096];
    void *m;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", root ? root : "",
             SYSFSMOCK_COUNT_FILE);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    m = mmap(NULL, sizeof(*sysfs), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        die("mmap %s: %s", path, strerror(errno));
    return m;
}

struct snapshot {
    unsigned long requests, opens, listings, fsyncs;
    struct timespec t;
};

static void snap(struct snapshot *s)
{
    int i;

    s->requests = 0;
    for (i = 0; i < XSC_NUM; i++)
        s->requests += __atomic_load_n(&counts->xs[i], __ATOMIC_RELAXED);
    s->fsyncs = __atomic_load_n(&counts->fsyncs, __ATOMIC_RELAXED);
    s->opens = __atomic_load_n(&sysfs->opens, __ATOMIC_RELAXED);
    s->listings = __atomic_load_n(&sysfs->listings, __ATOMIC_RELAXED);
    clock_gettime(CLOCK_MONOTONIC, &s->t);
}

static void report(const char *op, const struct snapshot *a,
                   const struct snapshot *b, bool print)
{
    long long us = (b->t.tv_sec - a->t.tv_sec) * 1000000LL +
                   (b->t.tv_nsec - a->t.tv_nsec) / 1000;

    if (print)
        printf("%s %lu %lld %lu %lu %lu\n", op, b->requests - a->requests,
               us, b->opens - a->opens, b->listings - a->listings,
               b->fsyncs - a->fsyncs);
}

static void attach_detach(uint32_t domid, int bus, int addr, int reps)
{
    struct snapshot a, b;
    libxl_device_usbdev d;
    int rep, rc;

    counts = bench_counts_map();
    if (!counts)
        die("$%s: no counts file", BENCH_COUNTS_ENV);
    sysfs = map_sysfs_counts();
    for (rep = -1; rep < reps; rep++) {
        libxl_device_usbdev_init(&d);
        d.type = LIBXL_USBDEV_TYPE_HOSTDEV;
        d.ctrl = -1;
        d.port = 0;
        d.u.hostdev.hostbus = bus;
        d.u.hostdev.hostaddr = addr;
        snap(&a);
        rc = libxl_device_usbdev_add(ctx, domid, &d, NULL);
        snap(&b);
        if (rc)
            die("libxl_device_usbdev_add: %d", rc);
        report("attach", &a, &b, rep >= 0);
        snap(&a);
        rc = libxl_device_usbdev_remove(ctx, domid, &d, NULL);
        snap(&b);
        if (rc)
            die("libxl_device_usbdev_remove: %d", rc);
        report("detach", &a, &b, rep >= 0);
        libxl_device_usbdev_dispose(&d);
    }
}

/* xl 4.17's main_usblist for one domain. */
static void usb_list(uint32_t domid)
{
    libxl_device_usbctrl *usbctrls;
    libxl_usbctrlinfo usbctrlinfo;
    libxl_device_usbdev *usbdevs;
    int numctrl, numusbdev, i, j;

    usbctrls = libxl_device_usbctrl_list(ctx, domid, &numctrl);
    if (!usbctrls || !numctrl)
        return;
    for (i = 0; i < numctrl; ++i) {
        printf("%-6s %-12s %-3s %-5s %-7s %-5s\n",
               "Devid", "Type", "BE", "state", "usb-ver", "ports");
        libxl_usbctrlinfo_init(&usbctrlinfo);
        if (!libxl_device_usbctrl_getinfo(ctx, domid, &usbctrls[i],
                                          &usbctrlinfo)) {
            printf("%-6d %-12s %-3d %-5d %-7d %-5d\n", usbctrlinfo.devid,
                   libxl_usbctrl_type_to_string(usbctrlinfo.type),
                   usbctrlinfo.backend_id, usbctrlinfo.state,
                   usbctrlinfo.version, usbctrlinfo.ports);
            usbdevs = libxl_device_usbdev_list(ctx, domid, &numusbdev);
            for (j = 0; j < numusbdev; ++j) {
                if (usbctrlinfo.devid != usbdevs[j].ctrl)
                    continue;
                printf("  Port %d: Bus %03x Device %03x\n", usbdevs[j].port,
                       usbdevs[j].u.hostdev.hostbus,
                       usbdevs[j].u.hostdev.hostaddr);
            }
            libxl_device_usbdev_list_free(usbdevs, numusbdev);
        }
        libxl_usbctrlinfo_dispose(&usbctrlinfo);
    }
    libxl_device_usbctrl_list_free(usbctrls, numctrl);
}

/* xl's find_domain: a number is a domid, anything else a name. */
static uint32_t find_domain(const char *p)
{
    uint32_t domid;
    char *end;
    unsigned long n = strtoul(p, &end, 10);

    if (*p && !*end)
        return n;
    if (libxl_name_to_domid(ctx, p, &domid))
        die("%s is an invalid domain identifier", p);
    return domid;
}

static void usb_list_all(void)
{
    libxl_dominfo *info;
    int n, i;

    info = libxl_list_domain(ctx, &n);
    if (!info)
        die("libxl_list_domain failed");
    for (i = 0; i < n; i++)
        usb_list(info[i].domid);
    libxl_dominfo_list_free(info, n);
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "attach-detach")) {
        make_ctx();
        attach_detach(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                      atoi(argv[5]));
    } else if (argc == 3 && !strcmp(argv[1], "usb-list")) {
        make_ctx();
        usb_list(find_domain(argv[2]));
    } else if (argc == 2 && !strcmp(argv[1], "usb-list")) {
        make_ctx();
        usb_list_all();
    } else {
        die("usage: bench-libxl attach-detach <domid> <bus> <addr> <reps>"
            " | usb-list [<domain>]");
    }
    libxl_ctx_free(ctx);
    return 0;
}
