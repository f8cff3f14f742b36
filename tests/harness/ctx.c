/*
 * ctx.c - library contexts for tests, and the application side of the
 * event loop (a plain poll() loop, as libxl_event.h describes it).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/time.h>

#include "harness.h"
#include "harness_internal.h"

#define MAX_CTX 8
#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

static libxl_ctx *ctxs[MAX_CTX];
static size_t n_ctx;
static xentoollog_logger_stdiostream *logger;

static xentoollog_level log_level(void)
{
    const char *s = getenv("TEST_LOGLEVEL");
    int l;

    if (!s || !*s)
        return XTL_DEBUG;
    for (l = XTL_DEBUG; l < XTL_NUM_LEVELS; l++)
        if (!strcasecmp(s, xtl_level_to_string(l)))
            return l;
    BAIL("TEST_LOGLEVEL=%s: not a xentoollog level (debug .. critical)", s);
}

static void ctx_cleanup(void)
{
    while (n_ctx)
        libxl_ctx_free(ctxs[--n_ctx]);
    if (logger) {
        xtl_logger_destroy((xentoollog_logger *)logger);
        logger = NULL;
    }
}

libxl_ctx *test_ctx(void)
{
    if (!logger) {
        logger = xtl_createlogger_stdiostream(stderr, log_level(), 0);
        if (!logger)
            BAIL("xtl_createlogger_stdiostream failed");
    }
    return test_ctx_logging_to((xentoollog_logger *)logger);
}

libxl_ctx *test_ctx_logging_to(xentoollog_logger *lg)
{
    libxl_ctx *ctx = NULL;
    int rc;

    if (n_ctx == MAX_CTX)
        BAIL("test_ctx: more than %d contexts", MAX_CTX);
    harness_at_exit(ctx_cleanup);
    rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, lg);
    if (rc)
        BAIL("libxl_ctx_alloc: %d", rc);
    ctxs[n_ctx++] = ctx;
    return ctx;
}

bool test_poll_until(libxl_ctx *ctx, const volatile bool *done,
                     int timeout_ms)
{
    /* In microseconds: a deadline of truncated milliseconds is reached
     * up to 1 ms before timeout_ms has passed. */
    long long deadline = harness_now_us() + timeout_ms * 1000LL, left;
    struct pollfd *fds = NULL, *bigger;
    int nalloc = 0, nfds, timeout, rc;
    struct timeval now;

    while (!*done) {
        left = deadline - harness_now_us();
        if (left <= 0)
            break;
        left = (left + 999) / 1000;     /* poll's ms, rounded up */
        timeout = left > INT_MAX ? INT_MAX : (int)left;
        nfds = nalloc;
        gettimeofday(&now, NULL);
        rc = libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now);
        if (rc == ERROR_BUFFERFULL) {
            bigger = realloc(fds, nfds * sizeof(*fds));
            if (!bigger)
                BAIL("out of memory");
            fds = bigger;
            nalloc = nfds;
            continue;
        }
        if (rc)
            BAIL("libxl_osevent_beforepoll: %d", rc);
        if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
            BAIL("poll: %s", strerror(errno));
        gettimeofday(&now, NULL);
        libxl_osevent_afterpoll(ctx, nfds, fds, now);
    }
    free(fds);
    return *done;
}
