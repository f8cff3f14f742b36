/*
 * libxl_ctx.h - the context structure, private to the core: the device
 * code reaches the context only through the internal API.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_CTX_H
#define LIBXL_CTX_H

#include <pthread.h>

#include <xenctrl.h>

#include "libxl_internal.h"

/* One registered xenstore watch per slot; free slots form a list. */
typedef struct libxl__ev_watch_slot {
    libxl__ev_xswatch *w;       /* NULL: free */
    int next_free;              /* slot number, or -1 */
} libxl__ev_watch_slot;

/* A pipe that wakes a poll() when an operation completes elsewhere. */
typedef struct libxl__poller {
    int wakeup[2];              /* read end, write end; -1 if not open */
} libxl__poller;

/* An fd or timeout as the application's hooks know it: for_libxl.  It
 * outlives its registration (an occurrence may still come for it), and
 * is reused once libxl knows no more will. */
struct libxl__osevent_hook_nexus {
    void *ev;                   /* libxl__ev_fd or _time; NULL: gone */
    void *for_app_reg;
    libxl__osevent_hook_nexus *next_all, *next_free;
};

struct libxl__ctx {
    xentoollog_logger *lg;
    /* Handed to libxenctrl: forwards to lg at debug level (libxc's own
     * messages; the library logs the failures it reports). */
    xentoollog_logger xc_lg;
    struct xs_handle *xsh;
    /* Watches have a connection of their own, opened at the first: on
     * the one that has a watch, libxenstore hands every reply over from
     * a reader thread, which would cost each request two thread
     * switches. */
    struct xs_handle *xsh_watch;
    xc_interface *xch;

    /* Protects everything below; recursive, held by internal callbacks
     * but never across an application callback. */
    pthread_mutex_t lock;

    libxl__ev_watch_slot *watch_slots;
    int watch_nslots;
    int watch_free;             /* first free slot, or -1 */
    uint32_t watch_counter;

    libxl__ev_time *timeouts;   /* sorted, earliest first */
    libxl__ev_fd *efds;         /* every registered fd watch */
    libxl__ev_fd watch_efd;     /* xenstore's, from the first watch on */

    /* The application's event loop, if it gave hooks. */
    const libxl_osevent_hooks *osevent_hooks;
    void *osevent_user;
    libxl__osevent_hook_nexus *hook_nexi, *hook_nexi_free;

    /* Completed operations whose application callback is still due. */
    libxl__ao *aos_for_callback;
    libxl__poller poller_app;
    libxl__ev_fd poller_app_efd;
};

/* libxl__sprintf's engine, for other variadic helpers. */
_hidden char *libxl__vsprintf(libxl__gc *gc, const char *fmt, va_list ap)
    PRINTF_ATTRIBUTE(2, 0);

#define CTX_LOCK   (libxl__ctx_lock(CTX))
#define CTX_UNLOCK (libxl__ctx_unlock(CTX))
_hidden void libxl__ctx_lock(libxl_ctx *ctx);
_hidden void libxl__ctx_unlock(libxl_ctx *ctx);

/* Event machinery setup and teardown, for libxl_ctx_alloc / _free. */
_hidden int libxl__ev_ctx_init(libxl_ctx *ctx);
_hidden void libxl__ev_ctx_dispose(libxl_ctx *ctx);

#endif /* LIBXL_CTX_H */
