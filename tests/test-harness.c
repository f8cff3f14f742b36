/*
 * test-harness.c - the harness itself under test: the private xenstored
 * is the real one and answers, fake domains look like libxl's, the fake
 * sysfs behaves as the kernel does, the simulated backend moves states.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "harness.h"

/*----- xenstored -----*/

static void test_xs_real_daemon(void)
{
    struct xs_handle *h;

    xs_start();
    /* /tool/xenstored exists only in a real daemon's initial database */
    CHECK(xs_has("/tool/xenstored"));
    CHECK_XS("/local/domain/0/name", "Domain-0");
    CHECK_XS("/local/domain/0/domid", "0");

    h = xs_test_open();
    CHECK(xs_write(h, XBT_NULL, "/t/a", "1", 1));
    xs_close(h);
    CHECK_XS("/t/a", "1");
    xs_del("/t");
    CHECK(!xs_has("/t/a"));
    CHECK_NULL(xs_get("/t/a"));
    xs_del("/no/such/node");        /* absent is fine */
}

/* The daemon is Debian's binary itself, with only the shim preloaded:
 * neither valgrind nor the sysfs mock came along. */
static void test_xs_daemon_process(void)
{
    char path[64], buf[8192], *p;
    ssize_t n;
    int fd;
    pid_t pid;

    xs_start();
    pid = xs_daemon_pid();
    ASSERT(pid > 0);
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    n = readlink(path, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_STR_EQ(buf, "/usr/lib/xen-4.17/bin/xenstored");
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY);
    ASSERT(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ASSERT(n > 0);
    buf[n] = '\0';
    for (p = buf; p < buf + n; p += strlen(p) + 1) {
        if (!strncmp(p, "LD_PRELOAD=", 11))
            CHECK_STR_EQ(p, "LD_PRELOAD=" TEST_TOPDIR
                         "/tests/harness/xsshim.so");
        CHECK(strncmp(p, "VALGRIND", 8) != 0);
        CHECK(strncmp(p, "SYSFSMOCK", 9) != 0);
    }
    xs_stop();
    CHECK_INT_EQ(xs_daemon_pid(), -1);
    CHECK(kill(pid, 0) == -1 && errno == ESRCH);
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
    char path[128];

    xs_start();
    fakedom_create(5, "guest5", "pv");

    CHECK_XS("/local/domain/5/name", "guest5");
    CHECK_XS("/local/domain/5/domid", "5");
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid(5));
    CHECK_XS("/local/domain/5/vm", path);
    snprintf(path, sizeof(path), "/vm/%s/uuid", fakedom_uuid(5));
    CHECK_XS(path, fakedom_uuid(5));
    snprintf(path, sizeof(path), "/vm/%s/name", fakedom_uuid(5));
    CHECK_XS(path, "guest5");
    CHECK_XS("/libxl/5/type", "pv");

    /* libxl__domain_make's permissions */
    CHECK_PERMS("/local/domain/5", "n0,r5");
    CHECK_PERMS("/local/domain/5/name", "n0,r5");
    CHECK_PERMS("/local/domain/5/data", "n5");
    snprintf(path, sizeof(path), "/vm/%s", fakedom_uuid(5));
    CHECK_PERMS(path, "n0,r5");
    CHECK_PERMS("/libxl/5", "n0");

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

    xs_start();
    h = xs_test_open();
    xs_put("/local/domain/7/device/vusb/0/state", "1");
    CHECK(xs_set_permissions(h, XBT_NULL, "/local/domain/7/device", own7, 1));
    CHECK_PERMS("/local/domain/7/device", "n7");
    CHECK(xs_introduce_domain(h, 7, 0x1007, 1));
    CHECK_PERMS("/local/domain/7/device", "n7");
    /* release deletes what the domain owns */
    CHECK(xs_release_domain(h, 7));
    CHECK(!xs_has("/local/domain/7/device"));
    xs_close(h);
}

/* In a child of xs_start_in_child: xs_start with XENSTORED=binary. */
static void xs_start_with(void *binary)
{
    setenv("XENSTORED", binary, 1);
    xs_start();
    exit(0);
}

/* Runs xs_start in a child with XENSTORED=binary; returns its exit
 * status and, in out (malloc'd), what it printed. */
static int xs_start_in_child(const char *binary, char **out)
{
    return run_capture(xs_start_with, (void *)binary, out, NULL);
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

/* The domains xc_domain_getinfolist lists from first, as "0:0 3:2 ...":
 * domid:flags, flags less XEN_DOMINF_running (which every one has). */
static void hypervisor_domains(uint32_t first, char *buf, size_t size)
{
    xc_domaininfo_t info[8];
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    size_t len = 0;
    int i, n;

    buf[0] = '\0';
    ASSERT(xch);
    n = xc_domain_getinfolist(xch, first, ARRAY_LEN(info), info);
    for (i = 0; i < n; i++) {
        CHECK(info[i].flags & XEN_DOMINF_running);
        len += snprintf(buf + len, size - len, "%s%u:%u", i ? " " : "",
                        info[i].domain,
                        info[i].flags & ~XEN_DOMINF_running);
    }
    xc_interface_close(xch);
}

static void list_domains_child(void *unused)
{
    char buf[128];

    (void)unused;
    hypervisor_domains(0, buf, sizeof(buf));
    printf("%s\n", buf);
    exit(0);
}

static void test_xc_hypervisor(void)
{
    xc_domaininfo_t info;
    xc_interface *xch;
    char buf[128], uuid[40], *out;
    int i, len;

    CHECK_NULL(xc_interface_open(NULL, NULL, 0));   /* before xs_start */
    xs_start();
    fakedom_create(3, "pv3", "pv");
    fakedom_create(5, "hvm5", "hvm");
    fakedom_create(9, "pvh9", "pvh");
    hypervisor_domains(0, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "0:0 3:0 5:2 9:2");
    hypervisor_domains(4, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "5:2 9:2");

    xch = xc_interface_open(NULL, NULL, 0);
    ASSERT(xch);
    ASSERT_INT_EQ(xc_domain_getinfolist(xch, 3, 1, &info), 1);
    for (i = 0, len = 0; i < 16; i++) {
        len += sprintf(uuid + len, "%02x", info.handle[i]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            uuid[len++] = '-';
    }
    CHECK_STR_EQ(uuid, fakedom_uuid(3));
    errno = 0;
    CHECK_INT_EQ(xc_flask_sid_to_context(xch, 0, buf, sizeof(buf)), -1);
    CHECK_INT_EQ(errno, ENOSYS);

    /* What the table says now, another process (a CLI) sees too. */
    fakedom_destroy(5);
    CHECK_INT_EQ(xc_domain_getinfolist(xch, 4, 1, &info), 1);
    CHECK_INT_EQ(info.domain, 9);
    CHECK_INT_EQ(WEXITSTATUS(run_capture(list_domains_child, NULL, &out,
                                         NULL)), 0);
    CHECK_STR_EQ(out, "0:0 3:0 9:2\n");
    free(out);
    xc_interface_close(xch);
}

static void test_xs_no_daemon_is_hermetic(void)
{
    struct xs_handle *h = xs_open(0);

    /* without xs_start, nothing answers: never the host's xenstored */
    CHECK_NULL(h);
    if (h)
        xs_close(h);
}

/*----- the fake sysfs -----*/

/* glibc's fortify entry points, called directly to prove they are
 * wrapped whatever flags the code under test is built with. */
int __open_2(const char *path, int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len,
                       size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

#define USB "/sys/bus/usb"

/* What the library does: open, one write, close.  Returns the write's
 * result, or -errno. */
static ssize_t sysfs_write(const char *path, const void *buf, size_t len)
{
    ssize_t r;
    int fd = open(path, O_WRONLY);

    if (fd < 0)
        return -errno;
    r = write(fd, buf, len);
    if (r < 0)
        r = -errno;
    close(fd);
    return r;
}

static ssize_t sysfs_write_str(const char *path, const char *s)
{
    return sysfs_write(path, s, strlen(s));
}

/* First line of a sysfs file, newline included, or NULL (malloc'd). */
static char *sysfs_read(const char *path)
{
    char buf[256], *r = NULL;
    FILE *f = fopen(path, "r");

    if (f && fgets(buf, sizeof(buf), f))
        r = strdup(buf);
    if (f)
        fclose(f);
    return r;
}

#define CHECK_SYSFS(path, want) do { char *v_ = sysfs_read(path); \
    CHECK_STR_EQ(v_, want); free(v_); } while (0)

static bool dir_has(const char *dir, const char *name)
{
    struct dirent *e;
    bool found = false;
    DIR *d = opendir(dir);

    while (d && (e = readdir(d)))
        found |= !strcmp(e->d_name, name);
    if (d)
        closedir(d);
    return found;
}

static bool exists(const char *path)
{
    struct stat st;

    return !lstat(path, &st);
}

static void test_sysfs_trees(void)
{
    sysfs_setup("keyboard");
    sysfs_setup("stick");
    sysfs_setup("stick2");
    sysfs_setup("composite");
    sysfs_setup("hub");
    sysfs_setup("behind-hub");

    CHECK_SYSFS(USB "/devices/usb1/bDeviceClass", "09\n");
    CHECK_SYSFS(USB "/devices/usb1/devnum", "1\n");
    CHECK_SYSFS(USB "/devices/usb2/busnum", "2\n");
    CHECK_STR_EQ(sysfs_driver_of("1-0:1.0"), "hub");

    CHECK_SYSFS(USB "/devices/1-1/busnum", "1\n");
    CHECK_SYSFS(USB "/devices/1-1/devnum", "2\n");
    CHECK_SYSFS(USB "/devices/1-1/idVendor", "046d\n");
    CHECK_SYSFS(USB "/devices/1-1/bDeviceClass", "00\n");
    CHECK_SYSFS(USB "/devices/1-1/bNumInterfaces", " 1\n");
    CHECK(!exists(USB "/devices/1-1/serial"));
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("1-1"), "usb");

    CHECK_SYSFS(USB "/devices/1-2/devnum", "3\n");
    CHECK_SYSFS(USB "/devices/1-2/serial", "STICK0001\n");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    CHECK_SYSFS(USB "/devices/1-3/serial", "STICK0002\n");
    CHECK_SYSFS(USB "/devices/1-3/idProduct", "5567\n");
    CHECK_SYSFS(USB "/devices/1-2/idProduct", "5567\n");

    CHECK_SYSFS(USB "/devices/2-1/devnum", "2\n");
    CHECK_SYSFS(USB "/devices/2-1/bNumInterfaces", " 3\n");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.1"), "usbhid");
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    CHECK_SYSFS(USB "/devices/2-1:1.2/bInterfaceNumber", "02\n");

    CHECK_SYSFS(USB "/devices/2-2/bDeviceClass", "09\n");
    CHECK_SYSFS(USB "/devices/2-2/devnum", "3\n");
    CHECK_STR_EQ(sysfs_driver_of("2-2:1.0"), "hub");
    CHECK_SYSFS(USB "/devices/2-2.1/devnum", "4\n");
    CHECK_SYSFS(USB "/devices/2-2.1/devpath", "2.1\n");
    CHECK_STR_EQ(sysfs_driver_of("2-2.1:1.0"), "usb-storage");

    CHECK(dir_has(USB "/drivers/usbback", "bind"));
    CHECK(dir_has(USB "/drivers/usbfs", "unbind"));
}

/* Whether attribute file name of a generated device may differ from the
 * keyboard's: only what tells the two apart. */
static bool attr_is_own(const char *name)
{
    return !strcmp(name, "busnum") || !strcmp(name, "devnum") ||
           !strcmp(name, "devpath") || !strcmp(name, "uevent");
}

/* Each plain file of dir a (as named in b) holds what b's does. */
static void check_same_attrs(const char *a, const char *b, bool all)
{
    char pa[PATH_MAX], pb[PATH_MAX], *v;
    struct dirent *e;
    DIR *d = opendir(a);
    int n = 0;

    ASSERT(d);
    while ((e = readdir(d))) {
        if (e->d_type != DT_REG || (!all && attr_is_own(e->d_name)))
            continue;
        snprintf(pa, sizeof(pa), "%s/%s", a, e->d_name);
        snprintf(pb, sizeof(pb), "%s/%s", b, e->d_name);
        v = sysfs_read(pa);
        CHECK_SYSFS(pb, v);
        free(v);
        n++;
    }
    closedir(d);
    CHECK(n >= 7);
}

static void open_one_child(void *unused)
{
    int fd = open(USB "/devices/1-1/idProduct", O_RDONLY);

    (void)unused;
    exit(fd < 0);
}

/* Opens and listings below /sys/bus/usb are counted, in every process;
 * other calls and other paths are not. */
static void test_sysfs_counted(void)
{
    unsigned long opens, listings;
    struct dirent **list;
    struct stat st;
    char *out;
    FILE *f;
    DIR *d;
    int fd, n;

    sysfs_setup("keyboard");
    sysfs_count(&opens, &listings);
    CHECK_INT_EQ(opens, 0);
    CHECK_INT_EQ(listings, 0);
    fd = open(USB "/devices/1-1/idVendor", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    f = fopen(USB "/devices/1-1/busnum", "r");
    CHECK(f != NULL);
    if (f) fclose(f);
    d = opendir(USB "/devices");
    CHECK(d != NULL);
    if (d) closedir(d);
    n = scandir(USB "/drivers", &list, NULL, alphasort);
    CHECK(n > 0);
    while (n-- > 0)
        free(list[n]);
    free(list);
    CHECK(!stat(USB "/devices/1-1", &st));
    fd = open("/dev/null", O_RDONLY);
    close(fd);
    CHECK_INT_EQ(WEXITSTATUS(run_capture(open_one_child, NULL, &out, NULL)),
                 0);
    free(out);
    sysfs_count(&opens, &listings);
    CHECK_INT_EQ(opens, 3);
    CHECK_INT_EQ(listings, 2);
}

/* Beyond a hub's 31 ports, the next root hub. */
static void test_sysfs_add_devices_buses(void)
{
    libxl_usb_hostdev *h;
    int n;

    sysfs_setup("base");
    sysfs_add_devices(40);
    CHECK_SYSFS(USB "/devices/usb3/maxchild", "31\n");
    CHECK_SYSFS(USB "/devices/usb4/maxchild", "9\n");
    CHECK_SYSFS(USB "/devices/usb4/busnum", "4\n");
    CHECK_STR_EQ(sysfs_driver_of("4-0:1.0"), "hub");
    CHECK_SYSFS(USB "/devices/3-31/devnum", "32\n");
    CHECK_SYSFS(USB "/devices/4-9/busnum", "4\n");
    CHECK_SYSFS(USB "/devices/4-9/devnum", "10\n");
    CHECK_STR_EQ(sysfs_driver_of("4-9:1.0"), "usbhid");
    CHECK(!exists(USB "/devices/3-32"));
    CHECK(!exists(USB "/devices/4-10"));
    xs_start();
    h = libxl_usb_hostdev_list(test_ctx(), &n);
    CHECK_INT_EQ(n, 4 + 40);            /* usb1-4 and the keyboards */
    libxl_usb_hostdev_list_free(h, n);
}

static void test_sysfs_add_devices(void)
{
    libxl_usb_hostdev *h;
    int n;

    sysfs_setup("keyboard");
    sysfs_add_devices(16);
    CHECK_SYSFS(USB "/devices/usb3/busnum", "3\n");
    CHECK_SYSFS(USB "/devices/usb3/devnum", "1\n");
    CHECK_SYSFS(USB "/devices/usb3/maxchild", "16\n");
    CHECK_STR_EQ(sysfs_driver_of("3-0:1.0"), "hub");
    check_same_attrs(USB "/devices/1-1", USB "/devices/3-1", false);
    check_same_attrs(USB "/devices/1-1:1.0", USB "/devices/3-16:1.0", true);
    CHECK_SYSFS(USB "/devices/3-1/devnum", "2\n");
    CHECK_SYSFS(USB "/devices/3-16/busnum", "3\n");
    CHECK_SYSFS(USB "/devices/3-16/devnum", "17\n");
    CHECK_SYSFS(USB "/devices/3-16/devpath", "16\n");
    CHECK(!exists(USB "/devices/3-17"));
    CHECK_STR_EQ(sysfs_driver_of("3-16"), "usb");
    CHECK_STR_EQ(sysfs_driver_of("3-16:1.0"), "usbhid");
    CHECK(dir_has(USB "/drivers/usbhid", "3-9:1.0"));
    CHECK(dir_has(USB "/drivers/usb", "3-9"));

    /* the library sees them as it sees the keyboard */
    xs_start();
    h = libxl_usb_hostdev_list(test_ctx(), &n);
    CHECK_INT_EQ(n, 3 + 1 + 16);        /* usb1-3, 1-1, 3-1 .. 3-16 */
    libxl_usb_hostdev_list_free(h, n);
    /* and the mock binds and unbinds them */
    sysfs_unbind("3-5:1.0");
    sysfs_bind("3-5:1.0", "usbback");
    CHECK_STR_EQ(sysfs_driver_of("3-5:1.0"), "usbback");
}

static void test_sysfs_redirected_calls(void)
{
    char buf[PATH_MAX], *r;
    struct stat st;
    ssize_t n;
    int fd;

    sysfs_setup("stick");
    /* an interface entry is a link to the dir inside its device */
    CHECK(!lstat(USB "/devices/1-2:1.0", &st) && S_ISLNK(st.st_mode));
    CHECK(!stat(USB "/devices/1-2:1.0", &st) && S_ISDIR(st.st_mode));
    CHECK(!fstatat(AT_FDCWD, USB "/devices/1-2/busnum", &st, 0));
    CHECK(!access(USB "/drivers/usbback/bind", W_OK));
    CHECK(dir_has(USB "/devices", "1-2"));
    CHECK(dir_has(USB "/devices", "1-2:1.0"));
    CHECK(dir_has(USB "/devices/1-2", "1-2:1.0"));
    CHECK(dir_has(USB "/drivers/usb-storage", "1-2:1.0"));

    n = readlink(USB "/devices/1-2:1.0/driver", buf, sizeof(buf) - 1);
    CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_STR_EQ(buf, "../../../drivers/usb-storage");
    n = __readlink_chk(USB "/devices/1-2/driver", buf, sizeof(buf) - 1,
                       sizeof(buf));
    buf[n > 0 ? n : 0] = '\0';
    CHECK_STR_EQ(buf, "../../drivers/usb");

    /* realpath answers in /sys terms, never the fake root's */
    CHECK_STR_EQ(realpath(USB "/devices/1-2:1.0/driver", buf),
                 USB "/drivers/usb-storage");
    CHECK_STR_EQ(__realpath_chk(USB "/devices/1-2:1.0", buf, sizeof(buf)),
                 USB "/devices/1-2/1-2:1.0");
    r = realpath(USB "/drivers/usb-storage/1-2:1.0", NULL);
    CHECK_STR_EQ(r, USB "/devices/1-2/1-2:1.0");
    free(r);
    r = canonicalize_file_name(USB "/devices/1-2/driver");
    CHECK_STR_EQ(r, USB "/drivers/usb");
    free(r);
    errno = 0;
    CHECK_NULL(realpath(USB "/devices/9-9", buf));
    CHECK_INT_EQ(errno, ENOENT);

    fd = __open_2(USB "/devices/1-2/serial", O_RDONLY);
    CHECK(fd >= 0);
    n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    CHECK_INT_EQ(n, 10);
    if (fd >= 0)
        close(fd);
    fd = openat(AT_FDCWD, USB "/devices/1-2/devnum", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static void test_sysfs_other_paths_untouched(void)
{
    char path[PATH_MAX];
    struct stat st;

    /* before any setup: an empty fake root, not the host's bus */
    CHECK(!opendir(USB "/devices"));
    CHECK_INT_EQ(errno, ENOENT);

    sysfs_setup("base");
    CHECK(exists(USB "/devices/usb1"));
    /* only whole components match: /sys/bus/usbX is not below it */
    snprintf(path, sizeof(path), "%s/sys/bus/usbX", sysfs_root());
    CHECK(!mkdir(path, 0755));
    CHECK(exists(path));
    CHECK(!exists("/sys/bus/usbX"));
    /* the fake root itself, and ordinary files, are reached as they are */
    CHECK(!stat(sysfs_root(), &st) && S_ISDIR(st.st_mode));
    CHECK(!stat("/etc/passwd", &st));
    snprintf(path, sizeof(path), "%s/sys/bus/usb/devices", sysfs_root());
    CHECK(dir_has(path, "usb1"));
}

static void test_sysfs_bind_unbind(void)
{
    sysfs_setup("stick");

    /* unbind through the device's driver link, as the library does */
    CHECK_INT_EQ(sysfs_write_str(USB "/devices/1-2:1.0/driver/unbind",
                                 "1-2:1.0"), 7);
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));
    CHECK(!exists(USB "/devices/1-2:1.0/driver"));
    CHECK(!dir_has(USB "/drivers/usb-storage", "1-2:1.0"));

    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-2:1.0"), 7);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    CHECK(dir_has(USB "/drivers/usbback", "1-2:1.0"));
    {
        char buf[PATH_MAX];

        CHECK_STR_EQ(realpath(USB "/devices/1-2:1.0/driver", buf),
                     USB "/drivers/usbback");
        CHECK_STR_EQ(realpath(USB "/drivers/usbback/1-2:1.0", buf),
                     USB "/devices/1-2/1-2:1.0");
    }

    /* a trailing newline is what echo writes: accepted */
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/unbind",
                                 "1-2:1.0\n"), 8);
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));
    CHECK(!dir_has(USB "/drivers/usbback", "1-2:1.0"));
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usb-storage/bind",
                                 "1-2:1.0"), 7);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
}

static void test_sysfs_kernel_errors(void)
{
    sysfs_setup("keyboard");
    sysfs_setup("stick");

    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0"),
                 -EBUSY);
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "9-9:1.0"),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/unbind", "1-1:1.0"),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbhid/unbind", "1-2:1.0"),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbhid/unbind", "9-9:1.0"),
                 -ENODEV);
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/nosuch/bind", "1-1:1.0"),
                 -ENOENT);
    /* an unbound interface's driver/unbind does not exist */
    sysfs_unbind("1-2:1.0");
    CHECK_INT_EQ(sysfs_write_str(USB "/devices/1-2:1.0/driver/unbind",
                                 "1-2:1.0"), -ENOENT);
}

/* The original patch wrote sizeof(pointer) bytes of the name. */
static void test_sysfs_garbage_refused(void)
{
    const char *intf = "1-1:1.0", *longer = "2-2.1:1.0";

    sysfs_setup("keyboard");
    sysfs_setup("hub");
    sysfs_setup("behind-hub");
    sysfs_unbind("1-1:1.0");
    sysfs_unbind("2-2.1:1.0");

    CHECK_INT_EQ(sysfs_write(USB "/drivers/usbback/bind", intf,
                             sizeof(intf)), -ENODEV);
    CHECK_INT_EQ(sysfs_write(USB "/drivers/usbback/bind", longer,
                             sizeof(longer)), -ENODEV);
    CHECK_INT_EQ(sysfs_write(USB "/drivers/usbback/bind", "1-1:1.0\0", 8),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0x"),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0\n\n"),
                 -ENODEV);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", ""), -ENODEV);
    CHECK_NULL(sysfs_driver_of("1-1:1.0"));
    CHECK_NULL(sysfs_driver_of("2-2.1:1.0"));

    sysfs_bind("1-1:1.0", "usbback");
    CHECK_INT_EQ(sysfs_write(USB "/drivers/usbback/unbind", intf,
                             sizeof(intf)), -ENODEV);
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbback");
}

static void test_sysfs_stdio_write_modelled(void)
{
    FILE *f;

    sysfs_setup("stick");
    f = fopen(USB "/drivers/usb-storage/unbind", "w");
    ASSERT(f);
    fputs("1-2:1.0", f);
    CHECK_INT_EQ(fclose(f), 0);
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));

    f = fopen(USB "/drivers/usbback/bind", "w");
    ASSERT(f);
    fputs("nosuch", f);
    CHECK(fclose(f) != 0);          /* the flush fails: ENODEV */
    CHECK_INT_EQ(errno, ENODEV);
}

static void test_sysfs_inject(void)
{
    sysfs_setup("keyboard");
    sysfs_unbind("1-1:1.0");

    sysfs_inject(USB "/drivers/usbback/bind", EIO, 2);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0"),
                 -EIO);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0"),
                 -EIO);
    CHECK_NULL(sysfs_driver_of("1-1:1.0"));
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0"), 7);
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbback");

    /* named by where it resolves; forever until cleared */
    sysfs_inject(USB "/drivers/usbback/unbind", EPERM, -1);
    CHECK_INT_EQ(sysfs_write_str(USB "/devices/1-1:1.0/driver/unbind",
                                 "1-1:1.0"), -EPERM);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/unbind", "1-1:1.0"),
                 -EPERM);
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbback");
    /* other paths are not affected */
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbhid/unbind", "1-1:1.0"),
                 -ENODEV);
    sysfs_inject_clear();
    CHECK_INT_EQ(sysfs_write_str(USB "/devices/1-1:1.0/driver/unbind",
                                 "1-1:1.0"), 7);
}

/* An injection made by another process, while a write is pending. */
static void test_sysfs_inject_across_processes(void)
{
    pid_t pid;
    int fd, status;

    sysfs_setup("keyboard");
    fd = open(USB "/drivers/usbhid/unbind", O_WRONLY);
    ASSERT(fd >= 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        sysfs_inject(USB "/drivers/usbhid/unbind", EAGAIN, 1);
        exit(0);
    }
    ASSERT(waitpid(pid, &status, 0) == pid);
    CHECK_INT_EQ(write(fd, "1-1:1.0", 7), -1);
    CHECK_INT_EQ(errno, EAGAIN);
    CHECK_INT_EQ(write(fd, "1-1:1.0", 7), 7);   /* used up */
    close(fd);
    CHECK_NULL(sysfs_driver_of("1-1:1.0"));
}

static void test_sysfs_unplug(void)
{
    sysfs_setup("composite");
    sysfs_setup("hub");
    sysfs_setup("behind-hub");

    sysfs_unplug("2-2");
    CHECK(!exists(USB "/devices/2-2"));
    CHECK(!exists(USB "/devices/2-2:1.0"));
    CHECK(!exists(USB "/devices/2-2.1"));
    CHECK(!exists(USB "/devices/2-2.1:1.0"));
    CHECK(!dir_has(USB "/drivers/hub", "2-2:1.0"));
    CHECK(!dir_has(USB "/drivers/usb-storage", "2-2.1:1.0"));
    CHECK(!dir_has(USB "/drivers/usb", "2-2"));
    CHECK(!dir_has(USB "/devices", "2-2.1"));
    /* the neighbours stay */
    CHECK(exists(USB "/devices/2-1"));
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    CHECK(dir_has(USB "/drivers/hub", "2-0:1.0"));
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "2-2.1:1.0"),
                 -ENODEV);
}

static void test_sysfs_remove_driver(void)
{
    sysfs_setup("keyboard");
    sysfs_setup("composite");

    sysfs_remove_driver("usbhid");
    CHECK(!exists(USB "/drivers/usbhid"));
    CHECK(!dir_has(USB "/drivers", "usbhid"));
    CHECK_NULL(sysfs_driver_of("1-1:1.0"));
    CHECK_NULL(sysfs_driver_of("2-1:1.0"));
    CHECK_NULL(sysfs_driver_of("2-1:1.1"));
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), "usb-storage");
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbhid/bind", "1-1:1.0"),
                 -ENOENT);
    CHECK_INT_EQ(sysfs_write_str(USB "/drivers/usbback/bind", "1-1:1.0"), 7);
}

/*----- the simulated backend -----*/

/* Waits up to ms for path to hold want. */
static bool wait_value(const char *path, const char *want, int ms)
{
    char *v;
    bool ok;

    for (;;) {
        v = xs_get(path);
        ok = v && !strcmp(v, want);
        free(v);
        if (ok || ms <= 0)
            return ok;
        usleep(2000);
        ms -= 2;
    }
}

#define BE "/local/domain/0/backend/vusb/1/0"
#define FE "/local/domain/1/device/vusb/0"

static void backend_controller(const char *be, const char *fe)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/frontend", be);
    xs_put(path, fe);
    snprintf(path, sizeof(path), "%s/online", be);
    xs_put(path, "1");
    snprintf(path, sizeof(path), "%s/state", fe);
    xs_put(path, "1");
    snprintf(path, sizeof(path), "%s/state", be);
    xs_put(path, "1");
}

static void test_simbackend_lifecycle(void)
{
    xs_start();
    fakedom_create(1, "guest1", "pv");
    simbackend_start(false);

    backend_controller(BE, FE);
    CHECK(wait_value(BE "/state", "2", 5000));
    /* InitWait until the frontend connects */
    usleep(50000);
    CHECK(wait_value(BE "/state", "2", 0));
    xs_put(FE "/state", "4");
    CHECK(wait_value(BE "/state", "4", 5000));

    /* Closing without online=0 is a reconfiguration: left alone */
    xs_put(BE "/state", "5");
    usleep(50000);
    CHECK(wait_value(BE "/state", "5", 0));
    xs_put(BE "/online", "0");
    CHECK(wait_value(BE "/state", "6", 5000));
    simbackend_stop();
}

static void test_simbackend_qusb_and_initialised(void)
{
    xs_start();
    fakedom_create(2, "guest2", "hvm");
    simbackend_start(false);
    backend_controller("/local/domain/0/backend/qusb/2/3",
                       "/local/domain/2/device/qusb/3");
    CHECK(wait_value("/local/domain/0/backend/qusb/2/3/state", "2", 5000));
    xs_put("/local/domain/2/device/qusb/3/state", "3");
    CHECK(wait_value("/local/domain/0/backend/qusb/2/3/state", "4", 5000));
}

static void test_simbackend_silent(void)
{
    xs_start();
    fakedom_create(1, "guest1", "pv");
    simbackend_start(true);
    backend_controller(BE, FE);
    xs_put(FE "/state", "4");
    usleep(200000);
    CHECK(wait_value(BE "/state", "1", 0));
}

static void test_simbackend_stopped(void)
{
    xs_start();
    simbackend_start(false);
    simbackend_stop();
    simbackend_stop();              /* idempotent */
    backend_controller(BE, FE);
    usleep(100000);
    CHECK(wait_value(BE "/state", "1", 0));
}

/*----- contexts and the poll loop -----*/

/* Microseconds on the monotonic clock (the wall clock may be set). */
static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void test_ctx_and_poll(void)
{
    volatile bool done = true, never = false;
    libxl_ctx *a, *b;
    long long t0, elapsed;
    char *name;

    xs_start();
    fakedom_create(3, "guest3", "pv");
    a = test_ctx();
    b = test_ctx();
    CHECK(a && b && a != b);
    name = libxl_domid_to_name(a, 3);
    CHECK_STR_EQ(name, "guest3");
    free(name);

    CHECK(test_poll_until(a, &done, 1000));
    /* In microseconds: the whole milliseconds of two readings may differ
     * by 100 after 99.1 ms and by 99 after 99.9 ms. */
    t0 = now_us();
    CHECK(!test_poll_until(b, &never, 100));
    elapsed = now_us() - t0;
    if (elapsed < 100000)
        tap_fail(__FILE__, __LINE__, "timed out after %lld us, not 100 ms",
                 elapsed);
}

/*----- the runner itself -----*/

/* Tests run by a second copy of this program (see main), whose TAP
 * output test_runner checks. */
static void demo_pass(void)
{
    fprintf(stderr, "libxl: error: an error a passing test expects\n");
    CHECK(1);
}

static void demo_fail(void)
{
    fprintf(stderr, "libxl: error: the log of a failing test\n");
    CHECK_INT_EQ(1 + 1, 3);
    CHECK_STR_EQ("a", "b");
}

static void demo_assert(void)
{
    ASSERT(0);
    tap_diag("not reached");
}

static void demo_skip(void)
{
    SKIP("no frobnicator here");
}

static void demo_crash(void)
{
    abort();
}

static void demo_hang(void)
{
    sleep(30);
}

/* Starts what the exit hooks must tear down, and says where it is. */
static void demo_leave_things(void)
{
    xs_start();
    simbackend_start(false);
    sysfs_setup("stick");
    tap_diag("sysfs root %s", sysfs_root());
}

/* This program, for running it again: not /proc/self/exe, which is
 * valgrind itself under make check-valgrind. */
static const char *self;

static const struct test demo_tests[] = {
    { "demo passes", demo_pass },
    { "demo fails", demo_fail },
    { "demo asserts", demo_assert },
    { "demo skips", demo_skip },
    { "demo crashes", demo_crash },
    { "demo hangs", demo_hang },
    { "demo leaves things", demo_leave_things },
};

/* In a child of run_demo: this program's demo tests matching filter. */
static void exec_demo(void *filter)
{
    setenv("TEST_TIMEOUT", "1", 1);
    unsetenv("TEST_VERBOSE");
    execl(self, self, "--demo", (const char *)filter, (char *)NULL);
}

/* Runs this program's demo tests with args; returns the exit status and
 * the output (malloc'd) in out. */
static int run_demo(const char *filter, char **out)
{
    return run_capture(exec_demo, (void *)filter, out, NULL);
}

#define CHECK_HAS(out, s) do { if (!strstr(out, s)) tap_fail(__FILE__, \
    __LINE__, "output lacks \"%s\"", s); } while (0)

static void test_runner(void)
{
    char *out = NULL, *p, root[256] = "";
    int status, pid = 0;

    status = run_demo("demo", &out);
    ASSERT(out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK_HAS(out, "1..7\n");
    CHECK_HAS(out, "\nok 1 - demo passes\n");
    CHECK_HAS(out, "\nnot ok 2 - demo fails\n");
    CHECK_HAS(out, "1 + 1 == 3: 2 != 3");
    CHECK_HAS(out, "\"a\" == \"b\": \"a\" != \"b\"");
    /* a failing test's stderr is shown, a passing one's is not */
    CHECK_HAS(out, "# stderr of test 2 - demo fails:\n"
                   "# libxl: error: the log of a failing test\n");
    CHECK(!strstr(out, "an error a passing test expects"));
    CHECK_HAS(out, "\nnot ok 3 - demo asserts\n");
    CHECK(!strstr(out, "not reached"));
    CHECK_HAS(out, "\nok 4 - demo skips # SKIP no frobnicator here\n");
    CHECK_HAS(out, "\nnot ok 5 - demo crashes\n");
    CHECK_HAS(out, "killed by signal 6");
    CHECK_HAS(out, "\nnot ok 6 - demo hangs\n");
    CHECK_HAS(out, "timed out after 1 s");
    CHECK_HAS(out, "\nok 7 - demo leaves things\n");

    /* what the last test left running or on disk is gone */
    p = strstr(out, "# xenstored pid ");
    CHECK(p && sscanf(p, "# xenstored pid %d", &pid) == 1);
    CHECK(pid > 0 && kill(pid, 0) == -1 && errno == ESRCH);
    p = strstr(out, "# sysfs root ");
    CHECK(p && sscanf(p, "# sysfs root %255s", root) == 1);
    CHECK(root[0] && access(root, F_OK) == -1 && errno == ENOENT);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        tap_diag("demo said:\n%s", out);
    free(out);

    status = run_demo("passes", &out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(out && !strcmp(out, "1..1\nok 1 - demo passes\n"));
    free(out);

    status = run_demo("no test is named so", &out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(out && !strncmp(out, "1..0 # SKIP", 11));
    free(out);
}

static const struct test tests[] = {
    { "xs: the real xenstored starts and answers", test_xs_real_daemon },
    { "xs: the daemon runs natively with only the shim preloaded",
      test_xs_daemon_process },
    { "xs: stop and start again gives a fresh daemon", test_xs_stop_restart },
    { "xs: transactions conflict with EAGAIN", test_xs_transaction_conflict },
    { "xs: fake domains have libxl's entries and perms", test_fakedom },
    { "xs: perms may name a domain before its introduction",
      test_xs_perms_before_introduce },
    { "xs: a daemon that cannot start fails the test, with its log",
      test_xs_start_failure_bails_with_log },
    { "xs: no daemon started means no xenstore at all",
      test_xs_no_daemon_is_hermetic },
    { "xc: the hypervisor's stand-in lists the fake domains",
      test_xc_hypervisor },
    { "sysfs: the trees hold the documented devices", test_sysfs_trees },
    { "sysfs: sysfs_add_devices makes keyboards on a bus of their own",
      test_sysfs_add_devices },
    { "sysfs: opens and listings are counted across processes",
      test_sysfs_counted },
    { "sysfs: more than 31 devices go on further root hubs",
      test_sysfs_add_devices_buses },
    { "sysfs: stat, readlink, realpath, opendir, open are redirected",
      test_sysfs_redirected_calls },
    { "sysfs: paths outside /sys/bus/usb are untouched",
      test_sysfs_other_paths_untouched },
    { "sysfs: bind creates the links, unbind removes them",
      test_sysfs_bind_unbind },
    { "sysfs: EBUSY and ENODEV where the kernel gives them",
      test_sysfs_kernel_errors },
    { "sysfs: a name with trailing bytes is refused",
      test_sysfs_garbage_refused },
    { "sysfs: writes through stdio are modelled",
      test_sysfs_stdio_write_modelled },
    { "sysfs: injected failures, counted and cleared", test_sysfs_inject },
    { "sysfs: injections from another process count",
      test_sysfs_inject_across_processes },
    { "sysfs: unplugging a hub removes what is behind it",
      test_sysfs_unplug },
    { "sysfs: removing a driver unbinds its devices",
      test_sysfs_remove_driver },
    { "simbackend: 1 -> 2, -> 4 on frontend 4, 5 -> 6 once offline",
      test_simbackend_lifecycle },
    { "simbackend: qusb too, and a frontend at 3 connects",
      test_simbackend_qusb_and_initialised },
    { "simbackend: silent writes nothing", test_simbackend_silent },
    { "simbackend: stopped writes nothing", test_simbackend_stopped },
    { "ctx: contexts on the private daemon, the poll loop times out",
      test_ctx_and_poll },
    { "runner: ok, not ok, SKIP, crash, timeout, filter, cleanup",
      test_runner },
};

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc > 1 && !strcmp(argv[1], "--demo"))
        return tap_main(argc - 1, argv + 1, demo_tests,
                        ARRAY_LEN(demo_tests));
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
