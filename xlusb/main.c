/*
 * main.c - xlusb: USB passthrough for Xen guests, the commands an
 * administrator types.  Global options, the command table, help and
 * usage, and the library context.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xlusb.h"

libxl_ctx *ctx;
bool json_output;
bool live_only;
bool dry_run;
static xentoollog_logger_stdiostream *logger;
static xentoollog_level logger_level;
static const struct cmd_spec *running;     /* the command being run */

static const struct cmd_spec cmd_table[] = {
    { "usbctrl-attach", main_usbctrl_attach, OPT_LIVE, 1, -1,
      "[--live] <Domain> [type=pv|qusb|devicemodel|auto]\n"
      "           [version=1|2|3] [ports=<N>] [backend=<Domain>]",
      "Create a USB controller in a domain.",
      "type=     who serves the controller: pv (the host kernel's usbback),\n"
      "          qusb (QEMU's PV USB backend), devicemodel (the emulated\n"
      "          USB of an HVM guest's QEMU) or auto (the default:\n"
      "          devicemodel for HVM guests, else pv if usbback is loaded,\n"
      "          else qusb)\n"
      "version=  USB version, 1 or 2; 3 too for devicemodel (default 2)\n"
      "ports=    number of ports, 1 to 31 (default 8); devicemodel: 2 for\n"
      "          version 1, 6 for 2, up to 15 for 3\n"
      "backend=  the domain running the backend (default 0)\n"
      "The controller is declared: `xlusb usb-reconcile` makes it again\n"
      "after the domain reboots.  --live: for this boot only.\n"
      "Prints the id (DevId) given to the new controller.\n" },
    { "usbctrl-detach", main_usbctrl_detach, 0, 2, 2,
      "<Domain> <DevId>",
      "Remove a USB controller, and first the devices on it.",
      "DevId is the controller's id, as `xlusb usb-list` shows it.  Its\n"
      "declaration goes too, with its devices'.\n" },
    { "usbdev-attach", main_usbdev_attach, OPT_LIVE, 2, -1,
      "[--live] <Domain> <device>\n"
      "           [controller=<DevId> [port=<N>]]",
      "Give a host USB device to a domain.",
      "<device> is one of:\n"
      "  hostbus=<B> hostaddr=<D>   Bus and Device as lsusb prints them\n"
      "                             (decimal); they change when the device\n"
      "                             is plugged in again\n"
      "  busid=<B-P.P>              the port path, e.g. 3-1.2, stable\n"
      "                             across re-plugging\n"
      "  vendor=<vvvv> product=<pppp> [serial=<s>]\n"
      "                             the ids as lsusb prints them (hex);\n"
      "                             refused if several devices match\n"
      "Without controller=, a controller with a free port is chosen (one\n"
      "is created if none has); without port=, the first free port.\n"
      "The device is declared: `xlusb usb-reconcile` gives it back at the\n"
      "same controller and port when it is plugged in again or the domain\n"
      "reboots: the device at that busid (if its vendor:product and serial\n"
      "are the same), or, given by vendor= product= serial=, the device\n"
      "with that serial at any port.  --live: for this boot only.\n"
      "Prints where the device was attached.\n" },
    { "usbdev-detach", main_usbdev_detach, 0, 3, 3,
      "<Domain> <DevId> <Port>\n"
      "       xlusb usbdev-detach <Domain> controller=<DevId> port=<N>",
      "Take a USB device back from a domain.",
      "The device on that port is unbound from the guest's backend and\n"
      "given back to its original host drivers.  If that last step fails,\n"
      "fix the cause and run `xlusb usb-rebind <busid>`; a detach that was\n"
      "interrupted is finished by running it again.  Its declaration\n"
      "goes too.\n" },
    { "usb-list", main_usb_list, OPT_JSON, 0, -1,
      "[-j] [<Domain>...]",
      "List the USB controllers and devices of domains.",
      "Without a domain, every domain that has USB controllers.  For each\n"
      "controller: DevId, type, backend domain, state, USB version and\n"
      "ports; for each port, the device's busid, Bus and Device (decimal),\n"
      "vendor:product and name, or \"(unplugged)\" for a device unplugged\n"
      "from the host while assigned, \"(not the declared device)\" for\n"
      "another device plugged in at its port; then each declared device\n"
      "that is not attached, \"absent\" or \"present\".\n"
      "-j, --json  print JSON instead (see xlusb(1))\n" },
    { "usb-assignable-list", main_usb_assignable_list, OPT_JSON, 0, 0,
      "[-j]",
      "List the host USB devices that can be given to a domain.",
      "Every host USB device but hubs: busid, Bus and Device (decimal),\n"
      "vendor:product, class, host driver(s), the domain that has it\n"
      "(with controller:port) and the product name.\n"
      "-j, --json  print JSON instead (see xlusb(1))\n" },
    { "usb-rebind", main_usb_rebind, 0, 1, 1,
      "<busid>",
      "Give a detached device back to its original host drivers.",
      "For when `usbdev-detach` took a device from its domain but could\n"
      "not rebind it to its host drivers (\"Couldn't rebind ...\").  Does\n"
      "nothing if there is nothing to restore.\n" },
    { "usb-reconcile", main_usb_reconcile, OPT_DRY_RUN, 0, 1,
      "[-n|--dry-run] [<Domain>]",
      "Make domains what their declarations say.",
      "Re-creates declared controllers, attaches declared devices that are\n"
      "plugged in (another device at a declared port is refused), takes\n"
      "off devices that are unplugged or not the declared ones, and gives\n"
      "back to the host the devices of domains that are gone.  Without a\n"
      "domain, every domain with USB.  Prints what it did.\n"
      "-n, --dry-run  print what it would do, and do nothing\n" },
    { "usb-daemon-status", main_usb_daemon_status, 0, 0, 0,
      "",
      "Say what xlusbd did, whether it runs, and what is left to do.",
      "Prints xlusbd's last 50 actions (its status file in the state\n"
      "directory), whether its pid is alive, then what `usb-reconcile`\n"
      "would do now (as with --dry-run).\n" },
};

static const struct cmd_spec *cmd_find(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cmd_table); i++)
        if (!strcmp(cmd_table[i].name, name))
            return &cmd_table[i];
    return NULL;
}

static void print_usage(FILE *f, const struct cmd_spec *c)
{
    fprintf(f, "Usage: xlusb %s %s\n", c->name, c->args);
}

static void print_cmd_help(const struct cmd_spec *c)
{
    print_usage(stdout, c);
    printf("\n%s\n\n%s", c->summary, c->help);
}

static void print_help(void)
{
    size_t i;

    printf("Usage: xlusb [-v] <command> [args]\n"
           "       xlusb help [<command>]\n\n"
           "USB passthrough for Xen guests.  Commands:\n\n");
    for (i = 0; i < ARRAY_SIZE(cmd_table); i++)
        printf(" %-20s %s\n", cmd_table[i].name, cmd_table[i].summary);
    printf("\nOptions:\n"
           " -v, --verbose        log more (repeat for more still)\n"
           " -h, --help           this help\n\n"
           "A <Domain> is a domain name or number.  Numbers are decimal, or"
           " hex after 0x.\n");
}

/* After a mistake in the command line. */
static int help_hint(void)
{
    fprintf(stderr, "Usage: xlusb [-v] <command> [args]; 'xlusb help' lists"
            " the commands.\n");
    return 1;
}

static int main_help(int argc, char **argv)
{
    const struct cmd_spec *c;

    if (argc < 2) {
        print_help();
        return 0;
    }
    if (argc > 2)
        return fail("help takes one command");
    c = cmd_find(argv[1]);
    if (!c) {
        fail("unknown command '%s'", argv[1]);
        return help_hint();
    }
    print_cmd_help(c);
    return 0;
}

static void vmessage(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static void vmessage(const char *fmt, va_list ap)
{
    fputs("xlusb: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    return 1;
}

int usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    print_usage(stderr, running);
    return 1;
}

/* The option getopt_long has just refused, for messages. */
static const char *refused_option(char **argv)
{
    static char buf[3] = "-?";

    if (!optopt)
        return argv[optind - 1];
    buf[1] = (char)optopt;
    return buf;
}

/*
 * Parses the options of the running command, whose name is argv[0]
 * (-h/--help, and -j/--json if it takes it), and checks the number of its
 * arguments.  Returns the index of the first argument, or -1 if the
 * command must end with exit status *status_r (help printed: 0; a usage
 * error: 1).
 */
static int cmd_options(int argc, char **argv, int *status_r)
{
    static const struct {
        unsigned int opt;
        struct option o;
    } all_opts[] = {
        { 0, { "help", no_argument, NULL, 'h' } },
        { OPT_JSON, { "json", no_argument, NULL, 'j' } },
        { OPT_LIVE, { "live", no_argument, NULL, 'L' } },
        { OPT_DRY_RUN, { "dry-run", no_argument, NULL, 'n' } },
    };
    struct option long_opts[ARRAY_SIZE(all_opts) + 1];
    char short_opts[ARRAY_SIZE(all_opts) + 1];
    size_t i, n = 0, ns = 0;
    int opt, nargs;

    for (i = 0; i < ARRAY_SIZE(all_opts); i++) {
        if (all_opts[i].opt && !(running->opts & all_opts[i].opt))
            continue;
        long_opts[n++] = all_opts[i].o;
        if (all_opts[i].o.val != 'L')   /* --live has no short form */
            short_opts[ns++] = all_opts[i].o.val;
    }
    memset(&long_opts[n], 0, sizeof(long_opts[n]));
    short_opts[ns] = 0;
    optind = 0;     /* glibc: start afresh */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts,
                              NULL)) != -1) {
        switch (opt) {
        case 'h':
            print_cmd_help(running);
            *status_r = 0;
            return -1;
        case 'j':
            json_output = true;
            break;
        case 'L':
            live_only = true;
            break;
        case 'n':
            dry_run = true;
            break;
        default:
            *status_r = usage_error("unknown option '%s'",
                                    refused_option(argv));
            return -1;
        }
    }
    nargs = argc - optind;
    if (nargs < running->min_args) {
        *status_r = usage_error("missing arguments");
        return -1;
    }
    if (running->max_args >= 0 && nargs > running->max_args) {
        *status_r = usage_error("too many arguments");
        return -1;
    }
    return optind;
}

void log_actions(void)
{
    if (logger_level > XTL_INFO)
        xtl_stdiostream_set_minlevel(logger, XTL_INFO);
}

libxl_ctx *ctx_another(void)
{
    libxl_ctx *c;

    if (libxl_ctx_alloc(&c, LIBXL_VERSION, 0, (xentoollog_logger *)logger))
        return NULL;
    return c;
}

int ctx_open(void)
{
    ctx = ctx_another();
    if (!ctx)
        return fail("cannot connect to xenstored: is it running, and are"
                    " you root?");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 }
    };
    /* As xl: progress and above; each -v shows one level more. */
    xentoollog_level level = XTL_PROGRESS;
    int opt, i, status = 1;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+hv", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            print_help();
            return 0;
        case 'v':
            if (level > XTL_DEBUG)
                level--;
            break;
        default:
            fail("unknown option '%s'", refused_option(argv));
            return help_hint();
        }
    }
    if (optind == argc)
        return help_hint();
    argv += optind;
    argc -= optind;
    if (!strcmp(argv[0], "help"))
        return main_help(argc, argv);
    running = cmd_find(argv[0]);
    if (!running) {
        fail("unknown command '%s'", argv[0]);
        return help_hint();
    }
    i = cmd_options(argc, argv, &status);
    if (i < 0)
        return status;

    logger_level = level;
    logger = xtl_createlogger_stdiostream(stderr, level, 0);
    if (!logger)
        return fail("cannot set up logging");
    status = running->fn(argc - i, argv + i);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)logger);
    return status;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
