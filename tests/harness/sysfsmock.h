/*
 * sysfsmock.h - what tests/harness/sysfsmock.so (the preloaded fake of
 * /sys/bus/usb) and the harness (sysfs.c) agree on.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_SYSFSMOCK_H
#define TESTS_SYSFSMOCK_H

/* The fake root: "/sys/bus/usb/x" is served from $SYSFSMOCK_ROOT/sys/bus/usb/x.
 * It must be a canonical path (no symlinks), as realpath's results are
 * mapped back by stripping it. */
#define SYSFSMOCK_ROOT_ENV "SYSFSMOCK_ROOT"
#define SYSFSMOCK_PREFIX "/sys/bus/usb"

/*
 * Failure injection: $SYSFSMOCK_ROOT/SYSFSMOCK_INJECT_FILE holds lines
 * "<errno> <times> <path>" (SYSFSMOCK_INJECT_FMT).  Before modelling a
 * write, the mock re-reads the file (under flock, so injections made by
 * any process at any time count), takes the first line whose path is
 * the written file as it was opened or as it resolves, with times != 0,
 * decrements times unless it is negative (forever), and fails the write
 * with that errno.  A line of errno 0 is "0 <times> <path> <busid>": the
 * device busid is unplugged just before the write, which is then modelled
 * (a device gone while a program works on it).  The same flock serialises the mock's changes to the
 * tree across processes.
 */
#define SYSFSMOCK_INJECT_FILE ".sysfsmock-inject"
#define SYSFSMOCK_INJECT_FMT "%d %d %s\n"

/*
 * Counts: $SYSFSMOCK_ROOT/SYSFSMOCK_COUNT_FILE (made by sysfs_setup) holds
 * a struct sysfsmock_counts that the mock of every process increments,
 * atomically through a shared mapping: opens, for each file opened below
 * /sys/bus/usb (the open family, fopen); listings, for each directory
 * listed (opendir, scandir).  Read with sysfs_count.
 */
#define SYSFSMOCK_COUNT_FILE ".sysfsmock-counts"
struct sysfsmock_counts {
    unsigned long opens, listings;
};

/*
 * Exported by the mock for the harness (found with dlsym, which also tells
 * whether the mock is preloaded at all).  name is a device ("1-1") or an
 * interface ("1-1:1.0").  Each returns 0 or an errno value.
 */
typedef int sysfsmock_bind_fn(const char *name, const char *driver);
/* Unbinds name from whatever driver it is bound to (ENODEV: none). */
typedef int sysfsmock_unbind_fn(const char *name);
/* busid, its interfaces and every device behind it vanish. */
typedef int sysfsmock_unplug_fn(const char *busid);
/* What rmmod does: unbind everything from driver, remove its dir. */
typedef int sysfsmock_remove_driver_fn(const char *driver);

#endif /* TESTS_SYSFSMOCK_H */
