/*
 * daemon.c - xlusbd, the real binary, run by a test: its udev events
 * from a FIFO of the test's (through udevfake.so), its passes waited for
 * through its status file.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"

#define BAIL(...) tap_bail(__FILE__, __LINE__, __VA_ARGS__)

#define XLUSBD TEST_TOPDIR "/xlusbd/xlusbd"
#define UDEVFAKE TEST_TOPDIR "/tests/harness/udevfake.so"
#define PASS_TIMEOUT_MS 30000
#define SIGHUP_LINE "SIGHUP: looking at everything again"

static pid_t daemon_pid;
static int udev_fd = -1;

static void daemon_kill(void)
{
    if (daemon_pid > 0) kill(daemon_pid, SIGKILL);
    xlusbd_stop();
}

/* xlusbd's status file if it names pid (malloc'd), else NULL. */
static char *status_of(pid_t pid)
{
    char *path = libxl_usb_state_path("xlusbd.status"), *text, want[64];

    text = path ? read_text_file(path) : NULL;
    free(path);
    snprintf(want, sizeof(want), "pid %d started", (int)pid);
    if (text && strncmp(text, want, strlen(want))) {
        free(text);
        text = NULL;
    }
    return text;
}

bool xlusbd_ready(pid_t pid)
{
    char *text = status_of(pid);

    free(text);
    return text != NULL;
}

/* The SIGHUP lines in xlusbd's status file; -1 while it names no
 * running xlusbd (whose first pass is over: its signals are its own). */
static int sighups_seen(void)
{
    char *text = status_of(daemon_pid), *s;
    int n = text ? 0 : -1;

    for (s = text; n >= 0 && (s = strstr(s, SIGHUP_LINE)); s++)
        n++;
    free(text);
    return n;
}

/* Waits until the status file has more than before SIGHUP lines. */
static void sighups_wait(int before, const char *what)
{
    long long deadline = harness_now_ms() + PASS_TIMEOUT_MS;

    while (sighups_seen() <= before) {
        if (harness_now_ms() > deadline || waitpid(daemon_pid, NULL,
                                                   WNOHANG))
            BAIL("xlusbd: %s in %d ms (see its stderr)", what,
                 PASS_TIMEOUT_MS);
        usleep(2000);
    }
}

/* In the child: stderr to log (if any), udevfake preloaded, xlusbd. */
static void __attribute__((noreturn)) daemon_exec(const char *fifo,
                                                  const char *preload,
                                                  const char *log)
{
    int fd;

    if (log) {
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
    }
    setenv("UDEVFAKE_SOCKET", fifo, 1);
    setenv("LD_PRELOAD", preload, 1);
    execl(XLUSBD, XLUSBD, (char *)NULL);
    _exit(127);
}

void xlusbd_start(const char *dir, const char *log)
{
    char fifo[PATH_MAX], *preload;
    const char *old = getenv("LD_PRELOAD");

    if (daemon_pid > 0)
        BAIL("xlusbd_start: xlusbd already runs");
    snprintf(fifo, sizeof(fifo), "%s/udev.fifo", dir);
    if (mkfifo(fifo, 0600))
        BAIL("xlusbd_start: mkfifo %s: %s", fifo, strerror(errno));
    /* read-write: never blocks, and xlusbd never sees end of file */
    udev_fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (udev_fd < 0 ||
        asprintf(&preload, "%s%s%s", old ? old : "", old ? ":" : "",
                 UDEVFAKE) < 0)
        BAIL("xlusbd_start: %s", strerror(errno));
    fflush(NULL);
    daemon_pid = fork();
    if (daemon_pid < 0)
        BAIL("xlusbd_start: fork: %s", strerror(errno));
    if (!daemon_pid)
        daemon_exec(fifo, preload, log);
    free(preload);
    harness_at_exit(daemon_kill);
    /* before, a SIGHUP would kill it */
    sighups_wait(-1, "no first pass ended");
}

pid_t xlusbd_pid(void)
{
    return daemon_pid;
}

/* A line for udevfake.so. */
static void udev_line(const char *line)
{
    ssize_t n = strlen(line);

    if (udev_fd < 0 || write(udev_fd, line, n) != n)
        BAIL("xlusbd_udev: %s", udev_fd < 0 ? "xlusbd_start() first"
                                            : strerror(errno));
}

void xlusbd_udev(const char *action, const char *sysname)
{
    char line[128];

    snprintf(line, sizeof(line), "%s %s\n", action, sysname);
    udev_line(line);
}

void xlusbd_udev_lost(void)
{
    udev_line("ENOBUFS\n");
}

void xlusbd_pass(void)
{
    int before = sighups_seen();

    if (daemon_pid <= 0)
        BAIL("xlusbd_pass: xlusbd_start() first");
    kill(daemon_pid, SIGHUP);
    /* written at the end of the pass the SIGHUP begins */
    sighups_wait(before, "no pass ended");
}

int xlusbd_stop(void)
{
    int status = -1;

    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        if (waitpid(daemon_pid, &status, 0) != daemon_pid)
            status = -1;
    }
    daemon_pid = 0;
    if (udev_fd >= 0) close(udev_fd);
    udev_fd = -1;
    return status;
}
