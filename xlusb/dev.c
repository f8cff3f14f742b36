/*
 * dev.c - usbdev-attach, usbdev-detach and usb-rebind: giving host USB
 * devices to domains and taking them back.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xlusb.h"

/* USB: bus numbers are 1-255 (hostbus is a uint8_t), addresses 1-127,
 * a PV USB controller has at most 31 ports (USBIF_MAX_PORTNR). */
#define USB_BUS_MAX 255
#define USB_ADDR_MAX 127
#define USB_PORTS_MAX 31

enum {
    K_TYPE, K_HOSTBUS, K_HOSTADDR, K_BUSID, K_VENDOR, K_PRODUCT, K_SERIAL,
    K_CONTROLLER, K_PORT, NUM_DEV_KEYS
};
static const char *const dev_keys[] = {
    [K_TYPE] = "type", [K_HOSTBUS] = "hostbus", [K_HOSTADDR] = "hostaddr",
    [K_BUSID] = "busid", [K_VENDOR] = "vendor", [K_PRODUCT] = "product",
    [K_SERIAL] = "serial", [K_CONTROLLER] = "controller", [K_PORT] = "port",
};

/* Which host device the user means, in one of three ways. */
struct devsel {
    int hostbus, hostaddr;          /* 0 if not given this way */
    const char *busid;              /* NULL if not given this way */
    bool by_id;
    uint16_t vendor, product;
    const char *serial;             /* optional with by_id */
};

/* Parses the device words of usbdev-attach; 0, or 1 (usage error). */
static int parse_devsel(const char **vals, struct devsel *sel)
{
    bool by_addr = vals[K_HOSTBUS] || vals[K_HOSTADDR];

    memset(sel, 0, sizeof(*sel));
    sel->busid = vals[K_BUSID];
    sel->serial = vals[K_SERIAL];
    sel->by_id = vals[K_VENDOR] || vals[K_PRODUCT] || vals[K_SERIAL];
    if (by_addr + !!sel->busid + sel->by_id != 1)
        return usage_error("give the device one way: hostbus= and"
                           " hostaddr=, or busid=, or vendor= and"
                           " product=");
    if (by_addr && !(vals[K_HOSTBUS] && vals[K_HOSTADDR]))
        return usage_error("hostbus= and hostaddr= go together");
    if (sel->by_id && !(vals[K_VENDOR] && vals[K_PRODUCT]))
        return usage_error("vendor= and product= go together");
    if (sel->by_id && (parse_usb_id(vals[K_VENDOR], &sel->vendor) ||
                       parse_usb_id(vals[K_PRODUCT], &sel->product)))
        return usage_error("bad vendor=%s product=%s: expected hex"
                           " ids as lsusb prints them (e.g. 0781)",
                           vals[K_VENDOR], vals[K_PRODUCT]);
    return int_arg("hostbus", vals[K_HOSTBUS], 1, USB_BUS_MAX,
                   &sel->hostbus) ||
           int_arg("hostaddr", vals[K_HOSTADDR], 1, USB_ADDR_MAX,
                   &sel->hostaddr);
}

/* Parses controller and port (either may be NULL) into usbdev. */
static int parse_ctrlport(const char *ctrl, const char *port,
                          libxl_device_usbdev *usbdev)
{
    return int_arg("controller", ctrl, 0, INT_MAX, &usbdev->ctrl) ||
           int_arg("port", port, 1, USB_PORTS_MAX, &usbdev->port);
}

/* Parses the words of usbdev-attach into sel and usbdev->ctrl/port. */
static int parse_usbdev_attach(int argc, char **argv, struct devsel *sel,
                               libxl_device_usbdev *usbdev)
{
    const char *vals[NUM_DEV_KEYS];

    if (parse_keywords(argc, argv, dev_keys, NUM_DEV_KEYS, vals) ||
        parse_devsel(vals, sel))
        return 1;
    if (vals[K_TYPE] &&
        (libxl_usbdev_type_from_string(vals[K_TYPE], &usbdev->type) ||
         usbdev->type != LIBXL_USBDEV_TYPE_HOSTDEV))
        return usage_error("bad type '%s': only hostdev exists",
                           vals[K_TYPE]);
    if (vals[K_PORT] && !vals[K_CONTROLLER])
        return usage_error("port= needs controller=");
    return parse_ctrlport(vals[K_CONTROLLER], vals[K_PORT], usbdev);
}

/*
 * The host device the user means, as the library finds it, in dev
 * (initialised); 1 after saying why not (the library has logged what it
 * found).
 */
static int find_device(const struct devsel *sel, libxl_usb_hostdev *dev)
{
    libxl_usb_hostdev want;
    int rc;

    /* not disposed: it borrows sel's strings */
    libxl_usb_hostdev_init(&want);
    want.busid = (char *)sel->busid;
    want.hostbus = sel->hostbus;
    want.hostaddr = sel->hostaddr;
    want.idvendor = sel->vendor;
    want.idproduct = sel->product;
    want.serial = (char *)sel->serial;
    rc = libxl_usb_hostdev_find(ctx, &want, dev);
    if (!rc)
        return 0;
    if (rc == ERROR_INVAL)
        return fail("say which device you mean, as shown above (see 'xlusb"
                    " usb-assignable-list')");
    return fail("no such USB device on this host (see 'xlusb"
                " usb-assignable-list')");
}

/*
 * Says, after libxl_device_usbdev_add failed with rc, what to do.  The
 * library has logged the details.
 */
static void explain_attach_failure(int rc, const char *name,
                                   const libxl_usb_hostdev *dev, int ctrl)
{
    if (rc == ERROR_DEVICE_EXISTS)
        fail("device %s is not free (see above); 'xlusb"
             " usb-assignable-list' shows who has it", dev->busid);
    else if (ctrl >= 0)
        fail("could not attach %s to %s at controller %d: see 'xlusb"
             " usb-list %s' for its controllers and free ports, or leave"
             " controller= out to have one chosen", dev->busid, name, ctrl,
             name);
    else
        fail("could not attach %s to %s; see the messages above",
             dev->busid, name);
}

int main_usbdev_attach(int argc, char **argv)
{
    libxl_device_usbdev usbdev;
    libxl_usb_hostdev dev;
    struct devsel sel;
    uint32_t domid;
    char *name = NULL;
    int rc, status = 1, ctrl;

    libxl_device_usbdev_init(&usbdev);
    libxl_usb_hostdev_init(&dev);
    usbdev.type = LIBXL_USBDEV_TYPE_HOSTDEV;
    if (parse_usbdev_attach(argc - 1, argv + 1, &sel, &usbdev) ||
        open_domain(argv[0], &domid, &name) || find_device(&sel, &dev))
        goto out;
    usbdev.u.hostdev.hostbus = dev.hostbus;
    usbdev.u.hostdev.hostaddr = dev.hostaddr;

    ctrl = usbdev.ctrl;
    rc = libxl_device_usbdev_add_flags(ctx, domid, &usbdev,
             (live_only ? LIBXL_USB_LIVE : 0) |
             (sel.serial ? LIBXL_USB_FOLLOW_SERIAL : 0), NULL);
    if (rc) {
        explain_attach_failure(rc, name, &dev, ctrl);
        goto out;
    }
    printf("attached %s to %s at controller %d port %d\n", dev.busid, name,
           usbdev.ctrl, usbdev.port);
    status = 0;

 out:
    libxl_usb_hostdev_dispose(&dev);
    free(name);
    libxl_device_usbdev_dispose(&usbdev);
    return status;
}

/* The controller and port of usbdev-detach, in either form. */
static int parse_usbdev_detach(int argc, char **argv,
                               libxl_device_usbdev *usbdev)
{
    static const char *const keys[] = { "controller", "port" };
    const char *vals[ARRAY_SIZE(keys)];

    if (argc == 2 && !strchr(argv[0], '=') && !strchr(argv[1], '=')) {
        vals[0] = argv[0];
        vals[1] = argv[1];
    } else if (parse_keywords(argc, argv, keys, ARRAY_SIZE(keys), vals)) {
        return 1;
    } else if (!vals[0] || !vals[1]) {
        return usage_error("controller= and port= go together");
    }
    return parse_ctrlport(vals[0], vals[1], usbdev);
}

/* Whether domain domid has a device at ctrl:port. */
static bool port_is_taken(uint32_t domid, int ctrl, int port)
{
    libxl_device_usbdev *devs;
    bool taken = false;
    int i, n;

    devs = libxl_device_usbdev_list(ctx, domid, &n);
    for (i = 0; i < n; i++)
        if (devs[i].ctrl == ctrl && devs[i].port == port)
            taken = true;
    libxl_device_usbdev_list_free(devs, n);
    return taken;
}

int main_usbdev_detach(int argc, char **argv)
{
    libxl_device_usbdev usbdev;
    uint32_t domid;
    char *name = NULL, *busid = NULL;
    int rc, status = 1;

    libxl_device_usbdev_init(&usbdev);
    if (parse_usbdev_detach(argc - 1, argv + 1, &usbdev) ||
        open_domain(argv[0], &domid, &name))
        goto out;

    /* For the messages only: a device whose attach did not finish is not
     * listed, and the library's detach is what finds and finishes it. */
    if (libxl_ctrlport_to_usb_busid(ctx, domid, usbdev.ctrl, usbdev.port,
                                    &busid))
        busid = NULL;
    rc = libxl_device_usbdev_remove(ctx, domid, &usbdev, NULL);
    if (!rc) {
        status = 0;
    } else if (rc == ERROR_NOTFOUND) {
        fail("nothing is attached to %s at controller %d port %d (see"
             " 'xlusb usb-list %s')", name, usbdev.ctrl, usbdev.port, name);
    } else if (!port_is_taken(domid, usbdev.ctrl, usbdev.port)) {
        fail("%s was taken from %s but is not back on its host drivers;"
             " fix the cause shown above, then run: xlusb usb-rebind %s",
             busid ? busid : "the device", name,
             busid ? busid : "<busid above>");
    } else {
        fail("could not detach %s from %s; see the messages above, then"
             " run this command again to finish",
             busid ? busid : "the device", name);
    }

 out:
    free(busid);
    free(name);
    libxl_device_usbdev_dispose(&usbdev);
    return status;
}

int main_usb_rebind(int argc, char **argv)
{
    libxl_usb_hostdev dev;
    int rc;

    (void)argc;     /* exactly one, checked by main */
    if (ctx_open())
        return 1;

    rc = libxl_device_usbdev_rebind(ctx, argv[0], NULL);
    if (!rc)
        return 0;
    libxl_usb_hostdev_init(&dev);
    if (rc == ERROR_DEVICE_EXISTS &&
        !libxl_usb_hostdev_get(ctx, argv[0], &dev) &&
        hostdev_is_assigned(&dev))
        hostdev_owner_error(&dev);
    else
        fail("could not give %s back to its host drivers; see the"
             " messages above, fix the cause (reloading the driver's"
             " module may help) and run this command again", argv[0]);
    libxl_usb_hostdev_dispose(&dev);
    return 1;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
