/*
 * test-decl.c - the declaration (what a domain's uuid should have) as
 * the operations keep it, and libxl_usb_reconcile / _release_orphans
 * making a domain what it declares: after a reboot (same uuid, new
 * domid), an unplug, a replug (new address), another device plugged in
 * at a declared port, a device followed by its serial to another port,
 * a domain's death; dry runs that change nothing; forged declarations.
 * Real xenstored, the fake sysfs, the simulated backend.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

#include "harness.h"

#define GUEST 1
#define OTHER 2
#define REBOOTED 5          /* GUEST after its reboot */
#define STICK_INTF "1-2:1.0"

static const char *state_dir;

/*----- a logger that keeps what it is told -----*/

struct log_keeper {
    xentoollog_logger vtable;
    char *text;
    size_t len;
    /* once a message has hook_on: hook() (then forgotten) */
    const char *hook_on;
    void (*hook)(void);
};

static void keep_message(xentoollog_logger *lg, xentoollog_level level,
                         int errnoval, const char *context,
                         const char *format, va_list al)
{
    struct log_keeper *k = (struct log_keeper *)lg;
    char *msg;
    int n;

    (void)errnoval, (void)context;
    n = vasprintf(&msg, format, al);
    ASSERT(n >= 0);
    k->text = realloc(k->text, k->len + n + 16);
    ASSERT(k->text);
    k->len += sprintf(k->text + k->len, "%s: %s\n",
                      xtl_level_to_string(level), msg);
    if (k->hook_on && strstr(msg, k->hook_on)) {
        k->hook_on = NULL;
        k->hook();
    }
    free(msg);
}

static void keep_nothing(xentoollog_logger *lg)
{
    (void)lg;
}

static struct log_keeper keeper = {
    .vtable = { .vmessage = keep_message, .destroy = keep_nothing } };

/* How many lines of the log since the last log_reset contain s. */
static int log_count(const char *s)
{
    const char *p = keeper.text;
    int n = 0;

    while (p && (p = strstr(p, s))) {
        n++;
        p += strlen(s);
    }
    return n;
}

static void log_reset(void)
{
    free(keeper.text);
    keeper.text = NULL;
    keeper.len = 0;
}

/*----- set up -----*/

static libxl_ctx *setup(void)
{
    static const char *const trees[] = { "base", "keyboard", "stick",
                                         "stick2" };
    size_t i;

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    fakedom_create(OTHER, "guest2", "pv");
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    state_dir = test_state_dir();
    simbackend_start(false);
    return test_ctx_logging_to(&keeper.vtable);
}

static void get_decl(libxl_ctx *ctx, uint32_t domid,
                     libxl_domain_usb_config *cfg)
{
    libxl_domain_usb_config_init(cfg);
    ASSERT_INT_EQ(libxl_usb_declaration_get(ctx, domid, cfg), 0);
}

/* The stick (1-2) on controller 0 port 1 of GUEST, declared. */
static libxl_ctx *setup_stick(unsigned int flags)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_PV, 4, 0, 0), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 1, flags), 0);
    ASSERT(!strcmp(sysfs_driver_of(STICK_INTF), "usbback"));
    return ctx;
}

static char *port_path(uint32_t domid, int port)
{
    static char path[128];

    snprintf(path, sizeof(path),
             "/local/domain/0/backend/vusb/%u/0/port/%d", domid, port);
    return path;
}

static void check_stick_attached(uint32_t domid, const char *busid,
                                 const char *intf)
{
    CHECK_XS(port_path(domid, 1), busid);
    CHECK_STR_EQ(sysfs_driver_of(intf), "usbback");
}

/*----- the declaration as the operations keep it -----*/

static void test_declared(void)
{
    libxl_ctx *ctx = setup_stick(0);
    libxl_domain_usb_config cfg;
    libxl_usbdev_decl *d;

    /* a --live attach and a --live controller are not declared */
    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 1, LIBXL_USBCTRL_TYPE_PV, 4, 0,
                           LIBXL_USB_LIVE), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 2, 0, 2, LIBXL_USB_LIVE), 0);
    get_decl(ctx, GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_usbctrls, 2);
    CHECK_INT_EQ(cfg.num_usbdevs, 2);
    ASSERT_INT_EQ(cfg.num_declared_usbctrls, 1);
    CHECK_INT_EQ(cfg.declared_usbctrls[0].devid, 0);
    CHECK_INT_EQ(cfg.declared_usbctrls[0].type, LIBXL_USBCTRL_TYPE_PV);
    CHECK_INT_EQ(cfg.declared_usbctrls[0].ports, 4);
    ASSERT_INT_EQ(cfg.num_declared_usbdevs, 1);
    d = &cfg.declared_usbdevs[0];
    CHECK_INT_EQ(d->ctrl, 0);
    CHECK_INT_EQ(d->port, 1);
    CHECK_STR_EQ(d->busid, "1-2");
    CHECK_INT_EQ(d->idvendor, 0x0781);
    CHECK_INT_EQ(d->idproduct, 0x5567);
    CHECK_STR_EQ(d->serial, "STICK0001");
    CHECK_INT_EQ(d->mode, LIBXL_USBDEV_DECL_MODE_PORT);
    libxl_domain_usb_config_dispose(&cfg);

    /* a detach drops the device's */
    ASSERT_INT_EQ(usbdev_remove_at(ctx, GUEST, 0, 1), 0);
    get_decl(ctx, GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_declared_usbctrls, 1);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 0);
    libxl_domain_usb_config_dispose(&cfg);

    /* a controller's removal drops its devices' too */
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 3, 0), 0);
    get_decl(ctx, GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);
    {
        libxl_device_usbctrl c;

        libxl_device_usbctrl_init(&c);
        c.devid = 0;
        CHECK_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, NULL), 0);
        libxl_device_usbctrl_dispose(&c);
    }
    get_decl(ctx, GUEST, &cfg);
    CHECK_INT_EQ(cfg.num_declared_usbctrls, 0);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 0);
    libxl_domain_usb_config_dispose(&cfg);
}

static void test_declared_serial(void)
{
    libxl_ctx *ctx = setup();
    libxl_domain_usb_config cfg;

    /* the keyboard has no serial: declared by its port, said so */
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, -1, 0, LIBXL_USB_FOLLOW_SERIAL),
                  0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 2, -1, 0, LIBXL_USB_FOLLOW_SERIAL),
                  0);
    get_decl(ctx, GUEST, &cfg);
    ASSERT_INT_EQ(cfg.num_declared_usbdevs, 2);
    /* the controller made for them is declared too */
    CHECK_INT_EQ(cfg.num_declared_usbctrls, 1);
    CHECK_INT_EQ(cfg.declared_usbdevs[0].mode,
                 LIBXL_USBDEV_DECL_MODE_SERIAL);
    CHECK_INT_EQ(cfg.declared_usbdevs[1].mode, LIBXL_USBDEV_DECL_MODE_PORT);
    CHECK_NULL(cfg.declared_usbdevs[1].serial);
    CHECK_INT_EQ(log_count("has no serial: declared by its port"), 1);
    libxl_domain_usb_config_dispose(&cfg);
}

/*----- reconcile -----*/

static void write_decl(const char *json);

/* GUEST dies (its toolstack removes its entries) and comes back with its
 * uuid as REBOOTED, without USB. */
static void reboot_guest(libxl_ctx *ctx)
{
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    fakedom_destroy(GUEST);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    CHECK(!xs_has("/libxl/5/device/vusb"));
}

static void test_reboot(void)
{
    libxl_ctx *ctx = setup_stick(0);
    libxl_domain_usb_config cfg;
    uint32_t *domids;
    int n;

    reboot_guest(ctx);
    /* listed for reconcile though it has no controller */
    domids = libxl_usb_reconcile_domains(ctx, &n);
    ASSERT_INT_EQ(n, 1);
    CHECK_INT_EQ(domids[0], REBOOTED);
    free(domids);
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    CHECK_INT_EQ(log_count("re-created USB controller 0"), 1);
    CHECK_INT_EQ(log_count("attached USB device 1-2 to controller 0 port 1"),
                 1);
    CHECK_XS("/libxl/5/device/vusb/0/type", "pv");
    check_stick_attached(REBOOTED, "1-2", STICK_INTF);
    /* the operations' own record: not a second declaration */
    get_decl(ctx, REBOOTED, &cfg);
    CHECK_INT_EQ(cfg.num_declared_usbctrls, 1);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 1);
    CHECK_INT_EQ(cfg.num_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);
    /* idempotent */
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    CHECK_INT_EQ(log_count("attached"), 0);
    CHECK_INT_EQ(log_count("re-created"), 0);
}

/* The administrator drops the device's declaration (here: while
 * reconcile makes the controller, before it attaches the device). */
static void drop_stick_decl(void)
{
    write_decl("{\"declared_usbctrls\":[{\"type\":\"pv\",\"devid\":0,"
               "\"version\":2,\"ports\":4}]}");
}

static void test_undeclared_meanwhile(void)
{
    libxl_ctx *ctx = setup_stick(0);

    reboot_guest(ctx);
    log_reset();
    keeper.hook_on = "re-created USB controller 0";
    keeper.hook = drop_stick_decl;
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    CHECK_NULL(keeper.hook_on);
    CHECK_INT_EQ(log_count("port 1 (1-2) is no longer declared; left "
                           "alone"), 1);
    CHECK_INT_EQ(log_count("attached USB device"), 0);
    CHECK_XS(port_path(REBOOTED, 1), "");
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
}

static void test_unplug_replug(void)
{
    libxl_ctx *ctx = setup_stick(0);
    libxl_domain_usb_config cfg;

    sysfs_unplug("1-2");
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("took USB device 1-2 off controller 0 port 1: "
                           "it is unplugged"), 1);
    CHECK_XS(port_path(GUEST, 1), "");
    CHECK(!xs_has("/libxl/usbback/1-2/owner"));
    get_decl(ctx, GUEST, &cfg);             /* still declared */
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);

    /* plugged in again, at a new address: back at the same port */
    sysfs_replug("stick", 9);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("attached USB device 1-2 to controller 0 port 1"),
                 1);
    check_stick_attached(GUEST, "1-2", STICK_INTF);
}

/* Unplugged and plugged in again between two reconciles: the port still
 * names it, the kernel gave it to its host drivers. */
static void test_replug_unseen(void)
{
    libxl_ctx *ctx = setup_stick(0);

    sysfs_unplug("1-2");
    sysfs_replug("stick", 9);
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("it was plugged in again and is on its host "
                           "drivers"), 1);
    CHECK_INT_EQ(log_count("attached USB device 1-2 to controller 0 port 1"),
                 1);
    check_stick_attached(GUEST, "1-2", STICK_INTF);
}

static void test_other_device_refused(void)
{
    libxl_ctx *ctx = setup_stick(0);
    int round, refused = 0;

    /* seen unplugged first, then not (the stick attached again first) */
    for (round = 0; round < 2; round++) {
        if (round) {
            sysfs_set_attr("1-2", "serial", "STICK0001");
            ASSERT_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
            check_stick_attached(GUEST, "1-2", STICK_INTF);
        }
        sysfs_unplug("1-2");
        if (!round)
            CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
        sysfs_replug("stick", 10 + round);
        sysfs_set_attr("1-2", "serial", "OTHER0001");
        log_reset();
        CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
        refused += log_count("USB device 1-2 refused for controller 0 "
                             "port 1");
        CHECK_INT_EQ(log_count("another device is plugged in at its port"),
                     round);
        CHECK_XS(port_path(GUEST, 1), "");
        CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    }
    CHECK_INT_EQ(refused, 2);
    tap_figure("decl: another device at a declared port refused %d of 2",
               refused);
}

/* The other device plugged in while the declared one is still attached
 * (never seen unplugged, on a controller not served by usbback so its
 * drivers say nothing): taken off because its serial is not the
 * declared one. */
static void test_other_device_taken_off(void)
{
    libxl_ctx *ctx = setup();

    xs_put("/local/domain/0/device-model/1/backends/qusb", "");
    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_QUSB, 4, 0, 0), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 1, 0), 0);
    sysfs_unplug("1-2");
    sysfs_replug("stick", 11);
    sysfs_set_attr("1-2", "serial", "OTHER0001");
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("another device is plugged in at its port"), 1);
    CHECK_INT_EQ(log_count("refused for controller 0 port 1"), 1);
    CHECK_XS("/local/domain/0/backend/qusb/1/0/port/1", "");
}

static void test_follow_serial(void)
{
    libxl_ctx *ctx = setup_stick(LIBXL_USB_FOLLOW_SERIAL);

    /* the stick goes; the same stick comes back at 1-3 */
    sysfs_unplug("1-2");
    sysfs_unplug("1-3");
    sysfs_replug("stick2", 12);
    sysfs_set_attr("1-3", "serial", "STICK0001");
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("took USB device 1-2 off"), 1);
    CHECK_INT_EQ(log_count("attached USB device 1-3 to controller 0 port 1"),
                 1);
    check_stick_attached(GUEST, "1-3", "1-3:1.0");
}

/*----- dry runs -----*/

/* Everything xenstored holds, as "path=value" lines. */
static void xs_dump_into(struct xs_handle *h, const char *path, FILE *f)
{
    unsigned int i, n, len;
    char **entries, *v, child[512];

    v = xs_read(h, XBT_NULL, path, &len);
    fprintf(f, "%s=%s\n", path, v ? v : "");
    free(v);
    entries = xs_directory(h, XBT_NULL, path, &n);
    for (i = 0; entries && i < n; i++) {
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path
                 : "", entries[i]);
        xs_dump_into(h, child, f);
    }
    free(entries);
}

/* xenstore, the drivers of the interfaces and the state directory. */
static char *host_snapshot(void)
{
    static const char *const intfs[] = { "1-1:1.0", "1-2:1.0", "1-3:1.0" };
    struct xs_handle *h = xs_test_open();
    char *text, cmd[256], buf[4096];
    size_t len, i, r;
    FILE *f = open_memstream(&text, &len), *p;

    ASSERT(h && f);
    xs_dump_into(h, "/", f);
    for (i = 0; i < ARRAY_LEN(intfs); i++) {
        const char *drv = sysfs_driver_of(intfs[i]);

        fprintf(f, "%s -> %s\n", intfs[i], drv ? drv : "(none)");
    }
    snprintf(cmd, sizeof(cmd), "ls -l --time-style=full-iso %s; cat %s/*",
             state_dir, state_dir);
    p = popen(cmd, "r");
    ASSERT(p);
    while ((r = fread(buf, 1, sizeof(buf), p)))
        fwrite(buf, 1, r, f);
    pclose(p);
    fclose(f);
    xs_close(h);
    return text;
}

static void test_dry_run(void)
{
    libxl_ctx *ctx = setup_stick(0);
    char *before, *after;

    /* a reboot with work to do, and an orphan */
    ASSERT_INT_EQ(usbdev_add_at(ctx, OTHER, 1, 4, -1, 0, 0), 0);
    fakedom_destroy(OTHER);
    reboot_guest(ctx);
    before = host_snapshot();
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 1), 0);
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 1), 0);
    CHECK_INT_EQ(log_count("would re-create USB controller 0"), 1);
    CHECK_INT_EQ(log_count("would attach USB device 1-2 to controller 0 "
                           "port 1"), 1);
    CHECK_INT_EQ(log_count("would give"), 1);
    after = host_snapshot();
    CHECK_STR_EQ(after, before);
    free(after);
    /* and the real run does what the dry run said */
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 0), 0);
    after = host_snapshot();
    CHECK(strcmp(after, before));
    check_stick_attached(REBOOTED, "1-2", STICK_INTF);
    CHECK_STR_EQ(sysfs_driver_of("1-3:1.0"), "usb-storage");
    free(after);
    free(before);
}

/*----- a domain's death -----*/

/* A detach whose rebind failed leaves the device on no driver, its
 * record naming no domain: release_orphans gives it back (what the
 * daemon retries). */
static void test_release_orphans_failed_rebind(void)
{
    libxl_ctx *ctx = setup_stick(0);

    sysfs_inject("/sys/bus/usb/drivers/usb-storage/bind", EIO, 1);
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL),
                 ERROR_FAIL);
    CHECK_NULL(sysfs_driver_of(STICK_INTF));
    CHECK(!xs_has("/libxl/usbback/1-2/owner"));
    log_reset();
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 0), 0);
    CHECK_INT_EQ(log_count("gave USB device 1-2 left off its host drivers "
                           "by a failed rebind, back"), 1);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2"));
}

static void test_release_orphans(void)
{
    libxl_ctx *ctx = setup_stick(0);
    libxl_domain_usb_config cfg;

    /* died, its toolstack gone too: everything left as it was */
    fakedom_destroy(GUEST);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usbback");
    log_reset();
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 0), 0);
    CHECK_INT_EQ(log_count("gave USB device 1-2 of domain 1, which is "
                           "gone, back to its host drivers"), 1);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2"));
    /* its declaration stays, for its uuid */
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    get_decl(ctx, REBOOTED, &cfg);
    CHECK_INT_EQ(cfg.num_declared_usbdevs, 1);
    libxl_domain_usb_config_dispose(&cfg);
    /* nothing left: nothing to do */
    log_reset();
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 0), 0);
    CHECK_INT_EQ(log_count("gave"), 0);
}

/* xl reboot: the old domain lingers, dying, while a backend still maps
 * its pages; it is gone for the devices it held. */
static void test_release_orphans_dying(void)
{
    libxl_ctx *ctx = setup_stick(0);

    fakedom_destroy_dying(GUEST);
    log_reset();
    CHECK_INT_EQ(libxl_usb_release_orphans(ctx, 0), 0);
    CHECK_INT_EQ(log_count("gave USB device 1-2 of domain 1, which is "
                           "gone, back to its host drivers"), 1);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    /* and its uuid's new domain gets the device */
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    check_stick_attached(REBOOTED, "1-2", STICK_INTF);
}

/* Another domain has the declared device: said, not a failure (the
 * device is attached when that domain lets it go). */
static void test_held_by_another(void)
{
    libxl_ctx *ctx = setup_stick(0);

    ASSERT_INT_EQ(usbctrl_add_at(ctx, OTHER, 0, LIBXL_USBCTRL_TYPE_PV, 4, 0,
                                 0), 0);
    ASSERT_INT_EQ(libxl_device_usbdev_remove_flags(ctx, GUEST,
                      &(libxl_device_usbdev){ .ctrl = 0, .port = 1 },
                      LIBXL_USB_LIVE, NULL), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, OTHER, 1, 3, 0, 1, LIBXL_USB_LIVE), 0);
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    CHECK_INT_EQ(log_count("is held by domain 2: attached when it lets it "
                           "go"), 1);
    CHECK_XS("/local/domain/0/backend/vusb/2/0/port/1", "1-2");
    CHECK_XS("/local/domain/0/backend/vusb/1/0/port/1", "");
    ASSERT_INT_EQ(usbdev_remove_at(ctx, OTHER, 0, 1), 0);
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
    check_stick_attached(GUEST, "1-2", STICK_INTF);
}

/*----- backends that cannot serve yet -----*/

static void test_qusb_not_ready(void)
{
    libxl_ctx *ctx = setup();

    xs_put("/local/domain/0/device-model/1/backends/qusb", "");
    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_QUSB, 4, 0, 0), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 1, 0), 0);
    CHECK_INT_EQ(libxl_device_usbctrl_destroy_all(ctx, GUEST, NULL), 0);
    fakedom_destroy(GUEST);
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    /* its QEMU has not announced itself yet */
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), ERROR_NOT_READY);
    CHECK(!xs_has("/libxl/5/device/vusb"));
    xs_put("/local/domain/0/device-model/5/backends/qusb", "");
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    CHECK_XS("/local/domain/0/backend/qusb/5/0/port/1", "1-2");
}

/* A controller the declaration does not hold (xl's, from the guest's
 * config: xl makes it again after a reboot, once the guest's QEMU runs)
 * is waited for. */
static void test_undeclared_ctrl_waited_for(void)
{
    libxl_ctx *ctx = setup();

    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_PV, 4, 0,
                                 LIBXL_USB_LIVE), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 1, 0), 0);
    reboot_guest(ctx);
    log_reset();
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), ERROR_NOT_READY);
    CHECK_INT_EQ(log_count("waits for controller 0"), 1);
    ASSERT_INT_EQ(usbctrl_add_at(ctx, REBOOTED, 0, LIBXL_USBCTRL_TYPE_PV, 4,
                                 0, LIBXL_USB_LIVE), 0);
    CHECK_INT_EQ(libxl_usb_reconcile(ctx, REBOOTED, 0), 0);
    check_stick_attached(REBOOTED, "1-2", STICK_INTF);
}

/*----- forged declarations -----*/

static void write_decl(const char *json)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.json", state_dir,
             fakedom_uuid(GUEST));
    f = fopen(path, "w");
    ASSERT(f && fputs(json, f) >= 0 && !fclose(f));
}

static void test_forged(void)
{
    static const struct {
        const char *json, *why;
    } forged[] = {
        { "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":1,"
          "\"busid\":\"../../x\",\"idvendor\":1921,\"idproduct\":21863}]}",
          "its busid is not a USB busid" },
        { "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":99999,"
          "\"busid\":\"1-2\",\"idvendor\":1921,\"idproduct\":21863}]}",
          "no such port" },
        { "{\"declared_usbdevs\":[{\"ctrl\":-7,\"port\":1,"
          "\"busid\":\"1-2\",\"idvendor\":1921,\"idproduct\":21863}]}",
          "no controller" },
        { "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":1,\"busid\":\"1-2\","
          "\"mode\":\"serial\",\"idvendor\":1921,\"idproduct\":21863}]}",
          "mode serial needs a serial" },
        { "{\"declared_usbctrls\":[{\"type\":\"pv\",\"devid\":0,"
          "\"version\":2,\"ports\":1000}]}",
          "is not a controller this library makes" },
        { "{\"declared_usbctrls\":[{\"type\":\"pv\",\"devid\":0,"
          "\"version\":7,\"ports\":4}]}",
          "is not a controller this library makes" },
    };
    static const char *const bad_json[] = {
        "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":\"one\"}]}",
        "{\"declared_usbdevs\":{\"ctrl\":0}}",
        "{\"declared_usbctrls\":[{\"type\":\"floppy\",\"devid\":0}]}",
        "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":1,\"mode\":\"any\"}]}",
        "{\"declared_usbdevs\":[{\"ctrl\":0,\"port\":1,\"idvendor\":70000}]}",
    };
    libxl_ctx *ctx = setup();
    size_t i;
    int refused = 0, invalid = 0;

    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, LIBXL_USBCTRL_TYPE_PV, 4, 0,
                           LIBXL_USB_LIVE), 0);
    for (i = 0; i < ARRAY_LEN(forged); i++) {
        write_decl(forged[i].json);
        log_reset();
        CHECK_INT_EQ(libxl_usb_reconcile(ctx, GUEST, 0), 0);
        if (log_count(forged[i].why) >= 1 && log_count("refused") >= 1)
            refused++;
        else
            tap_fail(__FILE__, __LINE__, "forged %s: not refused for \"%s\"",
                     forged[i].json, forged[i].why);
        CHECK_XS("/local/domain/0/backend/vusb/1/0/port/1", "");
        CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    }
    for (i = 0; i < ARRAY_LEN(bad_json); i++) {
        write_decl(bad_json[i]);
        log_reset();
        if (libxl_usb_reconcile(ctx, GUEST, 0) == ERROR_INVAL &&
            log_count("is not valid"))
            invalid++;
        else
            tap_fail(__FILE__, __LINE__, "bad JSON %s not refused",
                     bad_json[i]);
    }
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    tap_figure("decl: forged declarations refused %d of %zu, bad JSON "
               "refused %d of %zu", refused, ARRAY_LEN(forged), invalid,
               ARRAY_LEN(bad_json));
}

static const struct test tests[] = {
    { "declared on attach, not with live, dropped on detach",
      test_declared },
    { "declared by serial; a device without one by its port",
      test_declared_serial },
    { "reboot: controller made again, device attached again", test_reboot },
    { "a declaration dropped meanwhile is not attached",
      test_undeclared_meanwhile },
    { "unplug: taken off, declaration kept; replug: back", test_unplug_replug },
    { "replug unseen: taken off and attached again", test_replug_unseen },
    { "another device at the declared port: refused",
      test_other_device_refused },
    { "another device at an attached port: taken off",
      test_other_device_taken_off },
    { "serial mode follows the device to another port", test_follow_serial },
    { "dry run changes nothing", test_dry_run },
    { "release_orphans: a device a failed rebind left",
      test_release_orphans_failed_rebind },
    { "release_orphans gives a dead domain's device back",
      test_release_orphans },
    { "qusb: not ready until its QEMU is there", test_qusb_not_ready },
    { "a controller xl makes again is waited for",
      test_undeclared_ctrl_waited_for },
    { "release_orphans: a dying domain is gone", test_release_orphans_dying },
    { "a declared device another domain holds: said, no failure",
      test_held_by_another },
    { "forged declarations refused", test_forged },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
