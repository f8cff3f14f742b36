/*
 * test-compat.c - where this library and Debian's libxl 4.17 were
 * measured to differ, what was decided (docs/libxl-compat.md has the
 * table and the reasons): each row's behaviour, as a caller written for
 * libxl sees it.
 *
 * Host devices (tests/sysfs): keyboard 1-1 (bus 1 addr 2, usbhid), stick
 * 1-2 (bus 1 addr 3, usb-storage).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"

#define GUEST 1
#define BE "/local/domain/0/backend/vusb/1"
#define FE "/local/domain/1/device/vusb/0"

static libxl_ctx *setup(void)
{

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    sysfs_setup("keyboard");
    sysfs_setup("stick");
    test_state_dir();
    simbackend_start(false);
    return test_ctx();
}

static int add_ctrl(libxl_ctx *ctx, int devid)
{
    return usbctrl_add_at(ctx, GUEST, devid, LIBXL_USBCTRL_TYPE_PV, 4, 0, 0);
}

/* A device as xl's usbdev-attach and libvirt's libxlMakeUSB make it:
 * initialised, then only the host address set. */
static int add_dev_as_xl(libxl_ctx *ctx, int addr, int ctrl, int port,
                         libxl_device_usbdev *d)
{
    libxl_device_usbdev_init(d);
    d->u.hostdev.hostbus = 1;
    d->u.hostdev.hostaddr = addr;
    d->ctrl = ctrl;
    d->port = port;
    return libxl_device_usbdev_add(ctx, GUEST, d, NULL);
}

static int remove_dev(libxl_ctx *ctx, int ctrl, int port)
{
    libxl_device_usbdev d;
    int rc;

    libxl_device_usbdev_init(&d);
    d.ctrl = ctrl;
    d.port = port;
    rc = libxl_device_usbdev_remove(ctx, GUEST, &d, NULL);
    libxl_device_usbdev_dispose(&d);
    return rc;
}

/* Row "type 0": a host device, as in libxl; the caller's struct says so
 * afterwards, as libxl's setdefault leaves it. */
static void test_type0_is_hostdev(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbdev d;

    ASSERT_INT_EQ(add_dev_as_xl(ctx, 3, -1, 0, &d), 0);
    CHECK_INT_EQ(d.type, LIBXL_USBDEV_TYPE_HOSTDEV);
    CHECK_INT_EQ(d.ctrl, 0);
    CHECK_INT_EQ(d.port, 1);
    CHECK_XS(BE "/0/port/1", "1-2");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    libxl_device_usbdev_dispose(&d);
    CHECK_INT_EQ(remove_dev(ctx, 0, 1), 0);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
}

/* Row "devid -1": the lowest free id (libxl: the highest + 1). */
static void test_devid_lowest_free(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;

    ASSERT_INT_EQ(add_ctrl(ctx, -1), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, -1), 0);
    libxl_device_usbctrl_init(&c);
    c.devid = 0;
    ASSERT_INT_EQ(libxl_device_usbctrl_remove(ctx, GUEST, &c, NULL), 0);
    libxl_device_usbctrl_dispose(&c);
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, GUEST, &c, NULL), 0);
    CHECK_INT_EQ(c.devid, 0);
    libxl_device_usbctrl_dispose(&c);
}

/* Row "usbdev_remove of an empty port": ERROR_NOTFOUND, and the other
 * devices' host-side records are kept (libxl returns 0 having removed
 * every record under /libxl/usbback). */
static void test_remove_empty_port(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbdev d;

    ASSERT_INT_EQ(add_dev_as_xl(ctx, 3, -1, 0, &d), 0);
    libxl_device_usbdev_dispose(&d);
    CHECK_INT_EQ(remove_dev(ctx, 0, 2), ERROR_NOTFOUND);
    CHECK(xs_has("/libxl/usbback/1-2"));
    CHECK_XS(BE "/0/port/1", "1-2");
}

/* Rows "missing controller": getinfo and ctrlport_to_device_usbdev say
 * ERROR_NOTFOUND (libxl: ERROR_FAIL), a remove naming it too (Debian's
 * xl segfaults), and a port past the controller's end is refused
 * (libxl writes port/99). */
static void test_missing_and_out_of_range(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;
    libxl_usbctrlinfo info;
    libxl_device_usbdev d;

    libxl_device_usbctrl_init(&c);
    c.devid = 5;
    libxl_usbctrlinfo_init(&info);
    CHECK_INT_EQ(libxl_device_usbctrl_getinfo(ctx, GUEST, &c, &info),
                 ERROR_NOTFOUND);
    libxl_usbctrlinfo_dispose(&info);
    libxl_device_usbctrl_dispose(&c);
    libxl_device_usbdev_init(&d);
    CHECK_INT_EQ(libxl_ctrlport_to_device_usbdev(ctx, GUEST, 5, 1, &d),
                 ERROR_NOTFOUND);
    libxl_device_usbdev_dispose(&d);
    CHECK_INT_EQ(remove_dev(ctx, 5, 1), ERROR_NOTFOUND);

    ASSERT_INT_EQ(add_ctrl(ctx, 0), 0);
    CHECK_INT_EQ(add_dev_as_xl(ctx, 3, 0, 99, &d), ERROR_INVAL);
    libxl_device_usbdev_dispose(&d);
    CHECK(!xs_has(BE "/0/port/99"));
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
}

/* Row "ref_conn": conn-ring-ref's value (libxl reads urb-ring-ref). */
static void test_ref_conn(void)
{
    libxl_ctx *ctx = setup();
    libxl_device_usbctrl c;
    libxl_usbctrlinfo info;

    ASSERT_INT_EQ(add_ctrl(ctx, 0), 0);
    xs_put(FE "/urb-ring-ref", "8");
    xs_put(FE "/conn-ring-ref", "9");
    libxl_device_usbctrl_init(&c);
    c.devid = 0;
    libxl_usbctrlinfo_init(&info);
    ASSERT_INT_EQ(libxl_device_usbctrl_getinfo(ctx, GUEST, &c, &info), 0);
    CHECK_INT_EQ(info.ref_urb, 8);
    CHECK_INT_EQ(info.ref_conn, 9);
    libxl_usbctrlinfo_dispose(&info);
    libxl_device_usbctrl_dispose(&c);
}

/* Row "JSON null": what libxl writes for an enumeration value it has no
 * name for ("type": null) reads back as the default, as in libxl. */
static void test_json_null_is_absent(void)
{
    libxl_ctx *ctx;
    libxl_device_usbctrl c;
    libxl_device_usbdev d;
    char *json;

    xs_start();
    ctx = test_ctx();
    libxl_device_usbctrl_init(&c);
    c.type = 7;                 /* a later libxl's type, say */
    json = libxl_device_usbctrl_to_json(ctx, &c);
    CHECK_STR_EQ(json, "{\n    \"type\": null\n}\n");
    free(json);
    libxl_device_usbctrl_dispose(&c);

    CHECK_INT_EQ(libxl_device_usbctrl_from_json(ctx, &c,
                     "{\"type\": null, \"ports\": 4, "
                     "\"backend_domname\": null}"), 0);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_AUTO);
    CHECK_INT_EQ(c.ports, 4);
    CHECK_INT_EQ(c.devid, -1);
    CHECK_NULL(c.backend_domname);
    libxl_device_usbctrl_dispose(&c);

    CHECK_INT_EQ(libxl_device_usbdev_from_json(ctx, &d,
                     "{\"ctrl\": null, \"type.hostdev\": null}"), 0);
    CHECK_INT_EQ(d.ctrl, -1);
    CHECK_INT_EQ(d.type, 0);
    libxl_device_usbdev_dispose(&d);
}

/* Rows "JSON libxl accepts": refused here, ERROR_INVAL (libxl keeps
 * what it read before the garbage, drops wrong-typed members, and says
 * ERROR_FAIL for what it does refuse). */
static void test_json_refused(void)
{
    static const char *const bad[] = {
        "{\"ports\": 4} xyz",
        "{\"ports\": 4}{\"ports\": 5}",
        "{\"ports\": \"4\", \"devid\": 2}",
        "{\"type\": \"qusb\", \"ports\": 4.5}",
        "{\"ports\": ",
    };
    libxl_ctx *ctx;
    libxl_device_usbctrl c;
    size_t i;

    xs_start();
    ctx = test_ctx();
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_INT_EQ(libxl_device_usbctrl_from_json(ctx, &c, bad[i]),
                     ERROR_INVAL);
        libxl_device_usbctrl_dispose(&c);
    }
}

static const struct test tests[] = {
    { "type 0 is a host device", test_type0_is_hostdev },
    { "devid -1 is the lowest free", test_devid_lowest_free },
    { "remove of an empty port: NOTFOUND, records kept",
      test_remove_empty_port },
    { "missing controller, port past the end", test_missing_and_out_of_range },
    { "ref_conn from conn-ring-ref", test_ref_conn },
    { "JSON null is an absent member", test_json_null_is_absent },
    { "JSON libxl accepts, refused", test_json_refused },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
