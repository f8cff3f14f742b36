/*
 * xscount.c - the request counters behind xscount.h: one __wrap_ per
 * libxenstore function that talks to xenstored.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <xenstore.h>

#include "xscount.h"

static const char *const names[XSC_NUM] = {
    [XSC_DIRECTORY] = "directory",
    [XSC_READ] = "read",
    [XSC_WRITE] = "write",
    [XSC_MKDIR] = "mkdir",
    [XSC_RM] = "rm",
    [XSC_GET_PERMISSIONS] = "get_permissions",
    [XSC_SET_PERMISSIONS] = "set_permissions",
    [XSC_WATCH] = "watch",
    [XSC_UNWATCH] = "unwatch",
    [XSC_TRANSACTION_START] = "transaction_start",
    [XSC_TRANSACTION_END] = "transaction_end",
    [XSC_INTRODUCE_DOMAIN] = "introduce_domain",
    [XSC_RELEASE_DOMAIN] = "release_domain",
    [XSC_GET_DOMAIN_PATH] = "get_domain_path",
    [XSC_IS_DOMAIN_INTRODUCED] = "is_domain_introduced",
};

/* Relaxed atomics: a library thread may talk to xenstored too. */
static unsigned long counts[XSC_NUM];

#define COUNT(fn) __atomic_fetch_add(&counts[fn], 1, __ATOMIC_RELAXED)

const char *xsc_name(enum xsc_fn fn)
{
    return names[fn];
}

void xsc_reset(void)
{
    int i;

    for (i = 0; i < XSC_NUM; i++)
        __atomic_store_n(&counts[i], 0, __ATOMIC_RELAXED);
}

void xsc_get(struct xsc_counts *c)
{
    int i;

    for (i = 0; i < XSC_NUM; i++)
        c->n[i] = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
}

unsigned long xsc_total(const struct xsc_counts *c)
{
    unsigned long total = 0;
    int i;

    for (i = 0; i < XSC_NUM; i++)
        total += c->n[i];
    return total;
}

/*
 * The wrappers.  The linker resolves __real_<f> to libxenstore's <f> and
 * every call to <f> to __wrap_<f>; nobody else calls them by these names,
 * so their only declarations are here.
 */
#pragma GCC diagnostic ignored "-Wmissing-declarations"

char **__real_xs_directory(struct xs_handle *h, xs_transaction_t t,
                           const char *path, unsigned int *num);
char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t,
                           const char *path, unsigned int *num)
{
    COUNT(XSC_DIRECTORY);
    return __real_xs_directory(h, t, path, num);
}

void *__real_xs_read(struct xs_handle *h, xs_transaction_t t,
                     const char *path, unsigned int *len);
void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t,
                     const char *path, unsigned int *len)
{
    COUNT(XSC_READ);
    return __real_xs_read(h, t, path, len);
}

bool __real_xs_write(struct xs_handle *h, xs_transaction_t t,
                     const char *path, const void *data, unsigned int len);
bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t,
                     const char *path, const void *data, unsigned int len)
{
    COUNT(XSC_WRITE);
    return __real_xs_write(h, t, path, data, len);
}

bool __real_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
                     const char *path);
bool __wrap_xs_mkdir(struct xs_handle *h, xs_transaction_t t,
                     const char *path)
{
    COUNT(XSC_MKDIR);
    return __real_xs_mkdir(h, t, path);
}

bool __real_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);
bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    COUNT(XSC_RM);
    return __real_xs_rm(h, t, path);
}

struct xs_permissions *__real_xs_get_permissions(struct xs_handle *h,
                                                 xs_transaction_t t,
                                                 const char *path,
                                                 unsigned int *num);
struct xs_permissions *__wrap_xs_get_permissions(struct xs_handle *h,
                                                 xs_transaction_t t,
                                                 const char *path,
                                                 unsigned int *num)
{
    COUNT(XSC_GET_PERMISSIONS);
    return __real_xs_get_permissions(h, t, path, num);
}

bool __real_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                               const char *path,
                               struct xs_permissions *perms,
                               unsigned int num_perms);
bool __wrap_xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                               const char *path,
                               struct xs_permissions *perms,
                               unsigned int num_perms)
{
    COUNT(XSC_SET_PERMISSIONS);
    return __real_xs_set_permissions(h, t, path, perms, num_perms);
}

bool __real_xs_watch(struct xs_handle *h, const char *path,
                     const char *token);
bool __wrap_xs_watch(struct xs_handle *h, const char *path,
                     const char *token)
{
    COUNT(XSC_WATCH);
    return __real_xs_watch(h, path, token);
}

bool __real_xs_unwatch(struct xs_handle *h, const char *path,
                       const char *token);
bool __wrap_xs_unwatch(struct xs_handle *h, const char *path,
                       const char *token)
{
    COUNT(XSC_UNWATCH);
    return __real_xs_unwatch(h, path, token);
}

xs_transaction_t __real_xs_transaction_start(struct xs_handle *h);
xs_transaction_t __wrap_xs_transaction_start(struct xs_handle *h)
{
    COUNT(XSC_TRANSACTION_START);
    return __real_xs_transaction_start(h);
}

bool __real_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
                               bool abort);
bool __wrap_xs_transaction_end(struct xs_handle *h, xs_transaction_t t,
                               bool abort)
{
    COUNT(XSC_TRANSACTION_END);
    return __real_xs_transaction_end(h, t, abort);
}

bool __real_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
                                unsigned long mfn, unsigned int eventchn);
bool __wrap_xs_introduce_domain(struct xs_handle *h, unsigned int domid,
                                unsigned long mfn, unsigned int eventchn)
{
    COUNT(XSC_INTRODUCE_DOMAIN);
    return __real_xs_introduce_domain(h, domid, mfn, eventchn);
}

bool __real_xs_release_domain(struct xs_handle *h, unsigned int domid);
bool __wrap_xs_release_domain(struct xs_handle *h, unsigned int domid)
{
    COUNT(XSC_RELEASE_DOMAIN);
    return __real_xs_release_domain(h, domid);
}

char *__real_xs_get_domain_path(struct xs_handle *h, unsigned int domid);
char *__wrap_xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
    COUNT(XSC_GET_DOMAIN_PATH);
    return __real_xs_get_domain_path(h, domid);
}

bool __real_xs_is_domain_introduced(struct xs_handle *h,
                                    unsigned int domid);
bool __wrap_xs_is_domain_introduced(struct xs_handle *h,
                                    unsigned int domid)
{
    COUNT(XSC_IS_DOMAIN_INTRODUCED);
    return __real_xs_is_domain_introduced(h, domid);
}
