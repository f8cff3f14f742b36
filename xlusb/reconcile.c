/*
 * reconcile.c - usb-reconcile: domains made what their declarations say.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>

#include "xlusb.h"

/* One domain; 0, or 1 after saying what is left to do. */
static int reconcile_one(uint32_t domid)
{
    char *name;
    int rc;

    rc = libxl_usb_reconcile(ctx, domid, dry_run);
    if (!rc) return 0;
    name = domain_label(domid);
    if (rc == ERROR_NOT_READY)
        fail("%s: a declared controller's backend is not there yet (its"
             " QEMU, for qusb); run this again once it is", name);
    else
        fail("%s is not what it declares; see the messages above", name);
    free(name);
    return 1;
}

int main_usb_reconcile(int argc, char **argv)
{
    uint32_t domid, *domids;
    int i, n, status = 0;

    log_actions();
    if (ctx_open())
        return 1;
    if (argc) {
        if (find_domain(argv[0], &domid))
            return 1;
        status = reconcile_one(domid);
    } else {
        domids = libxl_usb_reconcile_domains(ctx, &n);
        for (i = 0; i < n; i++)
            status |= reconcile_one(domids[i]);
        free(domids);
    }
    if (libxl_usb_release_orphans(ctx, dry_run))
        status = fail("could not give back every device of the domains"
                      " that are gone; see the messages above");
    return status;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
