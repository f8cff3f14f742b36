/*
 * tap.c - the TAP runner: one forked child per test, so that a crash, a
 * failed ASSERT or a hang fails that test only, and every daemon, temp
 * dir and context a test made is torn down when its child exits.
 *
 * The child exits through exit(), never _exit(), so that under
 * `make check-valgrind` (the whole program runs under valgrind, and
 * children forked without exec stay under it) the leak check of each
 * child runs after the harness released what it holds: a leak reported
 * there is the code's under test.
 *
 * A child's stderr (the library's log, the failures of CHECK and ASSERT,
 * whatever the test prints there) goes to a temp file, shown as "# "
 * lines on the runner's stderr only if the test fails: the error
 * messages a passing test expects are not shown.  TEST_VERBOSE=1 leaves
 * the child's stderr alone (everything shown, as it happens).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_internal.h"

#define MAX_AT_EXIT 16
/* Seconds a test may run before it is killed: generous, as valgrind
 * slows the daemon-heavy tests down twenty-fold.  TEST_TIMEOUT overrides. */
#define DEFAULT_TIMEOUT_S 300

/* What a test child tells the runner beyond its exit status; lives in a
 * shared anonymous mapping, so it survives the child. */
struct child_report {
    bool skipped;
    char why[512];
};

static struct child_report *report;
static pid_t test_pid = -1;     /* in the test child: its own pid */
static bool test_failed;
static char scratch[128];
static void (*at_exit_fns[MAX_AT_EXIT])(void);
static size_t n_at_exit;

/* Prints msg with every line made a "# " line, the first after prefix. */
static void print_diag(FILE *f, const char *prefix, char *msg)
{
    char *line, *save = NULL;

    fflush(stdout);
    for (line = strtok_r(msg, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        fprintf(f, "# %s%s\n", prefix, line);
        prefix = "";
    }
    fflush(f);
}

static void vdiag(FILE *f, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vdiag(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char *msg = NULL;

    if (vasprintf(&msg, fmt, ap) < 0) {
        fprintf(f, "# %s(diagnostic lost: out of memory)\n", prefix);
        return;
    }
    print_diag(f, prefix, msg);
    free(msg);
}

void tap_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(stdout, "", fmt, ap);
    va_end(ap);
}

/* The runner's own stderr, kept when a test child's goes to its log. */
static FILE *figures_out;

void tap_figure(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    vdiag(figures_out ? figures_out : stderr, "", fmt, ap);
    va_end(ap);
    fflush(figures_out ? figures_out : stderr);
}

/* Failures go to stderr, as Test::More does: prove shows them even when
 * it hides the TAP stream. */
static void vfail(const char *file, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vfail(const char *file, int line, const char *fmt, va_list ap)
{
    char prefix[256];

    test_failed = true;
    snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
    vdiag(stderr, prefix, fmt, ap);
}

void tap_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(file, line, fmt, ap);
    va_end(ap);
}

void tap_bail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(file, line, fmt, ap);
    va_end(ap);
    exit(1);
}

static void run_at_exit(void);

/* Ends the test child.  The exit hooks run first, not from atexit, so a
 * failure they find (a backend that crashed) still fails the test. */
static void __attribute__((noreturn)) finish(void)
{
    run_at_exit();
    exit(test_failed ? 1 : 0);
}

void tap_skip(const char *why)
{
    if (report) {
        report->skipped = true;
        snprintf(report->why, sizeof(report->why), "%s", why);
    }
    finish();
}

void harness_at_exit(void (*fn)(void))
{
    size_t i;

    for (i = 0; i < n_at_exit; i++)
        if (at_exit_fns[i] == fn)
            return;
    if (n_at_exit == MAX_AT_EXIT) {
        fprintf(stderr, "# harness: too many exit hooks\n");
        abort();
    }
    at_exit_fns[n_at_exit++] = fn;
}

/* Also registered with atexit, for tests that exit() themselves and for
 * tap_bail. */
static void run_at_exit(void)
{
    /* Processes the test forks (simbackend) inherit this atexit entry. */
    if (getpid() != test_pid)
        return;
    while (n_at_exit)
        at_exit_fns[--n_at_exit]();
}

const char *harness_scratch(void)
{
    return scratch;
}

static int timeout_s(void)
{
    const char *s = getenv("TEST_TIMEOUT");
    char *end;
    long v;

    if (!s)
        return DEFAULT_TIMEOUT_S;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 86400)
        return DEFAULT_TIMEOUT_S;
    return (int)v;
}

static void __attribute__((noreturn)) run_child(const struct test *t,
                                               FILE *log)
{
    char path[sizeof(scratch) + 32];

    test_pid = getpid();
    if (log && !(figures_out = fdopen(dup(STDERR_FILENO), "w"))) {
        fprintf(stderr, "# harness: dup: %s\n", strerror(errno));
        _exit(1);
    }
    if (log && dup2(fileno(log), STDERR_FILENO) < 0) {
        fprintf(stderr, "# harness: dup2: %s\n", strerror(errno));
        _exit(1);
    }
    if (atexit(run_at_exit)) {
        fprintf(stderr, "# harness: atexit failed\n");
        _exit(1);
    }
    /*
     * Hermetic by default: until the test starts its own daemon or fake
     * sysfs, libxenstore, libxenctrl's stand-in and the sysfs mock point
     * at paths that do not exist, so a test can never reach the host's
     * xenstored, hypervisor or USB bus.
     */
    snprintf(path, sizeof(path), "%s/no-xenstored", scratch);
    setenv("XENSTORED_PATH", path, 1);
    snprintf(path, sizeof(path), "%s/no-sysfs", scratch);
    setenv("SYSFSMOCK_ROOT", path, 1);
    snprintf(path, sizeof(path), "%s/no-hypervisor", scratch);
    setenv("XCMOCK_DOMAINS", path, 1);
    alarm(timeout_s());
    t->fn();
    finish();
}

static bool name_selected(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2)
        return true;
    for (i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return true;
    return false;
}

static bool make_scratch(void)
{
    const char *tmp = getenv("TMPDIR");

    if (!tmp || !*tmp)
        tmp = "/tmp";
    /* dir + "/xs/socket" must fit in sun_path (108 bytes) */
    if (strlen(tmp) > 64) {
        tap_diag("TMPDIR too long for a socket path; using /tmp");
        tmp = "/tmp";
    }
    snprintf(scratch, sizeof(scratch), "%s/pvusb-test.XXXXXX", tmp);
    return mkdtemp(scratch) != NULL;
}

static bool verbose(void)
{
    const char *s = getenv("TEST_VERBOSE");

    return s && !strcmp(s, "1");
}

/* Prints what a failed test's child wrote on its stderr (log), each line
 * made a "# " line unless it is one already (CHECK's failures). */
static void show_log(FILE *log, size_t num, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool any = false;

    if (!log || fseek(log, 0, SEEK_SET))
        return;
    fflush(stdout);
    while ((len = getline(&line, &cap, log)) >= 0) {
        if (!any)
            fprintf(stderr, "# stderr of test %zu - %s:\n", num, name);
        any = true;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        fprintf(stderr, "%s%s\n", strncmp(line, "# ", 2) ? "# " : "", line);
    }
    free(line);
    fflush(stderr);
}

/* Runs test number num in a child; returns whether it passed. */
static bool run_one(size_t num, const struct test *t)
{
    int status;
    pid_t pid, r;
    FILE *log = NULL;
    bool ok;

    if (!make_scratch()) {
        printf("not ok %zu - %s\n", num, t->name);
        tap_diag("cannot create a scratch dir: %s", strerror(errno));
        return false;
    }
    memset(report, 0, sizeof(*report));
    /* Unlinked at once: nothing to clean up, even if we are killed. */
    if (!verbose() && !(log = tmpfile()))
        tap_diag("cannot make a temp file for the test's stderr (%s): "
                 "shown as it comes", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        printf("not ok %zu - %s\n", num, t->name);
        tap_diag("fork: %s", strerror(errno));
        harness_rmtree(scratch);
        if (log)
            fclose(log);
        return false;
    }
    if (pid == 0)
        run_child(t, log);
    do {
        r = waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    /* Whatever the child left behind (it may have crashed). */
    harness_rmtree(scratch);

    ok = r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        show_log(log, num, t->name);
    if (log)
        fclose(log);
    if (ok) {
        if (report->skipped)
            printf("ok %zu - %s # SKIP %s\n", num, t->name, report->why);
        else
            printf("ok %zu - %s\n", num, t->name);
        return true;
    }
    printf("not ok %zu - %s\n", num, t->name);
    if (r != pid)
        tap_diag("waitpid: %s", strerror(errno));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        tap_diag("timed out after %d s (TEST_TIMEOUT)", timeout_s());
    else if (WIFSIGNALED(status))
        tap_diag("killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 1)
        tap_diag("exit status %d%s", WEXITSTATUS(status),
                 WEXITSTATUS(status) == 99 ? " (valgrind errors)" : "");
    return false;
}

int tap_main(int argc, char **argv, const struct test *tests, size_t n)
{
    size_t i, planned = 0, num = 0;
    bool all_ok = true;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 0; i < n; i++)
        planned += name_selected(tests[i].name, argc, argv);
    if (!planned) {
        printf("1..0 # SKIP no test name contains the given words\n");
        return 0;
    }
    report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (report == MAP_FAILED) {
        printf("Bail out! mmap: %s\n", strerror(errno));
        return 1;
    }
    printf("1..%zu\n", planned);
    for (i = 0; i < n; i++) {
        if (!name_selected(tests[i].name, argc, argv))
            continue;
        if (!run_one(++num, &tests[i]))
            all_ok = false;
    }
    munmap(report, sizeof(*report));
    report = NULL;
    return all_ok ? 0 : 1;
}
