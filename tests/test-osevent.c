/*
 * test-osevent.c - the library driven from an application's own event
 * loop (libxl_osevent_register_hooks), the way libvirt's libxl driver
 * drives libxl (tests/harness/evloop.c): pv controllers and devices
 * attached and detached with callbacks, the simulated backend answering
 * through xenstore watches, and a registration the application refuses.
 * The devicemodel side (QMP sockets) is in test-qmp.c, the core's rules
 * for timeouts and fds in test-event.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <sys/stat.h>

#include "harness.h"

#define GUEST 1

static const char *state_dir;

/* A pv guest, the host's devices, a backend; a ctx on the app's loop. */
static libxl_ctx *setup(void)
{
    static const char *const trees[] = { "base", "keyboard", "stick" };
    libxl_ctx *ctx;
    size_t i;

    xs_start();
    fakedom_create(GUEST, "guest1", "pv");
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    state_dir = test_state_dir();
    simbackend_start(false);
    ctx = test_ctx();
    evloop_hooks_register(ctx);
    return ctx;
}

/* Runs one operation with a callback through the app's loop alone. */
#define HOOKED(ctx, d, call, want) do { \
    (d).done = false; \
    (d).rc = 1; \
    ASSERT_INT_EQ((call), 0); \
    CHECK(!(d).done); \
    ASSERT(evloop_run_until((ctx), &(d).done, 5000)); \
    CHECK_INT_EQ((d).rc, (want)); } while (0)

static void test_attach_detach(void)
{
    libxl_ctx *ctx = setup();
    const struct evloop_stats *st = evloop_stats();
    struct ao_done d;
    libxl_asyncop_how how = { .callback = ao_done_callback,
                              .u.for_callback = &d };
    libxl_device_usbctrl c;
    libxl_device_usbdev dev;

    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    c.ports = 4;
    HOOKED(ctx, d, libxl_device_usbctrl_add(ctx, GUEST, &c, &how), 0);
    CHECK_XS("/local/domain/0/backend/vusb/1/0/state", "2");  /* InitWait */

    libxl_device_usbdev_init(&dev);
    libxl_device_usbdev_init_type(&dev, LIBXL_USBDEV_TYPE_HOSTDEV);
    dev.u.hostdev.hostbus = 1;
    dev.u.hostdev.hostaddr = 3;
    HOOKED(ctx, d, libxl_device_usbdev_add(ctx, GUEST, &dev, &how), 0);
    CHECK_INT_EQ(dev.port, 1);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    CHECK_XS("/libxl/usbback/1-2/owner", "1/0/1");
    HOOKED(ctx, d, libxl_device_usbdev_remove(ctx, GUEST, &dev, &how), 0);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    CHECK(!xs_has("/libxl/usbback/1-2"));
    libxl_device_usbdev_dispose(&dev);

    HOOKED(ctx, d, libxl_device_usbctrl_remove(ctx, GUEST, &c, &how), 0);
    CHECK(!xs_has("/libxl/1/device/vusb"));
    CHECK(!xs_has("/local/domain/0/backend/vusb/1"));
    /* and an error comes the same way */
    HOOKED(ctx, d, libxl_device_usbctrl_remove(ctx, GUEST, &c, &how),
           ERROR_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);

    tap_diag("hooks: %d fd registrations, %d timeouts (%d cancelled, %d "
             "fired)", st->fd_register, st->timeout_register,
             st->timeout_modify, st->timeout_occurred);
    /* the wakeup pipe, then xenstore's fd at the first watch */
    CHECK_INT_EQ(st->fd_register, 2);
    CHECK_INT_EQ(st->fd_deregister, 0);
    /* the backend waits: each cancelled as libxl does */
    CHECK(st->timeout_register >= 2);
    CHECK_INT_EQ(st->timeout_modify, st->timeout_register);
    CHECK_INT_EQ(st->timeout_modify_not_now, 0);
    CHECK_INT_EQ(st->timeout_deregister, 0);
    evloop_run_for(ctx, 50);
    CHECK_INT_EQ(st->timers, 0);
}

static void test_register_refused(void)
{
    libxl_ctx *ctx = setup();
    struct ao_done d;
    libxl_asyncop_how how = { .callback = ao_done_callback,
                              .u.for_callback = &d };
    libxl_device_usbctrl c;

    /* the first watch needs xenstore's fd: the app refuses it */
    evloop_fail_fd_register(1);
    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    HOOKED(ctx, d, libxl_device_usbctrl_add(ctx, GUEST, &c, &how),
           ERROR_OSEVENT_REG_FAIL);
    CHECK(!xs_has("/libxl/1/device/vusb"));
    CHECK(!xs_has("/local/domain/1/device/vusb"));
    /* nothing is stuck: the next one registers it */
    HOOKED(ctx, d, libxl_device_usbctrl_add(ctx, GUEST, &c, &how), 0);
    libxl_device_usbctrl_dispose(&c);
}

static const struct test tests[] = {
    { "pv attach and detach driven only through the app's event hooks",
      test_attach_detach },
    { "a registration the app refuses fails the operation, cleanly",
      test_register_refused },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
