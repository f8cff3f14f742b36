/*
 * reconcile.c - usb-reconcile: domains made what their declarations say.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
             " QEMU, for qusb), or a declared device's controller is not"
             " made yet; run this again once it is", name);
    else
        fail("%s is not what it declares; see the messages above", name);
    free(name);
    return 1;
}

int main_usb_reconcile(int argc, char **argv)
{
    uint32_t *domids;
    int i, n = 1, status = 0;

    log_actions();
    if (ctx_open())
        return 1;
    if (argc) {
        domids = malloc(sizeof(*domids));
        if (!domids || find_domain(argv[0], domids)) {
            free(domids);
            return 1;
        }
    } else {
        domids = libxl_usb_reconcile_domains(ctx, &n);
    }
    /* first what dead domains left, which a rebooted one may want back */
    if (libxl_usb_release_orphans(ctx, dry_run))
        status = fail("could not give back every device of the domains"
                      " that are gone; see the messages above");
    for (i = 0; i < n; i++)
        status |= reconcile_one(domids[i]);
    free(domids);
    return status;
}

/* What xlusbd did (its status file), whether it runs, then what a
 * reconcile would do now. */
int main_usb_daemon_status(int argc, char **argv)
{
    char *path = libxl_usb_state_path("xlusbd.status"), line[512];
    FILE *f;
    int pid = 0;

    (void)argc, (void)argv;
    if (!path)
        return fail("out of memory");
    f = fopen(path, "r");
    if (!f) {
        fail("xlusbd has never run here (no %s)", path);
    } else {
        while (fgets(line, sizeof(line), f)) {
            if (!pid) sscanf(line, "pid %d", &pid);
            fputs(line, stdout);
        }
        fclose(f);
        printf("xlusbd (pid %d) is %s\n", pid,
               pid > 0 && (!kill(pid, 0) || errno == EPERM) ? "running"
               : "not running");
    }
    free(path);
    printf("A reconcile now would:\n");
    fflush(stdout);
    dry_run = true;
    return main_usb_reconcile(0, NULL);
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
