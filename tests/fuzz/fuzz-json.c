/*
 * fuzz-json.c - the JSON parser of one generated type (public API:
 * libxl_<type>_from_json), built once per type with -DFUZZ_TYPE=<type>
 * (device_usbctrl, device_usbdev, domain_usb_config, usb_hostdev).
 *
 * Checked beyond "no crash, no sanitizer report, no leak", as
 * gen/_libxl_pvusb_types.h promises:
 *   - a refused text gives ERROR_INVAL, logs an error, and leaves the
 *     struct initialised (its JSON is that of a fresh one);
 *   - an accepted one round-trips: to_json succeeds, its text parses
 *     again and gives the same text; so does a _copy; _dispose twice is
 *     safe.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_TYPE
#error "build with -DFUZZ_TYPE=<type>, e.g. device_usbctrl"
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)

#define T           CAT(libxl_, FUZZ_TYPE)
#define T_init      CAT(CAT(libxl_, FUZZ_TYPE), _init)
#define T_dispose   CAT(CAT(libxl_, FUZZ_TYPE), _dispose)
#define T_copy      CAT(CAT(libxl_, FUZZ_TYPE), _copy)
#define T_to_json   CAT(CAT(libxl_, FUZZ_TYPE), _to_json)
#define T_from_json CAT(CAT(libxl_, FUZZ_TYPE), _from_json)

/* The JSON of an initialised struct. */
static const char *initial_json(void)
{
    static char *json;
    T p;

    if (!json) {
        T_init(&p);
        json = T_to_json(NULL, &p);
        FUZZ_CHECK(json, "to_json of an initialised " STR(T));
        T_dispose(&p);
    }
    return json;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    libxl_ctx *ctx = fuzz_ctx();
    char *text = fuzz_strdup(data, size);
    char *json1, *json2, *json3;
    T a, b, c;
    int rc;

    fuzz_errors_logged();
    rc = T_from_json(ctx, &a, text);
    if (rc) {
        FUZZ_CHECK(rc == ERROR_INVAL, "refused with %d", rc);
        FUZZ_CHECK(fuzz_errors_logged() > 0, "refused without a message");
        json1 = T_to_json(ctx, &a);
        FUZZ_CHECK(json1 && !strcmp(json1, initial_json()),
                   "refused, but not left initialised: %s", json1);
        free(json1);
        T_dispose(&a);
        free(text);
        return 0;
    }

    json1 = T_to_json(ctx, &a);
    FUZZ_CHECK(json1, "accepted, but to_json fails");
    rc = T_from_json(ctx, &b, json1);
    FUZZ_CHECK(!rc, "its own JSON refused (%d): %s", rc, json1);
    json2 = T_to_json(ctx, &b);
    FUZZ_CHECK(json2 && !strcmp(json1, json2),
               "round trip differs:\n%s\nthen\n%s", json1, json2);

    T_copy(ctx, &c, &a);
    json3 = T_to_json(ctx, &c);
    FUZZ_CHECK(json3 && !strcmp(json1, json3),
               "copy differs:\n%s\nthen\n%s", json1, json3);

    T_dispose(&a);
    T_dispose(&a);
    T_dispose(&b);
    T_dispose(&c);
    free(json1);
    free(json2);
    free(json3);
    free(text);
    return 0;
}
