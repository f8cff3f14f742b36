/*
 * xsshim.c - LD_PRELOAD shim that lets Debian's C xenstored (Xen 4.17)
 * run on a plain Linux machine with no hypervisor, with its normal dom0
 * initialisation.  (-D, "no domain init", is broken in 4.17: the database
 * is never set up and the first write crashes, so we fake the hypervisor
 * side instead.)  tests/harness/xs.c execs the daemon with this library
 * as its only preload.
 *
 * What xenstored needs from the hypervisor, and what it gets here:
 *   libxenctrl   : a handle, and xc_domain_getinfo saying every domid
 *                  exists and runs (so permissions naming any domain are
 *                  accepted, as they would be for a live guest);
 *   libxengnttab : XS_INTRODUCE maps the guest's ring page: it gets a
 *                  zeroed anonymous page, so the ring stays empty forever;
 *   libxenevtchn : an eventfd that never becomes readable, and made-up
 *                  local ports;
 *   libc open()  : /proc/xen/xsd_port and /proc/xen/xsd_kva (dom0's event
 *                  channel and ring page) become memfds.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#define _GNU_SOURCE     /* built on its own: memfd_create, O_TMPFILE */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

/* Every function here is an interposer: each one is exported on purpose
 * and has no prototype of ours, so -Wmissing-declarations is moot. */
#pragma GCC diagnostic ignored "-Wmissing-declarations"
#pragma GCC diagnostic ignored "-Wunused-parameter"

static char dummy_handle[64];   /* opaque non-NULL handle for every lib */
static int evfd = -1;           /* pollable, never readable */
static int next_port = 10;      /* made-up local event-channel ports */

static int memfd_with(const char *name, const char *content, off_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    size_t len = strlen(content);

    if (fd < 0)
        return -1;
    if ((len && write(fd, content, len) != (ssize_t)len) ||
        (size && ftruncate(fd, size)) || lseek(fd, 0, SEEK_SET)) {
        close(fd);
        return -1;
    }
    return fd;
}

/*----- libc: the two xenfs files xenstored_posix.c opens -----*/

int open(const char *path, int flags, ...)
{
    static int (*real_open)(const char *, int, ...);
    mode_t mode = 0;

    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;

        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    if (!strcmp(path, "/proc/xen/xsd_port"))
        return memfd_with("xsd_port", "1\n", 0);
    /* dom0's ring page; xenstored mmap()s it MAP_SHARED */
    if (!strcmp(path, "/proc/xen/xsd_kva"))
        return memfd_with("xsd_kva", "", getpagesize());
    if (!real_open)
        real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    return real_open(path, flags, mode);
}

/*----- libxenctrl -----*/

xc_interface *xc_interface_open(xentoollog_logger *l, xentoollog_logger *d,
                                unsigned f)
{
    return (xc_interface *)dummy_handle;
}

int xc_interface_close(xc_interface *xch)
{
    return 0;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                      unsigned int max_doms, xc_dominfo_t *info)
{
    if (max_doms < 1)
        return 0;
    memset(info, 0, sizeof(*info));
    info->domid = first_domid;      /* exists, running, not dying */
    info->running = 1;
    return 1;
}

/*----- libxengnttab -----*/

xengnttab_handle *xengnttab_open(xentoollog_logger *l, unsigned f)
{
    return (xengnttab_handle *)dummy_handle;
}

int xengnttab_close(xengnttab_handle *h)
{
    return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t n)
{
    return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
                              uint32_t ref, int prot)
{
    void *p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

int xengnttab_unmap(xengnttab_handle *h, void *addr, uint32_t count)
{
    return munmap(addr, (size_t)count * getpagesize());
}

/*----- libxenevtchn -----*/

xenevtchn_handle *xenevtchn_open(xentoollog_logger *l, unsigned f)
{
    if (evfd < 0)
        evfd = eventfd(0, (f & XENEVTCHN_NO_CLOEXEC) ? 0 : EFD_CLOEXEC);
    return evfd < 0 ? NULL : (xenevtchn_handle *)dummy_handle;
}

xenevtchn_handle *xenevtchn_fdopen(xentoollog_logger *l, int fd, unsigned f)
{
    evfd = fd;
    return (xenevtchn_handle *)dummy_handle;
}

int xenevtchn_fd(xenevtchn_handle *x)
{
    return evfd;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *x,
                                              unsigned int virq)
{
    return next_port++;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *x,
                                                     uint32_t domid,
                                                     evtchn_port_t rport)
{
    return next_port++;
}

int xenevtchn_notify(xenevtchn_handle *x, evtchn_port_t p)
{
    return 0;
}

int xenevtchn_unbind(xenevtchn_handle *x, evtchn_port_t p)
{
    return 0;
}

int xenevtchn_unmask(xenevtchn_handle *x, evtchn_port_t p)
{
    return 0;
}

/* Never called: the event fd never polls readable. */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *x)
{
    errno = EAGAIN;
    return -1;
}
