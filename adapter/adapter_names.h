/*
 * adapter_names.h - inside the adapter, this library's own PVUSB entry
 * points are renamed (the build renames them in its objects with objcopy
 * --redefine-syms, the map made from the lines below) so that the
 * adapter can define and export libxenlight's names itself.  Include it
 * before libxl_pvusb.h.  One "#define <libxl name> <our name>" a line:
 * the Makefile reads this list for the rename map and for the version
 * script that exports exactly these names.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef ADAPTER_NAMES_H
#define ADAPTER_NAMES_H

#define libxl_device_usbctrl_add libxl__pvusb_device_usbctrl_add
#define libxl_device_usbctrl_remove libxl__pvusb_device_usbctrl_remove
#define libxl_device_usbctrl_destroy libxl__pvusb_device_usbctrl_destroy
#define libxl_device_usbctrl_list libxl__pvusb_device_usbctrl_list
#define libxl_device_usbctrl_list_free libxl__pvusb_device_usbctrl_list_free
#define libxl_device_usbctrl_getinfo libxl__pvusb_device_usbctrl_getinfo
#define libxl_device_usbdev_add libxl__pvusb_device_usbdev_add
#define libxl_device_usbdev_remove libxl__pvusb_device_usbdev_remove
#define libxl_device_usbdev_list libxl__pvusb_device_usbdev_list
#define libxl_device_usbdev_list_free libxl__pvusb_device_usbdev_list_free
#define libxl_devid_to_device_usbctrl libxl__pvusb_devid_to_device_usbctrl
#define libxl_ctrlport_to_device_usbdev libxl__pvusb_ctrlport_to_device_usbdev

#endif /* ADAPTER_NAMES_H */
