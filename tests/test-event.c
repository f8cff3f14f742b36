/*
 * test-event.c - the event machinery: asynchronous operations with and
 * without a callback, device state waits, the application's poll hooks
 * and xenstore watches, against a private real xenstored.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"
#include "libxl_internal.h"

/*----- small operations written with the internal API -----*/

struct op {
    libxl__ao *ao;
    libxl__ev_devstate ds;
    libxl__ev_time timer;
};

static void op_devstate_done(libxl__egc *egc, libxl__ev_devstate *ds,
                             int rc)
{
    struct op *op = CONTAINER_OF(ds, *op, ds);

    CHECK(!libxl__ev_xswatch_isregistered(&ds->watch));
    CHECK(!libxl__ev_time_isregistered(&ds->timeout));
    libxl__ao_complete(egc, op->ao, rc);
}

/* Waits until the xenbus state at path is within [min, max]. */
static int op_wait_state(libxl_ctx *ctx, const char *path, int min, int max,
                         int ms, const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, 0, ao_how);
    struct op *op;
    int rc;

    GCNEW(op);
    op->ao = ao;
    libxl__ev_devstate_init(&op->ds);
    rc = libxl__ev_devstate_wait(ao, &op->ds, op_devstate_done, path,
                                 min, max, ms);
    if (rc) return AO_CREATE_FAIL(rc);
    return AO_INPROGRESS;
}

static void op_timer_done(libxl__egc *egc, libxl__ev_time *ev,
                          const struct timeval *requested_abs, int rc)
{
    struct op *op = CONTAINER_OF(ev, *op, timer);

    (void)requested_abs;
    CHECK_INT_EQ(rc, ERROR_TIMEDOUT);
    CHECK(!libxl__ev_time_isregistered(ev));
    libxl__ao_complete(egc, op->ao, 0);
}

/* Completes with 0 after ms. */
static int op_sleep(libxl_ctx *ctx, int ms, const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, 0, ao_how);
    struct op *op;
    int rc;

    GCNEW(op);
    op->ao = ao;
    libxl__ev_time_init(&op->timer);
    rc = libxl__ev_time_register_rel(ao, &op->timer, op_timer_done, ms);
    if (rc) return AO_CREATE_FAIL(rc);
    return AO_INPROGRESS;
}

/* Completes with result before AO_INPROGRESS. */
static int op_now(libxl_ctx *ctx, int result,
                  const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, 0, ao_how);
    EGC_INIT(ctx);

    (void)gc;
    libxl__ao_complete(egc, ao, result);
    EGC_FREE;
    return AO_INPROGRESS;
}

/*----- the application's side -----*/

struct app_cb {
    volatile bool done;
    int rc;
    int calls;
    long long when_ms;
};

static void app_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
    struct app_cb *cb = for_callback;

    (void)ctx;
    cb->rc = rc;
    cb->calls++;
    cb->when_ms = harness_now_ms();
    cb->done = true;
}

static libxl_asyncop_how how_for(struct app_cb *cb)
{
    libxl_asyncop_how how = { .callback = app_callback };

    how.u.for_callback = cb;
    return how;
}

static libxl_ctx *setup(void)
{
    xs_start();
    return test_ctx();
}

/*----- tests -----*/

static void test_callback_after_complete_at_once(void)
{
    libxl_ctx *ctx = setup();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);
    struct pollfd fds[8];
    struct timeval now;
    int nfds = ARRAY_LEN(fds), timeout = -1;

    CHECK_INT_EQ(op_now(ctx, ERROR_NOTFOUND, &how), 0);
    CHECK_INT_EQ(cb.calls, 0);      /* never from the initiating call */

    gettimeofday(&now, NULL);
    CHECK_INT_EQ(libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now),
                 0);
    CHECK_INT_EQ(timeout, 0);       /* the loop must turn at once */
    CHECK_INT_EQ(cb.calls, 0);

    CHECK(test_poll_until(ctx, &cb.done, 1000));
    CHECK_INT_EQ(cb.calls, 1);
    CHECK_INT_EQ(cb.rc, ERROR_NOTFOUND);
}

static void test_callback_through_loop(void)
{
    libxl_ctx *ctx = setup();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);

    xs_put("/test/state", "1");
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 4, 4, 5000, &how), 0);
    CHECK(!test_poll_until(ctx, &cb.done, 100));    /* not yet */
    xs_put("/test/state", "4");
    CHECK(test_poll_until(ctx, &cb.done, 2000));
    CHECK_INT_EQ(cb.calls, 1);
    CHECK_INT_EQ(cb.rc, 0);
}

static void test_sync(void)
{
    libxl_ctx *ctx = setup();
    long long start = harness_now_ms();

    CHECK_INT_EQ(op_sleep(ctx, 100, NULL), 0);
    CHECK(harness_now_ms() - start >= 100);
    CHECK_INT_EQ(op_now(ctx, ERROR_DEVICE_EXISTS, NULL),
                 ERROR_DEVICE_EXISTS);
}

static void test_timeouts_in_order(void)
{
    libxl_ctx *ctx = setup();
    struct app_cb late = { 0 }, early = { 0 };
    libxl_asyncop_how how_late = how_for(&late);
    libxl_asyncop_how how_early = how_for(&early);
    long long start = harness_now_ms();

    CHECK_INT_EQ(op_sleep(ctx, 200, &how_late), 0);
    CHECK_INT_EQ(op_sleep(ctx, 50, &how_early), 0);
    CHECK(test_poll_until(ctx, &late.done, 2000));
    CHECK(early.done);
    CHECK(early.when_ms <= late.when_ms);
    CHECK(early.when_ms - start >= 50);
    CHECK(late.when_ms - start >= 200);
}

static void test_devstate_timeout(void)
{
    libxl_ctx *ctx = setup();
    long long start, elapsed;

    xs_put("/test/state", "1");
    start = harness_now_ms();
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 4, 4, 300, NULL),
                 ERROR_TIMEDOUT);
    elapsed = harness_now_ms() - start;
    CHECK(elapsed >= 300);
    CHECK(elapsed < 3000);
}

static void *write_later(void *path)
{
    struct xs_handle *h = xs_test_open();

    usleep(150 * 1000);
    if (!h || !xs_write(h, XBT_NULL, path, "6", 1))
        tap_fail(__FILE__, __LINE__, "cannot write %s", (char *)path);
    if (h) xs_close(h);
    return NULL;
}

static void test_devstate_other_handle(void)
{
    libxl_ctx *ctx = setup();
    char path[] = "/test/state";
    pthread_t thread;

    xs_put(path, "5");
    ASSERT_INT_EQ(pthread_create(&thread, NULL, write_later, path), 0);
    CHECK_INT_EQ(op_wait_state(ctx, path, 6, 6, 5000, NULL), 0);
    pthread_join(thread, NULL);
}

struct sync_waiter {
    libxl_ctx *ctx;
    int rc;
    long long done_ms;
};

static void *sync_wait_b(void *arg)
{
    struct sync_waiter *sw = arg;

    sw->rc = op_wait_state(sw->ctx, "/test/b", 6, 6, 5000, NULL);
    sw->done_ms = harness_now_ms();
    return NULL;
}

/*
 * A synchronous operation in one thread while another runs the app's
 * loop on the same ctx: whichever loop takes an event, each operation
 * completes promptly, not when its 5 s timeout would wake it.
 */
static void test_threads(void)
{
    libxl_ctx *ctx = setup();
    struct sync_waiter sw = { .ctx = ctx, .rc = 1 };
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);
    long long start;
    pthread_t thread;
    int round;

    xs_put("/test/a", "1");
    xs_put("/test/b", "1");
    for (round = 0; round < 5; round++) {
        cb.done = false;
        sw.rc = 1;
        ASSERT_INT_EQ(pthread_create(&thread, NULL, sync_wait_b, &sw), 0);
        CHECK_INT_EQ(op_wait_state(ctx, "/test/a", 6, 6, 5000, &how), 0);
        usleep(50 * 1000);
        start = harness_now_ms();
        xs_put("/test/b", "6");
        xs_put("/test/a", "6");
        CHECK(test_poll_until(ctx, &cb.done, 2000));
        CHECK_INT_EQ(cb.rc, 0);
        pthread_join(thread, NULL);
        CHECK_INT_EQ(sw.rc, 0);
        CHECK(sw.done_ms - start < 2000);
        xs_put("/test/a", "1");
        xs_put("/test/b", "1");
    }
}

static void test_devstate_at_once(void)
{
    libxl_ctx *ctx = setup();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);

    xs_put("/test/state", "4");
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 2, 4, 5000, &how), 0);
    CHECK_INT_EQ(cb.calls, 0);
    CHECK(test_poll_until(ctx, &cb.done, 2000));
    CHECK_INT_EQ(cb.rc, 0);
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 4, 6, 5000, NULL), 0);
}

static void test_devstate_errors(void)
{
    libxl_ctx *ctx = setup();

    CHECK_INT_EQ(op_wait_state(ctx, "/test/absent", 4, 4, 5000, NULL),
                 ERROR_NOTFOUND);
    xs_put("/test/state", "7");
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 4, 4, 5000, NULL),
                 ERROR_FAIL);
    xs_put("/test/state", "4x");
    CHECK_INT_EQ(op_wait_state(ctx, "/test/state", 4, 4, 5000, NULL),
                 ERROR_FAIL);
}

static void test_bufferfull(void)
{
    libxl_ctx *ctx = setup();
    struct pollfd fds[8];
    struct timeval now;
    int nfds, timeout = 1234;

    gettimeofday(&now, NULL);
    nfds = 0;
    CHECK_INT_EQ(libxl_osevent_beforepoll(ctx, &nfds, NULL, &timeout, now),
                 ERROR_BUFFERFULL);
    CHECK(nfds > 0);
    nfds--;
    CHECK_INT_EQ(libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now),
                 ERROR_BUFFERFULL);
    ASSERT(nfds <= (int)ARRAY_LEN(fds));
    CHECK_INT_EQ(libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now),
                 0);
    CHECK_INT_EQ(timeout, 1234);    /* nothing due: not lowered */
}

static void test_refuse_event_completion(void)
{
    libxl_ctx *ctx = setup();
    libxl_asyncop_how how = { .callback = NULL };

    CHECK_INT_EQ(op_now(ctx, 0, &how), ERROR_INVAL);
}

static int watch_hits;
static volatile bool watch_reached;
static int watch_target;

static void count_hits(libxl__egc *egc, libxl__ev_xswatch *w,
                       const char *watch_path, const char *event_path)
{
    (void)egc;
    (void)w;
    (void)watch_path;
    (void)event_path;
    if (++watch_hits >= watch_target)
        watch_reached = true;
}

static bool hits_reach(libxl_ctx *ctx, int target, int ms)
{
    watch_target = target;
    watch_reached = watch_hits >= target;
    return test_poll_until(ctx, &watch_reached, ms);
}

static void test_watch_deregister(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl__ev_xswatch w, w2;

    libxl__ev_xswatch_init(&w);
    libxl__ev_xswatch_init(&w2);
    CHECK(!libxl__ev_xswatch_isregistered(&w));
    libxl__ev_xswatch_deregister(gc, &w);           /* harmless */

    xs_put("/test/w", "0");
    ASSERT_INT_EQ(libxl__ev_xswatch_register(gc, &w, count_hits, "/test/w"),
                  0);
    CHECK(libxl__ev_xswatch_isregistered(&w));
    CHECK_STR_EQ(w.path, "/test/w");
    CHECK(hits_reach(ctx, 1, 2000));                /* the initial fire */
    xs_put("/test/w", "1");
    CHECK(hits_reach(ctx, 2, 2000));

    /* An event queued before deregistration, then the slot reused. */
    xs_put("/test/w", "2");
    libxl__ev_xswatch_deregister(gc, &w);
    CHECK(!libxl__ev_xswatch_isregistered(&w));
    libxl__ev_xswatch_deregister(gc, &w);
    ASSERT_INT_EQ(libxl__ev_xswatch_register(gc, &w2, count_hits,
                                             "/test/other"), 0);
    CHECK(hits_reach(ctx, 3, 2000));                /* w2's initial fire */
    xs_put("/test/w", "3");
    CHECK(!hits_reach(ctx, 4, 300));
    CHECK_INT_EQ(watch_hits, 3);

    libxl__ev_xswatch_deregister(gc, &w2);
    GC_FREE;
}

/*----- the application's own loop (libxl_osevent_register_hooks) -----*/

static libxl_ctx *setup_hooks(void)
{
    libxl_ctx *ctx = setup();

    evloop_hooks_register(ctx);
    /* the ctx's wakeup pipe, which completions write to */
    CHECK_INT_EQ(evloop_stats()->fd_register, 1);
    return ctx;
}

static void test_hooks_timeout(void)
{
    libxl_ctx *ctx = setup_hooks();
    const struct evloop_stats *st = evloop_stats();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);

    ASSERT_INT_EQ(op_sleep(ctx, 30, &how), 0);
    CHECK(!cb.done);
    CHECK_INT_EQ(st->timeout_register, 1);
    CHECK_INT_EQ(st->timers, 1);
    ASSERT(evloop_run_until(ctx, &cb.done, 2000));
    CHECK_INT_EQ(cb.rc, 0);
    CHECK_INT_EQ(cb.calls, 1);
    /* fired by the app: implicitly deregistered, never modified */
    CHECK_INT_EQ(st->timeout_occurred, 1);
    CHECK_INT_EQ(st->timeout_modify, 0);
    CHECK_INT_EQ(st->timeout_deregister, 0);
    CHECK_INT_EQ(st->timers, 0);
}

struct op2 {
    libxl__ao *ao;
    libxl__ev_time long_timer, short_timer;
};

static void op2_long_done(libxl__egc *egc, libxl__ev_time *ev,
                          const struct timeval *requested_abs, int rc)
{
    (void)egc;
    (void)ev;
    (void)requested_abs;
    (void)rc;
    tap_fail(__FILE__, __LINE__, "a cancelled timeout fired");
}

static void op2_short_done(libxl__egc *egc, libxl__ev_time *ev,
                           const struct timeval *requested_abs, int rc)
{
    struct op2 *op = CONTAINER_OF(ev, *op, short_timer);
    EGC_GC;

    (void)requested_abs;
    (void)rc;
    libxl__ev_time_deregister(gc, &op->long_timer);
    CHECK(!libxl__ev_time_isregistered(&op->long_timer));
    libxl__ao_complete(egc, op->ao, 0);
}

/* Completes after 20 ms, cancelling a 10 s timeout as it does. */
static int op_cancel(libxl_ctx *ctx, const libxl_asyncop_how *ao_how)
{
    AO_CREATE(ctx, 0, ao_how);
    struct op2 *op;
    int rc;

    GCNEW(op);
    op->ao = ao;
    libxl__ev_time_init(&op->long_timer);
    libxl__ev_time_init(&op->short_timer);
    rc = libxl__ev_time_register_rel(ao, &op->long_timer, op2_long_done,
                                     10000);
    if (!rc) rc = libxl__ev_time_register_rel(ao, &op->short_timer,
                                              op2_short_done, 20);
    if (rc) return AO_CREATE_FAIL(rc);
    return AO_INPROGRESS;
}

static void test_hooks_timeout_cancel(void)
{
    libxl_ctx *ctx = setup_hooks();
    const struct evloop_stats *st = evloop_stats();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);

    ASSERT_INT_EQ(op_cancel(ctx, &how), 0);
    CHECK_INT_EQ(st->timers, 2);
    ASSERT(evloop_run_until(ctx, &cb.done, 2000));
    CHECK_INT_EQ(cb.rc, 0);
    /* cancelled as libxl does: modified to {0,0}, never deregistered */
    CHECK_INT_EQ(st->timeout_modify, 1);
    CHECK_INT_EQ(st->timeout_modify_not_now, 0);
    CHECK_INT_EQ(st->timeout_deregister, 0);
    /* the app fires it at once; libxl ignores that occurrence */
    evloop_run_for(ctx, 50);
    CHECK_INT_EQ(st->timeout_occurred, 2);
    CHECK_INT_EQ(st->timers, 0);
}

static void test_hooks_sync(void)
{
    libxl_ctx *ctx = setup_hooks();
    const struct evloop_stats *st = evloop_stats();

    /* the initiator's own wait fires it; the app's copy is cancelled */
    CHECK_INT_EQ(op_sleep(ctx, 20, NULL), 0);
    CHECK_INT_EQ(st->timeout_register, 1);
    CHECK_INT_EQ(st->timeout_modify, 1);
    CHECK_INT_EQ(st->timeout_modify_not_now, 0);
    evloop_run_for(ctx, 50);
    CHECK_INT_EQ(st->timers, 0);
}

static int fd_calls;
static volatile bool fd_done;

static void fd_readable(libxl__egc *egc, libxl__ev_fd *ev, int fd,
                        short events, short revents)
{
    EGC_GC;
    char c;

    CHECK_INT_EQ(events, POLLIN);
    CHECK(revents & POLLIN);
    CHECK_INT_EQ(read(fd, &c, 1), 1);
    fd_calls++;
    libxl__ev_fd_deregister(gc, ev);
    fd_done = true;
}

static void test_hooks_fd_modify(void)
{
    libxl_ctx *ctx = setup_hooks();
    const struct evloop_stats *st = evloop_stats();
    GC_INIT(ctx);
    libxl__ev_fd ev;
    int p[2];

    ASSERT(!pipe(p));
    ASSERT_INT_EQ(write(p[1], "x", 1), 1);
    libxl__ev_fd_init(&ev);
    ASSERT_INT_EQ(libxl__ev_fd_register(gc, &ev, fd_readable, p[0],
                                        POLLIN), 0);
    CHECK_INT_EQ(st->fd_register, 2);
    /* events 0: registered, but nothing is reported */
    ASSERT_INT_EQ(libxl__ev_fd_modify(gc, &ev, 0), 0);
    CHECK_INT_EQ(st->fd_modify, 1);
    evloop_run_for(ctx, 50);
    CHECK_INT_EQ(fd_calls, 0);
    ASSERT_INT_EQ(libxl__ev_fd_modify(gc, &ev, POLLIN), 0);
    CHECK(evloop_run_until(ctx, &fd_done, 2000));
    CHECK_INT_EQ(fd_calls, 1);
    CHECK_INT_EQ(st->fd_deregister, 1);
    CHECK_INT_EQ(st->handles, 1);
    CHECK(!libxl__ev_fd_isregistered(&ev));
    close(p[0]);
    close(p[1]);
    GC_FREE;
}

static void test_hooks_exclude_poll(void)
{
    libxl_ctx *ctx = setup_hooks();
    const struct evloop_stats *st = evloop_stats();
    struct app_cb cb = { 0 };
    libxl_asyncop_how how = how_for(&cb);
    struct pollfd fds[8];
    struct timeval now;
    int nfds = ARRAY_LEN(fds), timeout = -1;

    /* one event loop per ctx */
    gettimeofday(&now, NULL);
    CHECK_INT_EQ(libxl_osevent_beforepoll(ctx, &nfds, fds, &timeout, now),
                 ERROR_INVAL);
    ASSERT_INT_EQ(op_now(ctx, 0, &how), 0);
    libxl_osevent_afterpoll(ctx, 0, fds, now);
    CHECK(!cb.done);            /* the app's loop makes it */
    /* hooks are given once */
    evloop_hooks_register(ctx);
    CHECK_INT_EQ(st->fd_register, 1);
    /* the completion wakes the app's loop, which makes the callback */
    CHECK(evloop_run_until(ctx, &cb.done, 2000));
    CHECK_INT_EQ(cb.calls, 1);
}

static const struct test tests[] = {
    { "callback ao completed at once: called from afterpoll",
      test_callback_after_complete_at_once },
    { "callback ao completes through the app's poll loop",
      test_callback_through_loop },
    { "ao_how NULL completes inside the call", test_sync },
    { "timeouts fire in order", test_timeouts_in_order },
    { "devstate wait times out", test_devstate_timeout },
    { "devstate wait satisfied by another handle",
      test_devstate_other_handle },
    { "sync and callback operations in two threads", test_threads },
    { "devstate already reached fires on the next turn",
      test_devstate_at_once },
    { "devstate: node gone, bad state", test_devstate_errors },
    { "beforepoll: ERROR_BUFFERFULL", test_bufferfull },
    { "ao_how without callback refused", test_refuse_event_completion },
    { "watch deregistration stops callbacks", test_watch_deregister },
    { "hooks: a timeout fired by the app's loop", test_hooks_timeout },
    { "hooks: a cancelled timeout is modified to {0,0}, then ignored",
      test_hooks_timeout_cancel },
    { "hooks: a synchronous operation beside the app's loop",
      test_hooks_sync },
    { "hooks: fd watch modified, then deregistered", test_hooks_fd_modify },
    { "hooks: beforepoll refused, register once, completion wakes the loop",
      test_hooks_exclude_poll },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
