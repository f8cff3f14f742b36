/*
 * test-userdata.c - the persisted USB configuration: round trip, missing
 * file, atomic replacement under SIGKILL, and the per-domain lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"
#include "libxl_pvusb_internal.h"

#define DOMID 3
#define UUID fakedom_uuid(DOMID)

static char state_dir[512];

static libxl_ctx *setup(void)
{
    xs_start();
    fakedom_create(DOMID, "guest3", "pv");
    snprintf(state_dir, sizeof(state_dir), "%s/state", harness_scratch());
    setenv("LIBXL_PVUSB_STATE_DIR", state_dir, 1);
    return test_ctx();
}

/* A config with n controllers (devid 0..n-1) and a device on each. */
static void config_fill(libxl_domain_usb_config *cfg, int n)
{
    int i;

    libxl_domain_usb_config_dispose(cfg);
    libxl_domain_usb_config_init(cfg);
    cfg->usbctrls = calloc(n, sizeof(*cfg->usbctrls));
    cfg->usbdevs = calloc(n, sizeof(*cfg->usbdevs));
    ASSERT(cfg->usbctrls && cfg->usbdevs);
    for (i = 0; i < n; i++) {
        libxl_device_usbctrl_init(&cfg->usbctrls[i]);
        cfg->usbctrls[i].type = LIBXL_USBCTRL_TYPE_PV;
        cfg->usbctrls[i].devid = i;
        cfg->usbctrls[i].version = 2;
        cfg->usbctrls[i].ports = 8;
        libxl_device_usbdev_init(&cfg->usbdevs[i]);
        libxl_device_usbdev_init_type(&cfg->usbdevs[i],
                                      LIBXL_USBDEV_TYPE_HOSTDEV);
        cfg->usbdevs[i].ctrl = i;
        cfg->usbdevs[i].port = 1;
        cfg->usbdevs[i].u.hostdev.hostbus = 1;
        cfg->usbdevs[i].u.hostdev.hostaddr = i + 2;
    }
    cfg->num_usbctrls = cfg->num_usbdevs = n;
}

/* Appends a controller with devid = how many there were. */
static void config_append(libxl_domain_usb_config *cfg)
{
    libxl_device_usbctrl *c;

    cfg->usbctrls = realloc(cfg->usbctrls,
                            (cfg->num_usbctrls + 1) * sizeof(*c));
    ASSERT(cfg->usbctrls);
    c = &cfg->usbctrls[cfg->num_usbctrls];
    libxl_device_usbctrl_init(c);
    c->devid = cfg->num_usbctrls++;
}

/* The domain lock, taken as an operation of the library does, but
 * waiting here (there is no ao to wait from). */
static int lock_take(libxl__gc *gc, libxl__domain_lock *lock)
{
    int rc;

    libxl__domain_lock_init(lock);
    lock->domid = DOMID;
    while ((rc = libxl__domain_lock_try(gc, lock)) == ERROR_NOT_READY)
        usleep(1000);
    return rc;
}

static void test_missing_is_empty(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_usb_config cfg;
    struct stat st;

    libxl_domain_usb_config_init(&cfg);
    CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &cfg), 0);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    CHECK_INT_EQ(cfg.num_usbdevs, 0);
    ASSERT_INT_EQ(stat(state_dir, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0700);
    CHECK_INT_EQ(libxl__remove_domain_usb_config(gc, UUID), 0);
    libxl_domain_usb_config_dispose(&cfg);
    GC_FREE;
}

static void test_round_trip(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_usb_config cfg, back;
    char *json, *json_back, *path;
    libxl__domain_lock lock;
    DIR *d;
    struct dirent *de;
    int files = 0;

    libxl_domain_usb_config_init(&cfg);
    libxl_domain_usb_config_init(&back);
    config_fill(&cfg, 3);

    ASSERT_INT_EQ(lock_take(gc, &lock), 0);
    CHECK_INT_EQ(libxl__set_domain_usb_config(gc, UUID, &cfg), 0);
    CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &back), 0);
    libxl__domain_lock_release(gc, &lock);

    json = libxl_domain_usb_config_to_json(ctx, &cfg);
    json_back = libxl_domain_usb_config_to_json(ctx, &back);
    CHECK_STR_EQ(json_back, json);
    free(json);
    free(json_back);

    /* <uuid>.json alone: no temp file left, and the lock file goes as
     * the lock is let go. */
    path = GCSPRINTF("%s/%s.json", state_dir, fakedom_uuid(DOMID));
    CHECK(access(path, R_OK) == 0);
    d = opendir(state_dir);
    ASSERT(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            files++;
    closedir(d);
    CHECK_INT_EQ(files, 1);

    CHECK_INT_EQ(libxl__remove_domain_usb_config(gc, UUID), 0);
    CHECK(access(path, F_OK) < 0);
    libxl_domain_usb_config_dispose(&back);
    libxl_domain_usb_config_init(&back);
    CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &back), 0);
    CHECK_INT_EQ(back.num_usbctrls, 0);

    libxl_domain_usb_config_dispose(&cfg);
    libxl_domain_usb_config_dispose(&back);
    GC_FREE;
}

static void test_garbage_refused(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_usb_config cfg;
    char *path;
    FILE *f;

    libxl_domain_usb_config_init(&cfg);
    CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &cfg), 0);
    path = GCSPRINTF("%s/%s.json", state_dir, fakedom_uuid(DOMID));
    f = fopen(path, "w");
    ASSERT(f);
    fputs("{ \"usbctrls\": [ { \"devid\": ", f);
    fclose(f);
    CHECK(libxl__get_domain_usb_config(gc, UUID, &cfg) < 0);
    libxl_domain_usb_config_dispose(&cfg);
    GC_FREE;
}

/*
 * Child processes make their own ctx: the test's belongs to the parent.
 * fn runs with it and a gc; the child exits with fn's result.
 */
static void __attribute__((noreturn))
child_run(int (*fn)(libxl__gc *gc, int arg), int arg)
{
    xentoollog_logger_stdiostream *lg;
    libxl_ctx *ctx;
    int rc;

    lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    if (!lg || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                               (xentoollog_logger *)lg))
        _exit(98);
    {
        GC_INIT(ctx);
        rc = fn(gc, arg);
        GC_FREE;
    }
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    _exit(rc ? 1 : 0);
}

/* Adds (or, at 8, resets to one) a controller, under the lock. */
static int update_once(libxl__gc *gc, libxl_domain_usb_config *cfg)
{
    libxl__domain_lock lock;
    int rc;

    rc = lock_take(gc, &lock);
    if (rc) return rc;
    libxl_domain_usb_config_dispose(cfg);
    libxl_domain_usb_config_init(cfg);
    rc = libxl__get_domain_usb_config(gc, UUID, cfg);
    if (!rc) {
        if (cfg->num_usbctrls >= 8)
            config_fill(cfg, 1);
        else
            config_append(cfg);
        rc = libxl__set_domain_usb_config(gc, UUID, cfg);
    }
    libxl__domain_lock_release(gc, &lock);
    return rc;
}

static int ready_fd = -1;

/* Updates forever, saying once on ready_fd that it has started. */
static int update_forever(libxl__gc *gc, int arg)
{
    libxl_domain_usb_config cfg;

    (void)arg;
    libxl_domain_usb_config_init(&cfg);
    for (;;) {
        if (update_once(gc, &cfg))
            return 1;
        if (ready_fd >= 0) {
            if (write(ready_fd, "x", 1) != 1)
                return 1;
            close(ready_fd);
            ready_fd = -1;
        }
        libxl__free_all(gc);
    }
}

static void test_sigkill_leaves_old_or_new(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_usb_config cfg;
    int fds[2], i, status;
    char c;
    pid_t pid;

    srand(getpid());
    libxl_domain_usb_config_init(&cfg);
    for (i = 0; i < 40; i++) {
        ASSERT_INT_EQ(pipe(fds), 0);
        pid = fork();
        ASSERT(pid >= 0);
        if (!pid) {
            close(fds[0]);
            ready_fd = fds[1];
            child_run(update_forever, 0);
        }
        close(fds[1]);
        CHECK_INT_EQ(read(fds[0], &c, 1), 1);
        close(fds[0]);
        usleep(rand() % 20000);
        kill(pid, SIGKILL);
        ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status));

        libxl_domain_usb_config_dispose(&cfg);
        libxl_domain_usb_config_init(&cfg);
        CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &cfg), 0);
        CHECK(cfg.num_usbctrls >= 1 && cfg.num_usbctrls <= 8);
        libxl__free_all(gc);
    }
    libxl_domain_usb_config_dispose(&cfg);
    GC_FREE;
}

#define INCREMENTS 40

static int increment_many(libxl__gc *gc, int n)
{
    libxl_domain_usb_config cfg;
    libxl__domain_lock lock;
    int i, rc = 0;

    libxl_domain_usb_config_init(&cfg);
    for (i = 0; i < n && !rc; i++) {
        rc = lock_take(gc, &lock);
        if (rc) return rc;
        libxl_domain_usb_config_dispose(&cfg);
        libxl_domain_usb_config_init(&cfg);
        rc = libxl__get_domain_usb_config(gc, UUID, &cfg);
        if (!rc) {
            config_append(&cfg);
            rc = libxl__set_domain_usb_config(gc, UUID, &cfg);
        }
        libxl__domain_lock_release(gc, &lock);
    }
    libxl_domain_usb_config_dispose(&cfg);
    return rc;
}

static void test_lock_serialises(void)
{
    libxl_ctx *ctx = setup();
    GC_INIT(ctx);
    libxl_domain_usb_config cfg;
    pid_t pids[2];
    int i, status;

    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        ASSERT(pids[i] >= 0);
        if (!pids[i])
            child_run(increment_many, INCREMENTS);
    }
    for (i = 0; i < 2; i++) {
        ASSERT_INT_EQ(waitpid(pids[i], &status, 0), pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    libxl_domain_usb_config_init(&cfg);
    CHECK_INT_EQ(libxl__get_domain_usb_config(gc, UUID, &cfg), 0);
    CHECK_INT_EQ(cfg.num_usbctrls, 2 * INCREMENTS);
    for (i = 0; i < cfg.num_usbctrls; i++)
        CHECK_INT_EQ(cfg.usbctrls[i].devid, i);
    libxl_domain_usb_config_dispose(&cfg);
    GC_FREE;
}

static const struct test tests[] = {
    { "missing file is the empty config", test_missing_is_empty },
    { "write and read back", test_round_trip },
    { "a torn file is refused, not half read", test_garbage_refused },
    { "SIGKILL while updating leaves old or new",
      test_sigkill_leaves_old_or_new },
    { "the lock serialises two processes", test_lock_serialises },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
