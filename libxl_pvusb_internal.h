/*
 * libxl_pvusb_internal.h - what the USB files share, hidden: the host
 * layer (libxl_pvusb_host.c), which libxl_pvusb.c (the controllers and
 * ports in xenstore, the operations) builds on.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_PVUSB_INTERNAL_H
#define LIBXL_PVUSB_INTERNAL_H

#include "libxl_internal.h"
#include "libxl_pvusb.h"

#define USBIF_MAX_PORTNR 31

/*----- the host side of USB (libxl_pvusb_host.c) -----*/

/*
 * The host's USB devices as sysfs shows them, their interfaces moved
 * between their drivers and usbback, and what dom0 records about each
 * device in xenstore, keyed by the physical device so that it outlives
 * guest and toolstack:
 *     /libxl/usbback/<enc busid>/owner = "<domid>/<ctrl>/<port>[/attaching]"
 *     /libxl/usbback/<enc busid>/<enc intf>/driver_path
 * (enc: '.' as '_', ':' as '@', which xenstore keys cannot hold).
 *
 * The contract: the host layer knows devices, interfaces and drivers,
 * never controllers or guests.  An ownership record is a claim written
 * by the device layer; whether it is current (its port still holds the
 * device) is the device layer's to decide.  Every step is crash-only: a
 * driver record is written before its interface leaves that driver, an
 * interface already where it is going is done, and the records stay
 * until the caller forgets them (libxl__usbhost_forget), once every
 * interface is back.  Busids given to these
 * functions are valid (libxl__usbhost_busid_is_valid): checked by the
 * caller whenever they come from xenstore.  Errors are logged here.
 */

/* "<bus>-<port>[.<port>]...", numbers without a leading zero. */
_hidden bool libxl__usbhost_busid_is_valid(const char *busid);
/* A root hub's name, "usb<bus>" (its bus without a leading zero). */
_hidden bool libxl__usbhost_is_root_hub(const char *busid);

/* The devices, root hubs included, sorted by busid. */
_hidden int libxl__usbhost_list(libxl__gc *gc, char ***busids_r, int *num_r);
/* The busid of the device at hostbus:hostaddr. ERROR_NOTFOUND (logged)
 * if there is none. */
_hidden int libxl__usbhost_busaddr_to_busid(libxl__gc *gc, int bus,
                                            int addr, char **busid_r);
/*
 * The device want names (libxl_usb_hostdev_find's rules), found by
 * opening as little as it can: a busid is taken as it is (its presence
 * is the caller's to see), hostbus:hostaddr opens only that bus's
 * devices, ids every device's.  ERROR_NOTFOUND (logged) if none is,
 * ERROR_INVAL (logged, naming them) if several have those ids.
 */
_hidden int libxl__usbhost_find(libxl__gc *gc, const libxl_usb_hostdev *want,
                                char **busid_r);
/* hostbus/hostaddr of a present device; 0/0 if it is unplugged. */
_hidden int libxl__usbhost_busaddr(libxl__gc *gc, const char *busid,
                                   uint8_t *bus_r, uint8_t *addr_r);
/* busid's ids, and its serial (gc'd; NULL if it has none). */
_hidden int libxl__usbhost_ids(libxl__gc *gc, const char *busid,
                               uint16_t *vendor_r, uint16_t *product_r,
                               char **serial_r);
_hidden int libxl__usbhost_is_hub(libxl__gc *gc, const char *busid,
                                  bool *hub_r);
/* Fills h (initialised) with what sysfs says of busid; the ownership
 * fields are left as they are. */
_hidden int libxl__usbhost_read(libxl__gc *gc, const char *busid,
                                libxl_usb_hostdev *h);

_hidden bool libxl__usbhost_usbback_is_loaded(void);
/*
 * The driver that claims busid for a guest when one does, as sysfs
 * tells: "usbback" (a pv controller's) or "usbfs" (a QEMU's, or any
 * program's through libusb), else NULL.
 */
_hidden int libxl__usbhost_claiming_driver(libxl__gc *gc, const char *busid,
                                           const char **drv_r);

/* Every interface of busid to usbback, each one's driver recorded first. */
_hidden int libxl__usbhost_bind_usbback(libxl__gc *gc, const char *busid);
/* Every interface of busid off usbback.  An unplugged device is done. */
_hidden int libxl__usbhost_unbind_usbback(libxl__gc *gc, const char *busid);
/*
 * Every interface of busid back to its recorded driver; one already
 * there is done.  An unplugged device needs nothing (the kernel probes
 * its drivers when it comes back).  The records stay, for the caller to
 * forget once this succeeded, or for libxl_device_usbdev_rebind.
 */
_hidden int libxl__usbhost_rebind(libxl__gc *gc, const char *busid);

/* An ownership record, as written. */
typedef struct {
    uint32_t domid;         /* INVALID_DOMID: none (or malformed) */
    int ctrl, port;
    bool attaching;         /* from the port's taking to the end */
} libxl__usbhost_owner;

_hidden bool libxl__usbhost_owner_is(const libxl__usbhost_owner *o,
                                     uint32_t domid, int ctrl, int port);
/* The record as written; a malformed one is logged and taken as none. */
_hidden int libxl__usbhost_owner_read(libxl__gc *gc, xs_transaction_t t,
                                      const char *busid,
                                      libxl__usbhost_owner *o);
_hidden int libxl__usbhost_owner_write(libxl__gc *gc, xs_transaction_t t,
                                       const char *busid, uint32_t domid,
                                       int ctrl, int port, bool attaching);
/* The busids that have records (a malformed key is logged, skipped). */
_hidden int libxl__usbhost_recorded(libxl__gc *gc, char ***busids_r,
                                    int *num_r);
/* Drops the ownership record, and with drivers_too the driver records
 * (the device's whole dir).  Absent is success. */
_hidden int libxl__usbhost_forget(libxl__gc *gc, xs_transaction_t t,
                                  const char *busid, bool drivers_too);

/*----- the persisted configuration (libxl_pvusb.c) -----*/

/*
 * The USB part of a domain's configuration, libxl_domain_usb_config as
 * JSON, in the domain's userdata "json" (<state dir>/<uuid>.json; see
 * libxl__userdata_store).  Written under the domain lock.
 */
/* uuid: the domain's (libxl__domain_uuid_string).  cfg must be
 * initialised; a missing file gives an empty config. */
_hidden int libxl__get_domain_usb_config(libxl__gc *gc, const char *uuid,
                                         libxl_domain_usb_config *cfg);
_hidden int libxl__set_domain_usb_config(libxl__gc *gc, const char *uuid,
                                         libxl_domain_usb_config *cfg);
/* Removes the domain's file; absent is success. */
_hidden int libxl__remove_domain_usb_config(libxl__gc *gc, const char *uuid);

/*----- the declaration (libxl_pvusb_decl.c) -----*/

/*
 * An operation's flag beside LIBXL_USB_*: reconcile's add goes ahead only
 * if, under the lock, the declaration still has it (libxl__usb_decl_check):
 * a detach typed meanwhile has the last word.
 */
#define LIBXL__USB_IF_DECLARED (1u << 31)
/* Does uuid's declaration have controller ctrl (port 0), or at ctrl:port
 * the device at busid?  ERROR_NOTFOUND (logged) if no longer. */
_hidden int libxl__usb_decl_check(libxl__gc *gc, const char *uuid, int ctrl,
                                  int port, const char *busid);
/* Takes domid's lock and repairs its configuration (usb_config_sync):
 * what reconcile does first, after a killed run. */
_hidden int libxl__usb_config_repair(libxl_ctx *ctx, uint32_t domid);

/* Is the qusb controller's QEMU there?  *path_r: where it says so. */
_hidden bool libxl__usbctrl_qusb_is_served(libxl__gc *gc, uint32_t domid,
                                           const libxl_device_usbctrl *usbctrl,
                                           const char **path_r);
/* Empties cfg's mirror of xenstore (usbctrls, usbdevs, generation); the
 * declaration stays. */
_hidden void libxl__usb_config_drop_live(libxl_domain_usb_config *cfg);
/* The uuid's file without its mirror of xenstore; removed if nothing is
 * declared.  Absent is success. */
_hidden int libxl__usb_config_forget_live(libxl__gc *gc, const char *uuid);
/*
 * Applies an operation's change to cfg's declaration (unless flags has
 * LIBXL_USB_LIVE): usb_config_change's arguments, busid the device's
 * (usbdev's) host busid.  usbctrl: declared (its declared devices on
 * ports it has stay); port 0 without usbctrl: controller devid and its
 * devices dropped; usbdev: declared at its ctrl:port, and no longer
 * anywhere else; port without usbdev: the device at devid:port dropped.
 */
_hidden int libxl__usb_decl_change(libxl__gc *gc,
                                   libxl_domain_usb_config *cfg,
                                   unsigned int flags, int devid, int port,
                                   const libxl_device_usbctrl *usbctrl,
                                   const libxl_device_usbdev *usbdev,
                                   const char *busid);

#endif /* LIBXL_PVUSB_INTERNAL_H */
