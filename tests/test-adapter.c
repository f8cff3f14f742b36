/*
 * test-adapter.c - the PVUSB adapter (adapter/libxl_pvusb_adapter.c):
 * what it exports, that the types it passes are laid out as Debian's
 * libxenlight has them, and a program linked with Debian's -lxenlight
 * only (tests/adapter/caller.c, written as xl's usb* commands are) run
 * with the adapter preloaded, on the private real xenstored, the fake
 * sysfs and the simulated backend.  Without a hypervisor, libxenlight's
 * libxl_ctx_alloc needs a libxenctrl handle: the harness's stand-in
 * (tests/harness/xcmock.so, which tests/run-test preloads) answers for
 * the three libxenctrl calls made, from the test's domains.
 *
 * Host devices (tests/sysfs): keyboard 1-1 (bus 1 addr 2, usbhid), stick
 * 1-2 (bus 1 addr 3, usb-storage).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ADAPTER TEST_TOPDIR "/adapter/libxlpvusb-adapter.so"
#define CALLER TEST_TOPDIR "/tests/bin/adapter-caller"
#define LIBXENLIGHT "/usr/lib/x86_64-linux-gnu/libxenlight.so.4.17"
#define BE "/local/domain/0/backend/vusb/1/0"

static const char entry_points[] =
    "libxl_ctrlport_to_device_usbdev\n"
    "libxl_device_usbctrl_add\n"
    "libxl_device_usbctrl_destroy\n"
    "libxl_device_usbctrl_getinfo\n"
    "libxl_device_usbctrl_list\n"
    "libxl_device_usbctrl_list_free\n"
    "libxl_device_usbctrl_remove\n"
    "libxl_device_usbdev_add\n"
    "libxl_device_usbdev_list\n"
    "libxl_device_usbdev_list_free\n"
    "libxl_device_usbdev_remove\n"
    "libxl_devid_to_device_usbctrl\n";

/* make check-asan (tests/asan/run.sh) builds neither the adapter nor its
 * test programs: the programs it is preloaded into are Debian's, with no
 * ASan runtime for an instrumented adapter. */
static void require_adapter(void)
{
    if (access(ADAPTER, R_OK) || access(CALLER, X_OK))
        SKIP("the adapter and its test programs are not built in this "
             "tree (make check-asan does not build them)");
}

static void exec_sh(void *cmd)
{
    execl("/bin/sh", "sh", "-c", (const char *)cmd, (char *)NULL);
}

/* What the shell command cmd prints on stdout (stderr shown as it is);
 * the command must succeed. */
static char *sh_output(const char *cmd)
{
    char *out, *err;
    int status = run_capture(exec_sh, (void *)cmd, &out, &err);

    if (!WIFEXITED(status) || WEXITSTATUS(status))
        tap_fail(__FILE__, __LINE__, "`%s` failed: %s", cmd, err);
    free(err);
    return out;
}

static void test_exports(void)
{
    char *ours, *theirs;

    require_adapter();
    ours = sh_output("nm -D --defined-only " ADAPTER
                     " | awk '{ print $3 }' | sort");
    CHECK_STR_EQ(ours, entry_points);
    /* each of them is libxenlight's public name */
    theirs = sh_output("for s in $(nm -D --defined-only " ADAPTER
                       " | awk '{ print $3 }'); do nm -D --defined-only "
                       LIBXENLIGHT " | grep -q \" T $s@\" && echo $s; "
                       "done | sort");
    CHECK_STR_EQ(theirs, entry_points);
    free(ours);
    free(theirs);
}

static void test_layout(void)
{
    char *debian, *ours;

    require_adapter();
    debian = sh_output(TEST_TOPDIR "/tests/bin/adapter-layout-debian");
    ours = sh_output(TEST_TOPDIR "/tests/bin/adapter-layout-ours");
    CHECK(strlen(debian) > 1000);
    CHECK_STR_EQ(ours, debian);
    free(debian);
    free(ours);
}

static void setup(void)
{

    require_adapter();
    xs_start();
    fakedom_create(1, "guest1", "pv");
    sysfs_setup("keyboard");
    sysfs_setup("stick");
    test_state_dir();
    simbackend_start(false);
}

static void exec_caller(void *args)
{
    const char *prev = getenv("LD_PRELOAD");
    char preload[1024], cmd[512];

    snprintf(preload, sizeof(preload), "%s%s%s", ADAPTER, prev ? ":" : "",
             prev ? prev : "");
    setenv("LD_PRELOAD", preload, 1);
    snprintf(cmd, sizeof(cmd), "exec %s %s", CALLER, (const char *)args);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
}

/* What `caller <args>` printed on stdout, libxenlight's own stderr shown
 * on ours. */
static char *caller(const char *args)
{
    char *out, *err;
    int status = run_capture(exec_caller, (void *)args, &out, &err);

    if (!WIFEXITED(status) || WEXITSTATUS(status))
        tap_fail(__FILE__, __LINE__, "caller %s: status %d", args, status);
    if (*err)
        fprintf(stderr, "caller %s: stderr: %s", args, err);
    free(err);
    return out;
}

#define CHECK_CALLER(args, want) do { char *o_ = caller(args); \
    CHECK_STR_EQ(o_, want); free(o_); } while (0)
/* The caller's logger got a message with logged in it, and the output
 * ends with tail. */
#define CHECK_CALLER_LOGGED(args, logged, tail) do { \
    char *o_ = caller(args); size_t n_ = strlen(o_), t_ = strlen(tail); \
    const char *l_ = strstr(o_, "log: "); \
    if (!l_ || !strstr(l_, logged) || n_ < t_ || strcmp(o_ + n_ - t_, tail)) \
        tap_fail(__FILE__, __LINE__, "caller %s printed \"%s\", want a " \
                 "log line with \"%s\", then \"%s\"", args, o_, logged, \
                 tail); \
    free(o_); } while (0)

/* xl's five usb commands, and two of libxl's defects gone through it. */
static void test_xl_commands(void)
{
    setup();
    CHECK_CALLER("usbctrl-attach guest1 4", "devid 0\nrc=0\n");
    CHECK_XS(BE "/num-ports", "4");
    /* type 0, as xl leaves it */
    CHECK_CALLER("usbdev-attach guest1 1 3", "ctrl 0 port 1\nrc=0\n");
    CHECK_XS(BE "/port/1", "1-2");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    CHECK(xs_has("/libxl/usbback/1-2/owner"));
    CHECK_CALLER("usb-list guest1",
                 "ctrl 0 pv be 0 usb-ver 2 ports 4\n"
                 "  port 1: bus 1 addr 3\nrc=0\n");
    /* libxl writes port/99 of a 4-port controller; the message goes to
     * the caller's logger */
    CHECK_CALLER_LOGGED("usbdev-attach guest1 1 2 0 99",
                        "USB controller 0 has ports 1 to 4, not 99\n",
                        "ctrl 0 port 99\nrc=-6\n");
    CHECK(!xs_has(BE "/port/99"));
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    /* libxl segfaults on a controller that does not exist */
    CHECK_CALLER("usbdev-detach guest1 7 1", "rc=-23\n");
    CHECK_CALLER("usbdev-detach guest1 0 1", "rc=0\n");
    CHECK_XS(BE "/port/1", "");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    CHECK_CALLER("usbctrl-detach guest1 0", "rc=0\n");
    CHECK(!xs_has(BE));
    CHECK_CALLER("usb-list guest1", "rc=0\n");
}

/* An ao_how with a callback: ERROR_NI at once, said to the caller's
 * logger, nothing done and no callback. */
static void test_ao_how_refused(void)
{
    setup();
    CHECK_CALLER("usbdev-attach guest1 1 3", "ctrl 0 port 1\nrc=0\n");
    CHECK_CALLER("async-detach guest1 0 1",
                 "log: libxl_device_usbdev_remove: the PVUSB adapter runs "
                 "synchronous calls only (ao_how NULL); asynchronous "
                 "completion is not implemented\nrc=-4\n");
    CHECK_XS(BE "/port/1", "1-2");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
}

static const struct test tests[] = {
    { "exports libxenlight's 12 PVUSB entry points only", test_exports },
    { "types laid out as libxenlight's", test_layout },
    { "xl's usb commands through the adapter", test_xl_commands },
    { "an ao_how is refused, nothing done", test_ao_how_refused },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
