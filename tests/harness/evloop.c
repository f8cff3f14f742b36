/*
 * evloop.c - an application's own event loop, into which libxl is
 * plugged through libxl_osevent_register_hooks, written the way libvirt's
 * libxl driver does it over libvirt's event loop (see harness.h): a table
 * of handles and one of timers, poll(), and the libxl_osevent_occurred_*
 * calls.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/time.h>

#include "harness.h"
#include "harness_internal.h"

#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)
#define MAX_ENTRIES 64

/* What the hooks hand libxl as for_app_registration (libvirt's
 * libxlOSEventHookInfo): the loop's id, and libxl's for_libxl. */
struct hook_info {
    libxl_ctx *ctx;
    void *xl_priv;
    int id;
};

struct handle {
    bool used, deleted;
    int fd;
    short events;
    struct hook_info *info;
};

struct timer {
    bool used, deleted;
    long long expires_ms;       /* -1: off */
    struct hook_info *info;
};

static struct handle handles[MAX_ENTRIES];
static struct timer timers[MAX_ENTRIES];
static struct evloop_stats stats;
static int fail_fd_register_in;

static long long now_ms(void)
{
    return harness_now_us() / 1000;
}

static int slot_of(bool used_of(int), const char *what)
{
    int i;

    for (i = 0; i < MAX_ENTRIES; i++)
        if (!used_of(i)) return i;
    BAIL("evloop: more than %d %s", MAX_ENTRIES, what);
}

static bool handle_used(int i) { return handles[i].used; }
static bool timer_used(int i) { return timers[i].used; }

static struct hook_info *info_new(void *user, void *xl_priv, int id)
{
    struct hook_info *info = calloc(1, sizeof(*info));

    if (!info) BAIL("out of memory");
    info->ctx = user;
    info->xl_priv = xl_priv;
    info->id = id;
    return info;
}

/*----- the hooks -----*/

static int fd_register(void *user, int fd, void **hndp, short events,
                       void *xl_priv)
{
    int id;

    if (*hndp) tap_fail(__FILE__, __LINE__, "fd_register: *hndp not NULL");
    if (fail_fd_register_in && !--fail_fd_register_in)
        return ERROR_OSEVENT_REG_FAIL;
    id = slot_of(handle_used, "handles");
    handles[id] = (struct handle){ .used = true, .fd = fd, .events = events,
                                   .info = info_new(user, xl_priv, id) };
    *hndp = handles[id].info;
    stats.fd_register++;
    stats.handles++;
    return 0;
}

static int fd_modify(void *user, int fd, void **hndp, short events)
{
    struct hook_info *info = *hndp;

    (void)user;
    if (handles[info->id].fd != fd)
        tap_fail(__FILE__, __LINE__, "fd_modify: fd %d, registered %d", fd,
                 handles[info->id].fd);
    handles[info->id].events = events;
    stats.fd_modify++;
    return 0;
}

static void fd_deregister(void *user, int fd, void *hnd)
{
    struct hook_info *info = hnd;

    (void)user;
    (void)fd;
    handles[info->id].deleted = true;
    stats.fd_deregister++;
    stats.handles--;
}

static int timeout_register(void *user, void **hndp, struct timeval abs,
                            void *xl_priv)
{
    struct timeval now;
    long long ms;
    int id;

    gettimeofday(&now, NULL);
    ms = (abs.tv_sec - now.tv_sec) * 1000LL +
         (abs.tv_usec - now.tv_usec + 999) / 1000;
    if (ms < 0) ms = 0;
    id = slot_of(timer_used, "timers");
    timers[id] = (struct timer){ .used = true,
                                 .expires_ms = now_ms() + ms,
                                 .info = info_new(user, xl_priv, id) };
    *hndp = timers[id].info;
    stats.timeout_register++;
    stats.timers++;
    return 0;
}

static int timeout_modify(void *user, void **hndp, struct timeval abs)
{
    struct hook_info *info = *hndp;

    (void)user;
    if (abs.tv_sec || abs.tv_usec)
        stats.timeout_modify_not_now++;
    timers[info->id].expires_ms = now_ms();
    stats.timeout_modify++;
    return 0;
}

static void timeout_deregister(void *user, void *hnd)
{
    (void)user;
    (void)hnd;
    stats.timeout_deregister++;     /* libxl never calls it */
}

static const libxl_osevent_hooks hooks = {
    .fd_register = fd_register,
    .fd_modify = fd_modify,
    .fd_deregister = fd_deregister,
    .timeout_register = timeout_register,
    .timeout_modify = timeout_modify,
    .timeout_deregister = timeout_deregister,
};

/*----- the loop -----*/

/* Removed entries go once nothing dispatches them any more. */
static void purge(void)
{
    int i;

    for (i = 0; i < MAX_ENTRIES; i++) {
        if (handles[i].used && handles[i].deleted) {
            free(handles[i].info);
            handles[i] = (struct handle){ .used = false };
        }
        if (timers[i].used && timers[i].deleted) {
            free(timers[i].info);
            timers[i] = (struct timer){ .used = false };
        }
    }
}

static void run_timers(void)
{
    struct hook_info *info;
    int i;

    for (i = 0; i < MAX_ENTRIES; i++) {
        if (!timers[i].used || timers[i].deleted ||
            timers[i].expires_ms < 0 || timers[i].expires_ms > now_ms())
            continue;
        /* libvirt's libxlTimerCallback: off, occurred, removed */
        info = timers[i].info;
        timers[i].expires_ms = -1;
        stats.timeout_occurred++;
        libxl_osevent_occurred_timeout(info->ctx, info->xl_priv);
        timers[i].deleted = true;
        stats.timers--;
    }
}

/* One turn: poll on the handles until the first timer, then dispatch. */
static void turn(int max_ms)
{
    struct pollfd fds[MAX_ENTRIES];
    int ids[MAX_ENTRIES];
    long long left;
    int i, n = 0, timeout = max_ms;

    for (i = 0; i < MAX_ENTRIES; i++) {
        if (handles[i].used && !handles[i].deleted) {
            fds[n] = (struct pollfd){ .fd = handles[i].fd,
                                      .events = handles[i].events };
            ids[n++] = i;
        }
        if (timers[i].used && !timers[i].deleted &&
            timers[i].expires_ms >= 0) {
            left = timers[i].expires_ms - now_ms();
            if (left < 0) left = 0;
            if (left < timeout) timeout = left;
        }
    }
    if (poll(fds, n, timeout) < 0 && errno != EINTR)
        BAIL("poll: %s", strerror(errno));
    for (i = 0; i < n; i++) {
        /* a handle removed by an earlier dispatch is not called */
        if (!fds[i].revents || handles[ids[i]].deleted) continue;
        stats.fd_occurred++;
        libxl_osevent_occurred_fd(handles[ids[i]].info->ctx,
                                  handles[ids[i]].info->xl_priv, fds[i].fd,
                                  fds[i].events, fds[i].revents);
    }
    run_timers();
    purge();
}

void evloop_hooks_register(libxl_ctx *ctx)
{
    libxl_osevent_register_hooks(ctx, &hooks, ctx);
}

bool evloop_run_until(libxl_ctx *ctx, const volatile bool *done,
                      int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    (void)ctx;
    while (!*done && now_ms() < deadline)
        turn(deadline - now_ms());
    return *done;
}

void evloop_run_for(libxl_ctx *ctx, int ms)
{
    static const bool never = false;

    evloop_run_until(ctx, &never, ms);
}

const struct evloop_stats *evloop_stats(void)
{
    return &stats;
}

void evloop_fail_fd_register(int n)
{
    fail_fd_register_in = n;
}
