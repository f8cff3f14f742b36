/*
 * libxl_core.h - the public part of the small libxl-style core that the
 * device code plugs into: context, error codes, asynchronous
 * operations and the application's poll loop hooks.  Names, types and
 * signatures are those of libxl's public headers (libxl.h, libxl_event.h,
 * libxl_utils.h), so a caller written for libxl compiles unchanged.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_CORE_H
#define LIBXL_CORE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <xentoollog.h>

#pragma GCC visibility push(default)

typedef struct libxl__ctx libxl_ctx;

typedef uint32_t libxl_domid;
typedef int libxl_devid;        /* -1: not set, choose one */
typedef uint64_t libxl_ev_user;

/* Table behind each enumeration's _to_string/_from_string. */
typedef struct {
    const char *s;
    int v;
} libxl_enum_string_table;

#include "_libxl_pvusb_types.h"

#define LIBXL_VERSION 0

/*
 * Allocates a context.  The context owns a xenstore connection and a
 * libxenctrl handle (what the hypervisor tells: does a domain exist, its
 * type, its uuid); as libxl's, it fails (ERROR_FAIL, logged) where
 * either cannot be opened.  lg must outlive the context.  Returns 0 or an
 * ERROR_*.
 */
int libxl_ctx_alloc(libxl_ctx **pctx, int version,
                    unsigned flags /* none currently defined */,
                    xentoollog_logger *lg);
/* Frees a context; NULL is fine.  No operation may still be in flight. */
int libxl_ctx_free(libxl_ctx *ctx);

/*
 * Asynchronous operations.  Every function taking a
 * const libxl_asyncop_how *ao_how works in one of two ways:
 *  - ao_how == NULL: the operation runs to completion inside the call,
 *    which returns its result;
 *  - ao_how->callback != NULL: the call returns 0 at once (or an error if
 *    the operation could not even start) and callback(ctx, rc,
 *    for_callback) is made later, once the operation has completed, from
 *    the application's event loop: from libxl_osevent_afterpoll, or with
 *    libxl_osevent_register_hooks from libxl_osevent_occurred_fd/_timeout;
 *    never from within the initiating call.
 * Event-based completion (callback == NULL with ao_how != NULL) is not
 * supported and is refused with ERROR_INVAL.
 */
typedef struct {
    void (*callback)(libxl_ctx *ctx, int rc, void *for_callback);
    union {
        libxl_ev_user for_event;    /* not supported here */
        void *for_callback;         /* passed to callback */
    } u;
} libxl_asyncop_how;

/*
 * The application's poll loop, exactly as in libxl_event.h:
 *     nfds = array size; timeout = -1 or what the app wants;
 *     libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
 *     poll(fds, nfds, timeout);
 *     libxl_osevent_afterpoll(ctx, nfds, fds, now);
 * beforepoll fills fds[0..*nfds_io) and may only lower *timeout_upd; if the
 * array is too small it sets *nfds_io to the size needed and returns
 * ERROR_BUFFERFULL.  afterpoll handles what became ready and makes the
 * completion callbacks of finished operations.
 */
int libxl_osevent_beforepoll(libxl_ctx *ctx, int *nfds_io,
                             struct pollfd *fds, int *timeout_upd,
                             struct timeval now);
void libxl_osevent_afterpoll(libxl_ctx *ctx, int nfds,
                             const struct pollfd *fds, struct timeval now);

/*
 * The second way to run libxl's events: from the application's own event
 * loop, as libxl_event.h has it.  The application keeps a register of the
 * fds and timeouts libxl asks for, through these hooks, and calls
 * libxl_osevent_occurred_fd/_timeout when one is ready or due.
 *  - fd_register: watch fd for events (as poll's; 0 is allowed and means
 *    none); *for_app_registration_out is NULL on entry, the application
 *    may store its handle there; for_libxl is passed back on each event.
 *    fd_modify changes the events (and may update the handle);
 *    fd_deregister ends it.  An fd stays registered after its events
 *    (level-triggered, as poll); an event for the old set after a modify
 *    is ignored.
 *  - timeout_register: one-shot, at abs (gettimeofday's clock).  Once the
 *    application calls libxl_osevent_occurred_timeout it is deregistered,
 *    implicitly.  libxl never calls timeout_deregister: to cancel one it
 *    calls timeout_modify with abs = {0,0}, meaning "fire now", and
 *    ignores that occurrence; an occurrence racing with that modify is
 *    ignored too.
 *  - a register or modify hook returns 0, or fails leaving the
 *    registration as it was (ERROR_OSEVENT_REG_FAIL or any positive int);
 *    libxl then fails what needed it with ERROR_OSEVENT_REG_FAIL.
 * The hooks are called with the ctx lock held, from within any libxl
 * function, and must not call into libxl.  _occurred_ must not be called
 * from within libxl (e.g. from a hook).  register_hooks is called once,
 * right after libxl_ctx_alloc; hooks must outlast the ctx.  Once it is
 * called, libxl_osevent_beforepoll/afterpoll are refused (ERROR_INVAL,
 * logged): the ctx has one event loop.  Completion callbacks are made
 * from _occurred_, with the ctx lock released.
 */
typedef struct libxl_osevent_hooks {
    int (*fd_register)(void *user, int fd, void **for_app_registration_out,
                       short events, void *for_libxl);
    int (*fd_modify)(void *user, int fd, void **for_app_registration_update,
                     short events);
    void (*fd_deregister)(void *user, int fd, void *for_app_registration);
    int (*timeout_register)(void *user, void **for_app_registration_out,
                            struct timeval abs, void *for_libxl);
    int (*timeout_modify)(void *user, void **for_app_registration_update,
                          struct timeval abs)
        /* only ever called with abs={0,0}, meaning ASAP */;
    void (*timeout_deregister)(void *user, void *for_app_registration)
        /* will never be called */;
} libxl_osevent_hooks;

void libxl_osevent_register_hooks(libxl_ctx *ctx,
                                  const libxl_osevent_hooks *hooks,
                                  void *user);
void libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd,
                               short events, short revents);
void libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl);

/* Domain names, as in libxl_utils.h.  The returned name is malloc'd. */
int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid);
char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid);

#pragma GCC visibility pop

#endif /* LIBXL_CORE_H */
