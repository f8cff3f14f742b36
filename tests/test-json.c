/*
 * test-json.c - the JSON form of the generated types: the exact text
 * (golden), and refusal of bad JSON: an error code, a struct left
 * disposable, and a log message naming the field.  The round trips of
 * random values are in the generated test (core/gentest.py).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/*----- a logger that keeps what it is told -----*/

struct capture {
    xentoollog_logger vtable;
    char text[4096];
};

static struct capture capture;

static void __attribute__((format(printf, 5, 0)))
capture_vmessage(xentoollog_logger *lg, xentoollog_level level,
                 int errnoval, const char *context, const char *format,
                 va_list al)
{
    struct capture *c = (struct capture *)lg;
    size_t used = strlen(c->text);

    (void)level;
    (void)errnoval;
    (void)context;
    vsnprintf(c->text + used, sizeof(c->text) - used, format, al);
    strncat(c->text, "\n", sizeof(c->text) - strlen(c->text) - 1);
}

static void capture_destroy(xentoollog_logger *lg)
{
    (void)lg;
}

/* A ctx logging into `capture` (needs xenstored, as every ctx does). */
static libxl_ctx *capture_ctx(void)
{
    libxl_ctx *ctx;

    capture.vtable.vmessage = capture_vmessage;
    capture.vtable.destroy = capture_destroy;
    xs_start();
    ASSERT_INT_EQ(libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &capture.vtable),
                  0);
    return ctx;
}

#define CHECK_LOGGED(s) do { if (!strstr(capture.text, (s))) \
    tap_fail(__FILE__, __LINE__, "log lacks \"%s\"; it has: %s", (s), \
             capture.text); } while (0)

/*
 * Parsing into one type: the return code; the struct must then be
 * disposable twice, and after a failure be as _init leaves it.
 */
#define DEFINE_PARSE(name, T)                                           \
static int parse_##name(libxl_ctx *ctx, const char *json)               \
{                                                                       \
    T p, fresh;                                                         \
    char *got, *want;                                                   \
    int rc;                                                             \
                                                                        \
    rc = T##_from_json(ctx, &p, json);                                  \
    if (rc) {                                                           \
        T##_init(&fresh);                                               \
        got = T##_to_json(NULL, &p);                                    \
        want = T##_to_json(NULL, &fresh);                               \
        CHECK_STR_EQ(got, want);                                        \
        free(got);                                                      \
        free(want);                                                     \
    }                                                                   \
    T##_dispose(&p);                                                    \
    T##_dispose(&p);                                                    \
    return rc;                                                          \
}

DEFINE_PARSE(usbctrl, libxl_device_usbctrl)
DEFINE_PARSE(usbdev, libxl_device_usbdev)
DEFINE_PARSE(config, libxl_domain_usb_config)
DEFINE_PARSE(hostdev, libxl_usb_hostdev)
DEFINE_PARSE(info, libxl_usbctrlinfo)

typedef int parse_fn(libxl_ctx *ctx, const char *json);

static const struct bad_case {
    parse_fn *parse;
    const char *json;
    const char *logged;     /* what the log must say */
} bad_cases[] = {
    /* wrong JSON types */
    { parse_usbctrl, "{\"ports\": \"8\"}",
      "libxl_device_usbctrl.ports: expected an integer in "
      "[-2147483648, 2147483647], got \"8\"" },
    { parse_usbctrl, "{\"devid\": []}",
      "libxl_device_usbctrl.devid: expected an integer in "
      "[-2147483648, 2147483647], got an array" },
    { parse_usbctrl, "{\"ports\": 1.5}",
      "libxl_device_usbctrl.ports: expected an integer" },
    { parse_usbctrl, "{\"backend_domname\": 0}",
      "libxl_device_usbctrl.backend_domname: expected a string or null, "
      "got 0" },
    { parse_usbdev, "{\"type.hostdev\": 5}",
      "libxl_device_usbdev.type.hostdev: expected an object, got 5" },
    { parse_usbdev, "{\"port\": {}}",
      "libxl_device_usbdev.port: expected an integer" },
    { parse_hostdev, "{\"hub\": 1}",
      "libxl_usb_hostdev.hub: expected true or false, got 1" },
    { parse_config, "{\"usbctrls\": {}}",
      "libxl_domain_usb_config.usbctrls: expected an array, "
      "got an object" },
    { parse_config, "{\"usbdevs\": [7]}",
      "libxl_domain_usb_config.usbdevs[0]: expected an object, got 7" },
    /* unknown enumeration strings */
    { parse_usbctrl, "{\"type\": \"usb3\"}",
      "libxl_device_usbctrl.type: expected one of \"auto\", \"pv\", "
      "\"devicemodel\", \"qusb\", got \"usb3\"" },
    { parse_info, "{\"type\": \"\"}",
      "libxl_usbctrlinfo.type: expected one of" },
    /* integers out of range */
    { parse_usbdev, "{\"type.hostdev\": {\"hostbus\": 300}}",
      "libxl_device_usbdev.type.hostdev.hostbus: expected an integer in "
      "[0, 255], got 300" },
    { parse_usbdev, "{\"type.hostdev\": {\"hostaddr\": -1}}",
      "libxl_device_usbdev.type.hostdev.hostaddr: expected an integer in "
      "[0, 255], got -1" },
    { parse_usbctrl, "{\"ports\": 2147483648}",
      "libxl_device_usbctrl.ports: expected an integer in "
      "[-2147483648, 2147483647], got 2147483648" },
    { parse_usbctrl, "{\"version\": -2147483649}",
      "libxl_device_usbctrl.version: expected an integer" },
    { parse_usbctrl, "{\"backend_domid\": -1}",
      "libxl_device_usbctrl.backend_domid: expected an integer in "
      "[0, 4294967295], got -1" },
    { parse_usbctrl, "{\"backend_domid\": 4294967296}",
      "libxl_device_usbctrl.backend_domid: expected an integer in "
      "[0, 4294967295], got 4294967296" },
    { parse_usbctrl, "{\"devid\": 99999999999999999999}",
      "libxl_device_usbctrl.devid: expected an integer in "
      "[-2147483648, 2147483647], got 99999999999999999999" },
    { parse_hostdev, "{\"idvendor\": 65536}",
      "libxl_usb_hostdev.idvendor: expected an integer in [0, 65535]" },
    { parse_info, "{\"frontend_id\": -5}",
      "libxl_usbctrlinfo.frontend_id: expected an integer in "
      "[0, 4294967295], got -5" },
    /* nested: the path names the element; what was parsed is freed */
    { parse_config,
      "{\"usbctrls\": [{\"backend_domname\": \"dom0\"}, "
      "{\"version\": \"2\"}]}",
      "libxl_domain_usb_config.usbctrls[1].version: expected an integer" },
    { parse_config,
      "{\"usbctrls\": [{\"backend_domname\": \"x\"}], \"usbdevs\": "
      "[{}, {\"type.hostdev\": {\"hostbus\": 256}}]}",
      "libxl_domain_usb_config.usbdevs[1].type.hostdev.hostbus: expected "
      "an integer in [0, 255], got 256" },
    /* not JSON, or not an object */
    { parse_usbctrl, "{\"ports\": 8",
      "libxl_device_usbctrl: invalid JSON: parse error: premature EOF" },
    { parse_usbctrl, "",
      "libxl_device_usbctrl: invalid JSON" },
    { parse_usbctrl, "{\"ports\": 8} {",
      "libxl_device_usbctrl: invalid JSON: parse error: trailing garbage" },
    /* a string left open after the object (yajl alone lets it pass) */
    { parse_usbctrl, "{\"ports\": 8} \"",
      "libxl_device_usbctrl: invalid JSON: parse error: trailing garbage" },
    { parse_usbctrl, "{\"ports\": 8,}",
      "libxl_device_usbctrl: invalid JSON" },
    { parse_usbdev, "{'ctrl': 1}",
      "libxl_device_usbdev: invalid JSON" },
    { parse_usbctrl, "[]",
      "libxl_device_usbctrl: expected an object, got an array" },
    { parse_usbctrl, "\"pv\"",
      "libxl_device_usbctrl: expected an object, got \"pv\"" },
    { parse_config, "null",
      "libxl_domain_usb_config: expected an object, got null" },
    { parse_hostdev, "true",
      "libxl_usb_hostdev: expected an object, got true" },
};

static void test_bad(void)
{
    libxl_ctx *ctx = capture_ctx();
    size_t i;

    for (i = 0; i < ARRAY_LEN(bad_cases); i++) {
        capture.text[0] = '\0';
        CHECK_INT_EQ(bad_cases[i].parse(ctx, bad_cases[i].json),
                     ERROR_INVAL);
        CHECK_LOGGED(bad_cases[i].logged);
        /* and without a ctx to log to */
        CHECK_INT_EQ(bad_cases[i].parse(NULL, bad_cases[i].json),
                     ERROR_INVAL);
    }
    capture.text[0] = '\0';
    CHECK_INT_EQ(parse_usbctrl(ctx, NULL), ERROR_INVAL);
    CHECK_LOGGED("libxl_device_usbctrl: no JSON text");
    libxl_ctx_free(ctx);
}

/* Deep nesting is refused without exhausting anything. */
static void test_deep(void)
{
    enum { DEPTH = 100000 };
    const char *head = "{\"usbctrls\": [";
    size_t n = strlen(head);
    char *json = malloc(n + 2 * DEPTH + 3);
    libxl_ctx *ctx = capture_ctx();

    ASSERT(json);
    strcpy(json, head);
    memset(json + n, '[', DEPTH);
    memset(json + n + DEPTH, ']', DEPTH);
    strcpy(json + n + 2 * DEPTH, "]}");
    CHECK_INT_EQ(parse_config(ctx, json), ERROR_INVAL);
    CHECK_LOGGED("libxl_domain_usb_config.usbctrls[0]: expected an object, "
                 "got an array");

    /* the same, cut short */
    json[n + DEPTH + 10] = '\0';
    capture.text[0] = '\0';
    CHECK_INT_EQ(parse_config(ctx, json), ERROR_INVAL);
    CHECK_LOGGED("invalid JSON");
    free(json);
    libxl_ctx_free(ctx);
}

/*----- the exact text -----*/

static void test_golden_usbctrl(void)
{
    static const char golden[] =
        "{\n"
        "    \"type\": \"pv\",\n"
        "    \"devid\": 0,\n"
        "    \"version\": 2,\n"
        "    \"ports\": 8,\n"
        "    \"backend_domname\": \"dom \\\"0\\\"\"\n"
        "}\n";
    libxl_device_usbctrl c, d;
    char *json;

    libxl_device_usbctrl_init(&c);
    json = libxl_device_usbctrl_to_json(NULL, &c);
    CHECK_STR_EQ(json, "{\n\n}\n");     /* all defaults: nothing */
    free(json);

    c.type = LIBXL_USBCTRL_TYPE_PV;
    c.devid = 0;
    c.version = 2;
    c.ports = 8;
    c.backend_domname = strdup("dom \"0\"");
    json = libxl_device_usbctrl_to_json(NULL, &c);
    CHECK_STR_EQ(json, golden);
    free(json);

    CHECK_INT_EQ(libxl_device_usbctrl_from_json(NULL, &d, golden), 0);
    CHECK_INT_EQ(d.type, LIBXL_USBCTRL_TYPE_PV);
    CHECK_INT_EQ(d.devid, 0);
    CHECK_INT_EQ(d.version, 2);
    CHECK_INT_EQ(d.ports, 8);
    CHECK_INT_EQ(d.backend_domid, 0);
    CHECK_STR_EQ(d.backend_domname, "dom \"0\"");
    libxl_device_usbctrl_dispose(&c);
    libxl_device_usbctrl_dispose(&d);

    /* as libxl: any case for enums, null strings, unknown keys ignored */
    CHECK_INT_EQ(libxl_device_usbctrl_from_json(NULL, &d,
                     "{\"type\": \"QUSB\", \"backend_domname\": null, "
                     "\"frobnicate\": [1, {\"x\": null}], \"ports\": 4}"),
                 0);
    CHECK_INT_EQ(d.type, LIBXL_USBCTRL_TYPE_QUSB);
    CHECK_INT_EQ(d.devid, -1);
    CHECK_INT_EQ(d.ports, 4);
    CHECK_NULL(d.backend_domname);
    libxl_device_usbctrl_dispose(&d);
}

static void test_golden_usbdev(void)
{
    static const char golden[] =
        "{\n"
        "    \"ctrl\": 0,\n"
        "    \"port\": 1,\n"
        "    \"type.hostdev\": {\n"
        "        \"hostbus\": 3,\n"
        "        \"hostaddr\": 5\n"
        "    }\n"
        "}\n";
    libxl_device_usbdev u, v;
    char *json;

    libxl_device_usbdev_init(&u);
    u.ctrl = 0;
    u.port = 1;
    libxl_device_usbdev_init_type(&u, LIBXL_USBDEV_TYPE_HOSTDEV);
    u.u.hostdev.hostbus = 3;
    u.u.hostdev.hostaddr = 5;
    json = libxl_device_usbdev_to_json(NULL, &u);
    CHECK_STR_EQ(json, golden);
    free(json);

    CHECK_INT_EQ(libxl_device_usbdev_from_json(NULL, &v, golden), 0);
    CHECK_INT_EQ(v.ctrl, 0);
    CHECK_INT_EQ(v.port, 1);
    CHECK_INT_EQ(v.type, LIBXL_USBDEV_TYPE_HOSTDEV);
    CHECK_INT_EQ(v.u.hostdev.hostbus, 3);
    CHECK_INT_EQ(v.u.hostdev.hostaddr, 5);

    /* the member is there, even empty, once the type is set */
    libxl_device_usbdev_dispose(&v);
    libxl_device_usbdev_init_type(&v, LIBXL_USBDEV_TYPE_HOSTDEV);
    json = libxl_device_usbdev_to_json(NULL, &v);
    CHECK_STR_EQ(json, "{\n    \"type.hostdev\": {\n\n    }\n}\n");
    free(json);
    libxl_device_usbdev_dispose(&u);
    libxl_device_usbdev_dispose(&v);
}

static void test_golden_config(void)
{
    static const char golden[] =
        "{\n"
        "    \"usbctrls\": [\n"
        "        {\n"
        "            \"type\": \"qusb\",\n"
        "            \"devid\": 0,\n"
        "            \"version\": 1,\n"
        "            \"ports\": 4,\n"
        "            \"backend_domid\": 1\n"
        "        }\n"
        "    ],\n"
        "    \"usbdevs\": [\n"
        "        {\n"
        "            \"ctrl\": 0,\n"
        "            \"port\": 2,\n"
        "            \"type.hostdev\": {\n"
        "                \"hostbus\": 1,\n"
        "                \"hostaddr\": 7\n"
        "            }\n"
        "        },\n"
        "        {\n"
        "            \"ctrl\": 0,\n"
        "            \"port\": 4,\n"
        "            \"type.hostdev\": {\n"
        "                \"hostbus\": 2,\n"
        "                \"hostaddr\": 3\n"
        "            }\n"
        "        }\n"
        "    ]\n"
        "}\n";
    libxl_domain_usb_config cfg, copy;
    char *json;

    CHECK_INT_EQ(libxl_domain_usb_config_from_json(NULL, &cfg, golden), 0);
    ASSERT_INT_EQ(cfg.num_usbctrls, 1);
    ASSERT_INT_EQ(cfg.num_usbdevs, 2);
    CHECK_INT_EQ(cfg.usbctrls[0].type, LIBXL_USBCTRL_TYPE_QUSB);
    CHECK_INT_EQ(cfg.usbctrls[0].backend_domid, 1);
    CHECK_INT_EQ(cfg.usbdevs[1].port, 4);
    CHECK_INT_EQ(cfg.usbdevs[1].u.hostdev.hostbus, 2);

    libxl_domain_usb_config_copy(NULL, &copy, &cfg);
    libxl_domain_usb_config_dispose(&cfg);
    json = libxl_domain_usb_config_to_json(NULL, &copy);
    CHECK_STR_EQ(json, golden);
    free(json);
    libxl_domain_usb_config_dispose(&copy);

    /* empty arrays are left out */
    CHECK_INT_EQ(libxl_domain_usb_config_from_json(NULL, &cfg,
                     "{\"usbctrls\": [], \"usbdevs\": []}"), 0);
    CHECK_INT_EQ(cfg.num_usbctrls, 0);
    CHECK_NULL(cfg.usbctrls);
    json = libxl_domain_usb_config_to_json(NULL, &cfg);
    CHECK_STR_EQ(json, "{\n\n}\n");
    free(json);
    libxl_domain_usb_config_dispose(&cfg);
}

/* A string that is not UTF-8 (a device's) still makes valid JSON: each
 * bad byte is U+FFFD; valid UTF-8 and the rest are kept; it parses back. */
static void test_not_utf8(void)
{
    libxl_usb_hostdev h, back;
    char *json;

    libxl_usb_hostdev_init(&h);
    h.busid = strdup("1-4");
    h.manufacturer = strdup("\x1b[31mEVIL\xff\xfe Corp");
    /* overlong '/', a surrogate, a truncated sequence; then é */
    h.product = strdup("\xc0\xaf \xed\xa0\x80 \xe2\x82 \xc3\xa9");
    json = libxl_usb_hostdev_to_json(NULL, &h);
    ASSERT(json);
    CHECK(strstr(json, "\"manufacturer\": \"\\u001B[31mEVIL"
                       "\xef\xbf\xbd\xef\xbf\xbd Corp\""));
    CHECK(strstr(json, "\"product\": \"\xef\xbf\xbd\xef\xbf\xbd "
                       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                       "\xef\xbf\xbd\xef\xbf\xbd \xc3\xa9\""));
    libxl_usb_hostdev_init(&back);
    CHECK_INT_EQ(libxl_usb_hostdev_from_json(NULL, &back, json), 0);
    CHECK_STR_EQ(back.manufacturer,
                 "\x1b[31mEVIL\xef\xbf\xbd\xef\xbf\xbd Corp");
    libxl_usb_hostdev_dispose(&back);
    libxl_usb_hostdev_dispose(&h);
    free(json);
}

static void test_golden_hostdev(void)
{
    static const char golden[] =
        "{\n"
        "    \"busid\": \"1-2\",\n"
        "    \"hostbus\": 1,\n"
        "    \"hostaddr\": 3,\n"
        "    \"idvendor\": 1921,\n"
        "    \"idproduct\": 21889,\n"
        "    \"product\": \"Cruzer \\u00e9\",\n"
        "    \"device_class\": 9,\n"
        "    \"num_interfaces\": 1,\n"
        "    \"drivers\": \"\",\n"
        "    \"hub\": true\n"
        "}\n";
    libxl_usb_hostdev h;
    char *json;

    /* yajl gives UTF-8 back as it is, not as \u escapes */
    CHECK_INT_EQ(libxl_usb_hostdev_from_json(NULL, &h, golden), 0);
    CHECK_STR_EQ(h.product, "Cruzer \xc3\xa9");
    CHECK_INT_EQ(h.domid, -1);
    CHECK_INT_EQ(h.ctrl, -1);
    CHECK_INT_EQ(h.idvendor, 0x0781);
    CHECK(h.hub);
    CHECK_STR_EQ(h.drivers, "");
    CHECK_NULL(h.serial);
    json = libxl_usb_hostdev_to_json(NULL, &h);
    CHECK(strstr(json, "\"product\": \"Cruzer \xc3\xa9\",\n") != NULL);
    CHECK(strstr(json, "domid") == NULL);
    free(json);
    libxl_usb_hostdev_dispose(&h);
}

static void test_golden_enums(void)
{
    libxl_error e;
    libxl_domain_type t;
    char *json;

    json = libxl_usbctrl_type_to_json(NULL, LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    CHECK_STR_EQ(json, "\"devicemodel\"\n");
    free(json);
    CHECK_STR_EQ(libxl_error_to_string(ERROR_INVAL), "inval");
    CHECK_STR_EQ(libxl_error_to_string(ERROR_QEMU_API), "qemu_api");
    CHECK_INT_EQ(libxl_error_from_string("Domain_NotFound", &e), 0);
    CHECK_INT_EQ(e, ERROR_DOMAIN_NOTFOUND);
    CHECK_INT_EQ(libxl_domain_type_from_json(NULL, &t, "\"PVH\""), 0);
    CHECK_INT_EQ(t, LIBXL_DOMAIN_TYPE_PVH);
    CHECK_INT_EQ(libxl_domain_type_from_json(NULL, &t, "3"), ERROR_INVAL);
    CHECK_INT_EQ(t, LIBXL_DOMAIN_TYPE_PVH);
    CHECK_STR_EQ(libxl_domain_type_to_string(LIBXL_DOMAIN_TYPE_INVALID),
                 "invalid");
}

static const struct test tests[] = {
    { "bad JSON is refused, logged with the field", test_bad },
    { "deeply nested JSON is refused", test_deep },
    { "usbctrl JSON text", test_golden_usbctrl },
    { "usbdev JSON text", test_golden_usbdev },
    { "domain_usb_config JSON text", test_golden_config },
    { "usb_hostdev JSON text", test_golden_hostdev },
    { "usb_hostdev JSON: bytes that are not UTF-8 become U+FFFD",
      test_not_utf8 },
    { "enumeration strings and JSON", test_golden_enums },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}
