/*
 * libxl_dom.c - what the toolstack needs to know about a domain: does it
 * exist, its type, its uuid.  From libxenctrl where there is a
 * hypervisor, else from xenstore.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_ctx.h"

#define UUID_STRLEN 36

/* rc 0 and *found; not logged except for errors. */
static int domain_getinfo(libxl__gc *gc, uint32_t domid,
                          xc_domaininfo_t *info, bool *found)
{
    int r;

    r = xc_domain_getinfolist(CTX->xch, domid, 1, info);
    if (r < 0) {
        LOGED(ERROR, domid, "getting domain info");
        return ERROR_FAIL;
    }
    *found = r == 1 && info->domain == domid;
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

/* rc 0 and *exists; not logged except for errors. */
static int domain_exists(libxl__gc *gc, uint32_t domid, bool *exists)
{
    xc_domaininfo_t info;
    const char *dompath;
    int rc;

    if (CTX->xch)
        return domain_getinfo(gc, domid, &info, exists);

    LOGD(DEBUG, domid, "no hypervisor: answered from xenstore");
    rc = libxl__xs_read_checked(gc, XBT_NULL,
                                libxl__xs_get_dompath(gc, domid), &dompath);
    if (rc) return rc;
    *exists = dompath != NULL;
    return 0;
}

int libxl__domain_check_exists(libxl__gc *gc, uint32_t domid)
{
    bool exists;
    int rc;

    rc = domain_exists(gc, domid, &exists);
    if (rc) return rc;
    if (!exists) {
        LOGD(ERROR, domid, "no such domain");
        return ERROR_DOMAIN_NOTFOUND;
    }
    return 0;
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

    if (CTX->xch) {
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

    rc = libxl__domain_check_exists(gc, domid);
    if (rc) return rc;
    rc = recorded_type(gc, domid, type_r);
    if (rc) return rc;
    if (*type_r == LIBXL_DOMAIN_TYPE_INVALID) {
        LOGD(ERROR, domid, "no hypervisor and no /libxl/%u/type", domid);
        return ERROR_FAIL;
    }
    return 0;
}

/* Exactly 8-4-4-4-12 lower-case hex digits, as libxl writes them. */
static bool uuid_is_valid(const char *s)
{
    int i;

    if (strlen(s) != UUID_STRLEN)
        return false;
    for (i = 0; i < UUID_STRLEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!strchr("0123456789abcdef", s[i])) {
            return false;
        }
    }
    return true;
}

int libxl__domain_uuid_string(libxl__gc *gc, uint32_t domid,
                              const char **uuid_r)
{
    xc_domaininfo_t info;
    const uint8_t *h;
    const char *vm;
    int rc;

    if (CTX->xch) {
        rc = domain_getinfo_existing(gc, domid, &info);
        if (rc) return rc;
        h = info.handle;
        *uuid_r = GCSPRINTF("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                            "%02x%02x%02x%02x%02x%02x",
                            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                            h[8], h[9], h[10], h[11], h[12], h[13], h[14],
                            h[15]);
        return 0;
    }

    rc = libxl__domain_check_exists(gc, domid);
    if (rc) return rc;
    rc = libxl__xs_read_mandatory(gc, XBT_NULL,
                                  GCSPRINTF("%s/vm",
                                      libxl__xs_get_dompath(gc, domid)),
                                  &vm);
    if (rc) return rc;
    if (strncmp(vm, "/vm/", strlen("/vm/")) ||
        !uuid_is_valid(vm + strlen("/vm/"))) {
        LOGD(ERROR, domid, "vm path \"%s\" is not /vm/<uuid>", vm);
        return ERROR_FAIL;
    }
    *uuid_r = vm + strlen("/vm/");
    return 0;
}

int libxl__resolve_domid(libxl__gc *gc, const char *name, uint32_t *domid_r)
{
    long long id;
    bool exists;
    int rc;

    if (!libxl__strtoint(name, 0, DOMID_FIRST_RESERVED - 1, &id)) {
        rc = domain_exists(gc, id, &exists);
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
