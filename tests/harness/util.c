/*
 * util.c - file-tree helpers, a clock and capturing a child's output for
 * the harness.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"

static int rm_one(const char *path, const struct stat *st, int type,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int harness_rmtree(const char *dir)
{
    struct stat st;

    if (lstat(dir, &st))
        return errno == ENOENT ? 0 : -1;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* nftw has no user pointer: the copy's endpoints live here. */
static const char *copy_src, *copy_dst;

static int copy_file(const char *from, const char *to, mode_t mode)
{
    char buf[4096];
    ssize_t n;
    int in = -1, out = -1, r = -1;

    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        goto out;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
    if (out < 0)
        goto out;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, n) != n)
            goto out;
    if (n == 0)
        r = 0;
 out:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out))
        r = -1;
    return r;
}

static int copy_one(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
    char to[PATH_MAX], link[PATH_MAX];
    ssize_t n;

    (void)ftw;
    if ((size_t)snprintf(to, sizeof(to), "%s%s", copy_dst,
                         path + strlen(copy_src)) >= sizeof(to)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    switch (type) {
    case FTW_D:
        return mkdir(to, st->st_mode & 07777) && errno != EEXIST ? -1 : 0;
    case FTW_SL:
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        return symlink(link, to) && errno != EEXIST ? -1 : 0;
    case FTW_F:
        return copy_file(path, to, st->st_mode);
    default:
        errno = EINVAL;
        return -1;
    }
}

int harness_copytree(const char *src, const char *dst)
{
    copy_src = src;
    copy_dst = dst;
    return nftw(src, copy_one, 16, FTW_PHYS);
}

long long harness_now_ms(void)
{
    return harness_now_us() / 1000;
}

long long harness_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Reads each of the n fds to its end, into bufs[i] (malloc'd). */
static void read_to_ends(const int *fd, char **bufs, int n)
{
    struct pollfd fds[2];
    size_t lens[2];
    FILE *streams[2];
    char chunk[4096];
    ssize_t r;
    int i, open_fds = n;

    for (i = 0; i < n; i++) {
        fds[i] = (struct pollfd){ fd[i], POLLIN, 0 };
        streams[i] = open_memstream(&bufs[i], &lens[i]);
        ASSERT(streams[i]);
    }
    while (open_fds) {
        if (poll(fds, n, -1) < 0) {
            ASSERT(errno == EINTR);
            continue;
        }
        for (i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            r = read(fds[i].fd, chunk, sizeof(chunk));
            if (r > 0) {
                fwrite(chunk, 1, r, streams[i]);
            } else {
                ASSERT(r == 0 || errno == EINTR);
                if (r == 0) {
                    fds[i].fd = -1;
                    open_fds--;
                }
            }
        }
    }
    for (i = 0; i < n; i++)
        ASSERT(fclose(streams[i]) == 0);
}

int run_capture(void (*child)(void *), void *arg, char **out, char **err)
{
    int pipes[2][2], rd[2], i, n = err ? 2 : 1, status;
    char *bufs[2];
    pid_t pid;

    for (i = 0; i < n; i++)
        ASSERT(pipe2(pipes[i], O_CLOEXEC) == 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(pipes[0][1], 1);
        dup2(pipes[n - 1][1], 2);
        child(arg);
        _exit(127);
    }
    for (i = 0; i < n; i++) {
        close(pipes[i][1]);
        rd[i] = pipes[i][0];
    }
    read_to_ends(rd, bufs, n);
    for (i = 0; i < n; i++)
        close(rd[i]);
    ASSERT(waitpid(pid, &status, 0) == pid);
    *out = bufs[0];
    if (err)
        *err = bufs[1];
    return status;
}

char *read_text_file(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *in = fopen(path, "r"), *mem;
    int c;

    if (!in)
        return NULL;
    mem = open_memstream(&text, &len);
    ASSERT(mem);
    while ((c = getc(in)) != EOF)
        putc(c, mem);
    fclose(mem);
    fclose(in);
    return text;
}

void ao_done_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
    struct ao_done *d = for_callback;

    (void)ctx;
    d->rc = rc;
    d->done = true;
}

int usbctrl_add_at(libxl_ctx *ctx, uint32_t domid, int devid,
                   libxl_usbctrl_type type, int ports, uint32_t backend,
                   unsigned int flags)
{
    libxl_device_usbctrl c;
    int rc;

    libxl_device_usbctrl_init(&c);
    c.type = type;
    c.devid = devid;
    c.ports = ports;
    c.backend_domid = backend;
    rc = libxl_device_usbctrl_add_flags(ctx, domid, &c, flags, NULL);
    libxl_device_usbctrl_dispose(&c);
    return rc;
}

int usbdev_add_at(libxl_ctx *ctx, uint32_t domid, int bus, int addr,
                  int ctrl, int port, unsigned int flags)
{
    libxl_device_usbdev d;
    int rc;

    libxl_device_usbdev_init(&d);
    libxl_device_usbdev_init_type(&d, LIBXL_USBDEV_TYPE_HOSTDEV);
    d.u.hostdev.hostbus = bus;
    d.u.hostdev.hostaddr = addr;
    d.ctrl = ctrl;
    d.port = port;
    rc = libxl_device_usbdev_add_flags(ctx, domid, &d, flags, NULL);
    libxl_device_usbdev_dispose(&d);
    return rc;
}

int usbdev_remove_at(libxl_ctx *ctx, uint32_t domid, int ctrl, int port)
{
    libxl_device_usbdev d;
    int rc;

    libxl_device_usbdev_init(&d);
    d.ctrl = ctrl;
    d.port = port;
    rc = libxl_device_usbdev_remove(ctx, domid, &d, NULL);
    libxl_device_usbdev_dispose(&d);
    return rc;
}
