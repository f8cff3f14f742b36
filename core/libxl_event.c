/*
 * libxl_event.c - the event machinery: xenstore watches multiplexed on the
 * ctx's one xenstore connection, timeouts, the application's poll hooks,
 * asynchronous operations (ao) and device state waits.
 *
 * Internal callbacks run with the ctx lock held, each with its own egc;
 * application callbacks run with it released, only from
 * libxl_osevent_afterpoll.
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

/*----- xenstore watches -----*/

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

int libxl__ev_xswatch_register(libxl__gc *gc, libxl__ev_xswatch *w,
                               libxl__ev_xswatch_callback *cb,
                               const char *path)
{
    int rc;

    CTX_LOCK;
    assert(!libxl__ev_xswatch_isregistered(w));

    w->slotnum = watch_slot_get(CTX);
    w->counterval = CTX->watch_counter++;
    if (!xs_watch(CTX->xsh, path, watch_token(gc, w))) {
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
    if (!xs_unwatch(CTX->xsh, w->path, watch_token(gc, w)))
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
static void watches_occurred(libxl_ctx *ctx)
{
    libxl__ev_xswatch *w;
    char **event;

    for (;;) {
        event = xs_check_watch(ctx->xsh);
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

    if (milliseconds < 0)
        milliseconds = 0;
    rel.tv_sec = milliseconds / 1000;
    rel.tv_usec = (milliseconds % 1000) * 1000;

    CTX_LOCK;
    assert(!ev->registered);
    gettimeofday(&now, NULL);
    timeradd(&now, &rel, &ev->abs);
    ev->func = func;

    /* After those due at the same time: they fire in order. */
    for (pp = &CTX->timeouts; *pp; pp = &(*pp)->next)
        if (timercmp(&(*pp)->abs, &ev->abs, >))
            break;
    ev->next = *pp;
    *pp = ev;
    ev->registered = true;
    /* The app's loop, maybe in another thread, must shorten its poll. */
    if (CTX->timeouts == ev)
        poller_wakeup(gc, &CTX->poller_app);
    CTX_UNLOCK;
    return 0;
}

void libxl__ev_time_deregister(libxl__gc *gc, libxl__ev_time *ev)
{
    libxl__ev_time **pp;

    if (!ev->registered)
        return;

    CTX_LOCK;
    for (pp = &CTX->timeouts; *pp != ev; pp = &(*pp)->next)
        ;
    *pp = ev->next;
    libxl__ev_time_init(ev);
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

/* Handles what the poll reported (xs_ready: the xenstore fd). */
static void events_occurred(libxl_ctx *ctx, bool xs_ready,
                            struct timeval now)
{
    if (xs_ready)
        watches_occurred(ctx);
    timeouts_occurred(ctx, now);
}

/*----- the application's poll loop -----*/

enum { POLLFD_XS, POLLFD_WAKEUP, POLLFD_NR };

/* Fills fds[POLLFD_NR] for the xenstore fd and the wakeup pipe p. */
static void pollfds_fill(libxl_ctx *ctx, struct pollfd *fds,
                         const libxl__poller *p)
{
    fds[POLLFD_XS].fd = xs_fileno(ctx->xsh);
    fds[POLLFD_XS].events = POLLIN;
    fds[POLLFD_XS].revents = 0;
    fds[POLLFD_WAKEUP].fd = p->wakeup[0];
    fds[POLLFD_WAKEUP].events = POLLIN;
    fds[POLLFD_WAKEUP].revents = 0;
}

int libxl_osevent_beforepoll(libxl_ctx *ctx, int *nfds_io,
                             struct pollfd *fds, int *timeout_upd,
                             struct timeval now)
{
    int rc;

    libxl__ctx_lock(ctx);
    if (*nfds_io < POLLFD_NR) {
        *nfds_io = POLLFD_NR;
        rc = ERROR_BUFFERFULL;
        goto out;
    }
    pollfds_fill(ctx, fds, &ctx->poller_app);
    *nfds_io = POLLFD_NR;

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

void libxl_osevent_afterpoll(libxl_ctx *ctx, int nfds,
                             const struct pollfd *fds, struct timeval now)
{
    int xs_fd = xs_fileno(ctx->xsh);
    bool xs_ready = false;
    libxl_asyncop_how how;
    libxl__ao *ao;
    int i, rc;

    libxl__ctx_lock(ctx);
    for (i = 0; i < nfds; i++) {
        if (!fds[i].revents)
            continue;
        if (fds[i].fd == xs_fd)
            xs_ready = true;
        else if (fds[i].fd == ctx->poller_app.wakeup[0])
            poller_drain(&ctx->poller_app);
    }
    events_occurred(ctx, xs_ready, now);

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
    struct pollfd fds[POLLFD_NR];
    struct timeval now;
    int timeout, r;

    while (!ao->complete) {
        pollfds_fill(ctx, fds, &ao->poller);
        timeout = -1;
        gettimeofday(&now, NULL);
        timeout_lower(ctx, &timeout, now);

        libxl__ctx_unlock(ctx);
        r = poll(fds, POLLFD_NR, timeout);
        libxl__ctx_lock(ctx);
        if (r < 0 && errno != EINTR) {
            /* The operation can neither go on nor be abandoned. */
            libxl__log(ctx, XTL_CRITICAL, errno, file, line, func,
                       ao->domid, "poll failed while waiting for ao %p",
                       (void *)ao);
            abort();
        }

        if (fds[POLLFD_WAKEUP].revents)
            poller_drain(&ao->poller);
        gettimeofday(&now, NULL);
        events_occurred(ctx, fds[POLLFD_XS].revents, now);
    }
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

int libxl__ev_ctx_init(libxl_ctx *ctx)
{
    GC_INIT(ctx);
    int rc;

    ctx->watch_slots = NULL;
    ctx->watch_nslots = 0;
    ctx->watch_free = -1;
    ctx->watch_counter = 0;
    ctx->timeouts = NULL;
    ctx->aos_for_callback = NULL;
    rc = poller_init(gc, &ctx->poller_app);
    GC_FREE;
    return rc;
}

/* Completed operations whose callback was never collected go too. */
void libxl__ev_ctx_dispose(libxl_ctx *ctx)
{
    libxl__ao *ao;

    while ((ao = ctx->aos_for_callback)) {
        ctx->aos_for_callback = ao->next_for_callback;
        ao_destroy(ao);
    }
    free(ctx->watch_slots);
    ctx->watch_slots = NULL;
    poller_dispose(&ctx->poller_app);
}
