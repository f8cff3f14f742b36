/*
 * libxl_pvusb.h - USB passthrough for Xen guests (PVUSB), with libxl's
 * public API: same names, types, argument order and asynchronous
 * convention as libxl.h and libxl_utils.h declare them.
 *
 * A guest gets USB controllers (libxl_device_usbctrl) and, on their
 * ports, host USB devices (libxl_device_usbdev).  Controllers of type PV
 * are served by the host kernel's usbback driver, QUSB by QEMU's PV USB
 * backend, DEVICEMODEL by the emulated USB of an HVM guest's QEMU.
 *
 * Unless said otherwise, functions return 0 or a negative ERROR_* code
 * (libxl_error), and log what went wrong through the ctx's logger.
 * Functions taking ao_how follow libxl's convention (see libxl_core.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_PVUSB_H
#define LIBXL_PVUSB_H

#include "libxl_core.h"

#pragma GCC visibility push(default)

/*
 * LIBXL_HAVE_PVUSB indicates functions for plugging in USB devices
 * through pvusb.
 */
#define LIBXL_HAVE_PVUSB 1

/*
 * LIBXL_HAVE_PVUSB_REBIND indicates libxl_device_usbdev_rebind and the
 * host-side helpers below (libxl_usb_hostdev_list, _find, ...), which
 * libxl itself does not have.
 */
#define LIBXL_HAVE_PVUSB_REBIND 1

/* LIBXL_HAVE_PVUSB_HOSTDEV_FIND indicates libxl_usb_hostdev_find. */
#define LIBXL_HAVE_PVUSB_HOSTDEV_FIND 1

/* LIBXL_HAVE_PVUSB_DOMAIN_LIST indicates libxl_usb_domain_list and
 * libxl_usb_hostdev_get. */
#define LIBXL_HAVE_PVUSB_DOMAIN_LIST 1

/*----- USB controllers -----*/

/*
 * Adds a controller to domain domid.  usbctrl is updated with what was
 * chosen: type AUTO becomes PV (pv/pvh guest, usbback loaded), QUSB
 * (pv/pvh guest without usbback) or DEVICEMODEL (hvm); version 0 becomes
 * 2, ports 0 becomes 8, devid -1 becomes the lowest free id; a
 * backend_domname is resolved into backend_domid.  Waits (10 s) for the
 * backend to answer; if it does not, nothing is left behind and the
 * result is ERROR_TIMEDOUT.
 * DEVICEMODEL: the guest's QEMU (QMP at /var/run/xen/qmp-libxl-<domid>,
 * as libxl starts it) gets device "xenusb-<devid>": version 1
 * piix3-usb-uhci (always 2 ports), 2 usb-ehci (always 6), 3 nec-usb-xhci
 * (1-15 ports, default 8); backend_domid must be 0.  There is no backend
 * to wait for: it completes once QEMU has answered.  If QEMU refuses,
 * nothing is left behind.
 * Errors: ERROR_DOMAIN_NOTFOUND, ERROR_INVAL (version not 1-2, ports not
 * 1-31; for DEVICEMODEL as above), ERROR_DEVICE_EXISTS (devid taken),
 * ERROR_TIMEDOUT, ERROR_FAIL; DEVICEMODEL: ERROR_NOTFOUND (no QEMU
 * answers), ERROR_QMP_* (QEMU's error, logged with its description),
 * ERROR_PROTOCOL_ERROR_QMP.
 */
int libxl_device_usbctrl_add(libxl_ctx *ctx, uint32_t domid,
                             libxl_device_usbctrl *usbctrl,
                             const libxl_asyncop_how *ao_how);

/*
 * Removes controller usbctrl->devid: first each device on it (as
 * libxl_device_usbdev_remove), then asks the backend to close and waits
 * for it (10 s), then deletes the controller.  DEVICEMODEL: QEMU is asked
 * to unplug it (device_del; a PCI unplug completes when the guest lets
 * go), and nothing is waited for; one QEMU no longer has, or a QEMU that
 * is gone, counts as removed.  Errors: ERROR_NOTFOUND (no
 * such controller), the errors of libxl_device_usbdev_remove (the
 * controller is then kept, with the devices that could not be removed).
 */
int libxl_device_usbctrl_remove(libxl_ctx *ctx, uint32_t domid,
                                libxl_device_usbctrl *usbctrl,
                                const libxl_asyncop_how *ao_how);

/* As libxl_device_usbctrl_remove, without waiting for the backend. */
int libxl_device_usbctrl_destroy(libxl_ctx *ctx, uint32_t domid,
                                 libxl_device_usbctrl *usbctrl,
                                 const libxl_asyncop_how *ao_how);

/*
 * For a toolstack destroying domain domid (call it while the domain's
 * xenstore entries are still there): destroys each of its controllers as
 * libxl_device_usbctrl_destroy does, its devices given back to the host
 * first, then drops the domain's persisted USB configuration.  Stops at
 * the first failure.  Not in libxl, where domain destruction does this.
 * DEVICEMODEL controllers are not unplugged from QEMU, which goes with
 * the domain (their devices are, as they are host devices).
 */
int libxl_device_usbctrl_destroy_all(libxl_ctx *ctx, uint32_t domid,
                                     const libxl_asyncop_how *ao_how);

/*
 * The domain's controllers, from toolstack-owned xenstore keys only.
 * Returns a malloc'd array of *num entries (NULL with *num == 0 if none
 * or on error); free it with libxl_device_usbctrl_list_free.
 */
libxl_device_usbctrl *libxl_device_usbctrl_list(libxl_ctx *ctx,
                                                uint32_t domid, int *num);
void libxl_device_usbctrl_list_free(libxl_device_usbctrl *list, int nr);

/*
 * Fills usbctrlinfo (initialised by the caller, disposed by the caller)
 * for controller usbctrl->devid.  The frontend's ring references and
 * event channel are read from the guest-writable frontend and are -1
 * when absent or malformed.  DEVICEMODEL has no frontend: frontend NULL,
 * state, evtch and refs -1, backend the toolstack's xenstore dir
 * (/libxl/<domid>/device/vusb/<devid>), backend_id 0.
 * Errors: ERROR_NOTFOUND, ERROR_FAIL.
 */
int libxl_device_usbctrl_getinfo(libxl_ctx *ctx, uint32_t domid,
                                 const libxl_device_usbctrl *usbctrl,
                                 libxl_usbctrlinfo *usbctrlinfo);

/*----- USB devices -----*/

/*
 * Gives host device usbdev->u.hostdev.hostbus/hostaddr to domain domid.
 * usbdev->ctrl -1 picks a controller with a free port (creating one if
 * none has); usbdev->port 0 picks the first free port.  Both are updated.
 * Refused: hubs and root hubs (ERROR_INVAL), a device already given to
 * any domain (ERROR_DEVICE_EXISTS), an absent device (ERROR_NOTFOUND),
 * a taken or nonexistent port (ERROR_INVAL).  On PV controllers each
 * interface's driver is recorded and the interface rebound to usbback;
 * on DEVICEMODEL ones QEMU is given the device (device_add usb-host
 * "xenusb-<hostbus>-<hostaddr>"; QEMU's errors as for controllers); any
 * failure undoes everything, in reverse.
 */
int libxl_device_usbdev_add(libxl_ctx *ctx, uint32_t domid,
                            libxl_device_usbdev *usbdev,
                            const libxl_asyncop_how *ao_how);

/*
 * Takes back the device at usbdev->ctrl:usbdev->port (the host address
 * in usbdev is not used).  Crash-only, in this order, stopping at the
 * first failure: unbind every interface from usbback; free the port;
 * rebind every interface to its recorded original driver.  If that last
 * step fails the device is no longer the guest's but is left without its
 * driver: ERROR_FAIL, and libxl_device_usbdev_rebind retries later.
 * On DEVICEMODEL controllers the first step is QEMU's device_del
 * instead (a device QEMU no longer has, or a QEMU that is gone, counts as
 * done).  Re-running a remove that died half-way finishes it.
 * Errors: ERROR_NOTFOUND (no controller / nothing on that port),
 * ERROR_FAIL.
 */
int libxl_device_usbdev_remove(libxl_ctx *ctx, uint32_t domid,
                               libxl_device_usbdev *usbdev,
                               const libxl_asyncop_how *ao_how);

/*
 * The domain's devices (hostbus/hostaddr 0 for a device unplugged while
 * assigned).  Malloc'd array of *num; free with
 * libxl_device_usbdev_list_free.
 */
libxl_device_usbdev *
libxl_device_usbdev_list(libxl_ctx *ctx, uint32_t domid, int *num);
void libxl_device_usbdev_list_free(libxl_device_usbdev *list, int nr);

/*
 * Gives host device busid (e.g. "3-1.2") back to its original drivers,
 * from its host-side record: what a remove whose last step failed leaves
 * behind, or a device whose domain died while it had it (its interfaces
 * are first taken off usbback).  Succeeds, doing nothing, when there is
 * nothing to restore.  Refused with ERROR_DEVICE_EXISTS while the device
 * is assigned to a domain.
 */
int libxl_device_usbdev_rebind(libxl_ctx *ctx, const char *busid,
                               const libxl_asyncop_how *ao_how);

/*----- utilities (libxl_utils.h) -----*/

/* Fills usbctrl (initialised by the caller) for controller devid. */
int libxl_devid_to_device_usbctrl(libxl_ctx *ctx, uint32_t domid,
                                  int devid, libxl_device_usbctrl *usbctrl);

/* Fills usbdev (initialised by the caller) for what is at ctrl:port. */
int libxl_ctrlport_to_device_usbdev(libxl_ctx *ctx, uint32_t domid,
                                    int ctrl, int port,
                                    libxl_device_usbdev *usbdev);

/*----- the host side (not in libxl) -----*/

/*
 * The host's USB devices, root hubs included, each with what sysfs says
 * of it and, if it is given to a domain, which one and where.  Malloc'd
 * array of *num, sorted by busid; free with libxl_usb_hostdev_list_free.
 */
libxl_usb_hostdev *libxl_usb_hostdev_list(libxl_ctx *ctx, int *num);
void libxl_usb_hostdev_list_free(libxl_usb_hostdev *list, int nr);

/*
 * Host device busid (a root hub's too, "usb<bus>") as
 * libxl_usb_hostdev_list gives it: h (initialised
 * by the caller; dispose it) filled from sysfs, reading only that
 * device, and from whoever holds it.  ERROR_INVAL (logged) if busid is
 * malformed, an error if the device cannot be read (it is unplugged, for
 * one).
 */
int libxl_usb_hostdev_get(libxl_ctx *ctx, const char *busid,
                          libxl_usb_hostdev *h);

/*
 * The host device want names: by want->busid if it is set, else by
 * want->hostbus and want->hostaddr if hostbus is set, else by
 * want->idvendor and want->idproduct (and want->serial, if set).  found
 * (initialised by the caller; dispose it) gets its busid, hostbus and
 * hostaddr: what libxl_device_usbdev_add needs, which refuses a hub or
 * a device someone holds (libxl_usb_hostdev_list tells the rest).  Opens
 * only what it needs: that device's bus and address, or those of the
 * devices on that bus, or (by ids) the ids of every device.  Errors,
 * logged with what to do: ERROR_NOTFOUND (no such device), ERROR_INVAL
 * (a malformed busid; several devices with those ids: the log names
 * each, with its busid and serial).
 */
int libxl_usb_hostdev_find(libxl_ctx *ctx, const libxl_usb_hostdev *want,
                           libxl_usb_hostdev *found);

/*
 * The host busid of what is at ctrl:port of domain domid, even if the
 * device is unplugged.  *busid_r is malloc'd.  ERROR_NOTFOUND if there is
 * no such controller or the port is empty, ERROR_INVAL if the controller
 * has no such port.
 */
int libxl_ctrlport_to_usb_busid(libxl_ctx *ctx, uint32_t domid,
                                int ctrl, int port, char **busid_r);

/*
 * Domain domid's USB controllers and devices, reading each controller
 * and port once: *infos_r, the controllers' info in devid order (as
 * libxl_device_usbctrl_getinfo gives it; dispose each, free the array),
 * *usbdevs_r the devices on them (as libxl_device_usbdev_list gives them;
 * free with libxl_device_usbdev_list_free) and *busids_r their host
 * busids (as libxl_ctrlport_to_usb_busid gives them; free each and the
 * array).  If a controller cannot be read, an error (logged) and
 * nothing returned; if a device cannot be read, no devices (logged), as
 * libxl_device_usbdev_list gives none.
 */
int libxl_usb_domain_list(libxl_ctx *ctx, uint32_t domid,
                          libxl_usbctrlinfo **infos_r, int *nctrls_r,
                          libxl_device_usbdev **usbdevs_r, char ***busids_r,
                          int *ndevs_r);

/*
 * Domains that have USB controllers, ascending.  Malloc'd array of *num
 * (NULL if none); free with free().
 */
uint32_t *libxl_usb_list_domains(libxl_ctx *ctx, int *num);

/*----- the declaration: what a domain should have (not in libxl) -----*/

/*
 * LIBXL_HAVE_PVUSB_DECLARE indicates the declaration below, the _flags
 * variants of the operations and LIBXL_USB_*.
 *
 * Each domain uuid's persisted USB configuration (libxl_domain_usb_config,
 * <state dir>/<uuid>.json; see docs/pvusb.md) declares the controllers
 * and devices the domain should have across its reboots (a new domid,
 * the same uuid) and the devices' re-plugs.  The operations keep it, as
 * libxl's hot-plug keeps the domain's stored configuration:
 * libxl_device_usbctrl_add declares the controller,
 * libxl_device_usbdev_add the device (as a libxl_usbdev_decl: its
 * controller, port, the busid it was at and its vendor:product:serial),
 * libxl_device_usbdev_remove drops the device's, and
 * libxl_device_usbctrl_remove / _destroy the controller's with its
 * devices'.  libxl_device_usbctrl_destroy_all (the domain going away)
 * leaves the declaration for the uuid.  libxl_usb_reconcile makes the
 * domain what its declaration says.
 */
#define LIBXL_HAVE_PVUSB_DECLARE 1

/* This boot only: the operation leaves the declaration as it is. */
#define LIBXL_USB_LIVE          (1u << 0)
/* usbdev add: declare the device as followed by its vendor:product:
 * serial to any port (LIBXL_USBDEV_DECL_MODE_SERIAL) instead of the port
 * it is at; a device without a serial is declared by its port. */
#define LIBXL_USB_FOLLOW_SERIAL (1u << 1)

/* As the operations without _flags, which are these with flags 0. */
int libxl_device_usbctrl_add_flags(libxl_ctx *ctx, uint32_t domid,
                                   libxl_device_usbctrl *usbctrl,
                                   unsigned int flags,
                                   const libxl_asyncop_how *ao_how);
int libxl_device_usbdev_add_flags(libxl_ctx *ctx, uint32_t domid,
                                  libxl_device_usbdev *usbdev,
                                  unsigned int flags,
                                  const libxl_asyncop_how *ao_how);
int libxl_device_usbdev_remove_flags(libxl_ctx *ctx, uint32_t domid,
                                     libxl_device_usbdev *usbdev,
                                     unsigned int flags,
                                     const libxl_asyncop_how *ao_how);

/*
 * The declaration of domid's uuid: cfg (initialised by the caller;
 * dispose it) as persisted, its declared_* fields what is declared (its
 * other fields mirror xenstore).  A declaration that fails the checks of
 * libxl_usb_reconcile is returned as it is.  ERROR_DOMAIN_NOTFOUND, or
 * ERROR_INVAL if the file is not valid JSON (logged).
 */
int libxl_usb_declaration_get(libxl_ctx *ctx, uint32_t domid,
                              libxl_domain_usb_config *cfg);

/*
 * Where the host has the device d declares (by d->mode): 0 and *busid_r
 * (malloc'd); ERROR_NOTFOUND if it is absent; ERROR_DEVICE_EXISTS if
 * (mode PORT) another device is plugged in at its port; ERROR_INVAL if
 * d is not a valid declaration (logged).
 */
int libxl_usbdev_decl_locate(libxl_ctx *ctx, const libxl_usbdev_decl *d,
                             char **busid_r);

#define LIBXL_HAVE_PVUSB_RECONCILE 1
/* Brings domid's USB to what its uuid's declaration says: re-creates
 * declared controllers missing from xenstore, attaches declared devices
 * present on the host (identity checked per mode) and not attached, and
 * takes off the domain devices attached whose host device is gone or is
 * no longer the declared one (a replug into that port of another
 * device). dry_run: logs what it would do (LIBXL__LOG INFO lines
 * "would ..."), changes nothing. Logs each action it takes at INFO.
 * 0: the domain has all it declares that the host has;
 * ERROR_NOT_READY: a declared controller's backend cannot serve yet
 *   (qusb: the domain's QEMU is not running yet), or a declared device's
 *   controller, which the declaration does not hold, is not there (xl
 *   makes its config's after a reboot, once QEMU runs) — retry then;
 *   a declared device another domain holds is logged (WARN), not an
 *   error: it is attached by the reconcile after that domain lets it go;
 * other ERROR_*: a failure (logged), e.g. a rebind that failed. */
int libxl_usb_reconcile(libxl_ctx *ctx, uint32_t domid, int dry_run);
/* The domains libxl_usb_reconcile has work for: those with USB
 * controllers and those whose uuid declares something; ascending.
 * Malloc'd array of *num (NULL if none); free with free(). */
uint32_t *libxl_usb_reconcile_domains(libxl_ctx *ctx, int *num);
/* Gives back to the host drivers every device whose host-side ownership
 * record names a domain that no longer exists, or no domain (a rebind
 * that failed: libxl_device_usbdev_rebind's work), and clears stale
 * records; declarations stay. 0 or ERROR_* (run it again later). */
int libxl_usb_release_orphans(libxl_ctx *ctx, int dry_run);
/* <state dir>/name, where the declarations are (docs/pvusb.md) and
 * xlusbd keeps its status file: malloc'd (free()), NULL if out of
 * memory. */
char *libxl_usb_state_path(const char *name);

#pragma GCC visibility pop

#endif /* LIBXL_PVUSB_H */
