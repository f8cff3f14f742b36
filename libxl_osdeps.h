/*
 * libxl_osdeps.h - where the platform keeps what PVUSB touches.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_OSDEPS_H
#define LIBXL_OSDEPS_H

#if defined(__linux__)
/* One entry per USB device ("3-1.2") and interface ("3-1.2:1.0"). */
#define SYSFS_USB_DEV         "/sys/bus/usb/devices"
/* One directory per USB driver, each with bind and unbind files. */
#define SYSFS_USB_DRV         "/sys/bus/usb/drivers"
/* The kernel PV USB backend driver (Linux usbback). */
#define SYSFS_USBBACK_DRIVER  SYSFS_USB_DRV "/usbback"
#else
#error "PVUSB host device assignment is only implemented for Linux sysfs"
#endif

/* Default state directory of the persisted USB configuration; the
 * LIBXL_PVUSB_STATE_DIR environment variable overrides it. */
#define LIBXL_PVUSB_STATE_DIR "/var/lib/xen/pvusb"

/* Where libxl's device models (QEMU) listen for QMP, as
 * qmp-libxl-<domid>. */
#define LIBXL_QMP_SOCKET_DIR "/var/run/xen"

#endif /* LIBXL_OSDEPS_H */
