/*
 * A caller written for libxl's PVUSB API, with libxl's header names,
 * compiled against the installed headers through pkg-config
 * (tests/install/check.sh).
 */
#include <stdio.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <_libxl_pvusb_types_json.h>

/* This library's libxl.h, not libxen-dev's (which has no rebind). */
#ifndef LIBXL_HAVE_PVUSB_REBIND
#error "<libxl.h> is not the one of libxlpvusb"
#endif

int main(void)
{
    xentoollog_logger_stdiostream *lg;
    libxl_device_usbctrl usbctrl;
    libxl_ctx *ctx = NULL;
    int nb = 0;

    lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    libxl_device_usbctrl_init(&usbctrl);
    usbctrl.type = LIBXL_USBCTRL_TYPE_PV;
#ifdef LIBXL_HAVE_PVUSB
    if (!libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg)) {
        libxl_device_usbctrl_list_free(libxl_device_usbctrl_list(ctx, 0, &nb),
                                       nb);
        libxl_ctx_free(ctx);
    }
#endif
    printf("%s\n", libxl_usbctrl_type_to_string(usbctrl.type));
    libxl_device_usbctrl_dispose(&usbctrl);
    xtl_logger_destroy((xentoollog_logger *)lg);
    return 0;
}
