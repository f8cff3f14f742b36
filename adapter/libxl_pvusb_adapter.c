/*
 * libxl_pvusb_adapter.c - the PVUSB adapter: a shared object that,
 * preloaded (LD_PRELOAD) into an unmodified process using Debian's
 * libxenlight (xl; libvirt's Xen daemon), takes over libxenlight's twelve
 * public PVUSB entry points and runs this library's code for them;
 * everything else stays libxenlight's.
 *
 * How it is built (adapter/adapter.mk): the library's own objects are
 * linked into one relocatable object in which the twelve entry points are
 * renamed (adapter_names.h); this file defines libxenlight's names over
 * them; a version script exports those twelve names and nothing else.
 * All the rest of our code (the 61 names libxenlight also defines
 * included) is local to the object, so it neither clashes with
 * libxenlight's nor is seen by the process, and our calls bind inside the
 * adapter whatever the process has loaded.
 *
 * The caller's libxl_ctx is libxenlight's: for each, the adapter makes a
 * context of its own that logs to the caller's logger, which libxenlight
 * keeps as the first member of its struct libxl__ctx (so in every Xen
 * since 4.1).  A caller's context freed and another allocated at its
 * address shows as another logger: the adapter's context is then made
 * again.
 *
 * Only synchronous calls (ao_how NULL: what xl and libvirt pass) are run.
 * An operation with an ao_how would have to complete through
 * libxenlight's event loop, which the adapter cannot reach: it is refused
 * with ERROR_NI, logged, before anything is done.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <pthread.h>
#include <stdlib.h>

#include "adapter_names.h"
#include "libxl_pvusb.h"

/* What the adapter knows of libxenlight's context: its first member. */
typedef struct caller_ctx {
    xentoollog_logger *lg;
} caller_ctx;

typedef struct adapter_ctx {
    struct adapter_ctx *next;
    const caller_ctx *caller;
    xentoollog_logger *lg;      /* the caller's, when ctx was made */
    libxl_ctx *ctx;             /* ours; NULL if it could not be made */
} adapter_ctx;

static pthread_mutex_t adapter_lock = PTHREAD_MUTEX_INITIALIZER;
static adapter_ctx *adapter_ctxs;

/* Our context for caller's, made at the first call; NULL if it cannot be
 * made (our libxl_ctx_alloc has logged why, to the caller's logger). */
static libxl_ctx *adapter_ctx_get(const caller_ctx *caller)
{
    adapter_ctx *a;
    libxl_ctx *ctx;

    pthread_mutex_lock(&adapter_lock);
    for (a = adapter_ctxs; a && a->caller != caller; a = a->next)
        ;
    if (!a) {
        a = calloc(1, sizeof(*a));
        if (!a) abort();
        a->caller = caller;
        a->next = adapter_ctxs;
        adapter_ctxs = a;
    }
    if (a->ctx && a->lg != caller->lg) {
        libxl_ctx_free(a->ctx);
        a->ctx = NULL;
    }
    if (!a->ctx) {
        a->lg = caller->lg;
        if (libxl_ctx_alloc(&a->ctx, LIBXL_VERSION, 0, a->lg))
            a->ctx = NULL;
    }
    ctx = a->ctx;
    pthread_mutex_unlock(&adapter_lock);
    return ctx;
}

/* Our context for a call of func; ERROR_NI (logged) for an ao_how. */
static int adapter_ctx_for(const caller_ctx *caller,
                           const libxl_asyncop_how *ao_how, const char *func,
                           libxl_ctx **ctx_r)
{
    if (ao_how) {
        xtl_log(caller->lg, XTL_ERROR, -1, "libxl",
                "%s: the PVUSB adapter runs synchronous calls only "
                "(ao_how NULL); asynchronous completion is not implemented",
                func);
        return ERROR_NI;
    }
    *ctx_r = adapter_ctx_get(caller);
    return *ctx_r ? 0 : ERROR_FAIL;
}

#define ADAPTER_EXPORT(name) \
    __asm__(#name) __attribute__((visibility("default")))

/* The five operations: (ctx, domid, device, ao_how). */
#define ADAPTER_AO_ENTRY(name, type)                                        \
    int adapter_##name(const caller_ctx *caller, uint32_t domid, type *dev, \
                       const libxl_asyncop_how *ao_how)                     \
        ADAPTER_EXPORT(libxl_##name);                                       \
    int adapter_##name(const caller_ctx *caller, uint32_t domid, type *dev, \
                       const libxl_asyncop_how *ao_how)                     \
    {                                                                       \
        libxl_ctx *ctx;                                                     \
        int rc = adapter_ctx_for(caller, ao_how, "libxl_" #name, &ctx);     \
                                                                            \
        return rc ? rc : libxl_##name(ctx, domid, dev, NULL);               \
    }

ADAPTER_AO_ENTRY(device_usbctrl_add, libxl_device_usbctrl)
ADAPTER_AO_ENTRY(device_usbctrl_remove, libxl_device_usbctrl)
ADAPTER_AO_ENTRY(device_usbctrl_destroy, libxl_device_usbctrl)
ADAPTER_AO_ENTRY(device_usbdev_add, libxl_device_usbdev)
ADAPTER_AO_ENTRY(device_usbdev_remove, libxl_device_usbdev)

/* A list and its list_free: libxl_device_<kind>_list(ctx, domid, num). */
#define ADAPTER_LIST_ENTRY(kind)                                            \
    libxl_device_##kind *adapter_##kind##_list(const caller_ctx *caller,    \
                                               uint32_t domid, int *num)    \
        ADAPTER_EXPORT(libxl_device_##kind##_list);                         \
    libxl_device_##kind *adapter_##kind##_list(const caller_ctx *caller,    \
                                               uint32_t domid, int *num)    \
    {                                                                       \
        libxl_ctx *ctx;                                                     \
                                                                            \
        *num = 0;                                                           \
        if (adapter_ctx_for(caller, NULL, NULL, &ctx)) return NULL;         \
        return libxl_device_##kind##_list(ctx, domid, num);                 \
    }                                                                       \
    void adapter_##kind##_list_free(libxl_device_##kind *list, int nr)      \
        ADAPTER_EXPORT(libxl_device_##kind##_list_free);                    \
    void adapter_##kind##_list_free(libxl_device_##kind *list, int nr)      \
    {                                                                       \
        libxl_device_##kind##_list_free(list, nr);                          \
    }

ADAPTER_LIST_ENTRY(usbctrl)
ADAPTER_LIST_ENTRY(usbdev)

int adapter_usbctrl_getinfo(const caller_ctx *caller, uint32_t domid,
                            const libxl_device_usbctrl *usbctrl,
                            libxl_usbctrlinfo *usbctrlinfo)
    ADAPTER_EXPORT(libxl_device_usbctrl_getinfo);
int adapter_usbctrl_getinfo(const caller_ctx *caller, uint32_t domid,
                            const libxl_device_usbctrl *usbctrl,
                            libxl_usbctrlinfo *usbctrlinfo)
{
    libxl_ctx *ctx;
    int rc = adapter_ctx_for(caller, NULL, NULL, &ctx);

    return rc ? rc : libxl_device_usbctrl_getinfo(ctx, domid, usbctrl,
                                                  usbctrlinfo);
}

int adapter_devid_to_device_usbctrl(const caller_ctx *caller, uint32_t domid,
                                    int devid, libxl_device_usbctrl *usbctrl)
    ADAPTER_EXPORT(libxl_devid_to_device_usbctrl);
int adapter_devid_to_device_usbctrl(const caller_ctx *caller, uint32_t domid,
                                    int devid, libxl_device_usbctrl *usbctrl)
{
    libxl_ctx *ctx;
    int rc = adapter_ctx_for(caller, NULL, NULL, &ctx);

    return rc ? rc : libxl_devid_to_device_usbctrl(ctx, domid, devid,
                                                   usbctrl);
}

int adapter_ctrlport_to_device_usbdev(const caller_ctx *caller,
                                      uint32_t domid, int ctrl, int port,
                                      libxl_device_usbdev *usbdev)
    ADAPTER_EXPORT(libxl_ctrlport_to_device_usbdev);
int adapter_ctrlport_to_device_usbdev(const caller_ctx *caller,
                                      uint32_t domid, int ctrl, int port,
                                      libxl_device_usbdev *usbdev)
{
    libxl_ctx *ctx;
    int rc = adapter_ctx_for(caller, NULL, NULL, &ctx);

    return rc ? rc : libxl_ctrlport_to_device_usbdev(ctx, domid, ctrl, port,
                                                     usbdev);
}
