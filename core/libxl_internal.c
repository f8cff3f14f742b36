/*
 * libxl_internal.c - per-call arenas (gc), logging and strict integer
 * parsing.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <inttypes.h>

#include "libxl_ctx.h"

/*----- per-call arena -----*/

#define GC_INITIAL_PTRS 25

/* Out of memory: nothing sensible can follow, as in libxl. */
static void __attribute__((noreturn))
alloc_failed(libxl_ctx *ctx, const char *func, size_t nmemb, size_t size)
{
    if (ctx)
        libxl__log(ctx, XTL_CRITICAL, ENOMEM, __FILE__, __LINE__, func,
                   INVALID_DOMID,
                   "FATAL: memory allocation failure (%zu x %zu bytes)",
                   nmemb, size);
    else
        fprintf(stderr, "libxl: FATAL: memory allocation failure in %s"
                " (%zu x %zu bytes)\n", func, nmemb, size);
    abort();
}

void libxl__gc_init(libxl__gc *gc, libxl_ctx *ctx)
{
    gc->alloc_maxsize = 0;
    gc->alloc_nr = 0;
    gc->alloc_ptrs = NULL;
    gc->owner = ctx;
}

void libxl__free_all(libxl__gc *gc)
{
    int i;

    for (i = 0; i < gc->alloc_nr; i++)
        free(gc->alloc_ptrs[i]);
    free(gc->alloc_ptrs);
    gc->alloc_ptrs = NULL;
    gc->alloc_nr = 0;
    gc->alloc_maxsize = 0;
}

libxl_ctx *libxl__gc_owner(libxl__gc *gc)
{
    return gc->owner;
}

void libxl__ptr_add(libxl__gc *gc, void *ptr)
{
    void **ptrs;
    int newsize;

    if (gc == NOGC || !ptr)
        return;

    if (gc->alloc_nr == gc->alloc_maxsize) {
        newsize = gc->alloc_maxsize ? gc->alloc_maxsize * 2
                                    : GC_INITIAL_PTRS;
        ptrs = realloc(gc->alloc_ptrs, newsize * sizeof(*ptrs));
        if (!ptrs)
            alloc_failed(gc->owner, __func__, newsize, sizeof(*ptrs));
        gc->alloc_ptrs = ptrs;
        gc->alloc_maxsize = newsize;
    }
    gc->alloc_ptrs[gc->alloc_nr++] = ptr;
}

void *libxl__zalloc(libxl__gc *gc, size_t size)
{
    return libxl__calloc(gc, 1, size);
}

void *libxl__calloc(libxl__gc *gc, size_t nmemb, size_t size)
{
    void *ptr = calloc(nmemb, size);

    if (!ptr)
        alloc_failed(gc ? gc->owner : NULL, __func__, nmemb, size);
    libxl__ptr_add(gc, ptr);
    return ptr;
}

void *libxl__realloc(libxl__gc *gc, void *ptr, size_t new_size)
{
    void *new_ptr;
    int i = 0;

    /* Find ptr's slot first: once realloc'd, it must not be looked at. */
    if (gc != NOGC && ptr) {
        while (i < gc->alloc_nr && gc->alloc_ptrs[i] != ptr)
            i++;
        if (i == gc->alloc_nr) {
            libxl__log(gc->owner, XTL_CRITICAL, -1, __FILE__, __LINE__,
                       __func__, INVALID_DOMID,
                       "pointer %p not from this gc", ptr);
            abort();
        }
    }

    new_ptr = realloc(ptr, new_size);
    if (!new_ptr && new_size)
        alloc_failed(gc ? gc->owner : NULL, __func__, 1, new_size);

    if (gc == NOGC)
        return new_ptr;
    if (ptr)
        gc->alloc_ptrs[i] = new_ptr;
    else
        libxl__ptr_add(gc, new_ptr);
    return new_ptr;
}

char *libxl__strdup(libxl__gc *gc, const char *s)
{
    char *copy;

    if (!s)
        return NULL;
    copy = strdup(s);
    if (!copy)
        alloc_failed(gc ? gc->owner : NULL, __func__, 1, strlen(s) + 1);
    libxl__ptr_add(gc, copy);
    return copy;
}

char *libxl__vsprintf(libxl__gc *gc, const char *fmt, va_list ap)
{
    char *s;

    if (vasprintf(&s, fmt, ap) < 0)
        alloc_failed(gc ? gc->owner : NULL, __func__, 1, strlen(fmt));
    libxl__ptr_add(gc, s);
    return s;
}

char *libxl__sprintf(libxl__gc *gc, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = libxl__vsprintf(gc, fmt, ap);
    va_end(ap);
    return s;
}

/*----- logging -----*/

void libxl__log(libxl_ctx *ctx, xentoollog_level msglevel, int errnoval,
                const char *file, int line, const char *func,
                uint32_t domid, const char *fmt, ...)
{
    char dom[32] = "";
    char *msg;
    va_list ap;
    int esave = errno;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0)
        msg = NULL;

    if (domid != INVALID_DOMID)
        snprintf(dom, sizeof(dom), "Domain %"PRIu32": ", domid);
    /* The logger appends strerror(errnoval) when errnoval >= 0. */
    xtl_log(ctx->lg, msglevel, errnoval, "libxl", "%s:%d:%s: %s%s",
            file, line, func, dom, msg ? msg : fmt);
    free(msg);
    errno = esave;
}

/*----- strict integer parsing -----*/

int libxl__strtoint(const char *s, long long min, long long max,
                    long long *val_r)
{
    const char *digits = s;
    char *end;
    long long val;

    if (!s)
        return ERROR_INVAL;
    if (*digits == '-' && min < 0)
        digits++;
    if (*digits < '0' || *digits > '9')
        return ERROR_INVAL;
    /* "0" alone; no "007", no "-0". */
    if (digits[0] == '0' && (digits[1] || digits != s))
        return ERROR_INVAL;

    errno = 0;
    val = strtoll(s, &end, 10);
    if (errno || *end || val < min || val > max)
        return ERROR_INVAL;
    *val_r = val;
    return 0;
}
