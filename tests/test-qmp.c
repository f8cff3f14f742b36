/*
 * test-qmp.c - USB controllers of type devicemodel (the emulated USB of
 * HVM guests) against a real QEMU, over QMP: controllers of each version
 * in QEMU, refused versions and ports, devices given and taken back,
 * QEMU errors and a missing QEMU leaving nothing behind, listing and
 * lookups, a callback, the QMP client against a hostile "QEMU", one
 * that answers late or never, and everything driven from an application's
 * own event loop (libxl_osevent_register_hooks).
 *
 * Each test starts its own QEMU (Debian's qemu-system-x86_64; QEMU env
 * var overrides), paused and without devices, listening for QMP where the
 * library looks, /var/run/xen/qmp-libxl-<domid>, which qmpredirect.so
 * redirects into the test's fake root.  No QEMU: the test fails.
 *
 * QEMU's usb-host refuses at once a hostbus/hostaddr that the host does
 * not have ("failed to find host usb device 1:3"), and the fake sysfs is
 * not the host's: so devices are given through a relay that turns the
 * library's usb-host device_add into a usb-kbd on the same bus and port
 * (recording what the library sent), and a real usb-host is only seen
 * refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define HVM 5       /* its QEMU listens where the library looks */
#define RELAYED 6   /* the library reaches its QEMU through the relay */
#define NOQEMU 7    /* an hvm guest without a QEMU */
#define PRIV "/libxl/5/device/vusb"
#define QEMU_START_MS 5000

static const char *state_dir;
static char qmp_dir[128];
static pid_t qemu_pid = -1, relay_pid = -1;

/*----- QEMU and a QMP client of the test's own -----*/

static void stop_children(void)
{
    pid_t *pids[] = { &relay_pid, &qemu_pid };
    size_t i;

    for (i = 0; i < ARRAY_LEN(pids); i++) {
        if (*pids[i] <= 0) continue;
        kill(*pids[i], SIGTERM);
        while (waitpid(*pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
        *pids[i] = -1;
    }
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A stream socket on path: connected to it (-1 if nobody listens), or
 * with listening, bound to it and listening.
 */
static int unix_socket(const char *path, bool listening)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    ASSERT(strlen(path) < sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    if (listening) {
        ASSERT(!bind(fd, (struct sockaddr *)&addr, sizeof(addr)));
        ASSERT(!listen(fd, 4));
    } else if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Starts a paused, device-less QEMU with its QMP socket at sock. */
static void qemu_start(const char *sock)
{
    const char *bin = getenv("QEMU") ? getenv("QEMU")
                                     : "qemu-system-x86_64";
    char qmp[256], log[256];
    long long t0 = now_ms();
    int fd;

    snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
    snprintf(log, sizeof(log), "%s/qemu.log", sysfs_root());
    fflush(NULL);
    qemu_pid = fork();
    ASSERT(qemu_pid >= 0);
    if (qemu_pid == 0) {
        /* QEMU runs natively, without the test's preloads */
        unsetenv("LD_PRELOAD");
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp(bin, bin, "-machine", "pc", "-accel", "tcg", "-nodefaults",
               "-display", "none", "-S", "-qmp", qmp, (char *)NULL);
        _exit(127);
    }
    atexit(stop_children);
    while ((fd = unix_socket(sock, false)) < 0) {
        if (now_ms() - t0 > QEMU_START_MS ||
            waitpid(qemu_pid, NULL, WNOHANG) == qemu_pid) {
            qemu_pid = -1;
            tap_bail(__FILE__, __LINE__, "%s did not start (see %s)", bin,
                     log);
        }
        usleep(10000);
    }
    close(fd);
    tap_diag("QEMU answered on its QMP socket after %lld ms",
             now_ms() - t0);
}

/* One line from fd into buf (NUL-terminated, newline dropped). */
static void read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;

    for (;;) {
        ASSERT(n < size - 1);
        ASSERT(read(fd, buf + n, 1) == 1);
        if (buf[n] == '\n') break;
        n++;
    }
    buf[n] = 0;
}

static void write_all(int fd, const char *s)
{
    ASSERT(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
}

/* QEMU's reply (events skipped) to one command given as JSON; malloc'd. */
static char *qmp(const char *sock, const char *json)
{
    char buf[8192];
    int fd = unix_socket(sock, false);

    ASSERT(fd >= 0);
    read_line(fd, buf, sizeof(buf));
    write_all(fd, "{\"execute\": \"qmp_capabilities\"}\n");
    read_line(fd, buf, sizeof(buf));
    write_all(fd, json);
    do {
        read_line(fd, buf, sizeof(buf));
    } while (strstr(buf, "\"event\""));
    close(fd);
    return strdup(buf);
}

/* Checks QEMU's reply to `json` contains `want`. */
#define CHECK_QMP(sock, json, want) do { char *r_ = qmp((sock), (json)); \
    if (!strstr(r_, (want))) tap_fail(__FILE__, __LINE__, \
        "QMP %s: \"%s\" lacks \"%s\"", (json), r_, (want)); \
    free(r_); } while (0)

/* The type of QEMU's device id, as qom-get answers ("{"return": ...}"). */
static char *qom_get(const char *sock, const char *id, const char *prop)
{
    char json[256];

    snprintf(json, sizeof(json), "{\"execute\": \"qom-get\", \"arguments\": "
             "{\"path\": \"/machine/peripheral/%s\", \"property\": \"%s\"}}"
             "\n", id, prop);
    return qmp(sock, json);
}

#define CHECK_QOM(sock, id, prop, want) do { \
    char *r_ = qom_get((sock), (id), (prop)); \
    if (!strstr(r_, (want))) tap_fail(__FILE__, __LINE__, \
        "qom-get %s %s: \"%s\" lacks \"%s\"", (id), (prop), r_, (want)); \
    free(r_); } while (0)

/*----- the relay -----*/

/*
 * Turns the library's one-line usb-host device_add into a usb-kbd one on
 * the same bus and port (QEMU's usb-host would look for a real host
 * device), appending the line as received to the log file.
 */
static void relay_rewrite(char *line, const char *logpath)
{
    char *drv = strstr(line, "\"usb-host\"");
    char *host, *end;
    FILE *log;

    if (!drv) return;
    log = fopen(logpath, "a");
    if (log) {
        fprintf(log, "%s\n", line);
        fclose(log);
    }
    memcpy(drv, "\"usb-kbd\" ", 10);
    host = strstr(line, ",\"hostbus\"");
    end = host ? strchr(host, '}') : NULL;
    if (end) memmove(host, end, strlen(end) + 1);
}

/* Moves the complete lines of buf (len bytes) from one side to to. */
static size_t relay_lines(char *buf, size_t len, int to, bool from_qemu,
                          const char *logpath, bool *greeted)
{
    static const char event[] = "{\"timestamp\": {\"seconds\": 1, "
        "\"microseconds\": 2}, \"event\": \"RELAY_TEST\"}\r\n";
    char *nl;
    size_t n;

    while ((nl = memchr(buf, '\n', len))) {
        n = nl - buf + 1;
        *nl = 0;
        if (from_qemu && *greeted && write(to, event, strlen(event)) < 0)
            _exit(1);
        if (!from_qemu) relay_rewrite(buf, logpath);
        if (write(to, buf, strlen(buf)) < 0 || write(to, "\n", 1) < 0)
            _exit(1);
        if (from_qemu) *greeted = true;
        memmove(buf, buf + n, len - n);
        len -= n;
    }
    return len;
}

static void on_sigterm(int sig)
{
    (void)sig;
    _exit(0);
}

static void relay_main(int lfd, const char *qemu_sock, const char *logpath,
                       int gate)
{
    char buf[2][65536], c;
    size_t len[2];
    struct pollfd fds[2];
    bool greeted;
    ssize_t got;
    int i;

    signal(SIGTERM, on_sigterm);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (;;) {
        fds[0] = (struct pollfd){ .fd = accept(lfd, NULL, NULL),
                                  .events = POLLIN };
        /* held: QEMU is not reached, and nothing answered, until then */
        if (gate >= 0 && read(gate, &c, 1) != 1) _exit(1);
        fds[1] = (struct pollfd){ .fd = unix_socket(qemu_sock, false),
                                  .events = POLLIN };
        if (fds[0].fd < 0 || fds[1].fd < 0) _exit(1);
        len[0] = len[1] = 0;
        greeted = false;
        for (;;) {
            if (poll(fds, 2, -1) < 0) _exit(1);
            for (i = 0; i < 2; i++) {
                if (!fds[i].revents) continue;
                got = read(fds[i].fd, buf[i] + len[i],
                           sizeof(buf[i]) - 1 - len[i]);
                if (got <= 0) goto next;
                len[i] = relay_lines(buf[i], len[i] + got, fds[!i].fd,
                                     i == 1, logpath, &greeted);
            }
        }
next:
        close(fds[0].fd);
        close(fds[1].fd);
    }
}

/* The library's QMP for domid goes through a relay to a QEMU at
 * qemu_sock; the relay logs what it rewrote to logpath.  With gate >= 0,
 * each connection is held until a byte can be read from gate. */
static void relay_start(uint32_t domid, const char *qemu_sock,
                        const char *logpath, int gate)
{
    char path[256];
    int lfd;

    snprintf(path, sizeof(path), "%s/qmp-libxl-%u", qmp_dir, domid);
    lfd = unix_socket(path, true);
    fflush(NULL);
    relay_pid = fork();
    ASSERT(relay_pid >= 0);
    if (relay_pid == 0)
        relay_main(lfd, qemu_sock, logpath, gate);
    close(lfd);
}

/*----- setup -----*/

/* xenstored, the hvm guests, the host's devices; QEMU for domain HVM
 * at qemu_sock_r (its QMP socket, as the test reaches it). */
static libxl_ctx *setup(char *qemu_sock_r, size_t size)
{
    static const char *const trees[] = { "base", "keyboard", "stick" };
    size_t i;

    xs_start();
    fakedom_create(HVM, "hvm5", "hvm");
    fakedom_create(RELAYED, "hvm6", "hvm");
    fakedom_create(NOQEMU, "hvm7", "hvm");
    for (i = 0; i < ARRAY_LEN(trees); i++)
        sysfs_setup(trees[i]);
    state_dir = test_state_dir();
    snprintf(qmp_dir, sizeof(qmp_dir), "%s/var", sysfs_root());
    ASSERT(!mkdir(qmp_dir, 0700));
    strcat(qmp_dir, "/run");
    ASSERT(!mkdir(qmp_dir, 0700));
    strcat(qmp_dir, "/xen");
    ASSERT(!mkdir(qmp_dir, 0700));
    snprintf(qemu_sock_r, size, "%s/qmp-libxl-%d", qmp_dir, HVM);
    qemu_start(qemu_sock_r);
    return test_ctx();
}

/* A devicemodel controller of that version and number of ports. */
static libxl_device_usbctrl dm_ctrl(int version, int ports)
{
    libxl_device_usbctrl c;

    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_DEVICEMODEL;
    c.version = version;
    c.ports = ports;
    return c;
}

static int add_ctrl(libxl_ctx *ctx, uint32_t domid, int version, int ports)
{
    libxl_device_usbctrl c = dm_ctrl(version, ports);
    int rc = libxl_device_usbctrl_add(ctx, domid, &c, NULL);

    libxl_device_usbctrl_dispose(&c);
    return rc;
}

static int dev_op(libxl_ctx *ctx, uint32_t domid, bool add, int bus,
                  int addr, int ctrl, int port)
{
    libxl_device_usbdev d;
    int rc;

    libxl_device_usbdev_init(&d);
    d.type = LIBXL_USBDEV_TYPE_HOSTDEV;
    d.u.hostdev.hostbus = bus;
    d.u.hostdev.hostaddr = addr;
    d.ctrl = ctrl;
    d.port = port;
    rc = add ? libxl_device_usbdev_add(ctx, domid, &d, NULL)
             : libxl_device_usbdev_remove(ctx, domid, &d, NULL);
    libxl_device_usbdev_dispose(&d);
    return rc;
}

/* The numbers of controllers and devices in domid's persisted config. */
static void check_config(uint32_t domid, int nctrls, int ndevs)
{
    char path[256], buf[65536];
    libxl_domain_usb_config cfg;
    size_t n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.json", state_dir,
             fakedom_uuid(domid));
    libxl_domain_usb_config_init(&cfg);
    f = fopen(path, "r");
    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        ASSERT_INT_EQ(libxl_domain_usb_config_from_json(NULL, &cfg, buf), 0);
    }
    CHECK_INT_EQ(cfg.num_usbctrls, nctrls);
    CHECK_INT_EQ(cfg.num_usbdevs, ndevs);
    libxl_domain_usb_config_dispose(&cfg);
}

/* The relay's record of what the library asked QEMU for (static). */
static const char *relay_log(const char *logpath)
{
    static char buf[4096];
    size_t n = 0;
    FILE *f = fopen(logpath, "r");

    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = 0;
    return buf;
}

/*----- the tests -----*/

static void test_ctrl_versions(void)
{
    static const char *const view[][2] = {
        { PRIV "/0/type", "devicemodel" },
        { PRIV "/0/usb-ver", "2" }, { PRIV "/0/num-ports", "6" },
        { PRIV "/1/usb-ver", "1" }, { PRIV "/1/num-ports", "2" },
        { PRIV "/2/usb-ver", "3" }, { PRIV "/2/num-ports", "4" },
    };
    char sock[256], path[128];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_device_usbctrl c;
    int i;

    /* auto on an hvm guest: devicemodel, version 2 (usb-ehci, 6 ports) */
    libxl_device_usbctrl_init(&c);
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, HVM, &c, NULL), 0);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK_INT_EQ(c.devid, 0);
    CHECK_INT_EQ(c.version, 2);
    CHECK_INT_EQ(c.ports, 6);
    libxl_device_usbctrl_dispose(&c);
    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 1, 0), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 3, 4), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 3, 0), 0);

    CHECK_QOM(sock, "xenusb-0", "type", "\"usb-ehci\"");
    CHECK_QOM(sock, "xenusb-1", "type", "\"piix3-usb-uhci\"");
    CHECK_QOM(sock, "xenusb-2", "type", "\"nec-usb-xhci\"");
    CHECK_QOM(sock, "xenusb-2", "p2", "\"return\": 4");
    CHECK_QOM(sock, "xenusb-2", "p3", "\"return\": 4");
    CHECK_QOM(sock, "xenusb-3", "p2", "\"return\": 8");

    /* the private view is all there is in xenstore */
    for (i = 0; i < (int)ARRAY_LEN(view); i++)
        CHECK_XS(view[i][0], view[i][1]);
    for (i = 1; i <= 7; i++) {
        snprintf(path, sizeof(path), PRIV "/0/port/%d", i);
        CHECK_XS(path, i <= 6 ? "" : "(absent)");
    }
    CHECK_PERMS(PRIV "/0", "n0");      /* dom0's alone */
    CHECK(!xs_has(PRIV "/0/backend"));
    CHECK(!xs_has("/local/domain/5/device/vusb"));
    CHECK(!xs_has("/local/domain/0/backend/vusb"));
    CHECK(!xs_has("/local/domain/0/backend/qusb"));
    check_config(HVM, 4, 0);
}

static void test_ctrl_refused(void)
{
    char sock[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_device_usbctrl c;

    CHECK_INT_EQ(add_ctrl(ctx, HVM, 1, 3), ERROR_INVAL);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 2, 8), ERROR_INVAL);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 3, 16), ERROR_INVAL);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 3, -1), ERROR_INVAL);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 4, 0), ERROR_INVAL);
    c = dm_ctrl(2, 0);
    c.backend_domid = HVM;      /* QEMU's QMP is dom0's */
    CHECK_INT_EQ(libxl_device_usbctrl_add(ctx, HVM, &c, NULL), ERROR_INVAL);
    libxl_device_usbctrl_dispose(&c);
    /* accepted: the edges */
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 1, 2), 0);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 2, 6), 0);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 3, 15), 0);
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 3, 1), 0);
    CHECK_QOM(sock, "xenusb-2", "p2", "\"return\": 15");
    CHECK_QOM(sock, "xenusb-4", "type", "DeviceNotFound");
    check_config(HVM, 4, 0);

    /* QEMU refuses an id it has: nothing is left of the attempt */
    xs_del(PRIV "/3");
    CHECK_INT_EQ(add_ctrl(ctx, HVM, 3, 1), ERROR_QMP_GENERIC_ERROR);
    CHECK(!xs_has(PRIV "/3"));
}

static void test_no_qemu(void)
{
    char sock[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));

    CHECK_INT_EQ(add_ctrl(ctx, NOQEMU, 2, 0), ERROR_NOTFOUND);
    CHECK(!xs_has("/libxl/7/device/vusb"));
    CHECK(!xs_has("/local/domain/7/device/vusb"));
    check_config(NOQEMU, 0, 0);

    /* QEMU going away: removal still completes (its devices are gone) */
    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 2, 0), 0);
    stop_children();
    CHECK_INT_EQ(dev_op(ctx, HVM, true, 1, 3, 0, 1), ERROR_NOTFOUND);
    CHECK(!xs_has("/libxl/usbback/1-2"));
    CHECK_XS(PRIV "/0/port/1", "");
    check_config(HVM, 1, 0);
    {
        libxl_device_usbctrl c;

        libxl_device_usbctrl_init(&c);
        c.devid = 0;
        CHECK_INT_EQ(libxl_device_usbctrl_remove(ctx, HVM, &c, NULL), 0);
        libxl_device_usbctrl_dispose(&c);
    }
    CHECK(!xs_has(PRIV));
    check_config(HVM, 0, 0);
}

static void test_dev_usb_host_refused(void)
{
    char sock[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));

    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 2, 0), 0);
    /* the stick, 1-2 at 1/3, exists in the fake sysfs only */
    CHECK_INT_EQ(dev_op(ctx, HVM, true, 1, 3, 0, 0),
                 ERROR_QMP_GENERIC_ERROR);
    CHECK_XS(PRIV "/0/port/1", "");
    CHECK(!xs_has("/libxl/usbback/1-2"));
    check_config(HVM, 1, 0);
    CHECK_QOM(sock, "xenusb-1-3", "type", "DeviceNotFound");
}

/* A controller of RELAYED with the keyboard (1-1, 1/2) on port 2. */
static libxl_ctx *setup_relayed(char *qemu_sock, size_t size, char *logpath,
                                size_t logsize)
{
    libxl_ctx *ctx = setup(qemu_sock, size);

    snprintf(logpath, logsize, "%s/relay.log", sysfs_root());
    relay_start(RELAYED, qemu_sock, logpath, -1);
    ASSERT_INT_EQ(add_ctrl(ctx, RELAYED, 2, 0), 0);
    ASSERT_INT_EQ(dev_op(ctx, RELAYED, true, 1, 2, 0, 2), 0);
    return ctx;
}

static void test_dev_add_remove(void)
{
    char sock[256], logpath[256];
    libxl_ctx *ctx = setup_relayed(sock, sizeof(sock), logpath,
                                   sizeof(logpath));
    libxl_device_usbdev *list, d;
    int n;

    /* what libxl sends: every value a string */
    CHECK_STR_EQ(relay_log(logpath),
                 "{\"execute\":\"device_add\",\"arguments\":{"
                 "\"id\":\"xenusb-1-2\",\"driver\":\"usb-host\","
                 "\"bus\":\"xenusb-0.0\",\"port\":\"2\",\"hostbus\":\"1\","
                 "\"hostaddr\":\"2\"},\"id\":2}\n");
    CHECK_QOM(sock, "xenusb-1-2", "port", "\"return\": \"2\"");
    CHECK_XS("/libxl/6/device/vusb/0/port/2", "1-1");
    CHECK_XS("/libxl/usbback/1-1/owner", "6/0/2");
    check_config(RELAYED, 1, 1);
    /* QEMU claims it: the host driver is not touched */
    CHECK_STR_EQ(sysfs_driver_of("1-1:1.0"), "usbhid");

    /* listed from the port of the private view */
    libxl_device_usbdev_init(&d);
    CHECK_INT_EQ(libxl_ctrlport_to_device_usbdev(ctx, RELAYED, 0, 2, &d), 0);
    CHECK_INT_EQ(d.u.hostdev.hostbus * 10 + d.u.hostdev.hostaddr, 12);
    libxl_device_usbdev_dispose(&d);
    list = libxl_device_usbdev_list(ctx, RELAYED, &n);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(n ? list[0].port : 0, 2);
    libxl_device_usbdev_list_free(list, n);

    /* the same device twice, or a taken port: refused before QEMU */
    CHECK_INT_EQ(dev_op(ctx, RELAYED, true, 1, 2, 0, 0),
                 ERROR_DEVICE_EXISTS);
    CHECK_INT_EQ(dev_op(ctx, RELAYED, true, 1, 3, 0, 2), ERROR_INVAL);

    CHECK_INT_EQ(dev_op(ctx, RELAYED, false, 0, 0, 0, 2), 0);
    CHECK_QOM(sock, "xenusb-1-2", "port", "DeviceNotFound");
    CHECK_XS("/libxl/6/device/vusb/0/port/2", "");
    CHECK(!xs_has("/libxl/usbback/1-1"));
    check_config(RELAYED, 1, 0);
    CHECK_INT_EQ(dev_op(ctx, RELAYED, false, 0, 0, 0, 2), ERROR_NOTFOUND);

    /* crash-only: a device QEMU no longer has is taken back all the same */
    ASSERT_INT_EQ(dev_op(ctx, RELAYED, true, 1, 2, 0, 2), 0);
    CHECK_QMP(sock, "{\"execute\": \"device_del\", \"arguments\": "
              "{\"id\": \"xenusb-1-2\"}}\n", "\"return\"");
    CHECK_INT_EQ(dev_op(ctx, RELAYED, false, 0, 0, 0, 2), 0);
    CHECK(!xs_has("/libxl/usbback/1-1"));
}

static void test_ctrl_remove_with_device(void)
{
    char sock[256], logpath[256];
    libxl_ctx *ctx = setup_relayed(sock, sizeof(sock), logpath,
                                   sizeof(logpath));
    libxl_device_usbctrl c;

    libxl_device_usbctrl_init(&c);
    c.devid = 0;
    CHECK_INT_EQ(libxl_device_usbctrl_remove(ctx, RELAYED, &c, NULL), 0);
    libxl_device_usbctrl_dispose(&c);
    CHECK_QOM(sock, "xenusb-1-2", "port", "DeviceNotFound");
    /* a PCI unplug waits for the (here paused) guest: it is pending */
    CHECK_QMP(sock, "{\"execute\": \"device_del\", \"arguments\": "
              "{\"id\": \"xenusb-0\"}}\n", "in the process of unplug");
    CHECK(!xs_has("/libxl/6/device/vusb"));
    CHECK(!xs_has("/libxl/usbback/1-1"));
    check_config(RELAYED, 0, 0);
}

static void test_list_getinfo(void)
{
    char sock[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_device_usbctrl *list, c;
    libxl_usbctrlinfo info;
    int n;

    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 1, 0), 0);
    ASSERT_INT_EQ(add_ctrl(ctx, HVM, 3, 5), 0);
    list = libxl_device_usbctrl_list(ctx, HVM, &n);
    ASSERT_INT_EQ(n, 2);
    CHECK_INT_EQ(list[0].type, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK_INT_EQ(list[0].version, 1);
    CHECK_INT_EQ(list[0].ports, 2);
    CHECK_INT_EQ(list[1].version, 3);
    CHECK_INT_EQ(list[1].ports, 5);
    CHECK_INT_EQ(list[1].backend_domid, 0);
    libxl_device_usbctrl_list_free(list, n);

    libxl_usbctrlinfo_init(&info);
    libxl_device_usbctrl_init(&c);
    c.devid = 1;
    ASSERT_INT_EQ(libxl_device_usbctrl_getinfo(ctx, HVM, &c, &info), 0);
    CHECK_INT_EQ(info.type, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK_INT_EQ(info.devid, 1);
    CHECK_INT_EQ(info.version, 3);
    CHECK_INT_EQ(info.ports, 5);
    CHECK_STR_EQ(info.backend, PRIV "/1");
    CHECK_INT_EQ(info.backend_id, 0);
    CHECK_NULL(info.frontend);
    CHECK_INT_EQ(info.frontend_id, HVM);
    CHECK_INT_EQ(info.state, -1);
    CHECK_INT_EQ(info.evtch, -1);
    CHECK_INT_EQ(info.ref_urb, -1);
    CHECK_INT_EQ(info.ref_conn, -1);
    libxl_usbctrlinfo_dispose(&info);
    libxl_device_usbctrl_dispose(&c);

    libxl_device_usbctrl_init(&c);
    CHECK_INT_EQ(libxl_devid_to_device_usbctrl(ctx, HVM, 1, &c), 0);
    CHECK_INT_EQ(c.type, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK_INT_EQ(c.ports, 5);
    libxl_device_usbctrl_dispose(&c);
    libxl_device_usbctrl_init(&c);
    CHECK_INT_EQ(libxl_devid_to_device_usbctrl(ctx, HVM, 2, &c),
                 ERROR_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);
}

/* What the last completion callback reported. */
static volatile bool cb_done;
static int cb_rc;

static void ao_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
    (void)ctx;
    (void)for_callback;
    cb_rc = rc;
    cb_done = true;
}

static void test_callback(void)
{
    char sock[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_asyncop_how how = { .callback = ao_callback };
    libxl_device_usbctrl c = dm_ctrl(3, 0);   /* the caller's until done */

    cb_rc = 1;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, HVM, &c, &how), 0);
    CHECK(!cb_done);     /* completes from the poll loop, not inside */
    ASSERT(test_poll_until(ctx, &cb_done, 5000));
    CHECK_INT_EQ(cb_rc, 0);
    CHECK_QOM(sock, "xenusb-0", "type", "\"nec-usb-xhci\"");

    cb_done = false;
    cb_rc = 1;
    ASSERT_INT_EQ(libxl_device_usbctrl_remove(ctx, HVM, &c, &how), 0);
    CHECK(!cb_done);
    ASSERT(test_poll_until(ctx, &cb_done, 5000));
    CHECK_INT_EQ(cb_rc, 0);
    CHECK(!xs_has(PRIV));
    libxl_device_usbctrl_dispose(&c);

    /* a QEMU error comes through the callback too */
    cb_done = false;
    cb_rc = 1;
    c = dm_ctrl(2, 0);
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, NOQEMU, &c, &how), 0);
    ASSERT(test_poll_until(ctx, &cb_done, 5000));
    CHECK_INT_EQ(cb_rc, ERROR_NOTFOUND);
    libxl_device_usbctrl_dispose(&c);
}

/*----- a hostile QEMU -----*/

/*
 * Listens as NOQEMU's QEMU and answers every connection with the len
 * bytes of text, then waits for the client to hang up (at once if len is
 * 0).
 */
static void fake_qemu_start(const char *text, size_t len)
{
    char path[256], c;
    int lfd, fd;

    snprintf(path, sizeof(path), "%s/qmp-libxl-%d", qmp_dir, NOQEMU);
    unlink(path);
    lfd = unix_socket(path, true);
    fflush(NULL);
    relay_pid = fork();
    ASSERT(relay_pid >= 0);
    if (relay_pid == 0) {
        signal(SIGTERM, on_sigterm);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        for (;;) {
            fd = accept(lfd, NULL, NULL);
            if (fd < 0 || write(fd, text, len) != (ssize_t)len) _exit(1);
            while (len && read(fd, &c, 1) > 0)
                ;
            close(fd);
        }
    }
    close(lfd);
}

static void fake_qemu_stop(void)
{
    kill(relay_pid, SIGTERM);
    while (waitpid(relay_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    relay_pid = -1;
}

static void test_hostile_qemu(void)
{
#define TEXT(s) s, sizeof(s) - 1
    static const char greeting[] = "{\"QMP\": {\"version\": {}}}\r\n";
    static const struct {
        const char *what;
        const char *text;
        size_t len;
    } cases[] = {
        { "not JSON", TEXT("{\"QMP\": \n") },
        { "not an object", TEXT("[1, 2]\n") },
        { "no greeting", TEXT("{\"return\": {}}\n") },
        { "nothing", TEXT("") },
        { "a reply to another id", TEXT("{\"QMP\": {}}\n{\"return\": {}, "
          "\"id\": 7}\n") },
        { "an error without a class", TEXT("{\"QMP\": {}}\n{\"error\": "
          "{\"desc\": 1}, \"id\": 1}\n") },
        { "a NUL byte", TEXT("{\"QMP\": {}}\n{\"ret\0urn\": {}}\n") },
    };
#undef TEXT
    char sock[256], *big;
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    size_t i;

    for (i = 0; i < ARRAY_LEN(cases); i++) {
        tap_diag("a QEMU that sends %s", cases[i].what);
        fake_qemu_start(cases[i].text, cases[i].len);
        CHECK_INT_EQ(add_ctrl(ctx, NOQEMU, 2, 0),
                     ERROR_PROTOCOL_ERROR_QMP);
        fake_qemu_stop();
        CHECK(!xs_has("/libxl/7/device/vusb"));
    }

    /* a message longer than the client takes */
    big = malloc(200000);
    ASSERT(big);
    strcpy(big, greeting);
    strcat(big, "{\"event\": \"");
    memset(big + strlen(big), 'x', 150000);
    big[strlen(greeting) + 11 + 150000] = 0;
    strcat(big, "\"}\n");
    fake_qemu_start(big, strlen(big));
    free(big);
    CHECK_INT_EQ(add_ctrl(ctx, NOQEMU, 2, 0),
                 ERROR_PROTOCOL_ERROR_QMP);
    fake_qemu_stop();
    CHECK(!xs_has("/libxl/7/device/vusb"));
    check_config(NOQEMU, 0, 0);
}

/*----- a QEMU that answers late, or never -----*/

/*
 * NOQEMU's QMP goes to domain HVM's QEMU through a relay that holds each
 * connection until the test writes a byte to *gate_w.  An operation with
 * a callback is started; it must return before QEMU answered.
 */
/* call returns 0 within 3 s; a client that waits for QEMU inside it is
 * killed by SIGALRM (which the runner reports as a timeout). */
#define RETURNS_AT_ONCE(call) do { \
    unsigned left_ = alarm(3); \
    ASSERT_INT_EQ((call), 0); \
    alarm(left_); } while (0)

static void held_start(char *logpath, size_t size, const char *sock,
                       int *gate_w)
{
    int gate[2];

    ASSERT(!pipe(gate));
    snprintf(logpath, size, "%s/relay.log", sysfs_root());
    relay_start(NOQEMU, sock, logpath, gate[0]);
    close(gate[0]);
    *gate_w = gate[1];
    cb_done = false;
    cb_rc = 1;
}

/* One operation through the held relay: it returns first, is still
 * waiting 300 ms later, and completes once QEMU is let answer. */
#define HELD(ctx, gate, call) do { \
    cb_done = false; \
    cb_rc = 1; \
    RETURNS_AT_ONCE(call); \
    CHECK(!test_poll_until((ctx), &cb_done, 300)); \
    ASSERT_INT_EQ(write((gate), "g", 1), 1); \
    ASSERT(test_poll_until((ctx), &cb_done, 5000)); \
    CHECK_INT_EQ(cb_rc, 0); } while (0)

static void test_held_qemu(void)
{
    char sock[256], logpath[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_asyncop_how how = { .callback = ao_callback };
    libxl_device_usbctrl c = dm_ctrl(2, 0);
    libxl_device_usbdev d;
    int gate;

    held_start(logpath, sizeof(logpath), sock, &gate);
    HELD(ctx, gate, libxl_device_usbctrl_add(ctx, NOQEMU, &c, &how));
    CHECK_QOM(sock, "xenusb-0", "type", "\"usb-ehci\"");
    check_config(NOQEMU, 1, 0);

    libxl_device_usbdev_init(&d);
    d.type = LIBXL_USBDEV_TYPE_HOSTDEV;
    d.u.hostdev.hostbus = 1;
    d.u.hostdev.hostaddr = 2;
    d.ctrl = 0;
    d.port = 2;
    HELD(ctx, gate, libxl_device_usbdev_add(ctx, NOQEMU, &d, &how));
    CHECK_QOM(sock, "xenusb-1-2", "port", "\"return\": \"2\"");
    CHECK_XS("/libxl/usbback/1-1/owner", "7/0/2");
    HELD(ctx, gate, libxl_device_usbdev_remove(ctx, NOQEMU, &d, &how));
    CHECK_QOM(sock, "xenusb-1-2", "port", "DeviceNotFound");
    CHECK(!xs_has("/libxl/usbback/1-1"));
    libxl_device_usbdev_dispose(&d);

    HELD(ctx, gate, libxl_device_usbctrl_remove(ctx, NOQEMU, &c, &how));
    CHECK(!xs_has("/libxl/7/device/vusb"));
    check_config(NOQEMU, 0, 0);
    libxl_device_usbctrl_dispose(&c);
    close(gate);
}

/* A controller add that QEMU never answers (it times out), or whose
 * QEMU side goes away mid-exchange: an error, and nothing left. */
static void held_add_fails(bool qemu_goes, int want)
{
    char sock[256], logpath[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    libxl_asyncop_how how = { .callback = ao_callback };
    libxl_device_usbctrl c = dm_ctrl(2, 0);
    long long t0 = now_ms();
    int gate;

    held_start(logpath, sizeof(logpath), sock, &gate);
    RETURNS_AT_ONCE(libxl_device_usbctrl_add(ctx, NOQEMU, &c, &how));
    CHECK(!test_poll_until(ctx, &cb_done, 200));
    if (qemu_goes) fake_qemu_stop();
    ASSERT(test_poll_until(ctx, &cb_done, 20000));
    CHECK_INT_EQ(cb_rc, want);
    tap_diag("failed after %lld ms", now_ms() - t0);
    CHECK(!xs_has("/libxl/7/device/vusb"));
    check_config(NOQEMU, 0, 0);
    libxl_device_usbctrl_dispose(&c);
    close(gate);
}

static void test_silent_qemu(void)
{
    held_add_fails(false, ERROR_TIMEDOUT);
}

static void test_qemu_gone(void)
{
    held_add_fails(true, ERROR_PROTOCOL_ERROR_QMP);
}

/*----- the application's own event loop -----*/

/* Runs one operation with a callback through the app's loop. */
#define HOOKED(ctx, call) do { \
    cb_done = false; \
    cb_rc = 1; \
    ASSERT_INT_EQ((call), 0); \
    CHECK(!cb_done); \
    ASSERT(evloop_run_until((ctx), &cb_done, 5000)); \
    CHECK_INT_EQ(cb_rc, 0); } while (0)

static void test_hooks_attach_detach(void)
{
    char sock[256], logpath[256];
    libxl_ctx *ctx = setup(sock, sizeof(sock));
    const struct evloop_stats *st = evloop_stats();
    libxl_asyncop_how how = { .callback = ao_callback };
    libxl_device_usbctrl c = dm_ctrl(2, 0);
    libxl_device_usbdev d;

    evloop_hooks_register(ctx);
    snprintf(logpath, sizeof(logpath), "%s/relay.log", sysfs_root());
    relay_start(RELAYED, sock, logpath, -1);
    HOOKED(ctx, libxl_device_usbctrl_add(ctx, RELAYED, &c, &how));
    libxl_device_usbdev_init(&d);
    d.type = LIBXL_USBDEV_TYPE_HOSTDEV;
    d.u.hostdev.hostbus = 1;
    d.u.hostdev.hostaddr = 2;
    d.ctrl = 0;
    d.port = 2;
    HOOKED(ctx, libxl_device_usbdev_add(ctx, RELAYED, &d, &how));
    CHECK_QOM(sock, "xenusb-1-2", "port", "\"return\": \"2\"");
    CHECK_XS("/libxl/usbback/1-1/owner", "6/0/2");
    HOOKED(ctx, libxl_device_usbdev_remove(ctx, RELAYED, &d, &how));
    CHECK_QOM(sock, "xenusb-1-2", "port", "DeviceNotFound");
    HOOKED(ctx, libxl_device_usbctrl_remove(ctx, RELAYED, &c, &how));
    CHECK(!xs_has("/libxl/6/device/vusb"));
    check_config(RELAYED, 0, 0);
    libxl_device_usbdev_dispose(&d);
    libxl_device_usbctrl_dispose(&c);

    /* each exchange: its socket watched for output only while sending,
     * its timeout cancelled as libxl does, everything let go */
    tap_diag("hooks: %d fd registrations, %d modifications; %d timeouts, "
             "%d cancelled", st->fd_register, st->fd_modify,
             st->timeout_register, st->timeout_modify);
    CHECK(st->fd_register >= 5);                /* the pipe and 4 QMP */
    CHECK(st->fd_modify >= 8);
    CHECK_INT_EQ(st->timeout_modify_not_now, 0);
    CHECK_INT_EQ(st->timeout_deregister, 0);
    evloop_run_for(ctx, 50);
    CHECK_INT_EQ(st->timers, 0);
    CHECK_INT_EQ(st->handles, 1);               /* the ctx's wakeup pipe */
}

static const struct test tests[] = {
    { "controllers of versions 1, 2, 3 in QEMU", test_ctrl_versions },
    { "bad versions and ports refused", test_ctrl_refused },
    { "no QEMU: clear error, nothing left", test_no_qemu },
    { "usb-host of a device QEMU lacks: undone", test_dev_usb_host_refused },
    { "device add and remove over QMP", test_dev_add_remove },
    { "controller remove takes its devices out of QEMU",
      test_ctrl_remove_with_device },
    { "list, getinfo, devid lookup", test_list_getinfo },
    { "add and remove with a callback", test_callback },
    { "a hostile QEMU: protocol errors, nothing left", test_hostile_qemu },
    { "a held QEMU: the call returns first, the loop completes it",
      test_held_qemu },
    { "a silent QEMU: timed out, nothing left", test_silent_qemu },
    { "QEMU gone mid-exchange: an error, nothing left", test_qemu_gone },
    { "attach and detach driven only through the app's event hooks",
      test_hooks_attach_detach },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
