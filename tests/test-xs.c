/*
 * test-xs.c - the core's xenstore helpers and domain lookup, against a
 * private real xenstored.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "libxl_internal.h"

static libxl_ctx *setup(void)
{
    xs_start();
    return test_ctx();
}

static void test_strtoint(void)
{
    static const struct {
        const char *s;
        long long min, max;
        int rc;
        long long val;
    } cases[] = {
        { "0", 0, 10, 0, 0 },
        { "12", 0, 100, 0, 12 },
        { "-1", -5, 5, 0, -1 },
        { "9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX },
        { "12x", 0, 100, ERROR_INVAL, 0 },
        { "-1", 0, 100, ERROR_INVAL, 0 },
        { "007", 0, 100, ERROR_INVAL, 0 },
        { "-0", -5, 5, ERROR_INVAL, 0 },
        { "+5", 0, 100, ERROR_INVAL, 0 },
        { " 5", 0, 100, ERROR_INVAL, 0 },
        { "5 ", 0, 100, ERROR_INVAL, 0 },
        { "", 0, 100, ERROR_INVAL, 0 },
        { "-", -5, 5, ERROR_INVAL, 0 },
        { "101", 0, 100, ERROR_INVAL, 0 },
        { "99999999999999999999", 0, LLONG_MAX, ERROR_INVAL, 0 },
    };
    long long val;
    size_t i;

    for (i = 0; i < ARRAY_LEN(cases); i++) {
        val = 0;
        if (libxl__strtoint(cases[i].s, cases[i].min, cases[i].max, &val)
            != cases[i].rc)
            tap_fail(__FILE__, __LINE__, "\"%s\": rc not %d",
                     cases[i].s, cases[i].rc);
        CHECK_INT_EQ(val, cases[i].val);
    }
    CHECK_INT_EQ(libxl__strtoint(NULL, 0, 1, &val), ERROR_INVAL);
}

static void test_read(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    const char *v;

    xs_put("/test/a", "value");
    CHECK_STR_EQ(libxl__xs_read(gc, XBT_NULL, "/test/a"), "value");
    errno = 0;
    CHECK_NULL(libxl__xs_read(gc, XBT_NULL, "/test/absent"));
    CHECK_INT_EQ(errno, ENOENT);

    CHECK_INT_EQ(libxl__xs_read_checked(gc, XBT_NULL, "/test/a", &v), 0);
    CHECK_STR_EQ(v, "value");
    v = "unchanged?";
    CHECK_INT_EQ(libxl__xs_read_checked(gc, XBT_NULL, "/test/absent", &v),
                 0);
    CHECK_NULL(v);

    CHECK_INT_EQ(libxl__xs_read_mandatory(gc, XBT_NULL, "/test/a", &v), 0);
    CHECK_STR_EQ(v, "value");
    CHECK_INT_EQ(libxl__xs_read_mandatory(gc, XBT_NULL, "/test/absent", &v),
                 ERROR_NOTFOUND);
    GC_FREE;
}

static void test_read_int(void)
{
    static const char *const bad[] = {
        "12x", "-1", "007", "99999999999999999999", "", " 1", "1.0", "0x10",
        "101",
    };
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    long long val = -7;
    size_t i;

    xs_put("/test/n", "12");
    CHECK_INT_EQ(libxl__xs_read_int(gc, XBT_NULL, "/test/n", 0, 100, &val),
                 0);
    CHECK_INT_EQ(val, 12);
    xs_put("/test/n", "0");
    CHECK_INT_EQ(libxl__xs_read_int(gc, XBT_NULL, "/test/n", 0, 100, &val),
                 0);
    CHECK_INT_EQ(val, 0);

    for (i = 0; i < ARRAY_LEN(bad); i++) {
        xs_put("/test/n", bad[i]);
        val = -7;
        if (libxl__xs_read_int(gc, XBT_NULL, "/test/n", 0, 100, &val)
            != ERROR_INVAL)
            tap_fail(__FILE__, __LINE__, "\"%s\" not refused", bad[i]);
        CHECK_INT_EQ(val, -7);
    }
    CHECK_INT_EQ(libxl__xs_read_int(gc, XBT_NULL, "/test/absent", 0, 100,
                                    &val), ERROR_NOTFOUND);
    GC_FREE;
}

static void test_write_rm_directory(void)
{
    static const char *const kvs[] = { "k1", "v1", "k2", "v2", NULL };
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    char **entries;
    unsigned int n = 99;

    CHECK_INT_EQ(libxl__xs_write_checked(gc, XBT_NULL, "/test/d/a", "x"), 0);
    CHECK_INT_EQ(libxl__xs_printf(gc, XBT_NULL, "/test/d/b", "%d-%s", 3,
                                  "y"), 0);
    CHECK_INT_EQ(libxl__xs_writev(gc, XBT_NULL, "/test/d/c", kvs), 0);
    CHECK_XS("/test/d/a", "x");
    CHECK_XS("/test/d/b", "3-y");
    CHECK_XS("/test/d/c/k2", "v2");

    entries = libxl__xs_directory(gc, XBT_NULL, "/test/d", &n);
    ASSERT(entries);
    CHECK_INT_EQ(n, 3);
    errno = 0;
    CHECK_NULL(libxl__xs_directory(gc, XBT_NULL, "/test/absent", &n));
    CHECK_INT_EQ(errno, ENOENT);
    CHECK_INT_EQ(n, 0);

    CHECK_INT_EQ(libxl__xs_rm_checked(gc, XBT_NULL, "/test/d"), 0);
    CHECK(!xs_has("/test/d/c/k1"));
    CHECK(!xs_has("/test/d"));
    CHECK_INT_EQ(libxl__xs_rm_checked(gc, XBT_NULL, "/test/d"), 0);
    GC_FREE;
}

static void test_perms(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    struct xs_permissions perms[] = {
        { .id = 0, .perms = XS_PERM_READ },
        { .id = 5, .perms = XS_PERM_WRITE },
    };

    fakedom_create(5, "guest5", "pv");
    CHECK_INT_EQ(libxl__xs_mknod(gc, XBT_NULL, "/test/node", perms, 2), 0);
    CHECK_PERMS("/test/node", "r0,w5");
    CHECK_XS("/test/node", "");

    /* Backend dir: owned by the backend (0), readable by the guest. */
    CHECK_INT_EQ(libxl__xs_mkdir_device(gc, XBT_NULL, "/test/be", 0, 5), 0);
    CHECK_PERMS("/test/be", "n0,r5");
    /* Frontend dir: the reverse. */
    CHECK_INT_EQ(libxl__xs_mkdir_device(gc, XBT_NULL, "/test/fe", 5, 0), 0);
    CHECK_PERMS("/test/fe", "n5,r0");
    GC_FREE;
}

/* Increments /test/counter in a transaction; another handle writes the
 * node between the first start and commit. */
static void test_transaction_conflict(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    struct xs_handle *other = xs_test_open();
    xs_transaction_t t = XBT_NULL;
    long long val;
    int attempts = 0;
    int rc;

    ASSERT(other);
    xs_put("/test/counter", "1");
    for (;;) {
        rc = libxl__xs_transaction_start(gc, &t);
        if (rc) goto out;
        attempts++;
        rc = libxl__xs_read_int(gc, t, "/test/counter", 0, 1000, &val);
        if (rc) goto out;
        if (attempts == 1)
            ASSERT(xs_write(other, XBT_NULL, "/test/counter", "10", 2));
        rc = libxl__xs_printf(gc, t, "/test/counter", "%lld", val + 1);
        if (rc) goto out;
        rc = libxl__xs_transaction_commit(gc, &t);
        CHECK(t == XBT_NULL);
        if (!rc) break;
        if (rc < 0) goto out;
    }

 out:
    libxl__xs_transaction_abort(gc, &t);
    CHECK_INT_EQ(rc, 0);
    CHECK_INT_EQ(attempts, 2);
    CHECK_XS("/test/counter", "11");
    xs_close(other);
    GC_FREE;
}

static void test_transaction_abort(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    xs_transaction_t t = XBT_NULL;

    libxl__xs_transaction_abort(gc, &t);    /* no-op on XBT_NULL */
    ASSERT_INT_EQ(libxl__xs_transaction_start(gc, &t), 0);
    CHECK_INT_EQ(libxl__xs_write_checked(gc, t, "/test/t/a", "1"), 0);
    CHECK_INT_EQ(libxl__xs_mkdir_device(gc, t, "/test/t/b", 0, 0), 0);
    libxl__xs_transaction_abort(gc, &t);
    CHECK(t == XBT_NULL);
    CHECK(!xs_has("/test/t"));
    GC_FREE;
}

/*
 * Domains 3 (pv), 4 (hvm) and 6 (pvh), as fakedom_create made them: they
 * exist, with their types and 3 its uuid; 77 does not.
 */
static void check_domains_3_4_6(libxl__gc *gc)
{
    libxl_domain_type type;
    const char *uuid;

    CHECK_INT_EQ(libxl__domain_check_exists(gc, 3), 0);
    CHECK_INT_EQ(libxl__domain_check_exists(gc, 77), ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl__domain_type(gc, 3, &type), 0);
    CHECK_INT_EQ(type, LIBXL_DOMAIN_TYPE_PV);
    CHECK_INT_EQ(libxl__domain_type(gc, 4, &type), 0);
    CHECK_INT_EQ(type, LIBXL_DOMAIN_TYPE_HVM);
    CHECK_INT_EQ(libxl__domain_type(gc, 6, &type), 0);
    CHECK_INT_EQ(type, LIBXL_DOMAIN_TYPE_PVH);
    CHECK_INT_EQ(libxl__domain_type(gc, 77, &type), ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl__domain_uuid_string(gc, 3, &uuid), 0);
    CHECK_STR_EQ(uuid, fakedom_uuid(3));
    CHECK_INT_EQ(libxl__domain_uuid_string(gc, 77, &uuid),
                 ERROR_DOMAIN_NOTFOUND);
}

static void test_domains(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_type type;
    uint32_t domid;
    char *name;

    fakedom_create(3, "guest3", "pv");
    fakedom_create(4, "guest4", "hvm");
    fakedom_create(6, "guest6", "pvh");
    fakedom_create(7, "12", "pv");       /* a name that is a number */

    CHECK_INT_EQ(libxl__domain_check_exists(gc, 0), 0);
    check_domains_3_4_6(gc);
    xs_put("/libxl/4/type", "paravirt");
    CHECK_INT_EQ(libxl__domain_type(gc, 4, &type), ERROR_FAIL);

    CHECK_INT_EQ(libxl__resolve_domid(gc, "guest4", &domid), 0);
    CHECK_INT_EQ(domid, 4);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "6", &domid), 0);
    CHECK_INT_EQ(domid, 6);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "Domain-0", &domid), 0);
    CHECK_INT_EQ(domid, 0);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "12", &domid), 0);
    CHECK_INT_EQ(domid, 7);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "nosuch", &domid),
                 ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "77", &domid),
                 ERROR_DOMAIN_NOTFOUND);

    CHECK_INT_EQ(libxl_name_to_domid(ctx, "guest3", &domid), 0);
    CHECK_INT_EQ(domid, 3);
    CHECK_INT_EQ(libxl_name_to_domid(ctx, "nosuch", &domid), ERROR_INVAL);
    name = libxl_domid_to_name(ctx, 6);
    CHECK_STR_EQ(name, "guest6");
    free(name);
    CHECK_NULL(libxl_domid_to_name(ctx, 77));
    GC_FREE;
}

/*
 * The hypervisor's word, not xenstore's copies: a guest whose xenstore
 * entries say otherwise (or nothing) is what the hypervisor says; one that
 * xenstore alone lists does not exist.
 */
static void test_domains_hypervisor(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_type type;
    uint32_t domid;

    fakedom_create(3, "guest3", "pv");
    fakedom_create(4, "guest4", "hvm");
    fakedom_create(6, "guest6", "pvh");
    xs_del("/libxl/3/type");
    xs_put("/local/domain/3/vm", "/vm/garbage");
    xs_del("/local/domain/4");
    check_domains_3_4_6(gc);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "4", &domid), 0);
    CHECK_INT_EQ(domid, 4);

    xs_put("/local/domain/9/name", "ghost");
    xs_put("/local/domain/9/vm", "/vm/00000000-0000-4000-8000-000000000009");
    xs_put("/libxl/9/type", "pv");
    CHECK_INT_EQ(libxl__domain_check_exists(gc, 9), ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl__domain_type(gc, 9, &type), ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl__resolve_domid(gc, "9", &domid),
                 ERROR_DOMAIN_NOTFOUND);

    fakedom_destroy(6);
    CHECK_INT_EQ(libxl__domain_check_exists(gc, 6), ERROR_DOMAIN_NOTFOUND);
    GC_FREE;
}

/* Without a hypervisor (xenstored alone) there is no context, and the
 * error says why: as libxl's, never a toolstack guessing from xenstore. */
static void test_no_hypervisor(void)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx = NULL;
    char log[4096] = "";
    FILE *f = fmemopen(log, sizeof(log) - 1, "w");

    ASSERT(f);
    xs_start();
    unsetenv("XCMOCK_DOMAINS");
    lg = xtl_createlogger_stdiostream(f, XTL_ERROR, 0);
    ASSERT(lg);
    CHECK_INT_EQ(libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                                 (xentoollog_logger *)lg), ERROR_FAIL);
    CHECK_NULL(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    fclose(f);
    CHECK(strstr(log, "cannot open libxc handle") != NULL);
}

static void test_gc(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    char *s, *p;
    int *a = NULL;
    int i;

    /* Beyond the initial array of pointers, and realloc in place. */
    for (i = 0; i < 100; i++)
        CHECK_STR_EQ(GCSPRINTF("%d", i), GCSPRINTF("%d", i));
    GCREALLOC_ARRAY(a, 10);
    for (i = 0; i < 10; i++)
        a[i] = i;
    GCREALLOC_ARRAY(a, 1000);
    CHECK_INT_EQ(a[9], 9);
    CHECK_NULL(libxl__strdup(gc, NULL));
    s = libxl__strdup(NOGC, "mine");
    CHECK_STR_EQ(s, "mine");
    free(s);
    p = strdup("handed over");
    libxl__ptr_add(gc, p);
    GC_FREE;
    GC_FREE;                    /* freeing twice is harmless */
}

static const struct test tests[] = {
    { "strtoint is strict", test_strtoint },
    { "read, read_checked, read_mandatory", test_read },
    { "read_int refuses malformed integers", test_read_int },
    { "write, printf, writev, rm, directory", test_write_rm_directory },
    { "mknod and mkdir_device permissions", test_perms },
    { "transaction conflict is retried", test_transaction_conflict },
    { "aborted transaction leaves nothing", test_transaction_abort },
    { "domain lookup, type, uuid, resolve", test_domains },
    { "domain facts are the hypervisor's, not xenstore's",
      test_domains_hypervisor },
    { "no hypervisor, no context", test_no_hypervisor },
    { "gc arena", test_gc },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
