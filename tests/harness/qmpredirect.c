/*
 * qmpredirect.c - LD_PRELOAD redirection of device models' QMP sockets
 * into the test's fake host.
 *
 * libxl's QEMUs listen on /var/run/xen/qmp-libxl-<domid> (the library
 * connects there); a test's own QEMU cannot listen in the host's
 * /var/run/xen.  With SYSFSMOCK_ROOT set (the fake host's root, which the
 * fake sysfs serves /sys/bus/usb from: sysfsmock.h), a connect() to a unix
 * socket under /var/run/xen/ goes to the same name under
 * $SYSFSMOCK_ROOT/var/run/xen/, where the test's QEMU listens.  Every
 * other connect() is passed on unchanged.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sysfsmock.h"

#define QMP_RUN_DIR "/var/run/xen/"

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static __typeof__(connect) *real_connect;
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    struct sockaddr_un fake = { .sun_family = AF_UNIX };
    const char *root = getenv(SYSFSMOCK_ROOT_ENV);
    int n;

    if (!real_connect)
        real_connect = (__typeof__(connect) *)dlsym(RTLD_NEXT, "connect");
    if (!root || !addr || addr->sa_family != AF_UNIX ||
        len <= offsetof(struct sockaddr_un, sun_path) ||
        strncmp(un->sun_path, QMP_RUN_DIR, strlen(QMP_RUN_DIR)))
        return real_connect(fd, addr, len);
    n = snprintf(fake.sun_path, sizeof(fake.sun_path), "%s%.*s", root,
                 (int)(len - offsetof(struct sockaddr_un, sun_path)),
                 un->sun_path);
    if (n < 0 || (size_t)n >= sizeof(fake.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return real_connect(fd, (const struct sockaddr *)&fake, sizeof(fake));
}
