/*
 * libxl_internal.h - the core's internal API, in libxl's idioms: per-call
 * arena (gc), logging, xenstore helpers, domain lookup, asynchronous
 * operations (ao) with fd watches, xenstore watches and timeouts, device
 * state waits, a QMP client as a sub-operation, the domain lock and what
 * is kept of each domain outside xenstore.
 *
 * Everything here is hidden (the library is built with
 * -fvisibility=hidden); only the public headers export symbols.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_INTERNAL_H
#define LIBXL_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>
#include <xentoollog.h>

#include "libxl_core.h"

#define _hidden __attribute__((visibility("hidden")))
#define PRINTF_ATTRIBUTE(x, y) __attribute__((format(printf, x, y)))

#define INVALID_DOMID ((uint32_t)~0u)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The struct of type outer whose member `member` is at inner_ptr. */
#define CONTAINER_OF(inner_ptr, outer, member) \
    ((__typeof__(outer) *)(void *)((char *)(inner_ptr) - \
                                   offsetof(__typeof__(outer), member)))

/* Timeouts, in seconds, as libxl's. */
#define LIBXL_INIT_TIMEOUT 10
#define LIBXL_DESTROY_TIMEOUT 10
/* A whole QMP exchange (libxl__ev_qmp_send). */
#define LIBXL_QMP_TIMEOUT 10

/* Xenbus states. */
#define XenbusStateUnknown      0
#define XenbusStateInitialising 1
#define XenbusStateInitWait     2
#define XenbusStateInitialised  3
#define XenbusStateConnected    4
#define XenbusStateClosing      5
#define XenbusStateClosed       6

/*----- per-call arena -----*/

/*
 * Everything allocated from a gc is freed by GC_FREE (or when the ao that
 * owns the gc is destroyed).  Allocation failure aborts, as in libxl.
 * Passing NOGC allocates with malloc; the caller then frees.
 */
typedef struct libxl__gc {
    int alloc_maxsize;
    int alloc_nr;
    void **alloc_ptrs;
    libxl_ctx *owner;
} libxl__gc;

#define NOGC ((libxl__gc *)0)
#define GC_INIT(ctx) libxl__gc gc[1]; libxl__gc_init(gc, (ctx))
#define GC_FREE libxl__free_all(gc)
#define CTX (libxl__gc_owner(gc))

_hidden void libxl__gc_init(libxl__gc *gc, libxl_ctx *ctx);
_hidden void libxl__free_all(libxl__gc *gc);
_hidden libxl_ctx *libxl__gc_owner(libxl__gc *gc);
_hidden void *libxl__zalloc(libxl__gc *gc, size_t size);
_hidden void *libxl__calloc(libxl__gc *gc, size_t nmemb, size_t size);
/* ptr must come from the same gc (or be NULL). */
_hidden void *libxl__realloc(libxl__gc *gc, void *ptr, size_t new_size);
_hidden char *libxl__strdup(libxl__gc *gc, const char *s);   /* NULL->NULL */
_hidden char *libxl__sprintf(libxl__gc *gc, const char *fmt, ...)
    PRINTF_ATTRIBUTE(2, 3);
/* Hands a malloc'd block to the gc, which frees it at GC_FREE. */
_hidden void libxl__ptr_add(libxl__gc *gc, void *ptr);

#define GCNEW(var) ((var) = libxl__zalloc(gc, sizeof(*(var))))
#define GCNEW_ARRAY(var, nmemb) \
    ((var) = libxl__calloc(gc, (nmemb), sizeof(*(var))))
#define GCREALLOC_ARRAY(var, nmemb) \
    ((var) = libxl__realloc(gc, (var), (nmemb) * sizeof(*(var))))
#define GCSPRINTF(fmt, ...) (libxl__sprintf(gc, (fmt), __VA_ARGS__))

/*----- logging -----*/

/*
 * Logs through the ctx's xentoollog logger.  errnoval -1: none.  A domid
 * other than INVALID_DOMID prefixes the message with "Domain <domid>:".
 */
_hidden void libxl__log(libxl_ctx *ctx, xentoollog_level msglevel,
                        int errnoval, const char *file, int line,
                        const char *func, uint32_t domid,
                        const char *fmt, ...) PRINTF_ATTRIBUTE(8, 9);

#define LIBXL__LOG_(l, e, d, f, ...) \
    libxl__log(CTX, XTL_##l, (e), __FILE__, __LINE__, __func__, (d), \
               f, ##__VA_ARGS__)
#define LOG(l, f, ...) \
    LIBXL__LOG_(l, -1, INVALID_DOMID, f, ##__VA_ARGS__)
#define LOGE(l, f, ...) \
    LIBXL__LOG_(l, errno, INVALID_DOMID, f, ##__VA_ARGS__)
#define LOGEV(l, e, f, ...) \
    LIBXL__LOG_(l, (e), INVALID_DOMID, f, ##__VA_ARGS__)
#define LOGD(l, d, f, ...)      LIBXL__LOG_(l, -1, (d), f, ##__VA_ARGS__)
#define LOGED(l, d, f, ...)     LIBXL__LOG_(l, errno, (d), f, ##__VA_ARGS__)
#define LOGEVD(l, e, d, f, ...) LIBXL__LOG_(l, (e), (d), f, ##__VA_ARGS__)

/*----- strict integer parsing (no atoi) -----*/

/*
 * Parses all of s as a decimal integer in [min, max]: no sign unless min
 * is negative, no leading '+', spaces, leading zeros ("007") or trailing
 * characters.  Returns 0, or ERROR_INVAL (not logged: callers know what
 * the string was and say so).
 */
_hidden int libxl__strtoint(const char *s, long long min, long long max,
                            long long *val_r);

/*----- xenstore helpers -----*/

/*
 * All take a transaction t (XBT_NULL for none).  The *_checked helpers
 * log failures and return ERROR_FAIL; callers only propagate.
 */

/* Value at path, or NULL (errno set; ENOENT if absent). Not logged. */
_hidden char *libxl__xs_read(libxl__gc *gc, xs_transaction_t t,
                             const char *path);
/* *result_out = value, or NULL if absent (rc 0). */
_hidden int libxl__xs_read_checked(libxl__gc *gc, xs_transaction_t t,
                                   const char *path, const char **result_out);
/* Absent is an error too: logged, ERROR_NOTFOUND. */
_hidden int libxl__xs_read_mandatory(libxl__gc *gc, xs_transaction_t t,
                                     const char *path,
                                     const char **result_out);
/* Reads an integer in [min, max] strictly; absent -> ERROR_NOTFOUND,
 * malformed -> ERROR_INVAL; both logged with the path and the value. */
_hidden int libxl__xs_read_int(libxl__gc *gc, xs_transaction_t t,
                               const char *path, long long min,
                               long long max, long long *val_r);
_hidden int libxl__xs_write_checked(libxl__gc *gc, xs_transaction_t t,
                                    const char *path, const char *string);
_hidden int libxl__xs_printf(libxl__gc *gc, xs_transaction_t t,
                             const char *path, const char *fmt, ...)
    PRINTF_ATTRIBUTE(4, 5);
/* Removing what is absent is success. */
_hidden int libxl__xs_rm_checked(libxl__gc *gc, xs_transaction_t t,
                                 const char *path);
/* Entries of a directory, or NULL (errno; ENOENT if absent); *num set. */
_hidden char **libxl__xs_directory(libxl__gc *gc, xs_transaction_t t,
                                   const char *path, unsigned int *num);
/* Creates path (empty value) with exactly these permissions. */
_hidden int libxl__xs_mknod(libxl__gc *gc, xs_transaction_t t,
                            const char *path,
                            struct xs_permissions *perms,
                            unsigned int num_perms);
/*
 * The libxl device convention: path is owned by domain `owner` (others
 * get no access) and readable by domain `reader`.  Backend dirs: owner =
 * backend domain, reader = frontend domain; frontend dirs the reverse.
 */
_hidden int libxl__xs_mkdir_device(libxl__gc *gc, xs_transaction_t t,
                                   const char *path, uint32_t owner,
                                   uint32_t reader);
/* Writes each key/value pair of kvs (NULL-terminated) below dir. */
_hidden int libxl__xs_writev(libxl__gc *gc, xs_transaction_t t,
                             const char *dir, const char *const *kvs);

/*
 * Transactions, used as:
 *     for (;;) {
 *         rc = libxl__xs_transaction_start(gc, &t);
 *         if (rc) goto out;
 *         ... reads and writes with t; on error goto out ...
 *         rc = libxl__xs_transaction_commit(gc, &t);
 *         if (!rc) break;
 *         if (rc < 0) goto out;
 *     }
 *   out:
 *     libxl__xs_transaction_abort(gc, &t);
 * commit returns 0 (committed), +1 (conflict: start again) or ERROR_FAIL;
 * it always leaves t == XBT_NULL.  abort is a no-op on XBT_NULL.
 */
_hidden int libxl__xs_transaction_start(libxl__gc *gc, xs_transaction_t *t);
_hidden int libxl__xs_transaction_commit(libxl__gc *gc, xs_transaction_t *t);
_hidden void libxl__xs_transaction_abort(libxl__gc *gc, xs_transaction_t *t);

/* "/local/domain/<domid>" */
_hidden char *libxl__xs_get_dompath(libxl__gc *gc, uint32_t domid);

/*----- domains -----*/

/* 0 if the domain exists, else ERROR_DOMAIN_NOTFOUND (logged). */
_hidden int libxl__domain_check_exists(libxl__gc *gc, uint32_t domid);
/* Type from libxenctrl (PVH: as libxl recorded in /libxl/<domid>/type). */
_hidden int libxl__domain_type(libxl__gc *gc, uint32_t domid,
                               libxl_domain_type *type_r);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", validated; ERROR_DOMAIN_NOTFOUND,
 * not logged (a caller may expect a domain to be gone), if there is no
 * such domain. */
_hidden int libxl__domain_uuid_string(libxl__gc *gc, uint32_t domid,
                                      const char **uuid_r);
/* Has the domain shut down (on its way to being destroyed, rebooted, or
 * kept stopped)?  ERROR_DOMAIN_NOTFOUND (logged) if there is none. */
_hidden int libxl__domain_is_shut_down(libxl__gc *gc, uint32_t domid,
                                       bool *shut_down_r);
/* A domain name or number -> domid; ERROR_DOMAIN_NOTFOUND if none. */
_hidden int libxl__resolve_domid(libxl__gc *gc, const char *name,
                                 uint32_t *domid_r);

/*----- event machinery -----*/

/*
 * An event-callback context: handed to every internal callback, with an
 * arena freed after the callback returns.  EGC_GC declares gc from it.
 */
typedef struct libxl__egc {
    libxl__gc gc;
} libxl__egc;
#define EGC_GC libxl__gc *const gc = &egc->gc
/* An egc for a function that is not itself a callback (e.g. an initiating
 * function completing its ao at once). */
#define EGC_INIT(ctx) libxl__egc egc[1]; libxl__gc_init(&egc->gc, (ctx))
#define EGC_FREE libxl__free_all(&egc->gc)

typedef struct libxl__ao libxl__ao;

/* xenstore watch.  The callback runs from the event loop. */
typedef struct libxl__ev_xswatch libxl__ev_xswatch;
typedef void libxl__ev_xswatch_callback(libxl__egc *egc,
                                        libxl__ev_xswatch *w,
                                        const char *watch_path,
                                        const char *event_path);
struct libxl__ev_xswatch {
    /* caller may read */
    char *path;
    libxl__ev_xswatch_callback *callback;
    /* private to the core */
    int slotnum;
    uint32_t counterval;
};
_hidden void libxl__ev_xswatch_init(libxl__ev_xswatch *w);
_hidden int libxl__ev_xswatch_register(libxl__gc *gc, libxl__ev_xswatch *w,
                                       libxl__ev_xswatch_callback *cb,
                                       const char *path);
/* Idempotent; fine on an initialised, unregistered watch. */
_hidden void libxl__ev_xswatch_deregister(libxl__gc *gc,
                                          libxl__ev_xswatch *w);
_hidden bool libxl__ev_xswatch_isregistered(const libxl__ev_xswatch *w);

/* What an fd or timeout registered with the application's hooks is to
 * it (for_libxl); see libxl_osevent_register_hooks. */
typedef struct libxl__osevent_hook_nexus libxl__osevent_hook_nexus;

/*
 * fd watch: func is called from the event loop whenever fd is ready for
 * some of events (or has POLLERR/POLLHUP/POLLNVAL), until deregistered;
 * it may modify or deregister the watch.  The fd stays the caller's.
 */
typedef struct libxl__ev_fd libxl__ev_fd;
typedef void libxl__ev_fd_callback(libxl__egc *egc, libxl__ev_fd *ev,
                                   int fd, short events, short revents);
struct libxl__ev_fd {
    /* caller may read, while registered */
    int fd;
    short events;
    libxl__ev_fd_callback *func;
    /* private to the core */
    bool registered;
    libxl__ev_fd *next;
    libxl__osevent_hook_nexus *nexus;
};
_hidden void libxl__ev_fd_init(libxl__ev_fd *ev);
_hidden int libxl__ev_fd_register(libxl__gc *gc, libxl__ev_fd *ev,
                                  libxl__ev_fd_callback *func, int fd,
                                  short events);
_hidden int libxl__ev_fd_modify(libxl__gc *gc, libxl__ev_fd *ev,
                                short events);
/* Idempotent; fine on an initialised, unregistered watch. */
_hidden void libxl__ev_fd_deregister(libxl__gc *gc, libxl__ev_fd *ev);
_hidden bool libxl__ev_fd_isregistered(const libxl__ev_fd *ev);

/* One-shot timeout. */
typedef struct libxl__ev_time libxl__ev_time;
typedef void libxl__ev_time_callback(libxl__egc *egc, libxl__ev_time *ev,
                                     const struct timeval *requested_abs,
                                     int rc /* ERROR_TIMEDOUT */);
struct libxl__ev_time {
    libxl__ev_time_callback *func;
    /* private to the core */
    struct timeval abs;
    bool registered;
    libxl__ev_time *next;
    libxl__osevent_hook_nexus *nexus;
};
_hidden void libxl__ev_time_init(libxl__ev_time *ev);
_hidden int libxl__ev_time_register_rel(libxl__ao *ao, libxl__ev_time *ev,
                                        libxl__ev_time_callback *func,
                                        int milliseconds);
_hidden void libxl__ev_time_deregister(libxl__gc *gc, libxl__ev_time *ev);
_hidden bool libxl__ev_time_isregistered(const libxl__ev_time *ev);

/*
 * Asynchronous operations.  A public function taking ao_how is written:
 *
 *     int libxl_foo(libxl_ctx *ctx, uint32_t domid, ...,
 *                   const libxl_asyncop_how *ao_how)
 *     {
 *         AO_CREATE(ctx, domid, ao_how);    // declares ao and gc
 *         ...
 *         rc = start_the_work(...);          // callbacks later call
 *         if (rc) return AO_CREATE_FAIL(rc); // libxl__ao_complete
 *         return AO_INPROGRESS;
 *     }
 *
 * gc is the ao's arena: it lives until the ao is destroyed, so state
 * structs for the operation's callbacks are allocated from it.  The work
 * must eventually call libxl__ao_complete exactly once (possibly before
 * AO_INPROGRESS).  With ao_how == NULL, AO_INPROGRESS runs the event loop
 * until then and returns the result; with a callback it returns 0 and the
 * application's callback is made from libxl_osevent_afterpoll (never from
 * within the initiating call).  AO_CREATE_FAIL is for errors before any
 * callback was set up: it destroys the ao and returns rc.
 */
_hidden libxl__ao *libxl__ao_create(libxl_ctx *ctx, uint32_t domid,
                                    const libxl_asyncop_how *how,
                                    const char *file, int line,
                                    const char *func);
_hidden int libxl__ao_inprogress(libxl__ao *ao, const char *file,
                                 int line, const char *func);
_hidden int libxl__ao_create_fail(libxl__ao *ao, int rc);
_hidden libxl__gc *libxl__ao_inprogress_gc(libxl__ao *ao);
_hidden void libxl__ao_complete(libxl__egc *egc, libxl__ao *ao, int rc);
/* The domid given to AO_CREATE. */
_hidden uint32_t libxl__ao_domid(const libxl__ao *ao);

#define AO_CREATE(ctx, domid, ao_how)                                   \
    libxl__ao *const ao = libxl__ao_create((ctx), (domid), (ao_how),   \
                                           __FILE__, __LINE__, __func__); \
    if (!ao) return ERROR_INVAL;                                        \
    libxl__gc *const gc = libxl__ao_inprogress_gc(ao)
#define AO_INPROGRESS libxl__ao_inprogress(ao, __FILE__, __LINE__, __func__)
#define AO_CREATE_FAIL(rc) libxl__ao_create_fail(ao, (rc))
/* In a callback: declare ao and gc from an operation state. */
#define STATE_AO_GC(op_ao) \
    libxl__ao *const ao = (op_ao); \
    libxl__gc *const gc = libxl__ao_inprogress_gc(ao)

/*
 * Waiting for a device's backend: fires callback once the xenbus state at
 * state_path is within [state_min, state_max] (rc 0), or the node is gone
 * (ERROR_NOTFOUND), or the timeout passes (ERROR_TIMEDOUT), or a state
 * that is not a number 0..6 is read (ERROR_FAIL).  It checks at once, so
 * a state already reached fires on the next turn of the loop.  After the
 * callback the wait is no longer registered.
 */
typedef struct libxl__ev_devstate libxl__ev_devstate;
typedef void libxl__devstate_callback(libxl__egc *egc,
                                      libxl__ev_devstate *ds, int rc);
struct libxl__ev_devstate {
    /* private to the core */
    libxl__ao *ao;
    libxl__devstate_callback *callback;
    int state_min, state_max;
    libxl__ev_xswatch watch;
    libxl__ev_time timeout;
};
_hidden void libxl__ev_devstate_init(libxl__ev_devstate *ds);
_hidden int libxl__ev_devstate_wait(libxl__ao *ao, libxl__ev_devstate *ds,
                                    libxl__devstate_callback *cb,
                                    const char *state_path,
                                    int state_min, int state_max,
                                    int milliseconds);
_hidden void libxl__ev_devstate_cancel(libxl__gc *gc,
                                       libxl__ev_devstate *ds);

/*----- the domain lock -----*/

/*
 * Every operation that changes a domain's devices holds that domain's
 * lock, <state dir>/<domid>.lock (flock), from before it reads what it
 * will change until it is done: of the library's callers, one at a time
 * changes a domain.  Keyed by domid, so a domain that died can still be
 * cleaned up.  The file is removed by the holder as it lets go.
 *
 * Acquiring never blocks the caller: the lock is tried, and tried again
 * every few milliseconds from the event loop (up to two minutes, then
 * ERROR_LOCK_FAIL), so that several operations of one process can wait
 * for each other.  callback is always called, perhaps before
 * libxl__domain_lock_acquire returns; with rc 0 the lock is held until
 * libxl__domain_lock_release (idempotent, fine on an unheld lock).
 */
typedef struct libxl__domain_lock libxl__domain_lock;
typedef void libxl__domain_lock_callback(libxl__egc *egc,
                                         libxl__domain_lock *dl, int rc);
struct libxl__domain_lock {
    /* filled in by the caller */
    libxl__ao *ao;
    uint32_t domid;
    libxl__domain_lock_callback *callback;
    /* private */
    int fd;
    char *path;
    int waited_ms;
    libxl__ev_time retry;
};
_hidden void libxl__domain_lock_init(libxl__domain_lock *dl);
_hidden void libxl__domain_lock_acquire(libxl__egc *egc,
                                        libxl__domain_lock *dl);
/* One try: 0 (held), ERROR_NOT_READY (someone else holds it), or an
 * error.  Only dl->domid need be filled in. */
_hidden int libxl__domain_lock_try(libxl__gc *gc, libxl__domain_lock *dl);
_hidden void libxl__domain_lock_release(libxl__gc *gc,
                                        libxl__domain_lock *dl);

/*----- userdata: what is kept of a domain outside xenstore -----*/

/*
 * A device's record of a domain (its userid: a file name suffix, such as
 * "json") lives in a state directory, $LIBXL_PVUSB_STATE_DIR or
 * /var/lib/xen/pvusb, as <uuid>.<userid>: named by the domain's uuid
 * (libxl__domain_uuid_string's, which the caller looks up once per
 * operation), written under the domain lock, atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash leaves either the
 * old or the new file.
 */
/* The state directory's name (not created): $LIBXL_PVUSB_STATE_DIR if
 * set and not empty, else LIBXL_PVUSB_STATE_DIR (libxl_osdeps.h). */
_hidden const char *libxl__state_dir_name(void);
/* The text stored (from gc), or *data_r NULL if none is. */
_hidden int libxl__userdata_retrieve(libxl__gc *gc, const char *uuid,
                                     const char *userid, char **data_r);
_hidden int libxl__userdata_store(libxl__gc *gc, const char *uuid,
                                  const char *userid, const char *data);
/* Removes the domain's file; absent is success. */
_hidden int libxl__userdata_destroy(libxl__gc *gc, const char *uuid,
                                    const char *userid);

/*----- QMP: the device model of an HVM guest -----*/

/*
 * One QMP command to the QEMU of domid, at
 * LIBXL_QMP_SOCKET_DIR/qmp-libxl-<domid> as libxl starts it, as a
 * sub-operation: connect, greeting, qmp_capabilities, cmd, reply, close,
 * each step from the event loop, the whole bounded by LIBXL_QMP_TIMEOUT
 * (ERROR_TIMEDOUT).  args is NULL or a NULL-terminated list of key, value
 * pairs, sent as the command's arguments, every value a string (as libxl
 * sends them).  callback gets 0 for {"return": ...}, or for
 * {"error": ...} its class as ERROR_QMP_GENERIC_ERROR,
 * _COMMAND_NOT_FOUND, _DEVICE_NOT_ACTIVE, _DEVICE_NOT_FOUND or
 * ERROR_UNKNOWN_QMP_ERROR (logged with QEMU's description),
 * ERROR_PROTOCOL_ERROR_QMP for anything QEMU would not send.  Not logged
 * as errors, as callers decide what they mean: ERROR_QMP_DEVICE_NOT_FOUND,
 * and ERROR_NOTFOUND when no QEMU listens (the socket is absent or
 * refuses).
 */
typedef struct libxl__ev_qmp libxl__ev_qmp;
typedef void libxl__ev_qmp_callback(libxl__egc *egc, libxl__ev_qmp *ev,
                                    int rc);
struct libxl__ev_qmp {
    /* filled in by the caller */
    libxl__ao *ao;
    uint32_t domid;
    libxl__ev_qmp_callback *callback;
    /* private */
    const char *path;
    const char *cmd;
    const char *const *args;
    int state;
    int fd;
    libxl__ev_fd efd;
    libxl__ev_time timeout;
    char *tx;                   /* to send, from tx_done on */
    size_t tx_len, tx_done;
    char *rx;                   /* received, not yet a whole line */
    size_t rx_len;
};
_hidden void libxl__ev_qmp_init(libxl__ev_qmp *ev);
/* Always ends by calling ev->callback, exactly once, possibly before
 * returning; ev is then as after libxl__ev_qmp_init. */
_hidden void libxl__ev_qmp_send(libxl__egc *egc, libxl__ev_qmp *ev,
                                const char *cmd, const char *const *args);

/*----- JSON support used by the generated code -----*/

#include "_libxl_pvusb_types_internal.h"

#endif /* LIBXL_INTERNAL_H */
