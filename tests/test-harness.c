/*
 * test-harness.c - the harness itself under test: the private xenstored
 * is the real one and answers, fake domains look like libxl's, the fake
 * sysfs behaves as the kernel does, the simulated backend moves states.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "harness.h"

/*----- xenstored -----*/

static void test_xs_real_daemon(void)
{
    struct xs_handle *h;
    char *v;

    xs_start();
    /* /tool/xenstored exists only in a real daemon's initial database */
    CHECK(xs_has("/tool/xenstored"));
    v = xs_get("/local/domain/0/name");
    CHECK_STR_EQ(v, "Domain-0");
    free(v);
    v = xs_get("/local/domain/0/domid");
    CHECK_STR_EQ(v, "0");
    free(v);

    h = xs_test_open();
    CHECK(xs_write(h, XBT_NULL, "/t/a", "1", 1));
    xs_close(h);
    v = xs_get("/t/a");
    CHECK_STR_EQ(v, "1");
    free(v);
    xs_del("/t");
    CHECK(!xs_has("/t/a"));
    CHECK_NULL(xs_get("/t/a"));
    xs_del("/no/such/node");        /* absent is fine */
}

static void test_xs_stop_restart(void)
{
    xs_start();
    xs_put("/t/old", "1");
    xs_stop();
    xs_start();
    CHECK(!xs_has("/t/old"));       /* a fresh database */
}

static void test_xs_transaction_conflict(void)
{
    struct xs_handle *a, *b;
    xs_transaction_t ta, tb;

    xs_start();
    xs_put("/t/n", "0");
    a = xs_test_open();
    b = xs_test_open();
    ta = xs_transaction_start(a);
    tb = xs_transaction_start(b);
    free(xs_read(a, ta, "/t/n", NULL));
    free(xs_read(b, tb, "/t/n", NULL));
    CHECK(xs_write(a, ta, "/t/n", "1", 1));
    CHECK(xs_write(b, tb, "/t/n", "2", 1));
    CHECK(xs_transaction_end(a, ta, false));
    errno = 0;
    CHECK(!xs_transaction_end(b, tb, false));
    CHECK_INT_EQ(errno, EAGAIN);
    xs_close(a);
    xs_close(b);
}

static void test_fakedom(void)
{
    struct xs_handle *h;
    char *v, path[128];

    xs_start();
    fakedom_create(5, "guest5", "pv");

    v = xs_get("/local/domain/5/name");
    CHECK_STR_EQ(v, "guest5");
    free(v);
    v = xs_get("/local/domain/5/domid");
    CHECK_STR_EQ(v, "5");
    free(v);
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid(5));
    v = xs_get("/local/domain/5/vm");
    CHECK_STR_EQ(v, path);
    free(v);
    snprintf(path, sizeof(path), "/vm/%s/uuid", fakedom_uuid(5));
    v = xs_get(path);
    CHECK_STR_EQ(v, fakedom_uuid(5));
    free(v);
    snprintf(path, sizeof(path), "/vm/%s/name", fakedom_uuid(5));
    v = xs_get(path);
    CHECK_STR_EQ(v, "guest5");
    free(v);
    v = xs_get("/libxl/5/type");
    CHECK_STR_EQ(v, "pv");
    free(v);

    /* libxl__domain_make's permissions */
    v = xs_perms("/local/domain/5");
    CHECK_STR_EQ(v, "n0,r5");
    free(v);
    v = xs_perms("/local/domain/5/name");
    CHECK_STR_EQ(v, "n0,r5");
    free(v);
    v = xs_perms("/local/domain/5/data");
    CHECK_STR_EQ(v, "n5");
    free(v);
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid(5));
    v = xs_perms(path);
    CHECK_STR_EQ(v, "n0,r5");
    free(v);
    v = xs_perms("/libxl/5");
    CHECK_STR_EQ(v, "n0");
    free(v);

    h = xs_test_open();
    CHECK(xs_is_domain_introduced(h, 5));
    CHECK(!xs_is_domain_introduced(h, 6));

    fakedom_create(6, "guest6", "hvm");
    snprintf(path, sizeof(path), "%s", fakedom_uuid(5));
    CHECK(strcmp(path, fakedom_uuid(6)) != 0);
    fakedom_destroy(5);
    CHECK(!xs_is_domain_introduced(h, 5));
    CHECK(!xs_has("/local/domain/5"));
    CHECK(!xs_has("/libxl/5"));
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid(5));
    CHECK(!xs_has(path));
    CHECK(xs_is_domain_introduced(h, 6));
    xs_close(h);
}

/* What a toolstack relies on when it writes perms for a guest before
 * introducing it (measured; see xs.c). */
static void test_xs_perms_before_introduce(void)
{
    struct xs_handle *h;
    struct xs_permissions own7[1] = { { .id = 7, .perms = XS_PERM_NONE } };
    char *v;

    xs_start();
    h = xs_test_open();
    xs_put("/local/domain/7/device/vusb/0/state", "1");
    CHECK(xs_set_permissions(h, XBT_NULL, "/local/domain/7/device", own7, 1));
    v = xs_perms("/local/domain/7/device");
    CHECK_STR_EQ(v, "n7");
    free(v);
    CHECK(xs_introduce_domain(h, 7, 0x1007, 1));
    v = xs_perms("/local/domain/7/device");
    CHECK_STR_EQ(v, "n7");
    free(v);
    /* release deletes what the domain owns */
    CHECK(xs_release_domain(h, 7));
    CHECK(!xs_has("/local/domain/7/device"));
    xs_close(h);
}

/* Runs xs_start in a child with XENSTORED=binary; returns its exit
 * status and, in out (malloc'd), what it printed. */
static int xs_start_in_child(const char *binary, char **out)
{
    char buf[8192];
    size_t len = 0;
    ssize_t n;
    int fds[2], status = -1;
    pid_t pid;

    ASSERT(pipe(fds) == 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        setenv("XENSTORED", binary, 1);
        xs_start();
        exit(0);
    }
    close(fds[1]);
    while (len < sizeof(buf) - 1 &&
           (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += n;
    buf[len] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    *out = strdup(buf);
    return status;
}

static void test_xs_start_failure_bails_with_log(void)
{
    char *out = NULL;
    int status;

    status = xs_start_in_child("/nonexistent/xenstored", &out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(out && strstr(out, "xenstored did not start"));
    /* the daemon's own stderr is shown */
    CHECK(out && strstr(out, "exec /nonexistent/xenstored: No such file"));
    if (out)
        tap_diag("child said:\n%s", out);
    free(out);

    status = xs_start_in_child("/bin/false", &out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(out && strstr(out, "did not start: it exited"));
    free(out);
}

static void test_xs_no_daemon_is_hermetic(void)
{
    struct xs_handle *h = xs_open(0);

    /* without xs_start, nothing answers: never the host's xenstored */
    CHECK_NULL(h);
    if (h)
        xs_close(h);
}

static const struct test tests[] = {
    { "xs: the real xenstored starts and answers", test_xs_real_daemon },
    { "xs: stop and start again gives a fresh daemon", test_xs_stop_restart },
    { "xs: transactions conflict with EAGAIN", test_xs_transaction_conflict },
    { "xs: fake domains have libxl's entries and perms", test_fakedom },
    { "xs: perms may name a domain before its introduction",
      test_xs_perms_before_introduce },
    { "xs: a daemon that cannot start fails the test, with its log",
      test_xs_start_failure_bails_with_log },
    { "xs: no daemon started means no xenstore at all",
      test_xs_no_daemon_is_hermetic },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
