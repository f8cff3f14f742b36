/*
 * libxl_pvusb_host.c - the host side of USB: the devices sysfs shows,
 * their interfaces moved to usbback and back, and what dom0 records of
 * each device in xenstore (its owner, its interfaces' drivers).  The
 * contract is in libxl_pvusb_internal.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */

#include "libxl_osdeps.h" /* must come before any other headers */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libxl_pvusb_internal.h"

#define USBBACK_INFO_PATH "/libxl/usbback"
#define USBHUB_CLASS_CODE 9

/*----- names and paths -----*/

/* xenstore keys cannot hold '.' or ':' */
static char *usb_busid_encode(libxl__gc *gc, const char *busid)
{
    char *enc = libxl__strdup(gc, busid);
    char *p;

    for (p = enc; *p; p++) {
        if (*p == '.') *p = '_';
        else if (*p == ':') *p = '@';
    }
    return enc;
}

static char *usb_hostdev_info_path(libxl__gc *gc, const char *busid)
{
    return GCSPRINTF(USBBACK_INFO_PATH "/%s", usb_busid_encode(gc, busid));
}

static char *usb_intf_info_path(libxl__gc *gc, const char *busid,
                                const char *intf)
{
    return GCSPRINTF("%s/%s", usb_hostdev_info_path(gc, busid),
                     usb_busid_encode(gc, intf));
}

/* A run of decimal digits without a leading zero (but "0" itself). */
static const char *skip_number(const char *p)
{
    const char *start = p;

    while (isdigit((unsigned char)*p)) p++;
    if (p == start || (*start == '0' && p - start > 1)) return NULL;
    return p;
}

/*
 * A host busid as the kernel names USB devices: "<bus>-<port>[.<port>]..."
 * (a root hub is "usb<bus>").  Everything read back from xenstore is
 * checked against this before it is used in a sysfs path.
 */
bool libxl__usbhost_busid_is_valid(const char *busid)
{
    const char *p = skip_number(busid);

    if (!p || *p++ != '-') return false;
    for (;;) {
        p = skip_number(p);
        if (!p) return false;
        if (!*p) return strlen(busid) < 32;
        if (*p++ != '.') return false;
    }
}

bool libxl__usbhost_is_root_hub(const char *busid)
{
    const char *p = strncmp(busid, "usb", 3) ? NULL : skip_number(busid + 3);

    return p && !*p;
}

/*----- sysfs -----*/

/* The first line of a sysfs file.  ERROR_NOTFOUND if it is absent. */
static int sysfs_read_line(libxl__gc *gc, const char *path, char **line_r)
{
    char buf[256];
    ssize_t got;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return ERROR_NOTFOUND;
        LOGE(ERROR, "Cannot open %s", path);
        return ERROR_FAIL;
    }
    got = read(fd, buf, sizeof(buf) - 1);
    if (got < 0) {
        LOGE(ERROR, "Cannot read %s", path);
        rc = ERROR_FAIL;
        goto out;
    }
    buf[got] = 0;
    buf[strcspn(buf, "\n")] = 0;
    *line_r = libxl__strdup(gc, buf);
    rc = 0;
out:
    close(fd);
    return rc;
}

static int sysfs_read_attr(libxl__gc *gc, const char *busid,
                           const char *attr, char **val_r)
{
    return sysfs_read_line(gc, GCSPRINTF(SYSFS_USB_DEV "/%s/%s", busid, attr),
                           val_r);
}

/* A decimal (busnum, devnum) or hex (bDeviceClass, idVendor) attribute. */
static int sysfs_read_attr_int(libxl__gc *gc, const char *busid,
                               const char *attr, int base, long max,
                               long *val_r)
{
    char *val, *end;
    int rc;

    rc = sysfs_read_attr(gc, busid, attr, &val);
    if (rc) return rc;
    errno = 0;
    *val_r = strtol(val, &end, base);
    if (!isxdigit((unsigned char)*val) || *end || errno ||
        *val_r < 0 || *val_r > max) {
        LOG(ERROR, "%s/%s/%s: unexpected value \"%s\"", SYSFS_USB_DEV,
            busid, attr, val);
        return ERROR_FAIL;
    }
    return 0;
}

/* Writes s to a sysfs file, as one write of exactly strlen(s) bytes. */
static int sysfs_write(libxl__gc *gc, const char *path, const char *s)
{
    ssize_t r;
    int fd;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        LOGE(ERROR, "Cannot open %s", path);
        return ERROR_FAIL;
    }
    r = write(fd, s, strlen(s));
    if (r != (ssize_t)strlen(s)) {
        LOGE(ERROR, "Writing \"%s\" to %s failed", s, path);
        close(fd);
        return ERROR_FAIL;
    }
    if (close(fd)) {
        LOGE(ERROR, "Writing \"%s\" to %s failed", s, path);
        return ERROR_FAIL;
    }
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Entries of SYSFS_USB_DEV, sorted: with busid NULL the devices (no ':'
 * in the name), else the interfaces of busid ("<busid>:<cfg>.<n>").
 */
static int sysfs_usb_list(libxl__gc *gc, const char *busid,
                          char ***names_r, int *num_r)
{
    size_t prefix_len = busid ? strlen(busid) : 0;
    char **names = NULL;
    struct dirent *de;
    int num = 0, rc;
    DIR *dir;

    dir = opendir(SYSFS_USB_DEV);
    if (!dir) {
        LOGE(ERROR, "Cannot list %s", SYSFS_USB_DEV);
        return ERROR_FAIL;
    }
    for (;;) {
        errno = 0;
        de = readdir(dir);
        if (!de) break;
        if (de->d_name[0] == '.') continue;
        if (busid ? (strncmp(de->d_name, busid, prefix_len) ||
                     de->d_name[prefix_len] != ':')
                  : !!strchr(de->d_name, ':'))
            continue;
        GCREALLOC_ARRAY(names, num + 1);
        names[num++] = libxl__strdup(gc, de->d_name);
    }
    if (errno) {
        LOGE(ERROR, "Cannot list %s", SYSFS_USB_DEV);
        rc = ERROR_FAIL;
        goto out;
    }
    if (num) qsort(names, num, sizeof(*names), compare_strings);
    *names_r = names;
    *num_r = num;
    rc = 0;
out:
    closedir(dir);
    return rc;
}

/* Is busid named as a device of bus ("<bus>-..." or root hub "usb<bus>")?
 * The kernel names them so: the others need not be opened. */
static bool usb_busid_is_on_bus(const char *busid, int bus)
{
    const char *p = !strncmp(busid, "usb", 3) ? busid + 3 : busid;
    char *end;

    return strtol(p, &end, 10) == bus && end != p &&
           (*end == '-' || (!*end && p != busid));
}

int libxl__usbhost_busaddr_to_busid(libxl__gc *gc, int bus, int addr,
                                    char **busid_r)
{
    char **devs;
    long busnum, devnum;
    int i, num, rc;

    rc = sysfs_usb_list(gc, NULL, &devs, &num);
    if (rc) return rc;
    for (i = 0; i < num; i++) {
        if (!usb_busid_is_on_bus(devs[i], bus) ||
            sysfs_read_attr_int(gc, devs[i], "busnum", 10, 255, &busnum) ||
            sysfs_read_attr_int(gc, devs[i], "devnum", 10, 255, &devnum))
            continue;
        if (busnum == bus && devnum == addr) {
            *busid_r = devs[i];
            return 0;
        }
    }
    LOG(ERROR, "No USB device at hostbus=%d hostaddr=%d (lsusb shows "
        "them as Bus/Device)", bus, addr);
    return ERROR_NOTFOUND;
}

int libxl__usbhost_busaddr(libxl__gc *gc, const char *busid,
                           uint8_t *bus_r, uint8_t *addr_r)
{
    long bus, addr;
    int rc;

    *bus_r = *addr_r = 0;
    rc = sysfs_read_attr_int(gc, busid, "busnum", 10, 255, &bus);
    if (rc == ERROR_NOTFOUND) return 0;
    if (!rc) rc = sysfs_read_attr_int(gc, busid, "devnum", 10, 255, &addr);
    if (rc) return rc;
    *bus_r = bus;
    *addr_r = addr;
    return 0;
}

int libxl__usbhost_is_hub(libxl__gc *gc, const char *busid, bool *hub_r)
{
    long cls;
    int rc;

    if (!strncmp(busid, "usb", 3)) {
        *hub_r = true;      /* a root hub */
        return 0;
    }
    rc = sysfs_read_attr_int(gc, busid, "bDeviceClass", 16, 255, &cls);
    if (rc) return rc;
    *hub_r = cls == USBHUB_CLASS_CODE;
    return 0;
}

/* The driver an interface is bound to, as "/sys/bus/usb/drivers/<d>", or
 * NULL if it has none. */
static int usbintf_get_drvpath(libxl__gc *gc, const char *intf,
                               const char **drvpath_r)
{
    const char *link = GCSPRINTF(SYSFS_USB_DEV "/%s/driver", intf);
    char *path;

    path = realpath(link, NULL);
    if (!path) {
        if (errno == ENOENT) {
            *drvpath_r = NULL;
            return 0;
        }
        LOGE(ERROR, "Cannot resolve %s", link);
        return ERROR_FAIL;
    }
    libxl__ptr_add(gc, path);
    *drvpath_r = path;
    return 0;
}

/*
 * A driver path to write to must be a directory directly under
 * SYSFS_USB_DRV, and be that directory itself (no symlink leading out).
 */
static bool usb_drvpath_is_valid(const char *drvpath)
{
    const size_t len = strlen(SYSFS_USB_DRV "/");
    const char *name;
    struct stat st;
    char *real;
    bool ok;

    if (strncmp(drvpath, SYSFS_USB_DRV "/", len)) return false;
    name = drvpath + len;
    if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return false;
    real = realpath(drvpath, NULL);
    ok = real && !strcmp(real, drvpath) && !stat(real, &st) &&
         S_ISDIR(st.st_mode);
    free(real);
    return ok;
}

static int usbintf_unbind(libxl__gc *gc, const char *intf,
                          const char *drvpath)
{
    return sysfs_write(gc, GCSPRINTF("%s/unbind", drvpath), intf);
}

static int usbintf_bind(libxl__gc *gc, const char *intf, const char *drvpath)
{
    return sysfs_write(gc, GCSPRINTF("%s/bind", drvpath), intf);
}

/* An interface of a device, and the driver it is bound to. */
typedef struct {
    const char *name;           /* "<busid>:<cfg>.<n>" */
    const char *drvpath;        /* SYSFS_USB_DRV "/<d>", or NULL: none */
} usb_intf;

/* The interfaces of busid, sorted; none if it is unplugged. */
static int usb_intfs_read(libxl__gc *gc, const char *busid,
                          usb_intf **intfs_r, int *num_r)
{
    usb_intf *intfs;
    char **names;
    int i, num, rc;

    rc = sysfs_usb_list(gc, busid, &names, &num);
    if (rc) return rc;
    GCNEW_ARRAY(intfs, num + 1);
    for (i = 0; i < num; i++) {
        intfs[i].name = names[i];
        rc = usbintf_get_drvpath(gc, names[i], &intfs[i].drvpath);
        if (rc) return rc;
    }
    *intfs_r = intfs;
    *num_r = num;
    return 0;
}

/* Has intf gone from the host since it was listed (its device
 * unplugged)?  Then there is nothing left to bind or unbind. */
static bool usbintf_is_gone(libxl__gc *gc, const char *intf)
{
    if (access(GCSPRINTF(SYSFS_USB_DEV "/%s", intf), F_OK) &&
        errno == ENOENT) {
        LOG(INFO, "USB interface %s was unplugged meanwhile", intf);
        return true;
    }
    return false;
}

static const char *usb_drvpath_name(const char *drvpath)
{
    return strrchr(drvpath, '/') + 1;
}

bool libxl__usbhost_usbback_is_loaded(void)
{
    return !access(SYSFS_USBBACK_DRIVER, F_OK);
}

/*----- the ownership record -----*/

static char *usb_owner_path(libxl__gc *gc, const char *busid)
{
    return GCSPRINTF("%s/owner", usb_hostdev_info_path(gc, busid));
}

bool libxl__usbhost_owner_is(const libxl__usbhost_owner *o, uint32_t domid,
                             int ctrl, int port)
{
    return o->domid == domid && o->ctrl == ctrl && o->port == port;
}

int libxl__usbhost_owner_read(libxl__gc *gc, xs_transaction_t t,
                              const char *busid, libxl__usbhost_owner *o)
{
    const char *path = usb_owner_path(gc, busid);
    long long domid, ctrl, port;
    char *s, *part[4];
    const char *rec;
    int i, rc;

    o->domid = INVALID_DOMID;
    o->ctrl = o->port = -1;
    o->attaching = false;
    rc = libxl__xs_read_checked(gc, t, path, &rec);
    if (rc || !rec) return rc;

    s = libxl__strdup(gc, rec);
    for (i = 0; i < 4 && s; i++)
        part[i] = strsep(&s, "/");
    if (i < 3 || s || (i == 4 && strcmp(part[3], "attaching")) ||
        libxl__strtoint(part[0], 0, INT32_MAX, &domid) ||
        libxl__strtoint(part[1], 0, INT_MAX, &ctrl) ||
        libxl__strtoint(part[2], 1, USBIF_MAX_PORTNR, &port)) {
        LOG(WARN, "%s: malformed record \"%s\"", path, rec);
        return 0;
    }
    o->domid = domid;
    o->ctrl = ctrl;
    o->port = port;
    o->attaching = i == 4;
    return 0;
}

int libxl__usbhost_owner_write(libxl__gc *gc, xs_transaction_t t,
                               const char *busid, uint32_t domid, int ctrl,
                               int port, bool attaching)
{
    return libxl__xs_printf(gc, t, usb_owner_path(gc, busid), "%u/%d/%d%s",
                            domid, ctrl, port, attaching ? "/attaching" : "");
}

int libxl__usbhost_recorded(libxl__gc *gc, char ***busids_r, int *num_r)
{
    unsigned int i, n = 0;
    char **entries, *busid, *p;

    *num_r = 0;
    entries = libxl__xs_directory(gc, XBT_NULL, USBBACK_INFO_PATH, &n);
    if (!entries && errno != ENOENT) {
        LOGE(ERROR, "listing " USBBACK_INFO_PATH);
        return ERROR_FAIL;
    }
    *busids_r = libxl__calloc(gc, n + 1, sizeof(**busids_r));
    for (i = 0; i < n; i++) {
        busid = libxl__strdup(gc, entries[i]);
        for (p = busid; *p; p++)
            if (*p == '_') *p = '.';
        if (!libxl__usbhost_busid_is_valid(busid)) {
            LOG(WARN, USBBACK_INFO_PATH "/%s: not a recorded busid; "
                "ignored", entries[i]);
            continue;
        }
        (*busids_r)[(*num_r)++] = busid;
    }
    return 0;
}

int libxl__usbhost_forget(libxl__gc *gc, xs_transaction_t t,
                          const char *busid, bool drivers_too)
{
    return libxl__xs_rm_checked(gc, t, drivers_too
                                ? usb_hostdev_info_path(gc, busid)
                                : usb_owner_path(gc, busid));
}

/*----- interfaces to usbback and back -----*/

int libxl__usbhost_claiming_driver(libxl__gc *gc, const char *busid,
                                   const char **drv_r)
{
    const char *name;
    usb_intf *intfs;
    int i, num, rc;

    *drv_r = NULL;
    rc = usb_intfs_read(gc, busid, &intfs, &num);
    if (rc) return rc;
    for (i = 0; i < num && !*drv_r; i++) {
        name = intfs[i].drvpath ? usb_drvpath_name(intfs[i].drvpath) : "";
        if (!strcmp(name, "usbback") || !strcmp(name, "usbfs"))
            *drv_r = name;
    }
    return 0;
}

/* Crash-only: an interface already on usbback is done, and one on no
 * driver (killed between unbind and bind) keeps the record it has. */
int libxl__usbhost_bind_usbback(libxl__gc *gc, const char *busid)
{
    const char *rec, *drvpath;
    usb_intf *intfs;
    int i, num, rc;

    rc = usb_intfs_read(gc, busid, &intfs, &num);
    if (rc) return rc;
    for (i = 0; i < num; i++) {
        drvpath = intfs[i].drvpath;
        if (drvpath && !strcmp(drvpath, SYSFS_USBBACK_DRIVER)) continue;
        if (drvpath) {
            rec = GCSPRINTF("%s/driver_path",
                            usb_intf_info_path(gc, busid, intfs[i].name));
            rc = libxl__xs_write_checked(gc, XBT_NULL, rec, drvpath);
            if (rc) return rc;
            rc = usbintf_unbind(gc, intfs[i].name, drvpath);
            if (rc) return rc;
        }
        rc = usbintf_bind(gc, intfs[i].name, SYSFS_USBBACK_DRIVER);
        if (rc) return rc;
    }
    return 0;
}

int libxl__usbhost_unbind_usbback(libxl__gc *gc, const char *busid)
{
    usb_intf *intfs;
    int i, num, rc;

    rc = usb_intfs_read(gc, busid, &intfs, &num);
    for (i = 0; !rc && i < num; i++) {
        if (intfs[i].drvpath &&
            !strcmp(intfs[i].drvpath, SYSFS_USBBACK_DRIVER) &&
            usbintf_unbind(gc, intfs[i].name, SYSFS_USBBACK_DRIVER) &&
            !usbintf_is_gone(gc, intfs[i].name))
            rc = ERROR_FAIL;
    }
    return rc;
}

int libxl__usbhost_rebind(libxl__gc *gc, const char *busid)
{
    const char *rec, *orig, *drvpath;
    usb_intf *intfs;
    int i, num, rc;

    rc = usb_intfs_read(gc, busid, &intfs, &num);
    if (rc) return rc;
    for (i = 0; i < num; i++) {
        rec = usb_intf_info_path(gc, busid, intfs[i].name);
        rc = libxl__xs_read_checked(gc, XBT_NULL,
                                    GCSPRINTF("%s/driver_path", rec), &orig);
        if (rc) return rc;
        if (!orig) continue;
        if (!usb_drvpath_is_valid(orig)) {
            LOG(ERROR, "%s: \"%s\" is not a USB driver directory; refusing "
                "to bind %s to it", rec, orig, intfs[i].name);
            return ERROR_FAIL;
        }
        drvpath = intfs[i].drvpath;
        if (!drvpath) rc = usbintf_bind(gc, intfs[i].name, orig);
        else if (strcmp(drvpath, orig)) rc = ERROR_FAIL;
        if (rc && !drvpath && usbintf_is_gone(gc, intfs[i].name)) {
            rc = 0;
            continue;
        }
        if (rc) {
            LOG(ERROR, "Couldn't rebind %s to %s; reloading the module may "
                "help", intfs[i].name, usb_drvpath_name(orig));
            return ERROR_FAIL;
        }
    }
    return 0;
}

/*----- what the host has -----*/

int libxl__usbhost_list(libxl__gc *gc, char ***busids_r, int *num_r)
{
    return sysfs_usb_list(gc, NULL, busids_r, num_r);
}

int libxl__usbhost_read(libxl__gc *gc, const char *busid,
                        libxl_usb_hostdev *h)
{
    static const char *const strs[] = { "manufacturer", "product",
                                        "serial" };
    char **strp[] = { &h->manufacturer, &h->product, &h->serial };
    char *val, *drivers = "";
    long bus, addr, vendor, product, cls;
    usb_intf *intfs;
    int i, num, rc;

    if (sysfs_read_attr_int(gc, busid, "busnum", 10, 255, &bus) ||
        sysfs_read_attr_int(gc, busid, "devnum", 10, 255, &addr) ||
        sysfs_read_attr_int(gc, busid, "idVendor", 16, 0xffff, &vendor) ||
        sysfs_read_attr_int(gc, busid, "idProduct", 16, 0xffff, &product) ||
        sysfs_read_attr_int(gc, busid, "bDeviceClass", 16, 255, &cls))
        return ERROR_FAIL;
    h->busid = libxl__strdup(NOGC, busid);
    h->hostbus = bus;
    h->hostaddr = addr;
    h->idvendor = vendor;
    h->idproduct = product;
    h->device_class = cls;
    h->hub = !strncmp(busid, "usb", 3) || cls == USBHUB_CLASS_CODE;
    for (i = 0; i < (int)ARRAY_SIZE(strs); i++)
        if (!sysfs_read_attr(gc, busid, strs[i], &val))
            *strp[i] = libxl__strdup(NOGC, val);

    rc = usb_intfs_read(gc, busid, &intfs, &num);
    if (rc) return rc;
    h->num_interfaces = num;
    for (i = 0; i < num; i++) {
        /* one per interface: "-" for one bound to no driver */
        drivers = GCSPRINTF("%s%s%s", drivers, i ? "," : "",
                            intfs[i].drvpath
                            ? usb_drvpath_name(intfs[i].drvpath) : "-");
    }
    h->drivers = libxl__strdup(NOGC, drivers);
    return 0;
}

int libxl__usbhost_ids(libxl__gc *gc, const char *busid, uint16_t *vendor_r,
                       uint16_t *product_r, char **serial_r)
{
    long vendor, product;
    int rc;

    rc = sysfs_read_attr_int(gc, busid, "idVendor", 16, 0xffff, &vendor);
    if (!rc)
        rc = sysfs_read_attr_int(gc, busid, "idProduct", 16, 0xffff,
                                 &product);
    if (rc) return rc;
    *vendor_r = vendor;
    *product_r = product;
    if (sysfs_read_attr(gc, busid, "serial", serial_r))
        *serial_r = NULL;
    return 0;
}

/* Does busid have vendor:product (and serial, if not NULL)? */
static bool usb_has_id(libxl__gc *gc, const char *busid, long vendor,
                       long product, const char *serial)
{
    long v, p;
    char *sn;

    return !sysfs_read_attr_int(gc, busid, "idVendor", 16, 0xffff, &v) &&
           v == vendor &&
           !sysfs_read_attr_int(gc, busid, "idProduct", 16, 0xffff, &p) &&
           p == product &&
           (!serial || (!sysfs_read_attr(gc, busid, "serial", &sn) &&
                        !strcmp(sn, serial)));
}

/* The device with those ids; if several have them, the error names them
 * (busid, bus and address, serial) for the caller to say which. */
static int usb_find_by_id(libxl__gc *gc, const libxl_usb_hostdev *want,
                          char **busid_r)
{
    const char *sn = want->serial, *found = "";
    char **devs, *serial;
    uint8_t bus, addr;
    int i, num, n = 0, rc;

    rc = sysfs_usb_list(gc, NULL, &devs, &num);
    for (i = 0; !rc && i < num; i++) {
        if (!usb_has_id(gc, devs[i], want->idvendor, want->idproduct, sn))
            continue;
        rc = libxl__usbhost_busaddr(gc, devs[i], &bus, &addr);
        if (rc) break;
        if (sysfs_read_attr(gc, devs[i], "serial", &serial)) serial = "";
        found = GCSPRINTF("%s%s %s (Bus %03d Device %03d, serial \"%s\")",
                          found, n ? "," : "", devs[i], bus, addr, serial);
        *busid_r = devs[i];
        n++;
    }
    if (rc || n == 1) return rc;
    if (!n) {
        LOG(ERROR, "No USB device on this host has vendor=%04x "
            "product=%04x%s%s", want->idvendor, want->idproduct,
            sn ? " serial=" : "", sn ? sn : "");
        return ERROR_NOTFOUND;
    }
    LOG(ERROR, "%d USB devices have vendor=%04x product=%04x%s%s:%s; say "
        "which one by its busid%s", n, want->idvendor, want->idproduct,
        sn ? " serial=" : "", sn ? sn : "", found,
        sn ? "" : " or its serial");
    return ERROR_INVAL;
}

int libxl__usbhost_find(libxl__gc *gc, const libxl_usb_hostdev *want,
                        char **busid_r)
{
    if (want->busid) {
        if (!libxl__usbhost_busid_is_valid(want->busid) &&
            !libxl__usbhost_is_root_hub(want->busid)) {
            LOG(ERROR, "\"%s\" is not a USB busid (such as 3-1.2)",
                want->busid);
            return ERROR_INVAL;
        }
        *busid_r = libxl__strdup(gc, want->busid);
        return 0;
    }
    if (want->hostbus)
        return libxl__usbhost_busaddr_to_busid(gc, want->hostbus,
                                               want->hostaddr, busid_r);
    return usb_find_by_id(gc, want, busid_r);
}
