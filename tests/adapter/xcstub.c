/*
 * xcstub.c - a preloadable stand-in for the libxenctrl calls that
 * Debian's libxenlight and this library make here, where there is no
 * hypervisor: a handle opens (libxenlight's libxl_ctx_alloc fails
 * without one); the domains are those xenstore has under /local/domain
 * (the test's guests exist in the private xenstored only), each running
 * and PV; the flask call libxenlight makes for each domain it lists fails
 * with ENOSYS, as it does on a Xen built without XSM.  Nothing else of
 * libxenctrl is called by the tests that preload it.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <xenstore.h>

/* Interposers: exported on purpose, with libxenctrl's prototypes. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static char dummy_handle[64];

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    return (xc_interface *)dummy_handle;
}

int xc_interface_close(xc_interface *xch)
{
    return 0;
}

static int compare_domids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Up to max_domains of the domains from first_domain on, ascending. */
int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    struct xs_handle *xsh = xs_open(0);
    uint32_t *ids = NULL;
    unsigned int i, n = 0, num = 0;
    char **ents = NULL, *end;
    unsigned long id;

    if (xsh)
        ents = xs_directory(xsh, XBT_NULL, "/local/domain", &n);
    if (!ents) {
        if (xsh) xs_close(xsh);
        errno = EIO;
        return -1;
    }
    ids = calloc(n + 1, sizeof(*ids));
    for (i = 0; ids && i < n; i++) {
        errno = 0;
        id = strtoul(ents[i], &end, 10);
        if (!errno && !*end && id >= first_domain && id < DOMID_FIRST_RESERVED)
            ids[num++] = id;
    }
    if (ids)
        qsort(ids, num, sizeof(*ids), compare_domids);
    if (num > max_domains)
        num = max_domains;
    for (i = 0; i < num; i++) {
        memset(&info[i], 0, sizeof(info[i]));
        info[i].domain = ids[i];
        info[i].flags = XEN_DOMINF_running;
    }
    free(ids);
    free(ents);
    xs_close(xsh);
    return num;
}

int xc_flask_sid_to_context(xc_interface *xch, int sid, char *buf,
                            uint32_t size)
{
    errno = ENOSYS;
    return -1;
}
