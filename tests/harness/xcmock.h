/*
 * xcmock.h - what tests/harness/xcmock.so (the preloaded stand-in for
 * libxenctrl, i.e. for the hypervisor as a dom0 toolstack sees it) and the
 * harness (xs.c) agree on.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_XCMOCK_H
#define TESTS_XCMOCK_H

#include <stdint.h>

/*
 * The hypervisor's domains: $XCMOCK_DOMAINS names a file of
 * XCMOCK_NR_DOMIDS records, the one of domid d at offset
 * d * sizeof(struct xcmock_domain).  xs_start creates it (dom0 only) with
 * the daemon, fakedom_create and fakedom_destroy fill and clear a record;
 * the stand-in maps it shared and read-only at xc_interface_open, so that
 * every process of a test (the CLI it runs too) sees the same domains.
 * With no such file, xc_interface_open fails as on a host without Xen.
 */
#define XCMOCK_DOMAINS_ENV "XCMOCK_DOMAINS"
#define XCMOCK_NR_DOMIDS 0x7ff0         /* DOMID_FIRST_RESERVED */

struct xcmock_domain {
    uint32_t exists;                    /* 0: no such domain */
    uint32_t flags;                     /* XEN_DOMINF_* */
    uint8_t handle[16];                 /* the uuid */
};

#endif /* TESTS_XCMOCK_H */
