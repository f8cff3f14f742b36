/*
 * libxl.c - the context, and domain names.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stddef.h>

#include "libxl_ctx.h"

void libxl__ctx_lock(libxl_ctx *ctx)
{
    int r = pthread_mutex_lock(&ctx->lock);

    if (r) abort();
}

void libxl__ctx_unlock(libxl_ctx *ctx)
{
    int r = pthread_mutex_unlock(&ctx->lock);

    if (r) abort();
}

static void xc_logger_vmessage(xentoollog_logger *logger,
                               xentoollog_level level, int errnoval,
                               const char *context, const char *format,
                               va_list al)
    __attribute__((format(printf, 5, 0)));
static void xc_logger_vmessage(xentoollog_logger *logger,
                               xentoollog_level level, int errnoval,
                               const char *context, const char *format,
                               va_list al)
{
    libxl_ctx *ctx = (libxl_ctx *)((char *)logger -
                                   offsetof(libxl_ctx, xc_lg));

    (void)level;
    xtl_logv(ctx->lg, XTL_DEBUG, errnoval, context, format, al);
}

static void xc_logger_destroy(xentoollog_logger *logger)
{
    (void)logger;               /* part of the ctx */
}

static int ctx_lock_init(libxl_ctx *ctx)
{
    pthread_mutexattr_t attr;
    int r;

    r = pthread_mutexattr_init(&attr);
    if (r) return r;
    r = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (!r)
        r = pthread_mutex_init(&ctx->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return r;
}

int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags,
                    xentoollog_logger *lg)
{
    libxl_ctx *ctx = NULL;
    libxl__gc gc[1];
    int rc, r;

    (void)flags;
    *pctx = NULL;
    if (version != LIBXL_VERSION)
        return ERROR_VERSION;

    ctx = libxl__zalloc(NOGC, sizeof(*ctx));
    ctx->lg = lg;
    ctx->xc_lg.vmessage = xc_logger_vmessage;
    ctx->xc_lg.destroy = xc_logger_destroy;
    libxl__gc_init(gc, ctx);

    r = ctx_lock_init(ctx);
    if (r) {
        LOGEV(ERROR, r, "cannot initialise the context lock");
        free(ctx);
        return ERROR_FAIL;
    }

    rc = libxl__ev_ctx_init(ctx);
    if (rc) goto out;

    ctx->xsh = xs_open(0);
    if (!ctx->xsh) {
        LOGE(ERROR, "cannot connect to xenstore");
        rc = ERROR_FAIL;
        goto out;
    }

    ctx->xch = xc_interface_open(&ctx->xc_lg, &ctx->xc_lg, 0);
    if (!ctx->xch) {
        LOGE(ERROR, "cannot open libxc handle (is this a Xen dom0?)");
        rc = ERROR_FAIL;
        goto out;
    }

    *pctx = ctx;
    rc = 0;

 out:
    if (rc) libxl_ctx_free(ctx);
    return rc;
}

int libxl_ctx_free(libxl_ctx *ctx)
{
    if (!ctx)
        return 0;

    libxl__ev_ctx_dispose(ctx);
    if (ctx->xch) xc_interface_close(ctx->xch);
    if (ctx->xsh_watch) xs_close(ctx->xsh_watch);
    if (ctx->xsh) xs_close(ctx->xsh);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
    return 0;
}

int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    GC_INIT(ctx);
    char **doms;
    const char *dname;
    unsigned int i, n;
    long long id;
    int rc;

    doms = libxl__xs_directory(gc, XBT_NULL, "/local/domain", &n);
    if (!doms) {
        LOGE(ERROR, "cannot list /local/domain");
        rc = ERROR_FAIL;
        goto out;
    }

    /* As libxl: a name that no domain has is ERROR_INVAL. */
    rc = ERROR_INVAL;
    for (i = 0; i < n; i++) {
        if (libxl__strtoint(doms[i], 0, DOMID_FIRST_RESERVED - 1, &id))
            continue;
        dname = libxl__xs_read(gc, XBT_NULL,
                               GCSPRINTF("/local/domain/%s/name", doms[i]));
        if (dname && !strcmp(dname, name)) {
            *domid = id;
            rc = 0;
            break;
        }
    }

 out:
    GC_FREE;
    return rc;
}

char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    GC_INIT(ctx);
    char *name;

    name = libxl__strdup(NOGC, libxl__xs_read(gc, XBT_NULL,
                             GCSPRINTF("/local/domain/%u/name", domid)));
    GC_FREE;
    return name;
}
