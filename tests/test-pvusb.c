/*
 * test-pvusb.c - the PVUSB API on the real xenstored, the fake sysfs and
 * the simulated backend: layout, flows, errors, rollback, crash-only
 * detach, guest forgeries, concurrency.
 *
 * Host devices (tests/sysfs): keyboard 1-1 (bus 1 addr 2, usbhid), stick
 * 1-2 (1/3, usb-storage), composite 2-1 (2/2: usbhid, usbhid,
 * usb-storage), hub 2-2 (2/3), behind-hub 2-2.1 (2/4), root hub usb1 (1/1).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define GUEST 1
#define OTHER 2
#define BE "/local/domain/0/backend/vusb/1/0"
#define FE "/local/domain/1/device/vusb/0"
#define PRIV "/libxl/1/device/vusb/0"

static const char *state_dir;

static libxl_ctx *setup_with(bool silent_backend)
{
    static const char *const trees[] = { "base", "keyboard", "stick",
                                         "composite", "hub", "behind-hub" };
    size_t i;

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    fakedom_create(OTHER, "guest2", "pv");
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    state_dir = test_state_dir();
    simbackend_start(silent_backend);
    return test_ctx();
}

static libxl_ctx *setup(void)
{
    return setup_with(false);
}

static int add_ctrl(libxl_ctx *ctx, uint32_t domid, int devid, int ports)
{
    return usbctrl_add_at(ctx, domid, devid, LIBXL_USBCTRL_TYPE_PV, ports, 0,
                          0);
}

static int add_dev(libxl_ctx *ctx, uint32_t domid, int bus, int addr,
                   int ctrl, int port)
{
    return usbdev_add_at(ctx, domid, bus, addr, ctrl, port, 0);
}

static int remove_dev(libxl_ctx *ctx, uint32_t domid, int ctrl, int port)
{
    return usbdev_remove_at(ctx, domid, ctrl, port);
}

static int remove_ctrl(libxl_ctx *ctx, uint32_t domid, int devid,
                       bool destroy)
{
    libxl_device_usbctrl c;
    int rc;

    libxl_device_usbctrl_init(&c);
    c.devid = devid;
    rc = destroy ? libxl_device_usbctrl_destroy(ctx, domid, &c, NULL)
                 : libxl_device_usbctrl_remove(ctx, domid, &c, NULL);
    libxl_device_usbctrl_dispose(&c);
    return rc;
}

/* The persisted configuration of a domain, from its file. */
static void read_config(uint32_t domid, libxl_domain_usb_config *cfg)
{
    char path[256], *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s.json", state_dir,
             fakedom_uuid(domid));
    libxl_domain_usb_config_init(cfg);
    f = fopen(path, "r");
    if (!f) return;     /* never written: empty */
    ASSERT(!fseek(f, 0, SEEK_END));
    n = ftell(f);
    rewind(f);
    buf = calloc(1, n + 1);
    ASSERT(buf && fread(buf, 1, n, f) == (size_t)n);
    fclose(f);
    ASSERT_INT_EQ(libxl_domain_usb_config_from_json(NULL, cfg, buf), 0);
    free(buf);
}

/* Exactly the nodes of a new 4-port PV controller 0 of GUEST. */
static void check_ctrl_layout(void)
{
    char path[128];
    int i;

    CHECK_XS(BE "/frontend", FE);
    CHECK_XS(BE "/frontend-id", "1");
    CHECK_XS(BE "/online", "1");
    CHECK_XS(BE "/state", "2");     /* moved by the simulated backend */
    CHECK_XS(BE "/type", "pv");
    CHECK_XS(BE "/usb-ver", "2");
    CHECK_XS(BE "/num-ports", "4");
    for (i = 1; i <= 4; i++) {
        snprintf(path, sizeof(path), BE "/port/%d", i);
        CHECK_XS(path, "");
    }
    CHECK(!xs_has(BE "/port/5"));
    CHECK_XS(FE "/backend", BE);
    CHECK_XS(FE "/backend-id", "0");
    CHECK_XS(FE "/state", "1");
    CHECK_XS(PRIV "/backend", BE);
    CHECK_XS(PRIV "/frontend", FE);
    CHECK_XS(PRIV "/type", "pv");
    /* backend: owned by the backend, readable by the frontend; frontend
     * the reverse; the private view: dom0 only */
    CHECK_PERMS(BE, "n0,r1");
    CHECK_PERMS(FE, "n1,r0");
    CHECK_PERMS(PRIV, "n0");
}

static void check_ctrl_gone(void)
{
    CHECK(!xs_has(BE));
    CHECK(!xs_has(FE));
    CHECK(!xs_has(PRIV));
}

/* The composite device 2-1 is back on its own drivers, and nothing
 * records it as assigned any more. */
static void check_composite_returned(void)
{
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.1"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/2-1"));
}

/*----- controllers -----*/

static void test_ctrl_add_remove_sync(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c, *list;
    libxl_usbctrlinfo info;
    libxl_domain_usb_config cfg;
    int n;

    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    c.ports = 4;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_INT_EQ(c.devid, 0);
    CHECK_INT_EQ(c.version, 2);
    check_ctrl_layout();

    list = libxl_device_usbctrl_list(ctx, GUEST, &n);
    ASSERT_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].devid, 0);
    CHECK_INT_EQ(list[0].type, LIBXL_USBCTRL_TYPE_PV);
    CHECK_INT_EQ(list[0].version, 2);
    CHECK_INT_EQ(list[0].ports, 4);
    CHECK_INT_EQ(list[0].backend_domid, 0);
    libxl_device_usbctrl_list_free(list, n);

    xs_put(FE "/event-channel", "7");
    xs_put(FE "/urb-ring-ref", "8");
    xs_put(FE "/conn-ring-ref", "9");
    libxl_usbctrlinfo_init(&info);
    ASSERT_INT_EQ(libxl_device_usbctrl_getinfo(ctx, GUEST, &c, &info), 0);
    CHECK_STR_EQ(info.backend, BE);
    CHECK_STR_EQ(info.frontend, FE);
    CHECK_INT_EQ(info.backend_id, 0);
    CHECK_INT_EQ(info.frontend_id, GUEST);
    CHECK_INT_EQ(info.evtch, 7);
    CHECK_INT_EQ(info.ref_urb, 8);
    CHECK_INT_EQ(info.ref_conn, 9);     /* not urb-ring-ref's value */
    CHECK_INT_EQ(info.ports, 4);
    libxl_usbctrlinfo_dispose(&info);

    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 1);
    libxl_domain_usb_config_dispose(&cfg);

    CHECK_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, NULL), 0);
    check_ctrl_gone();
    list = libxl_device_usbctrl_list(ctx, GUEST, &n);
    CHECK_INT_EQ(n, 0);
    CHECK_NULL(list);
    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    libxl_domain_usb_config_dispose(&cfg);
    libxl_device_usbctrl_dispose(&c);
}

static void test_ctrl_add_remove_async(void)
{
    libxl_ctx *ctx = setup();
    struct ao_done d = { false, 1 };
    libxl_asyncop_how how = { .callback = ao_done_callback,
                              .u.for_callback = &d };
    libxl_device_usbctrl c;

    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    c.ports = 4;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, &how), 0);
    CHECK(!d.done);     /* completes from the poll loop, not inside */
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, 0);
    check_ctrl_layout();

    d.done = false;
    d.rc = 1;
    ASSERT_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, &how), 0);
    CHECK(!d.done);
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, 0);
    check_ctrl_gone();

    /* an error is reported through the callback too */
    d.done = false;
    d.rc = 1;
    c.devid = 5;
    ASSERT_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, &how), 0);
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, ERROR_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);
}

static void test_ctrl_defaults(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;

    libxl_device_usbctrl_init(&c);   /* AUTO, devid -1, version/ports 0 */
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_PV);  /* usbback is loaded */
    CHECK_INT_EQ(c.devid, 0);
    CHECK_INT_EQ(c.version, 2);
    CHECK_INT_EQ(c.ports, 8);
    libxl_device_usbctrl_dispose(&c);

    CHECK_INT_EQ(add_ctrl(ctx, GUEST, 3, 1), 0);
    libxl_device_usbctrl_init(&c);
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_INT_EQ(c.devid, 1);       /* the lowest free */
    libxl_device_usbctrl_dispose(&c);

    libxl_device_usbctrl_init(&c);
    c.backend_domname = strdup("Domain-0");
    c.version = 1;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, OTHER, &c, NULL), 0);
    CHECK_INT_EQ(c.backend_domid, 0);
    CHECK_XS("/local/domain/0/backend/vusb/2/0/usb-ver", "1");
    libxl_device_usbctrl_dispose(&c);
}

static void test_ctrl_bad_input(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;
    int n;

    libxl_device_usbctrl_init(&c);
    c.version = 3;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_INVAL);
    c.version = 0;
    c.ports = 32;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_INVAL);
    c.ports = -1;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_INVAL);
    c.ports = 0;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, 99, &c, NULL),
                 ERROR_DOMAIN_NOTFOUND);
    c.backend_domid = 98;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_DOMAIN_NOTFOUND);
    c.backend_domid = 0;
    c.backend_domname = strdup("nosuchdomain");
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_DOMAIN_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);
    CHECK(!xs_has("/local/domain/0/backend/vusb"));
    CHECK(!xs_has("/libxl/1/device"));
    libxl_device_usbctrl_list_free(libxl_device_usbctrl_list(ctx, GUEST, &n),
                                   n);
    CHECK_INT_EQ(n, 0);

    CHECK_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    CHECK_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), ERROR_DEVICE_EXISTS);
    CHECK_XS(BE "/num-ports", "4");
    CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 6, false), ERROR_NOTFOUND);
}

static void test_ctrl_timeout(void)
{
    libxl_ctx *ctx = setup_with(true);  /* the backend never answers */
    libxl_domain_usb_config cfg;

    CHECK_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), ERROR_TIMEDOUT);
    check_ctrl_gone();
    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    libxl_domain_usb_config_dispose(&cfg);
}

static void test_ctrl_destroy_no_wait(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 0), 0);
    simbackend_stop();              /* nobody would close it */
    CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 0, true), 0);
    check_ctrl_gone();
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    CHECK(!xs_has("/libxl/usbback/1-1"));
}

static void test_ctrl_types(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;

    /* qusb needs a QEMU serving it */
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_QUSB;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_INVAL);
    CHECK(!xs_has("/local/domain/0/backend/qusb"));
    xs_put("/local/domain/0/device-model/1/backends/qusb", "");
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_XS("/local/domain/0/backend/qusb/1/0/type", "qusb");
    CHECK_XS(FE "/backend", "/local/domain/0/backend/qusb/1/0");
    libxl_device_usbctrl_dispose(&c);

    /* without usbback: pv is refused, auto picks qusb */
    sysfs_remove_driver("usbback");
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL),
                 ERROR_INVAL);
    c.type = LIBXL_USBCTRL_TYPE_AUTO;
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_QUSB);
    libxl_device_usbctrl_dispose(&c);

    /* hvm: devicemodel, which needs the guest's QEMU; none runs here
     * (test-qmp.c has one) */
    fakedom_create(3, "hvm1", "hvm");
    libxl_device_usbctrl_init(&c);
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, 3, &c, NULL), ERROR_NOTFOUND);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK(!xs_has("/libxl/3/device/vusb"));
    libxl_device_usbctrl_dispose(&c);
}

static void test_destroy_all(void)
{
    libxl_ctx *ctx = setup();
    libxl_domain_usb_config cfg;

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 1, 4), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, 1, 2), 0);
    ASSERT_INT_EQ(add_dev(ctx, OTHER, 1, 3, -1, 0), 0);
    simbackend_stop();
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    check_ctrl_gone();
    CHECK(!xs_has("/libxl/1/device/vusb"));
    CHECK(!xs_has("/local/domain/0/backend/vusb/1"));
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    /* what it had is gone from the file; what it declares stays */
    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    CHECK_INT_EQ(cfg.num_usbdevs, 0);
    CHECK_INT_EQ(cfg.num_declared_usbctrls, 2);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);
    /* the other domain keeps its own */
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    read_config(OTHER, &cfg);
    CHECK_INT_EQ(cfg.num_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);
}

/* A logger that counts the messages at error level or above. */
struct error_counter {
    xentoollog_logger vtable;
    int errors;
};

static void count_errors(xentoollog_logger *lg, xentoollog_level level,
                         int errnoval, const char *context,
                         const char *format, va_list al)
{
    (void)errnoval, (void)context, (void)format, (void)al;
    if (level >= XTL_ERROR)
        ((struct error_counter *)lg)->errors++;
}

static void no_destroy(xentoollog_logger *lg)
{
    (void)lg;
}

static void test_rebind_after_domain_died(void)
{
    libxl_ctx *ctx = setup();
    struct error_counter counter = {
        .vtable = { .vmessage = count_errors, .destroy = no_destroy } };
    libxl_usb_hostdev *h;
    libxl_ctx *quiet;
    int n;

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 2, 2, -1, 0), 0);
    /* the toolstack that destroys a domain removes its entries */
    xs_del("/local/domain/0/backend/vusb/1");
    xs_del("/libxl/1");
    fakedom_destroy(GUEST);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbback");
    /* the stale record is not an error when listing... */
    ASSERT_INT_EQ(libxl_ctx_alloc(&quiet, LIBXL_VERSION, 0, &counter.vtable),
                  0);
    h = libxl_usb_hostdev_list(quiet, &n);
    libxl_usb_hostdev_list_free(h, n);
    libxl_ctx_free(quiet);
    CHECK_INT_EQ(counter.errors, 0);
    /* ...and does not block another domain... */
    ASSERT_INT_EQ(add_dev(ctx, OTHER, 1, 3, -1, 0), 0);
    /* ...and usb-rebind gives the device back to the host */
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "2-1", NULL), 0);
    check_composite_returned();
}

/*----- devices -----*/

static void test_dev_add_remove(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbdev *list, d;
    libxl_domain_usb_config cfg;
    char *busid = NULL;
    int n;

    /* no controller yet: one is made */
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, -1, 0), 0);
    CHECK_XS("/local/domain/0/backend/vusb/1/0/port/1", "1-1");
    CHECK_XS("/local/domain/0/backend/vusb/1/0/num-ports", "8");
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbback");
    CHECK_XS("/libxl/usbback/1-1/1-1@1_0/driver_path",
             "/sys/bus/usb/drivers/usbhid");
    CHECK_XS("/libxl/usbback/1-1/owner", "1/0/1");
    CHECK_PERMS("/libxl/usbback/1-1", "n0");

    list = libxl_device_usbdev_list(ctx, GUEST, &n);
    ASSERT_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].ctrl, 0);
    CHECK_INT_EQ(list[0].port, 1);
    CHECK_INT_EQ(list[0].type, LIBXL_USBDEV_TYPE_HOSTDEV);
    CHECK_INT_EQ(list[0].u.hostdev.hostbus, 1);
    CHECK_INT_EQ(list[0].u.hostdev.hostaddr, 2);
    libxl_device_usbdev_list_free(list, n);

    libxl_device_usbdev_init(&d);
    ASSERT_INT_EQ(libxl_ctrlport_to_device_usbdev(ctx, GUEST, 0, 1, &d), 0);
    CHECK_INT_EQ(d.u.hostdev.hostaddr, 2);
    libxl_device_usbdev_dispose(&d);
    ASSERT_INT_EQ(libxl_ctrlport_to_usb_busid(ctx, GUEST, 0, 1, &busid), 0);
    CHECK_STR_EQ(busid, "1-1");
    free(busid);

    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 1);
    ASSERT_INT_EQ(cfg.num_usbdevs, 1);
    CHECK_INT_EQ(cfg.usbdevs[0].u.hostdev.hostbus, 1);
    CHECK_INT_EQ(cfg.usbdevs[0].u.hostdev.hostaddr, 2);
    libxl_domain_usb_config_dispose(&cfg);

    /* the stick on the next free port */
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3, -1, 0), 0);
    CHECK_XS("/local/domain/0/backend/vusb/1/0/port/2", "1-2");

    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
    CHECK_XS("/local/domain/0/backend/vusb/1/0/port/1", "");
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    CHECK(!xs_has("/libxl/usbback/1-1"));
    read_config(GUEST, &cfg);
    ASSERT_INT_EQ(cfg.num_usbdevs, 1);
    CHECK_INT_EQ(cfg.usbdevs[0].port, 2);
    libxl_domain_usb_config_dispose(&cfg);
    list = libxl_device_usbdev_list(ctx, GUEST, &n);
    CHECK_INT_EQ(n, 1);
    libxl_device_usbdev_list_free(list, n);
}

static void test_dev_async(void)
{
    libxl_ctx *ctx = setup();
    struct ao_done d = { false, 1 };
    libxl_asyncop_how how = { .callback = ao_done_callback,
                              .u.for_callback = &d };
    libxl_device_usbdev dev;

    libxl_device_usbdev_init(&dev);
    libxl_device_usbdev_init_type(&dev, LIBXL_USBDEV_TYPE_HOSTDEV);
    dev.u.hostdev.hostbus = 1;
    dev.u.hostdev.hostaddr = 3;
    ASSERT_INT_EQ(libxl_device_usbdev_add(ctx, GUEST, &dev, &how), 0);
    CHECK(!d.done);
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, 0);
    CHECK_INT_EQ(dev.ctrl, 0);
    CHECK_INT_EQ(dev.port, 1);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");

    d.done = false;
    d.rc = 1;
    ASSERT_INT_EQ(libxl_device_usbdev_remove(ctx, GUEST, &dev, &how), 0);
    CHECK(!d.done);
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, 0);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");

    d.done = false;
    ASSERT_INT_EQ(libxl_device_usbdev_rebind(ctx, "1-2", &how), 0);
    ASSERT(test_poll_until(ctx, &d.done, 5000));
    CHECK_INT_EQ(d.rc, 0);
    libxl_device_usbdev_dispose(&dev);
}

static void test_dev_composite(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 2, 2, 0, 3), 0);
    CHECK_XS(BE "/port/3", "2-1");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbback");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.1"), "usbback");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usbback");
    CHECK_XS("/libxl/usbback/2-1/2-1@1_2/driver_path",
             "/sys/bus/usb/drivers/usb-storage");
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 3), 0);
    check_composite_returned();
}

static void test_dev_behind_hub(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 2, 4, -1, 0), 0);
    CHECK_XS(BE "/port/1", "2-2.1");
    CHECK_XS("/libxl/usbback/2-2_1/owner", "1/0/1");
    CHECK_XS("/libxl/usbback/2-2_1/2-2_1@1_0/driver_path",
             "/sys/bus/usb/drivers/usb-storage");
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
    CHECK_STR_EQ(sysfs_driver_of("2-2.1:1.0"), "usb-storage");
}

static void test_dev_bad_input(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 2, 3, -1, 0), ERROR_INVAL);  /* hub */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 1, -1, 0), ERROR_INVAL);  /* root */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 9, 9, -1, 0), ERROR_NOTFOUND);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 0, 0, -1, 0), ERROR_INVAL);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 5), ERROR_INVAL);  /* range */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 2, -1, 2), ERROR_INVAL); /* no ctrl */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 2, 7, 0), ERROR_NOTFOUND);
    CHECK_INT_EQ(add_dev(ctx, 99, 1, 2, -1, 0), ERROR_DOMAIN_NOTFOUND);
    CHECK_XS(BE "/port/1", "");
    CHECK(!xs_has("/libxl/usbback/1-1"));
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 2), 0);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 3, 0, 2), ERROR_INVAL);  /* taken */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 3), ERROR_DEVICE_EXISTS);
    ASSERT_INT_EQ(add_ctrl(ctx, OTHER, 0, 2), 0);
    CHECK_INT_EQ(add_dev(ctx, OTHER, 1, 2, 0, 1), ERROR_DEVICE_EXISTS);
    CHECK_XS("/local/domain/0/backend/vusb/2/0/port/1", "");
    CHECK_XS(BE "/port/2", "1-1");
    CHECK_XS(BE "/port/3", "");

    CHECK_INT_EQ(remove_dev(ctx, GUEST, 7, 1), ERROR_NOTFOUND);
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), ERROR_NOTFOUND);
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 99), ERROR_INVAL);
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 0), ERROR_INVAL);
    CHECK_XS(BE "/port/2", "1-1");
}

static void test_dev_bind_refused(void)
{
    libxl_ctx *ctx = setup();
    libxl_domain_usb_config cfg;

    /* the "kernel" refuses usbback */
    sysfs_inject("/sys/bus/usb/drivers/usbback/bind", ENODEV, -1);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 2, 2, -1, 0), ERROR_FAIL);
    check_composite_returned();
    check_ctrl_gone();      /* the controller made for it is gone too */
    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    CHECK_INT_EQ(cfg.num_usbdevs, 0);
    libxl_domain_usb_config_dispose(&cfg);

    /* on an existing controller: the controller stays, the port is free */
    sysfs_inject_clear();
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    sysfs_inject("/sys/bus/usb/drivers/usbback/bind", EIO, -1);
    CHECK_INT_EQ(add_dev(ctx, GUEST, 1, 3, 0, 0), ERROR_FAIL);
    CHECK_XS(BE "/port/1", "");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
}

static void test_dev_rebind_later(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3, -1, 0), 0);
    sysfs_inject("/sys/bus/usb/drivers/usb-storage/bind", EIO, 1);
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), ERROR_FAIL);
    /* no longer the guest's, but without its driver: the record stays */
    CHECK_XS(BE "/port/1", "");
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));
    CHECK_XS("/libxl/usbback/1-2/1-2@1_0/driver_path",
             "/sys/bus/usb/drivers/usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2/owner"));

    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "1-2", NULL), 0);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2"));
    /* nothing to do is fine; nonsense is not */
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "1-2", NULL), 0);
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "../x", NULL), ERROR_INVAL);
    /* an assigned device is detached, not rebound */
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3, -1, 0), 0);
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "1-2", NULL),
                 ERROR_DEVICE_EXISTS);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
}

static void test_dev_remove_rerun(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 2, 2, -1, 0), 0);
    /* step 1 fails half-way: the device stays the guest's */
    sysfs_inject("/sys/bus/usb/drivers/usbback/unbind", EIO, 1);
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), ERROR_FAIL);
    CHECK_XS(BE "/port/1", "2-1");
    CHECK_XS("/libxl/usbback/2-1/owner", "1/0/1");
    /* re-run: finishes the job */
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
    CHECK_XS(BE "/port/1", "");
    check_composite_returned();
}

static void test_dev_unplugged(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbdev *list;
    char *busid = NULL;
    int n;

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3, -1, 0), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, -1, 0), 0);
    sysfs_unplug("1-2");
    list = libxl_device_usbdev_list(ctx, GUEST, &n);
    ASSERT_INT_EQ(n, 2);
    CHECK_INT_EQ(list[0].port, 1);
    CHECK_INT_EQ(list[0].u.hostdev.hostbus, 0);
    CHECK_INT_EQ(list[0].u.hostdev.hostaddr, 0);
    CHECK_INT_EQ(list[1].u.hostdev.hostaddr, 2);
    libxl_device_usbdev_list_free(list, n);
    ASSERT_INT_EQ(libxl_ctrlport_to_usb_busid(ctx, GUEST, 0, 1, &busid), 0);
    CHECK_STR_EQ(busid, "1-2");
    free(busid);
    /* other attaches are not disturbed by it */
    CHECK_INT_EQ(add_dev(ctx, GUEST, 2, 2, -1, 0), 0);

    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
    CHECK_XS(BE "/port/1", "");
    CHECK(!xs_has("/libxl/usbback/1-2"));
}

/* Unplugged while it is being detached: just before its interface goes
 * back to usb-storage, or just before it leaves usbback.  Nothing is left
 * to give back: the detach succeeds and forgets it. */
static void test_dev_unplugged_during_detach(void)
{
    static const char *const at[] = {
        "/sys/bus/usb/drivers/usb-storage/bind",
        "/sys/bus/usb/drivers/usbback/unbind",
    };
    libxl_ctx *ctx = setup();
    char *dev;
    unsigned int i;

    ASSERT(asprintf(&dev, "%s/sys/bus/usb/devices/1-2", sysfs_root()) > 0);
    for (i = 0; i < ARRAY_LEN(at); i++) {
        if (i) sysfs_replug("stick", 5);
        ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3 + 2 * i, -1, 0), 0);
        sysfs_inject_unplug(at[i], "1-2");
        CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), 0);
        CHECK_XS(BE "/port/1", "");
        CHECK(!xs_has("/libxl/usbback/1-2"));
        CHECK(access(dev, F_OK));
    }
    free(dev);
}

static void test_ctrl_remove_with_devices(void)
{
    libxl_ctx *ctx = setup();
    libxl_domain_usb_config cfg;

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 1), 0);
    ASSERT_INT_EQ(add_dev(ctx, GUEST, 2, 2, 0, 4), 0);
    CHECK_INT_EQ(remove_ctrl(ctx, GUEST, 0, false), 0);
    check_ctrl_gone();
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-1"));
    CHECK(!xs_has("/libxl/usbback/2-1"));
    read_config(GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    CHECK_INT_EQ(cfg.num_usbdevs, 0);
    libxl_domain_usb_config_dispose(&cfg);
}

/*----- the guest forges its frontend -----*/

static void test_forged_frontend(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c, *list;
    libxl_usbctrlinfo info;
    int n;

    ASSERT_INT_EQ(add_ctrl(ctx, OTHER, 0, 2), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    xs_put(FE "/backend", "/local/domain/0/backend/vusb/2/0");
    xs_put(FE "/backend-id", "99999999999999999999");
    xs_put(FE "/event-channel", "12abc");
    xs_put(FE "/conn-ring-ref", "-5");
    xs_del(FE "/state");

    list = libxl_device_usbctrl_list(ctx, GUEST, &n);
    ASSERT_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].backend_domid, 0);
    CHECK_INT_EQ(list[0].ports, 4);
    libxl_device_usbctrl_list_free(list, n);

    libxl_device_usbctrl_init(&c);
    c.devid = 0;
    libxl_usbctrlinfo_init(&info);
    ASSERT_INT_EQ(libxl_device_usbctrl_getinfo(ctx, GUEST, &c, &info), 0);
    CHECK_STR_EQ(info.backend, BE);
    CHECK_INT_EQ(info.backend_id, 0);
    CHECK_INT_EQ(info.state, -1);
    CHECK_INT_EQ(info.evtch, -1);
    CHECK_INT_EQ(info.ref_conn, -1);
    libxl_usbctrlinfo_dispose(&info);

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 2, 0, 0), 0);
    CHECK_XS(BE "/port/1", "1-1");
    CHECK_XS("/local/domain/0/backend/vusb/2/0/port/1", "");

    CHECK_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, NULL), 0);
    check_ctrl_gone();
    CHECK(xs_has("/local/domain/0/backend/vusb/2/0/port/1"));
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    libxl_device_usbctrl_dispose(&c);
}

static void test_forged_driver_path(void)
{
    static const char *const forged[] = {
        "/tmp", "/sys/bus/usb/drivers/../../../../tmp",
        "/sys/bus/usb/drivers/usbhid/../../drivers/usbhid",
        "/sys/bus/usb/drivers", "/sys/bus/usb/drivers/",
        "/sys/bus/usb/drivers/nosuchdriver", "relative/usbhid", "",
    };
    const char *rec = "/libxl/usbback/1-2/1-2@1_0/driver_path";
    libxl_ctx *ctx = setup();
    size_t i;

    ASSERT_INT_EQ(add_dev(ctx, GUEST, 1, 3, -1, 0), 0);
    xs_put(rec, "/tmp");
    /* detach: the device leaves the guest; the forged record is refused */
    CHECK_INT_EQ(remove_dev(ctx, GUEST, 0, 1), ERROR_FAIL);
    CHECK_XS(BE "/port/1", "");
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));
    for (i = 0; i < ARRAY_LEN(forged); i++) {
        xs_put(rec, forged[i]);
        if (libxl_device_usbdev_rebind(ctx, "1-2", NULL) != ERROR_FAIL)
            tap_fail(__FILE__, __LINE__, "driver_path \"%s\" accepted",
                     forged[i]);
        CHECK_NULL(sysfs_driver_of("1-2:1.0"));
        CHECK_XS(rec, forged[i]);
    }
    CHECK(access("/tmp/bind", F_OK));
    xs_put(rec, "/sys/bus/usb/drivers/usb-storage");
    CHECK_INT_EQ(libxl_device_usbdev_rebind(ctx, "1-2", NULL), 0);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
}

/*----- two processes, one device -----*/

static void test_concurrent_attach(void)
{
    libxl_ctx *ctx = setup();
    int go[2], i, status, ok = 0, exists = 0;
    pid_t pids[2];
    char c;

    ASSERT_INT_EQ(add_ctrl(ctx, GUEST, 0, 4), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, OTHER, 0, 4), 0);
    ASSERT(!pipe(go));
    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        ASSERT(pids[i] >= 0);
        if (!pids[i]) {
            xentoollog_logger_stdiostream *lg;
            libxl_ctx *own = NULL;
            int rc;

            close(go[1]);
            if (read(go[0], &c, 1) < 0) _exit(100);
            lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
            if (!lg ||
                libxl_ctx_alloc(&own, LIBXL_VERSION, 0,
                                (xentoollog_logger *)lg))
                _exit(101);
            rc = add_dev(own, i ? OTHER : GUEST, 2, 2, 0, 0);
            libxl_ctx_free(own);
            xtl_logger_destroy((xentoollog_logger *)lg);
            _exit(-rc);
        }
    }
    close(go[0]);
    close(go[1]);           /* both start now */
    for (i = 0; i < 2; i++) {
        ASSERT(waitpid(pids[i], &status, 0) == pids[i]);
        ASSERT(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0) ok++;
        else if (WEXITSTATUS(status) == -ERROR_DEVICE_EXISTS) exists++;
        else tap_fail(__FILE__, __LINE__, "attach exited %d",
                      WEXITSTATUS(status));
    }
    CHECK_INT_EQ(ok, 1);
    CHECK_INT_EQ(exists, 1);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbback");
}

/*----- the host side and lookups -----*/

static void test_hostdev_list_and_lookups(void)
{
    libxl_ctx *ctx = setup();
    libxl_usb_hostdev *h;
    libxl_device_usbctrl c;
    uint32_t *domids;
    int i, n;

    ASSERT_INT_EQ(add_dev(ctx, OTHER, 2, 2, -1, 0), 0);
    h = libxl_usb_hostdev_list(ctx, &n);
    ASSERT_INT_EQ(n, 7);
    for (i = 1; i < n; i++)
        CHECK(strcmp(h[i - 1].busid, h[i].busid) < 0);
    for (i = 0; i < n; i++) {
        if (!strcmp(h[i].busid, "2-1")) {
            CHECK_INT_EQ(h[i].domid, OTHER);
            CHECK_INT_EQ(h[i].ctrl, 0);
            CHECK_INT_EQ(h[i].port, 1);
            CHECK_INT_EQ(h[i].num_interfaces, 3);
            CHECK_STR_EQ(h[i].drivers, "usbback,usbback,usbback");
            CHECK(!h[i].hub);
        } else if (!strcmp(h[i].busid, "1-2")) {
            CHECK_INT_EQ(h[i].domid, -1);
            CHECK_STR_EQ(h[i].serial, "STICK0001");
            CHECK_STR_EQ(h[i].drivers, "usb-storage");
            CHECK_INT_EQ(h[i].hostbus, 1);
            CHECK_INT_EQ(h[i].hostaddr, 3);
        } else if (!strcmp(h[i].busid, "2-2") ||
                   !strncmp(h[i].busid, "usb", 3)) {
            CHECK(h[i].hub);
        }
    }
    libxl_usb_hostdev_list_free(h, n);

    domids = libxl_usb_list_domains(ctx, &n);
    ASSERT_INT_EQ(n, 1);
    CHECK_INT_EQ(domids[0], OTHER);
    free(domids);

    libxl_device_usbctrl_init(&c);
    CHECK_INT_EQ(libxl_devid_to_device_usbctrl(ctx, OTHER, 0, &c), 0);
    CHECK_INT_EQ(c.ports, 8);
    CHECK_INT_EQ(libxl_devid_to_device_usbctrl(ctx, OTHER, 1, &c),
                 ERROR_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);
}

/* Whether a and b, of type T, are the same as JSON. */
#define SAME_JSON(T, a, b) ({                                           \
    char *ja_ = T##_to_json(NULL, (a)), *jb_ = T##_to_json(NULL, (b));  \
    bool same_ = ja_ && jb_ && !strcmp(ja_, jb_);                       \
    if (!same_)                                                         \
        fprintf(stderr, "# %s\n# vs %s\n", ja_, jb_);                  \
    free(ja_);                                                          \
    free(jb_);                                                          \
    same_;                                                              \
})

/* libxl_usb_domain_list gives what the one-thing calls give, and
 * libxl_usb_hostdev_get the host list's entry of one device. */
static void test_domain_list_and_hostdev_get(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl *ctrls;
    libxl_device_usbdev *devs, *ldevs;
    libxl_usbctrlinfo *infos, info;
    libxl_usb_hostdev *h, one;
    char **busids, *busid;
    int i, n, nctrls, ndevs, nl;

    ASSERT_INT_EQ(add_dev(ctx, OTHER, 2, 2, -1, 0), 0);
    ASSERT_INT_EQ(add_dev(ctx, OTHER, 1, 3, -1, 0), 0);
    ASSERT_INT_EQ(libxl_usb_domain_list(ctx, OTHER, &infos, &nctrls, &devs,
                                        &busids, &ndevs), 0);
    ctrls = libxl_device_usbctrl_list(ctx, OTHER, &n);
    ASSERT_INT_EQ(nctrls, n);
    for (i = 0; i < n; i++) {
        libxl_usbctrlinfo_init(&info);
        CHECK_INT_EQ(libxl_device_usbctrl_getinfo(ctx, OTHER, &ctrls[i],
                                                  &info), 0);
        CHECK(SAME_JSON(libxl_usbctrlinfo, &infos[i], &info));
        libxl_usbctrlinfo_dispose(&info);
        libxl_usbctrlinfo_dispose(&infos[i]);
    }
    free(infos);
    libxl_device_usbctrl_list_free(ctrls, n);
    ldevs = libxl_device_usbdev_list(ctx, OTHER, &nl);
    ASSERT_INT_EQ(ndevs, 2);
    ASSERT_INT_EQ(nl, ndevs);
    for (i = 0; i < ndevs; i++) {
        CHECK(SAME_JSON(libxl_device_usbdev, &devs[i], &ldevs[i]));
        CHECK_INT_EQ(libxl_ctrlport_to_usb_busid(ctx, OTHER, devs[i].ctrl,
                                                 devs[i].port, &busid), 0);
        CHECK_STR_EQ(busids[i], busid);
        free(busid);
        free(busids[i]);
    }
    free(busids);
    libxl_device_usbdev_list_free(devs, ndevs);
    libxl_device_usbdev_list_free(ldevs, nl);

    h = libxl_usb_hostdev_list(ctx, &n);
    ASSERT_INT_EQ(n, 7);
    for (i = 0; i < n; i++) {
        libxl_usb_hostdev_init(&one);
        CHECK_INT_EQ(libxl_usb_hostdev_get(ctx, h[i].busid, &one), 0);
        CHECK(SAME_JSON(libxl_usb_hostdev, &one, &h[i]));
        libxl_usb_hostdev_dispose(&one);
    }
    libxl_usb_hostdev_list_free(h, n);
    libxl_usb_hostdev_init(&one);
    CHECK_INT_EQ(libxl_usb_hostdev_get(ctx, "1-2/../2-1", &one),
                 ERROR_INVAL);
    CHECK(libxl_usb_hostdev_get(ctx, "9-9", &one) != 0);
    libxl_usb_hostdev_dispose(&one);

    /* a domain without controllers: nothing, and success */
    ASSERT_INT_EQ(libxl_usb_domain_list(ctx, GUEST, &infos, &nctrls, &devs,
                                        &busids, &ndevs), 0);
    CHECK_INT_EQ(nctrls, 0);
    CHECK_INT_EQ(ndevs, 0);
    free(infos);
}

/* The drivers of busid in a fresh host device list (malloc'd), or NULL. */
static char *hostdev_drivers(libxl_ctx *ctx, const char *busid)
{
    libxl_usb_hostdev *h;
    char *drivers = NULL;
    int i, n;

    h = libxl_usb_hostdev_list(ctx, &n);
    for (i = 0; i < n; i++)
        if (!strcmp(h[i].busid, busid) && h[i].drivers)
            drivers = strdup(h[i].drivers);
    libxl_usb_hostdev_list_free(h, n);
    return drivers;
}

static void test_hostdev_drivers_per_interface(void)
{
    libxl_ctx *ctx = setup();
    char *d;

    CHECK_STR_EQ(d = hostdev_drivers(ctx, "2-1"),
                 "usbhid,usbhid,usb-storage");
    free(d);
    sysfs_unbind("2-1:1.1");
    CHECK_STR_EQ(d = hostdev_drivers(ctx, "2-1"), "usbhid,-,usb-storage");
    free(d);
    sysfs_unbind("2-1:1.0");
    sysfs_unbind("2-1:1.2");
    CHECK_STR_EQ(d = hostdev_drivers(ctx, "2-1"), "-,-,-");
    free(d);
    sysfs_unbind("1-2:1.0");
    CHECK_STR_EQ(d = hostdev_drivers(ctx, "1-2"), "-");
    free(d);
}

static const struct test tests[] = {
    { "controller add/remove, synchronous: layout, perms",
      test_ctrl_add_remove_sync },
    { "controller add/remove with a callback", test_ctrl_add_remove_async },
    { "controller defaults and devid choice", test_ctrl_defaults },
    { "controller bad input leaves nothing", test_ctrl_bad_input },
    { "controller backend timeout leaves nothing", test_ctrl_timeout },
    { "controller destroy does not wait", test_ctrl_destroy_no_wait },
    { "controller types: qusb, pv without usbback, hvm", test_ctrl_types },
    { "destroy_all: every controller, devices back", test_destroy_all },
    { "stale owner after a domain died; rebind",
      test_rebind_after_domain_died },
    { "device add/remove, list, lookups, config", test_dev_add_remove },
    { "device add/remove/rebind with a callback", test_dev_async },
    { "composite device back to exactly its drivers", test_dev_composite },
    { "device behind a hub", test_dev_behind_hub },
    { "device bad input", test_dev_bad_input },
    { "bind refused by the kernel is rolled back", test_dev_bind_refused },
    { "failed rebind is retried by usbdev_rebind", test_dev_rebind_later },
    { "device unplugged during its detach", test_dev_unplugged_during_detach },
    { "a failed detach re-run finishes", test_dev_remove_rerun },
    { "unplugged device: listed and removable", test_dev_unplugged },
    { "controller remove takes its devices back",
      test_ctrl_remove_with_devices },
    { "forged frontend changes nothing", test_forged_frontend },
    { "forged driver_path is refused", test_forged_driver_path },
    { "two processes attach one device: one wins", test_concurrent_attach },
    { "one domain's listing, one host device",
      test_domain_list_and_hostdev_get },
    { "host device list, domains, devid lookup",
      test_hostdev_list_and_lookups },
    { "host device list: one driver per interface, - for none",
      test_hostdev_drivers_per_interface },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
