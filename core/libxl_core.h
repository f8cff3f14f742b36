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
 *    for_callback) is made later, from libxl_osevent_afterpoll, once the
 *    operation has completed.  The application must then run its poll
 *    loop with libxl_osevent_beforepoll/afterpoll.
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

/* Domain names, as in libxl_utils.h.  The returned name is malloc'd. */
int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid);
char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid);

#pragma GCC visibility pop

#endif /* LIBXL_CORE_H */
