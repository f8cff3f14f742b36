/*
 * libxl_xshelp.c - xenstore helpers.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_ctx.h"

char *libxl__xs_read(libxl__gc *gc, xs_transaction_t t, const char *path)
{
    unsigned int len;
    char *value = xs_read(CTX->xsh, t, path, &len);

    libxl__ptr_add(gc, value);
    return value;
}

int libxl__xs_read_checked(libxl__gc *gc, xs_transaction_t t,
                           const char *path, const char **result_out)
{
    char *result = libxl__xs_read(gc, t, path);

    if (!result && errno != ENOENT) {
        LOGE(ERROR, "xenstore read failed: `%s'", path);
        return ERROR_FAIL;
    }
    *result_out = result;
    return 0;
}

int libxl__xs_read_mandatory(libxl__gc *gc, xs_transaction_t t,
                             const char *path, const char **result_out)
{
    const char *result;
    int rc;

    rc = libxl__xs_read_checked(gc, t, path, &result);
    if (rc) return rc;
    if (!result) {
        LOG(ERROR, "xenstore node `%s' is missing", path);
        return ERROR_NOTFOUND;
    }
    *result_out = result;
    return 0;
}

int libxl__xs_read_int(libxl__gc *gc, xs_transaction_t t, const char *path,
                       long long min, long long max, long long *val_r)
{
    const char *value;
    int rc;

    rc = libxl__xs_read_mandatory(gc, t, path, &value);
    if (rc) return rc;
    rc = libxl__strtoint(value, min, max, val_r);
    if (rc)
        LOG(ERROR, "xenstore node `%s': \"%s\" is not an integer in"
            " [%lld, %lld]", path, value, min, max);
    return rc;
}

int libxl__xs_write_checked(libxl__gc *gc, xs_transaction_t t,
                            const char *path, const char *string)
{
    if (!xs_write(CTX->xsh, t, path, string, strlen(string))) {
        LOGE(ERROR, "xenstore write failed: `%s' = \"%s\"", path, string);
        return ERROR_FAIL;
    }
    return 0;
}

int libxl__xs_printf(libxl__gc *gc, xs_transaction_t t, const char *path,
                     const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = libxl__vsprintf(gc, fmt, ap);
    va_end(ap);
    return libxl__xs_write_checked(gc, t, path, s);
}

int libxl__xs_rm_checked(libxl__gc *gc, xs_transaction_t t,
                         const char *path)
{
    if (!xs_rm(CTX->xsh, t, path) && errno != ENOENT) {
        LOGE(ERROR, "xenstore rm failed: `%s'", path);
        return ERROR_FAIL;
    }
    return 0;
}

char **libxl__xs_directory(libxl__gc *gc, xs_transaction_t t,
                           const char *path, unsigned int *num)
{
    char **entries = xs_directory(CTX->xsh, t, path, num);

    if (!entries)
        *num = 0;
    libxl__ptr_add(gc, entries);
    return entries;
}

int libxl__xs_mknod(libxl__gc *gc, xs_transaction_t t, const char *path,
                    struct xs_permissions *perms, unsigned int num_perms)
{
    int rc;

    rc = libxl__xs_write_checked(gc, t, path, "");
    if (rc) return rc;
    if (!xs_set_permissions(CTX->xsh, t, path, perms, num_perms)) {
        LOGE(ERROR, "xenstore set permissions failed: `%s'", path);
        return ERROR_FAIL;
    }
    return 0;
}

int libxl__xs_mkdir_device(libxl__gc *gc, xs_transaction_t t,
                           const char *path, uint32_t owner,
                           uint32_t reader)
{
    struct xs_permissions perms[2] = {
        { .id = owner,  .perms = XS_PERM_NONE },
        { .id = reader, .perms = XS_PERM_READ },
    };

    return libxl__xs_mknod(gc, t, path, perms, ARRAY_SIZE(perms));
}

int libxl__xs_writev(libxl__gc *gc, xs_transaction_t t, const char *dir,
                     const char *const *kvs)
{
    int i, rc;

    for (i = 0; kvs[i]; i += 2) {
        rc = libxl__xs_write_checked(gc, t, GCSPRINTF("%s/%s", dir, kvs[i]),
                                     kvs[i + 1]);
        if (rc) return rc;
    }
    return 0;
}

int libxl__xs_transaction_start(libxl__gc *gc, xs_transaction_t *t)
{
    *t = xs_transaction_start(CTX->xsh);
    if (*t == XBT_NULL) {
        LOGE(ERROR, "could not start a xenstore transaction");
        return ERROR_FAIL;
    }
    return 0;
}

int libxl__xs_transaction_commit(libxl__gc *gc, xs_transaction_t *t)
{
    bool ok = xs_transaction_end(CTX->xsh, *t, false);

    *t = XBT_NULL;
    if (ok)
        return 0;
    if (errno == EAGAIN)
        return +1;
    LOGE(ERROR, "could not commit a xenstore transaction");
    return ERROR_FAIL;
}

void libxl__xs_transaction_abort(libxl__gc *gc, xs_transaction_t *t)
{
    if (*t == XBT_NULL)
        return;
    if (!xs_transaction_end(CTX->xsh, *t, true))
        LOGE(ERROR, "could not abort a xenstore transaction");
    *t = XBT_NULL;
}

char *libxl__xs_get_dompath(libxl__gc *gc, uint32_t domid)
{
    return GCSPRINTF("/local/domain/%u", domid);
}
