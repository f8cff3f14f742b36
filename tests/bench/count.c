/*
 * count.c - count.so, the counters behind count.h: one interposer per
 * libxenstore function that talks to xenstored, and fsync/fdatasync.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <xenstore.h>

#include "count.h"

/* Interposers: exported on purpose, declared by xenstore.h and unistd.h. */

static struct bench_counts dummy, *counts = &dummy;
static pthread_once_t mapped = PTHREAD_ONCE_INIT;

static void map_counts(void)
{
    int saved = errno;
    struct bench_counts *c = bench_counts_map();

    if (c)
        counts = c;
    errno = saved;
}

static struct bench_counts *counted(void)
{
    pthread_once(&mapped, map_counts);
    return counts;
}

static void bump(unsigned long *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* One request (xs[idx]) per call of fn, then libxenstore's fn. */
#define XS_WRAPPER(ret, fn, idx, params, args)                          \
    ret fn params                                                       \
    {                                                                   \
        static __typeof__(fn) *real;                                    \
        if (!real)                                                      \
            real = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn);             \
        bump(&counted()->xs[idx]);                                      \
        return real args;                                               \
    }

XS_WRAPPER(void *, xs_read, XSC_READ,
           (struct xs_handle *h, xs_transaction_t t, const char *path,
            unsigned int *len), (h, t, path, len))
XS_WRAPPER(bool, xs_write, XSC_WRITE,
           (struct xs_handle *h, xs_transaction_t t, const char *path,
            const void *data, unsigned int len), (h, t, path, data, len))
XS_WRAPPER(bool, xs_mkdir, XSC_MKDIR,
           (struct xs_handle *h, xs_transaction_t t, const char *path),
           (h, t, path))
XS_WRAPPER(bool, xs_rm, XSC_RM,
           (struct xs_handle *h, xs_transaction_t t, const char *path),
           (h, t, path))
XS_WRAPPER(struct xs_permissions *, xs_get_permissions, XSC_GET_PERMISSIONS,
           (struct xs_handle *h, xs_transaction_t t, const char *path,
            unsigned int *num), (h, t, path, num))
XS_WRAPPER(bool, xs_set_permissions, XSC_SET_PERMISSIONS,
           (struct xs_handle *h, xs_transaction_t t, const char *path,
            struct xs_permissions *perms, unsigned int num),
           (h, t, path, perms, num))
XS_WRAPPER(bool, xs_watch, XSC_WATCH,
           (struct xs_handle *h, const char *path, const char *token),
           (h, path, token))
XS_WRAPPER(bool, xs_unwatch, XSC_UNWATCH,
           (struct xs_handle *h, const char *path, const char *token),
           (h, path, token))
XS_WRAPPER(xs_transaction_t, xs_transaction_start, XSC_TRANSACTION_START,
           (struct xs_handle *h), (h))
XS_WRAPPER(bool, xs_transaction_end, XSC_TRANSACTION_END,
           (struct xs_handle *h, xs_transaction_t t, bool abort),
           (h, t, abort))
XS_WRAPPER(bool, xs_introduce_domain, XSC_INTRODUCE_DOMAIN,
           (struct xs_handle *h, unsigned int domid, unsigned long mfn,
            unsigned int eventchn), (h, domid, mfn, eventchn))
XS_WRAPPER(bool, xs_release_domain, XSC_RELEASE_DOMAIN,
           (struct xs_handle *h, unsigned int domid), (h, domid))
XS_WRAPPER(bool, xs_resume_domain, XSC_RESUME_DOMAIN,
           (struct xs_handle *h, unsigned int domid), (h, domid))
XS_WRAPPER(bool, xs_set_target, XSC_SET_TARGET,
           (struct xs_handle *h, unsigned int domid, unsigned int target),
           (h, domid, target))
XS_WRAPPER(char *, xs_get_domain_path, XSC_GET_DOMAIN_PATH,
           (struct xs_handle *h, unsigned int domid), (h, domid))
XS_WRAPPER(bool, xs_is_domain_introduced, XSC_IS_DOMAIN_INTRODUCED,
           (struct xs_handle *h, unsigned int domid), (h, domid))

char **xs_directory(struct xs_handle *h, xs_transaction_t t,
                    const char *path, unsigned int *num)
{
    static __typeof__(xs_directory) *real;
    size_t size = 0;
    unsigned int i;
    char **r;

    if (!real)
        real = (__typeof__(xs_directory) *)dlsym(RTLD_NEXT, "xs_directory");
    bump(&counted()->xs[XSC_DIRECTORY]);
    r = real(h, t, path, num);
    for (i = 0; r && i < *num; i++)
        size += strlen(r[i]) + 1;
    if (size > XENSTORE_PAYLOAD_MAX)
        bump(&counted()->big_dirs);
    return r;
}

int fsync(int fd)
{
    static __typeof__(fsync) *real;

    if (!real)
        real = (__typeof__(fsync) *)dlsym(RTLD_NEXT, "fsync");
    bump(&counted()->fsyncs);
    return real(fd);
}

int fdatasync(int fd)
{
    static __typeof__(fdatasync) *real;

    if (!real)
        real = (__typeof__(fdatasync) *)dlsym(RTLD_NEXT, "fdatasync");
    bump(&counted()->fsyncs);
    return real(fd);
}
