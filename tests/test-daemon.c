/*
 * test-daemon.c - xlusbd, the real binary, forked under the harness (real
 * xenstored, the fake sysfs, the simulated backend, udevfake.so for its
 * udev events): a replugged device attached again, another device at its
 * port refused, a rebooted guest given its controller and device again,
 * a dead guest's device given back to the host, lost udev events
 * (ENOBUFS) made up for, a qusb controller made once its QEMU is there,
 * a failed rebind retried with backoff.  Each test first waits for the
 * daemon's first pass (its status file), so that what it checks is done
 * by the daemon's handling of the event.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"

#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define GUEST 1
#define REBOOTED 5          /* GUEST after its reboot */
#define STICK_INTF "1-2:1.0"
#define PORT_1 "/local/domain/0/backend/vusb/1/0/port/1"

static void daemon_stop(void)
{
    int status = xlusbd_stop();

    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The harness's clock, in fractional ms (the figures show 0.1 ms). */
static double now_ms(void)
{
    return harness_now_us() / 1e3;
}

/* Waits up to ms for path to read value; the time it took, or -1. */
static double wait_xs(const char *path, const char *value, int ms)
{
    double start = now_ms();

    while (now_ms() - start < ms) {
        char *v = xs_get(path);
        bool same = v ? !strcmp(v, value) : !*value;

        free(v);
        if (same) return now_ms() - start;
        usleep(2000);
    }
    return -1;
}

/* Waits up to 1 s for the stick's interface to be on driver. */
static bool wait_driver(const char *driver)
{
    int i;

    for (i = 0; i < 500; i++) {
        const char *d = sysfs_driver_of(STICK_INTF);

        if (d && !strcmp(d, driver)) return true;
        usleep(2000);
    }
    return false;
}

/* The stick (1-2) declared on controller 0 (of type) port 1 of GUEST;
 * the daemon running. */
static void setup_declared(libxl_usbctrl_type type)
{
    libxl_ctx *ctx;

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    sysfs_setup("stick");
    test_state_dir();
    simbackend_start(false);
    if (type == LIBXL_USBCTRL_TYPE_QUSB)
        xs_put("/local/domain/0/device-model/1/backends/qusb", "");
    ctx = test_ctx();
    ASSERT_INT_EQ(usbctrl_add_at(ctx, GUEST, 0, type, 4, 0, 0), 0);
    ASSERT_INT_EQ(usbdev_add_at(ctx, GUEST, 1, 3, 0, 1, 0), 0);
    xlusbd_start(sysfs_root(), NULL);
}

static void setup_stick(void)
{
    setup_declared(LIBXL_USBCTRL_TYPE_PV);
}

/* The lines of `xlusb usb-daemon-status` that contain what. */
static int status_count(const char *what)
{
    char line[512];
    int n = 0;
    FILE *p = popen(XLUSB " usb-daemon-status 2>&1", "r");

    ASSERT(p);
    while (fgets(line, sizeof(line), p))
        n += strstr(line, what) != NULL;
    pclose(p);
    return n;
}

/* `xlusb usb-daemon-status` shows did (an action line) and the state of
 * the daemon pid, within 2 s: the daemon writes its status file at the end
 * of a pass, which can end after what it did is seen in xenstore. */
static void check_status(pid_t pid, const char *did, const char *state)
{
    char *want;
    bool seen_did = false, seen_state = false;
    int round;

    ASSERT(asprintf(&want, "(pid %d) is %s\n", (int)pid, state) > 0);
    for (round = 0; round < 100 && !(seen_did && seen_state); round++) {
        if (round) usleep(20000);
        seen_did = status_count(did) > 0;
        seen_state = status_count(want) > 0;
    }
    CHECK(seen_did);
    CHECK(seen_state);
    free(want);
}

/* The stick unplugged: taken off its port by the daemon, and one more
 * pass of the daemon's over (those its own writes to xenstore bring come
 * before it), so that the next event (and not one of those passes, which
 * could see a replug half made) is what the test checks. */
static void unplug_stick(void)
{
    sysfs_unplug("1-2");
    xlusbd_udev("remove", "1-2");
    CHECK(wait_xs(PORT_1, "", 1000) >= 0);
    xlusbd_pass();
}

static void test_replug(void)
{
    double t;
    pid_t pid;

    setup_stick();
    unplug_stick();
    sysfs_replug("stick", 9);
    xlusbd_udev("add", "1-2");
    t = wait_xs(PORT_1, "1-2", 1000);
    CHECK(t >= 0);
    CHECK(wait_driver("usbback"));
    tap_figure("daemon: replugged stick attached again in %.1f ms", t);
    pid = xlusbd_pid();
    check_status(pid, "attached USB device 1-2 to controller 0 port 1",
                 "running");
    daemon_stop();
    check_status(pid, "took USB device 1-2 off", "not running");
}

static void test_other_device(void)
{
    int round, attached = 0;

    setup_stick();
    for (round = 0; round < 5; round++) {
        unplug_stick();
        sysfs_replug("stick", 10 + round);
        sysfs_set_attr("1-2", "serial", "OTHER0001");
        xlusbd_udev("add", "1-2");
        if (wait_xs(PORT_1, "1-2", 300) >= 0) attached++;
    }
    CHECK_INT_EQ(attached, 0);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    tap_figure("daemon: another device at the port attached %d of 5",
               attached);
    daemon_stop();
}

static void test_reboot(void)
{
    double start, t;

    setup_stick();
    CHECK(wait_xs(PORT_1, "1-2", 1000) >= 0);
    start = now_ms();
    fakedom_destroy(GUEST);
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    CHECK(wait_xs("/local/domain/0/backend/vusb/5/0/port/1", "1-2",
                  3000) >= 0);
    CHECK(wait_driver("usbback"));
    t = now_ms() - start;
    tap_figure("daemon: rebooted guest's controller and stick back in"
               " %.1f ms", t);
    daemon_stop();
}

static void test_death(void)
{
    double start = 0;
    int i;

    setup_stick();
    fakedom_destroy(GUEST);
    start = now_ms();
    for (i = 0; i < 1000 && xs_has("/libxl/usbback/1-2"); i++)
        usleep(2000);
    CHECK(!xs_has("/libxl/usbback/1-2"));
    CHECK(wait_driver("usb-storage"));
    tap_figure("daemon: dead guest's stick given back in %.1f ms",
               now_ms() - start);
    daemon_stop();
}

/* Its udev events lost (ENOBUFS instead of the "add"): the daemon looks
 * at everything again and finds the replugged stick. */
static void test_events_lost(void)
{
    double t;

    setup_stick();
    unplug_stick();
    sysfs_replug("stick", 9);
    xlusbd_udev_lost();
    t = wait_xs(PORT_1, "1-2", 1000);
    CHECK(t >= 0);
    CHECK(wait_driver("usbback"));
    tap_figure("daemon: events lost, replugged stick attached in %.1f ms",
               t);
    daemon_stop();
}

/* A qusb controller after the reboot: made once the new domain's QEMU
 * announces itself (an event), not before, and not at the 10 s safety
 * retry. */
static void test_qusb_waits(void)
{
    double t;

    setup_declared(LIBXL_USBCTRL_TYPE_QUSB);
    fakedom_destroy(GUEST);
    fakedom_create_as(REBOOTED, "guest1", "pv", GUEST);
    CHECK(wait_xs("/libxl/5/device/vusb/0/type", "qusb", 300) < 0);
    xs_put("/local/domain/0/device-model/5/backends/qusb", "");
    t = wait_xs("/local/domain/0/backend/qusb/5/0/port/1", "1-2", 1000);
    CHECK(t >= 0);
    tap_figure("daemon: qusb controller and stick back %.1f ms after its"
               " QEMU announced itself", t);
    daemon_stop();
}

/* The dead guest's stick cannot be bound back to usb-storage: the daemon
 * tries again after 1 s, then 2 s, and says so; once the bind works, at
 * the next retry, it gets the stick back. */
static void test_rebind_retried(void)
{
    double start;
    int i;

    setup_stick();
    sysfs_inject("/sys/bus/usb/drivers/usb-storage/bind", EIO, -1);
    start = now_ms();
    fakedom_destroy(GUEST);
    for (i = 0; i < 200 && !status_count("retrying in 2 s"); i++)
        usleep(50000);
    CHECK_INT_EQ(status_count("retrying in 1 s"), 1);
    CHECK_INT_EQ(status_count("retrying in 2 s"), 1);
    CHECK_NULL(sysfs_driver_of(STICK_INTF));
    sysfs_inject_clear();
    for (i = 0; i < 2000 && xs_has("/libxl/usbback/1-2"); i++)
        usleep(2000);
    CHECK_STR_EQ(sysfs_driver_of(STICK_INTF), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2"));
    if (i < 2000)
        tap_figure("daemon: stick back on usb-storage %.0f ms after the"
                   " guest died, its bind failing for the first 3 s",
                   now_ms() - start);
    daemon_stop();
    CHECK_INT_EQ(status_count("gave back what the retry was for"), 1);
}

static const struct test tests[] = {
    { "replug: taken off, attached again at its port", test_replug },
    { "another device at the port: never attached", test_other_device },
    { "reboot: controller and device applied again", test_reboot },
    { "death: the device given back to the host", test_death },
    { "udev events lost: everything looked at again", test_events_lost },
    { "qusb: waits for the guest's QEMU", test_qusb_waits },
    { "a failed rebind retried with backoff", test_rebind_retried },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
