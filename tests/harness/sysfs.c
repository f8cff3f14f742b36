/*
 * sysfs.c - the harness side of the fake /sys/bus/usb: per-test copies of
 * the pristine trees, failure injection, and state changes made through
 * the mock's own model (sysfsmock.so), so that the harness and the code
 * under test see one kernel.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"
#include "sysfsmock.h"

#define TREES TEST_TOPDIR "/tests/sysfs"
#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

static char root[256];          /* canonical, or "" before sysfs_setup */

/* One of the mock's exported functions; bails if it is not preloaded,
 * rather than ever acting on the host's real sysfs. */
static void *mock_fn(const char *name)
{
    void *fn = dlsym(RTLD_DEFAULT, name);

    if (!fn)
        BAIL("sysfsmock.so is not preloaded (run tests through "
             "tests/run-test)");
    return fn;
}

static void copy_tree(const char *tree)
{
    char src[PATH_MAX];
    struct stat st;

    snprintf(src, sizeof(src), TREES "/%s", tree);
    if (stat(src, &st) || !S_ISDIR(st.st_mode))
        BAIL("sysfs_setup: no tree %s", src);
    if (harness_copytree(src, root))
        BAIL("sysfs_setup: copying %s: %s", src, strerror(errno));
}

/* The mock's counters (sysfsmock.h), zero. */
static void make_count_file(void)
{
    char path[PATH_MAX + 32];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", root, SYSFSMOCK_COUNT_FILE);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, sizeof(struct sysfsmock_counts)))
        BAIL("sysfs_setup: creating %s: %s", path, strerror(errno));
    close(fd);
}

void sysfs_count(unsigned long *opens, unsigned long *listings)
{
    struct sysfsmock_counts c;
    char path[PATH_MAX + 32];
    int fd;

    if (!root[0])
        BAIL("sysfs_count: sysfs_setup() first");
    snprintf(path, sizeof(path), "%s/%s", root, SYSFSMOCK_COUNT_FILE);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, &c, sizeof(c), 0) != sizeof(c))
        BAIL("sysfs_count: reading %s: %s", path, strerror(errno));
    close(fd);
    *opens = c.opens;
    *listings = c.listings;
}

void sysfs_setup(const char *tree)
{
    char dir[PATH_MAX], *canon;

    mock_fn("sysfsmock_bind");
    if (!root[0]) {
        snprintf(dir, sizeof(dir), "%s/sysfs", harness_scratch());
        if (mkdir(dir, 0755))
            BAIL("sysfs_setup: mkdir %s: %s", dir, strerror(errno));
        /* canonical: the mock maps realpath results back by prefix */
        canon = realpath(dir, NULL);
        if (!canon || strlen(canon) >= sizeof(root))
            BAIL("sysfs_setup: realpath %s: %s", dir,
                 canon ? "too long" : strerror(errno));
        strcpy(root, canon);
        free(canon);
        make_count_file();
        copy_tree("base");
        setenv(SYSFSMOCK_ROOT_ENV, root, 1);
    }
    if (strcmp(tree, "base"))
        copy_tree(tree);
}

const char *sysfs_root(void)
{
    return root[0] ? root : NULL;
}

void sysfs_reset(void)
{
    char gone[PATH_MAX];

    if (!root[0])
        return;
    /* the mock follows SYSFSMOCK_ROOT into nothing until the next
     * sysfs_setup: never to the host's real tree */
    snprintf(gone, sizeof(gone), "%s/no-sysfs", harness_scratch());
    setenv(SYSFSMOCK_ROOT_ENV, gone, 1);
    if (harness_rmtree(root))
        BAIL("sysfs_reset: removing %s: %s", root, strerror(errno));
    root[0] = '\0';
}

/* The injection file, opened and locked as the mock does it. */
static int open_inject_locked(void)
{
    char path[PATH_MAX];
    int fd;

    if (!root[0])
        BAIL("sysfs_setup() first");
    snprintf(path, sizeof(path), "%s/" SYSFSMOCK_INJECT_FILE, root);
    fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX))
        BAIL("%s: %s", path, strerror(errno));
    return fd;
}

void sysfs_inject(const char *path, int err, int times)
{
    int fd = open_inject_locked();

    if (!times || err <= 0 || strchr(path, '\n'))
        BAIL("sysfs_inject: bad injection");
    if (dprintf(fd, SYSFSMOCK_INJECT_FMT, err, times, path) < 0)
        BAIL("sysfs_inject: %s", strerror(errno));
    close(fd);
}

void sysfs_inject_unplug(const char *path, const char *busid)
{
    int fd = open_inject_locked();

    if (strchr(path, '\n') || strchr(path, ' ') || strchr(busid, '\n'))
        BAIL("sysfs_inject_unplug: bad injection");
    if (dprintf(fd, "0 1 %s %s\n", path, busid) < 0)
        BAIL("sysfs_inject_unplug: %s", strerror(errno));
    close(fd);
}

void sysfs_inject_clear(void)
{
    int fd = open_inject_locked();

    if (ftruncate(fd, 0))
        BAIL("sysfs_inject_clear: %s", strerror(errno));
    close(fd);
}

const char *sysfs_driver_of(const char *intf)
{
    static char driver[NAME_MAX + 1];
    char path[PATH_MAX], target[NAME_MAX + 1];
    const char *base;
    ssize_t n;

    if (!root[0])
        BAIL("sysfs_setup() first");
    snprintf(path, sizeof(path), "%s" SYSFSMOCK_PREFIX "/devices/%s/driver",
             root, intf);
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return NULL;
    target[n] = '\0';
    base = strrchr(target, '/');
    snprintf(driver, sizeof(driver), "%s", base ? base + 1 : target);
    return driver;
}

void sysfs_bind(const char *intf, const char *driver)
{
    sysfsmock_bind_fn *fn = (sysfsmock_bind_fn *)mock_fn("sysfsmock_bind");
    int err = fn(intf, driver);

    if (err)
        BAIL("sysfs_bind(%s, %s): %s", intf, driver, strerror(err));
}

void sysfs_unbind(const char *intf)
{
    sysfsmock_unbind_fn *fn =
        (sysfsmock_unbind_fn *)mock_fn("sysfsmock_unbind");
    int err = fn(intf);

    if (err)
        BAIL("sysfs_unbind(%s): %s", intf, strerror(err));
}

void sysfs_unplug(const char *busid)
{
    sysfsmock_unplug_fn *fn =
        (sysfsmock_unplug_fn *)mock_fn("sysfsmock_unplug");
    int err = fn(busid);

    if (err)
        BAIL("sysfs_unplug(%s): %s", busid, strerror(err));
}

void sysfs_remove_driver(const char *driver)
{
    sysfsmock_remove_driver_fn *fn =
        (sysfsmock_remove_driver_fn *)mock_fn("sysfsmock_remove_driver");
    int err = fn(driver);

    if (err)
        BAIL("sysfs_remove_driver(%s): %s", driver, strerror(err));
}

void sysfs_set_attr(const char *busid, const char *attr, const char *value)
{
    char path[PATH_MAX];
    FILE *f;

    if (!root[0])
        BAIL("sysfs_setup() first");
    snprintf(path, sizeof(path), "%s" SYSFSMOCK_PREFIX "/devices/%s/%s",
             root, busid, attr);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f))
        BAIL("sysfs_set_attr %s: %s", path, strerror(errno));
}

/* The busid of a tree's device: its one entry under devices/ that is
 * not an interface. */
static void tree_busid(const char *tree, char *busid, size_t len)
{
    char dir[PATH_MAX];
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof(dir), TREES "/%s" SYSFSMOCK_PREFIX "/devices",
             tree);
    d = opendir(dir);
    if (!d)
        BAIL("sysfs_replug: no tree %s", dir);
    busid[0] = '\0';
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && !strchr(e->d_name, ':'))
            snprintf(busid, len, "%s", e->d_name);
    closedir(d);
    if (!busid[0])
        BAIL("sysfs_replug: no device in %s", dir);
}

void sysfs_replug(const char *tree, int devnum)
{
    char busid[NAME_MAX + 1], num[16];

    tree_busid(tree, busid, sizeof(busid));
    copy_tree(tree);
    snprintf(num, sizeof(num), "%d", devnum);
    sysfs_set_attr(busid, "devnum", num);
}

const char *test_state_dir(void)
{
    static char dir[PATH_MAX];

    if (!root[0])
        BAIL("test_state_dir: sysfs_setup() first");
    snprintf(dir, sizeof(dir), "%s/state", root);
    if (mkdir(dir, 0700))
        BAIL("test_state_dir: mkdir %s: %s", dir, strerror(errno));
    setenv("LIBXL_PVUSB_STATE_DIR", dir, 1);
    return dir;
}
