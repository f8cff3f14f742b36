/*
 * test-xlusb.c - the xlusb command, end to end on the fake host: each
 * test runs xlusb/xlusb as a child (under $TEST_VALGRIND if set) against
 * the private xenstored, the fake sysfs and the simulated backend, and
 * compares the transcript of what it printed with tests/golden/<test>.txt.
 *
 * A transcript holds, per command: "$ xlusb <args>", its stdout, its
 * stderr with each line prefixed "2> ", and "[exit N]" if N is not 0.
 * Only what varies from run to run is replaced: the temp state dir
 * (@STATEDIR@), the fake sysfs root (@SYSFS@), and the line numbers in
 * the library's log lines ("libxl_pvusb.c:#:").
 * XLUSB_GOLDEN_UPDATE=1 rewrites the golden files from the run; review
 * the diff before committing it.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define XLUSB TEST_TOPDIR "/xlusb/xlusb"
#define GOLDEN_DIR TEST_TOPDIR "/tests/golden"
#define MAX_ARGS 64

static struct {
    FILE *f;
    char *text;
    size_t len;
    char statedir[64];
    char sysfsroot[256];        /* "" until a fake sysfs is set up */
} tr;

/*----- running xlusb -----*/

/* Appends s to the transcript, with a placeholder for each variable
 * part, and "2> " before each line if it is the child's stderr. */
static void put_normalised(const char *s, bool is_stderr)
{
    const char *root = tr.sysfsroot;
    bool bol = true;
    size_t n;

    while (*s) {
        /* no trailing space on an empty line */
        if (bol && is_stderr)
            fputs(*s == '\n' ? "2>" : "2> ", tr.f);
        bol = false;
        if (tr.statedir[0] && !strncmp(s, tr.statedir, strlen(tr.statedir))) {
            fputs("@STATEDIR@", tr.f);
            s += strlen(tr.statedir);
        } else if (*root && !strncmp(s, root, strlen(root))) {
            fputs("@SYSFS@", tr.f);
            s += strlen(root);
        } else if (!strncmp(s, ".c:", 3) && s[3] >= '0' && s[3] <= '9') {
            n = strspn(s + 3, "0123456789");
            fputs(".c:#", tr.f);
            s += 3 + n;
        } else {
            bol = *s == '\n';
            fputc(*s++, tr.f);
        }
    }
    if (!bol)
        fputs("\n[no newline]\n", tr.f);
}

/* argv for the child: $TEST_VALGRIND's words, xlusb, the command's. */
static void build_argv(char *cmdline, char **argv)
{
    static char valgrind[512];
    const char *vg = getenv("TEST_VALGRIND");
    char *save = NULL, *w;
    int n = 0;

    if (vg && *vg) {
        snprintf(valgrind, sizeof(valgrind), "%s", vg);
        for (w = strtok_r(valgrind, " ", &save); w;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = XLUSB;
    for (w = strtok_r(cmdline, " ", &save); w && n < MAX_ARGS - 1;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n] = NULL;
}

/* In a child of run: argv[0] with argv. */
static void exec_argv(void *argv)
{
    execvp(((char **)argv)[0], argv);
}

/*
 * Runs argv[0] with argv, and adds "$ shown", what it printed and its
 * exit status to the transcript; returns its exit status.
 */
static int run(const char *shown, char **argv)
{
    char *out, *err;
    int status;

    fprintf(tr.f, "$ %s\n", shown);
    status = run_capture(exec_argv, argv, &out, &err);
    put_normalised(out, false);
    put_normalised(err, true);
    if (WIFSIGNALED(status))
        fprintf(tr.f, "[killed by signal %d]\n", WTERMSIG(status));
    else if (WEXITSTATUS(status))
        fprintf(tr.f, "[exit %d]\n", WEXITSTATUS(status));
    free(out);
    free(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs "xlusb <words of the command line>"; returns its exit status. */
static int xlusb(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int xlusb(const char *fmt, ...)
{
    char *cmdline, *shown, *argv[MAX_ARGS];
    va_list ap;
    int status;

    va_start(ap, fmt);
    ASSERT(vasprintf(&cmdline, fmt, ap) >= 0);
    va_end(ap);
    ASSERT(asprintf(&shown, "xlusb%s%s", *cmdline ? " " : "", cmdline) >= 0);
    build_argv(cmdline, argv);
    status = run(shown, argv);
    free(shown);
    free(cmdline);
    return status;
}

/*
 * What bash completion offers for the command line `line` (the cursor at
 * its end), one word a line, as bash with its default COMP_WORDBREAKS
 * would insert them.
 */
static void complete(const char *line)
{
    static const char script[] =
        /* compopt only works inside a real completion */
        "compopt() { :; }; . \"$1\"; COMP_LINE=$2; "
        "COMP_POINT=${#COMP_LINE}; _xlusb; printf '%s\\n' \"${COMPREPLY[@]}\"";
    char *shown, *argv[] = {
        "bash", "--norc", "-c", (char *)script, "complete",
        TEST_TOPDIR "/docs/xlusb.bash-completion", (char *)line, NULL
    };

    ASSERT(asprintf(&shown, "%s<TAB>", line) >= 0);
    run(shown, argv);
    free(shown);
}

/*----- transcripts and golden files -----*/

static void transcript_start(void)
{
    tr.f = open_memstream(&tr.text, &tr.len);
    ASSERT(tr.f);
    snprintf(tr.statedir, sizeof(tr.statedir), "/tmp/xlusb-state.XXXXXX");
    ASSERT(mkdtemp(tr.statedir));
    setenv("LIBXL_PVUSB_STATE_DIR", tr.statedir, 1);
}

static void write_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "w");

    ASSERT(out);
    fputs(text, out);
    ASSERT(!fclose(out));
}

/* Compares the transcript with tests/golden/<name>.txt and shows the
 * diff if they differ. */
static void golden_check(const char *name)
{
    char golden[512], actual[512], cmd[1200];
    char *expected;
    const char *update = getenv("XLUSB_GOLDEN_UPDATE");

    snprintf(golden, sizeof(golden), "%s/%s.txt", GOLDEN_DIR, name);
    if (update && !strcmp(update, "1"))
        write_file(golden, tr.text);
    expected = read_text_file(golden);
    if (!expected || strcmp(expected, tr.text)) {
        snprintf(actual, sizeof(actual), "%s/actual.txt", tr.statedir);
        write_file(actual, tr.text);
        snprintf(cmd, sizeof(cmd), "diff -u %s %s | sed 's/^/# /' >&2",
                 golden, actual);
        tap_fail(__FILE__, __LINE__, "transcript differs from %s", golden);
        if (system(cmd) < 0)
            tap_fail(__FILE__, __LINE__, "cannot run diff");
    }
    free(expected);
}

/* Ends the transcript, compared with golden file <name> if not NULL. */
static void transcript_end(const char *name)
{
    char cmd[128];

    ASSERT(!fclose(tr.f));
    if (name)
        golden_check(name);
    free(tr.text);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tr.statedir);
    if (system(cmd) < 0)
        tap_fail(__FILE__, __LINE__, "cannot remove %s", tr.statedir);
}

/*----- the fake host -----*/

/*
 * The private xenstored with pv guests web01 (1) and db02 (2), the
 * simulated backend (silent: it never answers), and the fake sysfs trees
 * named (NULL-terminated).
 */
static void host_start(bool silent, const char *tree, ...)
{
    va_list ap;

    xs_start();
    fakedom_create(1, "web01", "pv");
    fakedom_create(2, "db02", "pv");
    va_start(ap, tree);
    for (; tree; tree = va_arg(ap, const char *))
        sysfs_setup(tree);
    va_end(ap);
    snprintf(tr.sysfsroot, sizeof(tr.sysfsroot), "%s", sysfs_root());
    simbackend_start(silent);
    transcript_start();
}

#define ALL_TREES "base", "keyboard", "stick", "composite", "hub", \
    "behind-hub"

/*----- tests -----*/

static void test_help(void)
{
    transcript_start();
    xlusb("%s", "");
    xlusb("--help");
    xlusb("help");
    xlusb("help usbdev-attach");
    xlusb("help usbdev-detach usb-list");
    xlusb("help bogus");
    xlusb("usb-list --help");
    xlusb("usbctrl-attach -h");
    xlusb("bogus");
    xlusb("-x usb-list");
    /* no xenstored here (the harness points XENSTORED_PATH nowhere) */
    xlusb("usb-list");
    transcript_end("help");
}

static void test_usage_errors(void)
{
    host_start(false, "base", NULL);
    xlusb("usbctrl-attach");
    xlusb("usbctrl-attach web01 version=3");
    xlusb("usbctrl-attach web01 ports=32");
    xlusb("usbctrl-attach web01 ports=8x");
    xlusb("usbctrl-attach web01 ports=-1");
    xlusb("usbctrl-attach web01 ports=+8");
    xlusb("usbctrl-attach web01 ports=0x");
    xlusb("usbctrl-attach web01 type=usb");
    xlusb("usbctrl-attach web01 colour=blue");
    xlusb("usbctrl-attach web01 version=2 version=1");
    xlusb("usbctrl-attach web01 ports");
    xlusb("usbctrl-attach web01 ports=");
    xlusb("usbctrl-attach web01 -j");
    xlusb("usbctrl-detach web01");
    xlusb("usbctrl-detach web01 zero");
    xlusb("usbctrl-detach web01 0 1");
    xlusb("usbdev-attach web01");
    xlusb("usbdev-attach web01 hostbus=1");
    xlusb("usbdev-attach web01 busid=1-2 hostbus=1 hostaddr=2");
    xlusb("usbdev-attach web01 vendor=0781");
    xlusb("usbdev-attach web01 vendor=xyz product=1");
    xlusb("usbdev-attach web01 vendor=12345 product=1");
    xlusb("usbdev-attach web01 busid=1-2 port=1");
    xlusb("usbdev-attach web01 hostbus=1 hostaddr=128");
    xlusb("usbdev-attach web01 hostbus=0 hostaddr=1");
    xlusb("usbdev-attach web01 busid=1-2 type=usb");
    xlusb("usbdev-attach web01 busid=1-2 controller=0 port=32");
    xlusb("usbdev-detach web01 0");
    xlusb("usbdev-detach web01 0 x");
    xlusb("usbdev-detach web01 controller=0 bus=1");
    xlusb("usbdev-detach web01 controller=0 controller=1");
    xlusb("usbdev-detach web01 0 1 2");
    xlusb("usb-rebind");
    xlusb("usb-rebind 1-2 1-3");
    xlusb("usb-assignable-list web01");
    xlusb("usb-list -x");
    /* domains */
    xlusb("usbctrl-attach nosuch");
    xlusb("usbctrl-attach 42");
    xlusb("usbctrl-attach web01 backend=nosuch");
    xlusb("usb-list web01 nosuch");
    transcript_end("usage-errors");
}

static void test_usbctrl(void)
{
    host_start(false, "base", NULL);
    xlusb("usb-list");
    xlusb("usb-list web01");
    xlusb("usbctrl-attach web01");
    xlusb("usbctrl-attach web01 type=pv version=1 ports=4");
    /* numbers: decimal with leading zeros (not octal), or 0x hex */
    xlusb("usbctrl-attach 1 version=02 ports=0x1f backend=Domain-0");
    xlusb("usbctrl-attach db02 ports=010 backend=0");
    xlusb("usb-list web01");
    xlusb("usb-list");
    xlusb("usb-list -j db02");
    xlusb("usbctrl-detach web01 1");
    xlusb("usbctrl-detach web01 1");
    xlusb("usbctrl-detach web01 0x2");
    xlusb("usbctrl-detach db02 0");
    xlusb("usb-list");
    xlusb("usbctrl-detach web01 0");
    xlusb("usb-list web01");
    xlusb("usb-list -j");
    transcript_end("usbctrl");
}

static void test_usbctrl_refused(void)
{
    host_start(false, "base", NULL);
    /* a pv guest has no QEMU to serve qusb */
    xlusb("usbctrl-attach web01 type=qusb");
    xlusb("usb-list web01");
    transcript_end("usbctrl-refused");
}

static void test_usbctrl_timeout(void)
{
    host_start(true, "base", NULL);
    xlusb("usbctrl-attach web01");
    xlusb("usb-list web01");
    transcript_end("usbctrl-timeout");
}

static void test_usbdev(void)
{
    host_start(false, ALL_TREES, NULL);
    xlusb("usb-assignable-list");
    /* the three ways of naming a device; a controller is made at need */
    xlusb("usbdev-attach web01 hostbus=1 hostaddr=3");
    xlusb("usbdev-attach web01 busid=1-1");
    xlusb("usbctrl-attach db02 ports=2");
    xlusb("usbdev-attach db02 busid=2-2.1 controller=0 port=2");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usbback");
    xlusb("usb-list");
    xlusb("usb-list 2 --json");
    xlusb("usb-assignable-list");
    xlusb("usb-assignable-list --json");
    xlusb("usbdev-detach web01 0 1");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    xlusb("usbdev-detach web01 controller=0 port=2");
    xlusb("usbdev-detach db02 0 2");
    xlusb("usb-list");
    xlusb("usb-assignable-list");
    transcript_end("usbdev");
}

static void test_usbdev_refused(void)
{
    host_start(false, ALL_TREES, NULL);
    xlusb("usbdev-attach web01 busid=1-2");
    xlusb("usbdev-attach db02 busid=1-2");
    xlusb("usbdev-attach db02 hostbus=1 hostaddr=3");
    xlusb("usbdev-attach web01 busid=1-2");
    xlusb("usbdev-attach web01 busid=2-2");
    xlusb("usbdev-attach web01 busid=usb1");
    xlusb("usbdev-attach web01 busid=9-9");
    xlusb("usbdev-attach web01 hostbus=1 hostaddr=99");
    xlusb("usbdev-attach web01 busid=1-1 controller=0 port=1");
    xlusb("usbdev-attach web01 busid=1-1 controller=0 port=9");
    xlusb("usbdev-attach web01 busid=1-1 controller=3");
    xlusb("usbdev-detach web01 0 2");
    xlusb("usbdev-detach web01 5 1");
    xlusb("usbdev-detach db02 0 1");
    xlusb("usb-rebind 1-2");
    xlusb("usb-list");
    transcript_end("usbdev-refused");
}

/* The drivers of the composite device's interfaces 2-1:1.0 to 1.2. */
static void check_composite_drivers(const char *d0, const char *d1,
                                    const char *d2)
{
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.0"), d0);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.1"), d1);
    CHECK_STR_EQ(sysfs_driver_of("2-1:1.2"), d2);
}

static void test_composite(void)
{
    host_start(false, "base", "composite", NULL);
    xlusb("usb-assignable-list");
    xlusb("usbdev-attach web01 busid=2-1");
    check_composite_drivers("usbback", "usbback", "usbback");
    xlusb("usb-assignable-list");
    xlusb("usb-list web01");
    xlusb("usbdev-detach web01 0 1");
    check_composite_drivers("usbhid", "usbhid", "usb-storage");
    xlusb("usb-assignable-list");
    transcript_end("composite");
}

/* Whether s is valid JSON and all UTF-8, as python3's json module reads
 * it (it refuses lone surrogates and bad bytes when decoding strictly). */
static bool json_ok(const char *s)
{
    char path[128], cmd[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/out.json", tr.statedir);
    f = fopen(path, "w");
    ASSERT(f);
    fputs(s, f);
    ASSERT(!fclose(f));
    snprintf(cmd, sizeof(cmd), "python3 -c 'import json, sys; "
             "json.loads(open(sys.argv[1], \"rb\").read().decode(\"utf-8\"))' "
             "%s >&2", path);
    return system(cmd) == 0;
}

/* The stdout of "xlusb <args>" (malloc'd), not in the transcript. */
static char *xlusb_out(const char *args)
{
    char *cmdline, *argv[MAX_ARGS], *out, *err;

    ASSERT((cmdline = strdup(args)));
    build_argv(cmdline, argv);
    run_capture(exec_argv, argv, &out, &err);
    free(err);
    free(cmdline);
    return out;
}

/* What a person sees of a device whose strings are hostile: escapes on a
 * terminal, valid JSON; and "-" for an interface bound to no driver. */
static void test_hostile_strings(void)
{
    char *out;

    host_start(false, "base", "composite", "hostile", NULL);
    sysfs_unbind("2-1:1.1");
    xlusb("usb-assignable-list");
    xlusb("usb-assignable-list -j");
    xlusb("usbdev-attach web01 busid=1-4");
    xlusb("usb-list web01");

    out = xlusb_out("usb-assignable-list");
    CHECK(!strchr(out, '\033'));
    CHECK(!strchr(out, '\a'));
    CHECK(strstr(out, "Evil\\x1b]0;pwned\\x07 Stick\\\\ "
                      "\xc3\xa9t\xc3\xa9\\xe2\\x80\\x8b\\xc2\\x9b"
                      "\\xff\\xfe\n"));
    CHECK(strstr(out, " usbhid,-,usb-storage "));
    free(out);
    out = xlusb_out("usb-list web01");
    CHECK(!strchr(out, '\033'));
    CHECK(strstr(out, "Evil\\x1b]0;pwned"));
    free(out);

    out = xlusb_out("usb-assignable-list -j");
    CHECK(json_ok(out));
    CHECK(strstr(out, "\"manufacturer\": \"\\u001B[31mEVIL"
                      "\xef\xbf\xbd\xef\xbf\xbd Corp\""));
    CHECK(strstr(out, "\"drivers\": \"usbhid,-,usb-storage\""));
    free(out);
    out = xlusb_out("usb-list -j web01");
    CHECK(json_ok(out));
    CHECK(strstr(out, "\xef\xbf\xbd"));
    free(out);
    transcript_end("hostile-strings");
}

/* usb-list of a domain reads only the devices its ports hold: a broken
 * device elsewhere on the host is not its business (usb-assignable-list,
 * which lists the host, says so). */
static void test_list_own_devices(void)
{
    char path[512];

    host_start(false, "base", "keyboard", "stick", NULL);
    xlusb("usbdev-attach web01 busid=1-1");
    snprintf(path, sizeof(path), "%s/sys/bus/usb/devices/1-2/idVendor",
             tr.sysfsroot);
    write_file(path, "not a number\n");
    xlusb("usb-list web01");
    xlusb("usb-assignable-list");
    transcript_end("list-own-devices");
}

/* A pv controller 0 for domid, its backend's InitWait written here. */
static void add_ctrl_answered(libxl_ctx *ctx, uint32_t domid)
{
    struct ao_done done = { .done = false };
    libxl_asyncop_how how = { .callback = ao_done_callback,
                              .u.for_callback = &done };
    libxl_device_usbctrl c;
    char path[96];

    libxl_device_usbctrl_init(&c);
    c.type = LIBXL_USBCTRL_TYPE_PV;
    ASSERT_INT_EQ(libxl_device_usbctrl_add(ctx, domid, &c, &how), 0);
    snprintf(path, sizeof(path),
             "/local/domain/0/backend/vusb/%u/0/state", domid);
    xs_put(path, "2");
    ASSERT(test_poll_until(ctx, &done.done, 10000));
    ASSERT_INT_EQ(done.rc, 0);
    libxl_device_usbctrl_dispose(&c);
}

/* usb-list of every domain, read by several threads once there are many
 * (xlusb/list.c): each domain once, in order, as its own usb-list shows
 * it. */
#define MANY_DOMS 34
static void test_list_many(void)
{
    char *all, *one, *want = NULL, args[64], name[32];
    libxl_ctx *ctx;
    size_t len = 0;
    FILE *f;
    int d;

    /* the simulated backend rescans every domain at each event: the
     * test answers for the controllers' backends itself */
    host_start(true, "base", "keyboard", "stick", NULL);
    ctx = test_ctx();
    for (d = 3; d < 3 + MANY_DOMS; d++) {
        snprintf(name, sizeof(name), "guest%d", d);
        fakedom_create(d, name, "pv");
        add_ctrl_answered(ctx, d);
    }
    free(xlusb_out("usbdev-attach guest20 busid=1-1"));
    free(xlusb_out("usbdev-attach guest35 busid=1-2"));
    f = open_memstream(&want, &len);
    ASSERT(f);
    for (d = 3; d < 3 + MANY_DOMS; d++) {
        snprintf(args, sizeof(args), "usb-list %d", d);
        one = xlusb_out(args);
        fprintf(f, "%s%s", d > 3 ? "\n" : "", one);
        free(one);
    }
    ASSERT(!fclose(f));
    all = xlusb_out("usb-list");
    CHECK(strstr(all, "Domain guest20 (id 20):"));
    CHECK_STR_EQ(all, want);
    free(all);
    free(want);
    transcript_end(NULL);
}

static void test_vendor_product(void)
{
    host_start(false, "base", "keyboard", "stick", "stick2", NULL);
    xlusb("usb-assignable-list");
    xlusb("usbdev-attach web01 vendor=0781 product=5567");
    xlusb("usbdev-attach web01 vendor=0x0781 product=0x5567 serial=NOSUCH");
    xlusb("usbdev-attach web01 vendor=0781 product=5567 serial=STICK0002");
    xlusb("usbdev-attach db02 vendor=0781 product=5567");
    xlusb("usbdev-attach db02 vendor=dead product=beef");
    xlusb("usbdev-attach db02 vendor=46D product=C31C");
    xlusb("usb-list");
    transcript_end("vendor-product");
}

static void test_unplugged(void)
{
    host_start(false, "base", "keyboard", "stick", NULL);
    xlusb("usbdev-attach web01 busid=1-2");
    xlusb("usbdev-attach web01 busid=1-1");
    sysfs_unplug("1-2");
    xlusb("usb-list web01");
    xlusb("usb-list -j web01");
    xlusb("usb-assignable-list");
    xlusb("usbdev-detach web01 0 1");
    xlusb("usb-list web01");
    transcript_end("unplugged");
}

/* The declaration's lifecycle: declared by attach (not --live), absent
 * when unplugged, another device at its port refused, the stick back,
 * a reboot (same uuid, new domid, its devices left on usbback), and
 * detaches that drop it. */
static void test_declared(void)
{
    host_start(false, "base", "keyboard", "stick", "stick2", NULL);
    xlusb("usbdev-attach web01 busid=1-2");
    xlusb("usbdev-attach --live web01 busid=1-1");
    xlusb("usbdev-attach web01 vendor=0781 product=5567 serial=STICK0002");
    sysfs_unplug("1-2");
    xlusb("usb-list web01");
    xlusb("usb-reconcile -n web01");
    xlusb("usb-reconcile web01");
    xlusb("usb-list web01");
    sysfs_replug("stick", 9);
    sysfs_set_attr("1-2", "serial", "OTHER0001");
    xlusb("usb-list web01");
    xlusb("usb-reconcile");
    sysfs_set_attr("1-2", "serial", "STICK0001");
    xlusb("usb-reconcile --dry-run");
    xlusb("usb-reconcile");
    xlusb("usb-list -j web01");
    fakedom_destroy(1);
    fakedom_create_as(5, "web01", "pv", 1);
    xlusb("usb-reconcile -n");
    xlusb("usb-reconcile");
    xlusb("usb-list");
    xlusb("usbdev-detach web01 0 1");
    xlusb("usbctrl-attach --live web01");
    xlusb("usb-list web01");
    xlusb("usbctrl-detach web01 0");
    xlusb("usb-list web01");
    xlusb("usb-reconcile bogus");
    transcript_end("declared");
}

static void test_rebind(void)
{
    host_start(false, "base", "stick", NULL);
    xlusb("usbdev-attach web01 busid=1-2");
    sysfs_inject("/sys/bus/usb/drivers/usb-storage/bind", EIO, -1);
    xlusb("usbdev-detach web01 0 1");
    CHECK_NULL(sysfs_driver_of("1-2:1.0"));
    xlusb("usb-list web01");
    xlusb("usb-assignable-list");
    xlusb("usb-rebind 1-2");
    sysfs_inject_clear();
    xlusb("usb-rebind 1-2");
    CHECK_STR_EQ(sysfs_driver_of("1-2:1.0"), "usb-storage");
    xlusb("usb-rebind 1-2");
    xlusb("usb-assignable-list");
    transcript_end("rebind");
}

static void test_verbose(void)
{
    host_start(false, "base", "stick", NULL);
    /* Debug lines are not an interface: no golden file. */
    xlusb("usbdev-attach web01 busid=1-2");
    fflush(tr.f);
    CHECK(!strstr(tr.text, "2> libxl: debug: "));
    CHECK_INT_EQ(xlusb("-vvv usbdev-detach web01 0 1"), 0);
    fflush(tr.f);
    CHECK(strstr(tr.text, "2> libxl: debug: "));
    transcript_end(NULL);
}

static void test_completion(void)
{
    host_start(false, "base", "keyboard", "stick", NULL);
    xlusb("usbctrl-attach db02");
    xlusb("usbctrl-attach db02");
    complete("xlusb ");
    complete("xlusb usbd");
    complete("xlusb -v usb-l");
    complete("xlusb help usb-");
    complete("xlusb usbctrl-attach ");
    complete("xlusb usbctrl-attach web01 ");
    complete("xlusb usbctrl-attach web01 type=q");
    complete("xlusb usbctrl-attach web01 backend=");
    complete("xlusb usbctrl-detach db02 ");
    complete("xlusb usbdev-attach web01 bu");
    complete("xlusb usbdev-attach web01 busid=");
    complete("xlusb usbdev-attach db02 busid=1-2 controller=");
    complete("xlusb usbdev-detach db02 ");
    complete("xlusb usbdev-detach db02 controller=1 ");
    complete("xlusb usb-list ");
    complete("xlusb usb-assignable-list -");
    complete("xlusb usb-rebind ");
    complete("xlusb usbdev-attach --l");
    complete("xlusb usb-reconcile ");
    complete("xlusb usb-reconcile -n w");
    transcript_end("completion");
}

static const struct test tests[] = {
    { "help", test_help },
    { "usage-errors", test_usage_errors },
    { "usbctrl", test_usbctrl },
    { "usbctrl-refused", test_usbctrl_refused },
    { "usbctrl-timeout", test_usbctrl_timeout },
    { "usbdev", test_usbdev },
    { "usbdev-refused", test_usbdev_refused },
    { "list-many", test_list_many },
    { "composite", test_composite },
    { "hostile-strings", test_hostile_strings },
    { "vendor-product", test_vendor_product },
    { "list-own-devices", test_list_own_devices },
    { "unplugged", test_unplugged },
    { "declared", test_declared },
    { "rebind", test_rebind },
    { "verbose", test_verbose },
    { "completion", test_completion },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
