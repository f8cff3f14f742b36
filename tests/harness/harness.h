/*
 * harness.h - what every test program uses: a TAP runner with checks
 * that print both sides, a private real xenstored with a stand-in
 * hypervisor (tests/harness/xcmock.so), fake domains, the fake sysfs
 * (tests/harness/sysfsmock.so), the QMP socket redirection
 * (tests/harness/qmpredirect.so) and a simulated backend; the three
 * preloads are preloaded by tests/run-test.
 *
 * A test program:
 *
 *     static void test_foo(void) { CHECK_INT_EQ(1 + 1, 2); ... }
 *     static const struct test tests[] = {
 *         { "foo does bar", test_foo },
 *         ...
 *     };
 *     int main(int argc, char **argv) { return tap_main(argc, argv, tests,
 *                                        ARRAY_LEN(tests)); }
 *
 * tap_main prints "1..N", then runs each test in a forked child (so one
 * crash fails one test), and prints "ok N - name" or "not ok N - name".
 * A named argument runs only the tests whose names contain it.  A test may
 * call SKIP("why") and must say why.
 *
 * What a test child writes on stderr (the library's log at TEST_LOGLEVEL,
 * the failures of CHECK and ASSERT, golden diffs, the messages of the
 * processes it forks) is kept in a temp file and shown, as "# " lines on
 * stderr before "not ok", only if the test fails: a passing test prints
 * only its "ok" line, so the error messages that tests of errors expect
 * do not show in `make check`.  TEST_VERBOSE=1 keeps stderr as it is
 * (everything shown as it comes, pass or fail), e.g.
 * `TEST_VERBOSE=1 TEST_LOGLEVEL=debug tests/run-test tests/bin/test-pvusb
 * composite`.  tap_diag lines (stdout) are TAP comments either way.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "libxl_pvusb.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct test {
    const char *name;
    void (*fn)(void);
};

int tap_main(int argc, char **argv, const struct test *tests, size_t n);

/* Marks the running test failed and prints "# file:line: msg" (TAP
 * diagnostic).  The test goes on; ASSERT_* stop it (the child exits). */
void tap_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tap_skip(const char *why) __attribute__((noreturn));
/* Prints "# ..." (each line of the message so prefixed) on stdout: a TAP
 * comment, shown by prove -v, that fails nothing. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "# ..." on the runner's stderr, which prove always shows, even
 * for a test that passes (whose own stderr is dropped): a suite's
 * figures. */
void tap_figure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_bail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(c) do { if (!(c)) \
    tap_fail(__FILE__, __LINE__, "CHECK(%s) failed", #c); } while (0)
#define CHECK_INT_EQ(a, b) do { long long a_ = (a), b_ = (b); \
    if (a_ != b_) tap_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
                           #a, #b, a_, b_); } while (0)
#define CHECK_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_)) \
        tap_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define CHECK_NULL(a) do { const void *a_ = (a); if (a_) \
    tap_fail(__FILE__, __LINE__, "%s is not NULL", #a); } while (0)
#define ASSERT(c) do { if (!(c)) \
    tap_bail(__FILE__, __LINE__, "ASSERT(%s) failed", #c); } while (0)
#define ASSERT_INT_EQ(a, b) do { long long a_ = (a), b_ = (b); \
    if (a_ != b_) tap_bail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
                           #a, #b, a_, b_); } while (0)
#define SKIP(why) tap_skip(why)

/*
 * Runs child(arg) in a forked process whose stdout and stderr go to
 * pipes: stderr to its own if err is given, else into stdout's.  Reads
 * them to their ends, then waits for the process; returns its wait status
 * and what it printed in *out (and *err), malloc'd and NUL-terminated.
 * child should exit or exec; if it returns, the process _exits 127.
 * Bails if a pipe, fork or wait fails.
 */
int run_capture(void (*child)(void *), void *arg, char **out, char **err);

/* The whole of the file at path, malloc'd and NUL-terminated, or NULL if
 * it cannot be opened. */
char *read_text_file(const char *path);

/* An asynchronous operation's completion, for libxl_asyncop_how:
 * .callback = ao_done_callback, .u.for_callback = &done. */
struct ao_done {
    volatile bool done;
    int rc;
};
void ao_done_callback(libxl_ctx *ctx, int rc, void *for_callback);

/*----- a private real xenstored -----*/

/*
 * Starts Debian's xenstored (XENSTORED env var overrides the binary;
 * default /usr/lib/xen-4.17/bin/xenstored) under tests/harness/xsshim.so,
 * in a temp dir, sets XENSTORED_PATH so every xs_open() of this process
 * and its children talks to it, and waits until it answers.  If it cannot
 * start, the test BAILS with the daemon's log: it never skips.  Stopped
 * (and its dir removed) by xs_stop or at the test child's exit.
 * Creates dom0's entries: /local/domain/0/name = Domain-0, domid 0.
 * Starts the hypervisor too, as far as a dom0 toolstack sees it: a domain
 * table holding dom0, which tests/harness/xcmock.so (libxenctrl's stand-in,
 * preloaded by tests/run-test) answers from in this process and in the
 * processes it runs (XCMOCK_DOMAINS; see xcmock.h).
 */
void xs_start(void);
void xs_stop(void);
/* The daemon's pid (it runs natively: never under valgrind), or -1. */
pid_t xs_daemon_pid(void);
/* A fresh libxenstore handle on the private daemon (caller xs_close()s). */
struct xs_handle *xs_test_open(void);

/* Convenience reads/writes on the private daemon; bail on error.
 * xs_get returns a malloc'd value or NULL if absent. */
char *xs_get(const char *path);
void xs_put(const char *path, const char *value);
void xs_del(const char *path);
bool xs_has(const char *path);
/* Permissions of path as libxenstore's string form, e.g. "n5,r0". */
char *xs_perms(const char *path);
/* The value at path is want ("(absent)": there is none); its
 * permissions (xs_perms' form) are want. */
#define CHECK_XS(path, want) do { \
    const char *p_ = (path), *w_ = (want); char *v_ = xs_get(p_); \
    if (v_ ? strcmp(v_, w_) : strcmp(w_, "(absent)")) \
        tap_fail(__FILE__, __LINE__, "%s = \"%s\", want \"%s\"", p_, \
                 v_ ? v_ : "(absent)", w_); \
    free(v_); } while (0)
#define CHECK_PERMS(path, want) do { \
    const char *p_ = (path), *w_ = (want); char *v_ = xs_perms(p_); \
    if (!v_ || strcmp(v_, w_)) \
        tap_fail(__FILE__, __LINE__, "perms of %s: \"%s\", want \"%s\"", \
                 p_, v_ ? v_ : "(none)", w_); \
    free(v_); } while (0)

/*
 * A guest, as a toolstack would have created it: /local/domain/<id>
 * {name, domid, vm = /vm/<uuid>}, /vm/<uuid>/{uuid,name}, /libxl/<id>/type
 * = "pv" | "pvh" | "hvm"; the uuid is derived from the domid.  Introduced
 * to xenstored, and first made in the hypervisor (xc_domain_getinfolist
 * lists it: running, HVM unless pv, its uuid).  fakedom_destroy removes
 * it from the hypervisor, then releases it and removes its entries.
 */
void fakedom_create(uint32_t domid, const char *name, const char *type);
/* The same with the uuid fakedom_create gives uuid_domid: domain
 * uuid_domid rebooted (destroyed first), or created again, as domid. */
void fakedom_create_as(uint32_t domid, const char *name, const char *type,
                       uint32_t uuid_domid);
void fakedom_destroy(uint32_t domid);
/* The guest shut down (its toolstack has yet to destroy or reboot it):
 * the hypervisor lists it, shut down, not running; xenstore unchanged. */
void fakedom_shutdown(uint32_t domid);
/* The same, but the hypervisor still lists the domain, dying, with its
 * uuid: what `xl destroy` or `xl reboot` leaves while a backend still
 * maps the guest's pages (seen on a real Xen for ~95 s). */
void fakedom_destroy_dying(uint32_t domid);
/* The uuid fakedom_create gives domid (static buffer). */
const char *fakedom_uuid(uint32_t domid);

/*----- the fake sysfs -----*/

/*
 * Copies the pristine tree tests/sysfs/<tree>/ (a fake /sys/bus/usb) into
 * a per-test temp dir and points sysfsmock.so at it (SYSFSMOCK_ROOT); it
 * may be called several times to add devices from several trees; the
 * first call also copies "base".  Until then the mock serves an empty
 * root: no test ever sees the host's USB devices.  Bails if the mock is
 * not preloaded (run tests through tests/run-test).  Trees:
 *   "base"       : drivers usb, hub, usbhid, usb-storage, usbfs, usbback;
 *                  root hubs usb1, usb2 (interfaces 1-0:1.0, 2-0:1.0)
 *   "keyboard"   : 1-1, bus 1 addr 2, 1 interface on usbhid
 *   "stick"      : 1-2, bus 1 addr 3, serial "STICK0001", usb-storage
 *   "stick2"     : 1-3, bus 1 addr 4, same vendor:product as stick,
 *                  serial "STICK0002", usb-storage
 *   "composite"  : 2-1, bus 2 addr 2, 3 interfaces: usbhid, usbhid,
 *                  usb-storage
 *   "hub"        : 2-2, bus 2 addr 3, class 9, on hub
 *   "behind-hub" : 2-2.1 (behind the hub), bus 2 addr 4, usb-storage
 * (exact attributes: see tests/sysfs/README).
 */
void sysfs_setup(const char *tree);
/*
 * Adds n keyboards (1 to 124), for tests that need more devices than the
 * trees have: root hub usb3 (bus 3 addr 1, 1d6b:0002 "xHCI Host
 * Controller", maxchild min(n, 31); 3-0:1.0 on hub) and on its port k the
 * device 3-<k>, bus 3 addr k + 1, devpath "<k>", with the keyboard's
 * attributes (046d:c31c, no serial), its interface 3-<k>:1.0 on usbhid;
 * beyond 31 (a hub's most ports), the next ones likewise on usb4, usb5,
 * usb6.  After sysfs_setup; once per test.
 */
void sysfs_add_devices(int n);
/* Plugs keyboard k of sysfs_add_devices in again (unplugged), at address
 * devnum, its interface on usbhid. */
void sysfs_replug_added(int k, int devnum);
/* What the code under test did below /sys/bus/usb since the test's first
 * sysfs_setup, in every process: files opened (open family, fopen),
 * directories listed (opendir, scandir).  For make bench; not kept
 * across a sysfs_reset. */
void sysfs_count(unsigned long *opens, unsigned long *listings);
/* The temp root (its sys/bus/usb is the fake /sys/bus/usb). */
const char *sysfs_root(void);
/* Removes the fake tree, injections included: the mock serves an empty
 * root until the next sysfs_setup, which starts again from "base" (for
 * tests that need a pristine host many times in one test). */
void sysfs_reset(void);
/*
 * Makes the next writes to sysfs path (as the library names it, e.g.
 * "/sys/bus/usb/drivers/usbback/bind", or where it resolves: an injection
 * on drivers/usbhid/unbind also hits devices/<intf>/driver/unbind) fail
 * with errno err, `times` times (-1: until cleared).  Counted across
 * processes (a CLI run by the test counts).  sysfs_inject_clear()
 * removes every injection.
 */
void sysfs_inject(const char *path, int err, int times);
/* Makes the next write to sysfs path come just after device busid is
 * unplugged (the write itself then modelled as usual). */
void sysfs_inject_unplug(const char *path, const char *busid);
void sysfs_inject_clear(void);
/* Driver name an interface is bound to (static buffer), or NULL. */
const char *sysfs_driver_of(const char *intf);
/* Bind/unbind as the kernel would, for setting up states (through the
 * mock's model, never subject to injections); bail if the kernel would
 * refuse (sysfs_unbind of an unbound interface included). */
void sysfs_bind(const char *intf, const char *driver);
void sysfs_unbind(const char *intf);
/* Physically unplug device busid (its dir and interfaces vanish, and
 * so do the devices behind it if it is a hub). */
void sysfs_unplug(const char *busid);
/* Plugs the device of tree (one of sysfs_setup's, unplugged) in again,
 * as the kernel does: at a new address (devnum), its interfaces on their
 * host drivers (the tree's). */
void sysfs_replug(const char *tree, int devnum);
/* Sets attribute attr of device busid to value (a trailing newline is
 * added, as the kernel prints them): another device at that port. */
void sysfs_set_attr(const char *busid, const char *attr, const char *value);
/* Removes a driver (as rmmod would): its dir vanishes. */
void sysfs_remove_driver(const char *driver);

/* The library's state dir for the test: <sysfs_root()>/state, made
 * (after sysfs_setup) and named in LIBXL_PVUSB_STATE_DIR.  Static. */
const char *test_state_dir(void);

/*----- xlusbd, the real daemon -----*/

/*
 * Starts xlusbd (one at a time) on the test's xenstored, fake sysfs and
 * LIBXL_PVUSB_STATE_DIR, its udev events (udevfake.so) from the FIFO
 * <dir>/udev.fifo, made here; its stderr appended to log, or the test's
 * if NULL.  Returns once its first pass is over (its status file names
 * it): what the test does next reaches it as events.  Killed at the test
 * child's exit if still running.
 */
void xlusbd_start(const char *dir, const char *log);
pid_t xlusbd_pid(void);
/* Does the status file in LIBXL_PVUSB_STATE_DIR name xlusbd pid (its
 * first pass over, its signals handled)?  For an xlusbd started by
 * other means too. */
bool xlusbd_ready(pid_t pid);
/* A udev event for xlusbd, "add" or "remove" of device sysname. */
void xlusbd_udev(const char *action, const char *sysname);
/* udev's buffer overran: xlusbd's next receive fails with ENOBUFS. */
void xlusbd_udev_lost(void);
/* Returns once a pass of xlusbd's has ended that began after the call
 * (asked by SIGHUP): what happened before has been looked at. */
void xlusbd_pass(void);
/* SIGTERM, then its wait status (-1 if none ran). */
int xlusbd_stop(void);

/*----- the simulated backend -----*/

/*
 * A process that watches backend/vusb and backend/qusb of dom0 and moves
 * each controller's `state` as a backend driver does: 1 -> 2 (InitWait)
 * when it appears (online=1); 2 -> 4 (Connected) once the frontend's
 * state is 3 or 4; on state 5 (Closing, as the toolstack sets it) with
 * online=0 -> 6 (Closed).  With silent true it never writes anything (the
 * toolstack's timeouts are then exercised).  simbackend_start_for does
 * the same for the backends of another domain (a driver domain; up to 4
 * backend domains at once).  simbackend_stop stops them all; so does the
 * test child's exit.
 */
void simbackend_start(bool silent);
void simbackend_start_for(uint32_t backend_domid, bool silent);
void simbackend_stop(void);

/*----- the operations, as tests call them -----*/

/* libxl_device_usbctrl_add_flags of a controller devid (-1: chosen) of
 * that type, ports and backend domain to domid, synchronously. */
int usbctrl_add_at(libxl_ctx *ctx, uint32_t domid, int devid,
                   libxl_usbctrl_type type, int ports, uint32_t backend,
                   unsigned int flags);
/* libxl_device_usbdev_add_flags of host device bus:addr to domid at
 * ctrl:port (-1, 0: chosen), synchronously. */
int usbdev_add_at(libxl_ctx *ctx, uint32_t domid, int bus, int addr,
                  int ctrl, int port, unsigned int flags);
/* libxl_device_usbdev_remove of what is at ctrl:port of domid. */
int usbdev_remove_at(libxl_ctx *ctx, uint32_t domid, int ctrl, int port);

/*----- a library context on the private daemon -----*/

/* A ctx logging to stderr at debug level (or the level in TEST_LOGLEVEL);
 * freed at the test child's exit. */
libxl_ctx *test_ctx(void);
/* A ctx logging to lg (which must outlive it); freed at the test child's
 * exit, before lg could be. */
libxl_ctx *test_ctx_logging_to(xentoollog_logger *lg);

/*
 * Runs the caller's own poll() loop with libxl_osevent_beforepoll /
 * afterpoll until *done becomes true or timeout_ms passes; returns
 * whether *done was reached.
 */
bool test_poll_until(libxl_ctx *ctx, const volatile bool *done,
                     int timeout_ms);

/*----- the application's own event loop, as libvirt's libxl driver -----*/

/*
 * evloop.c: an event loop of the application's, with a table of handles
 * (fd, events) and of timers (relative, re-armed until removed, -1 is
 * off), into which libxl is plugged with libxl_osevent_register_hooks the
 * way libvirt's libxl driver plugs it into its own (libxlFDRegisterEventHook
 * and the others, src/libxl/libxl_domain.c): a timer that fires is
 * disabled, libxl_osevent_occurred_timeout is called, then it is removed;
 * libxl's timeout_modify sets it to fire at once.  One loop per test
 * process.  evloop_hooks_register gives it to ctx; evloop_run_until runs
 * it until *done or timeout_ms passes (returns whether *done was reached).
 */
struct evloop_stats {
    int fd_register, fd_modify, fd_deregister;
    int timeout_register, timeout_modify, timeout_deregister;
    int timeout_modify_not_now;     /* abs other than {0,0}: libxl's rule */
    int fd_occurred, timeout_occurred;
    int handles, timers;            /* in the tables now */
};
void evloop_hooks_register(libxl_ctx *ctx);
bool evloop_run_until(libxl_ctx *ctx, const volatile bool *done,
                      int timeout_ms);
/* Runs the loop for ms, whatever happens. */
void evloop_run_for(libxl_ctx *ctx, int ms);
const struct evloop_stats *evloop_stats(void);
/* The next fd_register (n = 1) or the n-th from now fails. */
void evloop_fail_fd_register(int n);

#endif /* TESTS_HARNESS_H */
