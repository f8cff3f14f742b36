/*
 * destroy-all.c - `destroy-all <domid>`: libxl_device_usbctrl_destroy_all
 * as a toolstack destroying a domain calls it, as a program of its own so
 * that the crash-points suite can kill it (xlusb has no such command).
 * Logs to stderr at the level of $TEST_LOGLEVEL (default error); exits 0
 * if the call returned 0, else 1 after printing its error code.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "libxl_pvusb.h"

static xentoollog_level log_level(void)
{
    const char *s = getenv("TEST_LOGLEVEL");
    int l;

    for (l = XTL_DEBUG; s && *s && l < XTL_NUM_LEVELS; l++)
        if (!strcasecmp(s, xtl_level_to_string(l)))
            return l;
    return XTL_ERROR;
}

int main(int argc, char **argv)
{
    xentoollog_logger_stdiostream *logger;
    libxl_ctx *ctx = NULL;
    char *end;
    long domid;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: destroy-all <domid>\n");
        return 2;
    }
    errno = 0;
    domid = strtol(argv[1], &end, 10);
    if (errno || end == argv[1] || *end || domid < 1 || domid >= 0x7ff0) {
        fprintf(stderr, "destroy-all: bad domid %s\n", argv[1]);
        return 2;
    }
    logger = xtl_createlogger_stdiostream(stderr, log_level(), 0);
    if (!logger ||
        libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                        (xentoollog_logger *)logger)) {
        fprintf(stderr, "destroy-all: cannot make a libxl context\n");
        return 1;
    }
    rc = libxl_device_usbctrl_destroy_all(ctx, domid, NULL);
    if (rc)
        fprintf(stderr, "destroy-all: libxl_device_usbctrl_destroy_all: "
                "error %d\n", rc);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)logger);
    return rc ? 1 : 0;
}
