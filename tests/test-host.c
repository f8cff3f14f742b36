/*
 * test-host.c - the host layer on its own (libxl_pvusb_host.c, its
 * contract in libxl_pvusb_internal.h): the host's devices as the fake
 * sysfs shows them and found by name, interfaces to usbback and back
 * with their driver records, and the ownership record, on a private real xenstored.  No
 * controller or guest is involved: the layer knows none.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>

#include "harness.h"
#include "libxl_pvusb_internal.h"

#define REC "/libxl/usbback"

static libxl_ctx *setup(void)
{
    xs_start();
    sysfs_setup("keyboard");
    sysfs_setup("composite");
    sysfs_setup("hub");
    sysfs_setup("behind-hub");
    return test_ctx();
}

static void test_devices(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_usb_hostdev h;
    uint8_t bus, addr;
    char **busids, *busid;
    bool hub;
    int num;

    ASSERT_INT_EQ(libxl__usbhost_list(gc, &busids, &num), 0);
    ASSERT_INT_EQ(num, 6);
    CHECK_STR_EQ(busids[0], "1-1");
    CHECK_STR_EQ(busids[2], "2-2");
    CHECK_STR_EQ(busids[3], "2-2.1");
    CHECK_STR_EQ(busids[5], "usb2");

    CHECK_INT_EQ(libxl__usbhost_busaddr_to_busid(gc, 2, 4, &busid), 0);
    CHECK_STR_EQ(busid, "2-2.1");
    CHECK_INT_EQ(libxl__usbhost_busaddr_to_busid(gc, 2, 9, &busid),
                 ERROR_NOTFOUND);
    CHECK_INT_EQ(libxl__usbhost_busaddr(gc, "1-1", &bus, &addr), 0);
    CHECK(bus == 1 && addr == 2);
    /* unplugged: 0/0, not an error */
    CHECK_INT_EQ(libxl__usbhost_busaddr(gc, "1-9", &bus, &addr), 0);
    CHECK(bus == 0 && addr == 0);

    CHECK_INT_EQ(libxl__usbhost_is_hub(gc, "2-2", &hub), 0);
    CHECK(hub);
    CHECK_INT_EQ(libxl__usbhost_is_hub(gc, "usb1", &hub), 0);
    CHECK(hub);
    CHECK_INT_EQ(libxl__usbhost_is_hub(gc, "2-1", &hub), 0);
    CHECK(!hub);

    libxl_usb_hostdev_init(&h);
    CHECK_INT_EQ(libxl__usbhost_read(gc, "2-1", &h), 0);
    CHECK_INT_EQ(h.hostbus, 2);
    CHECK_INT_EQ(h.hostaddr, 2);
    CHECK_INT_EQ(h.num_interfaces, 3);
    CHECK_STR_EQ(h.drivers, "usbhid,usbhid,usb-storage");
    CHECK(!h.hub);
    /* the layer leaves whose it is to its caller */
    CHECK_INT_EQ(h.domid, (int)INVALID_DOMID);
    libxl_usb_hostdev_dispose(&h);

    CHECK(libxl__usbhost_busid_is_valid("2-2.1"));
    CHECK(!libxl__usbhost_busid_is_valid("2-02"));
    CHECK(!libxl__usbhost_busid_is_valid("usb1"));
    CHECK(!libxl__usbhost_busid_is_valid("../1-1"));
    GC_FREE;
}

/* Each interface's driver is recorded before it leaves it, and given
 * back from the record; every step run twice is done once. */
static void test_bind_and_back(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    const char *drv;

    CHECK_INT_EQ(libxl__usbhost_claiming_driver(gc, "2-1", &drv), 0);
    CHECK(!drv);
    CHECK_INT_EQ(libxl__usbhost_bind_usbback(gc, "2-1"), 0);
    CHECK_INT_EQ(libxl__usbhost_bind_usbback(gc, "2-1"), 0);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbback");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usbback");
    CHECK_XS(REC "/2-1/2-1@1_0/driver_path", "/sys/bus/usb/drivers/usbhid");
    CHECK_XS(REC "/2-1/2-1@1_2/driver_path",
             "/sys/bus/usb/drivers/usb-storage");
    CHECK_INT_EQ(libxl__usbhost_claiming_driver(gc, "2-1", &drv), 0);
    CHECK_STR_EQ(drv, "usbback");

    CHECK_INT_EQ(libxl__usbhost_unbind_usbback(gc, "2-1"), 0);
    CHECK_INT_EQ(libxl__usbhost_unbind_usbback(gc, "2-1"), 0);
    CHECK(!sysfs_driver_of("2-1:1.1"));
    CHECK_INT_EQ(libxl__usbhost_rebind(gc, "2-1"), 0);
    CHECK_INT_EQ(libxl__usbhost_rebind(gc, "2-1"), 0);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.1"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    /* the records stay until the caller forgets them */
    CHECK_XS(REC "/2-1/2-1@1_2/driver_path",
             "/sys/bus/usb/drivers/usb-storage");
    CHECK_INT_EQ(libxl__usbhost_forget(gc, XBT_NULL, "2-1", true), 0);
    CHECK_XS(REC "/2-1", "(absent)");

    /* an unplugged device needs nothing */
    CHECK_INT_EQ(libxl__usbhost_unbind_usbback(gc, "1-9"), 0);
    CHECK_INT_EQ(libxl__usbhost_rebind(gc, "1-9"), 0);
    CHECK_INT_EQ(libxl__usbhost_claiming_driver(gc, "1-9", &drv), 0);
    CHECK(!drv);

    sysfs_unbind("1-1:1.0");
    sysfs_bind("1-1:1.0", "usbfs");
    CHECK_INT_EQ(libxl__usbhost_claiming_driver(gc, "1-1", &drv), 0);
    CHECK_STR_EQ(drv, "usbfs");
    GC_FREE;
}

/* A driver record is never trusted as a path: one that is not a USB
 * driver's directory is refused, and it stays for a later rebind. */
static void test_rebind_refuses_a_bad_record(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    static const char *const bad[] = {
        "/sys/bus/usb/drivers/../drivers/usbhid",
        "/sys/bus/usb/drivers/nosuchdriver",
        "/sys/bus/pci/drivers/ehci-pci",
        "/sys/bus/usb/drivers/",
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(bad); i++) {
        sysfs_unbind("1-1:1.0");
        xs_put(REC "/1-1/1-1@1_0/driver_path", bad[i]);
        CHECK_INT_EQ(libxl__usbhost_rebind(gc, "1-1"), ERROR_FAIL);
        CHECK(!sysfs_driver_of("1-1:1.0"));
        CHECK_XS(REC "/1-1/1-1@1_0/driver_path", bad[i]);
        sysfs_bind("1-1:1.0", "usbhid");
    }
    GC_FREE;
}

static void test_owner_record(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    static const char *const malformed[] = {
        "1/0", "1/0/0", "1/0/32", "x/0/1", "1/0/1/attached", "1/0/1/",
        "-1/0/1", "1/0/01x",
    };
    libxl__usbhost_owner o;
    size_t i;

    CHECK_INT_EQ(libxl__usbhost_owner_read(gc, XBT_NULL, "1-1", &o), 0);
    CHECK_INT_EQ(o.domid, INVALID_DOMID);

    CHECK_INT_EQ(libxl__usbhost_owner_write(gc, XBT_NULL, "2-2.1", 7, 1, 31,
                                            true), 0);
    CHECK_XS(REC "/2-2_1/owner", "7/1/31/attaching");
    /* dom0's alone: no guest may read or write it */
    CHECK_PERMS(REC "/2-2_1", "n0");
    CHECK_PERMS(REC "/2-2_1/owner", "n0");
    CHECK_INT_EQ(libxl__usbhost_owner_read(gc, XBT_NULL, "2-2.1", &o), 0);
    CHECK(o.domid == 7 && o.ctrl == 1 && o.port == 31 && o.attaching);
    CHECK(libxl__usbhost_owner_is(&o, 7, 1, 31));
    CHECK(!libxl__usbhost_owner_is(&o, 7, 1, 30));

    CHECK_INT_EQ(libxl__usbhost_owner_write(gc, XBT_NULL, "2-2.1", 7, 1, 31,
                                            false), 0);
    CHECK_INT_EQ(libxl__usbhost_owner_read(gc, XBT_NULL, "2-2.1", &o), 0);
    CHECK(o.domid == 7 && !o.attaching);

    for (i = 0; i < ARRAY_LEN(malformed); i++) {
        xs_put(REC "/1-1/owner", malformed[i]);
        CHECK_INT_EQ(libxl__usbhost_owner_read(gc, XBT_NULL, "1-1", &o), 0);
        if (o.domid != INVALID_DOMID)
            tap_fail(__FILE__, __LINE__, "\"%s\" read as domain %u",
                     malformed[i], o.domid);
    }

    /* the owner alone, or with the driver records */
    xs_put(REC "/2-2_1/2-2_1@1_0/driver_path", "/sys/bus/usb/drivers/hub");
    CHECK_INT_EQ(libxl__usbhost_forget(gc, XBT_NULL, "2-2.1", false), 0);
    CHECK_XS(REC "/2-2_1/owner", "(absent)");
    CHECK_XS(REC "/2-2_1/2-2_1@1_0/driver_path", "/sys/bus/usb/drivers/hub");
    CHECK_INT_EQ(libxl__usbhost_forget(gc, XBT_NULL, "2-2.1", true), 0);
    CHECK_XS(REC "/2-2_1", "(absent)");
    CHECK_INT_EQ(libxl__usbhost_forget(gc, XBT_NULL, "2-2.1", true), 0);
    GC_FREE;
}

/* A device named by busid, bus and address, or ids (and serial). */
static void test_find(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_usb_hostdev want;
    char *busid;

    sysfs_setup("stick");
    sysfs_setup("stick2");
    libxl_usb_hostdev_init(&want);
    want.hostbus = 2;
    want.hostaddr = 4;
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), 0);
    CHECK_STR_EQ(busid, "2-2.1");
    want.hostaddr = 9;
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), ERROR_NOTFOUND);

    want.hostbus = want.hostaddr = 0;
    want.idvendor = 0x0781;
    want.idproduct = 0x5567;
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), ERROR_INVAL);
    want.serial = "STICK0002";
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), 0);
    CHECK_STR_EQ(busid, "1-3");
    want.serial = "NOSUCH";
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), ERROR_NOTFOUND);

    want.busid = "1-2";
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), 0);
    CHECK_STR_EQ(busid, "1-2");
    want.busid = "usb2";
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), 0);
    want.busid = "1-2/../1-3";
    CHECK_INT_EQ(libxl__usbhost_find(gc, &want, &busid), ERROR_INVAL);
    GC_FREE;
}

static const struct test tests[] = {
    { "a device named by busid, bus and address, or ids", test_find },
    { "the host's devices, as sysfs shows them", test_devices },
    { "interfaces to usbback and back, drivers recorded",
      test_bind_and_back },
    { "a driver record that is not a USB driver is refused",
      test_rebind_refuses_a_bad_record },
    { "the ownership record: written, read, malformed, forgotten",
      test_owner_record },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
