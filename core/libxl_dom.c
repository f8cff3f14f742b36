/*
 * libxl_dom.c - what the toolstack needs to know about a domain: does it
 * exist, its type, its uuid.  From the hypervisor (libxenctrl), as libxl
 * has them: xenstore's copies (/local/domain/<domid>/vm, /libxl/<domid>/
 * type) are not the hypervisor's word, and only dom0 may read another
 * domain's (a driver domain cannot), so they are no fallback.  The one
 * fact only libxl's record holds is whether an HVM-container guest is
 * PVH.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_ctx.h"

/*
 * rc 0 and *found; not logged except for errors.  A dying domain is not
 * found: the hypervisor lists it until the last backend unmaps its pages
 * (~95 s after `xl reboot` on a real Xen), but nothing can be given to
 * it and what it held is no longer its.
 */
static int domain_getinfo(libxl__gc *gc, uint32_t domid,
                          xc_domaininfo_t *info, bool *found)
{
    int r;

    r = xc_domain_getinfolist(CTX->xch, domid, 1, info);
    if (r < 0) {
        LOGED(ERROR, domid, "getting domain info");
        return ERROR_FAIL;
    }
    *found = r == 1 && info->domain == domid &&
             !(info->flags & XEN_DOMINF_dying);
    return 0;
}

/* For a domain that must exist: ERROR_DOMAIN_NOTFOUND (logged) if not. */
static int domain_getinfo_existing(libxl__gc *gc, uint32_t domid,
                                   xc_domaininfo_t *info)
{
    bool found;
    int rc;

    rc = domain_getinfo(gc, domid, info, &found);
    if (rc) return rc;
    if (!found) {
        LOGD(ERROR, domid, "no such domain");
        return ERROR_DOMAIN_NOTFOUND;
    }
    return 0;
}

int libxl__domain_check_exists(libxl__gc *gc, uint32_t domid)
{
    xc_domaininfo_t info;

    return domain_getinfo_existing(gc, domid, &info);
}

/* The type libxl recorded in /libxl/<domid>/type, if any. */
static int recorded_type(libxl__gc *gc, uint32_t domid,
                         libxl_domain_type *type_r)
{
    const char *path = GCSPRINTF("/libxl/%u/type", domid);
    const char *type;
    int rc;

    rc = libxl__xs_read_checked(gc, XBT_NULL, path, &type);
    if (rc) return rc;
    if (!type) {
        *type_r = LIBXL_DOMAIN_TYPE_INVALID;
        return 0;
    }
    if (libxl_domain_type_from_string(type, type_r) ||
        *type_r == LIBXL_DOMAIN_TYPE_INVALID) {
        LOGD(ERROR, domid, "`%s': unknown domain type \"%s\"", path, type);
        return ERROR_FAIL;
    }
    return 0;
}

int libxl__domain_type(libxl__gc *gc, uint32_t domid,
                       libxl_domain_type *type_r)
{
    libxl_domain_type recorded;
    xc_domaininfo_t info;
    int rc;

    rc = domain_getinfo_existing(gc, domid, &info);
    if (rc) return rc;
    if (!(info.flags & XEN_DOMINF_hvm_guest)) {
        *type_r = LIBXL_DOMAIN_TYPE_PV;
        return 0;
    }
    /* The hypervisor calls PVH guests HVM; libxl's record tells. */
    rc = recorded_type(gc, domid, &recorded);
    if (rc) return rc;
    *type_r = recorded == LIBXL_DOMAIN_TYPE_PVH ? LIBXL_DOMAIN_TYPE_PVH
                                                : LIBXL_DOMAIN_TYPE_HVM;
    return 0;
}

int libxl__domain_uuid_string(libxl__gc *gc, uint32_t domid,
                              const char **uuid_r)
{
    xc_domaininfo_t info;
    const uint8_t *h;
    bool found;
    int rc;

    rc = domain_getinfo(gc, domid, &info, &found);
    if (rc) return rc;
    if (!found) return ERROR_DOMAIN_NOTFOUND;
    h = info.handle;
    *uuid_r = GCSPRINTF("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x",
                        h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                        h[8], h[9], h[10], h[11], h[12], h[13], h[14],
                        h[15]);
    return 0;
}

int libxl__domain_is_shut_down(libxl__gc *gc, uint32_t domid,
                               bool *shut_down_r)
{
    xc_domaininfo_t info;
    int rc;

    rc = domain_getinfo_existing(gc, domid, &info);
    if (!rc) *shut_down_r = !!(info.flags & XEN_DOMINF_shutdown);
    return rc;
}

int libxl__resolve_domid(libxl__gc *gc, const char *name, uint32_t *domid_r)
{
    xc_domaininfo_t info;
    long long id;
    bool exists;
    int rc;

    if (!libxl__strtoint(name, 0, DOMID_FIRST_RESERVED - 1, &id)) {
        rc = domain_getinfo(gc, id, &info, &exists);
        if (rc) return rc;
        if (exists) {
            *domid_r = id;
            return 0;
        }
    }

    rc = libxl_name_to_domid(CTX, name, domid_r);
    if (rc == ERROR_INVAL) {
        LOG(ERROR, "no domain \"%s\"", name);
        return ERROR_DOMAIN_NOTFOUND;
    }
    return rc;
}
