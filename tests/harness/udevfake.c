/*
 * udevfake.c - an LD_PRELOAD stand-in for libudev's monitor, as xlusbd
 * uses it.  The events come from the FIFO named by $UDEVFAKE_SOCKET, one
 * line each, "<action> <sysname>"; a line "ENOBUFS" makes the next
 * udev_monitor_receive_device fail with ENOBUFS (events lost).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

struct udev { int unused; };
struct udev_monitor {
    int fd;
    char buf[4096];
    size_t len;
};
struct udev_device {
    char action[32];
    char sysname[64];
};

struct udev *udev_new(void)
{
    return calloc(1, sizeof(struct udev));
}

struct udev *udev_unref(struct udev *u)
{
    free(u);
    return NULL;
}

struct udev_monitor *udev_monitor_new_from_netlink(struct udev *u,
                                                   const char *name)
{
    const char *path = getenv("UDEVFAKE_SOCKET");
    struct udev_monitor *m;

    (void)u, (void)name;
    if (!path) return NULL;
    m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    /* read-write: no end of file when the test's writer closes */
    m->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (m->fd < 0) {
        free(m);
        return NULL;
    }
    return m;
}

struct udev_monitor *udev_monitor_unref(struct udev_monitor *m)
{
    if (m) close(m->fd);
    free(m);
    return NULL;
}

int udev_monitor_filter_add_match_subsystem_devtype(struct udev_monitor *m,
                                                    const char *subsystem,
                                                    const char *devtype)
{
    (void)m, (void)subsystem, (void)devtype;
    return 0;
}

int udev_monitor_enable_receiving(struct udev_monitor *m)
{
    (void)m;
    return 0;
}

int udev_monitor_get_fd(struct udev_monitor *m)
{
    return m->fd;
}

/* The next line of the FIFO, without its newline, into line; 0 or -1. */
static int next_line(struct udev_monitor *m, char *line, size_t size)
{
    char *nl;
    ssize_t r;

    while (!(nl = memchr(m->buf, '\n', m->len))) {
        r = read(m->fd, m->buf + m->len, sizeof(m->buf) - m->len);
        if (r <= 0) return -1;
        m->len += r;
    }
    *nl = 0;
    snprintf(line, size, "%.*s", (int)size - 1, m->buf);
    m->len -= nl + 1 - m->buf;
    memmove(m->buf, nl + 1, m->len);
    return 0;
}

struct udev_device *udev_monitor_receive_device(struct udev_monitor *m)
{
    struct udev_device *d;
    char line[128];

    if (next_line(m, line, sizeof(line))) {
        errno = EAGAIN;
        return NULL;
    }
    if (!strcmp(line, "ENOBUFS")) {
        errno = ENOBUFS;
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    if (sscanf(line, "%31s %63s", d->action, d->sysname) != 2) {
        free(d);
        errno = EINVAL;
        return NULL;
    }
    return d;
}

const char *udev_device_get_action(struct udev_device *d)
{
    return d->action;
}

const char *udev_device_get_sysname(struct udev_device *d)
{
    return d->sysname;
}

struct udev_device *udev_device_unref(struct udev_device *d)
{
    free(d);
    return NULL;
}
