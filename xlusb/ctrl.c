/*
 * ctrl.c - usbctrl-attach and usbctrl-detach: a domain's USB controllers.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <limits.h>
#include <stdlib.h>

#include "xlusb.h"

/* The widest limits of any controller type (the library checks each
 * type's own): USB 3 for devicemodel, USBIF_MAX_PORTNR for pv/qusb. */
#define USB_VERSION_MAX 3
#define USB_PORTS_MAX 31

enum { K_TYPE, K_VERSION, K_PORTS, K_BACKEND, NUM_CTRL_KEYS };
static const char *const ctrl_keys[] = {
    [K_TYPE] = "type", [K_VERSION] = "version", [K_PORTS] = "ports",
    [K_BACKEND] = "backend",
};

static int parse_usbctrl(int argc, char **argv, const char **vals,
                         libxl_device_usbctrl *usbctrl)
{
    if (parse_keywords(argc, argv, ctrl_keys, NUM_CTRL_KEYS, vals))
        return 1;
    if (vals[K_TYPE] &&
        libxl_usbctrl_type_from_string(vals[K_TYPE], &usbctrl->type))
        return usage_error("bad type '%s': expected pv, qusb, devicemodel"
                           " or auto", vals[K_TYPE]);
    return int_arg("version", vals[K_VERSION], 1, USB_VERSION_MAX,
                   &usbctrl->version) ||
           int_arg("ports", vals[K_PORTS], 1, USB_PORTS_MAX,
                   &usbctrl->ports);
}

int main_usbctrl_attach(int argc, char **argv)
{
    libxl_device_usbctrl usbctrl;
    const char *vals[NUM_CTRL_KEYS];
    uint32_t domid;
    char *name = NULL, *backend = NULL;
    int rc, status = 1;

    libxl_device_usbctrl_init(&usbctrl);
    if (parse_usbctrl(argc - 1, argv + 1, vals, &usbctrl) ||
        open_domain(argv[0], &domid, &name) ||
        (vals[K_BACKEND] &&
         find_domain(vals[K_BACKEND], &usbctrl.backend_domid)))
        goto out;

    rc = libxl_device_usbctrl_add_flags(ctx, domid, &usbctrl,
                                        live_only ? LIBXL_USB_LIVE : 0, NULL);
    if (rc == ERROR_TIMEDOUT) {
        fail("the backend did not answer: is its driver running (usbback"
             " for type pv, QEMU for qusb)?  Nothing was added to %s.",
             name);
        goto out;
    }
    if (rc) {
        fail("could not add a USB controller to %s; see the messages"
             " above", name);
        goto out;
    }
    backend = domain_label(usbctrl.backend_domid);
    printf("added controller %d to %s (type %s, version %d, %d ports,"
           " backend %s)\n", usbctrl.devid, name,
           libxl_usbctrl_type_to_string(usbctrl.type), usbctrl.version,
           usbctrl.ports, backend);
    status = 0;

 out:
    free(backend);
    free(name);
    libxl_device_usbctrl_dispose(&usbctrl);
    return status;
}

int main_usbctrl_detach(int argc, char **argv)
{
    libxl_device_usbctrl usbctrl;
    uint32_t domid;
    char *name = NULL;
    int rc, status = 1;

    (void)argc;     /* two, checked by main */
    libxl_device_usbctrl_init(&usbctrl);
    if (int_arg("DevId", argv[1], 0, INT_MAX, &usbctrl.devid) ||
        open_domain(argv[0], &domid, &name))
        goto out;

    rc = libxl_device_usbctrl_remove(ctx, domid, &usbctrl, NULL);
    if (rc == ERROR_NOTFOUND) {
        fail("%s has no USB controller %d (see 'xlusb usb-list %s')",
             name, usbctrl.devid, name);
        goto out;
    }
    if (rc) {
        fail("could not remove controller %d of %s; see the messages"
             " above, then run this command again to finish",
             usbctrl.devid, name);
        goto out;
    }
    status = 0;

 out:
    free(name);
    libxl_device_usbctrl_dispose(&usbctrl);
    return status;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
