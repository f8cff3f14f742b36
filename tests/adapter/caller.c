/*
 * caller.c - a small program written as xl writes its usb* commands,
 * built against Debian's /usr/include/libxl.h and linked with Debian's
 * -lxenlight only; test-adapter runs it with the PVUSB adapter
 * preloaded.  One command a run, as xl:
 *
 *   caller usbctrl-attach <domain> <ports>
 *   caller usbdev-attach  <domain> <hostbus> <hostaddr> [<ctrl> <port>]
 *   caller usb-list       <domain>
 *   caller usbdev-detach  <domain> <ctrl> <port>
 *   caller usbctrl-detach <domain> <devid>
 *   caller async-detach   <domain> <ctrl> <port>   (an ao_how callback)
 *
 * The domain is a name (libxenlight's libxl_name_to_domid).  What the
 * library logs at error level goes to this program's logger, which prints
 * "log: <message>" on stdout; the last line is "rc=<libxl error code>".
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxl.h>
#include <libxl_utils.h>

static void print_vmessage(xentoollog_logger *lg, xentoollog_level level,
                           int errnoval, const char *context,
                           const char *format, va_list al)
    __attribute__((format(printf, 5, 0)));
static void print_vmessage(xentoollog_logger *lg, xentoollog_level level,
                           int errnoval, const char *context,
                           const char *format, va_list al)
{
    (void)lg; (void)errnoval; (void)context;
    if (level < XTL_ERROR)
        return;
    fputs("log: ", stdout);
    vprintf(format, al);
    putchar('\n');
}

static void no_progress(xentoollog_logger *lg, const char *context,
                        const char *doing_what, int percent,
                        unsigned long done, unsigned long total)
{
    (void)lg; (void)context; (void)doing_what; (void)percent; (void)done;
    (void)total;
}

static void no_destroy(xentoollog_logger *lg)
{
    (void)lg;
}

static xentoollog_logger logger = { print_vmessage, no_progress,
                                    no_destroy };

static int usb_list(libxl_ctx *ctx, uint32_t domid)
{
    libxl_device_usbctrl *ctrls;
    libxl_device_usbdev *devs;
    libxl_usbctrlinfo info;
    int i, j, nctrl, ndev, rc = 0;

    ctrls = libxl_device_usbctrl_list(ctx, domid, &nctrl);
    for (i = 0; i < nctrl; i++) {
        libxl_usbctrlinfo_init(&info);
        rc = libxl_device_usbctrl_getinfo(ctx, domid, &ctrls[i], &info);
        if (!rc) {
            printf("ctrl %d %s be %u usb-ver %d ports %d\n", info.devid,
                   libxl_usbctrl_type_to_string(info.type),
                   info.backend_id, info.version, info.ports);
            devs = libxl_device_usbdev_list(ctx, domid, &ndev);
            for (j = 0; j < ndev; j++)
                if (devs[j].ctrl == info.devid)
                    printf("  port %d: bus %d addr %d\n", devs[j].port,
                           devs[j].u.hostdev.hostbus,
                           devs[j].u.hostdev.hostaddr);
            libxl_device_usbdev_list_free(devs, ndev);
        }
        libxl_usbctrlinfo_dispose(&info);
    }
    libxl_device_usbctrl_list_free(ctrls, nctrl);
    return rc;
}

static void async_done(libxl_ctx *ctx, int rc, void *for_callback)
{
    (void)ctx; (void)for_callback;
    printf("callback rc=%d\n", rc);
}

static int run(libxl_ctx *ctx, uint32_t domid, const char *cmd, int argc,
               char **argv)
{
    libxl_asyncop_how how = { .callback = async_done };
    libxl_device_usbctrl c;
    libxl_device_usbdev d;
    int rc;

    libxl_device_usbctrl_init(&c);
    libxl_device_usbdev_init(&d);
    if (!strcmp(cmd, "usbctrl-attach") && argc == 1) {
        c.type = LIBXL_USBCTRL_TYPE_PV;
        c.ports = atoi(argv[0]);
        rc = libxl_device_usbctrl_add(ctx, domid, &c, 0);
        printf("devid %d\n", c.devid);
    } else if (!strcmp(cmd, "usbdev-attach") && (argc == 2 || argc == 4)) {
        d.u.hostdev.hostbus = atoi(argv[0]);
        d.u.hostdev.hostaddr = atoi(argv[1]);
        if (argc == 4) {
            d.ctrl = atoi(argv[2]);
            d.port = atoi(argv[3]);
        }
        rc = libxl_device_usbdev_add(ctx, domid, &d, 0);
        printf("ctrl %d port %d\n", d.ctrl, d.port);
    } else if (!strcmp(cmd, "usb-list") && argc == 0) {
        rc = usb_list(ctx, domid);
    } else if ((!strcmp(cmd, "usbdev-detach") ||
                !strcmp(cmd, "async-detach")) && argc == 2) {
        rc = libxl_ctrlport_to_device_usbdev(ctx, domid, atoi(argv[0]),
                                             atoi(argv[1]), &d);
        if (!rc)
            rc = libxl_device_usbdev_remove(ctx, domid, &d,
                                            cmd[0] == 'a' ? &how : 0);
    } else if (!strcmp(cmd, "usbctrl-detach") && argc == 1) {
        rc = libxl_devid_to_device_usbctrl(ctx, domid, atoi(argv[0]), &c);
        if (!rc)
            rc = libxl_device_usbctrl_remove(ctx, domid, &c, 0);
    } else {
        fprintf(stderr, "usage: see caller.c\n");
        rc = ERROR_INVAL;
    }
    libxl_device_usbdev_dispose(&d);
    libxl_device_usbctrl_dispose(&c);
    return rc;
}

int main(int argc, char **argv)
{
    libxl_ctx *ctx;
    uint32_t domid;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: see caller.c\n");
        return 2;
    }
    rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &logger);
    if (!rc) {
        rc = libxl_name_to_domid(ctx, argv[2], &domid);
        if (!rc)
            rc = run(ctx, domid, argv[1], argc - 3, argv + 3);
        libxl_ctx_free(ctx);
    }
    printf("rc=%d\n", rc);
    return 0;
}
