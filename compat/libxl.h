/*
 * libxl.h - libxl's header name for this library: a caller written for
 * libxl's PVUSB API includes <libxl.h>, builds with
 * `pkg-config --cflags --libs libxlpvusb`, and gets these declarations
 * (installed in this library's own include dir, never over libxen-dev's
 * /usr/include/libxl.h).  Only what this library has is declared: the
 * context, the poll loop, the PVUSB devices and their types.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_H
#define LIBXL_H

#include "libxl_pvusb.h"

#endif /* LIBXL_H */
