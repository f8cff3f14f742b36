/*
 * libxl_event.c - the event machinery: fd watches, xenstore watches
 * multiplexed on the ctx's one xenstore connection, timeouts, the
 * application's event loop (beforepoll/afterpoll, or its own loop through
 * libxl_osevent_register_hooks), asynchronous operations (ao) and device
 * state waits.
 *
 * Every fd and timeout is in the ctx's lists, which beforepoll and the
 * wait of a synchronous operation poll on; with hooks, each is also
 * registered with the application.  Internal callbacks run with the ctx
 * lock held, each with its own egc; application callbacks run with it
 * released, only from libxl_osevent_afterpoll or _occurred_*.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>

#include "libxl_ctx.h"

struct libxl__ao {
    libxl__gc gc;               /* the operation's arena */
    uint32_t domid;
    bool sync;                  /* ao_how == NULL: the initiator waits */
    libxl_asyncop_how how;      /* if !sync */
    bool complete;
    int rc;                     /* once complete */
    libxl__poller poller;       /* if sync: wakes the initiator's poll */
    libxl__ao *next_for_callback;
};

/*----- pollers -----*/

static int poller_init(libxl__gc *gc, libxl__poller *p)
{
    if (pipe2(p->wakeup, O_CLOEXEC | O_NONBLOCK)) {
        p->wakeup[0] = p->wakeup[1] = -1;
        LOGE(ERROR, "cannot create a wakeup pipe");
        return ERROR_FAIL;
    }
    return 0;
}

static void poller_dispose(libxl__poller *p)
{
    if (p->wakeup[0] >= 0) close(p->wakeup[0]);
    if (p->wakeup[1] >= 0) close(p->wakeup[1]);
    p->wakeup[0] = p->wakeup[1] = -1;
}

/* A full pipe is already a pending wakeup: nothing to add. */
static void poller_wakeup(libxl__gc *gc, libxl__poller *p)
{
    static const char byte = 0;

    if (write(p->wakeup[1], &byte, 1) < 0 && errno != EAGAIN)
        LOGE(ERROR, "cannot wake a poller");
}

static void poller_drain(libxl__poller *p)
{
    char buf[64];

    while (read(p->wakeup[0], buf, sizeof(buf)) > 0)
        ;
}

/*----- the application's hooks: registrations as it knows them -----*/

static libxl__osevent_hook_nexus *nexus_get(libxl_ctx *ctx, void *ev)
{
    libxl__osevent_hook_nexus *nexus = ctx->hook_nexi_free;

    if (nexus) {
        ctx->hook_nexi_free = nexus->next_free;
    } else {
        nexus = libxl__zalloc(NOGC, sizeof(*nexus));
        nexus->next_all = ctx->hook_nexi;
        ctx->hook_nexi = nexus;
    }
    nexus->ev = ev;
    nexus->for_app_reg = NULL;
    return nexus;
}

/* No occurrence can come for nexus any more. */
static void nexus_put(libxl_ctx *ctx, libxl__osevent_hook_nexus *nexus)
{
    nexus->ev = NULL;
    nexus->next_free = ctx->hook_nexi_free;
    ctx->hook_nexi_free = nexus;
}

static int hook_fd_register(libxl__gc *gc, libxl__ev_fd *ev)
{
    const libxl_osevent_hooks *hooks = CTX->osevent_hooks;
    int r;

    ev->nexus = nexus_get(CTX, ev);
    r = hooks->fd_register(CTX->osevent_user, ev->fd,
                           &ev->nexus->for_app_reg, ev->events, ev->nexus);
    if (!r) return 0;
    LOG(ERROR, "the application's event loop refused fd %d (%d)", ev->fd,
        r);
    nexus_put(CTX, ev->nexus);
    ev->nexus = NULL;
    return ERROR_OSEVENT_REG_FAIL;
}

static int hook_timeout_register(libxl__gc *gc, libxl__ev_time *ev)
{
    const libxl_osevent_hooks *hooks = CTX->osevent_hooks;
    int r;

    ev->nexus = nexus_get(CTX, ev);
    r = hooks->timeout_register(CTX->osevent_user, &ev->nexus->for_app_reg,
                                ev->abs, ev->nexus);
    if (!r) return 0;
    LOG(ERROR, "the application's event loop refused a timeout (%d)", r);
    nexus_put(CTX, ev->nexus);
    ev->nexus = NULL;
    return ERROR_OSEVENT_REG_FAIL;
}

/*----- fd watches -----*/

void libxl__ev_fd_init(libxl__ev_fd *ev)
{
    ev->fd = -1;
    ev->events = 0;
    ev->func = NULL;
    ev->registered = false;
    ev->next = NULL;
    ev->nexus = NULL;
}

bool libxl__ev_fd_isregistered(const libxl__ev_fd *ev)
{
    return ev->registered;
}

int libxl__ev_fd_register(libxl__gc *gc, libxl__ev_fd *ev,
                          libxl__ev_fd_callback *func, int fd, short events)
{
    int rc = 0;

    CTX_LOCK;
    assert(!ev->registered);
    ev->fd = fd;
    ev->events = events;
    ev->func = func;
    if (CTX->osevent_hooks) rc = hook_fd_register(gc, ev);
    if (rc) goto out;
    ev->next = CTX->efds;
    CTX->efds = ev;
    ev->registered = true;
    /* A beforepoll loop, maybe in another thread, must poll it too. */
    if (!CTX->osevent_hooks) poller_wakeup(gc, &CTX->poller_app);

 out:
    CTX_UNLOCK;
    return rc;
}

int libxl__ev_fd_modify(libxl__gc *gc, libxl__ev_fd *ev, short events)
{
    const libxl_osevent_hooks *hooks = CTX->osevent_hooks;
    int r, rc = 0;

    CTX_LOCK;
    assert(ev->registered);
    if (ev->nexus) {
        r = hooks->fd_modify(CTX->osevent_user, ev->fd,
                             &ev->nexus->for_app_reg, events);
        if (r) {
            LOG(ERROR, "the application's event loop refused to change "
                "fd %d (%d)", ev->fd, r);
            rc = ERROR_OSEVENT_REG_FAIL;
            goto out;
        }
    }
    ev->events = events;
    if (!CTX->osevent_hooks) poller_wakeup(gc, &CTX->poller_app);

 out:
    CTX_UNLOCK;
    return rc;
}

void libxl__ev_fd_deregister(libxl__gc *gc, libxl__ev_fd *ev)
{
    libxl__ev_fd **pp;

    if (!ev->registered)
        return;

    CTX_LOCK;
    for (pp = &CTX->efds; *pp != ev; pp = &(*pp)->next)
        ;
    *pp = ev->next;
    if (ev->nexus) {
        CTX->osevent_hooks->fd_deregister(CTX->osevent_user, ev->fd,
                                          ev->nexus->for_app_reg);
        nexus_put(CTX, ev->nexus);
    }
    libxl__ev_fd_init(ev);
    CTX_UNLOCK;
}

/* The registered watch of fd, or NULL. */
static libxl__ev_fd *efd_of_fd(libxl_ctx *ctx, int fd)
{
    libxl__ev_fd *ev;

    for (ev = ctx->efds; ev && ev->fd != fd; ev = ev->next)
        ;
    return ev;
}

/* Calls ev's func for what of revents it asked for. */
static void fd_occurred(libxl_ctx *ctx, libxl__ev_fd *ev, short revents)
{
    revents &= ev->events | POLLERR | POLLHUP | POLLNVAL;
    if (!revents)
        return;
    EGC_INIT(ctx);
    ev->func(egc, ev, ev->fd, ev->events, revents);
    EGC_FREE;
}

/*----- xenstore watches -----*/

static void watches_occurred(libxl__egc *egc, libxl__ev_fd *ev, int fd,
                             short events, short revents);

void libxl__ev_xswatch_init(libxl__ev_xswatch *w)
{
    w->path = NULL;
    w->callback = NULL;
    w->slotnum = -1;
    w->counterval = 0;
}

bool libxl__ev_xswatch_isregistered(const libxl__ev_xswatch *w)
{
    return w->slotnum >= 0;
}

static char *watch_token(libxl__gc *gc, const libxl__ev_xswatch *w)
{
    return GCSPRINTF("%d/%"PRIu32, w->slotnum, w->counterval);
}

static int watch_slot_get(libxl_ctx *ctx)
{
    int slotnum = ctx->watch_free;

    if (slotnum < 0) {
        slotnum = ctx->watch_nslots++;
        ctx->watch_slots = libxl__realloc(NOGC, ctx->watch_slots,
                               ctx->watch_nslots * sizeof(*ctx->watch_slots));
    } else {
        ctx->watch_free = ctx->watch_slots[slotnum].next_free;
    }
    ctx->watch_slots[slotnum].w = NULL;
    return slotnum;
}

static void watch_slot_put(libxl_ctx *ctx, int slotnum)
{
    ctx->watch_slots[slotnum].w = NULL;
    ctx->watch_slots[slotnum].next_free = ctx->watch_free;
    ctx->watch_free = slotnum;
}

/* The watches' connection (libxl_ctx.h), and its fd in the event loop,
 * from the first watch on.  Caller holds the ctx lock. */
static int watch_conn_open(libxl__gc *gc)
{
    int fd;

    if (!CTX->xsh_watch) {
        CTX->xsh_watch = xs_open(0);
        if (!CTX->xsh_watch) {
            LOGE(ERROR, "cannot connect to xenstore for watches");
            return ERROR_FAIL;
        }
    }
    if (libxl__ev_fd_isregistered(&CTX->watch_efd)) return 0;
    fd = xs_fileno(CTX->xsh_watch);
    if (fd < 0) {
        LOGE(ERROR, "cannot get the xenstore watch fd");
        return ERROR_FAIL;
    }
    return libxl__ev_fd_register(gc, &CTX->watch_efd, watches_occurred, fd,
                                 POLLIN);
}

int libxl__ev_xswatch_register(libxl__gc *gc, libxl__ev_xswatch *w,
                               libxl__ev_xswatch_callback *cb,
                               const char *path)
{
    int rc;

    CTX_LOCK;
    assert(!libxl__ev_xswatch_isregistered(w));
    rc = watch_conn_open(gc);
    if (rc) goto out;

    w->slotnum = watch_slot_get(CTX);
    w->counterval = CTX->watch_counter++;
    if (!xs_watch(CTX->xsh_watch, path, watch_token(gc, w))) {
        LOGE(ERROR, "cannot watch `%s'", path);
        watch_slot_put(CTX, w->slotnum);
        w->slotnum = -1;
        rc = ERROR_FAIL;
        goto out;
    }
    w->path = libxl__strdup(NOGC, path);
    w->callback = cb;
    CTX->watch_slots[w->slotnum].w = w;
    rc = 0;

 out:
    CTX_UNLOCK;
    return rc;
}

void libxl__ev_xswatch_deregister(libxl__gc *gc, libxl__ev_xswatch *w)
{
    if (!libxl__ev_xswatch_isregistered(w))
        return;

    CTX_LOCK;
    /* Events still queued for this token are recognised as stale. */
    if (!xs_unwatch(CTX->xsh_watch, w->path, watch_token(gc, w)))
        LOGE(ERROR, "cannot remove the watch on `%s'", w->path);
    watch_slot_put(CTX, w->slotnum);
    free(w->path);
    libxl__ev_xswatch_init(w);
    CTX_UNLOCK;
}

/* The registered watch a token names, or NULL if it is stale. */
static libxl__ev_xswatch *watch_of_token(libxl_ctx *ctx, const char *token)
{
    libxl__ev_xswatch *w;
    unsigned long slotnum, counterval;
    char *end;

    errno = 0;
    slotnum = strtoul(token, &end, 10);
    if (errno || *end != '/' || slotnum >= (unsigned long)ctx->watch_nslots)
        return NULL;
    counterval = strtoul(end + 1, &end, 10);
    if (errno || *end)
        return NULL;

    w = ctx->watch_slots[slotnum].w;
    return w && w->counterval == counterval ? w : NULL;
}

/* Dispatches every watch event libxenstore has queued. */
static void watches_occurred(libxl__egc *egc_fd, libxl__ev_fd *ev, int fd,
                             short events, short revents)
{
    libxl_ctx *ctx = CONTAINER_OF(ev, *ctx, watch_efd);
    libxl__ev_xswatch *w;
    char **event;

    (void)egc_fd;       /* each watch callback gets an egc of its own */
    (void)fd;
    (void)events;
    (void)revents;

    for (;;) {
        event = xs_check_watch(ctx->xsh_watch);
        if (!event) {
            if (errno != EAGAIN)
                libxl__log(ctx, XTL_ERROR, errno, __FILE__, __LINE__,
                           __func__, INVALID_DOMID,
                           "cannot read xenstore watch events");
            return;
        }

        w = watch_of_token(ctx, event[XS_WATCH_TOKEN]);
        if (w) {
            EGC_INIT(ctx);
            w->callback(egc, w, w->path, event[XS_WATCH_PATH]);
            EGC_FREE;
        }
        free(event);
    }
}

/*----- timeouts -----*/

void libxl__ev_time_init(libxl__ev_time *ev)
{
    ev->func = NULL;
    ev->registered = false;
    ev->next = NULL;
    ev->nexus = NULL;
}

bool libxl__ev_time_isregistered(const libxl__ev_time *ev)
{
    return ev->registered;
}

int libxl__ev_time_register_rel(libxl__ao *ao, libxl__ev_time *ev,
                                libxl__ev_time_callback *func,
                                int milliseconds)
{
    libxl__gc *const gc = &ao->gc;
    struct timeval now, rel;
    libxl__ev_time **pp;
    int rc = 0;

    if (milliseconds < 0)
        milliseconds = 0;
    rel.tv_sec = milliseconds / 1000;
    rel.tv_usec = (milliseconds % 1000) * 1000;

    CTX_LOCK;
    assert(!ev->registered);
    gettimeofday(&now, NULL);
    timeradd(&now, &rel, &ev->abs);
    ev->func = func;
    if (CTX->osevent_hooks) rc = hook_timeout_register(gc, ev);
    if (rc) goto out;

    /* After those due at the same time: they fire in order. */
    for (pp = &CTX->timeouts; *pp; pp = &(*pp)->next)
        if (timercmp(&(*pp)->abs, &ev->abs, >))
            break;
    ev->next = *pp;
    *pp = ev;
    ev->registered = true;
    /* A beforepoll loop, maybe in another thread, must shorten its
     * poll. */
    if (CTX->timeouts == ev && !CTX->osevent_hooks)
        poller_wakeup(gc, &CTX->poller_app);

 out:
    CTX_UNLOCK;
    return rc;
}

/* Off the list; the application's registration is not touched. */
static void time_unlink(libxl_ctx *ctx, libxl__ev_time *ev)
{
    libxl__ev_time **pp;

    for (pp = &ctx->timeouts; *pp != ev; pp = &(*pp)->next)
        ;
    *pp = ev->next;
    libxl__ev_time_init(ev);
}

/*
 * The application is asked to fire a timeout it has at once, and its
 * occurrence (libxl_osevent_occurred_timeout) is then ignored: that is
 * when the nexus is free again.
 */
void libxl__ev_time_deregister(libxl__gc *gc, libxl__ev_time *ev)
{
    static const struct timeval asap = { 0, 0 };
    libxl__osevent_hook_nexus *nexus;

    if (!ev->registered)
        return;

    CTX_LOCK;
    nexus = ev->nexus;
    time_unlink(CTX, ev);
    if (nexus) {
        nexus->ev = NULL;
        if (CTX->osevent_hooks->timeout_modify(CTX->osevent_user,
                                               &nexus->for_app_reg, asap))
            LOG(ERROR, "the application's event loop refused to fire a "
                "cancelled timeout at once; it is ignored whenever it "
                "fires");
    }
    CTX_UNLOCK;
}

/* Lowers *timeout (ms, -1: none) to when the first timeout is due. */
static void timeout_lower(libxl_ctx *ctx, int *timeout, struct timeval now)
{
    struct timeval left;
    long long ms;

    if (!ctx->timeouts)
        return;

    if (timercmp(&ctx->timeouts->abs, &now, <=)) {
        ms = 0;
    } else {
        timersub(&ctx->timeouts->abs, &now, &left);
        ms = left.tv_sec * 1000LL + (left.tv_usec + 999) / 1000;
        if (ms > INT_MAX)
            ms = INT_MAX;
    }
    if (*timeout < 0 || ms < *timeout)
        *timeout = ms;
}

static void timeouts_occurred(libxl_ctx *ctx, struct timeval now)
{
    libxl__ev_time_callback *func;
    libxl__ev_time *ev;
    struct timeval abs;

    while (ctx->timeouts && timercmp(&ctx->timeouts->abs, &now, <=)) {
        EGC_INIT(ctx);
        ev = ctx->timeouts;
        func = ev->func;
        abs = ev->abs;
        libxl__ev_time_deregister(&egc->gc, ev);
        func(egc, ev, &abs, ERROR_TIMEDOUT);
        EGC_FREE;
    }
}

/* Handles what a poll on fds[0..nfds) reported, then the timeouts. */
static void events_occurred(libxl_ctx *ctx, int nfds,
                            const struct pollfd *fds, struct timeval now)
{
    libxl__ev_fd *ev;
    int i;

    /* Looked up one by one: a callback may deregister the others. */
    for (i = 0; i < nfds; i++) {
        if (!fds[i].revents)
            continue;
        ev = efd_of_fd(ctx, fds[i].fd);
        if (ev)
            fd_occurred(ctx, ev, fds[i].revents);
    }
    timeouts_occurred(ctx, now);
}

/*----- the application's poll loop -----*/

/* Fills fds[] for every registered watch but skip; returns how many. */
static int pollfds_fill(libxl_ctx *ctx, struct pollfd *fds,
                        const libxl__ev_fd *skip)
{
    libxl__ev_fd *ev;
    int n = 0;

    for (ev = ctx->efds; ev; ev = ev->next) {
        if (ev == skip)
            continue;
        fds[n].fd = ev->fd;
        fds[n].events = ev->events;
        fds[n].revents = 0;
        n++;
    }
    return n;
}

static int efds_count(libxl_ctx *ctx)
{
    libxl__ev_fd *ev;
    int n = 0;

    for (ev = ctx->efds; ev; ev = ev->next)
        n++;
    return n;
}

static bool hooks_refuse_poll(libxl_ctx *ctx, const char *func)
{
    if (!ctx->osevent_hooks)
        return false;
    libxl__log(ctx, XTL_ERROR, -1, __FILE__, __LINE__, func, INVALID_DOMID,
               "this ctx runs its events from the application's own loop "
               "(libxl_osevent_register_hooks): call "
               "libxl_osevent_occurred_fd/_timeout, not %s", func);
    return true;
}

int libxl_osevent_beforepoll(libxl_ctx *ctx, int *nfds_io,
                             struct pollfd *fds, int *timeout_upd,
                             struct timeval now)
{
    int rc, n;

    libxl__ctx_lock(ctx);
    if (hooks_refuse_poll(ctx, __func__)) {
        rc = ERROR_INVAL;
        goto out;
    }
    n = efds_count(ctx);
    if (*nfds_io < n) {
        *nfds_io = n;
        rc = ERROR_BUFFERFULL;
        goto out;
    }
    *nfds_io = pollfds_fill(ctx, fds, NULL);

    timeout_lower(ctx, timeout_upd, now);
    /* A completed operation's callback is due: turn the loop at once. */
    if (ctx->aos_for_callback)
        *timeout_upd = 0;
    rc = 0;

 out:
    libxl__ctx_unlock(ctx);
    return rc;
}

static void ao_destroy(libxl__ao *ao);

/* The callbacks of completed operations, made with the lock released
 * (the caller holds it once). */
static void aos_callbacks_run(libxl_ctx *ctx)
{
    libxl_asyncop_how how;
    libxl__ao *ao;
    int rc;

    for (;;) {
        ao = ctx->aos_for_callback;
        if (!ao)
            break;
        ctx->aos_for_callback = ao->next_for_callback;
        how = ao->how;
        rc = ao->rc;
        ao_destroy(ao);

        libxl__ctx_unlock(ctx);
        how.callback(ctx, rc, how.u.for_callback);
        libxl__ctx_lock(ctx);
    }
}

void libxl_osevent_afterpoll(libxl_ctx *ctx, int nfds,
                             const struct pollfd *fds, struct timeval now)
{
    libxl__ctx_lock(ctx);
    if (!hooks_refuse_poll(ctx, __func__)) {
        events_occurred(ctx, nfds, fds, now);
        aos_callbacks_run(ctx);
    }
    libxl__ctx_unlock(ctx);
}

/*----- the application's own event loop -----*/

void libxl_osevent_register_hooks(libxl_ctx *ctx,
                                  const libxl_osevent_hooks *hooks,
                                  void *user)
{
    GC_INIT(ctx);
    libxl__ev_time *t;
    libxl__ev_fd *ev;

    CTX_LOCK;
    if (CTX->osevent_hooks) {
        LOG(ERROR, "libxl_osevent_register_hooks: hooks are registered "
            "already; it may be called once per ctx");
        goto out;
    }
    CTX->osevent_hooks = hooks;
    CTX->osevent_user = user;
    /* What the ctx watches already (its wakeup pipe, at least). */
    for (ev = CTX->efds; ev; ev = ev->next)
        hook_fd_register(gc, ev);
    for (t = CTX->timeouts; t; t = t->next)
        hook_timeout_register(gc, t);

 out:
    CTX_UNLOCK;
    GC_FREE;
}

void libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd,
                               short events, short revents)
{
    libxl__osevent_hook_nexus *nexus = for_libxl;
    libxl__ev_fd *ev;

    (void)events;       /* what is asked for now is what counts */
    libxl__ctx_lock(ctx);
    ev = nexus->ev;
    if (ev && ev->fd == fd)
        fd_occurred(ctx, ev, revents);
    aos_callbacks_run(ctx);
    libxl__ctx_unlock(ctx);
}

void libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl)
{
    libxl__osevent_hook_nexus *nexus = for_libxl;
    libxl__ev_time_callback *func;
    libxl__ev_time *ev;
    struct timeval abs;

    libxl__ctx_lock(ctx);
    ev = nexus->ev;
    nexus_put(ctx, nexus);
    if (ev) {
        EGC_INIT(ctx);
        func = ev->func;
        abs = ev->abs;
        time_unlink(ctx, ev);
        func(egc, ev, &abs, ERROR_TIMEDOUT);
        EGC_FREE;
    }
    aos_callbacks_run(ctx);
    libxl__ctx_unlock(ctx);
}

/*----- asynchronous operations -----*/

static void ao_destroy(libxl__ao *ao)
{
    poller_dispose(&ao->poller);
    libxl__free_all(&ao->gc);
    free(ao);
}

libxl__ao *libxl__ao_create(libxl_ctx *ctx, uint32_t domid,
                            const libxl_asyncop_how *how,
                            const char *file, int line, const char *func)
{
    libxl__ao *ao;

    if (how && !how->callback) {
        libxl__log(ctx, XTL_ERROR, -1, file, line, func, domid,
                   "ao_how without a callback (event-based completion)"
                   " is not supported");
        return NULL;
    }

    ao = libxl__zalloc(NOGC, sizeof(*ao));
    libxl__gc_init(&ao->gc, ctx);
    ao->domid = domid;
    ao->sync = !how;
    ao->poller.wakeup[0] = ao->poller.wakeup[1] = -1;
    if (how)
        ao->how = *how;
    else if (poller_init(&ao->gc, &ao->poller)) {
        ao_destroy(ao);
        return NULL;
    }

    libxl__ctx_lock(ctx);
    libxl__log(ctx, XTL_DEBUG, -1, file, line, func, domid,
               "ao %p: create: how=%p callback=%p", (void *)ao,
               (const void *)how, how ? (void *)how->callback : NULL);
    return ao;
}

libxl__gc *libxl__ao_inprogress_gc(libxl__ao *ao)
{
    return &ao->gc;
}

uint32_t libxl__ao_domid(const libxl__ao *ao)
{
    return ao->domid;
}

int libxl__ao_create_fail(libxl__ao *ao, int rc)
{
    libxl_ctx *ctx = ao->gc.owner;

    assert(rc && !ao->complete);
    ao_destroy(ao);
    libxl__ctx_unlock(ctx);
    return rc;
}

/* The initiator of a synchronous operation runs the loop until it is done;
 * other threads' loops may complete it, and then wake it. */
static void ao_wait(libxl__ao *ao, const char *file, int line,
                    const char *func)
{
    libxl_ctx *ctx = ao->gc.owner;
    struct pollfd *fds = NULL;
    struct timeval now;
    int nfds, timeout, r;

    while (!ao->complete) {
        /* The app's wakeup pipe is the app's loop's to drain. */
        fds = libxl__realloc(NOGC, fds, (efds_count(ctx) + 1) *
                                        sizeof(*fds));
        nfds = pollfds_fill(ctx, fds, &ctx->poller_app_efd);
        fds[nfds].fd = ao->poller.wakeup[0];
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        timeout = -1;
        gettimeofday(&now, NULL);
        timeout_lower(ctx, &timeout, now);

        libxl__ctx_unlock(ctx);
        r = poll(fds, nfds + 1, timeout);
        libxl__ctx_lock(ctx);
        if (r < 0 && errno != EINTR) {
            /* The operation can neither go on nor be abandoned. */
            libxl__log(ctx, XTL_CRITICAL, errno, file, line, func,
                       ao->domid, "poll failed while waiting for ao %p",
                       (void *)ao);
            abort();
        }

        if (fds[nfds].revents)
            poller_drain(&ao->poller);
        gettimeofday(&now, NULL);
        events_occurred(ctx, nfds, fds, now);
    }
    free(fds);
}

int libxl__ao_inprogress(libxl__ao *ao, const char *file, int line,
                         const char *func)
{
    libxl_ctx *ctx = ao->gc.owner;
    int rc = 0;

    libxl__log(ctx, XTL_DEBUG, -1, file, line, func, ao->domid,
               "ao %p: inprogress: %s", (void *)ao,
               ao->sync ? "waiting" : "callback later");
    if (ao->sync) {
        ao_wait(ao, file, line, func);
        rc = ao->rc;
        ao_destroy(ao);
    }
    libxl__ctx_unlock(ctx);
    return rc;
}

void libxl__ao_complete(libxl__egc *egc, libxl__ao *ao, int rc)
{
    EGC_GC;
    libxl__ao **pp;

    CTX_LOCK;
    assert(!ao->complete);
    LOGD(DEBUG, ao->domid, "ao %p: complete, rc=%d", (void *)ao, rc);
    ao->complete = true;
    ao->rc = rc;

    if (ao->sync) {
        poller_wakeup(gc, &ao->poller);
    } else {
        for (pp = &CTX->aos_for_callback; *pp; pp = &(*pp)->next_for_callback)
            ;
        ao->next_for_callback = NULL;
        *pp = ao;
        poller_wakeup(gc, &CTX->poller_app);
    }
    CTX_UNLOCK;
}

/*----- device state waits -----*/

void libxl__ev_devstate_init(libxl__ev_devstate *ds)
{
    ds->ao = NULL;
    ds->callback = NULL;
    libxl__ev_xswatch_init(&ds->watch);
    libxl__ev_time_init(&ds->timeout);
}

void libxl__ev_devstate_cancel(libxl__gc *gc, libxl__ev_devstate *ds)
{
    libxl__ev_xswatch_deregister(gc, &ds->watch);
    libxl__ev_time_deregister(gc, &ds->timeout);
}

static void devstate_done(libxl__egc *egc, libxl__ev_devstate *ds, int rc)
{
    EGC_GC;

    libxl__ev_devstate_cancel(gc, ds);
    ds->callback(egc, ds, rc);
}

static void devstate_watch_callback(libxl__egc *egc, libxl__ev_xswatch *w,
                                    const char *watch_path,
                                    const char *event_path)
{
    libxl__ev_devstate *ds = CONTAINER_OF(w, *ds, watch);
    EGC_GC;
    const char *value;
    long long state;
    int rc;

    (void)event_path;           /* whatever changed, read the state */
    rc = libxl__xs_read_checked(gc, XBT_NULL, watch_path, &value);
    if (rc) goto out;
    if (!value) {
        LOGD(DEBUG, libxl__ao_domid(ds->ao), "`%s' is gone", watch_path);
        rc = ERROR_NOTFOUND;
        goto out;
    }
    if (libxl__strtoint(value, XenbusStateUnknown, XenbusStateClosed,
                        &state)) {
        LOGD(ERROR, libxl__ao_domid(ds->ao),
             "`%s': \"%s\" is not a xenbus state", watch_path, value);
        rc = ERROR_FAIL;
        goto out;
    }
    if (state < ds->state_min || state > ds->state_max)
        return;                 /* not yet */
    rc = 0;

 out:
    devstate_done(egc, ds, rc);
}

static void devstate_timeout(libxl__egc *egc, libxl__ev_time *ev,
                             const struct timeval *requested_abs, int rc)
{
    libxl__ev_devstate *ds = CONTAINER_OF(ev, *ds, timeout);
    EGC_GC;

    (void)requested_abs;
    LOGD(ERROR, libxl__ao_domid(ds->ao),
         "timed out waiting for `%s' to reach state %d..%d",
         ds->watch.path, ds->state_min, ds->state_max);
    devstate_done(egc, ds, rc);
}

int libxl__ev_devstate_wait(libxl__ao *ao, libxl__ev_devstate *ds,
                            libxl__devstate_callback *cb,
                            const char *state_path,
                            int state_min, int state_max,
                            int milliseconds)
{
    libxl__gc *const gc = &ao->gc;
    int rc;

    ds->ao = ao;
    ds->callback = cb;
    ds->state_min = state_min;
    ds->state_max = state_max;

    rc = libxl__ev_time_register_rel(ao, &ds->timeout, devstate_timeout,
                                     milliseconds);
    if (rc) goto out;
    /* xenstore fires a new watch at once: that is the first check. */
    rc = libxl__ev_xswatch_register(gc, &ds->watch, devstate_watch_callback,
                                    state_path);

 out:
    if (rc) libxl__ev_devstate_cancel(gc, ds);
    return rc;
}

/*----- the ctx's part -----*/

static void poller_app_drain(libxl__egc *egc, libxl__ev_fd *ev, int fd,
                             short events, short revents)
{
    libxl_ctx *ctx = CONTAINER_OF(ev, *ctx, poller_app_efd);

    (void)egc;
    (void)fd;
    (void)events;
    (void)revents;
    poller_drain(&ctx->poller_app);
}

int libxl__ev_ctx_init(libxl_ctx *ctx)
{
    GC_INIT(ctx);
    int rc;

    ctx->watch_slots = NULL;
    ctx->watch_nslots = 0;
    ctx->watch_free = -1;
    ctx->watch_counter = 0;
    ctx->timeouts = NULL;
    ctx->efds = NULL;
    libxl__ev_fd_init(&ctx->watch_efd);
    ctx->osevent_hooks = NULL;
    ctx->osevent_user = NULL;
    ctx->hook_nexi = ctx->hook_nexi_free = NULL;
    ctx->aos_for_callback = NULL;
    libxl__ev_fd_init(&ctx->poller_app_efd);
    rc = poller_init(gc, &ctx->poller_app);
    if (rc) goto out;
    rc = libxl__ev_fd_register(gc, &ctx->poller_app_efd, poller_app_drain,
                               ctx->poller_app.wakeup[0], POLLIN);

 out:
    GC_FREE;
    return rc;
}

/* Completed operations whose callback was never collected go too. */
void libxl__ev_ctx_dispose(libxl_ctx *ctx)
{
    GC_INIT(ctx);
    libxl__osevent_hook_nexus *nexus;
    libxl__ao *ao;

    while ((ao = ctx->aos_for_callback)) {
        ctx->aos_for_callback = ao->next_for_callback;
        ao_destroy(ao);
    }
    free(ctx->watch_slots);
    ctx->watch_slots = NULL;
    libxl__ev_fd_deregister(gc, &ctx->watch_efd);
    libxl__ev_fd_deregister(gc, &ctx->poller_app_efd);
    poller_dispose(&ctx->poller_app);
    while ((nexus = ctx->hook_nexi)) {
        ctx->hook_nexi = nexus->next_all;
        free(nexus);
    }
    GC_FREE;
}
