/*
 * test-adversary.c - issue 9: states the library did not make, and steps
 * of it that fail, with the whole host checked from outside afterwards.
 *
 *   5  "in use" from the ownership record alone: a record deleted or
 *      corrupt while a port holds the device, a device another toolstack
 *      (Debian's xl) or QEMU holds, a host program on usbfs;
 *   6  a controller served by a driver domain B, which writes what it
 *      likes into its backend dir (another guest's busid, nonsense);
 *   7  destroy_all after one controller fails, and after the domain died;
 *   8  leftovers: lock files, empty dirs, host-side records.
 *
 * The tests describe the behaviour the library must have; most failed
 * against the code they were written for (the 5c leftover and the 8c
 * tests guard what already worked).  Messages are checked by key
 * phrases only.
 *
 * Domains: 1 guest1 and 2 guest2 (the guests), 3 guest3 (holds a device
 * properly), 5 usbdom (a driver domain).  Host devices (tests/sysfs):
 * keyboard 1-1 (bus 1 addr 2, usbhid), stick 1-2 (1/3, usb-storage).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
/* strcasestr: _GNU_SOURCE comes from the build */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "harness.h"

#define GUEST 1
#define OTHER 2
#define HOLDER 3
#define DRVDOM 5

#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define MAX_ARGS 64
#define DRV "/sys/bus/usb/drivers/"

/* The stick and the keyboard; each has one interface. */
#define STICK "1-2"
#define STICK_IF "1-2:1.0"
#define STICK_REC "/libxl/usbback/1-2"
#define STICK_DRVREC STICK_REC "/1-2@1_0/driver_path"
#define KBD "1-1"
#define KBD_IF "1-1:1.0"
#define KBD_REC "/libxl/usbback/1-1"

/* Controller 0 of guest 1 served by dom0, and by the driver domain. */
#define BE0 "/local/domain/0/backend/vusb/1/0"
#define BEB "/local/domain/5/backend/vusb/1/0"
#define PRIV0 "/libxl/1/device/vusb/0"

static const char *state_dir;

/*----- a logger that keeps what the library says -----*/

static struct {
    xentoollog_logger vtable;
    FILE *f;
    char *text;
    size_t len;
} logbuf;

/* Keeps warnings and errors, and shows them on stderr. */
static void log_vmessage(xentoollog_logger *lg, xentoollog_level level,
                         int errnoval, const char *context,
                         const char *format, va_list al)
{
    va_list copy;

    (void)lg, (void)errnoval;
    if (level < XTL_WARN)
        return;
    va_copy(copy, al);
    fprintf(stderr, "%s: %s: ", context ? context : "?",
            xtl_level_to_string(level));
    vfprintf(stderr, format, copy);
    fputc('\n', stderr);
    va_end(copy);
    vfprintf(logbuf.f, format, al);
    fputc('\n', logbuf.f);
    fflush(logbuf.f);
}

static void log_destroy(xentoollog_logger *lg)
{
    (void)lg;
}

/* Forgets what was logged so far. */
static void log_reset(void)
{
    if (logbuf.f)
        fclose(logbuf.f);
    free(logbuf.text);
    logbuf.text = NULL;
    logbuf.f = open_memstream(&logbuf.text, &logbuf.len);
    ASSERT(logbuf.f);
}

/* The library logged phrase (case-insensitively) since log_reset. */
#define CHECK_LOG(phrase) do { const char *p_ = (phrase); \
    fflush(logbuf.f); \
    if (!strcasestr(logbuf.text, p_)) \
        tap_fail(__FILE__, __LINE__, "no \"%s\" in what was logged:\n%s", \
                 p_, logbuf.text); } while (0)

static libxl_ctx *log_ctx(void)
{
    logbuf.vtable.vmessage = log_vmessage;
    logbuf.vtable.destroy = log_destroy;
    log_reset();
    return test_ctx_logging_to(&logbuf.vtable);
}

/*----- the host -----*/

/*
 * The private xenstored with the guests and the driver domain, the fake
 * sysfs with the keyboard and the stick, a state dir, and a simulated
 * backend in dom0 and in the driver domain.
 */
static libxl_ctx *setup_with(bool silent_backend)
{
    static const char *const trees[] = { "base", "keyboard", "stick" };
    size_t i;

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    fakedom_create(OTHER, "guest2", "pv");
    fakedom_create(HOLDER, "guest3", "pv");
    fakedom_create(DRVDOM, "usbdom", "pv");
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    state_dir = test_state_dir();
    simbackend_start(silent_backend);
    simbackend_start_for(DRVDOM, silent_backend);
    return log_ctx();
}

static libxl_ctx *setup(void)
{
    return setup_with(false);
}

/*----- the API, shortly -----*/

static int add_ctrl_type(libxl_ctx *ctx, uint32_t domid, int devid,
                         libxl_usbctrl_type type, uint32_t backend)
{
    return usbctrl_add_at(ctx, domid, devid, type, 4, backend, 0);
}

/* A 4-port pv controller served by domain backend. */
static int add_ctrl(libxl_ctx *ctx, uint32_t domid, int devid,
                    uint32_t backend)
{
    return add_ctrl_type(ctx, domid, devid, LIBXL_USBCTRL_TYPE_PV, backend);
}

static int add_dev(libxl_ctx *ctx, uint32_t domid, int bus, int addr,
                   int ctrl, int port)
{
    return usbdev_add_at(ctx, domid, bus, addr, ctrl, port, 0);
}

static int add_stick(libxl_ctx *ctx, uint32_t domid, int ctrl, int port)
{
    return add_dev(ctx, domid, 1, 3, ctrl, port);
}

static int add_kbd(libxl_ctx *ctx, uint32_t domid, int ctrl, int port)
{
    return add_dev(ctx, domid, 1, 2, ctrl, port);
}

static int remove_dev(libxl_ctx *ctx, uint32_t domid, int ctrl, int port)
{
    return usbdev_remove_at(ctx, domid, ctrl, port);
}

static int remove_ctrl(libxl_ctx *ctx, uint32_t domid, int devid)
{
    libxl_device_usbctrl c;
    int rc;

    libxl_device_usbctrl_init(&c);
    c.devid = devid;
    rc = libxl_device_usbctrl_remove(ctx, domid, &c, NULL);
    libxl_device_usbctrl_dispose(&c);
    return rc;
}

/* The domain usb-assignable-list shows busid given to, or -1. */
static int hostdev_domid(libxl_ctx *ctx, const char *busid)
{
    libxl_usb_hostdev *h;
    int i, n, domid = -2;

    h = libxl_usb_hostdev_list(ctx, &n);
    for (i = 0; i < n; i++)
        if (!strcmp(h[i].busid, busid))
            domid = h[i].domid;
    libxl_usb_hostdev_list_free(h, n);
    if (domid == -2)
        tap_fail(__FILE__, __LINE__, "%s is not in the host's list", busid);
    return domid;
}

/* How many devices libxl_device_usbdev_list gives for domid. */
static int usbdev_count(libxl_ctx *ctx, uint32_t domid)
{
    libxl_device_usbdev *list;
    int n;

    list = libxl_device_usbdev_list(ctx, domid, &n);
    libxl_device_usbdev_list_free(list, n);
    return n;
}

/*----- the state, from outside -----*/

/* The nodes under dir/port/ (any depth) whose value is busid. */
static int count_ports(struct xs_handle *h, const char *dir,
                       const char *busid)
{
    const char *last = strrchr(dir, '/');
    bool in_port = last && !strcmp(last, "/port");
    unsigned int i, n, len;
    char path[512], *v;
    char **kids = xs_directory(h, XBT_NULL, dir, &n);
    int count = 0;

    for (i = 0; kids && i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
                 kids[i]);
        v = in_port ? xs_read(h, XBT_NULL, path, &len) : NULL;
        if (v && !strcmp(v, busid)) {
            tap_diag("%s = %s", path, v);
            count++;
        }
        free(v);
        count += count_ports(h, path, busid);
    }
    free(kids);
    return count;
}

/* How many ports, in all of xenstore, hold busid. */
static int ports_holding(const char *busid)
{
    struct xs_handle *h = xs_test_open();
    int n = count_ports(h, "/", busid);

    xs_close(h);
    return n;
}

/* The children of dir, one string ("a b c"), for comparing. */
static char *xs_children(const char *dir)
{
    struct xs_handle *h = xs_test_open();
    unsigned int i, n = 0;
    char **kids = xs_directory(h, XBT_NULL, dir, &n);
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);

    ASSERT(f);
    for (i = 0; kids && i < n; i++)
        fprintf(f, "%s%s", i ? " " : "", kids[i]);
    fclose(f);
    free(kids);
    xs_close(h);
    return s;
}

/* busid (interface intf) is released: no port holds it, intf is on
 * driver, no host-side record of it remains at rec. */
static void check_released(const char *busid, const char *intf,
                           const char *driver, const char *rec)
{
    CHECK_INT_EQ(ports_holding(busid), 0);
    CHECK_STR_EQ(sysfs_driver_of(intf), driver);
    if (xs_has(rec))
        tap_fail(__FILE__, __LINE__, "%s is left behind", rec);
}

/* The stick is guest 1's, at controller 0 port 1 of dom0's backend. */
static void check_stick_still_guests(void)
{
    CHECK_XS(BE0 "/port/1", STICK);
    CHECK_INT_EQ(ports_holding(STICK), 1);
    CHECK_STR_EQ(sysfs_driver_of(STICK_IF), "usbback");
}

/* The stick is still guest 3's, attached properly at 0:1: port, record,
 * usbback, the original driver recorded, listed as guest 3's. */
static void check_stick_still_holders(libxl_ctx *ctx)
{
    CHECK_XS("/local/domain/0/backend/vusb/3/0/port/1", STICK);
    CHECK_XS(STICK_REC "/owner", "3/0/1");
    CHECK_XS(STICK_DRVREC, DRV "usb-storage");
    CHECK_STR_EQ(sysfs_driver_of(STICK_IF), "usbback");
    CHECK_INT_EQ(usbdev_count(ctx, HOLDER), 1);
    CHECK_INT_EQ(hostdev_domid(ctx, STICK), HOLDER);
}

/* The owner record of the stick, if any, is not domain 2's. */
static void check_not_recorded_for_other(void)
{
    char *owner = xs_get(STICK_REC "/owner");

    if (owner && !strncmp(owner, "2/", 2))
        tap_fail(__FILE__, __LINE__, "%s/owner = \"%s\": guest 2's",
                 STICK_REC, owner);
    free(owner);
}

/* Moves intf from its driver to driver, as another program would. */
static void rebind_by_hand(const char *intf, const char *driver)
{
    sysfs_unbind(intf);
    sysfs_bind(intf, driver);
}

/*----- running xlusb -----*/

static void exec_argv(void *argv)
{
    execvp(((char **)argv)[0], argv);
}

/* Runs "xlusb <cmdline>" (under $TEST_VALGRIND if set); returns its exit
 * status, and shows what it printed if that is not 0. */
static int xlusb(const char *cmdline)
{
    static char words[1024], valgrind[512];
    char *argv[MAX_ARGS], *save = NULL, *w, *out;
    const char *vg = getenv("TEST_VALGRIND");
    int n = 0, status;

    if (vg && *vg) {
        snprintf(valgrind, sizeof(valgrind), "%s", vg);
        for (w = strtok_r(valgrind, " ", &save); w;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = XLUSB;
    snprintf(words, sizeof(words), "%s", cmdline);
    for (w = strtok_r(words, " ", &save); w && n < MAX_ARGS - 1;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n] = NULL;
    status = run_capture(exec_argv, argv, &out, NULL);
    status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (status)
        tap_diag("xlusb %s: exit %d\n%s", cmdline, status, out);
    free(out);
    return status;
}

/* The *.lock files in the state dir, each reported. */
static int lock_files(void)
{
    DIR *d = opendir(state_dir);
    struct dirent *de;
    size_t len;
    int n = 0;

    ASSERT(d);
    while ((de = readdir(d))) {
        len = strlen(de->d_name);
        if (len >= 5 && !strcmp(de->d_name + len - 5, ".lock")) {
            tap_diag("left in the state dir: %s", de->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/*----- 5a: the ownership record lost while the device is held -----*/

/*
 * The stick is guest 1's; its record is then deleted (record NULL) or
 * replaced by record.  Guest 2 may not have it.
 */
static void attach_refused_despite_record(const char *record)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_stick(ctx, GUEST, -1, 0), 0);
    if (record)
        xs_put(STICK_REC "/owner", record);
    else
        xs_del(STICK_REC "/owner");
    log_reset();
    CHECK_INT_EQ(add_stick(ctx, OTHER, -1, 0), ERROR_DEVICE_EXISTS);
    CHECK_LOG("already assigned");
    check_stick_still_guests();
    check_not_recorded_for_other();
    CHECK_INT_EQ(hostdev_domid(ctx, STICK), GUEST);
}

static void test_5a_record_missing(void)
{
    attach_refused_despite_record(NULL);
}

static void test_5a_record_corrupt(void)
{
    attach_refused_despite_record("garbage");
}

/*----- 5b: usb-rebind of a held device without record -----*/

static void test_5b_rebind_refused(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_stick(ctx, GUEST, -1, 0), 0);
    xs_del(STICK_REC "/owner");
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, STICK, NULL),
                 ERROR_DEVICE_EXISTS);
    check_stick_still_guests();
    CHECK_XS(STICK_DRVREC, DRV "usb-storage");
}

/*----- 5c: devices held by others than this library -----*/

/* What Debian's xl leaves for a device it gave guest 1: its port, the
 * driver record, the interface on usbback; no ownership record. */
static void give_stick_as_xl_does(libxl_ctx *ctx)
{
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 0), 0);
    xs_put(BE0 "/port/1", STICK);
    xs_put(STICK_DRVREC, DRV "usb-storage");
    rebind_by_hand(STICK_IF, "usbback");
}

static void test_5c_given_by_xl(void)
{
    libxl_ctx *ctx = setup();

    give_stick_as_xl_does(ctx);
    CHECK_INT_EQ(hostdev_domid(ctx, STICK), GUEST);
    log_reset();
    CHECK_INT_EQ(add_stick(ctx, OTHER, -1, 0), ERROR_DEVICE_EXISTS);
    CHECK_LOG("already assigned");
    check_stick_still_guests();
    check_not_recorded_for_other();
}

/* QEMU serves qusb for guest 1, and has claimed the stick (usbfs). */
static void test_5c_claimed_by_qemu(void)
{
    libxl_ctx *ctx = setup();

    xs_put("/local/domain/0/device-model/1/backends/qusb", "");
    ASSERT_INT_EQ(add_ctrl_type(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_QUSB, 0),
                  0);
    xs_put("/local/domain/0/backend/qusb/1/0/port/1", STICK);
    rebind_by_hand(STICK_IF, "usbfs");
    CHECK_INT_EQ(hostdev_domid(ctx, STICK), GUEST);
    {   /* listed as the guest's, as xl would list it */
        libxl_device_usbdev *devs;
        int n;

        devs = libxl_device_usbdev_list(ctx, GUEST, &n);
        CHECK_INT_EQ(n, 1);
        if (n == 1) CHECK_INT_EQ(devs[0].port, 1);
        libxl_device_usbdev_list_free(devs, n);
    }
    log_reset();
    CHECK_INT_EQ(add_stick(ctx, OTHER, -1, 0), ERROR_DEVICE_EXISTS);
    CHECK_LOG("already assigned");
    CHECK_XS("/local/domain/0/backend/qusb/1/0/port/1", STICK);
    CHECK_INT_EQ(ports_holding(STICK), 1);
    CHECK_STR_EQ(sysfs_driver_of(STICK_IF), "usbfs");
    check_not_recorded_for_other();
}

/* A program on the host has the stick through usbfs; no domain has. */
static void test_5c_claimed_by_host_program(void)
{
    libxl_ctx *ctx = setup();

    rebind_by_hand(STICK_IF, "usbfs");
    log_reset();
    CHECK(add_stick(ctx, OTHER, -1, 0) != 0);
    CHECK_LOG("claimed by a program on the host");
    check_released(STICK, STICK_IF, "usbfs", STICK_REC);
    CHECK(!xs_has("/libxl/2/device/vusb/0"));
}

/* A leftover: on usbback with its driver recorded, no port, no owner. */
static void test_5c_leftover_attachable(void)
{
    libxl_ctx *ctx = setup();

    xs_put(STICK_DRVREC, DRV "usb-storage");
    rebind_by_hand(STICK_IF, "usbback");
    CHECK_INT_EQ(add_stick(ctx, OTHER, -1, 0), 0);
    CHECK_XS("/local/domain/0/backend/vusb/2/0/port/1", STICK);
    CHECK_XS(STICK_REC "/owner", "2/0/1");
    CHECK_INT_EQ(remove_dev(ctx, OTHER, 0, 1), 0);
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);
}

/*----- 6: a controller served by a driver domain -----*/

/* Guest 1's controller 0, served by the driver domain. */
static libxl_ctx *setup_drvdom(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, DRVDOM), 0);
    CHECK_PERMS(BEB, "n5,r1");
    return ctx;
}

/* Guest 3 has the stick, properly; the driver domain writes its busid
 * into port 2 of guest 1's controller. */
static libxl_ctx *setup_forged_holders_busid(void)
{
    libxl_ctx *ctx = setup_drvdom();

    ASSERT_INT_EQ(add_stick(ctx, HOLDER, -1, 0), 0);
    xs_put(BEB "/port/2", STICK);
    return ctx;
}

static void test_6a_forged_not_listed(void)
{
    libxl_ctx *ctx = setup_forged_holders_busid();

    CHECK_INT_EQ(usbdev_count(ctx, GUEST), 0);
    check_stick_still_holders(ctx);
}

static void test_6a_forged_usbdev_detach(void)
{
    libxl_ctx *ctx = setup_forged_holders_busid();

    remove_dev(ctx, GUEST, 0, 2);       /* refused or not: harmless */
    check_stick_still_holders(ctx);
}

static void test_6a_forged_usbctrl_detach(void)
{
    libxl_ctx *ctx = setup_forged_holders_busid();

    CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 0), 0);
    CHECK(!xs_has(PRIV0));
    check_stick_still_holders(ctx);
}

static void test_6a_forged_destroy_all(void)
{
    libxl_ctx *ctx = setup_forged_holders_busid();

    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    CHECK(!xs_has(PRIV0));
    check_stick_still_holders(ctx);
}

static const char *const malformed[] = { "../../x", "1-2:1.0", "" };

/* Removes what is left of guest 1's controller 0 (driver domain's). */
static void forget_drvdom_ctrl(void)
{
    xs_del(PRIV0);
    xs_del("/local/domain/1/device/vusb/0");
    xs_del(BEB);
}

/* Guest 1 has the keyboard on controller 1 (dom0's), port 1. */
static void give_kbd_on_ctrl1(libxl_ctx *ctx)
{
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 1, 0), 0);
    ASSERT_INT_EQ(add_kbd(ctx, GUEST, 1, 1), 0);
}

static void test_6b_malformed_listed(void)
{
    libxl_ctx *ctx = setup_drvdom();
    libxl_device_usbdev *list;
    size_t i;
    int n;

    give_kbd_on_ctrl1(ctx);
    for (i = 0; i < ARRAY_LEN(malformed); i++) {
        tap_diag("port/1 = \"%s\"", malformed[i]);
        xs_put(BEB "/port/1", malformed[i]);
        list = libxl_device_usbdev_list(ctx, GUEST, &n);
        CHECK_INT_EQ(n, 1);
        if (n == 1) {
            CHECK_INT_EQ(list[0].ctrl, 1);
            CHECK_INT_EQ(list[0].port, 1);
            CHECK_INT_EQ(list[0].u.hostdev.hostaddr, 2);
        }
        libxl_device_usbdev_list_free(list, n);
    }
}

static void test_6b_malformed_usbctrl_detach(void)
{
    libxl_ctx *ctx = setup();
    size_t i;

    give_kbd_on_ctrl1(ctx);
    for (i = 0; i < ARRAY_LEN(malformed); i++) {
        tap_diag("port/1 = \"%s\"", malformed[i]);
        ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, DRVDOM), 0);
        xs_put(BEB "/port/1", malformed[i]);
        CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 0), 0);
        CHECK(!xs_has(PRIV0));
        CHECK_XS("/local/domain/0/backend/vusb/1/1/port/1", KBD);
        CHECK_STR_EQ(sysfs_driver_of(KBD_IF), "usbback");
        forget_drvdom_ctrl();   /* if it failed: the next round anew */
    }
}

static void test_6b_malformed_destroy_all(void)
{
    libxl_ctx *ctx = setup();
    size_t i;

    for (i = 0; i < ARRAY_LEN(malformed); i++) {
        tap_diag("port/1 = \"%s\"", malformed[i]);
        ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, DRVDOM), 0);
        give_kbd_on_ctrl1(ctx);
        xs_put(BEB "/port/1", malformed[i]);
        CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
        check_released(KBD, KBD_IF, "usbhid", KBD_REC);
        CHECK(!xs_has("/libxl/1/device/vusb"));
        /* if it failed: start the next round from nothing */
        forget_drvdom_ctrl();
        xs_del("/libxl/1/device");
        xs_del("/local/domain/0/backend/vusb/1");
        libxl_device_usbdev_rebind(ctx, KBD, NULL);
    }
}

static void check_drvdom_ports_free(void)
{
    char path[64];
    int i;

    for (i = 1; i <= 4; i++) {
        snprintf(path, sizeof(path), BEB "/port/%d", i);
        CHECK_XS(path, "");
    }
}

static void test_6c_attach_to_drvdom_refused(void)
{
    libxl_ctx *ctx = setup_drvdom();

    log_reset();
    CHECK_INT_EQ(add_stick(ctx, GUEST, 0, 0), ERROR_INVAL);
    CHECK_LOG("driver domain");
    check_drvdom_ports_free();
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);

    /* with the controller left to the library: never B's either */
    if (!add_stick(ctx, GUEST, -1, 0))
        CHECK_INT_EQ(ports_holding(STICK), 1);
    check_drvdom_ports_free();
}

/*----- 7: destroy_all -----*/

/* Guest 1: the stick on controller 0 port 1, the keyboard on 1:1. */
static void give_two_ctrls(libxl_ctx *ctx)
{
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 0), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 1, 0), 0);
    ASSERT_INT_EQ(add_stick(ctx, GUEST, 0, 1), 0);
    ASSERT_INT_EQ(add_kbd(ctx, GUEST, 1, 1), 0);
}

static void test_7_destroy_all_goes_on(void)
{
    libxl_ctx *ctx = setup();

    give_two_ctrls(ctx);
    /* the first unbind from usbback (the stick's) fails */
    sysfs_inject(DRV "usbback/unbind", EIO, 1);
    CHECK(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL) != 0);
    check_released(KBD, KBD_IF, "usbhid", KBD_REC);
    /* the stick: still the guest's, or recorded for usb-rebind; either
     * way its original driver is recorded */
    CHECK_STR_EQ(sysfs_driver_of(STICK_IF), "usbback");
    CHECK_XS(STICK_DRVREC, DRV "usb-storage");
    CHECK(ports_holding(STICK) <= 1);
    /* one re-run finishes (and usb-rebind, if the stick was left
     * recorded for it: nothing to do otherwise) */
    sysfs_inject_clear();
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, STICK, NULL), 0);
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);
    CHECK(!xs_has("/libxl/1/device/vusb"));    /* /libxl/1/device: 8b */
}

static void test_7_destroy_all_domain_gone(void)
{
    libxl_ctx *ctx = setup();

    give_two_ctrls(ctx);
    xs_del("/local/domain/1");      /* the domain died */
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);
    check_released(KBD, KBD_IF, "usbhid", KBD_REC);
    CHECK(!xs_has("/local/domain/0/backend/vusb/1"));
    CHECK(!xs_has("/libxl/1/device/vusb"));
}

/*----- 8: leftovers -----*/

static void test_8a_no_lock_files(void)
{
    setup();
    CHECK_INT_EQ(xlusb("usbdev-attach guest1 busid=1-2"), 0);
    CHECK_INT_EQ(lock_files(), 0);
    CHECK_INT_EQ(xlusb("usbdev-detach guest1 0 1"), 0);
    CHECK_INT_EQ(lock_files(), 0);
    CHECK_INT_EQ(xlusb("usbctrl-detach guest1 0"), 0);
    CHECK_INT_EQ(lock_files(), 0);
}

static void test_8b_timeout_leaves_nothing(void)
{
    libxl_ctx *ctx = setup_with(true);  /* the backend never answers */
    char *before = xs_children("/libxl/1"), *after;

    CHECK_INT_EQ(add_ctrl(ctx, GUEST, 0, 0), ERROR_TIMEDOUT);
    CHECK(!xs_has("/libxl/1/device"));
    after = xs_children("/libxl/1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);
}

static void test_8b_remove_leaves_nothing(void)
{
    libxl_ctx *ctx = setup();
    char *before = xs_children("/libxl/1"), *after;

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 0), 0);
    CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 0), 0);
    CHECK(!xs_has("/libxl/1/device"));
    after = xs_children("/libxl/1");
    CHECK_STR_EQ(after, before);
    free(before);
    free(after);
}

static void test_8c_no_record_after_detach(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_stick(ctx, GUEST, -1, 0), 0);
    CHECK(xs_has(STICK_REC));
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);
}

/* Left by another toolstack: a record naming a controller that is gone
 * (guest 1 has none), and the interface's original driver. */
static void test_8c_stale_record_cleared(void)
{
    libxl_ctx *ctx = setup();

    xs_put(STICK_REC "/owner", "1/3/1");
    xs_put(STICK_DRVREC, DRV "usb-storage");
    CHECK_INT_EQ(add_stick(ctx, OTHER, -1, 0), 0);
    CHECK_XS(STICK_REC "/owner", "2/0/1");
    CHECK_INT_EQ(remove_dev(ctx, OTHER, 0, 1), 0);
    check_released(STICK, STICK_IF, "usb-storage", STICK_REC);
}

static const struct test tests[] = {
    { "5a: attach refused while the held device's record is missing",
      test_5a_record_missing },
    { "5a: attach refused while the held device's record is corrupt",
      test_5a_record_corrupt },
    { "5b: usb-rebind refused for a held device without record",
      test_5b_rebind_refused },
    { "5c: a device xl gave a guest (no record) is not given again",
      test_5c_given_by_xl },
    { "5c: a device QEMU claimed for a qusb guest is not given again",
      test_5c_claimed_by_qemu },
    { "5c: a device a host program claimed (usbfs) is refused",
      test_5c_claimed_by_host_program },
    { "5c: a leftover on usbback held by nobody may be attached",
      test_5c_leftover_attachable },
    { "6a: another guest's busid on a driver domain's port: not listed",
      test_6a_forged_not_listed },
    { "6a: ... usbdev-detach of that port leaves the device alone",
      test_6a_forged_usbdev_detach },
    { "6a: ... usbctrl-detach succeeds, leaves the device alone",
      test_6a_forged_usbctrl_detach },
    { "6a: ... destroy_all succeeds, leaves the device alone",
      test_6a_forged_destroy_all },
    { "6b: malformed busid on a driver domain's port: listing works",
      test_6b_malformed_listed },
    { "6b: ... usbctrl-detach succeeds", test_6b_malformed_usbctrl_detach },
    { "6b: ... destroy_all succeeds", test_6b_malformed_destroy_all },
    { "6c: attach onto a driver domain's controller is refused",
      test_6c_attach_to_drvdom_refused },
    { "7: destroy_all goes on past a controller that fails",
      test_7_destroy_all_goes_on },
    { "7: destroy_all after the domain died gives every device back",
      test_7_destroy_all_domain_gone },
    { "8a: no lock file is left after attach, detach, usbctrl-detach",
      test_8a_no_lock_files },
    { "8b: a backend timeout leaves no /libxl/<domid>/device",
      test_8b_timeout_leaves_nothing },
    { "8b: controller add and remove leave no /libxl/<domid>/device",
      test_8b_remove_leaves_nothing },
    { "8c: no host-side record remains after a detach",
      test_8c_no_record_after_detach },
    { "8c: a stale record of another toolstack is gone after a cycle",
      test_8c_stale_record_cleared },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
