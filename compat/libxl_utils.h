/*
 * libxl_utils.h - libxl's header name for this library's utilities
 * (libxl_name_to_domid, libxl_domid_to_name, libxl_devid_to_device_usbctrl,
 * libxl_ctrlport_to_device_usbdev), declared with the rest in
 * libxl_pvusb.h.  See libxl.h here.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_UTILS_H
#define LIBXL_UTILS_H

#include "libxl.h"

#endif /* LIBXL_UTILS_H */
