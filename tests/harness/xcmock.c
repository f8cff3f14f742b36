/*
 * xcmock.c - LD_PRELOAD stand-in for libxenctrl: the hypervisor a dom0
 * toolstack talks to, answering from the harness's domains (xcmock.h),
 * the ones fakedom_create made in the test's real xenstored.
 *
 * What is stood in for, and what it answers:
 *   xc_interface_open   : a handle on the domain table (NULL, errno
 *                         ENOENT, when there is none: a host without Xen);
 *   xc_domain_getinfolist: the existing domains from first_domain on, as
 *                         the domctl returns them (domid, flags with
 *                         running set, the uuid in handle; no memory, no
 *                         vcpus);
 *   xc_flask_sid_to_context: fails with ENOSYS, as on a Xen built without
 *                         XSM (Debian's): libxl_domain_info calls it and
 *                         goes on without a security label.
 * No other libxenctrl function may be reached with this handle: one
 * would take it for a real libxc handle.  Within the project only the
 * first two are called (core/libxl_dom.c); Debian's libxenlight, run by
 * make bench, calls the third.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>

#include "xcmock.h"

/* Interposers: exported on purpose, declared by xenctrl.h. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

struct xc_interface_core {
    const struct xcmock_domain *dom;    /* XCMOCK_NR_DOMIDS records */
};

#define TABLE_SIZE (XCMOCK_NR_DOMIDS * sizeof(struct xcmock_domain))

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    const char *path = getenv(XCMOCK_DOMAINS_ENV);
    xc_interface *xch;
    void *map;
    int fd;

    if (!path) {
        errno = ENOENT;
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    map = mmap(NULL, TABLE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return NULL;
    xch = malloc(sizeof(*xch));
    if (!xch) {
        munmap(map, TABLE_SIZE);
        return NULL;
    }
    xch->dom = map;
    return xch;
}

int xc_interface_close(xc_interface *xch)
{
    if (!xch)
        return 0;
    munmap((void *)xch->dom, TABLE_SIZE);
    free(xch);
    return 0;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    uint32_t domid;
    unsigned int n = 0;

    for (domid = first_domain;
         domid < XCMOCK_NR_DOMIDS && n < max_domains; domid++) {
        const struct xcmock_domain *d = &xch->dom[domid];

        if (!d->exists)
            continue;
        memset(&info[n], 0, sizeof(info[n]));
        info[n].domain = domid;
        /* a domain runs until it shuts down */
        info[n].flags = d->flags |
            (d->flags & XEN_DOMINF_shutdown ? 0 : XEN_DOMINF_running);
        memcpy(info[n].handle, d->handle, sizeof(info[n].handle));
        n++;
    }
    return n;
}

int xc_flask_sid_to_context(xc_interface *xch, int sid, char *buf,
                            uint32_t size)
{
    errno = ENOSYS;
    return -1;
}
