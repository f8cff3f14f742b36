/*
 * libxl_pvusb_decl.c - the declaration of what a domain's uuid should
 * have (its controllers and devices, across reboots and re-plugs), kept
 * by the operations in the domain's persisted configuration, and the
 * reconcile that makes a domain what its declaration says, through the
 * operations themselves (their lock, their transactions).
 *
 * A declared device is known again by its identity, never by hostbus/
 * hostaddr (new at every plug): PORT, the device at the busid it was
 * attached at if its vendor:product and serial (or its having none) are
 * the declared ones; SERIAL, the device with the declared
 * vendor:product:serial wherever it is plugged.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_osdeps.h"

#include "libxl_pvusb_internal.h"

/*----- the declaration, as the operations keep it -----*/

void libxl__usb_config_drop_live(libxl_domain_usb_config *cfg)
{
    int i;

    for (i = 0; i < cfg->num_usbctrls; i++)
        libxl_device_usbctrl_dispose(&cfg->usbctrls[i]);
    for (i = 0; i < cfg->num_usbdevs; i++)
        libxl_device_usbdev_dispose(&cfg->usbdevs[i]);
    free(cfg->usbctrls);
    free(cfg->usbdevs);
    cfg->usbctrls = NULL;
    cfg->usbdevs = NULL;
    cfg->num_usbctrls = cfg->num_usbdevs = 0;
    cfg->generation = 0;
}

int libxl__usb_config_forget_live(libxl__gc *gc, const char *uuid)
{
    libxl_domain_usb_config cfg;
    int rc;

    libxl_domain_usb_config_init(&cfg);
    rc = libxl__get_domain_usb_config(gc, uuid, &cfg);
    if (rc) goto out;
    if (!cfg.num_declared_usbctrls && !cfg.num_declared_usbdevs) {
        rc = libxl__remove_domain_usb_config(gc, uuid);
        goto out;
    }
    libxl__usb_config_drop_live(&cfg);
    rc = libxl__set_domain_usb_config(gc, uuid, &cfg);
out:
    libxl_domain_usb_config_dispose(&cfg);
    return rc;
}

/* Is d the device the declaration of e names too? */
static bool usbdev_decl_same_device(const libxl_usbdev_decl *d,
                                    const libxl_usbdev_decl *e)
{
    if (d->serial && e->serial)
        return d->idvendor == e->idvendor && d->idproduct == e->idproduct &&
               !strcmp(d->serial, e->serial);
    return d->busid && e->busid && !strcmp(d->busid, e->busid);
}

/* Keeps the declared devices keep() says yes to. */
static void usbdev_decls_filter(libxl_domain_usb_config *cfg,
                                bool (*keep)(const libxl_usbdev_decl *d,
                                             const void *arg),
                                const void *arg)
{
    int i, j;

    for (i = j = 0; i < cfg->num_declared_usbdevs; i++) {
        if (keep(&cfg->declared_usbdevs[i], arg))
            cfg->declared_usbdevs[j++] = cfg->declared_usbdevs[i];
        else
            libxl_usbdev_decl_dispose(&cfg->declared_usbdevs[i]);
    }
    cfg->num_declared_usbdevs = j;
}

struct decl_place { int ctrl, port; const libxl_usbdev_decl *same; };

/* Off that controller (port 0) or that port, and not the same device. */
static bool decl_keep_place(const libxl_usbdev_decl *d, const void *arg)
{
    const struct decl_place *p = arg;

    if (d->ctrl == p->ctrl && (!p->port || d->port == p->port))
        return false;
    return !p->same || !usbdev_decl_same_device(d, p->same);
}

/* On ports the controller (re-declared) has. */
static bool decl_keep_ports(const libxl_usbdev_decl *d, const void *arg)
{
    const libxl_device_usbctrl *c = arg;

    return d->ctrl != c->devid || d->port <= c->ports;
}

static int usbdev_decl_make(libxl__gc *gc, unsigned int flags,
                            const libxl_device_usbdev *usbdev,
                            const char *busid, libxl_usbdev_decl *d)
{
    char *serial;
    int rc;

    rc = libxl__usbhost_ids(gc, busid, &d->idvendor, &d->idproduct,
                            &serial);
    if (rc) return rc;
    d->ctrl = usbdev->ctrl;
    d->port = usbdev->port;
    d->busid = libxl__strdup(NOGC, busid);
    d->serial = libxl__strdup(NOGC, serial);
    d->mode = (flags & LIBXL_USB_FOLLOW_SERIAL) && serial
              ? LIBXL_USBDEV_DECL_MODE_SERIAL : LIBXL_USBDEV_DECL_MODE_PORT;
    if ((flags & LIBXL_USB_FOLLOW_SERIAL) && !serial)
        LOG(WARN, "USB device %s has no serial: declared by its port",
            busid);
    return 0;
}

int libxl__usb_decl_change(libxl__gc *gc, libxl_domain_usb_config *cfg,
                           unsigned int flags, int devid, int port,
                           const libxl_device_usbctrl *usbctrl,
                           const libxl_device_usbdev *usbdev,
                           const char *busid)
{
    struct decl_place place = { devid, port, NULL };
    libxl_usbdev_decl d;
    int i, j, rc = 0;

    if (flags & LIBXL_USB_LIVE) return 0;
    libxl_usbdev_decl_init(&d);
    if (usbctrl || !port) {
        for (i = j = 0; i < cfg->num_declared_usbctrls; i++) {
            if (cfg->declared_usbctrls[i].devid == devid)
                libxl_device_usbctrl_dispose(&cfg->declared_usbctrls[i]);
            else
                cfg->declared_usbctrls[j++] = cfg->declared_usbctrls[i];
        }
        cfg->num_declared_usbctrls = j;
    }
    if (usbctrl) {
        cfg->declared_usbctrls = libxl__realloc(NOGC,
            cfg->declared_usbctrls,
            (cfg->num_declared_usbctrls + 1) * sizeof(*usbctrl));
        libxl_device_usbctrl_init(
            &cfg->declared_usbctrls[cfg->num_declared_usbctrls]);
        libxl_device_usbctrl_copy(CTX,
            &cfg->declared_usbctrls[cfg->num_declared_usbctrls++], usbctrl);
        usbdev_decls_filter(cfg, decl_keep_ports, usbctrl);
        goto out;
    }
    if (usbdev) {
        rc = usbdev_decl_make(gc, flags, usbdev, busid, &d);
        if (rc) goto out;
        place.same = &d;
    }
    usbdev_decls_filter(cfg, decl_keep_place, &place);
    if (!usbdev) goto out;
    cfg->declared_usbdevs = libxl__realloc(NOGC, cfg->declared_usbdevs,
        (cfg->num_declared_usbdevs + 1) * sizeof(d));
    cfg->declared_usbdevs[cfg->num_declared_usbdevs++] = d;
    libxl_usbdev_decl_init(&d);
out:
    libxl_usbdev_decl_dispose(&d);
    return rc;
}

int libxl_usb_declaration_get(libxl_ctx *ctx, uint32_t domid,
                              libxl_domain_usb_config *cfg)
{
    GC_INIT(ctx);
    const char *uuid;
    int rc;

    rc = libxl__domain_uuid_string(gc, domid, &uuid);
    if (rc == ERROR_DOMAIN_NOTFOUND) LOGD(ERROR, domid, "no such domain");
    if (!rc) rc = libxl__get_domain_usb_config(gc, uuid, cfg);
    GC_FREE;
    return rc;
}

/*----- what a declaration may say -----*/

/*
 * The file is the administrator's to edit, so each entry is checked
 * before anything is done for it: one that is refused is logged (WARN,
 * "refused") and left out, the others are done.
 */
static bool usbctrl_decl_is_valid(libxl__gc *gc, uint32_t domid,
                                  const libxl_device_usbctrl *c)
{
    if (c->devid >= 0 && c->devid < INT_MAX && c->ports >= 1 &&
        c->ports <= USBIF_MAX_PORTNR && c->version >= 1 && c->version <= 3 &&
        (c->type == LIBXL_USBCTRL_TYPE_PV ||
         c->type == LIBXL_USBCTRL_TYPE_QUSB ||
         c->type == LIBXL_USBCTRL_TYPE_DEVICEMODEL))
        return true;
    LOGD(WARN, domid, "Declared USB controller %d refused: type %d, version "
         "%d, ports %d is not a controller this library makes; fix or "
         "remove it in the declaration", c->devid, c->type, c->version,
         c->ports);
    return false;
}

static bool usbdev_decl_is_valid(libxl__gc *gc, uint32_t domid,
                                 const libxl_usbdev_decl *d)
{
    const char *why = NULL;

    if (d->ctrl < 0 || d->ctrl == INT_MAX)
        why = "no controller";
    else if (d->port < 1 || d->port > USBIF_MAX_PORTNR)
        why = "no such port";
    else if (!d->busid || !libxl__usbhost_busid_is_valid(d->busid))
        why = "its busid is not a USB busid (such as 3-1.2)";
    else if (d->mode != LIBXL_USBDEV_DECL_MODE_PORT &&
             (d->mode != LIBXL_USBDEV_DECL_MODE_SERIAL || !d->serial ||
              !*d->serial))
        why = "mode serial needs a serial";
    if (!why) return true;
    LOGD(WARN, domid, "Declared USB device on controller %d port %d "
         "refused: %s; fix or remove it in the declaration", d->ctrl,
         d->port, why);
    return false;
}

/*----- making the domain what it declares -----*/

/* Does the device at busid (present) answer to d: its vendor:product,
 * and its serial, or its having none? */
static bool usbdev_decl_matches(libxl__gc *gc, const libxl_usbdev_decl *d,
                                const char *busid)
{
    uint16_t vendor, product;
    char *serial;

    return !libxl__usbhost_ids(gc, busid, &vendor, &product, &serial) &&
           vendor == d->idvendor && product == d->idproduct &&
           (d->serial ? serial && !strcmp(serial, d->serial) : !serial);
}

static bool usbhost_is_present(libxl__gc *gc, const char *busid)
{
    uint8_t bus, addr;

    return !libxl__usbhost_busaddr(gc, busid, &bus, &addr) && bus;
}

/* Where the host has d's device now: 0 and *busid_r; ERROR_NOTFOUND if
 * it is absent, ERROR_DEVICE_EXISTS if (PORT) another device is at its
 * port. */
static int usbdev_decl_where(libxl__gc *gc, const libxl_usbdev_decl *d,
                             const char **busid_r)
{
    char **busids;
    int i, num, rc;

    if (d->mode == LIBXL_USBDEV_DECL_MODE_PORT) {
        if (!usbhost_is_present(gc, d->busid)) return ERROR_NOTFOUND;
        if (!usbdev_decl_matches(gc, d, d->busid))
            return ERROR_DEVICE_EXISTS;
        *busid_r = d->busid;
        return 0;
    }
    rc = libxl__usbhost_list(gc, &busids, &num);
    if (rc) return rc;
    for (i = 0; i < num; i++) {
        if (!libxl__usbhost_is_root_hub(busids[i]) &&
            usbdev_decl_matches(gc, d, busids[i])) {
            *busid_r = busids[i];
            return 0;
        }
    }
    return ERROR_NOTFOUND;
}

int libxl_usbdev_decl_locate(libxl_ctx *ctx, const libxl_usbdev_decl *d,
                             char **busid_r)
{
    GC_INIT(ctx);
    const char *busid;
    int rc = ERROR_INVAL;

    *busid_r = NULL;
    if (usbdev_decl_is_valid(gc, INVALID_DOMID, d))
        rc = usbdev_decl_where(gc, d, &busid);
    if (!rc)
        *busid_r = libxl__strdup(NOGC, busid);
    GC_FREE;
    return rc;
}

int libxl__usb_decl_check(libxl__gc *gc, const char *uuid, int ctrl,
                          int port, const char *busid)
{
    libxl_domain_usb_config cfg;
    const libxl_usbdev_decl *d;
    const char *where;
    bool declared = false;
    int i, rc;

    libxl_domain_usb_config_init(&cfg);
    rc = libxl__get_domain_usb_config(gc, uuid, &cfg);
    if (rc) goto out;
    for (i = 0; !port && i < cfg.num_declared_usbctrls; i++)
        declared |= cfg.declared_usbctrls[i].devid == ctrl;
    for (i = 0; port && i < cfg.num_declared_usbdevs; i++) {
        d = &cfg.declared_usbdevs[i];
        declared |= d->ctrl == ctrl && d->port == port &&
                    usbdev_decl_is_valid(gc, INVALID_DOMID, d) &&
                    !usbdev_decl_where(gc, d, &where) &&
                    !strcmp(where, busid);
    }
    if (!declared) {
        LOG(INFO, "USB controller %d%s%s%s is no longer declared; left "
            "alone", ctrl, port ? " port " : "",
            port ? GCSPRINTF("%d", port) : "", port ? GCSPRINTF(" (%s)",
            busid) : "");
        rc = ERROR_ABORTED;
    }
out:
    libxl_domain_usb_config_dispose(&cfg);
    return rc;
}

typedef struct {
    libxl_ctx *ctx;
    uint32_t domid;
    bool dry_run;
    int rc;                             /* the first failure */
    libxl_domain_usb_config cfg;
    libxl_usbctrlinfo *infos;
    int nctrls;
    libxl_device_usbdev *usbdevs;       /* attached, with busids */
    char **busids;
    int ndevs;
    bool *off;                          /* usbdevs[i] taken off */
} usb_reconcile_state;

static void reconcile_fail(usb_reconcile_state *rs, int rc)
{
    if (!rs->rc || rs->rc == ERROR_NOT_READY) rs->rc = rc;
}

static const libxl_usbctrlinfo *reconcile_ctrl(usb_reconcile_state *rs,
                                               int devid)
{
    int i;

    for (i = 0; i < rs->nctrls; i++)
        if (rs->infos[i].devid == devid) return &rs->infos[i];
    return NULL;
}

/* Can the backend of c serve it now? */
static bool reconcile_backend_ready(libxl__gc *gc, uint32_t domid,
                                    const libxl_device_usbctrl *c)
{
    const char *path;

    if (c->type != LIBXL_USBCTRL_TYPE_QUSB ||
        libxl__usbctrl_qusb_is_served(gc, domid, c, &path))
        return true;
    LOGD(INFO, domid, "Declared USB controller %d (qusb): its QEMU is not "
         "there yet (%s is missing)", c->devid, path);
    return false;
}

static void reconcile_ctrls(libxl__gc *gc, usb_reconcile_state *rs)
{
    const uint32_t domid = rs->domid;
    libxl_device_usbctrl c;
    int i, rc;

    for (i = 0; i < rs->cfg.num_declared_usbctrls; i++) {
        const libxl_device_usbctrl *d = &rs->cfg.declared_usbctrls[i];

        if (!usbctrl_decl_is_valid(gc, domid, d) ||
            reconcile_ctrl(rs, d->devid))
            continue;
        if (!reconcile_backend_ready(gc, domid, d)) {
            reconcile_fail(rs, ERROR_NOT_READY);
            continue;
        }
        if (rs->dry_run) {
            LOGD(INFO, domid, "would re-create USB controller %d",
                 d->devid);
            continue;
        }
        libxl_device_usbctrl_init(&c);
        libxl_device_usbctrl_copy(rs->ctx, &c, d);
        rc = libxl_device_usbctrl_add_flags(rs->ctx, domid, &c,
                 LIBXL_USB_LIVE | LIBXL__USB_IF_DECLARED, NULL);
        libxl_device_usbctrl_dispose(&c);
        /* another reconcile made it meanwhile */
        libxl_device_usbctrl_init(&c);
        if (rc == ERROR_DEVICE_EXISTS &&
            !libxl_devid_to_device_usbctrl(rs->ctx, domid, d->devid, &c))
            rc = ERROR_ABORTED;
        libxl_device_usbctrl_dispose(&c);
        if (rc == ERROR_NOTFOUND && d->type == LIBXL_USBCTRL_TYPE_DEVICEMODEL)
            rc = ERROR_NOT_READY;       /* no QEMU answers yet */
        if (rc == ERROR_ABORTED) continue;      /* undeclared meanwhile */
        if (rc) {
            reconcile_fail(rs, rc);
            continue;
        }
        LOGD(INFO, domid, "re-created USB controller %d", d->devid);
    }
}

/* The declared device at ctrl:port, or NULL. */
static const libxl_usbdev_decl *reconcile_decl_at(usb_reconcile_state *rs,
                                                  int ctrl, int port)
{
    int i;

    for (i = 0; i < rs->cfg.num_declared_usbdevs; i++)
        if (rs->cfg.declared_usbdevs[i].ctrl == ctrl &&
            rs->cfg.declared_usbdevs[i].port == port)
            return &rs->cfg.declared_usbdevs[i];
    return NULL;
}

/*
 * Why the device attached at usbdevs[i] is no longer the guest's to
 * have, or NULL: its host device is gone, or is not the declared one, or
 * (pv) it came back and the kernel gave it to its host drivers.
 */
static const char *reconcile_stale(libxl__gc *gc, usb_reconcile_state *rs,
                                   int i)
{
    const libxl_device_usbdev *u = &rs->usbdevs[i];
    const char *busid = rs->busids[i], *drv;
    const libxl_usbctrlinfo *info = reconcile_ctrl(rs, u->ctrl);
    const libxl_usbdev_decl *d = reconcile_decl_at(rs, u->ctrl, u->port);

    if (!usbhost_is_present(gc, busid))
        return "it is unplugged";
    if (d && usbdev_decl_is_valid(gc, rs->domid, d) &&
        !usbdev_decl_matches(gc, d, busid))
        return "another device is plugged in at its port";
    if (info && info->type == LIBXL_USBCTRL_TYPE_PV &&
        !libxl__usbhost_claiming_driver(gc, busid, &drv) &&
        (!drv || strcmp(drv, "usbback")))
        return "it was plugged in again and is on its host drivers";
    return NULL;
}

static void reconcile_take_off(libxl__gc *gc, usb_reconcile_state *rs)
{
    const uint32_t domid = rs->domid;
    const char *why;
    int i, rc;

    for (i = 0; i < rs->ndevs; i++) {
        const libxl_device_usbdev *u = &rs->usbdevs[i];

        why = reconcile_stale(gc, rs, i);
        if (!why) continue;
        rs->off[i] = true;
        if (rs->dry_run) {
            LOGD(INFO, domid, "would take USB device %s off controller %d "
                 "port %d: %s", rs->busids[i], u->ctrl, u->port, why);
            continue;
        }
        rc = libxl_device_usbdev_remove_flags(rs->ctx, domid,
                 &rs->usbdevs[i], LIBXL_USB_LIVE, NULL);
        if (rc == ERROR_NOTFOUND) continue;     /* detached meanwhile */
        if (rc) {
            reconcile_fail(rs, rc);
            continue;
        }
        LOGD(INFO, domid, "took USB device %s off controller %d port %d: "
             "%s", rs->busids[i], u->ctrl, u->port, why);
    }
}

/* What is attached at ctrl:port (and not taken off): its index, or -1. */
static int reconcile_attached_at(usb_reconcile_state *rs, int ctrl, int port)
{
    int i;

    for (i = 0; i < rs->ndevs; i++)
        if (!rs->off[i] && rs->usbdevs[i].ctrl == ctrl &&
            rs->usbdevs[i].port == port)
            return i;
    return -1;
}

/* Is busid at d's ctrl:port now? */
static bool reconcile_is_there(usb_reconcile_state *rs,
                               const libxl_usbdev_decl *d, const char *busid)
{
    char *held = NULL;
    bool there;

    there = !libxl_ctrlport_to_usb_busid(rs->ctx, rs->domid, d->ctrl,
                                         d->port, &held) &&
            !strcmp(held, busid);
    free(held);
    return there;
}

static void reconcile_attach(libxl__gc *gc, usb_reconcile_state *rs,
                             const libxl_usbdev_decl *d)
{
    const uint32_t domid = rs->domid;
    libxl_device_usbdev u;
    libxl__usbhost_owner o;
    const char *busid = NULL;
    int i, rc;

    rc = usbdev_decl_where(gc, d, &busid);
    i = reconcile_attached_at(rs, d->ctrl, d->port);
    if (i >= 0 && !rc && !strcmp(rs->busids[i], busid))
        return;                                 /* as declared */
    if (rc == ERROR_DEVICE_EXISTS) {
        LOGD(WARN, domid, "USB device %s refused for controller %d port %d: "
             "it is not the declared %04x:%04x%s%s", d->busid, d->ctrl,
             d->port, d->idvendor, d->idproduct,
             d->serial ? " serial " : "", d->serial ? d->serial : "");
        return;
    }
    if (rc == ERROR_NOTFOUND) {
        LOGD(DEBUG, domid, "Declared USB device for controller %d port %d "
             "is absent", d->ctrl, d->port);
        return;
    }
    if (rc) {
        reconcile_fail(rs, rc);
        return;
    }
    if (i >= 0) {
        LOGD(WARN, domid, "Declared USB device %s not attached: controller "
             "%d port %d holds %s; detach that one first", busid, d->ctrl,
             d->port, rs->busids[i]);
        reconcile_fail(rs, ERROR_DEVICE_EXISTS);
        return;
    }
    if (!reconcile_ctrl(rs, d->ctrl) && !rs->dry_run) {
        /* one that could not be made (said already), or one the
         * declaration does not hold: xl makes its config's again after a
         * reboot, once the guest's QEMU runs */
        LOGD(INFO, domid, "Declared USB device %s waits for controller %d",
             busid, d->ctrl);
        reconcile_fail(rs, ERROR_NOT_READY);
        return;
    }
    if (rs->dry_run) {
        LOGD(INFO, domid, "would attach USB device %s to controller %d port "
             "%d", busid, d->ctrl, d->port);
        return;
    }
    libxl_device_usbdev_init(&u);
    u.type = LIBXL_USBDEV_TYPE_HOSTDEV;
    u.ctrl = d->ctrl;
    u.port = d->port;
    rc = libxl__usbhost_busaddr(gc, busid, &u.u.hostdev.hostbus,
                                &u.u.hostdev.hostaddr);
    if (!rc)
        rc = libxl_device_usbdev_add_flags(rs->ctx, domid, &u,
                 LIBXL_USB_LIVE | LIBXL__USB_IF_DECLARED, NULL);
    libxl_device_usbdev_dispose(&u);
    if (rc == ERROR_ABORTED) return;            /* undeclared meanwhile */
    if (rc == ERROR_DEVICE_EXISTS && reconcile_is_there(rs, d, busid))
        return;                 /* another reconcile attached it meanwhile */
    if (rc == ERROR_DEVICE_EXISTS &&
        !libxl__usbhost_owner_read(gc, XBT_NULL, busid, &o) &&
        o.domid != INVALID_DOMID && o.domid != domid) {
        /* not a failure: its release (an event) brings it here */
        LOGD(WARN, domid, "Declared USB device %s is held by domain %u: "
             "attached when it lets it go", busid, o.domid);
        return;
    }
    if (rc) {
        reconcile_fail(rs, rc);
        return;
    }
    LOGD(INFO, domid, "attached USB device %s to controller %d port %d",
         busid, d->ctrl, d->port);
}

/* The domain's controllers and devices as they are now. */
static int reconcile_read(libxl__gc *gc, usb_reconcile_state *rs)
{
    int rc = libxl_usb_domain_list(rs->ctx, rs->domid, &rs->infos,
                                   &rs->nctrls, &rs->usbdevs, &rs->busids,
                                   &rs->ndevs);

    if (!rc) rs->off = libxl__calloc(gc, rs->ndevs + 1, sizeof(*rs->off));
    return rc;
}

static void reconcile_free(usb_reconcile_state *rs)
{
    int i;

    for (i = 0; i < rs->nctrls; i++)
        libxl_usbctrlinfo_dispose(&rs->infos[i]);
    free(rs->infos);
    for (i = 0; i < rs->ndevs; i++)
        free(rs->busids[i]);
    free(rs->busids);
    libxl_device_usbdev_list_free(rs->usbdevs, rs->ndevs);
    rs->infos = NULL;
    rs->busids = NULL;
    rs->usbdevs = NULL;
    rs->nctrls = rs->ndevs = 0;
}

int libxl_usb_reconcile(libxl_ctx *ctx, uint32_t domid, int dry_run)
{
    GC_INIT(ctx);
    usb_reconcile_state rs = { .ctx = ctx, .domid = domid,
                               .dry_run = dry_run };
    bool shut_down = false;
    int i, rc;

    libxl_domain_usb_config_init(&rs.cfg);
    /* one that shut down is being destroyed or rebooted (its uuid's next
     * domain gets the declaration), or kept stopped: nothing for it */
    rc = libxl__domain_is_shut_down(gc, domid, &shut_down);
    if (rc || shut_down) {
        if (shut_down)
            LOGD(DEBUG, domid, "Shut down: its USB declaration waits for "
                 "it to run again");
        goto out;
    }
    /* what a killed run left in the configuration's mirror, repaired */
    rc = libxl__usb_config_repair(ctx, domid);
    if (!rc) rc = libxl_usb_declaration_get(ctx, domid, &rs.cfg);
    if (rc) goto out;
    rc = reconcile_read(gc, &rs);
    if (rc) goto out;
    reconcile_ctrls(gc, &rs);
    if (!dry_run && rs.cfg.num_declared_usbctrls) {
        reconcile_free(&rs);
        rc = reconcile_read(gc, &rs);   /* with the controllers made */
        if (rc) goto out;
    }
    reconcile_take_off(gc, &rs);
    for (i = 0; i < rs.cfg.num_declared_usbdevs; i++)
        if (usbdev_decl_is_valid(gc, domid, &rs.cfg.declared_usbdevs[i]))
            reconcile_attach(gc, &rs, &rs.cfg.declared_usbdevs[i]);
    rc = rs.rc;
out:
    reconcile_free(&rs);
    libxl_domain_usb_config_dispose(&rs.cfg);
    GC_FREE;
    return rc;
}

static int compare_domids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

uint32_t *libxl_usb_reconcile_domains(libxl_ctx *ctx, int *num)
{
    GC_INIT(ctx);
    libxl_domain_usb_config cfg;
    uint32_t *domids, *all;
    unsigned int i, n = 0;
    const char *uuid;
    long long domid;
    char **entries;
    int j, nusb;

    domids = libxl_usb_list_domains(ctx, &nusb);
    *num = nusb;
    entries = libxl__xs_directory(gc, XBT_NULL, "/local/domain", &n);
    all = libxl__calloc(NOGC, n + nusb + 1, sizeof(*all));
    for (j = 0; j < nusb; j++)
        all[j] = domids[j];
    free(domids);
    for (i = 0; entries && i < n; i++) {
        if (libxl__strtoint(entries[i], 0, INT32_MAX, &domid) ||
            bsearch(&(uint32_t){ domid }, all, nusb, sizeof(*all),
                    compare_domids) ||
            libxl__domain_uuid_string(gc, domid, &uuid))
            continue;
        libxl_domain_usb_config_init(&cfg);
        if (!libxl__get_domain_usb_config(gc, uuid, &cfg) &&
            (cfg.num_declared_usbctrls || cfg.num_declared_usbdevs))
            all[(*num)++] = domid;
        libxl_domain_usb_config_dispose(&cfg);
    }
    qsort(all, *num, sizeof(*all), compare_domids);
    if (!*num) {
        free(all);
        all = NULL;
    }
    GC_FREE;
    return all;
}

char *libxl_usb_state_path(const char *name)
{
    char *path;

    return asprintf(&path, "%s/%s", libxl__state_dir_name(), name) < 0
           ? NULL : path;
}

/*----- what dead domains leave -----*/

/* Has domid gone from the hypervisor? */
static bool usb_domain_is_gone(libxl__gc *gc, uint32_t domid)
{
    const char *uuid;

    return libxl__domain_uuid_string(gc, domid, &uuid) ==
           ERROR_DOMAIN_NOTFOUND;
}

int libxl_usb_release_orphans(libxl_ctx *ctx, int dry_run)
{
    GC_INIT(ctx);
    libxl__usbhost_owner o;
    uint32_t *domids;
    char **busids;
    const char *why;
    int i, num, rc, first = 0;

    /* a dead domain's controllers, its devices given back first */
    domids = libxl_usb_list_domains(ctx, &num);
    for (i = 0; i < num; i++) {
        if (!usb_domain_is_gone(gc, domids[i])) continue;
        if (dry_run) {
            LOG(INFO, "would give back the USB devices of domain %u, which "
                "is gone, and remove its controllers", domids[i]);
            continue;
        }
        rc = libxl_device_usbctrl_destroy_all(ctx, domids[i], NULL);
        if (rc && !first) first = rc;
        if (!rc)
            LOG(INFO, "gave back the USB devices of domain %u, which is "
                "gone, and removed its controllers", domids[i]);
    }
    free(domids);

    /* then records naming a dead domain without its controllers, and
     * those of no domain: devices a failed rebind left off their host
     * drivers (the owner goes only with the port, so an attach under
     * way always has one) */
    rc = libxl__usbhost_recorded(gc, &busids, &num);
    if (rc) goto out;
    for (i = 0; i < num; i++) {
        rc = libxl__usbhost_owner_read(gc, XBT_NULL, busids[i], &o);
        if (rc) break;
        if (o.domid != INVALID_DOMID && !usb_domain_is_gone(gc, o.domid))
            continue;
        why = o.domid == INVALID_DOMID
              ? "left off its host drivers by a failed rebind"
              : GCSPRINTF("of domain %u, which is gone", o.domid);
        if (dry_run) {
            LOG(INFO, "would give USB device %s %s, back to its host "
                "drivers", busids[i], why);
            continue;
        }
        rc = libxl_device_usbdev_rebind(ctx, busids[i], NULL);
        if (rc && !first) first = rc;
        if (!rc)
            LOG(INFO, "gave USB device %s %s, back to its host drivers",
                busids[i], why);
    }
out:
    GC_FREE;
    return rc ? rc : first;
}
