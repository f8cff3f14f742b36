/*
 * fuzz.c - see fuzz.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxl_ctx.h"
#include "fuzz.h"

static int errors_logged;

static void null_vmessage(xentoollog_logger *lg, xentoollog_level level,
                          int errnoval, const char *context,
                          const char *format, va_list al)
    __attribute__((format(printf, 5, 0)));

static void null_vmessage(xentoollog_logger *lg, xentoollog_level level,
                          int errnoval, const char *context,
                          const char *format, va_list al)
{
    char buf[256];

    (void)lg;
    (void)errnoval;
    (void)context;
    vsnprintf(buf, sizeof(buf), format, al);
    if (level >= XTL_ERROR)
        errors_logged++;
}

static xentoollog_logger null_logger = { .vmessage = null_vmessage };

libxl_ctx *fuzz_ctx(void)
{
    static libxl_ctx *ctx;

    pthread_mutexattr_t attr;

    /* As libxl_ctx_alloc makes it, less xenstore and libxc: the log, the
     * lock and the event machinery (the QMP client runs in an ao). */
    if (!ctx) {
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx || pthread_mutexattr_init(&attr) ||
            pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) ||
            pthread_mutex_init(&ctx->lock, &attr))
            abort();
        pthread_mutexattr_destroy(&attr);
        ctx->lg = &null_logger;
        if (libxl__ev_ctx_init(ctx))
            abort();
    }
    return ctx;
}

int fuzz_errors_logged(void)
{
    int n = errors_logged;

    errors_logged = 0;
    return n;
}

char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_fail(const char *file, int line, const char *cond,
               const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: %s:%d: check failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
