/*
 * sysfsmany.c - sysfs_add_devices: more devices than the pristine trees
 * have, written into the test's fake tree, for tests that need many
 * (tests/race, make bench).  Each is the "keyboard" tree's 1-1 with only
 * what tells one device from another changed; the root hubs they hang off
 * (31 on each) are like base's usb1, behind an xHCI controller as a host
 * with many ports has.
 * Values are in the kernel's formats (tests/sysfs/README).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sysfsmock.h"

#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

/* The kernel's USB_MAXCHILDREN: a hub has at most 31 ports. */
#define HUB_PORTS 31
#define FIRST_BUS 3
#define MAX_BUSES 4

struct attr {
    const char *name, *value;
};

/* 1-1 of the keyboard tree but busnum, devnum, devpath, uevent. */
static const struct attr keyboard[] = {
    { "authorized", "1\n" },        { "bConfigurationValue", "1\n" },
    { "bDeviceClass", "00\n" },     { "bDeviceProtocol", "00\n" },
    { "bDeviceSubClass", "00\n" },  { "bMaxPacketSize0", "64\n" },
    { "bMaxPower", "90mA\n" },      { "bNumConfigurations", "1\n" },
    { "bNumInterfaces", " 1\n" },   { "bcdDevice", "6400\n" },
    { "bmAttributes", "80\n" },     { "idProduct", "c31c\n" },
    { "idVendor", "046d\n" },       { "manufacturer", "Logitech\n" },
    { "maxchild", "0\n" },          { "product", "USB Keyboard\n" },
    { "removable", "removable\n" }, { "speed", "1.5\n" },
    { "version", " 1.10\n" },
};
static const struct attr keyboard_intf[] = {
    { "authorized", "1\n" },          { "bAlternateSetting", " 0\n" },
    { "bInterfaceClass", "03\n" },    { "bInterfaceNumber", "00\n" },
    { "bInterfaceProtocol", "01\n" }, { "bInterfaceSubClass", "01\n" },
    { "bNumEndpoints", "01\n" },
    { "uevent", "DEVTYPE=usb_interface\nINTERFACE=3/1/1\n" },
};

/* base's usb1 but the controller's name and address, and maxchild. */
static const struct attr roothub[] = {
    { "authorized", "1\n" },        { "bConfigurationValue", "1\n" },
    { "bDeviceClass", "09\n" },     { "bDeviceProtocol", "01\n" },
    { "bDeviceSubClass", "00\n" },  { "bMaxPacketSize0", "64\n" },
    { "bMaxPower", "0mA\n" },       { "bNumConfigurations", "1\n" },
    { "bNumInterfaces", " 1\n" },   { "bcdDevice", "0601\n" },
    { "bmAttributes", "e0\n" },     { "idProduct", "0002\n" },
    { "idVendor", "1d6b\n" },
    { "manufacturer", "Linux 6.1.0-18-amd64 xhci-hcd\n" },
    { "product", "xHCI Host Controller\n" },
    { "removable", "unknown\n" },   { "serial", "0000:00:14.0\n" },
    { "speed", "480\n" },           { "version", " 2.00\n" },
};
static const struct attr roothub_intf[] = {
    { "authorized", "1\n" },          { "bAlternateSetting", " 0\n" },
    { "bInterfaceClass", "09\n" },    { "bInterfaceNumber", "00\n" },
    { "bInterfaceProtocol", "00\n" }, { "bInterfaceSubClass", "00\n" },
    { "bNumEndpoints", "01\n" },
    { "uevent", "DEVTYPE=usb_interface\nINTERFACE=9/0/0\n" },
};

/* One kind of device: its attributes, its interface's, and the rest. */
struct kind {
    const struct attr *attrs, *intf_attrs;
    size_t n_attrs, n_intf_attrs;
    const char *product_id;         /* uevent's PRODUCT= */
    const char *intf_driver;
};

static const struct kind keyboard_kind = {
    keyboard, keyboard_intf, ARRAY_LEN(keyboard), ARRAY_LEN(keyboard_intf),
    "46d/c31c/6400", "usbhid",
};
static const struct kind roothub_kind = {
    roothub, roothub_intf, ARRAY_LEN(roothub), ARRAY_LEN(roothub_intf),
    "1d6b/2/601", "hub",
};

static char usb[PATH_MAX];          /* the fake /sys/bus/usb, really */

/* buf = fmt formatted; bails rather than truncate a path. */
static void fmt_path(char buf[PATH_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fmt_path(char buf[PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (r < 0 || r >= PATH_MAX)
        BAIL("sysfs_add_devices: path too long");
}

/* Attribute file <usb>/<dir>/<name>, holding fmt formatted. */
static void put(const char *dir, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(const char *dir, const char *name, const char *fmt, ...)
{
    char path[PATH_MAX];
    va_list ap;
    FILE *f;
    int r;

    fmt_path(path, "%s/%s/%s", usb, dir, name);
    f = fopen(path, "w");
    if (!f)
        BAIL("sysfs_add_devices: %s: %s", path, strerror(errno));
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    if (fclose(f) || r < 0)
        BAIL("sysfs_add_devices: writing %s failed", path);
}

static void put_attrs(const char *dir, const struct attr *a, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        put(dir, a[i].name, "%s", a[i].value);
}

static void make_dir(const char *dir)
{
    char path[PATH_MAX];

    fmt_path(path, "%s/%s", usb, dir);
    if (mkdir(path, 0755))
        BAIL("sysfs_add_devices: mkdir %s: %s", path, strerror(errno));
}

/* <usb>/<from> -> target, the links the README's layout has. */
static void make_link(const char *target, const char *from)
{
    char path[PATH_MAX];

    fmt_path(path, "%s/%s", usb, from);
    if (symlink(target, path))
        BAIL("sysfs_add_devices: symlink %s: %s", path, strerror(errno));
}

/* The dir of device busid and its driver's link to it. */
static void add_device_dir(const struct kind *k, int bus, const char *busid,
                           int devnum, const char *devpath)
{
    char dev[PATH_MAX], from[PATH_MAX], target[PATH_MAX];

    fmt_path(dev, "devices/%s", busid);
    make_dir(dev);
    put_attrs(dev, k->attrs, k->n_attrs);
    put(dev, "busnum", "%d\n", bus);
    put(dev, "devnum", "%d\n", devnum);
    put(dev, "devpath", "%s\n", devpath);
    put(dev, "uevent", "DEVTYPE=usb_device\nBUSNUM=%03d\nDEVNUM=%03d\n"
        "PRODUCT=%s\n", bus, devnum, k->product_id);
    fmt_path(from, "%s/driver", dev);
    make_link("../../drivers/usb", from);
    fmt_path(from, "drivers/usb/%s", busid);
    fmt_path(target, "../../%s", dev);
    make_link(target, from);
}

/* Interface intf inside device busid, bound to the kind's driver. */
static void add_intf(const struct kind *k, const char *busid,
                     const char *intf)
{
    char dir[PATH_MAX], from[PATH_MAX], target[PATH_MAX];

    fmt_path(dir, "devices/%s/%s", busid, intf);
    make_dir(dir);
    put_attrs(dir, k->intf_attrs, k->n_intf_attrs);
    fmt_path(from, "devices/%s", intf);
    fmt_path(target, "%s/%s", busid, intf);
    make_link(target, from);
    fmt_path(from, "%s/driver", dir);
    fmt_path(target, "../../../drivers/%s", k->intf_driver);
    make_link(target, from);
    fmt_path(from, "drivers/%s/%s", k->intf_driver, intf);
    fmt_path(target, "../../%s", dir);
    make_link(target, from);
}

/* The keyboard on port i of usb<bus>, at address devnum. */
static void add_keyboard(int bus, int i, int devnum)
{
    char busid[32], intf[48], devpath[16];

    snprintf(busid, sizeof(busid), "%d-%d", bus, i);
    snprintf(intf, sizeof(intf), "%s:1.0", busid);
    snprintf(devpath, sizeof(devpath), "%d", i);
    add_device_dir(&keyboard_kind, bus, busid, devnum, devpath);
    add_intf(&keyboard_kind, busid, intf);
}

/* Root hub usb<bus> and on its ports 1..n keyboards. */
static void add_bus(int bus, int n)
{
    char busid[16], intf[32], hub[32];
    int i;

    snprintf(busid, sizeof(busid), "usb%d", bus);
    snprintf(intf, sizeof(intf), "%d-0:1.0", bus);
    add_device_dir(&roothub_kind, bus, busid, 1, "0");
    add_intf(&roothub_kind, busid, intf);
    snprintf(hub, sizeof(hub), "devices/%s", busid);
    put(hub, "maxchild", "%d\n", n);
    /* as the kernel numbers them: the root hub is 1, then in order */
    for (i = 1; i <= n; i++)
        add_keyboard(bus, i, i + 1);
}

void sysfs_add_devices(int n)
{
    int bus;

    if (n < 1 || n > MAX_BUSES * HUB_PORTS)
        BAIL("sysfs_add_devices: %d devices: 1 to %d (%d hubs of %d ports)",
             n, MAX_BUSES * HUB_PORTS, MAX_BUSES, HUB_PORTS);
    if (!sysfs_root())
        BAIL("sysfs_setup() first");
    fmt_path(usb, "%s" SYSFSMOCK_PREFIX, sysfs_root());
    for (bus = FIRST_BUS; n > 0; bus++, n -= HUB_PORTS)
        add_bus(bus, n < HUB_PORTS ? n : HUB_PORTS);
}

void sysfs_replug_added(int k, int devnum)
{
    char lock[PATH_MAX];
    int fd;

    if (!usb[0])
        BAIL("sysfs_replug_added: sysfs_add_devices() first");
    /* under the mock's lock, as the kernel plugs a device: no bind or
     * unbind of others sees it half made */
    fmt_path(lock, "%s/%s", sysfs_root(), SYSFSMOCK_INJECT_FILE);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX))
        BAIL("sysfs_replug_added: locking %s: %s", lock, strerror(errno));
    add_keyboard(FIRST_BUS + (k - 1) / HUB_PORTS, (k - 1) % HUB_PORTS + 1,
                 devnum);
    close(fd);
}
