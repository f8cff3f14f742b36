/*
 * libxl_pvusb.c - USB passthrough for Xen guests: controllers and host
 * devices, for the kernel usbback backend (type pv), QEMU's PV USB
 * backend (type qusb) and the emulated USB of an HVM guest's QEMU (type
 * devicemodel, driven over QMP).
 *
 * Where things live:
 *   frontend (guest-writable, never trusted):
 *       /local/domain/<domid>/device/vusb/<devid>/...
 *   backend:
 *       /local/domain/<bdomid>/backend/<vusb|qusb>/<domid>/<devid>/...
 *         port/<n> = "" or the host busid given to the guest on that port
 *   toolstack-private view of each controller, read by list/getinfo/remove:
 *       /libxl/<domid>/device/vusb/<devid>/{frontend,backend,type}
 *     a devicemodel controller has no xenbus frontend or backend: its view
 *     holds type, usb-ver, num-ports and port/<n> itself, and QEMU has it
 *     as device "xenusb-<devid>", each host device as
 *     "xenusb-<hostbus>-<hostaddr>" (libxl's names)
 *   host side (dom0 only): the ownership and driver records of each
 *   device, /libxl/usbback/<enc busid>/..., kept by the host layer
 *   (libxl_pvusb_host.c, contract in libxl_pvusb_internal.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */

#include "libxl_osdeps.h" /* must come before any other headers */

#include <limits.h>

#include "libxl_pvusb_internal.h"

#define USB_DEFAULT_VERSION 2
#define USB_DEFAULT_PORTS 8
#define USB_DM_MAX_VERSION 3

/*
 * QEMU's emulated controllers, by USB version: the device to add, and
 * its fixed number of ports (0: 1 to USB_DM_XHCI_MAX_PORTS, as asked).
 */
static const struct {
    const char *driver;
    int ports;
} usb_dm_ctrls[USB_DM_MAX_VERSION + 1] = {
    [1] = { "piix3-usb-uhci", 2 },
    [2] = { "usb-ehci", 6 },
    [3] = { "nec-usb-xhci", 0 },
};
#define USB_DM_XHCI_MAX_PORTS 15

/*----- names and paths -----*/

/* The backend kind of a controller type ("vusb", "qusb"), or NULL. */
static const char *usbctrl_kind(libxl_usbctrl_type type)
{
    switch (type) {
    case LIBXL_USBCTRL_TYPE_PV:   return "vusb";
    case LIBXL_USBCTRL_TYPE_QUSB: return "qusb";
    default:                      return NULL;
    }
}

static bool usbctrl_is_dm(const libxl_device_usbctrl *usbctrl)
{
    return usbctrl->type == LIBXL_USBCTRL_TYPE_DEVICEMODEL;
}

static bool usbctrl_type_is_supported(libxl_usbctrl_type type)
{
    return usbctrl_kind(type) || type == LIBXL_USBCTRL_TYPE_DEVICEMODEL;
}

static char *vusb_libxl_path(libxl__gc *gc, uint32_t domid, int devid)
{
    return GCSPRINTF("/libxl/%u/device/vusb/%d", domid, devid);
}

static char *vusb_fe_path(libxl__gc *gc, uint32_t domid, int devid)
{
    return GCSPRINTF("%s/device/vusb/%d", libxl__xs_get_dompath(gc, domid),
                     devid);
}

/* The dir of usb-ver, num-ports and port/<n>: the xenbus backend's, or
 * for devicemodel (which has none) the private view. */
static char *vusb_be_path(libxl__gc *gc, const libxl_device_usbctrl *c,
                          uint32_t domid)
{
    if (usbctrl_is_dm(c))
        return vusb_libxl_path(gc, domid, c->devid);
    return GCSPRINTF("%s/backend/%s/%u/%d",
                     libxl__xs_get_dompath(gc, c->backend_domid),
                     usbctrl_kind(c->type), domid, c->devid);
}


/*----- controllers: the toolstack's view -----*/

/*
 * Takes the backend domid and the type (pv or qusb: the backend's kind)
 * from a controller's backend path, and checks the path is exactly the
 * one that controller of domid has.
 */
static int usbctrl_parse_be_path(libxl__gc *gc, uint32_t domid,
                                 libxl_device_usbctrl *usbctrl,
                                 const char *be_path)
{
    static const libxl_usbctrl_type types[] = { LIBXL_USBCTRL_TYPE_PV,
                                                LIBXL_USBCTRL_TYPE_QUSB };
    static const char prefix[] = "/local/domain/";
    char *num = NULL, *slash;
    long long bdomid;
    int i;

    if (!strncmp(be_path, prefix, strlen(prefix)))
        num = libxl__strdup(gc, be_path + strlen(prefix));
    slash = num ? strchr(num, '/') : NULL;
    if (slash) {
        *slash = 0;
        if (!libxl__strtoint(num, 0, INT32_MAX, &bdomid)) {
            usbctrl->backend_domid = bdomid;
            for (i = 0; i < (int)ARRAY_SIZE(types); i++) {
                usbctrl->type = types[i];
                if (!strcmp(be_path, vusb_be_path(gc, usbctrl, domid)))
                    return 0;
            }
        }
    }
    LOGD(ERROR, domid, "USB controller %d: bad backend path \"%s\"",
         usbctrl->devid, be_path);
    return ERROR_FAIL;
}

/*
 * Type and backend of controller devid of domid, from the private libxl
 * dir (toolstack-owned): enough to name its ports.  A xenbus controller's
 * backend path tells both (one read); only one without (devicemodel, or
 * none) has its type read.  ERROR_NOTFOUND if there is no such
 * controller.
 */
static int usbctrl_read_backend(libxl__gc *gc, xs_transaction_t t,
                                uint32_t domid, int devid,
                                libxl_device_usbctrl *usbctrl)
{
    const char *libxl_path = vusb_libxl_path(gc, domid, devid);
    const char *type, *be_path;
    int rc;

    usbctrl->devid = devid;
    rc = libxl__xs_read_checked(gc, t, GCSPRINTF("%s/backend", libxl_path),
                                &be_path);
    if (rc) return rc;
    if (be_path) return usbctrl_parse_be_path(gc, domid, usbctrl, be_path);

    rc = libxl__xs_read_checked(gc, t, GCSPRINTF("%s/type", libxl_path),
                                &type);
    if (rc) return rc;
    if (!type) {
        LOGD(DEBUG, domid, "No USB controller %d", devid);
        return ERROR_NOTFOUND;
    }
    if (libxl_usbctrl_type_from_string(type, &usbctrl->type) ||
        !usbctrl_is_dm(usbctrl)) {
        LOGD(ERROR, domid, "USB controller %d: type \"%s\" without a "
             "backend path is not supported", devid, type);
        return ERROR_FAIL;
    }
    usbctrl->backend_domid = 0;     /* QEMU answers to the toolstack */
    return 0;
}

/* Type, backend and ports of controller devid of domid: what giving and
 * taking back devices need.  ERROR_NOTFOUND if there is no such
 * controller. */
/* usbctrl->ports, of a controller whose backend is read. */
static int usbctrl_read_num_ports(libxl__gc *gc, xs_transaction_t t,
                                  uint32_t domid,
                                  libxl_device_usbctrl *usbctrl)
{
    long long val;
    int rc;

    rc = libxl__xs_read_int(gc, t, GCSPRINTF("%s/num-ports",
                                vusb_be_path(gc, usbctrl, domid)),
                            1, USBIF_MAX_PORTNR, &val);
    if (rc) return rc;
    usbctrl->ports = val;
    return 0;
}

static int usbctrl_read_ports(libxl__gc *gc, xs_transaction_t t,
                              uint32_t domid, int devid,
                              libxl_device_usbctrl *usbctrl)
{
    int rc = usbctrl_read_backend(gc, t, domid, devid, usbctrl);

    return rc ? rc : usbctrl_read_num_ports(gc, t, domid, usbctrl);
}

/*
 * Reads controller devid of domid from toolstack-owned keys only: type
 * and backend path from the private libxl dir, version and ports from the
 * backend.  ERROR_NOTFOUND if there is no such controller.
 */
static int usbctrl_read(libxl__gc *gc, xs_transaction_t t, uint32_t domid,
                        int devid, libxl_device_usbctrl *usbctrl)
{
    long long val;
    int rc;

    rc = usbctrl_read_ports(gc, t, domid, devid, usbctrl);
    if (rc) return rc;
    rc = libxl__xs_read_int(gc, t, GCSPRINTF("%s/usb-ver",
                                vusb_be_path(gc, usbctrl, domid)),
                            1, usbctrl_is_dm(usbctrl) ? USB_DM_MAX_VERSION
                                                      : 2,
                            &val);
    if (rc) return rc;
    usbctrl->version = val;
    return 0;
}

/* A controller that exists (usbctrl_read_backend: what a port's path
 * needs), logged as an error if it does not. */
static int usbctrl_read_existing(libxl__gc *gc, xs_transaction_t t,
                                 uint32_t domid, int devid,
                                 libxl_device_usbctrl *usbctrl)
{
    int rc = usbctrl_read_backend(gc, t, domid, devid, usbctrl);

    if (rc == ERROR_NOTFOUND)
        LOGD(ERROR, domid, "No USB controller %d", devid);
    return rc;
}

/*
 * Only a backend in dom0 serves dom0's devices: another backend domain
 * (a driver domain) owns its backend dir, and the busids it holds name
 * devices of its own host, never dom0's.
 */
static bool usbctrl_is_dom0s(const libxl_device_usbctrl *usbctrl)
{
    return usbctrl->backend_domid == 0;
}

/* Refuses (ERROR_INVAL, logged) to give or take a device on a controller
 * another domain serves. */
static int usbctrl_check_dom0s(libxl__gc *gc, uint32_t domid,
                               const libxl_device_usbctrl *usbctrl)
{
    if (usbctrl_is_dom0s(usbctrl)) return 0;
    LOGD(ERROR, domid, "USB controller %d is served by domain %u, a driver "
         "domain: the devices on it are that domain's own; attach and "
         "detach them in domain %u", usbctrl->devid, usbctrl->backend_domid,
         usbctrl->backend_domid);
    return ERROR_INVAL;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/* Devids of domid's controllers, ascending. */
static int usbctrl_devids(libxl__gc *gc, xs_transaction_t t, uint32_t domid,
                          int **devids_r, int *num_r)
{
    const char *path = GCSPRINTF("/libxl/%u/device/vusb", domid);
    unsigned int i, n = 0;
    long long devid;
    char **entries;
    int *devids;
    int num = 0;

    entries = libxl__xs_directory(gc, t, path, &n);
    if (!entries && errno != ENOENT) {
        LOGED(ERROR, domid, "Cannot list %s", path);
        return ERROR_FAIL;
    }
    GCNEW_ARRAY(devids, n + 1);
    for (i = 0; i < n; i++) {
        if (libxl__strtoint(entries[i], 0, INT_MAX, &devid)) {
            LOGD(WARN, domid, "Ignoring %s/%s: not a controller id", path,
                 entries[i]);
            continue;
        }
        devids[num++] = devid;
    }
    qsort(devids, num, sizeof(*devids), compare_ints);
    *devids_r = devids;
    *num_r = num;
    return 0;
}

static char *usbctrl_port_path(libxl__gc *gc, uint32_t domid,
                               const libxl_device_usbctrl *usbctrl, int port)
{
    return GCSPRINTF("%s/port/%d", vusb_be_path(gc, usbctrl, domid), port);
}

/*
 * The busid on a port, or NULL if the port is free.  ERROR_INVAL (logged)
 * if it holds something that is not a busid: whoever reads the port
 * skips it, and nobody takes the port.  ERROR_NOTFOUND if the controller
 * has no such port: its ports are port/1..num-ports, all written when it
 * is made, so ports can be scanned without reading num-ports.
 */
static int usbctrl_port_read(libxl__gc *gc, xs_transaction_t t,
                             uint32_t domid,
                             const libxl_device_usbctrl *usbctrl, int port,
                             const char **busid_r)
{
    const char *path = usbctrl_port_path(gc, domid, usbctrl, port);
    const char *busid;
    int rc;

    rc = libxl__xs_read_checked(gc, t, path, &busid);
    if (rc) return rc;
    if (!busid) return ERROR_NOTFOUND;
    if (*busid && !libxl__usbhost_busid_is_valid(busid)) {
        LOGD(WARN, domid, "Ignoring %s: \"%s\" is not a USB busid", path,
             busid);
        return ERROR_INVAL;
    }
    *busid_r = *busid ? busid : NULL;
    return 0;
}

/*----- every mutating operation: its ao, its domain, the lock -----*/

/*
 * The state every operation that changes a domain's devices starts with,
 * embedded first in its own (recovered with CONTAINER_OF): usb_op_init,
 * the caller's fields, usb_op_start; locked runs once the domain lock is
 * held, and the operation ends with usb_op_complete.
 */
typedef struct usb_op usb_op;
typedef void usb_op_fn(libxl__egc *egc, usb_op *op);
struct usb_op {
    /* caller fills these in */
    libxl__ao *ao;
    uint32_t domid;
    usb_op_fn *locked;          /* runs with the lock held */
    unsigned int flags;         /* LIBXL_USB_*: the declaration's part */
    const char *busid;          /* the device an attach declares */
    /* private to usb_op_* */
    libxl__domain_lock lock;
    const char *uuid;           /* looked up once locked; NULL: gone */
    long long gen;              /* the generation (below) as this
                                 * operation last saw it; -1: unknown */
    long long gen_next;         /* what a transaction counts it up to */
};

/*
 * Every change to a domain's controllers or ports, made in a transaction,
 * also counts up /libxl/<domid>/usb-generation; the persisted
 * configuration records the generation it matches.  So a process killed
 * between the commit and the file update leaves a file whose generation
 * is behind, and the next operation on the domain rebuilds it from
 * xenstore: xenstore is the truth, the file is repaired from it.  (A
 * detach frees its port without a transaction, after the file update:
 * usbdev_free_port.)
 */
static char *usb_gen_path(libxl__gc *gc, uint32_t domid)
{
    return GCSPRINTF("/libxl/%u/usb-generation", domid);
}

static int usb_gen_read(libxl__gc *gc, xs_transaction_t t, uint32_t domid,
                        long long *gen_r)
{
    const char *val;
    int rc;

    rc = libxl__xs_read_checked(gc, t, usb_gen_path(gc, domid), &val);
    if (rc) return rc;
    *gen_r = 0;
    if (val && libxl__strtoint(val, 0, INT_MAX, gen_r))
        LOGD(WARN, domid, "%s: \"%s\" is not a generation; taken as 0",
             usb_gen_path(gc, domid), val);
    return 0;
}

/* Counts the generation up in t; op->gen has it once t commits
 * (usb_txn_commit). */
static int usb_gen_bump(libxl__gc *gc, xs_transaction_t t, usb_op *op)
{
    long long gen;
    int rc;

    rc = usb_gen_read(gc, t, op->domid, &gen);
    if (rc) return rc;
    op->gen_next = (gen + 1) % INT_MAX;
    return libxl__xs_printf(gc, t, usb_gen_path(gc, op->domid), "%lld",
                            op->gen_next);
}

/* libxl__xs_transaction_commit of a transaction that counted the
 * generation up. */
static int usb_txn_commit(libxl__gc *gc, usb_op *op, xs_transaction_t *t)
{
    int rc = libxl__xs_transaction_commit(gc, t);

    if (!rc) op->gen = op->gen_next;
    return rc;
}

/* Puts busid ("": none) on a port, in transaction t, which counts. */
static int usbctrl_port_write(libxl__gc *gc, xs_transaction_t t, usb_op *op,
                              const libxl_device_usbctrl *usbctrl, int port,
                              const char *busid)
{
    int rc = libxl__xs_write_checked(gc, t,
                 usbctrl_port_path(gc, op->domid, usbctrl, port), busid);

    return rc ? rc : usb_gen_bump(gc, t, op);
}

/*----- the ownership record: whose a host device is -----*/

static int usb_port_holds(libxl__gc *gc, xs_transaction_t t,
                          uint32_t domid, int ctrl, int port,
                          const char *busid, bool *holds_r)
{
    libxl_device_usbctrl usbctrl;
    const char *held = NULL;
    int rc;

    libxl_device_usbctrl_init(&usbctrl);
    *holds_r = false;
    rc = usbctrl_read_backend(gc, t, domid, ctrl, &usbctrl);
    if (rc == ERROR_NOTFOUND) {
        rc = 0;                 /* the controller, or its domain, is gone */
        goto out;
    }
    if (!rc)
        rc = usbctrl_port_read(gc, t, domid, &usbctrl, port, &held);
    if (rc == ERROR_INVAL || rc == ERROR_NOTFOUND) rc = 0;
    *holds_r = !rc && held && !strcmp(held, busid);
out:
    libxl_device_usbctrl_dispose(&usbctrl);
    return rc;
}

/* Takes o, a record of busid, as nobody's (INVALID_DOMID) if stale. */
static int usb_owner_check(libxl__gc *gc, xs_transaction_t t,
                           const char *busid, libxl__usbhost_owner *o)
{
    bool holds;
    int rc;

    if (o->domid == INVALID_DOMID) return 0;
    rc = usb_port_holds(gc, t, o->domid, o->ctrl, o->port, busid, &holds);
    if (rc) return rc;
    if (!holds) {
        LOG(DEBUG, "The ownership record of %s is stale (domain %u "
            "controller %d port %d no longer holds it)", busid, o->domid,
            o->ctrl, o->port);
        o->domid = INVALID_DOMID;
    }
    return 0;
}

/* The record, or o->domid = INVALID_DOMID if none or stale. */
static int usb_owner_read(libxl__gc *gc, xs_transaction_t t,
                          const char *busid, libxl__usbhost_owner *o)
{
    int rc = libxl__usbhost_owner_read(gc, t, busid, o);

    return rc ? rc : usb_owner_check(gc, t, busid, o);
}

/*
 * The record of busid, read from port of ctrl of domid, which holds it: a
 * record naming that port is current without a second look.
 */
static int usb_owner_read_at(libxl__gc *gc, uint32_t domid, int ctrl,
                             int port, const char *busid,
                             libxl__usbhost_owner *o)
{
    int rc = libxl__usbhost_owner_read(gc, XBT_NULL, busid, o);

    if (rc || libxl__usbhost_owner_is(o, domid, ctrl, port)) return rc;
    return usb_owner_check(gc, XBT_NULL, busid, o);
}

/* The first port of domid's dom0-served controllers that holds busid. */
static int usb_find_holder_in(libxl__gc *gc, xs_transaction_t t,
                              uint32_t domid, const char *busid,
                              libxl__usbhost_owner *o)
{
    libxl_device_usbctrl usbctrl;
    const char *held;
    int *devids;
    int i, num, port, rc;

    libxl_device_usbctrl_init(&usbctrl);
    rc = usbctrl_devids(gc, t, domid, &devids, &num);
    for (i = 0; !rc && i < num && o->domid == INVALID_DOMID; i++) {
        if (usbctrl_read(gc, t, domid, devids[i], &usbctrl) ||
            !usbctrl_is_dom0s(&usbctrl))
            continue;
        for (port = 1; port <= usbctrl.ports; port++) {
            if (usbctrl_port_read(gc, t, domid, &usbctrl, port, &held) ||
                !held || strcmp(held, busid))
                continue;
            o->domid = domid;
            o->ctrl = usbctrl.devid;
            o->port = port;
            o->attaching = false;
            break;
        }
    }
    libxl_device_usbctrl_dispose(&usbctrl);
    return rc;
}

/*
 * Looks for busid on every port of every domain: what another toolstack
 * (Debian's xl) assigned has no record of ours.  O(all ports): only for
 * when the record and sysfs disagree.
 */
static int usb_find_holder(libxl__gc *gc, xs_transaction_t t,
                           const char *busid, libxl__usbhost_owner *o)
{
    unsigned int i, n = 0;
    long long domid;
    char **entries;
    int rc = 0;

    o->domid = INVALID_DOMID;
    entries = libxl__xs_directory(gc, t, "/libxl", &n);
    for (i = 0; entries && i < n && !rc && o->domid == INVALID_DOMID; i++) {
        if (libxl__strtoint(entries[i], 0, INT32_MAX, &domid)) continue;
        rc = usb_find_holder_in(gc, t, domid, busid, o);
    }
    return rc;
}

/*
 * Who holds busid, from more than one witness: the ownership record, and
 * if it names nobody, sysfs.  Interfaces on usbback or usbfs with no
 * record mean someone else may have given the device away: the ports of
 * every domain are searched.  *claim_r is the claiming driver's name when
 * sysfs says the device is claimed and no domain holds it (a leftover on
 * usbback, or a program on the host on usbfs), else NULL.
 */
static int usb_holder(libxl__gc *gc, xs_transaction_t t, const char *busid,
                      libxl__usbhost_owner *o, const char **claim_r)
{
    int rc;

    *claim_r = NULL;
    rc = usb_owner_read(gc, t, busid, o);
    if (rc || o->domid != INVALID_DOMID) return rc;
    rc = libxl__usbhost_claiming_driver(gc, busid, claim_r);
    if (rc || !*claim_r) return rc;
    rc = usb_find_holder(gc, t, busid, o);
    if (!rc && o->domid != INVALID_DOMID) *claim_r = NULL;
    return rc;
}

/* Refuses a device someone holds; ERROR_DEVICE_EXISTS, logged. */
static int usb_check_free(libxl__gc *gc, uint32_t domid, const char *busid,
                          const libxl__usbhost_owner *o, const char *claim)
{
    if (o->domid != INVALID_DOMID) {
        LOGD(ERROR, domid, "USB device %s is already assigned to domain %u "
             "(controller %d port %d)%s", busid, o->domid, o->ctrl, o->port,
             o->attaching ? "; that attach has not finished (if none is "
             "running, run it again to finish it, or detach it)" : "");
        return ERROR_DEVICE_EXISTS;
    }
    if (claim && !strcmp(claim, "usbfs")) {
        LOGD(ERROR, domid, "USB device %s is claimed by a program on the "
             "host (its interfaces are on usbfs); stop that program first",
             busid);
        return ERROR_DEVICE_EXISTS;
    }
    return 0;
}

/*
 * The device at port of usbctrl as dom0 vouches for it: the port holds a
 * busid, the controller is served by dom0, and the ownership record is
 * this port's, fully attached (or absent: another toolstack assigned
 * it).  ERROR_NOTFOUND otherwise; what is skipped and why is logged.
 */
static int usbdev_read(libxl__gc *gc, uint32_t domid,
                       const libxl_device_usbctrl *usbctrl, int port,
                       libxl_device_usbdev *usbdev, const char **busid_r)
{
    const char *busid;
    libxl__usbhost_owner o;
    int rc;

    if (!usbctrl_is_dom0s(usbctrl)) return ERROR_NOTFOUND;
    rc = usbctrl_port_read(gc, XBT_NULL, domid, usbctrl, port, &busid);
    if (rc == ERROR_INVAL || (!rc && !busid)) return ERROR_NOTFOUND;
    if (rc) return rc;
    rc = usb_owner_read_at(gc, domid, usbctrl->devid, port, busid, &o);
    if (rc) return rc;
    if (o.domid != INVALID_DOMID &&
        !libxl__usbhost_owner_is(&o, domid, usbctrl->devid, port)) {
        LOGD(WARN, domid, "Ignoring controller %d port %d: it holds %s, "
             "which is domain %u's (controller %d port %d)", usbctrl->devid,
             port, busid, o.domid, o.ctrl, o.port);
        return ERROR_NOTFOUND;
    }
    if (o.attaching) {
        LOGD(DEBUG, domid, "%s on controller %d port %d is still being "
             "attached", busid, usbctrl->devid, port);
        return ERROR_NOTFOUND;
    }
    usbdev->type = LIBXL_USBDEV_TYPE_HOSTDEV;
    usbdev->ctrl = usbctrl->devid;
    usbdev->port = port;
    if (busid_r) *busid_r = busid;
    return libxl__usbhost_busaddr(gc, busid, &usbdev->u.hostdev.hostbus,
                                &usbdev->u.hostdev.hostaddr);
}

/* Appends the devices of usbctrl to *usbdevs (malloc'd, *num of them),
 * and if busids is not NULL their busids to *busids (malloc'd, each
 * one too). */
static int usbdev_list_ctrl(libxl__gc *gc, uint32_t domid,
                            const libxl_device_usbctrl *usbctrl,
                            libxl_device_usbdev **usbdevs, char ***busids,
                            int *num)
{
    libxl_device_usbdev *d;
    const char *busid;
    int port, rc;

    for (port = 1; port <= usbctrl->ports; port++) {
        *usbdevs = libxl__realloc(NOGC, *usbdevs,
                                  (*num + 1) * sizeof(**usbdevs));
        d = &(*usbdevs)[*num];
        libxl_device_usbdev_init(d);
        rc = usbdev_read(gc, domid, usbctrl, port, d, &busid);
        if (!rc) {
            if (busids) {
                *busids = libxl__realloc(NOGC, *busids,
                                         (*num + 1) * sizeof(**busids));
                (*busids)[*num] = libxl__strdup(NOGC, busid);
            }
            (*num)++;
            continue;
        }
        libxl_device_usbdev_dispose(d);
        if (rc != ERROR_NOTFOUND) return rc;
    }
    return 0;
}

/*----- the persisted configuration -----*/

#define USB_CONFIG_USERID "json"

int libxl__get_domain_usb_config(libxl__gc *gc, const char *uuid,
                                 libxl_domain_usb_config *cfg)
{
    char *text;
    int rc;

    rc = libxl__userdata_retrieve(gc, uuid, USB_CONFIG_USERID, &text);
    if (rc || !text) return rc;
    rc = libxl_domain_usb_config_from_json(CTX, cfg, text);
    if (rc)
        LOG(ERROR, "The persisted USB configuration of domain %s (%s."
            USB_CONFIG_USERID " in the state directory) is not valid; "
            "remove it, and the next operation rebuilds it from xenstore",
            uuid, uuid);
    return rc;
}

int libxl__set_domain_usb_config(libxl__gc *gc, const char *uuid,
                                 libxl_domain_usb_config *cfg)
{
    char *text = libxl_domain_usb_config_to_json(CTX, cfg);

    if (!text) return ERROR_FAIL;
    libxl__ptr_add(gc, text);
    return libxl__userdata_store(gc, uuid, USB_CONFIG_USERID, text);
}

int libxl__remove_domain_usb_config(libxl__gc *gc, const char *uuid)
{
    return libxl__userdata_destroy(gc, uuid, USB_CONFIG_USERID);
}

/* What xenstore says the domain has, as the configuration lists it. */
static int usb_config_from_xenstore(libxl__gc *gc, uint32_t domid,
                                    libxl_domain_usb_config *cfg)
{
    libxl_device_usbctrl *c;
    int *devids;
    int i, num, rc;

    rc = usbctrl_devids(gc, XBT_NULL, domid, &devids, &num);
    if (rc) return rc;
    cfg->usbctrls = libxl__calloc(NOGC, num ? num : 1, sizeof(*c));
    for (i = 0; i < num; i++) {
        c = &cfg->usbctrls[cfg->num_usbctrls];
        libxl_device_usbctrl_init(c);
        rc = usbctrl_read(gc, XBT_NULL, domid, devids[i], c);
        if (rc) {
            libxl_device_usbctrl_dispose(c);
            if (rc == ERROR_NOTFOUND) continue;
            return rc;
        }
        cfg->num_usbctrls++;
        rc = usbdev_list_ctrl(gc, domid, c, &cfg->usbdevs, NULL,
                              &cfg->num_usbdevs);
        if (rc) return rc;
    }
    return 0;
}

/* Drops controller devid with its devices (port 0) or the device at
 * devid:port, then appends usbctrl and usbdev if they are given. */
static void usb_config_change(libxl__gc *gc, libxl_domain_usb_config *cfg,
                              int devid, int port,
                              const libxl_device_usbctrl *usbctrl,
                              const libxl_device_usbdev *usbdev)
{
    int i, j;

    for (i = j = 0; i < cfg->num_usbctrls; i++) {
        if (!port && cfg->usbctrls[i].devid == devid)
            libxl_device_usbctrl_dispose(&cfg->usbctrls[i]);
        else
            cfg->usbctrls[j++] = cfg->usbctrls[i];
    }
    cfg->num_usbctrls = j;
    for (i = j = 0; i < cfg->num_usbdevs; i++) {
        if (cfg->usbdevs[i].ctrl == devid &&
            (!port || cfg->usbdevs[i].port == port))
            libxl_device_usbdev_dispose(&cfg->usbdevs[i]);
        else
            cfg->usbdevs[j++] = cfg->usbdevs[i];
    }
    cfg->num_usbdevs = j;

    if (usbctrl) {
        cfg->usbctrls = libxl__realloc(NOGC, cfg->usbctrls,
                         (cfg->num_usbctrls + 1) * sizeof(*cfg->usbctrls));
        libxl_device_usbctrl_init(&cfg->usbctrls[cfg->num_usbctrls]);
        libxl_device_usbctrl_copy(CTX, &cfg->usbctrls[cfg->num_usbctrls++],
                                  usbctrl);
    }
    if (usbdev) {
        cfg->usbdevs = libxl__realloc(NOGC, cfg->usbdevs,
                         (cfg->num_usbdevs + 1) * sizeof(*cfg->usbdevs));
        libxl_device_usbdev_init(&cfg->usbdevs[cfg->num_usbdevs]);
        libxl_device_usbdev_copy(CTX, &cfg->usbdevs[cfg->num_usbdevs++],
                                 usbdev);
    }
}

/*
 * Brings domid's persisted USB configuration up to date after a change
 * to xenstore (usb_config_change's arguments; devid -1: none).  The
 * caller holds the domain lock.  The change is applied to the file if
 * the file was up to date before it (one generation behind, or already
 * at this one: applying it twice is harmless); else the file is behind
 * from an operation that died, and is rebuilt from xenstore first (the
 * change still applied: a device being attached is not listed yet).
 */
static int usb_config_update(libxl__gc *gc, usb_op *op, int devid,
                             int port, const libxl_device_usbctrl *usbctrl,
                             const libxl_device_usbdev *usbdev)
{
    const uint32_t domid = op->domid;
    libxl_domain_usb_config cfg;
    long long gen;
    int rc = 0;

    libxl_domain_usb_config_init(&cfg);
    if (!op->uuid) {
        LOGD(DEBUG, domid, "The domain is gone: its persisted USB "
             "configuration, named by its uuid, is left as it is");
        goto out;
    }
    if (op->gen < 0) {
        rc = usb_gen_read(gc, XBT_NULL, domid, &op->gen);
        if (rc) goto out;
    }
    gen = op->gen;
    rc = libxl__get_domain_usb_config(gc, op->uuid, &cfg);
    if (rc) goto out;
    if (devid < 0 && cfg.generation == gen) goto out;   /* up to date */
    if (devid < 0 ||
        (cfg.generation != gen && cfg.generation + 1 != gen)) {
        /* gen 0: the last controller went; a rebuild is expected */
        if (gen)
            LOGD(INFO, domid, "The persisted USB configuration (generation "
                 "%d) is not xenstore's (%lld); rebuilt from xenstore",
                 cfg.generation, gen);
        libxl__usb_config_drop_live(&cfg);
        rc = usb_config_from_xenstore(gc, domid, &cfg);
        if (rc) goto out;
    }
    /* Also after a rebuild: a device being attached is not listed yet. */
    usb_config_change(gc, &cfg, devid, port, usbctrl, usbdev);
    if (devid >= 0)
        rc = libxl__usb_decl_change(gc, &cfg, op->flags, devid, port,
                                    usbctrl, usbdev, op->busid);
    if (rc) goto out;
    cfg.generation = gen;
    rc = libxl__set_domain_usb_config(gc, op->uuid, &cfg);
out:
    libxl_domain_usb_config_dispose(&cfg);
    return rc;
}

/* Repairs the configuration if an earlier operation left it behind. */
static int usb_config_sync(libxl__gc *gc, usb_op *op)
{
    return usb_config_update(gc, op, -1, -1, NULL, NULL);
}

/*----- the operation's life -----*/

static void usb_op_lock_acquired(libxl__egc *egc, libxl__domain_lock *dl,
                                 int rc);

/*
 * Ends the operation: the lock is let go, the ao completes with rc.  An
 * operation that changed something has brought the configuration up to
 * date as it did; one that failed (a re-run that found nothing left to
 * do among them) repairs what an earlier one that died left behind.
 */
static void usb_op_complete(libxl__egc *egc, usb_op *op, int rc)
{
    STATE_AO_GC(op->ao);

    if (rc && op->lock.fd >= 0)
        usb_config_sync(gc, op);
    libxl__domain_lock_release(gc, &op->lock);
    libxl__ao_complete(egc, ao, rc);
}

static void usb_op_init(usb_op *op)
{
    libxl__domain_lock_init(&op->lock);
    op->flags = 0;
    op->busid = NULL;
    op->uuid = NULL;
    op->gen = -1;
}

/* Runs op->locked(egc, op) once op->domid's lock is held. */
static void usb_op_start(libxl__egc *egc, usb_op *op)
{
    op->lock.ao = op->ao;
    op->lock.domid = op->domid;
    op->lock.callback = usb_op_lock_acquired;
    libxl__domain_lock_acquire(egc, &op->lock);
}

/* A domain that died may leave its devices for its toolstack to take
 * back, but its uuid can no longer be read: op->uuid is then NULL. */
static void usb_op_lock_acquired(libxl__egc *egc, libxl__domain_lock *dl,
                                 int rc)
{
    usb_op *op = CONTAINER_OF(dl, *op, lock);
    STATE_AO_GC(op->ao);

    if (rc) goto out;
    rc = libxl__domain_uuid_string(gc, op->domid, &op->uuid);
    if (rc == ERROR_DOMAIN_NOTFOUND) rc = 0;
    if (rc) goto out;
    op->locked(egc, op);
    return;
out:
    usb_op_complete(egc, op, rc);
}

/* For an operation that gives the domain something: it must exist. */
static int usb_op_check_domain(libxl__gc *gc, const usb_op *op)
{
    if (op->uuid) return 0;
    LOGD(ERROR, op->domid, "no such domain");
    return ERROR_DOMAIN_NOTFOUND;
}

/* libxl__usb_config_repair: the lock taken, the configuration brought
 * up to date with xenstore. */
static void usb_repair_locked(libxl__egc *egc, usb_op *op)
{
    STATE_AO_GC(op->ao);

    usb_op_complete(egc, op, op->uuid ? usb_config_sync(gc, op) : 0);
}

int libxl__usb_config_repair(libxl_ctx *ctx, uint32_t domid)
{
    AO_CREATE(ctx, domid, NULL);
    EGC_INIT(ctx);
    usb_op *op;

    GCNEW(op);
    usb_op_init(op);
    op->ao = ao;
    op->domid = domid;
    op->locked = usb_repair_locked;
    usb_op_start(egc, op);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- the device model (QEMU, over QMP) -----*/

/*
 * One command to the device model (QEMU) of a domain, a sub-operation:
 * usb_dm_init once, then the caller's fields and a command
 * (usb_dm_device_add/_del, or one made of them), which always ends by
 * calling callback, possibly before returning; dm may then be used again.
 */
typedef struct usb_dm usb_dm;
typedef void usb_dm_callback(libxl__egc *egc, usb_dm *dm, int rc);
struct usb_dm {
    /* caller fills these in */
    libxl__ao *ao;
    uint32_t domid;
    usb_dm_callback *callback;
    /* private to usb_dm_* */
    const char *id;
    libxl__ev_qmp qmp;
};

static void usb_dm_init(usb_dm *dm)
{
    dm->id = NULL;
    libxl__ev_qmp_init(&dm->qmp);
}

static void usb_dm_send(libxl__egc *egc, usb_dm *dm, const char *id,
                        const char *cmd, const char *const *args,
                        libxl__ev_qmp_callback *callback)
{
    dm->id = libxl__strdup(libxl__ao_inprogress_gc(dm->ao), id);
    dm->qmp.ao = dm->ao;
    dm->qmp.domid = dm->domid;
    dm->qmp.callback = callback;
    libxl__ev_qmp_send(egc, &dm->qmp, cmd, args);
}

static void usb_dm_added(libxl__egc *egc, libxl__ev_qmp *qmp, int rc)
{
    usb_dm *dm = CONTAINER_OF(qmp, *dm, qmp);
    EGC_GC;

    if (rc == ERROR_NOTFOUND)
        LOGD(ERROR, dm->domid, "No device model (QEMU) answers QMP at "
             LIBXL_QMP_SOCKET_DIR "/qmp-libxl-%u; type devicemodel is for "
             "HVM guests", dm->domid);
    else if (rc == ERROR_QMP_DEVICE_NOT_FOUND)
        LOGD(ERROR, dm->domid, "QEMU cannot add %s: a device it needs is "
             "not found", dm->id);
    dm->callback(egc, dm, rc);
}

/* Adds device id, described by args, to the QEMU of dm->domid. */
static void usb_dm_device_add(libxl__egc *egc, usb_dm *dm, const char *id,
                              const char *const *args)
{
    usb_dm_send(egc, dm, id, "device_add", args, usb_dm_added);
}

static void usb_dm_deleted(libxl__egc *egc, libxl__ev_qmp *qmp, int rc)
{
    usb_dm *dm = CONTAINER_OF(qmp, *dm, qmp);
    EGC_GC;

    if (rc == ERROR_NOTFOUND || rc == ERROR_QMP_DEVICE_NOT_FOUND) {
        LOGD(DEBUG, dm->domid, "%s is not in the device model: removed "
             "already", dm->id);
        rc = 0;
    }
    dm->callback(egc, dm, rc);
}

/*
 * Removes device id from the QEMU of dm->domid.  Crash-only: a device
 * QEMU does not have, or a QEMU that is gone, means it is removed
 * already.
 */
static void usb_dm_device_del(libxl__egc *egc, usb_dm *dm, const char *id)
{
    usb_dm_send(egc, dm, id, "device_del",
                (const char *[]){ "id", id, NULL }, usb_dm_deleted);
}

static char *usbctrl_dm_id(libxl__gc *gc, int devid)
{
    return GCSPRINTF("xenusb-%d", devid);
}

/* Adds the emulated controller to QEMU (versions: usb_dm_ctrls). */
static void usbctrl_dm_add(libxl__egc *egc, usb_dm *dm,
                           const libxl_device_usbctrl *usbctrl)
{
    EGC_GC;
    const char *id = usbctrl_dm_id(gc, usbctrl->devid);
    const char *ports = GCSPRINTF("%d", usbctrl->ports);
    const char *args[] = {
        "driver", usb_dm_ctrls[usbctrl->version].driver,
        "id", id,
        "p2", ports,        /* xhci's USB 2 and USB 3 ports */
        "p3", ports,
        NULL };

    if (usb_dm_ctrls[usbctrl->version].ports)
        args[4] = NULL;     /* a fixed number of ports */
    usb_dm_device_add(egc, dm, id, args);
}

/* QEMU's name of a host device given to a guest, as libxl names it. */
static char *usbdev_dm_id(libxl__gc *gc, int hostbus, int hostaddr)
{
    return GCSPRINTF("xenusb-%d-%d", hostbus, hostaddr);
}

/*
 * Takes busid back from QEMU.  QEMU names it by the hostbus and hostaddr
 * it had when attached; an unplugged device no longer has them, and QEMU
 * has let it go already (its usb-host object stays, without a device).
 */
static void usbdev_dm_del(libxl__egc *egc, usb_dm *dm, const char *busid)
{
    STATE_AO_GC(dm->ao);
    uint8_t bus, addr;
    int rc;

    rc = libxl__usbhost_busaddr(gc, busid, &bus, &addr);
    if (rc) goto out;
    if (!bus) {
        LOGD(WARN, dm->domid, "USB device %s is unplugged: QEMU has let it "
             "go, and its usb-host device can no longer be named", busid);
        goto out;
    }
    usb_dm_device_del(egc, dm, usbdev_dm_id(gc, bus, addr));
    return;
out:
    dm->callback(egc, dm, rc);
}

/* Gives usbdev, on its port, to QEMU: it claims it through libusb. */
static void usbdev_dm_add(libxl__egc *egc, usb_dm *dm,
                          const libxl_device_usbdev *usbdev)
{
    STATE_AO_GC(dm->ao);
    const int bus = usbdev->u.hostdev.hostbus;
    const int addr = usbdev->u.hostdev.hostaddr;
    const char *id = usbdev_dm_id(gc, bus, addr);

    usb_dm_device_add(egc, dm, id, (const char *[]){
        "id", id,
        "driver", "usb-host",
        "bus", GCSPRINTF("%s.0", usbctrl_dm_id(gc, usbdev->ctrl)),
        "port", GCSPRINTF("%d", usbdev->port),
        "hostbus", GCSPRINTF("%d", bus),
        "hostaddr", GCSPRINTF("%d", addr),
        NULL });
}

/*----- a controller's xenstore dirs -----*/

/* Removes path, and up to `levels` of its parents that it leaves empty. */
static int xs_rm_with_parents(libxl__gc *gc, xs_transaction_t t,
                              const char *path, int levels)
{
    char *parent = libxl__strdup(gc, path);
    unsigned int n;
    int rc;

    rc = libxl__xs_rm_checked(gc, t, path);
    while (!rc && levels--) {
        *strrchr(parent, '/') = 0;
        if (!libxl__xs_directory(gc, t, parent, &n) || n) break;
        rc = libxl__xs_rm_checked(gc, t, parent);
    }
    return rc;
}

/* Removes every trace of a controller from xenstore. */
static int usbctrl_del_xenstore(libxl__gc *gc, usb_op *op,
                                const libxl_device_usbctrl *usbctrl)
{
    const uint32_t domid = op->domid;
    xs_transaction_t t = XBT_NULL;
    int rc;

    for (;;) {
        rc = libxl__xs_transaction_start(gc, &t);
        if (rc) goto out;
        rc = xs_rm_with_parents(gc, t, vusb_be_path(gc, usbctrl, domid),
                                1);
        if (rc) goto out;
        rc = xs_rm_with_parents(gc, t,
                                vusb_fe_path(gc, domid, usbctrl->devid), 1);
        if (rc) goto out;
        /* .../device/vusb/<devid>: vusb and device too, if left empty */
        rc = xs_rm_with_parents(gc, t,
                                vusb_libxl_path(gc, domid, usbctrl->devid),
                                2);
        if (rc) goto out;
        /* The last controller takes the generation with it: nothing is
         * left behind, and every operation rebuilds a file that is not
         * at the generation xenstore has (absent: 0) before it counts. */
        if (libxl__xs_read(gc, t, GCSPRINTF("/libxl/%u/device", domid))) {
            rc = usb_gen_bump(gc, t, op);
        } else {
            op->gen_next = 0;
            rc = libxl__xs_rm_checked(gc, t, usb_gen_path(gc, domid));
        }
        if (rc) goto out;
        rc = usb_txn_commit(gc, op, &t);
        if (!rc) break;
        if (rc < 0) goto out;
    }
out:
    libxl__xs_transaction_abort(gc, &t);
    return rc;
}

static int usbctrl_del(libxl__gc *gc, usb_op *op,
                       const libxl_device_usbctrl *usbctrl)
{
    int rc;

    rc = usbctrl_del_xenstore(gc, op, usbctrl);
    if (rc) return rc;
    return usb_config_update(gc, op, usbctrl->devid, 0, NULL, NULL);
}

/* The lowest devid no controller of domid has. */
static int usbctrl_free_devid(libxl__gc *gc, xs_transaction_t t,
                              uint32_t domid, int *devid_r)
{
    int *devids;
    int i, num, rc;

    rc = usbctrl_devids(gc, t, domid, &devids, &num);
    if (rc) return rc;
    for (i = 0; i < num && devids[i] == i; i++)
        ;
    *devid_r = i;
    return 0;
}

/* type, usb-ver, num-ports and the free ports of a new controller. */
static int usbctrl_write_ports(libxl__gc *gc, xs_transaction_t t,
                               uint32_t domid,
                               const libxl_device_usbctrl *usbctrl)
{
    int i, rc;

    rc = libxl__xs_writev(gc, t, vusb_be_path(gc, usbctrl, domid),
                          (const char *[]){
        "type", libxl_usbctrl_type_to_string(usbctrl->type),
        "usb-ver", GCSPRINTF("%d", usbctrl->version),
        "num-ports", GCSPRINTF("%d", usbctrl->ports),
        "port", "",
        NULL });
    for (i = 1; !rc && i <= usbctrl->ports; i++)
        rc = libxl__xs_write_checked(gc, t,
                 usbctrl_port_path(gc, domid, usbctrl, i), "");
    return rc;
}

/*
 * Writes frontend, backend and the private view of a new xenbus
 * controller, in transaction t.  A frontend dir the guest may have made
 * beforehand is replaced.
 */
static int usbctrl_add_xenbus(libxl__gc *gc, xs_transaction_t t,
                              uint32_t domid,
                              const libxl_device_usbctrl *usbctrl)
{
    struct xs_permissions noperm[] = { { .id = 0, .perms = XS_PERM_NONE } };
    const char *fe_path = vusb_fe_path(gc, domid, usbctrl->devid);
    const char *be_path = vusb_be_path(gc, usbctrl, domid);
    const char *libxl_path = vusb_libxl_path(gc, domid, usbctrl->devid);
    int rc;

    rc = libxl__xs_rm_checked(gc, t, fe_path);
    if (rc) return rc;
    rc = libxl__xs_rm_checked(gc, t, be_path);
    if (rc) return rc;

    rc = libxl__xs_mkdir_device(gc, t, be_path, usbctrl->backend_domid,
                                domid);
    if (rc) return rc;
    rc = libxl__xs_writev(gc, t, be_path, (const char *[]){
        "frontend", fe_path,
        "frontend-id", GCSPRINTF("%u", domid),
        "online", "1",
        "state", GCSPRINTF("%d", XenbusStateInitialising),
        NULL });
    if (rc) return rc;
    rc = usbctrl_write_ports(gc, t, domid, usbctrl);
    if (rc) return rc;

    rc = libxl__xs_mkdir_device(gc, t, fe_path, domid,
                                usbctrl->backend_domid);
    if (rc) return rc;
    rc = libxl__xs_writev(gc, t, fe_path, (const char *[]){
        "backend", be_path,
        "backend-id", GCSPRINTF("%u", usbctrl->backend_domid),
        "state", GCSPRINTF("%d", XenbusStateInitialising),
        NULL });
    if (rc) return rc;

    rc = libxl__xs_mknod(gc, t, libxl_path, noperm, 1);
    if (rc) return rc;
    return libxl__xs_writev(gc, t, libxl_path, (const char *[]){
        "frontend", fe_path,
        "backend", be_path,
        "type", libxl_usbctrl_type_to_string(usbctrl->type),
        NULL });
}

/*
 * Writes a new controller to xenstore in one transaction: a xenbus one
 * (usbctrl_add_xenbus), or for devicemodel the private view alone.
 */
static int usbctrl_add_xenstore(libxl__gc *gc, usb_op *op,
                                libxl_device_usbctrl *usbctrl)
{
    const uint32_t domid = op->domid;
    const bool choose_devid = usbctrl->devid < 0;
    struct xs_permissions noperm[] = { { .id = 0, .perms = XS_PERM_NONE } };
    xs_transaction_t t = XBT_NULL;
    const char *libxl_path;
    int rc;

    for (;;) {
        rc = libxl__xs_transaction_start(gc, &t);
        if (rc) goto out;
        if (choose_devid) {
            rc = usbctrl_free_devid(gc, t, domid, &usbctrl->devid);
            if (rc) goto out;
        }
        libxl_path = vusb_libxl_path(gc, domid, usbctrl->devid);
        if (libxl__xs_read(gc, t, libxl_path)) {
            LOGD(ERROR, domid, "USB controller %d already exists",
                 usbctrl->devid);
            rc = ERROR_DEVICE_EXISTS;
            goto out;
        }

        if (usbctrl_is_dm(usbctrl)) {
            rc = libxl__xs_mknod(gc, t, libxl_path, noperm, 1);
            if (!rc) rc = usbctrl_write_ports(gc, t, domid, usbctrl);
        } else {
            rc = usbctrl_add_xenbus(gc, t, domid, usbctrl);
        }
        if (!rc) rc = usb_gen_bump(gc, t, op);
        if (rc) goto out;

        rc = usb_txn_commit(gc, op, &t);
        if (!rc) break;
        if (rc < 0) goto out;
    }
out:
    libxl__xs_transaction_abort(gc, &t);
    return rc;
}

/*----- adding a controller -----*/

/*
 * Adding a controller, a sub-operation of an operation holding the lock
 * (libxl_device_usbctrl_add, or an attach that needs one): usbctrl_add_init,
 * the caller's fields, usbctrl_add_start; it ends by calling callback,
 * possibly before usbctrl_add_start returns.
 */
typedef struct usbctrl_add_state usbctrl_add_state;
typedef void usbctrl_add_callback(libxl__egc *egc, usbctrl_add_state *uas,
                                  int rc);
struct usbctrl_add_state {
    /* caller fills these in */
    usb_op *op;                      /* the operation it is part of */
    libxl_device_usbctrl *usbctrl;   /* updated with what was chosen */
    usbctrl_add_callback *callback;
    /* private to usbctrl_add_* */
    libxl__ev_devstate ds;
    usb_dm dm;
};

static void usbctrl_add_init(usbctrl_add_state *uas)
{
    libxl__ev_devstate_init(&uas->ds);
    usb_dm_init(&uas->dm);
}

/* Version and ports of a xenbus (pv, qusb) controller; ports 0: default. */
static int usbctrl_check_ports(libxl__gc *gc, uint32_t domid,
                               libxl_device_usbctrl *usbctrl)
{
    if (usbctrl->version < 1 || usbctrl->version > 2) {
        LOGD(ERROR, domid, "USB version %d: it must be 1 or 2 for type %s",
             usbctrl->version, libxl_usbctrl_type_to_string(usbctrl->type));
        return ERROR_INVAL;
    }
    if (!usbctrl->ports)
        usbctrl->ports = USB_DEFAULT_PORTS;
    if (usbctrl->ports < 1 || usbctrl->ports > USBIF_MAX_PORTNR) {
        LOGD(ERROR, domid, "%d ports: a USB controller has 1 to %d",
             usbctrl->ports, USBIF_MAX_PORTNR);
        return ERROR_INVAL;
    }
    return 0;
}

/* Version and ports of an emulated controller, as QEMU has them. */
static int usbctrl_dm_check_ports(libxl__gc *gc, uint32_t domid,
                                  libxl_device_usbctrl *usbctrl)
{
    int fixed;

    if (usbctrl->version < 1 || usbctrl->version > USB_DM_MAX_VERSION) {
        LOGD(ERROR, domid, "USB version %d: it must be 1, 2 or 3 for type "
             "devicemodel", usbctrl->version);
        return ERROR_INVAL;
    }
    fixed = usb_dm_ctrls[usbctrl->version].ports;
    if (fixed && usbctrl->ports && usbctrl->ports != fixed) {
        LOGD(ERROR, domid, "An emulated USB controller of version %d "
             "(%s) always has %d ports, not %d", usbctrl->version,
             usb_dm_ctrls[usbctrl->version].driver, fixed, usbctrl->ports);
        return ERROR_INVAL;
    }
    if (fixed)
        usbctrl->ports = fixed;
    else if (!usbctrl->ports)
        usbctrl->ports = USB_DEFAULT_PORTS;
    if (usbctrl->ports < 1 || usbctrl->ports > USB_DM_XHCI_MAX_PORTS) {
        LOGD(ERROR, domid, "%d ports: an emulated USB controller of "
             "version 3 has 1 to %d", usbctrl->ports,
             USB_DM_XHCI_MAX_PORTS);
        return ERROR_INVAL;
    }
    return 0;
}

static int usbctrl_setdefault(libxl__gc *gc, uint32_t domid,
                              libxl_device_usbctrl *usbctrl)
{
    libxl_domain_type domtype;
    int rc;

    rc = libxl__domain_type(gc, domid, &domtype);
    if (rc) return rc;
    if (usbctrl->type == LIBXL_USBCTRL_TYPE_AUTO) {
        if (domtype == LIBXL_DOMAIN_TYPE_HVM)
            usbctrl->type = LIBXL_USBCTRL_TYPE_DEVICEMODEL;
        else
            usbctrl->type = libxl__usbhost_usbback_is_loaded() ? LIBXL_USBCTRL_TYPE_PV
                                                : LIBXL_USBCTRL_TYPE_QUSB;
    }
    if (!usbctrl_type_is_supported(usbctrl->type)) {
        LOGD(ERROR, domid, "USB controller type %d is not supported; use "
             "pv, qusb or devicemodel", usbctrl->type);
        return ERROR_INVAL;
    }
    if (!usbctrl->version)
        usbctrl->version = USB_DEFAULT_VERSION;
    rc = usbctrl_is_dm(usbctrl) ? usbctrl_dm_check_ports(gc, domid, usbctrl)
                                : usbctrl_check_ports(gc, domid, usbctrl);
    if (rc) return rc;
    if (usbctrl->backend_domname) {
        rc = libxl__resolve_domid(gc, usbctrl->backend_domname,
                                  &usbctrl->backend_domid);
        if (rc) return rc;
    }
    if (usbctrl_is_dm(usbctrl) && usbctrl->backend_domid) {
        LOGD(ERROR, domid, "A USB controller of type devicemodel is served "
             "by the QEMU in domain 0, not by domain %u",
             usbctrl->backend_domid);
        return ERROR_INVAL;
    }
    return libxl__domain_check_exists(gc, usbctrl->backend_domid);
}

bool libxl__usbctrl_qusb_is_served(libxl__gc *gc, uint32_t domid,
                                   const libxl_device_usbctrl *usbctrl,
                                   const char **path_r)
{
    *path_r = GCSPRINTF("%s/device-model/%u/backends/qusb",
                        libxl__xs_get_dompath(gc, usbctrl->backend_domid),
                        domid);
    return libxl__xs_read(gc, XBT_NULL, *path_r) != NULL;
}

/* Is there a backend that will serve this controller? */
static int usbctrl_check_backend(libxl__gc *gc, uint32_t domid,
                                 const libxl_device_usbctrl *usbctrl)
{
    const char *path;

    if (usbctrl_is_dm(usbctrl))
        return 0;       /* the QMP exchange tells whether QEMU is there */
    if (usbctrl->type == LIBXL_USBCTRL_TYPE_PV) {
        if (usbctrl->backend_domid || libxl__usbhost_usbback_is_loaded())
            return 0;
        LOGD(ERROR, domid, "USB controller of type pv: the usbback driver "
             "is not loaded in this domain (%s is missing); load it, or "
             "use type qusb", SYSFS_USBBACK_DRIVER);
        return ERROR_INVAL;
    }
    if (libxl__usbctrl_qusb_is_served(gc, domid, usbctrl, &path))
        return 0;
    LOGD(ERROR, domid, "USB controller of type qusb: no QEMU serves qusb "
         "for this domain (%s is missing); add usbctrl=['type=qusb'] to "
         "the domain's configuration and create it again, or use type pv",
         path);
    return ERROR_INVAL;
}

static void usbctrl_add_backend_ready(libxl__egc *egc,
                                      libxl__ev_devstate *ds, int rc);
static void usbctrl_add_dm_done(libxl__egc *egc, usb_dm *dm, int rc);

static void usbctrl_add_start(libxl__egc *egc, usbctrl_add_state *uas)
{
    STATE_AO_GC(uas->op->ao);
    libxl_device_usbctrl *usbctrl = uas->usbctrl;
    const uint32_t domid = uas->op->domid;
    int rc;

    rc = usb_op_check_domain(gc, uas->op);
    if (rc) goto out;
    rc = usbctrl_setdefault(gc, domid, usbctrl);
    if (rc) goto out;
    rc = usbctrl_check_backend(gc, domid, usbctrl);
    if (rc) goto out;
    rc = usbctrl_add_xenstore(gc, uas->op, usbctrl);
    if (rc) goto out;
    rc = usb_config_update(gc, uas->op, usbctrl->devid, 0, usbctrl, NULL);
    if (rc) goto out_del;
    if (usbctrl_is_dm(usbctrl)) {
        /* QEMU has it at once: there is no backend to wait for */
        uas->dm.ao = ao;
        uas->dm.domid = domid;
        uas->dm.callback = usbctrl_add_dm_done;
        usbctrl_dm_add(egc, &uas->dm, usbctrl);
        return;
    }

    rc = libxl__ev_devstate_wait(ao, &uas->ds, usbctrl_add_backend_ready,
             GCSPRINTF("%s/state", vusb_be_path(gc, usbctrl, domid)),
             XenbusStateInitWait, XenbusStateConnected,
             LIBXL_INIT_TIMEOUT * 1000);
    if (rc) goto out_del;
    return;

out_del:
    usbctrl_del(gc, uas->op, usbctrl);
out:
    uas->callback(egc, uas, rc);
}

static void usbctrl_add_backend_ready(libxl__egc *egc,
                                      libxl__ev_devstate *ds, int rc)
{
    usbctrl_add_state *uas = CONTAINER_OF(ds, *uas, ds);
    STATE_AO_GC(uas->op->ao);

    if (rc) {
        LOGD(ERROR, uas->op->domid, "The backend of USB controller %d did "
             "not answer (%s); controller removed", uas->usbctrl->devid,
             rc == ERROR_TIMEDOUT ? "timed out" : "state node unusable");
        usbctrl_del(gc, uas->op, uas->usbctrl);
    }
    uas->callback(egc, uas, rc);
}

static void usbctrl_add_dm_done(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbctrl_add_state *uas = CONTAINER_OF(dm, *uas, dm);
    STATE_AO_GC(uas->op->ao);

    if (rc) usbctrl_del(gc, uas->op, uas->usbctrl);
    uas->callback(egc, uas, rc);
}

/* libxl_device_usbctrl_add: the sub-operation, under the lock. */
typedef struct {
    usb_op op;
    /* private */
    usbctrl_add_state uas;
} usbctrl_add_op;

static void usbctrl_add_locked(libxl__egc *egc, usb_op *op)
{
    usbctrl_add_op *cao = CONTAINER_OF(op, *cao, op);
    STATE_AO_GC(op->ao);
    int rc;

    if (op->flags & LIBXL__USB_IF_DECLARED) {
        rc = usb_op_check_domain(gc, op);
        if (!rc) rc = libxl__usb_decl_check(gc, op->uuid,
                                            cao->uas.usbctrl->devid, 0, NULL);
        if (rc) {
            usb_op_complete(egc, op, rc);
            return;
        }
    }
    usbctrl_add_start(egc, &cao->uas);
}

static void usbctrl_add_done(libxl__egc *egc, usbctrl_add_state *uas,
                             int rc)
{
    usbctrl_add_op *cao = CONTAINER_OF(uas, *cao, uas);

    usb_op_complete(egc, &cao->op, rc);
}

int libxl_device_usbctrl_add(libxl_ctx *ctx, uint32_t domid,
                             libxl_device_usbctrl *usbctrl,
                             const libxl_asyncop_how *ao_how)
{
    return libxl_device_usbctrl_add_flags(ctx, domid, usbctrl, 0, ao_how);
}

int libxl_device_usbctrl_add_flags(libxl_ctx *ctx, uint32_t domid,
                                   libxl_device_usbctrl *usbctrl,
                                   unsigned int flags,
                                   const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, domid, ao_how);
    EGC_INIT(ctx);
    usbctrl_add_op *cao;

    GCNEW(cao);
    usb_op_init(&cao->op);
    cao->op.ao = ao;
    cao->op.domid = domid;
    cao->op.flags = flags;
    cao->op.locked = usbctrl_add_locked;
    usbctrl_add_init(&cao->uas);
    cao->uas.op = &cao->op;
    cao->uas.usbctrl = usbctrl;
    cao->uas.callback = usbctrl_add_done;
    usb_op_start(egc, &cao->op);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- taking a device back, and a device left behind -----*/

/* Is port one of usbctrl's (or 0, "any", if any_ok)?  Logged if not. */
static int usbctrl_check_port(libxl__gc *gc, uint32_t domid,
                              const libxl_device_usbctrl *usbctrl, int port,
                              bool any_ok)
{
    if ((any_ok && !port) || (port >= 1 && port <= usbctrl->ports))
        return 0;
    LOGD(ERROR, domid, "USB controller %d has ports 1 to %d, not %d",
         usbctrl->devid, usbctrl->ports, port);
    return ERROR_INVAL;
}

/* For a port usbctrl has no node of: logged, as its num-ports says. */
static int usbctrl_no_such_port(libxl__gc *gc, xs_transaction_t t,
                                uint32_t domid,
                                libxl_device_usbctrl *usbctrl, int port)
{
    int rc = usbctrl_read_num_ports(gc, t, domid, usbctrl);

    if (!rc) rc = usbctrl_check_port(gc, domid, usbctrl, port, false);
    if (!rc) {
        LOGD(ERROR, domid, "USB controller %d has no port %d in xenstore",
             usbctrl->devid, port);
        rc = ERROR_INVAL;
    }
    return rc;
}

/*
 * The last steps of a detach, in an order that needs neither a
 * transaction nor a count of the generation.  The ownership record goes
 * first, if it is this port's (ours; with the device's whole host-side
 * dir when no driver record is left): killed after it, the port holds a
 * device without a record, which the next detach takes as ours and
 * finishes.  Then the persisted configuration loses the device: killed
 * after it, the port holds a device neither our record nor our file
 * has, as one another toolstack assigned, and the next detach frees it.
 * The port is freed last.
 */
static int usbdev_free_port(libxl__gc *gc, usb_op *op,
                            const libxl_device_usbctrl *usbctrl, int port,
                            const char *busid, bool ours, bool rebound)
{
    int rc;

    if (ours) {
        rc = libxl__usbhost_forget(gc, XBT_NULL, busid, rebound);
        if (rc) return rc;
    }
    rc = usb_config_update(gc, op, usbctrl->devid, port, NULL, NULL);
    if (rc) return rc;
    return libxl__xs_write_checked(gc, XBT_NULL,
               usbctrl_port_path(gc, op->domid, usbctrl, port), "");
}

/*
 * Takes back what is at port of usbctrl, crash-only: each step can be
 * re-run, and the port is freed last, so a detach that died is found and
 * finished by the next one.  (1) interfaces off usbback, or for
 * devicemodel the device out of QEMU, stopping at a failure (the device
 * is still the guest's); (2) interfaces back to their drivers; (3) the
 * ownership record, the persisted configuration, the port
 * (usbdev_free_port).  If (2) failed the device is no longer the
 * guest's, but left for libxl_device_usbdev_rebind: the error says so.
 * A port whose busid dom0's record gives to another port is only
 * cleared: that device is not this port's to touch.  ERROR_NOTFOUND if
 * the port is free.  usbdev_remove_port_init once, then for each port
 * the caller's fields and usbdev_remove_port, which always ends by
 * calling rps->callback, possibly before returning.
 */
typedef struct usbdev_remove_port_state usbdev_remove_port_state;
typedef void usbdev_remove_port_callback(libxl__egc *egc,
                                         usbdev_remove_port_state *rps,
                                         int rc);
struct usbdev_remove_port_state {
    /* caller fills these in */
    usb_op *op;                         /* the operation it is part of */
    const libxl_device_usbctrl *usbctrl;
    int port;
    usbdev_remove_port_callback *callback;
    /* private to usbdev_remove_port_* */
    const char *busid;
    bool ours, rebound;
    usb_dm dm;
};

static void usbdev_remove_port_init(usbdev_remove_port_state *rps)
{
    rps->busid = NULL;
    usb_dm_init(&rps->dm);
}

static void usbdev_remove_port_dm_done(libxl__egc *egc, usb_dm *dm, int rc);
static void usbdev_remove_port_finish(libxl__egc *egc,
                                      usbdev_remove_port_state *rps);

static void usbdev_remove_port(libxl__egc *egc, usbdev_remove_port_state *rps)
{
    STATE_AO_GC(rps->op->ao);
    const libxl_device_usbctrl *usbctrl = rps->usbctrl;
    const uint32_t domid = rps->op->domid;
    const int port = rps->port;
    libxl__usbhost_owner o;
    int rc;

    rps->rebound = true;
    rc = usbctrl_port_read(gc, XBT_NULL, domid, usbctrl, port, &rps->busid);
    if (rc) goto out;
    if (!rps->busid) {
        rc = ERROR_NOTFOUND;
        goto out;
    }
    rc = usb_owner_read_at(gc, domid, usbctrl->devid, port, rps->busid, &o);
    if (rc) goto out;
    rps->ours = o.domid == INVALID_DOMID ||
                libxl__usbhost_owner_is(&o, domid, usbctrl->devid, port);
    if (!rps->ours)
        LOGD(WARN, domid, "Controller %d port %d holds %s, which is domain "
             "%u's (controller %d port %d): clearing the port, not touching "
             "the device", usbctrl->devid, port, rps->busid, o.domid, o.ctrl,
             o.port);

    if (rps->ours && usbctrl->type == LIBXL_USBCTRL_TYPE_PV) {
        rc = libxl__usbhost_unbind_usbback(gc, rps->busid);
        if (rc) goto out;
        rps->rebound = !libxl__usbhost_rebind(gc, rps->busid);
    }
    if (rps->ours && usbctrl_is_dm(usbctrl)) {
        rps->dm.ao = ao;
        rps->dm.domid = domid;
        rps->dm.callback = usbdev_remove_port_dm_done;
        usbdev_dm_del(egc, &rps->dm, rps->busid);
        return;
    }
    usbdev_remove_port_finish(egc, rps);
    return;
out:
    rps->callback(egc, rps, rc);
}

static void usbdev_remove_port_dm_done(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbdev_remove_port_state *rps = CONTAINER_OF(dm, *rps, dm);

    if (rc)
        rps->callback(egc, rps, rc);
    else
        usbdev_remove_port_finish(egc, rps);
}

/* Step (3). */
static void usbdev_remove_port_finish(libxl__egc *egc,
                                      usbdev_remove_port_state *rps)
{
    STATE_AO_GC(rps->op->ao);
    const libxl_device_usbctrl *usbctrl = rps->usbctrl;
    const uint32_t domid = rps->op->domid;
    int rc;

    rc = usbdev_free_port(gc, rps->op, usbctrl, rps->port, rps->busid,
                          rps->ours, rps->rebound);
    if (rc) goto out;
    if (!rps->rebound) {
        LOGD(ERROR, domid, "USB device %s is no longer the guest's, but not "
             "back on its host drivers; `xlusb usb-rebind %s' "
             "(libxl_device_usbdev_rebind) retries", rps->busid, rps->busid);
        rc = ERROR_FAIL;
    }
out:
    rps->callback(egc, rps, rc);
}

typedef struct {
    usb_op op;
    /* caller fills these in */
    int ctrl, port;
    /* private to usbdev_remove_* */
    libxl_device_usbctrl usbctrl;
    usbdev_remove_port_state rps;
} usbdev_remove_state;

static void usbdev_remove_port_done(libxl__egc *egc,
                                    usbdev_remove_port_state *rps, int rc);
static void usbdev_remove_done(libxl__egc *egc, usbdev_remove_state *drs,
                               int rc);

static void usbdev_remove_locked(libxl__egc *egc, usb_op *op)
{
    usbdev_remove_state *drs = CONTAINER_OF(op, *drs, op);
    STATE_AO_GC(op->ao);
    const uint32_t domid = op->domid;
    int rc;

    rc = usbctrl_read_existing(gc, XBT_NULL, domid, drs->ctrl,
                               &drs->usbctrl);
    if (!rc) rc = usbctrl_check_dom0s(gc, domid, &drs->usbctrl);
    if (rc) goto out;
    drs->rps.op = &drs->op;
    drs->rps.usbctrl = &drs->usbctrl;
    drs->rps.port = drs->port;
    drs->rps.callback = usbdev_remove_port_done;
    usbdev_remove_port(egc, &drs->rps);
    return;
out:
    usbdev_remove_done(egc, drs, rc);
}

static void usbdev_remove_port_done(libxl__egc *egc,
                                    usbdev_remove_port_state *rps, int rc)
{
    usbdev_remove_state *drs = CONTAINER_OF(rps, *drs, rps);
    STATE_AO_GC(drs->op.ao);
    const char *busid;

    /* a port the controller does not have: say which it has */
    if (rc == ERROR_NOTFOUND &&
        usbctrl_port_read(gc, XBT_NULL, drs->op.domid, &drs->usbctrl,
                          drs->port, &busid) == ERROR_NOTFOUND) {
        rc = usbctrl_no_such_port(gc, XBT_NULL, drs->op.domid,
                                  &drs->usbctrl, drs->port);
        goto out;
    }
    if (rc == ERROR_INVAL) rc = ERROR_NOTFOUND;     /* not a busid */
    if (rc == ERROR_NOTFOUND)
        LOGD(ERROR, drs->op.domid, "No USB device on controller %d port %d",
             drs->usbctrl.devid, drs->port);
out:
    usbdev_remove_done(egc, drs, rc);
}

static void usbdev_remove_done(libxl__egc *egc, usbdev_remove_state *drs,
                               int rc)
{
    libxl_device_usbctrl_dispose(&drs->usbctrl);
    usb_op_complete(egc, &drs->op, rc);
}

int libxl_device_usbdev_remove(libxl_ctx *ctx, uint32_t domid,
                               libxl_device_usbdev *usbdev,
                               const libxl_asyncop_how *ao_how)
{
    return libxl_device_usbdev_remove_flags(ctx, domid, usbdev, 0, ao_how);
}

int libxl_device_usbdev_remove_flags(libxl_ctx *ctx, uint32_t domid,
                                     libxl_device_usbdev *usbdev,
                                     unsigned int flags,
                                     const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, domid, ao_how);
    EGC_INIT(ctx);
    usbdev_remove_state *drs;

    GCNEW(drs);
    usb_op_init(&drs->op);
    drs->op.ao = ao;
    drs->op.domid = domid;
    drs->op.flags = flags;
    drs->op.locked = usbdev_remove_locked;
    drs->ctrl = usbdev->ctrl;
    drs->port = usbdev->port;
    libxl_device_usbctrl_init(&drs->usbctrl);
    usbdev_remove_port_init(&drs->rps);
    usb_op_start(egc, &drs->op);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*
 * A device nobody holds, taken off usbback and given back to its recorded
 * drivers.  Who holds it is asked of every witness: a device another
 * toolstack gave away without a record of ours is refused too.
 */
int libxl_device_usbdev_rebind(libxl_ctx *ctx, const char *busid,
                               const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, INVALID_DOMID, ao_how);
    EGC_INIT(ctx);
    const char *claim;
    libxl__usbhost_owner o;
    int rc;

    if (!busid || !libxl__usbhost_busid_is_valid(busid)) {
        LOG(ERROR, "\"%s\" is not a USB busid (such as 3-1.2)",
            busid ? busid : "");
        rc = ERROR_INVAL;
        goto out;
    }
    rc = usb_holder(gc, XBT_NULL, busid, &o, &claim);
    if (rc) goto out;
    if (o.domid != INVALID_DOMID) {
        LOG(ERROR, "USB device %s is assigned to domain %u (controller %d "
            "port %d); detach it instead", busid, o.domid, o.ctrl, o.port);
        rc = ERROR_DEVICE_EXISTS;
        goto out;
    }
    rc = libxl__usbhost_unbind_usbback(gc, busid);
    if (!rc) rc = libxl__usbhost_rebind(gc, busid);
    if (!rc) rc = libxl__usbhost_forget(gc, XBT_NULL, busid, true);
out:
    libxl__ao_complete(egc, ao, rc);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- giving a device to a guest -----*/

/*
 * libxl_device_usbdev_add: the device and its port taken in one
 * transaction (usbdev_take_port), a controller made first if none has a
 * free port (a sub-operation), then the device made the guest's
 * (usbdev_assign_finish), or everything undone.
 */
typedef struct usbdev_add_state usbdev_add_state;
struct usbdev_add_state {
    usb_op op;
    /* caller fills these in */
    libxl_device_usbdev *usbdev;
    /* private to usbdev_add_*, usbdev_assign* */
    const char *busid;
    libxl_device_usbctrl usbctrl;
    bool made_ctrl;
    usbctrl_add_state uas;          /* if a controller is made for it */
    usb_dm dm;
    usbdev_remove_port_state rps;   /* undoing a failed assignment */
    int rc;                         /* of the assignment, while undoing */
};

/* The first free port of a controller, or 0 if none is.  A port holding
 * something that is not a busid is not free. */
static int usbctrl_free_port(libxl__gc *gc, xs_transaction_t t,
                             uint32_t domid,
                             const libxl_device_usbctrl *usbctrl,
                             int *port_r)
{
    const char *busid;
    int port, rc;

    *port_r = 0;
    for (port = 1; port <= USBIF_MAX_PORTNR; port++) {
        rc = usbctrl_port_read(gc, t, domid, usbctrl, port, &busid);
        if (rc == ERROR_INVAL) continue;
        if (rc == ERROR_NOTFOUND) break;        /* past its last port */
        if (rc) return rc;
        if (!busid) {
            *port_r = port;
            break;
        }
    }
    return 0;
}

/* Is port of usbctrl free to take?  Logged if not. */
static int usbctrl_port_is_free(libxl__gc *gc, xs_transaction_t t,
                                uint32_t domid,
                                libxl_device_usbctrl *usbctrl, int port)
{
    const char *held;
    int rc;

    rc = usbctrl_port_read(gc, t, domid, usbctrl, port, &held);
    if (rc == ERROR_NOTFOUND)
        return usbctrl_no_such_port(gc, t, domid, usbctrl, port);
    if (!rc && !held) return 0;
    if (!rc)
        LOGD(ERROR, domid, "Port %d of USB controller %d is in use (by %s)",
             port, usbctrl->devid, held);
    return rc == ERROR_INVAL || !rc ? ERROR_INVAL : rc;
}

/*
 * Where to put a device, in t: controller ctrl (-1: the first
 * dom0-served one with a free port) and its port *port_r (0: its first
 * free one).  usbctrl->devid -1: no controller has a free port.
 */
static int usbdev_pick_port(libxl__gc *gc, xs_transaction_t t,
                            uint32_t domid, int ctrl,
                            libxl_device_usbctrl *usbctrl, int *port_r)
{
    int *devids;
    int i, num, rc;

    if (ctrl >= 0) {
        rc = usbctrl_read_existing(gc, t, domid, ctrl, usbctrl);
        if (!rc) rc = usbctrl_check_dom0s(gc, domid, usbctrl);
        if (rc) return rc;
        if (*port_r)
            return usbctrl_port_is_free(gc, t, domid, usbctrl, *port_r);
        rc = usbctrl_free_port(gc, t, domid, usbctrl, port_r);
        if (rc || *port_r) return rc;
        LOGD(ERROR, domid, "USB controller %d has no free port", ctrl);
        return ERROR_FAIL;
    }
    rc = usbctrl_devids(gc, t, domid, &devids, &num);
    if (rc) return rc;
    for (i = 0; i < num; i++) {
        rc = usbctrl_read_backend(gc, t, domid, devids[i], usbctrl);
        if (rc) return rc;
        if (!usbctrl_is_dom0s(usbctrl)) continue;
        rc = usbctrl_free_port(gc, t, domid, usbctrl, port_r);
        if (rc || *port_r) return rc;
    }
    usbctrl->devid = -1;
    return 0;
}

/*
 * In one transaction: who holds busid, where it goes (usbdev_pick_port:
 * controller ctrl, or any; the port asked for in usbdev, or any), and
 * then busid on that port and domid as its owner, attaching: of two
 * concurrent attaches of one device, exactly one commits.  Nothing is
 * written if an attach of busid to this domain did not finish (*o_r is
 * its record: it is to be resumed) or if no controller has a free port
 * (das->usbctrl.devid is -1: one is to be made).
 */
static int usbdev_take_port(libxl__gc *gc, usbdev_add_state *das, int ctrl,
                            libxl__usbhost_owner *o_r)
{
    libxl_device_usbdev *usbdev = das->usbdev;
    libxl_device_usbctrl *usbctrl = &das->usbctrl;
    const uint32_t domid = das->op.domid;
    const char *busid = das->busid;
    xs_transaction_t t = XBT_NULL;
    const char *claim;
    int port, rc;

    for (;;) {
        rc = libxl__xs_transaction_start(gc, &t);
        if (rc) goto out;
        rc = usb_holder(gc, t, busid, o_r, &claim);
        if (rc || (o_r->domid == domid && o_r->attaching)) goto out;
        rc = usb_check_free(gc, domid, busid, o_r, claim);
        if (rc) goto out;
        port = usbdev->port;
        rc = usbdev_pick_port(gc, t, domid, ctrl, usbctrl, &port);
        if (rc || usbctrl->devid < 0) goto out;

        rc = libxl__usbhost_owner_write(gc, t, busid, domid, usbctrl->devid,
                                        port, true);
        if (rc) goto out;
        rc = usbctrl_port_write(gc, t, &das->op, usbctrl, port, busid);
        if (rc) goto out;
        rc = usb_txn_commit(gc, &das->op, &t);
        if (!rc) break;
        if (rc < 0) goto out;
    }
    usbdev->ctrl = usbctrl->devid;
    usbdev->port = port;
out:
    libxl__xs_transaction_abort(gc, &t);
    return rc;
}

/* The host device to give: present, and not a hub. */
static int usbdev_find_busid(libxl__gc *gc, uint32_t domid,
                             const libxl_device_usbdev *usbdev,
                             const char **busid_r)
{
    char *busid;
    bool hub;
    int rc;

    if (usbdev->type != LIBXL_USBDEV_TYPE_HOSTDEV ||
        !usbdev->u.hostdev.hostbus || !usbdev->u.hostdev.hostaddr) {
        LOGD(ERROR, domid, "A USB host device needs hostbus and hostaddr");
        return ERROR_INVAL;
    }
    rc = libxl__usbhost_busaddr_to_busid(gc, usbdev->u.hostdev.hostbus,
                              usbdev->u.hostdev.hostaddr, &busid);
    if (rc) return rc;
    rc = libxl__usbhost_is_hub(gc, busid, &hub);
    if (rc) return rc;
    if (hub) {
        LOGD(ERROR, domid, "USB device %s is a hub; hubs cannot be given "
             "to a guest (give it the devices behind it)", busid);
        return ERROR_INVAL;
    }
    *busid_r = busid;
    return 0;
}

/* Does any port of usbctrl hold something? */
static int usbctrl_is_empty(libxl__gc *gc, uint32_t domid,
                            const libxl_device_usbctrl *usbctrl,
                            bool *empty_r)
{
    const char *busid;
    int port, rc;

    *empty_r = true;
    for (port = 1; port <= USBIF_MAX_PORTNR && *empty_r; port++) {
        rc = usbctrl_port_read(gc, XBT_NULL, domid, usbctrl, port, &busid);
        if (rc == ERROR_NOTFOUND) break;        /* past its last port */
        if (rc && rc != ERROR_INVAL) return rc;
        *empty_r = !rc && !busid;
    }
    return 0;
}

/*
 * An attach of busid to this domain that died after taking its port is
 * finished where it was started (usbdev_assign_finish, from there);
 * asking for another place is refused.
 */
static int usbdev_add_resume(libxl__gc *gc, usbdev_add_state *das,
                             const libxl__usbhost_owner *o)
{
    libxl_device_usbdev *usbdev = das->usbdev;
    const uint32_t domid = das->op.domid;
    int rc;

    if ((usbdev->ctrl >= 0 && usbdev->ctrl != o->ctrl) ||
        (usbdev->port && usbdev->port != o->port)) {
        LOGD(ERROR, domid, "An attach of USB device %s to controller %d "
             "port %d did not finish; run it again without another "
             "controller or port to finish it, or detach it", das->busid,
             o->ctrl, o->port);
        return ERROR_DEVICE_EXISTS;
    }
    LOGD(INFO, domid, "Finishing the attach of USB device %s to controller "
         "%d port %d", das->busid, o->ctrl, o->port);
    rc = usbctrl_read_existing(gc, XBT_NULL, domid, o->ctrl, &das->usbctrl);
    if (rc) return rc;
    usbdev->ctrl = o->ctrl;
    usbdev->port = o->port;
    return 0;
}

static void usbdev_add_ctrl_ready(libxl__egc *egc, usbctrl_add_state *uas,
                                  int rc);
static void usbdev_assign(libxl__egc *egc, usbdev_add_state *das);
static void usbdev_assign_finish(libxl__egc *egc, usbdev_add_state *das,
                                 bool resume);
static void usbdev_assign_dm_deleted(libxl__egc *egc, usb_dm *dm, int rc);
static void usbdev_assign_dm_added(libxl__egc *egc, usb_dm *dm, int rc);
static void usbdev_assign_record(libxl__egc *egc, usbdev_add_state *das,
                                 int rc);
static void usbdev_assign_undone(libxl__egc *egc,
                                 usbdev_remove_port_state *rps, int rc);
static void usbdev_assigned(libxl__egc *egc, usbdev_add_state *das, int rc);
static void usbdev_add_ctrl_dm_removed(libxl__egc *egc, usb_dm *dm, int rc);
static void usbdev_add_done(libxl__egc *egc, usbdev_add_state *das, int rc);

static void usbdev_add_locked(libxl__egc *egc, usb_op *op)
{
    usbdev_add_state *das = CONTAINER_OF(op, *das, op);
    STATE_AO_GC(op->ao);
    libxl_device_usbdev *usbdev = das->usbdev;
    const uint32_t domid = op->domid;
    libxl__usbhost_owner o;
    int rc;

    /* As libxl: 0, what libxl_device_usbdev_init leaves (xl and libvirt
     * never set it), is a host device. */
    if (!usbdev->type)
        usbdev->type = LIBXL_USBDEV_TYPE_HOSTDEV;
    rc = usb_op_check_domain(gc, op);
    if (rc) goto out;
    if (usbdev->ctrl < 0 && usbdev->port) {
        LOGD(ERROR, domid, "Port %d given without a controller",
             usbdev->port);
        rc = ERROR_INVAL;
        goto out;
    }
    rc = usbdev_find_busid(gc, domid, usbdev, &das->busid);
    if (rc) goto out;
    if (op->flags & LIBXL__USB_IF_DECLARED) {
        rc = libxl__usb_decl_check(gc, op->uuid, usbdev->ctrl, usbdev->port,
                                   das->busid);
        if (rc) goto out;
    }
    rc = usbdev_take_port(gc, das, usbdev->ctrl, &o);
    if (rc) goto out;
    if (o.domid == domid && o.attaching) {
        rc = usbdev_add_resume(gc, das, &o);
        if (rc) goto out;
        usbdev_assign_finish(egc, das, true);
        return;
    }
    if (das->usbctrl.devid < 0) {
        /* no controller has a free port: make one, with the defaults */
        libxl_device_usbctrl_dispose(&das->usbctrl);
        libxl_device_usbctrl_init(&das->usbctrl);
        das->uas.op = op;
        das->uas.usbctrl = &das->usbctrl;
        das->uas.callback = usbdev_add_ctrl_ready;
        das->made_ctrl = true;
        usbctrl_add_start(egc, &das->uas);
        return;
    }
    usbdev_assign_finish(egc, das, false);
    return;
out:
    usbdev_add_done(egc, das, rc);
}

static void usbdev_add_ctrl_ready(libxl__egc *egc, usbctrl_add_state *uas,
                                  int rc)
{
    usbdev_add_state *das = CONTAINER_OF(uas, *das, uas);

    if (rc)
        usbdev_add_done(egc, das, rc);
    else
        usbdev_assign(egc, das);
}

/* Puts busid on a port of the controller made for it (usbdev_take_port),
 * then usbdev_assign_finish. */
static void usbdev_assign(libxl__egc *egc, usbdev_add_state *das)
{
    STATE_AO_GC(das->op.ao);
    libxl__usbhost_owner o;
    int rc;

    rc = usbdev_take_port(gc, das, das->usbctrl.devid, &o);
    if (rc) {
        usbdev_assigned(egc, das, rc);
        return;
    }
    usbdev_assign_finish(egc, das, false);
}

/*
 * Makes busid, on its port since usbdev_take_port, the guest's: on a pv
 * controller its interfaces go to usbback, on a devicemodel one QEMU
 * takes it; then the configuration has it and the record says attached.
 * Re-runnable (resume): this is how an attach that died is finished.  On
 * failure everything is undone, port included.  Ends in usbdev_assigned.
 */
static void usbdev_assign_finish(libxl__egc *egc, usbdev_add_state *das,
                                 bool resume)
{
    STATE_AO_GC(das->op.ao);
    int rc = 0;

    if (das->usbctrl.type == LIBXL_USBCTRL_TYPE_PV)
        rc = libxl__usbhost_bind_usbback(gc, das->busid);
    if (!usbctrl_is_dm(&das->usbctrl)) {
        usbdev_assign_record(egc, das, rc);
        return;
    }
    das->dm.ao = ao;
    das->dm.domid = das->op.domid;
    das->dm.callback = usbdev_assign_dm_deleted;
    /* a QEMU that has it already would refuse the same id again */
    if (resume)
        usbdev_dm_del(egc, &das->dm, das->busid);
    else
        usbdev_assign_dm_deleted(egc, &das->dm, 0);
}

static void usbdev_assign_dm_deleted(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbdev_add_state *das = CONTAINER_OF(dm, *das, dm);

    if (rc) {
        usbdev_assign_record(egc, das, rc);
        return;
    }
    dm->callback = usbdev_assign_dm_added;
    usbdev_dm_add(egc, dm, das->usbdev);
}

static void usbdev_assign_dm_added(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbdev_assign_record(egc, CONTAINER_OF(dm, usbdev_add_state, dm), rc);
}

/* The configuration first: once the record says attached, nothing would
 * tell the next operation that the file is behind. */
static void usbdev_assign_record(libxl__egc *egc, usbdev_add_state *das,
                                 int rc)
{
    STATE_AO_GC(das->op.ao);
    libxl_device_usbdev *usbdev = das->usbdev;
    const uint32_t domid = das->op.domid;

    das->op.busid = das->busid;
    if (!rc) rc = usb_config_update(gc, &das->op, usbdev->ctrl,
                                    usbdev->port, NULL, usbdev);
    if (!rc) rc = libxl__usbhost_owner_write(gc, XBT_NULL, das->busid,
                                             domid, das->usbctrl.devid,
                                             usbdev->port, false);
    if (!rc) {
        usbdev_assigned(egc, das, 0);
        return;
    }
    LOGD(ERROR, domid, "Assigning USB device %s failed; undoing",
         das->busid);
    das->rc = rc;
    das->rps.op = &das->op;
    das->rps.usbctrl = &das->usbctrl;
    das->rps.port = usbdev->port;
    das->rps.callback = usbdev_assign_undone;
    usbdev_remove_port(egc, &das->rps);
}

static void usbdev_assign_undone(libxl__egc *egc,
                                 usbdev_remove_port_state *rps, int rc)
{
    usbdev_add_state *das = CONTAINER_OF(rps, *das, rps);

    (void)rc;       /* what is left is for the next operation to finish */
    usbdev_assigned(egc, das, das->rc);
}

/* The end of an attach.  A failed one leaves no trace: not even the
 * controller made for it, unless some other toolstack has put a device
 * on it meanwhile (a devicemodel one goes out of QEMU first). */
static void usbdev_assigned(libxl__egc *egc, usbdev_add_state *das, int rc)
{
    STATE_AO_GC(das->op.ao);
    const uint32_t domid = das->op.domid;
    bool empty;

    if (!rc || !das->made_ctrl ||
        usbctrl_is_empty(gc, domid, &das->usbctrl, &empty) || !empty)
        goto out;
    if (usbctrl_is_dm(&das->usbctrl)) {
        das->rc = rc;
        das->dm.ao = ao;
        das->dm.domid = domid;
        das->dm.callback = usbdev_add_ctrl_dm_removed;
        usb_dm_device_del(egc, &das->dm,
                          usbctrl_dm_id(gc, das->usbctrl.devid));
        return;
    }
    usbctrl_del(gc, &das->op, &das->usbctrl);
out:
    usbdev_add_done(egc, das, rc);
}

static void usbdev_add_ctrl_dm_removed(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbdev_add_state *das = CONTAINER_OF(dm, *das, dm);
    STATE_AO_GC(das->op.ao);

    if (!rc) usbctrl_del(gc, &das->op, &das->usbctrl);
    usbdev_add_done(egc, das, das->rc);
}

static void usbdev_add_done(libxl__egc *egc, usbdev_add_state *das, int rc)
{
    libxl_device_usbctrl_dispose(&das->usbctrl);
    usb_op_complete(egc, &das->op, rc);
}

int libxl_device_usbdev_add(libxl_ctx *ctx, uint32_t domid,
                            libxl_device_usbdev *usbdev,
                            const libxl_asyncop_how *ao_how)
{
    return libxl_device_usbdev_add_flags(ctx, domid, usbdev, 0, ao_how);
}

int libxl_device_usbdev_add_flags(libxl_ctx *ctx, uint32_t domid,
                                  libxl_device_usbdev *usbdev,
                                  unsigned int flags,
                                  const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, domid, ao_how);
    EGC_INIT(ctx);
    usbdev_add_state *das;

    GCNEW(das);
    usb_op_init(&das->op);
    das->op.ao = ao;
    das->op.domid = domid;
    das->op.flags = flags;
    das->op.locked = usbdev_add_locked;
    das->usbdev = usbdev;
    das->busid = NULL;
    libxl_device_usbctrl_init(&das->usbctrl);
    das->made_ctrl = false;
    usbctrl_add_init(&das->uas);
    usb_dm_init(&das->dm);
    usbdev_remove_port_init(&das->rps);
    das->rc = 0;
    usb_op_start(egc, &das->op);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- removing a controller -----*/

/* Asks the backend to close: online = 0, state = Closing. */
static int usbctrl_close(libxl__gc *gc, uint32_t domid,
                         const libxl_device_usbctrl *usbctrl)
{
    const char *be_path = vusb_be_path(gc, usbctrl, domid);
    xs_transaction_t t = XBT_NULL;
    int rc;

    for (;;) {
        rc = libxl__xs_transaction_start(gc, &t);
        if (rc) goto out;
        rc = libxl__xs_writev(gc, t, be_path, (const char *[]){
            "online", "0",
            "state", GCSPRINTF("%d", XenbusStateClosing),
            NULL });
        if (rc) goto out;
        rc = libxl__xs_transaction_commit(gc, &t);
        if (!rc) break;
        if (rc < 0) goto out;
    }
out:
    libxl__xs_transaction_abort(gc, &t);
    return rc;
}

/*
 * Takes back every device of a controller, going on past a failure so
 * that one device does not keep the others.  callback gets the first
 * failure; freed tells whether every port is free, so the controller may
 * go (a device left for usb-rebind is no longer on its port).  The
 * devices of a controller served by another domain are that domain's
 * business: dom0 touches none of its own for them.
 * usbctrl_remove_devices_init once, then for each controller the
 * caller's fields and usbctrl_remove_devices, which always ends by
 * calling callback, possibly before returning.
 */
typedef struct usbctrl_remove_devices_state usbctrl_remove_devices_state;
typedef void usbctrl_remove_devices_callback(libxl__egc *egc,
                                    usbctrl_remove_devices_state *rds,
                                    int rc);
struct usbctrl_remove_devices_state {
    /* caller fills these in */
    usb_op *op;                         /* the operation it is part of */
    const libxl_device_usbctrl *usbctrl;
    usbctrl_remove_devices_callback *callback;
    /* for the callback */
    bool freed;
    /* private to usbctrl_remove_devices_* */
    int first;
    usbdev_remove_port_state rps;
};

static void usbctrl_remove_devices_init(usbctrl_remove_devices_state *rds)
{
    usbdev_remove_port_init(&rds->rps);
}

static void usbctrl_remove_devices_next(libxl__egc *egc,
                                        usbctrl_remove_devices_state *rds);
static void usbctrl_remove_devices_port_done(libxl__egc *egc,
                                             usbdev_remove_port_state *rps,
                                             int rc);

static void usbctrl_remove_devices(libxl__egc *egc,
                                   usbctrl_remove_devices_state *rds)
{
    rds->freed = true;
    rds->first = 0;
    rds->rps.port = 0;
    if (!usbctrl_is_dom0s(rds->usbctrl)) {
        rds->callback(egc, rds, 0);
        return;
    }
    usbctrl_remove_devices_next(egc, rds);
}

static void usbctrl_remove_devices_next(libxl__egc *egc,
                                        usbctrl_remove_devices_state *rds)
{
    usbdev_remove_port_state *rps = &rds->rps;

    if (rps->port == rds->usbctrl->ports) {
        rds->callback(egc, rds, rds->first);
        return;
    }
    rps->op = rds->op;
    rps->usbctrl = rds->usbctrl;
    rps->port++;
    rps->callback = usbctrl_remove_devices_port_done;
    usbdev_remove_port(egc, rps);
}

static void usbctrl_remove_devices_port_done(libxl__egc *egc,
                                             usbdev_remove_port_state *rps,
                                             int rc)
{
    usbctrl_remove_devices_state *rds = CONTAINER_OF(rps, *rds, rps);
    STATE_AO_GC(rds->op->ao);
    const char *busid;

    if (rc && rc != ERROR_NOTFOUND && rc != ERROR_INVAL) {
        if (!rds->first) rds->first = rc;
        if (usbctrl_port_read(gc, XBT_NULL, rds->op->domid, rds->usbctrl,
                              rps->port, &busid) || busid)
            rds->freed = false;
    }
    usbctrl_remove_devices_next(egc, rds);
}

typedef struct {
    usb_op op;
    /* caller fills these in */
    int devid;
    bool force;
    /* private to usbctrl_remove_* */
    libxl_device_usbctrl usbctrl;
    usbctrl_remove_devices_state rds;
    libxl__ev_devstate ds;
    usb_dm dm;
    int rc_devices;             /* a device left for usb-rebind */
} usbctrl_remove_state;

static void usbctrl_remove_devices_done(libxl__egc *egc,
                                        usbctrl_remove_devices_state *rds,
                                        int rc);
static void usbctrl_remove_dm_done(libxl__egc *egc, usb_dm *dm, int rc);
static void usbctrl_remove_closed(libxl__egc *egc, libxl__ev_devstate *ds,
                                  int rc);
static void usbctrl_remove_done(libxl__egc *egc, usbctrl_remove_state *urs,
                                int rc);

/*
 * Removes the devices of controller devid, then (unless force) closes it
 * and waits for the backend, then deletes it; a devicemodel one goes out
 * of QEMU first.
 */
static void usbctrl_remove_locked(libxl__egc *egc, usb_op *op)
{
    usbctrl_remove_state *urs = CONTAINER_OF(op, *urs, op);
    STATE_AO_GC(op->ao);
    int rc;

    rc = usbctrl_read_existing(gc, XBT_NULL, op->domid, urs->devid,
                               &urs->usbctrl);
    if (!rc)
        rc = usbctrl_read_num_ports(gc, XBT_NULL, op->domid, &urs->usbctrl);
    if (rc) goto out;
    urs->rds.op = &urs->op;
    urs->rds.usbctrl = &urs->usbctrl;
    urs->rds.callback = usbctrl_remove_devices_done;
    usbctrl_remove_devices(egc, &urs->rds);
    return;
out:
    usbctrl_remove_done(egc, urs, rc);
}

static void usbctrl_remove_devices_done(libxl__egc *egc,
                                        usbctrl_remove_devices_state *rds,
                                        int rc)
{
    usbctrl_remove_state *urs = CONTAINER_OF(rds, *urs, rds);
    STATE_AO_GC(urs->op.ao);
    const uint32_t domid = urs->op.domid;

    urs->rc_devices = rc;
    if (!rds->freed) goto out;
    if (usbctrl_is_dm(&urs->usbctrl)) {
        urs->dm.ao = ao;
        urs->dm.domid = domid;
        urs->dm.callback = usbctrl_remove_dm_done;
        usb_dm_device_del(egc, &urs->dm,
                          usbctrl_dm_id(gc, urs->usbctrl.devid));
        return;
    }
    if (urs->force) {
        rc = usbctrl_del(gc, &urs->op, &urs->usbctrl);
        goto out;
    }
    rc = usbctrl_close(gc, domid, &urs->usbctrl);
    if (rc) goto out;
    rc = libxl__ev_devstate_wait(ao, &urs->ds, usbctrl_remove_closed,
             GCSPRINTF("%s/state", vusb_be_path(gc, &urs->usbctrl, domid)),
             XenbusStateClosed, XenbusStateClosed,
             LIBXL_DESTROY_TIMEOUT * 1000);
    if (rc) goto out;
    return;
out:
    usbctrl_remove_done(egc, urs, rc);
}

static void usbctrl_remove_dm_done(libxl__egc *egc, usb_dm *dm, int rc)
{
    usbctrl_remove_state *urs = CONTAINER_OF(dm, *urs, dm);
    STATE_AO_GC(urs->op.ao);

    if (!rc) rc = usbctrl_del(gc, &urs->op, &urs->usbctrl);
    usbctrl_remove_done(egc, urs, rc);
}

static void usbctrl_remove_closed(libxl__egc *egc, libxl__ev_devstate *ds,
                                  int rc)
{
    usbctrl_remove_state *urs = CONTAINER_OF(ds, *urs, ds);
    STATE_AO_GC(urs->op.ao);

    if (rc)
        LOGD(WARN, urs->op.domid, "The backend of USB controller %d did not "
             "close (%s); removing it anyway", urs->usbctrl.devid,
             rc == ERROR_TIMEDOUT ? "timed out" : "state node unusable");
    rc = usbctrl_del(gc, &urs->op, &urs->usbctrl);
    usbctrl_remove_done(egc, urs, rc);
}

static void usbctrl_remove_done(libxl__egc *egc, usbctrl_remove_state *urs,
                                int rc)
{
    libxl_device_usbctrl_dispose(&urs->usbctrl);
    usb_op_complete(egc, &urs->op, rc ? rc : urs->rc_devices);
}

static int usbctrl_remove_ao(libxl_ctx *ctx, uint32_t domid,
                             const libxl_device_usbctrl *usbctrl, bool force,
                             const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, domid, ao_how);
    EGC_INIT(ctx);
    usbctrl_remove_state *urs;

    GCNEW(urs);
    usb_op_init(&urs->op);
    urs->op.ao = ao;
    urs->op.domid = domid;
    urs->op.locked = usbctrl_remove_locked;
    urs->devid = usbctrl->devid;
    urs->force = force;
    libxl_device_usbctrl_init(&urs->usbctrl);
    usbctrl_remove_devices_init(&urs->rds);
    libxl__ev_devstate_init(&urs->ds);
    usb_dm_init(&urs->dm);
    urs->rc_devices = 0;
    usb_op_start(egc, &urs->op);
    EGC_FREE;
    return AO_INPROGRESS;
}

int libxl_device_usbctrl_remove(libxl_ctx *ctx, uint32_t domid,
                                libxl_device_usbctrl *usbctrl,
                                const libxl_asyncop_how *ao_how)
{
    return usbctrl_remove_ao(ctx, domid, usbctrl, false, ao_how);
}

int libxl_device_usbctrl_destroy(libxl_ctx *ctx, uint32_t domid,
                                 libxl_device_usbctrl *usbctrl,
                                 const libxl_asyncop_how *ao_how)
{
    return usbctrl_remove_ao(ctx, domid, usbctrl, true, ao_how);
}

/*
 * Every controller of a domain that is being destroyed, or has died: all
 * are gone over whatever fails, each device is given back (or left for
 * usb-rebind, and said so), and a controller goes once its ports are
 * free.  The domain's own xenstore dir may be gone already; its
 * persisted configuration is then left alone (its uuid is unknown).
 */
typedef struct {
    usb_op op;
    /* private to usbctrl_destroy_all_* */
    int *devids;
    int num, i, first;
    libxl_device_usbctrl usbctrl;
    usbctrl_remove_devices_state rds;
} usbctrl_destroy_all_state;

static void usbctrl_destroy_all_next(libxl__egc *egc,
                                     usbctrl_destroy_all_state *das);
static void usbctrl_destroy_all_devices_done(libxl__egc *egc,
                                     usbctrl_remove_devices_state *rds,
                                     int rc);

static void usbctrl_destroy_all_locked(libxl__egc *egc, usb_op *op)
{
    usbctrl_destroy_all_state *das = CONTAINER_OF(op, *das, op);
    STATE_AO_GC(op->ao);

    das->i = -1;
    das->first = usbctrl_devids(gc, XBT_NULL, op->domid, &das->devids,
                                &das->num);
    if (das->first) das->num = 0;
    usbctrl_destroy_all_next(egc, das);
}

static void usbctrl_destroy_all_next(libxl__egc *egc,
                                     usbctrl_destroy_all_state *das)
{
    STATE_AO_GC(das->op.ao);
    const uint32_t domid = das->op.domid;
    int rc;

    while (++das->i < das->num) {
        rc = usbctrl_read(gc, XBT_NULL, domid, das->devids[das->i],
                          &das->usbctrl);
        if (rc == ERROR_NOTFOUND) continue;
        if (rc) {
            if (!das->first) das->first = rc;
            continue;
        }
        das->rds.op = &das->op;
        das->rds.usbctrl = &das->usbctrl;
        das->rds.callback = usbctrl_destroy_all_devices_done;
        usbctrl_remove_devices(egc, &das->rds);
        return;
    }
    if (das->op.uuid) {
        rc = das->first ? usb_config_sync(gc, &das->op)
                        : libxl__usb_config_forget_live(gc, das->op.uuid);
        if (!das->first) das->first = rc;
    }
    libxl_device_usbctrl_dispose(&das->usbctrl);
    usb_op_complete(egc, &das->op, das->first);
}

static void usbctrl_destroy_all_devices_done(libxl__egc *egc,
                                     usbctrl_remove_devices_state *rds,
                                     int rc)
{
    usbctrl_destroy_all_state *das = CONTAINER_OF(rds, *das, rds);
    STATE_AO_GC(das->op.ao);

    if (rds->freed && !rc)
        rc = usbctrl_del_xenstore(gc, &das->op, &das->usbctrl);
    else if (rds->freed)
        usbctrl_del_xenstore(gc, &das->op, &das->usbctrl);
    if (rc && !das->first) das->first = rc;
    usbctrl_destroy_all_next(egc, das);
}

int libxl_device_usbctrl_destroy_all(libxl_ctx *ctx, uint32_t domid,
                                     const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, domid, ao_how);
    EGC_INIT(ctx);
    usbctrl_destroy_all_state *das;

    GCNEW(das);
    usb_op_init(&das->op);
    das->op.ao = ao;
    das->op.domid = domid;
    das->op.locked = usbctrl_destroy_all_locked;
    das->op.flags = LIBXL_USB_LIVE;     /* the declaration stays */
    libxl_device_usbctrl_init(&das->usbctrl);
    usbctrl_remove_devices_init(&das->rds);
    usb_op_start(egc, &das->op);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- listing -----*/

libxl_device_usbctrl *libxl_device_usbctrl_list(libxl_ctx *ctx,
                                                uint32_t domid, int *num)
{
    GC_INIT(ctx);
    libxl_device_usbctrl *usbctrls = NULL;
    int *devids;
    int i, n, rc;

    *num = 0;
    rc = usbctrl_devids(gc, XBT_NULL, domid, &devids, &n);
    if (rc || !n) goto out;
    usbctrls = libxl__calloc(NOGC, n, sizeof(*usbctrls));
    for (i = 0; i < n; i++) {
        libxl_device_usbctrl_init(&usbctrls[i]);
        rc = usbctrl_read(gc, XBT_NULL, domid, devids[i], &usbctrls[i]);
        if (rc) {
            LOGD(ERROR, domid, "Unable to list USB controllers");
            libxl_device_usbctrl_list_free(usbctrls, i + 1);
            usbctrls = NULL;
            goto out;
        }
    }
    *num = n;
out:
    GC_FREE;
    return usbctrls;
}

void libxl_device_usbctrl_list_free(libxl_device_usbctrl *list, int nr)
{
    int i;

    for (i = 0; list && i < nr; i++)
        libxl_device_usbctrl_dispose(&list[i]);
    free(list);
}

/* An integer from the guest-writable frontend, or -1. */
static int usbctrl_frontend_int(libxl__gc *gc, const char *fe_path,
                                const char *key)
{
    const char *val = libxl__xs_read(gc, XBT_NULL,
                                     GCSPRINTF("%s/%s", fe_path, key));
    long long v;

    if (!val || libxl__strtoint(val, 0, INT_MAX, &v)) return -1;
    return v;
}

/* info of controller c of domid, as read by usbctrl_read. */
static void usbctrl_info_fill(libxl__gc *gc, uint32_t domid,
                              const libxl_device_usbctrl *c,
                              libxl_usbctrlinfo *info)
{
    const char *fe_path;

    info->type = c->type;
    info->devid = c->devid;
    info->version = c->version;
    info->ports = c->ports;
    info->backend = libxl__strdup(NOGC, vusb_be_path(gc, c, domid));
    info->backend_id = c->backend_domid;
    info->frontend_id = domid;
    if (usbctrl_is_dm(c)) {
        /* no xenbus frontend: nothing the guest wrote */
        info->state = info->evtch = info->ref_urb = info->ref_conn = -1;
        return;
    }
    fe_path = vusb_fe_path(gc, domid, c->devid);
    info->frontend = libxl__strdup(NOGC, fe_path);
    info->state = usbctrl_frontend_int(gc, fe_path, "state");
    info->evtch = usbctrl_frontend_int(gc, fe_path, "event-channel");
    info->ref_urb = usbctrl_frontend_int(gc, fe_path, "urb-ring-ref");
    info->ref_conn = usbctrl_frontend_int(gc, fe_path, "conn-ring-ref");
}

int libxl_device_usbctrl_getinfo(libxl_ctx *ctx, uint32_t domid,
                                 const libxl_device_usbctrl *usbctrl,
                                 libxl_usbctrlinfo *usbctrlinfo)
{
    GC_INIT(ctx);
    libxl_device_usbctrl c;
    int rc;

    libxl_device_usbctrl_init(&c);
    rc = usbctrl_read(gc, XBT_NULL, domid, usbctrl->devid, &c);
    if (!rc) usbctrl_info_fill(gc, domid, &c, usbctrlinfo);
    libxl_device_usbctrl_dispose(&c);
    GC_FREE;
    return rc;
}

int libxl_devid_to_device_usbctrl(libxl_ctx *ctx, uint32_t domid,
                                  int devid, libxl_device_usbctrl *usbctrl)
{
    GC_INIT(ctx);
    int rc = usbctrl_read(gc, XBT_NULL, domid, devid, usbctrl);

    GC_FREE;
    return rc;
}

libxl_device_usbdev *libxl_device_usbdev_list(libxl_ctx *ctx,
                                              uint32_t domid, int *num)
{
    GC_INIT(ctx);
    libxl_device_usbdev *usbdevs = NULL;
    libxl_device_usbctrl usbctrl;
    int *devids;
    int i, n, rc;

    *num = 0;
    libxl_device_usbctrl_init(&usbctrl);
    rc = usbctrl_devids(gc, XBT_NULL, domid, &devids, &n);
    for (i = 0; !rc && i < n; i++) {
        rc = usbctrl_read(gc, XBT_NULL, domid, devids[i], &usbctrl);
        if (!rc) rc = usbdev_list_ctrl(gc, domid, &usbctrl, &usbdevs, NULL,
                                       num);
    }
    if (rc) {
        LOGD(ERROR, domid, "Unable to list USB devices");
        libxl_device_usbdev_list_free(usbdevs, *num);
        usbdevs = NULL;
        *num = 0;
    }
    libxl_device_usbctrl_dispose(&usbctrl);
    GC_FREE;
    return usbdevs;
}

void libxl_device_usbdev_list_free(libxl_device_usbdev *list, int nr)
{
    int i;

    for (i = 0; list && i < nr; i++)
        libxl_device_usbdev_dispose(&list[i]);
    free(list);
}

/* The controller ctrl and what is on its port. */
static int usbdev_at(libxl__gc *gc, uint32_t domid, int ctrl, int port,
                     libxl_device_usbdev *usbdev, const char **busid_r)
{
    libxl_device_usbctrl usbctrl;
    int rc;

    libxl_device_usbctrl_init(&usbctrl);
    rc = usbctrl_read_ports(gc, XBT_NULL, domid, ctrl, &usbctrl);
    if (rc) goto out;
    rc = usbctrl_check_port(gc, domid, &usbctrl, port, false);
    if (rc) goto out;
    rc = usbdev_read(gc, domid, &usbctrl, port, usbdev, busid_r);
    if (rc == ERROR_NOTFOUND)
        LOGD(DEBUG, domid, "No USB device on controller %d port %d", ctrl,
             port);
out:
    libxl_device_usbctrl_dispose(&usbctrl);
    return rc;
}

int libxl_ctrlport_to_device_usbdev(libxl_ctx *ctx, uint32_t domid,
                                    int ctrl, int port,
                                    libxl_device_usbdev *usbdev)
{
    GC_INIT(ctx);
    int rc = usbdev_at(gc, domid, ctrl, port, usbdev, NULL);

    GC_FREE;
    return rc;
}

int libxl_ctrlport_to_usb_busid(libxl_ctx *ctx, uint32_t domid,
                                int ctrl, int port, char **busid_r)
{
    GC_INIT(ctx);
    libxl_device_usbdev usbdev;
    const char *busid;
    int rc;

    libxl_device_usbdev_init(&usbdev);
    rc = usbdev_at(gc, domid, ctrl, port, &usbdev, &busid);
    if (!rc) *busid_r = libxl__strdup(NOGC, busid);
    libxl_device_usbdev_dispose(&usbdev);
    GC_FREE;
    return rc;
}

static void usbdevs_busids_free(libxl_device_usbdev *usbdevs, char **busids,
                                int num)
{
    int i;

    for (i = 0; busids && i < num; i++)
        free(busids[i]);
    free(busids);
    libxl_device_usbdev_list_free(usbdevs, num);
}

int libxl_usb_domain_list(libxl_ctx *ctx, uint32_t domid,
                          libxl_usbctrlinfo **infos_r, int *nctrls_r,
                          libxl_device_usbdev **usbdevs_r, char ***busids_r,
                          int *ndevs_r)
{
    GC_INIT(ctx);
    libxl_usbctrlinfo *infos = NULL;
    libxl_device_usbdev *usbdevs = NULL;
    libxl_device_usbctrl usbctrl;
    char **busids = NULL;
    int *devids;
    int i, n, ndevs = 0, rc, devs_rc = 0;

    libxl_device_usbctrl_init(&usbctrl);
    rc = usbctrl_devids(gc, XBT_NULL, domid, &devids, &n);
    if (rc) goto out;
    infos = libxl__calloc(NOGC, n ? n : 1, sizeof(*infos));
    for (i = 0; i < n; i++) {
        libxl_usbctrlinfo_init(&infos[i]);
        rc = usbctrl_read(gc, XBT_NULL, domid, devids[i], &usbctrl);
        if (rc) {
            LOGD(ERROR, domid, "Unable to list USB controllers");
            n = i + 1;
            goto out;
        }
        usbctrl_info_fill(gc, domid, &usbctrl, &infos[i]);
        if (!devs_rc)
            devs_rc = usbdev_list_ctrl(gc, domid, &usbctrl, &usbdevs,
                                       &busids, &ndevs);
    }
    if (devs_rc) {
        /* as libxl_device_usbdev_list: no devices, the controllers still */
        LOGD(ERROR, domid, "Unable to list USB devices");
        usbdevs_busids_free(usbdevs, busids, ndevs);
        usbdevs = NULL;
        busids = NULL;
        ndevs = 0;
    }
    *infos_r = infos;
    *nctrls_r = n;
    *usbdevs_r = usbdevs;
    *busids_r = busids;
    *ndevs_r = ndevs;
    infos = NULL;
    usbdevs = NULL;
    busids = NULL;
    n = ndevs = 0;
out:
    for (i = 0; infos && i < n; i++)
        libxl_usbctrlinfo_dispose(&infos[i]);
    free(infos);
    usbdevs_busids_free(usbdevs, busids, ndevs);
    libxl_device_usbctrl_dispose(&usbctrl);
    GC_FREE;
    return rc;
}

uint32_t *libxl_usb_list_domains(libxl_ctx *ctx, int *num)
{
    GC_INIT(ctx);
    uint32_t *domids = NULL;
    unsigned int i, n = 0;
    long long domid;
    char **entries;
    int nctrls;
    int *devids;

    *num = 0;
    entries = libxl__xs_directory(gc, XBT_NULL, "/libxl", &n);
    for (i = 0; entries && i < n; i++) {
        if (libxl__strtoint(entries[i], 0, INT32_MAX, &domid) ||
            usbctrl_devids(gc, XBT_NULL, domid, &devids, &nctrls) ||
            !nctrls)
            continue;
        domids = libxl__realloc(NOGC, domids, (*num + 1) * sizeof(*domids));
        domids[(*num)++] = domid;
    }
    if (*num)
        qsort(domids, *num, sizeof(*domids), compare_ints);
    GC_FREE;
    return domids;
}

/*----- the host's devices -----*/
/* Fills h from the host layer and whoever holds the device. */
static int usb_hostdev_read(libxl__gc *gc, const char *busid,
                            libxl_usb_hostdev *h)
{
    libxl__usbhost_owner o;
    const char *claim;
    int rc;

    rc = libxl__usbhost_read(gc, busid, h);
    if (rc || h->hub) return rc;
    rc = usb_holder(gc, XBT_NULL, busid, &o, &claim);
    if (rc || o.domid == INVALID_DOMID) return rc;
    h->domid = o.domid;
    h->ctrl = o.ctrl;
    h->port = o.port;
    return 0;
}

libxl_usb_hostdev *libxl_usb_hostdev_list(libxl_ctx *ctx, int *num)
{
    GC_INIT(ctx);
    libxl_usb_hostdev *list = NULL;
    char **devs;
    int i, n, rc;

    *num = 0;
    rc = libxl__usbhost_list(gc, &devs, &n);
    if (rc) goto out;
    list = libxl__calloc(NOGC, n ? n : 1, sizeof(*list));
    for (i = 0; i < n; i++) {
        libxl_usb_hostdev_init(&list[*num]);
        rc = usb_hostdev_read(gc, devs[i], &list[*num]);
        if (rc) {
            LOG(WARN, "Skipping USB device %s: cannot read it", devs[i]);
            libxl_usb_hostdev_dispose(&list[*num]);
            continue;
        }
        (*num)++;
    }
out:
    GC_FREE;
    return list;
}

int libxl_usb_hostdev_get(libxl_ctx *ctx, const char *busid,
                          libxl_usb_hostdev *h)
{
    GC_INIT(ctx);
    int rc = ERROR_INVAL;

    if (!libxl__usbhost_busid_is_valid(busid) &&
        !libxl__usbhost_is_root_hub(busid))
        LOG(ERROR, "\"%s\" is not a USB busid", busid);
    else
        rc = usb_hostdev_read(gc, busid, h);
    GC_FREE;
    return rc;
}

int libxl_usb_hostdev_find(libxl_ctx *ctx, const libxl_usb_hostdev *want,
                           libxl_usb_hostdev *found)
{
    GC_INIT(ctx);
    uint8_t bus, addr;
    char *busid;
    int rc;

    rc = libxl__usbhost_find(gc, want, &busid);
    bus = want->hostbus;
    addr = want->hostaddr;
    if (!rc && (want->busid || !want->hostbus))
        rc = libxl__usbhost_busaddr(gc, busid, &bus, &addr);
    if (!rc && !bus) {
        LOG(ERROR, "No USB device %s on this host", busid);
        rc = ERROR_NOTFOUND;
    }
    if (!rc) {
        found->busid = libxl__strdup(NOGC, busid);
        found->hostbus = bus;
        found->hostaddr = addr;
    }
    GC_FREE;
    return rc;
}

void libxl_usb_hostdev_list_free(libxl_usb_hostdev *list, int nr)
{
    int i;

    for (i = 0; list && i < nr; i++)
        libxl_usb_hostdev_dispose(&list[i]);
    free(list);
}
